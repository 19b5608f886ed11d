"""Answer with a file `zoo export --format onnx` wrote, using onnxruntime, numpy and Pillow alone
(no zoo, no torch): the file prepares the raw input and gives the answer; its sidecar says how
to decode inputs and what the labels are.

    python answer_with_onnxruntime.py names.onnx Nguyen Schmidt
    python answer_with_onnxruntime.py digits.onnx seven.png
"""

import json
import sys
import unicodedata

import numpy as np
import onnxruntime
from PIL import Image


def decoded(item: str, card: dict) -> list:
    """One raw input as the file's input tensors, as the sidecar's `raw_inputs.decode` says."""
    raw = card["raw_inputs"]
    if raw["kind"] == "images":
        picture = Image.open(item).convert("L" if raw["shape"][0] == 1 else "RGB")
        return [np.array(picture).reshape(1, picture.height, picture.width, -1).transpose(0, 3, 1, 2)]
    if raw["kind"] == "names":
        folded = unicodedata.normalize("NFKD", item.strip())
        codes = [ord(c) for c in folded if not unicodedata.combining(c)]
        return [np.array([codes], dtype=np.int64), np.array([len(codes)], dtype=np.int64)]
    if raw["kind"] == "numbers":
        return [np.array([[float(x) for x in item.split(",")]], dtype=np.float32)]
    return [np.array([[raw["alphabet"].index(c) for c in item]], dtype=np.int64)]


def main(model: str, items: list[str]) -> None:
    with open(model + ".json") as file:
        card = json.load(file)
    session = onnxruntime.InferenceSession(model, providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    for item in items:
        (answer,) = session.run(None, dict(zip(names, decoded(item, card), strict=True)))
        if card["labels"] is None:  # values, or a binary model's probability of label 1
            print(item, *answer[0].round(4))
        elif answer.ndim == 3:  # the likeliest label at each position
            print(item, "".join(card["labels"][i] for i in answer[0].argmax(axis=-1)))
        else:
            best = int(answer[0].argmax())
            print(item, card["labels"][best], f"{answer[0][best]:.4f}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
