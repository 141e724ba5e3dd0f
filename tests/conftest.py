"""Shared test set-up: Qt runs offscreen, settings go to a throw-away location."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# QSettings (recent files, geometry) must never touch the developer's real settings.
os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="workbench-test-config-")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


def shared_data(*parts: str) -> Path:
    """Path inside ../shared/data, or skip the test with a clear reason when it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"needs the shared data set at {path} (not present on this machine)")
    return path


@pytest.fixture
def app_settings(qapp, tmp_path):
    """A configured QApplication whose QSettings live in a fresh folder for this test."""
    from PySide6 import QtCore

    from workbench.ui.app import configure_application

    configure_application(qapp)
    QtCore.QSettings.setPath(QtCore.QSettings.Format.NativeFormat,
                             QtCore.QSettings.Scope.UserScope, str(tmp_path / "settings"))
    QtCore.QSettings().clear()
    yield QtCore.QSettings()
    QtCore.QSettings().clear()


@pytest.fixture(autouse=True)
def _collect_garbage_between_tests():
    """Collect the last test's Qt objects here, between tests. Left to chance, Python's garbage
    collector can run inside a Qt signal disconnect (pyqtgraph does many) and destroy a QObject
    there, whose destructor waits for a mutex the disconnect holds: the process hangs (seen
    once here, PySide6 6.11, full suite). What survives is frozen (moved out of the collector's
    sight), so each collection only looks at what the last test made and stays cheap."""
    yield
    import gc

    gc.collect()
    gc.freeze()
