"""Local binary pattern histograms (workbench.faces.texture): the codes, the cells and what a
change of light does to them."""

from __future__ import annotations

import numpy as np
import pytest
from skimage import data
from skimage.feature import local_binary_pattern

from workbench.faces.detect import FaceDetector
from workbench.faces.texture import LBP_BINS, LBP_GRID, lbp_codes, lbp_features


@pytest.fixture(scope="module")
def astronaut_crop():
    """The astronaut's aligned 112 x 92 face (a face scikit-image ships)."""
    return FaceDetector().detect(data.astronaut())[0].aligned.astype(np.float64)


def test_flat_and_spot_patterns_get_their_own_bins():
    flat = np.full((1, 9, 9), 100.0)
    spot = flat.copy()
    spot[0, 4, 4] = 200.0  # brighter than every neighbour: no neighbour is at least as bright
    pit = flat.copy()
    pit[0, 4, 4] = 10.0  # darker than all: every neighbour is
    assert (lbp_codes(flat) == lbp_codes(flat)[0, 0, 0]).all()
    assert lbp_codes(spot)[0, 4, 4] == 0
    assert lbp_codes(pit)[0, 4, 4] == lbp_codes(flat)[0, 4, 4]  # all ones, as flat
    assert lbp_codes(pit)[0, 4, 4] < LBP_BINS - 1  # a uniform pattern, not the shared bin


def test_codes_agree_with_scikit_image_up_to_the_numbering_of_bins(astronaut_crop):
    # an independent implementation of the same operator (8 neighbours, radius 2, uniform
    # patterns with a bin each): the bins correspond one to one, away from the image's edge
    ours = lbp_codes(astronaut_crop[None])[0, 3:-3, 3:-3].ravel()
    theirs = local_binary_pattern(astronaut_crop.astype(np.uint8), 8, 2,
                                  "nri_uniform").astype(int)[3:-3, 3:-3].ravel()
    table = np.zeros((LBP_BINS, LBP_BINS), int)
    np.add.at(table, (ours, theirs), 1)
    assert len(set(table.argmax(axis=1)[table.sum(axis=1) > 0])) == (table.sum(axis=1) > 0).sum()
    assert table.max(axis=1).sum() / table.sum() > 0.99  # interpolation may differ at a tie


def test_each_cell_is_a_histogram_and_the_features_have_one_per_bin(astronaut_crop):
    rows = np.stack([astronaut_crop, astronaut_crop[:, ::-1]]).reshape(2, -1)
    features = lbp_features(rows, astronaut_crop.shape)
    cells = LBP_GRID[0] * LBP_GRID[1]
    assert features.shape == (2, cells * LBP_BINS)
    shares = features.reshape(2, cells, LBP_BINS) ** 2  # the square roots of the shares
    np.testing.assert_allclose(shares.sum(axis=2), 1.0)
    assert not np.allclose(features[0], features[1])  # a mirrored face is described otherwise
    # rows are described one by one, however many come at once
    np.testing.assert_allclose(lbp_features(rows, astronaut_crop.shape, chunk=1), features)


def test_a_lamp_that_keeps_the_order_of_grey_levels_leaves_the_description_alone(astronaut_crop):
    face = astronaut_crop
    shape = face.shape
    plain = lbp_features(face.reshape(1, -1), shape)[0]
    # a gain (exact in floating point at a power of two) changes nothing at all
    np.testing.assert_array_equal(lbp_features((face * 0.5).reshape(1, -1), shape)[0], plain)
    # a gamma keeps the order of every pixel's grey levels: only interpolated neighbours move
    brighter = 255.0 * (face / 255.0) ** 0.5
    assert np.corrcoef(plain, lbp_features(brighter.reshape(1, -1), shape)[0])[0, 1] > 0.98
    # a lamp to one side (the dark half at 35 % of its light) moves the grey levels much more
    # than the description (measured 0.90 against 0.76)
    columns = np.arange(shape[1])
    lit = face * (0.35 + 0.65 / (1 + np.exp(-(columns - shape[1] / 2) / 6)))[None, :]
    texture = np.corrcoef(plain, lbp_features(lit.reshape(1, -1), shape)[0])[0, 1]
    grey = np.corrcoef(face.ravel(), lit.ravel())[0, 1]
    assert texture > grey + 0.1


def test_another_face_is_described_farther_away_than_the_same_face_relit(astronaut_crop):
    from workbench.faces.stress import relight

    face = astronaut_crop.astype(np.uint8)
    shape = face.shape
    relit = relight(face, (0, 0, shape[1], shape[0]), 1).astype(np.float64)
    other = data.camera()[60:60 + shape[0], 200:200 + shape[1]].astype(np.float64)
    plain, lit, stranger = lbp_features(
        np.stack([face, relit, other]).reshape(3, -1).astype(np.float64), shape)
    assert np.linalg.norm(plain - lit) < 0.7 * np.linalg.norm(plain - stranger)
