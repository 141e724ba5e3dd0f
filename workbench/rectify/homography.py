"""Plane-to-plane homographies for the Rectify tool: estimate, check and size.

Everything here is a plain function over numpy arrays (no Qt), so the Rectify panel, the
``workbench rectify`` command and the tests all call the same code.

Conventions
-----------
* Points are ``(N, 2)`` arrays of pixel coordinates ``(x, y)``; the centre of the top-left pixel
  is ``(0, 0)`` (OpenCV's convention).
* A homography ``H`` is a ``(3, 3)`` float64 array acting on column vectors ``[x, y, 1]``; it maps
  source pixels to destination (output) pixels and is scaled so that ``H[2, 2] == 1``.
* The four corners of a quadrilateral are ordered top-left, top-right, bottom-right, bottom-left.
  Messages number them from 1 for people; exception ``indices`` count from 0 for code.

The warp itself (inverse mapping) is :func:`workbench.rectify.warp.warp_perspective`.

References
----------
.. [1] R. Hartley and A. Zisserman, *Multiple View Geometry in Computer Vision*, 2nd ed.,
       Cambridge University Press, 2004. Sec. 4.1 (DLT) and Sec. 4.4.4, Algorithm 4.2
       (normalised DLT).
.. [2] R. I. Hartley, "In defense of the eight-point algorithm", IEEE Trans. PAMI 19(6),
       580-593, 1997.
.. [3] Z. Zhang and L.-W. He, "Whiteboard scanning and image enhancement", Digital Signal
       Processing 17(2), 414-432, 2007.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from workbench.errors import DegenerateConfigurationError, InputError

__all__ = [
    "CORNER_NAMES",
    "MAX_OUTPUT_PIXELS",
    "HomographyFit",
    "OutputSizeError",
    "RectifyInputError",
    "RectifiedSize",
    "estimate_homography",
    "homography_fit",
    "quadrilateral_warnings",
    "rectified_size",
    "rectify_homography",
]

CORNER_NAMES = ("top-left", "top-right", "bottom-right", "bottom-left")
"""Names of the four corners, in the order every function here expects them."""

MAX_OUTPUT_PIXELS = 1_000_000_000
"""Largest output :func:`warp_perspective` agrees to allocate (1 gigapixel)."""

Interpolation = Literal["nearest", "bilinear", "bicubic"]
Fill = float | Sequence[float] | Literal["transparent"]

# --- tolerances (all relative, so they do not depend on the image's pixel scale) -------------
# Two points closer than this fraction of the point set's spread (mean distance from the centroid)
# are treated as the same point.
_DUPLICATE_TOL = 1e-6
# A point set is "collinear" when its spread across the best-fitting line is below this fraction of
# its spread along it (square root of the ratio of the covariance eigenvalues).
_COLLINEAR_TOL = 1e-6
# The normalised DLT system must have its 8th singular value above this fraction of the 1st.
_RANK_TOL = 1e-10
# The normalised homography must have its smallest singular value above this fraction of the
# largest, otherwise it squashes the plane onto a line.
_SINGULAR_TOL = 1e-9
# H[2, 2] can be normalised to 1 unless the source origin lies this close (relative to the spread
# of the source points) to the line the homography sends to infinity.
_H22_TOL = 1e-10

# homography_fit warns above/below these.
_FIT_CONDITION_WARN = 1e4
_FIT_SINGULAR_WARN = 1e-3
_FIT_ERROR_WARN_PX = 1.0

# quadrilateral_warnings thresholds.
_CLOSE_FRACTION = 0.03  # corners closer than 3% of the quadrilateral's largest extent
_STRAIGHT_DEG = 10.0  # corner angles within 10 degrees of 180 (or of 0)
_TINY_AREA_PX = 64.0  # less than 8 x 8 pixels

# rectified_size: a vanishing point farther than 1/_PARALLEL_TOL times the corners' spread counts
# as "at infinity" (opposite sides parallel to within ~0.1 degree), and a recovered focal length
# outside this range (in units of the image diagonal) is not believed.
_PARALLEL_TOL = 1e-3
_FOCAL_RANGE = (0.1, 20.0)

class RectifyInputError(InputError):
    """Points, a matrix, an image or an option the Rectify functions cannot work with."""


class OutputSizeError(RectifyInputError):
    """An output size that is not two positive integers, or is too large to allocate."""


@dataclass(frozen=True, eq=False)
class HomographyFit:
    """How well a homography maps a set of source points onto their destinations.

    Attributes
    ----------
    errors : ndarray of float64, shape (N,)
        Reprojection error of each point: distance in destination pixels between ``H @ src`` and
        ``dst``. ``inf`` for a point ``H`` sends to infinity. Read-only.
    rms : float
        Root mean square of ``errors``.
    max : float
        Largest of ``errors``.
    condition : float
        Condition number of the normalised DLT system ``A`` built from the point pairs (after
        Hartley normalisation of each set): ``s[0] / s[7]``, the largest over the *second smallest*
        singular value of ``A``. The smallest, ``s[8]``, is zero for an exact fit by construction
        (its singular vector is the solution), so ``s[7]`` measures how firmly that solution is
        pinned down. A few to a few hundred is normal; it grows without bound as the points
        approach a configuration that does not determine a homography. ``inf`` when ``s[7] == 0``.
    warnings : tuple of str
        Problems worth showing to the user, in their words; empty when the fit looks fine.
    """

    errors: NDArray[np.float64]
    rms: float
    max: float
    condition: float
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class RectifiedSize:
    """Size of a rectified output estimated from four imaged corners of a real rectangle.

    Attributes
    ----------
    width, height : int
        Output size in pixels (at least 2 each, so the corners map to distinct pixel centres).
    aspect : float
        Estimated width / height of the real rectangle.
    method : str
        ``"zhang-he"`` when the aspect ratio came from the perspective geometry [3]_, or
        ``"side-lengths"`` when the focal length could not be recovered and the ratio of mean
        opposite side lengths was used instead.
    focal : float or None
        Recovered focal length in pixels for ``"zhang-he"``, else None.
    """

    width: int
    height: int
    aspect: float
    method: str
    focal: float | None


# ============================================================================================
# Input checking
# ============================================================================================


def _as_points(points: ArrayLike, name: str) -> NDArray[np.float64]:
    try:
        arr = np.asarray(points, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise RectifyInputError(
            f"{name} must be an (N, 2) array of x, y pixel coordinates") from exc
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise RectifyInputError(f"{name} must have shape (N, 2), one x, y pair per point; "
                         f"got shape {arr.shape}")
    finite = np.isfinite(arr).all(axis=1)
    if not finite.all():
        i = int(np.flatnonzero(~finite)[0])
        raise RectifyInputError(
            f"{name} must be finite numbers; point {i + 1} is {arr[i].tolist()}")
    return arr


def _as_corners(corners: ArrayLike, name: str) -> NDArray[np.float64]:
    arr = _as_points(corners, name)
    if arr.shape[0] != 4:
        raise RectifyInputError(
            f"{name} must hold exactly 4 points (top-left, top-right, bottom-right, "
            f"bottom-left); got {arr.shape[0]}")
    return arr


def _as_pairs(src_points: ArrayLike, dst_points: ArrayLike
              ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    src = _as_points(src_points, "src_points")
    dst = _as_points(dst_points, "dst_points")
    if src.shape[0] != dst.shape[0]:
        raise RectifyInputError(f"src_points and dst_points must hold the same number of points; "
                         f"got {src.shape[0]} and {dst.shape[0]}")
    if src.shape[0] < 4:
        raise RectifyInputError(f"a homography needs at least 4 point pairs; got {src.shape[0]}")
    return src, dst


def _as_matrix(H: ArrayLike, name: str = "H") -> NDArray[np.float64]:
    try:
        arr = np.asarray(H, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise RectifyInputError(f"{name} must be a 3 x 3 array of numbers") from exc
    if arr.shape != (3, 3):
        raise RectifyInputError(f"{name} must have shape (3, 3); got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise RectifyInputError(f"{name} must hold finite numbers")
    return arr


def _as_size(size: object, name: str) -> tuple[int, int]:
    try:
        width, height = size  # type: ignore[misc]
    except (TypeError, ValueError) as exc:
        raise RectifyInputError(
            f"{name} must be a pair of integers (width, height); got {size!r}") from exc
    for value in (width, height):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
            raise RectifyInputError(
                f"{name} must be a pair of integers (width, height); got {size!r}")
    width, height = int(width), int(height)
    if width < 1 or height < 1:
        raise OutputSizeError(f"{name} must be positive (width, height); got {width} x {height}")
    return width, height


def _format_numbers(indices: Sequence[int]) -> str:
    """1-based, in words: "1", "1 and 3", "1, 2 and 4", long lists shortened."""
    numbers = [str(i + 1) for i in indices]
    if len(numbers) > 8:
        return f"{', '.join(numbers[:6])}, ... and {numbers[-1]} ({len(numbers)} points)"
    if len(numbers) == 1:
        return numbers[0]
    return f"{', '.join(numbers[:-1])} and {numbers[-1]}"


def _corner(i: int) -> str:
    return f"{i + 1} ({CORNER_NAMES[i]})"


# ============================================================================================
# Point-set geometry
# ============================================================================================


def _normalise(points: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Hartley normalisation [2]_: centroid to the origin, mean distance sqrt(2).

    Returns the 3 x 3 similarity ``T`` and the normalised points. A set whose points all coincide
    gets scale 1 (callers reject that case before it matters).
    """
    centroid = points.mean(axis=0)
    mean_dist = float(np.hypot(*(points - centroid).T).mean())
    scale = math.sqrt(2.0) / mean_dist if mean_dist > 0 else 1.0
    T = np.array([[scale, 0.0, -scale * centroid[0]],
                  [0.0, scale, -scale * centroid[1]],
                  [0.0, 0.0, 1.0]])
    return T, (points - centroid) * scale


def _flatness(cxx: NDArray | float, cxy: NDArray | float, cyy: NDArray | float) -> NDArray:
    """sqrt(smallest / largest eigenvalue) of 2 x 2 covariances: 0 on a line, 1 for a disc."""
    cxx, cxy, cyy = (np.asarray(c, dtype=np.float64) for c in (cxx, cxy, cyy))
    half_trace = 0.5 * (cxx + cyy)
    det = cxx * cyy - cxy * cxy
    largest = half_trace + np.sqrt(np.maximum(half_trace * half_trace - det, 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        smallest = np.where(largest > 0, det / largest, 0.0)  # more accurate than trace - disc
        return np.where(largest > 0, np.sqrt(np.maximum(smallest, 0.0) / largest), 0.0)


def _flatness_all(p: NDArray[np.float64]) -> float:
    d = p - p.mean(axis=0)
    return float(_flatness((d[:, 0] ** 2).mean(), (d[:, 0] * d[:, 1]).mean(),
                           (d[:, 1] ** 2).mean()))


def _flatness_leave_one_out(p: NDArray[np.float64]) -> NDArray[np.float64]:
    """Flatness of the set with point i removed, for every i (vectorised, O(N))."""
    m = p.shape[0] - 1
    x, y = p[:, 0], p[:, 1]
    mx, my = (x.sum() - x) / m, (y.sum() - y) / m
    cxx = ((x * x).sum() - x * x) / m - mx * mx
    cyy = ((y * y).sum() - y * y) / m - my * my
    cxy = ((x * y).sum() - x * y) / m - mx * my
    return _flatness(cxx, cxy, cyy)


def _close_pairs(p: NDArray[np.float64], tol: float) -> list[tuple[int, int]]:
    if p.shape[0] <= 256:
        d = np.hypot(p[:, None, 0] - p[None, :, 0], p[:, None, 1] - p[None, :, 1])
        i, j = np.nonzero(np.triu(d <= tol, k=1))
        return sorted(zip(i.tolist(), j.tolist(), strict=True))
    from scipy.spatial import cKDTree  # only for large point sets

    return sorted(cKDTree(p).query_pairs(tol))


def _check_point_set(points: NDArray[np.float64], label: str) -> None:
    """Raise DegenerateConfigurationError unless 4 of the points are in general position.

    For distinct points that fails exactly when all points, or all but one, lie on a line (for
    four points: when any three are collinear).
    """
    n = points.shape[0]
    everyone = tuple(range(n))
    _, p = _normalise(points)  # scale-free from here on: mean distance sqrt(2)
    if not np.any(p):
        raise DegenerateConfigurationError(f"all {label} coincide", everyone)
    pairs = _close_pairs(p, _DUPLICATE_TOL * math.sqrt(2.0))
    if pairs:
        i, j = pairs[0]
        more = f" (and {len(pairs) - 1} more pairs)" if len(pairs) > 1 else ""
        raise DegenerateConfigurationError(f"{label} {i + 1} and {j + 1} coincide{more}", (i, j))
    if _flatness_all(p) <= _COLLINEAR_TOL:
        what = "all four" if n == 4 else "all"
        raise DegenerateConfigurationError(f"{what} {label} lie on one line", everyone)
    loo = _flatness_leave_one_out(p)
    k = int(np.argmin(loo))
    if loo[k] <= _COLLINEAR_TOL:
        rest = tuple(i for i in everyone if i != k)
        if n == 4:
            message = (f"{label} {_format_numbers(rest)} are (nearly) collinear; "
                       "no three of the four points may lie on one line")
        else:
            message = (f"{label} {_format_numbers(rest)} lie on one line and only point {k + 1} "
                       "is off it; a homography needs four points with no three on a line")
        raise DegenerateConfigurationError(message, rest)


def _dlt_system(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    """The 2N x 9 DLT matrix (padded with zero rows to at least 9) for ``b ~ H a``.

    Each pair gives the two rows of ``b x (H a) = 0`` that are linearly independent [1]_; the
    padding makes the SVD return all nine right singular vectors even for four points.
    """
    n = a.shape[0]
    A = np.zeros((max(2 * n, 9), 9))
    x, y = a[:, 0], a[:, 1]
    u, v = b[:, 0], b[:, 1]
    even, odd = A[0:2 * n:2], A[1:2 * n:2]
    even[:, 0], even[:, 1], even[:, 2] = -x, -y, -1.0
    even[:, 6], even[:, 7], even[:, 8] = u * x, u * y, u
    odd[:, 3], odd[:, 4], odd[:, 5] = -x, -y, -1.0
    odd[:, 6], odd[:, 7], odd[:, 8] = v * x, v * y, v
    return A


def _apply(H: NDArray[np.float64], points: NDArray[np.float64]
           ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Map points through H; returns (mapped points, homogeneous w). w == 0 gives inf."""
    hom = points @ H[:, :2].T + H[:, 2]
    w = hom[:, 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        mapped = hom[:, :2] / w[:, None]
    mapped[w == 0] = np.inf
    return mapped, w


# ============================================================================================
# Estimation
# ============================================================================================


def estimate_homography(src_points: ArrayLike, dst_points: ArrayLike) -> NDArray[np.float64]:
    """Estimate the homography that maps ``src_points`` onto ``dst_points``.

    Normalised direct linear transform [1]_ [2]_: each point set is moved so its centroid is at
    the origin and its mean distance from it is sqrt(2); the 2N x 9 DLT system is solved in the
    least-squares sense by SVD (the right singular vector of the smallest singular value), and the
    normalisation undone. Four points give the exact homography; more give the algebraic
    least-squares fit in normalised coordinates, which is close to, but not exactly, the fit with
    the least reprojection error.

    Parameters
    ----------
    src_points, dst_points : array_like, shape (N, 2)
        Corresponding points ``(x, y)`` in pixels, ``N >= 4``.

    Returns
    -------
    H : ndarray of float64, shape (3, 3)
        Maps ``[x, y, 1]`` of a source point to ``w * [u, v, 1]`` of its destination;
        ``H[2, 2] == 1``.

    Raises
    ------
    ValueError
        Wrong shapes, fewer than four points, different counts, or non-finite coordinates.
    DegenerateConfigurationError
        The points do not determine a homography. The message names the set (source or
        destination) and the points, numbered from 1; ``indices`` holds them 0-based. Detected:
        coinciding points, all points on one line, three of four points (or all but one of more)
        on one line, a rank-deficient system, a solution that squashes the plane onto a line,
        and a solution that sends the source origin to infinity (``H[2, 2]`` cannot be made 1).

    References
    ----------
    .. [1] R. Hartley and A. Zisserman, *Multiple View Geometry in Computer Vision*, 2nd ed.,
           Cambridge University Press, 2004, Algorithm 4.2.
    .. [2] R. I. Hartley, "In defense of the eight-point algorithm", IEEE Trans. PAMI 19(6),
           580-593, 1997.

    Examples
    --------
    >>> square = [[0, 0], [1, 0], [1, 1], [0, 1]]
    >>> H = estimate_homography(square, [[10, 20], [30, 20], [30, 40], [10, 40]])
    >>> (np.round(H, 9) + 0.0).tolist()
    [[20.0, 0.0, 10.0], [0.0, 20.0, 20.0], [0.0, 0.0, 1.0]]
    """
    src, dst = _as_pairs(src_points, dst_points)
    _check_point_set(src, "source points")
    _check_point_set(dst, "destination points")
    everyone = tuple(range(src.shape[0]))

    T_src, a = _normalise(src)
    T_dst, b = _normalise(dst)
    _, s, vt = np.linalg.svd(_dlt_system(a, b), full_matrices=False)
    if s[7] <= _RANK_TOL * s[0]:
        raise DegenerateConfigurationError(
            "the points do not determine a unique homography (the linear system is "
            f"rank-deficient, condition number {s[0] / max(s[7], 1e-300):.3g})", everyone)
    H_norm = vt[8].reshape(3, 3)
    sv = np.linalg.svd(H_norm, compute_uv=False)
    if sv[2] <= _SINGULAR_TOL * sv[0]:
        raise DegenerateConfigurationError(
            "the points do not determine a proper homography: the best fit squashes the source "
            "points onto a line (check for points that are nearly collinear in one set only)",
            everyone)

    H = np.linalg.solve(T_dst, H_norm @ T_src)
    # H[2, 2] is the w of the source origin; it is 0 when the origin lies on the line H sends to
    # infinity. Compare the origin's distance from that line with the size of the point set.
    spread = math.sqrt(2.0) / T_src[0, 0]
    horizon_norm = math.hypot(H[2, 0], H[2, 1])
    if abs(H[2, 2]) <= _H22_TOL * horizon_norm * spread or H[2, 2] == 0:
        raise DegenerateConfigurationError(
            "the homography sends the source origin (0, 0) to infinity, so it cannot be scaled "
            "to H[2, 2] = 1; move the points or the origin", ())
    return H / H[2, 2]


def homography_fit(src_points: ArrayLike, dst_points: ArrayLike, H: ArrayLike) -> HomographyFit:
    """Measure how well ``H`` maps ``src_points`` onto ``dst_points``, and flag trouble.

    Parameters
    ----------
    src_points, dst_points : array_like, shape (N, 2)
        Corresponding points ``(x, y)`` in pixels, ``N >= 4``.
    H : array_like, shape (3, 3)
        Homography from source to destination pixels (any scale).

    Returns
    -------
    HomographyFit
        Per-point reprojection errors, their RMS and maximum, the condition number of the
        normalised DLT system (``s[0] / s[7]``, see :class:`HomographyFit`) and user-facing
        warnings: a near-degenerate configuration (condition above 1e4), a mapping close to
        singular, points on both sides of the line sent to infinity, a mirroring mapping, and a
        reprojection error above 1 pixel.

    Raises
    ------
    ValueError
        Wrong shapes or counts, or non-finite values. Degenerate points are reported, not raised.

    See Also
    --------
    estimate_homography
    """
    src, dst = _as_pairs(src_points, dst_points)
    H = _as_matrix(H)
    mapped, w = _apply(H, src)
    errors = np.hypot(*(mapped - dst).T)
    errors[~np.isfinite(errors)] = np.inf
    errors.flags.writeable = False
    with np.errstate(over="ignore", invalid="ignore"):
        rms = float(np.sqrt(np.mean(errors ** 2)))
    worst = int(np.argmax(errors))

    T_src, a = _normalise(src)
    T_dst, b = _normalise(dst)
    s = np.linalg.svd(_dlt_system(a, b), compute_uv=False)
    condition = float(s[0] / s[7]) if s[7] > 0 else math.inf

    warnings: list[str] = []
    if condition > _FIT_CONDITION_WARN:
        warnings.append(f"the points are close to a configuration that does not fix a homography "
                        f"(condition number {condition:.3g}); small errors in them move the "
                        "result a lot")
    sv = np.linalg.svd(T_dst @ H @ np.linalg.inv(T_src), compute_uv=False)
    if sv[2] < _FIT_SINGULAR_WARN * sv[0]:
        warnings.append("the mapping is close to singular: it squashes part of the image towards "
                        "a line (check for points that are nearly collinear in one set only)")
    sign = np.sign(w)
    majority = 1.0 if (sign > 0).sum() >= (sign < 0).sum() else -1.0
    beyond = np.flatnonzero(sign != majority)
    if beyond.size:
        who = (f"point {beyond[0] + 1} lies" if beyond.size == 1
               else f"points {_format_numbers(beyond)} lie")
        warnings.append(f"{who} on the other side of the line that the mapping sends to "
                        "infinity, so the region between them and the rest is torn apart; check "
                        "the point order")
    elif np.all(np.sign(np.linalg.det(H)) * sign ** 3 < 0):
        warnings.append("the mapping mirrors the image: the two point sets run in opposite "
                        "directions (check the point order)")
    if errors[worst] > _FIT_ERROR_WARN_PX:
        warnings.append(f"point {worst + 1} is {errors[worst]:.3g} px from where the mapping puts "
                        f"it (RMS over all points {rms:.3g} px)")
    return HomographyFit(errors=errors, rms=rms, max=float(errors[worst]), condition=condition,
                         warnings=tuple(warnings))


# ============================================================================================
# Quadrilaterals
# ============================================================================================


def _cross(o: NDArray, a: NDArray, b: NDArray) -> float:
    return float((a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]))


def _segments_cross(p1: NDArray, p2: NDArray, q1: NDArray, q2: NDArray) -> bool:
    d1, d2 = _cross(q1, q2, p1), _cross(q1, q2, p2)
    d3, d4 = _cross(p1, p2, q1), _cross(p1, p2, q2)
    return d1 * d2 < 0 and d3 * d4 < 0


def _quad_crossing(p: NDArray[np.float64]) -> tuple[int, int] | None:
    """The pair of corners to swap to undo a bow-tie, or None if no opposite edges cross.

    Two swaps untangle a bow-tie (edges 1-2 and 3-4 crossing: swap 2 and 3, or 1 and 4); they
    give the same outline run in opposite directions. The pair named is the one whose swap
    leaves the corners running clockwise on screen, as top-left, top-right, bottom-right,
    bottom-left do: the two corners the user dragged past each other.
    """
    if _segments_cross(p[0], p[1], p[2], p[3]):
        candidates = ((1, 2), (0, 3))
    elif _segments_cross(p[1], p[2], p[3], p[0]):
        candidates = ((0, 1), (2, 3))
    else:
        return None
    for i, j in candidates:
        q = p.copy()
        q[[i, j]] = q[[j, i]]
        if _signed_area(q) > 0:
            return (i, j)
    return candidates[0]


def _turns(p: NDArray[np.float64]) -> NDArray[np.float64]:
    """Cross product of the two edges at each corner (> 0: a clockwise turn on screen)."""
    prev, nxt = np.roll(p, 1, axis=0), np.roll(p, -1, axis=0)
    return ((p[:, 0] - prev[:, 0]) * (nxt[:, 1] - p[:, 1])
            - (p[:, 1] - prev[:, 1]) * (nxt[:, 0] - p[:, 0]))


def _signed_area(p: NDArray[np.float64]) -> float:
    """Shoelace area; positive for top-left, top-right, bottom-right, bottom-left (y down)."""
    nxt = np.roll(p, -1, axis=0)
    return 0.5 * float(np.sum(p[:, 0] * nxt[:, 1] - nxt[:, 0] * p[:, 1]))


def _reflex_corner(p: NDArray[np.float64]) -> int | None:
    """The corner that points inwards in a simple, non-convex quadrilateral, else None."""
    turns = _turns(p)
    orientation = np.sign(_signed_area(p))
    inward = np.flatnonzero(np.sign(turns) == -orientation)
    return int(inward[0]) if orientation != 0 and inward.size == 1 else None


def quadrilateral_warnings(points: ArrayLike) -> list[str]:
    """Warn about a four-corner outline that is (close to) unusable, before anything fails.

    Meant for live feedback while the user drags the corners of the Rectify tool. Checks, in
    this order:

    * two corners closer than 3% of the outline's largest extent;
    * three corners nearly on one line: a corner angle within 10 degrees of 180 (or of 0);
    * an outline that crosses itself (a bow-tie: two corners swapped);
    * a non-convex outline (one corner points inwards) -- a photographed rectangle is convex;
    * corners that run anticlockwise on screen (the result would be mirrored);
    * an area under 64 square pixels.

    Parameters
    ----------
    points : array_like, shape (4, 2)
        Corners ``(x, y)`` in pixels, ordered top-left, top-right, bottom-right, bottom-left.

    Returns
    -------
    list of str
        One message per problem, naming corners by number (from 1) and position; empty when the
        outline is fine.

    Raises
    ------
    ValueError
        Not four finite points.

    Examples
    --------
    >>> quadrilateral_warnings([[0, 0], [100, 0], [100, 80], [0, 80]])
    []
    >>> quadrilateral_warnings([[0, 0], [100, 0], [0, 80], [100, 80]])[0][:40]
    'the outline crosses itself (a bow-tie): '
    """
    p = _as_corners(points, "points")
    extent = max(float(np.hypot(*(p[i] - p[j]))) for i in range(4) for j in range(i + 1, 4))
    if extent == 0:
        return ["all four corners are on the same spot; drag them to the corners of the "
                "rectangle"]
    messages: list[str] = []
    close: set[int] = set()
    for i in range(4):
        for j in range(i + 1, 4):
            gap = float(np.hypot(*(p[i] - p[j])))
            if gap < _CLOSE_FRACTION * extent:
                close.update((i, j))
                messages.append(f"corners {_corner(i)} and {_corner(j)} are too close together "
                                f"({gap:.3g} px apart)")
    for m in range(4):
        a, b = (m - 1) % 4, (m + 1) % 4
        if {a, m, b} & close:
            continue  # an angle next to two near-coincident corners is meaningless
        u, v = p[a] - p[m], p[b] - p[m]
        cosine = float(np.dot(u, v) / (np.hypot(*u) * np.hypot(*v)))
        angle = math.degrees(math.acos(min(1.0, max(-1.0, cosine))))
        if angle > 180.0 - _STRAIGHT_DEG or angle < _STRAIGHT_DEG:
            first, second, third = sorted((a, m, b))
            messages.append(f"corners {_corner(first)}, {_corner(second)} and {_corner(third)} "
                            f"are nearly on one line (angle at corner {m + 1}: {angle:.0f} "
                            "degrees)")
    swap = _quad_crossing(p)
    if swap is not None:
        i, j = swap
        messages.append("the outline crosses itself (a bow-tie): corners "
                        f"{_corner(i)} and {_corner(j)} look swapped; place them in the order "
                        "top-left, top-right, bottom-right, bottom-left")
    else:
        reflex = _reflex_corner(p)
        area = _signed_area(p)
        if reflex is not None:
            messages.append(f"corner {_corner(reflex)} points inwards, so the outline is not "
                            "convex; a photographed rectangle always looks convex")
        elif area < 0:
            messages.append("the corners run anticlockwise, so the result will be mirrored; "
                            "place them in the order top-left, top-right, bottom-right, "
                            "bottom-left")
        if abs(area) < _TINY_AREA_PX:
            messages.append(f"the outlined area is tiny ({abs(area):.3g} square pixels)")
    return messages


def _check_rectangle_image(p: NDArray[np.float64]) -> None:
    """Raise unless four corners can be the image of a rectangle (a convex quadrilateral)."""
    _check_point_set(p, "corners")
    swap = _quad_crossing(p)
    if swap is not None:
        i, j = swap
        raise DegenerateConfigurationError(
            f"the corners' outline crosses itself: corners {_corner(i)} and {_corner(j)} look "
            "swapped; the order is top-left, top-right, bottom-right, bottom-left", swap)
    reflex = _reflex_corner(p)
    if reflex is not None:
        raise DegenerateConfigurationError(
            f"corner {_corner(reflex)} points inwards; the image of a rectangle is always convex",
            (reflex,))


# ============================================================================================
# Output size (Zhang & He 2007)
# ============================================================================================


def _zhang_he(p: NDArray[np.float64], principal: NDArray[np.float64], reference: float
              ) -> tuple[float, float] | None:
    """(aspect, focal) from four corners by Zhang & He's method [3]_, or None if f is not found.

    With the principal point at the origin, square pixels and no skew, the corners m1..m4
    (top-left, top-right, bottom-left, bottom-right of a w x h rectangle) satisfy
    ``lam4 m4 = lam2 m2 + lam3 m3 - lam1 m1``. Cross products give ``k2 = lam2 / lam1`` and
    ``k3 = lam3 / lam1``, and ``n2 = k2 m2 - m1``, ``n3 = k3 m3 - m1`` are proportional to
    ``w A r1`` and ``h A r2``. Orthogonality of r1 and r2 gives the focal length, their equal
    length gives the aspect ratio. ``n2``, ``n3`` are the vanishing points of the two side
    directions; when one is at infinity (opposite sides parallel), f is undetermined.
    """
    scale = float(np.hypot(*(p - principal).T).mean())
    q = (p - principal) / scale
    m1, m2, m4, m3 = (np.array([x, y, 1.0]) for x, y in q)  # our order is TL, TR, BR, BL
    c14 = np.cross(m1, m4)
    den2, den3 = float(np.dot(np.cross(m2, m4), m3)), float(np.dot(np.cross(m3, m4), m2))
    if den2 == 0 or den3 == 0:
        return None
    k2, k3 = float(np.dot(c14, m3)) / den2, float(np.dot(c14, m2)) / den3
    if k2 <= 0 or k3 <= 0:  # some corner would be behind the camera
        return None
    n2, n3 = k2 * m2 - m1, k3 * m3 - m1
    for n in (n2, n3):
        if abs(n[2]) <= _PARALLEL_TOL * math.hypot(n[0], n[1]):
            return None
    f2 = -(n2[0] * n3[0] + n2[1] * n3[1]) / (n2[2] * n3[2])
    if not math.isfinite(f2) or f2 <= 0:
        return None
    focal = math.sqrt(f2) * scale
    if not _FOCAL_RANGE[0] * reference <= focal <= _FOCAL_RANGE[1] * reference:
        return None
    aspect2 = ((n2[0] ** 2 + n2[1] ** 2 + f2 * n2[2] ** 2)
               / (n3[0] ** 2 + n3[1] ** 2 + f2 * n3[2] ** 2))
    return math.sqrt(aspect2), focal


def rectified_size(corners: ArrayLike, *, image_size: tuple[int, int] | None = None
                   ) -> RectifiedSize:
    """Estimate the true aspect ratio and a pixel size for rectifying an imaged rectangle.

    The aspect ratio comes from Zhang & He's whiteboard method [3]_: assuming square pixels, no
    skew and the principal point at the image centre, the two vanishing points of the rectangle's
    sides give the focal length, and the focal length gives the ratio of the real side lengths.
    When the focal length cannot be recovered -- opposite sides parallel in the image (affine or
    fronto-parallel view), ``f**2 <= 0``, or a focal length outside 0.1 to 20 image diagonals --
    the ratio of the mean lengths of opposite sides is used instead.

    The size keeps about the source's sampling density: the output width (between the centres of
    the corner pixels) is the longest of the top side, the bottom side, and ``aspect`` times the
    longest of the left and right sides, so no side is shrunk; height follows from the aspect.

    Parameters
    ----------
    corners : array_like, shape (4, 2)
        Imaged corners ``(x, y)`` in pixels, ordered top-left, top-right, bottom-right,
        bottom-left.
    image_size : (int, int), optional
        ``(width, height)`` of the photo. Its centre is taken as the principal point. Without it
        the corners' centroid is used, which is a rougher guess.

    Returns
    -------
    RectifiedSize
        ``width`` and ``height`` (at least 2), ``aspect``, ``method`` (``"zhang-he"`` or
        ``"side-lengths"``) and ``focal`` (pixels, or None).

    Raises
    ------
    ValueError
        Not four finite points, or a bad ``image_size``.
    DegenerateConfigurationError
        Corners that coincide, three on a line, a self-intersecting or non-convex outline.

    References
    ----------
    .. [3] Z. Zhang and L.-W. He, "Whiteboard scanning and image enhancement", Digital Signal
           Processing 17(2), 414-432, 2007.

    Examples
    --------
    >>> size = rectified_size([[10, 10], [210, 10], [210, 110], [10, 110]])
    >>> size.width, size.height, size.method
    (201, 101, 'side-lengths')
    """
    p = _as_corners(corners, "corners")
    _check_rectangle_image(p)
    if image_size is None:
        principal = p.mean(axis=0)
        reference = max(float(np.hypot(*(p[i] - p[j]))) for i in range(4) for j in range(i))
    else:
        w, h = _as_size(image_size, "image_size")
        principal = np.array([(w - 1) / 2.0, (h - 1) / 2.0])
        reference = math.hypot(w, h)

    top, right = float(np.hypot(*(p[1] - p[0]))), float(np.hypot(*(p[2] - p[1])))
    bottom, left = float(np.hypot(*(p[2] - p[3]))), float(np.hypot(*(p[3] - p[0])))
    found = _zhang_he(p, principal, reference)
    if found is None:
        aspect, focal, method = (top + bottom) / (left + right), None, "side-lengths"
    else:
        (aspect, focal), method = found, "zhang-he"
    span = max(top, bottom, aspect * max(left, right))
    width = max(2, round(span) + 1)
    height = max(2, round((width - 1) / aspect) + 1)
    return RectifiedSize(width=int(width), height=int(height), aspect=float(aspect),
                         method=method, focal=focal)


def rectify_homography(corners: ArrayLike, size: tuple[int, int] | RectifiedSize
                       ) -> NDArray[np.float64]:
    """Homography taking four imaged corners to the corner pixel centres of a ``size`` output.

    Top-left, top-right, bottom-right and bottom-left go to ``(0, 0)``, ``(W-1, 0)``,
    ``(W-1, H-1)`` and ``(0, H-1)``: the ``workbench rectify --size WxH`` contract.

    Parameters
    ----------
    corners : array_like, shape (4, 2)
        Source corners ``(x, y)`` in pixels, ordered top-left, top-right, bottom-right,
        bottom-left.
    size : (int, int) or RectifiedSize
        Output ``(width, height)``, each at least 2.

    Returns
    -------
    H : ndarray of float64, shape (3, 3)
        Source pixels to output pixels, ``H[2, 2] == 1``; pass it to :func:`warp_perspective`
        with the same size.

    Raises
    ------
    OutputSizeError
        ``size`` smaller than 2 x 2.
    DegenerateConfigurationError
        As for :func:`estimate_homography`.
    """
    corners_arr = _as_corners(corners, "corners")
    if isinstance(size, RectifiedSize):
        width, height = size.width, size.height
    else:
        width, height = _as_size(size, "size")
    if width < 2 or height < 2:
        raise OutputSizeError(f"size must be at least 2 x 2 so the corners land on distinct "
                              f"pixels; got {width} x {height}")
    dst = np.array([[0.0, 0.0], [width - 1, 0.0], [width - 1, height - 1], [0.0, height - 1]])
    return estimate_homography(corners_arr, dst)
