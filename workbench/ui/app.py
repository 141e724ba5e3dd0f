"""Start the GUI: application object, main window, optional screenshot-and-exit."""

from __future__ import annotations

import atexit
import shutil
import sys
import tempfile
import time
from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets

# QSettings keeps geometry, recent files and panel settings under these names
# (~/.config/Workbench/Workbench.conf on Linux): changing them would forget users' settings.
ORGANIZATION = "Workbench"
APPLICATION = "Workbench"
# The Linux desktop entry is installed as workbench.desktop; Wayland compositors and docks use
# this name to find it (and its icon) for the running window.
DESKTOP_FILE_NAME = "io.github.workbench.Workbench"  # packaging/linux/<this>.desktop


def application_icon() -> QtGui.QIcon:
    """The Workbench icon: the SVG (scalable) plus the hand-rendered PNG sizes, which Qt uses
    for exact size matches. Files that are missing are skipped; with none the icon is null."""
    from workbench.resources import ICON_SIZES, icon_files

    icon = QtGui.QIcon()
    for path in icon_files():  # the SVG first: it picks Qt's scalable icon engine
        size = next((s for s in ICON_SIZES if path.name == f"workbench-{s}.png"), None)
        if size is None:
            icon.addFile(str(path))
        else:
            icon.addFile(str(path), QtCore.QSize(size, size))
    return icon


def configure_application(app: QtCore.QCoreApplication) -> None:
    """Names (QSettings, desktop entry), version and icon of the application."""
    from workbench import __version__

    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationVersion(__version__)
    if isinstance(app, QtGui.QGuiApplication):
        app.setApplicationDisplayName("Workbench")
        app.setDesktopFileName(DESKTOP_FILE_NAME)
        icon = application_icon()
        if not icon.isNull():
            app.setWindowIcon(icon)


def screenshot(window: QtWidgets.QWidget, path: str | Path) -> Path:
    """Render ``window`` (menus, panels, status bar) into a PNG."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    QtWidgets.QApplication.processEvents()
    if not window.grab().save(str(path)):
        raise OSError(f"could not write {path}")
    return path


#: Longest a --screenshot run waits for the panel to settle (model loaded, first frame shown).
SCREENSHOT_PATIENCE = 20.0


def _scratch_settings() -> None:
    """Point QSettings at a throw-away copy of the user's settings: a ``--screenshot`` run shows
    what the user would see but changes nothing (panels, recent files, galleries...)."""
    real = Path(QtCore.QSettings().fileName())
    scratch = Path(tempfile.mkdtemp(prefix="workbench-screenshot-"))
    copy = scratch / real.parent.name / real.name
    copy.parent.mkdir(parents=True)
    if real.is_file():
        shutil.copy(real, copy)
    QtCore.QSettings.setPath(QtCore.QSettings.Format.NativeFormat,
                             QtCore.QSettings.Scope.UserScope, str(scratch))
    atexit.register(shutil.rmtree, scratch, ignore_errors=True)


def run_gui(image: str | None = None, panel: str | None = None,
            screenshot_path: str | None = None, size: tuple[int, int] | None = None,
            timing: bool = False, started: float | None = None) -> int:
    t0 = time.perf_counter() if started is None else started

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    configure_application(app)
    if screenshot_path:
        _scratch_settings()
    from workbench.ui.main_window import MainWindow

    window = MainWindow(persist=not screenshot_path)
    if screenshot_path and size is None:
        size = (1360, 860)  # documentation screenshots do not depend on a remembered geometry
    if size:
        window.resize(*size)
    if panel:
        window.select_panel(panel)
    window.show()
    app.processEvents()  # the first frame is painted: menus, tabs, "Loading…"
    if timing:
        print(f"first window after {(time.perf_counter() - t0) * 1000:.0f} ms",
              file=sys.stderr)

    def finish_start() -> None:
        window.activate_current()  # builds the panel: pyqtgraph, OpenCV, the bundled sample
        if image:
            window.open_path(image)
        if timing:
            print(f"panel ready after {(time.perf_counter() - t0) * 1000:.0f} ms",
                  file=sys.stderr)
        if screenshot_path:
            QtCore.QTimer.singleShot(400, shoot)

    settle_until = time.monotonic() + SCREENSHOT_PATIENCE

    def shoot() -> None:
        # a panel still loading its model or waiting for a first frame gets a little longer
        if not window.current_panel().settled() and time.monotonic() < settle_until:
            QtCore.QTimer.singleShot(100, shoot)
            return
        try:
            print(screenshot(window, screenshot_path))
        except OSError as exc:
            print(f"workbench: error: {exc}", file=sys.stderr)
            window.close()
            app.exit(2)
            return
        window.close()  # stops streams (a video given on the command line) before exiting
        app.exit(0)

    QtCore.QTimer.singleShot(0, finish_start)
    return app.exec()
