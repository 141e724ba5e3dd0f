"""How well and how fast ``find_quadrilaterals`` finds the rectangle, per source of photos.

Run with::

    .venv/bin/python -m pytest -m bench -s tests/benchmarks/test_bench_corners.py

Sources: the real phone photos of ``../shared/data/documents`` (sudoku grids whose labelled
rectangle is the printed grid, SmartDoc 2015 A4 pages), synthetic page photos the tests render
(``tests/corner_pages.py``; reported apart from the real ones), and photos with no document
(``../shared/data/natural/val``) for false proposals. A photo counts as *found* when all four
corners of a candidate, in order (top-left, top-right, bottom-right, bottom-left), lie within 2 %
of the image diagonal of the truth; top-1 uses the best candidate only, top-3 the first three.
The corner error is the median over found photos of their four corners' median distance to the
truth, as a fraction of the diagonal. A *false proposal* is a photo without a document for which
anything is proposed at the default confidence. Time per photo is the median wall time of
``find_quadrilaterals`` on the decoded array; the 12 MP row times SmartDoc frames upscaled to
12 MP (same aspect ratio). Nothing here asserts a figure: the table is the result.
"""

from __future__ import annotations

import csv
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import shared_data
from corner_pages import page_photo

from workbench.imaging.io import read_image
from workbench.rectify.corners import find_quadrilaterals

pytestmark = pytest.mark.bench

SYNTHETIC = 120  # synthetic photos (seeds 0..N-1)


def _score(found, truth: np.ndarray, diag: float) -> tuple[int | None, float | None]:
    """(rank of the first candidate within 2 % of the diagonal or None, its median error)."""
    for rank, q in enumerate(found):
        d = np.hypot(*(q.corners - truth).T) / diag
        if d.max() < 0.02:
            return rank, float(np.median(d))
    return None, None


def _row(name: str, results: list[tuple[int | None, float | None, float]]) -> dict:
    n = len(results)
    ranks = [r for r, _, _ in results]
    errors = [e for _, e, _ in results if e is not None]
    return {
        "source": name, "photos": n,
        "top-1": sum(r == 0 for r in ranks) / n,
        "top-3": sum(r is not None and r < 3 for r in ranks) / n,
        "corner error": float(np.median(errors)) if errors else float("nan"),
        "ms": 1000 * float(np.median([t for _, _, t in results])),
    }


def _measure(image: np.ndarray, truth: np.ndarray) -> tuple[int | None, float | None, float]:
    start = time.perf_counter()
    found = find_quadrilaterals(image, 5)
    seconds = time.perf_counter() - start
    return (*_score(found, truth, float(np.hypot(*image.shape[:2]))), seconds)


def _print(rows: list[dict]) -> None:
    print()
    print(f"{'source':<26}{'photos':>7}{'top-1':>8}{'top-3':>8}{'corner err':>12}"
          f"{'false prop.':>12}{'ms/photo':>10}")
    for r in rows:
        false = f"{r['false']:.1%}" if "false" in r else "-"
        top1 = f"{r['top-1']:.1%}" if "top-1" in r else "-"
        top3 = f"{r['top-3']:.1%}" if "top-3" in r else "-"
        err = f"{r['corner error']:.2%}" if "corner error" in r else "-"
        print(f"{r['source']:<26}{r['photos']:>7}{top1:>8}{top3:>8}{err:>12}{false:>12}"
              f"{r['ms']:>10.0f}")


def test_bench_corners_on_real_synthetic_and_natural_photos():
    rows = []
    documents = shared_data("documents")
    by_source: dict[str, list] = {}
    smartdoc_images = []
    with open(documents / "corners.csv", newline="") as fh:
        for rec in csv.DictReader(fh):
            image = read_image(documents / rec["file"])
            truth = np.array([[float(rec[f"x{i}"]), float(rec[f"y{i}"])] for i in range(1, 5)])
            source = "real: smartdoc pages" if rec["file"].startswith("smartdoc") \
                else "real: sudoku grids"
            by_source.setdefault(source, []).append(_measure(image, truth))
            if source.endswith("pages"):
                smartdoc_images.append((image, truth))
    for name in sorted(by_source):
        rows.append(_row(name, by_source[name]))
    rows.append(_row("real: all", [r for v in by_source.values() for r in v]))

    big = []
    for image, truth in smartdoc_images[:6]:
        h, w = image.shape[:2]
        k = np.sqrt(12e6 / (w * h))  # same aspect ratio, 12 MP
        size = (round(w * k), round(h * k))
        up = cv2.resize(image, size, interpolation=cv2.INTER_CUBIC)
        big.append(_measure(up, (truth + 0.5) * np.divide(size, (w, h)) - 0.5))
    rows.append(_row("real: smartdoc at 12 MP", big))

    synthetic = [page_photo(seed) for seed in range(SYNTHETIC)]
    whole = [_measure(p.image, p.corners) for p in synthetic if not p.cut_off]
    cut = [_measure(p.image, p.corners) for p in synthetic if p.cut_off]
    rows.append(_row("synthetic: whole page", whole))
    if cut:
        rows.append(_row("synthetic: corner cut off", cut))

    natural = sorted(Path(shared_data("natural", "val")).glob("*.jpg"))
    proposed, times = 0, []
    for path in natural:
        image = read_image(path)
        start = time.perf_counter()
        found = find_quadrilaterals(image, 5)
        times.append(time.perf_counter() - start)
        proposed += bool(found)
    rows.append({"source": "natural (no document)", "photos": len(natural),
                 "false": proposed / len(natural), "ms": 1000 * float(np.median(times))})
    _print(rows)
    assert all(r["photos"] > 0 for r in rows)
