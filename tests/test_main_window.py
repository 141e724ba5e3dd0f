"""Main window behaviour: menus, recent files, About, zoom, command-line image."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from gui_util import shown
from PySide6 import QtCore, QtGui, QtWidgets

from workbench.imaging.io import read_image, write_image
from workbench.ui.main_window import AboutDialog, MainWindow


@pytest.fixture
def window(qtbot, app_settings):
    win = shown(qtbot, MainWindow(), 1100, 750)
    win.select_panel("rectify")
    win.activate_current()
    return win


def test_recent_menu_entry_reopens_the_file(qtbot, window, tmp_path):
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    write_image(a, np.full((30, 40, 3), 10, np.uint8))
    write_image(b, np.full((50, 20, 3), 200, np.uint8))
    panel = window.current_panel()
    assert panel.open_file(a) and panel.open_file(b)
    actions = [act for act in window.recent_menu.actions() if not act.isSeparator()]
    assert [act.text() for act in actions[:2]] == ["b.png", "a.png"]
    actions[1].trigger()
    assert panel.session.image.shape == (30, 40, 3)


def test_about_dialog_lists_versions_and_usable_providers(qtbot, window):
    dialog = AboutDialog(window)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: "CPUExecutionProvider" in dialog.text.toPlainText(), timeout=20000)
    text = dialog.text.toPlainText()
    assert "OpenCV" in text and "ORT providers usable" in text


def test_fit_and_actual_pixels(qtbot, window):
    view = window.current_panel().source_view
    h, w = view.image.shape[:2]
    view.fit()
    qtbot.wait(10)
    rect = view.view_box.viewRect()
    assert rect.width() >= w - 1 and rect.height() >= h - 1  # the whole image is in view
    view.zoom_actual_pixels()
    qtbot.wait(10)
    assert view.pixel_scale() * view.devicePixelRatioF() == pytest.approx(1.0, rel=0.02)


def test_wheel_zooms_about_the_cursor(qtbot, window):
    view = window.current_panel().source_view
    view.fit()
    qtbot.wait(10)
    before = view.pixel_scale()
    pos = QtCore.QPointF(view.viewport().rect().center())
    event = QtGui.QWheelEvent(pos, QtCore.QPointF(view.viewport().mapToGlobal(pos.toPoint())),
                              QtCore.QPoint(0, 0), QtCore.QPoint(0, 240),
                              QtCore.Qt.MouseButton.NoButton, QtCore.Qt.KeyboardModifier.NoModifier,
                              QtCore.Qt.ScrollPhase.NoScrollPhase, False)
    QtWidgets.QApplication.sendEvent(view.viewport(), event)
    qtbot.wait(10)
    assert view.pixel_scale() > before * 1.2


def test_panels_are_all_reachable(qtbot, window):
    titles = [window.tabs.tabText(i) for i in range(window.tabs.count())]
    assert titles == ["Rectify", "Colorize", "Faces", "Pyramid"]
    for i in range(window.tabs.count()):
        window.tabs.setCurrentIndex(i)
        assert window.current_panel().isVisible()


def test_command_line_image_and_panel_with_screenshot(tmp_path):
    image = tmp_path / "given.png"
    write_image(image, np.dstack([np.full((300, 400), c, np.uint8) for c in (250, 20, 20)]))
    shot = tmp_path / "shot.png"
    env = {"QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
           "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-m", "workbench", str(image), "--panel", "rectify",
                           "--screenshot", str(shot)], capture_output=True, text=True,
                          timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr
    pixels = read_image(shot)
    # the given, all-red image is on screen
    red = (pixels[..., 0] > 200) & (pixels[..., 1] < 60) & (pixels[..., 2] < 60)
    assert red.mean() > 0.05
    # and the screenshot run did not remember its panel for the next start
    conf = "".join(p.read_text(errors="ignore") for p in (tmp_path / "cfg").rglob("*.conf"))
    assert "panel=" not in conf and "geometry=" not in conf
