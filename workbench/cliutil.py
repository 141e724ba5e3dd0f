"""What every tool's command line shares: one-line usage errors (exit 2), point and size
arguments, a terminal progress bar. Sits below the tools' ``cli.py`` modules and
:mod:`workbench.cli`, which only wires them together; it imports no tool."""

from __future__ import annotations

import argparse
import math
import re
import sys

from workbench.errors import InputError


class UsageError(InputError):
    """Bad command-line usage (exit status 2)."""


class Parser(argparse.ArgumentParser):
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


def progress_bar(i: int, n: int, name: str) -> None:
    if n < 2:
        return
    width = 30
    done = int(width * i / n)
    sys.stderr.write(f"\r[{'#' * done}{'.' * (width - done)}] {i}/{n} {name[:40]:<40}")
    sys.stderr.flush()
