"""``workbench colorize``: colorize photos or folders with an ONNX model, headless."""

from __future__ import annotations

import json
import sys

from workbench.cliutil import UsageError, progress_bar


def add_parser(sub) -> None:
    p = sub.add_parser("colorize", help="colorize images with an ONNX model",
                       description="Colorize gray (or colour, reduced to gray) images. The output "
                       "has the input's size; with --out-dir each result is <input stem>.png.")
    p.add_argument("inputs", nargs="+", metavar="IN")
    out = p.add_mutually_exclusive_group(required=True)
    out.add_argument("-o", "--output", metavar="OUT", help="output file (one input)")
    out.add_argument("--out-dir", metavar="DIR", help="output folder (any number of inputs)")
    p.add_argument("--model", metavar="ONNX", help="an ONNX colorizer (default: the shipped one)")
    p.add_argument("--temperature", type=float, default=None, metavar="T",
                   help="annealed-mean temperature for bin models (default: the model's)")
    p.add_argument("--saturation", type=float, default=1.0, metavar="S")
    p.add_argument("--provider", choices=("auto", "cpu", "cuda", "tensorrt"), default="auto")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.set_defaults(func=cmd_colorize)




def cmd_colorize(args) -> int:
    from pathlib import Path

    from workbench.colorize.batch import colorize_files
    from workbench.colorize.engine import Colorizer
    from workbench.imaging.io import read_image, write_image

    if args.output and len(args.inputs) != 1:
        raise UsageError("-o/--output takes exactly one input; use --out-dir for several")
    if args.temperature is not None and not (0 <= args.temperature <= 10):
        raise UsageError(f"--temperature must be between 0 and 10, got {args.temperature}")
    colorizer = Colorizer(args.model, provider=args.provider)
    if colorizer.fell_back:
        print(f"workbench: note: {colorizer.provider_note}", file=sys.stderr)
    if args.output:
        image = read_image(args.inputs[0])
        write_image(args.output, colorizer.colorize(image, args.temperature, args.saturation))
        results = [{"input": args.inputs[0], "output": args.output}]
        failed = []
    else:
        report = colorize_files(
            colorizer, args.inputs, args.out_dir, temperature=args.temperature,
            saturation=args.saturation,
            progress=lambda i, n, p: progress_bar(i, n, Path(p).name))
        progress_bar(len(args.inputs), len(args.inputs), "done")
        if len(args.inputs) > 1:
            sys.stderr.write("\n")
        results = [{"input": str(i), "output": str(o)} for i, o in zip(
            [p for p in args.inputs if str(p) not in {str(f) for f, _ in report.failed}],
            report.written, strict=True)]
        failed = report.failed
    for _path, reason in failed:  # the reason names the file
        print(f"workbench: error: {reason}", file=sys.stderr)
    if args.json:
        print(json.dumps({"provider": colorizer.provider, "model": str(colorizer.model_path),
                          "results": results,
                          "failed": [{"input": str(p), "error": r} for p, r in failed]}))
    return 2 if failed else 0
