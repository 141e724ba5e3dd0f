"""A tiny colorizer training set-up for the training tests: generated photos and a config
that trains in seconds (random encoder weights, torch encoder, one thread)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def make_photos(folder: Path, n: int, seed: int) -> None:
    """``n`` 64 x 48 photos: sky over grass with a random-coloured square."""
    import cv2

    folder.mkdir()
    rng = np.random.default_rng(seed)
    for i in range(n):
        img = np.zeros((48, 64, 3), np.uint8)
        img[:24] = (70, 130, 220)  # sky
        img[24:] = (60, 150, 50)  # grass
        x = int(rng.integers(0, 40))
        img[20:40, x:x + 20] = rng.integers(0, 255, 3)
        cv2.imwrite(str(folder / f"synth_{i:02d}.png"), img[..., ::-1])


def tiny_config(tmp_path: Path, *, train_photos: int, work: str = "work", **overrides):
    """Make ``train_photos`` training and 2 validation photos under ``tmp_path`` and return a
    :class:`TrainConfig` for them (64 px, batch = the number of photos; ``overrides`` win)."""
    from workbench.colorize.training.train import TrainConfig

    make_photos(tmp_path / "train", train_photos, 0)
    make_photos(tmp_path / "val", 2, 1)
    settings = dict(data=str(tmp_path / "train"), val=str(tmp_path / "val"),
                    out=str(tmp_path / "m.onnx"), work_dir=str(tmp_path / work),
                    cache_dir=str(tmp_path / "cache"), size=64, width=16, batch=train_photos,
                    minutes=5, warmup_steps=1, default_views=2, val_every_min=100,
                    pretrained=False, onnx_encoder=False, threads=1)
    settings.update(overrides)
    return TrainConfig(**settings)
