"""Background jobs: progress, cancel, and commit (after which a cancel no longer applies)."""

from __future__ import annotations

import threading

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
