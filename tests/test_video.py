"""Frame sources and the live runner, with a generated video file standing in for a camera."""

from __future__ import annotations

import time

import numpy as np
import pytest

from workbench.imaging.video import (
    CameraDisconnected,
    CameraSource,
    FrameSource,
    ImageSequenceSource,
    VideoError,
    VideoFileSource,
    VideoRecorder,
    open_source,
    write_test_video,
)
from workbench.ui.live import LiveRunner


@pytest.fixture
def clip(tmp_path):
    return write_test_video(tmp_path / "clip.avi", frames=20, size=(96, 64), fps=50)


def test_video_file_gives_rgb_frames_then_ends(clip):
    with VideoFileSource(clip) as src:
        frames = list(src)
    assert len(frames) == 20
    assert frames[0].shape == (64, 96, 3) and frames[0].dtype == np.uint8
    # the synthetic clip has blue = 128 everywhere outside the white disc: RGB order, not BGR
    assert abs(int(np.median(frames[0][..., 2])) - 128) <= 3


def test_looping_video_restarts(clip):
    src = VideoFileSource(clip, loop=True)
    frames = [src.read() for _ in range(45)]
    assert all(f is not None for f in frames)
    src.close()


def test_recorder_round_trip(tmp_path):
    path = tmp_path / "out.avi"
    with VideoRecorder(path, fps=10) as rec:
        for i in range(5):
            rec.write(np.full((32, 48, 3), i * 40, np.uint8))
    with VideoFileSource(path) as src:
        frames = list(src)
    assert len(frames) == 5
    assert abs(int(frames[4].mean()) - 160) <= 4


@pytest.mark.parametrize("make,needle", [
    (lambda p: VideoFileSource(p / "missing.mp4"), "no such file"),
    (lambda p: (p / "bad.mp4").write_bytes(b"garbage" * 100) and VideoFileSource(p / "bad.mp4"),
     "bad.mp4"),
    (lambda p: VideoRecorder(p / "nodir" / "x.avi"), "folder"),
    (lambda p: VideoRecorder(p / "x.gif"), ".avi"),
    (lambda p: ImageSequenceSource([]), "empty"),
])
def test_bad_sources_raise_clear_errors(tmp_path, make, needle):
    with pytest.raises(VideoError, match=needle):
        make(tmp_path)


def test_no_camera_is_a_clear_error():
    with pytest.raises(VideoError, match="No camera at index 97"):
        CameraSource(97)


def test_open_source_dispatches(clip, tmp_path):
    assert isinstance(open_source(clip), VideoFileSource)
    with pytest.raises(VideoError, match="camera"):
        open_source("camera:96")


class _Unplugged(FrameSource):
    """A camera that delivers three frames, then is unplugged."""

    live = True

    def __init__(self):
        self.n = 0

    def read(self):
        self.n += 1
        if self.n > 3:
            raise CameraDisconnected("Camera 0 stopped sending pictures (unplugged?).")
        return np.zeros((8, 8, 3), np.uint8)


def test_live_runner_drops_stale_frames_when_processing_is_slow(qtbot, clip):
    def slow(frame):
        time.sleep(0.06)  # ~3 frames of a 50 fps clip
        return frame.mean()

    runner = LiveRunner(lambda: VideoFileSource(clip), slow)
    results = []
    runner.result.connect(results.append)
    with qtbot.waitSignal(runner.finished, timeout=10000):
        runner.start()
    assert runner.stats.captured == 20
    assert 0 < runner.stats.processed < 20
    assert runner.stats.dropped > 0
    assert runner.stats.processed + runner.stats.dropped <= 20
    indices = [r.index for r in results]
    assert indices == sorted(indices)  # never an older frame after a newer one
    assert results[-1].stats.process_ms >= 50


def test_live_runner_reports_an_unplugged_camera(qtbot):
    runner = LiveRunner(_Unplugged, lambda f: f.sum())
    errors = []
    runner.failed.connect(errors.append)
    with qtbot.waitSignal(runner.finished, timeout=5000):
        runner.start()
    assert len(errors) == 1 and isinstance(errors[0], CameraDisconnected)
    assert not runner.running


def test_live_runner_stop_ends_a_looping_stream(qtbot, clip):
    runner = LiveRunner(lambda: VideoFileSource(clip, loop=True), lambda f: f.shape)
    with qtbot.waitSignal(runner.result, timeout=5000):
        runner.start()
    threads = list(runner._threads)
    assert threads and all(t.is_alive() for t in threads)
    runner.stop()
    assert not any(t.is_alive() for t in threads)
