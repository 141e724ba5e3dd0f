"""Start-up stays light: the window shows before heavy imports; panels load what they need."""

from __future__ import annotations

import os
import subprocess
import sys

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
