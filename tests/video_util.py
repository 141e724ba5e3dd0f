"""A generated video file: the stand-in camera for tests (no test needs a real camera)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from workbench.imaging.video import VideoRecorder


def write_test_video(path: str | os.PathLike, frames: int = 30, size: tuple[int, int] = (160, 120),
                     fps: float = 25.0) -> Path:
    """A small synthetic video (moving colour bars and a disc): the stand-in camera for tests."""
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w]
    with VideoRecorder(path, fps) as rec:
        for i in range(frames):
            frame = np.zeros((h, w, 3), np.uint8)
            frame[..., 0] = (xx * 255 // max(w - 1, 1) + 8 * i) % 256
            frame[..., 1] = yy * 255 // max(h - 1, 1)
            frame[..., 2] = 128
            cx, cy = (w // 4 + 3 * i) % w, h // 2
            frame[(xx - cx) ** 2 + (yy - cy) ** 2 < (min(w, h) // 6) ** 2] = (250, 250, 250)
            rec.write(frame)
    return Path(path)
