"""Every user mistake on the command line is one `zoo: error:` line, exit code 2, no traceback.

Run in this process (Lightning is imported once) from an empty folder, offline.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from zoo.cli import main

BAD_COMMAND_LINES = [
    (["fti"], "did you mean 'fit'?"),
    (["fit"], "which model? pass --model NAME"),
    (["fit", "--model"], "expected one argument"),
    (["fit", "--model", "inceptoin_mnist"], "did you mean 'inception_mnist'?"),
    (["fit", "--model", "cnn_mnist", "--data", "mnsit"], "did you mean 'mnist'?"),
    (["fit", "--model", "cnn_mnist", "--recipe", "fastest"], "choose one of: accurate, default, pretrained, tutorial"),
    (["fit", "--recipe", "tutorial"], "which model? pass --model NAME"),
    (["fit", "--model", "cnn_mnist", "--data.batch_size", "-5"], "batch sizes must be at least 1"),
    (["fit", "--model", "cnn_mnist", "--data.eval_batch_size", "0"], "batch sizes must be at least 1"),
    (["fit", "--model", "cnn_mnist", "--model.lr", "-1"], "lr must be positive"),
    (["fit", "--model", "cnn_mnist", "--model.momentum", "-0.5"], "must be 0 or more"),
    (["fit", "--model", "cnn_mnist", "--model.optimizer", "adamm"], "unknown optimizer 'adamm'"),
    (["fit", "--model", "cnn_mnist", "--model.scheduler", "cosin"], "unknown scheduler 'cosin'"),
    (["fit", "--model", "cnn_mnist", "--model.labels", "[a]"], "needs at least 2 labels"),
    (["fit", "--model", "rnn_hello", "--model.labels", "[a, b]"],
     "model 'rnn_hello' has 4 outputs fixed by its network, so it cannot be built with 2 labels; pass 4 labels"),
    (["fit", "--model", "gru_names", "--model.label_smoothing", "1"], "label_smoothing must be in [0, 1)"),
    (["fit", "--model", "gru_names", "--model.logit_adjust", "-1"], "logit_adjust and class_weight must be 0 or more"),
    (["fit", "--model", "gru_names", "--data.class_sampling", "-1"],
     "class_sampling must be 0 or more, got -1.0; pass e.g. 0.5, or 0 to shuffle"),
    (["fit", "--model", "cnn_mnist", "--model.net_args", "{width: 3}"], "does not take width"),
    (["fit", "--model", "cnn_mnist", "--data.val_split", "1.5"], "val_split must be in [0, 1)"),
    (["fit", "--model", "cnn_mnist", "--data.val_split", "0.9999"],
     "mnist holds 5000 samples, too few to leave any for training after val_split 0.9999; add data, or lower"),
    (["fit", "--model", "cnn_mnist", "--seed_everything", str(2**64)],
     "--seed_everything must be a whole number 0..4,294,967,295, got 18446744073709551616 (int)"),
    (["fit", "--model", "cnn_mnist", "--data.seed", str(2**64)], "the data seed (--data.seed) must be a whole number"),
    (["fit", "--model", "cnn_mnist", "--data.seed", "-1"], "the data seed (--data.seed) must be a whole number 0.."),
    (["fit", "--model", "cnn_mnist", "--data.source", "web"], "--data.source cannot be 'web'; choose one of: auto,"),
    (["fit", "--model", "cnn_mnist", "--trainer.maxx_epochs", "3"], "did you mean --trainer.max_epochs"),
    (["fit", "--model", "cnn_mnist", "--model.lrr", "0.1"], "did you mean --model.lr"),
    (["fit", "--model", "cnn_mnist", "--data.batch_sise", "8"], "did you mean --data.batch_size"),
    (["fit", "--model", "cnn_mnist", "--trainer.max_epochs", "abc"], "--trainer.max_epochs cannot be 'abc'"),
    (["fit", "--model", "cnn_mnist", "--trainer.precision", "17"], "choose one of: 64, 32, 16, transformer-engine"),
    (["fit", "--model", "cnn_mnist", "--trainer.precision", "17"], "bf16-mixed"),
    (["fit", "--model", "cnn_mnist", "--data.augment", "wobble"],
     "--data.augment cannot be 'wobble'; choose one of: true, false, shift, affine, elastic"),
    (["fit", "--model", "cnn_mnist", "--model", "lenet_mnsit"], "did you mean 'lenet_mnist' or"),
    (["fit", "--model", "cnn_mnist", "--model.lrr", "0.1", "--config", "missing.yaml"], "did you mean --model.lr"),
    (["fit", "--config", "missing.yaml"], "config file"),
    (["fit", "--config", "broken.yaml"], "not valid YAML"),
    (["fit", "--model", "mlp_mnist", "--data.pad_to", "32"], "expects inputs of shape 1x28x28"),
    (["fit", "--model", "lenet_mnist", "--data.pad_to", "1000000"], "pad_to must be a whole number 28..1,024"),
    (["fit", "--model", "cnn_cifar10", "--data", "image_folder", "--data.root", ".", "--data.image_size", "100000"],
     "image_size must be a whole number 1..1,024, got 100000 (int)"),
    (["fit", "--model", "cnn_cifar10", "--data", "image_folder"], "root"),
    (["test", "--model", "cnn_mnist", "--ckpt_path", "missing.ckpt"], "does not exist"),
    (["test", "--model", "cnn_mnist", "--ckpt_path", "."], "is a folder"),
    (["test", "--model", "cnn_mnist", "--ckpt_path", "dangling.ckpt"], "is a link to 'gone.ckpt', which was deleted"),
    (["test", "--model", "cnn_mnist"], "test needs trained weights"),
    (["test", "--model", "cnn_cifar10", "--pretrained", "true"], "zoo weights build cnn_cifar10"),
    (["test", "--model", "cnn_mnist", "--pretrained", "true", "--ckpt_path", "x.ckpt"], "pass one of them"),
    (["validate", "--model", "cnn_mnist", "--pretrained", "true", "--data.val_split", "0"],
     "no val split to validate on; give it one (e.g. --data.val_split 0.1)"),
    (["fit", "--model", "cnn_mnist", "--trainer.max_epochs", "-1", "--trainer.limit_train_batches", "1"],
     "schedule needs a run of known length"),
    (["predict", "--model", "char_rnn_shakespeare", "ROMEO:", "--temperature", "nan"], "temperature"),
    (["predict", "--model", "char_rnn_shakespeare", "ROMEO:", "--temperature", "inf"], "temperature"),
    (["predict", "--model", "cnn_mnist", "no_such_digit.png"], "no_such_digit.png"),
    (["predict", "--model", "diabetes_mlp", "-0.3,0.5,0.2,-0.3,0,0,-0.5,0"],
     "'-0.3,0.5,0.2,-0.3,0,0,-0.5,0' reads as an option; put inputs that start with '-' after '--'"),
    (["weights"], "arguments are required: build|list; see 'zoo weights --help'"),
    (["weights", "list", "extra"], "unrecognized arguments: extra"),
    (["weights", "build", "rnn_hello", "--out", "broken.yaml/weights"],
     "weights folder 'broken.yaml/weights' is not writable (Not a directory); pass --out with a writable folder"),
    (["weights", "build", "--epochs", "3"], "unrecognized arguments: --epochs; see 'zoo weights --help'"),
    (["show"], "arguments are required: name; see 'zoo show --help'"),
    (["plot", "runs", "--metric"], "expected one argument; see 'zoo plot --help'"),
    (["list", "--bogus"], "unrecognized arguments: --bogus; see 'zoo list --help'"),
]


@pytest.mark.parametrize(("argv", "words"), BAD_COMMAND_LINES, ids=[" ".join(a) for a, _ in BAD_COMMAND_LINES])
def test_a_bad_command_line_is_one_line_and_exit_2(
    argv: list[str], words: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ZOO_DATA_DIR", str(tmp_path / "data"))
    (tmp_path / "broken.yaml").write_text("model: [\n")
    (tmp_path / "dangling.ckpt").symlink_to("gone.ckpt")
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    err = capsys.readouterr().err
    assert exit_info.value.code == 2, err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("zoo: error:")]
    assert len(lines) == 1, err
    assert words in lines[0]
    assert len(lines[0]) < 400
    assert not list((tmp_path / "runs").glob("**/*.ckpt"))


PYTHON_MISTAKES = [
    ("build", (None,), {}, "a model name must be a string, got None; pass one listed by 'zoo list'"),
    ("build", (123,), {}, "a model name must be a string, got 123 (int)"),
    ("build", ("mlp_mnist",), {"lr": "fast"}, "model 'mlp_mnist' argument lr must be float, got 'fast' (str)"),
    ("build", ("cnn_cifar10",), {"labels": "ab"}, "argument labels must be Sequence[str] or None, got 'ab' (str)"),
    ("build", ("mlp_mnist",), {"net_args": 3}, "argument net_args must be dict[str, Any] or None, got 3 (int)"),
    ("build", ("mlp_mnist",), {"compile": "yes"}, "argument compile must be bool, got 'yes' (str)"),
    ("build_net", (None,), {}, "a model name must be a string, got None"),
    ("build_net", ("cnn_mnist",), {"num_classes": "2"}, "network of 'cnn_mnist' argument num_classes must be int"),
    ("model_card", ([],), {}, "a model name must be a string, got [] (list)"),
    ("default_datamodule", (None,), {}, "a model name must be a string, got None"),
    ("default_datamodule", ("mlp_mnist",), {"batch_size": "64"}, "argument batch_size must be int, got '64' (str)"),
    ("default_datamodule", ("mlp_mnist",), {"val_split": "0.1"}, "argument val_split must be float, got '0.1'"),
    ("default_datamodule", ("mlp_mnist",), {"seed": 2.5}, "datamodule 'mnist' argument seed must be int, got 2.5"),
    ("default_datamodule", ("mlp_mnist",), {"seed": 2**40}, "the data seed (--data.seed) must be a whole number"),
    ("default_datamodule", ("mlp_mnist",), {"data_dir": 7}, "argument data_dir must be str or None, got 7 (int)"),
    ("default_datamodule", ("mlp_mnist",), {"source": 3}, "argument source must be Literal['auto', 'full',"),
    ("build_datamodule", ("diabetes",), {"test_split": None, "md5": 5}, "argument md5 must be str or None, got 5"),
    ("build_datamodule", (None,), {}, "a datamodule name must be a string, got None; pass one listed by 'zoo list --"),
    ("list_models", (3,), {}, "a model name pattern must be a string, got 3 (int); pass e.g. '*mnist*'"),
    ("list_datamodules", (None,), {}, "a datamodule name pattern must be a string, got None"),
    ("load_checkpoint", (None,), {}, "a checkpoint path must be a file path (str or pathlib.Path), got None"),
]


@pytest.mark.parametrize(("function", "args", "kwargs", "words"), PYTHON_MISTAKES,
                         ids=[f"{f}{a}{k or ''}" for f, a, k, _ in PYTHON_MISTAKES])
def test_a_wrong_value_from_python_is_a_zoo_error_with_the_fix(
    function: str, args: tuple[object, ...], kwargs: dict[str, object], words: str
) -> None:
    import zoo

    with pytest.raises(zoo.ZooError) as err:
        getattr(zoo, function)(*args, **kwargs)
    assert words in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize(("args", "kwargs", "words"), [
    ((None,), {}, "a model name must be a string, got None"),
    (("mlp_mnist",), {"seed": 2**64}, "seed must be a whole number 0..4,294,967,295"),
    (("mlp_mnist",), {"model_kwargs": "lr=0.1"}, "model_kwargs must be a dict of argument names to values"),
])
def test_training_fit_refuses_wrong_values_before_training(
    args: tuple[object, ...], kwargs: dict[str, object], words: str
) -> None:
    from zoo.errors import ZooError
    from zoo.training import fit

    with pytest.raises(ZooError, match=re.escape(words)):
        fit(*args, **kwargs)  # type: ignore[arg-type]
