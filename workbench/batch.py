"""One batch layer for every tool: many independent tasks, inline, on local processes or on Dask.

A *job* says how to do one task (a :class:`BatchJob`: ``setup()`` loads the heavy state once per
worker, ``run(state, task)`` reads ``task.source`` and writes ``task.output``); a *task* is one
input and its output. :func:`run_batch` runs the tasks

* inline, one after another in this process (the default; no new dependency),
* on ``workers`` local processes (``--workers N``), each with the state loaded once, or
* on Dask (``--scheduler local`` starts a ``LocalCluster`` of worker processes here,
  ``--scheduler tcp://host:8786`` uses an existing cluster, e.g. one started by dask-jobqueue or
  on Kubernetes). Dask is the optional ``cluster`` extra, imported only when asked for.

Every task's output is written atomically by the job (:func:`workbench.imaging.io.write_image`
writes a temporary file and renames it), and the driver appends a line per finished task to a
manifest (``.workbench-batch.jsonl``) in the output folder. ``resume=True`` skips the tasks the
manifest lists whose outputs exist, so a job killed at any moment loses at most the tasks in
flight. A task that fails is reported with its reason and never stops the job.

Qt-free: the panels' folder jobs call it from a background job (inline), the commands from the
terminal (with a progress bar).
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from workbench.errors import InputError, WorkbenchError

MANIFEST = ".workbench-batch.jsonl"


class NotDone(WorkbenchError):
    """Raised by a job for a task it leaves to the user, not a failure: ``kind`` names why
    (e.g. ``"not_found"``: no rectangle in the photo); the report lists these apart."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class Task:
    """One input and where its result goes."""

    source: str
    output: str


class BatchJob(Protocol):
    """How to do one task. Must pickle (it travels to worker processes and Dask workers)."""

    name: str

    def setup(self) -> Any:
        """The heavy state (a model session, a gallery), loaded once per worker."""

    def run(self, state: Any, task: Task) -> None:
        """Do one task; write ``task.output`` atomically. Raise a WorkbenchError to fail it."""


@dataclass
class BatchReport:
    written: list[Path] = field(default_factory=list)
    done: list[Task] = field(default_factory=list)  # the tasks behind ``written``
    skipped: list[Path] = field(default_factory=list)  # done by an earlier run (resume)
    failed: list[tuple[Path, str]] = field(default_factory=list)  # (input, reason)
    not_done: dict[str, list[Path]] = field(default_factory=dict)  # NotDone kind -> inputs
    cancelled: bool = False
    seconds: float = 0.0
    where: str = "inline"
    dashboard: str | None = None


def make_out_dir(out_dir: str | Path) -> Path:
    """``out_dir`` as a Path, created (with its parents) if needed.

    Raises
    ------
    InputError
        The folder cannot be created (the message names it and says why).
    """
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"Cannot create output folder '{out_dir}': {exc.strerror}") from exc
    return out_dir


def tasks_for(inputs: Sequence[Path], out_dir: str | Path, suffix: str = ".png",
              variants: Sequence[str] = ("",)) -> list[Task]:
    """``<stem><suffix>`` per input in ``out_dir``; an input whose name is taken gets
    ``<stem>_2``, ``<stem>_3``, … (one result never overwrites another).

    ``variants`` are the endings a caller adds to each output's stem (``colorize --compare``
    writes ``<stem>_A``, ``<stem>_B`` and ``<stem>_A_vs_B``): a stem is taken when any of its
    variants is another input's. Names compare without case, as on macOS and Windows.

    >>> [t.output for t in tasks_for([Path("a/x.jpg"), Path("b/x.png"), Path("x_2.png")], "out")]
    ['out/x.png', 'out/x_2.png', 'out/x_2_2.png']
    """
    out_dir = Path(out_dir)
    used: set[str] = set()
    next_n: dict[str, int] = {}  # where to look next for a stem (linear, not quadratic, in
    tasks = []                   # the number of inputs that share it)
    for p in inputs:
        key = p.stem.casefold()
        n = next_n.get(key, 1)
        while True:
            stem = p.stem if n == 1 else f"{p.stem}_{n}"
            names = {f"{stem}{v}{suffix}".casefold() for v in variants}
            if not names & used:
                break
            n += 1
        next_n[key] = n + 1
        used |= names
        tasks.append(Task(str(p), str(out_dir / f"{stem}{suffix}")))
    return tasks


def expand_inputs(inputs: Iterable[str | Path], extensions: Sequence[str]) -> list[Path]:
    """Files as given, folders replaced by the files in them with one of ``extensions``
    (sorted by name); a missing input is an :class:`InputError`."""
    out = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            out += sorted(p for p in path.iterdir()
                          if p.is_file() and p.suffix.lower() in extensions)
        elif path.exists():
            out.append(path)
        else:
            raise InputError(f"No such file or folder: {path}")
    return out


# ------------------------------------------------------------------------------- manifest
def _manifest_path(tasks: Sequence[Task]) -> Path | None:
    return Path(tasks[0].output).parent / MANIFEST if tasks else None


def finished_outputs(manifest: Path) -> set[str]:
    """Outputs the manifest records as written (a torn last line is ignored)."""
    done = set()
    try:
        lines = manifest.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return done
    for line in lines:
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue  # the job was killed while writing this line
        if entry.get("status") == "done":
            done.add(entry["output"])
    return done


class _Manifest:
    def __init__(self, path: Path, job: str, resume: bool) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        torn = False
        if resume and path.exists() and path.stat().st_size:
            with path.open("rb") as fh:  # a job killed mid-line: start on a fresh line
                fh.seek(-1, os.SEEK_END)
                torn = fh.read(1) != b"\n"
        self._fh = path.open("a" if resume else "w", encoding="utf-8")
        if torn:
            self._fh.write("\n")
        self.job = job

    def record(self, task: Task, status: str, reason: str = "") -> None:
        entry = {"output": task.output, "source": task.source, "status": status,
                 "job": self.job, "time": round(time.time(), 3)}
        if reason:
            entry["reason"] = reason
        self._fh.write(json.dumps(entry) + "\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def close(self) -> None:
        self._fh.close()


def _remove_partial_files(tasks: Sequence[Task]) -> None:
    """Temporary files a killed run left beside its outputs (an atomic write is a temporary
    file renamed at the end: a kill between the two leaves ``.<name>.<random>.tmp``)."""
    for task in tasks:
        output = Path(task.output)
        for partial in output.parent.glob(f".{output.name}.*.tmp"):
            partial.unlink(missing_ok=True)


# ------------------------------------------------------------------------------- workers
_STATE: dict[str, Any] = {}  # per process: job key -> state (worker processes, Dask workers)


def _job_key(job: BatchJob) -> str:
    return f"{type(job).__module__}.{type(job).__qualname__}:{job!r}"


def _run_task(job: BatchJob, task: Task) -> tuple[str, str]:
    """Run one task in a worker; (status, reason). The state is loaded on first use."""
    key = _job_key(job)
    try:
        if key not in _STATE:
            _STATE[key] = job.setup()
        job.run(_STATE[key], task)
    except NotDone as exc:
        return exc.kind, str(exc)
    except WorkbenchError as exc:
        return "failed", str(exc)
    except Exception as exc:  # a bug or a broken file: reported for this task, job goes on
        return "failed", f"internal error: {type(exc).__name__}: {exc}"
    return "done", ""


class ProgressBar:
    """Tasks done, rate and time left, on one terminal line (stderr)."""

    def __init__(self, total: int, stream=None, label: str = "") -> None:
        self.total, self.label = total, label
        self.stream = stream or sys.stderr
        self.start = time.perf_counter()
        self.done = 0

    def update(self, done: int, note: str = "") -> None:
        self.done = done
        elapsed = max(time.perf_counter() - self.start, 1e-9)
        rate = done / elapsed
        left = (self.total - done) / rate if rate > 0 else float("nan")
        width = 24
        filled = int(width * done / max(self.total, 1))
        eta = f"{left:5.0f} s left" if left == left else "   ? s left"
        self.stream.write(f"\r{self.label}[{'#' * filled}{'.' * (width - filled)}] "
                          f"{done}/{self.total} · {rate:5.2f}/s · {eta} {note[:30]:<30}")
        self.stream.flush()

    def close(self) -> None:
        self.stream.write("\n")
        self.stream.flush()


def _dask_client(scheduler: str, workers: int):
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise InputError("Dask is not installed: pip install 'workbench[cluster]' (or run "
                         "without --scheduler)") from None
    if scheduler == "local":
        cluster = LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1,
                               processes=True, dashboard_address=":0")
        return Client(cluster), cluster
    try:
        return Client(scheduler, timeout="10s"), None
    except OSError as exc:
        raise InputError(f"Cannot reach the Dask scheduler at {scheduler}: {exc}") from None


def run_batch(
    job: BatchJob,
    tasks: Sequence[Task],
    *,
    workers: int = 0,
    scheduler: str | None = None,
    resume: bool = False,
    state: Any = None,
    progress: Callable[[int, int, Task], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    on_start: Callable[[BatchReport], None] | None = None,
) -> BatchReport:
    """Run ``tasks`` with ``job``; see the module docstring.

    ``workers`` > 0 runs them on that many local processes (with ``scheduler``: the size of a
    local Dask cluster). ``state`` (inline only) is a ready state, e.g. the model a panel has
    loaded. ``progress(done, total, task)`` is called in this thread as tasks finish;
    ``cancelled()`` is polled between tasks (tasks in flight finish). ``on_start`` gets the
    report before the first task (its ``where`` and ``dashboard`` filled in).
    """
    start = time.perf_counter()
    report = BatchReport()
    tasks = list(tasks)
    manifest_path = _manifest_path(tasks)
    if manifest_path is None:
        return report
    try:
        manifest = _Manifest(manifest_path, job.name, resume)
    except OSError as exc:
        raise InputError(f"Cannot write to '{manifest_path.parent}': {exc.strerror}") from exc
    if resume:
        _remove_partial_files(tasks)
        done = finished_outputs(manifest_path)
        todo = []
        for task in tasks:
            if task.output in done and Path(task.output).exists():
                report.skipped.append(Path(task.output))
            else:
                todo.append(task)
    else:
        todo = tasks
    total = len(tasks)
    count = [len(report.skipped)]

    def finished(task: Task, status: str, reason: str) -> None:
        manifest.record(task, status, reason)
        if status == "done":
            report.written.append(Path(task.output))
            report.done.append(task)
        elif status == "failed":
            report.failed.append((Path(task.source), reason))
        else:
            report.not_done.setdefault(status, []).append(Path(task.source))
        count[0] += 1
        if progress is not None:
            progress(count[0], total, task)

    stop = cancelled or (lambda: False)
    try:
        if scheduler:
            _run_dask(job, todo, scheduler, workers, report, finished, stop, on_start)
        elif workers > 0:
            report.where = f"{workers} local processes"
            if on_start:
                on_start(report)
            _run_processes(job, todo, workers, finished, stop, report)
        else:
            if on_start:
                on_start(report)
            if state is not None:
                _STATE[_job_key(job)] = state
            try:
                for task in todo:
                    if stop():
                        report.cancelled = True
                        break
                    finished(task, *_run_task(job, task))
            finally:
                if state is not None:
                    _STATE.pop(_job_key(job), None)
    finally:
        manifest.close()
    report.seconds = time.perf_counter() - start
    return report


def _run_processes(job, todo, workers, finished, stop, report) -> None:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # spawn, not fork: the caller may hold threads (Qt, ONNX Runtime) a fork would break
    context = multiprocessing.get_context("spawn")
    queue = iter(todo)
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        pending: dict = {}
        try:
            while True:
                while len(pending) < 2 * workers and not stop():
                    task = next(queue, None)
                    if task is None:
                        break
                    pending[pool.submit(_run_task, job, task)] = task
                if not pending:
                    report.cancelled = stop() and next(queue, None) is not None
                    break
                ready, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in ready:
                    finished(pending.pop(future), *future.result())
        finally:
            for future in pending:
                future.cancel()


def _run_dask(job, todo, scheduler, workers, report, finished, stop, on_start) -> None:
    client, cluster = _dask_client(scheduler, workers)
    try:
        from dask.distributed import as_completed

        report.where = f"Dask at {client.scheduler.address}"
        report.dashboard = client.dashboard_link
        if on_start:
            on_start(report)
        futures = {client.submit(_run_task, job, task, pure=False): task for task in todo}
        results = as_completed(futures)
        for future in results:
            finished(futures[future], *future.result())
            if stop():
                report.cancelled = True
                client.cancel(list(futures))
                break
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
