"""Measure recognition on your own people: ``workbench faces evaluate DATASET_DIR``.

A data set is a folder with one sub-folder per person, each holding that person's photos (full
photos: the faces are found and aligned as ``faces enroll`` does; or aligned crops). Photos are
taken in file-name order: the first ``enrol`` of each person are enrolled, the rest recognised.
Name the files so that this order is the order they were taken in (e.g. by date), since photos
taken seconds apart are near copies and would flatter the figures if split across the two sides.
With ``strangers`` N, the last N people (in name order) are not enrolled at all: every photo of
theirs is a stranger that should come out "unknown".

The recogniser is trained and its thresholds tuned exactly as a gallery does it
(:func:`train_recognizer`), so the figures are the ones a user of the panel gets:

* **rank-1** (closed set): the fraction of enrolled people's test photos whose nearest enrolled
  person is the right one, thresholds ignored;
* **named correctly**: the fraction of those photos named, and named right, at the tuned
  thresholds (a photo without a detected face counts as not named);
* **strangers rejected**: the fraction of strangers' photos that are not named (``unknown`` or
  ``not a face``);
* **ROC AUC** of the distance to the nearest person, enrolled people's test photos against the
  strangers' (without strangers: against each test photo's nearest *other* person);
* **timing**: detection + alignment per photo, training with threshold tuning, recognition per face.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from workbench.errors import WorkbenchError
from workbench.faces import metrics
from workbench.faces.eigenfaces import Progress, report_progress
from workbench.faces.gallery import train_recognizer
from workbench.faces.recognize import Recognizer

__all__ = [
    "EvaluationReport",
    "IMAGE_SUFFIXES",
    "dataset_people",
    "evaluate_crops",
    "evaluate_folder",
]

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".pgm", ".ppm", ".bmp", ".tif", ".tiff", ".webp")


@dataclass(frozen=True)
class EvaluationReport:
    """What :func:`evaluate_folder` / :func:`evaluate_crops` measured (see the module notes)."""

    method: str
    people: int
    enrolled_faces: int
    test_faces: int
    strangers: int
    stranger_faces: int
    rank1: float
    named_correctly: float
    strangers_rejected: float
    auc: float
    identity_threshold: float
    face_threshold: float
    not_a_face: float
    missed: int = 0
    alignment: dict[str, int] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    seconds: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["warnings"] = list(self.warnings)
        for key, value in data.items():
            if isinstance(value, float) and not math.isfinite(value):
                data[key] = None
        return data

    def lines(self) -> list[str]:
        """The report as text, one figure per line."""
        pct = lambda v: "n/a" if math.isnan(v) else f"{100 * v:.1f} %"  # noqa: E731
        out = [
            f"method: {self.method}",
            f"people enrolled: {self.people} ({self.enrolled_faces} faces); test faces: "
            f"{self.test_faces}; strangers: {self.strangers} ({self.stranger_faces} faces)",
            f"rank-1 (closed set): {pct(self.rank1)}",
            f"named correctly: {pct(self.named_correctly)}",
            f"strangers rejected: {pct(self.strangers_rejected)}",
            f"ROC AUC: {'n/a' if math.isnan(self.auc) else f'{self.auc:.3f}'}",
            f"called not a face: {pct(self.not_a_face)} of enrolled people's test faces",
            f"thresholds: identity {self.identity_threshold:.3g}, face {self.face_threshold:.3g}",
        ]
        if self.missed:
            out.append(f"no face found in {self.missed} photo(s)")
        if self.alignment:
            out.append("aligned by: " + ", ".join(f"{k} {v}" for k, v in
                                                  sorted(self.alignment.items())))
        out += [f"time: {k} {v * 1000:.1f} ms" if k.endswith("per face") else
                f"time: {k} {v:.2f} s" for k, v in self.seconds.items()]
        out += [f"warning: {w}" for w in self.warnings]
        return out


def _natural(path: Path) -> list:
    """Sort key: numbers in names by value ("2.pgm" before "10.pgm")."""
    return [int(part) if part.isdigit() else part.casefold()
            for part in re.split(r"(\d+)", path.name)]


def dataset_people(folder: str | Path) -> dict[str, list[Path]]:
    """The people of a data set folder and their image files, in name order (numbers in
    names by value, so "2.jpg" comes before "10.jpg").

    Raises
    ------
    WorkbenchError
        Not a folder, or no sub-folder with images.
    """
    root = Path(folder)
    if not root.is_dir():
        raise WorkbenchError(f"'{root}' is not a folder (expected one sub-folder per person)")
    people = {}
    for sub in sorted((p for p in root.iterdir() if p.is_dir()), key=_natural):
        files = sorted((f for f in sub.iterdir()
                        if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES), key=_natural)
        if files:
            people[sub.name] = files
    if not people:
        raise WorkbenchError(f"'{root}' has no sub-folders with images (expected one per person)")
    return people


def evaluate_crops(
    enrol: np.ndarray,
    enrol_names: Sequence[str],
    test: np.ndarray,
    test_names: Sequence[str],
    strangers: np.ndarray | None = None,
    *,
    method: str = "fisherfaces",
    train: Callable[[np.ndarray, list[str]], Recognizer] | None = None,
    missed_tests: int = 0,
    missed_strangers: int = 0,
    progress: Progress | None = None,
) -> EvaluationReport:
    """Train on aligned crops, recognise the test and stranger crops, and measure.

    Parameters
    ----------
    enrol, test, strangers : ndarray, shape (N, H, W)
        Aligned, normalised crops (strangers may be None or empty).
    enrol_names, test_names : sequence of str
    method : str
        Model method for :func:`train_recognizer` (ignored when ``train`` is given).
    train : callable, optional
        ``train(crops, names) -> Recognizer`` to measure another recogniser.
    missed_tests, missed_strangers : int
        Test photos of enrolled people / strangers where no face was found: they count as
        not named (a missed stranger counts as rejected).
    """
    enrol_names = [str(n) for n in enrol_names]
    test_names = [str(n) for n in test_names]
    strangers = np.zeros((0, *enrol.shape[1:]), np.uint8) if strangers is None else strangers
    report_progress(progress, 0.0, "training")
    start = time.perf_counter()
    recognizer = (train or (lambda c, n: train_recognizer(c, n, method=method)))(
        enrol, enrol_names)
    train_seconds = time.perf_counter() - start
    report_progress(progress, 0.7, "recognising")
    start = time.perf_counter()
    known = recognizer.recognize_many(test) if len(test) else []
    unknown = recognizer.recognize_many(strangers) if len(strangers) else []
    count = len(test) + len(strangers)
    per_face = (time.perf_counter() - start) / count if count else float("nan")
    total_tests = len(test) + missed_tests
    rank1 = (sum(r.nearest == n for r, n in zip(known, test_names, strict=True)) / total_tests
             if total_tests else float("nan"))
    named = (sum(r.name == n for r, n in zip(known, test_names, strict=True)) / total_tests
             if total_tests else float("nan"))
    total_strangers = len(strangers) + missed_strangers
    rejected = ((sum(r.status != "known" for r in unknown) + missed_strangers) / total_strangers
                if total_strangers else float("nan"))
    not_face = (sum(r.status == "not a face" for r in known) / len(known)
                if known else float("nan"))
    auc = _auc(recognizer, test, test_names, unknown)
    warnings = []
    enrolled_people = sorted(set(enrol_names))
    if total_tests and rank1 < 0.8:
        warnings.append(f"rank-1 is only {100 * rank1:.0f} %: check the photos (lighting, pose, "
                        "size) or enrol more shots per person")
    report_progress(progress, 1.0, "done")
    return EvaluationReport(
        method=recognizer.model.kind, people=len(enrolled_people),
        enrolled_faces=len(enrol_names), test_faces=total_tests,
        strangers=0, stranger_faces=total_strangers, rank1=float(rank1),
        named_correctly=float(named), strangers_rejected=float(rejected), auc=float(auc),
        identity_threshold=recognizer.identity_threshold,
        face_threshold=recognizer.face_threshold, not_a_face=float(not_face),
        missed=missed_tests + missed_strangers,
        warnings=tuple(warnings) + tuple(getattr(recognizer, "warnings", ())),
        seconds={"training and threshold tuning": train_seconds,
                 "recognition per face": per_face})


def _auc(recognizer: Recognizer, test: np.ndarray, test_names: list[str],
         unknown: list) -> float:
    if not len(test):
        return float("nan")
    model = recognizer.model
    table = model.distances(test)
    columns = np.searchsorted(model.classes_, test_names)
    inside = np.isin(test_names, model.classes_)
    genuine = table[np.arange(len(test_names)), np.minimum(columns, len(model.classes_) - 1)]
    genuine = genuine[inside]
    if unknown:
        impostor = np.array([r.distance for r in unknown])
    elif len(model.classes_) >= 2:
        others = table.copy()
        others[np.arange(len(test_names))[inside], columns[inside]] = np.inf
        impostor = others.min(axis=1)[inside]
    else:
        return float("nan")
    if not genuine.size or not impostor.size:
        return float("nan")
    truth = np.r_[np.ones(genuine.size, bool), np.zeros(impostor.size, bool)]
    return metrics.roc_auc(truth, np.r_[genuine, impostor], greater_is_positive=False)


def evaluate_folder(
    folder: str | Path,
    *,
    enrol: int = 5,
    strangers: int = 0,
    method: str = "fisherfaces",
    aligned: bool = False,
    progress: Progress | None = None,
) -> EvaluationReport:
    """Evaluate recognition on a data set folder (see the module notes).

    Raises
    ------
    WorkbenchError
        Not a data set folder, too few people or photos for the split asked for.
    """
    from workbench.faces.detect import FaceDetector
    from workbench.imaging.io import read_image

    if enrol < 1 or strangers < 0:
        raise WorkbenchError("--enrol must be at least 1 and --strangers at least 0")
    people = dataset_people(folder)
    names = list(people)
    if strangers >= len(names) - 1:
        raise WorkbenchError(f"{len(names)} people in '{folder}': at least two must be enrolled "
                             f"when {strangers} are strangers")
    known, outsiders = names[:len(names) - strangers], names[len(names) - strangers:]
    short = [n for n in known if len(people[n]) <= enrol]
    if len(short) == len(known):
        raise WorkbenchError(f"no one in '{folder}' has more than {enrol} photos: nothing would "
                             "be left to recognise (lower --enrol)")
    detector = FaceDetector()
    total = sum(len(people[n]) for n in names)
    done = 0
    seconds = 0.0
    alignment: dict[str, int] = {}

    def crops_of(paths: list[Path]) -> tuple[list[np.ndarray], int]:
        nonlocal done, seconds
        out, missed = [], 0
        for path in paths:
            report_progress(progress, 0.8 * done / total, f"finding faces: {path.name}")
            image = read_image(path)
            start = time.perf_counter()
            faces = detector.detect(image, aligned=aligned)
            seconds += time.perf_counter() - start
            done += 1
            if faces:
                out.append(faces[0].aligned)
                how = "as given (--aligned)" if aligned else faces[0].alignment
                alignment[how] = alignment.get(how, 0) + 1
            else:
                missed += 1
        return out, missed

    enrol_crops, enrol_names, test_crops, test_names = [], [], [], []
    missed_enrol = missed_tests = missed_strangers = 0
    for name in known:
        got, missed = crops_of(people[name][:enrol])
        enrol_crops += got
        enrol_names += [name] * len(got)
        missed_enrol += missed
        got, missed = crops_of(people[name][enrol:])
        test_crops += got
        test_names += [name] * len(got)
        missed_tests += missed
    stranger_crops = []
    for name in outsiders:
        got, missed = crops_of(people[name])
        stranger_crops += got
        missed_strangers += missed
    if len(set(enrol_names)) < 2:
        raise WorkbenchError("faces were found for fewer than two people to enrol")
    shape = (0, detector.size[1], detector.size[0])
    stack = lambda crops: np.stack(crops) if crops else np.zeros(shape, np.uint8)  # noqa: E731
    report = evaluate_crops(
        stack(enrol_crops), enrol_names, stack(test_crops), test_names, stack(stranger_crops),
        method=method, missed_tests=missed_tests, missed_strangers=missed_strangers,
        progress=None if progress is None else
        (lambda f, m: progress(0.8 + 0.2 * f, m)))
    warnings = list(report.warnings)
    if missed_enrol:
        warnings.append(f"no face found in {missed_enrol} enrolment photo(s): they were skipped")
    timing = {"detection and alignment per face": seconds / max(done, 1), **report.seconds}
    return _replace(report, strangers=len(outsiders), missed=report.missed + missed_enrol,
                    alignment=alignment, warnings=tuple(warnings), seconds=timing)


def _replace(report: EvaluationReport, **changes: Any) -> EvaluationReport:
    from dataclasses import replace

    return replace(report, **changes)
