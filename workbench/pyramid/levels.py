"""Gaussian, Laplacian and difference-of-Gaussian pyramids, reconstruction and blending.

The core of the Pyramid panel: plain functions on numpy arrays (no Qt). A Gaussian pyramid is the
input followed by repeatedly blurred and decimated copies of it; a Laplacian pyramid stores each
level minus the expanded next level, plus the coarsest Gaussian level, and adds back up to the
input exactly. Both are from Burt & Adelson (1983), as is the multiresolution spline (`blend`).

Conventions
-----------
* Images are ``(H, W)`` or ``(H, W, C)`` with ``C`` in 1..4 (gray, gray+alpha, RGB, RGBA), dtype
  uint8, uint16, float32 or float64. Channels are filtered independently (alpha included).
* Kernel: ``gaussian_kernel_1d(size, sigma)``, taps = the normal density integrated over each
  pixel's interval, so they stay meaningful for small sigma. The default ``sigma``
  (:data:`DEFAULT_SIGMA` = 1.0292 with ``kernel_size=5``) is the least-squares fit to Burt &
  Adelson's ``[1, 4, 6, 4, 1] / 16``: taps ``[0.0659, 0.2448, 0.3786, 0.2448, 0.0659]``, at most
  0.0053 from the binomial (an integrated Gaussian cannot reach the binomial's 0.25 side tap).
  ``kernel=`` takes explicit symmetric taps instead, e.g. :data:`BURT_ADELSON_TAPS`.
* Borders are reflect-101 (``dcb|abcd|cba``, OpenCV's default, scipy's ``mode="mirror"``)
  everywhere: reduce, expand, DoG blur.
* Reduce keeps the even rows and columns of the blurred level, so a level of size ``n`` gives
  ``ceil(n / 2)``, exactly like ``cv2.pyrDown``; pixel ``i`` of level ``k`` sits at ``2**k * i``
  in the input. Pyramids stop early after a 1 x 1 level.
* Expand (upsample x2) puts the coarse samples on the even positions of a zero grid of the exact
  finer size (odd sizes included) and filters it with the kernel, each polyphase component
  rescaled to sum 1. For the binomial this is the textbook "2 x kernel"; for other kernels it
  avoids a checkerboard ripple (the Gaussian's even and odd taps do not sum to 1/2 each).
* Gaussian levels keep the input dtype (rounded for integers); Laplacian and DoG bands are
  float32. `reconstruct_from_laplacian` returns the input dtype, rounded and clipped.

Speed (figures: ``tests/benchmarks/README.md``; ``test_bench_pyramid.py`` measures them)
--------------------------------------------------------------------------------------
REDUCE runs in C (``_reduce.c``, built at install, see ``pyproject.toml``): it computes only the
samples decimation keeps. Each output row sums the 2m + 1 input rows around its source row
(using the kernel's symmetry), splits that row into even and odd pixels, and sums the horizontal
taps over those two phases, so both passes run at the kept positions on unit-stride data, with
AVX2 + FMA where the CPU has them (chosen at run time) and portable loops elsewhere. A level of
100 k samples or more is split into bands of output rows, one per OpenCV thread
(``cv2.setNumThreads`` governs both); the C code releases the GIL. Sums are float32 (float64 for
float64 images) with the exact taps, integers rounded half up: within float rounding of the
exact result. Off by one from the exactly rounded value where the exact value lies a hair from
a tie: uint8 ~1 sample in 10^5, uint16 ~3 in 10^3 (float32 resolves 1/256 at 65535). The AVX2
loops fuse multiply and add, the portable ones may not, so the two can differ by one on such
samples (a row's last few samples always take the portable loop). Kernels longer than
``_reduce.MAX_TAPS`` (~10^6 taps) take the OpenCV route.

Explicit taps equal to :data:`BURT_ADELSON_TAPS` dispatch to
``cv2.pyrDown`` (same filter, borders and sizes).

Without the compiled module (an install that found no C compiler; ``workbench info`` says which
REDUCE runs) the **OpenCV route** is used: one fused ``cv2.sepFilter2D`` call over the level
followed by ``cv2.resize(INTER_NEAREST)`` at a scale of exactly 2, which copies every other row and
column. It computes four times the samples decimation keeps. Levels of 60 k to 3 M samples, where
``sepFilter2D`` runs on one thread, are filtered in row strips on OpenCV's thread count; uint8
kernels of 15 taps or more on levels of 12 M samples or more take a two-pass route (vertical pass,
transpose, vertical pass, transpose) that rounds once more (at most 1 gray level from the fused
result). Polyphase forms built from OpenCV and numpy calls (strided views, transposes, banded BLAS
products, ``scipy.signal.upfirdn``) were measured and all lost to the fused filter; it takes a loop
that visits only the kept samples, which is why the C module exists.

On the OpenCV route, uint8 taps are rounded to multiples of 1/256, kept symmetric and summing
to exactly 1: OpenCV's own 8-bit fixed-point smoothing path (as in ``cv2.GaussianBlur``),
faster than float taps and within ~1 gray level of the exact result. uint16 and float
images use float taps.

EXPAND is compiled too (``_reduce.expand_rows``): reflect-101 keeps parity, so each fine sample
sums only the grid positions that hold coarse samples (half the taps per axis), and even and odd
output pixels are two stencils over the padded coarse row. The Laplacian's subtraction and the
reconstruction's addition happen inside it, row by row (the OpenCV route runs a sepFilter2D over
the zero-inserted float grid, then numpy). Both are largely memory traffic.

References
----------
.. [1] P. J. Burt and E. H. Adelson, "The Laplacian Pyramid as a Compact Image Code",
       IEEE Transactions on Communications, 31(4):532-540, 1983.
.. [2] P. J. Burt and E. H. Adelson, "A Multiresolution Spline With Application to Image
       Mosaics", ACM Transactions on Graphics, 2(4):217-236, 1983.
"""

from __future__ import annotations

import math
import numbers
import operator
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Literal, NamedTuple

import cv2
import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import ndtr

from workbench.errors import InputError

try:  # built from _reduce.c at install; absent where the install found no C compiler
    from workbench.pyramid import _reduce as _compiled
except ImportError:  # pragma: no cover - exercised by forcing _compiled = None in the tests
    _compiled = None

__all__ = [
    "BURT_ADELSON_TAPS",
    "DEFAULT_KERNEL_SIZE",
    "DEFAULT_SIGMA",
    "LaplacianPyramid",
    "LevelStats",
    "PyramidInputError",
    "PyramidMosaic",
    "dog_pyramid",
    "gaussian_kernel",
    "gaussian_kernel_1d",
    "gaussian_pyramid",
    "laplacian_pyramid",
    "level_stats",
    "max_levels",
    "pyramid_expand",
    "pyramid_mosaic",
    "pyramid_reduce",
    "pyramid_shapes",
    "reconstruct_from_laplacian",
    "reduce_backend",
    "upsample_to",
]

#: Least-squares fit of ``gaussian_kernel_1d(5, sigma)`` to ``[1, 4, 6, 4, 1] / 16``.
DEFAULT_SIGMA = 1.0292
DEFAULT_KERNEL_SIZE = 5
#: Burt & Adelson's generating kernel with a = 0.375 (the binomial), as used by ``cv2.pyrDown``.
BURT_ADELSON_TAPS = np.array([1.0, 4.0, 6.0, 4.0, 1.0]) / 16.0
BURT_ADELSON_TAPS.setflags(write=False)

_BORDER = cv2.BORDER_REFLECT_101
_DTYPES = (np.uint8, np.uint16, np.float32, np.float64)
_FIXED_POINT_ONE = 256  # OpenCV's 8-bit smoothing uses 8 fractional bits per direction
#: uint8 levels of at least this many samples (pixels x channels) filtered with at least this
#: many taps take the two-pass REDUCE (see `_Reducer`).
_TWO_PASS_MIN_TAPS = 15
_TWO_PASS_MIN_SAMPLES = 12_000_000  # ~4 MP RGB; measured: no gain at 1080p, 8-20 % at 6 MP+
#: Levels of `_STRIP_MIN_SAMPLES` up to `_STRIP_MAX_SAMPLES` samples (pixels x channels) are
#: filtered in row strips on several threads (see `_strip_count`).
_STRIP_MIN_SAMPLES = 60_000
_STRIP_MAX_SAMPLES = 3_000_000
#: The compiled REDUCE splits levels of at least this many samples between OpenCV's threads.
_BAND_MIN_SAMPLES = 100_000
_KINDS = {np.dtype(t): kind for kind, t in enumerate(_DTYPES)}  # _reduce.c's sample kinds
#: Let the compiled REDUCE use its AVX2 loops where the CPU has them (tests turn it off).
_SIMD = True


class PyramidInputError(InputError):
    """An image, mask, kernel or level count the pyramid functions cannot work with."""


# --------------------------------------------------------------------------------------------
# Validation at the door
# --------------------------------------------------------------------------------------------


def _check_int(value: object, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise PyramidInputError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise PyramidInputError(f"{name} must be at least {minimum}, got {value}")
    return int(value)


def _check_sigma(sigma: object) -> float:
    if isinstance(sigma, bool) or not isinstance(sigma, numbers.Real):
        raise PyramidInputError(f"sigma must be a number, got {sigma!r}")
    if not math.isfinite(sigma) or sigma <= 0:
        raise PyramidInputError(f"sigma must be positive and finite, got {sigma}")
    return float(sigma)


def _check_size(size: object, name: str = "size") -> int:
    size = _check_int(size, name, 1)
    if size % 2 == 0:
        raise PyramidInputError(f"{name} must be odd (the kernel has a centre tap), got {size}")
    return size


def _check_shape(shape: object, name: str = "shape") -> tuple[int, int]:
    try:
        height, width = (operator.index(s) for s in shape[:2])  # type: ignore[index]
    except (TypeError, ValueError):
        raise PyramidInputError(f"{name} must be (height, width) integers, got {shape!r}") from None
    if height < 1 or width < 1:
        raise PyramidInputError(f"{name} must be positive, got {(height, width)}")
    return height, width


def _check_image(image: ArrayLike, name: str = "image") -> NDArray:
    array = np.asarray(image)
    if array.ndim not in (2, 3) or (array.ndim == 3 and not 1 <= array.shape[2] <= 4):
        raise PyramidInputError(
            f"{name} must be (H, W) gray or (H, W, C) with C in 1..4, got shape {array.shape}"
        )
    if array.dtype.type not in _DTYPES:
        raise PyramidInputError(
            f"{name} has dtype {array.dtype}; use uint8, uint16, float32 or float64"
        )
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise PyramidInputError(f"{name} is empty (shape {array.shape})")
    if not array.dtype.isnative:  # e.g. big-endian 16-bit samples from a FITS or raw reader
        array = array.astype(array.dtype.newbyteorder("="))
    return array


def _check_taps(kernel: ArrayLike) -> NDArray[np.float64]:
    try:
        taps = np.asarray(kernel, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise PyramidInputError(f"kernel must be a 1-D array of numbers: {exc}") from None
    if taps.ndim != 1 or taps.size % 2 == 0:
        raise PyramidInputError(f"kernel must be 1-D with an odd length, got shape {taps.shape}")
    if not np.all(np.isfinite(taps)) or np.any(taps < 0):
        raise PyramidInputError("kernel taps must be finite and non-negative")
    if not np.allclose(taps, taps[::-1], rtol=0, atol=1e-12):
        raise PyramidInputError("kernel must be symmetric (taps[i] == taps[-1 - i])")
    if abs(math.fsum(taps) - 1.0) > 1e-9:
        raise PyramidInputError(f"kernel taps must sum to 1, got {math.fsum(taps):.12g}")
    taps = (taps + taps[::-1]) / 2  # exactly symmetric, and exactly normalised below
    return taps / math.fsum(taps)


def _resolve_taps(sigma: float, kernel_size: int, kernel: ArrayLike | None) -> NDArray:
    if kernel is not None:
        taps = _check_taps(kernel)
    else:
        taps = gaussian_kernel_1d(_check_size(kernel_size, "kernel_size"), sigma)
    if taps.size < 3:
        name = "kernel" if kernel is not None else "kernel_size"
        raise PyramidInputError(
            f"{name} must give at least 3 taps: one tap neither blurs nor "
            "lets EXPAND fill the odd samples"
        )
    return taps


# --------------------------------------------------------------------------------------------
# Kernel
# --------------------------------------------------------------------------------------------


def gaussian_kernel_1d(size: int = DEFAULT_KERNEL_SIZE, sigma: float = DEFAULT_SIGMA) -> NDArray:
    """1-D Gaussian taps integrated over each pixel's interval, summing to 1.

    Tap ``i`` (offset ``x = i - size // 2``) is ``Phi((x + 1/2) / sigma) - Phi((x - 1/2) / sigma)``
    with ``Phi`` the standard normal CDF, i.e. the mass of the Gaussian that falls inside the
    pixel; the truncated taps are then renormalised. Unlike point samples this stays a sensible
    low-pass filter for small ``sigma`` and tends to the sampled Gaussian as ``sigma`` grows.

    Parameters
    ----------
    size : int, optional
        Number of taps; odd and positive.
    sigma : float, optional
        Standard deviation in pixels; positive. The default best matches Burt & Adelson's
        ``[1, 4, 6, 4, 1] / 16`` at ``size=5`` (least squares).

    Returns
    -------
    taps : (size,) ndarray of float64
        Symmetric, non-negative, ``sum(taps) == 1`` to within one rounding.

    Raises
    ------
    PyramidInputError
        If ``size`` is not a positive odd integer or ``sigma`` is not positive and finite.

    References
    ----------
    .. [1] Burt & Adelson, "The Laplacian Pyramid as a Compact Image Code", 1983.

    Examples
    --------
    >>> gaussian_kernel_1d(5).round(4)
    array([0.0659, 0.2448, 0.3786, 0.2448, 0.0659])
    """
    size = _check_size(size)
    sigma = _check_sigma(sigma)
    radius = size // 2
    offsets = np.arange(1, radius + 1, dtype=np.float64)
    # Upper-tail differences keep the small outer taps accurate (no cancellation near 1).
    side = ndtr(-(offsets - 0.5) / sigma) - ndtr(-(offsets + 0.5) / sigma)
    centre = math.erf(0.5 / (sigma * math.sqrt(2.0)))
    taps = np.concatenate([side[::-1], [centre], side])
    taps /= math.fsum(taps)
    # Put the last rounding on the centre tap so the sum is 1 and symmetry stays exact.
    taps[radius] = 1.0 - math.fsum(np.delete(taps, radius))
    return taps


def gaussian_kernel(size: int = DEFAULT_KERNEL_SIZE, sigma: float = DEFAULT_SIGMA) -> NDArray:
    """Normalised 2-D Gaussian kernel, the outer product of :func:`gaussian_kernel_1d` with itself.

    Filtering is always done separably with the 1-D taps; this 2-D form is for display and checks.

    Parameters
    ----------
    size : int, optional
        Side length; odd and positive.
    sigma : float, optional
        Standard deviation in pixels; positive.

    Returns
    -------
    kernel : (size, size) ndarray of float64
        Sums to 1 (to within rounding), symmetric under transposition and flips.

    Raises
    ------
    PyramidInputError
        If ``size`` or ``sigma`` is invalid.

    References
    ----------
    .. [1] Burt & Adelson, "The Laplacian Pyramid as a Compact Image Code", 1983.

    Examples
    --------
    >>> k = gaussian_kernel(5)
    >>> k.shape, bool(abs(k.sum() - 1) < 1e-12)
    ((5, 5), True)
    """
    taps = gaussian_kernel_1d(size, sigma)
    return np.outer(taps, taps)


def _fixed_point_taps(taps: NDArray) -> NDArray[np.float32]:
    """Taps as multiples of 1/256, symmetric, summing to exactly 1 (largest remainders win)."""
    scaled = taps * _FIXED_POINT_ONE
    units = np.floor(scaled)
    missing = _FIXED_POINT_ONE - int(units.sum())
    radius = taps.size // 2
    if missing % 2:
        units[radius] += 1
        missing -= 1
    remainders = (scaled - units)[:radius]
    for i in np.argsort(-remainders, kind="stable"):
        if missing <= 0:
            break
        units[i] += 1
        units[-1 - i] += 1
        missing -= 2
    units[radius] += missing  # only when every pair already took a unit
    return (units / _FIXED_POINT_ONE).astype(np.float32)


def _is_burt_adelson(taps: NDArray) -> bool:
    return taps.size == 5 and bool(np.all(np.abs(taps - BURT_ADELSON_TAPS) <= 4e-16))


# --------------------------------------------------------------------------------------------
# One level down, one level up
# --------------------------------------------------------------------------------------------


def _as_cv(image: NDArray) -> NDArray:
    """A view OpenCV takes without copying: contiguous pixels, a 2-D array for one channel."""
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    pixel = image.itemsize * (image.shape[2] if image.ndim == 3 else 1)
    packed = image.strides[1] == pixel and (image.ndim == 2 or image.strides[2] == image.itemsize)
    if not packed or image.strides[0] < pixel * image.shape[1]:
        image = np.ascontiguousarray(image)
    return image


def _like(result: NDArray, reference: NDArray) -> NDArray:
    """Restore the trailing channel axis OpenCV drops for single-channel images."""
    if reference.ndim == 3 and result.ndim == 2:
        return result[:, :, np.newaxis]
    return result


def _decimate(blurred: NDArray, out: NDArray | None = None) -> NDArray:
    """Every other row and column, starting at 0; ``ceil(n / 2)`` samples per axis.

    Writes into ``out`` (shape ``(ceil(H / 2), ceil(W / 2)[, C])``) when given.
    """
    height, width = blurred.shape[:2]
    h2, w2 = height // 2, width // 2
    if out is None:
        out = np.empty(((height + 1) // 2, (width + 1) // 2) + blurred.shape[2:], blurred.dtype)
    if h2 and w2:
        # At a scale of exactly 2, INTER_NEAREST picks source index 2 * i: a fast strided copy.
        cv2.resize(
            blurred[: 2 * h2, : 2 * w2],
            (w2, h2),
            dst=out[:h2, :w2],
            interpolation=cv2.INTER_NEAREST,
        )
    if width % 2:
        out[:h2, w2] = blurred[0 : 2 * h2 : 2, width - 1]
    if height % 2:
        out[h2] = blurred[height - 1, ::2]
    return out


_pool: tuple[int, int, ThreadPoolExecutor] | None = None  # (pid, workers, pool)
_pool_lock = threading.Lock()


def _after_fork_in_child() -> None:
    global _pool, _pool_lock
    _pool, _pool_lock = None, threading.Lock()  # the parent's threads and lock state stay behind


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _strip_pool() -> ThreadPoolExecutor:
    """Helper threads for filtering a level in row strips (created on first use, then kept).

    A forked child gets a fresh pool: the parent's worker threads do not exist there.
    """
    global _pool
    workers = max(1, cv2.getNumThreads() - 1)
    with _pool_lock:
        if _pool is None or _pool[:2] != (os.getpid(), workers):  # new process or thread count
            if _pool is not None and _pool[0] == os.getpid():
                _pool[2].shutdown(wait=False)
            _pool = (
                os.getpid(),
                workers,
                ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pyramid-reduce"),
            )
        return _pool[2]


def _strip_count(samples: int) -> int:
    """How many row strips to filter a level of ``samples`` (pixels x channels) in, side by side.

    OpenCV's ``sepFilter2D`` runs on one thread below roughly a megapixel, where ``cv2.pyrDown``
    still uses all of OpenCV's threads; there a level is cut into one strip per thread. Larger
    levels are already parallel inside OpenCV; tiny ones cost more to hand over than to filter.
    """
    if not _STRIP_MIN_SAMPLES <= samples < _STRIP_MAX_SAMPLES:
        return 1
    return cv2.getNumThreads()


def reduce_backend() -> str:
    """Which REDUCE runs here, in words (``workbench info``, About)."""
    if _compiled is None:
        return (
            "OpenCV route: the compiled REDUCE was not built (no C compiler at install time; "
            "install one and reinstall Workbench for 2-4x faster pyramids)"
        )
    simd = "AVX2 + FMA" if _compiled.SIMD == "avx2" else "portable loops"
    return f"compiled ({simd}, {cv2.getNumThreads()} threads)"


def _compiled_takes(taps: NDArray) -> bool:
    """Whether the compiled steps run for this kernel (built here, and not too long for them)."""
    return _compiled is not None and taps.size <= _compiled.MAX_TAPS


def _band_count(samples: int) -> int:
    """How many bands of output rows the compiled REDUCE splits a level of ``samples`` into."""
    return cv2.getNumThreads() if samples >= _BAND_MIN_SAMPLES else 1


def _in_bands(work: Callable[[int, int], None], rows: int, samples: int) -> None:
    """Run ``work(start, stop)`` over bands of ``rows`` output rows, side by side on threads.

    The compiled steps release the GIL; the calling thread takes the first band. Returns when
    every band is done, having waited for all of them even if one failed.
    """
    count = max(1, min(_band_count(samples), rows))
    cuts = [rows * i // count for i in range(count + 1)]
    helpers = [_strip_pool().submit(work, a, b) for a, b in zip(cuts[1:-1], cuts[2:], strict=True)]
    try:
        work(cuts[0], cuts[1])
    except BaseException:
        for helper in helpers:  # never leave a helper writing into a buffer the caller drops
            helper.exception()
        raise
    for helper in helpers:
        helper.result()


def _row_strips(height: int, count: int) -> list[tuple[int, int]]:
    """``count`` (or fewer) ``[start, stop)`` row ranges covering ``height``; inner cuts even."""
    count = max(1, min(count, height // 2))
    cuts = [2 * ((height * i // count) // 2) for i in range(count)] + [height]
    return [(a, b) for a, b in zip(cuts, cuts[1:], strict=False) if b > a]


class _Reducer:
    """REDUCE with one kernel for one dtype; taps prepared once, scratch reused down a pyramid.

    Routes, all with reflect-101 borders and ``ceil(n / 2)`` outputs per axis:

    * taps equal to :data:`BURT_ADELSON_TAPS`: ``cv2.pyrDown`` (the same filter);
    * **compiled** (the default wherever ``_reduce`` was built): only the kept samples, exact
      taps in float32 (float64 for float64 images), integers rounded half up; levels of
      ``_BAND_MIN_SAMPLES`` or more in bands of output rows on several threads (`_band_count`),
      which gives the same numbers as one call.
    * the OpenCV route otherwise, **fused**: one ``cv2.sepFilter2D`` over the level, then every
      other row and column is kept. For uint8 the taps are multiples of 1/256 and OpenCV keeps
      the product sums exact (int32), so the result is the fixed-point filter rounded once,
      half up; for uint16 and floats it is the float32 (float64 for float64 images) filter,
      rounded for uint16. Levels of ``_STRIP_MIN_SAMPLES`` to ``_STRIP_MAX_SAMPLES`` samples
      are cut into row strips filtered on several threads (`_strip_count`), each with
      ``radius`` rows of context, which gives the same numbers as one call;
    * the OpenCV route's **two-pass** variant (uint8 with at least ``_TWO_PASS_MIN_TAPS`` taps,
      on levels of at least ``_TWO_PASS_MIN_SAMPLES`` samples): the vertical pass alone (same
      fixed-point taps, sums exact, rounded to uint8 with ties to even) keeps the even rows;
      the horizontal pass runs as a vertical pass on the transpose of those rows (rounded the
      same way), keeps the even rows of that, and is transposed back. OpenCV's 8-bit
      horizontal filter costs about twice its vertical one per tap. The price is the
      intermediate rounding: at most 1 gray level from the fused result.
    """

    def __init__(self, taps: NDArray, dtype: np.dtype) -> None:
        self.use_pyrdown = _is_burt_adelson(taps)
        self.exact_taps = np.ascontiguousarray(taps, np.float64)
        self.radius = taps.size // 2
        self.two_pass = dtype == np.uint8 and taps.size >= _TWO_PASS_MIN_TAPS
        if dtype == np.uint8:
            self.taps = _fixed_point_taps(taps)
        else:
            self.taps = taps.astype(np.float64 if dtype == np.float64 else np.float32)
        self.identity = np.ones(1, self.taps.dtype)
        self._scratch: NDArray | None = None

    def _blur_target(self, rows: int, source: NDArray) -> NDArray:
        # The blurred rows are dropped right after decimation, so one buffer serves every level.
        shape = (rows,) + source.shape[1:]
        size = math.prod(shape)
        if self._scratch is None or self._scratch.size < size:
            self._scratch = np.empty(size, source.dtype)
        return self._scratch[:size].reshape(shape)

    def __call__(self, image: NDArray) -> NDArray:
        if self.use_pyrdown:
            return _like(cv2.pyrDown(_as_cv(image), borderType=_BORDER), image)
        if _compiled_takes(self.exact_taps):
            # C order, aligned samples (a buffer at an odd offset would not be)
            return self._reduce_compiled(np.require(image, requirements=("C", "A")))
        source = _as_cv(image)
        if self.two_pass and source.size >= _TWO_PASS_MIN_SAMPLES:
            return _like(self._two_pass(source), image)
        return _like(self._fused(source), image)

    def _reduce_compiled(self, source: NDArray) -> NDArray:
        height, width = source.shape[:2]
        channels = source.shape[2] if source.ndim == 3 else 1
        rows = (height + 1) // 2
        out = np.empty((rows, (width + 1) // 2) + source.shape[2:], source.dtype)
        kind = _KINDS[source.dtype]

        def band(start: int, stop: int) -> None:
            _compiled.reduce_rows(
                source, out, self.exact_taps, height, width, channels, start, stop, kind, _SIMD
            )

        _in_bands(band, rows, source.size)
        return out

    def _two_pass(self, source: NDArray) -> NDArray:
        vertical = cv2.sepFilter2D(source, -1, self.identity, self.taps, borderType=_BORDER)
        across = cv2.sepFilter2D(
            cv2.transpose(vertical[::2]), -1, self.identity, self.taps, borderType=_BORDER
        )
        return cv2.transpose(across[::2])

    def _fused(self, source: NDArray) -> NDArray:
        height, width = source.shape[:2]
        out = np.empty(((height + 1) // 2, (width + 1) // 2) + source.shape[2:], source.dtype)
        strips = _row_strips(height, _strip_count(source.size))
        if len(strips) == 1:
            blurred = self._blur_target(height, source)
            cv2.sepFilter2D(source, -1, self.taps, self.taps, dst=blurred, borderType=_BORDER)
            return _decimate(blurred, out)
        # Each strip is filtered with `radius` rows of context on both sides (reflect-101 then
        # only touches rows that are thrown away, except at the image's own top and bottom).
        spans = [(max(a - self.radius, 0), min(b + self.radius, height)) for a, b in strips]
        blurred = self._blur_target(sum(hi - lo for lo, hi in spans), source)
        offsets = np.cumsum([0] + [hi - lo for lo, hi in spans])

        def strip(index: int) -> None:
            (a, b), (lo, hi) = strips[index], spans[index]
            target = blurred[offsets[index] : offsets[index] + hi - lo]
            cv2.sepFilter2D(source[lo:hi], -1, self.taps, self.taps, dst=target, borderType=_BORDER)
            _decimate(target[a - lo : b - lo], out[a // 2 : (b + 1) // 2])

        helpers = [_strip_pool().submit(strip, index) for index in range(1, len(strips))]
        try:
            strip(0)
        except BaseException:
            for helper in helpers:  # never leave a helper writing into buffers we drop
                helper.exception()
            raise
        for helper in helpers:
            helper.result()
        return out


def _phase_taps(taps: NDArray) -> NDArray[np.float64]:
    """Upsampling taps: the kernel with its even and odd polyphase parts each summing to 1."""
    radius = taps.size // 2
    even = (np.arange(taps.size) - radius) % 2 == 0
    up = taps.copy()
    up[even] /= taps[even].sum()
    if np.any(~even):
        up[~even] /= taps[~even].sum()
    return up


def _expand(
    coarse: NDArray,
    shape: tuple[int, int],
    taps: NDArray,
    base: NDArray | None = None,
    subtract: bool = False,
) -> NDArray[np.float32]:
    """EXPAND ``coarse`` to ``shape``; with ``base`` (that shape), ``base`` plus (or minus) it.

    The sum or difference is computed before rounding to float32, row by row while the row is
    in cache on the compiled route (the Laplacian's bands and its reconstruction).
    """
    dtype = np.float64 if coarse.dtype == np.float64 else np.float32
    if _compiled_takes(taps):
        return _expand_compiled(coarse, shape, taps, dtype, base, subtract)
    expanded = _expand_opencv(coarse, shape, taps, dtype)
    if base is not None:
        if subtract:
            np.subtract(base, expanded, out=expanded)
        else:
            expanded += base
    return expanded.astype(np.float32, copy=False)


def _expand_opencv(coarse: NDArray, shape: tuple[int, int], taps: NDArray, dtype: type) -> NDArray:
    height, width = shape
    up = _phase_taps(taps).astype(dtype)
    # A 1-sample axis has no odd samples to fill, and reflect-101 would fold the odd taps onto
    # the even one (doubling it): leave such an axis alone.
    identity = np.ones(1, dtype)
    grid = np.zeros((height, width) + coarse.shape[2:], dtype)
    grid[::2, ::2] = coarse
    out = cv2.sepFilter2D(
        _as_cv(grid),
        -1,
        up if width > 1 else identity,
        up if height > 1 else identity,
        borderType=_BORDER,
    )
    return _like(out, coarse)


def _expand_compiled(
    coarse: NDArray,
    shape: tuple[int, int],
    taps: NDArray,
    dtype: type,
    base: NDArray | None,
    subtract: bool,
) -> NDArray[np.float32]:
    """`_expand` in C: each output sums only the grid positions that hold coarse samples."""
    source = np.require(coarse, requirements=("C", "A"))
    if base is not None:
        base = np.require(base, requirements=("C", "A"))
    base_kind = -1 if base is None else _KINDS[base.dtype]
    height, width = shape
    channels = source.shape[2] if source.ndim == 3 else 1
    out = np.empty((height, width) + source.shape[2:], dtype)
    up = np.ascontiguousarray(_phase_taps(taps), np.float64)
    kind = _KINDS[source.dtype]

    def band(start: int, stop: int) -> None:
        _compiled.expand_rows(
            source,
            out,
            up,
            *source.shape[:2],
            channels,
            height,
            width,
            start,
            stop,
            kind,
            _SIMD,
            base,
            base_kind,
            subtract,
        )

    _in_bands(band, height, out.size)
    return out.astype(np.float32, copy=False)


def _check_expand_shape(coarse_shape: tuple[int, ...], shape: Sequence[int]) -> tuple[int, int]:
    height, width = _check_shape(shape)
    if ((height + 1) // 2, (width + 1) // 2) != tuple(coarse_shape[:2]):
        raise PyramidInputError(
            f"shape {(height, width)} is not the next finer level of a level of shape "
            f"{tuple(coarse_shape[:2])} (each axis must be 2n or 2n - 1 for n coarse samples)"
        )
    return height, width


def pyramid_reduce(
    image: ArrayLike,
    *,
    sigma: float = DEFAULT_SIGMA,
    kernel_size: int = DEFAULT_KERNEL_SIZE,
    kernel: ArrayLike | None = None,
) -> NDArray:
    """Blur and keep every other row and column: one step down a Gaussian pyramid.

    Parameters
    ----------
    image : (H, W) or (H, W, C) array
        uint8, uint16, float32 or float64; C in 1..4.
    sigma, kernel_size : optional
        The integrated Gaussian kernel (see :func:`gaussian_kernel_1d`).
    kernel : 1-D array, optional
        Explicit symmetric taps summing to 1; overrides ``sigma`` and ``kernel_size``.

    Returns
    -------
    reduced : ndarray
        Shape ``(ceil(H / 2), ceil(W / 2)[, C])``, same dtype (rounded for integers).

    Raises
    ------
    PyramidInputError
        On an unsupported image or kernel.

    References
    ----------
    .. [1] Burt & Adelson, "The Laplacian Pyramid as a Compact Image Code", 1983 (REDUCE).

    Examples
    --------
    >>> pyramid_reduce(np.zeros((5, 8), np.uint8)).shape
    (3, 4)
    """
    array = _check_image(image)
    return _Reducer(_resolve_taps(sigma, kernel_size, kernel), array.dtype)(array)


def pyramid_expand(
    image: ArrayLike,
    shape: Sequence[int],
    *,
    sigma: float = DEFAULT_SIGMA,
    kernel_size: int = DEFAULT_KERNEL_SIZE,
    kernel: ArrayLike | None = None,
) -> NDArray[np.float32]:
    """Upsample by 2 to the exact size of the finer level: one step up (EXPAND).

    The coarse samples go to the even positions of a zero grid of ``shape``; the grid is
    filtered with the kernel, its even and odd polyphase parts each rescaled to sum 1, with
    reflect-101 borders. A constant image stays constant.

    Parameters
    ----------
    image : (h, w) or (h, w, C) array
        The coarse level.
    shape : (H, W)
        Size of the finer level; each axis must satisfy ``ceil(H / 2) == h``.
    sigma, kernel_size, kernel : optional
        As for :func:`pyramid_reduce`.

    Returns
    -------
    expanded : ndarray of float32
        Shape ``(H, W[, C])``.

    Raises
    ------
    PyramidInputError
        On an unsupported image or kernel, or a ``shape`` that is not the next finer level.

    References
    ----------
    .. [1] Burt & Adelson, "The Laplacian Pyramid as a Compact Image Code", 1983 (EXPAND).

    Examples
    --------
    >>> pyramid_expand(np.ones((3, 4), np.float32), (5, 8)).shape
    (5, 8)
    """
    array = _check_image(image)
    size = _check_expand_shape(array.shape, shape)
    return _expand(array, size, _resolve_taps(sigma, kernel_size, kernel))


# --------------------------------------------------------------------------------------------
# Pyramids
# --------------------------------------------------------------------------------------------


def pyramid_shapes(shape: Sequence[int], levels: int) -> list[tuple[int, int]]:
    """(height, width) of each level, stopping early after a 1 x 1 level.

    Examples
    --------
    >>> pyramid_shapes((5, 8), 10)
    [(5, 8), (3, 4), (2, 2), (1, 1)]
    """
    levels = _check_int(levels, "levels", 1)
    height, width = _check_shape(shape)
    shapes = [(height, width)]
    while len(shapes) < levels and shapes[-1] != (1, 1):
        height, width = (height + 1) // 2, (width + 1) // 2
        shapes.append((height, width))
    return shapes


def max_levels(shape: Sequence[int]) -> int:
    """Number of levels down to and including the 1 x 1 level (for a level-count spin box).

    Examples
    --------
    >>> max_levels((512, 512))
    10
    """
    height, width = _check_shape(shape)
    return 1 + max(math.ceil(math.log2(height)), math.ceil(math.log2(width)), 0)


def gaussian_pyramid(
    image: ArrayLike,
    levels: int,
    *,
    sigma: float = DEFAULT_SIGMA,
    kernel_size: int = DEFAULT_KERNEL_SIZE,
    kernel: ArrayLike | None = None,
) -> list[NDArray]:
    """Gaussian pyramid: the image, then repeatedly blurred and decimated by 2.

    Parameters
    ----------
    image : (H, W) or (H, W, C) array
        uint8, uint16, float32 or float64; C in 1..4 (gray, RGB, RGBA).
    levels : int
        Number of levels including level 0; at least 1. Fewer are returned when a level reaches
        1 x 1 (see :func:`max_levels`).
    sigma : float, optional
        Gaussian standard deviation in pixels. The default best matches Burt & Adelson's
        ``[1, 4, 6, 4, 1] / 16`` at ``kernel_size=5``.
    kernel_size : int, optional
        Number of taps; odd.
    kernel : 1-D array, optional
        Explicit symmetric taps summing to 1, overriding ``sigma`` and ``kernel_size``;
        :data:`BURT_ADELSON_TAPS` reproduces ``cv2.pyrDown`` exactly.

    Returns
    -------
    pyramid : list of ndarray
        Level 0 is ``image`` itself (not copied); level ``k`` has shape
        ``ceil(H / 2**k), ceil(W / 2**k)`` (as ``cv2.pyrDown``) and the input dtype.

    Raises
    ------
    PyramidInputError
        On an unsupported image, level count or kernel.

    References
    ----------
    .. [1] Burt & Adelson, "The Laplacian Pyramid as a Compact Image Code", 1983.

    Examples
    --------
    >>> [g.shape for g in gaussian_pyramid(np.zeros((5, 8, 3), np.uint8), 3)]
    [(5, 8, 3), (3, 4, 3), (2, 2, 3)]
    """
    array = _check_image(image)
    levels = _check_int(levels, "levels", 1)
    taps = _resolve_taps(sigma, kernel_size, kernel)
    reduce = _Reducer(taps, array.dtype)
    pyramid = [array]
    for _ in pyramid_shapes(array.shape, levels)[1:]:
        pyramid.append(reduce(pyramid[-1]))
    return pyramid


class LaplacianPyramid(list[NDArray]):
    """A list of Laplacian bands (float32) ending with the coarsest Gaussian level (float32).

    It also remembers what :func:`reconstruct_from_laplacian` needs: the 1-D ``taps`` used for
    EXPAND and the ``input_dtype`` to give back.
    """

    def __init__(self, levels: Sequence[NDArray], taps: NDArray, input_dtype: np.dtype) -> None:
        super().__init__(levels)
        self.taps = np.asarray(taps, dtype=np.float64)
        self.input_dtype = np.dtype(input_dtype)


def laplacian_pyramid(
    image: ArrayLike,
    levels: int,
    *,
    sigma: float = DEFAULT_SIGMA,
    kernel_size: int = DEFAULT_KERNEL_SIZE,
    kernel: ArrayLike | None = None,
) -> LaplacianPyramid:
    """Laplacian pyramid: band-pass levels ``G_k - expand(G_{k+1})`` plus the coarsest ``G``.

    Parameters
    ----------
    image : (H, W) or (H, W, C) array
        uint8, uint16, float32 or float64; C in 1..4.
    levels : int
        Number of levels, band-pass levels plus the coarsest; fewer after a 1 x 1 level.
    sigma, kernel_size, kernel : optional
        As for :func:`gaussian_pyramid`.

    Returns
    -------
    pyramid : LaplacianPyramid
        A list of float32 arrays with the Gaussian pyramid's shapes; the last is the coarsest
        Gaussian level. :func:`reconstruct_from_laplacian` inverts it.

    Raises
    ------
    PyramidInputError
        On an unsupported image, level count or kernel.

    References
    ----------
    .. [1] Burt & Adelson, "The Laplacian Pyramid as a Compact Image Code", 1983.

    Examples
    --------
    >>> image = np.arange(35, dtype=np.uint8).reshape(5, 7)
    >>> bands = laplacian_pyramid(image, 3)
    >>> [b.dtype.name for b in bands], bool((reconstruct_from_laplacian(bands) == image).all())
    (['float32', 'float32', 'float32'], True)
    """
    array = _check_image(image)
    taps = _resolve_taps(sigma, kernel_size, kernel)
    gaussians = gaussian_pyramid(array, levels, kernel=taps)
    bands = []
    for fine, coarse in zip(gaussians[:-1], gaussians[1:], strict=True):
        bands.append(_expand(coarse, fine.shape[:2], taps, base=fine, subtract=True))
    bands.append(gaussians[-1].astype(np.float32))
    return LaplacianPyramid(bands, taps, array.dtype)


def _to_dtype(image: NDArray, dtype: np.dtype) -> NDArray:
    """Cast a float image we own (it is modified) to ``dtype``, rounding and clipping integers."""
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        np.rint(image, out=image)
        np.clip(image, info.min, info.max, out=image)
    return image.astype(dtype, copy=False)


def reconstruct_from_laplacian(
    pyramid: Sequence[NDArray],
    *,
    sigma: float = DEFAULT_SIGMA,
    kernel_size: int = DEFAULT_KERNEL_SIZE,
    kernel: ArrayLike | None = None,
    dtype: np.dtype | type | None = None,
) -> NDArray:
    """Collapse a Laplacian pyramid: expand the coarsest level and add each band back.

    Parameters
    ----------
    pyramid : LaplacianPyramid or sequence of arrays
        From :func:`laplacian_pyramid` (its kernel and input dtype are used), or bands that
        were built with the kernel given by ``sigma``, ``kernel_size`` or ``kernel``.
    sigma, kernel_size, kernel : optional
        The kernel, used only when ``pyramid`` is not a :class:`LaplacianPyramid`.
    dtype : numpy dtype, optional
        Output dtype; integers are rounded and clipped. Defaults to the input dtype recorded
        in a :class:`LaplacianPyramid`, float32 otherwise.

    Returns
    -------
    image : ndarray
        The shape of the finest band. For the pyramid of a uint8/uint16 image it equals the
        image (at most 1 gray level off, in practice exact); for float32, to ~1e-6.

    Raises
    ------
    PyramidInputError
        If the pyramid is empty or its levels do not have pyramid shapes.

    References
    ----------
    .. [1] Burt & Adelson, "The Laplacian Pyramid as a Compact Image Code", 1983.
    """
    if len(pyramid) == 0:
        raise PyramidInputError("pyramid is empty")
    levels = [_check_image(level, f"pyramid level {k}") for k, level in enumerate(pyramid)]
    channels = {level.shape[2] if level.ndim == 3 else 1 for level in levels}
    if len(channels) > 1:  # (H, W) and (H, W, 1) count as the same
        raise PyramidInputError(
            f"pyramid levels have different channel counts {sorted(channels)}; "
            "every band must have the channels of the image"
        )
    # one channel as (H, W) in some levels and (H, W, 1) in others: shape them like the finest
    ndim = levels[0].ndim
    levels = [
        lvl if lvl.ndim == ndim else lvl.reshape(lvl.shape[:2] + (1,) * (ndim - 2))
        for lvl in levels
    ]
    if isinstance(pyramid, LaplacianPyramid):
        taps, default_dtype = pyramid.taps, pyramid.input_dtype
    else:
        taps, default_dtype = _resolve_taps(sigma, kernel_size, kernel), np.dtype(np.float32)
    image = levels[-1].astype(np.float32)
    for band in reversed(levels[:-1]):
        size = _check_expand_shape(image.shape, band.shape)
        image = _expand(image, size, taps, base=band)
    return _to_dtype(image, np.dtype(dtype) if dtype is not None else default_dtype)


def dog_pyramid(
    image: ArrayLike,
    levels: int,
    *,
    sigma: float = DEFAULT_SIGMA,
    kernel_size: int = DEFAULT_KERNEL_SIZE,
    kernel: ArrayLike | None = None,
) -> list[NDArray[np.float32]]:
    """Difference-of-Gaussians pyramid: each Gaussian level minus its own blur, at its own scale.

    Band ``k`` is ``G_k - blur(G_k)`` with the pyramid's kernel and reflect-101 borders, i.e. the
    detail that the next REDUCE removes before decimating (no expansion, so no upsampling
    artefacts). One band per Gaussian level, same shapes, float32.

    Parameters
    ----------
    image : (H, W) or (H, W, C) array
        uint8, uint16, float32 or float64; C in 1..4.
    levels : int
        Number of levels; fewer after a 1 x 1 level.
    sigma, kernel_size, kernel : optional
        As for :func:`gaussian_pyramid`.

    Returns
    -------
    bands : list of ndarray of float32

    Raises
    ------
    PyramidInputError
        On an unsupported image, level count or kernel.

    References
    ----------
    .. [1] Burt & Adelson, "The Laplacian Pyramid as a Compact Image Code", 1983.

    Examples
    --------
    >>> bands = dog_pyramid(np.full((8, 8), 7, np.uint8), 2)
    >>> len(bands), max(float(np.abs(b).max()) for b in bands) < 1e-5
    (2, True)
    """
    array = _check_image(image)
    taps = _resolve_taps(sigma, kernel_size, kernel)
    filter_taps = taps.astype(np.float32)
    bands = []
    for level in gaussian_pyramid(array, levels, kernel=taps):
        level32 = _as_cv(level.astype(np.float32))
        blurred = cv2.sepFilter2D(level32, -1, filter_taps, filter_taps, borderType=_BORDER)
        bands.append(_like(level32 - blurred, level))
    return bands


# --------------------------------------------------------------------------------------------
# Display helpers for the panel
# --------------------------------------------------------------------------------------------


class PyramidMosaic(NamedTuple):
    """All levels in one image: level 0 on the left, the others stacked top-down to its right."""

    image: NDArray
    level_offsets: tuple[tuple[int, int], ...]
    """(row, column) of each level's top-left pixel in ``image``."""
    level_shapes: tuple[tuple[int, int], ...]
    """(height, width) of each level."""

    def level_at(self, row: float, col: float) -> tuple[int, float, float] | None:
        """Which level a mosaic pixel shows, as ``(level, row, col)`` in that level, or None."""
        for index, ((top, left), (height, width)) in enumerate(
            zip(self.level_offsets, self.level_shapes, strict=True)
        ):
            if top <= row < top + height and left <= col < left + width:
                return index, row - top, col - left
        return None


def pyramid_mosaic(levels: Sequence[ArrayLike], *, fill: float = 0) -> PyramidMosaic:
    """Lay out pyramid levels as the classic mosaic (Burt & Adelson 1983, fig. 1 style).

    Parameters
    ----------
    levels : sequence of arrays
        Pyramid levels, finest first, all with the same channel count (e.g. from
        :func:`gaussian_pyramid` or :func:`laplacian_pyramid`).
    fill : float, optional
        Value of the mosaic's pixels not covered by a level.

    Returns
    -------
    mosaic : PyramidMosaic
        ``image`` (dtype common to the levels) with ``level_offsets`` and ``level_shapes``;
        ``mosaic.level_at(row, col)`` maps a click to a level.

    Raises
    ------
    PyramidInputError
        If ``levels`` is empty or the levels' channel counts differ.

    References
    ----------
    .. [1] Burt & Adelson, "The Laplacian Pyramid as a Compact Image Code", 1983.

    Examples
    --------
    >>> mosaic = pyramid_mosaic(gaussian_pyramid(np.zeros((8, 8), np.uint8), 4))
    >>> mosaic.image.shape, mosaic.level_offsets
    ((8, 12), ((0, 0), (0, 8), (4, 8), (6, 8)))
    """
    arrays = [_check_image(level, f"level {k}") for k, level in enumerate(levels)]
    if not arrays:
        raise PyramidInputError("levels is empty; pass at least one pyramid level")
    if len({a.shape[2:] for a in arrays}) != 1:
        raise PyramidInputError("levels must all have the same number of channels")
    shapes = tuple((a.shape[0], a.shape[1]) for a in arrays)
    offsets = [(0, 0)]
    top, left = 0, shapes[0][1]
    for height, _ in shapes[1:]:
        offsets.append((top, left))
        top += height
    column_width = max((w for _, w in shapes[1:]), default=0)
    canvas_shape = (max(shapes[0][0], top), left + column_width) + arrays[0].shape[2:]
    canvas = np.full(canvas_shape, fill, dtype=np.result_type(*arrays))
    for (row, col), array in zip(offsets, arrays, strict=True):
        canvas[row : row + array.shape[0], col : col + array.shape[1]] = array
    return PyramidMosaic(canvas, tuple(offsets), shapes)


def upsample_to(
    level: ArrayLike,
    shape: Sequence[int],
    *,
    method: Literal["nearest", "expand"] = "nearest",
    sigma: float = DEFAULT_SIGMA,
    kernel_size: int = DEFAULT_KERNEL_SIZE,
    kernel: ArrayLike | None = None,
) -> NDArray:
    """Show a pyramid level at the size of level 0.

    Parameters
    ----------
    level : array
        A pyramid level.
    shape : (H, W)
        Size of level 0; ``level`` must be one of its pyramid sizes.
    method : {"nearest", "expand"}, optional
        ``"nearest"`` repeats each pixel into its ``2**k x 2**k`` block (same dtype, shows the
        actual samples); ``"expand"`` applies EXPAND ``k`` times (float32, smooth, as in the
        Laplacian reconstruction).
    sigma, kernel_size, kernel : optional
        The kernel for ``"expand"``.

    Returns
    -------
    image : ndarray
        Shape ``(H, W[, C])``.

    Raises
    ------
    PyramidInputError
        If ``shape`` has no pyramid level of ``level``'s size, or ``method`` is unknown.

    References
    ----------
    .. [1] Burt & Adelson, "The Laplacian Pyramid as a Compact Image Code", 1983.

    Examples
    --------
    >>> upsample_to(np.array([[1, 2]], np.uint8), (2, 3))
    array([[1, 1, 2],
           [1, 1, 2]], dtype=uint8)
    """
    array = _check_image(level, "level")
    if method not in ("nearest", "expand"):
        raise PyramidInputError(f"method must be 'nearest' or 'expand', got {method!r}")
    chain = pyramid_shapes(shape, max_levels(shape))
    if array.shape[:2] not in chain:
        raise PyramidInputError(
            f"level of shape {array.shape[:2]} is not a pyramid level of an image of shape "
            f"{tuple(shape[:2])}; levels have shapes {chain}"
        )
    depth = chain.index(array.shape[:2])
    if method == "nearest":
        rows = np.arange(chain[0][0]) >> depth
        cols = np.arange(chain[0][1]) >> depth
        return array[rows[:, np.newaxis], cols]
    taps = _resolve_taps(sigma, kernel_size, kernel)
    image = array
    for finer in reversed(chain[:depth]):
        image = _expand(image, finer, taps)
    return image if depth else image.astype(np.float32)


# --------------------------------------------------------------------------------------------
# Numbers for the panel
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LevelStats:
    """Summary of one level: shape, dtype, range, mean and energy (mean square)."""

    shape: tuple[int, ...]
    dtype: str
    min: float
    max: float
    mean: float
    energy: float


def level_stats(level: ArrayLike) -> LevelStats:
    """Shape, dtype, min, max, mean and energy (mean of squares) of a pyramid level.

    The energy of a Laplacian band measures how much detail the band holds at its scale.

    Parameters
    ----------
    level : array
        Any pyramid level or band.

    Returns
    -------
    stats : LevelStats
        Statistics over all pixels and channels, in float64; ``dataclasses.asdict`` gives a dict.

    Raises
    ------
    PyramidInputError
        If ``level`` is empty or of an unsupported dtype.

    References
    ----------
    .. [1] Burt & Adelson, "The Laplacian Pyramid as a Compact Image Code", 1983.

    Examples
    --------
    >>> level_stats(np.array([[-1.0, 1.0]], np.float32)).energy
    1.0
    """
    array = _check_image(level, "level")
    values = array.astype(np.float64, copy=False)
    return LevelStats(
        shape=tuple(array.shape),
        dtype=array.dtype.name,
        min=float(values.min()),
        max=float(values.max()),
        mean=float(values.mean()),
        energy=float(np.mean(np.square(values))),
    )
