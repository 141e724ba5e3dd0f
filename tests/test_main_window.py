"""Main window behaviour: menus, recent files, About, zoom, command-line image."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from gui_util import shown
from PySide6 import QtCore, QtGui, QtWidgets

from workbench.imaging.io import read_image, write_image
from workbench.ui.help import AboutDialog
from workbench.ui.main_window import MainWindow


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
    assert [act.text().split(" — ")[0] for act in actions[:2]] == ["b.png", "a.png"]
    actions[1].trigger()
    assert panel.session.image.shape == (30, 40, 3)


def test_recent_entries_show_their_folder_and_panel_and_reopen_there(qtbot, window, tmp_path):
    from workbench.ui.main_window import MainWindow as Window

    for folder, colour in (("trip", 10), ("work", 200)):
        (tmp_path / folder).mkdir()
        write_image(tmp_path / folder / "03.jpg", np.full((30, 40, 3), colour, np.uint8))
    assert window.current_panel().open_file(tmp_path / "trip" / "03.jpg")
    window.select_panel("pyramid")
    pyramid = window.activate_current()
    assert pyramid.open_file(tmp_path / "work" / "03.jpg")
    window.select_panel("rectify")
    again = shown(qtbot, Window(), 1100, 750)  # the list survives a restart
    menu = again.recent_menu
    menu.popup(QtCore.QPoint(0, 0))
    qtbot.waitUntil(menu.isVisible)
    texts = [a.text() for a in menu.actions() if not a.isSeparator()][:2]
    assert texts[0].startswith("03.jpg — ") and "work" in texts[0] and "Pyramid" in texts[0]
    assert texts[1].startswith("03.jpg — ") and "trip" in texts[1] and "Rectify" in texts[1]
    # choose the Pyramid entry with the keyboard: it opens in Pyramid, not in the current panel
    assert again.current_panel().key == "rectify"
    menu.setActiveAction(menu.actions()[0])  # the pointer on the first entry
    qtbot.keyClick(menu, QtCore.Qt.Key.Key_Return)
    assert again.current_panel().key == "pyramid"
    assert again.current_panel().path == tmp_path / "work" / "03.jpg"


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


def _drop(window, paths):
    """Drag files over the window and drop them, as a file manager does."""
    mime = QtCore.QMimeData()
    mime.setUrls([QtCore.QUrl.fromLocalFile(str(p)) for p in paths])
    pos = QtCore.QPointF(window.width() / 2, window.height() / 2)
    buttons, mods = QtCore.Qt.MouseButton.LeftButton, QtCore.Qt.KeyboardModifier.NoModifier
    enter = QtGui.QDragEnterEvent(pos.toPoint(), QtCore.Qt.DropAction.CopyAction, mime,
                                  buttons, mods)
    QtWidgets.QApplication.sendEvent(window, enter)
    accepted = enter.isAccepted()
    if accepted:
        drop = QtGui.QDropEvent(pos, QtCore.Qt.DropAction.CopyAction, mime, buttons, mods)
        QtWidgets.QApplication.sendEvent(window, drop)
    return accepted


def test_a_video_opened_before_the_model_is_ready_plays_in_colorize(qtbot, window, tmp_path):
    from video_util import write_test_video

    clip = write_test_video(tmp_path / "clip.mp4", frames=40)
    assert window.open_path(clip)  # from Rectify, at once: the model is still loading
    panel = window.current_panel()
    assert panel.key == "colorize"
    qtbot.waitUntil(lambda: panel.output is not None and panel.runner is not None, timeout=30000)
    assert panel.output.shape[:2] == (120, 160)  # a colorized frame of the clip is shown
    panel.stop_stream()
    # it is in Open Recent, and reopening it from there plays it again
    assert window.recent_files()[0] == str(clip.resolve())
    window.select_panel("pyramid")
    window.recent_menu.actions()[0].trigger()
    assert window.current_panel().key == "colorize"
    qtbot.waitUntil(lambda: panel.runner is not None, timeout=30000)
    panel.stop_stream()
    assert not window.open_path(tmp_path / "gone.mp4")
    assert "No such video" in window.message_label.text()


def test_dropping_a_video_plays_it_and_other_files_are_refused(qtbot, window, tmp_path):
    from video_util import write_test_video

    clip = write_test_video(tmp_path / "clip.avi", frames=40)
    notes = tmp_path / "notes.txt"
    notes.write_text("not an image")
    assert not _drop(window, [notes])
    assert window.current_panel().key == "rectify"
    assert _drop(window, [clip])
    panel = window.current_panel()
    assert panel.key == "colorize"
    qtbot.waitUntil(lambda: panel.runner is not None and panel.output is not None, timeout=30000)
    panel.stop_stream()


def test_a_video_waiting_for_a_model_that_fails_is_dropped_with_a_message(
        qtbot, window, tmp_path):
    from video_util import write_test_video

    clip = write_test_video(tmp_path / "clip.mp4", frames=20)
    window.select_panel("colorize")
    panel = window.activate_current()
    qtbot.waitUntil(lambda: not panel.model_request.busy and not panel.predict_request.busy,
                    timeout=30000)  # the shipped model has loaded and colorized the sample
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not a model")
    panel.session.colorizer = None  # as on a machine where no model has loaded yet
    job = panel.load_model(str(broken))
    assert panel.play_video(clip)  # queued behind the failing load
    with qtbot.waitSignal(job.ended, timeout=30000):
        pass
    assert "clip.mp4 was not played" in window.message_label.text()
    assert panel._pending_video is None and panel.runner is None


def test_closing_the_window_stops_a_running_stream(qtbot, app_settings, tmp_path):
    from video_util import write_test_video

    clip = write_test_video(tmp_path / "clip.mp4", frames=200)
    win = shown(qtbot, MainWindow(), 1100, 750)
    assert win.open_path(clip)
    panel = win.current_panel()
    qtbot.waitUntil(lambda: panel.runner is not None and panel.output is not None,
                    timeout=30000)
    threads = list(panel.runner._threads)
    assert threads and all(t.is_alive() for t in threads)
    win.close()
    assert panel.runner is None
    assert not any(t.is_alive() for t in threads)


SLOW_MODEL_RUN = """
import sys, time
from workbench.colorize import engine
original = engine.Colorizer.__init__
def slow_load(self, *args, **kwargs):
    time.sleep(1.5)  # a big model on a slow disk
    original(self, *args, **kwargs)
engine.Colorizer.__init__ = slow_load
from workbench.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_screenshot_of_a_video_waits_for_its_first_colorized_frame(tmp_path):
    """``workbench clip.mp4 --screenshot`` shows the clip colorized, not the sample photo, even
    when the model takes longer to load than the screenshot's usual delay."""
    import os
    import subprocess
    import sys

    import cv2
    from video_util import write_test_video

    clip = write_test_video(tmp_path / "clip.mp4", frames=400, size=(320, 240))
    shot = tmp_path / "shot.png"
    home = tmp_path / "home"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": str(home),
           "XDG_CONFIG_HOME": str(home / ".config"), "XDG_DATA_HOME": str(home / "data")}
    proc = subprocess.run([sys.executable, "-c", SLOW_MODEL_RUN, str(clip), "--screenshot",
                           str(shot), "--size", "1200x800"], capture_output=True, text=True,
                          timeout=180, env=env)
    assert proc.returncode == 0, proc.stderr
    image = cv2.cvtColor(cv2.imread(str(shot)), cv2.COLOR_BGR2RGB)
    # the ground-truth view (right third) shows the clip's saturated colour gradients: over a
    # third of it is this saturated, against 4 % of the cat photo shown before a stream
    right = image[260:500, 820:1100].astype(int)
    saturation = right.max(axis=2) - right.min(axis=2)
    assert (saturation > 100).mean() > 0.25


# ------------------------------------------------------------------- issue 19: 1,024 px wide
def _controls_fit(panel) -> list[str]:
    """Every visible control of ``panel`` lies inside it at no less than its smallest size."""
    kinds = (QtWidgets.QAbstractButton, QtWidgets.QComboBox, QtWidgets.QAbstractSpinBox,
             QtWidgets.QSlider, QtWidgets.QLineEdit)
    problems = []
    for w in panel.findChildren(QtWidgets.QWidget):
        if not (isinstance(w, kinds) and w.isVisible()) or isinstance(w.parent(), kinds):
            continue
        rect = QtCore.QRect(w.mapTo(panel, QtCore.QPoint(0, 0)), w.size())
        name = w.objectName() or getattr(w, "text", lambda: "")() or type(w).__name__
        if not panel.rect().contains(rect):
            problems.append(f"{name} outside the panel: {rect}")
        if w.width() < w.minimumSizeHint().width():
            problems.append(f"{name} squeezed: {w.width()} < {w.minimumSizeHint().width()}")
    return problems


def test_every_panel_fits_a_1024_px_wide_screen(qtbot, app_settings):
    win = shown(qtbot, MainWindow(), 1024, 768)
    states = {
        "rectify": [lambda p: p.preset.setCurrentIndex(p.preset.findData("custom")),
                    lambda p: p.mode.setCurrentIndex(1)],
        "colorize": [lambda p: None],
        "faces": [lambda p: None],
        "pyramid": [lambda p: p.mode.setCurrentIndex(p.mode.findData("laplacian")),
                    lambda p: p.mode.setCurrentIndex(p.mode.findData("blend"))],
    }
    for key, steps in states.items():
        win.select_panel(key)
        panel = win.activate_current()
        for step in steps:
            step(panel)  # the panel's widest state: every optional control shown
            qtbot.waitUntil(lambda: win.minimumSizeHint().width() <= 1024)
            qtbot.waitUntil(lambda panel=panel: not _controls_fit(panel), timeout=3000)
            assert win.width() == 1024
    pyramid = win.panel(3)
    assert pyramid.contrast.isVisible() and pyramid.contrast.width() >= 100
