"""Multiresolution spline (Burt & Adelson 1983): blend two images through their Laplacian
pyramids, with the mask's own Gaussian pyramid as the weights of every band."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from workbench.pyramid.levels import (
    DEFAULT_KERNEL_SIZE,
    DEFAULT_SIGMA,
    LaplacianPyramid,
    PyramidInputError,
    _check_image,
    _resolve_taps,
    gaussian_pyramid,
    laplacian_pyramid,
    reconstruct_from_laplacian,
)

__all__ = ["blend"]


# --------------------------------------------------------------------------------------------
# Multiresolution spline
# --------------------------------------------------------------------------------------------


def _check_mask(mask: ArrayLike, shape: tuple[int, ...]) -> NDArray[np.float32]:
    array = np.asarray(mask)
    if array.shape != shape[:2]:
        raise PyramidInputError(
            f"mask must be 2-D with the images' height and width {shape[:2]}, got {array.shape}"
        )
    if not (array.dtype == bool or np.issubdtype(array.dtype, np.number)):
        raise PyramidInputError(f"mask must be numeric or boolean, got dtype {array.dtype}")
    weights = array.astype(np.float32)
    low, high = float(weights.min()), float(weights.max())
    if not (0.0 <= low and high <= 1.0):
        raise PyramidInputError(
            f"mask values must lie in [0, 1], got [{low:g}, {high:g}]"
            + (" (divide an 8-bit mask by 255)" if high > 1 else "")
        )
    return weights


def blend(
    image_a: ArrayLike,
    image_b: ArrayLike,
    mask: ArrayLike,
    levels: int,
    *,
    sigma: float = DEFAULT_SIGMA,
    kernel_size: int = DEFAULT_KERNEL_SIZE,
    kernel: ArrayLike | None = None,
) -> NDArray:
    """Multiresolution spline: blend two images under a mask, band by band.

    Each Laplacian band is ``GM_k * LA_k + (1 - GM_k) * LB_k`` with ``GM`` the Gaussian pyramid
    of the mask, so coarse structure is mixed over a wide transition and fine detail over a
    narrow one; the result is collapsed with :func:`reconstruct_from_laplacian`.

    Parameters
    ----------
    image_a, image_b : (H, W) or (H, W, C) arrays
        Same shape and dtype (uint8, uint16, float32 or float64).
    mask : (H, W) array
        Weight of ``image_a`` in [0, 1] (float or bool); 1 takes ``image_a``, 0 ``image_b``.
    levels : int
        Pyramid levels; more levels give smoother transitions for large structures.
    sigma, kernel_size, kernel : optional
        As for :func:`gaussian_pyramid`.

    Returns
    -------
    blended : ndarray
        Shape and dtype of the inputs (integers rounded and clipped to their range).

    Raises
    ------
    PyramidInputError
        If the images differ in shape or dtype, or the mask has the wrong shape or range.

    References
    ----------
    .. [1] Burt & Adelson, "A Multiresolution Spline With Application to Image Mosaics", 1983.

    Examples
    --------
    >>> a, b = np.full((8, 8), 200, np.uint8), np.full((8, 8), 100, np.uint8)
    >>> blend(a, b, np.ones((8, 8)), 3)[0, 0]
    np.uint8(200)
    """
    first = _check_image(image_a, "image_a")
    second = _check_image(image_b, "image_b")
    if first.shape != second.shape or first.dtype != second.dtype:
        raise PyramidInputError(
            f"image_a and image_b must have the same shape and dtype, got {first.shape} "
            f"{first.dtype} and {second.shape} {second.dtype}"
        )
    weights = _check_mask(mask, first.shape)
    taps = _resolve_taps(sigma, kernel_size, kernel)
    bands_a = laplacian_pyramid(first, levels, kernel=taps)
    bands_b = laplacian_pyramid(second, levels, kernel=taps)
    mixed = []
    weight_pyramid = gaussian_pyramid(weights, levels, kernel=taps)
    for band_a, band_b, weight in zip(bands_a, bands_b, weight_pyramid, strict=True):
        if band_a.ndim == 3:
            weight = weight[:, :, np.newaxis]
        mixed.append(band_b + weight * (band_a - band_b))
    return reconstruct_from_laplacian(LaplacianPyramid(mixed, taps, first.dtype))
