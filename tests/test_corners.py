"""The corner finder on pictures the tests draw themselves (no shared data needed)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from corner_pages import page_photo

from workbench.rectify.corners import (
    Quadrilateral,
    find_quadrilaterals,
    order_corners,
    snap_point,
)
from workbench.rectify.homography import RectifyInputError


def draw_quad(size, corners, inside=230, outside=60, texture_seed=None, ss=8):
    """An anti-aliased bright quadrilateral on a darker background (pixel centres at integers:
    drawn ``ss`` times larger and averaged down, so its edges sit where ``corners`` say)."""
    w, h = size
    big = np.full((h * ss, w * ss), outside, np.uint8)
    pts = (np.asarray(corners, np.float64) + 0.5) * ss - 0.5
    cv2.fillPoly(big, [np.round(pts * 16).astype(np.int32)], inside, cv2.LINE_8, shift=4)
    img = cv2.resize(big, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32)
    if texture_seed is not None:
        rng = np.random.default_rng(texture_seed)
        img += cv2.GaussianBlur(rng.normal(0, 12, img.shape).astype(np.float32), (0, 0), 1.5)
        img += rng.normal(0, 2, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def max_error(found: Quadrilateral, truth) -> float:
    return float(np.max(np.hypot(*(found.corners - np.asarray(truth)).T)))


# --- order_corners -------------------------------------------------------------------------------

@pytest.mark.parametrize("shift", range(4))
def test_order_corners_starts_top_left_and_goes_clockwise(shift):
    truth = np.array([[100, 80], [400, 95], [380, 300], [90, 320]], float)
    shuffled = np.roll(truth, shift, axis=0)[::-1 if shift % 2 else 1]
    assert order_corners(shuffled) == pytest.approx(truth)


def test_order_corners_of_a_tilted_square_reads_upright():
    c = np.array([200.0, 200.0])
    a = np.radians(30)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    square = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], float) * 100
    truth = square @ rot.T + c  # rotated 30 degrees clockwise on screen
    assert order_corners(truth[[2, 0, 3, 1]]) == pytest.approx(truth)


# --- find_quadrilaterals ------------------------------------------------------------------------

def test_a_page_on_a_dark_desk_is_found_to_a_fraction_of_a_pixel():
    truth = [[123.3, 84.7], [501.6, 112.2], [470.8, 402.5], [96.1, 371.4]]
    image = draw_quad((640, 480), truth, texture_seed=1)
    found = find_quadrilaterals(image)
    assert found, "nothing found"
    assert max_error(found[0], truth) < 0.35
    assert 0.7 <= found[0].confidence <= 1.0


def test_the_refinement_works_at_full_resolution_of_a_large_photo():
    # 2400 px wide: candidates are found on a 640 px copy, corners refined on the original
    truth = np.array([[600.4, 300.2], [1900.7, 420.9], [1800.3, 1500.6], [500.5, 1400.1]])
    image = draw_quad((2400, 1800), truth, texture_seed=2, ss=4)
    found = find_quadrilaterals(image)
    assert found and max_error(found[0], truth) < 0.5
    coarse = find_quadrilaterals(image, refine=False)
    assert max_error(coarse[0], truth) > max_error(found[0], truth)


def test_rgb_grey_and_float_images_give_the_same_answer():
    truth = [[80, 60], [560, 90], [540, 420], [70, 400]]
    grey = draw_quad((640, 480), truth, texture_seed=3)
    rgb = np.dstack([grey] * 3)
    a = find_quadrilaterals(grey)[0].corners
    b = find_quadrilaterals(rgb)[0].corners
    c = find_quadrilaterals(grey.astype(np.float32) / 255)[0].corners
    assert a == pytest.approx(b, abs=0.05)
    assert a == pytest.approx(c, abs=0.05)


def test_nothing_is_proposed_on_a_photo_without_a_rectangle():
    rng = np.random.default_rng(4)
    clouds = cv2.GaussianBlur(rng.normal(128, 60, (480, 640)).astype(np.float32), (0, 0), 8)
    clouds = np.clip(clouds * 3 - 256, 0, 255).astype(np.uint8)
    blobs = clouds.copy()
    for _ in range(6):
        cv2.circle(blobs, tuple(int(v) for v in rng.integers(50, 430, 2)),
                   int(rng.integers(20, 60)), int(rng.integers(0, 255)), -1, cv2.LINE_AA)
    assert find_quadrilaterals(np.full((480, 640), 128, np.uint8)) == []
    assert find_quadrilaterals(clouds) == []
    assert find_quadrilaterals(blobs) == []


def test_a_low_threshold_lists_more_and_the_list_is_ranked():
    image = page_photo(3).image
    few = find_quadrilaterals(image, 5)
    many = find_quadrilaterals(image, 20, min_confidence=0.0)
    assert len(many) >= len(few)
    conf = [q.confidence for q in many]
    assert conf == sorted(conf, reverse=True)
    assert len(find_quadrilaterals(image, 1, min_confidence=0.0)) == 1
    assert find_quadrilaterals(image, 0) == []


def test_a_printed_grid_is_proposed_before_its_boxes_and_cells():
    page = np.full((480, 640), 235, np.uint8)
    x0, y0, step = 140, 60, 40  # a 9 x 9 grid, thick lines every 3 cells
    for k in range(10):
        t = 3 if k % 3 == 0 else 1
        cv2.line(page, (x0 + k * step, y0), (x0 + k * step, y0 + 9 * step), 30, t)
        cv2.line(page, (x0, y0 + k * step), (x0 + 9 * step, y0 + k * step), 30, t)
    src = np.float32([[0, 0], [639, 0], [639, 479], [0, 479]])
    dst = np.float32([[20, 30], [610, 5], [630, 470], [5, 440]])
    H = cv2.getPerspectiveTransform(src, dst)
    photo = cv2.warpPerspective(page, H, (640, 480), flags=cv2.INTER_LINEAR,
                                borderValue=235)
    o = 1.5  # the frame line's outer edge: where a person puts the corner
    grid = np.array([[x0 - o, y0 - o], [x0 + 9 * step + o, y0 - o],
                     [x0 + 9 * step + o, y0 + 9 * step + o], [x0 - o, y0 + 9 * step + o]])
    truth = cv2.perspectiveTransform(grid[None], H)[0]
    found = find_quadrilaterals(photo)
    assert found
    assert max_error(found[0], truth) < 2.0  # the outer frame, not a box (120 px) or cell


def test_a_page_running_off_the_photo_gets_its_corner_outside():
    truth = np.array([[150.0, -60.0], [560.0, 40.0], [520.0, 430.0], [110.0, 400.0]])
    image = draw_quad((640, 480), truth, texture_seed=5)
    found = find_quadrilaterals(image)
    assert found
    best = found[0].corners
    assert best[0, 1] < 0  # the top-left corner lies above the photo
    assert max_error(found[0], truth) < 2.0


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_synthetic_page_photos_are_found(seed):
    photo = page_photo(seed)
    if photo.cut_off:
        pytest.skip("this seed cuts a corner off")
    found = find_quadrilaterals(photo.image)
    diag = np.hypot(*photo.image.shape[:2])
    errors = [max_error(q, photo.corners) / diag for q in found[:3]]
    assert errors and min(errors) < 0.01


def test_bad_input_is_a_rectify_input_error():
    with pytest.raises(RectifyInputError):
        find_quadrilaterals(np.zeros((4, 4), np.uint8))
    with pytest.raises(RectifyInputError):
        find_quadrilaterals(np.zeros((100, 100, 2), np.uint8))


def test_as_dict_is_json_ready():
    q = Quadrilateral(np.array([[1.23456, 2.0], [3, 4], [5, 6], [7, 8]]), 0.876543)
    d = q.as_dict()
    assert d["corners"][0] == [1.235, 2.0] and d["confidence"] == 0.8765


# --- snap_point -----------------------------------------------------------------------------------

def test_snap_pulls_a_point_onto_the_nearby_corner():
    truth = [[123.3, 84.7], [501.6, 112.2], [470.8, 402.5], [96.1, 371.4]]
    image = draw_quad((640, 480), truth, texture_seed=None)
    for tx, ty in truth:
        snapped = snap_point(image, tx + 4.0, ty - 3.0, radius=8)
        assert snapped is not None
        assert np.hypot(snapped[0] - tx, snapped[1] - ty) < 0.6


def test_snap_leaves_a_point_alone_where_there_is_no_corner():
    truth = [[123.3, 84.7], [501.6, 112.2], [470.8, 402.5], [96.1, 371.4]]
    image = draw_quad((640, 480), truth)
    assert snap_point(image, 300, 250, radius=8) is None  # inside the flat page
    assert snap_point(image, 300, 98, radius=8) is None  # on a straight edge, no corner
    assert snap_point(image, 123.3 + 30, 84.7 + 30, radius=8) is None  # too far away
    assert snap_point(image, -50, -50, radius=8) is None


def test_snap_works_on_colour_photos_and_near_the_photo_edge():
    truth = [[3.4, 2.6], [300.5, 20.2], [280.7, 200.1], [10.2, 190.3]]
    grey = draw_quad((320, 240), truth)
    rgb = np.dstack([grey] * 3)
    a = snap_point(grey, 285.0, 203.0, radius=8)
    b = snap_point(rgb, 285.0, 203.0, radius=8)
    assert a is not None and a == pytest.approx(b, abs=1e-3)
    assert np.hypot(a[0] - 280.7, a[1] - 200.1) < 0.6
    near_edge = snap_point(rgb, 1.0, 1.0, radius=8)  # a window cut by the photo's edge
    assert near_edge is None or np.hypot(near_edge[0] - 3.4, near_edge[1] - 2.6) < 1.5


@pytest.mark.parametrize("image", [
    np.zeros((8, 8), np.uint8),
    np.zeros((12, 40, 3), np.uint8),
    np.full((100, 100), np.nan, np.float32),
    np.zeros((60, 80, 4), np.uint8),
    np.zeros((60, 80), np.uint16),
])
def test_odd_but_valid_images_give_no_candidates_and_no_error(image):
    assert find_quadrilaterals(image) == []
