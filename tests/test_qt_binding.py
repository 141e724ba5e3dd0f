"""Guards against known-bad Qt binding releases."""

from __future__ import annotations

import gc
import sys

from PySide6 import QtCore


class _Emitter(QtCore.QObject):
    flag = QtCore.Signal(bool)


def test_emitting_a_bool_signal_keeps_python_bools_alive():
    """PySide6 6.12.0 drops a reference to True on every emit of Signal(bool) (Python 3.11):
    after a few thousand emits the interpreter aborts. pyproject.toml excludes it."""
    emitter = _Emitter()
    received = []
    emitter.flag.connect(received.append)
    gc.disable()  # a collection in between would release unrelated references to True
    try:
        before = sys.getrefcount(True), sys.getrefcount(False)
        for i in range(100):
            emitter.flag.emit(i % 2 == 0)
        received.clear()
        after = sys.getrefcount(True), sys.getrefcount(False)
    finally:
        gc.enable()
    assert after == before
