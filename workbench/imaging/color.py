"""CIE Lab colour: sRGB <-> CIE L*a*b*.

Plain functions on numpy arrays (no Qt), shared by every tool. The quantised ab space of
Zhang, Isola & Efros (2016) built on it (bins, soft encoding, rebalancing, annealed mean) is in
:mod:`workbench.colorize.bins`.

Conventions
-----------
* sRGB (IEC 61966-2-1) with its D65 white; CIE L*a*b* relative to that white. ``L`` is in
  0..100; ``a`` and ``b`` in Lab units (the sRGB gamut spans about -86..98 in a and
  -108..94 in b). The RGB->XYZ matrix is derived from the sRGB primaries and the D65
  chromaticity, so every grey has ``a = b = 0`` (up to float32 rounding).
* Images are ``(..., 3)`` RGB or ``(H, W)`` grey. ``uint8`` and ``uint16`` are full-range
  codes; floats are sRGB values in 0..1 (outside values are clipped). Results are ``float32``.

Speed
-----
Everything per pixel is a handful of OpenCV calls on contiguous float32 planes (``cv2.LUT``,
``cv2.transform``, ``cv2.pow``, ``cv2.max``/``cv2.min``, ``cv2.addWeighted``): numpy's
``cbrt``/``power``/``where`` measured several times slower here. The piecewise sRGB and Lab curves
are evaluated branch-free: for a curve ``g`` that is ``p`` above a knee ``k`` and the line ``l``
below, with ``p(k) = l(k)``, ``g(x) = p(max(x, k)) + (l(min(x, k)) - l(k))``.

OpenCV's own ``cvtColor(RGB2Lab)`` on float32 was measured against ``skimage.color.rgb2lab``
and is *not* used: it is off by up to 0.22 in L and 0.53 in a/b (it interpolates the sRGB curve
from a table), so a round trip moved colours by up to 1.2 levels of 255. The functions here
agree with scikit-image to about 1e-3 (the remaining difference is scikit-image's rounded
matrix) and round-trip 8-bit colours exactly.

References
----------
.. [1] R. Zhang, P. Isola and A. A. Efros, "Colorful Image Colorization", ECCV 2016,
       arXiv:1603.08511. Sections 2.1 (bins, soft encoding), 2.2 (class rebalancing) and
       2.3 (annealed mean).
.. [2] IEC 61966-2-1:1999, "Default RGB colour space - sRGB".
.. [3] CIE 015:2018, "Colorimetry", 4th edition (CIE 1976 L*a*b*).
"""

from __future__ import annotations

import functools
from typing import Literal

import cv2
import numpy as np
from numpy.typing import ArrayLike, NDArray

from workbench.errors import InputError

__all__ = [
    "D65_WHITE",
    "RGB_TO_XYZ",
    "XYZ_TO_RGB",
    "ColorInputError",
    "lab_to_rgb",
    "lightness",
    "lightness_ab_to_rgb",
    "linear_to_srgb",
    "rgb_to_lab",
    "srgb_to_linear",
]

class ColorInputError(InputError):
    """An image, ab array, distribution or parameter the colour functions cannot work with."""


# --------------------------------------------------------------------------------------------
# Constants: sRGB primaries, D65, the Lab curve
# --------------------------------------------------------------------------------------------

_SRGB_PRIMARIES_XY = ((0.64, 0.33), (0.30, 0.60), (0.15, 0.06))
_D65_XY = (0.3127, 0.3290)


def _rgb_to_xyz_matrix() -> NDArray[np.float64]:
    """Linear sRGB -> XYZ (Y of white = 1), from the primaries' and white's chromaticities."""
    xy = np.array(_SRGB_PRIMARIES_XY)
    primaries = np.stack([xy[:, 0] / xy[:, 1], np.ones(3), (1 - xy[:, 0] - xy[:, 1]) / xy[:, 1]])
    wx, wy = _D65_XY
    white = np.array([wx / wy, 1.0, (1 - wx - wy) / wy])
    return primaries * np.linalg.solve(primaries, white)


#: Linear sRGB -> CIE XYZ (rows X, Y, Z; Y of the white = 1).
RGB_TO_XYZ: NDArray[np.float64] = _rgb_to_xyz_matrix()
#: CIE XYZ -> linear sRGB.
XYZ_TO_RGB: NDArray[np.float64] = np.linalg.inv(RGB_TO_XYZ)
#: XYZ of the D65 white (0.95046, 1, 1.08906), the Lab reference white.
D65_WHITE: NDArray[np.float64] = RGB_TO_XYZ.sum(axis=1)

_DELTA = 6.0 / 29.0
_EPSILON = _DELTA**3  # Lab curve knee in t = X/Xn etc.
_SLOPE = 1.0 / (3.0 * _DELTA**2)  # slope of the linear part of the Lab curve
_SRGB_KNEE = 0.0031308  # linear-light knee of the sRGB curve
_SRGB_CODE_KNEE = 0.04045  # the same knee in sRGB code values

# linear RGB -> (X/Xn, Y, Z/Zn): each row sums to 1, so a grey maps to equal values.
_RGB_TO_XYZN = (RGB_TO_XYZ / D65_WHITE[:, None]).astype(np.float32)
_XYZN_TO_RGB = (XYZ_TO_RGB * D65_WHITE[None, :]).astype(np.float32)
_LUMA = RGB_TO_XYZ[1:2].astype(np.float32)  # (1, 3): Y from linear RGB
# (fx, fy, fz, 1) -> (L, a, b) and (L, a, b, 1) -> (fx, fy, fz)
_F_TO_LAB = np.array([[0, 116, 0, -16], [500, -500, 0, 0], [0, 200, -200, 0]], np.float32)
_LAB_TO_F = np.array(
    [[1 / 116, 1 / 500, 0, 16 / 116], [1 / 116, 0, 0, 16 / 116], [1 / 116, 0, -1 / 200, 16 / 116]],
    np.float32,
)


def _srgb_decode_exact(code: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.where(
        code <= _SRGB_CODE_KNEE, code / 12.92, ((code + 0.055) / 1.055) ** 2.4
    )


def _lab_f_exact(t: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.where(t > _EPSILON, np.cbrt(t), t * _SLOPE + 4.0 / 29.0)


def _lightness_exact(y: NDArray[np.float64]) -> NDArray[np.float64]:
    return 116.0 * _lab_f_exact(y) - 16.0


_LINEAR_U8 = _srgb_decode_exact(np.arange(256) / 255.0).astype(np.float32)
_LIGHTNESS_U8 = _lightness_exact(_srgb_decode_exact(np.arange(256) / 255.0)).astype(np.float32)


@functools.lru_cache(maxsize=1)
def _u16_tables() -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    linear = _srgb_decode_exact(np.arange(65536) / 65535.0)
    return linear.astype(np.float32), _lightness_exact(linear).astype(np.float32)


# --------------------------------------------------------------------------------------------
# Branch-free curves on float32 arrays (OpenCV calls on single-channel 2-D views)
# --------------------------------------------------------------------------------------------


def _plane(array: NDArray[np.float32]) -> NDArray[np.float32]:
    """A single-channel 2-D float32 view (or padded copy) that OpenCV takes as an image.

    OpenCV's scalar operations need one channel, and its Python bindings read an array of at
    most 4 elements as a scalar, so tiny inputs are padded to 16 elements.
    """
    if array.size < 16:
        padded = np.zeros((1, 16), dtype=np.float32)
        padded[0, : array.size] = array.ravel()
        return padded
    if array.ndim >= 2:
        return array.reshape(array.shape[0], -1)
    return array.reshape(1, -1)


def _unplane(flat: NDArray, like: NDArray) -> NDArray:
    """Undo :func:`_plane`: back to ``like``'s shape."""
    if like.size < 16:
        return flat.ravel()[: like.size].reshape(like.shape)
    return flat.reshape(like.shape)


_IMAGE_COLUMNS = 512


def _as_image(array: NDArray) -> NDArray:
    """A contiguous ``(..., C)`` array as an ``(rows, cols, C)`` image for OpenCV.

    OpenCV splits colour conversions into rows, so ``(N, 1, 3)`` (one pixel per row) runs ~5x
    slower than the same pixels as a 2-D image. Arrays that are images already are viewed as
    they are; lists of pixels are laid out ``_IMAGE_COLUMNS`` to a row (padded with zeros).
    """
    channels = array.shape[-1]
    if array.ndim >= 3 and array.shape[-2] >= 16:
        return array.reshape(-1, array.shape[-2], channels)
    flat = array.reshape(-1, channels)
    count = len(flat)
    columns = max(16, min(count, _IMAGE_COLUMNS))  # >= 16: never read as a scalar
    rows = -(-count // columns)
    if rows * columns == count:
        return flat.reshape(rows, columns, channels)
    padded = np.zeros((rows * columns, channels), dtype=array.dtype)
    padded[:count] = flat
    return padded.reshape(rows, columns, channels)


def _from_image(image: NDArray, shape: tuple[int, ...]) -> NDArray:
    """Undo :func:`_as_image` for an input of ``shape`` (the channel count may differ)."""
    channels = image.shape[-1] if image.ndim == 3 else 1
    count = int(np.prod(shape[:-1]))
    return image.reshape(-1, channels)[:count].reshape(shape[:-1] + (channels,))


def _decode_srgb_float(code: NDArray[np.float32]) -> NDArray[np.float32]:
    """sRGB code values (float32, contiguous, in 0..1) -> linear light, same shape."""
    flat = _plane(code)
    upper = cv2.pow(cv2.add(cv2.max(flat, _SRGB_CODE_KNEE), 0.055), 2.4)
    lower = cv2.min(flat, _SRGB_CODE_KNEE)
    # ((max(x, k) + 0.055) / 1.055) ** 2.4 + (min(x, k) - k) / 12.92
    out = cv2.addWeighted(
        upper, 1.055**-2.4, lower, 1 / 12.92, -_SRGB_CODE_KNEE / 12.92, dtype=cv2.CV_32F
    )
    return _unplane(out, code)


def _lab_f(t: NDArray[np.float32], scale: float = 1.0, offset: float = 0.0) -> NDArray[np.float32]:
    """``scale * f(t) + offset`` for the Lab curve f (cube root above the knee, linear below)."""
    flat = _plane(t)
    upper = cv2.pow(cv2.max(flat, _EPSILON), 1.0 / 3.0)
    lower = cv2.min(flat, _EPSILON)
    out = cv2.addWeighted(
        upper, scale, lower, scale * _SLOPE, offset - scale * _EPSILON * _SLOPE,
        dtype=cv2.CV_32F,
    )
    return _unplane(out, t)


def _lab_f_inverse(f: NDArray[np.float32]) -> NDArray[np.float32]:
    """Inverse of the Lab curve: cube above 6/29, linear below (any real input)."""
    flat = _plane(f)
    upper = cv2.max(flat, _DELTA)
    cube = cv2.multiply(cv2.multiply(upper, upper), upper)
    lower = cv2.min(flat, _DELTA)
    out = cv2.addWeighted(cube, 1.0, lower, 3 * _DELTA**2, -3 * _DELTA**3, dtype=cv2.CV_32F)
    return _unplane(out, f)


def _encode_srgb(linear: NDArray[np.float32], dtype: type) -> NDArray:
    """Linear light -> sRGB code values, clipped to the range: uint8 (rounded) or float32 0..1."""
    flat = _plane(linear)
    upper = cv2.pow(cv2.max(flat, _SRGB_KNEE), 1 / 2.4)
    lower = cv2.min(flat, _SRGB_KNEE)
    scale = 255.0 if dtype == np.uint8 else 1.0
    # 1.055 * max(x, k) ** (1/2.4) - 0.055 + 12.92 * (min(x, k) - k); uint8 saturates (0..255)
    out = cv2.addWeighted(
        upper, 1.055 * scale, lower, 12.92 * scale, (-0.055 - 12.92 * _SRGB_KNEE) * scale,
        dtype=cv2.CV_8U if dtype == np.uint8 else cv2.CV_32F,
    )
    if dtype != np.uint8:
        np.clip(out, 0.0, 1.0, out=out)
    return _unplane(out, linear)


# --------------------------------------------------------------------------------------------
# Validation at the door
# --------------------------------------------------------------------------------------------


def _check_pixels(image: ArrayLike, name: str, channels: tuple[int, ...]) -> NDArray:
    array = np.asarray(image)
    if array.dtype == bool or array.dtype.kind not in "uf":
        raise ColorInputError(
            f"{name} has dtype {array.dtype}; use uint8, uint16 or float (sRGB in 0..1)"
        )
    if array.dtype.kind == "u" and array.dtype.itemsize > 2:
        raise ColorInputError(f"{name} has dtype {array.dtype}; use uint8, uint16 or float")
    if array.ndim < 1 or array.shape[-1] not in channels:
        raise ColorInputError(
            f"{name} must have {' or '.join(map(str, channels))} channels in its last axis, "
            f"got shape {array.shape}"
        )
    if array.size == 0:
        raise ColorInputError(f"{name} is empty (shape {array.shape})")
    return array


def _float_codes(array: NDArray) -> NDArray[np.float32]:
    """Float sRGB codes as contiguous float32 in 0..1 (NaN -> 0)."""
    codes = np.ascontiguousarray(array, dtype=np.float32)
    if codes is array:
        codes = codes.copy()
    np.nan_to_num(codes, copy=False, nan=0.0)
    np.clip(codes, 0.0, 1.0, out=codes)
    return codes


# --------------------------------------------------------------------------------------------
# sRGB <-> linear <-> Lab
# --------------------------------------------------------------------------------------------


def srgb_to_linear(image: ArrayLike) -> NDArray[np.float32]:
    """Undo the sRGB transfer curve.

    Parameters
    ----------
    image : array_like
        sRGB codes of any shape: ``uint8``/``uint16`` full range, or float in 0..1 (clipped).

    Returns
    -------
    ndarray of float32
        Linear light in 0..1, same shape.
    """
    array = np.asarray(image)
    if array.dtype == np.uint8:
        return _LINEAR_U8[array]
    if array.dtype == np.uint16:
        return _u16_tables()[0][array]
    array = _check_pixels(array.reshape(-1, 1), "image", (1,)).reshape(array.shape)
    return _decode_srgb_float(_float_codes(array))


def linear_to_srgb(linear: ArrayLike, dtype: type = np.float32) -> NDArray:
    """Apply the sRGB transfer curve; values are clipped to 0..1.

    Parameters
    ----------
    linear : array_like
        Linear light, any shape.
    dtype : {numpy.float32, numpy.uint8}
        ``uint8`` gives rounded codes 0..255, ``float32`` codes in 0..1.

    Returns
    -------
    ndarray
        Same shape as ``linear``.
    """
    if dtype not in (np.float32, np.uint8):
        raise ColorInputError(f"dtype must be numpy.float32 or numpy.uint8, got {dtype}")
    values = np.ascontiguousarray(linear, dtype=np.float32)
    if values.size == 0:
        raise ColorInputError("linear is empty")
    return _encode_srgb(values, dtype)


def _linear_rgb(image: NDArray) -> NDArray[np.float32]:
    """(…, 3) sRGB of any supported dtype -> contiguous linear float32 (…, 3)."""
    if image.dtype == np.uint8:
        src = _as_image(np.ascontiguousarray(image))
        return _from_image(cv2.LUT(src, _LINEAR_U8), image.shape)
    if image.dtype == np.uint16:
        return _u16_tables()[0][image]
    return _decode_srgb_float(_float_codes(image))


def rgb_to_lab(image: ArrayLike) -> NDArray[np.float32]:
    """Convert sRGB to CIE L*a*b* (D65).

    Parameters
    ----------
    image : array_like
        ``(..., 3)`` sRGB: ``uint8``/``uint16`` full range, or float in 0..1 (clipped).

    Returns
    -------
    ndarray of float32
        ``(..., 3)``: L in 0..100, a and b in Lab units.

    Raises
    ------
    ColorInputError
        Not 3 channels in the last axis, an unsupported dtype, or empty.

    Examples
    --------
    >>> rgb_to_lab(np.array([255, 255, 255], np.uint8)).round(2)
    array([100.,   0.,   0.], dtype=float32)
    """
    array = _check_pixels(image, "image", (3,))
    linear = _as_image(_linear_rgb(array))
    f = _lab_f(cv2.transform(linear, _RGB_TO_XYZN))
    return _from_image(cv2.transform(f, _F_TO_LAB), array.shape)


def lightness(image: ArrayLike) -> NDArray[np.float32]:
    """CIE L* (0..100) of a grey, RGB or RGBA image.

    This is what a colorization network sees. A colour image gives the L of its colours (its
    luminance), not an average of the channels; alpha is ignored.

    Parameters
    ----------
    image : array_like
        ``(H, W)`` or ``(H, W, 1)`` grey, ``(H, W, 3)`` RGB or ``(H, W, 4)`` RGBA;
        ``uint8``/``uint16`` full range or float sRGB in 0..1.

    Returns
    -------
    ndarray of float32, shape (H, W)

    Examples
    --------
    >>> float(lightness(np.full((1, 1), 0.5, np.float32))[0, 0])  # doctest: +ELLIPSIS
    53.38...
    """
    array = np.asarray(image)
    if array.ndim == 2:
        array = array[..., None]
    if array.ndim != 3:
        raise ColorInputError(
            f"image must be (H, W) grey or (H, W, C) with C in 1, 3, 4; got shape {array.shape}"
        )
    array = _check_pixels(array, "image", (1, 3, 4))
    if array.shape[2] == 1:
        grey = array[..., 0]
        if grey.dtype == np.uint8:
            return cv2.LUT(np.ascontiguousarray(grey), _LIGHTNESS_U8)
        if grey.dtype == np.uint16:
            return _u16_tables()[1][grey]
        return _lab_f(_decode_srgb_float(_float_codes(grey)), 116.0, -16.0)
    rgb = array[..., :3]
    luminance = cv2.transform(_linear_rgb(rgb), _LUMA)
    return _lab_f(np.ascontiguousarray(luminance.reshape(rgb.shape[:2])), 116.0, -16.0)


# --------------------------------------------------------------------------------------------
# Lab -> sRGB, with colours outside the gamut brought inside at constant L
# --------------------------------------------------------------------------------------------

_STRICTLY_INSIDE = 1e-7  # cvtColor clips to exactly 0 and 1; anything else was not clipped
_PIXEL = np.dtype((np.void, 12))  # one float32 RGB/Lab pixel as a single item


def _pixels(image: NDArray[np.float32]) -> NDArray:
    """A contiguous float32 ``(..., 3)`` array as a 1-D view of 12-byte pixels."""
    return image.reshape(-1, 3).view(_PIXEL).ravel()


def _fit_into_gamut(linear: NDArray[np.float32], luminance: NDArray[np.float32]) -> NDArray:
    """Desaturate out-of-gamut colours towards the grey of the same luminance.

    ``linear`` is ``(N, 3)`` linear RGB, ``luminance`` ``(N, 1)`` its Y in 0..1 (N >= 16).
    Moving along the straight line to the grey (Y, Y, Y) in *linear* RGB keeps Y, hence L,
    exactly; the step is the largest that keeps every channel in 0..1 (1 for colours inside).
    (Reducing Lab chroma at constant hue instead would keep the hue too, but along such a
    line sRGB colours do not always form one interval - near the yellow cusp a line leaves
    the gamut and comes back - so no cheap per-pixel rule finds the boundary.)
    Returns the fitted ``(N, 3)`` array.
    """
    low = cv2.reduce(linear, 1, cv2.REDUCE_MIN)
    high = cv2.reduce(linear, 1, cv2.REDUCE_MAX)
    # denominators >= 1e-30: a 0 / 0 (black, white) gives step 0, i.e. the grey itself
    keep_low = cv2.divide(
        luminance, cv2.max(cv2.subtract(luminance, cv2.min(low, 0.0)), 1e-30)
    )
    keep_high = cv2.divide(
        cv2.subtract(1.0, luminance),
        cv2.max(cv2.subtract(cv2.max(high, 1.0), luminance), 1e-30),
    )
    step = cv2.min(keep_low, keep_high)
    step3 = cv2.merge([step, step, step]).reshape(-1, 3)
    grey3 = cv2.merge([luminance, luminance, luminance]).reshape(-1, 3)
    return cv2.add(cv2.multiply(cv2.subtract(linear, grey3), step3), grey3)


def _lab_to_rgb_exact(lab: NDArray[np.float32], dtype: type, fit: bool = True) -> NDArray:
    """``(H, W, 3)`` Lab image -> sRGB image in float32 arithmetic (gamut-fitted or clipped)."""
    xyzn = _lab_f_inverse(cv2.transform(lab, _LAB_TO_F))
    linear = cv2.transform(xyzn, _XYZN_TO_RGB)
    if fit:
        fitted = _fit_into_gamut(
            linear.reshape(-1, 3), np.ascontiguousarray(xyzn.reshape(-1, 3)[:, 1:2])
        )
        linear = fitted.reshape(linear.shape)
    return _encode_srgb(linear, dtype)


def _lab_image_to_rgb(lab: NDArray[np.float32], dtype: type, gamut: str) -> NDArray:
    """``(H, W, 3)`` contiguous float32 Lab with L in 0..100 -> ``(H, W, 3)`` sRGB."""
    if dtype == np.float32:
        return _lab_to_rgb_exact(lab, np.float32, fit=gamut == "keep-lightness")
    rgb = cv2.cvtColor(lab, cv2.COLOR_Lab2RGB)
    if gamut == "keep-lightness":
        inside = cv2.inRange(rgb, (_STRICTLY_INSIDE,) * 3, (1.0 - _STRICTLY_INSIDE,) * 3)
        clipped = np.flatnonzero(inside.ravel() == 0)
        if clipped.size:
            # whole pixels move as 12-byte items: ~3x faster than (N, 3) fancy indexing
            redo = _as_image(np.take(_pixels(lab), clipped).view(np.float32).reshape(-1, 3))
            fitted = _lab_to_rgb_exact(redo, np.float32).reshape(-1, 3)[: clipped.size]
            np.put(_pixels(rgb), clipped, np.ascontiguousarray(fitted).view(_PIXEL).ravel())
    return cv2.convertScaleAbs(rgb, alpha=255.0)  # rounds; rgb is in 0..1


def _check_gamut_args(dtype: type, gamut: str) -> None:
    if dtype not in (np.uint8, np.float32):
        raise ColorInputError(f"dtype must be numpy.uint8 or numpy.float32, got {dtype}")
    if gamut not in ("keep-lightness", "clip"):
        raise ColorInputError(f"gamut must be 'keep-lightness' or 'clip', got {gamut!r}")


def lab_to_rgb(
    lab: ArrayLike,
    *,
    dtype: type = np.uint8,
    gamut: Literal["keep-lightness", "clip"] = "keep-lightness",
) -> NDArray:
    """Convert CIE L*a*b* (D65) to sRGB.

    Parameters
    ----------
    lab : array_like
        ``(..., 3)`` float: L (clipped to 0..100), a, b.
    dtype : {numpy.uint8, numpy.float32}
        ``uint8`` (rounded codes) or ``float32`` in 0..1.
    gamut : {"keep-lightness", "clip"}
        What to do with Lab colours sRGB cannot show (a colorizer's ab is not constrained to
        the gamut at the pixel's L). ``"keep-lightness"`` (default) desaturates them towards
        the grey of the same luminance in linear RGB, the least change that keeps L exact, so
        a colorized image keeps the input's L. ``"clip"`` clips each channel, which is
        cheaper but changes the L (and hue) of saturated colours.

    Returns
    -------
    ndarray
        ``(..., 3)`` RGB of ``dtype``.

    Notes
    -----
    ``float32`` output uses the exact formulas throughout. For ``uint8`` the bulk of the work is
    OpenCV's float ``cvtColor(Lab2RGB)`` (multi-threaded; its sRGB curve is a table, up to
    ~0.5 levels of 255 off for floats, but measured to round-trip all 256^3 8-bit colours
    through :func:`rgb_to_lab` exactly). It clips out-of-gamut colours per channel, so every
    pixel it clipped (a channel exactly 0 or 1) is recomputed with the exact formulas and
    fitted into the gamut: the cost grows with the share of such pixels (at 640 x 480 on
    the 2-core development machine: ~4 ms with none, ~9 ms with 16 %).

    Examples
    --------
    >>> lab_to_rgb(np.array([53.389, 0.0, 0.0], np.float32))
    array([128, 128, 128], dtype=uint8)
    """
    array = np.asarray(lab)
    if array.ndim < 1 or array.shape[-1] != 3 or array.size == 0:
        raise ColorInputError(f"lab must be (..., 3) and not empty, got shape {array.shape}")
    _check_gamut_args(dtype, gamut)
    values = np.ascontiguousarray(array, dtype=np.float32)
    plane = values[..., 0]
    if plane.min() < 0.0 or plane.max() > 100.0:
        values = values.copy() if np.shares_memory(values, array) else values
        np.clip(values[..., 0], 0.0, 100.0, out=values[..., 0])
    return _from_image(_lab_image_to_rgb(_as_image(values), dtype, gamut), array.shape)


def lightness_ab_to_rgb(
    lightness_plane: NDArray[np.float32],
    ab: NDArray[np.float32],
    *,
    dtype: type = np.uint8,
    gamut: Literal["keep-lightness", "clip"] = "keep-lightness",
) -> NDArray:
    """Recombine an ``(H, W)`` L plane with an ``(H, W, 2)`` ab image into sRGB.

    See :func:`lab_to_rgb` for ``dtype`` and ``gamut``.
    """
    plane = np.asarray(lightness_plane, dtype=np.float32)
    chroma = np.asarray(ab, dtype=np.float32)
    if plane.ndim != 2 or chroma.shape != plane.shape + (2,) or plane.size == 0:
        raise ColorInputError(
            f"lightness must be (H, W) and ab (H, W, 2) of the same H, W; got {plane.shape} "
            f"and {chroma.shape}"
        )
    _check_gamut_args(dtype, gamut)
    lab = cv2.merge([np.clip(plane, 0.0, 100.0), chroma])
    if lab.ndim == 2:  # OpenCV drops the channel axis of 1-wide images
        lab = lab.reshape(plane.shape + (3,))
    return _from_image(_lab_image_to_rgb(_as_image(lab), dtype, gamut), lab.shape)
