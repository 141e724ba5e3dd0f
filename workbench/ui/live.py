"""Live streams: capture on one thread, process on another, show the newest result.

When processing (a model, face recognition) is slower than the camera, frames are dropped
instead of queued: the processing thread always takes the newest captured frame, so what is shown
is never more than one frame behind. Results reach the GUI thread through a one-slot mailbox, so a
slow GUI does not build a queue either. Used by the Colorize and Faces panels.

Several processes can run on the same frames (the Colorize panel's A/B comparison): each has its
own thread, takes the newest frame when it is free, drops frames on its own and keeps its own
statistics, so a slow model never holds back a fast one.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PySide6 import QtCore

from workbench.errors import WorkbenchError
from workbench.imaging.video import FrameSource

# Runners whose threads may still be running. A QObject must be deleted on the thread it lives
# on (the GUI thread); a thread that held the last reference to its runner would delete it on
# its own thread, racing the GUI thread's delivery of the runner's queued signals (a crash).
# So a started runner is kept here until the GUI thread sees all its threads ended.
_KEPT: set[LiveRunner] = set()


@dataclass
class LiveStats:
    captured: int = 0
    processed: int = 0
    dropped: int = 0
    latency_ms: float = 0.0  # capture → result ready, for the last result
    process_ms: float = 0.0  # processing time of the last frame
    fps: float = 0.0  # results per second, smoothed
    recent_ms: deque = field(default_factory=lambda: deque(maxlen=120))  # processing times


@dataclass
class LiveResult:
    frame: np.ndarray
    output: Any
    index: int
    stats: LiveStats
    position: int | None = None  # the frame's index in a video file (None for a camera)
    channel: int = 0  # which process made it: 0, or 1.. for the ``also`` processes


class LiveRunner(QtCore.QObject):
    """Runs ``process(frame)`` on the newest frame of ``open_source()`` until stopped.

    Each of ``also`` (more processes) runs on the same frames on a thread of its own, with its
    own statistics (``channel_stats[i]``; channel 0 is ``process``, ``stats`` its statistics);
    a result says which channel made it.

    Signals (GUI thread): ``result(LiveResult)``, ``failed(exception)``, ``finished()`` (the
    source ended, failed or was stopped). A video file can be paused, sought and looped
    (:meth:`pause`, :meth:`seek`, :meth:`set_loop`); ``frame_count`` is its length (0 for a
    camera).
    """

    result = QtCore.Signal(object)
    failed = QtCore.Signal(object)
    finished = QtCore.Signal()
    _posted = QtCore.Signal(int)
    _ended = QtCore.Signal(object)

    def __init__(self, open_source: Callable[[], FrameSource],
                 process: Callable[[np.ndarray], Any], *, pace_files: bool = True,
                 also: Sequence[Callable[[np.ndarray], Any]] = ()) -> None:
        super().__init__()
        self._open_source = open_source
        self._processes = [process, *also]
        self._pace = pace_files
        self.channel_stats = [LiveStats() for _ in self._processes]
        self.stats = self.channel_stats[0]
        self._cond = threading.Condition()
        self._frame: tuple[np.ndarray, float, int] | None = None
        self._mailbox: list[LiveResult | None] = [None] * len(self._processes)
        self._mail_waiting = [False] * len(self._processes)
        self._workers_left = 0
        self._stop = threading.Event()
        self._capture_done = False
        self._capture_error: BaseException | None = None
        self._threads: list[threading.Thread] = []
        self._started: list[threading.Thread] = []  # every thread ever started, until reaped
        self._paused = False
        self._seek_to: int | None = None
        self._source: FrameSource | None = None
        self.frame_count = 0
        self._posted.connect(self._deliver)
        self._ended.connect(self._on_ended)
        self.running = False

    # ----------------------------------------------------------- control
    def start(self) -> None:
        """Open the source (errors are raised here, before any thread starts) and run."""
        source = self._open_source()
        self._source = source
        self.frame_count = int(getattr(source, "frame_count", 0) or 0)
        self._stop.clear()
        self.running = True
        self._capture_done = False
        self._capture_error = None
        self._workers_left = len(self._processes)
        self._threads = [
            threading.Thread(target=self._capture, args=(source,), daemon=True,
                             name="live-capture"),
            *(threading.Thread(target=self._work, args=(channel,), daemon=True,
                               name=f"live-process-{channel}")
              for channel in range(len(self._processes))),
        ]
        self._started += self._threads
        _KEPT.add(self)
        for t in self._threads:
            t.start()

    @property
    def fps(self) -> float:
        """Frames per second of the source (a file's own rate)."""
        return float(getattr(self._source, "fps", 25.0) or 25.0)

    @property
    def seekable(self) -> bool:
        return hasattr(self._source, "seek") and self.frame_count > 0

    @property
    def paused(self) -> bool:
        return self._paused

    def pause(self, paused: bool = True) -> None:
        """Hold the capture (no frames are read or processed) until ``pause(False)``."""
        with self._cond:
            self._paused = paused
            self._cond.notify_all()

    def seek(self, index: int) -> None:
        """Go to frame ``index`` of a video file; while paused that frame is shown."""
        with self._cond:
            self._seek_to = int(index)
            self._cond.notify_all()

    def set_loop(self, loop: bool) -> None:
        """Whether a video file starts again at its end."""
        if hasattr(self._source, "loop"):
            self._source.loop = bool(loop)

    def stop(self, wait: float = 2.0) -> None:
        """Stop capturing and processing; wait at most ``wait`` seconds in all for the threads
        (a process still busy with a frame finishes it on its own; its result is dropped)."""
        self._stop.set()
        with self._cond:
            self._mailbox = [None] * len(self._processes)  # results not yet shown are dropped
            self._cond.notify_all()
        deadline = time.monotonic() + wait  # one budget for all threads, not one each
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))
        self._threads = []
        self._release_when_done()

    def _release_when_done(self, delay_ms: int = 20) -> None:
        """On the GUI thread: let go of this runner once all its threads have ended (checked
        again later while one still runs, e.g. a process stuck on a frame after a stop)."""
        self._started = [t for t in self._started if t.is_alive()]
        if not self._started:
            _KEPT.discard(self)
        else:
            QtCore.QTimer.singleShot(delay_ms, lambda: self._release_when_done(
                min(delay_ms * 2, 500)))

    # ----------------------------------------------------------- threads
    def _capture(self, source: FrameSource) -> None:
        error = None
        period = 1.0 / max(source.fps, 1.0)
        next_time = time.perf_counter()
        try:
            while not self._stop.is_set():
                with self._cond:  # paused: wait for resume, stop or a seek (shown once)
                    while self._paused and self._seek_to is None and not self._stop.is_set():
                        self._cond.wait(0.5)
                    seek, self._seek_to = self._seek_to, None
                if self._stop.is_set():
                    break
                if seek is not None and hasattr(source, "seek"):
                    source.seek(seek)
                    next_time = time.perf_counter()
                frame = source.read()
                if frame is None:
                    break
                with self._cond:
                    for st in self.channel_stats:
                        st.captured += 1
                    self._frame = (frame, time.perf_counter(), self.stats.captured,
                                   getattr(source, "position", None))
                    self._cond.notify_all()
                    if self._paused:
                        next_time = time.perf_counter()
                        continue
                if self._pace and not source.live:  # a file plays at its own frame rate
                    next_time += period
                    delay = next_time - time.perf_counter()
                    if delay > 0:
                        self._stop.wait(delay)
                    else:
                        next_time = time.perf_counter()
        except Exception as exc:  # e.g. CameraDisconnected: shown to the user
            # kept as text: the traceback holds this frame, which holds the runner, and that
            # loop would leave the runner to the garbage collector, on whatever thread it runs
            exc.__traceback_text__ = traceback.format_exc()
            error = exc.with_traceback(None)
        finally:
            # The error is recorded under the lock *before* capture is marked done, and only the
            # processing thread reports the end (carrying it): the end can never be reported
            # without the error that caused it.
            with self._cond:
                self._capture_error = error
                self._capture_done = True
                self._cond.notify_all()
            source.close()

    def _work(self, channel: int) -> None:
        process, st = self._processes[channel], self.channel_stats[channel]
        last = 0
        smoothed = None
        previous_done = None
        while True:
            with self._cond:
                while not self._stop.is_set() and (self._frame is None or self._frame[2] == last):
                    if self._capture_done:
                        break
                    self._cond.wait(0.5)
                if self._capture_error is not None:
                    break  # the source failed: end now, with its error
                if self._stop.is_set() or self._frame is None or self._frame[2] == last:
                    break
                frame, captured_at, index, position = self._frame
                st.dropped += max(0, index - last - 1)
                last = index
            start = time.perf_counter()
            try:
                output = process(frame)
            except Exception as exc:
                self._stop.set()
                exc.__traceback_text__ = traceback.format_exc()  # see _capture
                self._ended.emit(exc.with_traceback(None))
                return
            done = time.perf_counter()
            if output is None:  # the process let this frame go (nothing to do): not counted
                continue
            st.processed += 1
            st.process_ms = (done - start) * 1000
            st.latency_ms = (done - captured_at) * 1000
            st.recent_ms.append(st.process_ms)
            if previous_done is not None:
                rate = 1.0 / max(done - previous_done, 1e-6)
                smoothed = rate if smoothed is None else 0.8 * smoothed + 0.2 * rate
                st.fps = smoothed
            previous_done = done
            if self._stop.is_set():
                break  # stopped while this frame was processed: nothing more is delivered
            with self._cond:
                self._mailbox[channel] = LiveResult(frame, output, index, st, position, channel)
                if self._mail_waiting[channel]:
                    continue
                self._mail_waiting[channel] = True
            self._posted.emit(channel)
        with self._cond:
            error = self._capture_error
            self._workers_left -= 1
            last_one = self._workers_left == 0
        if last_one or error is not None:  # the end is reported once every channel is done
            self._ended.emit(error)

    # ------------------------------------------------------- GUI thread
    @QtCore.Slot(int)
    def _deliver(self, channel: int) -> None:
        with self._cond:
            item, self._mailbox[channel] = self._mailbox[channel], None
            self._mail_waiting[channel] = False
        if item is not None:
            self.result.emit(item)

    @QtCore.Slot(object)
    def _on_ended(self, error) -> None:
        if not self.running:
            return
        for channel in range(len(self._processes)):
            self._deliver(channel)
        self.running = False
        self._stop.set()
        self._release_when_done()
        if error is not None:
            self.failed.emit(error)
        self.finished.emit()


def start_live(panel, source: int | str, process: Callable[[np.ndarray], Any],
               on_result: Callable[[LiveResult], None],
               on_finished: Callable[[], None], *, loop: bool = True,
               also: Sequence[Callable[[np.ndarray], Any]] = ()) -> LiveRunner | None:
    """Run ``process`` (and each of ``also``, on the same frames) live on a camera index or a
    video file for a panel; errors (no camera, unreadable video, unplugged mid-stream) go to the
    panel's status bar. None if it failed."""
    from workbench.imaging.video import open_source

    runner = LiveRunner(lambda: open_source(source, loop=loop), process, also=also)
    runner.result.connect(on_result)
    runner.failed.connect(panel.report_error)
    runner.finished.connect(on_finished)
    try:
        runner.start()
    except WorkbenchError as exc:
        panel.report_error(exc)
        return None
    return runner
