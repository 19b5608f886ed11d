"""Overhead: zoo's Trainer against a hand-written loop over the identical tensor batches.

Both train on the same `TensorBatches` and validate on the same validation batches every
epoch, with the tutorial recipe (SGD, batch 64: the smallest batch of any recipe, where a
per-step cost shows the most). Besides `zoo fit` as a user gets it, variants with one default
changed show what each default costs; they run on the models with the cheapest steps (where a
fixed cost per step weighs most), or on every chosen model when --models names neither.

A cost is either per step (the steady time between the starts of two training steps) or per
epoch (validation, checkpoints, the logger's epoch writes: the rest of the cycle from one
epoch's start to the next).

zoo's step cost over a bare Trainer is measured two ways, each a target. By difference:
back-to-back pairs of short runs, zoo's defaults and a bare Trainer, the median of the pairs'
differences, shown with its quartiles: on a shared 2-core machine a run's pace differs from
the next's by 5-10 % (0.2-0.4 ms of a 3 ms step), so one pair says little. By clock: inside
one zoo run, Lightning's profiler hook times every call to each of zoo's
callbacks' step hooks, and each hook is charged its median call (less the clock's own cost)
times its calls: on a shared machine another process taking the processor mid-call made single
calls hundreds of times their usual length, and summed, an empty hook's 30 calls a step read
70 microseconds. The logger's writes are timed, and the cost of Lightning calling a hook at all
is measured apart (fastest of five rounds) and charged per call; their sum per step is what
zoo's defaults add to a bare Trainer's step.
"""

from __future__ import annotations

import statistics
import tempfile
import time
import timeit
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import lightning.pytorch as pl
from lightning.pytorch.callbacks import TQDMProgressBar
from lightning.pytorch.profilers import Profiler
from lightning.pytorch.trainer import call

from benchmarks.common import SectionResult, Settings, Target, alternate, median
from benchmarks.data import zoo_datamodule
from benchmarks.loops import EpochLog, EpochTimer, run_plain, run_zoo
from zoo.logs import PacedTensorBoardLogger
from zoo.registry import recipe_for
from zoo.training import zoo_profiler

NAME = "overhead"
RECIPE = "tutorial"
LIMIT_PCT = 5.0
STEP_LIMIT_MS = 0.1
PAIRS = 12
PAIR_EPOCHS = 3
PLAIN = "plain loop"
VARIANT_MODELS = ("cnn_mnist", "mlp_mnist")
CLOCK_SHOWN = ["model", "cost", "us_per_step", "calls_per_step", "logger_epoch_ms"]
SHOWN = ["model", "variant", "batch", "step_ms", "step_over_bare_ms", "epoch_fixed_ms",
         "cycle_s", "overhead_pct", "setup_s"]


@dataclass(frozen=True)
class Variant:
    """`zoo fit` with some defaults changed."""

    name: str
    options: dict[str, Any] = field(default_factory=dict)
    callbacks: Callable[[], list[pl.Callback]] = list


USER = Variant("zoo fit")
BARE = Variant("bare Trainer", {"bare": True})
VARIANTS = [
    USER,
    Variant("bar every 10 steps (before)", callbacks=lambda: [TQDMProgressBar(refresh_rate=10)]),
    Variant("no progress bar", {"enable_progress_bar": False}),
    Variant("log every step (before)", {"log_every_n_steps": 1}),
    Variant("no logger", {"logger": False}),
    Variant("no checkpoint", {"enable_checkpointing": False}),
    Variant("bar, logger, checkpoint off", {"enable_progress_bar": False, "logger": False,
                                            "enable_checkpointing": False}),
    BARE,
]


STEP_HOOKS = ("on_train_batch_start", "on_before_backward", "on_after_backward",
              "on_before_optimizer_step", "on_before_zero_grad", "on_train_batch_end")
"""The callback hooks Lightning calls at every training step."""


class HookClock(Profiler):
    """Each call's seconds per action: Lightning brackets every hook call with its profiler."""

    def __init__(self) -> None:
        super().__init__()
        self.began: dict[str, float] = {}
        self.durations: defaultdict[str, list[float]] = defaultdict(list)

    def start(self, action_name: str) -> None:
        self.began[action_name] = time.perf_counter()

    def stop(self, action_name: str) -> None:
        began = self.began.pop(action_name, None)
        if began is not None:
            self.durations[action_name].append(time.perf_counter() - began)

    def summary(self) -> str:
        return ""


def clock_bracket_s(pairs: int = 4000, repeats: int = 5) -> float:
    """A HookClock's own cost per start/stop pair, taken off the hooks it times (the fastest of
    `repeats` rounds)."""
    clock = HookClock()

    def bracket() -> None:
        clock.start("action")
        clock.stop("action")

    return min(timeit.repeat(bracket, number=pairs, repeat=repeats)) / pairs


class TimedLogger(PacedTensorBoardLogger):
    """zoo's default logger with a clock on its writes (and saves), kept apart
    for writes among the training steps and writes at epoch edges (validation, epoch end)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.in_steps = False
        self.seconds = {True: 0.0, False: 0.0}

    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        began = time.perf_counter()
        super().log_metrics(metrics, step)
        self.seconds[self.in_steps] += time.perf_counter() - began

    def save(self) -> None:
        began = time.perf_counter()
        super().save()
        self.seconds[self.in_steps] += time.perf_counter() - began


class StepPhase(pl.Callback):
    """Tells a TimedLogger when the Trainer is among the training steps: Lightning writes a
    step's metrics after its last hook, so the phase ends at validation or the epoch's end."""

    def __init__(self, logger: TimedLogger) -> None:
        self.logger = logger
        self.callbacks: list[pl.Callback] = []
        """The run's other callbacks, as the Trainer holds them when training starts."""

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.callbacks = [c for c in trainer.callbacks if not isinstance(c, (StepPhase, EpochTimer))]  # type: ignore[attr-defined]

    def on_train_batch_start(self, *args: Any) -> None:
        self.logger.in_steps = True

    def on_validation_start(self, *args: Any) -> None:
        self.logger.in_steps = False

    def on_train_epoch_end(self, *args: Any) -> None:
        self.logger.in_steps = False


def hook_dispatch_s(calls: int = 4000, repeats: int = 5) -> float:
    """Seconds Lightning spends calling one callback's hook beyond the hook's own body: the
    loop over callbacks, the profiler bracket and the call (a Trainer with one callback that
    does nothing, against one with none, each with the profiler a zoo run has; the fastest of
    `repeats` rounds of each, so that another process taking the processor is not counted)."""
    model = pl.LightningModule()
    seconds = []
    for callbacks in ([], [pl.Callback()]):
        trainer = pl.Trainer(callbacks=callbacks, logger=False, enable_checkpointing=False,
                             enable_progress_bar=False, enable_model_summary=False, profiler=zoo_profiler(None))
        trainer.strategy.connect(model)

        def dispatch(trainer: pl.Trainer = trainer) -> None:
            call._call_callback_hooks(trainer, "on_after_backward")

        seconds.append(min(timeit.repeat(dispatch, number=calls, repeat=repeats)) / calls)
    return max(seconds[1] - seconds[0], 0.0)


def naming_s(callbacks: list[pl.Callback], calls: int = 2000, repeats: int = 5) -> float:
    """Seconds Lightning spends per step naming the callbacks' step hooks: it formats each one's
    `state_key` into the profiler's action name at every call (fastest of `repeats` rounds), which
    `hook_dispatch_s`'s plain Callback, named by its class alone, leaves out."""
    seconds = 0.0
    for callback in callbacks:
        def name(callback: pl.Callback = callback) -> str:
            return callback.state_key

        seconds += min(timeit.repeat(name, number=calls, repeat=repeats)) / calls
    return len(STEP_HOOKS) * seconds


def clocked_step_costs(name: str, settings: Settings, steps: int) -> list[dict[str, Any]]:
    """zoo's additions to a bare Trainer's step, each by its own clock, in one zoo run."""
    clock = HookClock()
    with tempfile.TemporaryDirectory() as logs:
        logger = TimedLogger(logs)
        phase = StepPhase(logger)
        log = run_zoo(name, RECIPE, settings, settings.seed, settings.epochs, test=False,
                      callbacks=[phase], profiler=clock, logger=logger)
    trained = steps * len(log.step_s)
    dispatch, bracket = hook_dispatch_s(), clock_bracket_s()
    per_callback: defaultdict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for action, durations in clock.durations.items():
        if action.startswith("[Callback]") and action.rsplit(".", 1)[-1] in STEP_HOOKS:
            callback = action.removeprefix("[Callback]").split("{")[0].rsplit(".", 1)[0]
            if callback in ("EpochTimer", "StepPhase"):
                continue
            per_callback[callback][0] += max(statistics.median(durations) - bracket, 0.0) * len(durations)
            per_callback[callback][1] += len(durations)
    rows: list[dict[str, Any]] = [{"model": name, "cost": f"{callback}: its step hooks",
             "us_per_step": 1e6 * seconds / trained, "calls_per_step": calls / trained}
            for callback, (seconds, calls) in sorted(per_callback.items())]
    hook_calls = sum(calls for _, calls in per_callback.values())
    rows.append({"model": name, "cost": "Lightning calling those hooks",
                 "us_per_step": 1e6 * dispatch * hook_calls / trained,
                 "calls_per_step": hook_calls / trained})
    rows.append({"model": name, "cost": "Lightning naming those hooks (state_key)",
                 "us_per_step": 1e6 * naming_s(phase.callbacks)})
    rows.append({"model": name, "cost": "logger writes among the steps",
                 "us_per_step": 1e6 * logger.seconds[True] / trained})
    total = sum(r["us_per_step"] for r in rows)
    rows.append({"model": name, "cost": "total", "us_per_step": total,
                 "logger_epoch_ms": 1000 * logger.seconds[False] / max(len(log.step_s), 1)})
    return rows


def run_variant(name: str, variant: Variant, settings: Settings, seed: int, epochs: int) -> EpochLog:
    return run_zoo(name, RECIPE, settings, seed, epochs, callbacks=variant.callbacks(), test=False,
                   **variant.options)


def mean_step(log: EpochLog) -> float:
    return statistics.fmean(log.step_s) if log.step_s else float("nan")


def paired_step_overhead(name: str, settings: Settings) -> tuple[float, list[float]]:
    """zoo's seconds per step minus a bare Trainer's, per back-to-back pair; their median."""
    pairs = 2 if settings.quick else max(PAIRS, settings.repeats)
    differences = []
    for pair in range(pairs):
        seed = settings.seed + pair
        steps: dict[str, float] = {}
        for variant in alternate([USER, BARE], pair):
            steps[variant.name] = mean_step(run_variant(name, variant, settings, seed, PAIR_EPOCHS))
        differences.append(steps[USER.name] - steps[BARE.name])
    return median(differences), differences


def run(settings: Settings) -> SectionResult:
    rows: list[dict[str, Any]] = []
    clock_rows: list[dict[str, Any]] = []
    targets: list[Target] = []
    notes: list[str] = []
    variant_models = [m for m in settings.models if m in VARIANT_MODELS] or settings.models
    for name in settings.models:
        variants = VARIANTS if name in variant_models else [USER, BARE]
        batch = recipe_for(name, RECIPE).batch_size
        steps = len(zoo_datamodule(name, batch, settings, settings.seed).train_dataloader())
        run_plain(name, RECIPE, settings, settings.seed, 1)
        run_zoo(name, RECIPE, settings, settings.seed, 1, test=False, limit_train_batches=3,
                limit_val_batches=1)
        logs: dict[str, list[EpochLog]] = {PLAIN: [], **{v.name: [] for v in variants}}
        for repeat in range(settings.repeats):
            seed = settings.seed + repeat
            for variant in alternate([None, *variants], repeat):
                if variant is None:
                    logs[PLAIN].append(run_plain(name, RECIPE, settings, seed, settings.epochs))
                else:
                    logs[variant.name].append(run_variant(name, variant, settings, seed, settings.epochs))
        plain_cycle = median(s for log in logs[PLAIN] for s in log.cycle_s)
        bare_step = median(s for log in logs[BARE.name] for s in log.step_s)
        bare_fixed = median(s for log in logs[BARE.name] for s in log.cycle_s) - steps * bare_step
        for variant_name, variant_logs in logs.items():
            cycle = median(s for log in variant_logs for s in log.cycle_s)
            step = median(s for log in variant_logs for s in log.step_s)
            rows.append({
                "model": name,
                "variant": variant_name,
                "batch": batch,
                "steps": steps,
                "step_ms": 1000 * step,
                "step_over_bare_ms": 1000 * (step - bare_step),
                "epoch_fixed_ms": 1000 * (cycle - steps * step - bare_fixed),
                "cycle_s": cycle,
                "train_s": median(s for log in variant_logs for s in log.train_s),
                "overhead_pct": 100 * (cycle / plain_cycle - 1),
                "setup_s": median(log.setup_s for log in variant_logs),
                "repeats": len(variant_logs),
            })
        user_row = next(r for r in rows if r["model"] == name and r["variant"] == USER.name)
        targets.append(Target(NAME, "zoo Trainer overhead per epoch, %", name,
                              user_row["overhead_pct"], LIMIT_PCT))
        if name in VARIANT_MODELS:
            clocked = clocked_step_costs(name, settings, steps)
            clock_rows += clocked
            targets.append(Target(NAME, "zoo's step cost over a bare Trainer, ms (by clock)", name,
                                  clocked[-1]["us_per_step"] / 1000, STEP_LIMIT_MS))
            paired, differences = paired_step_overhead(name, settings)
            quartiles = statistics.quantiles(differences, n=4) if len(differences) > 1 else differences * 3
            rows.append({
                "model": name,
                "variant": f"zoo fit - bare Trainer, {len(differences)} pairs",
                "batch": batch,
                "steps": steps,
                "step_over_bare_ms": 1000 * paired,
                "step_over_bare_q1_ms": 1000 * quartiles[0],
                "step_over_bare_q3_ms": 1000 * quartiles[-1],
                "repeats": len(differences),
            })
            targets.append(Target(NAME, "zoo's step cost over a bare Trainer, ms (by difference, "
                                  "median of pairs)", name, 1000 * paired, STEP_LIMIT_MS))
            notes.append(f"{name}: zoo fit - bare Trainer by difference, {len(differences)} pairs: "
                         f"median {1000 * paired:.3f} ms a step, quartiles {1000 * quartiles[0]:.3f} "
                         f".. {1000 * quartiles[-1]:.3f} ms")
    notes += [
        "step_ms: steady seconds per training step (between the first and last step's starts), "
        "median over epochs and repeats; step_over_bare_ms: against the bare Trainer's",
        "epoch_fixed_ms: the rest of an epoch's cycle (validation, checkpoints, epoch-end logging) "
        "beyond the bare Trainer's",
        "cycle_s: one epoch from its start to the next's, checkpoints included; overhead_pct "
        "compares it with the plain loop's (training + validation)",
    ]
    return SectionResult(NAME, rows, SHOWN, targets, notes,
                         tables={"step_costs": (clock_rows, CLOCK_SHOWN)})
