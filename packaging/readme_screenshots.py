"""Make the README's screenshots with the app itself.

Run from the repository root:  QT_QPA_PLATFORM=offscreen python packaging/readme_screenshots.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from PySide6 import QtCore, QtWidgets

OUT = Path("resources/screenshots")


def settle(app: QtWidgets.QApplication, panel, seconds: float = 0.3) -> None:
    """Let debounced work start and background jobs finish."""
    end = time.monotonic() + seconds
    while time.monotonic() < end or getattr(panel, "_job", None) is not None:
        app.processEvents()
        time.sleep(0.01)


def main() -> None:
    QtCore.QSettings.setPath(QtCore.QSettings.Format.NativeFormat,
                             QtCore.QSettings.Scope.UserScope, tempfile.mkdtemp())
    app = QtWidgets.QApplication([])
    from workbench.ui.app import configure_application, screenshot

    configure_application(app)
    from workbench.ui.main_window import MainWindow

    window = MainWindow()
    window.resize(1280, 800)
    window.show()
    OUT.mkdir(parents=True, exist_ok=True)

    window.select_panel("rectify")
    settle(app, window.activate_current())
    print(screenshot(window, OUT / "rectify.png"))

    window.select_panel("pyramid")
    pyramid = window.activate_current()
    settle(app, pyramid)
    pyramid.mode.setCurrentIndex(pyramid.mode.findData("laplacian"))
    settle(app, pyramid)
    pyramid.show_level(1)
    settle(app, pyramid, 0.1)
    print(screenshot(window, OUT / "pyramid.png"))


if __name__ == "__main__":
    main()
