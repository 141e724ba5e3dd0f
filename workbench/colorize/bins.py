"""The quantised ab space of Zhang, Isola & Efros (2016) and what the colorizer does with it.

The ab bins, soft encoding of ground-truth colours, the empirical bin distribution,
class-rebalancing weights, the annealed mean that turns a predicted bin distribution into one ab
value, and its entropy. Plain numpy (no Qt); colours themselves (sRGB <-> Lab) are in
:mod:`workbench.imaging.color`.

An ab bin of grid ``g`` is the half-open square ``[c - g/2, c + g/2)^2`` around a centre ``c`` on
the lattice ``g * Z^2``; :func:`ab_gamut_bins` keeps the bins that some 8-bit sRGB colour falls
in (Q = 261 for ``g = 10``; see there for the rule and why it is not Zhang et al.'s 313).

References
----------
.. [1] R. Zhang, P. Isola and A. A. Efros, "Colorful Image Colorization", ECCV 2016,
       arXiv:1603.08511. Sections 2.1 (bins, soft encoding), 2.2 (class rebalancing) and
       2.3 (annealed mean).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from workbench.imaging.color import (
    D65_WHITE,
    RGB_TO_XYZ,
    ColorInputError,
    _lab_f,
    _lab_f_exact,
    _srgb_decode_exact,
)

__all__ = [
    "DEFAULT_TEMPERATURE",
    "SoftEncoding",
    "ab_gamut_bins",
    "annealed_mean",
    "bin_counts",
    "distribution_entropy",
    "empirical_distribution",
    "nearest_bin",
    "rebalancing_weights",
    "smooth_distribution",
    "soft_encode",
]

#: Zhang et al.'s annealed-mean temperature (Section 2.3).
DEFAULT_TEMPERATURE: float = 0.38

_EDGE = 1e-3  # in bin widths: float32 error is ~1e-5 here; values this near an edge get float64


# Grid-10 bins computed by _gamut_bins(10) (tests/test_color.py recomputes and compares):
# for each a, the kept b run from the first to the second value in steps of 10. Q = 261.
_GRID10_COLUMNS = {
    -90: (80, 80), -80: (40, 80), -70: (20, 90), -60: (0, 90), -50: (-20, 90),
    -40: (-30, 90), -30: (-40, 90), -20: (-40, 90), -10: (-50, 90), 0: (-60, 90),
    10: (-70, 80), 20: (-70, 80), 30: (-80, 80), 40: (-90, 80), 50: (-90, 70),
    60: (-100, 70), 70: (-110, 70), 80: (-110, 70), 90: (-90, 0), 100: (-70, -50),
}


@functools.lru_cache(maxsize=1)
def _grid10_bins() -> NDArray[np.float32]:
    centres = np.array(
        [(a, b) for a, (lo, hi) in _GRID10_COLUMNS.items() for b in range(lo, hi + 1, 10)],
        dtype=np.float32,
    )
    centres.setflags(write=False)
    return centres


@functools.lru_cache(maxsize=8)
def _gamut_bins(grid: float) -> NDArray[np.float32]:
    levels = _srgb_decode_exact(np.arange(256) / 255.0)
    m = RGB_TO_XYZ / D65_WHITE[:, None]
    m32 = m.astype(np.float32)
    reach = int(np.ceil(130.0 / grid)) + 1  # |a|, |b| < 130 for every sRGB colour
    side = 2 * reach + 1
    counts = np.zeros(side * side + 1, dtype=np.int64)  # the last slot collects edge cases
    green = levels.astype(np.float32)[None, :, None]
    blue = levels.astype(np.float32)[None, None, :]
    step = 32  # red levels per chunk: 2 M colours
    for r0 in range(0, 256, step):
        red = levels[r0 : r0 + step, None, None].astype(np.float32)
        fx, fy, fz = (_lab_f(m32[i, 0] * red + m32[i, 1] * green + m32[i, 2] * blue)
                      for i in range(3))
        a = (fx - fy) * np.float32(500.0 / grid)
        b = (fy - fz) * np.float32(200.0 / grid)
        ia, ib = np.rint(a), np.rint(b)
        # within float32 error (~1e-5 bin widths here) of a bin edge: decided in float64 below
        near = (np.abs(a - ia) > 0.5 - _EDGE) | (np.abs(b - ib) > 0.5 - _EDGE)
        index = (ia.astype(np.int64) + reach) * side + ib.astype(np.int64) + reach
        index[near] = side * side
        counts += np.bincount(index.ravel(), minlength=side * side + 1)
        ri, gi, bi = np.nonzero(near)
        rgb = np.stack([levels[ri + r0], levels[gi], levels[bi]], axis=1)
        ex, ey, ez = (_lab_f_exact(rgb @ m[i]) for i in range(3))
        ea = np.floor(500.0 * (ex - ey) / grid + 0.5).astype(np.int64) + reach
        eb = np.floor(200.0 * (ey - ez) / grid + 0.5).astype(np.int64) + reach
        counts[ea * side + eb] += 1
    ia, ib = np.divmod(np.flatnonzero(counts[:-1]), side)
    centres = np.stack([ia - reach, ib - reach], axis=1).astype(np.float64) * grid
    centres = centres.astype(np.float32)
    centres.setflags(write=False)
    return centres


def ab_gamut_bins(grid: float = 10) -> NDArray[np.float32]:
    """Centres of the ab bins that sRGB colours fall in (Zhang et al. 2016, Section 2.1).

    Rule: the ab plane is cut into half-open squares ``[c - grid/2, c + grid/2)^2`` centred
    on the lattice ``grid * Z^2``; a bin is kept when at least one of the 256^3 8-bit sRGB
    colours, at any lightness, has its (a, b) inside it. Every pixel of an 8-bit photo
    therefore falls in a kept bin, and no kept bin is unreachable.

    For ``grid = 10`` this gives **Q = 261**. Sampling the continuous gamut instead (the RGB
    cube's faces at steps of 1/1024) reaches one more bin, which only colours between 8-bit
    codes touch (262). Zhang et al. report Q = 313 "in-gamut" bins; their rule is not given
    in the paper and keeps bins that no sRGB colour reaches (their published centres include
    bins outside the gamut computed here), so the count differs.

    Parameters
    ----------
    grid : float, optional
        Bin size in Lab units (10 in the paper).

    Returns
    -------
    ndarray of float32, shape (Q, 2)
        Bin centres (a, b), sorted by a then b. Read-only. Grid 10 comes from a table
        (recomputed and compared by the tests); other grids are computed on first use
        (~1-2 s: all 16.7 M colours, float32 with float64 for those near a bin edge).

    References
    ----------
    .. [1] R. Zhang, P. Isola and A. A. Efros, "Colorful Image Colorization", ECCV 2016.
    """
    grid = float(grid)
    if not np.isfinite(grid) or not 1.0 <= grid <= 100.0:
        raise ColorInputError(f"grid must be between 1 and 100 Lab units, got {grid}")
    return _grid10_bins() if grid == 10.0 else _gamut_bins(grid)


def _check_centres(centres: ArrayLike) -> NDArray[np.float32]:
    array = np.asarray(centres, dtype=np.float32)
    if array.ndim != 2 or array.shape[1] != 2 or array.shape[0] < 1:
        raise ColorInputError(f"centres must be (Q, 2) with Q >= 1, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ColorInputError("centres must be finite")
    return array


def _check_ab(ab: ArrayLike) -> NDArray[np.float32]:
    array = np.asarray(ab, dtype=np.float32)
    if array.ndim < 1 or array.shape[-1] != 2:
        raise ColorInputError(f"ab must be (..., 2), got shape {array.shape}")
    return array


@functools.lru_cache(maxsize=4)
def _kd_tree(key: bytes, count: int):
    from scipy.spatial import cKDTree

    return cKDTree(np.frombuffer(key, dtype=np.float32).reshape(count, 2))


def _tree_for(centres: NDArray[np.float32]):
    return _kd_tree(np.ascontiguousarray(centres).tobytes(), len(centres))


def nearest_bin(ab: ArrayLike, centres: ArrayLike | None = None) -> NDArray[np.intp]:
    """Index of the nearest bin centre for each ab value (hard quantisation).

    Parameters
    ----------
    ab : array_like
        ``(..., 2)`` ab values.
    centres : array_like, optional
        ``(Q, 2)`` bin centres; default :func:`ab_gamut_bins` ``()``.

    Returns
    -------
    ndarray of intp, shape (...)
    """
    points = _check_ab(ab)
    grid = _check_centres(ab_gamut_bins() if centres is None else centres)
    _, index = _tree_for(grid).query(points.reshape(-1, 2), k=1)
    return np.asarray(index, dtype=np.intp).reshape(points.shape[:-1])


@dataclass(frozen=True)
class SoftEncoding:
    """Ground-truth ab values spread over their nearest bins (sparse form).

    Attributes
    ----------
    indices : ndarray of intp, shape (..., k)
        The k nearest bins of each value, nearest first.
    weights : ndarray of float32, shape (..., k)
        Gaussian weights of those bins, summing to 1 over the last axis.
    num_bins : int
        Q, the number of bins.
    """

    indices: NDArray[np.intp]
    weights: NDArray[np.float32]
    num_bins: int

    def to_dense(self, axis: int = -1) -> NDArray[np.float32]:
        """The full ``(..., Q)`` target distribution, with the Q axis moved to ``axis``.

        For a training batch of ab images ``(N, H, W, 2)``, ``axis=1`` gives the
        ``(N, Q, H, W)`` layout a convolutional network predicts.
        """
        k = self.indices.shape[-1]
        dense = np.zeros((self.indices.size // k, self.num_bins), dtype=np.float32)
        np.put_along_axis(dense, self.indices.reshape(-1, k), self.weights.reshape(-1, k), axis=1)
        dense = dense.reshape(self.indices.shape[:-1] + (self.num_bins,))
        return np.moveaxis(dense, -1, axis) if axis not in (-1, dense.ndim - 1) else dense


def soft_encode(
    ab: ArrayLike,
    centres: ArrayLike | None = None,
    k: int = 5,
    sigma: float = 5.0,
) -> SoftEncoding:
    """Soft-encode ab values over their ``k`` nearest bins (Zhang et al. 2016, Section 2.1).

    Each value's weight on a bin is ``exp(-d^2 / (2 sigma^2))`` of its distance ``d`` to the
    bin centre, normalised over the ``k`` nearest bins. Computed relative to the nearest
    distance, so values far outside the bins still get finite weights.

    Parameters
    ----------
    ab : array_like
        ``(..., 2)`` ab values (e.g. an image's ``lab[..., 1:]``).
    centres : array_like, optional
        ``(Q, 2)`` bin centres; default :func:`ab_gamut_bins` ``()``.
    k : int, optional
        Neighbours per value (5 in the paper); at most Q.
    sigma : float, optional
        Gaussian width in Lab units (5 in the paper).

    Returns
    -------
    SoftEncoding
        Sparse indices and weights; ``.to_dense()`` gives the ``(..., Q)`` distribution.

    Examples
    --------
    >>> enc = soft_encode(np.array([[2.0, 1.0]]), np.array([[0, 0], [10, 0], [0, 10]]), k=3)
    >>> int(enc.indices[0, 0]), bool(enc.weights[0, 0] > 0.5)
    (0, True)
    """
    points = _check_ab(ab)
    grid = _check_centres(ab_gamut_bins() if centres is None else centres)
    if not 1 <= int(k) <= len(grid):
        raise ColorInputError(f"k must be between 1 and Q = {len(grid)}, got {k}")
    if not sigma > 0:
        raise ColorInputError(f"sigma must be positive, got {sigma}")
    k = int(k)
    distance, index = _tree_for(grid).query(points.reshape(-1, 2), k=k)
    distance = np.asarray(distance, dtype=np.float32).reshape(-1, k)
    index = np.asarray(index, dtype=np.intp).reshape(-1, k)
    squared = distance * distance
    squared -= squared[:, :1]  # nearest first: exponent <= 0, never all underflowing
    weights = np.exp(squared * np.float32(-0.5 / sigma**2))
    weights /= weights.sum(axis=1, keepdims=True)
    shape = points.shape[:-1] + (k,)
    return SoftEncoding(index.reshape(shape), weights.reshape(shape), len(grid))


def bin_counts(ab: ArrayLike, centres: ArrayLike | None = None) -> NDArray[np.int64]:
    """How many ab values fall nearest to each bin; add these up over a data set.

    Returns
    -------
    ndarray of int64, shape (Q,)
    """
    grid = _check_centres(ab_gamut_bins() if centres is None else centres)
    index = nearest_bin(ab, grid)
    return np.bincount(index.ravel(), minlength=len(grid)).astype(np.int64)


def empirical_distribution(
    ab: ArrayLike | Iterable[ArrayLike], centres: ArrayLike | None = None
) -> NDArray[np.float64]:
    """The empirical distribution p of ab values over the bins.

    Parameters
    ----------
    ab : array_like or iterable of array_like
        ``(..., 2)`` ab values, or an iterable of such arrays (e.g. one per training image,
        so a data set never has to sit in memory at once).
    centres : array_like, optional
        ``(Q, 2)``; default :func:`ab_gamut_bins` ``()``.

    Returns
    -------
    ndarray of float64, shape (Q,)
        Non-negative, sums to 1.
    """
    grid = _check_centres(ab_gamut_bins() if centres is None else centres)
    chunks = [ab] if isinstance(ab, np.ndarray) else ab
    total = np.zeros(len(grid), dtype=np.int64)
    for chunk in chunks:
        total += bin_counts(chunk, grid)
    if total.sum() == 0:
        raise ColorInputError("no ab values given: the distribution is undefined")
    return total / total.sum()


def _check_distribution(p: ArrayLike, name: str = "p") -> NDArray[np.float64]:
    array = np.asarray(p, dtype=np.float64)
    if array.ndim != 1 or array.size == 0:
        raise ColorInputError(f"{name} must be a 1-D distribution over Q bins, got {array.shape}")
    if not np.all(np.isfinite(array)) or np.any(array < 0) or array.sum() <= 0:
        raise ColorInputError(f"{name} must be finite, non-negative and not all zero")
    return array / array.sum()


def smooth_distribution(
    p: ArrayLike, centres: ArrayLike | None = None, sigma: float = 5.0
) -> NDArray[np.float64]:
    """Smooth a bin distribution with a Gaussian in ab space.

    Each bin's mass is spread over all bins in proportion to ``exp(-d^2 / (2 sigma^2))``
    of the distance between centres, normalised per source bin, so no mass leaves the bins
    (a Gaussian blur restricted to the gamut). ``sigma = 0`` returns ``p`` normalised.

    Returns
    -------
    ndarray of float64, shape (Q,)
        Sums to 1.
    """
    prob = _check_distribution(p)
    grid = _resolve_centres(centres, len(prob)).astype(np.float64)
    if sigma < 0:
        raise ColorInputError(f"sigma must be >= 0, got {sigma}")
    if sigma == 0:
        return prob
    squared = ((grid[:, None, :] - grid[None, :, :]) ** 2).sum(axis=2)
    kernel = np.exp(-squared / (2.0 * sigma**2))
    kernel /= kernel.sum(axis=0, keepdims=True)  # column j: where bin j's mass goes
    smoothed = kernel @ prob
    return smoothed / smoothed.sum()


def _resolve_centres(centres: ArrayLike | None, q: int) -> NDArray[np.float32]:
    if centres is None:
        default = ab_gamut_bins()
        if len(default) != q:
            raise ColorInputError(
                f"p has {q} bins but the default grid-10 gamut bins are {len(default)}; "
                "pass the centres"
            )
        return default
    grid = _check_centres(centres)
    if len(grid) != q:
        raise ColorInputError(f"p has {q} bins but centres has {len(grid)}")
    return grid


def rebalancing_weights(
    p: ArrayLike,
    lam: float = 0.5,
    sigma: float = 5.0,
    *,
    centres: ArrayLike | None = None,
) -> NDArray[np.float64]:
    """Class-rebalancing weights (Zhang et al. 2016, Section 2.2, Eq. 3-4).

    ``w ∝ ((1 - lam) * p̃ + lam / Q) ** -1`` with ``p̃`` = ``p`` smoothed by a Gaussian of
    ``sigma`` in ab space (:func:`smooth_distribution`), scaled so that ``E_p[w] = sum(p * w)
    = 1``: the average weight of a training pixel is 1, so rebalancing does not change the
    scale of the loss. (The paper writes the expectation under ``p̃``; under ``p`` is what
    the loss actually averages over.)

    Parameters
    ----------
    p : array_like, shape (Q,)
        Empirical bin distribution (:func:`empirical_distribution`); normalised here.
    lam : float, optional
        Mix with the uniform distribution, 0..1 (0.5 in the paper; 1 = no rebalancing).
    sigma : float, optional
        Smoothing width in Lab units (5 in the paper); 0 = no smoothing.
    centres : array_like, optional
        ``(Q, 2)`` bin centres for the smoothing; default :func:`ab_gamut_bins` ``()`` when Q
        matches it.

    Returns
    -------
    ndarray of float64, shape (Q,)

    Examples
    --------
    >>> centres = [[0, 0], [10, 0], [20, 0]]
    >>> w = rebalancing_weights([0.7, 0.2, 0.1], lam=0.5, sigma=0, centres=centres)
    >>> round(float(np.dot([0.7, 0.2, 0.1], w)), 6)
    1.0
    """
    prob = _check_distribution(p)
    if not 0.0 <= lam <= 1.0:
        raise ColorInputError(f"lam must be in 0..1, got {lam}")
    smoothed = smooth_distribution(prob, centres, sigma)
    mix = (1.0 - lam) * smoothed + lam / len(prob)
    if np.any(mix <= 0):
        raise ColorInputError(
            "some bins have zero smoothed probability; use lam > 0 or a larger sigma"
        )
    weights = 1.0 / mix
    return weights / float(np.dot(prob, weights))


# --------------------------------------------------------------------------------------------
# Decoding a distribution (Zhang et al. 2016, Section 2.3)
# --------------------------------------------------------------------------------------------


def _log_scores(scores: ArrayLike, axis: int, logits: bool) -> tuple[NDArray[np.float32], int]:
    array = np.asarray(scores)
    if array.ndim == 0:
        raise ColorInputError("scores must have a bin axis")
    axis = axis % array.ndim if -array.ndim <= axis < array.ndim else None
    if axis is None:
        raise ColorInputError(f"axis out of range for scores of shape {array.shape}")
    if logits:
        return np.array(array, dtype=np.float32, copy=True), axis
    with np.errstate(divide="ignore"):
        return np.log(np.maximum(array.astype(np.float32, copy=False), 1e-30)), axis


def annealed_mean(
    scores: ArrayLike,
    centres: ArrayLike,
    temperature: float = DEFAULT_TEMPERATURE,
    *,
    axis: int = -1,
    logits: bool = False,
) -> NDArray[np.float32]:
    """Decode bin distributions to ab by the annealed mean (Zhang et al. 2016, Eq. 5).

    ``H(Z) = E[f_T(Z)]`` with ``f_T(z) = exp(log z / T) / sum_q exp(log z_q / T)``: the
    distribution is sharpened (T < 1) or kept (T = 1), then its mean taken. T -> 0 gives the
    mode, T = 1 the mean; Zhang et al. use T = 0.38. From logits ``l`` it is
    ``softmax(l / T)``. Computed with the maximum subtracted, so any T > 0 is stable;
    ``T = 0`` returns the centre of the most likely bin (ties: their average).

    Parameters
    ----------
    scores : array_like
        Probabilities (``logits=False``, need not be normalised) or logits, with Q bins along
        ``axis``: e.g. ``(Q,)``, ``(H, W, Q)`` or a network's ``(N, Q, H, W)`` with ``axis=1``.
    centres : array_like, shape (Q, 2)
        The bins' ab centres.
    temperature : float, optional
        T >= 0.
    axis : int, optional
        The bin axis.
    logits : bool, optional
        ``scores`` are logits rather than probabilities.

    Returns
    -------
    ndarray of float32
        ``scores``' shape with the bin axis replaced by (a, b) of size 2.

    Examples
    --------
    >>> centres = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    >>> annealed_mean([0.2, 0.5, 0.3], centres, temperature=1.0).round(4)  # the mean
    array([5., 3.], dtype=float32)
    """
    grid = _check_centres(centres)
    if not (temperature >= 0 and np.isfinite(temperature)):
        raise ColorInputError(f"temperature must be >= 0, got {temperature}")
    z, axis = _log_scores(scores, axis, logits)
    if z.shape[axis] != len(grid):
        raise ColorInputError(
            f"scores have {z.shape[axis]} bins along axis {axis} but there are {len(grid)} centres"
        )
    peak = np.max(z, axis=axis, keepdims=True)
    if temperature == 0:
        weights = (z == peak).astype(np.float32)
    else:
        z -= peak
        z *= np.float32(1.0 / temperature)
        weights = np.exp(z, out=z)
    weights /= np.sum(weights, axis=axis, keepdims=True)
    # einsum's own loop rather than BLAS: it does not oversubscribe a small machine's cores
    ab = np.einsum(np.moveaxis(weights, axis, -1), [..., 0], grid, [0, 1], [..., 1])
    return np.moveaxis(ab, -1, axis).astype(np.float32, copy=False)


def distribution_entropy(
    scores: ArrayLike,
    *,
    axis: int = -1,
    logits: bool = False,
    normalize: bool = False,
) -> NDArray[np.float32]:
    """Entropy of bin distributions, an uncertainty measure for a colorizer's prediction.

    Parameters
    ----------
    scores : array_like
        Probabilities (normalised here) or logits along ``axis``.
    axis : int, optional
        The bin axis.
    logits : bool, optional
        ``scores`` are logits.
    normalize : bool, optional
        Divide by log Q, giving 0 (certain: one bin) .. 1 (uniform over all Q bins).

    Returns
    -------
    ndarray of float32
        ``scores``' shape without the bin axis; in nats unless ``normalize``.
    """
    z, axis = _log_scores(scores, axis, logits)
    z -= np.max(z, axis=axis, keepdims=True)
    total = np.sum(np.exp(z), axis=axis, keepdims=True)
    log_p = z - np.log(total)
    p = np.exp(log_p)
    entropy = np.maximum(-np.sum(p * log_p, axis=axis), 0.0)
    if normalize:
        q = z.shape[axis]
        entropy = entropy / np.float32(np.log(q)) if q > 1 else np.zeros_like(entropy)
    return entropy.astype(np.float32, copy=False)
