"""The Rectify tool's inverse-mapping warp: :func:`warp_perspective`.

Every output pixel centre ``(u, v)`` is sent back through ``H^-1`` to a source position, where
the source is interpolated (nearest, bilinear or bicubic). Conventions are those of
:mod:`workbench.rectify.homography`.

How the warp is done, and why
-----------------------------
:func:`warp_perspective` uses inverse mapping: every output pixel centre ``(u, v)`` is sent back
through ``H^-1`` to a source position ``(x, y)``, where the source is interpolated. The work splits
into two very different halves:

1. *The map* (a projective division per pixel) is computed here with numpy, in float32, one
   horizontal tile of output rows at a time. Inside a tile the three homogeneous coordinates are
   ``row term + column term``, so each costs one broadcast add; then one reciprocal and two
   multiplies (two adds only when ``H`` is affine). The tile's own offset and its source crop's
   offset are folded into the matrix in float64 beforehand, so float32 holds tile-local
   coordinates and the map error stays far below the 1/32 px sub-pixel step the gather quantises
   to. Rows are processed in chunks of about 128k pixels so the float32 buffers stay in cache.
2. *The gather* (reading 1, 4 or 16 source pixels per output pixel and weighting them) is handed to
   ``cv2.remap`` with the float32 maps. That is the kernel ``cv2.warpPerspective`` itself runs on
   the map it builds internally, which is why results agree with OpenCV to rounding: the same
   1/32 px sub-pixel quantisation, the same cubic kernel (``a = -0.75``), the same border
   semantics. (OpenCV 4.11+ has a few unquantised warpPerspective kernels, e.g. uint16 RGBA
   bilinear; those differ from us by at most one 1/32 px step.) Converting the maps to OpenCV's
   fixed-point ``CV_16SC2`` form first (``cv2.convertMaps``) bought nothing measurable, since
   remap does that conversion per block anyway, and breaks "nearest" rounding; a pure numpy gather
   was much slower than OpenCV. The gather is not where our own code adds value; the map and
   the tiling are.

Tiles are processed by a small thread pool (as many workers as OpenCV would use,
``cv2.getNumThreads()``); numpy and OpenCV both release the GIL, so map computation scales with
cores the same way OpenCV's own warp does. (Single-threaded map computation would lose to OpenCV
on many-core machines.) Each tile also gets the bounding box of its preimage in the source (the
projective image of a rectangle that does not cross the vanishing line is the convex hull of its
four mapped corners), which buys three things: tiles that fall wholly outside the source are just
filled, ``cv2.remap`` only sees a crop near the data it reads, and inputs or outputs larger than
``cv2.remap``'s limit of 32767 pixels per side work, because every call gets a tile and a crop
below that limit (tiles whose crop would still be too large are split in half, recursively).

Speed figures against ``cv2.warpPerspective`` are in ``tests/benchmarks/README.md``.

References
----------
.. [1] OpenCV, ``cv::warpPerspective`` and ``cv::remap`` documentation (pixel-centre convention,
       bicubic kernel with ``a = -0.75``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

import cv2
import numpy as np
from numpy.typing import ArrayLike, NDArray

from workbench.imaging.io import native_byte_order
from workbench.rectify.homography import (
    MAX_OUTPUT_PIXELS,
    Fill,
    Interpolation,
    OutputSizeError,
    RectifyInputError,
    _as_matrix,
    _as_size,
)

__all__ = ["warp_perspective"]

# warp_perspective tiling.
_REMAP_MAX_SIDE = 32766  # cv2.remap asserts every side of source and output is < SHRT_MAX (32767)
_TILE_MAX_WIDTH = 16384
_TILE_PIXELS = 1 << 19  # one cv2.remap call per ~512k output pixels amortises its thread start-up
_CHUNK_PIXELS = 1 << 17  # map computed ~128k pixels at a time to stay in cache
_CROP_MARGIN = 4  # bicubic reads 2 px beyond floor(x); plus 1/32 px rounding and float32 error

_INTERPOLATION_FLAGS = {
    "nearest": cv2.INTER_NEAREST,
    "bilinear": cv2.INTER_LINEAR,
    "bicubic": cv2.INTER_CUBIC,
}
_OPAQUE = {
    np.dtype(np.uint8): 255,
    np.dtype(np.uint16): 65535,
    np.dtype(np.float32): 1.0,
    np.dtype(np.float64): 1.0,
}



# ============================================================================================
# Warping
# ============================================================================================


def _check_image(image: ArrayLike) -> NDArray:
    arr = np.asarray(image)
    arr = native_byte_order(arr)  # big-endian data, e.g. from a FITS file, like scikit-image
    if arr.dtype not in _OPAQUE:
        raise RectifyInputError(f"image must be uint8, uint16, float32 or float64; got {arr.dtype}")
    if not (arr.ndim == 2 or (arr.ndim == 3 and arr.shape[2] in (1, 3, 4))):
        raise RectifyInputError(f"image must be (H, W) gray, (H, W, 3) RGB or (H, W, 4) RGBA; "
                         f"got shape {arr.shape}")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise RectifyInputError(f"image is empty (shape {arr.shape})")
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    return np.ascontiguousarray(arr)


def _check_fill(fill: object, channels: int, dtype: np.dtype) -> tuple[float, ...] | None:
    """Per-channel fill values (rounded and range-checked for integer images), or None."""
    if isinstance(fill, str):
        if fill == "transparent":
            return None
        raise RectifyInputError(f"fill must be a number, one number per channel, or 'transparent'; "
                         f"got {fill!r}")
    try:
        values = np.atleast_1d(np.asarray(fill, dtype=np.float64))
    except (TypeError, ValueError) as exc:
        raise RectifyInputError(
            f"fill must be a number or a tuple of numbers; got {fill!r}") from exc
    if values.ndim != 1 or values.size not in (1, channels):
        raise RectifyInputError(
            f"fill must be one number or {channels} (one per channel); got {fill!r}")
    if not np.isfinite(values).all():
        raise RectifyInputError(f"fill must be finite; got {fill!r}")
    if dtype.kind == "u":
        values = np.rint(values)
        top = np.iinfo(dtype).max
        if values.min() < 0 or values.max() > top:
            raise RectifyInputError(f"fill {fill!r} does not fit a {dtype} image (0 to {top})")
    return tuple(float(v) for v in np.broadcast_to(values, (channels,)))


def _invert(H: NDArray[np.float64], src_shape: tuple[int, int], out_size: tuple[int, int]
            ) -> NDArray[np.float64]:
    # Judge singularity on H rescaled to map the unit square to the unit square, so that the
    # very different magnitudes of its entries in pixel units do not matter.
    (sh, sw), (ow, oh) = src_shape, out_size
    balanced = np.diag([1.0 / ow, 1.0 / oh, 1.0]) @ H @ np.diag([float(sw), float(sh), 1.0])
    sv = np.linalg.svd(balanced, compute_uv=False)
    if not sv[2] > 1e-12 * sv[0]:
        raise RectifyInputError(
            "H is singular (not invertible): it maps the image onto a line or a "
            "point, so there is no way back from output pixels to source pixels")
    return np.linalg.inv(H)


def _translation(dx: float, dy: float) -> NDArray[np.float64]:
    return np.array([[1.0, 0.0, dx], [0.0, 1.0, dy], [0.0, 0.0, 1.0]])


class _Warp:
    """One warp_perspective call: the shared inputs, the output, and the work per tile."""

    def __init__(self, src: NDArray, Hinv: NDArray[np.float64], out: NDArray, flag: int,
                 fill: tuple[float, ...] | None) -> None:
        self.src, self.Hinv, self.out, self.flag = src, Hinv, out, flag
        self.transparent = fill is None
        self.fill = fill
        self.src_h, self.src_w = src.shape[:2]
        if fill is not None:
            self.border = tuple(fill) + (0.0,) * (4 - len(fill))

    # -- tiles --------------------------------------------------------------------------------
    def run(self, tile: tuple[int, int, int, int]) -> None:
        x0, y0, x1, y1 = tile
        M = self.Hinv @ _translation(x0, y0)  # tile-local output pixel -> source pixel
        us, vs = (0.0, x1 - x0 - 1.0, 0.0, x1 - x0 - 1.0), (0.0, 0.0, y1 - y0 - 1.0, y1 - y0 - 1.0)
        hom = M @ np.array([us, vs, (1.0,) * 4])
        if np.all(hom[2] > 0) or np.all(hom[2] < 0):
            # The tile is on one side of the vanishing line: its preimage is the convex hull of
            # its mapped corners.
            xs, ys = hom[0] / hom[2], hom[1] / hom[2]
            crop = self._crop(xs.min(), xs.max(), ys.min(), ys.max())
            X = Y = None
        else:
            # The vanishing line crosses the tile: find the preimage from the map itself.
            X, Y = self._map(M, y1 - y0, x1 - x0)
            inside = ((X > -_CROP_MARGIN) & (X < self.src_w + _CROP_MARGIN)
                      & (Y > -_CROP_MARGIN) & (Y < self.src_h + _CROP_MARGIN))
            if inside.any():
                crop = self._crop(X[inside].min(), X[inside].max(),
                                  Y[inside].min(), Y[inside].max())
            else:
                crop = None
        if crop is None:
            self._fill_tile(tile)
            return
        cx0, cy0, cx1, cy1 = crop
        if cx1 - cx0 > _REMAP_MAX_SIDE or cy1 - cy0 > _REMAP_MAX_SIDE:
            for half in _split(tile):
                self.run(half)
            return
        if X is None:
            X, Y = self._map(_translation(-cx0, -cy0) @ M, y1 - y0, x1 - x0)
        else:
            X -= np.float32(cx0)
            Y -= np.float32(cy0)
        self._gather(tile, self.src[cy0:cy1, cx0:cx1], X, Y)

    def _crop(self, xmin: float, xmax: float, ymin: float, ymax: float
              ) -> tuple[int, int, int, int] | None:
        cx0 = max(0, math.floor(xmin) - _CROP_MARGIN)
        cy0 = max(0, math.floor(ymin) - _CROP_MARGIN)
        cx1 = min(self.src_w, math.ceil(xmax) + _CROP_MARGIN + 1)
        cy1 = min(self.src_h, math.ceil(ymax) + _CROP_MARGIN + 1)
        if cx0 >= cx1 or cy0 >= cy1:
            return None
        return cx0, cy0, cx1, cy1

    @staticmethod
    def _map(M: NDArray[np.float64], rows: int, cols: int
             ) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
        """Source x, y (float32) of the tile's output pixel centres; inf/nan where w == 0."""
        X = np.empty((rows, cols), np.float32)
        Y = np.empty((rows, cols), np.float32)
        u = np.arange(cols, dtype=np.float64)
        affine = M[2, 0] == 0 and M[2, 1] == 0
        if affine:
            M = M / M[2, 2]
        x_col, y_col, w_col = ((M[i, 0] * u).astype(np.float32) for i in range(3))
        chunk = max(1, _CHUNK_PIXELS // cols)
        W = None if affine else np.empty((min(chunk, rows), cols), np.float32)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            for r0 in range(0, rows, chunk):
                r1 = min(rows, r0 + chunk)
                v = np.arange(r0, r1, dtype=np.float64)
                x_row, y_row, w_row = ((M[i, 1] * v + M[i, 2]).astype(np.float32)[:, None]
                                       for i in range(3))
                Xc, Yc = X[r0:r1], Y[r0:r1]
                np.add(x_row, x_col, out=Xc)
                np.add(y_row, y_col, out=Yc)
                if W is not None:
                    Wc = W[: r1 - r0]
                    np.add(w_row, w_col, out=Wc)
                    np.reciprocal(Wc, out=Wc)
                    Xc *= Wc
                    Yc *= Wc
        return X, Y

    def _gather(self, tile: tuple[int, int, int, int], src: NDArray,
                X: NDArray[np.float32], Y: NDArray[np.float32]) -> None:
        x0, y0, x1, y1 = tile
        view = self.out[y0:y1, x0:x1]
        if not self.transparent:
            cv2.remap(src, X, Y, self.flag, dst=view, borderMode=cv2.BORDER_CONSTANT,
                      borderValue=self.border)
            return
        # Straight (non-premultiplied) alpha: colours continue the edge (BORDER_REPLICATE) so the
        # half-covered edge pixels keep their real colour; alpha is the warped coverage.
        opaque = _OPAQUE[self.src.dtype]
        if src.ndim == 3 and src.shape[2] == 4:
            cv2.remap(src, X, Y, self.flag, dst=view, borderMode=cv2.BORDER_REPLICATE)
            coverage = np.ascontiguousarray(src[:, :, 3])
        else:
            colour = cv2.remap(src, X, Y, self.flag, borderMode=cv2.BORDER_REPLICATE)
            view[..., :3] = colour[..., None] if colour.ndim == 2 else colour
            coverage = np.full(src.shape[:2], opaque, dtype=src.dtype)
        alpha = cv2.remap(coverage, X, Y, self.flag, borderMode=cv2.BORDER_CONSTANT,
                          borderValue=0)
        if alpha.dtype.kind == "f":
            np.clip(alpha, 0.0, 1.0, out=alpha)  # bicubic overshoots at the edge
        view[..., 3] = alpha
        view[..., :3][alpha == 0] = 0

    def _fill_tile(self, tile: tuple[int, int, int, int]) -> None:
        x0, y0, x1, y1 = tile
        self.out[y0:y1, x0:x1] = 0 if self.fill is None else np.asarray(
            self.fill if self.out.ndim == 3 else self.fill[0], dtype=self.out.dtype)


def _split(tile: tuple[int, int, int, int]) -> tuple[tuple[int, int, int, int], ...]:
    x0, y0, x1, y1 = tile
    if x1 - x0 >= y1 - y0:
        xm = (x0 + x1) // 2
        return (x0, y0, xm, y1), (xm, y0, x1, y1)
    ym = (y0 + y1) // 2
    return (x0, y0, x1, ym), (x0, ym, x1, y1)


def _tiles(width: int, height: int) -> list[tuple[int, int, int, int]]:
    tile_w = min(width, _TILE_MAX_WIDTH)
    tile_h = max(1, min(_TILE_PIXELS // tile_w, _REMAP_MAX_SIDE))
    return [(x0, y0, min(width, x0 + tile_w), min(height, y0 + tile_h))
            for y0 in range(0, height, tile_h) for x0 in range(0, width, tile_w)]


def warp_perspective(image: ArrayLike, H: ArrayLike, output_size: tuple[int, int],
                     interpolation: Interpolation = "bilinear", fill: Fill = 0,
                     progress: Callable[[float], None] | None = None) -> NDArray:
    """Warp an image by a homography into an output of a given size.

    Inverse mapping: the centre of each output pixel ``(u, v)`` is mapped back through
    ``H^-1`` and the source is interpolated there; output pixels whose source position falls
    outside the image get ``fill`` (blended with the image along the edge, as OpenCV does).
    Results match ``cv2.warpPerspective(image, H, output_size, flags=...,
    borderMode=cv2.BORDER_CONSTANT, borderValue=fill)`` up to rounding: the sub-pixel position
    is quantised to 1/32 pixel as in OpenCV, so a position that falls on a rounding boundary can
    land in the neighbouring step (and, for "nearest", on the neighbouring pixel). Source
    positions on the far side of the line ``H`` sends to infinity are sampled like any other, as
    OpenCV does. Images and outputs larger than OpenCV's 32767-pixel limit per side work. See the
    module docstring for how the work is split.

    Parameters
    ----------
    image : array_like, shape (H, W), (H, W, 3) or (H, W, 4)
        Gray, RGB or RGBA; uint8, uint16, float32 or float64. ``(H, W, 1)`` is taken as gray
        and comes back as ``(H, W)``.
    H : array_like, shape (3, 3)
        Homography from *source* pixels to *output* pixels (like ``cv2.warpPerspective``
        without ``WARP_INVERSE_MAP``). Pixel centres are at integer coordinates; the top-left
        pixel's centre is ``(0, 0)``.
    output_size : (int, int)
        ``(width, height)`` of the output, at most 1 gigapixel in all.
    interpolation : {"nearest", "bilinear", "bicubic"}, optional
        Bicubic uses the cubic convolution kernel with ``a = -0.75`` (OpenCV's); it can
        overshoot, which integer images saturate and float images keep.
    fill : float, tuple of float, or "transparent", optional
        Value for output pixels that fall outside the source: one number for every channel, or
        one per channel. Integer images need values in the dtype's range (non-integers round).
        ``"transparent"`` returns an image with an alpha channel that is 0 outside the source:
        gray and RGB inputs become RGBA (gray copied to R, G and B, alpha the warped coverage,
        opaque = dtype maximum, or 1.0 for floats); an RGBA input keeps its own alpha, warped.
        Colours are straight (not premultiplied); pixels with alpha 0 are 0 in every channel.
    progress : callable, optional
        Called in the calling thread with the fraction of the output done (0 < f <= 1) as
        tiles finish. An exception it raises stops the warp (tiles not yet started are dropped)
        and propagates: a background job cancels a long warp this way.

    Returns
    -------
    ndarray, shape (height, width[, channels])
        Same dtype as ``image``; same channels, except RGBA for ``fill="transparent"``.

    Raises
    ------
    TypeError
        Unsupported dtype or non-integer ``output_size``.
    ValueError
        Bad image shape, ``H`` not 3 x 3 or not finite, ``H`` singular, unknown
        ``interpolation``, or a ``fill`` that does not suit the image.
    OutputSizeError
        ``output_size`` not positive, or above 1 gigapixel (a :class:`WorkbenchError`).

    See Also
    --------
    estimate_homography, rectify_homography

    Examples
    --------
    >>> img = np.arange(12, dtype=np.uint8).reshape(3, 4)
    >>> shift = np.array([[1.0, 0, 1], [0, 1, 0], [0, 0, 1]])  # one pixel to the right
    >>> warp_perspective(img, shift, (4, 3), fill=99)
    array([[99,  0,  1,  2],
           [99,  4,  5,  6],
           [99,  8,  9, 10]], dtype=uint8)
    """
    src = _check_image(image)
    H = _as_matrix(H)
    width, height = _as_size(output_size, "output_size")
    if width * height > MAX_OUTPUT_PIXELS:
        raise OutputSizeError(f"output_size {width} x {height} is {width * height / 1e9:.2g} "
                              f"gigapixels; the limit is {MAX_OUTPUT_PIXELS / 1e9:g} gigapixel")
    if interpolation not in _INTERPOLATION_FLAGS:
        raise RectifyInputError(f"interpolation must be one of {', '.join(_INTERPOLATION_FLAGS)}; "
                         f"got {interpolation!r}")
    channels = 1 if src.ndim == 2 else src.shape[2]
    fill_values = _check_fill(fill, channels, src.dtype)
    Hinv = _invert(H, src.shape[:2], (width, height))

    out_channels = 4 if fill_values is None else channels
    shape = (height, width) if out_channels == 1 else (height, width, out_channels)
    out = np.empty(shape, dtype=src.dtype)
    warp = _Warp(src, Hinv, out, _INTERPOLATION_FLAGS[interpolation], fill_values)
    tiles = _tiles(width, height)
    workers = min(len(tiles), max(1, cv2.getNumThreads()))
    report = progress or (lambda _fraction: None)
    if workers <= 1:
        for done, tile in enumerate(tiles, 1):
            warp.run(tile)
            report(done / len(tiles))
    else:
        # At most two tiles per worker are queued ahead of the progress report, so a report
        # that raises stops the warp within a few tiles however the threads are scheduled
        # (with every tile queued at once, a busy machine could finish them all first).
        todo = iter(tiles)
        done = 0
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="warp") as pool:
            pending: set = set()
            try:
                while True:
                    while len(pending) < 2 * workers and (tile := next(todo, None)) is not None:
                        pending.add(pool.submit(warp.run, tile))
                    if not pending:
                        break
                    finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for future in finished:
                        future.result()
                        done += 1
                        report(done / len(tiles))
            except BaseException:
                for future in pending:
                    future.cancel()
                raise
    return out
