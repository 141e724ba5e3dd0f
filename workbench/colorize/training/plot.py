"""A small line-plot writer (OpenCV only) for learning curves; no plotting library needed."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

_COLOURS = [(31, 119, 180), (214, 39, 40), (44, 160, 44), (148, 103, 189), (255, 127, 14)]


def _panel(width: int, height: int, title: str, xlabel: str,
           series: Sequence[tuple[str, Sequence[float], Sequence[float]]]) -> np.ndarray:
    img = np.full((height, width, 3), 255, np.uint8)
    left, right, top, bottom = 62, 12, 30, 40
    pts = [(np.asarray(x, float), np.asarray(y, float)) for _, x, y in series]
    xs = np.concatenate([x for x, _ in pts]) if pts else np.zeros(1)
    ys = np.concatenate([y[np.isfinite(y)] for _, y in pts]) if pts else np.zeros(1)
    if ys.size == 0:
        ys = np.zeros(1)
    x0, x1 = float(xs.min(initial=0)), float(xs.max(initial=1))
    y0, y1 = float(ys.min()), float(ys.max())
    if x1 <= x0:
        x1 = x0 + 1
    if y1 <= y0:
        y1 = y0 + 1
    pad = 0.05 * (y1 - y0)
    y0, y1 = y0 - pad, y1 + pad

    def to_px(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        px = left + (x - x0) / (x1 - x0) * (width - left - right)
        py = top + (y1 - y) / (y1 - y0) * (height - top - bottom)
        return np.stack([px, py], -1).round().astype(np.int32)

    font = cv2.FONT_HERSHEY_SIMPLEX
    cv2.rectangle(img, (left, top), (width - right, height - bottom), (0, 0, 0), 1)
    for frac in np.linspace(0, 1, 5):
        yv = y0 + frac * (y1 - y0)
        py = int(round(top + (1 - frac) * (height - top - bottom)))
        cv2.line(img, (left, py), (width - right, py), (225, 225, 225), 1)
        cv2.putText(img, f"{yv:.3g}", (4, py + 4), font, 0.38, (0, 0, 0), 1, cv2.LINE_AA)
        xv = x0 + frac * (x1 - x0)
        px = int(round(left + frac * (width - left - right)))
        cv2.putText(img, f"{xv:.3g}", (px - 14, height - bottom + 16), font, 0.38, (0, 0, 0), 1,
                    cv2.LINE_AA)
    cv2.putText(img, title, (left, 20), font, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    cv2.putText(img, xlabel, (width // 2 - 30, height - 6), font, 0.42, (0, 0, 0), 1,
                cv2.LINE_AA)
    for i, ((name, _, _), (x, y)) in enumerate(zip(series, pts, strict=False)):
        colour = _COLOURS[i % len(_COLOURS)]
        ok = np.isfinite(y)
        if ok.sum() >= 2:
            cv2.polylines(img, [to_px(x[ok], y[ok])], False, colour, 2, cv2.LINE_AA)
        elif ok.sum() == 1:
            cv2.circle(img, tuple(to_px(x[ok], y[ok])[0]), 3, colour, -1)
        cv2.putText(img, name, (width - right - 150, top + 16 + 16 * i), font, 0.42, colour, 1,
                    cv2.LINE_AA)
    return img


def save_learning_curves(path: Path | str, panels: Sequence[tuple[str, Sequence]],
                         xlabel: str = "training images seen (thousands)") -> None:
    """Write side-by-side line plots as a PNG.

    Parameters
    ----------
    path : Path
        Output PNG.
    panels : sequence of (title, series)
        Each series is ``(name, xs, ys)``; NaN values are skipped.
    """
    tiles = [_panel(460, 300, title, xlabel, series) for title, series in panels]
    img = np.concatenate(tiles, axis=1)
    cv2.imwrite(str(path), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
