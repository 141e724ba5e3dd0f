"""What every panel offers the main window: open, save, status messages, recent files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6 import QtCore, QtGui, QtWidgets

from workbench.errors import WorkbenchError

if TYPE_CHECKING:  # numpy is imported with the panels, not with the window shell
    import numpy as np

Key = QtGui.QKeySequence | QtGui.QKeySequence.StandardKey | str


def _is_useful(seq: QtGui.QKeySequence) -> bool:
    """False for bindings nobody types: dedicated Help/Undo/Open… keys of special keyboards,
    F13 and above (Sun keyboards' Undo is F14), and the legacy Alt+Backspace family."""
    if seq.isEmpty():
        return False
    combo = seq[0]
    key, mods = combo.key(), combo.keyboardModifiers()
    if mods == QtCore.Qt.KeyboardModifier.NoModifier and (
            key == QtCore.Qt.Key.Key_Help or key.value >= QtCore.Qt.Key.Key_Back.value
            or QtCore.Qt.Key.Key_F13.value <= key.value <= QtCore.Qt.Key.Key_F35.value):
        return False
    return not (key == QtCore.Qt.Key.Key_Backspace and
                mods & QtCore.Qt.KeyboardModifier.AltModifier)


def key_sequences(key: Key) -> list[QtGui.QKeySequence]:
    """The sequences a key stands for on this platform (a standard key may have several)."""
    if isinstance(key, QtGui.QKeySequence.StandardKey):
        return QtGui.QKeySequence.keyBindings(key)
    return [QtGui.QKeySequence(key)]


def keys_text(sequences, limit: int | None = None) -> str:
    """Sequences as this platform writes them (``Ctrl+S``, ``⌘S``), joined by " or "."""
    texts: list[str] = []
    for seq in sequences:
        text = seq.toString(QtGui.QKeySequence.SequenceFormat.NativeText)
        if _is_useful(seq) and text not in texts:
            texts.append(text)
    return " or ".join(texts[:limit])


#: Keys every desktop user expects besides the platform's own (GNOME binds only Ctrl+Shift+Z to
#: Redo, Windows and KDE Ctrl+Y): both work everywhere.
EXTRA_KEYS = {
    QtGui.QKeySequence.StandardKey.Redo: ("Ctrl+Y", "Ctrl+Shift+Z"),
}


def shortcut_keys(key: Key) -> list[QtGui.QKeySequence]:
    """What a shortcut for ``key`` binds: the platform's sequences plus :data:`EXTRA_KEYS`."""
    seqs = key_sequences(key)
    for extra in EXTRA_KEYS.get(key, ()) if isinstance(key, QtGui.QKeySequence.StandardKey) \
            else ():
        seq = QtGui.QKeySequence(extra)
        if seq not in seqs:
            seqs.append(seq)
    return seqs


def native_keys(key: Key) -> str:
    """The main sequence for ``key`` on this platform, for text in the interface."""
    return keys_text(key_sequences(key), limit=1)


class ElidedLabel(QtWidgets.QLabel):
    """A one-line status text that never moves the layout: always one line tall (empty or
    not), elided at the right when the panel is narrow, the whole text in its tooltip. It
    never makes the window wider than the text would need."""

    def __init__(self, text: str = "", parent=None) -> None:
        super().__init__(parent)
        self.setTextFormat(QtCore.Qt.TextFormat.PlainText)
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored,
                           QtWidgets.QSizePolicy.Policy.Fixed)
        self.setFixedHeight(self.fontMetrics().height() + 4)
        self.setText(text)

    def setText(self, text: str) -> None:  # noqa: N802 (Qt naming)
        super().setText(text)
        self.setToolTip(text)

    def minimumSizeHint(self) -> QtCore.QSize:  # noqa: N802
        return QtCore.QSize(40, self.height())

    def elided(self) -> str:
        """The text as drawn at the current width."""
        return self.fontMetrics().elidedText(self.text(), QtCore.Qt.TextElideMode.ElideRight,
                                             self.contentsRect().width())

    def paintEvent(self, event):  # noqa: N802
        painter = QtGui.QPainter(self)
        self.style().drawItemText(
            painter, self.contentsRect(),
            int(QtCore.Qt.AlignmentFlag.AlignLeft | QtCore.Qt.AlignmentFlag.AlignVCenter),
            self.palette(), self.isEnabled(), self.elided(),
            QtGui.QPalette.ColorRole.WindowText)
        painter.end()


class Banner(QtWidgets.QFrame):
    """A slim, dismissable note above a panel's image (the first-run hint).

    Drawn in the palette's highlight colour, faintly, so it fits light and dark themes.
    ``dismissed`` is emitted when the user closes it.
    """

    dismissed = QtCore.Signal()

    def __init__(self, text: str = "", button: str = "Got it", parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        self.active = False  # shown while the panel's state calls for it, until dismissed
        icon = QtWidgets.QLabel()
        icon.setPixmap(self.style().standardIcon(
            QtWidgets.QStyle.StandardPixmap.SP_MessageBoxInformation).pixmap(20, 20))
        icon.setAlignment(QtCore.Qt.AlignmentFlag.AlignTop)
        self.label = QtWidgets.QLabel(text)
        self.label.setWordWrap(True)
        self.label.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.label.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding,
                                 QtWidgets.QSizePolicy.Policy.Preferred)
        self.button = QtWidgets.QPushButton(button)
        self.button.setToolTip("Hide this hint; it will not come back")
        self.button.clicked.connect(self.dismiss)
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 8, 6)
        layout.setSpacing(10)
        layout.addWidget(icon)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.button, 0, QtCore.Qt.AlignmentFlag.AlignVCenter)

    def text(self) -> str:
        return self.label.text()

    def setText(self, text: str) -> None:  # noqa: N802 (Qt naming)
        self.label.setText(text)

    def dismiss(self) -> None:
        self.active = False
        self.hide()
        self.dismissed.emit()

    def paintEvent(self, event):  # noqa: N802
        pal = self.palette()
        accent = pal.color(QtGui.QPalette.ColorRole.Highlight)
        base = pal.color(QtGui.QPalette.ColorRole.Window)
        fill = QtGui.QColor(
            *(round(b + (a - b) * 0.14) for a, b in zip(accent.getRgb()[:3], base.getRgb()[:3],
                                                        strict=True)))
        border = QtGui.QColor(accent)
        border.setAlpha(150)
        painter = QtGui.QPainter(self)
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        painter.setPen(QtGui.QPen(border, 1))
        painter.setBrush(fill)
        painter.drawRoundedRect(QtCore.QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5), 5, 5)
        painter.end()


class Panel(QtWidgets.QWidget):
    """Base class for the four tools.

    Signals
    -------
    message(text, level)
        Status-bar text; level is ``"info"``, ``"warning"`` or ``"error"``.
    fileOpened(path)
        A file was opened successfully (for the Recent files menu).
    activity(text)
        Work the panel goes on doing while hidden (a stream being recorded), in words; empty
        when there is none. The window marks the panel's tab meanwhile.
    """

    title = "Panel"
    key = "panel"
    message = QtCore.Signal(str, str)
    fileOpened = QtCore.Signal(str)
    activity = QtCore.Signal(str)

    can_open = False
    can_save = False
    # Keys a view handles itself (keyPressEvent), for Help > Keyboard Shortcuts: (keys, what).
    # Shortcuts made with add_shortcut() and menu actions are listed from the live objects.
    KEYS: tuple[tuple[str, str], ...] = ()
    #: Where the KEYS work (the heading of their list in Help > Keyboard Shortcuts).
    KEYS_WHERE = "In the image view (click it first):"
    # A first-run hint shown above the panel's view until dismissed (see MainWindow).
    welcome_banner: Banner | None = None

    def welcome_text(self) -> str:
        """The first-run hint for what the panel shows now; empty for none."""
        return ""

    def show_welcome(self) -> None:
        """Start showing the first-run hint (the main window decides when)."""
        if self.welcome_banner is not None:
            self.welcome_banner.active = True
            self.update_welcome()

    def update_welcome(self) -> None:
        """Keep the hint's text in step with what the panel shows (call after changes)."""
        banner = self.welcome_banner
        if banner is None or not banner.active:
            return
        text = self.welcome_text()
        if text != banner.text():
            banner.setText(text)
        banner.setVisible(bool(text))

    def add_shortcut(self, keys: Key, slot: Callable[[], object],
                     description: str) -> QtGui.QShortcut:
        """A keyboard shortcut active while focus is anywhere in this panel (a standard key
        binds :func:`shortcut_keys`). ``description`` is what Help > Keyboard Shortcuts lists."""
        sc = QtGui.QShortcut(self)
        sc.setKeys(shortcut_keys(keys))
        sc.setContext(QtCore.Qt.ShortcutContext.WidgetWithChildrenShortcut)
        sc.setWhatsThis(description)
        sc.activated.connect(slot)
        return sc

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
        label.setForegroundRole(QtGui.QPalette.ColorRole.PlaceholderText)  # muted, any theme
        return label

    def read_opened(self, path: str | Path) -> np.ndarray | None:
        """Read a file the user opened: on success remember its folder and announce it (Recent
        files); on failure say why and return None, leaving what is shown as it was."""
        from workbench.imaging.io import read_image

        try:
            image = read_image(path)
        except WorkbenchError as exc:
            self.report_error(exc)
            return None
        self.settings().setValue(f"{self.key}/last_dir", str(Path(path).parent))
        self.fileOpened.emit(str(path))
        return image

    def lay_out(self, *bars: QtWidgets.QLayout, body: QtWidgets.QWidget,
                below: tuple[QtWidgets.QWidget, ...] = (), hint: str) -> None:
        """The usual panel: tool bars on top, the body taking the room, then ``below`` and the
        muted hint line at the bottom."""
        layout = QtWidgets.QVBoxLayout(self)
        for bar in bars:
            layout.addLayout(bar)
        layout.addWidget(body, 1)
        for widget in below:
            layout.addWidget(widget)
        layout.addWidget(self.hint_label(hint))

    def source_controls(self) -> list[QtWidgets.QWidget]:
        """Video…, the camera index, Camera and Stop (hidden until streaming), wired to
        :meth:`video_dialog`, :meth:`start_stream` and :meth:`stop_stream`; for streaming panels."""
        self.video_button = QtWidgets.QPushButton("Video…")
        self.camera_index = QtWidgets.QSpinBox(minimum=0, maximum=9)
        self.camera_index.setToolTip("Camera index (OpenCV)")
        self.camera_button = QtWidgets.QPushButton("Camera")
        self.stop_button = QtWidgets.QPushButton("Stop")
        self.stop_button.hide()
        self.video_button.clicked.connect(self.video_dialog)
        self.camera_button.clicked.connect(lambda: self.start_stream(self.camera_index.value()))
        self.stop_button.clicked.connect(self.stop_stream)
        return [self.video_button, self.camera_index, self.camera_button, self.stop_button]

    def video_dialog(self) -> None:
        """Ask for a video file and stream it (panels with ``start_stream``)."""
        from workbench.imaging.video import VIDEO_EXTENSIONS

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

    def settled(self) -> bool:
        """Nothing is on its way that would change what the panel shows (a --screenshot run
        waits for this, up to a limit)."""
        return True

    def shutdown(self) -> None:
        """Stop streams and threads before the window goes (child widgets get no closeEvent)."""

    @property
    def persist(self) -> bool:
        """False in a window that must leave no trace (``--screenshot`` runs)."""
        return bool(getattr(self.window(), "persist", True))

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
