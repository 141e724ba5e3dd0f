"""One small helper for all background work: run a function on Qt's thread pool.

The function receives a :class:`Job` it can use to report progress and to check for cancellation;
results and errors come back on the GUI thread as signals. Panels never create threads by hand.

>>> job = run_in_background(lambda job: heavy(job), on_done=show, on_error=report)
>>> job.cancel()
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6 import QtCore


class Cancelled(Exception):
    """Raised inside a job function by :meth:`Job.check` once the user has cancelled."""


class Job(QtCore.QObject):
    """Handle on a background task. Signals are delivered on the GUI thread."""

    progress = QtCore.Signal(float, str)  # fraction 0..1, message
    finished = QtCore.Signal(object)  # the function's return value
    failed = QtCore.Signal(object)  # the exception
    cancelled = QtCore.Signal()
    ended = QtCore.Signal()  # always, after finished / failed / cancelled

    # Emitted from the pool thread; connected to slots of this GUI-thread object, so Qt queues
    # them and the public signals above fire on the GUI thread whatever the callbacks are.
    _progress_raw = QtCore.Signal(float, str)
    _outcome_raw = QtCore.Signal(str, object)

    def __init__(self) -> None:
        super().__init__()
        self._cancel = threading.Event()
        self._pool_done = threading.Event()  # the pool thread has emitted its outcome, let go
        self._commit_lock = threading.Lock()
        self.committed = False
        self.done = False
        self._progress_raw.connect(self._relay_progress)
        self._outcome_raw.connect(self._relay_outcome)

    @QtCore.Slot(float, str)
    def _relay_progress(self, fraction: float, message: str) -> None:
        if not self.done:
            self.progress.emit(fraction, message)

    @QtCore.Slot(str, object)
    def _relay_outcome(self, kind: str, value: object) -> None:
        self.done = True
        if kind == "finished":
            self.finished.emit(value)
        elif kind == "failed":
            self.failed.emit(value)
        else:
            self.cancelled.emit()
        self.ended.emit()
        self._let_go()

    def _let_go(self) -> None:
        """GUI thread, once ended: delete this job here once the pool thread is out of it.

        The callbacks connected to it (and the photos their closures hold) go with it, and it
        is deleted on the thread it lives on: a QObject whose last reference a pool thread
        dropped would be deleted there, racing the GUI thread's delivery of its signals.
        A handle kept by a caller still reads ``done``, ``committed`` and ``is_cancelled``.
        """
        if not self._pool_done.is_set():  # the pool thread is still returning from its emit
            QtCore.QTimer.singleShot(1, self._let_go)
            return
        _live_jobs.discard(self)
        self.deleteLater()

    def cancel(self) -> None:
        """Ask the job to stop; ignored once it has committed (see :meth:`commit`)."""
        with self._commit_lock:
            if not self.committed:
                self._cancel.set()

    def commit(self) -> None:
        """Call from the job function just before a step that cannot be taken back (replacing
        the user's file): raises :class:`Cancelled` if cancelled by now, else makes any later
        cancel a no-op, so the job is reported finished, never "cancelled" after the fact."""
        with self._commit_lock:
            self.check()
            self.committed = True

    @property
    def is_cancelled(self) -> bool:
        return self._cancel.is_set()

    def check(self) -> None:
        """Call often from the job function: raises :class:`Cancelled` after :meth:`cancel`."""
        if self._cancel.is_set():
            raise Cancelled

    def report(self, fraction: float, message: str = "") -> None:
        self.check()
        try:
            self._progress_raw.emit(float(fraction), message)
        except RuntimeError:  # the application is shutting down: nobody is listening
            raise Cancelled from None


class _Runnable(QtCore.QRunnable):
    def __init__(self, fn: Callable[[Job], Any], job: Job) -> None:
        super().__init__()
        self.fn = fn
        self.job = job

    def run(self) -> None:
        job, self.job = self.job, None
        fn, self.fn = self.fn, None
        pool_done = job._pool_done
        try:
            _run(fn, job)
        finally:
            del job, fn  # the GUI thread may delete the job as soon as it is told
            pool_done.set()


def _run(fn: Callable[[Job], Any], job: Job) -> None:
    try:
        result = fn(job)
    except Cancelled:
        outcome = ("cancelled", None)
    except Exception as exc:  # delivered to the GUI thread, shown to the user there
        exc.__traceback_text__ = traceback.format_exc()
        # without its traceback, which holds this frame and so the job: a reference loop
        # would leave the job to the garbage collector, on whatever thread it runs
        outcome = ("failed", exc.with_traceback(None))
    else:
        outcome = ("cancelled" if job.is_cancelled else "finished", result)
    try:
        job._outcome_raw.emit(*outcome)
    except RuntimeError:  # the Job was deleted with the application: nothing to tell
        pass


_live_jobs: set[Job] = set()


def run_in_background(
    fn: Callable[[Job], Any],
    *,
    on_done: Callable[[Any], None] | None = None,
    on_error: Callable[[BaseException], None] | None = None,
    on_progress: Callable[[float, str], None] | None = None,
    on_end: Callable[[], None] | None = None,
    pool: QtCore.QThreadPool | None = None,
) -> Job:
    """Run ``fn(job)`` off the GUI thread; callbacks run on the GUI thread."""
    job = Job()
    if on_done:
        job.finished.connect(on_done)
    if on_error:
        job.failed.connect(on_error)
    if on_progress:
        job.progress.connect(on_progress)
    if on_end:
        job.ended.connect(on_end)
    _live_jobs.add(job)  # kept alive until it has ended (then deleted on the GUI thread)
    (pool or QtCore.QThreadPool.globalInstance()).start(_Runnable(fn, job))
    return job


class LatestRequest(QtCore.QObject):
    """One panel's "latest request wins" channel for background work.

    Each :meth:`submit` gets a new request id, cancels the job of the request before it, and
    runs ``fn(job)`` on the pool. Callbacks fire on the GUI thread only while their request is
    still the latest: a result, error or progress report of a superseded request is dropped, so
    a slow old job can never show its result over a newer one, whatever order they end in.

    >>> req = LatestRequest(panel)
    >>> req.submit(lambda job: heavy(image), on_done=show)   # request 1
    >>> req.submit(lambda job: heavy(other), on_done=show)   # request 2: 1 is cancelled, dropped
    """

    def __init__(self, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self._id = 0
        self._job: Job | None = None

    @property
    def current(self) -> int:
        """Id of the latest request (0 before the first)."""
        return self._id

    @property
    def job(self) -> Job | None:
        """The latest request's job while it runs, else None."""
        return self._job

    @property
    def busy(self) -> bool:
        return self._job is not None

    def is_current(self, request_id: int) -> bool:
        return request_id == self._id

    def cancel(self) -> None:
        """Cancel the running job and make every outstanding request stale."""
        self._id += 1
        if self._job is not None:
            self._job.cancel()
            self._job = None

    def submit(
        self,
        fn: Callable[[Job], Any],
        *,
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        on_progress: Callable[[float, str], None] | None = None,
        on_end: Callable[[], None] | None = None,
        pool: QtCore.QThreadPool | None = None,
    ) -> int:
        """Start ``fn(job)`` as the latest request and return its id.

        ``on_end`` runs when the latest request's job ends (done, failed or cancelled), not
        for superseded ones: use it to hide a busy indicator.
        """
        self.cancel()
        request_id = self._id

        def alive_and_current() -> bool:
            # a channel is a child of its panel: once the panel is gone, so is every result
            return shiboken6.isValid(self) and self.is_current(request_id)

        def latest(callback):
            if callback is None:
                return None
            return lambda *args: callback(*args) if alive_and_current() else None

        def ended() -> None:
            if alive_and_current():
                self._job = None
                if on_end is not None:
                    on_end()

        self._job = run_in_background(
            fn, on_done=latest(on_done), on_error=latest(on_error),
            on_progress=latest(on_progress), on_end=ended, pool=pool)
        return request_id
