"""Training data: read a folder of colour photos once, make fixed-size views, cache them.

Each photo gives a few *views* at the network's single input size (the whole photo resized, as the
engine feeds it at run time, plus mirrored random crops). For every view the cache keeps the true
ab at a quarter of the input size (the resolution of the network's output, as in Zhang et al. 2016)
and the outputs of the frozen encoder trunk, computed once with ONNX Runtime. Training then only
runs the trainable head, which is what makes hours of CPU time go a long way.

Files whose name starts with a source prefix (``intel_``, ``coco_``, …) are grouped by source so
that the sampler can weight sources (the 150×150 Intel scenes would otherwise swamp the objects and
people).

References
----------
R. Zhang, P. Isola and A. A. Efros, "Colorful Image Colorization", ECCV 2016.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from workbench.errors import WorkbenchError

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm"}
#: A photo counts as gray when 99 % of its pixels have channel differences of at most this.
GRAY_CHANNEL_SPREAD = 3
#: Cached encoder outputs (strides 4, 8, 16, 32), in the order the trunk returns them.
FEATURES = ("s4", "s8", "s16", "s32")


def source_of(path: Path) -> str:
    """The source dataset of a photo, from its file-name prefix (``intel_x.jpg`` → ``intel``)."""
    stem = path.stem
    return stem.split("_", 1)[0] if "_" in stem else "other"


def list_photos(folder: Path | str) -> list[Path]:
    """Image files directly in ``folder`` (sorted).

    Raises
    ------
    WorkbenchError
        When the folder does not exist or holds no image files.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise WorkbenchError(f"training data folder not found: {folder}")
    paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not paths:
        raise WorkbenchError(f"no image files in {folder}")
    return paths


def is_grayscale(rgb: np.ndarray) -> bool:
    """True when 99 % of the pixels have channel differences of at most 3 (a gray photo)."""
    x = rgb.astype(np.int16)
    spread = x.max(-1) - x.min(-1)
    return float(np.mean(spread <= GRAY_CHANNEL_SPREAD)) >= 0.99


def read_rgb(path: Path) -> np.ndarray | None:
    """An RGB uint8 photo, or None when it cannot be read (the reason is logged)."""
    from workbench.imaging.io import read_image

    try:
        img = read_image(path)
    except WorkbenchError as exc:
        log.info("skipping %s: %s", path.name, exc)
        return None
    img = np.asarray(img)
    if img.dtype != np.uint8:
        img = np.clip(img.astype(np.float64) / (65535.0 if img.dtype == np.uint16 else 1.0)
                      * 255.0, 0, 255).astype(np.uint8)
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=-1)
    return np.ascontiguousarray(img[..., :3])


def random_view(rgb: np.ndarray, size: int, rng: np.random.Generator, *, whole: bool,
                flip: bool, min_area: float = 0.45) -> np.ndarray:
    """A ``size``×``size`` view of a photo: the whole photo, or a random crop, optionally mirrored.

    The whole photo is resized without keeping its aspect ratio, as the engine does with a fixed
    input size; crops cover ``min_area``–100 % of the area (45 % by default) with an aspect
    jitter of up to 4:3. A larger ``min_area`` keeps objects nearer the scale at which the engine
    shows them to the network (the whole photo resized to the input).
    """
    h, w = rgb.shape[:2]
    if whole:
        crop = rgb
    else:
        area = rng.uniform(min_area, 1.0) * h * w
        ratio = np.exp(rng.uniform(np.log(3 / 4), np.log(4 / 3))) * (w / h)
        cw = int(round(min(w, np.sqrt(area * ratio))))
        ch = int(round(min(h, np.sqrt(area / ratio))))
        y = int(rng.integers(0, h - ch + 1))
        x = int(rng.integers(0, w - cw + 1))
        crop = rgb[y:y + ch, x:x + cw]
    interp = cv2.INTER_AREA if min(crop.shape[:2]) >= size else cv2.INTER_CUBIC
    view = cv2.resize(crop, (size, size), interpolation=interp)
    return view[:, ::-1].copy() if flip else view


def lab_view(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """L (H, W) and the quarter-resolution ab (2, H/4, W/4), float32, of an RGB uint8 view."""
    from workbench.imaging.color import rgb_to_lab

    lab = rgb_to_lab(rgb).astype(np.float32)
    h, w = rgb.shape[:2]
    ab4 = cv2.resize(lab[..., 1:], (w // 4, h // 4), interpolation=cv2.INTER_AREA)
    return lab[..., 0], np.ascontiguousarray(ab4.transpose(2, 0, 1))


@dataclass
class FeatureCache:
    """Cached training views: frozen-trunk features (float16, by name), quarter-res ab, source
    of each view."""

    folder: Path
    features: dict[str, np.ndarray]
    ab: np.ndarray
    sources: np.ndarray
    photo_index: np.ndarray
    meta: dict

    def __len__(self) -> int:
        return len(self.ab)

    @classmethod
    def open(cls, folder: Path | str) -> FeatureCache:
        folder = Path(folder)
        meta = json.loads((folder / "meta.json").read_text())
        names = meta.get("features", list(FEATURES))
        features = {k: np.load(folder / f"{k}.npy", mmap_mode="r") for k in names}
        arrays = {k: np.load(folder / f"{k}.npy", mmap_mode="r")
                  for k in ("ab", "sources", "photo_index")}
        return cls(folder=folder, meta=meta, features=features, **arrays)


def build_cache(photos: Iterable[Path], out: Path | str, *, size: int,
                views_by_source: dict[str, int], default_views: int,
                trunk: Callable[[np.ndarray], tuple[np.ndarray, ...]], seed: int = 0,
                batch: int = 64, progress: Callable[[int, int], None] | None = None,
                names: tuple[str, ...] = FEATURES, min_area: float = 0.45) -> dict:
    """Read every photo once, make its views and store their trunk features and ab.

    Parameters
    ----------
    photos : iterable of Path
        Colour photos (gray and unreadable ones are skipped and counted).
    out : Path
        Cache folder (created); holds ``s4.npy`` … ``s32.npy``, ``ab.npy``,
        ``sources.npy``, ``photo_index.npy`` and ``meta.json``.
    size : int
        Network input size (square).
    views_by_source, default_views : dict, int
        How many views to make per photo of each source. The first view is the whole photo;
        the others are random crops, mirrored every other time.
    trunk : callable
        L batch (N, 1, size, size) float32 → the frozen encoder's outputs, one per name.
    seed : int
        Seed of the crop generator.
    batch : int
        Views per trunk call.
    progress : callable, optional
        Called with (photos read, photos in all).
    names : tuple of str
        Names of the trunk's outputs (stored as ``NAME.npy``).
    min_area : float
        Smallest crop, as a share of the photo's area (see :func:`random_view`).

    Returns
    -------
    dict
        The cache's metadata (counts of views, skipped files, sources).
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    photos = list(photos)
    rng = np.random.default_rng(seed)
    lights, abs_, srcs, idxs = [], [], [], []
    skipped_gray = skipped_unreadable = 0
    for i, path in enumerate(photos):
        rgb = read_rgb(path)
        if rgb is None:
            skipped_unreadable += 1
            continue
        if is_grayscale(rgb):
            skipped_gray += 1
            continue
        src = source_of(path)
        for v in range(views_by_source.get(src, default_views)):
            view = random_view(rgb, size, rng, whole=(v == 0), flip=(v % 2 == 1),
                               min_area=min_area)
            light, ab4 = lab_view(view)
            lights.append(light.astype(np.float16))
            abs_.append(ab4.astype(np.float16))
            srcs.append(src)
            idxs.append(i)
        if progress is not None:
            progress(i + 1, len(photos))
    if not abs_:
        raise WorkbenchError("no usable colour photos (all were gray or unreadable)")
    n = len(abs_)
    ab = np.stack(abs_)
    np.save(out / "ab.npy", ab)
    np.save(out / "sources.npy", np.array(srcs))
    np.save(out / "photo_index.npy", np.array(idxs, np.int32))
    light = np.stack(lights)[:, None]
    first = trunk(light[:1].astype(np.float32))
    feats = [np.lib.format.open_memmap(out / f"{name}.npy", mode="w+", dtype=np.float16,
                                       shape=(n, *f.shape[1:]))
             for name, f in zip(names, first, strict=True)]
    for start in range(0, n, batch):
        outs = trunk(light[start:start + batch].astype(np.float32))
        for mm, f in zip(feats, outs, strict=True):
            mm[start:start + batch] = f.astype(np.float16)
    for mm in feats:
        mm.flush()
    meta = {"size": size, "views": n, "photos": len(photos) - skipped_gray - skipped_unreadable,
            "skipped_gray": skipped_gray, "skipped_unreadable": skipped_unreadable,
            "sources": {s: int(c) for s, c in
                        zip(*np.unique(srcs, return_counts=True), strict=True)},
            "seed": seed, "features": list(names), "min_area": min_area}
    (out / "meta.json").write_text(json.dumps(meta, indent=1))
    log.info("cache %s: %d views of %d photos (%d gray and %d unreadable skipped)", out, n,
             meta["photos"], skipped_gray, skipped_unreadable)
    return meta


def sampling_probabilities(sources: np.ndarray, share: dict) -> np.ndarray:
    """Per-view sampling probability: named sources get their share, the rest split the remainder.

    Examples
    --------
    >>> p = sampling_probabilities(np.array(["intel"] * 8 + ["coco"] * 2), {"intel": 0.5})
    >>> float(p[:8].sum()), float(p[8:].sum())
    (0.5, 0.5)
    """
    sources = np.asarray(sources)
    names, counts = np.unique(sources, return_counts=True)
    present = {n: c for n, c in zip(names, counts, strict=False)}
    fixed = {s: v for s, v in share.items() if s in present}
    rest = max(0.0, 1.0 - sum(fixed.values()))
    rest_count = sum(c for n, c in present.items() if n not in fixed)
    p = np.zeros(len(sources))
    for n, c in present.items():
        mass = fixed[n] if n in fixed else (rest * c / rest_count if rest_count else 0.0)
        p[sources == n] = mass / c
    return p / p.sum()
