"""Tests for workbench.imaging.color: sRGB <-> Lab, ab bins, soft encoding, rebalancing, decoding.

Oracles: textbook values and hand computations from the definitions (IEC 61966-2-1, CIE 1976
L*a*b*, Zhang, Isola & Efros 2016); scikit-image's rgb2lab for agreement (its matrix is
rounded, so agreement is to ~0.02).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from skimage.color import rgb2lab

from workbench.colorize.bins import (
    ab_gamut_bins,
    annealed_mean,
    bin_counts,
    distribution_entropy,
    empirical_distribution,
    nearest_bin,
    rebalancing_weights,
    smooth_distribution,
    soft_encode,
)
from workbench.errors import WorkbenchError
from workbench.imaging.color import (
    D65_WHITE,
    ColorInputError,
    lab_to_rgb,
    lightness,
    lightness_ab_to_rgb,
    linear_to_srgb,
    rgb_to_lab,
    srgb_to_linear,
)

RNG = np.random.default_rng(1234)


def _hand_lightness(code: float) -> float:
    """L* of a grey sRGB code in 0..1, straight from the two standards."""
    linear = code / 12.92 if code <= 0.04045 else ((code + 0.055) / 1.055) ** 2.4
    f = linear ** (1 / 3) if linear > (6 / 29) ** 3 else linear / (3 * (6 / 29) ** 2) + 4 / 29
    return 116 * f - 16


# --------------------------------------------------------------------------------------------
# Lab


def test_known_lightness():
    assert lightness(np.array([[255]], np.uint8))[0, 0] == pytest.approx(100.0, abs=1e-4)
    assert lightness(np.array([[0]], np.uint8))[0, 0] == pytest.approx(0.0, abs=1e-4)
    mid = lightness(np.full((2, 2), 0.5, np.float32))
    assert mid[0, 0] == pytest.approx(53.3889, abs=1e-3)  # 116 * 0.214041^(1/3) - 16
    mid_u8 = lightness(np.array([[128]], np.uint8))[0, 0]
    assert mid_u8 == pytest.approx(_hand_lightness(128 / 255), abs=1e-4)
    assert lightness(np.array([[65535]], np.uint16))[0, 0] == pytest.approx(100.0, abs=1e-4)
    dark = 3 / 255  # below the sRGB knee and the Lab knee: the linear parts
    dark_l = lightness(np.array([[3]], np.uint8))[0, 0]
    assert dark_l == pytest.approx(_hand_lightness(dark), abs=1e-4)


def test_white_point_and_greys_have_no_chroma():
    assert D65_WHITE == pytest.approx([0.95047, 1.0, 1.08883], abs=3e-4)
    greys = np.repeat(np.arange(256, dtype=np.uint8)[:, None], 3, axis=1)
    lab = rgb_to_lab(greys)
    assert np.abs(lab[:, 1:]).max() < 1e-3
    assert lab[:, 0] == pytest.approx([_hand_lightness(v / 255) for v in range(256)], abs=2e-4)


def test_primaries_match_textbook_values():
    lab = rgb_to_lab(np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255]], np.uint8))
    expected = [[53.24, 80.09, 67.20], [87.73, -86.18, 83.18], [32.30, 79.19, -107.86]]
    assert lab == pytest.approx(np.array(expected), abs=0.02)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32, np.float64])
def test_rgb_to_lab_agrees_with_skimage(dtype):
    if dtype == np.uint8:
        rgb = RNG.integers(0, 256, (64, 48, 3), dtype=np.uint8)
        unit = rgb / 255.0
    elif dtype == np.uint16:
        rgb = RNG.integers(0, 65536, (64, 48, 3), dtype=np.uint16)
        unit = rgb / 65535.0
    else:
        rgb = RNG.random((64, 48, 3)).astype(dtype)
        unit = rgb.astype(np.float64)
    ours = rgb_to_lab(rgb)
    assert ours.dtype == np.float32 and ours.shape == rgb.shape
    assert np.abs(ours - rgb2lab(unit)).max() < 0.02


def test_round_trip_of_8bit_colours_is_exact():
    rgb = RNG.integers(0, 256, (300, 500, 3), dtype=np.uint8)
    assert np.array_equal(lab_to_rgb(rgb_to_lab(rgb)), rgb)
    back = lab_to_rgb(rgb_to_lab(rgb), dtype=np.float32)
    assert np.abs(back - rgb / 255.0).max() < 1e-4


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 255), min_size=3, max_size=3))
def test_round_trip_single_colour(colour):
    rgb = np.array(colour, np.uint8)
    assert np.array_equal(lab_to_rgb(rgb_to_lab(rgb)), rgb)


def test_tiny_and_odd_shapes():
    assert rgb_to_lab(np.array([255, 255, 255], np.uint8)) == pytest.approx([100, 0, 0], abs=1e-3)
    assert lab_to_rgb(np.array([53.389, 0, 0], np.float32)).tolist() == [128, 128, 128]
    three = rgb_to_lab(np.array([[10, 20, 30], [40, 50, 60], [70, 80, 90]], np.uint8))
    assert np.array_equal(lab_to_rgb(three), [[10, 20, 30], [40, 50, 60], [70, 80, 90]])
    assert lightness(np.zeros((1, 1, 3), np.uint8)).shape == (1, 1)
    assert lightness(np.zeros((5, 1), np.uint8)).shape == (5, 1)
    row = lightness_ab_to_rgb(np.full((1, 7), 50, np.float32), np.zeros((1, 7, 2), np.float32))
    assert row.shape == (1, 7, 3)


def test_lightness_of_colour_equals_lab_l_and_ignores_alpha():
    rgb = RNG.integers(0, 256, (40, 30, 3), dtype=np.uint8)
    rgba = np.dstack([rgb, RNG.integers(0, 256, (40, 30), dtype=np.uint8)])
    expected = rgb_to_lab(rgb)[..., 0]
    assert lightness(rgb) == pytest.approx(expected, abs=1e-4)
    assert lightness(rgba) == pytest.approx(expected, abs=1e-4)
    grey16 = RNG.integers(0, 65536, (10, 10), dtype=np.uint16)
    assert lightness(grey16) == pytest.approx(lightness(grey16 / 65535.0), abs=1e-3)
    assert lightness(grey16[..., None]) == pytest.approx(lightness(grey16), abs=1e-6)


def test_float_input_is_clipped_and_nan_safe():
    values = np.array([[-0.5, 0.0, 1.0, 2.0, np.nan]], np.float32)
    assert lightness(values)[0] == pytest.approx([0, 0, 100, 100, 0], abs=1e-3)
    assert values[0, 0] == -0.5  # the input is not modified


def test_srgb_curve_both_ways():
    codes = np.linspace(0, 1, 1001, dtype=np.float32)
    linear = srgb_to_linear(codes)
    exact = np.where(codes <= 0.04045, codes / 12.92, ((codes + 0.055) / 1.055) ** 2.4)
    assert linear == pytest.approx(exact, abs=2e-6)
    assert linear_to_srgb(linear) == pytest.approx(codes, abs=2e-6)
    assert np.array_equal(linear_to_srgb(srgb_to_linear(np.arange(256, dtype=np.uint8)), np.uint8),
                          np.arange(256))


def test_out_of_gamut_colours_keep_their_lightness():
    lab = np.stack([
        RNG.uniform(0, 100, (200, 300)), RNG.uniform(-128, 128, (200, 300)),
        RNG.uniform(-128, 128, (200, 300)),
    ], axis=-1).astype(np.float32)
    rgb = lab_to_rgb(lab)
    # uint8 rounding moves L by at most ~0.25 (steepest near black: 1 level = 0.27 L)
    assert np.abs(lightness(rgb) - lab[..., 0]).max() < 0.3
    exact = lab_to_rgb(lab, dtype=np.float32)
    assert exact.min() >= 0 and exact.max() <= 1
    assert np.abs(lightness(exact) - lab[..., 0]).max() < 1e-2
    clipped = lab_to_rgb(lab, gamut="clip")
    assert np.abs(lightness(clipped) - lab[..., 0]).max() > 5  # what keep-lightness avoids
    in_gamut = rgb_to_lab(RNG.integers(0, 256, (50, 50, 3), dtype=np.uint8))
    assert np.array_equal(lab_to_rgb(in_gamut), lab_to_rgb(in_gamut, gamut="clip"))


def test_keep_lightness_lands_on_the_gamut_boundary():
    # at L = 30, a = 0 the bluest sRGB colour has b = -33.0 (found by bisection with "clip");
    # for a = 0 the move towards grey in linear RGB stays on a = 0, so it ends exactly there
    out = rgb_to_lab(lab_to_rgb(np.array([30.0, 0.0, -150.0], np.float32), dtype=np.float32))
    assert out == pytest.approx([30.0, 0.0, -33.0], abs=0.05)
    red = rgb_to_lab(lab_to_rgb(np.array([60.0, 150.0, 0.0], np.float32)))
    assert red[0] == pytest.approx(60.0, abs=0.3)
    assert red[1] > 40 and abs(red[2]) < red[1]  # still clearly red


def test_lab_to_rgb_clips_lightness_and_leaves_input_alone():
    lab = np.array([[120.0, 0.0, 0.0], [-5.0, 0.0, 0.0]], np.float32)
    assert lab_to_rgb(lab).tolist() == [[255, 255, 255], [0, 0, 0]]
    assert lab[0, 0] == 120.0


def test_bad_inputs_raise_workbench_errors():
    with pytest.raises(ColorInputError, match="channels"):
        rgb_to_lab(np.zeros((4, 4, 2), np.uint8))
    with pytest.raises(ColorInputError, match="dtype"):
        rgb_to_lab(np.zeros((4, 4, 3), np.int32))
    with pytest.raises(ColorInputError):
        lightness(np.zeros((4, 4, 2), np.uint8))
    with pytest.raises(ColorInputError, match="empty"):
        rgb_to_lab(np.zeros((0, 3), np.uint8))
    with pytest.raises(ColorInputError, match="same H, W"):
        lightness_ab_to_rgb(np.zeros((4, 4), np.float32), np.zeros((4, 5, 2), np.float32))
    assert issubclass(ColorInputError, WorkbenchError)


# --------------------------------------------------------------------------------------------
# Bins


def test_gamut_bins_count_and_lattice():
    centres = ab_gamut_bins()
    assert centres.shape == (261, 2) and centres.dtype == np.float32
    assert np.all(centres % 10 == 0)
    assert [0.0, 0.0] in centres.tolist()
    assert centres[:, 0].min() == -90 and centres[:, 0].max() == 100
    assert centres[:, 1].min() == -110 and centres[:, 1].max() == 90
    assert not centres.flags.writeable
    assert ab_gamut_bins(10) is centres  # cached


def test_gamut_bins_hold_every_colour_and_only_reachable_bins():
    # an independent path: all 8-bit colours at a 1/5 subsample through rgb_to_lab (float32),
    # binned by rounding; every bin they hit must be kept ...
    levels = np.arange(0, 256, 5, dtype=np.uint8)
    cube = np.stack(np.meshgrid(levels, levels, levels, indexing="ij"), -1).reshape(-1, 3)
    cube = np.concatenate([cube, np.array([[255, 0, 0], [0, 0, 255], [255, 255, 0]], np.uint8)])
    ab = rgb_to_lab(cube)[:, 1:]
    hit = {tuple(v) for v in (np.floor(ab / 10 + 0.5) * 10).tolist()}
    kept = {tuple(v) for v in ab_gamut_bins().tolist()}
    # float32 vs float64 may move a colour sitting on a bin edge: allow a handful
    assert len(hit - kept) <= 2
    # ... and the sampled colours already reach almost all kept bins (the rest are slivers)
    assert len(kept - hit) < 30


def test_gamut_bin_table_matches_the_computation():
    from workbench.colorize.bins import _gamut_bins

    computed = _gamut_bins(10.0)  # all 256^3 colours, ~1-2 s
    assert np.array_equal(computed, ab_gamut_bins(10))


def test_nearest_bin_and_counts():
    centres = np.array([[0, 0], [10, 0], [0, 10]], np.float32)
    ab = np.array([[1, 1], [9, 1], [2, 7], [6, 0]], np.float32)
    assert nearest_bin(ab, centres).tolist() == [0, 1, 2, 1]
    assert bin_counts(ab, centres).tolist() == [1, 2, 1]
    p = empirical_distribution([ab, ab[:1]], centres)
    assert p == pytest.approx([2 / 5, 2 / 5, 1 / 5])


def test_soft_encoding_hand_case():
    centres = ab_gamut_bins()
    enc = soft_encode(np.array([[20.0, -30.0]]), centres, k=5, sigma=5)
    assert enc.weights.sum() == pytest.approx(1.0, abs=1e-6)
    # at a bin centre: itself (d = 0) and its four lattice neighbours (d = 10)
    e2 = math.exp(-100 / 50)
    assert enc.weights[0, 0] == pytest.approx(1 / (1 + 4 * e2), abs=1e-5)
    assert enc.weights[0, 1:] == pytest.approx([e2 / (1 + 4 * e2)] * 4, abs=1e-5)
    assert centres[enc.indices[0, 0]].tolist() == [20.0, -30.0]
    neighbours = {tuple(centres[i]) for i in enc.indices[0, 1:]}
    assert neighbours == {(10.0, -30.0), (30.0, -30.0), (20.0, -40.0), (20.0, -20.0)}


def test_soft_encoding_batch_layout_and_far_values():
    ab = RNG.uniform(-60, 60, (2, 8, 6, 2)).astype(np.float32)
    ab[0, 0, 0] = [1000.0, 1000.0]  # far outside every bin: still a distribution
    enc = soft_encode(ab)
    assert enc.indices.shape == (2, 8, 6, 5) and enc.weights.shape == (2, 8, 6, 5)
    assert np.allclose(enc.weights.sum(-1), 1, atol=1e-5) and np.all(np.isfinite(enc.weights))
    assert np.all(enc.weights[..., 0] >= enc.weights[..., 1])  # nearest has the most
    assert np.array_equal(enc.indices[..., 0], nearest_bin(ab))
    dense = enc.to_dense(axis=1)
    assert dense.shape == (2, 261, 8, 6)
    assert np.allclose(dense.sum(axis=1), 1, atol=1e-5)
    assert np.array_equal(dense.argmax(axis=1), enc.indices[..., 0])


def test_soft_encoding_rejects_bad_k():
    with pytest.raises(ColorInputError, match="k must be"):
        soft_encode(np.zeros((1, 2)), np.zeros((3, 2)), k=4)


# --------------------------------------------------------------------------------------------
# Rebalancing


def test_rebalancing_weights_hand_case():
    p = np.array([0.7, 0.2, 0.1])
    w = rebalancing_weights(p, lam=0.5, sigma=0, centres=[[0, 0], [10, 0], [20, 0]])
    raw = 1 / (0.5 * p + 0.5 / 3)
    assert w == pytest.approx(raw / np.dot(p, raw))
    assert np.dot(p, w) == pytest.approx(1.0)
    assert w[2] > w[1] > w[0]  # rare colours weigh more


def test_rebalancing_weights_expectation_and_limits():
    centres = ab_gamut_bins()
    p = RNG.dirichlet(np.full(len(centres), 0.05))
    w = rebalancing_weights(p)  # lam 0.5, sigma 5, default centres
    assert np.dot(p, w) == pytest.approx(1.0)
    assert np.all(w > 0)
    assert rebalancing_weights(p, lam=1.0) == pytest.approx(np.ones(len(p)))
    uniform = np.full(len(centres), 1 / len(centres))
    assert rebalancing_weights(uniform, lam=0.3, sigma=0) == pytest.approx(np.ones(len(p)))


def test_smoothing_conserves_mass_and_spreads():
    centres = ab_gamut_bins()
    p = np.zeros(len(centres))
    p[nearest_bin(np.array([0.0, 0.0]))] = 1.0
    smoothed = smooth_distribution(p, centres, sigma=5)
    assert smoothed.sum() == pytest.approx(1.0)
    # the bin spreads its mass over its lattice neighbours in proportion to exp(-d^2 / 50):
    # itself 1, four at d = 10 e^-2, four at d = 14.1 e^-4, then e^-8 and less
    rings = [1.0, math.exp(-2), math.exp(-4)]
    norm = sum(np.exp(-((centres - [0.0, 0.0]) ** 2).sum(1) / 50.0))
    assert smoothed.max() == pytest.approx(rings[0] / norm, rel=1e-5)
    assert sorted(smoothed)[-5] == pytest.approx(rings[1] / norm, rel=1e-5)
    assert sorted(smoothed)[-9] == pytest.approx(rings[2] / norm, rel=1e-5)
    assert (smoothed > 1e-3).sum() == 9
    assert smooth_distribution(p, centres, sigma=0) == pytest.approx(p)


def test_rebalancing_needs_matching_centres():
    with pytest.raises(ColorInputError, match="pass the centres"):
        rebalancing_weights([0.5, 0.5])
    with pytest.raises(ColorInputError, match="lam"):
        rebalancing_weights([0.5, 0.5], lam=2, centres=[[0, 0], [10, 0]])


# --------------------------------------------------------------------------------------------
# Annealed mean and entropy


CENTRES = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])


def test_annealed_mean_at_one_is_the_mean():
    p = [0.2, 0.5, 0.3]
    assert annealed_mean(p, CENTRES, temperature=1.0) == pytest.approx([5.0, 3.0])


def test_annealed_mean_towards_zero_is_the_mode():
    p = [0.2, 0.5, 0.3]
    assert annealed_mean(p, CENTRES, temperature=0.0).tolist() == [10.0, 0.0]
    assert annealed_mean(p, CENTRES, temperature=1e-3) == pytest.approx([10.0, 0.0], abs=1e-6)
    # ties at T = 0 share
    assert annealed_mean([0.4, 0.4, 0.2], CENTRES, temperature=0).tolist() == [5.0, 0.0]


def test_annealed_mean_at_paper_temperature_by_hand():
    p = np.array([0.2, 0.5, 0.3])
    sharpened = p ** (1 / 0.38) / np.sum(p ** (1 / 0.38))
    expected = sharpened @ CENTRES
    assert annealed_mean(p, CENTRES) == pytest.approx(expected, abs=1e-5)  # default T = 0.38
    # the same from logits, and from unnormalised probabilities
    logits = np.log(p) + 7.0
    assert annealed_mean(logits, CENTRES, 0.38, logits=True) == pytest.approx(expected, abs=1e-5)
    assert annealed_mean(p * 3, CENTRES, 0.38) == pytest.approx(expected, abs=1e-5)


def test_annealed_mean_axis_and_stability():
    logits = RNG.normal(0, 1, (2, 3, 4, 5)).astype(np.float32) * 1e4  # huge: naive exp overflows
    ab = annealed_mean(logits, CENTRES, 0.38, axis=1, logits=True)
    assert ab.shape == (2, 2, 4, 5) and np.all(np.isfinite(ab))
    mode = CENTRES[logits.argmax(axis=1)]  # (2, 4, 5, 2)
    assert np.moveaxis(ab, 1, -1) == pytest.approx(mode, abs=1e-3)
    last = annealed_mean(np.moveaxis(logits, 1, -1), CENTRES, 0.38, logits=True)
    assert last == pytest.approx(np.moveaxis(ab, 1, -1), abs=1e-3)
    zeros = annealed_mean([0.0, 1.0, 0.0], CENTRES, 0.38)  # log 0 handled
    assert zeros.tolist() == [10.0, 0.0]


def test_annealed_mean_rejects_mismatch_and_negative_temperature():
    with pytest.raises(ColorInputError, match="bins"):
        annealed_mean([0.5, 0.5], CENTRES)
    with pytest.raises(ColorInputError, match="temperature"):
        annealed_mean([0.2, 0.5, 0.3], CENTRES, temperature=-1)


def test_entropy():
    q = 7
    assert distribution_entropy(np.full(q, 1 / q)) == pytest.approx(math.log(q), abs=1e-5)
    assert distribution_entropy(np.full(q, 1 / q), normalize=True) == pytest.approx(1.0, abs=1e-6)
    one_hot = np.eye(q)[2]
    assert distribution_entropy(one_hot) == pytest.approx(0.0, abs=1e-4)
    p = np.array([0.2, 0.5, 0.3])
    hand = -np.sum(p * np.log(p))
    assert distribution_entropy(p) == pytest.approx(hand, abs=1e-5)
    assert distribution_entropy(np.log(p) - 3, logits=True) == pytest.approx(hand, abs=1e-5)
    maps = distribution_entropy(RNG.normal(size=(1, q, 4, 6)), axis=1, logits=True, normalize=True)
    assert maps.shape == (1, 4, 6) and maps.min() >= 0 and maps.max() <= 1
