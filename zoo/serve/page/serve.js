// The page of `zoo serve`: plain JavaScript, no build step. It reads GET /models and gives each
// model a panel by the kind of input it takes.
"use strict";

const $ = (id) => document.getElementById(id);

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  Object.entries(attributes).forEach(([key, value]) => node.setAttribute(key, value));
  children.forEach((child) => node.append(child));
  return node;
}

function panel(card) {
  const docs = card.docs ? element("a", { href: card.docs }, "docs")
    : element("span", { title: "the server has no built docs site: make docs, then restart it" }, "docs: make docs");
  const box = element("div", { class: "model", id: `model-${card.name}` },
    element("h3", {}, card.name),
    element("p", { class: "meta" }, card.weights, " · ", docs),
    element("div", { class: "prediction", id: `pred-${card.name}` }),
    element("div", { class: "bars", id: `bars-${card.name}` }));
  return box;
}

async function ask(card, body) {
  const response = await fetch(card.endpoint, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  const answer = await response.json();
  if (!response.ok) throw new Error(answer.detail);
  return answer;
}

// A page-wide problem (the model cards did not load); a model's own refusal shows in its panel.
function showError(error) { $("error").textContent = error ? String(error.message || error) : ""; }

// A refused input: the model's old answer goes, its error takes the answer's place.
function showRefusal(card, error) {
  $(`pred-${card.name}`).textContent = "";
  $(`bars-${card.name}`).replaceChildren(
    element("p", { class: "error", role: "alert", id: `error-${card.name}` }, String(error.message || error)));
}

async function answerIn(card, body, labels) {
  try { showAnswer(card, await ask(card, body), labels); } catch (error) { showRefusal(card, error); }
}

function showAnswer(card, answer, labels) {
  $(`pred-${card.name}`).textContent = answer.prediction;
  const bars = $(`bars-${card.name}`);
  bars.replaceChildren();
  const probabilities = {};
  for (let i = 1; `label_${i}` in answer; i++) probabilities[answer[`label_${i}`]] = answer[`probability_${i}`];
  for (const label of labels || Object.keys(probabilities)) {
    const p = probabilities[label] || 0;
    const fill = element("span", { class: "fill", style: `width: ${Math.round(p * 60)}px` });
    const row = element("div", { class: label === answer.prediction ? "bar top" : "bar" },
      element("span", { class: "label" }, label), fill, element("span", {}, `${(p * 100).toFixed(1)}%`));
    bars.append(row);
  }
}

// ------------------------------------------------------------------ drawing a digit

function drawingPad(cards) {
  const canvas = $("canvas");
  const context = canvas.getContext("2d");
  const clear = () => { context.fillStyle = "#000"; context.fillRect(0, 0, canvas.width, canvas.height); };
  clear();
  context.strokeStyle = "#fff"; context.lineWidth = 20; context.lineCap = "round"; context.lineJoin = "round";
  let drawing = false, pending = false, last = 0;

  const point = (event) => {
    const box = canvas.getBoundingClientRect();
    return [(event.clientX - box.left) * canvas.width / box.width, (event.clientY - box.top) * canvas.height / box.height];
  };
  const predict = async () => {
    if (pending) return;
    pending = true;
    const image = canvas.toDataURL("image/png");
    await Promise.all(cards.map((card) => answerIn(card, { image, top: card.labels.length }, card.labels)));
    pending = false;
  };
  canvas.addEventListener("pointerdown", (event) => {
    drawing = true; canvas.setPointerCapture(event.pointerId);
    context.beginPath(); context.moveTo(...point(event));
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!drawing) return;
    context.lineTo(...point(event)); context.stroke();
    if (Date.now() - last > 200) { last = Date.now(); predict(); }
  });
  const stop = () => { if (drawing) { drawing = false; pending = false; predict(); } };
  canvas.addEventListener("pointerup", stop);
  canvas.addEventListener("pointercancel", stop);
  $("clear").addEventListener("click", () => {
    clear();
    cards.forEach((card) => { $(`pred-${card.name}`).textContent = ""; $(`bars-${card.name}`).replaceChildren(); });
  });
}

// ------------------------------------------------------------------ text models

function textForm(section, cards, field, body) {
  $(`${section}-form`).addEventListener("submit", async (event) => {
    event.preventDefault();
    await Promise.all(cards.map((card) => answerIn(card, body($(field).value))));
  });
}

function numbersPanel(card) {
  const box = panel(card);
  const input = element("input", { value: card.example, "aria-label": `${card.name} input`, size: 40 });
  const form = element("form", {}, element("span", { class: "meta" }, card.input, " "), input, " ",
    element("button", {}, "Ask"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    await answerIn(card, { input: input.value });
  });
  box.append(form);
  return box;
}

// The text, streamed into the panel; a refused prompt, or the server's time limit, shows its
// error in the panel (under the text written so far, for the time limit).
async function write(card) {
  try { await stream(card); } catch (error) { showRefusal(card, error); }
}

async function stream(card) {
  const out = $(`text-${card.name}`);
  out.textContent = "";
  $(`bars-${card.name}`).replaceChildren();
  const seed = $("prompt-seed").value;
  const body = {
    prompt: $("prompt-input").value, length: Number($("prompt-length").value),
    temperature: Number($("prompt-temperature").value), ...(seed === "" ? {} : { seed: Number(seed) }),
  };
  const response = await fetch(card.endpoint, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error((await response.json()).detail);
  out.textContent = body.prompt;
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "", stopped = null;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    const lines = buffer.split("\n");
    buffer = lines.pop();
    lines.filter((line) => line).forEach((line) => {
      const item = JSON.parse(line);
      if ("text" in item) out.textContent += item.text;
      if ("detail" in item) stopped = item.detail;  // the server's time limit ended the text
    });
  }
  if (stopped) throw new Error(stopped);
}

// ------------------------------------------------------------------ the page

async function main() {
  const cards = await (await fetch("/models")).json();
  const of = (kind) => cards.filter((card) => card.kind === kind);
  const show = (section, list, makePanel = panel) => {
    if (!list.length) return;
    $(section).hidden = false;
    list.forEach((card) => $(`${section === "digits" ? "image" : section}-models`).append(makePanel(card)));
  };
  show("digits", of("images"));
  drawingPad(of("images"));
  show("names", of("names"));
  textForm("names", of("names"), "names-input", (text) => ({ input: text, top: 3 }));
  show("hello", of("characters"));
  textForm("hello", of("characters"), "hello-input", (text) => ({ input: text }));
  show("numbers", of("numbers"), numbersPanel);
  show("prompt", of("prompt"), (card) => {
    const box = panel(card);
    box.append(element("div", { class: "text-out", id: `text-${card.name}` }));
    return box;
  });
  $("prompt-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    await Promise.all(of("prompt").map(write));
  });
}

main().catch(showError);
