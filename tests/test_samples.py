"""The bundled sample photos: the panels open on them without scikit-image at run time."""

from __future__ import annotations

import numpy as np
import pytest
from skimage import data

from workbench.samples import PHOTOS, load_sample_photo


@pytest.mark.parametrize("name", sorted(PHOTOS))
def test_bundled_sample_photo_is_scikit_images_photo(name):
    photo = load_sample_photo(name)
    original = getattr(data, PHOTOS[name][0])()
    assert photo.shape == original.shape and photo.dtype == np.uint8
    assert np.abs(photo.astype(int) - original).mean() < 3  # JPEG quality 95


def test_missing_bundled_photo_falls_back_to_scikit_image(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_RESOURCES", str(tmp_path))
    assert np.array_equal(load_sample_photo("chelsea.jpg"), data.chelsea())


def test_unknown_sample_photo_is_named_in_the_error():
    with pytest.raises(KeyError, match="astronaut.jpg"):
        load_sample_photo("nope.jpg")
