"""Recognition: who is this face, a stranger, or not a face at all; and where the lines are drawn.

A face (an aligned, normalised crop) is answered in three steps (Turk & Pentland 1991, 2.3):

1. distance **from** face space (reconstruction error) above ``face_threshold``: *not a face*;
2. otherwise the nearest enrolled person in face space; distance above ``identity_threshold``:
   *unknown* (a stranger);
3. otherwise: that person.

Tuning the thresholds from the enrolled faces alone
---------------------------------------------------
Held-out distances, by cross-validation (:func:`cross_validated_scores`; with as many folds as
faces it is leave-one-out). A model with the same settings is trained without some faces and
measures them:

* *genuine* scores: a held-out picture's distance to its own person, whose other pictures
  stayed in training;
* *impostor* scores: a held-out *person*'s distance to the nearest person in training, which is
  exactly what a stranger gets (recognition takes the nearest of all people);
* *face* distances: the held-out people's distance from face space.

Every face is measured by a model that never saw it. A plain leave-one-out over the training
projections, without refitting, is cheaper but measured badly on ORL: a training face's
projection keeps all of it that face space can hold, so genuine and impostor distances come out
larger than for new faces and the threshold too permissive (half of the strangers were named).

The identity threshold is put at the equal error rate of genuine vs impostor scores (the
default: as many strangers accepted as enrolled people turned away), or at a target
false-accept rate (``rule=0.01`` accepts at most 1 % of impostor scores). The face threshold is
the ``face_quantile`` (default 99 %) of the held-out face distances times a margin (default
1.15), so that real faces are rarely called "not a face".

Both thresholds stay adjustable (a UI slider just sets :attr:`Recognizer.identity_threshold`),
and :class:`Calibration` keeps the scores to draw the ROC curve and the histograms.

References
----------
M. Turk and A. Pentland, "Eigenfaces for recognition", J. Cognitive Neuroscience 3(1), 1991.
P. N. Belhumeur, J. P. Hespanha, D. J. Kriegman, "Eigenfaces vs. Fisherfaces", PAMI 19(7), 1997.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from workbench.faces import metrics
from workbench.faces.detect import FACE_SIZE, FaceDetector
from workbench.faces.eigenfaces import (
    EigenfaceModel,
    FisherfaceModel,
    Progress,
    report_progress,
)
from workbench.faces.errors import ModelError

__all__ = [
    "Calibration",
    "Recognition",
    "Recognizer",
    "HeldOutScores",
    "calibrate",
    "cross_validated_scores",
    "gallery_warning",
    "is_rule",
    "separation_warning",
    "pinned_face_threshold",
]

FaceModel = EigenfaceModel | FisherfaceModel
Status = Literal["known", "unknown", "not a face"]


@dataclass(frozen=True, eq=False)
class HeldOutScores:
    """Distances of enrolled faces measured by models that never saw them.

    Attributes
    ----------
    genuine : ndarray
        Distance in face space from a held-out face to its own person (whose other pictures
        stayed in training).
    impostor : ndarray
        Distance from a face of a held-out *person* to the nearest person in training: what a
        stranger gets.
    face_distances : ndarray
        Distance from face space of faces of held-out people (or, with one person enrolled,
        of held-out pictures).
    """

    genuine: np.ndarray
    impostor: np.ndarray
    face_distances: np.ndarray


def cross_validated_scores(
    model: FaceModel, faces: np.ndarray, *, folds: int = 5, max_faces: int = 400, seed: int = 0,
    progress: Progress | None = None,
) -> HeldOutScores:
    """Genuine, impostor and face-space distances by cross-validation over the enrolled faces.

    Two splits, each into ``folds`` groups, and one model (same settings as ``model``) trained
    per group on everything outside it:

    * pictures split within each person (a person's pictures spread over the groups, people
      with one picture never held out): a held-out picture's distance to its own person is a
      genuine score;
    * people split (each person wholly in one group): a held-out person's distance to the
      nearest person in training is an impostor score, and their distance from face space
      measures how far a stranger's face lies from face space.

    With ``folds`` at least the number of faces (and people), this is leave-one-out.

    Parameters
    ----------
    model : EigenfaceModel or FisherfaceModel
        Trained on ``faces`` (its labels and settings are used; it is not modified).
    faces : ndarray, shape (N, H, W) or (N, D)
        The training faces, in the order of ``model.labels_``.
    folds : int
        Groups per split (>= 2).
    max_faces : int
        Larger galleries are subsampled to this many faces first (at random), which bounds the
        cost at about 2 x ``folds`` trainings on at most ``max_faces`` faces.
    seed : int
        Seed of the random splits.
    progress : callable, optional
        ``progress(fraction, message)``; may raise to cancel.
    """
    data = np.asarray(faces)
    labels = model.labels_
    if getattr(model, "augment", False) and labels.size > data.shape[0]:
        labels = labels[:data.shape[0]]  # the originals come first, then their copies
    if data.shape[0] != labels.size:
        raise ValueError(f"faces ({data.shape[0]}) and the model's labels ({labels.size}) differ")
    if folds < 2:
        raise ValueError(f"folds must be at least 2, got {folds}")
    rng = np.random.default_rng(seed)
    keep = np.arange(labels.size)
    if keep.size > max_faces:
        keep = np.sort(rng.choice(keep.size, max_faces, replace=False))
    data, labels = data[keep], labels[keep]
    people, index = np.unique(labels, return_inverse=True)
    counts = np.bincount(index)

    within = np.full(labels.size, -1)  # fold of each picture in the within-person split
    for p in np.flatnonzero(counts >= 2):
        members = rng.permutation(np.flatnonzero(index == p))
        within[members] = (rng.integers(folds) + np.arange(members.size)) % folds
    between = (rng.permutation(people.size) % folds)[index] if people.size >= 2 else None

    plans = [("within", f) for f in range(folds) if np.any(within == f)]
    if between is not None:
        plans += [("between", f) for f in range(folds) if np.any(between == f)]
    genuine, impostor, away, away_within, others = [], [], [], [], []
    for step, (kind, fold) in enumerate(plans):
        report_progress(progress, step / max(len(plans), 1),
                        f"thresholds: training {step + 1} of {len(plans)}")
        held = (within == fold) if kind == "within" else (between == fold)
        trial = model.clone()
        try:
            trial.fit(data[~held], labels[~held])
        except ModelError:  # e.g. Fisherfaces with one person left in training
            continue
        if kind == "between" and getattr(trial, "metric", "euclidean") == "angle" and \
                isinstance(trial, FisherfaceModel) and len(trial.classes_) < 3:
            continue  # 2 people span one discriminant axis: every angle is 0 or 180 degrees
        table = trial.distances(data[held])
        if kind == "within":
            columns = np.searchsorted(trial.classes_, labels[held])
            rows = np.arange(columns.size)
            genuine.append(table[rows, columns])
            away_within.append(np.atleast_1d(trial.distance_from_face_space(data[held])))
            if table.shape[1] >= 2:  # the nearest *other* enrolled person
                masked = table.copy()
                masked[rows, columns] = np.inf
                others.append(masked.min(axis=1))
        else:
            impostor.append(table.min(axis=1))
            away.append(np.atleast_1d(trial.distance_from_face_space(data[held])))
    report_progress(progress, 1.0, "thresholds measured")
    join = lambda parts: np.concatenate(parts) if parts else np.zeros(0)  # noqa: E731
    # Without a split by people (too few people to train on the rest, e.g. Fisherfaces with
    # two people), a held-out picture's distance to the nearest other person stands in for a
    # stranger's: it is larger than a true stranger's (that person helped shape the space).
    return HeldOutScores(genuine=join(genuine), impostor=join(impostor) if impostor
                         else join(others),
                         face_distances=join(away) if away else join(away_within))


@dataclass(frozen=True)
class Calibration:
    """Scores the thresholds were tuned on, and what was chosen.

    Attributes
    ----------
    genuine, impostor, face_distances : ndarray
        Held-out distances (see :func:`cross_validated_scores`).
    identity_threshold, face_threshold : float
        The tuned values.
    rule : str
        ``"eer"``, ``"far=<value>"`` or ``"fallback: <why>"`` when the scores could not
        support an ROC (one person, or one picture per person).
    eer : float
        Equal error rate of genuine vs impostor scores (NaN when undefined).
    auc : float
        ROC AUC of genuine vs impostor (NaN when undefined).
    warning : str
        A plain warning when the gallery is too small to trust these thresholds
        (:func:`gallery_warning`), else "".
    """

    genuine: np.ndarray = field(repr=False, compare=False)
    impostor: np.ndarray = field(repr=False, compare=False)
    face_distances: np.ndarray = field(repr=False, compare=False)
    identity_threshold: float
    face_threshold: float
    rule: str
    eer: float
    auc: float
    warning: str = ""

    @property
    def rule_words(self) -> str:
        """The rule as a person reads it: "equal error rate", "at most 20 % of strangers
        accepted (estimated)", or a fallback's own words."""
        if self.rule == "eer":
            return "equal error rate"
        try:
            rate = float(self.rule[4:]) if self.rule.startswith("far=") else None
        except ValueError:  # a rule saved by hand: shown as it is
            rate = None
        if rate is None:
            return self.rule
        return f"at most {100 * rate:g} % of strangers accepted (estimated)"

    def roc(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(fpr, tpr, thresholds) of genuine vs impostor distances, for the ROC plot."""
        truth, scores = self._labelled()
        return metrics.roc_curve(truth, scores, greater_is_positive=False)

    def operating_point(self, identity_threshold: float) -> tuple[float, float]:
        """(false accept rate, true accept rate) at an identity threshold (slider position)."""
        truth, scores = self._labelled()
        return metrics.operating_point(truth, scores, identity_threshold,
                                       greater_is_positive=False)

    def _labelled(self) -> tuple[np.ndarray, np.ndarray]:
        if self.genuine.size == 0 or self.impostor.size == 0:
            raise ModelError("an ROC needs at least two people, one of them with two faces")
        truth = np.r_[np.ones(self.genuine.size, bool), np.zeros(self.impostor.size, bool)]
        return truth, np.r_[self.genuine, self.impostor]

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form (for the gallery's model cache)."""
        return {"genuine": self.genuine.tolist(), "impostor": self.impostor.tolist(),
                "face_distances": self.face_distances.tolist(),
                "identity_threshold": self.identity_threshold,
                "face_threshold": self.face_threshold, "rule": self.rule,
                "eer": _json_float(self.eer), "auc": _json_float(self.auc),
                "warning": self.warning}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Calibration:
        return cls(genuine=np.asarray(data["genuine"], float),
                   impostor=np.asarray(data["impostor"], float),
                   face_distances=np.asarray(data["face_distances"], float),
                   identity_threshold=float(data["identity_threshold"]),
                   face_threshold=float(data["face_threshold"]), rule=str(data["rule"]),
                   eer=_float_or_nan(data["eer"]), auc=_float_or_nan(data["auc"]),
                   # a cache from before the separation warning still gets it
                   warning=str(data.get("warning", ""))
                   or separation_warning(_float_or_nan(data["auc"])))


def _json_float(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def _float_or_nan(value: float | None) -> float:
    return float("nan") if value is None else float(value)


def is_rule(rule: Any) -> bool:
    """Whether ``rule`` is a threshold rule :func:`calibrate` takes: "eer", or a false-accept
    rate strictly between 0 and 1."""
    return rule == "eer" or (isinstance(rule, (int, float)) and not isinstance(rule, bool)
                             and 0.0 < float(rule) < 1.0)


def calibrate(
    model: FaceModel,
    faces: np.ndarray,
    *,
    rule: Literal["eer"] | float = "eer",
    face_quantile: float = 0.99,
    face_margin: float = 1.15,
    folds: int = 5,
    max_faces: int = 400,
    seed: int = 0,
    progress: Progress | None = None,
) -> Calibration:
    """Tune the identity and face thresholds from the enrolled faces.

    Parameters
    ----------
    model : EigenfaceModel or FisherfaceModel
        Trained on ``faces``.
    faces : ndarray, shape (N, H, W) or (N, D)
        The training faces, in the order of ``model.labels_``.
    rule : "eer" or float
        Identity threshold at the equal error rate of genuine vs impostor scores, or, given a
        number in (0, 1), the largest threshold that accepts at most that fraction of
        impostor scores.
    face_quantile, face_margin : float
        The face threshold is ``face_margin`` times this quantile of the held-out distances
        from face space. The margin favours keeping real faces: a stranger shown as "unknown"
        is better than one silently dropped as "not a face". Measured on ORL (eigenfaces from
        150 faces of 30 people, CLAHE): held-out people 99th percentile 45.9; 10 other people's
        faces: median 40.6, 95th percentile 50.7; 150 patches of scikit-image's non-face
        pictures: 5th percentile 43.2, median 62.6 (RMS grey levels).
    folds, max_faces, seed
        See :func:`cross_validated_scores`.

    Returns
    -------
    Calibration

    Notes
    -----
    Without impostor scores (one person enrolled) the identity threshold falls back to twice
    the largest genuine score; without genuine scores (one picture per person) to half the
    smallest impostor score; ``Calibration.rule`` then says so. The face threshold never goes
    below :func:`pinned_face_threshold` for the number of people (a floor measured on real
    92 x 112 crops; crops of another size have none), and with fewer than three faces it is
    that floor (infinite for other sizes). ``Calibration.warning`` says when
    the gallery is too small to trust either threshold (:func:`gallery_warning`).
    """
    if not 0.0 < face_quantile <= 1.0:
        raise ValueError(f"face_quantile must lie in (0, 1], got {face_quantile}")
    if face_margin <= 0:
        raise ValueError(f"face_margin must be positive, got {face_margin}")
    if not is_rule(rule):
        raise ValueError(f"rule must be 'eer' or a false-accept rate in (0, 1), got {rule!r}")
    if len(faces) >= 3:
        scores = cross_validated_scores(model, faces, folds=folds, max_faces=max_faces,
                                        seed=seed, progress=progress)
    else:
        scores = HeldOutScores(np.zeros(0), np.zeros(0), np.zeros(0))
    genuine, impostor = scores.genuine, scores.impostor
    eer = auc = float("nan")
    if genuine.size and impostor.size:
        truth = np.r_[np.ones(genuine.size, bool), np.zeros(impostor.size, bool)]
        values = np.r_[genuine, impostor]
        eer, eer_threshold = metrics.equal_error_rate(truth, values, greater_is_positive=False)
        auc = metrics.roc_auc(truth, values, greater_is_positive=False)
        if rule == "eer":
            identity, rule_name = eer_threshold, "eer"
        else:
            identity, _, _ = metrics.threshold_at_fpr(truth, values, float(rule),
                                                      greater_is_positive=False)
            if math.isinf(identity):  # even the closest impostor is too many: accept nothing
                identity = 0.5 * float(values.min())
            rule_name = f"far={float(rule):g}"
    elif genuine.size:
        identity, rule_name = 2.0 * float(genuine.max()), "fallback: one person enrolled"
        if model.kind == "eigenfaces" and model.image_shape_ == (FACE_SIZE[1], FACE_SIZE[0]):
            identity = min(identity, ONE_PERSON_IDENTITY)
    elif impostor.size:
        identity, rule_name = 0.5 * float(impostor.min()), "fallback: one picture per person"
    else:
        identity, rule_name = float("inf"), "fallback: too few faces to measure"
    labels = model.labels_[:len(faces)]
    people = len(set(labels.tolist()))
    # the floor was measured on 92 x 112 crops; other geometries have no floor
    face = (pinned_face_threshold(people) if model.image_shape_ == (FACE_SIZE[1], FACE_SIZE[0])
            else float("inf") if not scores.face_distances.size else 0.0)
    if scores.face_distances.size:
        face = max(face, face_margin * float(np.quantile(scores.face_distances, face_quantile)))
    return Calibration(genuine=genuine, impostor=impostor, face_distances=scores.face_distances,
                       identity_threshold=float(identity), face_threshold=face,
                       rule=rule_name, eer=float(eer), auc=float(auc),
                       warning=gallery_warning(labels) or separation_warning(auc))


#: The "not a face" threshold never goes below these (people enrolled -> RMS grey levels of
#: a crop normalised by halves): real faces of people *not* in the gallery lie this far from
#: a face space learned from that many people with 5 shots each (7 for 40 people) at most, in
#: the worst of 10 random galleries, 99th percentile of the faces. Measured on the Georgia
#: Tech photos (only these derived figures are kept; no photo is shipped). A face space learned
#: from few people is narrow, so the cross-validated face distances alone put the threshold
#: below real faces (the astronaut sample was "not a face" with one person enrolled); the
#: astronaut measured 86 / 79 / 75 / 64 / 59 / 37 at most, so it stays a face.
FACE_THRESHOLD_FLOOR: tuple[tuple[int, float], ...] = (
    (1, 90.0), (2, 78.0), (3, 72.0), (5, 68.0), (10, 62.0), (40, 39.0))


def pinned_face_threshold(people: int) -> float:
    """The floor of the "not a face" threshold for a gallery of ``people`` people
    (:data:`FACE_THRESHOLD_FLOOR`, interpolated on the log of the count)."""
    counts = np.log([c for c, _ in FACE_THRESHOLD_FLOOR])
    values = [v for _, v in FACE_THRESHOLD_FLOOR]
    return float(np.interp(np.log(max(people, 1)), counts, values))


#: With one person enrolled (eigenfaces on 92 x 112 crops) the identity threshold is at most
#: this (RMS grey levels): on the Georgia Tech photos, with one person enrolled from 5 photos
#: (8 random people), a fifth of other people's faces lie nearer than 29.5 and half of the
#: person's own later photos nearer than 26.4. Twice the largest held-out genuine distance,
#: the rule before, was 67 on average and named every stranger.
ONE_PERSON_IDENTITY = 30.0

#: Fewer people or shots than these and the thresholds rest on too few faces to trust.
MIN_PEOPLE = 3
MIN_SHOTS = 5
#: Below this cross-validated ROC AUC the enrolled people are measured too hard to tell from
#: strangers for any threshold to serve (a warning says so). Development galleries of real
#: photos measure 0.88-0.91 (README, Faces: figures); 4 ORL people with 5 shots each 0.55.
MIN_AUC = 0.75


def gallery_warning(labels: Any) -> str:
    """A plain warning when a gallery is too small to trust its tuned thresholds, else ""."""
    names, counts = np.unique(np.asarray(labels, dtype=str), return_counts=True)
    people = names.size
    fewest = int(counts.min()) if counts.size else 0
    if people == 0:
        return ""
    if people < MIN_PEOPLE or fewest < MIN_SHOTS:
        have = (f"{people} person" if people == 1 else f"{people} people") + (
            f", as few as {fewest} shot{'s' if fewest != 1 else ''} each" if fewest < MIN_SHOTS
            else "")
        return (f"Too few faces to trust the thresholds ({have}): strangers may be named and "
                f"enrolled people turned away. Enrol at least {MIN_PEOPLE} people with "
                f"{MIN_SHOTS} or more shots each.")
    return ""


def separation_warning(auc: float) -> str:
    """A plain warning when the cross-validated ROC AUC is below :data:`MIN_AUC`, else ""."""
    if not math.isfinite(auc) or auc >= MIN_AUC:
        return ""
    return (f"The enrolled people are hard to tell from strangers (ROC AUC {auc:.2f} on their "
            f"own shots; {MIN_AUC:.2f} or more is usable): strangers may be named and enrolled "
            "people turned away. Enrol more people, with shots that differ in pose and light.")


@dataclass(frozen=True)
class Recognition:
    """The answer for one face.

    Attributes
    ----------
    status : {"known", "unknown", "not a face"}
    name : str or None
        The person when ``status == "known"``, else None.
    nearest : str
        The nearest enrolled person, whatever the status (for display: "looks most like ...").
    distance : float
        Distance in face space to ``nearest``.
    face_distance : float
        Distance from face space.
    box : (x, y, w, h) or None
        Where the face is in the image it came from.
    identity_threshold, face_threshold : float
        The thresholds the answer was given at.
    alignment : {"eyes", "box"} or None
        How the crop was aligned (None when not known, e.g. a crop given as it is).
    """

    status: Status
    name: str | None
    nearest: str
    distance: float
    face_distance: float
    box: tuple[int, int, int, int] | None = None
    identity_threshold: float = float("nan")
    face_threshold: float = float("nan")
    alignment: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The object of DESIGN.md's ``faces recognize --json`` output."""
        return {"box": list(self.box) if self.box is not None else None, "name": self.name,
                "nearest": self.nearest, "distance": _rounded(self.distance),
                "identity_threshold": _rounded(self.identity_threshold),
                "face_distance": _rounded(self.face_distance),
                "face_threshold": _rounded(self.face_threshold), "status": self.status,
                "alignment": self.alignment}


def _rounded(value: float) -> float | None:
    """JSON has no NaN or infinity: those become null."""
    return round(float(value), 4) if math.isfinite(value) else None


class Recognizer:
    """A trained model with its two thresholds: the object a live view or the CLI asks.

    Parameters
    ----------
    model : EigenfaceModel or FisherfaceModel
        Trained, with labels.
    identity_threshold : float
        Distances in face space above this are "unknown".
    face_threshold : float
        Distances from face space above this are "not a face".
    calibration : Calibration, optional
        The scores the thresholds came from (for ROC and histogram views).

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> faces = rng.normal(128, 40, (8, 20, 16))
    >>> model = EigenfaceModel(None).fit(faces, list("aaaabbbb"))
    >>> Recognizer(model, identity_threshold=1e6, face_threshold=1e6).recognize(faces[0]).name
    'a'
    """

    def __init__(
        self, model: FaceModel, identity_threshold: float, face_threshold: float,
        calibration: Calibration | None = None,
    ) -> None:
        if not model.classes_:
            raise ModelError("the model has no enrolled people")
        self.model = model
        self.identity_threshold = float(identity_threshold)
        self.face_threshold = float(face_threshold)
        self.calibration = calibration

    @classmethod
    def tuned(cls, model: FaceModel, faces: np.ndarray, *, progress: Progress | None = None,
              **options: Any) -> Recognizer:
        """A recognizer with thresholds from :func:`calibrate` (``options`` go there)."""
        calibration = calibrate(model, faces, progress=progress, **options)
        return cls(model, calibration.identity_threshold, calibration.face_threshold,
                   calibration)

    def recognize_many(
        self, faces: np.ndarray, boxes: list[tuple[int, int, int, int]] | None = None,
        alignments: list[str] | None = None,
    ) -> list[Recognition]:
        """Answer for aligned crops ``(M, H, W)`` (``boxes``: where each came from;
        ``alignments``: how each was aligned)."""
        crops = np.asarray(faces)
        if crops.shape[0] == 0:
            return []
        names, distances, face_distances = self.model.assess(crops)
        results = []
        for i, (nearest, distance) in enumerate(zip(names, distances, strict=True)):
            away = float(face_distances[i])
            if away > self.face_threshold:
                status: Status = "not a face"
            elif distance > self.identity_threshold:
                status = "unknown"
            else:
                status = "known"
            results.append(Recognition(
                status=status, name=nearest if status == "known" else None, nearest=nearest,
                distance=float(distance), face_distance=away,
                box=None if boxes is None else tuple(boxes[i]),  # type: ignore[arg-type]
                identity_threshold=self.identity_threshold, face_threshold=self.face_threshold,
                alignment=None if alignments is None else alignments[i]))
        return results

    def recognize(self, face: np.ndarray) -> Recognition:
        """Answer for one aligned crop ``(H, W)``."""
        return self.recognize_many(np.asarray(face)[None])[0]

    def recognize_image(
        self, image: np.ndarray, detector: FaceDetector, *, aligned: bool = False,
        include_non_faces: bool = False,
    ) -> list[Recognition]:
        """Find every face in an image and answer for each, largest first.

        Parameters
        ----------
        image : ndarray
            Grey, RGB or RGBA (house convention).
        detector : FaceDetector
            Must produce crops of the model's size.
        aligned : bool
            The image is an aligned crop already (no search).
        include_non_faces : bool
            Keep detections whose distance from face space says "not a face" (cascade false
            alarms); by default they are dropped.
        """
        found = detector.detect(image, aligned=aligned)
        if not found:
            return []
        results = self.recognize_many(
            np.stack([f.aligned for f in found]), [f.box for f in found],
            None if aligned else [f.alignment for f in found])
        return [r for r in results if include_non_faces or r.status != "not a face"]
