"""The main window: four panels, menus, recent files, drag-and-drop, status bar."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets

from workbench.ui.help import (
    MOUSE,
    AboutDialog,
    ShortcutGroup,
    ShortcutsDialog,
    UserGuideDialog,
    menu_shortcuts,
    shortcuts_dialog_keys,
)
from workbench.ui.panel import Panel, keys_text

MAX_RECENT = 10
# Set when the user dismisses the first-run hint; it never shows again unless settings are reset.
WELCOME_DISMISSED_KEY = "first_run/welcome_dismissed"


@dataclass(frozen=True)
class PanelSpec:
    """A tab: its key and title, and how to build the panel when it is first needed."""

    key: str
    title: str
    build: Callable[[], Panel]


def _rectify() -> Panel:
    from workbench.ui.rectify_panel import RectifyPanel

    return RectifyPanel()


def _colorize() -> Panel:
    from workbench.ui.colorize_panel import ColorizePanel

    return ColorizePanel()


def _faces() -> Panel:
    from workbench.ui.faces_panel import FacesPanel

    return FacesPanel()


def _pyramid() -> Panel:
    from workbench.ui.pyramid_panel import PyramidPanel

    return PyramidPanel()


PANEL_SPECS: tuple[PanelSpec, ...] = (
    PanelSpec("rectify", "Rectify", _rectify),
    PanelSpec("colorize", "Colorize", _colorize),
    PanelSpec("faces", "Faces", _faces),
    PanelSpec("pyramid", "Pyramid", _pyramid),
)
PANEL_KEYS = tuple(spec.key for spec in PANEL_SPECS)


class _Slot(QtWidgets.QWidget):
    """A tab's page: "Loading…" until the panel is built (panels import numpy, pyqtgraph, …)."""

    def __init__(self, spec: PanelSpec) -> None:
        super().__init__()
        self.spec = spec
        self.panel: Panel | None = None
        self.default_shown = False
        self._layout = QtWidgets.QStackedLayout(self)
        loading = QtWidgets.QLabel(f"Loading {spec.title}…")
        loading.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        self._layout.addWidget(loading)


class MainWindow(QtWidgets.QMainWindow):
    """Four panels in tabs. The window shows first; a panel is built when first needed, so the
    first window appears before the heavy imports (pyqtgraph, OpenCV) have finished."""

    def __init__(self, *, persist: bool = True) -> None:
        super().__init__()
        self.setWindowTitle("Workbench")
        icon = QtWidgets.QApplication.windowIcon()
        if not icon.isNull():
            self.setWindowIcon(icon)
        self.setAcceptDrops(True)
        self.persist = persist  # False for --screenshot runs: they must not change the settings
        self._message_timer = QtCore.QTimer(self, singleShot=True)
        self._message_timer.timeout.connect(lambda: self.show_message(""))
        self.tabs = QtWidgets.QTabWidget()
        self.tabs.setDocumentMode(True)
        self._slots = [_Slot(spec) for spec in PANEL_SPECS]
        for i, slot in enumerate(self._slots):
            self.tabs.addTab(slot, slot.spec.title)
            self.tabs.setTabToolTip(i, f"{slot.spec.title} (Alt+{i + 1})")
        self.setCentralWidget(self.tabs)

        self.coords = QtWidgets.QLabel()
        self.coords.setMinimumWidth(300)
        self.message_label = QtWidgets.QLabel()
        self.statusBar().addWidget(self.message_label, 1)
        self.statusBar().addPermanentWidget(self.coords)

        self._build_menus()
        self._restore()
        self.tabs.currentChanged.connect(self._on_tab)

    # ----------------------------------------------------------- panels
    def panel(self, index: int) -> Panel:
        """The panel in tab ``index``, built (and showing its default content) on first use."""
        slot = self._slots[index]
        panel = self._built_panel(index)
        if not slot.default_shown:
            slot.default_shown = True
            panel.show_default()
            if panel.welcome_banner is not None and not self.welcome_dismissed():
                panel.welcome_banner.dismissed.connect(self._on_welcome_dismissed)
                panel.show_welcome()
        return panel

    def _built_panel(self, index: int) -> Panel:
        """The panel in tab ``index``, built but without loading its default content (for
        listing its shortcuts before the user has visited it)."""
        slot = self._slots[index]
        if slot.panel is None:
            from workbench.ui.image_view import ImageView

            panel = slot.spec.build()
            panel.message.connect(self.show_message)
            panel.fileOpened.connect(lambda path, key=panel.key: self.add_recent(path, key))
            panel.activity.connect(lambda text, i=index: self._show_activity(i, text))
            for view in panel.findChildren(ImageView):
                view.hoverText.connect(self.coords.setText)
            slot._layout.addWidget(panel)
            slot._layout.setCurrentWidget(panel)
            slot.panel = panel
        return slot.panel

    def _show_activity(self, index: int, text: str) -> None:
        """Mark a tab whose panel works on while hidden (● and a tooltip saying what)."""
        title = self._slots[index].spec.title
        self.tabs.setTabText(index, f"{title} ●" if text else title)
        self.tabs.setTabToolTip(index, f"{title} (Alt+{index + 1})" + (f": {text}" if text
                                                                        else ""))

    # -------------------------------------------------------- first run
    @staticmethod
    def welcome_dismissed() -> bool:
        value = QtCore.QSettings().value(WELCOME_DISMISSED_KEY, False)
        return value in (True, "true", "1", 1)

    def _on_welcome_dismissed(self) -> None:
        if self.persist:
            QtCore.QSettings().setValue(WELCOME_DISMISSED_KEY, True)

    @property
    def panels(self) -> list[Panel]:
        """Every panel, building those not built yet."""
        return [self.panel(i) for i in range(len(self._slots))]

    # ------------------------------------------------------------ menus
    def _build_menus(self) -> None:
        mb = self.menuBar()
        file_menu = mb.addMenu("&File")
        self.open_action = file_menu.addAction("&Open…", self.open_dialog)
        self.open_action.setShortcut(QtGui.QKeySequence.StandardKey.Open)
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.save_action = file_menu.addAction("&Save…", self.save_dialog)
        self.save_action.setShortcut(QtGui.QKeySequence.StandardKey.Save)
        file_menu.addSeparator()
        quit_action = file_menu.addAction("&Quit", self.close)
        quit_action.setShortcut(QtGui.QKeySequence.StandardKey.Quit)

        view_menu = mb.addMenu("&View")
        view_menu.addAction("&Fit to window", lambda: self._each_view("fit"), "Ctrl+0")
        view_menu.addAction("&Actual pixels (1:1)", lambda: self._each_view("zoom_actual_pixels"),
                            "Ctrl+1")
        view_menu.addAction("Zoom &in", lambda: self._each_view("zoom_by", 1.25),
                            QtGui.QKeySequence.StandardKey.ZoomIn)
        view_menu.addAction("Zoom &out", lambda: self._each_view("zoom_by", 0.8),
                            QtGui.QKeySequence.StandardKey.ZoomOut)
        view_menu.addSeparator()
        for i, spec in enumerate(PANEL_SPECS):
            view_menu.addAction(spec.title, lambda i=i: self.tabs.setCurrentIndex(i),
                                f"Alt+{i + 1}")

        help_menu = mb.addMenu("&Help")
        self.guide_action = help_menu.addAction("&User Guide", self.show_user_guide)
        self.guide_action.setShortcuts(QtGui.QKeySequence.keyBindings(
            QtGui.QKeySequence.StandardKey.HelpContents))
        self.guide_action.setStatusTip("The user guide, open at the current panel's section")
        self.shortcuts_action = help_menu.addAction("&Keyboard Shortcuts…", self.show_shortcuts)
        self.shortcuts_action.setShortcuts(shortcuts_dialog_keys())
        help_menu.addSeparator()
        help_menu.addAction("&About Workbench", self.show_about)
        self._rebuild_recent()

    def _each_view(self, method: str, *args) -> None:
        from workbench.ui.image_view import ImageView

        for view in self.current_panel().findChildren(ImageView):
            if view.isVisible():
                getattr(view, method)(*args)

    def current_panel(self) -> Panel:
        return self.panel(self.tabs.currentIndex())

    def select_panel(self, key: str) -> None:
        self.tabs.setCurrentIndex(PANEL_KEYS.index(key))

    def activate_current(self) -> Panel:
        """Build the current tab's panel if needed and update the menus for it."""
        self._on_tab(self.tabs.currentIndex())
        return self.current_panel()

    def _on_tab(self, index: int) -> None:
        panel = self.panel(index)
        self.open_action.setEnabled(panel.can_open)
        self.save_action.setEnabled(panel.can_save)
        self.coords.clear()
        self.show_message("")
        if self.persist:
            QtCore.QSettings().setValue("window/panel", panel.key)

    # ------------------------------------------------------------ files
    def open_dialog(self) -> None:
        self.current_panel().open_dialog()

    def save_dialog(self) -> None:
        self.current_panel().save_dialog()

    def open_path(self, path: str | Path) -> bool:
        """Open a file in the current panel (Rectify if it opens no files); a video file plays
        in Colorize."""
        from workbench.imaging.video import VIDEO_EXTENSIONS

        if Path(path).suffix.lower() in VIDEO_EXTENSIONS:
            self.select_panel("colorize")
            return self.activate_current().play_video(path)
        panel = self.current_panel()
        if not panel.can_open:
            self.select_panel("rectify")
            panel = self.current_panel()
        return panel.open_file(path)

    def recent_files(self) -> list[str]:
        value = QtCore.QSettings().value("recent/files", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or [])]

    @staticmethod
    def recent_panels() -> dict[str, str]:
        """Recent file → the key of the panel that opened it."""
        value = QtCore.QSettings().value("recent/panels", {})
        return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}

    def add_recent(self, path: str, panel_key: str | None = None) -> None:
        path = str(Path(path).resolve())
        files = [p for p in self.recent_files() if p != path]
        files.insert(0, path)
        files = files[:MAX_RECENT]
        panels = {p: k for p, k in self.recent_panels().items() if p in files}
        if panel_key in PANEL_KEYS:
            panels[path] = panel_key
        s = QtCore.QSettings()
        s.setValue("recent/files", files)
        s.setValue("recent/panels", panels)
        self._rebuild_recent()

    def recent_label(self, path: str, panel_key: str | None) -> str:
        """A Recent entry: the name, its folder (home as ~, elided in the middle) and the panel
        it was opened in, so that two "03.jpg" from different folders or panels differ."""
        p = Path(path)
        folder = str(p.parent)
        home = str(Path.home())
        if folder == home or folder.startswith(home + "/"):
            folder = "~" + folder[len(home):]
        metrics = QtGui.QFontMetrics(self.recent_menu.font())
        folder = metrics.elidedText(folder, QtCore.Qt.TextElideMode.ElideMiddle, 320)
        title = next((spec.title for spec in PANEL_SPECS if spec.key == panel_key), "")
        text = f"{p.name} — {folder}" + (f" · {title}" if title else "")
        return text.replace("&", "&&")

    def open_recent(self, path: str) -> bool:
        """Reopen a recent file in the panel it was opened in (the current one if unknown)."""
        key = self.recent_panels().get(path)
        if key in PANEL_KEYS and key != self.current_panel().key:
            self.select_panel(key)
            self.activate_current()
        return self.open_path(path)

    def _rebuild_recent(self) -> None:
        self.recent_menu.clear()
        files = self.recent_files()
        panels = self.recent_panels()
        for path in files:
            action = self.recent_menu.addAction(self.recent_label(path, panels.get(path)),
                                                lambda p=path: self.open_recent(p))
            action.setToolTip(path)
            action.setStatusTip(path)
        if files:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear list", self._clear_recent)
        self.recent_menu.setEnabled(bool(files))

    def _clear_recent(self) -> None:
        QtCore.QSettings().setValue("recent/files", [])
        QtCore.QSettings().setValue("recent/panels", {})
        self._rebuild_recent()

    # ----------------------------------------------------- drag and drop
    @staticmethod
    def _dropped_images(event) -> list[str]:
        """Dropped files the window opens: images, and videos (they play in Colorize)."""
        from workbench.imaging.io import SUPPORTED_READ_EXTENSIONS
        from workbench.imaging.video import VIDEO_EXTENSIONS

        if not event.mimeData().hasUrls():
            return []
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        opens = SUPPORTED_READ_EXTENSIONS + VIDEO_EXTENSIONS
        return [p for p in paths if Path(p).suffix.lower() in opens]

    def dragEnterEvent(self, event):  # noqa: N802
        if self._dropped_images(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event):  # noqa: N802
        paths = self._dropped_images(event)
        if paths:
            self.open_path(paths[0])
            event.acceptProposedAction()

    # ----------------------------------------------------------- status
    def show_message(self, text: str, level: str = "info") -> None:
        """Status-bar message; information fades after 10 s, warnings and errors stay longer."""
        colour = {"error": "#c01818", "warning": "#a06000"}.get(level, "")
        self.message_label.setStyleSheet(f"color: {colour};" if colour else "")
        self.message_label.setText(text)
        self.message_label.setToolTip(text)
        if text:
            self._message_timer.start(10_000 if level == "info" else 30_000)

    def show_about(self) -> None:
        dlg = AboutDialog(self)
        dlg.open()

    def show_shortcuts(self) -> ShortcutsDialog:
        dlg = ShortcutsDialog(self)
        dlg.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.open()
        return dlg

    def show_user_guide(self) -> UserGuideDialog:
        """The README, scrolled to the current panel's section. One guide window at a time."""
        dlg = getattr(self, "_guide", None)
        if dlg is None:
            dlg = UserGuideDialog(self)
            dlg.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
            dlg.destroyed.connect(lambda: setattr(self, "_guide", None))
            self._guide = dlg
        dlg.show_section(PANEL_SPECS[self.tabs.currentIndex()].title)
        dlg.show()
        dlg.raise_()
        dlg.activateWindow()
        return dlg

    def shortcut_groups(self) -> list[ShortcutGroup]:
        """Every keyboard shortcut, grouped by window and panel: the menu actions' and the
        panels' QShortcuts read from the live objects, then the keys the image views handle
        themselves (each panel's ``KEYS``) and the mouse."""
        groups = [ShortcutGroup("Window", menu_shortcuts(self.menuBar()),
                                "With the mouse:", MOUSE)]
        for i, spec in enumerate(PANEL_SPECS):
            panel = self._built_panel(i)
            rows = []
            for sc in panel.findChildren(QtGui.QShortcut):
                keys = keys_text(sc.keys())
                if keys and sc.whatsThis():
                    rows.append((keys, sc.whatsThis()))
            groups.append(ShortcutGroup(spec.title, rows, panel.KEYS_WHERE,
                                        list(panel.KEYS)))
        return groups

    # --------------------------------------------------------- settings
    def _restore(self) -> None:
        s = QtCore.QSettings()
        geometry = s.value("window/geometry")
        if isinstance(geometry, QtCore.QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(1360, 860)
        key = s.value("window/panel", "rectify")
        if key in PANEL_KEYS:
            self.select_panel(str(key))

    def closeEvent(self, event):  # noqa: N802
        if self.persist:
            QtCore.QSettings().setValue("window/geometry", self.saveGeometry())
        for slot in self._slots:  # live streams read widgets from their threads: stop them first
            if slot.panel is not None:
                slot.panel.shutdown()
        super().closeEvent(event)
