// The model pages' "try it" panels: the shipped models run in the reader's browser with ONNX
// Runtime Web (one WebAssembly thread, so any static file server will do). Each exported file
// takes the decoded raw input and gives the answer; its sidecar (NAME.onnx.json) says how to
// decode an input and what the labels are, so nothing here prepares an input beyond decoding it.
// Every answer is also written to the panel's data-answers attribute (JSON), which the docs'
// browser test reads.
(function () {
  "use strict";

  function loadScript(src) {
    return new Promise(function (resolve, reject) {
      if (window.ort) { resolve(); return; }
      var script = document.createElement("script");
      script.src = src;
      script.onload = resolve;
      script.onerror = function () { reject(new Error("cannot load " + src)); };
      document.head.appendChild(script);
    });
  }

  async function loadModel(root, name) {
    var card = await (await fetch(root + name + ".onnx.json")).json();
    var session = await ort.InferenceSession.create(root + name + ".onnx", { executionProviders: ["wasm"] });
    return { name: name, card: card, session: session };
  }

  async function run(model, tensors) {
    var feeds = {};
    model.session.inputNames.forEach(function (input, i) { feeds[input] = tensors[i]; });
    var result = await model.session.run(feeds);
    var output = result[model.session.outputNames[0]];
    return { data: Array.from(output.data), dims: output.dims.slice() };
  }

  // A name as the sidecar says: NFKD, combining marks dropped, ASCII codes, and its length.
  // Only what the tutorial's surnames hold once folded: letters, space, apostrophe, comma.
  function nameTensors(name) {
    var folded = name.trim().normalize("NFKD").replace(/[\u0300-\u036f]/g, "");
    var odd = folded.match(/[^A-Za-z ',]/);
    if (odd) { throw new Error(name + ": a name model never read '" + odd[0] + "'; give letters only"); }
    var codes = Array.from(folded).map(function (c) { return BigInt(c.charCodeAt(0)); });
    return [new ort.Tensor("int64", BigInt64Array.from(codes), [1, codes.length]),
            new ort.Tensor("int64", BigInt64Array.from([BigInt(codes.length)]), [1])];
  }

  function idTensors(text, alphabet) {
    var ids = Array.from(text).map(function (c) {
      var at = alphabet.indexOf(c);
      if (at < 0) { throw new Error("'" + c + "' is not one of the characters " + JSON.stringify(alphabet)); }
      return BigInt(at);
    });
    return [new ort.Tensor("int64", BigInt64Array.from(ids), [1, ids.length])];
  }

  // Numbers within the bounds the model's data was read with (the sidecar's `allowed`): outside
  // them the model has never been shown anything, and its answer would mean nothing.
  function numberTensors(text, raw) {
    var values = text.split(/[,;]/).map(function (v) { return v.trim() === "" ? NaN : Number(v); });
    var allowed = raw.allowed;
    if (values.length !== raw.features || values.some(function (v) { return !isFinite(v); })) {
      throw new Error(text + ": give " + raw.features + " comma-separated number" + (raw.features > 1 ? "s" : ""));
    }
    if (values.some(function (v) { return v < allowed.low || v > allowed.high; })) {
      throw new Error(text + ": each number must be within " + allowed.low + ".." + allowed.high +
                      " (" + allowed.meaning + ")");
    }
    return [new ort.Tensor("float32", Float32Array.from(values), [1, raw.features])];
  }

  function top(probabilities, labels, k) {
    return probabilities.map(function (p, i) { return [labels[i], p]; })
      .sort(function (a, b) { return b[1] - a[1]; }).slice(0, k)
      .map(function (pair) { return pair[0] + " " + (100 * pair[1]).toFixed(1) + "%"; }).join(", ");
  }

  function element(tag, attributes, text) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (key) { node.setAttribute(key, attributes[key]); });
    if (text) { node.textContent = text; }
    return node;
  }

  // Each answer (with `ms`, from the reader's act to the answer) joins the panel's data-answers.
  function recordIn(panel, entry) {
    var answers = JSON.parse(panel.dataset.answers || "[]");
    answers.push(entry);
    panel.dataset.answers = JSON.stringify(answers);
  }

  // Digits: a black pad drawn on in white; every MNIST network answers the same pixels.
  function digitPad(panel, models, show) {
    var size = 196;
    var canvas = element("canvas", { width: size, height: size, class: "zoo-try-pad",
                                     "aria-label": "draw a digit here" });
    var context = canvas.getContext("2d");
    function clear() {
      context.fillStyle = "black";
      context.fillRect(0, 0, size, size);
      show("");
    }
    context.lineWidth = 14;
    context.lineCap = "round";
    context.lineJoin = "round";
    context.strokeStyle = "white";
    var drawing = false;
    function at(event) {
      var box = canvas.getBoundingClientRect();
      return [(event.clientX - box.left) * size / box.width, (event.clientY - box.top) * size / box.height];
    }
    canvas.addEventListener("mousedown", function (event) {
      drawing = true;
      var p = at(event);
      context.beginPath();
      context.moveTo(p[0], p[1]);
    });
    canvas.addEventListener("mousemove", function (event) {
      if (!drawing) { return; }
      var p = at(event);
      context.lineTo(p[0], p[1]);
      context.stroke();
    });
    canvas.addEventListener("mouseup", async function () {
      if (!drawing) { return; }
      drawing = false;
      var began = performance.now();
      var rgba = context.getImageData(0, 0, size, size).data;
      var grey = new Uint8Array(size * size);
      for (var i = 0; i < grey.length; i++) { grey[i] = rgba[4 * i]; }
      var lines = [], outputs = {};
      for (var m of models) {
        var answer = await run(m, [new ort.Tensor("uint8", grey, [1, 1, size, size])]);
        outputs[m.name] = answer.data;
        lines.push(m.name + ": " + top(answer.data, m.card.labels, 3));
      }
      show(lines.join("\n"));
      recordIn(panel, { input: Array.from(grey), shape: [1, 1, size, size], outputs: outputs,
                      ms: performance.now() - began });
    });
    var again = element("button", { type: "button", class: "md-button" }, "Clear");
    again.addEventListener("click", clear);
    panel.append(canvas, element("br"), again);
    clear();
  }

  // Text of one kind or another: a box, a button, an answer per model.
  function textBox(panel, models, show) {
    var card = models[0].card, raw = card.raw_inputs;
    var fixed = card.inputs[0].shape[1];
    var hint = { names: "surnames, e.g. Nguyen Schmidt", numbers: "numbers, e.g. " +
                 Array(raw.features).fill("0.5").join(","), prompt: "a prompt, e.g. ROMEO:",
                 characters: (typeof fixed === "number" ? "a word of " + fixed + " characters" : "a word") +
                 " over " + JSON.stringify(raw.alphabet) }[raw.kind];
    var box = element("input", { type: "text", class: "zoo-try-text", placeholder: hint,
                                 value: (raw.examples || []).join(" "), "aria-label": hint });
    var go = element("button", { type: "button", class: "md-button zoo-try-go" },
                     raw.kind === "prompt" ? "Write" : "Answer");
    async function answer() {
      var text = box.value;
      var items = raw.kind === "names" || raw.kind === "numbers" || raw.kind === "characters"
        ? text.split(/\s+/).filter(Boolean) : [text];
      var lines = [];
      try {
        for (var item of items) {
          for (var m of models) {
            lines.push(await answerOne(m, item, raw, fixed, function (partial) {
              show(lines.concat([partial]).join("\n"));
            }));
          }
        }
        show(lines.join("\n"));
      } catch (error) {
        show(error.message);
      }
    }
    async function answerOne(m, item, raw, fixed, progress) {
      var labels = m.card.labels, began = performance.now();
      function record(entry) { entry.ms = performance.now() - began; recordIn(panel, entry); }
      if (raw.kind === "names") {
        var a = await run(m, nameTensors(item));
        record({ input: item, outputs: { [m.name]: a.data } });
        return item + ": " + top(a.data, labels, 3);
      }
      if (raw.kind === "numbers") {
        var v = await run(m, numberTensors(item, raw));
        record({ input: item, outputs: { [m.name]: v.data } });
        return item + " -> " + v.data.map(function (x) { return x.toFixed(4); }).join(", ");
      }
      if (raw.kind === "characters") {
        if (typeof fixed === "number" && item.length !== fixed) {
          throw new Error("this model's file takes words of " + fixed + " characters; '" + item + "' has " +
                          item.length);
        }
        var c = await run(m, idTensors(item, raw.alphabet));
        var classes = c.dims[2], written = "";
        for (var p = 0; p < c.dims[1]; p++) {
          var row = c.data.slice(p * classes, (p + 1) * classes);
          written += labels[row.indexOf(Math.max.apply(null, row))];
        }
        record({ input: item, outputs: { [m.name]: c.data } });
        return item + " -> " + written;
      }
      // A prompt, continued one character at a time: the likeliest character each time.
      var text = item, first = null;
      for (var step = 0; step < 60; step++) {
        var out = await run(m, idTensors(text, raw.alphabet));
        var size = out.dims[2];
        var last = out.data.slice(out.data.length - size);
        if (first === null) { first = last; }
        text += labels[last.indexOf(Math.max.apply(null, last))];
        progress(text);
      }
      record({ input: item, outputs: { [m.name]: first }, written: text });
      return text;
    }
    go.addEventListener("click", answer);
    box.addEventListener("keydown", function (event) { if (event.key === "Enter") { answer(); } });
    panel.append(box, go);
  }

  async function start(panel) {
    var root = panel.dataset.root;
    var status = element("pre", { class: "zoo-try-answer", "aria-live": "polite" }, "loading the model...");
    function show(text) { status.textContent = text; }
    try {
      ort.env.wasm.numThreads = 1;
      ort.env.wasm.wasmPaths = root + "ort/";
      var models = [];
      for (var name of panel.dataset.models.split(",")) { models.push(await loadModel(root, name)); }
      if (models[0].card.raw_inputs.kind === "images") { digitPad(panel, models, show); }
      else { textBox(panel, models, show); }
      panel.append(status);
      if (models[0].card.raw_inputs.kind !== "images") { show(""); }
      panel.dataset.ready = "true";
    } catch (error) {
      panel.append(status);
      show("this panel could not start: " + error.message);
      throw error;
    }
  }

  async function startAll() {
    var panels = document.querySelectorAll(".zoo-try");
    if (!panels.length) { return; }
    await loadScript(panels[0].dataset.root + "ort/ort.wasm.min.js");
    for (var panel of panels) { await start(panel); }
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", startAll); }
  else { startAll(); }
})();
