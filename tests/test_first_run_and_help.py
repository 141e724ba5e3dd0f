"""A first run that explains itself: the icon, the first-run hint, empty states, Help menu."""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys

import numpy as np
import pytest
from gui_util import shown
from PySide6 import QtCore, QtGui, QtWidgets

from workbench import resources
from workbench.imaging.io import write_image
from workbench.ui.help import ShortcutsDialog, UserGuideDialog
from workbench.ui.main_window import WELCOME_DISMISSED_KEY, MainWindow
from workbench.ui.panel import keys_text

LEFT = QtCore.Qt.MouseButton.LeftButton
CTRL = QtCore.Qt.KeyboardModifier.ControlModifier


def make_window(qtbot, panel: str = "rectify", **kwargs) -> MainWindow:
    win = MainWindow(**kwargs)
    qtbot.addWidget(win)
    win.resize(1200, 800)
    win.select_panel(panel)
    win.show()
    qtbot.waitExposed(win)
    win.windowHandle().requestActivate()  # window shortcuts need the active window
    qtbot.waitUntil(win.isActiveWindow, timeout=5000)
    win.activate_current()
    return win


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "photo.png"
    yy, xx = np.mgrid[0:120, 0:160]
    write_image(path, np.dstack([(xx * 1.5).astype(np.uint8), (yy * 2).astype(np.uint8),
                                 np.full_like(xx, 90, dtype=np.uint8)]))
    return path


# ------------------------------------------------------------------------------ icon
def test_application_and_window_have_the_workbench_icon(qtbot, app_settings, qapp):
    assert qapp.desktopFileName() == "io.github.workbench.Workbench"
    assert qapp.organizationName() and qapp.applicationName() == "Workbench"
    icon = qapp.windowIcon()
    assert not icon.isNull()
    for size in (16, 32, 256):
        assert icon.pixmap(size, size).size() == QtCore.QSize(size, size)
    win = make_window(qtbot)
    assert not win.windowIcon().isNull()


def test_missing_icon_files_do_not_break_start_up(qtbot, app_settings, tmp_path, monkeypatch):
    from workbench.ui.app import application_icon, configure_application

    monkeypatch.setenv("WORKBENCH_RESOURCES", str(tmp_path / "nothing-here"))
    assert application_icon().isNull()
    app = QtWidgets.QApplication.instance()
    before = app.windowIcon().cacheKey()
    configure_application(app)  # keeps the icon it has rather than setting a null one
    assert app.windowIcon().cacheKey() == before


# ------------------------------------------------------------------------- first run
def test_first_run_hint_shows_once_and_dismissing_it_sticks(qtbot, app_settings):
    win = make_window(qtbot)
    panel = win.current_panel()
    banner = panel.welcome_banner
    assert banner.isVisible()
    text = banner.text()
    assert "corner" in text and "preview" in text
    assert keys_text([win.save_action.shortcut()]) in text  # the real Save key
    qtbot.mouseClick(banner.button, LEFT)
    assert not banner.isVisible()
    assert app_settings.value(WELCOME_DISMISSED_KEY) in (True, "true")
    win.close()

    again = make_window(qtbot)
    assert not again.current_panel().welcome_banner.isVisible()


def test_first_run_hint_follows_what_the_panel_shows(qtbot, app_settings, photo):
    win = make_window(qtbot)
    panel = win.current_panel()
    assert "poster" in panel.welcome_banner.text()
    assert panel.open_file(photo)  # the user's own photo, no corners yet
    assert "Click the four corners" in panel.welcome_banner.text()
    panel.mode.setCurrentIndex(1)  # register mode: the rectify hint does not apply
    assert not panel.welcome_banner.isVisible()
    panel.mode.setCurrentIndex(0)
    assert panel.welcome_banner.isVisible()


def test_screenshot_window_shows_the_hint_but_never_saves_the_flag(qtbot, app_settings):
    win = make_window(qtbot, persist=False)
    banner = win.current_panel().welcome_banner
    assert banner.isVisible()
    qtbot.mouseClick(banner.button, LEFT)
    assert app_settings.value(WELCOME_DISMISSED_KEY) is None


def _files_under(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


@pytest.mark.parametrize("panel", ["rectify", "colorize", "faces", "pyramid"])
def test_screenshot_run_leaves_no_trace(tmp_path, panel):
    """A --screenshot run reads the user's settings but writes no settings, gallery or file
    other than the PNG (fontconfig's cache aside); the user's existing gallery stays as it was."""
    from workbench.faces.gallery import Gallery

    home = tmp_path / "home"
    config, data = home / ".config", home / ".local" / "share"
    (config / "Workbench").mkdir(parents=True)
    people = tmp_path / "people.gallery"
    gallery = Gallery(people)  # two people, so opening it trains (and would cache) a model
    rng = np.random.default_rng(0)
    width, height = gallery.face_size
    for name in ("Ada", "Bo"):
        gallery.enroll(name, [rng.integers(0, 255, (height, width), np.uint8) for _ in range(3)])
    gallery.close()
    gallery_before = people.read_bytes()
    settings = config / "Workbench" / "Workbench.conf"
    settings.write_text(f"[recent]\nfiles=/nowhere/photo.jpg\n\n[faces]\ngallery={people}\n")
    before = settings.read_bytes()
    shot = tmp_path / "shot.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": str(home),
           "XDG_CONFIG_HOME": str(config), "XDG_DATA_HOME": str(data)}
    proc = subprocess.run([sys.executable, "-m", "workbench", "--panel", panel,
                           "--screenshot", str(shot)], capture_output=True, text=True,
                          timeout=180, env=env)
    assert proc.returncode == 0, proc.stderr
    assert shot.is_file()
    assert settings.read_bytes() == before
    assert _files_under(config) == ["Workbench/Workbench.conf"]
    assert not data.exists() or _files_under(data) == []
    assert people.read_bytes() == gallery_before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home", "people.gallery", "shot.png"]


# ----------------------------------------------------------------------- empty states
def _panel(qtbot, cls):
    return shown(qtbot, cls(), 1100, 700)


def test_rectify_empty_state(qtbot, app_settings, photo):
    from workbench.ui.rectify_panel import RectifyPanel

    panel = _panel(qtbot, RectifyPanel)
    view = panel.source_view
    assert view.placeholder_shown()
    assert "Open a photo" in view.placeholder_text() and "drop" in view.placeholder_text()
    assert panel.open_file(photo)
    assert not view.placeholder_shown()


def test_rectify_without_its_sample_says_what_to_do(qtbot, app_settings, tmp_path,
                                                    monkeypatch):
    monkeypatch.setenv("WORKBENCH_RESOURCES", str(tmp_path / "no-resources"))
    win = make_window(qtbot)
    panel = win.current_panel()
    assert panel.session.image is None
    assert panel.source_view.placeholder_shown()
    assert "Open a photo" in panel.welcome_banner.text()


def test_colorize_empty_state(qtbot, app_settings, photo):
    from workbench.ui.colorize_panel import ColorizePanel

    panel = _panel(qtbot, ColorizePanel)
    view = panel.output_view
    assert view.placeholder_shown()
    for action in ("Open", "Batch folder", "Video", "Camera"):
        assert action in view.placeholder_text()
    assert panel.open_file(photo)
    assert panel.input_view.image is not None and not panel.input_view.placeholder_shown()
    assert "Nothing to colorize" not in view.placeholder_text()


def test_faces_empty_state(qtbot, app_settings, tmp_path, photo):
    from workbench.ui.faces_panel import FacesPanel

    panel = _panel(qtbot, FacesPanel)
    assert panel.view.placeholder_shown()
    assert "Camera" in panel.view.placeholder_text()
    # nothing trained: Insight and Thresholds say what to do instead of empty plots
    assert panel.open_gallery(tmp_path / "empty.gallery")
    qtbot.waitUntil(lambda: panel._train_job is None, timeout=20000)
    panel.side.setCurrentIndex(1)
    assert panel.insight_stack.currentIndex() == 0 and panel.insight_stack.note.isVisible()
    assert "enrolled" in panel.insight_stack.note.text()
    assert panel.open_file(photo)
    assert not panel.view.placeholder_shown()


def test_pyramid_empty_state(qtbot, app_settings, photo):
    from workbench.ui.pyramid_panel import PyramidPanel

    panel = _panel(qtbot, PyramidPanel)
    assert panel.level_view.placeholder_shown() and panel.mosaic_view.placeholder_shown()
    assert "Open" in panel.level_view.placeholder_text()
    assert panel.open_file(photo)
    qtbot.waitUntil(lambda: panel.result is not None and not panel.request.busy, timeout=15000)
    assert not panel.level_view.placeholder_shown()
    assert not panel.mosaic_view.placeholder_shown()


# ----------------------------------------------------------------------- help menu
def _dialog(qtbot, window, cls):
    qtbot.waitUntil(lambda: bool(window.findChildren(cls)), timeout=5000)
    dialog = window.findChildren(cls)[-1]
    qtbot.waitExposed(dialog)
    return dialog


def test_help_menu_has_guide_shortcuts_and_about(qtbot, app_settings):
    win = make_window(qtbot)
    help_menu = next(a.menu() for a in win.menuBar().actions() if a.text() == "&Help")
    texts = [a.text().replace("&", "") for a in help_menu.actions() if not a.isSeparator()]
    assert texts == ["User Guide", "Keyboard Shortcuts…", "About Workbench"]
    assert win.guide_action.shortcut() == QtGui.QKeySequence(
        QtGui.QKeySequence.StandardKey.HelpContents)


def test_shortcuts_dialog_lists_the_real_shortcuts(qtbot, app_settings):
    win = make_window(qtbot)
    qtbot.keyClick(win, QtCore.Qt.Key.Key_Question, CTRL)
    dialog = _dialog(qtbot, win, ShortcutsDialog)
    rows = dialog.plain_rows()
    assert list(rows) == ["Window", "Rectify", "Colorize", "Faces", "Pyramid"]
    # window rows come from the menu actions and carry their keys
    open_keys = keys_text(win.open_action.shortcuts())
    assert (open_keys, "File ▸ Open") in rows["Window"]
    assert (keys_text(win.save_action.shortcuts()), "File ▸ Save") in rows["Window"]
    assert ("Alt+4", "View ▸ Pyramid") in rows["Window"]
    # a panel shortcut is listed with the keys of a real QShortcut in that panel
    undo_keys, _ = next(r for r in rows["Rectify"] if r[1] == "Undo the last point edit")
    rectify = win.panel(0)
    live = [sc for sc in rectify.findChildren(QtGui.QShortcut)
            if sc.whatsThis() == "Undo the last point edit"]
    assert live and keys_text(live[0].keys()) == undo_keys
    assert QtGui.QKeySequence(QtGui.QKeySequence.StandardKey.Undo) in live[0].keys()
    # keys the views handle themselves, and the panel shortcut on Colorize
    assert any(k == "F11" for k, _ in rows["Colorize"])
    assert ("Page Down", "Next (smaller) level") in rows["Pyramid"]
    text = dialog.text.toPlainText()
    assert "Arrow keys" in text and "Tab" in text and open_keys in text
    # listing them did not load the other panels' samples
    assert win.panel(0).session.image is not None
    assert not win._slots[3].default_shown
    dialog.close()
    win.select_panel("pyramid")  # visiting the tab later still opens its sample
    assert win.current_panel().image is not None


def test_listed_window_shortcut_really_triggers(qtbot, app_settings):
    win = make_window(qtbot)
    assert win.tabs.currentIndex() == 0
    qtbot.keyClick(win, QtCore.Qt.Key.Key_3, QtCore.Qt.KeyboardModifier.AltModifier)
    assert win.tabs.currentIndex() == 2


def test_user_guide_opens_at_the_current_panels_section(qtbot, app_settings):
    win = make_window(qtbot, panel="pyramid")
    qtbot.keyClick(win, QtCore.Qt.Key.Key_F1)
    guide = _dialog(qtbot, win, UserGuideDialog)
    assert guide.found
    qtbot.waitUntil(lambda: guide.section_visible("Pyramid"), timeout=5000)
    assert guide.browser.verticalScrollBar().value() > 0
    assert not guide.section_visible("Rectify")
    assert guide.sections.currentText() == "Pyramid"
    assert "PageUp/PageDown" in guide.browser.toPlainText()
    # choosing another section from the list jumps there
    guide.sections.setCurrentIndex(guide.sections.findText("Rectify"))
    guide.sections.activated.emit(guide.sections.currentIndex())
    qtbot.waitUntil(lambda: guide.section_visible("Rectify"), timeout=5000)
    guide.close()


def test_every_panel_has_a_guide_section(qtbot, app_settings):
    guide = UserGuideDialog()
    qtbot.addWidget(guide)
    for title in ("Rectify", "Colorize", "Faces", "Pyramid"):
        assert guide.heading(title) is not None, title


def test_user_guide_says_so_when_there_is_no_readme(qtbot, app_settings, monkeypatch):
    monkeypatch.setattr(resources, "readme_text", lambda: None)
    win = make_window(qtbot)
    guide = win.show_user_guide()
    qtbot.addWidget(guide)
    assert not guide.found
    assert "not included in this installation" in guide.browser.toPlainText()


def test_readme_text_sources(tmp_path, monkeypatch):
    checkout = resources.readme_text()
    assert checkout is not None and "## Rectify" in checkout
    # not a checkout: a frozen bundle's README.md at its root
    monkeypatch.setattr(resources, "__file__", str(tmp_path / "site" / "workbench" / "x.py"))
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "README.md").write_text("# Bundled\n\n## Rectify\n", encoding="utf-8")
    monkeypatch.setattr(sys, "_MEIPASS", str(bundle), raising=False)
    assert resources.readme_text().startswith("# Bundled")
    # a wheel install: the distribution's long description
    monkeypatch.delattr(sys, "_MEIPASS")
    monkeypatch.setattr(importlib.metadata, "metadata",
                        lambda name: {"Description": "# From metadata\n"})
    assert resources.readme_text() == "# From metadata\n"

    # nowhere
    def missing(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "metadata", missing)
    assert resources.readme_text() is None
