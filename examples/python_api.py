"""zoo from Python with your own Lightning Trainer: build, fit, test, save, load, predict.

    python examples/python_api.py                     # cnn_mnist, up to 10 epochs
    python examples/python_api.py --model lenet_mnist --out runs/api
    python examples/python_api.py --quick             # 1 short epoch on the embedded digits

The Trainer is yours: here it carries Lightning's EarlyStopping (stop when val/loss has not
improved for 2 epochs), a callback zoo knows nothing about. The checkpoint it saves loads with
`zoo.load_checkpoint` alone, and the Trainer's `predict` gives the loaded model's class
probabilities for the first test digits.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import lightning.pytorch as pl
from lightning.pytorch.callbacks import EarlyStopping
from torch.utils.data import DataLoader, TensorDataset

from zoo import build, default_datamodule, load_checkpoint
from zoo.notice import quiet_lightning


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="cnn_mnist", help="an MNIST model (cnn_mnist)")
    parser.add_argument("--epochs", type=int, default=10, help="most epochs to train (10)")
    parser.add_argument("--out", default="runs/python_api", help="folder for logs and the checkpoint")
    parser.add_argument("--quick", action="store_true", help="1 epoch of 20 batches on the embedded digits")
    args = parser.parse_args()
    quiet_lightning()

    pl.seed_everything(42, verbose=False)
    model = build(args.model)  # its default recipe: Adam 3e-3, one-cycle schedule
    data = default_datamodule(args.model, source="embedded" if args.quick else "auto")
    trainer = pl.Trainer(
        max_epochs=1 if args.quick else args.epochs,
        limit_train_batches=20 if args.quick else None,
        callbacks=[EarlyStopping(monitor="val/loss", mode="min", patience=2)],
        default_root_dir=args.out,
        log_every_n_steps=10,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.fit(model, datamodule=data)
    (test,) = trainer.test(model, datamodule=data, verbose=False)
    print(f"epochs run: {trainer.current_epoch}; test/acc {test['test/acc']:.4f}")

    ckpt = Path(args.out) / f"{args.model}.ckpt"
    trainer.save_checkpoint(ckpt)
    same = load_checkpoint(ckpt)  # the right class and network, from the file alone
    print(f"saved and loaded {ckpt}: a {type(same).__name__} holding {same.zoo_name}")

    images, targets = data.splits["test"]
    (probabilities,) = trainer.predict(same, DataLoader(TensorDataset(images[:8]), batch_size=8))
    top = probabilities.topk(2, dim=-1)
    print("true  predicted (probability)  runner-up")
    for target, (first, second), (p, q) in zip(targets[:8].tolist(), top.indices.tolist(), top.values.tolist(),
                                               strict=True):
        print(f"{target:>4}  {same.labels[first]:>9} ({p:.3f})        {same.labels[second]} ({q:.3f})")


if __name__ == "__main__":
    main()
