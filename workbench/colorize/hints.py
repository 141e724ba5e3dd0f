"""User colour hints for a hint-conditioned colorizer: parse, load, save, check, rasterize.

A hint says "this pixel has this colour": a position in pixel coordinates of the input image
(``x`` the column, ``y`` the row, counted from the top-left pixel, 0; fractions allowed,
``0 <= x < width``, ``0 <= y < height``) and an sRGB colour (0..255 per channel). The network
takes hints as two extra inputs at its own input size (Zhang, Zhu, Isola et al. 2017):
``hint_ab`` (N, 2, H, W), the hint's a*, b* in Lab units (0 where there is no hint), and
``hint_mask`` (N, 1, H, W), 1 where a hint is. Only the hint colour's chroma (a*, b*) is used;
the lightness always comes from the image.

:func:`rasterize` paints each hint as one cell of the network's output grid (4×4 input pixels of
the network for the quarter-resolution bin models trained here), the cell that holds the hint's
position; several hints in one cell are averaged. That is what the shipped hint model was trained
and measured with (hints of 1–3 cells).

Text form (the command line): ``X,Y,#RRGGBB``, e.g. ``120,45,#d03020``. File form (JSON, beside
the image in the panel): ``[{"x": 120, "y": 45, "rgb": [208, 48, 32]}, ...]``; other keys of an
entry are ignored.

References
----------
R. Zhang, J.-Y. Zhu, P. Isola, X. Geng, A. S. Lin, T. Yu and A. A. Efros, "Real-Time User-Guided
Image Colorization with Learned Deep Priors", ACM TOG 36(4) (SIGGRAPH), 2017.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from workbench.colorize.contract import ColorizeError

__all__ = [
    "HINT_CELL",
    "Hint",
    "HintError",
    "format_hint",
    "hint_ab",
    "load_hints",
    "parse_hint",
    "rasterize",
    "save_hints",
    "validate_hints",
]

#: A hint covers this many network input pixels square (one cell of a quarter-resolution output).
HINT_CELL = 4


class HintError(ColorizeError):
    """A colour hint that cannot be used: malformed, outside the image, a bad colour, or given to
    a model that takes no hints. The message is one line."""


@dataclass(frozen=True)
class Hint:
    """One user colour hint: pixel (``x``, ``y``) of the input image has sRGB colour ``rgb``."""

    x: float
    y: float
    rgb: tuple[int, int, int]

    def to_json(self) -> dict:
        def num(v: float) -> float | int:
            return int(v) if float(v).is_integer() else float(v)

        return {"x": num(self.x), "y": num(self.y), "rgb": [int(c) for c in self.rgb]}


_HINT_TEXT = re.compile(r"^\s*([^,]+),([^,]+),\s*#?([0-9a-fA-F]{6})\s*$")


def parse_hint(text: str) -> Hint:
    """A hint from ``"X,Y,#RRGGBB"`` (the ``#`` may be left out).

    Raises
    ------
    HintError
        When the text is not of that form. Whether the point lies in the image is checked by
        :func:`validate_hints`.
    """
    match = _HINT_TEXT.match(str(text))
    if match is None:
        raise HintError(f"bad hint {text!r}: expected X,Y,#RRGGBB (e.g. 120,45,#d03020)")
    try:
        x, y = float(match.group(1)), float(match.group(2))
    except ValueError:
        raise HintError(f"bad hint {text!r}: X and Y must be numbers (pixels)") from None
    if not (math.isfinite(x) and math.isfinite(y)):
        raise HintError(f"bad hint {text!r}: X and Y must be finite numbers")
    value = match.group(3)
    rgb = (int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16))
    return Hint(x, y, rgb)


def format_hint(hint: Hint) -> str:
    """The ``X,Y,#RRGGBB`` text of a hint (inverse of :func:`parse_hint`)."""
    r, g, b = hint.rgb
    return f"{hint.x:g},{hint.y:g},#{r:02x}{g:02x}{b:02x}"


def _hint_from_json(item: object, where: str) -> Hint:
    if not isinstance(item, dict):
        raise HintError(f"{where}: each hint must be an object "
                        '{"x": .., "y": .., "rgb": [r, g, b]}, found ' + type(item).__name__)
    missing = [k for k in ("x", "y", "rgb") if k not in item]
    if missing:
        raise HintError(f"{where}: a hint lacks {', '.join(missing)}")
    x, y, rgb = item["x"], item["y"], item["rgb"]
    for name, v in (("x", x), ("y", y)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise HintError(f"{where}: hint {name} must be a number of pixels, found {v!r}")
    if (not isinstance(rgb, (list, tuple)) or len(rgb) != 3
            or any(isinstance(c, bool) or not isinstance(c, int) for c in rgb)):
        raise HintError(f"{where}: hint rgb must be three integers 0..255, found {rgb!r}")
    return Hint(float(x), float(y), (int(rgb[0]), int(rgb[1]), int(rgb[2])))


def load_hints(path: str | os.PathLike[str]) -> list[Hint]:
    """Hints from a JSON file ``[{"x": .., "y": .., "rgb": [r, g, b]}, ...]`` (``[]``: none).

    Raises
    ------
    HintError
        The file is missing or unreadable, not JSON, not a list of hint objects, or an entry's
        x, y or rgb is not a number / three integers. (Colour range and position are checked by
        :func:`validate_hints`.)
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise HintError(f"hints file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise HintError(f"cannot read hints file {path}: {exc}") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise HintError(f"hints file {path.name} is not valid JSON ({exc.msg} at line "
                        f"{exc.lineno}, column {exc.colno})") from None
    if not isinstance(doc, list):
        raise HintError(f"hints file {path.name} must hold a JSON list of hints, found "
                        f"{type(doc).__name__}")
    hints = [_hint_from_json(item, f"hints file {path.name}, entry {i + 1}")
             for i, item in enumerate(doc)]
    for i, hint in enumerate(hints):
        _check_colour(hint, f"hints file {path.name}, entry {i + 1}")
    return hints


def save_hints(path: str | os.PathLike[str], hints: Iterable[Hint]) -> None:
    """Write hints as JSON (the form :func:`load_hints` reads)."""
    Path(path).write_text(json.dumps([h.to_json() for h in hints], indent=1) + "\n",
                          encoding="utf-8")


def _check_colour(hint: Hint, where: str) -> None:
    rgb = hint.rgb
    if (not isinstance(rgb, (tuple, list)) or len(rgb) != 3
            or any(isinstance(c, bool) or not isinstance(c, (int, np.integer)) or not 0 <= c <= 255
                   for c in rgb)):
        raise HintError(f"{where}: bad colour {rgb!r}: rgb must be three integers 0..255")


def validate_hints(hints: Sequence[Hint], width: int, height: int) -> None:
    """Check that every hint lies in a ``width`` × ``height`` image and has a valid colour.

    Raises
    ------
    HintError
        One line naming the first bad hint (its number, position and what is wrong).
    """
    for i, hint in enumerate(hints):
        if not isinstance(hint, Hint):
            raise HintError(f"hint {i + 1} is not a Hint (found {type(hint).__name__})")
        where = f"hint {i + 1} at ({hint.x:g}, {hint.y:g})"
        try:
            x, y = float(hint.x), float(hint.y)
        except (TypeError, ValueError):
            raise HintError(f"hint {i + 1}: x and y must be numbers") from None
        if not (math.isfinite(x) and math.isfinite(y)):
            raise HintError(f"{where}: x and y must be finite numbers")
        if not (0 <= x < width and 0 <= y < height):
            raise HintError(f"{where} is outside the {width}x{height} image "
                            f"(x must be in 0..{width - 1}, y in 0..{height - 1})")
        _check_colour(hint, where)


def hint_ab(rgb: Sequence[int]) -> tuple[float, float]:
    """The a*, b* (Lab, D65) of an sRGB colour, as the network takes it."""
    from workbench.imaging.color import rgb_to_lab

    lab = rgb_to_lab(np.asarray(rgb, np.uint8).reshape(1, 1, 3))
    return float(lab[0, 0, 1]), float(lab[0, 0, 2])


def rasterize(hints: Sequence[Hint], image_size: tuple[int, int],
              model_size: tuple[int, int],
              cell: int = HINT_CELL) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """The network's hint inputs for ``hints`` on an image of ``image_size``.

    Parameters
    ----------
    hints : sequence of Hint
        In pixel coordinates of the image (checked with :func:`validate_hints`).
    image_size : (int, int)
        (height, width) of the input image.
    model_size : (int, int)
        (height, width) the network runs at.
    cell : int
        Each hint fills the ``cell`` × ``cell`` block of network pixels (aligned to multiples
        of ``cell``) that holds its position: one cell of a quarter-resolution output.

    Returns
    -------
    hint_ab : ndarray float32, shape (1, 2, H, W)
        a*, b* of the hints in Lab units (several hints in one cell: their mean); 0 elsewhere.
    hint_mask : ndarray float32, shape (1, 1, H, W)
        1 on the hint cells, 0 elsewhere.

    Raises
    ------
    HintError
        A hint outside the image or with a bad colour.
    """
    height, width = (int(v) for v in image_size)
    run_h, run_w = (int(v) for v in model_size)
    validate_hints(hints, width, height)
    ab = np.zeros((1, 2, run_h, run_w), np.float32)
    mask = np.zeros((1, 1, run_h, run_w), np.float32)
    if not hints:
        return ab, mask
    cells_y, cells_x = max(1, -(-run_h // cell)), max(1, -(-run_w // cell))
    total = np.zeros((2, cells_y, cells_x), np.float64)
    count = np.zeros((cells_y, cells_x), np.float64)
    for hint in hints:
        cx = min(cells_x - 1, int((hint.x + 0.5) * run_w / width) // cell)
        cy = min(cells_y - 1, int((hint.y + 0.5) * run_h / height) // cell)
        a, b = hint_ab(hint.rgb)
        total[:, cy, cx] += (a, b)
        count[cy, cx] += 1
    for cy, cx in zip(*np.nonzero(count), strict=True):
        ys, xs = slice(cy * cell, (cy + 1) * cell), slice(cx * cell, (cx + 1) * cell)
        ab[0, :, ys, xs] = (total[:, cy, cx] / count[cy, cx])[:, None, None]
        mask[0, 0, ys, xs] = 1.0
    return ab, mask
