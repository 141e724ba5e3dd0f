"""Speed of warp_perspective against cv2.warpPerspective and skimage.transform.warp.

Run with::

    .venv/bin/python -m pytest -m bench -s tests/benchmarks/test_bench_warp.py

Prints one table: median wall time over 15 interleaved runs (one run for scikit-image at 12 MP,
which is slow) and the ratio to OpenCV measured in the same process. Bilinear, RGB uint8, a
realistic keystone correction (a photographed document's four corners sent to the output's
corners).
Nothing here asserts a time; the results are only checked to agree, so a fast wrong answer
cannot hide in the table.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import cv2
import numpy as np
import pytest
from skimage.transform import ProjectiveTransform, warp

from workbench.rectify.homography import rectify_homography
from workbench.rectify.warp import warp_perspective

pytestmark = pytest.mark.bench

SIZES = {"1080p": (1920, 1080), "12 MP": (4000, 3000)}
REPEATS = 15


def median_ms(fns: dict[str, Callable[[], object]], repeats: int = REPEATS) -> dict[str, float]:
    """Median wall time of each function in ms, runs interleaved so they share the same load.

    The machine this runs on may be shared; interleaving keeps a burst of someone else's work
    from landing on one contestant only.
    """
    for fn in fns.values():
        fn()  # warm-up: page faults, thread pools, lazy imports
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: 1000.0 * float(np.median(t)) for name, t in times.items()}


def photo(width: int, height: int) -> np.ndarray:
    """A textured RGB image: smooth colour fields plus fine noise (realistic cache behaviour)."""
    rng = np.random.default_rng(0)
    base = cv2.resize(rng.random((12, 16, 3)).astype(np.float32), (width, height),
                      interpolation=cv2.INTER_CUBIC)
    noise = rng.normal(0.0, 0.05, (height, width, 3)).astype(np.float32)
    return np.clip((base + noise) * 255.0, 0, 255).astype(np.uint8)


def keystone(width: int, height: int) -> np.ndarray:
    """Homography straightening a document shot from below and to the left."""
    corners = np.array([[0.09, 0.12], [0.93, 0.05], [0.97, 0.94], [0.02, 0.85]])
    return rectify_homography(corners * [width - 1, height - 1], (width, height))


def test_warp_speed_table():
    rows = []
    for label, (width, height) in SIZES.items():
        img = photo(width, height)
        H = keystone(width, height)
        size = (width, height)

        def ours(img=img, H=H, size=size):
            return warp_perspective(img, H, size, interpolation="bilinear")

        def opencv(img=img, H=H, size=size):
            return cv2.warpPerspective(img, H, size, flags=cv2.INTER_LINEAR,
                                       borderMode=cv2.BORDER_CONSTANT, borderValue=0)

        tform = ProjectiveTransform(matrix=H)

        def skimage(img=img, tform=tform, size=size):
            return warp(img, tform.inverse, output_shape=size[::-1], order=1, mode="constant",
                        cval=0.0, preserve_range=True)

        a, b = ours(), opencv()
        assert np.percentile(np.abs(a.astype(int) - b), 99.9) <= 1

        threads = cv2.getNumThreads()
        t = median_ms({"cv2": opencv, "ours": ours})
        rows.append((label, f"ours ({threads} threads)", t["ours"], t["cv2"]))
        rows.append((label, f"cv2.warpPerspective ({threads} threads)", t["cv2"], t["cv2"]))
        sk_repeats = 3 if width * height < 4_000_000 else 1
        t_sk = median_ms({"skimage": skimage}, repeats=sk_repeats)["skimage"]
        rows.append((label, f"skimage.transform.warp (x{sk_repeats})", t_sk, t["cv2"]))
        if width * height > 4_000_000:
            cv2.setNumThreads(1)  # the same comparison per core
            try:
                t1 = median_ms({"cv2": opencv, "ours": ours})
            finally:
                cv2.setNumThreads(threads)
            rows.append((label, "ours (1 thread)", t1["ours"], t1["cv2"]))
            rows.append((label, "cv2.warpPerspective (1 thread)", t1["cv2"], t1["cv2"]))

    print("\n\nwarp_perspective, RGB uint8, bilinear, keystone correction; median wall time")
    print(f"{'image':<7} {'implementation':<38} {'ms':>9} {'x cv2':>7}")
    for label, name, ms, ref in rows:
        print(f"{label:<7} {name:<38} {ms:9.1f} {ms / ref:7.2f}")
