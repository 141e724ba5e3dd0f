"""Start-up stays light: heavy modules load only when a panel needs them."""

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
for p in w.panels:
    p.show_default()
w.show()
app.processEvents()
heavy = [m for m in ("onnxruntime", "skimage", "torch", "scipy", "onnx") if m in sys.modules]
print(",".join(heavy))
"""


def test_first_window_imports_no_heavy_modules(tmp_path):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                          env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "", f"imported at start-up: {proc.stdout.strip()}"
