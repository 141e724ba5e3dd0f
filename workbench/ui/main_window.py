"""The main window: four panels, menus, recent files, drag-and-drop, status bar."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from PySide6 import QtCore, QtGui, QtWidgets

from workbench import __version__
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


class ShortcutGroup(NamedTuple):
    """Help > Keyboard Shortcuts: one heading's shortcuts, as (keys, what) rows."""

    title: str
    rows: list[tuple[str, str]]
    note: str  # heading of the extra rows
    extra: list[tuple[str, str]]


MOUSE = [
    ("Wheel", "Zoom about the cursor"),
    ("Drag the background", "Pan"),
    ("Drop an image file", "Open it in the current panel (a video plays in Colorize)"),
]


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
            panel.fileOpened.connect(self.add_recent)
            for view in panel.findChildren(ImageView):
                view.hoverText.connect(self.coords.setText)
            slot._layout.addWidget(panel)
            slot._layout.setCurrentWidget(panel)
            slot.panel = panel
        return slot.panel

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

    def add_recent(self, path: str) -> None:
        path = str(Path(path).resolve())
        files = [p for p in self.recent_files() if p != path]
        files.insert(0, path)
        QtCore.QSettings().setValue("recent/files", files[:MAX_RECENT])
        self._rebuild_recent()

    def _rebuild_recent(self) -> None:
        self.recent_menu.clear()
        files = self.recent_files()
        for path in files:
            action = self.recent_menu.addAction(Path(path).name, lambda p=path: self.open_path(p))
            action.setToolTip(path)
            action.setStatusTip(path)
        if files:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear list", self._clear_recent)
        self.recent_menu.setEnabled(bool(files))

    def _clear_recent(self) -> None:
        QtCore.QSettings().setValue("recent/files", [])
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
        groups = [ShortcutGroup("Window", _menu_shortcuts(self.menuBar()),
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


class AboutDialog(QtWidgets.QDialog):
    """Versions of everything that matters and the ONNX Runtime providers that really work."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About Workbench")
        self.text = QtWidgets.QTextBrowser()
        self.text.setOpenExternalLinks(True)
        self.text.setMinimumSize(520, 360)
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(buttons)
        self.text.setHtml(self._html(probe=False))
        # probing ONNX Runtime imports it and creates sessions: do it off the GUI thread
        from workbench.ui.worker import run_in_background

        self._job = run_in_background(lambda job: self._html(probe=True),
                                      on_done=self.text.setHtml)

    @staticmethod
    def _html(probe: bool) -> str:
        from workbench.runtime import system_report

        report = system_report(probe_providers=probe)
        rows = "".join(f"<tr><td><b>{k}</b></td><td>{v}</td></tr>" for k, v in report.items())
        return (f"<h2>Workbench {__version__}</h2>"
                "<p>A computer-vision workbench: rectify, colorize, faces, pyramids.</p>"
                f"<table cellspacing=4>{rows}</table>")


# ------------------------------------------------------------------ help: keyboard shortcuts
def shortcuts_dialog_keys() -> list[QtGui.QKeySequence]:
    """Keys of Help > Keyboard Shortcuts: Ctrl+? (the GNOME convention) and Ctrl+/, minus any
    the platform already uses for the help contents (⌘? on macOS, which opens the guide)."""
    help_keys = QtGui.QKeySequence.keyBindings(QtGui.QKeySequence.StandardKey.HelpContents)
    return [QtGui.QKeySequence(k) for k in ("Ctrl+?", "Ctrl+/")
            if QtGui.QKeySequence(k) not in help_keys]


def _action_text(action: QtGui.QAction) -> str:
    return action.text().replace("&&", "\0").replace("&", "").replace("\0", "&").rstrip("…. ")


def _menu_shortcuts(bar: QtWidgets.QMenuBar) -> list[tuple[str, str]]:
    """(keys, "Menu ▸ Item") for every menu action with a shortcut, in menu order."""
    rows: list[tuple[str, str]] = []

    def walk(menu: QtWidgets.QMenu, path: list[str]) -> None:
        for action in menu.actions():
            if action.menu() is not None:
                walk(action.menu(), [*path, _action_text(action)])
            elif not action.isSeparator():
                keys = keys_text(action.shortcuts())
                if keys:
                    rows.append((keys, " ▸ ".join([*path, _action_text(action)])))

    for top in bar.actions():
        if top.menu() is not None:
            walk(top.menu(), [_action_text(top)])
    return rows


class ShortcutsDialog(QtWidgets.QDialog):
    """Every shortcut of the window and the panels, read from the live actions and shortcuts
    (so the list cannot go stale), plus the keys the image views handle themselves."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.setWindowTitle("Keyboard Shortcuts")
        self.groups = window.shortcut_groups()
        self.text = QtWidgets.QTextBrowser()
        self.text.setOpenLinks(False)
        self.text.setMinimumSize(860, 560)
        self.text.setHtml(self._html())
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(buttons)

    def plain_rows(self) -> dict[str, list[tuple[str, str]]]:
        """Group title → every (keys, what) listed under it (for tests and scripts)."""
        return {g.title: g.rows + g.extra for g in self.groups}

    def _html(self) -> str:
        from html import escape

        pal = self.palette()
        muted = pal.color(QtGui.QPalette.ColorRole.PlaceholderText).name()
        key_bg = pal.color(QtGui.QPalette.ColorRole.AlternateBase).name()

        def table(rows) -> str:
            cells = "".join(
                f"<tr><td width='34%' style='background-color:{key_bg}'><b>{escape(k)}</b></td>"
                f"<td>{escape(what)}</td></tr>" for k, what in rows)
            return f"<table cellspacing=2 cellpadding=4 width='100%'>{cells}</table>"

        def group(g: ShortcutGroup) -> str:
            parts = [f"<h3>{escape(g.title)}</h3>"]
            if g.rows:
                parts.append(table(g.rows))
            if g.extra:
                parts.append(f"<p style='color:{muted}'>{escape(g.note)}</p>")
                parts.append(table(g.extra))
            if not g.rows and not g.extra:
                parts.append(f"<p style='color:{muted}'>No keys of its own: the window's "
                             "shortcuts work here.</p>")
            return "".join(parts)

        window_group, *panel_groups = self.groups
        left = group(window_group)
        right = "".join(group(g) for g in panel_groups)
        return (f"<table width='100%' cellspacing=0 cellpadding=8><tr>"
                f"<td width='50%' valign='top'>{left}</td>"
                f"<td width='50%' valign='top'>{right}</td></tr></table>")


# --------------------------------------------------------------------- help: user guide
class _GuideBrowser(QtWidgets.QTextBrowser):
    """Shows the README's pictures from the bundled resources, scaled to fit the guide."""

    MAX_IMAGE_WIDTH = 420

    def __init__(self, base: Path | None) -> None:
        super().__init__()
        self.base = base

    def resolve(self, name: str) -> Path | None:
        """A file the README links to (``resources/…`` or relative to the README)."""
        from workbench.resources import resources_dir

        name = name.split("#", 1)[0]
        candidates = []
        if self.base is not None:
            candidates.append(self.base / name)
        if name.startswith("resources/"):
            candidates.append(resources_dir() / name.removeprefix("resources/"))
        return next((c for c in candidates if c.is_file()), None)

    def loadResource(self, kind: int, url: QtCore.QUrl):  # noqa: N802
        image_kind = QtGui.QTextDocument.ResourceType.ImageResource.value
        if getattr(kind, "value", kind) == image_kind and url.isRelative():
            path = self.resolve(url.toString())
            image = QtGui.QImage(str(path)) if path is not None else QtGui.QImage()
            if image.isNull():  # a missing picture is left out, not drawn as a broken icon
                image = QtGui.QImage(1, 1, QtGui.QImage.Format.Format_ARGB32)
                image.fill(QtCore.Qt.GlobalColor.transparent)
                return image
            if image.width() > self.MAX_IMAGE_WIDTH:
                image = image.scaledToWidth(self.MAX_IMAGE_WIDTH,
                                            QtCore.Qt.TransformationMode.SmoothTransformation)
            return image
        return super().loadResource(kind, url)


class UserGuideDialog(QtWidgets.QDialog):
    """The README (the user guide) rendered from Markdown, opened at one panel's section."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        from workbench.resources import readme_text

        self.setWindowTitle("Workbench User Guide")
        self.resize(1000, 760)
        text = readme_text()
        # where the README's relative links point: the checkout, or the bundle's root
        root = Path(__file__).resolve().parents[2]
        bundle = getattr(sys, "_MEIPASS", None)
        base = root if (root / "pyproject.toml").is_file() else (Path(bundle) if bundle else None)
        self.browser = _GuideBrowser(base)
        self.browser.setOpenLinks(False)
        self.browser.anchorClicked.connect(self._on_link)
        self.found = text is not None
        self.sections = QtWidgets.QComboBox()
        self.sections.setToolTip("Jump to a section")
        if text is None:
            self.browser.setHtml(
                "<h2>The user guide is not included in this installation</h2>"
                "<p>Workbench looks for its README.md in the source checkout, in the "
                "application bundle and in the installed package's description, and found it "
                "in none of them.</p><p>Hover over the buttons for tooltips, and see "
                "<b>Help ▸ Keyboard Shortcuts</b> for every key.</p>")
        else:
            self.browser.document().setMarkdown(text)
        self.browser.document().setDocumentMargin(12)
        for block in self._headings():
            self.sections.addItem(block.text())
        self.sections.setVisible(self.sections.count() > 0)
        self.sections.activated.connect(lambda _i: self.show_section(self.sections.currentText()))
        self._target: str | None = None

        top = QtWidgets.QHBoxLayout()
        top.addWidget(QtWidgets.QLabel("Section"))
        top.addWidget(self.sections)
        top.addStretch(1)
        top.itemAt(0).widget().setVisible(self.sections.isVisible())
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.browser, 1)
        layout.addWidget(buttons)

    def _headings(self) -> list[QtGui.QTextBlock]:
        out = []
        block = self.browser.document().begin()
        while block.isValid():
            if 1 <= block.blockFormat().headingLevel() <= 2 and block.text().strip():
                out.append(block)
            block = block.next()
        return out

    def heading(self, title: str) -> QtGui.QTextBlock | None:
        return next((b for b in self._headings() if b.text().strip() == title), None)

    def show_section(self, title: str) -> None:
        """Scroll so the heading ``title`` is at the top (now, and again once laid out)."""
        self._target = title
        index = self.sections.findText(title)
        if index >= 0:
            self.sections.setCurrentIndex(index)
        self._scroll()
        QtCore.QTimer.singleShot(0, self._scroll)

    def _scroll(self) -> None:
        block = self.heading(self._target) if self._target else None
        if block is None:
            return
        # room after the last section, so that any section's heading can reach the top
        root = self.browser.document().rootFrame()
        fmt = root.frameFormat()
        pad = max(0, self.browser.viewport().height() - 60)
        if abs(fmt.bottomMargin() - pad) > 1:
            fmt.setBottomMargin(pad)
            root.setFrameFormat(fmt)
        layout = self.browser.document().documentLayout()
        top = layout.blockBoundingRect(block).top()
        self.browser.verticalScrollBar().setValue(int(top))

    def section_visible(self, title: str) -> bool:
        """True when the heading ``title`` is on screen in the guide."""
        block = self.heading(title)
        if block is None:
            return False
        cursor = QtGui.QTextCursor(block)
        rect = self.browser.cursorRect(cursor)
        return 0 <= rect.top() < self.browser.viewport().height()

    def showEvent(self, event):  # noqa: N802
        super().showEvent(event)
        QtCore.QTimer.singleShot(0, self._scroll)

    def _on_link(self, url: QtCore.QUrl) -> None:
        if url.scheme() in ("http", "https", "mailto"):
            QtGui.QDesktopServices.openUrl(url)
        elif url.hasFragment() and not url.path():
            self.browser.scrollToAnchor(url.fragment())
        else:
            path = self.browser.resolve(url.path())
            if path is not None:
                QtGui.QDesktopServices.openUrl(QtCore.QUrl.fromLocalFile(str(path)))
