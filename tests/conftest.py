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
