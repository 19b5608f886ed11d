"""The zoo command in a subprocess, as a user runs it: offline, in an empty folder."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from zoo.cli import main
from zoo.cli.listing import check_indexed
from zoo.errors import ZooError
from zoo.registry import DATAMODULES, MODELS
from zoo.runs import run_config

FAST = ["--trainer.fast_dev_run", "true"]


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("zoo: error:")]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_list_shows_the_models_with_their_parameter_counts(run_zoo) -> None:
    result = run_zoo("list", "*mnist*")
    assert result.returncode == 0
    assert "inception_mnist  97,298" in result.stdout
    entries = json.loads(run_zoo("list", "--json").stdout)
    assert {e["name"]: e["params"] for e in entries}["mlp_mnist"] == 575_050


def test_help_lists_the_commands(run_zoo) -> None:
    result = run_zoo("--help")
    assert result.returncode == 0 and "fit --model NAME" in result.stdout
    assert "did you mean 'fit'?" in one_line_error(run_zoo("fti"))


def test_fit_fast_dev_run_trains_and_tests_on_the_embedded_digits(run_zoo, tmp_path: Path) -> None:
    result = run_zoo("fit", "--model", "cnn_mnist", *FAST)
    assert result.returncode == 0, result.stderr
    assert "zoo: test of the final weights: test/acc" in result.stdout
    assert "embedded" in result.stderr


def test_fit_then_validate_test_predict_from_the_best_checkpoint(run_zoo, tmp_path: Path) -> None:
    fit = run_zoo("fit", "--model", "cnn_mnist", "--trainer.max_epochs", "1",
                  "--trainer.limit_train_batches", "3", "--trainer.limit_val_batches", "1",
                  "--trainer.enable_progress_bar", "false")
    assert fit.returncode == 0, fit.stderr
    ckpt = next(tmp_path.glob("runs/cnn_mnist/**/best.ckpt"))
    assert f"best checkpoint: {ckpt.relative_to(tmp_path)}" in fit.stdout
    for command, model in (("validate", ["--model", "cnn_mnist"]), ("test", []), ("predict", [])):
        result = run_zoo(command, *model, "--ckpt_path", str(ckpt),  # the checkpoint knows its model
                         "--trainer.limit_" + ("val" if command == "validate" else command)
                         + "_batches", "1")
        assert result.returncode == 0, result.stderr
    assert "predictions of shape (10,)" in result.stdout
    mismatched = run_zoo("test", "--model", "lenet_mnist", "--ckpt_path", str(ckpt))
    assert mismatched.returncode == 2
    assert "was written by model 'cnn_mnist', not 'lenet_mnist'" in mismatched.stderr.splitlines()[-1]


def test_print_config_round_trips_through_config(run_zoo, tmp_path: Path) -> None:
    printed = run_zoo("fit", "--model", "lenet_mnist", "--recipe", "tutorial", "--print_config")
    assert printed.returncode == 0, printed.stderr
    (tmp_path / "run.yaml").write_text(printed.stdout)
    assert "pad_to: 32" in printed.stdout and "momentum: 0.5" in printed.stdout
    result = run_zoo("fit", "--config", "run.yaml", *FAST)
    assert result.returncode == 0, result.stderr


def test_a_recipe_sets_its_datamodule_arguments(run_zoo) -> None:
    accurate = run_zoo("fit", "--model", "lenet_mnist", "--recipe", "accurate", "--print_config")
    assert accurate.returncode == 0, accurate.stderr
    assert "augment: true" in accurate.stdout and "max_epochs: 20" in accurate.stdout
    assert "pad_to: 32" in accurate.stdout
    default = run_zoo("fit", "--model", "lenet_mnist", "--print_config")
    assert "augment: false" in default.stdout


def test_saved_config_runs_with_the_progress_bar_off(run_zoo, tmp_path: Path) -> None:
    first = run_zoo("fit", "--model", "mlp_mnist", "--trainer.max_epochs", "1",
                    "--trainer.limit_train_batches", "2", "--trainer.limit_val_batches", "1")
    assert first.returncode == 0, first.stderr
    assert "epoch 1/1  train/loss" in first.stderr, "no progress line (stderr is a file here, not a terminal)"
    saved = tmp_path / "runs/mlp_mnist/lightning_logs/version_0/config.yaml"
    assert "ProgressBar" not in saved.read_text()
    again = run_zoo("fit", "--config", str(saved), "--trainer.enable_progress_bar", "false")
    assert again.returncode == 0, again.stderr
    assert "epoch 1/1" not in again.stderr


def test_unknown_model_gets_a_suggestion(run_zoo, tmp_path: Path) -> None:
    line = one_line_error(run_zoo("fit", "--model", "inceptoin_mnist"))
    assert "did you mean 'inception_mnist'?" in line
    assert not (tmp_path / "runs").exists()


MISSPELT_MODEL = {
    "fit": ["fit", "--model", "cnn_mnsit"],
    "fit --model=": ["fit", "--model=cnn_mnsit", "--trainer.max_epochs", "1"],
    "validate": ["validate", "--model", "cnn_mnsit", "--untrained", "true"],
    "test": ["test", "--model", "cnn_mnsit", "--pretrained", "true"],
    "predict": ["predict", "--model", "cnn_mnsit", "seven.png"],
    "export": ["export", "--model", "cnn_mnsit", "--format", "onnx", "--out", "cnn.onnx"],
    "serve": ["serve", "--model", "cnn_mnist", "cnn_mnsit"],
    "show": ["show", "cnn_mnsit"],
    "weights build": ["weights", "build", "cnn_mnist", "cnn_mnsit", "--out", "weights"],
}


def imported_modules(stderr: str) -> set[str]:
    """The modules a process imported, from the lines `-X importtime` writes to stderr."""
    return {line.rsplit("|", 1)[-1].strip() for line in stderr.splitlines() if line.startswith("import time:")}


@pytest.mark.parametrize("args", MISSPELT_MODEL.values(), ids=MISSPELT_MODEL.keys())
def test_a_misspelt_model_is_refused_from_the_index_before_torch_is_imported(run_zoo, args: list[str]) -> None:
    result = run_zoo(*args, extra_env={"PYTHONPROFILEIMPORTTIME": "1"})
    assert one_line_error(result) == "zoo: error: unknown model 'cnn_mnsit'; did you mean 'cnn_mnist'?"
    imported = imported_modules(result.stderr)
    assert "zoo.cli.listing" in imported, result.stderr[-500:]
    assert not imported & {"torch", "lightning", "litserve"}


def test_the_index_refuses_a_name_in_the_registrys_own_words() -> None:
    for kind, registry, name in (("model", MODELS, "cnn_mnsit"), ("datamodule", DATAMODULES, "mnsit")):
        with pytest.raises(ZooError) as from_registry:
            registry.get(name)
        with pytest.raises(ZooError) as from_index:
            check_indexed(kind, name)
        assert str(from_index.value) == str(from_registry.value)
    check_indexed("model", "zoo.tasks.ClassificationTask")  # a class path is LightningCLI's to read


def test_unknown_data_gets_a_suggestion(run_zoo) -> None:
    line = one_line_error(run_zoo("fit", "--model", "cnn_mnist", "--data", "mnsit"))
    assert "unknown datamodule 'mnsit'; did you mean 'mnist'?" in line


def test_shape_mismatch_is_caught_before_training(run_zoo, tmp_path: Path) -> None:
    line = one_line_error(run_zoo("fit", "--model", "mlp_mnist", "--data.pad_to", "32"))
    assert "expects inputs of shape 1x28x28" in line and "gives 1x32x32" in line
    assert not (tmp_path / "runs").exists()


def test_full_source_offline_without_files_fails_in_one_line(run_zoo, tmp_path: Path) -> None:
    line = one_line_error(run_zoo("fit", "--model", "cnn_mnist", "--data.source", "full"))
    assert "could not be downloaded" in line
    assert not list((tmp_path / "runs").glob("**/*.ckpt"))


def test_unwritable_data_dir_fails_in_one_line(run_zoo, tmp_path: Path) -> None:
    (tmp_path / "a_file").write_text("")
    line = one_line_error(run_zoo("fit", "--model", "cnn_mnist", "--data.source", "full",
                                  "--data.data_dir", str(tmp_path / "a_file" / "data")))
    assert "cannot be created" in line


def printed_config(argv: list[str], capsys: pytest.CaptureFixture[str]) -> dict:
    """`zoo fit ARGV --print_config`, read back as YAML."""
    import yaml

    with pytest.raises(SystemExit) as exit_info:
        main(["fit", *argv, "--print_config"])
    out = capsys.readouterr().out
    assert exit_info.value.code in (0, None), out
    return yaml.safe_load(out)


ORDER = [
    # (command line after `zoo fit`, with run.yaml = `zoo fit --model lenet_mnist --print_config`;
    #  the model, recipe, max_epochs and pad_to it trains with)
    (["--config", "run.yaml", "--model", "cnn_mnist"], "cnn_mnist", "default", 3, None),
    (["--model", "cnn_mnist", "--config", "run.yaml"], "lenet_mnist", "default", 3, 32),
    (["--config", "run.yaml", "--recipe", "tutorial"], "lenet_mnist", "tutorial", 10, 32),
    (["--recipe", "tutorial", "--config", "run.yaml"], "lenet_mnist", "default", 3, 32),
    (["--recipe", "tutorial", "--model", "cnn_mnist"], "cnn_mnist", "tutorial", 10, None),
    (["--model", "cnn_mnist", "--recipe", "accurate", "--trainer.max_epochs", "2"], "cnn_mnist", "accurate", 2, None),
    (["--model", "cnn_mnist", "--trainer.max_epochs", "2", "--recipe", "accurate"], "cnn_mnist", "accurate", 20, None),
]


@pytest.mark.parametrize(("argv", "model", "recipe", "epochs", "pad_to"), ORDER, ids=[" ".join(a) for a, *_ in ORDER])
def test_names_and_config_files_apply_left_to_right(
    argv: list[str], model: str, recipe: str, epochs: int, pad_to: int | None, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "run.yaml").write_text(yaml_text(printed_config(["--model", "lenet_mnist"], capsys)))
    config = printed_config(argv, capsys)
    assert config["model"]["init_args"]["net"] == model and config["recipe"] == recipe
    assert config["trainer"]["max_epochs"] == epochs and config["data"]["init_args"]["pad_to"] == pad_to
    assert config["trainer"]["default_root_dir"] == f"runs/{model}"
    assert config["model"]["init_args"]["lr"] == run_config(model, recipe)["model"]["init_args"]["lr"]


def yaml_text(config: dict) -> str:
    import yaml

    return yaml.safe_dump(config)


def test_a_data_setting_of_ones_own_stays_when_a_later_model_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = printed_config(["--model", "lenet_mnist", "--data.batch_size", "7", "--model", "cnn_mnist"], capsys)
    assert config["model"]["init_args"]["net"] == "cnn_mnist"
    assert config["data"]["init_args"]["batch_size"] == 7 and config["data"]["init_args"]["pad_to"] == 32


def test_fit_help_documents_model_names_and_recipes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["fit", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--recipe RECIPE the model's recipe" in text and "accurate, default, pretrained, tutorial" in text
    assert "a registered model (char_rnn_shakespeare, cnn_cifar10," in text


PLUGIN = '''
from torch import nn
from zoo import register_model
from zoo.tasks import ClassificationTask


@register_model("logreg_mnist", task=ClassificationTask, input_shape=(1, 28, 28), output_shape=(10,),
                num_params=7850, datamodule="mnist")
class LogReg(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(784, 10)

    def forward(self, x):
        return self.fc(x.flatten(1))
'''


def test_a_user_plugin_model_is_listed_and_trained_by_name(run_zoo, tmp_path: Path) -> None:
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "mymodels.py").write_text(PLUGIN)
    env = {"ZOO_PLUGINS": "mymodels",
           "PYTHONPATH": f"{Path(__file__).resolve().parents[1]}{os.pathsep}{plugins}"}
    listed = run_zoo("list", "logreg*", extra_env=env)
    assert "logreg_mnist  7,850" in listed.stdout, listed.stderr
    fit = run_zoo("fit", "--model", "logreg_mnist", *FAST, extra_env=env)
    assert fit.returncode == 0, fit.stderr
    assert "test of the final weights: test/acc" in fit.stdout
    misspelt = one_line_error(run_zoo("fit", "--model", "logreg_mnsit", extra_env=env))
    assert misspelt.endswith("unknown model 'logreg_mnsit'; did you mean 'logreg_mnist'?")  # the index lacks it
    line = one_line_error(run_zoo("list", extra_env={"ZOO_PLUGINS": "no_such_module"}))
    assert "cannot import plugin module 'no_such_module'" in line
