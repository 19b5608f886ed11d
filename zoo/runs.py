"""The one configuration of a training run: recipe, datamodule, trainer, checkpoints, seed.

`zoo fit` lays it beneath the user's command line and config files (as the parser's
defaults), and `zoo.training.fit` and the benchmarks build their runs from it, so the three
cannot drift apart. It is plain data shaped like LightningCLI's config.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import Any, cast

from zoo.errors import ZooError
from zoo.files import DISK_FULL, full_disk
from zoo.registry import DATAMODULES, MODELS, class_path, recipe_for

SEED = 42
RUNS_DIR = "runs"
TRAINER_DEFAULTS: dict[str, Any] = {"enable_model_summary": False}
"""zoo prints its own one-line summary of the model (parameters and FLOPs) instead of
Lightning's table. The training loss reaches the logger at Lightning's pace (every 50 steps,
and at each epoch's end): every 20 cost MNIST's 2 ms step 0.02-0.04 ms more (benchmark
`overhead`); the embedded digits' 57-step epochs still get two points each."""
CHECKPOINT_DEFAULTS: dict[str, Any] = {
    "monitor": "val/loss",
    "mode": "min",
    "filename": "best",
}
"""`best.ckpt` by lowest validation loss to test and share; `last.ckpt`, written every epoch by
zoo's own `LastCheckpoint` callback, to resume from."""
TRAIN_RUNS = "lightning_logs"
EVAL_RUNS = "eval"
"""A training run writes to `<root>/lightning_logs/version_N`; validate, test and predict to
`<root>/eval/version_N`, so an evaluation never writes into the run it evaluates."""


def datamodule_class_path(data: str) -> str:
    """A registered datamodule name, or a class path given as is."""
    return data if "." in data else class_path(DATAMODULES.get(data).cls)


def run_config(model: str | None = None, recipe: str = "default", data: str | None = None) -> dict[str, Any]:
    """The defaults of a run, nested as LightningCLI's config.

    With a registered `model`: its task and network with the recipe's hyperparameters, its own
    datamodule with the recipe's batch size and arguments (or `data`, a registered name or a
    class path, with the recipe's batch size), the recipe's epochs and the run folder
    `runs/<model>`. Without one, only what every run shares.
    """
    config: dict[str, Any] = {
        "seed_everything": SEED,
        "trainer": dict(TRAINER_DEFAULTS),
        "checkpoint": dict(CHECKPOINT_DEFAULTS),
    }
    if model is None:
        if data is not None:
            config["data"] = {"class_path": datamodule_class_path(data)}
        return config
    card = MODELS.get(model)
    chosen = recipe_for(model, recipe)
    data_args: dict[str, Any] = {"batch_size": chosen.batch_size}
    if data is None:
        data_args |= card.datamodule_args | chosen.data_args
    config["model"] = {
        "class_path": class_path(card.task),
        "init_args": {"net": model, **chosen.model_hparams()},
    }
    config["data"] = {
        "class_path": datamodule_class_path(data or card.datamodule),
        "init_args": data_args,
    }
    config["trainer"] |= {"max_epochs": chosen.max_epochs, "default_root_dir": str(Path(RUNS_DIR) / model)}
    return config


def new_run_dir(parent: str | os.PathLike[str]) -> Path:
    """Claim the next free `version_N` folder under `parent`.

    `os.mkdir` fails when the folder exists, so two runs started at once never get the same
    one: the loser of the race moves on to N+1."""
    parent = Path(parent)
    try:
        parent.mkdir(parents=True, exist_ok=True)
        taken = [p.name.removeprefix("version_") for p in parent.iterdir() if p.name.startswith("version_")]
    except OSError as err:
        raise ZooError(
            f"run folder {str(parent)!r} cannot be created ({err.strerror}); "
            "pass --trainer.default_root_dir with a writable folder"
        ) from err
    version = max((int(v) + 1 for v in taken if v.isdigit()), default=0)
    while True:
        folder = parent / f"version_{version}"
        try:
            os.mkdir(folder)
        except FileExistsError:
            version += 1
            continue
        except OSError as err:
            raise ZooError(
                f"run folder {str(folder)!r} cannot be created ({err.strerror}); "
                "pass --trainer.default_root_dir with a writable folder"
            ) from err
        return folder


def run_config_file(run_dir: str | os.PathLike[str]) -> Path | None:
    """The configuration a run was last started or resumed with: its latest
    `config_resume_N.yaml`, else its `config.yaml`; None when neither is there."""
    folder = Path(run_dir)
    resumes = {int(number): path for path in folder.glob("config_resume_*.yaml")
               if (number := path.stem.removeprefix("config_resume_")).isdigit()}
    files = [folder / "config.yaml", *(resumes[n] for n in sorted(resumes))]
    return next((file for file in reversed(files) if file.is_file()), None)


def hold_run_dir(run_dir: str | os.PathLike[str]) -> int:
    """Hold a run folder for this process, so that a second `zoo fit` resuming the same run
    is refused rather than writing its checkpoints beside the first's: an exclusive `flock`
    on the folder itself, released by closing the descriptor returned. The kernel drops it
    when the process ends however it ends (SIGKILL included), so no stale lock outlives a run.
    """
    descriptor = os.open(run_dir, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        raise ZooError(
            f"run folder {str(run_dir)!r} is held by another 'zoo fit' training or resuming it; "
            "wait until that one ends, then resume"
        ) from None
    return descriptor


def checkpoint_run_dir(ckpt_path: str | os.PathLike[str]) -> Path | None:
    """The run folder a checkpoint was saved in (`RUN/checkpoints/last.ckpt` -> `RUN`), or None
    when the checkpoint lies elsewhere."""
    for folder in (Path(ckpt_path).parent, Path(ckpt_path).resolve().parent):
        if folder.name == "checkpoints" and folder.parent.name.startswith("version_"):
            return folder.parent  # as spelt when it can be: Lightning compares the spelling
    return None


def check_writable(
    folder: str | os.PathLike[str],
    what: str = "run folder",
    fix: str = "pass --trainer.default_root_dir with a writable folder",
) -> None:
    """Create `folder` and a file in it, so a read-only place fails before the first step."""
    folder = Path(folder)
    probe = folder / f".zoo-write-test-{os.getpid()}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe.touch()
        probe.unlink()
    except OSError as err:
        raise ZooError(
            f"{what} {str(folder)!r} is not writable ({err.strerror}); {fix}"
        ) from err


def failed_write(err: BaseException) -> OSError | None:
    """The OSError naming a file, or telling of a full disk, behind an exception (Lightning
    re-raises inside its own, and a logger failing as the run stops adds another; a full disk
    under a plain `write`, such as TensorBoard's or the config's, names no file); None when zoo
    already explained it in a ZooError on the way (a data folder that cannot be created, say)."""
    seen: BaseException | None = err
    while seen is not None:
        if isinstance(seen, ZooError):
            return None
        if isinstance(seen, OSError) and (seen.filename is not None or seen.errno in DISK_FULL):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def write_failure(err: BaseException, run_dir: str | os.PathLike[str] | None) -> ZooError | None:
    """A run stopped by a file it could not write, as one line naming the run folder: the disk
    full, or the folder deleted while the run wrote to it. None for any other failure."""
    found = failed_write(err)
    if found is None:
        return None
    if found.errno in DISK_FULL:
        return full_run_disk(found, run_dir)
    file = Path(os.path.abspath(os.fsdecode(found.filename)))
    folder = Path(run_dir) if run_dir is not None else file.parent
    again = resume_or_start_again(folder)
    if file != folder.absolute() and folder.absolute() not in file.parents:
        return None
    if not folder.is_dir():
        return ZooError(
            f"run folder {str(folder)!r} was deleted while the run wrote to it; keep a run's folder "
            "until the run ends, and start it again"
        )
    return ZooError(f"run folder {str(folder)!r}: {file.name!r} could not be written ({found.strerror}); "
                    f"make the folder writable, then {again}")


def resume_or_start_again(folder: Path) -> str:
    """How a run stopped early goes on: from its last.ckpt when it saved one."""
    last = folder / "checkpoints" / "last.ckpt"
    return f"resume with --ckpt_path {last}" if last.is_file() else "start the run again"


def full_run_disk(err: OSError, run_dir: str | os.PathLike[str] | None) -> ZooError:
    """A full disk under a run folder, naming the file when the failed write did; without a run
    folder (`zoo predict --output`), the plain full disk of `zoo.files.full_disk`."""
    if run_dir is None:
        return cast(ZooError, full_disk(err))
    folder = Path(run_dir)
    file = f" writing {Path(os.fsdecode(err.filename)).name!r}" if err.filename is not None else ""
    if (folder / "checkpoints" / "last.ckpt").is_file():
        kept = f"the checkpoints saved before are whole: free some space, then {resume_or_start_again(folder)}"
    else:
        kept = "free some space, or pass --trainer.default_root_dir on another disk, and start the run again"
    return ZooError(f"the disk of run folder {str(folder)!r} is full ({err.strerror}{file}); {kept}")
