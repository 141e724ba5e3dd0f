"""Corners found for you in the Rectify panel, snapping, and Apply to folder — with real clicks,
drags and keys (pytest-qt, offscreen)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from gui_util import LEFT, NONE, _send, click, drag, image_pos, open_window
from PySide6 import QtCore, QtTest, QtWidgets

from workbench.imaging.io import read_image, write_image

PAGE = np.array([[150.4, 90.2], [560.7, 120.5], [530.3, 520.8], [120.6, 490.1]])
CARD = np.array([[640.0, 300.0], [760.0, 310.0], [755.0, 420.0], [635.0, 410.0]])


def two_rectangles() -> np.ndarray:
    """A bright page and a smaller card on a dark textured desk (RGB, 800 × 600)."""
    rng = np.random.default_rng(1)
    ss = 4
    big = np.full((600 * ss, 800 * ss), 70, np.uint8)
    for quad, value in ((PAGE, 235), (CARD, 215)):
        pts = ((quad + 0.5) * ss - 0.5) * 16
        cv2.fillPoly(big, [np.round(pts).astype(np.int32)], value, cv2.LINE_8, shift=4)
    img = cv2.resize(big, (800, 600), interpolation=cv2.INTER_AREA).astype(np.float32)
    img += cv2.GaussianBlur(rng.normal(0, 8, img.shape).astype(np.float32), (0, 0), 1.2)
    grey = np.clip(img, 0, 255).astype(np.uint8)
    return np.dstack([grey, grey, grey])


@pytest.fixture
def window(qtbot, app_settings):
    return open_window(qtbot, "rectify")


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "desk.png"
    write_image(path, two_rectangles())
    return path


def open_and_detect(qtbot, panel, path):
    assert panel.open_file(path)
    panel.source_view.fit()
    qtbot.waitUntil(lambda: not panel.detecting, timeout=20000)


def test_the_page_is_suggested_on_open_and_enter_accepts_it(qtbot, window, photo):
    panel = window.current_panel()
    open_and_detect(qtbot, panel, photo)
    q = panel.suggestion
    assert q is not None and panel.session.points == []
    assert np.abs(q.corners - PAGE).max() < 1.0  # the page first: the larger, brighter one
    assert panel.suggestion_label.isVisible()
    assert f"{q.confidence:.0%}" in panel.suggestion_label.toPlainText()
    xs, _ys = panel.suggestion_outline.getData()
    assert len(xs) == 5  # a closed dashed outline
    QtTest.QTest.keyClick(panel.source_view, QtCore.Qt.Key.Key_Return)
    assert np.allclose(panel.session.points, q.corners)
    assert panel.suggestion is None and not panel.suggestion_label.isVisible()
    qtbot.waitUntil(lambda: panel.last_preview is not None)
    assert panel.session.corners.undo()  # accepting is one undoable edit
    assert panel.session.points == []


def test_tab_and_shift_tab_cycle_the_candidates(qtbot, window, photo):
    panel = window.current_panel()
    open_and_detect(qtbot, panel, photo)
    assert len(panel.suggestions) >= 2
    first = panel.suggestion.corners.copy()
    QtTest.QTest.keyClick(panel.source_view, QtCore.Qt.Key.Key_Tab)
    second = panel.suggestion.corners.copy()
    assert np.abs(second - CARD).max() < 1.5
    assert "Suggestion 2/" in panel.suggestion_label.toPlainText()
    QtTest.QTest.keyClick(panel.source_view, QtCore.Qt.Key.Key_Tab,
                          QtCore.Qt.KeyboardModifier.ShiftModifier)
    assert np.allclose(panel.suggestion.corners, first)
    QtTest.QTest.keyClick(panel.source_view, QtCore.Qt.Key.Key_Tab)
    click(panel.source_view, *CARD.mean(axis=0))  # a click inside accepts what is shown
    assert np.allclose(panel.session.points, second)


def test_a_click_elsewhere_places_the_first_corner_by_hand(qtbot, window, photo):
    panel = window.current_panel()
    open_and_detect(qtbot, panel, photo)
    assert panel.suggestion is not None
    click(panel.source_view, 40, 40)  # outside every candidate
    assert len(panel.session.points) == 1
    tol = 1.0 / panel.source_view.pixel_scale() + 0.01
    assert np.abs(np.array(panel.session.points[0]) - [40, 40]).max() <= tol
    assert panel.suggestion is None and not panel.suggestion_label.isVisible()
    # clicking on a suggested corner is placing by hand too, not accepting
    panel.reset()
    qtbot.mouseClick(panel.detect_button, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.suggestion is not None, timeout=20000)
    click(panel.source_view, *PAGE[0])
    assert len(panel.session.points) == 1


def test_detect_button_suggests_again_after_reset(qtbot, window, photo):
    panel = window.current_panel()
    open_and_detect(qtbot, panel, photo)
    QtTest.QTest.keyClick(panel.source_view, QtCore.Qt.Key.Key_Return)
    assert len(panel.session.points) == 4
    panel.reset()
    assert panel.suggestion is None
    qtbot.mouseClick(panel.detect_button, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.suggestion is not None, timeout=20000)
    assert np.abs(panel.suggestion.corners - PAGE).max() < 1.0


def test_nothing_is_proposed_when_confidence_is_low(qtbot, window, tmp_path):
    rng = np.random.default_rng(2)
    clouds = cv2.GaussianBlur(rng.normal(128, 50, (400, 600)).astype(np.float32), (0, 0), 10)
    path = tmp_path / "clouds.png"
    write_image(path, np.clip(clouds * 3 - 256, 0, 255).astype(np.uint8))
    panel = window.current_panel()
    open_and_detect(qtbot, panel, path)
    assert panel.suggestion is None and not panel.suggestion_label.isVisible()
    assert "No rectangle found" in panel.fit_label.text()
    click(panel.source_view, 100, 100)  # placing by hand works as before
    assert len(panel.session.points) == 1


def drag_with(view, start, end, modifiers, steps=8):
    vp = view.viewport()
    p0, p1 = image_pos(view, *start), image_pos(view, *end)
    _send(vp, QtCore.QEvent.Type.MouseMove, p0, NONE, NONE, modifiers)
    _send(vp, QtCore.QEvent.Type.MouseButtonPress, p0, LEFT, LEFT, modifiers)
    for i in range(1, steps + 1):
        QtTest.QTest.qWait(12)
        _send(vp, QtCore.QEvent.Type.MouseMove, p0 + (p1 - p0) * (i / steps), NONE, LEFT,
              modifiers)
        QtWidgets.QApplication.processEvents()
    _send(vp, QtCore.QEvent.Type.MouseButtonRelease, p1, LEFT, NONE, modifiers)
    QtWidgets.QApplication.processEvents()


def test_a_dragged_corner_snaps_onto_the_image_corner_and_ctrl_places_it_freely(
        qtbot, window, photo):
    panel = window.current_panel()
    open_and_detect(qtbot, panel, photo)
    QtTest.QTest.keyClick(panel.source_view, QtCore.Qt.Key.Key_Return)
    start = panel.session.points[1]
    scale = panel.source_view.pixel_scale()
    off = 40 / scale  # far from the corner (screen px), then dropped 4 screen px beside it
    target = (PAGE[1][0] + 4 / scale, PAGE[1][1] - 3 / scale)
    drag(panel.source_view, start, (start[0] - off, start[1] + off))
    moved = panel.session.points[1]
    assert np.hypot(moved[0] - PAGE[1][0], moved[1] - PAGE[1][1]) > 10 / scale  # no corner near
    drag(panel.source_view, moved, target)
    snapped = np.array(panel.session.points[1])
    assert np.abs(snapped - PAGE[1]).max() < 0.5  # onto the corner, to a fraction of a pixel
    assert panel.corners_ui.snapped is not None
    assert np.allclose(panel.source_view.loupe_point, snapped)  # the loupe shows the snap
    # with Ctrl held the corner goes exactly where it is dropped
    ctrl = QtCore.Qt.KeyboardModifier.ControlModifier
    drag_with(panel.source_view, tuple(snapped), target, ctrl)
    free = np.array(panel.session.points[1])
    tol = 1.0 / scale + 0.01
    assert np.abs(free - target).max() <= tol
    assert np.abs(free - PAGE[1]).max() > 1.0
    # and with Snap unticked too
    panel.snap_box.setChecked(False)
    drag(panel.source_view, tuple(free), (target[0] + 1 / scale, target[1]))
    assert np.abs(np.array(panel.session.points[1]) - PAGE[1]).max() > 1.0


def test_apply_to_folder_writes_each_photo_and_reports_a_corrupt_one(qtbot, window, photo,
                                                                     tmp_path):
    panel = window.current_panel()
    open_and_detect(qtbot, panel, photo)
    QtTest.QTest.keyClick(panel.source_view, QtCore.Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: panel.last_preview is not None)
    src = tmp_path / "frames"
    src.mkdir()
    frame = two_rectangles()
    write_image(src / "f1.png", frame)
    (src / "f2.png").write_bytes(b"\x89PNG\r\n\x1a\nbroken")
    write_image(src / "f3.png", frame[..., ::-1].copy())
    out = tmp_path / "out"
    assert panel.folder_button.isEnabled()
    job = panel.apply_to_folder(src, out)
    assert job is not None and panel.progress.isVisible() and panel.cancel_button.isVisible()
    qtbot.waitUntil(lambda: panel._folder_job is None, timeout=30000)
    report = panel.last_folder_report
    assert [p.name for p in report.written] == ["f1.png", "f3.png"]
    assert [p.name for p, _ in report.failed] == ["f2.png"]
    assert "1 failed" in window.message_label.text()
    w, h = panel.session.output_size()[0]
    assert read_image(out / "f1.png").shape[:2] == (h, w)
    assert panel.folder_button.isVisible() and not panel.cancel_button.isVisible()


def test_apply_to_folder_can_be_cancelled(qtbot, window, photo, tmp_path):
    panel = window.current_panel()
    open_and_detect(qtbot, panel, photo)
    QtTest.QTest.keyClick(panel.source_view, QtCore.Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: panel.last_preview is not None)
    src = tmp_path / "many"
    src.mkdir()
    big = cv2.resize(two_rectangles(), (2400, 1800))
    for i in range(40):
        write_image(src / f"p{i:02d}.png", big)
    out = tmp_path / "out"
    job = panel.apply_to_folder(src, out)
    cancelled = []
    job.cancelled.connect(lambda: cancelled.append(True))
    qtbot.mouseClick(panel.cancel_button, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel._folder_job is None, timeout=60000)
    assert cancelled
    assert len(list(out.glob("*.png"))) < 40
    assert "cancelled" in window.message_label.text()


def test_photos_opened_together_are_done_in_turn(qtbot, window, photo, tmp_path):
    panel = window.current_panel()
    second = tmp_path / "second.png"
    write_image(second, two_rectangles()[::-1].copy())
    missing = tmp_path / "gone.png"
    assert panel.open_queue([photo, missing, second])
    assert panel.session.path == photo
    assert panel.next_button.isVisible() and "2 left" in panel.next_button.text()
    qtbot.mouseClick(panel.next_button, QtCore.Qt.MouseButton.LeftButton)
    # the missing one is reported and skipped; the next readable photo opens
    assert panel.session.path == second
    assert not panel.next_button.isVisible()
    qtbot.waitUntil(lambda: not panel.detecting, timeout=20000)
    assert panel.suggestion is not None  # each photo gets its suggestion
