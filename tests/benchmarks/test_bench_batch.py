"""The batch layer: inline vs local processes vs a Dask LocalCluster, and a video's throughput.

Run with::

    .venv/bin/python -m pytest -m bench -s tests/benchmarks/test_bench_batch.py

Photos: generated (blocks of colour, 320x240 PNG), ``WORKBENCH_BENCH_PHOTOS`` of them (default
1000); the shipped colorizer when it exists, else the realistic stand-in of tests/onnx_models.py.
Per run: wall time, photos per second, and the overhead per task against the inline run's cost
per photo on the same machine (``(wall * workers - inline) / photos``: what a task costs on top
of its own work, scheduler and process hops included). The video: a generated 640x480 clip at
25 fps, ``WORKBENCH_BENCH_VIDEO_SECONDS`` long (default 60), colorized headless with sound.
Nothing here asserts a time: the figures are for the reader (README "Archives").
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import onnx_models as models
import pytest

from workbench.colorize import shipped_model_path
from workbench.colorize.batch import colorize_files
from workbench.imaging.io import write_image

pytestmark = pytest.mark.bench


def _model(tmp_path) -> str:
    shipped = shipped_model_path()
    if shipped.is_file():
        return str(shipped)
    return str(models.realistic_model(tmp_path / "stand_in.onnx"))


def _photos(folder: Path, n: int) -> None:
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(n):
        blocks = rng.integers(0, 256, (15, 20, 3), dtype=np.uint8)
        write_image(folder / f"p{i:05d}.png", np.kron(blocks, np.ones((16, 16, 1), np.uint8)))


def test_photos_inline_processes_and_local_cluster(tmp_path):
    pytest.importorskip("dask.distributed")
    n = int(os.environ.get("WORKBENCH_BENCH_PHOTOS", "1000"))
    model = _model(tmp_path)
    _photos(tmp_path / "in", n)
    runs = [("inline", {}), ("2 local processes", {"workers": 2}),
            ("LocalCluster, 2 workers", {"workers": 2, "scheduler": "local"})]
    print(f"\n{n} photos 320x240, model {Path(model).name}, {os.cpu_count()} cores, "
          f"load {os.getloadavg()[0]:.1f}")
    inline = None
    for name, options in runs:
        start = time.perf_counter()
        report = colorize_files(None, [tmp_path / "in"], tmp_path / name.replace(" ", "_"),
                                model=model, provider="cpu", **options)
        wall = time.perf_counter() - start
        assert len(report.written) == n
        per = wall / n
        if inline is None:
            inline = per
            extra = ""
        else:
            workers = options["workers"]
            extra = f" · overhead per task {(per * workers - inline) * 1000:6.1f} ms"
        print(f"{name:<26} {wall:7.1f} s · {n / wall:6.1f} photos/s · "
              f"{per * 1000:6.1f} ms per photo{extra}")


def test_video_throughput(tmp_path):
    av = pytest.importorskip("av")
    from workbench.colorize.engine import Colorizer
    from workbench.colorize.video import colorize_video

    seconds = float(os.environ.get("WORKBENCH_BENCH_VIDEO_SECONDS", "60"))
    frames = int(seconds * 25)
    clip = tmp_path / "clip.mp4"
    with av.open(str(clip), "w") as out:
        stream = out.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 640, 480, "yuv420p"
        rng = np.random.default_rng(1)
        base = np.kron(rng.integers(0, 256, (30, 40, 3), dtype=np.uint8),
                       np.ones((16, 16, 1), np.uint8))
        for i in range(frames):
            frame = np.roll(base, i * 2, axis=1)
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, "rgb24")):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    colorizer = Colorizer(_model(tmp_path), provider="cpu")
    start = time.perf_counter()
    report = colorize_video(colorizer, clip, tmp_path / "out.mp4")
    wall = time.perf_counter() - start
    print(f"\nvideo 640x480, {frames} frames ({seconds:g} s at 25 fps): {wall:.1f} s, "
          f"{report.frames / wall:.1f} fps end to end (decode, colorize, H.264 encode), "
          f"{wall / seconds:.2f} s per second of video")
