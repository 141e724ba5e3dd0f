"""Make the bundled sample images (run ``python -m workbench.samples`` to regenerate them).

The Rectify sample is an A4 poster photographed at an angle by a synthetic pinhole camera and lying
on a wooden table, so there is something to rectify and the true aspect ratio (210:297) is known.
The poster's photo is scikit-image's ``astronaut`` (NASA, public domain).

The other panels open on photos copied from scikit-image's bundled data (see ``PHOTOS``), so that
the app, and the frozen bundle in particular, does not need scikit-image at run time:
:func:`load_sample_photo` reads them.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

from workbench.resources import RECTIFY_SAMPLE, RECTIFY_SAMPLE_B, resources_dir

PAGE_W, PAGE_H = 840, 1188  # A4 at ~4 px/mm
CAMERA_SIZE = (1600, 1200)


def make_poster() -> np.ndarray:
    """An A4 page: title, photo, colour chart, grid and lines of 'text' (RGB uint8)."""
    from skimage import data

    page = np.full((PAGE_H, PAGE_W, 3), 246, np.uint8)
    cv2.rectangle(page, (30, 30), (PAGE_W - 31, PAGE_H - 31), (40, 40, 40), 3)
    cv2.putText(page, "WORKBENCH", (70, 140), cv2.FONT_HERSHEY_DUPLEX, 2.6, (20, 40, 110), 5,
                cv2.LINE_AA)
    cv2.putText(page, "rectify me: drag the four corners", (72, 195),
                cv2.FONT_HERSHEY_SIMPLEX, 1.0, (60, 60, 60), 2, cv2.LINE_AA)
    photo = cv2.resize(data.astronaut(), (440, 440), interpolation=cv2.INTER_AREA)
    page[240:680, 70:510] = photo
    colours = [(220, 40, 40), (240, 150, 30), (240, 220, 40), (60, 170, 60), (40, 110, 220),
               (120, 60, 180)]
    for i, c in enumerate(colours):
        cv2.rectangle(page, (560, 240 + i * 74), (770, 300 + i * 74), c, -1)
    for x in range(70, 771, 35):  # a square grid: straight lines make the rectification visible
        cv2.line(page, (x, 720), (x, 1000), (150, 150, 150), 1, cv2.LINE_AA)
    for y in range(720, 1001, 35):
        cv2.line(page, (70, y), (770, y), (150, 150, 150), 1, cv2.LINE_AA)
    cv2.circle(page, (420, 860), 120, (200, 30, 30), 4, cv2.LINE_AA)
    rng = np.random.default_rng(7)
    for row in range(1030, 1150, 24):
        x = 70
        while x < 740:
            w = int(rng.integers(25, 90))
            cv2.line(page, (x, row), (min(x + w, 770), row), (90, 90, 90), 6)
            x += w + 14
    return page


def wood_background(size: tuple[int, int], seed: int = 3) -> np.ndarray:
    w, h = size
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    noise = cv2.GaussianBlur(rng.standard_normal((h, w)).astype(np.float32), (0, 0), 40) * 900
    fine = rng.standard_normal((h, w)).astype(np.float32)
    fine = cv2.GaussianBlur(fine, (0, 0), sigmaX=8, sigmaY=1) * 6
    grain = np.sin((y + 0.15 * x + noise) * 0.05) * 0.5 + 0.5
    grain = 0.7 * grain**3 + 0.3 * np.clip(0.5 + fine, 0, 1)
    base = np.array([130, 86, 52], np.float32)
    img = base * (0.75 + 0.35 * grain[..., None])
    img += rng.normal(0, 3, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def camera_homography(rx: float, ry: float, rz: float, distance: float, focal: float,
                      size: tuple[int, int], shift: tuple[float, float] = (0, 0)) -> np.ndarray:
    """Page pixels → camera pixels for a pinhole camera looking at the page centre."""
    ax, ay, az = np.radians([rx, ry, rz])
    rot_x = np.array([[1, 0, 0], [0, np.cos(ax), -np.sin(ax)], [0, np.sin(ax), np.cos(ax)]])
    rot_y = np.array([[np.cos(ay), 0, np.sin(ay)], [0, 1, 0], [-np.sin(ay), 0, np.cos(ay)]])
    rot_z = np.array([[np.cos(az), -np.sin(az), 0], [np.sin(az), np.cos(az), 0], [0, 0, 1]])
    rot = rot_z @ rot_y @ rot_x
    t = np.array([shift[0], shift[1], distance])
    K = np.array([[focal, 0, size[0] / 2 - 0.5], [0, focal, size[1] / 2 - 0.5], [0, 0, 1]])
    # page pixel (u, v) → plane point centred on the page, in page-pixel units
    centre = np.array([[1, 0, -(PAGE_W - 1) / 2], [0, 1, -(PAGE_H - 1) / 2], [0, 0, 1]])
    H = K @ np.column_stack([rot[:, 0], rot[:, 1], t]) @ centre
    return H / H[2, 2]


def render_view(poster: np.ndarray, H: np.ndarray, seed: int) -> np.ndarray:
    w, h = CAMERA_SIZE
    scene = wood_background(CAMERA_SIZE, seed)
    warped = cv2.warpPerspective(poster, H, (w, h), flags=cv2.INTER_AREA)
    mask = cv2.warpPerspective(np.full(poster.shape[:2], 255, np.uint8), H, (w, h),
                               flags=cv2.INTER_LINEAR).astype(np.float32)[..., None] / 255
    # soft shadow under the page, then the page, then a lighting gradient across the frame
    shadow = cv2.GaussianBlur(mask, (0, 0), 12)
    if shadow.ndim == 2:
        shadow = shadow[..., None]
    out = scene.astype(np.float32) * (1 - 0.45 * shadow)
    out = out * (1 - mask) + warped.astype(np.float32) * mask
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    light = 0.82 + 0.22 * (1 - np.hypot(xx - 0.3 * w, yy - 0.2 * h) / np.hypot(w, h))
    out *= light[..., None]
    out += np.random.default_rng(seed).normal(0, 2.0, out.shape)
    return np.clip(out, 0, 255).astype(np.uint8)


def corners_of(H: np.ndarray) -> list[list[float]]:
    page = np.array([[0, 0], [PAGE_W - 1, 0], [PAGE_W - 1, PAGE_H - 1], [0, PAGE_H - 1]],
                    np.float64)
    pts = cv2.perspectiveTransform(page[None], H)[0]
    return [[round(float(x), 2), round(float(y), 2)] for x, y in pts]


#: Sample photos: file name -> (scikit-image data function, what it is and its licence).
PHOTOS = {
    "astronaut.jpg": ("astronaut", "Eileen Collins, NASA; public domain (scikit-image data)"),
    "chelsea.jpg": ("chelsea", "Chelsea the cat, Stefan van der Walt; CC0 (scikit-image data)"),
}


def load_sample_photo(name: str) -> np.ndarray:
    """A bundled sample photo as RGB uint8; scikit-image's copy if the bundled file is missing."""
    from workbench.imaging.io import read_image

    if name not in PHOTOS:
        raise KeyError(f"no sample photo named {name!r}; known: {', '.join(PHOTOS)}")
    path = resources_dir() / "samples" / name
    if path.is_file():
        return read_image(path)
    from skimage import data

    return getattr(data, PHOTOS[name][0])()


def write_samples(out_dir: Path | None = None) -> list[Path]:
    out_dir = out_dir or resources_dir() / "samples"
    out_dir.mkdir(parents=True, exist_ok=True)
    from skimage import data

    written = []
    for name, (function, _credit) in PHOTOS.items():
        path = out_dir / name
        cv2.imwrite(str(path), cv2.cvtColor(getattr(data, function)(), cv2.COLOR_RGB2BGR),
                    [cv2.IMWRITE_JPEG_QUALITY, 95])
        written.append(path)
    poster = make_poster()
    views = [
        (RECTIFY_SAMPLE, camera_homography(40, -20, 9, 1750, 1500, CAMERA_SIZE, (40, 10)), 3),
        (RECTIFY_SAMPLE_B, camera_homography(-25, 28, -5, 1700, 1500, CAMERA_SIZE, (-30, 0)), 5),
    ]
    for name, H, seed in views:
        image = render_view(poster, H, seed)
        path = out_dir / name
        cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR),
                    [cv2.IMWRITE_JPEG_QUALITY, 88])
        meta = {
            "what": "A4 poster (210 x 297 mm) seen by a synthetic pinhole camera",
            "corners": corners_of(H),
            "corner_order": ["top-left", "top-right", "bottom-right", "bottom-left"],
            "true_aspect": 210 / 297,
            "page_to_image_H": H.tolist(),
        }
        path.with_suffix(".json").write_text(json.dumps(meta, indent=2))
        written += [path, path.with_suffix(".json")]
    return written


if __name__ == "__main__":
    for p in write_samples():
        print(p)
