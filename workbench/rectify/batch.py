"""Rectify many photos: a saved matrix applied to a folder, or corners found per photo. No Qt.

The job behind ``workbench rectify --matrix H.json IN... --out-dir DIR``, ``workbench rectify
--auto IN... --out-dir DIR`` and the panel's "Apply to folder…". Each input is read safely,
rectified and written as ``<stem>.png`` into the output folder. A file that fails is reported and
skipped, never stopping the job or losing what was already written: every output is written
atomically (``write_image`` writes a temporary file and renames it), so an output that exists is
complete, and ``resume=True`` skips inputs whose output already exists. With ``workers > 1`` the
files are spread over local processes; ``progress`` and ``cancelled`` are called in the calling
process only.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from workbench.errors import WorkbenchError
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
    """``<stem>.png`` per input; inputs sharing a stem get ``<stem>_2.png``, … (as colorize)."""
    seen: dict[str, int] = {}
    paths = []
    for p in inputs:
        n = seen.get(p.stem, 0) + 1
        seen[p.stem] = n
        paths.append(out_dir / (f"{p.stem}.png" if n == 1 else f"{p.stem}_{n}.png"))
    return paths


# --- one file (runs in a worker process; module-level so it pickles) --------------------------

def _matrix_job(src: Path, dst: Path, H: np.ndarray, size: tuple[int, int], interp: str
                ) -> tuple[str, str]:
    from workbench.rectify.warp import warp_perspective

    try:
        image = read_image(src)
        write_image(dst, warp_perspective(image, H, size, interpolation=interp))
    except WorkbenchError as exc:
        return "failed", str(exc)
    return "written", ""


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


def _auto_job(src: Path, dst: Path, min_confidence: float | None, interp: str
              ) -> tuple[str, str]:
    try:
        image = read_image(src)
        result, _doc = auto_rectify(image, min_confidence=min_confidence, interp=interp)
        write_image(dst, result)
    except NoRectangleFound as exc:
        return "not_found", str(exc)
    except WorkbenchError as exc:
        return "failed", str(exc)
    return "written", ""


# --- the job --------------------------------------------------------------------------------------

def rectify_files(
    job: Callable[..., tuple[str, str]],
    job_args: tuple,
    inputs: Iterable[str | Path],
    out_dir: str | Path,
    *,
    resume: bool = False,
    workers: int | None = 1,
    progress: Callable[[int, int, Path], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> BatchReport:
    """Run ``job(src, dst, *job_args)`` for every input (see the module docstring)."""
    start = time.perf_counter()
    inputs = expand_inputs(inputs)
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WorkbenchError(f"Cannot create output folder '{out_dir}': {exc.strerror}") from exc
    report = BatchReport()
    todo = []
    for src, dst in zip(inputs, output_paths(inputs, out_dir), strict=True):
        if resume and dst.is_file():
            report.skipped.append(src)
        else:
            todo.append((src, dst))
    n = len(todo)
    results: dict[int, tuple[str, str]] = {}
    workers = max(1, min(workers or os.cpu_count() or 1, n)) if n else 1

    def stop() -> bool:
        return cancelled is not None and cancelled()

    if workers == 1:
        for i, (src, dst) in enumerate(todo):
            if stop():
                report.cancelled = True
                break
            if progress is not None:
                progress(i, n, src)
            results[i] = job(src, dst, *job_args)
    else:
        from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

        with ProcessPoolExecutor(max_workers=workers) as pool:
            pending = {pool.submit(job, src, dst, *job_args): i
                       for i, (src, dst) in enumerate(todo)}
            done_count = 0
            while pending:
                if stop():
                    report.cancelled = True
                    for f in pending:
                        f.cancel()
                    break
                finished, _ = wait(pending, timeout=0.1, return_when=FIRST_COMPLETED)
                for f in finished:
                    i = pending.pop(f)
                    results[i] = f.result()
                    done_count += 1
                    if progress is not None:
                        progress(done_count, n, todo[i][0])
    for i, (src, dst) in enumerate(todo):
        if i not in results:
            continue
        status, message = results[i]
        if status == "written":
            report.written.append(dst)
        elif status == "not_found":
            report.not_found.append(src)
        else:
            report.failed.append((src, message))
    report.seconds = time.perf_counter() - start
    return report


def apply_matrix_files(H: np.ndarray, size: tuple[int, int], inputs: Iterable[str | Path],
                       out_dir: str | Path, *, interp: str = "bilinear", **kwargs) -> BatchReport:
    """Apply one saved matrix and output size to every input (keyword arguments as
    :func:`rectify_files`)."""
    H = np.asarray(H, np.float64)
    return rectify_files(_matrix_job, (H, tuple(size), interp), inputs, out_dir, **kwargs)


def auto_files(inputs: Iterable[str | Path], out_dir: str | Path, *,
               min_confidence: float | None = None, interp: str = "bilinear",
               **kwargs) -> BatchReport:
    """Find the corners in every input and rectify it; photos with none confident enough are
    listed in ``report.not_found`` (keyword arguments as :func:`rectify_files`)."""
    return rectify_files(_auto_job, (min_confidence, interp), inputs, out_dir, **kwargs)
