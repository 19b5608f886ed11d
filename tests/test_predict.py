"""zoo predict on real inputs: digit pictures prepared as MNIST was made, surnames, prompts,
hello words and numbers; the table, the CSV, and one-line refusals."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import torch
from conftest import IMAGE_MODES, quiet_trainer, save_in_mode
from PIL import Image, ImageDraw

from zoo import ZooError, build
from zoo.answers import TEXT_RULE, format_table
from zoo.checkpoints import load_model
from zoo.cli import main
from zoo.datamodules import mnist
from zoo.inputs import mnist_digits
from zoo.inputs.image_files import read_image_bytes
from zoo.inputs.preparation import mnist_digits as prepared_digits

BACKGROUND = -mnist.MEAN / mnist.STD  # a black MNIST pixel after normalisation
CHECKPOINT_MODELS = ("cnn_mnist", "lenet_mnist", "cnn_cifar10", "gru_names", "char_rnn_shakespeare",
                     "rnn_hello", "gru_hello", "diabetes_mlp", "logistic_regression", "linear_regression")


def prepare_image(path: Path, shape: tuple[int, int, int]) -> torch.Tensor:
    """One digit picture as a model of `shape` reads it, through the card's inputs."""
    return mnist_digits(shape[-1]).tensors([path])[0][0]


def draw_seven(path: Path, size: int = 200, ink: object = "black", paper: object = "white",
               box: tuple[float, float, float, float] = (0.3, 0.2, 0.7, 0.8), mode: str = "RGB",
               digit: str = "7") -> Path:
    """A 7 (or a 0) drawn with thick strokes inside `box` (fractions of the image)."""
    image = Image.new(mode, (size, size), paper)  # type: ignore[arg-type]
    draw = ImageDraw.Draw(image)
    left, top, right, bottom = (v * size for v in box)
    width = max(2, size // 20)
    if digit == "0":
        draw.ellipse([left, top, right, bottom], outline=ink, width=width)  # type: ignore[arg-type]
    else:
        draw.line([(left, top), (right, top)], fill=ink, width=width)  # type: ignore[arg-type]
        draw.line([(right, top), (left + (right - left) * 0.3, bottom)], fill=ink, width=width)  # type: ignore[arg-type]
    image.save(path)
    return path


def centre_of_mass(image: torch.Tensor) -> tuple[float, float]:
    ink = image - image.min()
    rows, cols = torch.meshgrid(torch.arange(ink.shape[0]), torch.arange(ink.shape[1]), indexing="ij")
    return float((ink * rows).sum() / ink.sum()), float((ink * cols).sum() / ink.sum())


@pytest.mark.parametrize(
    "style",
    [
        {"ink": "black", "paper": "white"},
        {"ink": "white", "paper": "black"},
        {"ink": (250, 220, 0), "paper": (20, 40, 160)},  # yellow on blue
        {"ink": (200, 0, 0), "paper": (235, 235, 220)},  # red on cream
        {"ink": "black", "paper": "white", "size": 1000},
        {"ink": "black", "paper": "white", "size": 60, "box": (0.05, 0.05, 0.35, 0.4)},  # off-centre
        {"ink": "black", "paper": "white", "box": (0.55, 0.5, 0.95, 0.95)},  # bottom right
    ],
)
def test_a_drawn_digit_becomes_a_centred_mnist_digit(tmp_path: Path, style: dict) -> None:
    path = draw_seven(tmp_path / "digit.png", digit="0", **style)
    x = prepare_image(path, (1, 28, 28))
    assert x.shape == (1, 28, 28) and x.dtype == torch.float32
    image = x[0]
    assert torch.allclose(torch.cat([image[:4].flatten(), image[-4:].flatten(), image[:, :4].flatten(),
                                     image[:, -4:].flatten()]),
                          torch.tensor(BACKGROUND), atol=1e-6)  # the background is MNIST's black
    assert image.max() > 2.0  # the strokes are white: (1 - 0.1307) / 0.3081 = 2.82
    row, col = centre_of_mass(image)
    assert abs(row - 13.5) <= 1 and abs(col - 13.5) <= 1
    inked = (image > BACKGROUND + 0.5).nonzero()
    height, width = (inked.max(0).values - inked.min(0).values + 1).tolist()
    assert 18 <= max(height, width) <= 20  # the bounding box fits 20 x 20, aspect kept


def test_a_top_heavy_seven_is_placed_by_its_centre_of_mass(tmp_path: Path) -> None:
    image = prepare_image(draw_seven(tmp_path / "seven.png", ink="navy", paper="white"), (1, 28, 28))[0]
    row, col = centre_of_mass(image)
    assert abs(row - 13.5) <= 1.5 and abs(col - 13.5) <= 1
    assert torch.all(image[:4] == image[0, 0]) and float(image[0, 0]) == pytest.approx(BACKGROUND)


def test_lenet_digits_are_padded_to_32(tmp_path: Path) -> None:
    path = draw_seven(tmp_path / "seven.jpg")
    x = prepare_image(path, (1, 32, 32))
    assert x.shape == (1, 32, 32)
    assert torch.equal(x[0, 2:30, 2:30], prepare_image(path, (1, 28, 28))[0])
    assert torch.all(x[0, :2] == x[0, 0, 0]) and float(x[0, 0, 0]) == pytest.approx(BACKGROUND)


def test_a_transparent_png_and_a_grey_file_are_read(tmp_path: Path) -> None:
    draw_seven(tmp_path / "alpha.png", ink=(0, 0, 0, 255), paper=(0, 0, 0, 0), mode="RGBA")
    draw_seven(tmp_path / "grey.png", ink=0, paper=255, mode="L")
    for name in ("alpha.png", "grey.png"):
        digit = prepared_digits(read_image_bytes(tmp_path / name, 1).float() / 255)[0]
        assert digit[0].abs().max() == 0 and digit.max() > 0.9


def test_a_thin_digit_keeps_its_shape_down_its_one_column(tmp_path: Path) -> None:
    """A stroke thin enough to become one column of the 20x20 box keeps the gap drawn across it
    (anti-aliased resizing in torch.nn.functional.interpolate gives an output one pixel wide a
    single value down the whole column: the gap was lost)."""
    page = Image.new("L", (200, 200), 255)
    draw = ImageDraw.Draw(page)
    draw.line([(100, 20), (100, 90)], fill=0, width=6)
    draw.line([(100, 120), (100, 180)], fill=0, width=6)
    page.save(tmp_path / "broken_one.png")
    digit = prepared_digits(read_image_bytes(tmp_path / "broken_one.png", 1).float() / 255)[0]
    column = digit.amax(dim=1)
    inked = column.nonzero().flatten()
    middle = column[int(inked[0]) : int(inked[-1]) + 1]
    assert len(inked) >= 19 and middle.max() > 0.9 and middle.min() < 0.1


@pytest.mark.parametrize("mode", IMAGE_MODES)
def test_an_image_in_any_mode_reads_as_its_8_bit_grey_twin(tmp_path: Path, mode: str) -> None:
    grey = draw_seven(tmp_path / "grey.png", ink=0, paper=255, mode="L")
    twin = save_in_mode(Image.open(grey), mode, tmp_path / "twin")
    torch.testing.assert_close(prepare_image(twin, (1, 28, 28)), prepare_image(grey, (1, 28, 28)), atol=0.02, rtol=0)


def test_a_blank_or_damaged_image_is_one_line_naming_the_file(tmp_path: Path) -> None:
    Image.new("RGB", (50, 50), "white").save(tmp_path / "blank.png")
    with pytest.raises(ZooError, match=r"image '.*blank\.png' shows no digit"):
        prepare_image(tmp_path / "blank.png", (1, 28, 28))
    (tmp_path / "bad.png").write_bytes(b"not a png")
    with pytest.raises(ZooError, match=r"cannot read image '.*bad\.png'"):
        prepare_image(tmp_path / "bad.png", (1, 28, 28))


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Untrained checkpoints (as zoo writes them) of one model of each input kind."""
    folder = tmp_path_factory.mktemp("ckpts")
    paths = {}
    for name in CHECKPOINT_MODELS:
        torch.manual_seed(0)
        trainer = quiet_trainer(folder)
        trainer.strategy.connect(build(name))
        trainer.save_checkpoint(folder / f"{name}.ckpt")
        paths[name] = folder / f"{name}.ckpt"
    return paths


def test_image_predictions_print_a_table_and_write_the_csv(
    checkpoints: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    digits = tmp_path / "digits"
    digits.mkdir()
    draw_seven(digits / "a.png")
    draw_seven(digits / "b.jpg", ink="white", paper="black")
    csv = tmp_path / "out" / "predictions.csv"
    csv.parent.mkdir()
    main(["predict", "--model", "cnn_mnist", "--ckpt_path", str(checkpoints["cnn_mnist"]), str(digits),
          "--top", "2", "--output", str(csv)])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["input", "prediction", "probability", "top-k"]
    assert [line.split()[0][-12:] for line in lines[1:3]] == ["digits/a.png", "digits/b.jpg"]
    assert lines[-1] == f"zoo: predictions saved to {csv}"
    table = pd.read_csv(csv)
    assert list(table.columns[:3]) == ["input", "prediction", "probability"]
    assert len(table) == 2 and table["prediction"].astype(str).isin([str(i) for i in range(10)]).all()
    assert (table["probability"] == table["probability_1"]).all() and "label_2" in table


@pytest.mark.parametrize("name", ["lenet_mnist", "cnn_cifar10"])
def test_other_image_models_take_files(name: str, checkpoints: dict[str, Path], tmp_path: Path) -> None:
    model = load_model(name, str(checkpoints[name]))
    (row,) = model.answer([str(draw_seven(tmp_path / "seven.png"))], k=3)
    assert row.prediction in model.labels and len(row.top) == 3
    assert row.probability == row.top[0][1]


def test_names_prompts_words_and_numbers(checkpoints: dict[str, Path]) -> None:
    names = load_model(None, str(checkpoints["gru_names"])).answer(["Nguyen", "Müller"], k=2)
    assert [r.input for r in names] == ["Nguyen", "Müller"] and all(len(r.top) == 2 for r in names)
    text = load_model(None, str(checkpoints["char_rnn_shakespeare"]))
    (row,) = text.answer(["ROMEO:"], length=12, seed=1)
    assert len(row.prediction) == 12 and text.answer(["ROMEO:"], length=12, seed=1) == [row]
    for hello in ("rnn_hello", "gru_hello"):
        (row,) = load_model(hello, str(checkpoints[hello])).answer(["hello"])
        assert len(row.prediction) == 5 and set(row.prediction) <= set("ehlo")
    binary = load_model(None, str(checkpoints["logistic_regression"])).answer(["-2", "0.5"])
    assert all(r.probability == r.top[0][1] >= 0.5 and r.prediction == r.top[0][0] for r in binary)
    (value,) = load_model(None, str(checkpoints["linear_regression"])).answer(["4"])
    assert float(value.prediction) == pytest.approx(
        float(load_model(None, str(checkpoints["linear_regression"]))(torch.tensor([[4.0]]))), rel=1e-5)
    (diabetes,) = load_model(None, str(checkpoints["diabetes_mlp"])).answer(["-0.3,0.5,0.2,-0.3,0,0,-0.5,0"])
    assert 0 <= diabetes.probability <= 1  # type: ignore[operator]
    assert "probability" in format_table(binary).splitlines()[0]


def test_a_binary_answer_carries_its_own_probability_and_p1_under_label_1(tmp_path: Path) -> None:
    model = build("logistic_regression")
    with torch.no_grad():
        model.net.linear.weight.fill_(1.0)
        model.net.linear.bias.fill_(0.0)
    low, high = model.answer(["-2", "2"])
    p1 = torch.sigmoid(torch.tensor(2.0)).item()
    assert (low.prediction, high.prediction) == ("0", "1")
    assert low.probability == pytest.approx(p1) and high.probability == pytest.approx(p1)
    assert dict(low.top)["1"] == pytest.approx(1 - p1) and dict(high.top)["1"] == pytest.approx(p1)
    assert [label for label, _ in low.top] == ["0", "1"]
    (one,) = model.answer(["-2"], k=1)
    assert one.top == [("0", pytest.approx(p1))]


def test_written_text_prints_as_text_with_its_line_breaks(
    checkpoints: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    ckpt = str(checkpoints["char_rnn_shakespeare"])
    rows = load_model(None, ckpt).answer(["ROMEO:", "JULIET:"], length=40, seed=2)
    main(["predict", "--ckpt_path", ckpt, "ROMEO:", "JULIET:", "--length", "40", "--seed", "2"])
    printed = capsys.readouterr().out
    assert printed == f"ROMEO:{rows[0].prediction}{TEXT_RULE}JULIET:{rows[1].prediction}\n"
    assert "\\n" not in printed and "probability" not in printed


def test_predict_help_opens_with_zoos_own_description(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["predict", "--help"])
    opening = " ".join(capsys.readouterr().out.split("positional arguments:")[0].split())
    assert stop.value.code == 0 and "Answer your own inputs (image files or folders" in opening
    assert opening.endswith("save predictions.pt in the run folder.") and "Run inference" not in opening


def test_predict_command_takes_negative_numbers_and_names(
    checkpoints: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    main(["predict", "--ckpt_path", str(checkpoints["logistic_regression"]), "-2.5", "3"])
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == ["input", "-2.5", "3"]
    main(["predict", "--model", "gru_names", "--ckpt_path", str(checkpoints["gru_names"]), "Nguyen"])
    assert capsys.readouterr().out.splitlines()[1].startswith("Nguyen")


def test_inputs_stand_beside_any_lightning_option(
    checkpoints: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seven = draw_seven(tmp_path / "seven.png")
    main(["predict", "--trainer.accelerator", "cpu", "--ckpt_path", str(checkpoints["cnn_mnist"]), str(seven),
          "--seed_everything", "1", "--top", "2"])
    header, row = capsys.readouterr().out.splitlines()
    assert header.split() == ["input", "prediction", "probability", "top-k"]
    assert row.split()[0].endswith("seven.png") and row.count("%") == 2
    main(["predict", "--ckpt_path", str(checkpoints["diabetes_mlp"]), "--", "-0.3,0.5,0.2,-0.3,0,0,-0.5,0"])
    assert capsys.readouterr().out.splitlines()[1].startswith("-0.3,0.5,0.2,-0.3,0,0,-0.5,0")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--model", "cnn_mnist", "{dir}/missing.png"], r"image '.*missing\.png' does not exist"),
        (["--model", "cnn_mnist", "{dir}/bad.png"], r"cannot read image '.*bad\.png'"),
        (["--model", "cnn_mnist", "{dir}/bomb.png"],
         r"cannot read image '.*bomb\.png' \(over zoo's limit of 89,478,485 pixels against "
         r"decompression bombs\); pass a smaller image"),
        (["--model", "char_rnn_shakespeare", "to", "--temperature", "nan"],
         "--temperature cannot be 'nan'; expected float"),
        (["--model", "char_rnn_shakespeare", "to", "--temperature", "0"], "temperature must be a number 0.01 or more"),
        (["--model", "char_rnn_shakespeare", "to", "--temperature", "1e-40"],
         r"temperature must be a number 0.01 or more, got 1e-40 \(float\); pass e.g. 0.8"),
        (["--model", "char_rnn_shakespeare", "to", "--length", "100000000"],
         r"length \(characters to write\) must be a whole number 0..10,000, got 100000000"),
        (["--model", "char_rnn_shakespeare", "to", "--length", "-1"], "must be a whole number 0..10,000"),
        (["--model", "char_rnn_shakespeare", "to", "--seed", str(2**70)],
         r"the sampling seed \(--seed\) must be a whole number 0..4,294,967,295"),
        (["--model", "char_rnn_shakespeare", "to", "--seed", "-1"], "must be a whole number 0..4,294,967,295"),
        (["--model", "gru_names", "Nguyen", "--top", "0"], r"--top \(labels to show\) must be a whole number 1 or"),
        (["--model", "gru_names", "Nguyen😀"],
         "surname 'Nguyen😀' has '😀', which the name model never saw; it reads letters A-Z"),
        (["--model", "gru_names", "田中"], "has '田', which the name model never saw"),
        (["--model", "gru_names", "12345"], "has '1', which the name model never saw"),
        (["--model", "gru_names", "O-Neil"], "has '-', which the name model never saw"),
        (["--model", "linear_regression", "1e39"],
         r"input '1e39': 1e39 is outside -3.40282e\+38..3.40282e\+38 \(the float32 range models compute in\)"),
        (["--model", "linear_regression", "inf"], r"input 'inf': 'inf' is not a finite number"),
        (["--model", "diabetes_mlp", "1000,0,0,0,0,0,0,0"],
         r"input '1000,0,0,0,0,0,0,0': 1000 is outside -1..1 \(the features are scaled to \[-1, 1\]\); "
         r"pass numbers within -1..1"),
        (["--model", "diabetes_mlp", "0,0,0,0,0,0,0,1e30"], r"1e30 is outside -1..1"),
        (["--model", "rnn_hello", ""], "the text is empty; give at least one of the characters 'ehlo'"),
        (["--model", "diabetes_mlp", "1,2"], "has 2 numbers but the model takes 8"),
        (["--model", "logistic_regression", "abc"], "'abc' is not a number"),
        (["--model", "gru_names", "Nguyen", "--top", "x"], "--top cannot be 'x'; expected int"),
        (["--model", "lenet_mnist", "{dir}/a.png", "--ckpt_from", "cnn_mnist"],
         "unknown option --ckpt_from; did you mean --ckpt_path?"),
        (["--model", "lenet_mnist", "{dir}/a.png"], "was written by model 'cnn_mnist', not 'lenet_mnist'"),
        (["--model", "rnn_hello", "hex"], "characters outside the vocabulary"),
        (["--model", "cnn_mnist", "{dir}/a.png", "--output", "{dir}/a.png/p.csv"],
         r"folder '.*a\.png' is a file, not a folder; pass --output with a path in an existing folder"),
        (["--model", "cnn_mnist", "{dir}/a.png", "--output", "{dir}"], r"--output '.*' is a folder; pass a file path"),
    ],
)
def test_bad_inputs_are_one_line_and_exit_2(
    args: list[str], message: str, checkpoints: dict[str, Path], tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "bad.png").write_bytes(b"\x89PNG broken")
    Image.new("1", (10_000, 10_000)).save(tmp_path / "bomb.png")  # 12 kB of header and zeros
    draw_seven(tmp_path / "a.png")
    args = [a.format(dir=tmp_path) for a in args]
    model = "cnn_mnist" if "lenet_mnist" in args else args[1]
    with pytest.raises(SystemExit) as exit_info:
        main(["predict", *args, "--ckpt_path", str(checkpoints[model])])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and err.startswith("zoo: error: ") and err.count("\n") == 1
    assert __import__("re").search(message, err), err


NON_FINITE_INPUTS = [("cnn_mnist", "{dir}/a.png"), ("gru_names", "Nguyen"), ("char_rnn_shakespeare", "ROMEO:"),
                     ("rnn_hello", "hello"), ("linear_regression", "4"), ("logistic_regression", "2"),
                     ("diabetes_mlp", "0,0,0,0,0,0,0,0")]


@pytest.mark.parametrize(("name", "given"), NON_FINITE_INPUTS)
def test_a_model_with_nan_weights_answers_nothing(name: str, given: str, tmp_path: Path) -> None:
    model = build(name)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.fill_(float("nan"))
    draw_seven(tmp_path / "a.png")
    with pytest.raises(ZooError, match=rf"^model {name} (answered nan for|gave non-finite scores after) .*: "):
        model.answer([given.format(dir=tmp_path)])


def test_a_regression_output_that_overflows_is_refused() -> None:
    model = build("linear_regression")
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.fill_(1e38)
    assert model.answer(["1"])[0].prediction == "2e+38"
    with pytest.raises(ZooError, match=r"^model linear_regression answered inf for '3e38': the input is far outside"):
        model.answer(["3e38"])

