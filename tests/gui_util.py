"""Real mouse and key events for pytest-qt tests of the image views."""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtTest, QtWidgets

LEFT = QtCore.Qt.MouseButton.LeftButton
NONE = QtCore.Qt.MouseButton.NoButton


def _send(widget, kind, pos: QtCore.QPointF, button, buttons, modifiers=None) -> None:
    modifiers = modifiers or QtCore.Qt.KeyboardModifier.NoModifier
    global_pos = QtCore.QPointF(widget.mapToGlobal(pos.toPoint()))
    event = QtGui.QMouseEvent(kind, pos, global_pos, button, buttons, modifiers)
    QtWidgets.QApplication.sendEvent(widget, event)


def image_pos(view, x: float, y: float) -> QtCore.QPointF:
    """Viewport position of image point (x, y) in an ImageView."""
    return QtCore.QPointF(view.map_image_to_widget(x, y))


def click(view, x: float, y: float) -> None:
    """Press and release the left button at image point (x, y)."""
    vp = view.viewport()
    p = image_pos(view, x, y)
    _send(vp, QtCore.QEvent.Type.MouseMove, p, NONE, NONE)
    _send(vp, QtCore.QEvent.Type.MouseButtonPress, p, LEFT, LEFT)
    _send(vp, QtCore.QEvent.Type.MouseButtonRelease, p, LEFT, NONE)
    QtWidgets.QApplication.processEvents()


def drag(view, start: tuple[float, float], end: tuple[float, float], steps: int = 8,
         on_step=None) -> None:
    """Left-drag from image point ``start`` to ``end`` in ``steps`` moves."""
    vp = view.viewport()
    p0 = image_pos(view, *start)
    p1 = image_pos(view, *end)
    _send(vp, QtCore.QEvent.Type.MouseMove, p0, NONE, NONE)
    _send(vp, QtCore.QEvent.Type.MouseButtonPress, p0, LEFT, LEFT)
    for i in range(1, steps + 1):
        t = i / steps
        p = p0 + (p1 - p0) * t
        # pyqtgraph rate-limits mouse moves to 100/s: space them like a real hand would
        QtTest.QTest.qWait(12)
        _send(vp, QtCore.QEvent.Type.MouseMove, p, NONE, LEFT)
        QtWidgets.QApplication.processEvents()
        if on_step is not None:
            on_step(i)
    _send(vp, QtCore.QEvent.Type.MouseButtonRelease, p1, LEFT, NONE)
    QtWidgets.QApplication.processEvents()


def hover(view, x: float, y: float) -> None:
    _send(view.viewport(), QtCore.QEvent.Type.MouseMove, image_pos(view, x, y), NONE, NONE)
    QtWidgets.QApplication.processEvents()


def settle_layout() -> None:
    """Run the layout requests still queued (a resize or a shown widget posts them)."""
    for _ in range(3):
        QtWidgets.QApplication.sendPostedEvents(None, QtCore.QEvent.Type.LayoutRequest)
        QtWidgets.QApplication.processEvents()


def shown(qtbot, widget, width: int, height: int):
    """``widget`` owned by ``qtbot``, resized and shown on the (offscreen) screen."""
    qtbot.addWidget(widget)
    widget.resize(width, height)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def answer_file_dialog(text: str, file_type: str | None = None, folder=None) -> dict:
    """Answer the next Qt file dialog as a user would: go to ``folder`` (if given), choose
    ``file_type`` (a name filter's text) in its type box with the arrow keys, type ``text``
    into its name field, press Enter. Call before the click that opens the (modal) dialog;
    returns what the dialog showed, filled in once it has been answered: ``directory`` it
    opened in, ``name`` it suggested. (The completer's popup, shown for a name that matches a
    file, is closed with Esc before Enter, as a user would.)"""
    seen: dict = {}

    def attempt() -> None:
        dialog = next((w for w in QtWidgets.QApplication.topLevelWidgets()
                       if isinstance(w, QtWidgets.QFileDialog) and w.isVisible()), None)
        if dialog is None:  # not open yet: look again on a later turn of the event loop
            QtCore.QTimer.singleShot(10, attempt)
            return
        try:
            answer(dialog)
        finally:
            if dialog.isVisible():  # something failed: close it rather than hang the test
                dialog.reject()

    def answer(dialog) -> None:
        edit = dialog.findChild(QtWidgets.QLineEdit, "fileNameEdit")
        seen["directory"] = dialog.directory().absolutePath()
        seen["name"] = edit.text()
        if folder is not None:  # as if the user had clicked through to it
            dialog.setDirectory(str(folder))
        if file_type is not None:
            combo = dialog.findChild(QtWidgets.QComboBox, "fileTypeCombo")
            combo.setFocus()
            while combo.currentText() != file_type and combo.currentIndex() < combo.count() - 1:
                QtTest.QTest.keyClick(combo, QtCore.Qt.Key.Key_Down)
            assert combo.currentText() == file_type, [combo.itemText(i)
                                                      for i in range(combo.count())]
        edit.setFocus()
        edit.selectAll()
        QtTest.QTest.keyClicks(edit, text)
        completer = edit.completer()  # a name that matches a file pops up the completer,
        if completer is not None and completer.popup().isVisible():  # which would take Enter
            QtTest.QTest.keyClick(completer.popup(), QtCore.Qt.Key.Key_Escape)
        QtTest.QTest.keyClick(edit, QtCore.Qt.Key.Key_Return)
        seen["answered"] = True

    QtCore.QTimer.singleShot(0, attempt)
    return seen


def open_window(qtbot, panel: str, size=(1200, 800)):
    """A main window on ``panel``, shown and exposed (the GUI tests' common start)."""
    from workbench.ui.main_window import MainWindow

    win = MainWindow()
    qtbot.addWidget(win)
    win.resize(*size)
    win.select_panel(panel)
    win.show()
    qtbot.waitExposed(win)
    return win
