"""The Rectify panel's state without a window: points, undo, sizes, preview vs full render."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.errors import DegenerateConfigurationError, WorkbenchError
from workbench.imaging.io import read_image
from workbench.rectify.session import PointEditor, RectifySession, overlay, scale_matrix
from workbench.resources import RECTIFY_SAMPLE, sample_corners, sample_path


def test_point_editor_add_is_capped_and_undo_redo_walk_history():
    ed = PointEditor(max_points=2)
    assert ed.add(1, 2) == 0
    assert ed.add(3, 4) == 1
    assert ed.add(5, 6) is None
    ed.move(0, 10, 20)
    assert ed.points == [(10, 20), (3, 4)]
    assert ed.undo() and ed.points == [(1, 2), (3, 4)]
    assert ed.undo() and ed.points == [(1, 2)]
    assert ed.redo() and ed.points == [(1, 2), (3, 4)]
    ed.move(1, 0, 0)
    assert not ed.can_redo  # a new edit drops the redo branch


def test_a_drag_is_one_undo_step():
    ed = PointEditor()
    ed.add(0, 0)
    ed.begin_drag(0)
    for i in range(1, 20):
        ed.move(0, i, i)
    ed.end_drag()
    assert ed.points == [(19, 19)]
    ed.undo()
    assert ed.points == [(0, 0)]


def test_nudge_needs_a_selection():
    ed = PointEditor()
    assert not ed.nudge(1, 0)
    ed.add(5, 5)
    assert ed.nudge(0.1, -1)
    assert ed.points[0] == pytest.approx((5.1, 4))


def test_scale_matrix_maps_pixel_centres():
    S = scale_matrix(0.5)
    # the 2x2 block of pixels 0..1 shrinks into pixel 0: its centre 0.5 maps to 0
    p = S @ [0.5, 0.5, 1]
    assert p[:2] == pytest.approx([0, 0])
    p = S @ [-0.5, -0.5, 1]  # the outer edge stays the outer edge
    assert p[:2] == pytest.approx([-0.5, -0.5])


@pytest.fixture
def sample_session():
    s = RectifySession()
    s.load(read_image(sample_path(RECTIFY_SAMPLE)), sample_path(RECTIFY_SAMPLE),
           corners=sample_corners(RECTIFY_SAMPLE))
    return s


def test_auto_size_recovers_the_sample_pages_a4_aspect(sample_session):
    (w, h), note = sample_session.output_size()
    assert w / h == pytest.approx(210 / 297, rel=0.02)
    assert "Zhang" in note


@pytest.mark.parametrize("preset,aspect", [("a4-landscape", 297 / 210), ("square", 1.0),
                                           ("letter-portrait", 8.5 / 11)])
def test_presets_fix_the_aspect(sample_session, preset, aspect):
    sample_session.preset = preset
    (w, h), _ = sample_session.output_size()
    assert w / h == pytest.approx(aspect, rel=0.01)


def test_preview_is_a_scaled_version_of_the_full_render(sample_session):
    full = sample_session.render().astype(np.float32)
    preview = sample_session.preview(max_side=300).astype(np.float32)
    assert max(preview.shape[:2]) == 300
    import cv2

    small = cv2.resize(full, (preview.shape[1], preview.shape[0]), interpolation=cv2.INTER_AREA)
    # same content: the page's poster lands on the same place at both resolutions
    assert np.mean(np.abs(small - preview)) < 12


def test_rectified_sample_matches_the_known_page(sample_session):
    """The sample was made from a known page: rectifying it gives that page back."""
    from workbench.samples import PAGE_H, PAGE_W, make_poster

    sample_session.preset = "custom"
    sample_session.custom_size = (PAGE_W, PAGE_H)
    out = sample_session.render().astype(np.float32)
    page = make_poster().astype(np.float32)
    inner = (slice(40, -40), slice(40, -40))  # the page's border is softened by the photo
    err = np.abs(out[inner] - page[inner]).mean()
    assert err < 25  # lighting gradient, blur and JPEG — but the same picture, not noise
    shuffled = np.abs(out[inner] - np.roll(page, 50, axis=0)[inner]).mean()
    assert err < shuffled / 2


def test_incomplete_or_missing_image_raises_user_errors():
    s = RectifySession()
    with pytest.raises(WorkbenchError):
        s.render()
    s.load(np.zeros((10, 10), np.uint8))
    s.corners.add(1, 1)
    with pytest.raises(WorkbenchError, match="four corners"):
        s.output_size()


def test_collinear_corners_raise_a_degenerate_error(sample_session):
    sample_session.corners.set_all([(0, 0), (100, 0), (200, 0), (0, 100)])
    sample_session.preset = "custom"
    with pytest.raises(DegenerateConfigurationError):
        sample_session.homography()


def test_overlay_blends_only_where_the_top_image_is_opaque():
    base = np.zeros((2, 2, 3), np.uint8)
    top = np.zeros((2, 2, 4), np.uint8)
    top[0, 0] = (200, 200, 200, 255)
    out = overlay(base, top, 0.5)
    assert out[0, 0].tolist() == [100, 100, 100]
    assert out[1, 1].tolist() == [0, 0, 0]


def test_a_run_of_nudges_of_one_point_is_one_undo_step():
    ed = PointEditor(max_points=4)
    for x, y in [(0, 0), (10, 0), (10, 10), (0, 10)]:
        ed.add(x, y)
    ed.select(1)
    for _ in range(3):
        ed.nudge(1, 0)
    ed.select(2)
    ed.nudge(0, 1)  # another point: a new step
    ed.nudge(0, 1)
    assert ed.points[1] == (13, 0) and ed.points[2] == (10, 12)
    assert ed.undo() and ed.points[2] == (10, 10) and ed.points[1] == (13, 0)
    assert ed.undo() and ed.points[1] == (10, 0)
    assert ed.redo() and ed.points[1] == (13, 0)
    ed.select(1)
    ed.nudge(1, 0)  # after an undo/redo a nudge starts a new run
    assert ed.undo() and ed.points[1] == (13, 0)
