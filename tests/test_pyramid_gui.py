"""The Pyramid panel: modes, levels, kernel changes and export, driven like a user would."""

from __future__ import annotations

import numpy as np
import pytest
from gui_util import click, hover
from PySide6 import QtCore

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
