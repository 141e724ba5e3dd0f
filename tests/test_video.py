"""Frame sources and the live runner, with a generated video file standing in for a camera."""

from __future__ import annotations

import gc
import threading
import time
import weakref

import numpy as np
import pytest
from PySide6 import QtCore
from video_util import write_test_video

from workbench.imaging.video import (
    CameraDisconnected,
    CameraSource,
    FrameSource,
    ImageSequenceSource,
    VideoError,
    VideoFileSource,
    VideoRecorder,
    open_source,
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


class _StopAfterTheWorkerHasEnded(threading.Event):
    """A stop flag that, when the capture thread raises it, first lets the processing thread
    run to its end: the worst interleaving of the two threads, made to happen every time."""

    def __init__(self, runner: LiveRunner) -> None:
        super().__init__()
        self.runner = runner

    def set(self) -> None:
        if threading.current_thread().name == "live-capture":
            for thread in self.runner._threads:
                if thread.name == "live-process":
                    thread.join(2.0)
        super().set()


def test_an_unplugged_camera_is_reported_even_when_processing_ends_first(qtbot):
    """The processing thread sees that capture has ended before the capture thread has said
    why: the end must still carry the error (it used to end silently, 2 runs in 6 on CI)."""
    runner = LiveRunner(_Unplugged, lambda f: f.sum())
    runner._stop = _StopAfterTheWorkerHasEnded(runner)
    errors = []
    runner.failed.connect(errors.append)
    with qtbot.waitSignal(runner.finished, timeout=10000):
        runner.start()
    qtbot.wait(50)  # anything still queued for the GUI thread arrives
    assert len(errors) == 1 and isinstance(errors[0], CameraDisconnected)
    assert not runner.running


def test_an_unplugged_camera_is_reported_while_a_frame_is_being_processed(qtbot):
    processing, unplug = threading.Event(), threading.Event()

    class UnplugWhileBusy(_Unplugged):
        def read(self):
            if self.n == 1:
                unplug.wait(5)  # unplugged while the first frame is in the model
            return super().read() if self.n < 1 else self._fail()

        def _fail(self):
            raise CameraDisconnected("Camera 0 stopped sending pictures (unplugged?).")

    def slow(frame):
        processing.set()
        unplug.set()
        time.sleep(0.1)
        return frame.sum()

    runner = LiveRunner(UnplugWhileBusy, slow)
    errors, results = [], []
    runner.failed.connect(errors.append)
    runner.result.connect(results.append)
    with qtbot.waitSignal(runner.finished, timeout=10000):
        runner.start()
    assert processing.is_set() and len(results) == 1
    assert len(errors) == 1 and isinstance(errors[0], CameraDisconnected)


class _FakeCapture:
    """cv2.VideoCapture with a script: each read() takes the next (ok, frame) entry."""

    def __init__(self, script, opened=True):
        self.script = list(script)
        self.opened = opened
        self.released = False
        self.reads = 0
        self.props = {}

    def isOpened(self):  # noqa: N802 - OpenCV's name
        return self.opened

    def read(self):
        self.reads += 1
        if self.script:
            return self.script.pop(0)
        return False, None

    def get(self, prop):
        return self.props.get(prop, 0.0)

    def set(self, prop, value):
        self.props[prop] = value
        return True

    def release(self):
        self.released = True


def _bgr(value):
    frame = np.zeros((4, 6, 3), np.uint8)
    frame[..., 0] = value  # blue in OpenCV's order
    return True, frame


def _camera(monkeypatch, script, opened=True, **kwargs):
    import cv2

    fake = _FakeCapture(script, opened)
    monkeypatch.setattr(cv2, "VideoCapture", lambda index: fake)
    return fake, lambda: CameraSource(0, **kwargs)


def test_camera_source_gives_rgb_frames_and_forgives_a_few_dropped_grabs(monkeypatch):
    drop = (False, None)
    fake, make = _camera(monkeypatch, [_bgr(10), _bgr(20), drop, drop, drop, drop, _bgr(30)])
    cam = make()
    first = cam.read()
    assert first.shape == (4, 6, 3) and first[0, 0, 2] == 10 and first[0, 0, 0] == 0  # BGR->RGB
    assert cam.read()[0, 0, 2] == 20
    assert cam.read()[0, 0, 2] == 30  # four failed grabs in a row are not an unplug
    assert cam.live and cam.fps == 30.0
    cam.close()
    assert fake.released


def test_camera_source_calls_five_failed_grabs_in_a_row_unplugged(monkeypatch):
    drop = (False, None)
    fake, make = _camera(monkeypatch, [_bgr(1), _bgr(2), drop, drop, drop, drop, drop, _bgr(3)])
    cam = make()
    cam.read(), cam.read()
    with pytest.raises(CameraDisconnected, match="unplugged"):
        cam.read()
    assert fake.reads == 7  # it gave up after the fifth failure, before the good frame


def test_camera_source_failures_only_count_in_a_row(monkeypatch):
    drop = (False, None)
    script = [_bgr(0)] + [drop, drop, drop, drop, _bgr(1)] * 3
    _, make = _camera(monkeypatch, script)
    cam = make()
    assert [int(cam.read()[0, 0, 2]) for _ in range(4)] == [0, 1, 1, 1]


def test_camera_source_without_a_camera_or_a_picture_says_so(monkeypatch):
    fake, make = _camera(monkeypatch, [], opened=False)
    with pytest.raises(VideoError, match="No camera at index 0"):
        make()
    assert fake.released
    fake, make = _camera(monkeypatch, [(False, None)] * 3, first_frame_timeout=0.1)
    with pytest.raises(VideoError, match="sent no picture"):
        make()
    assert fake.released


def test_camera_source_asks_for_a_size_and_reports_the_camera_rate(monkeypatch):
    import cv2

    fake, make = _camera(monkeypatch, [_bgr(5)], size=(640, 480))
    fake.props[cv2.CAP_PROP_FPS] = 15.0
    cam = make()
    assert fake.props[cv2.CAP_PROP_FRAME_WIDTH] == 640
    assert fake.props[cv2.CAP_PROP_FRAME_HEIGHT] == 480
    assert cam.fps == 15.0


def test_live_runner_stop_ends_a_looping_stream(qtbot, clip):
    runner = LiveRunner(lambda: VideoFileSource(clip, loop=True), lambda f: f.shape)
    with qtbot.waitSignal(runner.result, timeout=5000):
        runner.start()
    threads = list(runner._threads)
    assert threads and all(t.is_alive() for t in threads)
    runner.stop()
    assert not any(t.is_alive() for t in threads)


def test_live_runner_stop_waits_one_budget_for_all_its_threads(qtbot, clip):
    release = threading.Event()

    inside = set()

    def stuck(frame):  # a process busy with its frame when the stream stops
        inside.add(threading.get_ident())
        release.wait(10)
        return None

    runner = LiveRunner(lambda: VideoFileSource(clip, loop=True), stuck, also=[stuck])
    runner.start()
    qtbot.waitUntil(lambda: len(inside) == 2, timeout=5000)  # both processes are stuck
    budgets = []
    for t in runner._threads:
        join = t.join
        t.join = lambda timeout=None, join=join: (budgets.append(timeout), join(timeout))
    runner.stop(wait=0.3)
    release.set()
    # three threads (capture, then two stuck processes), one budget: the first stuck process
    # uses up what is left of it, so the second gets none (each its own 0.3 s before)
    assert len(budgets) == 3 and budgets[0] <= 0.3
    assert budgets == sorted(budgets, reverse=True) and budgets[2] == 0.0
    assert runner._threads == []
    qtbot.waitUntil(lambda: not runner._started, timeout=10000)  # the stuck ones end too


def _gui_thread_deletes(obj, deleted_on: list) -> None:
    """Record the thread on which ``obj``'s Qt object is destroyed."""
    obj.destroyed.connect(lambda *_: deleted_on.append(threading.get_ident()),
                          QtCore.Qt.ConnectionType.DirectConnection)


@pytest.mark.parametrize("how", ["unplugged", "process fails"])
def test_a_runner_that_failed_is_freed_without_the_garbage_collector(qtbot, how):
    # An error's traceback holds the thread's frame, which holds the runner: that loop left
    # the runner to the garbage collector, which may run on any thread (then the runner is
    # deleted there, the crash above). Freed by reference counting, on the GUI thread.
    def broken(frame):
        raise ValueError("the model failed on this frame")

    runner = (LiveRunner(_Unplugged, lambda f: f.sum()) if how == "unplugged"
              else LiveRunner(lambda: _Unplugged(), broken))
    errors, deleted_on = [], []
    runner.failed.connect(errors.append)
    _gui_thread_deletes(runner, deleted_on)
    gc.disable()
    try:
        with qtbot.waitSignal(runner.finished, timeout=5000):
            runner.start()
        assert len(errors) == 1 and errors[0].__traceback_text__  # the text is kept
        errors.clear()
        del runner
        qtbot.waitUntil(lambda: bool(deleted_on), timeout=5000)
    finally:
        gc.enable()
    assert deleted_on == [threading.main_thread().ident]


def test_a_runner_let_go_with_a_thread_still_busy_is_deleted_on_the_gui_thread(qtbot, clip):
    # A QObject deleted on a worker thread races the GUI thread delivering its queued signals
    # (CI crashed on it): the last reference must not be a worker thread's.
    release = threading.Event()
    inside = threading.Event()

    def stuck(frame):
        inside.set()
        release.wait(10)
        return None

    runner = LiveRunner(lambda: VideoFileSource(clip, loop=True), stuck)
    deleted_on = []
    _gui_thread_deletes(runner, deleted_on)
    gone = weakref.ref(runner)
    runner.start()
    qtbot.waitUntil(inside.is_set, timeout=5000)
    runner.stop(wait=0.05)  # the process is still busy with its frame
    del runner  # what a panel does after a stop
    assert gone() is not None  # still held while its thread runs
    release.set()
    qtbot.waitUntil(lambda: bool(deleted_on), timeout=10000)
    assert deleted_on == [threading.main_thread().ident]


def test_video_file_position_and_seek(clip):
    with VideoFileSource(clip) as src:
        first = src.read()
        assert src.position == 0 and src.frame_count == 20
        src.read()
        assert src.position == 1
        src.seek(15)
        frame = src.read()
        assert src.position == 15 and not np.array_equal(frame, first)
        src.seek(0)
        np.testing.assert_allclose(src.read().astype(int), first.astype(int), atol=2)
        src.seek(99)  # clamped to the last frame
        src.read()
        assert src.position == 19 and src.read() is None


def test_live_runner_pauses_and_shows_a_sought_frame_while_paused(qtbot, clip):
    runner = LiveRunner(lambda: VideoFileSource(clip), lambda frame: frame.mean())
    positions = []
    runner.result.connect(lambda item: positions.append(item.position))
    runner.start()
    try:
        qtbot.waitUntil(lambda: len(positions) >= 1, timeout=10000)
        runner.pause(True)
        assert runner.paused and runner.seekable and runner.frame_count == 20
        runner.seek(12)
        qtbot.waitUntil(lambda: positions and positions[-1] == 12, timeout=10000)
        assert runner.running  # paused, not ended
        runner.pause(False)
        with qtbot.waitSignal(runner.finished, timeout=10000):
            pass
        assert positions[-1] == 19 and max(positions) == 19  # played once, to its end
    finally:
        runner.stop()


def test_two_processes_run_on_the_same_frames_each_at_its_own_pace(qtbot, clip):
    def fast(frame):
        return "fast"

    def slow(frame):
        time.sleep(0.08)
        return "slow"

    runner = LiveRunner(lambda: VideoFileSource(clip), fast, also=[slow])
    results = []
    runner.result.connect(results.append)
    with qtbot.waitSignal(runner.finished, timeout=10000):
        runner.start()
    a, b = runner.channel_stats
    assert {r.channel for r in results} == {0, 1}
    assert all(r.output == ("fast", "slow")[r.channel] for r in results)
    assert a.captured == b.captured == 20
    assert a.processed > b.processed > 0 and b.dropped > a.dropped  # B drops on its own
    assert runner.stats is a


def test_a_process_that_lets_frames_go_is_not_counted(qtbot, clip):
    runner = LiveRunner(lambda: VideoFileSource(clip), lambda f: 1, also=[lambda f: None])
    results = []
    runner.result.connect(results.append)
    with qtbot.waitSignal(runner.finished, timeout=10000):
        runner.start()
    assert runner.channel_stats[1].processed == 0 and runner.channel_stats[0].processed > 0
    assert all(r.channel == 0 for r in results)


def test_nothing_is_delivered_after_stop(qtbot, clip):
    started = threading.Event()

    def slow(frame):
        started.set()
        time.sleep(0.3)  # stop() comes while this frame is processed
        return 1

    runner = LiveRunner(lambda: VideoFileSource(clip, loop=True), slow)
    results = []
    runner.result.connect(results.append)
    runner.start()
    assert started.wait(5)
    runner.stop(wait=5)
    qtbot.wait(100)
    assert results == []
