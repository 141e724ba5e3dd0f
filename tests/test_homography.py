"""Tests for workbench.rectify.homography: estimation, fit checks, corner warnings, size, warp.

References are computed independently of the code under test: ground-truth homographies built
from random similarity/shear/perspective factors, OpenCV (getPerspectiveTransform, findHomography,
warpPerspective), a synthetic pinhole camera, and plain numpy.

Tolerances for the warp comparisons with OpenCV: both sides quantise the sub-pixel position to
1/32 px (OpenCV 4.11+ skips the quantisation in a few of its own warpPerspective kernels, e.g.
uint16 RGBA bilinear), so a pixel may differ by at most one 1/32-px step of each coordinate
times the steepest gradient of the image, plus one unit of rounding. Test images are smooth,
so for uint8 that bound is <= 1 grey level. The band of output pixels whose source position is
within 3 px of the image border mixes image and fill with a step of up to the full range, where
one position step is large; those pixels are compared with a looser bound, and pixels beyond it
must equal the fill exactly.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.errors import DegenerateConfigurationError, WorkbenchError
from workbench.rectify.homography import (
    HomographyFit,
    OutputSizeError,
    RectifiedSize,
    RectifyInputError,
    estimate_homography,
    homography_fit,
    quadrilateral_warnings,
    rectified_size,
    rectify_homography,
)
from workbench.rectify.warp import warp_perspective

CV_FLAGS = {"nearest": cv2.INTER_NEAREST, "bilinear": cv2.INTER_LINEAR,
            "bicubic": cv2.INTER_CUBIC}
SQUARE = np.array([[0.0, 0.0], [100.0, 0.0], [100.0, 100.0], [0.0, 100.0]])


# ---------------------------------------------------------------------------------------------
# helpers (independent of the module under test)
# ---------------------------------------------------------------------------------------------


def apply_h(H: np.ndarray, points: np.ndarray) -> np.ndarray:
    q = np.asarray(points, float) @ H[:, :2].T + H[:, 2]
    return q[:, :2] / q[:, 2:]


def random_homography(rng: np.random.Generator, size: float = 1000.0) -> np.ndarray:
    """Rotation x scale x shear x anisotropy, a translation and a mild perspective row.

    The perspective terms are small enough that w stays in [0.4, 1.6] on [0, size]^2.
    """
    angle = rng.uniform(-math.pi, math.pi)
    rot = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    aniso = rng.uniform(0.7, 1.4)
    shear = np.array([[aniso, rng.uniform(-0.3, 0.3)], [0.0, 1.0 / aniso]])
    H = np.eye(3)
    H[:2, :2] = rng.uniform(0.5, 2.0) * rot @ shear
    H[:2, 2] = rng.uniform(-size, size, 2)
    H[2, :2] = rng.uniform(-0.3, 0.3, 2) / size
    return H


def min_triangle_flatness(points: np.ndarray) -> float:
    """Smallest (2 * triangle area / longest side^2) over all triples."""
    worst = math.inf
    n = len(points)
    for i in range(n):
        for j in range(i + 1, n):
            for k in range(j + 1, n):
                a, b, c = points[i], points[j], points[k]
                area2 = abs((b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]))
                longest = max(np.sum((a - b) ** 2), np.sum((b - c) ** 2), np.sum((a - c) ** 2))
                worst = min(worst, area2 / longest)
    return worst


def well_spread_points(rng: np.random.Generator, n: int, size: float = 1000.0) -> np.ndarray:
    while True:
        pts = rng.uniform(0.0, size, (n, 2))
        if n > 4 or min_triangle_flatness(pts) > 0.1:
            return pts


def grid(size: float = 1000.0, steps: int = 11) -> np.ndarray:
    g = np.linspace(0.0, size, steps)
    return np.stack(np.meshgrid(g, g), axis=-1).reshape(-1, 2)


def smooth_image(rng: np.random.Generator, h: int, w: int, channels: int, dtype,
                 cells: tuple[int, int] = (6, 8)) -> np.ndarray:
    """Band-limited random image spanning 10%-90% of the dtype's range."""
    base = rng.random(cells + (channels,)).astype(np.float32)
    img = cv2.resize(base, (w, h), interpolation=cv2.INTER_CUBIC).reshape(h, w, channels)
    img = 0.1 + 0.8 * (img - img.min()) / (img.max() - img.min())
    if np.dtype(dtype).kind == "u":
        img = np.rint(img * np.iinfo(dtype).max)
    img = img.astype(dtype)
    return img[:, :, 0] if channels == 1 else img


def source_positions(H: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Exact (float64) source position of every output pixel centre."""
    w, h = size
    u, v = np.meshgrid(np.arange(w, dtype=float), np.arange(h, dtype=float))
    p = np.linalg.inv(H) @ np.stack([u.ravel(), v.ravel(), np.ones(u.size)])
    return (p[0] / p[2]).reshape(h, w), (p[1] / p[2]).reshape(h, w)


def regions(H: np.ndarray, size: tuple[int, int], src_shape: tuple[int, ...]):
    """Masks of output pixels whose source position is interior, in the border band, outside."""
    x, y = source_positions(H, size)
    sh, sw = src_shape[:2]
    interior = (x >= 2) & (x <= sw - 3) & (y >= 2) & (y <= sh - 3)
    outside = (x < -3) | (x > sw + 2) | (y < -3) | (y > sh + 2)
    return interior, ~interior & ~outside, outside


def steepest(img: np.ndarray) -> float:
    f = img.astype(float)
    return max(np.abs(np.diff(f, axis=0)).max(), np.abs(np.diff(f, axis=1)).max())


def channel_max(a: np.ndarray) -> np.ndarray:
    return a if a.ndim == 2 else a.max(axis=-1)


def assert_matches_opencv(ours, ref, img, H, size, interpolation, fill):
    """Interior within the quantisation bound, band loosely, outside exactly the fill."""
    interior, band, outside = regions(H, size, img.shape)
    assert interior.sum() > 100 and outside.sum() > 20  # the geometry exercises all three
    diff = channel_max(np.abs(ours.astype(float) - ref.astype(float)))
    unit = 1.0 if img.dtype.kind == "u" else 1e-6
    if interpolation == "nearest":
        bad = diff > 0
        if bad.any():  # only allowed where the exact position sits on a rounding boundary
            x, y = source_positions(H, size)
            tie = np.minimum(np.abs(x - np.floor(x) - 0.5), np.abs(y - np.floor(y) - 0.5))
            assert np.all(tie[bad] < 1e-3), f"{bad.sum()} nearest-neighbour pixels differ"
            assert bad.mean() < 0.01
    else:
        tol = steepest(img) / 32.0 + unit
        if img.dtype == np.uint8:
            assert tol <= 1.5  # smooth enough that the brief's bound (<= 1) is the bound
            tol = 1.0
        assert diff[interior].max() <= tol
        span = max(float(np.abs(img.astype(float) - np.min(fill)).max()),
                   float(np.abs(img.astype(float) - np.max(fill)).max()))
        assert diff[band].max() <= span / 8.0 + unit
    fill_arr = np.asarray(fill, dtype=ours.dtype)
    fill_arr = fill_arr[0] if ours.ndim == 2 else fill_arr
    assert np.all(ours[outside] == fill_arr)


# ---------------------------------------------------------------------------------------------
# estimate_homography: exact recovery and least squares
# ---------------------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**32 - 1))
def test_four_points_recover_the_homography_exactly(seed):
    rng = np.random.default_rng(seed)
    H_true = random_homography(rng)
    src = well_spread_points(rng, 4)
    H = estimate_homography(src, apply_h(H_true, src))
    assert H.shape == (3, 3) and H.dtype == np.float64
    assert H[2, 2] == 1.0
    g = grid()
    np.testing.assert_allclose(apply_h(H, g), apply_h(H_true, g), atol=1e-6)


@settings(max_examples=30, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(5, 60))
def test_more_points_recover_an_exact_homography(seed, n):
    rng = np.random.default_rng(seed)
    H_true = random_homography(rng)
    src = well_spread_points(rng, n)
    H = estimate_homography(src.tolist(), apply_h(H_true, src).tolist())  # lists accepted
    g = grid()
    np.testing.assert_allclose(apply_h(H, g), apply_h(H_true, g), atol=1e-6)


def test_four_points_agree_with_get_perspective_transform():
    rng = np.random.default_rng(7)
    for _ in range(20):
        # OpenCV takes float32 points: give both the same, already rounded, input.
        src = well_spread_points(rng, 4).astype(np.float32)
        dst = apply_h(random_homography(rng), src).astype(np.float32)
        ref = cv2.getPerspectiveTransform(src, dst)
        try:
            ours = estimate_homography(src, dst)
        except DegenerateConfigurationError:
            continue  # a random dst can send the source origin to infinity
        # OpenCV solves the unnormalised 8 x 8 system, good to ~1e-6 relative; compare where
        # it matters, inside the quadrilateral
        inside = rng.dirichlet(np.ones(4), 50) @ src
        np.testing.assert_allclose(apply_h(ours, inside), apply_h(ref, inside),
                                   rtol=1e-6, atol=1e-4)


@pytest.mark.parametrize("offset", [0.0, 5e4])
def test_noisy_least_squares_is_as_good_as_opencv(offset):
    # cv2.findHomography(method=0) refines the algebraic solution on the reprojection error, so
    # the normalised DLT must come within a few per cent of it. Far-from-origin coordinates only
    # stay accurate with Hartley normalisation.
    rng = np.random.default_rng(11)
    for _ in range(10):
        H_true = random_homography(rng)
        src = rng.uniform(0, 1000, (20, 2))
        dst = apply_h(H_true, src) + rng.normal(0.0, 1.0, (20, 2))
        src = src + offset
        ours = estimate_homography(src, dst)
        ref, _ = cv2.findHomography(src, dst, 0)
        rms_ours = np.sqrt(np.mean(np.sum((apply_h(ours, src) - dst) ** 2, axis=1)))
        rms_cv = np.sqrt(np.mean(np.sum((apply_h(ref, src) - dst) ** 2, axis=1)))
        assert rms_ours <= 1.03 * rms_cv
        assert 0.5 < rms_ours < 1.5  # about the noise level (sigma 1 px per axis, 8 dof)


@pytest.mark.parametrize("bad, message", [
    (np.zeros((3, 2)), "at least 4"),
    (np.zeros((4, 3)), "shape"),
    ([[0, 0], [1, 0], [1, float("nan")], [0, 1]], "point 3"),
])
def test_estimate_rejects_malformed_points(bad, message):
    with pytest.raises(ValueError, match=message):
        estimate_homography(bad, SQUARE[: len(bad)] if len(bad) <= 4 else SQUARE)


def test_estimate_rejects_different_counts():
    with pytest.raises(ValueError, match="same number"):
        estimate_homography(np.vstack([SQUARE, [[50, 50]]]), SQUARE)


# ---------------------------------------------------------------------------------------------
# estimate_homography: degenerate configurations
# ---------------------------------------------------------------------------------------------

QUAD = np.array([[10.0, 20.0], [410.0, 40.0], [380.0, 300.0], [30.0, 280.0]])


def _on_line(a, b, t):
    return (1 - t) * np.asarray(a) + t * np.asarray(b)


def _case(which, modify):
    src, dst = QUAD.copy(), SQUARE.copy() * 3
    modify(src if which == "source" else dst)
    return src, dst


def _dup(i, j):
    def modify(p):
        p[j] = p[i]
    return modify


def _collinear(i, j, k, offset=0.0):
    def modify(p):
        p[k] = _on_line(p[i], p[j], 0.37)
        normal = np.array([-(p[j] - p[i])[1], (p[j] - p[i])[0]])
        p[k] += offset * normal
    return modify


@pytest.mark.parametrize("which", ["source", "destination"])
@pytest.mark.parametrize("modify, numbers, indices", [
    (_dup(0, 2), "1 and 3 coincide", (0, 2)),
    (_dup(3, 1), "2 and 4 coincide", (1, 3)),
    (_collinear(0, 1, 3), "1, 2 and 4 are (nearly) collinear", (0, 1, 3)),
    (_collinear(1, 3, 2), "2, 3 and 4 are (nearly) collinear", (1, 2, 3)),
    (_collinear(0, 2, 1, offset=1e-9), "1, 2 and 3 are (nearly) collinear", (0, 1, 2)),
])
def test_degenerate_four_points_are_named(which, modify, numbers, indices):
    src, dst = _case(which, modify)
    with pytest.raises(DegenerateConfigurationError) as info:
        estimate_homography(src, dst)
    assert f"{which} points {numbers}" in str(info.value)
    assert info.value.indices == indices
    assert isinstance(info.value, WorkbenchError)


def test_slightly_off_a_line_is_still_accepted():
    src = QUAD.copy()
    _collinear(0, 2, 1, offset=1e-3)(src)
    H = estimate_homography(src, SQUARE)
    np.testing.assert_allclose(apply_h(H, src), SQUARE, atol=1e-6)


def test_all_points_on_one_line():
    line = np.array([[0.0, 0.0], [1.0, 2.0], [2.0, 4.0], [5.0, 10.0], [7.0, 14.0], [9.0, 18.0]])
    with pytest.raises(DegenerateConfigurationError, match="all four source points") as info:
        estimate_homography(line[:4], SQUARE)
    assert info.value.indices == (0, 1, 2, 3)
    with pytest.raises(DegenerateConfigurationError, match="all destination points") as info:
        estimate_homography(grid(100, 3)[:6], line)
    assert info.value.indices == tuple(range(6))


def test_all_but_one_point_on_a_line_is_degenerate_for_many_points():
    src = np.array([[0.0, 0.0], [10.0, 1.0], [20.0, 2.0], [30.0, 3.0], [40.0, 4.0], [7.0, 50.0]])
    dst = grid(100, 3)[:6]
    with pytest.raises(DegenerateConfigurationError) as info:
        estimate_homography(src, dst)
    assert "source points 1, 2, 3, 4 and 5 lie on one line" in str(info.value)
    assert "point 6" in str(info.value)
    assert info.value.indices == (0, 1, 2, 3, 4)
    # ... whereas three on a line among five is fine
    src[3] = [25.0, 40.0]
    estimate_homography(src, dst)


def test_all_points_coincide():
    with pytest.raises(DegenerateConfigurationError, match="all source points coincide"):
        estimate_homography(np.ones((4, 2)), SQUARE)


def test_duplicates_among_many_points():
    rng = np.random.default_rng(3)
    src = rng.uniform(0, 500, (300, 2))
    src[250] = src[17]
    dst = apply_h(random_homography(rng, 500), src)
    with pytest.raises(DegenerateConfigurationError, match="source points 18 and 251 coincide"):
        estimate_homography(src, dst)


def test_origin_sent_to_infinity_cannot_be_normalised():
    H_true = np.array([[1.0, 0.0, 100.0], [0.0, 1.0, 50.0], [0.001, 0.002, 0.0]])
    src = np.array([[100.0, 100.0], [600.0, 120.0], [580.0, 600.0], [120.0, 560.0]])
    with pytest.raises(DegenerateConfigurationError, match=r"origin \(0, 0\)"):
        estimate_homography(src, apply_h(H_true, src))


# ---------------------------------------------------------------------------------------------
# homography_fit
# ---------------------------------------------------------------------------------------------


def test_fit_of_an_exact_four_point_solution():
    dst = np.array([[0.0, 0.0], [399.0, 0.0], [399.0, 299.0], [0.0, 299.0]])
    H = estimate_homography(QUAD, dst)
    fit = homography_fit(QUAD, dst, H)
    assert isinstance(fit, HomographyFit)
    assert fit.errors.shape == (4,) and fit.max < 1e-9 and fit.rms < 1e-9
    assert 1.0 < fit.condition < 1e3
    assert fit.warnings == ()
    with pytest.raises(ValueError):
        fit.errors[0] = 1.0  # frozen


def test_fit_errors_are_reprojection_distances():
    rng = np.random.default_rng(5)
    src = rng.uniform(0, 500, (12, 2))
    H_true = random_homography(rng, 500)
    dst = apply_h(H_true, src)
    moved = np.array([[1.0, 0.0, 3.0], [0.0, 1.0, 4.0], [0.0, 0.0, 1.0]]) @ H_true
    fit = homography_fit(src, dst, moved * 7.0)  # scale of H must not matter
    np.testing.assert_allclose(fit.errors, 5.0, rtol=1e-9)
    assert fit.rms == pytest.approx(5.0) and fit.max == pytest.approx(5.0)
    assert any("5 px" in w for w in fit.warnings)


def test_fit_condition_is_scale_free_and_grows_near_degeneracy():
    dst = SQUARE * 4
    base = homography_fit(QUAD, dst, estimate_homography(QUAD, dst)).condition
    moved = QUAD * 13.0 + 5000.0
    assert homography_fit(moved, dst, estimate_homography(moved, dst)).condition == (
        pytest.approx(base, rel=1e-6))
    src, near = QUAD.copy(), dst.copy()
    _collinear(0, 2, 1, offset=1e-6)(src)
    _collinear(0, 2, 1, offset=1e-6)(near)
    fit = homography_fit(src, near, estimate_homography(src, near))
    assert fit.condition > 1e4 * base
    assert any("condition number" in w for w in fit.warnings)


def test_fit_warns_about_a_mirror_and_a_torn_mapping():
    mirrored = SQUARE * [-1.0, 1.0]
    fit = homography_fit(SQUARE, mirrored, estimate_homography(SQUARE, mirrored))
    assert any("mirrors" in w for w in fit.warnings)

    H = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [-0.004, 0.0, 1.0]])  # w < 0 beyond x = 250
    src = np.array([[0.0, 0.0], [300.0, 0.0], [300.0, 100.0], [0.0, 100.0], [100.0, 50.0]])
    fit = homography_fit(src, apply_h(H, src), H)
    assert any("points 2 and 3 lie on the other side" in w for w in fit.warnings)


def test_fit_warns_when_the_mapping_is_nearly_singular():
    src = QUAD.copy()
    _collinear(0, 2, 1, offset=1e-5)(src)
    H = estimate_homography(src, SQUARE)
    assert any("singular" in w for w in homography_fit(src, SQUARE, H).warnings)


# ---------------------------------------------------------------------------------------------
# quadrilateral_warnings
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("corners", [
    [[0, 0], [400, 0], [400, 300], [0, 300]],
    [[120, 80], [900, 40], [1000, 700], [60, 650]],  # ordinary perspective
    [[300, 100], [700, 120], [980, 700], [20, 690]],  # strong keystone
])
def test_good_outlines_have_no_warnings(corners):
    assert quadrilateral_warnings(corners) == []


@pytest.mark.parametrize("corners, expected", [
    ([[0, 0], [100, 0], [0, 80], [100, 80]],
     ["crosses itself", "3 (bottom-right)", "4 (bottom-left)"]),
    ([[0, 0], [100, 80], [100, 0], [0, 80]],
     ["crosses itself", "2 (top-right)", "3 (bottom-right)"]),
    # top-right dragged left of top-left: those two crossed, not 3 and 4 (issue 19)
    ([[0, 0], [-30, 0], [100, 80], [0, 80]],
     ["crosses itself", "corners 1 (top-left) and 2 (top-right) look swapped"]),
    # bottom-left dragged right of bottom-right
    ([[0, 0], [100, 0], [100, 80], [130, 80]],
     ["crosses itself", "corners 3 (bottom-right) and 4 (bottom-left) look swapped"]),
    # top-left dragged below bottom-left
    ([[0, 100], [100, 0], [100, 80], [0, 80]],
     ["crosses itself", "corners 1 (top-left) and 4 (bottom-left) look swapped"]),
    ([[0, 0], [50, 41], [100, 80], [0, 80]],
     ["nearly on one line", "1 (top-left), 2 (top-right) and 3 (bottom-right)"]),
    ([[0, 0], [1, 0.5], [100, 80], [0, 80]],
     ["corners 1 (top-left) and 2 (top-right) are too close"]),
    ([[0, 0], [100, 0], [40, 30], [0, 80]], ["corner 3 (bottom-right) points inwards"]),
    ([[0, 0], [0, 80], [100, 80], [100, 0]], ["mirrored"]),
    ([[0, 0], [5, 0], [5, 5], [0, 5]], ["tiny"]),
    ([[3, 3], [3, 3], [3, 3], [3, 3]], ["same spot"]),
])
def test_bad_outlines_are_explained(corners, expected):
    messages = quadrilateral_warnings(corners)
    text = " | ".join(messages)
    for fragment in expected:
        assert fragment in text, text


def test_each_problem_is_reported_once():
    assert len(quadrilateral_warnings([[0, 0], [100, 0], [0, 80], [100, 80]])) == 1
    assert len(quadrilateral_warnings([[0, 0], [1, 0.5], [100, 80], [0, 80]])) == 1


def test_quadrilateral_warnings_needs_four_points():
    with pytest.raises(ValueError, match="exactly 4"):
        quadrilateral_warnings([[0, 0], [1, 0], [1, 1]])


# ---------------------------------------------------------------------------------------------
# rectified_size and rectify_homography (synthetic pinhole camera)
# ---------------------------------------------------------------------------------------------

IMAGE = (2000, 1500)


def rotation(yaw, pitch, roll):
    y, p, r = np.radians([yaw, pitch, roll])
    ry = np.array([[np.cos(y), 0, np.sin(y)], [0, 1, 0], [-np.sin(y), 0, np.cos(y)]])
    rx = np.array([[1, 0, 0], [0, np.cos(p), -np.sin(p)], [0, np.sin(p), np.cos(p)]])
    rz = np.array([[np.cos(r), -np.sin(r), 0], [np.sin(r), np.cos(r), 0], [0, 0, 1]])
    return rz @ ry @ rx


def camera_matrix(focal, image=IMAGE):
    return np.array([[focal, 0, (image[0] - 1) / 2], [0, focal, (image[1] - 1) / 2], [0, 0, 1]])


def plane_to_image(focal, yaw, pitch, roll, distance, image=IMAGE):
    """Homography from plane coordinates (x right, y down, z = 0) to image pixels."""
    R = rotation(yaw, pitch, roll)
    return camera_matrix(focal, image) @ np.column_stack([R[:, 0], R[:, 1], [0, 0, distance]])


def photographed_corners(focal, aspect, yaw, pitch, roll, distance=2.0):
    a = aspect / 2
    rect = np.array([[-a, -0.5], [a, -0.5], [a, 0.5], [-a, 0.5]])
    return apply_h(plane_to_image(focal, yaw, pitch, roll, distance), rect)


POSES = [  # focal, aspect, yaw, pitch, roll
    (1200.0, 1.414, 30.0, -20.0, 5.0),
    (800.0, 0.7, -25.0, 35.0, -10.0),
    (2500.0, 1.0, 10.0, 40.0, 0.0),
    (1800.0, 2.5, -35.0, -15.0, 12.0),
]


@pytest.mark.parametrize("focal, aspect, yaw, pitch, roll", POSES)
def test_zhang_he_recovers_aspect_and_focal(focal, aspect, yaw, pitch, roll):
    corners = photographed_corners(focal, aspect, yaw, pitch, roll)
    size = rectified_size(corners, image_size=IMAGE)
    assert isinstance(size, RectifiedSize)
    assert size.method == "zhang-he"
    assert size.aspect == pytest.approx(aspect, rel=1e-6)
    assert size.focal == pytest.approx(focal, rel=1e-6)
    assert (size.width - 1) / (size.height - 1) == pytest.approx(aspect, rel=0.01)
    sides = np.hypot(*(corners - np.roll(corners, -1, axis=0)).T)  # top, right, bottom, left
    assert size.width - 1 >= round(max(sides[0], sides[2]))  # no side is shrunk
    assert size.height - 1 >= round(max(sides[1], sides[3])) - 1


@pytest.mark.parametrize("focal, aspect, yaw, pitch, roll", POSES[:1] + POSES[2:])
def test_zhang_he_with_half_pixel_noise_is_within_two_percent(focal, aspect, yaw, pitch, roll):
    rng = np.random.default_rng(2)
    corners = photographed_corners(focal, aspect, yaw, pitch, roll, distance=1.5)
    for _ in range(10):
        noisy = corners + rng.normal(0.0, 0.5, corners.shape)
        assert rectified_size(noisy, image_size=IMAGE).aspect == pytest.approx(aspect, rel=0.02)


def test_zhang_he_without_image_size_uses_the_centroid():
    corners = photographed_corners(1200.0, 1.414, 30.0, -20.0, 5.0)
    size = rectified_size(corners)
    assert size.method == "zhang-he"
    assert size.aspect == pytest.approx(1.414, rel=0.03)  # principal point only approximated


def test_fronto_parallel_falls_back_to_side_lengths():
    corners = [[100, 50], [400, 50], [400, 250], [100, 250]]
    size = rectified_size(corners, image_size=IMAGE)
    assert (size.method, size.focal) == ("side-lengths", None)
    assert size.aspect == pytest.approx(1.5)
    assert (size.width, size.height) == (301, 201)


def test_affine_view_falls_back_to_side_lengths():
    corners = np.array([[100.0, 100.0], [400.0, 150.0], [450.0, 350.0], [150.0, 300.0]])
    size = rectified_size(corners, image_size=IMAGE)
    assert size.method == "side-lengths" and size.focal is None
    top, right = np.hypot(300, 50), np.hypot(50, 200)
    assert size.aspect == pytest.approx(top / right)


def test_pure_tilt_cannot_give_the_focal_length():
    # Tilting only about the horizontal axis leaves top and bottom parallel: f is undetermined.
    corners = photographed_corners(1500.0, 1.5, 0.0, 30.0, 0.0)
    assert rectified_size(corners, image_size=IMAGE).method == "side-lengths"


@pytest.mark.parametrize("corners, message", [
    ([[0, 0], [100, 0], [0, 80], [100, 80]], "crosses itself"),
    ([[0, 0], [100, 0], [40, 30], [0, 80]], "points inwards"),
    ([[0, 0], [50, 40], [100, 80], [0, 80]], "collinear"),
])
def test_rectified_size_rejects_impossible_outlines(corners, message):
    with pytest.raises(DegenerateConfigurationError, match=message):
        rectified_size(corners)


def test_rectify_homography_maps_corners_to_corner_pixel_centres():
    corners = photographed_corners(1200.0, 1.414, 30.0, -20.0, 5.0)
    H = rectify_homography(corners, (300, 200))
    np.testing.assert_allclose(apply_h(H, corners),
                               [[0, 0], [299, 0], [299, 199], [0, 199]], atol=1e-8)
    size = rectified_size(corners, image_size=IMAGE)
    H2 = rectify_homography(corners, size)
    np.testing.assert_allclose(apply_h(H2, corners)[2], [size.width - 1, size.height - 1])
    with pytest.raises(OutputSizeError):
        rectify_homography(corners, (1, 200))


def test_rectifying_a_synthetic_photo_gives_back_the_pattern():
    rng = np.random.default_rng(4)
    pattern = smooth_image(rng, 100, 150, 3, np.uint8)
    # plane units = pattern pixels; camera sees the pattern's pixel-centre rectangle obliquely
    to_plane = np.array([[1 / 100, 0, -0.745], [0, 1 / 100, -0.495], [0, 0, 1]])
    G = plane_to_image(350.0, 25.0, -30.0, 8.0, 2.5, image=(400, 300)) @ to_plane
    photo = cv2.warpPerspective(pattern, G, (400, 300), flags=cv2.INTER_CUBIC)
    corners = apply_h(G, np.array([[0, 0], [149, 0], [149, 99], [0, 99]]))
    assert np.all((corners > 20) & (corners < [380, 280]))  # the whole pattern is in the photo
    size = rectified_size(corners, image_size=(400, 300))
    assert size.aspect == pytest.approx(149 / 99, rel=1e-6)
    out = warp_perspective(photo, rectify_homography(corners, size), (size.width, size.height))
    scale = np.diag([(size.width - 1) / 149, (size.height - 1) / 99, 1.0])
    expected = cv2.warpPerspective(pattern, scale, (size.width, size.height))
    inner = (slice(8, -8), slice(8, -8))
    assert np.abs(out[inner].astype(int) - expected[inner]).mean() < 1.0  # 10% off gives 14


# ---------------------------------------------------------------------------------------------
# warp_perspective vs cv2.warpPerspective
# ---------------------------------------------------------------------------------------------

WARP_SRC = np.float32([[-10, -5], [125, 8], [110, 95], [5, 80]])  # partly outside the image
WARP_OUT = (110, 100)
WARP_H = cv2.getPerspectiveTransform(
    WARP_SRC, np.float32([[0, 0], [109, 0], [109, 99], [0, 99]])).astype(np.float64)


@pytest.mark.parametrize("interpolation", ["nearest", "bilinear", "bicubic"])
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
@pytest.mark.parametrize("channels", [1, 3, 4])
def test_warp_matches_opencv(interpolation, dtype, channels):
    rng = np.random.default_rng(channels * 10 + len(interpolation))
    img = smooth_image(rng, 90, 120, channels, dtype)
    scale = {np.uint8: 1.0, np.uint16: 100.0, np.float32: 0.01}[dtype]
    fill = tuple(v * scale for v in (7.0, 20.0, 33.0, 46.0)[:channels])
    ours = warp_perspective(img, WARP_H, WARP_OUT, interpolation=interpolation, fill=fill)
    ref = cv2.warpPerspective(img, WARP_H, WARP_OUT, flags=CV_FLAGS[interpolation],
                              borderMode=cv2.BORDER_CONSTANT, borderValue=fill)
    assert ours.dtype == img.dtype and ours.shape == ref.shape
    assert_matches_opencv(ours, ref, img, WARP_H, WARP_OUT, interpolation, fill)


def test_float64_and_scalar_fill():
    rng = np.random.default_rng(8)
    img = smooth_image(rng, 90, 120, 3, np.float64)
    ours = warp_perspective(img, WARP_H, WARP_OUT, interpolation="bicubic", fill=0.25)
    ref = cv2.warpPerspective(img, WARP_H, WARP_OUT, flags=cv2.INTER_CUBIC,
                              borderValue=(0.25, 0.25, 0.25))
    assert ours.dtype == np.float64
    assert_matches_opencv(ours, ref, img, WARP_H, WARP_OUT, "bicubic", (0.25,) * 3)


@pytest.mark.parametrize("interpolation", ["nearest", "bilinear", "bicubic"])
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32, np.float64])
def test_identity_and_integer_shift_are_exact(interpolation, dtype):
    rng = np.random.default_rng(9)
    # OpenCV's float bicubic weights at a whole pixel sum to 1 only to within an ulp
    exact = np.testing.assert_array_equal if dtype(0.5) == 0 or interpolation != "bicubic" else (
        lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-6))
    img = (rng.random((40, 50, 3)) * 200).astype(dtype)
    exact(warp_perspective(img, np.eye(3), (50, 40), interpolation=interpolation), img)
    shift = np.array([[1.0, 0.0, 3.0], [0.0, 1.0, -2.0], [0.0, 0.0, 1.0]])
    out = warp_perspective(img, shift, (50, 40), interpolation=interpolation, fill=(1, 2, 3))
    exact(out[:38, 3:], img[2:, :47])
    assert np.all(out[:, :3] == np.array([1, 2, 3], dtype=dtype))
    assert np.all(out[38:] == np.array([1, 2, 3], dtype=dtype))


def test_output_spanning_several_tiles_matches_opencv():
    rng = np.random.default_rng(10)
    img = smooth_image(rng, 500, 700, 3, np.uint8)
    src = np.float32([[30, 20], [690, 60], [650, 480], [10, 430]])
    size = (1000, 700)  # more than one tile of rows
    H = cv2.getPerspectiveTransform(src, np.float32([[0, 0], [999, 0], [999, 699], [0, 699]]))
    ours = warp_perspective(img, H, size)
    ref = cv2.warpPerspective(img, H, size, flags=cv2.INTER_LINEAR)
    interior, _, _ = regions(H, size, img.shape)
    assert np.abs(ours.astype(int) - ref)[interior].max() <= 1


def test_vanishing_line_inside_the_output_matches_opencv():
    # w = 1 - 0.0205 u changes sign at u ~ 48.8; beyond u = 100 the "behind" positions land back
    # inside the source, which OpenCV samples like any other (and so do we).
    Hinv = np.array([[-1.0, 0.0, 100.0], [0.0, 1.0, 0.0], [-0.0205, 0.0, 1.0]])
    H = np.linalg.inv(Hinv)
    rng = np.random.default_rng(12)
    img = smooth_image(rng, 60, 320, 1, np.uint8, cells=(3, 6))
    ours = warp_perspective(img, H, (200, 60))
    ref = cv2.warpPerspective(img, H, (200, 60), flags=cv2.INTER_LINEAR)
    assert_matches_opencv(ours, ref, img, H, (200, 60), "bilinear", (0,))
    x, _ = source_positions(H, (200, 60))
    assert np.any((x[0, 100:] > 5) & (x[0, 100:] < 300))  # the far side really is sampled


def test_output_wholly_outside_the_source_is_fill():
    img = np.full((30, 40), 200, np.uint8)
    far = np.array([[1.0, 0.0, 5000.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    assert np.all(warp_perspective(img, far, (64, 32), fill=9) == 9)


# ---------------------------------------------------------------------------------------------
# fill
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("channels", [1, 3, 4])
@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_transparent_fill(channels, dtype):
    rng = np.random.default_rng(13)
    img = smooth_image(rng, 90, 120, channels, dtype)
    opaque = 255 if dtype == np.uint8 else 1.0
    out = warp_perspective(img, WARP_H, WARP_OUT, fill="transparent")
    assert out.shape == WARP_OUT[::-1] + (4,) and out.dtype == img.dtype
    interior, band, outside = regions(WARP_H, WARP_OUT, img.shape)
    alpha = out[..., 3].astype(float)
    tol = 1.0 if dtype == np.uint8 else 1e-6
    if channels == 4:
        expected_alpha = cv2.warpPerspective(np.ascontiguousarray(img[..., 3]), WARP_H, WARP_OUT,
                                             flags=cv2.INTER_LINEAR, borderValue=0)
        step = steepest(img[..., 3]) / 32.0 + tol
        assert np.abs(alpha - expected_alpha)[interior].max() <= max(step, tol)
    else:
        assert np.all(alpha[interior] == opaque)
    assert np.all(alpha[band] >= 0) and np.all(alpha[band] <= opaque)
    assert np.all(out[outside] == 0)
    assert np.all(out[..., :3][alpha == 0] == 0)
    # colours are not darkened by the border: they continue the edge (straight alpha)
    colour = img if channels != 4 else np.ascontiguousarray(img[..., :3])
    ref = cv2.warpPerspective(colour, WARP_H, WARP_OUT, flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_REPLICATE)
    ref = ref[..., None].repeat(3, axis=-1) if ref.ndim == 2 else ref
    seen = alpha > 0
    bound = steepest(colour) / 32.0 + tol
    assert np.abs(out[..., :3].astype(float) - ref)[seen].max() <= max(bound, tol)


@pytest.mark.parametrize("fill, error", [
    ((1, 2), "one per channel"),
    (300, "does not fit"),
    (-1, "does not fit"),
    ("clear", "transparent"),
    (float("nan"), "finite"),
])
def test_bad_fill_is_rejected(fill, error):
    with pytest.raises(ValueError, match=error):
        warp_perspective(np.zeros((10, 10, 3), np.uint8), np.eye(3), (10, 10), fill=fill)


# ---------------------------------------------------------------------------------------------
# sizes beyond cv2.remap's 32767-pixel limit
# ---------------------------------------------------------------------------------------------


def _swap_xy(H):
    P = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    return P @ H @ P


@pytest.mark.parametrize("tall", [False, True])
def test_output_wider_than_32767_matches_opencv(tall):
    # OpenCV's own warpPerspective accepts a large output from a small source.
    rng = np.random.default_rng(14)
    img = smooth_image(rng, 8, 300, 1, np.uint8, cells=(1, 8))
    H = np.array([[130.0, 0.0, 40.0], [0.0, 1.0, -3.0], [2e-4, 0.0, 1.0]])
    size = (40000, 2)
    if tall:
        img, H, size = np.ascontiguousarray(img.T), _swap_xy(H), size[::-1]
    ours = warp_perspective(img, H, size)
    ref = cv2.warpPerspective(img, H, size, flags=cv2.INTER_LINEAR)
    assert ours.shape == ref.shape == size[::-1]
    assert_matches_opencv(ours, ref, img, H, size, "bilinear", (0,))


def opencv_by_pieces(img, H, size, piece=2000, margin=8):
    """cv2.warpPerspective on column strips of the output and matching crops of the source."""
    width, height = size
    out = np.zeros((height, width) + img.shape[2:], img.dtype)
    Hinv = np.linalg.inv(H)
    for a in range(0, width, piece):
        b = min(width, a + piece)
        ends = np.array([[a, 0], [b - 1, 0], [a, height - 1], [b - 1, height - 1]], float)
        xs = apply_h(Hinv, ends)[:, 0]
        c0 = max(0, int(np.floor(xs.min())) - margin)
        c1 = min(img.shape[1], int(np.ceil(xs.max())) + margin + 1)
        if c0 >= c1:
            continue
        shift_out = np.array([[1.0, 0, -a], [0, 1, 0], [0, 0, 1]])
        shift_src = np.array([[1.0, 0, c0], [0, 1, 0], [0, 0, 1]])
        out[:, a:b] = cv2.warpPerspective(np.ascontiguousarray(img[:, c0:c1]),
                                          shift_out @ H @ shift_src, (b - a, height),
                                          flags=cv2.INTER_LINEAR)
    return out


@pytest.mark.parametrize("out_width", [4000, 40000])
def test_source_wider_than_32767_matches_opencv_on_crops(out_width):
    rng = np.random.default_rng(15)
    strip = smooth_image(rng, 8, 4000, 1, np.uint8, cells=(1, 40))
    img = np.ascontiguousarray(np.tile(strip, (1, 10)))  # 8 x 40000
    sx = out_width / 40000.0
    H = np.array([[sx, 0.02, -10.0], [0.0, 1.0, -3.0], [1e-7, 0.0, 1.0]])
    size = (out_width, 2)
    ours = warp_perspective(img, H, size)
    ref = opencv_by_pieces(img, H, size)
    interior, _, _ = regions(H, size, img.shape)
    assert interior.mean() > 0.9
    assert np.abs(ours.astype(int) - ref)[interior].max() <= 1
    with pytest.raises(cv2.error):  # what we are working around
        cv2.warpPerspective(img, H, size)


# ---------------------------------------------------------------------------------------------
# warp_perspective input checking
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("H", [
    [[1, 2, 3], [2, 4, 6], [0, 0, 1]],
    [[1, 0, 0], [0, 1, 0], [0, 0, 0]],
    np.zeros((3, 3)),
])
def test_singular_h_is_rejected(H):
    with pytest.raises(ValueError, match="singular"):
        warp_perspective(np.zeros((10, 10), np.uint8), H, (10, 10))


@pytest.mark.parametrize("H, message", [
    (np.eye(2), "shape"),
    ([[1, 0, 0], [0, 1, 0], [0, 0, float("inf")]], "finite"),
])
def test_malformed_h_is_rejected(H, message):
    with pytest.raises(ValueError, match=message):
        warp_perspective(np.zeros((10, 10), np.uint8), H, (10, 10))


@pytest.mark.parametrize("size, error", [
    ((0, 10), OutputSizeError),
    ((10, -1), OutputSizeError),
    ((40000, 40000), OutputSizeError),
    ((10.0, 10), RectifyInputError),
    ((10,), RectifyInputError),
])
def test_output_size_is_checked(size, error):
    with pytest.raises(error, match="output_size"):
        warp_perspective(np.zeros((10, 10), np.uint8), np.eye(3), size)


def test_huge_output_size_message_is_for_users():
    with pytest.raises(WorkbenchError, match="gigapixel"):
        warp_perspective(np.zeros((10, 10), np.uint8), np.eye(3), (100000, 100000))


@pytest.mark.parametrize("image, error, message", [
    (np.zeros((10, 10), np.int32), RectifyInputError, "uint8"),
    (np.zeros((10, 10, 2), np.uint8), RectifyInputError, "RGBA"),
    (np.zeros((0, 10), np.uint8), RectifyInputError, "empty"),
])
def test_image_is_checked(image, error, message):
    with pytest.raises(error, match=message):
        warp_perspective(image, np.eye(3), (10, 10))


def test_unknown_interpolation_is_rejected():
    with pytest.raises(ValueError, match="interpolation"):
        warp_perspective(np.zeros((10, 10), np.uint8), np.eye(3), (10, 10),
                         interpolation="cubic")


@pytest.mark.parametrize("threads", [1, 2])
def test_warp_reports_progress_per_tile_and_gives_the_same_image(monkeypatch, threads):
    from workbench.rectify import warp as hg

    monkeypatch.setattr(hg, "_TILE_PIXELS", 4096)  # many small tiles
    image = np.random.default_rng(3).integers(0, 255, (120, 160, 3), np.uint8)
    H = np.array([[0.9, 0.1, 5.0], [-0.05, 1.1, 2.0], [1e-4, 2e-4, 1.0]])
    before = cv2.getNumThreads()
    cv2.setNumThreads(threads)
    try:
        seen: list[float] = []
        out = warp_perspective(image, H, (200, 150), progress=seen.append)
    finally:
        cv2.setNumThreads(before)
    assert len(seen) == len(hg._tiles(200, 150)) > 5
    assert seen == sorted(seen) and seen[-1] == 1.0 and seen[0] > 0
    assert np.array_equal(out, warp_perspective(image, H, (200, 150)))


@pytest.mark.parametrize("threads", [1, 2])
def test_an_exception_from_progress_stops_the_warp(monkeypatch, threads):
    from workbench.rectify import warp as hg

    monkeypatch.setattr(hg, "_TILE_PIXELS", 2048)
    runs = []
    original = hg._Warp.run
    monkeypatch.setattr(hg._Warp, "run", lambda self, tile: (runs.append(tile),
                                                             original(self, tile)))

    class Stop(Exception):
        pass

    def stop(_fraction):
        raise Stop

    before = cv2.getNumThreads()
    cv2.setNumThreads(threads)
    try:
        with pytest.raises(Stop):
            warp_perspective(np.zeros((100, 100), np.uint8), np.eye(3), (400, 400),
                             progress=stop)
    finally:
        cv2.setNumThreads(before)
    # a few tiles run ahead of the report, never the rest, however busy the machine is
    assert len(runs) <= 1 + 2 * threads < len(hg._tiles(400, 400)) // 2


@pytest.mark.parametrize("dtype", [">u2", ">f4", ">f8"])
def test_big_endian_images_warp_like_native_ones(dtype):
    """Like scikit-image (and the pyramid), data in the other byte order is accepted."""
    rng = np.random.default_rng(3)
    native = (rng.random((30, 40, 3)) * (60000 if dtype == ">u2" else 1)).astype(
        np.dtype(dtype).newbyteorder("="))
    H = np.array([[0.9, 0.1, 2.0], [-0.05, 1.1, 1.0], [1e-4, 2e-4, 1.0]])
    want = warp_perspective(native, H, (40, 30), interpolation="bicubic")
    got = warp_perspective(native.astype(dtype), H, (40, 30), interpolation="bicubic")
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("call", [
    lambda: estimate_homography([[0, 0], [1, 0]], [[0, 0], [1, 0]]),
    lambda: estimate_homography("not points", [[0, 0]]),
    lambda: warp_perspective(np.zeros((4, 4), np.int32), np.eye(3), (4, 4)),
    lambda: warp_perspective(np.zeros((4, 4)), np.eye(3), ("a", 4)),
    lambda: warp_perspective(np.zeros((4, 4)), np.zeros((3, 3)), (4, 4)),
    lambda: warp_perspective(np.zeros((4, 4)), np.eye(3), (4, 4), fill="blue"),
])
def test_every_input_a_user_can_get_wrong_is_an_input_error(call):
    """A WorkbenchError (one line, exit 2 in the CLI), never a bare ValueError or TypeError."""
    from workbench.errors import InputError

    with pytest.raises(InputError):
        call()
