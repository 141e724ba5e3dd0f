"""Two colorizers on the same photos (A/B): ``workbench colorize --compare`` and the panel. No Qt.

For a demo of a new model next to the old one: both run on the same input; each result is kept,
and a side-by-side picture carries each model's name (and where it ran) above its half, so the
picture explains itself when it is shown on its own.

>>> a = np.zeros((20, 30, 3), np.uint8); b = np.full((20, 30, 3), 255, np.uint8)
>>> side_by_side(a, b, "old", "new").shape[1]    # the two halves and a 4-px gap
64
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from workbench.batch import expand_inputs, make_out_dir, tasks_for
from workbench.errors import InputError
from workbench.imaging.io import SUPPORTED_READ_EXTENSIONS, read_image, write_image

GAP = 4  # px of dark gap between the two halves


def model_label(colorizer, sep: str = " · ") -> str:
    """``"<file name> · <provider>"``, how a result is labelled (e.g. ``colorizer.onnx · CPU``).
    The labels drawn into pictures use ``sep=" | "`` (OpenCV's fonts are ASCII only)."""
    return f"{Path(colorizer.model_path).name}{sep}{colorizer.provider.upper()}"


def _label_bar(text: str, width: int, height: int) -> np.ndarray:
    bar = np.full((height, width, 3), 32, np.uint8)
    scale = height / 40.0
    thickness = max(1, round(height / 20))
    (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
    while tw > width - 8 and len(text) > 4:  # too long for the half: cut with an ellipsis
        text = text[:-4] + "..."
        (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
    cv2.putText(bar, text, (6, (height + th) // 2), cv2.FONT_HERSHEY_SIMPLEX, scale,
                (255, 255, 255), thickness, cv2.LINE_AA)
    return bar


def side_by_side(a: np.ndarray, b: np.ndarray, label_a: str, label_b: str) -> np.ndarray:
    """A left, B right (RGB ``uint8``, same size), each under a bar with its label."""
    if a.shape != b.shape:
        raise InputError(f"A and B differ in size: {a.shape} and {b.shape}")
    height, width = a.shape[:2]
    bar = int(np.clip(height // 16, 18, 48))
    gap = np.full((height + bar, GAP, 3), 16, np.uint8)
    halves = [np.vstack([_label_bar(label, width, bar), image[..., :3]])
              for image, label in ((a, label_a), (b, label_b))]
    return np.hstack([halves[0], gap, halves[1]])


@dataclass
class CompareReport:
    """What :func:`compare_files` wrote: one dict per input (``input``, ``a``, ``b``,
    ``side_by_side`` paths) and ``(input, reason)`` for each input that failed."""

    written: list[dict] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)


#: The endings :func:`compare_outputs` adds to an input's stem.
COMPARE_VARIANTS = ("_A", "_B", "_A_vs_B")


def compare_outputs(stem_png: Path) -> tuple[Path, Path, Path]:
    """Where A's, B's and the side-by-side result of one input go: ``<stem>_A.png``,
    ``<stem>_B.png`` and ``<stem>_A_vs_B.png`` beside ``<stem>.png``.

    >>> [p.name for p in compare_outputs(Path("out/cat.png"))]
    ['cat_A.png', 'cat_B.png', 'cat_A_vs_B.png']
    """
    stem = stem_png.with_suffix("")
    a, b, ab = (stem.with_name(stem.name + v + ".png") for v in COMPARE_VARIANTS)
    return a, b, ab


def compare_files(
    colorizer_a,
    colorizer_b,
    inputs: Iterable[str | Path],
    out_dir: str | Path,
    *,
    temperature: float | None = None,
    saturation: float = 1.0,
    progress: Callable[[int, int, Path], None] | None = None,
) -> CompareReport:
    """Colorize each input with A and with B and write both plus a labelled side-by-side PNG.

    ``temperature`` None decodes each model at its own default. A file that cannot be read is
    reported and skipped; the others are still written.
    """
    files = expand_inputs(inputs, SUPPORTED_READ_EXTENSIONS)
    out_dir = make_out_dir(out_dir)
    label_a = "A: " + model_label(colorizer_a, " | ")
    label_b = "B: " + model_label(colorizer_b, " | ")
    report = CompareReport()
    tasks = tasks_for(files, out_dir, variants=COMPARE_VARIANTS)
    for i, task in enumerate(tasks):
        try:
            image = read_image(task.source)
            a = colorizer_a.colorize(image, temperature, saturation)
            b = colorizer_b.colorize(image, temperature, saturation)
            path_a, path_b, path_ab = compare_outputs(Path(task.output))
            write_image(path_a, a)
            write_image(path_b, b)
            write_image(path_ab, side_by_side(a, b, label_a, label_b))
            report.written.append({"input": task.source, "a": str(path_a), "b": str(path_b),
                                   "side_by_side": str(path_ab)})
        except InputError as exc:
            report.failed.append((task.source, str(exc)))
        except Exception as exc:  # e.g. ONNX Runtime failing on one file: the rest go on
            report.failed.append((task.source, f"{Path(task.source).name}: {exc}"))
        if progress is not None:
            progress(i + 1, len(tasks), Path(task.source))
    return report
