"""Start the GUI: application object, main window, optional screenshot-and-exit."""

from __future__ import annotations

import atexit
import os
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


#: README ("Start it"): the one line that installs what Qt needs on a Debian/Ubuntu desktop.
APT_LINE = ("sudo apt install libegl1 libgl1 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 "
            "libxcb-keysyms1 libxcb-shape0 libdbus-1-3 libfontconfig1")
#: Exit status when Qt cannot open the screen (a missing system library, no display).
EXIT_NO_DISPLAY = 1


def display_help(qt_messages: list[str]) -> str:
    """What to tell the user when Qt found no usable platform plugin: the cause in Qt's words,
    what to install, and how to run without a screen."""
    text = "\n".join(qt_messages)
    if "xcb-cursor" in text:
        cause = ("the system library libxcb-cursor0, which Qt needs for an X11 desktop, is not "
                 "installed")
    else:
        reasons = [m.strip() for m in qt_messages
                   if m.strip() and "failed to start" not in m and "qFatal()" not in m]
        cause = "Qt could not open the display" + (f" ({reasons[0]})" if reasons else "")
    return (f"workbench: error: cannot start the window: {cause}.\n"
            f"On Debian or Ubuntu, install what Qt needs with:\n\n    {APT_LINE}\n\n"
            "Without a screen, QT_QPA_PLATFORM=offscreen runs the window off screen "
            "(--screenshot); the commands (workbench --help) need no display.\n")


def create_application(argv: list[str]) -> QtWidgets.QApplication:
    """The QApplication. Where Qt cannot open the screen it aborts the process with a generic
    message ("no Qt platform plugin could be initialized"); this catches that, says what is
    missing and how to install it, and exits with :data:`EXIT_NO_DISPLAY`."""
    notes: list[str] = []

    def handler(mode, context, message: str) -> None:
        if mode == QtCore.QtMsgType.QtFatalMsg and any(
                "platform plugin" in m for m in (*notes, message)):
            sys.stderr.write(display_help([*notes, message]))
            sys.stderr.flush()
            os._exit(EXIT_NO_DISPLAY)  # Qt would abort() right after this handler returns
        notes.append(message)
        category = getattr(context, "category", None)  # Qt's own format for the rest
        prefix = f"{category}: " if category and category != "default" else ""
        sys.stderr.write(f"{prefix}{message}\n")

    previous = QtCore.qInstallMessageHandler(handler)
    try:
        return QtWidgets.QApplication(argv)
    finally:
        QtCore.qInstallMessageHandler(previous)


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

    app = QtWidgets.QApplication.instance() or create_application(sys.argv[:1])
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
