"""The batch layer: inline vs local processes vs a Dask LocalCluster, and a video's throughput.

Run with::

    .venv/bin/python -m pytest -m bench -s tests/benchmarks/test_bench_batch.py
    WORKBENCH_BENCH_PHOTOS=1000 WORKBENCH_BENCH_VIDEO_SECONDS=600 ...   # the README's figures

Photos: generated (blocks of colour, 320x240 PNG), ``WORKBENCH_BENCH_PHOTOS`` of them (default
1000); the shipped colorizer when it exists, else the realistic stand-in of tests/onnx_models.py.

Start-up is measured apart from the per-task cost:

* 2 local processes: a 2-photo batch first (spawning the processes, importing, loading the
  model in each), then the full batch; its per-task overhead is
  ``((wall - start-up) * workers - inline) / photos``, what a task costs on top of its own work.
* LocalCluster: the cluster's start-up (scheduler + 2 worker processes + client), then a
  2-photo batch on it (the model loaded once in each worker, kept for the next batch), then the
  full batch on the warm cluster, with the overhead per task as above.
* The layer's own cost per task, with no work in the task: 1,000 empty tasks inline (the
  manifest line, fsynced), on 2 local processes and on the warm LocalCluster (Dask's scheduling
  and the round trip to the worker and back).

The video: a generated 640x480 H.264 clip at 25 fps (moving blocks of colour, no sound track),
``WORKBENCH_BENCH_VIDEO_SECONDS`` long (default 60), colorized headless inline and then in
keyframe chunks on 2 local processes (chunks colorized in parallel, then joined). Nothing here
asserts a time: the figures are for the reader (README "Archives", tests/benchmarks/README.md).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import onnx_models as models
import pytest

from workbench.batch import run_batch, tasks_for
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


class _Empty:
    """A task with no work: what the batch layer itself costs per task."""

    name = "empty"

    def setup(self):
        return None

    def run(self, state, task):
        return None

    def __repr__(self):
        return "_Empty()"


def _timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def test_photos_inline_processes_and_local_cluster(tmp_path):
    pytest.importorskip("dask.distributed")
    from dask.distributed import Client, LocalCluster

    n = int(os.environ.get("WORKBENCH_BENCH_PHOTOS", "1000"))
    model = _model(tmp_path)
    _photos(tmp_path / "in", n)
    _photos(tmp_path / "warm", 2)
    print(f"\n{n} photos 320x240 PNG, model {Path(model).name}, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f} at the start")

    def colorize(out, folder="in", **options):
        report = colorize_files(None, [tmp_path / folder], tmp_path / out, model=model,
                                provider="cpu", **options)
        assert not report.failed
        return report

    def line(name, wall, startup, workers):
        per = wall / n
        work = wall - startup
        extra = "" if workers == 0 else (
            f" · start-up {startup:5.2f} s · overhead per task "
            f"{(work * workers / n - inline) * 1000:6.1f} ms")
        print(f"{name:<28} {wall:7.1f} s · {n / wall:6.1f} photos/s · "
              f"{per * 1000:6.1f} ms per photo{extra}")

    wall, report = _timed(lambda: colorize("inline"))
    assert len(report.written) == n
    inline = wall / n
    line("inline", wall, 0.0, 0)

    startup, _ = _timed(lambda: colorize("warm_processes", "warm", workers=2))
    startup -= 2 * inline / 2  # the two photos' own work, one per process
    wall, report = _timed(lambda: colorize("processes", workers=2))
    assert len(report.written) == n
    line("2 local processes", wall, startup, 2)

    cluster_up, (cluster, client) = _timed(lambda: _cluster(LocalCluster, Client))
    try:
        address = cluster.scheduler_address
        model_up, _ = _timed(lambda: colorize("warm_cluster", "warm", workers=2,
                                              scheduler=address))
        connect = min(_timed(lambda i=i: run_batch(_Empty(), _empty(tmp_path / f"e0{i}", 2),
                                               scheduler=address))[0] for i in range(2))
        wall, report = _timed(lambda: colorize("cluster", workers=2, scheduler=address))
        assert len(report.written) == n
        line("LocalCluster, 2 workers", wall, connect, 2)
        print(f"  LocalCluster start-up {cluster_up:.2f} s (scheduler, 2 worker processes, "
              f"client); first 2 photos {model_up:.2f} s (the model loaded in each worker); "
              f"each batch's start-up on the warm cluster: {connect:.2f} s (a client connects)")

        for name, options in [("inline", {}), ("2 local processes", {"workers": 2}),
                              ("warm LocalCluster", {"scheduler": address})]:
            fixed, _ = _timed(lambda o=options: run_batch(_Empty(), _empty(tmp_path / "e1", 2),
                                                          **o))
            wall, _ = _timed(lambda o=options: run_batch(_Empty(), _empty(tmp_path / "e2", n),
                                                         **o))
            print(f"{n} empty tasks, {name:<18} {wall:6.2f} s · start-up {fixed:5.2f} s · "
                  f"{(wall - fixed) / (n - 2) * 1000:5.2f} ms per task")
    finally:
        client.close()
        cluster.close()
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


def _empty(folder: Path, n: int):
    return tasks_for([Path(f"e{i:05d}") for i in range(n)], folder)


def _cluster(LocalCluster, Client):
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           dashboard_address=":0")
    client = Client(cluster)
    client.wait_for_workers(2)
    return cluster, client


def test_video_throughput(tmp_path):
    av = pytest.importorskip("av")
    from workbench.colorize.engine import Colorizer
    from workbench.colorize.video import colorize_video, colorize_video_distributed

    seconds = float(os.environ.get("WORKBENCH_BENCH_VIDEO_SECONDS", "60"))
    frames = int(seconds * 25)
    clip = tmp_path / "clip.mp4"
    start = time.perf_counter()
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
    made = time.perf_counter() - start
    colorizer = Colorizer(_model(tmp_path), provider="cpu")
    start = time.perf_counter()
    report = colorize_video(colorizer, clip, tmp_path / "out.mp4")
    wall = time.perf_counter() - start
    print(f"\nvideo 640x480 H.264, {frames} frames ({seconds:g} s at 25 fps, "
          f"{clip.stat().st_size / 1e6:.1f} MB, made in {made:.0f} s): {wall:.1f} s, "
          f"{report.frames / wall:.1f} fps end to end (decode, colorize, H.264 encode), "
          f"{wall / seconds:.2f} s per second of video")
    start = time.perf_counter()
    report = colorize_video_distributed(clip, tmp_path / "out2.mp4", model=_model(tmp_path),
                                        provider="cpu", workers=2)
    wall = time.perf_counter() - start
    print(f"  in keyframe chunks on 2 local processes: {wall:.1f} s, {report.frames / wall:.1f} "
          f"fps, {wall / seconds:.2f} s per second of video; load average "
          f"{os.getloadavg()[0]:.1f} at the end")
