"""The Pyramid panel: modes, levels, kernel changes and export, driven like a user would."""

from __future__ import annotations

import numpy as np
import pytest
from gui_util import click, hover, settle_layout
from PySide6 import QtCore, QtWidgets

from workbench.ui.main_window import MainWindow


@pytest.fixture
def panel(qtbot, app_settings):
    win = MainWindow()
    qtbot.addWidget(win)
    win.resize(1200, 800)
    win.select_panel("pyramid")
    win.show()
    p = win.activate_current()
    qtbot.waitUntil(lambda: p.result is not None, timeout=15000)
    return p


def wait_for(qtbot, panel, predicate):
    qtbot.waitUntil(lambda: not panel.request.busy and predicate(), timeout=15000)


def test_opens_on_a_sample_with_all_levels_in_the_mosaic(panel):
    assert panel.image is not None
    n = len(panel.result.levels)
    assert n == panel.levels.value() == panel.table.rowCount()
    assert panel.mosaic_view.image.shape[1] > panel.image.shape[1]  # level 0 plus a column


def test_switching_mode_recomputes_and_shows_reconstruction_error(qtbot, panel):
    panel.mode.setCurrentIndex(panel.mode.findData("laplacian"))
    wait_for(qtbot, panel, lambda: panel.result.params.mode == "laplacian")
    assert panel.result.signed[0]
    assert "max error 0" in panel.recon_label.text()
    assert panel.contrast.isVisible()


def test_level_by_slider_keys_and_mosaic_click(qtbot, panel):
    panel.slider.setValue(2)
    assert panel.level == 2
    assert panel.level_view.image.shape[:2] == panel.result.levels[2].shape[:2]
    panel.level_view.setFocus()
    qtbot.keyClick(panel.level_view, QtCore.Qt.Key.Key_PageDown)
    assert panel.level == 3
    qtbot.keyClick(panel.level_view, QtCore.Qt.Key.Key_PageUp)
    qtbot.keyClick(panel.level_view, QtCore.Qt.Key.Key_PageUp)
    assert panel.level == 1
    # click in the middle of level 0's tile of the mosaic
    (top, left), (h, w) = panel.mosaic.level_offsets[0], panel.mosaic.level_shapes[0]
    click(panel.mosaic_view, left + w / 2, top + h / 2)
    assert panel.level == 0


def test_same_scale_keeps_the_scene_point_across_levels(qtbot, panel):
    panel.slider.setValue(3)
    qtbot.wait(10)
    # level 3 is drawn 8× larger: the same view point is the same input pixel
    assert panel.level_view.scale == 8
    x, y = panel.scene_point(200, 120)
    assert (x, y) == (200, 120)
    hover(panel.level_view, 200, 120)
    col, row = panel.level_view.pixel_at(200, 120)
    assert (col, row) == (25, 15)
    # the mosaic marks the same scene point on every level
    xs, _ = panel.mosaic_marks.getData()
    assert len(xs) == len(panel.result.levels)


def test_changing_sigma_updates_kernel_plot_and_levels(qtbot, panel):
    before = panel.result.levels[1].copy()
    panel.sigma.setValue(2.0)
    panel.ksize.setValue(9)
    wait_for(qtbot, panel, lambda: panel.result.params.sigma == 2.0
             and panel.result.params.kernel_size == 9)
    heights = panel.kernel_bars.opts["height"]
    assert len(heights) == 9 and heights.sum() == pytest.approx(1.0)
    assert not np.array_equal(before, panel.result.levels[1])


def test_rapid_changes_only_apply_the_latest(qtbot, panel):
    for s in (1.2, 1.5, 1.8, 2.2):
        panel.sigma.setValue(s)
    wait_for(qtbot, panel, lambda: panel.result.params.sigma == 2.2)
    qtbot.wait(300)
    assert panel.result.params.sigma == 2.2


def test_blend_mode_shows_collapsed_result_last(qtbot, panel):
    panel.mode.setCurrentIndex(panel.mode.findData("blend"))
    wait_for(qtbot, panel, lambda: panel.result.params.mode == "blend")
    assert panel.slider.maximum() == len(panel.result.levels)
    panel.slider.setValue(panel.slider.maximum())
    assert panel.level_view.image is panel.result.blended


def test_export_levels_and_mosaic(qtbot, panel, tmp_path):
    files = panel.export_to(tmp_path)
    assert len(files) == len(panel.result.levels)
    assert all(f.exists() for f in files)
    assert panel.export_mosaic_to(tmp_path / "mosaic.png")
    assert (tmp_path / "mosaic.png").stat().st_size > 1000


def test_settings_persist(qtbot, panel, app_settings):
    panel.levels.setValue(4)
    panel.sigma.setValue(1.7)
    assert float(app_settings.value("pyramid/sigma")) == pytest.approx(1.7)
    assert int(app_settings.value("pyramid/levels")) == 4


def test_a_superseded_recompute_is_never_shown(qtbot, panel, monkeypatch):
    """Request A finishes while the GUI is busy (its result waits in the event queue); then the
    user asks for B, which takes a while. A's result must be dropped when it is delivered, not
    shown until B arrives (the 120 ms debounce usually hides this; here it is bypassed)."""
    import threading

    from workbench.ui import pyramid_panel

    real_compute = pyramid_panel.compute
    release_b = threading.Event()

    def compute(image, params, **kwargs):
        if params.levels == 4:
            release_b.wait(10)
        return real_compute(image, params, **kwargs)

    monkeypatch.setattr(pyramid_panel, "compute", compute)
    before = len(panel.result.levels)
    assert before not in (2, 4)
    panel.levels.blockSignals(True)
    panel.levels.setValue(2)
    panel.recompute()  # A
    assert QtCore.QThreadPool.globalInstance().waitForDone(10000)  # A done, not yet delivered
    panel.levels.setValue(4)
    panel.levels.blockSignals(False)
    panel.recompute()  # B, held back
    qtbot.wait(150)  # A's result is delivered now
    assert len(panel.result.levels) == before and panel.table.rowCount() == before
    release_b.set()
    wait_for(qtbot, panel, lambda: len(panel.result.levels) == 4)
    assert panel.table.rowCount() == 4


# ------------------------------------------------------------------- issue 19: papercuts
def choose(qtbot, combo, data) -> None:
    """Pick the item with ``data`` in a combo box with the arrow keys."""
    combo.setFocus()
    target = combo.findData(data)
    key = QtCore.Qt.Key.Key_Down if target > combo.currentIndex() else QtCore.Qt.Key.Key_Up
    while combo.currentIndex() != target:
        qtbot.keyClick(combo, key)


def test_choosing_blend_shows_the_blend_and_a_new_image_keeps_it(qtbot, panel, tmp_path):
    from workbench.imaging.io import write_image

    panel.slider.setValue(1)
    choose(qtbot, panel.mode, "blend")
    wait_for(qtbot, panel, lambda: panel.result.params.mode == "blend")
    assert panel.level_view.image is panel.result.blended
    assert panel.slider.value() == panel.slider.maximum()
    assert "Blended result" in panel.level_title.text()
    photo = tmp_path / "other.png"
    write_image(photo, np.dstack([np.tile(np.arange(200, dtype=np.uint8), (160, 1))] * 3))
    assert panel.open_file(photo)
    wait_for(qtbot, panel, lambda: panel.result.levels[0].shape[:2] == (160, 200))
    assert panel.level_view.image is panel.result.blended
    # leaving Blend from its result shows level 0, not the smallest level
    choose(qtbot, panel.mode, "laplacian")
    wait_for(qtbot, panel, lambda: panel.result.params.mode == "laplacian")
    assert panel.level == 0


def test_the_toolbar_does_not_move_while_a_recompute_runs(qtbot, panel, monkeypatch):
    import threading

    from workbench.ui import pyramid_panel

    real_compute = pyramid_panel.compute
    release = threading.Event()

    def slow(image, params, **kwargs):
        release.wait(10)
        return real_compute(image, params, **kwargs)

    monkeypatch.setattr(pyramid_panel, "compute", slow)
    bar = [panel.open_button, panel.mode, panel.levels, panel.sigma, panel.ksize,
           panel.defaults_button, panel.same_scale, panel.export_button,
           panel.export_mosaic_button]
    window = panel.window()
    window.resize(window.minimumSizeHint().width(), 800)  # no slack in the toolbar
    qtbot.waitUntil(lambda: window.width() == window.minimumSizeHint().width())
    settle_layout()
    before = [w.geometry() for w in bar]
    panel.sigma.setFocus()
    qtbot.keyClick(panel.sigma, QtCore.Qt.Key.Key_Up)
    qtbot.waitUntil(lambda: panel.progress.isVisible())
    settle_layout()
    assert [w.geometry() for w in bar] == before
    release.set()
    wait_for(qtbot, panel, lambda: not panel.progress.isVisible())
    settle_layout()
    assert [w.geometry() for w in bar] == before


def test_export_levels_into_a_new_folder_asks_first_when_large(qtbot, panel, tmp_path):
    from gui_util import answer_file_dialog

    window = panel.window()
    n = len(panel.result.levels)
    panel.EXPORT_ASK_BYTES = panel.export_bytes() - 1  # this export counts as large
    answered = {}

    def answer_question(button):
        def attempt():
            box = QtWidgets.QApplication.activeModalWidget()
            if not isinstance(box, QtWidgets.QMessageBox):
                QtCore.QTimer.singleShot(10, attempt)
                return
            answered["text"] = box.text()
            qtbot.mouseClick(box.button(button), QtCore.Qt.MouseButton.LeftButton)
        QtCore.QTimer.singleShot(0, attempt)

    # a folder that does not exist yet, typed as a new name; the size question is declined
    answer_file_dialog("levels", folder=tmp_path)
    answer_question(QtWidgets.QMessageBox.StandardButton.Cancel)
    qtbot.mouseClick(panel.export_button, QtCore.Qt.MouseButton.LeftButton)
    assert f"Export {n} files, up to" in answered["text"] and "MB" in answered["text"]
    assert not (tmp_path / "levels").exists()
    assert "nothing written" in window.message_label.text()
    # again, accepted: the folder is created and every level written
    seen = answer_file_dialog("levels2")
    answer_question(QtWidgets.QMessageBox.StandardButton.Ok)
    qtbot.mouseClick(panel.export_button, QtCore.Qt.MouseButton.LeftButton)
    assert seen["directory"] == str(tmp_path)  # where the last export went
    assert len(list((tmp_path / "levels2").iterdir())) == n
    assert f"Exported {n} files" in window.message_label.text()
    # the mosaic: a name without an extension gets the chosen type's
    seen = answer_file_dialog("mosaic")
    qtbot.mouseClick(panel.export_mosaic_button, QtCore.Qt.MouseButton.LeftButton)
    assert seen["directory"] == str(tmp_path)
    assert (tmp_path / "mosaic.png").stat().st_size > 1000


def test_the_status_bar_over_the_mosaic_reports_the_levels_pixel(qtbot, panel):
    import re

    window = panel.window()
    top, left = panel.mosaic.level_offsets[2]
    hover(panel.mosaic_view, left + 10, top + 20)  # pixel (10, 20) of level 2
    text = window.coords.text()
    m = re.search(r"level 2  ·  x ([\d.]+)  y ([\d.]+)  ·  pixel (\d+), (\d+) = \((\d+), "
                  r"(\d+), (\d+)\)", text)
    assert m, text
    col, row = int(m[3]), int(m[4])
    assert abs(col - 10) <= 1 and abs(row - 20) <= 1
    assert [int(v) for v in m.groups()[4:]] == panel.result.levels[2][row, col].tolist()


def test_a_new_image_clears_the_mosaic_cross_hairs(qtbot, panel, tmp_path):
    from workbench.imaging.io import write_image

    (top, left), (h, w) = panel.mosaic.level_offsets[1], panel.mosaic.level_shapes[1]
    hover(panel.mosaic_view, left + w / 2, top + h / 2)
    assert len(panel.mosaic_marks.getData()[0]) > 0
    photo = tmp_path / "small.png"
    write_image(photo, np.full((64, 96, 3), 120, np.uint8))
    assert panel.open_file(photo)
    wait_for(qtbot, panel, lambda: panel.result.levels[0].shape[:2] == (64, 96))
    assert len(panel.mosaic_marks.getData()[0]) == 0
    assert len(panel.level_mark.getData()[0]) == 0


def test_defaults_button_resets_the_kernel(qtbot, panel, app_settings):
    from workbench.pyramid import levels as pyr

    panel.sigma.setValue(2.5)
    panel.ksize.setValue(9)
    panel.levels.setValue(3)
    wait_for(qtbot, panel, lambda: panel.result.params.kernel_size == 9)
    qtbot.mouseClick(panel.defaults_button, QtCore.Qt.MouseButton.LeftButton)
    assert (panel.sigma.value(), panel.ksize.value(), panel.levels.value()) == (
        pytest.approx(pyr.DEFAULT_SIGMA), pyr.DEFAULT_KERNEL_SIZE, 6)
    assert float(app_settings.value("pyramid/sigma")) == pytest.approx(pyr.DEFAULT_SIGMA)
    wait_for(qtbot, panel, lambda: panel.result.params.kernel_size == pyr.DEFAULT_KERNEL_SIZE
             and len(panel.result.levels) == 6)
