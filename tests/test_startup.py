"""Start-up stays light: the window shows before heavy imports; panels load what they need."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

SCRIPT = """
import sys
from PySide6 import QtWidgets
app = QtWidgets.QApplication([])
from workbench.ui.app import configure_application
configure_application(app)
from workbench.ui.main_window import MainWindow
w = MainWindow()
w.show()
app.processEvents()
def loaded(names):
    return ",".join(m for m in names if m in sys.modules)
print(loaded(("pyqtgraph", "cv2", "numpy", "onnxruntime", "skimage", "scipy", "torch")))
panel = w.activate_current()
app.processEvents()
print(type(panel).__name__, panel.session.image is not None)
print(loaded(("onnxruntime", "skimage", "torch", "scipy", "onnx")))
"""


def test_window_shows_before_heavy_imports_and_rectify_needs_no_ml_stack(tmp_path):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                          env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    shell, built, after = proc.stdout.splitlines()
    assert shell == "", f"imported before the first window: {shell}"
    assert built == "RectifyPanel True"  # the bundled sample is open
    assert after == "", f"imported for the Rectify panel: {after}"


# ------------------------------------------------------------- issue 19: a desktop lacking libs
SIMULATED_MISSING_XCB_CURSOR = """
import sys
from pathlib import Path
from PySide6 import QtCore, QtWidgets


class QtWithoutXcbCursor:
    '''What Qt 6.5+ does on an X11 desktop without libxcb-cursor0: two warnings, then qFatal.'''

    @staticmethod
    def instance():
        return None

    def __init__(self, argv):
        QtCore.qWarning("From 6.5.0, xcb-cursor0 or libxcb-cursor0 is needed to load the Qt "
                        "xcb platform plugin.")
        QtCore.qWarning('Could not load the Qt platform plugin "xcb" in "" even though it was '
                        'found.')
        QtCore.qFatal("This application failed to start because no Qt platform plugin could be "
                      "initialized. Reinstalling the application may fix this problem.")


QtWidgets.QApplication = QtWithoutXcbCursor
from workbench.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _start(tmp_path, args, env_extra):
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "cfg"), **env_extra}
    env.pop("WAYLAND_DISPLAY", None)
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=120,
                          env=env, cwd=REPO)


def test_a_missing_xcb_cursor_library_is_named_with_the_readme_apt_line(tmp_path):
    from workbench.ui.app import APT_LINE, EXIT_NO_DISPLAY

    assert APT_LINE in (REPO / "README.md").read_text()  # the same line the README gives
    proc = _start(tmp_path, ["-c", SIMULATED_MISSING_XCB_CURSOR], {})
    assert proc.returncode == EXIT_NO_DISPLAY, proc.stderr  # not Qt's abort (SIGABRT)
    assert "libxcb-cursor0, which Qt needs" in proc.stderr
    assert APT_LINE in proc.stderr


def test_a_display_qt_cannot_open_says_what_to_install(tmp_path):
    """A real failure: the xcb platform with no X server (and, where libxcb-cursor0 is missing,
    as on the test machine, the very failure a new user hit)."""
    from workbench.ui.app import APT_LINE, EXIT_NO_DISPLAY

    proc = _start(tmp_path, ["-m", "workbench"], {"QT_QPA_PLATFORM": "xcb", "DISPLAY": ":987"})
    assert proc.returncode == EXIT_NO_DISPLAY, proc.stderr
    assert "workbench: error: cannot start the window" in proc.stderr
    assert APT_LINE in proc.stderr
    if "xcb-cursor0 or libxcb-cursor0 is needed" in proc.stderr:
        assert "libxcb-cursor0, which Qt needs" in proc.stderr
