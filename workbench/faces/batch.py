"""Recognise the faces in many photos: ``workbench faces recognize IN... --out-dir DIR``. No Qt.

Built on :mod:`workbench.batch`: inline by default, on ``workers`` local processes or on Dask
(``scheduler``), resumable (``resume``). Each photo is one task; its result, the object that
``faces recognize --json`` prints for one image (``{"image": ..., "faces": [...]}``), is written
atomically as ``<stem>.json`` into the output folder (a temporary file renamed at the end), and
the batch manifest records it. A photo that cannot be read is reported with the reason and never
stops the job.

The gallery is opened **read-only** (SQLite ``mode=ro``) once per worker, not per task: the
worker reads the recognizer (the model the gallery has cached) and the crop settings, closes the
gallery and keeps them for all its tasks. Workers never write to the gallery, so any number of
them can share it (on a cluster: from storage they all reach). The command opens it first as
``faces recognize`` always has, so the model cache is up to date before the workers start.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.batch import BatchReport, Task, make_out_dir, run_batch, tasks_for
from workbench.errors import InputError
from workbench.imaging.io import SUPPORTED_READ_EXTENSIONS, read_image

__all__ = ["RecognizeJob", "expand_photos", "recognize_files", "read_results"]


def expand_photos(inputs: Iterable[str | Path]) -> list[Path]:
    """Files as given (a missing one fails as its task), folders replaced by the image files
    directly inside them, sorted by name."""
    out: list[Path] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            out += sorted(p for p in path.iterdir()
                          if p.is_file() and p.suffix.lower() in SUPPORTED_READ_EXTENSIONS)
        else:
            out.append(path)
    return out


def _write_json_atomic(path: Path, doc: Any) -> None:
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(temporary, "w", encoding="utf-8") as fh:
            fh.write(json.dumps(doc))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise InputError(f"Cannot write '{path}': {exc.strerror or exc}") from None


@dataclass(frozen=True)
class RecognizeJob:
    """Name the faces in one photo per task, with the gallery read once per worker."""

    db: str
    aligned: bool = False
    include_non_faces: bool = False
    name: str = "faces-recognize"

    def setup(self):
        from workbench.faces.detect import FaceDetector
        from workbench.faces.gallery import Gallery

        with Gallery(self.db, read_only=True) as gallery:
            recognizer = gallery.recognizer()
            detector = FaceDetector(size=gallery.face_size, illumination=gallery.illumination)
        return recognizer, detector

    def recognize(self, state, source: str) -> dict:
        """The ``--json`` object for one photo."""
        recognizer, detector = state
        results = recognizer.recognize_image(read_image(source), detector, aligned=self.aligned,
                                             include_non_faces=self.include_non_faces)
        return {"image": source, "faces": [r.to_json() for r in results]}

    def run(self, state, task: Task) -> None:
        _write_json_atomic(Path(task.output), self.recognize(state, task.source))


def recognize_files(
    db: str | Path,
    inputs: Iterable[str | Path],
    out_dir: str | Path,
    *,
    aligned: bool = False,
    include_non_faces: bool = False,
    state: Any = None,
    workers: int = 0,
    scheduler: str | None = None,
    resume: bool = False,
    progress: Callable[[int, int, Task], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    on_start=None,
) -> tuple[list[Task], BatchReport]:
    """Recognise the faces in ``inputs`` (files or folders) into ``out_dir`` (created if needed):
    ``(tasks in input order, report)``.

    ``state`` (inline only): ``(recognizer, detector)`` already loaded, e.g. by the command that
    opened the gallery; otherwise each worker opens ``db`` read-only itself. The rest as in
    :func:`workbench.batch.run_batch`.
    """
    files = expand_photos(inputs)
    out_dir = make_out_dir(out_dir)
    job = RecognizeJob(str(Path(db).resolve()), aligned, include_non_faces)
    tasks = tasks_for(files, out_dir, suffix=".json")
    inline = workers == 0 and not scheduler
    report = run_batch(job, tasks, workers=workers, scheduler=scheduler, resume=resume,
                       state=state if inline else None, progress=progress, cancelled=cancelled,
                       on_start=on_start)
    return tasks, report


def read_results(tasks: Iterable[Task]) -> list[dict]:
    """The per-photo objects written for ``tasks``, in their order (tasks with no output, e.g.
    failed ones, are left out)."""
    out = []
    for task in tasks:
        try:
            out.append(json.loads(Path(task.output).read_text(encoding="utf-8")))
        except FileNotFoundError:
            continue
    return out
