"""The Rectify panel driven with real clicks, drags and keys (pytest-qt, offscreen)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from gui_util import click, drag, hover, open_window, settle_layout
from PySide6 import QtCore

from workbench.imaging.io import read_image
from workbench.resources import RECTIFY_SAMPLE, sample_corners, sample_path
from workbench.ui.main_window import MainWindow


@pytest.fixture
def window(qtbot, app_settings):
    return open_window(qtbot, "rectify")


@pytest.fixture
def panel(window):
    p = window.current_panel()
    assert p.open_file(sample_path(RECTIFY_SAMPLE))
    p.source_view.fit()
    return p


def place_sample_corners(qtbot, panel):
    corners = sample_corners(RECTIFY_SAMPLE)
    for x, y in corners:
        click(panel.source_view, x, y)
    qtbot.waitUntil(lambda: panel.last_preview is not None)
    return corners


def test_clicking_four_corners_places_them_in_order_and_shows_preview(qtbot, panel):
    assert panel.session.points == []
    assert panel.preview_view.image is None
    corners = place_sample_corners(qtbot, panel)
    got = np.array(panel.session.points)
    # a click lands on a screen pixel: allow one screen pixel in image units
    tol = 1.0 / panel.source_view.pixel_scale() + 0.01
    assert np.abs(got - np.array(corners)).max() <= tol
    preview = panel.preview_view.image
    assert preview is not None
    # the sample is an A4 page: the auto-estimated output keeps its 210:297 aspect
    assert preview.shape[1] / preview.shape[0] == pytest.approx(210 / 297, rel=0.03)
    assert "Output" in panel.fit_label.text()
    # the overlay draws the corners where the session has them
    assert np.allclose(panel.corners_ui.overlay.points(), panel.session.points)


def test_fifth_click_does_not_add_a_point(qtbot, panel):
    place_sample_corners(qtbot, panel)
    click(panel.source_view, 100, 100)
    assert len(panel.session.points) == 4


def test_dragging_a_corner_moves_it_updates_preview_and_undo_restores(qtbot, panel):
    place_sample_corners(qtbot, panel)
    before_points = list(panel.session.points)
    before_preview = panel.last_preview.copy()
    start = panel.session.points[2]
    end = (start[0] + 60, start[1] + 40)
    previews_during_drag = []

    def during(_step):
        qtbot.wait(1)  # let the coalesced preview run between mouse moves
        previews_during_drag.append(panel.last_preview)

    drag(panel.source_view, start, end, on_step=during)
    moved = panel.session.points[2]
    tol = 2.0 / panel.source_view.pixel_scale()
    assert abs(moved[0] - end[0]) <= tol and abs(moved[1] - end[1]) <= tol
    assert panel.session.points[:2] == before_points[:2]
    # the preview followed the drag (several distinct frames, not just one at the end)
    distinct = {id(p) for p in previews_during_drag if p is not None}
    assert len(distinct) >= 3
    assert not np.array_equal(panel.last_preview, before_preview) or \
        panel.last_preview.shape != before_preview.shape
    # one drag is one undo step
    panel.undo()
    assert panel.session.points == before_points
    panel.redo()
    assert panel.session.points[2] == moved


def test_arrow_keys_nudge_the_selected_corner(qtbot, panel):
    place_sample_corners(qtbot, panel)
    panel.session.corners.select(1)
    x, y = panel.session.points[1]
    panel.source_view.setFocus()
    qtbot.keyClick(panel.source_view, QtCore.Qt.Key.Key_Right)
    qtbot.keyClick(panel.source_view, QtCore.Qt.Key.Key_Down,
                   QtCore.Qt.KeyboardModifier.ShiftModifier)
    assert panel.session.points[1] == pytest.approx((x + 1, y + 10))
    qtbot.keyClick(panel.source_view, QtCore.Qt.Key.Key_Left,
                   QtCore.Qt.KeyboardModifier.AltModifier)
    assert panel.session.points[1] == pytest.approx((x + 0.9, y + 10))
    panel.undo()  # a run of nudges of one corner is one undo step
    assert panel.session.points[1] == pytest.approx((x, y))
    assert len(panel.session.points) == 4


def test_near_degenerate_shape_warns_while_dragging(qtbot, panel):
    place_sample_corners(qtbot, panel)
    assert panel.warning_label.text() == ""
    tl, tr, br, bl = panel.session.points
    # put bottom-right on the line through top-right and bottom-left: three corners collinear
    target = ((tr[0] + bl[0]) / 2, (tr[1] + bl[1]) / 2)
    drag(panel.source_view, br, target)
    assert panel.warning_label.text() != ""


def test_save_writes_full_resolution_image_and_matrix(qtbot, panel, tmp_path):
    place_sample_corners(qtbot, panel)
    out = tmp_path / "rectified.png"
    job = panel.save_to(out)
    with qtbot.waitSignal(job.ended, timeout=20000):
        pass
    saved = read_image(out)
    (w, h), _ = panel.session.output_size()
    assert saved.shape[:2] == (h, w)
    assert max(w, h) > max(panel.last_preview.shape[:2])  # full resolution, not the preview
    assert str(out) in panel.window().message_label.text()
    matrix = tmp_path / "H.json"
    assert panel.save_matrix_to(matrix)
    doc = json.loads(matrix.read_text())
    H = np.array(doc["H"])
    tl = np.array([*panel.session.points[0], 1.0])
    mapped = H @ tl
    assert mapped[:2] / mapped[2] == pytest.approx([0, 0], abs=1e-6)


def test_opening_a_bad_file_keeps_the_current_image(qtbot, window, panel, tmp_path):
    place_sample_corners(qtbot, panel)
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"not an image at all")
    assert not panel.open_file(bad)
    assert "broken.png" in window.message_label.text()
    assert panel.session.image is not None and len(panel.session.points) == 4


def test_reset_clears_corners_and_preview(qtbot, panel):
    place_sample_corners(qtbot, panel)
    panel.reset()
    assert panel.session.points == []
    assert panel.preview_view.image is None
    panel.undo()
    assert len(panel.session.points) == 4


def test_custom_output_size(qtbot, panel):
    place_sample_corners(qtbot, panel)
    panel.preset.setCurrentIndex(panel.preset.findData("custom"))
    panel.custom_w.setValue(300)
    panel.custom_h.setValue(200)
    qtbot.waitUntil(lambda: panel.last_preview is not None and
                    panel.last_preview.shape[:2] == (200, 300))


def test_status_bar_shows_coordinates_and_value_under_cursor(qtbot, window, panel):
    import re

    hover(panel.source_view, 200, 100)
    text = window.coords.text()
    m = re.search(r"x ([\d.]+)  y ([\d.]+)  ·  pixel (\d+), (\d+) = \((\d+), (\d+), (\d+)\)", text)
    assert m, text
    x, y = float(m[1]), float(m[2])
    tol = 1.0 / panel.source_view.pixel_scale()  # the cursor sits on a screen pixel
    assert abs(x - 200) <= tol and abs(y - 100) <= tol
    col, row = int(m[3]), int(m[4])
    assert (col, row) == (int(np.floor(x + 0.5)), int(np.floor(y + 0.5)))
    assert [int(v) for v in m.groups()[4:]] == panel.session.image[row, col].tolist()
    # a 16-bit image reports its real values, not the 8-bit display copy
    deep = (np.arange(64 * 64, dtype=np.uint16).reshape(64, 64) * 16)
    panel.source_view.set_image(deep)
    qtbot.wait(20)  # the view re-fits on the next event-loop turn
    hover(panel.source_view, 10, 20)
    col, row = (int(v) for v in re.search(r"pixel (\d+), (\d+)", window.coords.text()).groups())
    assert window.coords.text().endswith(f"= {deep[row, col]}")
    assert deep[row, col] > 255


def test_register_mode_aligns_a_onto_b(qtbot, window, panel):
    panel.mode.setCurrentIndex(1)
    reg = panel.register
    rng = np.random.default_rng(0)
    b = (rng.random((120, 160, 3)) * 255).astype(np.uint8)
    a = np.ascontiguousarray(b[10:110, 20:140])  # A is a crop of B: a pure translation
    reg.load_a(a)
    reg.load_b(b)
    panel.view_a.set_image(a)
    panel.view_b.set_image(b)
    pts_a = [(10, 10), (100, 12), (95, 80), (12, 85), (50, 50)]
    for x, y in pts_a:
        click(panel.view_a, x, y)
        click(panel.view_b, x + 20, y + 10)
    assert reg.pairs == 5
    H = reg.homography()
    assert H[0, 2] == pytest.approx(20, abs=1.0) and H[1, 2] == pytest.approx(10, abs=1.0)
    assert panel.overlay_view.image is not None
    assert "RMS" in panel.fit_label.text()


def test_recent_files_and_geometry_persist(qtbot, app_settings, tmp_path):
    win = MainWindow()
    qtbot.addWidget(win)
    win.select_panel("rectify")
    assert win.current_panel().open_file(sample_path(RECTIFY_SAMPLE))
    assert win.recent_files()[0] == str(sample_path(RECTIFY_SAMPLE).resolve())
    win.resize(760, 560)
    win.close()
    again = MainWindow()
    qtbot.addWidget(again)
    assert again.size() == QtCore.QSize(760, 560)
    assert again.recent_files()[0] == str(sample_path(RECTIFY_SAMPLE).resolve())
    assert again.recent_menu.actions()[0].text().startswith(f"{RECTIFY_SAMPLE} — ")


def test_drop_of_an_image_file_opens_it(qtbot, window, tmp_path):
    from PySide6 import QtGui

    from workbench.imaging.io import write_image

    path = tmp_path / "dropped.png"
    write_image(path, np.full((40, 60, 3), 128, np.uint8))
    mime = QtCore.QMimeData()
    mime.setUrls([QtCore.QUrl.fromLocalFile(str(path))])
    pos = QtCore.QPointF(200, 200)
    enter = QtGui.QDragEnterEvent(pos.toPoint(), QtCore.Qt.DropAction.CopyAction, mime,
                                  QtCore.Qt.MouseButton.LeftButton,
                                  QtCore.Qt.KeyboardModifier.NoModifier)
    window.dragEnterEvent(enter)
    assert enter.isAccepted()
    drop = QtGui.QDropEvent(pos, QtCore.Qt.DropAction.CopyAction, mime,
                            QtCore.Qt.MouseButton.LeftButton,
                            QtCore.Qt.KeyboardModifier.NoModifier)
    window.dropEvent(drop)
    assert window.current_panel().session.image.shape == (40, 60, 3)


def test_tab_selects_the_next_corner(qtbot, panel):
    place_sample_corners(qtbot, panel)
    panel.session.corners.select(0)
    panel.source_view.setFocus()
    qtbot.keyClick(panel.source_view, QtCore.Qt.Key.Key_Tab)
    assert panel.session.corners.selected == 1
    assert panel.source_view.hasFocus()  # focus did not jump away: arrows still nudge
    x, y = panel.session.points[1]
    qtbot.keyClick(panel.source_view, QtCore.Qt.Key.Key_Up)
    assert panel.session.points[1] == pytest.approx((x, y - 1))


def test_undo_to_three_corners_clears_the_stale_preview(qtbot, panel):
    place_sample_corners(qtbot, panel)
    assert panel.preview_view.image is not None
    panel.undo()
    assert len(panel.session.points) == 3
    assert panel.preview_view.image is None and panel.last_preview is None
    xs, _ = panel.corners_ui.overlay._polygon.getData()
    assert len(xs) == 3  # an open outline: the quadrilateral is not closed yet


def test_fifth_click_says_what_to_do(qtbot, window, panel):
    place_sample_corners(qtbot, panel)
    click(panel.source_view, 5, 5)
    assert "All four corners are placed" in window.message_label.text()


def test_corners_on_top_of_each_other_explain_why(qtbot, panel):
    place_sample_corners(qtbot, panel)
    tl = panel.session.points[0]
    drag(panel.source_view, panel.session.points[1], (tl[0] + 2, tl[1] + 1))
    text = panel.warning_label.text()
    assert "corners 1 (top-left) and 2 (top-right)" in text  # says which corners, while dragging
    pen = panel.corners_ui.overlay._polygon.opts["pen"]
    assert pen.style() == QtCore.Qt.PenStyle.DashLine  # the outline turned into a warning


def test_a_second_save_while_one_runs_is_refused(qtbot, window, panel, tmp_path):
    place_sample_corners(qtbot, panel)
    job = panel.save_to(tmp_path / "a.png")
    assert job is not None
    assert panel.save_to(tmp_path / "b.png") is None
    assert "already running" in window.message_label.text()
    with qtbot.waitSignal(job.ended, timeout=20000):
        pass
    assert (tmp_path / "a.png").exists() and not (tmp_path / "b.png").exists()


def test_register_undo_redo_follow_the_users_order(qtbot, panel):
    panel.mode.setCurrentIndex(1)
    reg = panel.register
    img = np.zeros((60, 80, 3), np.uint8)
    reg.load_a(img)
    reg.load_b(img.copy())
    panel.view_a.set_image(img)
    panel.view_b.set_image(img)
    qtbot.wait(20)
    click(panel.view_a, 10, 10)
    click(panel.view_b, 12, 11)
    click(panel.view_a, 40, 20)
    panel.undo()
    assert len(reg.points_a.points) == 1 and len(reg.points_b.points) == 1
    panel.undo()
    assert len(reg.points_b.points) == 0
    panel.redo()
    assert len(reg.points_b.points) == 1
    assert panel.redo_button.isEnabled()


def test_twelve_bit_data_in_a_16_bit_image_is_visible(qtbot, panel):
    twelve = (np.linspace(0, 4095, 64 * 64).reshape(64, 64)).astype(np.uint16)
    panel.source_view.set_image(twelve)
    shown = panel.source_view.image_item.image
    assert shown.dtype == np.uint8 and shown.max() == 255  # stretched by its bit depth


def test_cancel_stops_a_save_inside_the_warp(qtbot, window, panel, tmp_path, monkeypatch):
    """Cancelling a long render stops it between tiles and writes nothing.

    The save's tiles wait, after the first few, until Cancel has been clicked, so the test does
    not depend on how many cores finish tiles before the click arrives."""
    import threading

    from workbench.rectify import warp as hg

    monkeypatch.setattr(hg, "_TILE_PIXELS", 8192)
    place_sample_corners(qtbot, panel)
    size = panel.session.render_plan().size
    clicked, runs = threading.Event(), []
    original_init, original_run = hg._Warp.__init__, hg._Warp.run

    def marking_init(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        # the save's warp runs off the GUI thread; a preview (which may have the save's size
        # and still be pending from placing the corners) runs on it and must never be gated
        self.is_save = threading.current_thread() is not threading.main_thread()

    def gated_run(self, tile):
        if self.is_save:
            runs.append(tile)
            if len(runs) > 3:
                clicked.wait(30)
        return original_run(self, tile)

    monkeypatch.setattr(hg._Warp, "__init__", marking_init)
    monkeypatch.setattr(hg._Warp, "run", gated_run)
    target = tmp_path / "cancelled.png"
    job = panel.save_to(target)
    assert job is not None and panel.cancel_button.isVisible()

    def click_cancel(fraction, _message):
        if fraction > 0.02 and not clicked.is_set():
            qtbot.mouseClick(panel.cancel_button, QtCore.Qt.MouseButton.LeftButton)
            clicked.set()

    job.progress.connect(click_cancel)
    with qtbot.waitSignal(job.cancelled, timeout=30000):
        pass
    # a few tiles more may start between the click and the warp's next check, never the rest
    assert len(runs) < len(hg._tiles(*size)) // 2
    assert not target.exists()
    assert "nothing written" in window.message_label.text()
    qtbot.waitUntil(lambda: not panel.cancel_button.isVisible())


# ------------------------------------------------------------------- issue 19: papercuts
CTRL = QtCore.Qt.KeyboardModifier.ControlModifier
SHIFT = QtCore.Qt.KeyboardModifier.ShiftModifier


def activate(qtbot, window):
    """Window shortcuts (Ctrl+Z, Ctrl+Y) only fire in the active window."""
    window.windowHandle().requestActivate()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)


def test_ctrl_y_and_ctrl_shift_z_both_redo(qtbot, window, panel):
    place_sample_corners(qtbot, panel)
    activate(qtbot, window)
    start = panel.session.points[1]
    drag(panel.source_view, start, (start[0] - 40, start[1] + 30))
    moved = panel.session.points[1]
    panel.source_view.setFocus()
    for redo in ((QtCore.Qt.Key.Key_Y, CTRL), (QtCore.Qt.Key.Key_Z, CTRL | SHIFT)):
        qtbot.keyClick(panel.source_view, QtCore.Qt.Key.Key_Z, CTRL)
        assert panel.session.points[1] == start
        assert panel.redo_button.isEnabled()
        qtbot.keyClick(panel.source_view, *redo)
        assert panel.session.points[1] == moved
        assert not panel.redo_button.isEnabled()
    assert "Ctrl+Y" in panel.redo_button.toolTip()


def test_redo_keys_include_ctrl_y_where_the_platform_binds_only_ctrl_shift_z(monkeypatch):
    """GNOME's key scheme binds Redo to Ctrl+Shift+Z alone; the panel adds Ctrl+Y."""
    from PySide6 import QtGui

    from workbench.ui import panel as panel_module

    redo = QtGui.QKeySequence.StandardKey.Redo
    monkeypatch.setattr(panel_module, "key_sequences",
                        lambda key: [QtGui.QKeySequence("Ctrl+Shift+Z")])
    keys = panel_module.shortcut_keys(redo)
    assert QtGui.QKeySequence("Ctrl+Y") in keys and QtGui.QKeySequence("Ctrl+Shift+Z") in keys
    # the shortcuts dialog shows keys a person can press, not a Sun keyboard's F14
    assert panel_module.keys_text([QtGui.QKeySequence("Ctrl+Z"),
                                   QtGui.QKeySequence("F14")]) == "Ctrl+Z"


def test_shortcuts_dialog_lists_ctrl_y_for_redo(qtbot, window, panel):
    from workbench.ui.help import ShortcutsDialog

    dialog = ShortcutsDialog(window)
    qtbot.addWidget(dialog)
    rows = dict((what, keys) for keys, what in dialog.plain_rows()["Rectify"])
    assert "Ctrl+Y" in rows["Redo the point edit undone last"]
    assert "Ctrl+Shift+Z" in rows["Redo the point edit undone last"]
    assert "F14" not in rows["Undo the last point edit"]


def test_crossed_corners_are_named_once_and_the_views_stay_put(qtbot, panel):
    place_sample_corners(qtbot, panel)
    settle_layout()
    views_before = panel.pages.geometry()
    label_height = panel.warning_label.height()
    tl, tr = panel.session.points[:2]
    drag(panel.source_view, tr, (tl[0] - 40, tl[1]))  # 2 TR dragged left of 1 TL
    qtbot.waitUntil(lambda: "No valid rectangle" in panel.fit_label.text())
    text = panel.warning_label.text()
    assert "corners 1 (top-left) and 2 (top-right) look swapped" in text
    assert text.count("swapped") == 1 and text.count("crosses itself") == 1
    # the warning is on its own line, always there: nothing above or beside it moved
    settle_layout()
    assert panel.pages.geometry() == views_before
    assert panel.warning_label.height() == label_height
    assert panel.warning_label.toolTip() == text  # the whole text, when the line is elided


def test_a_run_of_nudges_is_one_undo_step_and_ends_with_another_corner(qtbot, window, panel):
    place_sample_corners(qtbot, panel)
    activate(qtbot, window)
    corners = list(panel.session.points)
    click(panel.source_view, *corners[2])  # select corner 3 by clicking it
    assert panel.session.corners.selected == 2
    panel.source_view.setFocus()  # a click sent to the viewport does not move the focus
    for _ in range(5):
        qtbot.keyClick(panel.source_view, QtCore.Qt.Key.Key_Right)
    qtbot.keyClick(panel.source_view, QtCore.Qt.Key.Key_Down, SHIFT)
    qtbot.keyClick(panel.source_view, QtCore.Qt.Key.Key_Tab)  # corner 4: a new run
    qtbot.keyClick(panel.source_view, QtCore.Qt.Key.Key_Up)
    qtbot.keyClick(panel.source_view, QtCore.Qt.Key.Key_Up)
    nudged = list(panel.session.points)
    assert nudged[2] == pytest.approx((corners[2][0] + 5, corners[2][1] + 10))
    qtbot.keyClick(panel.source_view, QtCore.Qt.Key.Key_Z, CTRL)
    assert panel.session.points[3] == pytest.approx(corners[3])
    assert panel.session.points[2] == pytest.approx(nudged[2])
    qtbot.keyClick(panel.source_view, QtCore.Qt.Key.Key_Z, CTRL)
    assert np.allclose(panel.session.points, corners)
    qtbot.keyClick(panel.source_view, QtCore.Qt.Key.Key_Y, CTRL)
    qtbot.keyClick(panel.source_view, QtCore.Qt.Key.Key_Y, CTRL)
    assert np.allclose(panel.session.points, nudged)


def test_a_new_photo_starts_with_auto_size_after_a_custom_one(qtbot, window, panel, tmp_path):
    from workbench.imaging.io import write_image

    place_sample_corners(qtbot, panel)
    panel.preset.setFocus()
    # choose "Custom W×H" from the drop-down with the keyboard, as a user would
    qtbot.keyClick(panel.preset, QtCore.Qt.Key.Key_End)
    assert panel.preset.currentData() == "custom" and panel.custom_w.isVisible()
    panel.custom_w.setValue(300)
    photo = tmp_path / "next.png"
    write_image(photo, np.full((90, 160, 3), 90, np.uint8))
    assert window.open_path(photo)
    assert panel.preset.currentData() == "auto" and panel.session.preset == "auto"
    assert not panel.custom_w.isVisible()
    assert "back to Auto" in window.message_label.text()


def test_register_mode_has_only_open_a_and_open_b(qtbot, panel):
    assert panel.open_button.isVisible()
    panel.mode.setFocus()
    qtbot.keyClick(panel.mode, QtCore.Qt.Key.Key_Down)  # "Register A onto B"
    assert panel.mode.currentIndex() == 1
    assert not panel.open_button.isVisible()
    assert panel.open_a.isVisible() and panel.open_b.isVisible()
    qtbot.keyClick(panel.mode, QtCore.Qt.Key.Key_Up)
    assert panel.open_button.isVisible()


@pytest.mark.parametrize("corner", [0, 1, 2, 3])
def test_the_loupe_never_covers_the_dragged_corners_label(qtbot, panel, corner):
    from PySide6 import QtCore as QC

    place_sample_corners(qtbot, panel)
    view = panel.source_view
    view.zoom_by(0.8)  # room around the poster for the loupe on every side
    qtbot.wait(10)
    start = panel.session.points[corner]
    end = (start[0] + 15, start[1] + 10)
    seen = []

    def check(_step):
        if not view._loupe.isVisible():
            return
        scene = panel.corners_ui.overlay.label_rect(corner)
        label = view.mapFromScene(scene).boundingRect()
        label.translate(view.viewport().pos())
        seen.append(view._loupe.geometry().intersects(QC.QRect(label)))

    drag(view, start, end, on_step=check)
    assert len(seen) == 8 and not any(seen)  # from the press to the end of the drag


def test_save_without_an_extension_adds_the_chosen_types_and_remembers_the_folder(
        qtbot, window, panel, tmp_path):
    from gui_util import answer_file_dialog

    place_sample_corners(qtbot, panel)
    out = tmp_path / "out"
    out.mkdir()
    seen = answer_file_dialog("letter", folder=out)
    qtbot.mouseClick(panel.save_button, QtCore.Qt.MouseButton.LeftButton)
    assert seen.get("answered") and seen["name"] == "rectify_poster_rectified.png"
    qtbot.waitUntil(lambda: (out / "letter.png").exists() and panel._save_job is None,
                    timeout=20000)
    assert read_image(out / "letter.png").shape[:2] == tuple(panel.session.output_size()[0][::-1])
    # the next dialog opens where the last save went, not in the photo's folder
    seen = answer_file_dialog("H")
    qtbot.mouseClick(panel.save_matrix_button, QtCore.Qt.MouseButton.LeftButton)
    assert seen["directory"] == str(out)
    assert json.loads((out / "H.json").read_text())["size"] == list(panel.session.output_size()[0])
    # another type chosen in the dialog: its extension
    seen = answer_file_dialog("scan", file_type="TIFF (*.tif *.tiff)")
    qtbot.mouseClick(panel.save_button, QtCore.Qt.MouseButton.LeftButton)
    assert seen["directory"] == str(out)
    qtbot.waitUntil(lambda: (out / "scan.tif").exists() and panel._save_job is None,
                    timeout=20000)
    assert "unknown extension" not in window.message_label.text()
