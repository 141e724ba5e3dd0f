"""Gaussian pyramid build time: workbench vs cv2.pyrDown vs skimage.transform.pyramid_gaussian.

Run with::

    .venv/bin/python -m pytest -m bench -s tests/benchmarks/test_bench_pyramid.py

Six levels (level 0 plus five reductions) of an RGB uint8 photograph (scikit-image's astronaut,
resized) at 1080p and 24 MP, and of its gray version at 24 MP, with the default kernel and 7,
11, 15 and 21 taps on the compiled REDUCE, plus the default and 21 taps on the OpenCV route
that runs where the C module was not built (see ``workbench.pyramid.levels._Reducer``).
Candidates run interleaved, in a new order each round, so that load from other processes (and
OpenCV's thread pool still busy from the previous candidate) hits them alike; the table gives
the median and the minimum over the rounds and their ratios to the cv2.pyrDown loop. skimage
is timed once per size (it is ~100x slower).
Nothing here asserts a time: the figures are for the reader.
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Callable

import cv2
import numpy as np
import pytest
from skimage import data
from skimage.transform import pyramid_gaussian

import workbench.pyramid.levels as pyramid_module
from workbench.pyramid.levels import (
    BURT_ADELSON_TAPS,
    DEFAULT_SIGMA,
    gaussian_pyramid,
    laplacian_pyramid,
    reconstruct_from_laplacian,
)

pytestmark = pytest.mark.bench

LEVELS = 6
SIZES = {"1080p": ((1920, 1080), 21), "24 MP": ((6000, 4000), 9), "24 MP gray": ((6000, 4000), 9)}


def _photo(size: tuple[int, int], gray: bool = False) -> np.ndarray:
    photo = cv2.resize(data.astronaut(), size, interpolation=cv2.INTER_CUBIC)
    return cv2.cvtColor(photo, cv2.COLOR_RGB2GRAY) if gray else photo


@contextlib.contextmanager
def _opencv_route():
    compiled = pyramid_module._compiled
    pyramid_module._compiled = None
    try:
        yield
    finally:
        pyramid_module._compiled = compiled


def _on_opencv_route(run: Callable[[], list[np.ndarray]]) -> Callable[[], list[np.ndarray]]:
    def wrapped() -> list[np.ndarray]:
        with _opencv_route():
            return run()

    return wrapped


def _pyrdown_loop(image: np.ndarray) -> list[np.ndarray]:
    levels = [image]
    for _ in range(LEVELS - 1):
        levels.append(cv2.pyrDown(levels[-1]))
    return levels


def _skimage(image: np.ndarray) -> list[np.ndarray]:
    channels = -1 if image.ndim == 3 else None
    return list(pyramid_gaussian(image, max_layer=LEVELS - 1, channel_axis=channels))


def _candidates(image: np.ndarray) -> dict[str, Callable[[], list[np.ndarray]]]:
    return {
        "cv2.pyrDown loop": lambda: _pyrdown_loop(image),
        f"ours default (sigma {DEFAULT_SIGMA}, 5 taps)": lambda: gaussian_pyramid(image, LEVELS),
        "ours sigma 1.6, 7 taps": lambda: gaussian_pyramid(image, LEVELS, sigma=1.6, kernel_size=7),
        "ours sigma 2.5, 11 taps": lambda: gaussian_pyramid(
            image, LEVELS, sigma=2.5, kernel_size=11
        ),
        "ours sigma 3.5, 15 taps": lambda: gaussian_pyramid(
            image, LEVELS, sigma=3.5, kernel_size=15
        ),
        "ours sigma 5, 21 taps": lambda: gaussian_pyramid(image, LEVELS, sigma=5.0, kernel_size=21),
        "ours kernel=[1,4,6,4,1]/16 (-> pyrDown)": lambda: gaussian_pyramid(
            image, LEVELS, kernel=BURT_ADELSON_TAPS
        ),
        "OpenCV route default": _on_opencv_route(lambda: gaussian_pyramid(image, LEVELS)),
        "OpenCV route sigma 5, 21 taps": _on_opencv_route(
            lambda: gaussian_pyramid(image, LEVELS, sigma=5.0, kernel_size=21)
        ),
    }


def _seconds(run: Callable[[], object]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


@pytest.mark.parametrize("label", list(SIZES))
def test_bench_gaussian_pyramid(label: str) -> None:
    size, rounds = SIZES[label]
    image = _photo(size, gray="gray" in label)
    candidates = _candidates(image)
    for run in candidates.values():  # warm-up: imports, first-touch allocations, thread pool
        run()
    times: dict[str, list[float]] = {name: [] for name in candidates}
    # A fresh order each round: a call right after the cv2.pyrDown loop runs ~20-30 % slower
    # at 1080p (OpenCV's worker threads are still spinning), so a fixed order biases one row.
    order = list(candidates)
    shuffle = random.Random(0).shuffle
    for _ in range(rounds):
        shuffle(order)
        for name in order:
            times[name].append(_seconds(candidates[name]))
    times["skimage pyramid_gaussian (1 run)"] = [_seconds(lambda: _skimage(image))]

    reference = candidates["cv2.pyrDown loop"]()
    ours = candidates[next(iter(list(candidates)[1:]))]()
    assert [a.shape for a in ours] == [b.shape for b in reference]

    base_median = float(np.median(times["cv2.pyrDown loop"]))
    base_min = min(times["cv2.pyrDown loop"])
    print(
        f"\n{label} uint8 {image.shape}, {LEVELS} Gaussian levels, {rounds} rounds, "
        f"cv2 threads {cv2.getNumThreads()}, REDUCE {pyramid_module.reduce_backend()}"
    )
    print(f"{'method':44s} {'median ms':>10s} {'min ms':>9s} {'x cv2 med':>10s} {'x cv2 min':>10s}")
    for name, samples in times.items():
        median, best = float(np.median(samples)), min(samples)
        print(
            f"{name:44s} {median * 1e3:10.1f} {best * 1e3:9.1f} "
            f"{median / base_median:10.2f} {best / base_min:10.2f}"
        )


@pytest.mark.parametrize("route", ["compiled", "OpenCV route"])
def test_bench_laplacian_round_trip(route: str) -> None:
    image = _photo(SIZES["24 MP"][0])
    if route == "compiled" and pyramid_module._compiled is None:
        pytest.skip("workbench.pyramid._reduce was not built")
    build, collapse = [], []
    for _ in range(5):
        with _opencv_route() if route != "compiled" else contextlib.nullcontext():
            start = time.perf_counter()
            bands = laplacian_pyramid(image, LEVELS)
            build.append(time.perf_counter() - start)
            start = time.perf_counter()
            restored = reconstruct_from_laplacian(bands)
            collapse.append(time.perf_counter() - start)
    error = int(np.abs(restored.astype(np.int16) - image).max())
    print(
        f"\n24 MP RGB uint8 Laplacian, {LEVELS} levels, {route}: build "
        f"{np.median(build) * 1e3:.0f} ms, reconstruct {np.median(collapse) * 1e3:.0f} ms, "
        f"max error {error} gray levels"
    )
    assert error <= 1
