"""A directional-light stress test: relight a photo as if a lamp stood to one side of the face.

Real one-sided light does two things to a face: it shades the far half smoothly (the cheek
turns away from the lamp) and it throws hard-edged shadows (beside the nose, under the brow).
:func:`relight` imitates both on any photo whose face box is known, so recognition can be
measured on the same people under light it was never enrolled in:

* a smooth multiplicative shading field across the face, bright on the lamp's side and dark on
  the other (a ``tanh`` ramp over about half the face width, tilted slightly downward);
* a hard shadow: everything on the dark side of a vertical line just past the face's centre
  is multiplied once more by ``shadow`` (a sharp edge, as a nose shadow has).

The factors are applied to the whole photo (the ramp is centred on the face), so detection,
alignment and normalisation all see the relit picture, as they would see a real one.
"""

from __future__ import annotations

import numpy as np

__all__ = ["relight"]

Box = tuple[int, int, int, int]


def relight(
    image: np.ndarray,
    box: Box,
    side: int = 1,
    *,
    strength: float = 0.7,
    shadow: float = 0.55,
    width: float = 0.25,
) -> np.ndarray:
    """The photo lit by a lamp on one side of the face in ``box``.

    Parameters
    ----------
    image : ndarray
        ``(H, W)`` grey or ``(H, W, C)`` colour, ``uint8``.
    box : (x, y, w, h)
        The face, in ``image`` pixels.
    side : {1, -1}
        The lamp is on the image's right (1) or left (-1) of the face.
    strength : float in [0, 1)
        Depth of the smooth shading: the dark side keeps ``1 - strength`` of its light and the
        lit side gets ``1 + 0.15 * strength`` of it.
    shadow : float in (0, 1]
        Extra factor inside the hard shadow (1: no hard shadow).
    width : float
        Width of the shading ramp as a fraction of the face width.

    Returns
    -------
    ndarray
        Same shape, ``uint8``.
    """
    if side not in (1, -1):
        raise ValueError(f"side must be 1 or -1, got {side}")
    if not 0.0 <= strength < 1.0 or not 0.0 < shadow <= 1.0 or width <= 0:
        raise ValueError("strength must lie in [0, 1), shadow in (0, 1] and width be positive")
    array = np.asarray(image)
    if array.dtype != np.uint8 or array.ndim not in (2, 3):
        raise ValueError(f"expected a uint8 (H, W) or (H, W, C) image, got {array.shape} "
                         f"{array.dtype}")
    height, wide = array.shape[:2]
    x, y, w, h = box
    if w <= 0 or h <= 0:
        raise ValueError(f"the face box must have a positive size, got {box}")
    across = (np.arange(wide, dtype=np.float32) - (x + w / 2)) / w
    down = (np.arange(height, dtype=np.float32) - (y + h / 2)) / h
    across, down = np.meshgrid(across, down)
    lit = 0.5 * (1.0 + np.tanh(side * (across + 0.1 * down) / width))  # 0 dark .. 1 lit
    field = (1.0 - strength) + strength * 1.15 * lit
    field *= np.where(side * across < -0.06, shadow, 1.0).astype(np.float32)
    if array.ndim == 3:
        field = field[..., None]
    return np.clip(array.astype(np.float32) * field, 0, 255).astype(np.uint8)
