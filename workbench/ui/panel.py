"""What every panel offers the main window: open, save, status messages, recent files."""

from __future__ import annotations

from pathlib import Path

from PySide6 import QtCore, QtWidgets

from workbench.errors import WorkbenchError


class Panel(QtWidgets.QWidget):
    """Base class for the four tools.

    Signals
    -------
    message(text, level)
        Status-bar text; level is ``"info"``, ``"warning"`` or ``"error"``.
    fileOpened(path)
        A file was opened successfully (for the Recent files menu).
    """

    title = "Panel"
    key = "panel"
    message = QtCore.Signal(str, str)
    fileOpened = QtCore.Signal(str)

    can_open = False
    can_save = False

    def open_file(self, path: str | Path) -> bool:  # pragma: no cover - overridden
        return False

    def open_dialog(self) -> None:  # pragma: no cover - overridden
        pass

    def save_dialog(self) -> None:  # pragma: no cover - overridden
        pass

    def show_default(self) -> None:
        """Open whatever the panel shows on first start (a bundled sample)."""

    @staticmethod
    def hint_label(text: str) -> QtWidgets.QLabel:
        """The panel's one-line "what the mouse and keys do" text at the bottom."""
        label = QtWidgets.QLabel(text)
        label.setWordWrap(True)
        label.setStyleSheet("color: #555;")
        return label

    def video_dialog(self) -> None:
        """Ask for a video file and stream it (panels with ``start_stream``)."""
        from workbench.video import VIDEO_EXTENSIONS

        key = f"{self.key}/last_video_dir"
        patterns = " ".join(f"*{e}" for e in VIDEO_EXTENSIONS)
        path, _ = QtWidgets.QFileDialog.getOpenFileName(
            self, "Open video", str(self.settings().value(key, "")),
            f"Videos ({patterns});;All files (*)")
        if path:
            self.settings().setValue(key, str(Path(path).parent))
            self.start_stream(path)

    def start_stream(self, source, *, loop: bool = True) -> bool:  # pragma: no cover
        raise NotImplementedError

    def settings(self) -> QtCore.QSettings:
        return QtCore.QSettings()

    def info(self, text: str) -> None:
        self.message.emit(text, "info")

    def warn(self, text: str) -> None:
        self.message.emit(text, "warning")

    def report_error(self, exc: BaseException) -> None:
        """User-caused errors become a status message; anything else also names its type."""
        if isinstance(exc, WorkbenchError):
            self.message.emit(str(exc), "error")
        else:
            self.message.emit(f"Unexpected error ({type(exc).__name__}): {exc}", "error")
