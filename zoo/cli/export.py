"""`zoo export --model NAME --format onnx|onnx_int8|pt2|torchscript --out FILE`: the model from decoded
raw input to answer, for use without zoo (onnxruntime, torch.export.load, or torch.jit.load)."""

from __future__ import annotations

from zoo.cli.listing import check_indexed
from zoo.cli.parse_errors import OneLineParser, add_overwrite_argument


def export_main(argv: list[str]) -> None:
    parser = OneLineParser(prog="zoo export",
                           description="Export a trained model, from raw input to answer, as ONNX, torch.export "
                                       "(.pt2) or TorchScript.")
    parser.add_argument("--model", help="a registered model name (see zoo list)")
    parser.add_argument("--ckpt_path", help="checkpoint to export (default: zoo's pretrained weights)")
    parser.add_argument("--format", required=True, choices=("onnx", "onnx_int8", "pt2", "torchscript"),
                        help="file format: onnx_int8 is onnx with int8 weights, smaller and a little less exact; "
                             "pt2 is torch.export's, for PyTorch (torch.export.load), where the network "
                             "exports with any batch size and input size; torchscript is deprecated in "
                             "PyTorch and kept while it works")
    parser.add_argument("--out", required=True,
                        help="file to write, e.g. model.onnx; FILE.json beside it says what it takes and gives")
    add_overwrite_argument(parser)
    args = parser.parse_args(argv)
    check_indexed("model", args.model)
    from zoo.checkpoints import load_model
    from zoo.export import export
    from zoo.files import output_path

    output_path(args.out, "--out", [args.ckpt_path], args.overwrite)  # before the model is loaded
    model = load_model(args.model, args.ckpt_path)
    path = export(model, args.format, args.out, args.overwrite)
    print(f"zoo: {model.display_name} exported as {args.format} to {path}")
