"""Rectify panel: click four corners, drag them, see the rectified result live, save it.

Mouse and keys (also shown in the panel):

* click — place the next corner (top-left, top-right, bottom-right, bottom-left)
* drag a corner — move it; wheel zooms, dragging the background pans
* arrow keys — nudge the selected corner by 1 px (Shift: 10 px, Alt: 0.1 px); Tab — next corner
* Ctrl+Z / Ctrl+Shift+Z — undo / redo; F — fit to window; 1 — actual pixels

A second mode registers image A onto image B from four or more clicked correspondences.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from workbench.errors import DegenerateConfigurationError, WorkbenchError
from workbench.imaging.io import SUPPORTED_READ_EXTENSIONS, read_image, write_image
from workbench.rectify.homography import CORNER_NAMES
from workbench.rectify.session import (
    CORNER_LABELS,
    INTERPOLATIONS,
    MAX_OUTPUT_SIDE,
    PRESETS,
    PointEditor,
    RectifySession,
    RegisterSession,
    overlay,
    save_matrix,
)
from workbench.resources import RECTIFY_SAMPLE, RECTIFY_SAMPLE_B, sample_corners, sample_path
from workbench.ui.image_view import ImageView
from workbench.ui.overlays import PointsOverlay
from workbench.ui.panel import Banner, Panel, native_keys
from workbench.ui.worker import Job, run_in_background

HINT = (
    "Click the four corners in order: 1 top-left, 2 top-right, 3 bottom-right, 4 bottom-left. "
    "Drag a corner to adjust · arrows nudge the selected corner (Shift ×10, Alt ×0.1) · "
    "Tab next corner · wheel zooms · drag the background to pan."
)
REGISTER_HINT = (
    "Click a point in A, then the same point in B; repeat for at least four pairs. "
    "Drag points to adjust; the overlay updates live."
)


def image_filter() -> str:
    exts = " ".join(f"*{e}" for e in SUPPORTED_READ_EXTENSIONS)
    return f"Images ({exts});;All files (*)"


def nudge_step(modifiers: QtCore.Qt.KeyboardModifier) -> float:
    if modifiers & QtCore.Qt.KeyboardModifier.ShiftModifier:
        return 10.0
    if modifiers & QtCore.Qt.KeyboardModifier.AltModifier:
        return 0.1
    return 1.0


ARROWS = {
    QtCore.Qt.Key.Key_Left: (-1, 0),
    QtCore.Qt.Key.Key_Right: (1, 0),
    QtCore.Qt.Key.Key_Up: (0, -1),
    QtCore.Qt.Key.Key_Down: (0, 1),
}


class EditablePointsView(QtCore.QObject):
    """Binds an ImageView + PointsOverlay to a PointEditor: clicks add, drags move, keys nudge."""

    changed = QtCore.Signal(bool)  # True while a drag is in progress (preview only)
    full = QtCore.Signal()  # a click when every point is already placed

    def __init__(self, view: ImageView, editor_getter, labels=(), closed=True) -> None:
        super().__init__(view)
        self.view = view
        self._editor = editor_getter
        self.overlay = PointsOverlay(view.view_box, labels=labels, closed=closed,
                                     close_at=len(labels) or 3)
        self._drag_index: int | None = None
        view.clicked.connect(self._on_click)
        view.key_handler = self._on_key
        self.overlay.pointDragged.connect(self._on_drag)
        self.overlay.pointDragFinished.connect(self._on_drag_finished)
        self.overlay.pointSelected.connect(self._on_selected)

    @property
    def editor(self) -> PointEditor:
        return self._editor()

    def refresh(self) -> None:
        self.overlay.set_points(self.editor.points, self.editor.selected)

    def _on_click(self, x: float, y: float) -> None:
        if self.view.image is None:
            return
        ed = self.editor
        if ed.full:
            i = ed.nearest(x, y)
            px, py = ed.points[i]
            if np.hypot(px - x, py - y) * self.view.pixel_scale() < 30:
                ed.select(i)
                self.refresh()
            else:
                self.full.emit()
            return
        ed.add(x, y)
        self.refresh()
        self.changed.emit(False)

    def _on_selected(self, index: int) -> None:
        self.editor.select(index)
        self.view.setFocus()
        self.refresh()

    def _on_drag(self, index: int, x: float, y: float) -> None:
        if self._drag_index is None:
            self._drag_index = index
            self.editor.begin_drag(index)
        self.editor.move(index, x, y)
        self.changed.emit(True)

    def _on_drag_finished(self, index: int, x: float, y: float) -> None:
        if self._drag_index is not None:
            self.editor.move(index, x, y)
            self.editor.end_drag()
            self._drag_index = None
        self.refresh()
        self.changed.emit(False)

    def _on_key(self, ev: QtGui.QKeyEvent) -> bool:
        key = QtCore.Qt.Key(ev.key())
        if key in ARROWS:
            dx, dy = ARROWS[key]
            step = nudge_step(ev.modifiers())
            if self.editor.nudge(dx * step, dy * step):
                self.refresh()
                self.changed.emit(False)
                return True
            return False
        if key == QtCore.Qt.Key.Key_Tab:
            self.editor.select_next()
            self.refresh()
            return True
        if key == QtCore.Qt.Key.Key_F:
            self.view.fit()
            return True
        if key == QtCore.Qt.Key.Key_1:
            self.view.zoom_actual_pixels()
            return True
        return False


class RectifyPanel(Panel):
    title = "Rectify"
    key = "rectify"
    can_open = True
    can_save = True
    KEYS = (
        ("Arrow keys", "Nudge the selected point by 1 px (Shift: 10 px, Alt: 0.1 px)"),
        ("Tab", "Select the next point (corner)"),
        ("F", "Fit the image to the view"),
        ("1", "Actual pixels (1:1)"),
    )

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.session = RectifySession()
        self.register = RegisterSession()
        self._preview_pending = False
        self._register_pending = False
        self._register_warp: tuple[np.ndarray, np.ndarray] | None = None
        self._save_job: Job | None = None
        self.last_preview: np.ndarray | None = None
        self.showing_sample = False  # the bundled poster, not the user's photo
        self._build()
        self._sync_enabled()

    # ------------------------------------------------------------- layout
    def _build(self) -> None:
        self.mode = QtWidgets.QComboBox()
        self.mode.addItems(["Rectify a plane", "Register A onto B"])
        self.mode.setToolTip("Rectify one photo, or align image A to image B")
        self.open_button = QtWidgets.QPushButton("Open…")
        self.preset = QtWidgets.QComboBox()
        for p in PRESETS:
            self.preset.addItem(p.label, p.key)
        self.preset.setToolTip("Output rectangle: estimated aspect, a paper size, or your own")
        self.custom_w = QtWidgets.QSpinBox(maximum=MAX_OUTPUT_SIDE, minimum=1, value=1000)
        self.custom_h = QtWidgets.QSpinBox(maximum=MAX_OUTPUT_SIDE, minimum=1, value=1000)
        self.custom_w.setToolTip("Output width in pixels")
        self.custom_h.setToolTip("Output height in pixels")
        self.interp = QtWidgets.QComboBox()
        self.interp.addItems(INTERPOLATIONS)
        self.interp.setCurrentText("bilinear")
        self.interp.setToolTip("Interpolation used when saving at full resolution")
        self.loupe = QtWidgets.QCheckBox("Loupe")
        self.loupe.setChecked(True)
        self.loupe.setToolTip("Magnifier next to the cursor for sub-pixel placement")
        self.undo_button = QtWidgets.QToolButton(text="Undo")
        self.redo_button = QtWidgets.QToolButton(text="Redo")
        self.reset_button = QtWidgets.QToolButton(text="Reset")
        self.reset_button.setToolTip("Remove all points and start again")
        self.save_button = QtWidgets.QPushButton("Save image…")
        self.save_matrix_button = QtWidgets.QPushButton("Save matrix…")
        self.cancel_button = QtWidgets.QPushButton("Cancel")
        self.cancel_button.hide()
        self.progress = QtWidgets.QProgressBar(maximumWidth=140)
        self.progress.hide()

        bar = QtWidgets.QHBoxLayout()
        for w in (self.mode, self.open_button):
            bar.addWidget(w)
        bar.addSpacing(12)
        self.rectify_controls = QtWidgets.QWidget()
        rc = QtWidgets.QHBoxLayout(self.rectify_controls)
        rc.setContentsMargins(0, 0, 0, 0)
        rc.addWidget(QtWidgets.QLabel("Output"))
        rc.addWidget(self.preset)
        self.times_label = QtWidgets.QLabel("×")
        rc.addWidget(self.custom_w)
        rc.addWidget(self.times_label)
        rc.addWidget(self.custom_h)
        bar.addWidget(self.rectify_controls)
        bar.addWidget(self.interp)
        bar.addWidget(self.loupe)
        bar.addStretch(1)
        for w in (self.progress, self.cancel_button, self.save_button, self.save_matrix_button):
            bar.addWidget(w)
        edit_buttons = QtWidgets.QWidget()
        eb = QtWidgets.QHBoxLayout(edit_buttons)
        eb.setContentsMargins(0, 0, 0, 0)
        for w in (self.undo_button, self.redo_button, self.reset_button):
            eb.addWidget(w)

        # rectify page: source | preview
        open_keys = native_keys(QtGui.QKeySequence.StandardKey.Open)
        self.source_view = ImageView(placeholder=(
            "No photo yet.\n\nOpen a photo of a document, poster or screen with Open… "
            f"({open_keys}), or drop an image file here; then click its four corners."))
        self.preview_view = ImageView(placeholder="The rectified result appears here once all "
                                                  "four corners are placed.")
        self.corners_ui = EditablePointsView(self.source_view, lambda: self.session.corners,
                                             labels=CORNER_LABELS)
        self.corners_ui.changed.connect(self._on_corners_changed)
        self.corners_ui.full.connect(lambda: self.info(
            "All four corners are placed: drag one to move it (or select it and use the arrow "
            "keys), or Reset to start again."))
        rect_split = QtWidgets.QSplitter()
        rect_split.addWidget(self._titled(self.source_view, "Source — place the corners"))
        rect_split.addWidget(self._titled(self.preview_view, "Rectified preview"))
        rect_split.setSizes([600, 400])

        # register page: A | B | overlay
        self.view_a = ImageView(placeholder="Image A: the image to move.\n\nOpen A…, or drop "
                                            "an image file here.")
        self.view_b = ImageView(placeholder="Image B: the reference frame.\n\nOpen B…, or "
                                            "drop a second image file here.")
        self.overlay_view = ImageView(placeholder="A warped over B appears here once four pairs "
                                                  "of matching points are clicked.")
        for view in (self.source_view, self.view_a, self.view_b):
            # room for the corner labels, drawn outside points near the image's edges
            view.fit_padding = 0.05
        self.points_a_ui = EditablePointsView(self.view_a, lambda: self.register.points_a,
                                              closed=False)
        self.points_b_ui = EditablePointsView(self.view_b, lambda: self.register.points_b,
                                              closed=False)
        self.points_a_ui.changed.connect(lambda drag: self._on_register_changed("a", drag))
        self.points_b_ui.changed.connect(lambda drag: self._on_register_changed("b", drag))
        self.open_a = QtWidgets.QPushButton("Open A…")
        self.open_b = QtWidgets.QPushButton("Open B…")
        self.opacity = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal, minimum=0, maximum=100,
                                         value=50)
        self.opacity.setToolTip("Opacity of warped A over B")
        reg_top = QtWidgets.QSplitter()
        reg_top.addWidget(self._titled(self.view_a, "A", self.open_a))
        reg_top.addWidget(self._titled(self.view_b, "B", self.open_b))
        ov_box = QtWidgets.QWidget()
        ovl = QtWidgets.QVBoxLayout(ov_box)
        ovl.setContentsMargins(0, 0, 0, 0)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(QtWidgets.QLabel("A over B · opacity"))
        row.addWidget(self.opacity)
        ovl.addLayout(row)
        ovl.addWidget(self.overlay_view)
        reg_split = QtWidgets.QSplitter()
        reg_split.addWidget(reg_top)
        reg_split.addWidget(ov_box)
        reg_split.setSizes([650, 350])

        self.pages = QtWidgets.QStackedWidget()
        self.pages.addWidget(rect_split)
        self.pages.addWidget(reg_split)

        self.hint = self.hint_label(HINT)
        self.fit_label = QtWidgets.QLabel()
        self.fit_label.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        self.warning_label = QtWidgets.QLabel()
        self.warning_label.setWordWrap(True)
        self.warning_label.setStyleSheet("color: #c01818; font-weight: bold;")

        self.welcome_banner = Banner()
        self.welcome_banner.hide()

        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.welcome_banner)
        layout.addWidget(self.pages, 1)
        layout.addWidget(self.fit_label)
        layout.addWidget(self.warning_label)
        bottom = QtWidgets.QHBoxLayout()
        bottom.addWidget(self.hint, 1)
        bottom.addWidget(edit_buttons)
        layout.addLayout(bottom)

        self.mode.currentIndexChanged.connect(self._on_mode)
        self.open_button.clicked.connect(self.open_dialog)
        self.open_a.clicked.connect(lambda: self._open_register_dialog("a"))
        self.open_b.clicked.connect(lambda: self._open_register_dialog("b"))
        self.preset.currentIndexChanged.connect(self._on_preset)
        self.custom_w.valueChanged.connect(self._on_custom_size)
        self.custom_h.valueChanged.connect(self._on_custom_size)
        self.interp.currentTextChanged.connect(self._on_interp)
        self.loupe.toggled.connect(self._on_loupe)
        self.undo_button.clicked.connect(self.undo)
        self.redo_button.clicked.connect(self.redo)
        self.reset_button.clicked.connect(self.reset)
        self.save_button.clicked.connect(self.save_dialog)
        self.save_matrix_button.clicked.connect(self.save_matrix_dialog)
        self.cancel_button.clicked.connect(self._cancel_save)
        self.opacity.valueChanged.connect(lambda _v: self._schedule_register())
        self._on_preset()
        self._on_loupe(True)

        self.add_shortcut(QtGui.QKeySequence.StandardKey.Undo, self.undo,
                          "Undo the last point edit")
        self.add_shortcut(QtGui.QKeySequence.StandardKey.Redo, self.redo,
                          "Redo the point edit undone last")
        self.undo_button.setToolTip(
            f"Undo the last point edit ({native_keys(QtGui.QKeySequence.StandardKey.Undo)})")
        self.redo_button.setToolTip(f"Redo ({native_keys(QtGui.QKeySequence.StandardKey.Redo)})")

    @staticmethod
    def _titled(view: QtWidgets.QWidget, title: str, extra: QtWidgets.QWidget | None = None):
        box = QtWidgets.QWidget()
        lay = QtWidgets.QVBoxLayout(box)
        lay.setContentsMargins(0, 0, 0, 0)
        row = QtWidgets.QHBoxLayout()
        label = QtWidgets.QLabel(f"<b>{title}</b>")
        row.addWidget(label)
        row.addStretch(1)
        if extra is not None:
            row.addWidget(extra)
        lay.addLayout(row)
        lay.addWidget(view, 1)
        return box

    def welcome_text(self) -> str:
        if self.mode.currentIndex() != 0:
            return ""
        save = native_keys(QtGui.QKeySequence.StandardKey.Save)
        open_ = native_keys(QtGui.QKeySequence.StandardKey.Open)
        guide = native_keys(QtGui.QKeySequence.StandardKey.HelpContents)
        if self.session.image is None:
            return ("<b>Welcome to Workbench!</b> Open a photo of a document, poster or screen "
                    f"({open_}) or drop one here, then click its four corners in order: "
                    f"top-left, top-right, bottom-right, bottom-left. {guide} opens the user "
                    "guide.")
        if not self.session.complete:
            return ("<b>Welcome to Workbench!</b> Click the four corners in order — top-left, "
                    "top-right, bottom-right, bottom-left — and the rectified result appears on "
                    f"the right. Drag a corner to adjust it; {save} saves the result.")
        what = "the poster" if self.showing_sample else "your document"
        return (f"<b>Welcome to Workbench!</b> Drag the four numbered corner markers onto the "
                f"corners of {what} — the rectified preview on the right follows live. "
                f"Arrow keys nudge the selected corner · {save} saves the result · {open_} "
                f"opens your own photo · {guide} opens the user guide.")

    # ------------------------------------------------------------- opening
    def show_default(self) -> None:
        path = sample_path(RECTIFY_SAMPLE)
        if path.exists():
            self.open_file(path, corners=sample_corners(RECTIFY_SAMPLE), remember=False)
            self.showing_sample = True
            self.update_welcome()
            self.info("Sample poster opened: drag the corners, or Reset and click your own four.")
        b = sample_path(RECTIFY_SAMPLE_B)
        if path.exists() and b.exists():
            try:
                self.register.load_a(read_image(b))
                self.register.load_b(read_image(path))
                self.view_a.set_image(self.register.image_a)
                self.view_b.set_image(self.register.image_b)
            except WorkbenchError as exc:
                self.report_error(exc)

    def open_dialog(self) -> None:
        if self.mode.currentIndex() == 1:
            self._open_register_dialog("a" if self.register.image_a is None else "b")
            return
        path, _ = QtWidgets.QFileDialog.getOpenFileName(
            self, "Open photo", self._last_dir(), image_filter())
        if path:
            self.open_file(path)

    def _last_dir(self) -> str:
        return str(self.settings().value("rectify/last_dir", str(Path.home())))

    def open_file(self, path: str | Path, corners=None, remember: bool = True) -> bool:
        """Open a photo to rectify (or, in register mode, as A then B).

        ``remember=False`` keeps it out of Recent files and the last folder (bundled samples).
        """
        if self.mode.currentIndex() == 1:
            return self._open_register("a" if self.register.image_a is None else "b", path)
        try:
            image = read_image(path)
        except WorkbenchError as exc:
            self.report_error(exc)  # the current image and corners stay as they were
            return False
        self.session.load(image, path, corners=corners)
        self.showing_sample = False
        self.last_preview = None
        self.source_view.set_image(image)
        self.preview_view.set_image(None)
        if remember:
            self.settings().setValue("rectify/last_dir", str(Path(path).parent))
            self.fileOpened.emit(str(path))
        h, w = image.shape[:2]
        self.info(f"Opened {Path(path).name} — {w}×{h}, {image.dtype}")
        self._refresh_all()
        return True

    def _open_register_dialog(self, which: str) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(
            self, f"Open image {which.upper()}", self._last_dir(), image_filter())
        if path:
            self._open_register(which, path)

    def _open_register(self, which: str, path: str | Path) -> bool:
        try:
            image = read_image(path)
        except WorkbenchError as exc:
            self.report_error(exc)
            return False
        if which == "a":
            self.register.load_a(image)
            self.view_a.set_image(image)
        else:
            self.register.load_b(image)
            self.view_b.set_image(image)
        self.fileOpened.emit(str(path))
        self._refresh_register()
        return True

    # ------------------------------------------------------------- editing
    def _on_mode(self, index: int) -> None:
        self.pages.setCurrentIndex(index)
        self.rectify_controls.setVisible(index == 0)
        self.hint.setText(HINT if index == 0 else REGISTER_HINT)
        self.update_welcome()
        self._refresh_all() if index == 0 else self._refresh_register()

    def _on_preset(self, *_args) -> None:
        key = self.preset.currentData()
        self.session.preset = key
        custom = key == "custom"
        for w in (self.custom_w, self.times_label, self.custom_h):
            w.setVisible(custom)
        self._refresh_all()

    def _on_custom_size(self, *_args) -> None:
        self.session.custom_size = (self.custom_w.value(), self.custom_h.value())
        self._refresh_all()

    def _on_interp(self, name: str) -> None:
        self.session.interpolation = name
        self.register.interpolation = name
        self._refresh_register()

    def _on_loupe(self, on: bool) -> None:
        for v in (self.source_view, self.view_a, self.view_b):
            v.set_loupe_enabled(on)

    def _on_corners_changed(self, dragging: bool) -> None:
        self._refresh_all(dragging=dragging)

    def undo(self) -> None:
        if self.mode.currentIndex() == 1:
            if self.register.undo():
                self._refresh_register()
            return
        if self.session.corners.undo():
            self._refresh_all()

    def redo(self) -> None:
        if self.mode.currentIndex() == 1:
            if self.register.redo():
                self._refresh_register()
            return
        if self.session.corners.redo():
            self._refresh_all()

    def reset(self) -> None:
        if self.mode.currentIndex() == 1:
            for which in ("a", "b"):
                self.register.editor(which).clear()
                self.register.touched(which)
            self._refresh_register()
            return
        self.session.corners.clear()
        self.preview_view.set_image(None)
        self.last_preview = None
        self._refresh_all()

    # ------------------------------------------------------------ feedback
    def _refresh_all(self, dragging: bool = False) -> None:
        if self.mode.currentIndex() != 0:
            return
        self.corners_ui.refresh()
        s = self.session
        n = len(s.points)
        warnings = s.shape_warnings()
        self.corners_ui.overlay.set_warning(bool(warnings))
        self.warning_label.setText("⚠ " + " ".join(warnings) if warnings else "")
        if s.image is None:
            self.fit_label.setText("")
        elif n < 4:
            self.fit_label.setText(f"Corner {n + 1} of 4: click the {CORNER_NAMES[n]} corner.")
            self._clear_preview()
        self._schedule_preview()
        self._sync_enabled()
        self.update_welcome()

    def _clear_preview(self) -> None:
        self.last_preview = None
        self.preview_view.set_image(None)

    def preview_max_side(self) -> int:
        """Preview resolution: what the preview view can show on screen (device pixels)."""
        view = self.preview_view
        side = max(view.width(), view.height()) * view.devicePixelRatioF()
        return int(np.clip(side, 256, 2048))

    def _schedule_preview(self) -> None:
        """Coalesce bursts of drag events into one preview per event-loop turn."""
        if not self._preview_pending:
            self._preview_pending = True
            QtCore.QTimer.singleShot(0, self._update_preview)

    def _update_preview(self) -> None:
        self._preview_pending = False
        s = self.session
        if s.image is None or not s.complete:
            return
        try:
            (w, h), note = s.output_size()
            preview = s.preview(self.preview_max_side())
            fit = s.fit()
        except WorkbenchError as exc:
            # the shape warnings say *why* (corners too close, collinear); keep them first
            text = " ".join([*s.shape_warnings(), str(exc)])
            self.warning_label.setText(f"⚠ {text}")
            self.corners_ui.overlay.set_warning(
                True, getattr(exc, "indices", ()) if isinstance(
                    exc, DegenerateConfigurationError) else ())
            self.fit_label.setText("No valid rectangle for these corners.")
            self._clear_preview()
            self._sync_enabled()
            return
        self.last_preview = preview
        self.preview_view.set_image(preview, fit=False)
        self.fit_label.setText(
            f"Output {w}×{h} px — {note} · condition number {fit.condition:.3g}")
        self._sync_enabled()

    def _on_register_changed(self, which: str, dragging: bool) -> None:
        if not dragging:
            self.register.touched(which)
        self._refresh_register()

    def _refresh_register(self) -> None:
        if self.mode.currentIndex() != 1:
            return
        self.points_a_ui.refresh()
        self.points_b_ui.refresh()
        r = self.register
        na, nb = len(r.points_a.points), len(r.points_b.points)
        self.fit_label.setText(f"{r.pairs} pair(s): {na} point(s) in A, {nb} in B.")
        self.warning_label.setText("")
        self._register_warp = None
        self._schedule_register()
        self._sync_enabled()

    def _schedule_register(self) -> None:
        if not self._register_pending:
            self._register_pending = True
            QtCore.QTimer.singleShot(0, self._update_register)

    def _update_register(self) -> None:
        """Re-warp (at screen resolution) only when the points changed; opacity only re-blends."""
        self._register_pending = False
        r = self.register
        if not r.ready:
            self._register_warp = None
            self.overlay_view.set_image(r.image_b, fit=False) if r.image_b is not None else None
            return
        if self._register_warp is None:
            for ui in (self.points_a_ui, self.points_b_ui):
                ui.overlay.set_warning(False)
            try:
                fit = r.fit()
                self._register_warp = r.preview(self.preview_max_side())
            except WorkbenchError as exc:
                self.warning_label.setText(f"⚠ {exc}")
                if isinstance(exc, DegenerateConfigurationError):
                    for ui in (self.points_a_ui, self.points_b_ui):
                        ui.overlay.set_warning(True, exc.indices)
                self.overlay_view.set_image(r.image_b, fit=False)  # no stale blend
                self._sync_enabled()
                return
            self.warning_label.setText("⚠ " + " ".join(fit.warnings) if fit.warnings else "")
            errs = ", ".join(f"{e:.2f}" for e in fit.errors)
            extra = (f" · reprojection error per pair (px): {errs} · RMS {fit.rms:.2f}"
                     if r.pairs > 4 else " (exact with four pairs — add more to see residuals)")
            self.fit_label.setText(f"{r.pairs} pairs · condition {fit.condition:.3g}{extra}")
        base, warped = self._register_warp
        self.overlay_view.set_image(overlay(base, warped, self.opacity.value() / 100), fit=False)
        self._sync_enabled()

    def _sync_enabled(self) -> None:
        reg = self.mode.currentIndex() == 1
        ed = self.session.corners
        busy = self._save_job is not None
        ready = self.session.complete and self.last_preview is not None
        self.undo_button.setEnabled(self.register.can_undo if reg else ed.can_undo)
        self.redo_button.setEnabled(self.register.can_redo if reg else ed.can_redo)
        can_save = self.register.ready if reg else ready
        self.save_button.setEnabled(can_save)
        self.save_matrix_button.setEnabled(can_save)
        for w in (self.save_button, self.save_matrix_button):
            w.setVisible(not busy)
        self.progress.setVisible(busy)
        self.cancel_button.setVisible(busy)

    # --------------------------------------------------------------- saving
    def save_dialog(self) -> None:
        reg = self.mode.currentIndex() == 1
        stem = self.session.path.stem if self.session.path else "image"
        default = str(Path(self._last_dir()) / f"{stem}_{'registered' if reg else 'rectified'}.png")
        path, _ = QtWidgets.QFileDialog.getSaveFileName(
            self, "Save result", default, "PNG (*.png);;TIFF (*.tif *.tiff);;JPEG (*.jpg *.jpeg)")
        if path:
            self.save_to(path)

    def save_to(self, path: str | Path) -> Job | None:
        """Render at full resolution and write, off the GUI thread; returns the job."""
        if self._save_job is not None:
            self.warn("A save is already running: wait for it or cancel it.")
            return None
        reg = self.mode.currentIndex() == 1
        try:
            plan = (self.register if reg else self.session).render_plan()
        except WorkbenchError as exc:
            self.report_error(exc)
            return None
        path = Path(path)

        def work(job: Job):  # reads only the frozen plan, never the live session
            job.report(0.02, "rendering")
            # report() raises Cancelled once the user cancels: the warp stops between tiles
            image = plan.run(progress=lambda done: job.report(0.02 + 0.6 * done, "rendering"))
            job.report(0.65, "writing")
            job.commit()  # Cancel no longer applies: the (atomic) write finishes and is reported
            write_image(path, image)
            return path

        self.progress.setRange(0, 100)
        self._save_job = run_in_background(
            work,
            on_progress=lambda f, m: (self.progress.setValue(int(f * 100)),
                                      self.progress.setFormat(m)),
            on_done=lambda p: self.info(f"Saved {p}"),
            on_error=self.report_error,
            on_end=self._save_ended,
        )
        self._save_job.cancelled.connect(lambda: self.warn("Save cancelled; nothing written."))
        self._sync_enabled()
        return self._save_job

    def _cancel_save(self) -> None:
        if self._save_job is not None:
            self._save_job.cancel()

    def _save_ended(self) -> None:
        self._save_job = None
        self._sync_enabled()

    def save_matrix_dialog(self) -> None:
        stem = self.session.path.stem if self.session.path else "homography"
        default = str(Path(self._last_dir()) / f"{stem}_H.json")
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self, "Save matrix", default,
                                                        "JSON (*.json)")
        if path:
            self.save_matrix_to(path)

    def save_matrix_to(self, path: str | Path) -> bool:
        try:
            session = self.register if self.mode.currentIndex() == 1 else self.session
            doc = session.matrix_document()
            save_matrix(path, doc)
        except WorkbenchError as exc:
            self.report_error(exc)
            return False
        self.info(f"Saved matrix to {path}")
        return True
