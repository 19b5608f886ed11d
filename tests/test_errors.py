"""Every user mistake on the command line is one `zoo: error:` line, exit code 2, no traceback.

Run in this process (Lightning is imported once) from an empty folder, offline.
"""

from __future__ import annotations

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
    (["fit", "--recipe", "tutorial"], "--recipe needs a registered model"),
    (["fit", "--model", "cnn_mnist", "--data.batch_size", "-5"], "batch sizes must be at least 1"),
    (["fit", "--model", "cnn_mnist", "--data.eval_batch_size", "0"], "batch sizes must be at least 1"),
    (["fit", "--model", "cnn_mnist", "--model.lr", "-1"], "lr must be positive"),
    (["fit", "--model", "cnn_mnist", "--model.momentum", "-0.5"], "must be 0 or more"),
    (["fit", "--model", "cnn_mnist", "--model.optimizer", "adamm"], "unknown optimizer 'adamm'"),
    (["fit", "--model", "cnn_mnist", "--model.scheduler", "cosin"], "unknown scheduler 'cosin'"),
    (["fit", "--model", "cnn_mnist", "--model.labels", "[a]"], "needs at least 2 labels"),
    (["fit", "--model", "gru_names", "--model.label_smoothing", "1"], "label_smoothing must be in [0, 1)"),
    (["fit", "--model", "gru_names", "--model.logit_adjust", "-1"], "logit_adjust and class_weight must be 0 or more"),
    (["fit", "--model", "cnn_mnist", "--model.net_args", "{width: 3}"], "does not take width"),
    (["fit", "--model", "cnn_mnist", "--data.val_split", "1.5"], "val_split must be in [0, 1)"),
    (["fit", "--model", "cnn_mnist", "--data.source", "web"], "--data.source cannot be 'web'; choose one of: auto,"),
    (["fit", "--model", "cnn_mnist", "--trainer.maxx_epochs", "3"], "did you mean --trainer.max_epochs"),
    (["fit", "--model", "cnn_mnist", "--model.lrr", "0.1"], "did you mean --model.lr"),
    (["fit", "--model", "cnn_mnist", "--data.batch_sise", "8"], "did you mean --data.batch_size"),
    (["fit", "--model", "cnn_mnist", "--trainer.max_epochs", "abc"], "--trainer.max_epochs cannot be 'abc'"),
    (["fit", "--config", "missing.yaml"], "config file"),
    (["fit", "--config", "broken.yaml"], "not valid YAML"),
    (["fit", "--model", "mlp_mnist", "--data.pad_to", "32"], "expects inputs of shape 1x28x28"),
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
