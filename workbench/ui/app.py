"""Start the GUI: application object, main window, optional screenshot-and-exit."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from PySide6 import QtCore, QtWidgets

ORGANIZATION = "Workbench"
APPLICATION = "Workbench"


def configure_application(app: QtCore.QCoreApplication) -> None:
    """Names under which QSettings stores geometry, recent files and panel settings."""
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName("Workbench")


def screenshot(window: QtWidgets.QWidget, path: str | Path) -> Path:
    """Render ``window`` (menus, panels, status bar) into a PNG."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    QtWidgets.QApplication.processEvents()
    if not window.grab().save(str(path)):
        raise OSError(f"could not write {path}")
    return path


def run_gui(image: str | None = None, panel: str | None = None,
            screenshot_path: str | None = None, size: tuple[int, int] | None = None,
            timing: bool = False) -> int:
    from workbench.cli import STARTED

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    configure_application(app)
    from workbench.ui.main_window import MainWindow

    window = MainWindow()
    window.persist = not screenshot_path
    if screenshot_path and size is None:
        size = (1360, 860)  # documentation screenshots do not depend on a remembered geometry
    if size:
        window.resize(*size)
    if panel:
        window.select_panel(panel)
    window.show()
    app.processEvents()  # the first frame is painted: menus, tabs, "Loading…"
    if timing:
        print(f"first window after {(time.perf_counter() - STARTED) * 1000:.0f} ms",
              file=sys.stderr)

    def finish_start() -> None:
        window.activate_current()  # builds the panel: pyqtgraph, OpenCV, the bundled sample
        if image:
            window.open_path(image)
        if timing:
            print(f"panel ready after {(time.perf_counter() - STARTED) * 1000:.0f} ms",
                  file=sys.stderr)
        if screenshot_path:
            QtCore.QTimer.singleShot(400, shoot)

    def shoot() -> None:
        try:
            print(screenshot(window, screenshot_path))
        except OSError as exc:
            print(f"workbench: error: {exc}", file=sys.stderr)
            app.exit(2)
            return
        app.exit(0)

    QtCore.QTimer.singleShot(0, finish_start)
    return app.exec()
