"""The command line: ``workbench`` (the GUI) and headless subcommands.

Exit status: 0 success, 2 bad usage or bad input (one line on stderr), 1 internal error.
See DESIGN.md for the contract; keep it stable.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import time
import traceback
from collections.abc import Callable, Sequence

from workbench import __version__
from workbench.errors import WorkbenchError

STARTED = time.perf_counter()  # for the start-up time (--timing)
PANELS = ("rectify", "colorize", "faces", "pyramid")


class UsageError(WorkbenchError):
    """Bad command-line usage (exit status 2)."""


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors are one line and exit with status 2 via UsageError.

    Arguments like ``-20,10`` (a point left of the image) are values, not options.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._negative_number_matcher = re.compile(r"^-\d*\.?\d+(,-?\d*\.?\d+)?$")

    def error(self, message: str):  # noqa: D401
        raise UsageError(f"{self.prog}: {message} (see --help)")


def parse_point(text: str) -> tuple[float, float]:
    try:
        x, y = (float(v) for v in text.strip().split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a point as x,y but got {text!r}") from None
    if not (math.isfinite(x) and math.isfinite(y)):
        raise argparse.ArgumentTypeError(f"point {text!r} is not finite")
    return x, y


def parse_size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().replace("×", "x").split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a size as WxH but got {text!r}") from None
    if w < 1 or h < 1:
        raise argparse.ArgumentTypeError(f"size must be positive, got {text!r}")
    return w, h


# ------------------------------------------------------------------ rectify
def add_rectify(sub) -> None:
    p = sub.add_parser("rectify", help="rectify a planar rectangle given its four corners",
                       description="Map four points (top-left, top-right, bottom-right, "
                       "bottom-left, in source pixels) to an upright rectangle.")
    p.add_argument("input", metavar="IN")
    p.add_argument("output", metavar="OUT")
    p.add_argument("--points", nargs=4, type=parse_point, required=True, metavar="x,y")
    target = p.add_mutually_exclusive_group()
    target.add_argument("--to", nargs=4, type=parse_point, metavar="u,v",
                        help="where the four points go in the output (output size: their extent)")
    target.add_argument("--size", type=parse_size, metavar="WxH",
                        help="map the points to the corner pixel centres of a WxH output")
    p.add_argument("--interp", choices=("nearest", "bilinear", "bicubic"), default="bilinear")
    p.add_argument("--json", action="store_true", help='print {"H": ..., "size": [w, h]}')
    p.set_defaults(func=cmd_rectify)


def cmd_rectify(args) -> int:
    import numpy as np

    from workbench.imaging.homography import (
        estimate_homography,
        quadrilateral_warnings,
        rectified_size,
        rectify_homography,
        warp_perspective,
    )
    from workbench.imaging.io import read_image, write_image
    from workbench.rectify import validate_output_size

    image = read_image(args.input)
    h_img, w_img = image.shape[:2]
    warnings = [
        f"point {x:g},{y:g} lies outside the {w_img}×{h_img} image"
        for x, y in args.points
        if not (-0.5 <= x <= w_img - 0.5 and -0.5 <= y <= h_img - 0.5)
    ]
    warnings += quadrilateral_warnings(args.points)
    method = None
    if args.to:
        H = estimate_homography(args.points, args.to)
        to = np.asarray(args.to)
        size = (int(np.ceil(to[:, 0].max())) + 1, int(np.ceil(to[:, 1].max())) + 1)
        method = "given points"
    else:
        if args.size:
            size = args.size
            method = "given size"
        else:
            est = rectified_size(args.points, image_size=(w_img, h_img))
            size = (est.width, est.height)
            method = est.method
        validate_output_size(*size)
        H = rectify_homography(args.points, size)
    validate_output_size(*size)
    result = warp_perspective(image, H, size, interpolation=args.interp)
    write_image(args.output, result)
    for warning in warnings:  # only once it worked: a failure stays a one-line message
        print(f"workbench: warning: {warning}", file=sys.stderr)
    if args.json:
        print(json.dumps({"H": H.tolist(), "size": list(size), "size_method": method}))
    else:
        print(f"wrote {args.output} ({size[0]}×{size[1]}, size from {method})", file=sys.stderr)
    return 0


# ------------------------------------------------------------------ pyramid
def add_pyramid(sub) -> None:
    p = sub.add_parser("pyramid", help="write each level of a Gaussian/Laplacian pyramid",
                       description="One image file per level: Gaussian levels keep the input's "
                       "bit depth (PNG); Laplacian band-pass levels are float32 TIFF (signed).")
    p.add_argument("input", metavar="IN")
    p.add_argument("--levels", type=int, required=True, metavar="N")
    p.add_argument("--out-dir", required=True, metavar="DIR")
    p.add_argument("--kind", choices=("gaussian", "laplacian", "dog"), default="gaussian")
    p.add_argument("--sigma", type=float, default=None, metavar="S",
                   help="Gaussian sigma (default: the Burt & Adelson match, 1.0292)")
    p.add_argument("--kernel-size", type=int, default=5, metavar="K", help="odd, default 5")
    p.add_argument("--format", choices=("png", "tif"), default="png",
                   help="file type for Gaussian levels")
    p.add_argument("--json", action="store_true", help="print the files and level statistics")
    p.set_defaults(func=cmd_pyramid)


def cmd_pyramid(args) -> int:
    from pathlib import Path

    from workbench.imaging import pyramid as pyr
    from workbench.imaging.io import read_image
    from workbench.pyramid_explorer import PyramidParams, compute, export_levels

    if args.levels < 1:
        raise UsageError(f"--levels must be at least 1, got {args.levels}")
    sigma = pyr.DEFAULT_SIGMA if args.sigma is None else args.sigma
    image = read_image(args.input)
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    params = PyramidParams(args.kind, args.levels, sigma, args.kernel_size)
    result = compute(image, params)
    written = export_levels(result, out_dir, stem=Path(args.input).stem, fmt=args.format)
    if args.json:
        print(json.dumps({
            "files": [str(p) for p in written],
            "levels": [{"shape": list(st.shape), "min": st.min, "max": st.max, "mean": st.mean,
                        "energy": st.energy} for st in result.stats],
            "reconstruction_error": result.reconstruction_error,
        }))
    else:
        for path in written:
            print(path)
    return 0


# ----------------------------------------------------------------- colorize
def add_colorize(sub) -> None:
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


def _progress_bar(i: int, n: int, name: str) -> None:
    if n < 2:
        return
    width = 30
    done = int(width * i / n)
    sys.stderr.write(f"\r[{'#' * done}{'.' * (width - done)}] {i}/{n} {name[:40]:<40}")
    sys.stderr.flush()


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
            progress=lambda i, n, p: _progress_bar(i, n, Path(p).name))
        _progress_bar(len(args.inputs), len(args.inputs), "done")
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


# --------------------------------------------------------------------- info
def add_info(sub) -> None:
    p = sub.add_parser("info", help="versions, usable ONNX Runtime providers, GPU")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_info)


def cmd_info(args) -> int:
    from workbench.runtime import system_report

    report = system_report(probe_providers=True)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        width = max(len(k) for k in report)
        for k, v in report.items():
            print(f"{k:<{width}}  {v}")
    return 0


def add_train(sub) -> None:
    from workbench.colorize.training.cli import add_train_parser

    add_train_parser(sub)


def add_eval(sub) -> None:
    from workbench.colorize.training.cli import add_eval_parser

    add_eval_parser(sub)


def add_bench(sub) -> None:
    from workbench.colorize.bench import add_bench_parser

    add_bench_parser(sub)


def add_faces(sub) -> None:
    from workbench.faces.cli import add_faces_parser

    add_faces_parser(sub)


COMMANDS: dict[str, Callable] = {
    "rectify": add_rectify,
    "colorize": add_colorize,
    "faces": add_faces,
    "pyramid": add_pyramid,
    "train-colorizer": add_train,
    "eval-colorizer": add_eval,
    "info": add_info,
    "bench": add_bench,
}


def command_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The headless commands; ``only`` builds just that one (each imports what it needs)."""
    parser = _Parser(prog="workbench", description="Workbench headless commands.")
    parser.add_argument("--version", action="version", version=f"workbench {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name, add in COMMANDS.items():
        if only is None or name == only:
            add(sub)
    return parser


def gui_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="workbench",
        description="Workbench: a computer-vision workbench. Without a command, starts the GUI. "
        f"Commands: {', '.join(COMMANDS)} (workbench COMMAND --help).",
    )
    parser.add_argument("image", nargs="?", metavar="IMAGE",
                        help="image to open (a video file plays in Colorize)")
    parser.add_argument("--panel", choices=PANELS, help="panel to show first")
    parser.add_argument("--screenshot", metavar="PNG",
                        help="render the window after start-up to PNG and exit")
    parser.add_argument("--size", type=parse_size, metavar="WxH", help="window size")
    parser.add_argument("--timing", action="store_true", help="print the start-up time")
    parser.add_argument("--version", action="version", version=f"workbench {__version__}")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] in COMMANDS:
            args = command_parser(argv[0]).parse_args(argv)
            return args.func(args)
        args = gui_parser().parse_args(argv)
        if args.image and not os.path.exists(args.image):
            raise UsageError(f"no such file: {args.image}")
        from workbench.ui.app import run_gui

        return run_gui(args.image, args.panel, args.screenshot, args.size, args.timing)
    except WorkbenchError as exc:
        print(f"workbench: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug: say so, with the traceback for the report
        traceback.print_exc()
        print(f"workbench: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
