"""The Help menu's windows: About, Keyboard Shortcuts, and the User Guide (this README's
section for the current panel)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from PySide6 import QtCore, QtGui, QtWidgets

from workbench import __version__
from workbench.ui.panel import keys_text

if TYPE_CHECKING:
    from workbench.ui.main_window import MainWindow


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


def menu_shortcuts(bar: QtWidgets.QMenuBar) -> list[tuple[str, str]]:
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
