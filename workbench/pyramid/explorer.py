"""What the Pyramid panel shows, in plain Python (no Qt): levels, display images, stats, exports.

The panel draws this state; tests and ``workbench pyramid`` use it directly. Level ``k`` pixel
``i`` sits at ``2**k * i`` in the input (the core's convention), so the *scene point* under the
cursor is the same on every level: ``scene = 2**k * level_xy``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from workbench.errors import WorkbenchError
from workbench.pyramid import levels as pyr

MODES = ("gaussian", "laplacian", "dog", "blend")
MODE_LABELS = {
    "gaussian": "Gaussian",
    "laplacian": "Laplacian",
    "dog": "Difference of Gaussians",
    "blend": "Blend (multiresolution spline)",
}
MASKS = ("left half", "top half", "centre ellipse")


@dataclass(frozen=True)
class PyramidParams:
    mode: str = "gaussian"
    levels: int = 6
    sigma: float = pyr.DEFAULT_SIGMA
    kernel_size: int = pyr.DEFAULT_KERNEL_SIZE


@dataclass
class PyramidResult:
    """Everything one computation produced; the panel shows it, export writes it."""

    params: PyramidParams
    levels: list[np.ndarray]  # data: input dtype (Gaussian) or float32 (bands)
    signed: list[bool]  # which levels are signed band-pass images
    stats: list[pyr.LevelStats]
    reconstruction_error: float | None = None  # max |input - collapse(pyramid)|
    blended: np.ndarray | None = None
    input_dtype: np.dtype = field(default_factory=lambda: np.dtype(np.uint8))


def value_scale(dtype: np.dtype) -> float:
    """Gray levels per unit of the data, so 8-bit display maps full range to 0..255."""
    if dtype == np.uint8:
        return 1.0
    if dtype == np.uint16:
        return 1.0 / 257.0
    return 255.0  # float images are 0..1


def display_level(level: np.ndarray, signed: bool, dtype: np.dtype,
                  contrast: float = 4.0) -> np.ndarray:
    """uint8 image to show: plain levels as they are, signed bands centred on mid-gray."""
    from workbench.imaging.io import to_uint8_display

    if not signed:
        return to_uint8_display(np.asarray(level, dtype=dtype) if level.dtype != dtype else level)
    scaled = 128.0 + contrast * value_scale(dtype) * level.astype(np.float32)
    out = np.clip(scaled + 0.5, 0, 255).astype(np.uint8)
    if out.ndim == 3 and out.shape[2] == 4:  # bands of alpha are not transparency
        out = out[..., :3]
    return out


def make_mask(kind: str, shape: tuple[int, int]) -> np.ndarray:
    """A 0..1 float mask for the blend: which of image A to keep."""
    h, w = shape
    mask = np.zeros((h, w), np.float32)
    if kind == "left half":
        mask[:, : w // 2] = 1
    elif kind == "top half":
        mask[: h // 2] = 1
    elif kind == "centre ellipse":
        yy, xx = np.mgrid[0:h, 0:w]
        inside = ((xx - (w - 1) / 2) / (w / 3)) ** 2 + ((yy - (h - 1) / 2) / (h / 3)) ** 2 <= 1
        mask[inside] = 1
    else:
        raise WorkbenchError(f"unknown mask {kind!r}; choose one of {', '.join(MASKS)}")
    return mask


def compute(image: np.ndarray, params: PyramidParams, *, image_b: np.ndarray | None = None,
            mask: np.ndarray | None = None,
            check: Callable[[float, str], None] | None = None) -> PyramidResult:
    """Build the pyramid for ``params`` (call ``check(fraction, message)`` between levels; it
    may raise to cancel). Gaussian levels first, then band-pass levels from coarse to fine."""
    check = check or (lambda f, m: None)
    kernel = pyr.gaussian_kernel_1d(params.kernel_size, params.sigma)
    mode = params.mode
    if mode not in MODES:
        raise WorkbenchError(f"unknown mode {mode!r}")
    n = len(pyr.pyramid_shapes(image.shape, params.levels))
    gauss = [image]
    for k in range(1, n):
        check(0.5 * k / n, f"Gaussian level {k}")
        gauss.append(pyr.pyramid_reduce(gauss[-1], kernel=kernel))
    blended = None
    error = None
    if mode == "gaussian":
        levels, signed = gauss, [False] * n
    elif mode == "dog":
        check(0.5, "difference of Gaussians")
        levels, signed = pyr.dog_pyramid(image, params.levels, kernel=kernel), [True] * n
    else:
        if mode == "blend":
            if image_b is None or mask is None:
                raise WorkbenchError("Blend needs a second image and a mask.")
            bands = _blended_bands(image, image_b, mask, gauss, kernel, n, check)
        else:
            bands = _bands(gauss, kernel, check)
        levels, signed = bands, [True] * (n - 1) + [False]
        collapsed = pyr.reconstruct_from_laplacian(
            pyr.LaplacianPyramid(bands, kernel, image.dtype))
        if mode == "blend":
            blended = collapsed
        else:
            error = float(np.max(np.abs(collapsed.astype(np.float64) - image.astype(np.float64))))
    check(1.0, "statistics")
    stats = [pyr.level_stats(level) for level in levels]
    return PyramidResult(params, levels, signed, stats, error, blended, image.dtype)


def _bands(gauss: list[np.ndarray], kernel: np.ndarray, check) -> list[np.ndarray]:
    """Laplacian bands G_k - expand(G_k+1), computed coarse to fine, plus the top Gaussian."""
    n = len(gauss)
    bands: list[np.ndarray] = [np.empty(0)] * n
    bands[-1] = gauss[-1].astype(np.float32)
    for k in range(n - 2, -1, -1):
        check(0.5 + 0.5 * (n - 1 - k) / n, f"Laplacian level {k}")
        expanded = pyr.pyramid_expand(gauss[k + 1], gauss[k].shape[:2], kernel=kernel)
        bands[k] = np.subtract(gauss[k], expanded, out=expanded, dtype=np.float32)
    return bands


def _blended_bands(a, b, mask, gauss_a, kernel, n, check) -> list[np.ndarray]:
    if b.shape != a.shape or b.dtype != a.dtype:
        raise WorkbenchError(
            f"The second image must match the first: {b.shape} {b.dtype} vs {a.shape} {a.dtype}")
    gauss_b = [b]
    gauss_m = [mask.astype(np.float32)]
    for _ in range(1, n):
        gauss_b.append(pyr.pyramid_reduce(gauss_b[-1], kernel=kernel))
        gauss_m.append(pyr.pyramid_reduce(gauss_m[-1], kernel=kernel))
    la = _bands(gauss_a, kernel, check)
    lb = _bands(gauss_b, kernel, lambda f, m: None)
    out = []
    for band_a, band_b, m in zip(la, lb, gauss_m, strict=True):
        w = m if band_a.ndim == 2 else m[..., None]
        out.append(w * band_a + (1 - w) * band_b)
    return out


def match_second_image(image: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Resize/convert the blend's second image to the first one's size, channels and dtype."""
    import cv2

    from workbench.imaging.io import to_uint8_display

    out = second
    channels = 1 if image.ndim == 2 else image.shape[2]
    if out.ndim == 3 and channels == 1:
        out = cv2.cvtColor(to_uint8_display(out)[..., :3], cv2.COLOR_RGB2GRAY)
    elif out.ndim == 2 and channels >= 3:
        out = np.repeat(out[..., None], channels, axis=2)
    elif out.ndim == 3 and out.shape[2] != channels:
        out = out[..., :3] if channels == 3 else np.dstack(
            [out[..., :3], np.full(out.shape[:2], np.iinfo(np.uint8).max, out.dtype)])
    if out.dtype != image.dtype:
        out = to_uint8_display(out)
        if image.dtype == np.uint16:
            out = out.astype(np.uint16) * 257
        elif image.dtype.kind == "f":
            out = out.astype(image.dtype) / 255
    if out.shape[:2] != image.shape[:2]:
        out = cv2.resize(out, (image.shape[1], image.shape[0]), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(out)


def export_levels(result: PyramidResult, out_dir: str | Path, *, stem: str = "level",
                  fmt: str = "png") -> list[Path]:
    """One file per level. Gaussian levels keep the input dtype (16-bit stays 16-bit);
    signed band-pass levels are exact float32 TIFFs (PNG cannot hold negative values)."""
    from workbench.imaging.io import write_image

    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        raise WorkbenchError(f"Output folder {out_dir} does not exist.")
    fmt = fmt.lower().lstrip(".")
    if fmt not in ("png", "tif", "tiff"):
        raise WorkbenchError(f"Export format must be png or tif, not {fmt!r}.")
    written = []
    for k, (level, signed) in enumerate(zip(result.levels, result.signed, strict=True)):
        ext = "tif" if signed or level.dtype.kind == "f" else fmt
        data = level
        if not signed and level.dtype != result.input_dtype:
            data = np.clip(np.rint(level), 0, np.iinfo(result.input_dtype).max).astype(
                result.input_dtype) if result.input_dtype.kind == "u" else level
            ext = fmt if data.dtype.kind == "u" else "tif"
        path = out_dir / f"{stem}_{k}.{ext}"
        write_image(path, np.ascontiguousarray(data))
        written.append(path)
    if result.blended is not None:
        path = out_dir / f"{stem}_blend.{fmt}"
        write_image(path, result.blended)
        written.append(path)
    return written
