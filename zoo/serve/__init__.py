"""`zoo serve`: every zoo model as a web service, and a page where people draw a digit.

`command` reads the command line (no LitServe or torch needed for that), `app` serves on
LitServe, `adapter` is the one place that knows what each model takes and answers, and `page/`
holds the page (plain HTML, CSS and JavaScript)."""

HOSTS = ("127.0.0.1", "0.0.0.0", "::")
"""The addresses LitServe binds to; 127.0.0.1 (this machine only) unless told otherwise."""
TIMEOUT_S = 30.0
"""A request still waiting for its model after this many seconds is answered 504."""
BATCH_WAIT_S = 0.005
"""How long a worker waits for more requests to fill a batch (the timeout must be longer)."""
RUNTIMES = ("torch", "onnxruntime")
"""What runs the models that answer in one piece: PyTorch, or their exported ONNX files in onnxruntime."""
