"""The command line: ``workbench`` (the GUI) and headless subcommands.

This module only wires the tools' parsers together (each tool's ``cli.py`` builds its own); the
helpers they share are in :mod:`workbench.cliutil`. Exit status: 0 success, 2 bad usage or bad
input (one line on stderr), 1 internal error. See DESIGN.md for the contract; keep it stable.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from collections.abc import Callable, Sequence

from workbench import __version__
from workbench.cliutil import Parser, UsageError, parse_size
from workbench.errors import WorkbenchError

STARTED = time.perf_counter()  # for the start-up time (--timing)
PANELS = ("rectify", "colorize", "faces", "pyramid")


def add_rectify(sub) -> None:
    from workbench.rectify.cli import add_parser

    add_parser(sub)


def add_pyramid(sub) -> None:
    from workbench.pyramid.cli import add_parser

    add_parser(sub)


def add_colorize(sub) -> None:
    from workbench.colorize.cli import add_parser

    add_parser(sub)


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
    parser = Parser(prog="workbench", description="Workbench headless commands.")
    parser.add_argument("--version", action="version", version=f"workbench {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for name, add in COMMANDS.items():
        if only is None or name == only:
            add(sub)
    return parser


def gui_parser() -> argparse.ArgumentParser:
    parser = Parser(
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

        return run_gui(args.image, args.panel, args.screenshot, args.size, args.timing,
                       started=STARTED)
    except WorkbenchError as exc:
        print(f"workbench: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug: say so, with the traceback for the report
        traceback.print_exc()
        print(f"workbench: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
