"""Your own network in zoo: register it, then train it by name from the command line and Python.

    python examples/own_model.py             # 3 epochs each way
    python examples/own_model.py --quick     # 1 epoch each way on the embedded digits

The script writes a plugin module, `mymodels.py`, into a temporary folder: a logistic
regression over MNIST's 784 pixels, registered with `register_model(..., task=ClassificationTask)`
so that zoo's classification task adds the loss, accuracy and optimiser. Then:
- the command line: `ZOO_PLUGINS=mymodels PYTHONPATH=<folder> python -m zoo fit --model logreg_mnist`
  (the plugin is imported by name; its folder must be importable);
- Python: `import mymodels` registers it, and `zoo.training.fit("logreg_mnist")` trains it;
- Python without a plugin: a task wraps the network itself, `ClassificationTask(net=LogReg(),
  labels=..., inputs=mnist_digits())`, and `zoo.training.fit(task, datamodule=...)` trains it.
Runs are written to runs/logreg_mnist/ in the current folder, as `zoo fit` writes them.
"""

from __future__ import annotations

import argparse
import importlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from torch import Tensor, nn

from zoo import build_datamodule, list_models
from zoo.inputs import mnist_digits
from zoo.notice import quiet_lightning
from zoo.tasks import ClassificationTask
from zoo.training import fit

PLUGIN = '''"""A logistic regression over MNIST's 784 pixels: one linear layer, 7,850 parameters."""
from torch import Tensor, nn

from zoo import register_model
from zoo.tasks import ClassificationTask


@register_model("logreg_mnist", task=ClassificationTask, input_shape=(1, 28, 28),
                output_shape=(10,), num_params=7_850, datamodule="mnist")
class LogReg(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(784, 10)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc(x.flatten(1))  # N x 1 x 28 x 28 -> N x 784 -> N x 10
'''


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3, help="epochs each way (3)")
    parser.add_argument("--quick", action="store_true", help="1 epoch each way on the embedded digits")
    args = parser.parse_args()
    epochs = 1 if args.quick else args.epochs
    source = "embedded" if args.quick else "auto"

    with tempfile.TemporaryDirectory(prefix="zoo-plugin-") as tmp:
        folder = Path(tmp)
        (folder / "mymodels.py").write_text(PLUGIN)
        print(f"plugin written to {folder / 'mymodels.py'}")

        # 1. the command line: zoo imports the modules named in ZOO_PLUGINS
        env = dict(os.environ, ZOO_PLUGINS="mymodels")
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(folder), env.get("PYTHONPATH", "")) if p)
        command = [sys.executable, "-m", "zoo", "fit", "--model", "logreg_mnist",
                   "--trainer.max_epochs", str(epochs), "--data.source", source,
                   "--trainer.enable_progress_bar", "false"]
        print("$ ZOO_PLUGINS=mymodels PYTHONPATH=... " + " ".join(["python", *command[1:]]))
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        print("\n".join(line for line in done.stdout.splitlines() if line.startswith("zoo:")))
        if done.returncode != 0:
            sys.exit(f"zoo fit failed (exit {done.returncode}):\n{done.stderr[-2000:]}")

        # 2. Python: importing the module registers the model
        sys.path.insert(0, str(folder))
        importlib.import_module("mymodels")
        quiet_lightning()
        print(f"registered in this process: {list_models('logreg*')}")
        run = fit("logreg_mnist", data_kwargs={"source": source}, max_epochs=epochs,
                  logger=False, enable_progress_bar=False)
        print(f"from Python: logreg_mnist test/acc {run.test['test/acc']:.4f} (epochs: {epochs})")

    # 3. Python, no plugin: the task takes the network itself
    task = ClassificationTask(net=LogReg(), labels=[str(d) for d in range(10)], inputs=mnist_digits(), lr=0.01)
    run = fit(task, datamodule=build_datamodule("mnist", source=source), max_epochs=epochs,
              default_root_dir="runs/own_logreg", logger=False, enable_progress_bar=False)
    print(f"unregistered: LogReg test/acc {run.test['test/acc']:.4f} (epochs: {epochs})")


class LogReg(nn.Module):
    """The plugin's network, written here: no registration needed to train it."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(784, 10)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc(x.flatten(1))


if __name__ == "__main__":
    main()
