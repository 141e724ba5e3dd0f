"""faces.metrics: hand-worked cases and the Mann-Whitney identity for the AUC."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.faces import metrics


def test_roc_curve_hand_case():
    # sorted by score: P P N P N  (3 positives, 2 negatives)
    fpr, tpr, thresholds = metrics.roc_curve([1, 1, 0, 1, 0], [0.9, 0.8, 0.7, 0.6, 0.2])
    assert fpr.tolist() == [0, 0, 0, 0.5, 0.5, 1]
    assert tpr == pytest.approx([0, 1 / 3, 2 / 3, 2 / 3, 1, 1])
    assert thresholds[0] == math.inf
    assert thresholds[1:].tolist() == [0.9, 0.8, 0.7, 0.6, 0.2]


def test_roc_auc_hand_cases_and_ties():
    # 5 of the 6 positive/negative pairs are ordered correctly
    assert metrics.roc_auc([1, 1, 0, 1, 0], [0.9, 0.8, 0.7, 0.6, 0.2]) == pytest.approx(5 / 6)
    assert metrics.roc_auc([1, 0], [0.5, 0.5]) == pytest.approx(0.5)
    # pairs: (1 > .5, 1 > 0), (.5 ties .5 -> 1/2, .5 > 0): 3.5 of 4
    assert metrics.roc_auc([1, 1, 0, 0], [1, 0.5, 0.5, 0]) == pytest.approx(0.875)
    assert metrics.roc_auc([0, 0, 1, 1], [1, 2, 3, 4]) == 1.0
    assert metrics.roc_auc([1, 1, 0, 0], [1, 2, 3, 4]) == 0.0


def test_distances_use_lower_is_positive():
    truth = [1, 1, 0, 0, 1]
    distances = np.array([0.1, 0.4, 0.3, 0.9, 0.2])
    fpr, tpr, thresholds = metrics.roc_curve(truth, distances, greater_is_positive=False)
    fpr2, tpr2, thresholds2 = metrics.roc_curve(truth, -distances)
    np.testing.assert_array_equal(fpr, fpr2)
    np.testing.assert_array_equal(tpr, tpr2)
    np.testing.assert_array_equal(thresholds, -thresholds2)
    assert thresholds[0] == -math.inf
    # the rule "accept when distance <= t" reproduces each point
    for f, t, th in zip(fpr[1:], tpr[1:], thresholds[1:], strict=True):
        assert metrics.operating_point(truth, distances, th, greater_is_positive=False) == (
            pytest.approx(f), pytest.approx(t))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(0, 6)), min_size=2, max_size=30))
def test_auc_equals_mann_whitney_pair_count(samples):
    truth = np.array([s[0] for s in samples])
    scores = np.array([s[1] for s in samples], float)
    if truth.all() or not truth.any():
        with pytest.raises(ValueError, match="both positive and negative"):
            metrics.roc_auc(truth, scores)
        return
    pos, neg = scores[truth], scores[~truth]
    wins = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    assert metrics.roc_auc(truth, scores) == pytest.approx(wins / (pos.size * neg.size))


def test_auc_trapezoid_and_direction():
    assert metrics.auc([0, 0.5, 1], [0, 1, 1]) == 0.75
    assert metrics.auc([1, 0.5, 0], [1, 1, 0]) == 0.75
    with pytest.raises(ValueError, match="monotonic"):
        metrics.auc([0, 1, 0.5], [0, 1, 1])


def test_equal_error_rate_at_a_roc_point():
    # genuine distances 1 2 3 6, impostor 4 5 7 8: accepting <= 4.5 lets in 1 of 4 impostors
    # and turns away 1 of 4 genuine (6): EER 0.25, threshold in the middle of 4 and 5
    truth = [1, 1, 1, 1, 0, 0, 0, 0]
    distances = [1, 2, 3, 6, 4, 5, 7, 8]
    eer, threshold = metrics.equal_error_rate(truth, distances, greater_is_positive=False)
    assert eer == pytest.approx(0.25)
    assert threshold == pytest.approx(4.5)


def test_equal_error_rate_interpolated():
    # similarity scores 5 4 3 2 1 labelled P N N P P: between t=4 (fpr .5, fnr 2/3) and t=3
    # (fpr 1, fnr 2/3) the rates cross at fpr = fnr = 2/3, a third of the way: t = 3.667
    eer, threshold = metrics.equal_error_rate([1, 0, 0, 1, 1], [5, 4, 3, 2, 1])
    assert eer == pytest.approx(2 / 3)
    assert threshold == pytest.approx(4 - 1 / 3)


def test_equal_error_rate_separable_is_zero():
    eer, threshold = metrics.equal_error_rate([1, 1, 0, 0], [4.0, 3.0, 2.0, 1.0])
    assert (eer, threshold) == (0.0, 2.5)


def test_threshold_at_fpr():
    truth, scores = [1, 1, 0, 1, 0], [5, 4, 3, 2, 1]
    assert metrics.threshold_at_fpr(truth, scores, 0.0) == (4.0, 0.0, pytest.approx(2 / 3))
    assert metrics.threshold_at_fpr(truth, scores, 0.5) == (2.0, 0.5, 1.0)
    threshold, fpr, _ = metrics.threshold_at_fpr([0, 1], [2, 1], 0.0)
    assert (threshold, fpr) == (math.inf, 0.0)  # the only negative scores highest
    with pytest.raises(ValueError):
        metrics.threshold_at_fpr(truth, scores, 1.5)


def test_precision_recall_curve_hand_case():
    precision, recall, thresholds = metrics.precision_recall_curve([1, 0, 1, 1], [4, 3, 2, 2])
    # t=4: 1/1; t=3: 1/2; t=2 (both tied samples accepted): 3/4
    assert precision.tolist() == [1.0, 0.5, 0.75]
    assert recall.tolist() == pytest.approx([1 / 3, 1 / 3, 1.0])
    assert thresholds.tolist() == [4, 3, 2]


def test_confusion_matrix_and_per_class_rates():
    truth = ["ann", "ann", "bob", "bob", "bob", "cat"]
    pred = ["ann", "bob", "bob", "bob", None, "ann"]
    matrix, labels = metrics.confusion_matrix(truth, pred)
    assert labels == sorted(["ann", "bob", "cat", None], key=repr)
    m, order = metrics.confusion_matrix(truth, pred, labels=["ann", "bob", "cat", None])
    assert order == ["ann", "bob", "cat", None]
    assert m.tolist() == [[1, 1, 0, 0], [0, 2, 0, 1], [1, 0, 0, 0], [0, 0, 0, 0]]
    precision, recall = metrics.per_class_precision_recall(m[:3, :3])
    assert precision[:2].tolist() == [0.5, 2 / 3]
    assert math.isnan(precision[2])  # "cat" was never predicted
    assert recall.tolist() == [0.5, 1.0, 0.0]
    assert matrix.sum() == 6
    # labels left out of the list are left out of the counts
    partial, _ = metrics.confusion_matrix(truth, pred, labels=["ann", "bob"])
    assert partial.tolist() == [[1, 1], [0, 2]]


def test_precision_recall_and_accuracy():
    assert metrics.precision_recall([1, 1, 0, 0], [1, 0, 1, 0], positive=1) == (0.5, 0.5)
    p, r = metrics.precision_recall(["a", "b"], ["b", "b"], positive="a")
    assert math.isnan(p) and r == 0.0
    assert metrics.accuracy(["a", "b", "b"], ["a", "b", "a"]) == pytest.approx(2 / 3)


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="same length"):
        metrics.roc_curve([1, 0], [0.5])
    with pytest.raises(ValueError, match="0/1"):
        metrics.roc_curve([2, 0], [0.5, 0.1])
    with pytest.raises(ValueError, match="finite"):
        metrics.roc_curve([1, 0], [np.nan, 0.1])
    with pytest.raises(ValueError, match="same length"):
        metrics.confusion_matrix(["a"], ["a", "b"])
    with pytest.raises(ValueError, match="repeat"):
        metrics.confusion_matrix(["a"], ["a"], labels=["a", "a"])
