"""Colorizer speed: end-to-end frames per second and per-stage latency, 640x480 and 1920x1080.

Run with::

    .venv/bin/python -m pytest -m bench -s tests/benchmarks/test_bench_colorize.py

Models: the shipped ``resources/models/colorizer.onnx`` when it exists (skipped with a reason
otherwise), and always a stand-in of realistic cost built with onnx.helper
(tests/onnx_models.py ``realistic_model``: five convolutions, ~1.3 GFLOP at 256x256, logits
over the 261 gamut bins at 1/4 resolution, dynamic size, run with the short side at 256).
Inputs: scikit-image's astronaut resized, as RGB (a camera frame) and as grey (a B&W photo).
Stages are those of :class:`workbench.colorize.StageTimings`; "pre/post" is everything but
inference; each input is run with both gamut modes ("keep-lightness", the default, keeps L
exact; "clip" is cheaper when many colours are out of gamut). The CPU provider, and the
"auto" provider when it finds a GPU. The machine's load average is printed: on a shared
machine the medians drift, the minima less.
Nothing here asserts a time: the figures are for the reader.
"""

from __future__ import annotations

import os
import time

import cv2
import numpy as np
import onnx_models as models
import pytest
from skimage import data

from workbench.colorize import Colorizer, shipped_model_path
from workbench.imaging.color import lightness_ab_to_rgb

pytestmark = pytest.mark.bench

SIZES = {"640x480": (640, 480), "1920x1080": (1920, 1080)}
FRAMES = 25


def _frames(size: tuple[int, int]) -> dict[str, np.ndarray]:
    rgb = cv2.resize(data.astronaut(), size, interpolation=cv2.INTER_AREA)
    return {"RGB": rgb, "grey": cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)}


def _report(colorizer: Colorizer, label: str) -> None:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"\n{label}: {colorizer!r}, {colorizer.provider_note[:40]}, load "
          f"{colorizer.load_seconds * 1e3:.0f} ms; cv2 threads {cv2.getNumThreads()}, "
          f"{os.cpu_count()} CPUs, load average {load:.1f}")
    print(f"{'input':26s} {'run size':>9s} {'pre':>6s} {'infer':>6s} {'decode':>7s} "
          f"{'recomb':>7s} {'pre/post':>8s} {'total':>6s} {'fps':>5s}   median ms (min)")
    for size_label, size in SIZES.items():
        for kind, frame in _frames(size).items():
            for gamut in ("keep-lightness", "clip"):
                colorizer.gamut = gamut
                rows = []
                colorizer.colorize(frame)  # first frame of this size
                for _ in range(FRAMES):
                    colorizer.colorize(frame)
                    ms = colorizer.last_timings.as_ms()
                    ms["pre/post"] = ms["total"] - ms["inference"]
                    rows.append(ms)
                med = {k: float(np.median([r[k] for r in rows])) for k in rows[0]}
                low = {k: float(np.min([r[k] for r in rows])) for k in rows[0]}
                run = "x".join(map(str, colorizer.contract.run_size(size[1], size[0])))
                cells = " ".join(
                    f"{med[k]:{w}.1f}" for k, w in
                    (("preprocess", 6), ("inference", 6), ("decode", 7), ("recombine", 7),
                     ("pre/post", 8), ("total", 6))
                )
                print(f"{size_label + ' ' + kind + ' ' + gamut:26s} {run:>9s} {cells} "
                      f"{1e3 / med['total']:5.1f}   (pre/post {low['pre/post']:.1f}, "
                      f"infer {low['inference']:.1f}, total {low['total']:.1f})")
                assert colorizer.last_result.size == (size[1], size[0])
    colorizer.gamut = "keep-lightness"


def _cpu_ms(colorizer: Colorizer, label: str) -> None:
    """Pre- and post-processing in CPU time (all threads of this process), which a busy
    shared machine inflates far less than wall time; inference is left out."""
    from workbench.colorize.engine import _lightness_and_alpha

    print(f"\n{label}: pre/post-processing CPU time (ms, median of {FRAMES})")
    for size_label, size in SIZES.items():
        for kind, frame in _frames(size).items():
            result = colorizer.predict(frame)
            for gamut in ("keep-lightness", "clip"):
                pre, post = [], []
                for _ in range(FRAMES):
                    start = time.process_time()
                    colorizer._network_input(_lightness_and_alpha(frame)[0])
                    middle = time.process_time()
                    result.recolor(gamut=gamut)
                    pre.append(middle - start)
                    post.append(time.process_time() - middle)
                p, q = np.median(pre) * 1e3, np.median(post) * 1e3
                print(f"  {size_label} {kind:4s} {gamut:14s}: pre {p:5.1f}  decode+recombine "
                      f"{q:6.1f}  total {p + q:6.1f}")


def _wall_fps(colorizer: Colorizer, frame: np.ndarray, seconds: float = 3.0) -> float:
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        colorizer.colorize(frame)
        count += 1
    return count / (time.perf_counter() - start)


def test_bench_standin_model(tmp_path):
    path = models.realistic_model(tmp_path / "standin.onnx")
    colorizer = Colorizer(path, provider="cpu")
    _report(colorizer, "stand-in (5 convs, Q = 261 logits at 1/4 res)")
    _cpu_ms(colorizer, "stand-in")
    frame = _frames(SIZES["640x480"])["RGB"]
    print(f"wall-clock loop, 640x480 RGB: {_wall_fps(colorizer, frame):.1f} fps")
    auto = Colorizer(path, provider="auto")
    if auto.provider != "cpu":
        _report(auto, f"stand-in on {auto.provider}")


def test_bench_shipped_model():
    path = shipped_model_path()
    if not path.is_file():
        pytest.skip(f"the shipped model {path} is not there yet (trained by its own issue)")
    colorizer = Colorizer(path, provider="cpu")
    _report(colorizer, "shipped model")
    _cpu_ms(colorizer, "shipped model")
    frame = _frames(SIZES["640x480"])["RGB"]
    print(f"wall-clock loop, 640x480 RGB: {_wall_fps(colorizer, frame):.1f} fps")


def test_bench_recombine_gamut_modes():
    """What keeping L exact costs over clipping, on a realistic ab field (the photo's own)."""
    from workbench.imaging.color import rgb_to_lab

    for size_label, size in SIZES.items():
        rgb = _frames(size)["RGB"]
        lab = rgb_to_lab(rgb)
        plane = np.ascontiguousarray(lab[..., 0])
        small = cv2.resize(lab[..., 1:], (64, 48), interpolation=cv2.INTER_AREA)
        results = {}
        for gain in (1.0, 1.5):
            ab = cv2.resize(small * gain, size, interpolation=cv2.INTER_LINEAR)
            for gamut in ("keep-lightness", "clip"):
                times = []
                for _ in range(FRAMES):
                    start = time.perf_counter()
                    lightness_ab_to_rgb(plane, ab, gamut=gamut)
                    times.append(time.perf_counter() - start)
                results[(gain, gamut)] = np.median(times) * 1e3
        print(f"\nrecombine {size_label} (median ms): "
              + ", ".join(f"ab x{g} {m}: {t:.1f}" for (g, m), t in results.items()))
