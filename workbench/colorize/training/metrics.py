"""Quality figures for colorization: AuC of the ab-error CDF and colourfulness (numpy only).

These run without torch so the evaluation of an exported ONNX model needs only the app's own
dependencies.

References
----------
R. Zhang, P. Isola and A. A. Efros, "Colorful Image Colorization", ECCV 2016 — Table 1: the
area under the cumulative distribution of per-pixel Euclidean ab error for thresholds 0..150,
plain and class-rebalanced (each pixel weighted by the inverse probability of its colour class).
Two rebalancing priors are offered: a training-set bin distribution (:class:`AucAccumulator`), and
the colour distribution of the evaluation set itself over 10×10 ab cells
(:class:`EvalSetAucAccumulator`), which needs no model or training data to define.
D. Hasler and S. Süsstrunk, "Measuring colourfulness in natural images", Proc. SPIE 5007,
Human Vision and Electronic Imaging VIII, 2003.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: The thresholds of Zhang et al. (2016), Table 1: 0, 1, …, 150 in ab units.
AUC_THRESHOLDS = np.arange(0, 151, dtype=np.float64)


def ab_error_cdf(pred_ab: np.ndarray, true_ab: np.ndarray, weights: np.ndarray | None = None,
                 thresholds: np.ndarray = AUC_THRESHOLDS) -> np.ndarray:
    """Weighted fraction of pixels whose ab error is within each threshold.

    Parameters
    ----------
    pred_ab, true_ab : ndarray, shape (..., 2)
        Predicted and true a*, b* values (same shape; the last axis holds a and b).
    weights : ndarray, shape (...), optional
        Non-negative per-pixel weights (class rebalancing); uniform when omitted.
    thresholds : ndarray
        Error thresholds, ascending.

    Returns
    -------
    ndarray, shape (len(thresholds),)
        The CDF value (0..1) at each threshold.

    Raises
    ------
    ValueError
        On mismatched shapes or when every weight is zero.
    """
    pred_ab = np.asarray(pred_ab, dtype=np.float64)
    true_ab = np.asarray(true_ab, dtype=np.float64)
    if pred_ab.shape != true_ab.shape or pred_ab.shape[-1:] != (2,):
        raise ValueError(f"pred_ab and true_ab must both have shape (..., 2); got "
                         f"{pred_ab.shape} and {true_ab.shape}")
    err = np.sqrt(((pred_ab - true_ab) ** 2).sum(-1)).ravel()
    w = np.ones_like(err) if weights is None else np.asarray(weights, np.float64).ravel()
    if w.shape != err.shape:
        raise ValueError(f"weights must have shape {pred_ab.shape[:-1]}, got {np.shape(weights)}")
    total = w.sum()
    if not total > 0:
        raise ValueError("weights sum to zero")
    order = np.argsort(err)
    cum = np.cumsum(w[order])
    idx = np.searchsorted(err[order], np.asarray(thresholds, np.float64), side="right")
    return np.where(idx > 0, cum[np.maximum(idx - 1, 0)], 0.0) / total


def auc_from_cdf(cdf: np.ndarray) -> float:
    """Area under a CDF sampled at equally spaced thresholds, in percent (0..100).

    The mean of the CDF over the thresholds 0..150, as in Zhang et al. (2016), Table 1.
    """
    return float(np.mean(cdf) * 100.0)


def ab_error_auc(pred_ab: np.ndarray, true_ab: np.ndarray,
                 weights: np.ndarray | None = None) -> float:
    """AuC (percent) of the per-pixel ab-error CDF over thresholds 0..150.

    Examples
    --------
    >>> ab = np.zeros((4, 4, 2))
    >>> ab_error_auc(ab, ab)
    100.0
    """
    return auc_from_cdf(ab_error_cdf(pred_ab, true_ab, weights))


def colourfulness(rgb: np.ndarray) -> float:
    """Hasler & Süsstrunk (2003) colourfulness of an sRGB image (values 0..255).

    ``M = sqrt(σ_rg² + σ_yb²) + 0.3 · sqrt(μ_rg² + μ_yb²)`` with ``rg = R − G`` and
    ``yb = (R + G) / 2 − B``. A gray image scores 0; typical photographs 20–60.

    Parameters
    ----------
    rgb : ndarray, shape (H, W, 3)
        uint8, or floats on the 0..255 scale.
    """
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[-1] != 3:
        raise ValueError(f"rgb must have shape (H, W, 3), got {rgb.shape}")
    r, g, b = (rgb[..., i].astype(np.float64) for i in range(3))
    rg = r - g
    yb = 0.5 * (r + g) - b
    return float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))


def evaluation_prior(p: np.ndarray, centres: np.ndarray, sigma: float = 5.0,
                     floor: float = 0.01) -> np.ndarray:
    """The colour-class distribution used to rebalance the AuC: ``p`` smoothed, floored.

    ``(1 − floor) · p̃ + floor / Q`` with ``p̃`` the Gaussian-smoothed (σ = 5) distribution of
    Zhang et al. (2016); the floor keeps every bin's weight finite (a validation pixel in a bin the
    training data never hit weighs at most Q / floor).

    Parameters
    ----------
    p : ndarray, shape (Q,)
        Bin distribution (e.g. of the training set).
    centres : ndarray, shape (Q, 2)
        Bin centres.
    """
    from workbench.colorize.bins import smooth_distribution

    smoothed = smooth_distribution(p, centres, sigma)
    return (1.0 - floor) * smoothed + floor / len(smoothed)


@dataclass
class AucAccumulator:
    """Accumulates ab errors over many images for the plain and the class-rebalanced AuC.

    Pixels of all images are pooled (as in Zhang et al. 2016); errors are histogrammed at the
    integer thresholds 0..150, so adding an image costs O(pixels). For the rebalanced AuC a pixel
    weighs ``1 / prior[q]``, where ``q`` is the bin nearest its true ab and ``prior`` is a
    smoothed colour-class distribution (the training set's, by default in this package), so
    every colour class counts about equally.

    Parameters
    ----------
    centres : ndarray, shape (Q, 2)
        Bin centres.
    prior : ndarray, shape (Q,)
        Positive class probabilities.
    """

    centres: np.ndarray
    prior: np.ndarray
    _plain: np.ndarray = field(default_factory=lambda: np.zeros(151))
    _weighted: np.ndarray = field(default_factory=lambda: np.zeros(151))
    _n: float = 0.0
    _w: float = 0.0
    images: int = 0

    def pixel_weights(self, true_ab: np.ndarray) -> np.ndarray:
        """Rebalancing weight ``1 / prior[q]`` of each pixel (q: the bin nearest its true ab)."""
        from workbench.colorize.bins import nearest_bin

        prior = np.asarray(self.prior, np.float64)
        if np.any(prior <= 0):
            raise ValueError("prior must be positive in every bin (smooth it first)")
        return 1.0 / prior[nearest_bin(np.asarray(true_ab, np.float32), self.centres)]

    def add(self, pred_ab: np.ndarray, true_ab: np.ndarray,
            weights: np.ndarray | None = None) -> None:
        """Add one image's (or batch's) predicted and true ab, shape (..., 2).

        ``weights`` are the pixels' rebalancing weights when already known
        (:meth:`pixel_weights`); computed here otherwise.
        """
        w = (self.pixel_weights(true_ab) if weights is None else np.asarray(weights)).ravel()
        diff = np.asarray(pred_ab, np.float32) - np.asarray(true_ab, np.float32)
        err = np.sqrt((diff * diff).sum(-1)).ravel()
        # error <= t for an integer t  <=>  ceil(error) <= t; errors above 150 go to bin 151
        slot = np.minimum(np.ceil(err), 151).astype(np.int64)
        self._plain += np.bincount(slot, minlength=152)[:151]
        self._weighted += np.bincount(slot, weights=w, minlength=152)[:151]
        self._n += float(err.size)
        self._w += float(w.sum())
        self.images += 1

    @property
    def plain_auc(self) -> float:
        """Plain AuC (percent) over everything added so far."""
        return auc_from_cdf(np.cumsum(self._plain) / max(self._n, 1e-12))

    @property
    def rebalanced_auc(self) -> float:
        """Class-rebalanced AuC (percent) over everything added so far."""
        return auc_from_cdf(np.cumsum(self._weighted) / max(self._w, 1e-12))


#: The ab cells of the evaluation-set rebalancing: 10×10 cells over a, b in −110..110 (22 × 22).
EVAL_CELL_SIZE = 10.0
EVAL_CELL_RANGE = 110.0
EVAL_CELLS_PER_AXIS = int(2 * EVAL_CELL_RANGE / EVAL_CELL_SIZE)


def eval_cell_index(true_ab: np.ndarray) -> np.ndarray:
    """The 10×10 ab cell (0 … 22·22 − 1) of each pixel's true colour, shape (...).

    Cells tile a, b in −110..110 (cell ``i`` of an axis covers ``[−110 + 10 i, −100 + 10 i)``);
    values outside the range fall into the nearest edge cell.
    """
    ab = np.asarray(true_ab, np.float64)
    if ab.shape[-1:] != (2,):
        raise ValueError(f"true_ab must have shape (..., 2), got {ab.shape}")
    idx = np.floor((ab + EVAL_CELL_RANGE) / EVAL_CELL_SIZE).astype(np.int64)
    idx = np.clip(idx, 0, EVAL_CELLS_PER_AXIS - 1)
    return idx[..., 0] * EVAL_CELLS_PER_AXIS + idx[..., 1]


def eval_set_weights(true_ab: np.ndarray) -> np.ndarray:
    """Per-pixel weights of the evaluation-set rebalancing for a set given as one array.

    Each pixel weighs the inverse of the number of pixels (of ``true_ab``) in its ab cell, so
    every occupied cell carries the same total weight.
    """
    cells = eval_cell_index(true_ab)
    counts = np.bincount(cells.ravel(), minlength=EVAL_CELLS_PER_AXIS ** 2)
    return 1.0 / counts[cells]


@dataclass
class EvalSetAucAccumulator:
    """Plain AuC and the AuC rebalanced by the evaluation set's own colour distribution.

    For the rebalanced AuC each pixel weighs ``1 / n(c)``, where ``c`` is the 10×10 ab cell of its
    true colour (a, b in −110..110, 22 × 22 cells) and ``n(c)`` the number of pixels of the whole
    evaluated set in that cell; so every colour present counts equally, rare vivid colours as
    much as skies and grays. Because the weights depend on the whole set, the accumulator keeps
    one error histogram per cell (errors at the integer thresholds 0..150) and weighs them when
    asked: the rebalanced CDF at ``t`` is the mean, over occupied cells, of the share of the cell's
    pixels with error ≤ ``t``.
    """

    _hist: np.ndarray = field(
        default_factory=lambda: np.zeros((EVAL_CELLS_PER_AXIS ** 2, 152)))
    images: int = 0

    def add(self, pred_ab: np.ndarray, true_ab: np.ndarray) -> None:
        """Add one image's (or batch's) predicted and true ab, shape (..., 2)."""
        pred = np.asarray(pred_ab, np.float32)
        true = np.asarray(true_ab, np.float32)
        if pred.shape != true.shape or true.shape[-1:] != (2,):
            raise ValueError(f"pred_ab and true_ab must both have shape (..., 2); got "
                             f"{pred.shape} and {true.shape}")
        diff = pred - true
        err = np.sqrt((diff * diff).sum(-1)).ravel()
        slot = np.minimum(np.ceil(err), 151).astype(np.int64)
        cells = eval_cell_index(true).ravel()
        self._hist += np.bincount(cells * 152 + slot,
                                  minlength=self._hist.size).reshape(self._hist.shape)
        self.images += 1

    def merge(self, other: EvalSetAucAccumulator) -> None:
        """Add another accumulator's pixels (e.g. to pool groups)."""
        self._hist += other._hist
        self.images += other.images

    @property
    def pixels(self) -> int:
        return int(self._hist.sum())

    @property
    def plain_auc(self) -> float:
        """Plain AuC (percent): every pixel weighs the same."""
        total = self._hist.sum()
        return auc_from_cdf(np.cumsum(self._hist.sum(0))[:151] / max(total, 1e-12))

    @property
    def rebalanced_auc(self) -> float:
        """AuC (percent) with each pixel weighted by the inverse frequency of its ab cell in the
        evaluated set."""
        counts = self._hist.sum(1)
        occupied = counts > 0
        if not occupied.any():
            return auc_from_cdf(np.zeros(151))
        cdf = np.cumsum(self._hist[occupied], 1)[:, :151] / counts[occupied, None]
        return auc_from_cdf(cdf.mean(0))
