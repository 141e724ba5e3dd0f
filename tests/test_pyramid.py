"""Tests for workbench.pyramid.levels: kernel, Gaussian/Laplacian/DoG pyramids, blend, display.

References used as oracles: cv2.pyrDown (sizes, borders, the classic kernel), scipy.ndimage
(``mode="mirror"`` is reflect-101) for the exact definition of REDUCE and EXPAND, scipy.stats for
the integrated taps, cv2.getGaussianKernel for the large-sigma limit, skimage for agreement.
"""

from __future__ import annotations

import math
import shutil
import sysconfig

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.ndimage import correlate1d, shift
from scipy.optimize import minimize_scalar
from scipy.stats import norm
from skimage import data
from skimage.transform import pyramid_gaussian

import workbench.pyramid.levels as pyramid_module
from workbench.errors import WorkbenchError
from workbench.pyramid.blend import blend
from workbench.pyramid.levels import (
    BURT_ADELSON_TAPS,
    DEFAULT_SIGMA,
    LaplacianPyramid,
    PyramidInputError,
    dog_pyramid,
    gaussian_kernel,
    gaussian_kernel_1d,
    gaussian_pyramid,
    laplacian_pyramid,
    level_stats,
    max_levels,
    pyramid_expand,
    pyramid_mosaic,
    pyramid_reduce,
    pyramid_shapes,
    reconstruct_from_laplacian,
    upsample_to,
)

# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------


def _filter_reference(image: np.ndarray, taps: np.ndarray) -> np.ndarray:
    """Separable correlation in float64 with reflect-101 borders (scipy's "mirror")."""
    out = correlate1d(image.astype(np.float64), taps, axis=0, mode="mirror")
    return correlate1d(out, taps, axis=1, mode="mirror")


def _reduce_reference(image: np.ndarray, taps: np.ndarray) -> np.ndarray:
    return _filter_reference(image, taps)[::2, ::2]


def _expand_reference(coarse: np.ndarray, shape: tuple[int, int], taps: np.ndarray) -> np.ndarray:
    """Zero insertion on the fine grid, then the kernel with each polyphase part summing to 1."""
    offsets = np.arange(taps.size) - taps.size // 2
    even = offsets % 2 == 0
    up = taps.copy()
    up[even] /= taps[even].sum()
    up[~even] /= taps[~even].sum()
    grid = np.zeros(shape + coarse.shape[2:])
    grid[::2, ::2] = coarse
    for axis in (0, 1):
        if shape[axis] > 1:  # a 1-sample axis has nothing to fill in
            grid = correlate1d(grid, up, axis=axis, mode="mirror")
    return grid


def _pyrdown_levels(image: np.ndarray) -> list[np.ndarray]:
    levels = [image]
    while levels[-1].shape[:2] != (1, 1):
        levels.append(cv2.pyrDown(levels[-1]))
    return levels


def _odd_crops() -> dict[str, np.ndarray]:
    return {
        "gray": data.camera()[:301, :257],
        "rgb": data.astronaut()[:301, :257],
        "rgba": data.logo()[:255, :199],
    }


# ---------------------------------------------------------------------------------------------
# kernel
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [1, 3, 5, 7, 11, 31])
@pytest.mark.parametrize("sigma", [0.3, DEFAULT_SIGMA, 2.5, 10.0])
def test_kernel_1d_sums_to_one_is_symmetric_and_peaked(size: int, sigma: float) -> None:
    taps = gaussian_kernel_1d(size, sigma)
    assert taps.shape == (size,)
    assert abs(math.fsum(taps) - 1.0) <= 1e-12
    assert abs(taps.sum() - 1.0) <= 1e-12
    np.testing.assert_array_equal(taps, taps[::-1])
    half = taps[: size // 2 + 1]
    assert np.all(taps >= 0) and np.all(np.diff(half) >= 0)  # far tails may underflow to 0
    assert taps[size // 2] == taps.max() > 0


def test_kernel_1d_taps_are_normal_cdf_differences() -> None:
    sigma, size = 1.3, 7
    edges = np.arange(-size // 2 + 1, size // 2 + 2) - 0.5  # -3.5 .. 3.5
    mass = np.diff(norm.cdf(edges / sigma))
    np.testing.assert_allclose(gaussian_kernel_1d(size, sigma), mass / mass.sum(), rtol=1e-12)


def test_kernel_2d_is_normalised_outer_product() -> None:
    kernel = gaussian_kernel(7, 1.6)
    taps = gaussian_kernel_1d(7, 1.6)
    np.testing.assert_allclose(kernel, np.outer(taps, taps), rtol=0, atol=0)
    assert abs(kernel.sum() - 1.0) <= 1e-12
    np.testing.assert_array_equal(kernel, kernel.T)
    np.testing.assert_array_equal(kernel, kernel[::-1, ::-1])


def test_integrated_taps_approach_sampled_gaussian_as_sigma_grows() -> None:
    # Integrating over a pixel adds relative error ~ (x^2/sigma^2 - 1) / (24 sigma^2): it must
    # shrink steadily towards cv2's point-sampled kernel.
    errors = []
    for sigma in (0.75, 1.5, 3.0, 6.0, 12.0):
        size = 2 * math.ceil(3 * sigma) + 1
        sampled = cv2.getGaussianKernel(size, sigma, cv2.CV_64F).ravel()
        ours = gaussian_kernel_1d(size, sigma)
        errors.append(np.abs(ours - sampled).max() / sampled.max())
    assert all(later < earlier / 2.5 for earlier, later in zip(errors, errors[1:], strict=False))
    assert errors[-1] < 1e-3 < errors[0]


def test_default_sigma_is_the_least_squares_fit_to_burt_adelson() -> None:
    def misfit(sigma: float) -> float:
        return float(np.sum((gaussian_kernel_1d(5, sigma) - BURT_ADELSON_TAPS) ** 2))

    best = minimize_scalar(misfit, bounds=(0.5, 2.0), method="bounded", options={"xatol": 1e-8})
    assert abs(DEFAULT_SIGMA - best.x) < 1e-3
    assert np.abs(gaussian_kernel_1d() - BURT_ADELSON_TAPS).max() < 0.006


@pytest.mark.parametrize(
    ("size", "sigma", "message"),
    [
        (4, 1.0, "size must be odd"),
        (0, 1.0, "size must be at least 1"),
        (-3, 1.0, "size must be at least 1"),
        (5.0, 1.0, "size must be an integer"),
        (True, 1.0, "size must be an integer"),
        (5, 0.0, "sigma must be positive"),
        (5, -1.0, "sigma must be positive"),
        (5, float("nan"), "sigma must be positive"),
        (5, float("inf"), "sigma must be positive"),
        (5, "1", "sigma must be a number"),
    ],
)
def test_kernel_rejects_bad_arguments(size: object, sigma: object, message: str) -> None:
    with pytest.raises(PyramidInputError, match=message):
        gaussian_kernel_1d(size, sigma)  # type: ignore[arg-type]
    with pytest.raises(PyramidInputError, match=message):
        gaussian_kernel(size, sigma)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# Gaussian pyramid: sizes, dtypes, definition, agreement
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "shape", [(512, 512), (511, 333), (7, 9), (1, 5), (5, 1), (2, 2), (3, 3, 3), (6, 7, 4)]
)
def test_level_sizes_match_pyrdown_for_odd_and_even_inputs(shape: tuple[int, ...]) -> None:
    image = np.zeros(shape, np.uint8)
    expected = [level.shape for level in _pyrdown_levels(image)]
    ours = gaussian_pyramid(image, 100)
    assert [level.shape for level in ours] == expected
    assert pyramid_shapes(shape, 100) == [s[:2] for s in expected]
    assert max_levels(shape) == len(expected)


def test_pyramid_stops_after_the_one_pixel_level() -> None:
    pyramid = gaussian_pyramid(np.ones((5, 8), np.float32), 50)
    assert [level.shape for level in pyramid] == [(5, 8), (3, 4), (2, 2), (1, 1)]
    assert len(gaussian_pyramid(np.ones((5, 8), np.float32), 2)) == 2


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32, np.float64])
@pytest.mark.parametrize("channels", [None, 1, 3, 4])
def test_levels_keep_dtype_and_channels_and_level_zero_is_the_input(
    dtype: type, channels: int | None
) -> None:
    shape = (37, 22) if channels is None else (37, 22, channels)
    image = np.random.default_rng(3).integers(0, 200, shape).astype(dtype)
    pyramid = gaussian_pyramid(image, 4)
    assert pyramid[0] is image
    assert [level.dtype for level in pyramid] == [np.dtype(dtype)] * 4
    assert [level.shape for level in pyramid] == [
        (h, w) + shape[2:] for h, w in [(37, 22), (19, 11), (10, 6), (5, 3)]
    ]


@pytest.mark.parametrize("kernel_size, sigma", [(5, DEFAULT_SIGMA), (7, 1.6), (11, 2.5)])
@pytest.mark.parametrize("shape", [(33, 20), (21, 18, 3)])
def test_float_reduce_is_blur_with_reflect101_then_even_samples(
    kernel_size: int, sigma: float, shape: tuple[int, ...]
) -> None:
    image = np.random.default_rng(5).random(shape)
    taps = gaussian_kernel_1d(kernel_size, sigma)
    expected = _reduce_reference(image, taps)
    got64 = pyramid_reduce(image, sigma=sigma, kernel_size=kernel_size)
    got32 = pyramid_reduce(image.astype(np.float32), sigma=sigma, kernel_size=kernel_size)
    np.testing.assert_allclose(got64, expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(got32, expected, rtol=0, atol=2e-6)


def test_uint8_reduce_stays_within_fixed_point_precision() -> None:
    # uint8 runs on OpenCV's 8-bit fixed-point path (taps rounded to 1/256): allow 1.5 levels.
    image = data.astronaut()
    for kernel_size, sigma in [(5, DEFAULT_SIGMA), (7, 1.6)]:
        taps = gaussian_kernel_1d(kernel_size, sigma)
        error = np.abs(
            pyramid_reduce(image, sigma=sigma, kernel_size=kernel_size)
            - _reduce_reference(image, taps)
        )
        assert error.max() <= 1.5
        assert error.mean() <= 0.3


def test_uint16_reduce_is_the_rounded_exact_result() -> None:
    # Float32 taps and accumulation: rounding (0.5) plus float32 error at 65535 (~0.01).
    image = (data.camera().astype(np.uint16) * 257)[:201, :155]
    error = np.abs(pyramid_reduce(image) - _reduce_reference(image, gaussian_kernel_1d()))
    assert error.max() <= 0.53


def test_default_kernel_agrees_with_pyrdown_on_astronaut() -> None:
    ours = gaussian_pyramid(data.astronaut(), 4)
    reference = _pyrdown_levels(data.astronaut())
    for level in (1, 2, 3):
        difference = np.abs(ours[level].astype(np.int16) - reference[level])
        assert difference.mean() < 0.5, level
        assert difference.max() <= 3, level


def test_default_kernel_agrees_with_skimage_pyramid_gaussian() -> None:
    # skimage resizes with bilinear interpolation on a half-pixel-centred grid, so its level k
    # sits (1 - 2**-k) / 2 pixels from ours; we shift ours by that much before comparing and
    # give skimage our sigma. Tolerance (interior, gray levels): mean < 1.0, 1.5, 2.0 for
    # levels 1, 2, 3 (measured 0.62, 0.91, 1.36; without the shift 2.9, 5.9, 9.2).
    image = data.astronaut()
    ours = gaussian_pyramid(image, 4)
    theirs = list(
        pyramid_gaussian(
            image, max_layer=3, sigma=DEFAULT_SIGMA, channel_axis=-1, preserve_range=True
        )
    )
    for level, tolerance in ((1, 1.0), (2, 1.5), (3, 2.0)):
        offset = (1 - 2.0**-level) / 2
        aligned = shift(ours[level].astype(float), (-offset, -offset, 0), order=3, mode="mirror")
        assert theirs[level].shape == ours[level].shape
        assert np.abs(aligned - theirs[level])[4:-4, 4:-4].mean() < tolerance, level


def test_burt_adelson_taps_reproduce_pyrdown_and_the_general_path_agrees() -> None:
    image = data.astronaut()[:301, :257]
    reference = _pyrdown_levels(image)[:5]
    exact = gaussian_pyramid(image, 5, kernel=BURT_ADELSON_TAPS)
    for ours, theirs in zip(exact, reference, strict=True):
        np.testing.assert_array_equal(ours, theirs)
    # A hair away from the binomial: no dispatch, the general separable path must agree.
    nudged = BURT_ADELSON_TAPS + np.array([1e-9, -1e-9, 0.0, -1e-9, 1e-9])
    general = gaussian_pyramid(image, 5, kernel=nudged)
    for ours, theirs in zip(general[1:], reference[1:], strict=True):
        assert np.abs(ours.astype(np.int16) - theirs).max() <= 1
    floats = gaussian_pyramid(image.astype(np.float32), 3, kernel=nudged)
    np.testing.assert_allclose(floats[1], cv2.pyrDown(image.astype(np.float32)), atol=1e-4)


# ---------------------------------------------------------------------------------------------
# REDUCE routes: one fused call, row strips on threads, two-pass uint8 (see pyramid._Reducer)
# ---------------------------------------------------------------------------------------------

ROUTE_SHAPES = [
    (1, 1),
    (1, 6),
    (7, 1),
    (2, 2),
    (5, 8),
    (16, 9),
    (37, 22),
    (24, 31),
    (38, 23, 3),
    (21, 18, 4),
    (17, 9, 1),
    (11, 14, 2),
    # rows of 32 samples or more: the AVX2 steps' whole blocks plus a tail, 1 to 4 channels
    (9, 71),
    (6, 33, 1),
    (13, 45, 2),
    (7, 40, 3),
    (10, 19, 4),
]


COMPILED_ROUTES = ["compiled", "compiled bands", "compiled plain loops"]
NO_COMPILER = "workbench.pyramid._reduce was not built (no C compiler at install time)"


def _force_compiled_route(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """One of COMPILED_ROUTES: one call, three bands of output rows (even where OpenCV has
    fewer threads), or the portable loops where the CPU has AVX2."""
    if pyramid_module._compiled is None:
        pytest.skip(NO_COMPILER)
    bands = 3 if name == "compiled bands" else 1
    monkeypatch.setattr(pyramid_module, "_band_count", lambda samples: bands)
    monkeypatch.setattr(pyramid_module, "_SIMD", name != "compiled plain loops")


@pytest.fixture(params=COMPILED_ROUTES + ["one call", "strips", "two-pass"])
def route(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Force one REDUCE route whatever the level size (production picks by size and taps)."""
    if request.param in COMPILED_ROUTES:
        _force_compiled_route(request.param, monkeypatch)
        return request.param
    monkeypatch.setattr(pyramid_module, "_compiled", None)  # the OpenCV routes
    if request.param == "strips":  # three strips even where OpenCV has fewer threads
        monkeypatch.setattr(pyramid_module, "_strip_count", lambda samples: 3)
    else:
        monkeypatch.setattr(pyramid_module, "_strip_count", lambda samples: 1)
    if request.param == "two-pass":  # every uint8 level, every kernel
        monkeypatch.setattr(pyramid_module, "_TWO_PASS_MIN_SAMPLES", 0)
        monkeypatch.setattr(pyramid_module, "_TWO_PASS_MIN_TAPS", 3)
    else:
        monkeypatch.setattr(pyramid_module, "_TWO_PASS_MIN_SAMPLES", 10**18)
    return request.param


def _fixed_point(taps: np.ndarray) -> np.ndarray:
    """The uint8 taps: multiples of 1/256 (checked in the test below), as float64."""
    return pyramid_module._fixed_point_taps(taps).astype(np.float64)


def _round_half_up(values: np.ndarray) -> np.ndarray:
    return np.floor(values + 0.5)


def _uint8_fused_reference(image: np.ndarray, taps8: np.ndarray) -> np.ndarray:
    """Fixed-point taps, exact sums (float64 holds them exactly), one rounding, half up."""
    return _round_half_up(_filter_reference(image, taps8))[::2, ::2]


def _uint8_two_pass_reference(image: np.ndarray, taps8: np.ndarray) -> np.ndarray:
    """Vertical pass rounded (ties to even), even rows; horizontal pass rounded, even columns."""
    vertical = np.rint(correlate1d(image.astype(np.float64), taps8, axis=0, mode="mirror"))
    across = correlate1d(vertical[::2], taps8, axis=1, mode="mirror")
    return np.rint(across)[:, ::2]


@pytest.mark.parametrize("size", range(3, 43, 2))
def test_uint8_taps_are_multiples_of_1_256_symmetric_and_sum_to_one(size: int) -> None:
    for sigma in (0.3, size / 5, size / 2, 50.0):
        taps = gaussian_kernel_1d(size, sigma)
        units = pyramid_module._fixed_point_taps(taps).astype(np.float64) * 256
        np.testing.assert_array_equal(units, np.round(units))
        np.testing.assert_array_equal(units, units[::-1])
        assert units.sum() == 256 and units.min() >= 0
        assert np.abs(units - taps * 256).max() <= 1.0


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32, np.float64])
@pytest.mark.parametrize("size", range(3, 23, 2))
def test_reduce_is_the_reference_filter_then_even_samples_on_every_route(
    route: str, dtype: type, size: int
) -> None:
    # The reference is the plain definition: full separable correlation with reflect-101
    # (scipy's "mirror") in float64, then [::2, ::2]; odd/even sizes, 1-pixel axes, 1-4
    # channels and kernels longer than the image (repeated reflection) included.
    sigma = max(0.6, size / 5)
    taps = gaussian_kernel_1d(size, sigma)
    rng = np.random.default_rng(size)
    for shape in ROUTE_SHAPES:
        if dtype in (np.uint8, np.uint16):
            top = 255 if dtype == np.uint8 else 65535
            image = rng.integers(0, top, shape, endpoint=True).astype(dtype)
        else:
            image = rng.random(shape).astype(dtype)
        got = pyramid_reduce(image, sigma=sigma, kernel_size=size)
        expected_shape = ((shape[0] + 1) // 2, (shape[1] + 1) // 2) + shape[2:]
        assert got.shape == expected_shape and got.dtype == dtype, shape
        if dtype == np.uint8 and route in COMPILED_ROUTES:
            # exact taps summed in float32, rounded half up: within float error of the exact
            # result, so off by one only where the exact value is a hair from a tie
            exact = _reduce_reference(image, taps)
            assert np.abs(got - exact).max() <= 0.5 + 1e-4, shape
            assert np.mean(got != _round_half_up(exact)) < 1e-3, shape
        elif dtype == np.uint8:
            taps8 = _fixed_point(taps)
            if route == "two-pass":
                expected = _uint8_two_pass_reference(image, taps8)
            else:
                expected = _uint8_fused_reference(image, taps8)
            np.testing.assert_array_equal(got, expected, err_msg=str(shape))
        else:
            error = np.abs(got - _reduce_reference(image, taps)).max()
            tolerance = {np.uint16: 0.53, np.float32: 2e-6, np.float64: 1e-12}[dtype]
            assert error <= tolerance, (shape, error)


@pytest.mark.parametrize("size", [3, 15, 21, 41])
def test_every_route_keeps_a_flat_uint8_image_flat(route: str, size: int) -> None:
    image = np.full((45, 38, 3), 137, np.uint8)
    for level in gaussian_pyramid(image, 10, sigma=size / 4, kernel_size=size):
        assert np.all(level == 137)


@pytest.mark.parametrize("splitter", ["_strip_count", "_band_count"])
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32, np.float64])
@pytest.mark.parametrize("kernel_size, sigma", [(5, DEFAULT_SIGMA), (11, 2.5), (21, 5.0)])
def test_row_strips_give_exactly_the_levels_of_one_call(
    monkeypatch: pytest.MonkeyPatch, dtype: type, kernel_size: int, sigma: float, splitter: str
) -> None:
    # _strip_count: the OpenCV route's row strips; _band_count: the compiled route's bands.
    if splitter == "_band_count" and pyramid_module._compiled is None:
        pytest.skip(NO_COMPILER)
    if splitter == "_strip_count":
        monkeypatch.setattr(pyramid_module, "_compiled", None)
    image = data.astronaut()[:301, :267].astype(dtype)
    monkeypatch.setattr(pyramid_module, "_TWO_PASS_MIN_SAMPLES", 10**18)
    monkeypatch.setattr(pyramid_module, splitter, lambda samples: 1)
    whole = gaussian_pyramid(image, 6, sigma=sigma, kernel_size=kernel_size)
    for count in (2, 3, 7):
        monkeypatch.setattr(pyramid_module, splitter, lambda samples, c=count: c)
        strips = gaussian_pyramid(image, 6, sigma=sigma, kernel_size=kernel_size)
        for ours, theirs in zip(strips, whole, strict=True):
            np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("kernel_size, sigma", [(15, 3.5), (21, 5.0)])
def test_two_pass_stays_within_one_gray_level_of_the_fused_filter(
    monkeypatch: pytest.MonkeyPatch, kernel_size: int, sigma: float
) -> None:
    # The intermediate rounding costs at most 1 gray level against the fused fixed-point
    # filter and leaves the error against the exact filter as small as the uint8 test above.
    image = data.astronaut()
    taps = gaussian_kernel_1d(kernel_size, sigma)
    monkeypatch.setattr(pyramid_module, "_compiled", None)
    monkeypatch.setattr(pyramid_module, "_TWO_PASS_MIN_SAMPLES", 0)
    two_pass = pyramid_reduce(image, sigma=sigma, kernel_size=kernel_size)
    monkeypatch.setattr(pyramid_module, "_TWO_PASS_MIN_SAMPLES", 10**18)
    fused = pyramid_reduce(image, sigma=sigma, kernel_size=kernel_size)
    assert np.abs(two_pass.astype(np.int16) - fused).max() <= 1
    assert 0 < np.mean(two_pass != fused) < 0.1
    error = np.abs(two_pass - _reduce_reference(image, taps))
    assert error.max() <= 1.5
    assert error.mean() <= 0.3


def test_route_choice_by_dtype_taps_and_level_size() -> None:
    reducer = pyramid_module._Reducer
    assert reducer(gaussian_kernel_1d(15, 3.5), np.dtype(np.uint8)).two_pass
    assert not reducer(gaussian_kernel_1d(13, 3.0), np.dtype(np.uint8)).two_pass
    for dtype in (np.uint16, np.float32, np.float64):
        assert not reducer(gaussian_kernel_1d(21, 5.0), np.dtype(dtype)).two_pass
    # Row strips only where OpenCV filters on one thread (and not for tiny levels).
    assert pyramid_module._strip_count(6_220_800) == 1  # 1080p RGB: OpenCV is parallel there
    assert pyramid_module._strip_count(1_555_200) == cv2.getNumThreads()  # its level 1
    assert pyramid_module._strip_count(10_000) == 1
    assert pyramid_module._row_strips(1, 4) == [(0, 1)]
    assert pyramid_module._row_strips(7, 2) == [(0, 2), (2, 7)]
    assert pyramid_module._row_strips(100, 3) == [(0, 32), (32, 66), (66, 100)]
    # The compiled route splits all but small levels between OpenCV's threads.
    assert pyramid_module._band_count(6_220_800) == cv2.getNumThreads()
    assert pyramid_module._band_count(10_000) == 1


def test_big_endian_and_read_only_inputs_reduce_like_native_ones() -> None:
    image = data.astronaut()[:101, :67].astype(np.uint16) * 257
    expected = pyramid_reduce(image)
    frozen = image.copy()
    frozen.setflags(write=False)
    np.testing.assert_array_equal(pyramid_reduce(image.astype(">u2")), expected)
    np.testing.assert_array_equal(pyramid_reduce(frozen), expected)
    levels = gaussian_pyramid(image.astype(">u2"), 3)
    assert all(level.dtype == np.uint16 and level.dtype.isnative for level in levels)


def test_misaligned_input_and_kernels_beyond_the_compiled_limit_still_reduce(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    taps = gaussian_kernel_1d(5, 1.0)
    aligned = np.random.default_rng(3).random((30, 41)).astype(np.float32)
    raw = np.zeros(aligned.nbytes + 1, np.uint8)
    raw[1:] = aligned.view(np.uint8).ravel()
    misaligned = np.frombuffer(raw.data, np.float32, count=aligned.size, offset=1)
    misaligned = misaligned.reshape(aligned.shape)
    assert not misaligned.flags.aligned
    expected = _reduce_reference(aligned, taps)
    assert np.abs(pyramid_reduce(misaligned, kernel=taps) - expected).max() < 1e-6
    if pyramid_module._compiled is None:
        return
    # a kernel longer than the C module takes goes the OpenCV way instead of failing
    real = pyramid_module._compiled

    class Limited:
        MAX_TAPS = 3
        SIMD = real.SIMD
        reduce_rows = staticmethod(real.reduce_rows)

    monkeypatch.setattr(pyramid_module, "_compiled", Limited)
    assert np.abs(pyramid_reduce(aligned, kernel=taps) - expected).max() < 1e-6


def test_the_compiled_reduce_is_built_where_a_c_compiler_is() -> None:
    # pyproject.toml builds it as an optional extension: an install without a compiler uses
    # the OpenCV route, but one with a compiler that failed to build it would be a silent 2-4x.
    if pyramid_module._compiled is None:
        compiler = sysconfig.get_config_var("CC") or "cc"
        if shutil.which(compiler.split()[0]) is None:
            pytest.skip(f"{NO_COMPILER}; {compiler!r} is not on PATH")
        pytest.fail(f"{compiler!r} is on PATH but {NO_COMPILER.split(' was')[0]} is missing")
    assert pyramid_module._compiled.SIMD in ("avx2", "baseline")


@pytest.mark.parametrize(
    "change, message",
    [
        ({"height": 11}, "buffer sizes"),
        ({"dst": np.empty((5, 3, 3), np.uint8)}, "buffer sizes"),
        ({"taps": np.ones(4) / 4}, "odd number"),
        ({"taps": np.ones(5, np.float32) / 5}, "odd number"),
        ({"stop": 6}, "row range"),
        ({"start": 3, "stop": 2}, "row range"),
        ({"kind": 7}, "kind"),
        # sizes whose byte counts overflow to the real buffer sizes are still refused
        ({"src": b"", "dst": bytearray(16), "height": 2**62, "width": 8, "channels": 2}, "sizes"),
        (
            {"kind": 2, "src": np.zeros(210, np.float32), "dst": memoryview(bytearray(241))[1:]},
            "align",
        ),
    ],
)
def test_the_compiled_reduce_refuses_inconsistent_arguments(change: dict, message: str) -> None:
    # The Python side always passes consistent arguments; the C side still checks, since a
    # mismatch would read or write outside the buffers.
    if pyramid_module._compiled is None:
        pytest.skip(NO_COMPILER)
    args = {
        "src": np.zeros((10, 7, 3), np.uint8),
        "dst": np.empty((5, 4, 3), np.uint8),
        "taps": gaussian_kernel_1d(5, 1.0),
        "height": 10,
        "width": 7,
        "channels": 3,
        "start": 0,
        "stop": 5,
        "kind": 0,
    }
    pyramid_module._compiled.reduce_rows(*args.values())  # consistent: no error
    args.update(change)
    with pytest.raises(ValueError, match=message):
        pyramid_module._compiled.reduce_rows(*args.values())


# ---------------------------------------------------------------------------------------------
# EXPAND and the Laplacian pyramid
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fine", [(11, 10), (12, 9), (2, 1), (1, 1), (1, 6), (5, 1)])
def test_expand_is_zero_insertion_then_phase_normalised_kernel(fine: tuple[int, int]) -> None:
    coarse_shape = ((fine[0] + 1) // 2, (fine[1] + 1) // 2, 3)
    coarse = np.random.default_rng(7).random(coarse_shape)
    for kernel_size, sigma in [(5, DEFAULT_SIGMA), (7, 1.6)]:
        taps = gaussian_kernel_1d(kernel_size, sigma)
        got = pyramid_expand(coarse, fine, sigma=sigma, kernel_size=kernel_size)
        assert got.dtype == np.float32 and got.shape == fine + (3,)
        np.testing.assert_allclose(got, _expand_reference(coarse, fine, taps), atol=1e-6)


@pytest.mark.parametrize(
    ("coarse", "fine"), [((20, 17), (39, 34)), ((1, 3), (1, 5)), ((3, 1), (6, 1)), ((1, 1), (1, 1))]
)
def test_expand_keeps_a_flat_image_flat(coarse: tuple[int, int], fine: tuple[int, int]) -> None:
    # Plain "2 x kernel" would leave a +-2 % checkerboard with the Gaussian taps, and a
    # 1-sample axis must not fold the odd taps onto its one sample.
    flat = pyramid_expand(np.full(coarse, 200, np.uint8), fine)
    np.testing.assert_allclose(flat, 200, atol=1e-3)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
@pytest.mark.parametrize("kernel_size, sigma", [(5, DEFAULT_SIGMA), (7, 1.6), (11, 2.5), (31, 6)])
def test_flat_image_stays_flat_at_every_level(dtype: type, kernel_size: int, sigma: float) -> None:
    # The DC gain must be exactly 1, fixed-point taps for uint8 included.
    image = np.full((45, 38, 3), 137, dtype)
    for level in gaussian_pyramid(image, 10, sigma=sigma, kernel_size=kernel_size):
        np.testing.assert_allclose(level, 137, rtol=0, atol=1e-4 if dtype == np.float32 else 0)


EXPAND_SHAPES = ROUTE_SHAPES + [(2, 1), (4, 66, 3)]  # plus a 1-pixel-wide finer level


@pytest.fixture(params=COMPILED_ROUTES + ["OpenCV"])
def expand_route(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Force one EXPAND route: compiled (one call, 3 bands, portable loops) or OpenCV's."""
    if request.param == "OpenCV":
        monkeypatch.setattr(pyramid_module, "_compiled", None)
    else:
        _force_compiled_route(request.param, monkeypatch)
    return request.param


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32, np.float64])
@pytest.mark.parametrize("size", [3, 5, 7, 9, 21])
def test_expand_is_the_definition_on_every_route(expand_route: str, dtype: type, size: int):
    # Zero insertion then the phase-normalised kernel, reflect-101: odd and even fine sizes,
    # 1-sample axes, 1-4 channels, rows long enough for the AVX2 blocks plus a tail, and
    # kernels longer than the level (repeated reflection).
    taps = gaussian_kernel_1d(size, max(0.6, size / 5))
    rng = np.random.default_rng(size)
    for fine in EXPAND_SHAPES:
        coarse_shape = ((fine[0] + 1) // 2, (fine[1] + 1) // 2) + fine[2:]
        if dtype in (np.uint8, np.uint16):
            coarse = rng.integers(0, np.iinfo(dtype).max, coarse_shape, endpoint=True)
            coarse = coarse.astype(dtype)
        else:
            coarse = rng.random(coarse_shape).astype(dtype)
        got = pyramid_expand(coarse, fine[:2], kernel=taps)
        assert got.dtype == np.float32 and got.shape == fine, fine
        expected = _expand_reference(coarse.astype(np.float64), fine[:2], taps)
        scale = np.iinfo(dtype).max if dtype in (np.uint8, np.uint16) else 1.0
        assert np.abs(got - expected).max() <= 1e-6 * scale, fine


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32, np.float64])
def test_laplacian_bands_are_levels_minus_expanded_next_levels_on_every_route(
    expand_route: str, dtype: type
) -> None:
    # The compiled route subtracts (and, reconstructing, adds) inside EXPAND, row by row.
    taps = gaussian_kernel_1d(7, 1.6)
    image = data.astronaut()[:123, :77].astype(dtype)
    scale = 1.0
    if dtype == np.uint16:
        image *= 257
        scale = 65535.0
    elif dtype in (np.float32, np.float64):
        image /= 255
    else:
        scale = 255.0
    bands = laplacian_pyramid(image, 4, kernel=taps)
    gaussians = gaussian_pyramid(image, 4, kernel=taps)
    for band, fine, coarse in zip(bands, gaussians, gaussians[1:], strict=False):
        expected = fine - _expand_reference(coarse.astype(np.float64), fine.shape[:2], taps)
        assert band.dtype == np.float32
        assert np.abs(band - expected).max() <= 1e-6 * scale
    restored = reconstruct_from_laplacian(bands)
    assert restored.dtype == dtype
    if dtype in (np.uint8, np.uint16):
        assert np.abs(restored.astype(np.int64) - image).max() <= 1
    else:
        assert np.abs(restored - image).max() <= 1e-6


def test_reconstruction_checks_channels_and_takes_mixed_one_channel_shapes(
    expand_route: str,
) -> None:
    image = data.astronaut()[:61, :47]
    bands = list(laplacian_pyramid(image, 3))
    with pytest.raises(PyramidInputError, match="channel"):
        reconstruct_from_laplacian(bands[:-1] + [bands[-1][:, :, :1]])
    gray = list(laplacian_pyramid(image[:, :, 1], 3))
    expected = reconstruct_from_laplacian(gray, dtype=np.uint8)
    mixed = [band[:, :, np.newaxis] for band in gray[:-1]] + [gray[-1]]  # (H, W, 1) + (h, w)
    restored = reconstruct_from_laplacian(mixed, dtype=np.uint8)
    assert restored.shape == image.shape[:2] + (1,)
    np.testing.assert_array_equal(restored[:, :, 0], expected)
    np.testing.assert_array_equal(expected, image[:, :, 1])


@pytest.mark.parametrize(
    "change, message",
    [
        ({"coarse_height": 4}, "sizes"),
        ({"height": 8}, "sizes"),
        ({"dst": np.empty((9, 7, 3), np.float64)}, "sizes"),
        ({"src": np.zeros((5, 4, 3), np.uint16)}, "sizes"),
        ({"taps": np.ones(4) / 4}, "odd number"),
        ({"stop": 10}, "row range"),
        ({"kind": -1}, "kind"),
        ({"src": b"", "dst": bytearray(16), "height": 2**62, "coarse_height": 2**61}, "sizes"),
        ({"base": np.zeros((9, 7, 3), np.uint8), "base_kind": 1}, "base"),
        ({"base": np.zeros((9, 6, 3), np.float32), "base_kind": 2}, "base"),
        ({"base": np.zeros((9, 7, 3), np.uint8), "base_kind": 9}, "base"),
    ],
)
def test_the_compiled_expand_refuses_inconsistent_arguments(change: dict, message: str) -> None:
    if pyramid_module._compiled is None:
        pytest.skip(NO_COMPILER)
    args = {
        "src": np.zeros((5, 4, 3), np.uint8),
        "dst": np.empty((9, 7, 3), np.float32),
        "taps": pyramid_module._phase_taps(gaussian_kernel_1d(5, 1.0)),
        "coarse_height": 5,
        "coarse_width": 4,
        "channels": 3,
        "height": 9,
        "width": 7,
        "start": 0,
        "stop": 9,
        "kind": 0,
        "simd": True,
        "base": np.zeros((9, 7, 3), np.uint16),
        "base_kind": 1,
    }
    pyramid_module._compiled.expand_rows(*args.values())  # consistent: no error
    args.update(change)
    with pytest.raises(ValueError, match=message):
        pyramid_module._compiled.expand_rows(*args.values())


def test_expand_rejects_a_shape_that_is_not_the_finer_level() -> None:
    with pytest.raises(PyramidInputError, match="shape"):
        pyramid_expand(np.zeros((5, 5)), (12, 10))


def test_laplacian_bands_are_float32_with_gaussian_shapes_and_coarsest_gaussian_last() -> None:
    image = data.astronaut()[:301, :257]
    bands = laplacian_pyramid(image, 5)
    gaussians = gaussian_pyramid(image, 5)
    assert isinstance(bands, LaplacianPyramid) and bands.input_dtype == np.uint8
    assert [b.dtype for b in bands] == [np.dtype(np.float32)] * 5
    assert [b.shape for b in bands] == [g.shape for g in gaussians]
    np.testing.assert_array_equal(bands[-1], gaussians[-1].astype(np.float32))
    assert bands[0].min() < -10 and bands[0].max() > 10  # signed detail survives
    flat_bands = laplacian_pyramid(np.full((40, 33, 3), 200, np.uint8), 4)
    assert max(np.abs(b).max() for b in flat_bands[:-1]) < 1e-3


@pytest.mark.parametrize("kind", ["gray", "rgb", "rgba"])
def test_reconstruction_is_exact_for_uint8_odd_sizes(kind: str) -> None:
    image = _odd_crops()[kind]
    for kwargs in ({}, {"sigma": 1.6, "kernel_size": 7}):
        restored = reconstruct_from_laplacian(laplacian_pyramid(image, 6, **kwargs))
        assert restored.dtype == np.uint8 and restored.shape == image.shape
        assert np.abs(restored.astype(np.int16) - image).max() <= 1


@pytest.mark.parametrize("kind", ["gray", "rgb", "rgba"])
def test_reconstruction_is_exact_for_floats_and_uint16(kind: str) -> None:
    image = _odd_crops()[kind]
    as_float = image.astype(np.float32) / 255
    restored = reconstruct_from_laplacian(laplacian_pyramid(as_float, 6))
    assert restored.dtype == np.float32
    assert np.abs(restored - as_float).max() < 1e-5
    as_double = image.astype(np.float64) / 255
    restored64 = reconstruct_from_laplacian(laplacian_pyramid(as_double, 6))
    assert restored64.dtype == np.float64 and np.abs(restored64 - as_double).max() < 1e-5
    deep = image.astype(np.uint16) * 257
    np.testing.assert_array_equal(reconstruct_from_laplacian(laplacian_pyramid(deep, 6)), deep)


def test_reconstruct_from_a_plain_list_needs_the_same_kernel() -> None:
    image = np.random.default_rng(4).integers(0, 256, (99, 77)).astype(np.float32)
    bands = list(laplacian_pyramid(image, 4, sigma=1.6, kernel_size=7))
    same = reconstruct_from_laplacian(bands, sigma=1.6, kernel_size=7)
    other = reconstruct_from_laplacian(bands)
    assert np.abs(same - image).max() < 1e-3
    assert np.abs(other - image).max() > 1.0


@settings(max_examples=40, deadline=None)
@given(
    height=st.integers(1, 40),
    width=st.integers(1, 40),
    channels=st.sampled_from([None, 1, 3, 4]),
    kernel_size=st.sampled_from([3, 5, 7, 9]),
    sigma=st.floats(0.4, 3.0),
    levels=st.integers(1, 8),
    seed=st.integers(0, 2**16),
)
def test_reconstruction_round_trips_any_shape_and_kernel(
    height: int,
    width: int,
    channels: int | None,
    kernel_size: int,
    sigma: float,
    levels: int,
    seed: int,
) -> None:
    shape = (height, width) if channels is None else (height, width, channels)
    image = np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)
    bands = laplacian_pyramid(image, levels, sigma=sigma, kernel_size=kernel_size)
    assert len(bands) == min(levels, max_levels(shape))
    np.testing.assert_array_equal(reconstruct_from_laplacian(bands), image)


# ---------------------------------------------------------------------------------------------
# DoG
# ---------------------------------------------------------------------------------------------


def test_dog_band_is_level_minus_its_own_blur() -> None:
    image = data.camera()[:150, :121]
    gaussians = gaussian_pyramid(image, 4)
    bands = dog_pyramid(image, 4)
    assert len(bands) == len(gaussians)
    taps = gaussian_kernel_1d()
    for band, level in zip(bands, gaussians, strict=True):
        assert band.dtype == np.float32 and band.shape == level.shape
        expected = level.astype(np.float64) - _filter_reference(level, taps)
        np.testing.assert_allclose(band, expected, atol=1e-3)
    flat = dog_pyramid(np.full((30, 30, 3), 90, np.uint8), 3)
    assert max(np.abs(b).max() for b in flat) < 1e-3


# ---------------------------------------------------------------------------------------------
# blend (multiresolution spline)
# ---------------------------------------------------------------------------------------------


def test_blend_with_full_masks_returns_either_image() -> None:
    a, b = data.astronaut()[:400], data.coffee()[:, :512]
    np.testing.assert_array_equal(blend(a, b, np.ones(a.shape[:2]), 6), a)
    np.testing.assert_array_equal(blend(a, b, np.zeros(a.shape[:2], bool), 6), b)
    floats = blend(a / 255.0, b / 255.0, np.ones(a.shape[:2], np.float32), 6)
    assert floats.dtype == np.float64
    np.testing.assert_allclose(floats, a / 255.0, atol=1e-5)


def test_blend_of_an_image_with_itself_is_the_image_under_any_mask() -> None:
    a = data.camera()
    mask = np.random.default_rng(11).random(a.shape)
    assert np.abs(blend(a, a, mask, 6).astype(np.int16) - a).max() <= 1


def _blend_reference(a: np.ndarray, b: np.ndarray, mask: np.ndarray, levels: int,
                     taps: np.ndarray) -> np.ndarray:
    """Burt & Adelson's spline in float64 from the reference REDUCE/EXPAND: each Laplacian band
    weighted by the same level of the mask's own Gaussian pyramid, then collapsed."""
    def gaussian(image):
        out = [image.astype(np.float64)]
        for _ in range(levels - 1):
            out.append(_reduce_reference(out[-1], taps))
        return out

    ga, gb, gm = gaussian(a), gaussian(b), gaussian(mask)
    bands = []
    for k in range(levels):
        la = ga[k] - (_expand_reference(ga[k + 1], ga[k].shape, taps) if k + 1 < levels else 0)
        lb = gb[k] - (_expand_reference(gb[k + 1], gb[k].shape, taps) if k + 1 < levels else 0)
        bands.append(gm[k] * la + (1 - gm[k]) * lb)
    out = bands[-1]
    for k in range(levels - 2, -1, -1):
        out = bands[k] + _expand_reference(out, bands[k].shape, taps)
    return out


def test_blend_weights_each_band_by_the_masks_own_gaussian_level() -> None:
    """Against the float64 definition: a mask that were only decimated (not blurred) level by
    level would leave a hard edge in every band and miss this by far."""
    rng = np.random.default_rng(5)
    a = rng.random((61, 83))
    b = rng.random((61, 83))
    yy, xx = np.mgrid[:61, :83]
    mask = ((xx - 40) ** 2 + (yy - 30) ** 2 < 20 ** 2).astype(np.float64)
    taps = gaussian_kernel_1d()
    want = _blend_reference(a, b, mask, 4, taps)
    np.testing.assert_allclose(blend(a, b, mask, 4), want, atol=1e-5)  # float32 weights


def test_half_mask_seam_is_smoother_than_a_hard_cut() -> None:
    a, b = data.camera(), data.moon()
    mask = np.zeros(a.shape, np.float32)
    mask[:, :256] = 1.0
    blended = blend(a, b, mask, 6)
    hard = np.where(mask > 0.5, a, b)
    assert blended.dtype == np.uint8

    def seam_step(image: np.ndarray) -> float:
        return float(np.abs(image[:, 256].astype(float) - image[:, 255]).mean())

    assert seam_step(blended) < 0.3 * seam_step(hard)  # measured 12.7 vs 73.5
    # One level is the hard cut; each extra level widens the transition (24.1, 16.0, 13.6).
    steps = [seam_step(blend(a, b, mask, levels)) for levels in (1, 2, 3, 4)]
    assert steps[0] == seam_step(hard)
    assert steps[0] > steps[1] > steps[2] > steps[3]
    # Far from the seam the blend is just the images.
    np.testing.assert_array_equal(blended[:, :150], a[:, :150])
    np.testing.assert_array_equal(blended[:, 380:], b[:, 380:])


@pytest.mark.parametrize(
    ("b_shape", "b_dtype", "mask", "message"),
    [
        ((32, 30), np.uint8, np.ones((32, 32)), "same shape and dtype"),
        ((32, 32), np.float32, np.ones((32, 32)), "same shape and dtype"),
        ((32, 32), np.uint8, np.ones((32, 31)), "mask must be 2-D"),
        ((32, 32), np.uint8, np.ones((32, 32, 1)), "mask must be 2-D"),
        ((32, 32), np.uint8, np.full((32, 32), 255, np.uint8), "divide an 8-bit mask by 255"),
        ((32, 32), np.uint8, np.full((32, 32), -0.5), r"\[0, 1\]"),
        ((32, 32), np.uint8, np.full((32, 32), "x"), "numeric or boolean"),
    ],
)
def test_blend_rejects_mismatched_inputs(
    b_shape: tuple[int, int], b_dtype: type, mask: np.ndarray, message: str
) -> None:
    with pytest.raises(PyramidInputError, match=message):
        blend(np.zeros((32, 32), np.uint8), np.zeros(b_shape, b_dtype), mask, 3)


# ---------------------------------------------------------------------------------------------
# mosaic, upsample_to, level_stats
# ---------------------------------------------------------------------------------------------


def test_mosaic_places_level_zero_left_and_the_rest_stacked_to_its_right() -> None:
    pyramid = gaussian_pyramid(data.astronaut()[:301, :257], 5)
    mosaic = pyramid_mosaic(pyramid, fill=7)
    heights = [p.shape[0] for p in pyramid]
    assert mosaic.level_offsets == ((0, 0), (0, 257), (151, 257), (227, 257), (265, 257))
    assert mosaic.image.shape == (301, 257 + 129, 3) and mosaic.image.dtype == np.uint8
    for (row, col), level in zip(mosaic.level_offsets, pyramid, strict=True):
        np.testing.assert_array_equal(
            mosaic.image[row : row + level.shape[0], col : col + level.shape[1]], level
        )
    assert sum(heights[1:]) < 301
    assert np.all(mosaic.image[sum(heights[1:]) :, 257:] == 7)


def test_mosaic_grows_taller_when_the_small_levels_need_it() -> None:
    mosaic = pyramid_mosaic(gaussian_pyramid(np.zeros((5, 5), np.float32), 10))
    assert mosaic.level_shapes == ((5, 5), (3, 3), (2, 2), (1, 1))
    assert mosaic.image.shape == (6, 8)


def test_mosaic_maps_a_click_to_its_level() -> None:
    mosaic = pyramid_mosaic(laplacian_pyramid(data.camera()[:301, :257], 4))
    assert mosaic.image.dtype == np.float32
    assert mosaic.level_at(10.5, 20.25) == (0, 10.5, 20.25)
    assert mosaic.level_at(151 + 3, 257 + 4) == (2, 3, 4)
    assert mosaic.level_at(300, 300) is None
    assert mosaic.level_at(-1, 0) is None


def test_mosaic_rejects_empty_or_mixed_levels() -> None:
    with pytest.raises(PyramidInputError, match="levels is empty"):
        pyramid_mosaic([])
    with pytest.raises(PyramidInputError, match="same number of channels"):
        pyramid_mosaic([np.zeros((4, 4, 3)), np.zeros((2, 2))])


def test_upsample_to_nearest_repeats_each_sample_into_its_block() -> None:
    image = data.astronaut()[:301, :257]
    pyramid = gaussian_pyramid(image, 4)
    for depth, level in enumerate(pyramid):
        full = upsample_to(level, image.shape[:2])
        assert full.shape == image.shape and full.dtype == np.uint8
        step = 2**depth
        np.testing.assert_array_equal(full[::step, ::step], level)
        np.testing.assert_array_equal(
            full[step - 1 :: step, step - 1 :: step],
            level[: (301 - step) // step + 1, : (257 - step) // step + 1],
        )


def test_upsample_to_expand_chains_pyramid_expand() -> None:
    level = np.random.default_rng(2).random((10, 9)).astype(np.float32)
    full = upsample_to(level, (37, 33), method="expand")
    chained = pyramid_expand(pyramid_expand(level, (19, 17)), (37, 33))
    assert full.dtype == np.float32
    np.testing.assert_allclose(full, chained, atol=1e-6)
    flat = upsample_to(np.full((10, 9), 3.0), (37, 33), method="expand")
    np.testing.assert_allclose(flat, 3.0, atol=1e-5)


def test_upsample_to_rejects_foreign_shapes_and_methods() -> None:
    with pytest.raises(PyramidInputError, match="not a pyramid level"):
        upsample_to(np.zeros((10, 9)), (41, 33))  # its levels: (21, 17), (11, 9), ...
    with pytest.raises(PyramidInputError, match="method"):
        upsample_to(np.zeros((10, 9)), (37, 33), method="cubic")  # type: ignore[arg-type]


def test_level_stats_reports_range_mean_and_energy() -> None:
    stats = level_stats(np.array([[-1.0, 1.0], [2.0, -2.0]], np.float32))
    assert (stats.shape, stats.dtype) == ((2, 2), "float32")
    assert (stats.min, stats.max, stats.mean, stats.energy) == (-2.0, 2.0, 0.0, 2.5)
    bright = level_stats(np.full((3, 4, 3), 255, np.uint8))
    assert bright.energy == 255.0**2 and bright.mean == 255.0


# ---------------------------------------------------------------------------------------------
# validation at the door
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("image", "message"),
    [
        (np.zeros(5, np.uint8), "image must be"),
        (np.zeros((2, 4, 4, 3), np.uint8), "image must be"),
        (np.zeros((4, 4, 5), np.uint8), "image must be"),
        (np.zeros((4, 4), bool), "dtype bool"),
        (np.zeros((4, 4), np.int32), "dtype int32"),
        (np.zeros((4, 4), np.float16), "dtype float16"),
        (np.zeros((0, 4), np.uint8), "empty"),
    ],
)
def test_pyramids_reject_unsupported_images(image: np.ndarray, message: str) -> None:
    for build in (gaussian_pyramid, laplacian_pyramid, dog_pyramid):
        with pytest.raises(PyramidInputError, match=message):
            build(image, 3)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"levels": 0}, "levels must be at least 1"),
        ({"levels": 2.5}, "levels must be an integer"),
        ({"levels": True}, "levels must be an integer"),
        ({"levels": 3, "sigma": 0}, "sigma must be positive"),
        ({"levels": 3, "kernel_size": 4}, "kernel_size must be odd"),
        ({"levels": 3, "kernel_size": 1}, "at least 3 taps"),
        ({"levels": 3, "kernel": np.ones((3, 3)) / 9}, "kernel must be 1-D"),
        ({"levels": 3, "kernel": [0.5, 0.5]}, "odd length"),
        ({"levels": 3, "kernel": [0.2, 0.5, 0.3]}, "symmetric"),
        ({"levels": 3, "kernel": [0.25, 0.25, 0.25]}, "sum to 1"),
        ({"levels": 3, "kernel": [-0.25, 1.5, -0.25]}, "non-negative"),
        ({"levels": 3, "kernel": ["a", "b", "c"]}, "kernel must be a 1-D array of numbers"),
    ],
)
def test_pyramids_reject_bad_options(kwargs: dict, message: str) -> None:
    image = np.zeros((16, 16), np.uint8)
    levels = kwargs.pop("levels")
    with pytest.raises(PyramidInputError, match=message):
        gaussian_pyramid(image, levels, **kwargs)
    with pytest.raises(PyramidInputError, match=message):
        laplacian_pyramid(image, levels, **kwargs)


def test_errors_are_workbench_errors_and_value_errors() -> None:
    with pytest.raises(WorkbenchError):
        gaussian_pyramid(np.zeros(3), 2)
    with pytest.raises(ValueError):
        reconstruct_from_laplacian([])


@pytest.mark.parametrize(
    ("shape", "message"),
    [((0, 3), "shape must be positive"), ((3,), "height, width"), ((2.5, 3), "integers")],
)
def test_shape_helpers_reject_bad_shapes(shape: tuple, message: str) -> None:
    for helper in (max_levels, lambda s: pyramid_shapes(s, 3), lambda s: upsample_to([[1.0]], s)):
        with pytest.raises(PyramidInputError, match=message):
            helper(shape)


def test_strip_pool_follows_opencvs_thread_count():
    from workbench.pyramid import levels as pyr_module

    before = cv2.getNumThreads()
    try:
        cv2.setNumThreads(2)
        first = pyr_module._strip_pool()
        assert first is pyr_module._strip_pool()  # kept between calls
        cv2.setNumThreads(4)
        second = pyr_module._strip_pool()
        assert second is not first and second._max_workers == 3
    finally:
        cv2.setNumThreads(before)
