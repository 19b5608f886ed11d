"""cnn_mnist trained twice: by a hand-written PyTorch loop, then by zoo (the same recipe).

    python examples/plain_loop.py              # 10 epochs each, the tutorial's recipe
    python examples/plain_loop.py --epochs 3
    python examples/plain_loop.py --quick      # 1 epoch each on the 5,000 embedded digits

The loop is tutorial 002's (optimizer.zero_grad, loss.backward, optimizer.step; SGD lr 0.01
momentum 0.5, batch 64) over zoo's MNIST batches; `zoo.training.fit(..., recipe="tutorial")`
trains the same network with the same settings through Lightning. Prints both test accuracies
and the seconds each took.
"""

from __future__ import annotations

import argparse
import time

import torch
from torch import nn

from zoo import build_net, default_datamodule
from zoo.notice import quiet_lightning
from zoo.training import fit

MODEL = "cnn_mnist"
SEED = 42


def plain_loop(epochs: int, source: str) -> float:
    """Tutorial 002's loop on zoo's tensors; returns the test accuracy."""
    torch.manual_seed(SEED)
    net = build_net(MODEL)  # the tutorial's plain nn.Module, no Lightning attached
    data = default_datamodule(MODEL, batch_size=64, source=source, seed=SEED)
    data.setup("fit")  # loads train, val and test as normalised tensors
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.5)

    for epoch in range(epochs):
        net.train()
        running_loss, batches = 0.0, 0
        for inputs, target in data.train_dataloader():
            optimizer.zero_grad()
            outputs = net(inputs)
            loss = criterion(outputs, target)
            loss.backward()
            optimizer.step()
            running_loss += loss.item()
            batches += 1
        print(f"plain loop: epoch {epoch + 1}, mean train loss {running_loss / batches:.3f}")

    net.eval()
    correct = total = 0
    with torch.no_grad():
        for inputs, target in data.test_dataloader():
            predicted = net(inputs).argmax(dim=1)
            total += target.size(0)
            correct += (predicted == target).sum().item()
    return correct / total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10, help="epochs for each (10, the tutorial's)")
    parser.add_argument("--quick", action="store_true", help="1 epoch each on the embedded digits")
    args = parser.parse_args()
    quiet_lightning()
    epochs = 1 if args.quick else args.epochs
    source = "embedded" if args.quick else "auto"

    started = time.perf_counter()
    loop_acc = plain_loop(epochs, source)
    loop_seconds = time.perf_counter() - started

    started = time.perf_counter()
    run = fit(
        MODEL,
        recipe="tutorial",  # SGD lr 0.01 momentum 0.5, batch 64
        data_kwargs={"source": source},
        seed=SEED,
        max_epochs=epochs,
        logger=False,
        enable_checkpointing=False,  # test the last weights, as the plain loop does
        enable_progress_bar=False,
    )
    zoo_seconds = time.perf_counter() - started

    print(f"\n{'':12}{'test acc':>10}{'seconds':>10}   (epochs: {epochs}, data: {run.datamodule.used_source} MNIST)")
    print(f"{'plain loop':12}{loop_acc:>10.4f}{loop_seconds:>10.1f}")
    print(f"{'zoo fit':12}{run.test['test/acc']:>10.4f}{zoo_seconds:>10.1f}")


if __name__ == "__main__":
    main()
