"""Synthetic document photos with known corners, for the corner finder's tests and benchmark.

Rendered as the Rectify sample is (:mod:`workbench.samples`): a page seen by a pinhole camera,
lying on a textured desk, with a soft shadow, uneven light, clutter beside it, sensor noise and
JPEG compression; some pages run off the frame so that one corner lies outside the photo.
Everything is drawn from a seed, so a failing case can be reproduced; nothing is stored on disk.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from workbench.samples import camera_homography, wood_background

PAGE = (630, 891)  # A4 at 3 px/mm


@dataclass
class PagePhoto:
    image: np.ndarray  # RGB uint8
    corners: np.ndarray  # (4, 2) TL, TR, BR, BL in photo pixels (may lie outside it)
    cut_off: bool  # a corner lies outside the photo
    seed: int


def _page(rng: np.random.Generator) -> np.ndarray:
    w, h = PAGE
    tint = rng.integers(215, 250)
    page = np.full((h, w, 3), tint, np.uint8)
    page[..., 2] = np.clip(int(tint) - rng.integers(0, 12), 0, 255)  # slightly warm paper
    margin = int(rng.integers(40, 80))
    y = margin
    kind = int(rng.integers(3))
    if kind == 0:  # a letter: a title and lines of text
        cv2.rectangle(page, (margin, y), (w - margin - int(rng.integers(0, 200)), y + 40),
                      (30, 30, 30), -1)
        y += 80
    elif kind == 1:  # a printed table
        x0, x1 = margin, w - margin
        rows = int(rng.integers(5, 12))
        for r in range(rows + 1):
            cv2.line(page, (x0, y + 30 * r), (x1, y + 30 * r), (60, 60, 60), 2)
        for c in np.linspace(x0, x1, int(rng.integers(3, 6))):
            cv2.line(page, (int(c), y), (int(c), y + 30 * rows), (60, 60, 60), 2)
        y += 30 * rows + 40
    else:  # a picture
        ph = int(rng.integers(150, 300))
        pic = rng.integers(0, 255, (8, 8, 3)).astype(np.uint8)
        page[y:y + ph, margin:w - margin] = cv2.resize(pic, (w - 2 * margin, ph),
                                                        interpolation=cv2.INTER_CUBIC)
        y += ph + 30
    while y < h - margin:
        x = margin
        while x < w - margin - 20:
            word = int(rng.integers(15, 70))
            cv2.line(page, (x, y), (min(x + word, w - margin), y), (70, 70, 70), 4)
            x += word + 10
        y += int(rng.integers(18, 26))
    return page


def _desk(size: tuple[int, int], rng: np.random.Generator, seed: int) -> np.ndarray:
    w, h = size
    kind = int(rng.integers(3))
    if kind == 0:
        return wood_background(size, seed)
    if kind == 1:  # a mottled fabric or stone
        base = rng.integers(40, 200, 3).astype(np.float32)
        noise = cv2.GaussianBlur(rng.standard_normal((h, w)).astype(np.float32), (0, 0), 3)
        img = base * (1 + 0.25 * noise[..., None])
        return np.clip(img, 0, 255).astype(np.uint8)
    # tiles with grout lines
    img = np.empty((h, w, 3), np.uint8)
    img[:] = rng.integers(60, 220, 3)
    step = int(rng.integers(60, 160))
    for x in range(int(rng.integers(step)), w, step):
        cv2.line(img, (x, 0), (x, h), (90, 90, 90), 3)
    for y in range(int(rng.integers(step)), h, step):
        cv2.line(img, (0, y), (w, y), (90, 90, 90), 3)
    return img


def page_photo(seed: int, size: tuple[int, int] = (1024, 768)) -> PagePhoto:
    """One synthetic photo of a page (see the module docstring)."""
    rng = np.random.default_rng(seed)
    w, h = size
    scene = _desk(size, rng, seed).astype(np.float32)
    # clutter: a few objects (pens, a phone, a mug seen from above) on the desk
    for _ in range(int(rng.integers(0, 4))):
        colour = tuple(int(c) for c in rng.integers(0, 255, 3))
        if rng.random() < 0.5:
            centre = (int(rng.integers(w)), int(rng.integers(h)))
            cv2.circle(scene, centre, int(rng.integers(20, 80)), colour, -1, cv2.LINE_AA)
        else:
            p = rng.integers(0, [w, h], (2, 2))
            cv2.line(scene, tuple(int(v) for v in p[0]), tuple(int(v) for v in p[1]), colour,
                     int(rng.integers(4, 14)), cv2.LINE_AA)
    cut_off = rng.random() < 0.3
    pw, ph = PAGE
    focal = 1.2 * w
    distance = float(rng.uniform(1.5, 2.3)) * focal * ph / h
    shift = rng.uniform(-0.06, 0.06, 2) * distance
    H = camera_homography(float(rng.uniform(-35, 35)), float(rng.uniform(-30, 30)),
                          float(rng.uniform(-25, 25)), distance, focal, size,
                          (float(shift[0]), float(shift[1])))
    # camera_homography centres the sample's page; scale ours onto it
    from workbench.samples import PAGE_H, PAGE_W

    S = np.diag([PAGE_W / pw, PAGE_H / ph, 1.0])
    H = H @ S
    if cut_off:  # slide the page towards a side of the frame until one corner leaves it
        corners = cv2.perspectiveTransform(
            np.array([[[0, 0], [pw - 1, 0], [pw - 1, ph - 1], [0, ph - 1]]], np.float64), H)[0]
        axis, side = int(rng.integers(2)), int(rng.integers(2))
        limit = (w, h)[axis]
        depth = float(rng.uniform(0.02, 0.07)) * limit
        move = np.zeros(2)
        if side == 0:
            move[axis] = -corners[:, axis].min() - depth
        else:
            move[axis] = limit + depth - corners[:, axis].max()
        H = np.array([[1, 0, move[0]], [0, 1, move[1]], [0, 0, 1]]) @ H
    page = _page(rng)
    warped = cv2.warpPerspective(page, H, size, flags=cv2.INTER_AREA).astype(np.float32)
    mask = cv2.warpPerspective(np.full(page.shape[:2], 255, np.uint8), H, size,
                               flags=cv2.INTER_LINEAR).astype(np.float32)[..., None] / 255
    offset = np.float32([[1, 0, rng.uniform(-8, 8)], [0, 1, rng.uniform(2, 12)]])
    shadow = cv2.warpAffine(cv2.GaussianBlur(mask, (0, 0), 10), offset, size)[..., None]
    out = scene * (1 - 0.5 * shadow)
    out = out * (1 - mask) + warped * mask
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    lx, ly = rng.uniform(0, w), rng.uniform(0, h)
    light = 0.75 + 0.3 * (1 - np.hypot(xx - lx, yy - ly) / np.hypot(w, h))
    if rng.random() < 0.4:  # a hand's or a phone's shadow across part of the page
        a, b = rng.uniform(-1, 1), rng.uniform(0, h)
        light *= np.where(yy > a * xx + b, 0.7, 1.0).astype(np.float32)
        light = cv2.GaussianBlur(light, (0, 0), 6)
    out *= light[..., None]
    out += rng.normal(0, 3.0, out.shape)
    out = np.clip(out, 0, 255).astype(np.uint8)
    ok, jpg = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(70, 95))])
    out = cv2.imdecode(jpg, cv2.IMREAD_UNCHANGED)
    corners = cv2.perspectiveTransform(
        np.array([[[0, 0], [pw - 1, 0], [pw - 1, ph - 1], [0, ph - 1]]], np.float64), H)[0]
    outside = bool(np.any((corners < -0.5) | (corners > np.array([w, h]) - 0.5)))
    return PagePhoto(out, corners, outside, seed)
