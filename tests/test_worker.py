"""Background jobs: progress, cancel, and commit (after which a cancel no longer applies)."""

from __future__ import annotations

import gc
import threading
import weakref

from PySide6 import QtCore

from workbench.ui.worker import run_in_background


def _run(qtbot, fn):
    outcome = {}
    job = run_in_background(fn, on_done=lambda v: outcome.setdefault("done", v),
                            on_error=lambda e: outcome.setdefault("error", e))
    job.cancelled.connect(lambda: outcome.setdefault("cancelled", True))
    return job, outcome


def test_cancel_stops_a_job_at_its_next_report(qtbot):
    gate = threading.Event()

    def work(job):
        gate.wait(5)
        for i in range(100):
            job.report(i / 100, "working")
        return "all done"

    job, outcome = _run(qtbot, work)
    job.cancel()
    gate.set()
    with qtbot.waitSignal(job.ended, timeout=5000):
        pass
    assert outcome == {"cancelled": True}


def test_a_cancel_after_commit_is_ignored_and_the_job_finishes(qtbot):
    committed, resume = threading.Event(), threading.Event()

    def work(job):
        job.commit()
        committed.set()
        resume.wait(5)  # the user clicks Cancel here, while the file is being written
        return "written"

    job, outcome = _run(qtbot, work)
    assert committed.wait(5)
    job.cancel()
    assert not job.is_cancelled
    resume.set()
    with qtbot.waitSignal(job.ended, timeout=5000):
        pass
    assert outcome == {"done": "written"}


def test_commit_after_a_cancel_stops_the_job(qtbot):
    cancelled, steps = threading.Event(), []

    def work(job):
        cancelled.wait(5)
        job.commit()
        steps.append("irreversible step")

    job, outcome = _run(qtbot, work)
    job.cancel()
    cancelled.set()
    with qtbot.waitSignal(job.ended, timeout=5000):
        pass
    assert outcome == {"cancelled": True} and steps == []


def test_latest_request_wins_when_results_arrive_out_of_order(qtbot):
    """The first request finishes last on purpose: its result must be dropped."""
    from workbench.ui.worker import LatestRequest

    req = LatestRequest()
    first_may_finish, second_done = threading.Event(), threading.Event()
    shown, ends = [], []

    def slow_old(job):
        first_may_finish.wait(5)
        return "A"  # ignores cancellation, like an ONNX run that cannot be interrupted

    def fast_new(job):
        second_done.set()
        return "B"

    first = req.submit(slow_old, on_done=shown.append, on_end=lambda: ends.append("end"))
    old_job = req.job
    second = req.submit(fast_new, on_done=shown.append, on_end=lambda: ends.append("end"))
    assert second != first and req.is_current(second) and not req.is_current(first)
    assert old_job.is_cancelled
    qtbot.waitUntil(lambda: shown == ["B"], timeout=5000)
    first_may_finish.set()
    with qtbot.waitSignal(old_job.ended, timeout=5000):
        pass
    qtbot.wait(20)
    assert shown == ["B"]  # A arrived after B and was dropped
    assert ends == ["end"] and not req.busy


def test_latest_request_drops_stale_errors_and_progress(qtbot):
    from workbench.ui.worker import LatestRequest

    req = LatestRequest()
    gate = threading.Event()
    seen = []

    def old(job):
        gate.wait(5)
        try:
            job.report(0.5, "old")
        except Exception:
            pass
        raise RuntimeError("old failure")

    req.submit(old, on_error=seen.append, on_progress=lambda f, m: seen.append(m))
    old_job = req.job
    req.cancel()
    assert not req.busy
    gate.set()
    with qtbot.waitSignal(old_job.ended, timeout=5000):
        pass
    qtbot.wait(20)
    assert seen == []


def test_a_result_already_on_its_way_is_dropped_once_superseded(qtbot):
    """A finished before B was asked for, but its result had not reached the GUI thread yet
    (cancelling A can no longer stop it): only the request id keeps it off the screen."""
    from PySide6 import QtCore

    from workbench.ui.worker import LatestRequest

    req = LatestRequest()
    shown = []
    release_b = threading.Event()
    req.submit(lambda job: "A", on_done=shown.append)
    assert QtCore.QThreadPool.globalInstance().waitForDone(5000)  # A's outcome is queued
    req.submit(lambda job: release_b.wait(5) and "B", on_done=shown.append)
    qtbot.wait(50)  # A's queued result is delivered here
    assert shown == []
    release_b.set()
    qtbot.waitUntil(lambda: shown == ["B"], timeout=5000)


def test_results_for_a_panel_that_is_gone_are_dropped(qtbot):
    """The channel is a child of its panel: a job ending after the panel was deleted must not
    call into it (it used to raise 'Internal C++ object already deleted')."""
    from PySide6 import QtCore

    from workbench.ui.worker import LatestRequest

    owner = QtCore.QObject()
    req = LatestRequest(owner)
    release, seen = threading.Event(), []
    req.submit(lambda job: release.wait(5) and "late", on_done=seen.append,
               on_end=lambda: seen.append("end"))
    job = req.job
    owner.deleteLater()
    qtbot.waitUntil(lambda: not __import__("shiboken6").isValid(req), timeout=5000)
    release.set()
    with qtbot.waitSignal(job.ended, timeout=5000):
        pass
    qtbot.wait(20)
    assert seen == []


class _Photo:
    """Stands in for what a callback's closure holds (a photo, a request)."""


def test_an_ended_job_lets_go_of_its_callbacks_and_what_they_hold(qtbot):
    # every prediction's callbacks used to stay alive for good (the job held a callback that
    # held the job): a long session kept every photo it had ever predicted on
    photos = []
    for outcome in ("finished", "failed", "cancelled"):
        photo = _Photo()
        photos.append(weakref.ref(photo))

        def work(job, outcome=outcome):
            if outcome == "failed":
                raise ValueError("bad photo")
            if outcome == "cancelled":
                job.cancel()
                job.check()
            return 1

        job = run_in_background(work, on_done=lambda r, photo=photo: None,
                                on_error=lambda e, photo=photo: None,
                                on_end=lambda photo=photo: None)
        with qtbot.waitSignal(job.ended, timeout=10000):
            pass
        assert job.done
        del photo, job
    qtbot.waitUntil(lambda: all(ref() is None for ref in photos), timeout=10000)


def test_jobs_are_deleted_on_the_gui_thread(qtbot):
    # a QObject deleted on a pool thread races the GUI thread delivering its signals; a failed
    # job's traceback must not hold it in a loop only the garbage collector (any thread) frees
    deleted_on = []

    def work(job, i):
        if i % 2:
            raise ValueError("bad photo")
        return i

    gc.disable()
    try:
        for i in range(20):
            job = run_in_background(lambda job, i=i: work(job, i))
            job.destroyed.connect(lambda *_: deleted_on.append(threading.get_ident()),
                                  QtCore.Qt.ConnectionType.DirectConnection)
            del job
        qtbot.waitUntil(lambda: len(deleted_on) == 20, timeout=10000)
    finally:
        gc.enable()
    assert set(deleted_on) == {threading.main_thread().ident}
