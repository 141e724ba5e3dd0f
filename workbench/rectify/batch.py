"""Rectify many photos: a saved matrix applied to a folder, or corners found per photo. No Qt.

The job behind ``workbench rectify --matrix H.json IN... --out-dir DIR``, ``workbench rectify
--auto IN... --out-dir DIR`` and the panel's "Apply to folder…". Each input is read safely,
rectified and written as ``<stem>.png`` into the output folder. A file that fails is reported and
skipped, never stopping the job or losing what was already written: every output is written
atomically (``write_image`` writes a temporary file and renames it), so an output that exists is
complete. The job runs on the shared batch layer (:mod:`workbench.batch`): inline, on
``workers`` local processes or on Dask (``scheduler``), and ``resume=True`` skips what the
layer's manifest says an earlier run wrote. ``progress`` and ``cancelled`` are called in the
calling process only.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from workbench.imaging.io import SUPPORTED_READ_EXTENSIONS, read_image, write_image
from workbench.rectify.homography import RectifyInputError

__all__ = [
    "BatchReport",
    "NoRectangleFound",
    "apply_matrix_files",
    "auto_files",
    "auto_rectify",
    "expand_inputs",
    "load_matrix",
    "output_paths",
    "rectify_files",
    "MatrixJob",
    "AutoJob",
]


class NoRectangleFound(RectifyInputError):
    """No rectangle confident enough was found in a photo."""


@dataclass
class BatchReport:
    """What a folder job did; every path list is in input order."""

    written: list[Path] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)  # already done (resume)
    failed: list[tuple[Path, str]] = field(default_factory=list)
    not_found: list[Path] = field(default_factory=list)  # --auto: no rectangle, do these by hand
    cancelled: bool = False
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed and not self.not_found and not self.cancelled


def load_matrix(path: str | Path) -> tuple[np.ndarray, tuple[int, int]]:
    """``(H, (w, h))`` from the JSON that Save matrix… writes or ``rectify --json`` prints."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RectifyInputError(f"No such matrix file: '{path}'.") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RectifyInputError(f"'{path}' is not a matrix JSON file ({exc}).") from None
    if not isinstance(doc, dict) or "H" not in doc or "size" not in doc:
        raise RectifyInputError(f"'{path}' holds no \"H\" and \"size\": expected the JSON that "
                                "Save matrix… writes or that rectify --json prints.")
    try:
        H = np.asarray(doc["H"], dtype=np.float64)
        w, h = (int(v) for v in doc["size"])
    except (TypeError, ValueError):
        raise RectifyInputError(f"'{path}': \"H\" must be 3×3 numbers and \"size\" [w, h].") \
            from None
    if H.shape != (3, 3) or not np.all(np.isfinite(H)) or abs(np.linalg.det(H)) < 1e-12:
        raise RectifyInputError(f"'{path}': \"H\" must be an invertible 3×3 matrix.")
    if w < 1 or h < 1:
        raise RectifyInputError(f"'{path}': \"size\" must be positive, got {doc['size']}.")
    from workbench.rectify.session import validate_output_size

    validate_output_size(w, h)
    return H, (w, h)


def expand_inputs(inputs: Iterable[str | Path]) -> list[Path]:
    """Files as given; a folder stands for the image files directly inside it (sorted)."""
    out: list[Path] = []
    for item in inputs:
        p = Path(item)
        if p.is_dir():
            out += sorted(f for f in p.iterdir()
                          if f.is_file() and f.suffix.lower() in SUPPORTED_READ_EXTENSIONS)
        else:
            out.append(p)
    return out


def output_paths(inputs: Sequence[Path], out_dir: Path) -> list[Path]:
    """``<stem>.png`` per input; inputs sharing a stem get ``<stem>_2.png``, … (as colorize:
    the shared :func:`workbench.batch.tasks_for`)."""
    from workbench.batch import tasks_for

    return [Path(t.output) for t in tasks_for(inputs, out_dir)]


# --- one file per task (the jobs pickle: they travel to worker processes) --------------------


@dataclass(frozen=True)
class MatrixJob:
    """Warp every photo with one saved matrix and output size."""

    H: tuple[tuple[float, ...], ...]
    size: tuple[int, int]
    interp: str = "bilinear"
    name: str = "rectify-matrix"

    def setup(self):
        return None

    def run(self, _state, task) -> None:
        from workbench.rectify.warp import warp_perspective

        image = read_image(task.source)
        write_image(task.output, warp_perspective(image, np.asarray(self.H), self.size,
                                                  interpolation=self.interp))


def auto_rectify(image: np.ndarray, *, min_confidence: float | None = None,
                 interp: str = "bilinear") -> tuple[np.ndarray, dict]:
    """Find the best rectangle in ``image`` and rectify it: ``(result, document)`` where the
    document is ``{"H", "size", "size_method", "corners", "confidence", "candidates"}``.

    Raises :class:`NoRectangleFound` when no candidate is confident enough.
    """
    from workbench.rectify.corners import MIN_CONFIDENCE, find_quadrilaterals
    from workbench.rectify.homography import rectified_size, rectify_homography
    from workbench.rectify.session import validate_output_size
    from workbench.rectify.warp import warp_perspective

    found = find_quadrilaterals(image, 5, min_confidence=(
        MIN_CONFIDENCE if min_confidence is None else min_confidence))
    if not found:
        raise NoRectangleFound("No rectangle found with enough confidence; give the corners "
                               "with --points.")
    best = found[0]
    h_img, w_img = image.shape[:2]
    est = rectified_size(best.corners, image_size=(w_img, h_img))
    size = (est.width, est.height)
    validate_output_size(*size)
    H = rectify_homography(best.corners, size)
    result = warp_perspective(image, H, size, interpolation=interp)
    doc = {"H": H.tolist(), "size": list(size), "size_method": est.method,
           **best.as_dict(), "candidates": [q.as_dict() for q in found]}
    return result, doc


@dataclass(frozen=True)
class AutoJob:
    """Find the corners in every photo and rectify it; none found: left to the user."""

    min_confidence: float | None = None
    interp: str = "bilinear"
    name: str = "rectify-auto"

    def setup(self):
        return None

    def run(self, _state, task) -> None:
        from workbench.batch import NotDone

        try:
            result, _doc = auto_rectify(read_image(task.source),
                                        min_confidence=self.min_confidence, interp=self.interp)
        except NoRectangleFound as exc:
            raise NotDone(str(exc), "not_found") from None
        write_image(task.output, result)


# --- the job --------------------------------------------------------------------------------------

def rectify_files(
    job,
    inputs: Iterable[str | Path],
    out_dir: str | Path,
    *,
    resume: bool = False,
    workers: int | None = 0,
    scheduler: str | None = None,
    progress: Callable[[int, int, Path], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> BatchReport:
    """Run ``job`` (:class:`MatrixJob` or :class:`AutoJob`) for every input (see the module
    docstring); the report's lists are in input order."""
    from workbench.batch import make_out_dir, run_batch, tasks_for

    start = time.perf_counter()
    inputs = expand_inputs(inputs)
    out_dir = make_out_dir(out_dir)
    tasks = tasks_for(inputs, out_dir)
    step = None
    if progress is not None:
        def step(done, total, task):
            progress(done, total, Path(task.source))
    workers = 0 if workers in (None, 1) else workers
    done = run_batch(job, tasks, workers=workers, scheduler=scheduler, resume=resume,
                     progress=step, cancelled=cancelled)
    order = {t.output: i for i, t in enumerate(tasks)}
    by_source = {t.source: i for i, t in enumerate(tasks)}
    report = BatchReport(
        written=sorted(done.written, key=lambda p: order[str(p)]),
        skipped=sorted(done.skipped, key=lambda p: order[str(p)]),
        failed=sorted(done.failed, key=lambda f: by_source[str(f[0])]),
        not_found=sorted(done.not_done.get("not_found", []), key=lambda p: by_source[str(p)]),
        cancelled=done.cancelled)
    report.seconds = time.perf_counter() - start
    return report


def apply_matrix_files(H: np.ndarray, size: tuple[int, int], inputs: Iterable[str | Path],
                       out_dir: str | Path, *, interp: str = "bilinear", **kwargs) -> BatchReport:
    """Apply one saved matrix and output size to every input (keyword arguments as
    :func:`rectify_files`)."""
    H = tuple(tuple(float(v) for v in row) for row in np.asarray(H, np.float64))
    return rectify_files(MatrixJob(H, tuple(int(v) for v in size), interp), inputs, out_dir,
                         **kwargs)


def auto_files(inputs: Iterable[str | Path], out_dir: str | Path, *,
               min_confidence: float | None = None, interp: str = "bilinear",
               **kwargs) -> BatchReport:
    """Find the corners in every input and rectify it; photos with none confident enough are
    listed in ``report.not_found`` (keyword arguments as :func:`rectify_files`)."""
    return rectify_files(AutoJob(min_confidence, interp), inputs, out_dir, **kwargs)
