"""Measures of classifier quality: confusion matrix, ROC and AUC, precision/recall, EER.

Plain numpy, no scikit-learn, and nothing specific to faces: any classifier that produces labels
or scores can use them. Scores may be similarities (higher means "positive") or distances (lower
means "positive"); the ``greater_is_positive`` keyword says which, and thresholds always come back
in the caller's own units.

Decision rule
-------------
With ``greater_is_positive=True`` a sample is called positive when ``score >= threshold``; with
``greater_is_positive=False`` when ``score <= threshold``. Every curve is computed at each distinct
score, so ties are never split: tied samples are all accepted or all rejected together, and the
AUC counts a tied positive/negative pair as one half (the Mann-Whitney convention).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np

__all__ = [
    "accuracy",
    "auc",
    "confusion_matrix",
    "equal_error_rate",
    "operating_point",
    "per_class_precision_recall",
    "precision_recall",
    "precision_recall_curve",
    "roc_auc",
    "roc_curve",
    "threshold_at_fpr",
]


def _binary_inputs(y_true: Any, scores: Any) -> tuple[np.ndarray, np.ndarray]:
    truth = np.asarray(y_true)
    values = np.asarray(scores, dtype=np.float64)
    if truth.ndim != 1 or values.ndim != 1 or truth.shape != values.shape:
        raise ValueError(
            f"y_true and scores must be 1-D arrays of the same length, got shapes "
            f"{truth.shape} and {values.shape}"
        )
    if truth.dtype != bool:
        if not np.isin(truth, (0, 1)).all():
            raise ValueError("y_true must hold booleans or 0/1")
        truth = truth.astype(bool)
    if not np.isfinite(values).all():
        raise ValueError("scores must be finite (no NaN or infinity)")
    positives = int(truth.sum())
    if positives == 0 or positives == truth.size:
        raise ValueError(
            "y_true must contain both positive and negative samples to draw a curve; got "
            f"{positives} positive(s) out of {truth.size}"
        )
    return truth, values


def _cumulative_counts(
    truth: np.ndarray, values: np.ndarray, greater_is_positive: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """True and false positive counts accepted at each distinct threshold, most strict first."""
    keys = values if greater_is_positive else -values
    order = np.argsort(-keys, kind="stable")
    keys, truth = keys[order], truth[order]
    # last index of each run of equal scores: all ties are accepted together
    last = np.r_[np.flatnonzero(np.diff(keys)), keys.size - 1]
    tps = np.cumsum(truth)[last]
    fps = (last + 1) - tps
    thresholds = values[order][last]
    return tps.astype(np.int64), fps.astype(np.int64), thresholds


def roc_curve(
    y_true: Any, scores: Any, *, greater_is_positive: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Receiver operating characteristic: false and true positive rates at every threshold.

    Parameters
    ----------
    y_true : array_like of bool or {0, 1}, shape (N,)
        Which samples are positive. Both classes must be present.
    scores : array_like of float, shape (N,)
        One finite score per sample.
    greater_is_positive : bool, optional
        True for similarities (positive when ``score >= threshold``), False for distances
        (positive when ``score <= threshold``).

    Returns
    -------
    fpr, tpr : ndarray, shape (K + 1,)
        Rates from (0, 0) (nothing accepted) to (1, 1) (everything accepted), non-decreasing.
    thresholds : ndarray, shape (K + 1,)
        ``thresholds[i]`` gives ``(fpr[i], tpr[i])``; ``thresholds[0]`` is +inf (or -inf for
        distances), which accepts nothing; the others are the K distinct scores.

    Raises
    ------
    ValueError
        Mismatched shapes, labels other than booleans/0/1, non-finite scores, or one class only.

    Examples
    --------
    >>> fpr, tpr, t = roc_curve([1, 1, 0, 0], [0.9, 0.4, 0.5, 0.1])
    >>> fpr.tolist(), tpr.tolist()
    ([0.0, 0.0, 0.5, 0.5, 1.0], [0.0, 0.5, 0.5, 1.0, 1.0])
    """
    truth, values = _binary_inputs(y_true, scores)
    tps, fps, thresholds = _cumulative_counts(truth, values, greater_is_positive)
    positives, negatives = tps[-1], fps[-1]
    tpr = np.r_[0.0, tps / positives]
    fpr = np.r_[0.0, fps / negatives]
    first = np.inf if greater_is_positive else -np.inf
    return fpr, tpr, np.r_[first, thresholds]


def auc(x: Any, y: Any) -> float:
    """Area under a curve given by points, by the trapezoidal rule.

    Parameters
    ----------
    x, y : array_like, shape (K,)
        Points of the curve; ``x`` must be monotonic (either direction), K >= 2.

    Returns
    -------
    float
        The area, positive when ``x`` increases.

    Examples
    --------
    >>> auc([0, 0.5, 1], [0, 1, 1])
    0.75
    """
    xs = np.asarray(x, dtype=np.float64)
    ys = np.asarray(y, dtype=np.float64)
    if xs.ndim != 1 or xs.shape != ys.shape or xs.size < 2:
        raise ValueError(f"x and y must be 1-D, of equal length >= 2; got {xs.shape}, {ys.shape}")
    steps = np.diff(xs)
    if not ((steps >= 0).all() or (steps <= 0).all()):
        raise ValueError("x must be monotonic (sorted) to integrate the curve")
    area = float(np.sum(steps * (ys[1:] + ys[:-1]) / 2.0))
    return area if steps.sum() >= 0 else -area


def roc_auc(y_true: Any, scores: Any, *, greater_is_positive: bool = True) -> float:
    """Area under the ROC curve: the chance a random positive outranks a random negative.

    Ties between a positive and a negative count one half. See :func:`roc_curve` for the
    parameters.

    Examples
    --------
    >>> roc_auc([1, 1, 0, 0], [0.9, 0.4, 0.5, 0.1])
    0.75
    """
    fpr, tpr, _ = roc_curve(y_true, scores, greater_is_positive=greater_is_positive)
    return auc(fpr, tpr)


def equal_error_rate(
    y_true: Any, scores: Any, *, greater_is_positive: bool = True
) -> tuple[float, float]:
    """Equal error rate: where the false positive rate equals the false negative rate.

    The ROC is a step function of the threshold; between the two ROC points where
    ``fpr - fnr`` changes sign the rates are interpolated linearly, and so is the threshold
    (between the two scores), which gives one operating point a slider can be set to.

    Parameters
    ----------
    y_true, scores, greater_is_positive
        As for :func:`roc_curve`.

    Returns
    -------
    eer : float
        The equal error rate, in [0, 1] (0 when the classes are separable).
    threshold : float
        The interpolated threshold at that rate, in the units of ``scores``.

    Examples
    --------
    >>> equal_error_rate([1, 1, 0, 0], [4.0, 3.0, 2.0, 1.0])
    (0.0, 2.5)
    """
    fpr, tpr, thresholds = roc_curve(y_true, scores, greater_is_positive=greater_is_positive)
    gap = fpr - (1.0 - tpr)  # -1 at the strict end, +1 at the permissive end
    i = int(np.argmax(gap >= 0))
    if gap[i] == 0:
        # The rates are equal at ROC point i, which holds for every threshold from
        # thresholds[i] up to (not including) the next score: take the middle of that gap.
        # (gap rises strictly from point to point, so no other point has gap 0.)
        nxt = thresholds[i + 1] if i + 1 < thresholds.size else thresholds[i]
        return float(fpr[i]), float((thresholds[i] + nxt) / 2.0)
    alpha = -gap[i - 1] / (gap[i] - gap[i - 1])
    eer = float(fpr[i - 1] + alpha * (fpr[i] - fpr[i - 1]))
    if np.isinf(thresholds[i - 1]):
        return eer, float(thresholds[i])
    return eer, float(thresholds[i - 1] + alpha * (thresholds[i] - thresholds[i - 1]))


def threshold_at_fpr(
    y_true: Any, scores: Any, max_fpr: float, *, greater_is_positive: bool = True
) -> tuple[float, float, float]:
    """The most permissive threshold whose false positive rate stays at or below ``max_fpr``.

    Parameters
    ----------
    y_true, scores, greater_is_positive
        As for :func:`roc_curve`.
    max_fpr : float
        Largest acceptable false positive rate, in [0, 1].

    Returns
    -------
    threshold : float
        A score from ``scores`` (or +/-inf when even the strictest score lets in too many
        negatives).
    fpr, tpr : float
        The rates at that threshold.

    Examples
    --------
    >>> threshold_at_fpr([1, 1, 0, 1, 0], [5, 4, 3, 2, 1], 0.0)
    (4.0, 0.0, 0.6666666666666666)
    """
    if not 0.0 <= max_fpr <= 1.0:
        raise ValueError(f"max_fpr must lie in [0, 1], got {max_fpr}")
    fpr, tpr, thresholds = roc_curve(y_true, scores, greater_is_positive=greater_is_positive)
    i = int(np.flatnonzero(fpr <= max_fpr)[-1])
    return float(thresholds[i]), float(fpr[i]), float(tpr[i])


def operating_point(
    y_true: Any, scores: Any, threshold: float, *, greater_is_positive: bool = True
) -> tuple[float, float]:
    """False and true positive rates of the rule at one threshold (e.g. a slider's value).

    Returns
    -------
    fpr, tpr : float
    """
    truth, values = _binary_inputs(y_true, scores)
    accepted = values >= threshold if greater_is_positive else values <= threshold
    return float(accepted[~truth].mean()), float(accepted[truth].mean())


def precision_recall_curve(
    y_true: Any, scores: Any, *, greater_is_positive: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Precision and recall at every distinct threshold, strictest first.

    Parameters
    ----------
    y_true, scores, greater_is_positive
        As for :func:`roc_curve`.

    Returns
    -------
    precision, recall : ndarray, shape (K,)
        ``precision[i] = TP / (TP + FP)`` and ``recall[i] = TP / P`` when accepting at
        ``thresholds[i]``; recall is non-decreasing and ends at 1.
    thresholds : ndarray, shape (K,)
        The distinct scores.

    Examples
    --------
    >>> p, r, t = precision_recall_curve([1, 0, 1], [3, 2, 1])
    >>> p.tolist(), r.tolist()
    ([1.0, 0.5, 0.6666666666666666], [0.5, 0.5, 1.0])
    """
    truth, values = _binary_inputs(y_true, scores)
    tps, fps, thresholds = _cumulative_counts(truth, values, greater_is_positive)
    return tps / (tps + fps), tps / tps[-1], thresholds


def confusion_matrix(
    y_true: Sequence[Hashable], y_pred: Sequence[Hashable], labels: Sequence[Hashable] | None = None
) -> tuple[np.ndarray, list[Hashable]]:
    """Count how often each true label was predicted as each label.

    Parameters
    ----------
    y_true, y_pred : sequence of hashable, length N
        True and predicted labels (strings, ints, ``None`` for "unknown"...).
    labels : sequence of hashable, optional
        Row/column order. Samples whose true or predicted label is not listed are left out.
        Default: every label seen, sorted (by ``repr`` when they cannot be compared).

    Returns
    -------
    matrix : ndarray of int64, shape (L, L)
        ``matrix[i, j]`` = number of samples of true label ``labels[i]`` predicted as
        ``labels[j]``; the diagonal holds the correct ones.
    labels : list
        The order used.

    Examples
    --------
    >>> m, names = confusion_matrix(["a", "a", "b"], ["a", "b", "b"])
    >>> m.tolist(), names
    ([[1, 1], [0, 1]], ['a', 'b'])
    """
    true_list, pred_list = list(y_true), list(y_pred)
    if len(true_list) != len(pred_list):
        raise ValueError(
            f"y_true and y_pred must have the same length, got {len(true_list)} and "
            f"{len(pred_list)}"
        )
    if labels is None:
        seen = set(true_list) | set(pred_list)
        try:
            order: list[Hashable] = sorted(seen)  # type: ignore[type-var]
        except TypeError:
            order = sorted(seen, key=repr)
    else:
        order = list(labels)
        if len(set(order)) != len(order):
            raise ValueError("labels must not repeat")
    index = {label: i for i, label in enumerate(order)}
    matrix = np.zeros((len(order), len(order)), dtype=np.int64)
    for t, p in zip(true_list, pred_list, strict=True):
        if t in index and p in index:
            matrix[index[t], index[p]] += 1
    return matrix, order


def per_class_precision_recall(matrix: Any) -> tuple[np.ndarray, np.ndarray]:
    """Precision and recall of each class from a confusion matrix (rows true, columns predicted).

    Returns
    -------
    precision, recall : ndarray, shape (L,)
        NaN where undefined (a class never predicted, or never present).

    Examples
    --------
    >>> p, r = per_class_precision_recall([[1, 1], [0, 1]])
    >>> p.tolist(), r.tolist()
    ([1.0, 0.5], [0.5, 1.0])
    """
    counts = np.asarray(matrix, dtype=np.float64)
    if counts.ndim != 2 or counts.shape[0] != counts.shape[1]:
        raise ValueError(f"matrix must be square, got shape {counts.shape}")
    diagonal = np.diag(counts)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = diagonal / counts.sum(axis=0)
        recall = diagonal / counts.sum(axis=1)
    return precision, recall


def precision_recall(
    y_true: Sequence[Hashable], y_pred: Sequence[Hashable], positive: Hashable = True
) -> tuple[float, float]:
    """Precision and recall of the label ``positive`` in a set of hard predictions.

    Returns
    -------
    precision, recall : float
        NaN where undefined (``positive`` never predicted, or never present).

    Examples
    --------
    >>> precision_recall([1, 1, 0, 0], [1, 0, 1, 0], positive=1)
    (0.5, 0.5)
    """
    truth = np.array([t == positive for t in y_true], dtype=bool)
    pred = np.array([p == positive for p in y_pred], dtype=bool)
    if truth.shape != pred.shape:
        raise ValueError("y_true and y_pred must have the same length")
    hits = float(np.sum(truth & pred))
    precision = hits / pred.sum() if pred.any() else float("nan")
    recall = hits / truth.sum() if truth.any() else float("nan")
    return float(precision), float(recall)


def accuracy(y_true: Sequence[Hashable], y_pred: Sequence[Hashable]) -> float:
    """Fraction of predictions equal to the truth.

    Examples
    --------
    >>> accuracy(["a", "b", "b"], ["a", "b", "a"])
    0.6666666666666666
    """
    true_list, pred_list = list(y_true), list(y_pred)
    if len(true_list) != len(pred_list) or not true_list:
        raise ValueError("y_true and y_pred must be non-empty and of the same length")
    return sum(t == p for t, p in zip(true_list, pred_list, strict=True)) / len(true_list)
