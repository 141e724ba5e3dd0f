"""Rectify panel: click four corners, drag them, see the rectified result live, save it.

Mouse and keys (also shown in the panel):

* click — place the next corner (top-left, top-right, bottom-right, bottom-left)
* drag a corner — move it; wheel zooms, dragging the background pans
* arrow keys — nudge the selected corner by 1 px (Shift: 10 px, Alt: 0.1 px); Tab — next corner
* Ctrl+Z — undo; Ctrl+Y or Ctrl+Shift+Z — redo; F — fit to window; 1 — actual pixels
* on opening a photo the corners found for you are suggested (dashed): Enter or a click inside
  accepts, Tab / Shift+Tab shows the next / previous candidate, clicking elsewhere places the
  corners by hand; Detect looks again. Dragging a corner snaps it onto the nearest image corner
  (hold Ctrl to place it freely)

A second mode registers image A onto image B from four or more clicked correspondences.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
import shiboken6
from PySide6 import QtCore, QtGui, QtWidgets

from workbench.errors import DegenerateConfigurationError, WorkbenchError
from workbench.imaging.io import SUPPORTED_READ_EXTENSIONS, read_image, write_image
from workbench.rectify.corners import MIN_CONFIDENCE, find_quadrilaterals, snap_point
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
from workbench.ui.dialogs import ask_save_path
from workbench.ui.flow_layout import FlowLayout
from workbench.ui.image_view import ImageView
from workbench.ui.overlays import PointsOverlay
from workbench.ui.panel import Banner, ElidedLabel, Panel, keys_text, native_keys, shortcut_keys
from workbench.ui.worker import Job, LatestRequest, run_in_background

HINT = (
    "Click the four corners in order: 1 top-left, 2 top-right, 3 bottom-right, 4 bottom-left. "
    "Drag a corner to adjust · arrows nudge the selected corner (Shift ×10, Alt ×0.1) · "
    "Tab next corner · wheel zooms · drag the background to pan."
)
REGISTER_HINT = (
    "Click a point in A, then the same point in B; repeat for at least four pairs. "
    "Drag points to adjust; the overlay updates live."
)


#: File types of every "save an image" dialog (the first is the default).
IMAGE_SAVE_FILTERS = ["PNG (*.png)", "TIFF (*.tif *.tiff)", "JPEG (*.jpg *.jpeg)"]


def image_filter() -> str:
    exts = " ".join(f"*{e}" for e in SUPPORTED_READ_EXTENSIONS)
    return f"Images ({exts});;All files (*)"


def warning_text(warnings) -> str:
    """One line for the warning label: each problem once."""
    unique = list(dict.fromkeys(warnings))
    return "⚠ " + " · ".join(unique) if unique else ""


def nudge_step(modifiers: QtCore.Qt.KeyboardModifier) -> float:
    if modifiers & QtCore.Qt.KeyboardModifier.ShiftModifier:
        return 10.0
    if modifiers & QtCore.Qt.KeyboardModifier.AltModifier:
        return 0.1
    return 1.0


SNAP_SCREEN_PX = 10  # a dragged corner snaps to an image corner this close on screen
SUGGESTION_COLOUR = "#ffd21f"


def _inside(quad: np.ndarray, x: float, y: float) -> bool:
    """Whether (x, y) lies inside the convex quadrilateral ``quad`` (4, 2)."""
    signs = []
    for i in range(4):
        (ax, ay), (bx, by) = quad[i], quad[(i + 1) % 4]
        signs.append((bx - ax) * (y - ay) - (by - ay) * (x - ax))
    return all(v >= 0 for v in signs) or all(v <= 0 for v in signs)


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
        # click_filter(x, y) -> True when the click was used for something else (a suggestion)
        self.click_filter = None
        # snap(x, y, radius) -> (x, y) or None: where a dragged point snaps (None: stays)
        self.snap = None
        self.snapped: tuple[float, float] | None = None  # where the last drag step snapped to
        self._mouse_modifiers = QtCore.Qt.KeyboardModifier.NoModifier
        view.viewport().installEventFilter(self)  # the modifiers held during a drag
        view.clicked.connect(self._on_click)
        view.hovered.connect(self._place_loupe)
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
        if self.click_filter is not None and self.click_filter(x, y):
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

    def _place_loupe(self, x: float, y: float) -> None:
        """Near a point (hovering, pressing, dragging it) the loupe goes to the side away from
        that point's label, so it never covers the label."""
        ed = self.editor
        i = ed.nearest(x, y)
        side = (1, 1)
        if i is not None:
            px, py = ed.points[i]
            if np.hypot(px - x, py - y) * self.view.pixel_scale() < 40:
                (ox, oy), _anchor = self.overlay.label_place(i)
                side = (-1 if ox > 0 else 1, -1 if oy > 0 else 1)
        self.view.loupe_side = side

    def _on_selected(self, index: int) -> None:
        self.editor.select(index)
        self.view.setFocus()
        self.refresh()

    def eventFilter(self, obj, ev):  # noqa: N802 (Qt naming)
        if isinstance(ev, QtGui.QMouseEvent):
            self._mouse_modifiers = ev.modifiers()
        return False

    def _snapped(self, x: float, y: float) -> tuple[float, float]:
        """(x, y) pulled onto a nearby image corner, unless snapping is off or Ctrl is held."""
        self.snapped = None
        ctrl = QtCore.Qt.KeyboardModifier.ControlModifier
        if self.snap is None or (self._mouse_modifiers & ctrl) or (
                QtWidgets.QApplication.keyboardModifiers() & ctrl):
            return x, y
        radius = SNAP_SCREEN_PX / max(self.view.pixel_scale(), 1e-6)
        hit = self.snap(x, y, radius)
        if hit is None:
            return x, y
        self.snapped = hit
        self.view.show_loupe_at(*hit)  # the loupe shows where the corner went
        return hit

    def _on_drag(self, index: int, x: float, y: float) -> None:
        if self._drag_index is None:
            self._drag_index = index
            self.editor.begin_drag(index)
        x, y = self._snapped(x, y)
        self.editor.move(index, x, y)
        if self.snapped is not None:
            self.refresh()
        self.changed.emit(True)

    def _on_drag_finished(self, index: int, x: float, y: float) -> None:
        if self._drag_index is not None:
            x, y = self._snapped(x, y)
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
        ("Tab", "Select the next point (corner); with a suggestion shown, the next candidate"),
        ("Shift+Tab", "The previous suggested candidate"),
        ("Enter", "Accept the suggested corners"),
        ("Ctrl while dragging", "Place the corner freely (no snapping)"),
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
        # corners found for you: candidates best first, the one shown, the detection channel
        self.suggestions: list = []
        self.suggestion_index = 0
        self.detection_note = ""
        self._detect = LatestRequest(self)
        self._folder_job: Job | None = None
        self.queue: list[Path] = []  # photos still to do, opened in turn (Next)
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
        self.detect_button = QtWidgets.QPushButton("Detect")
        self.detect_button.setToolTip("Find the document's corners again and suggest them")
        self.snap_box = QtWidgets.QCheckBox("Snap")
        self.snap_box.setChecked(True)
        self.snap_box.setToolTip("While dragging, pull a corner onto the nearest image corner "
                                 "(hold Ctrl to place it freely)")
        self.next_button = QtWidgets.QPushButton("Next photo")
        self.next_button.setToolTip("Open the next of the photos opened together (for instance "
                                    "those rectify --auto found no rectangle in)")
        self.next_button.hide()
        self.folder_button = QtWidgets.QPushButton("Apply to folder…")
        self.folder_button.setToolTip("Rectify every photo of a folder with this matrix and size "
                                      "(a fixed camera, a copy stand)")
        self.cancel_button = QtWidgets.QPushButton("Cancel")
        self.cancel_button.hide()
        self.progress = QtWidgets.QProgressBar(maximumWidth=140)
        self.progress.hide()

        bar = FlowLayout()  # wraps onto a second row in a narrow window
        for w in (self.mode, self.open_button, self.next_button):
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
        bar.addWidget(self.snap_box)
        bar.addWidget(self.detect_button)
        bar.addStretch(1)
        for w in (self.progress, self.cancel_button, self.save_button, self.save_matrix_button,
                  self.folder_button):
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
        self.corners_ui.click_filter = self._suggestion_click
        self.corners_ui.snap = self._snap
        self.source_view.key_handler = self._on_source_key
        self.suggestion_outline = pg.PlotCurveItem(pen=pg.mkPen(
            SUGGESTION_COLOUR, width=3, style=QtCore.Qt.PenStyle.DashLine))
        self.suggestion_outline.setZValue(9)
        self.source_view.view_box.addItem(self.suggestion_outline, ignoreBounds=True)
        self.suggestion_label = pg.TextItem(color=SUGGESTION_COLOUR, fill=pg.mkBrush(0, 0, 0, 170),
                                            anchor=(0.5, 0.5))
        self.suggestion_label.setZValue(21)
        self.source_view.view_box.addItem(self.suggestion_label, ignoreBounds=True)
        self.suggestion_label.hide()
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
        # two one-line labels, always there: a warning never moves the views (issue 19)
        self.fit_label = ElidedLabel()
        self.warning_label = ElidedLabel()
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
        self.detect_button.clicked.connect(self.detect)
        self.folder_button.clicked.connect(self.apply_to_folder_dialog)
        self.next_button.clicked.connect(self.open_next)
        self.opacity.valueChanged.connect(lambda _v: self._schedule_register())
        self._on_preset()
        self._on_loupe(True)

        self.add_shortcut(QtGui.QKeySequence.StandardKey.Undo, self.undo,
                          "Undo the last point edit")
        self.add_shortcut(QtGui.QKeySequence.StandardKey.Redo, self.redo,
                          "Redo the point edit undone last")
        self.undo_button.setToolTip(
            f"Undo the last point edit ({native_keys(QtGui.QKeySequence.StandardKey.Undo)})")
        redo_keys = keys_text(shortcut_keys(QtGui.QKeySequence.StandardKey.Redo), limit=2)
        self.redo_button.setToolTip(f"Redo the point edit undone last ({redo_keys})")

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
        if getattr(self, "suggestions", None) and self.suggestion is not None:
            return ("<b>Welcome to Workbench!</b> The document's corners were found for you "
                    "(dashed outline): press Enter or click inside it to accept them, Tab to see "
                    "other candidates, or click the four corners yourself — top-left, top-right, "
                    "bottom-right, bottom-left.")
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
        paths, _ = QtWidgets.QFileDialog.getOpenFileNames(
            self, "Open photo(s)", self._last_dir(), image_filter())
        if paths:
            self.open_queue(paths)

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
        size_reset = self.preset.currentData() == "custom"
        if size_reset:  # a size typed for the last photo rarely suits the next one
            self.preset.setCurrentIndex(self.preset.findData("auto"))
        self.showing_sample = False
        self.last_preview = None
        self.source_view.set_image(image)
        self.preview_view.set_image(None)
        self._clear_suggestions()
        if corners is None:
            self.detect()
        if remember:
            self.settings().setValue("rectify/last_dir", str(Path(path).parent))
            self.fileOpened.emit(str(path))
        h, w = image.shape[:2]
        self.info(f"Opened {Path(path).name} — {w}×{h}, {image.dtype}"
                  + (" · output size back to Auto" if size_reset else ""))
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
        self.open_button.setVisible(index == 0)  # register mode has Open A… and Open B…
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
        self.warning_label.setText(warning_text(warnings))
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
            # the shape warnings say *why* (corners too close, crossed): they replace the
            # error, which says the same thing again in other words
            self.warning_label.setText(warning_text(s.shape_warnings() or [str(exc)]))
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
                self.warning_label.setText(warning_text([str(exc)]))
                if isinstance(exc, DegenerateConfigurationError):
                    for ui in (self.points_a_ui, self.points_b_ui):
                        ui.overlay.set_warning(True, exc.indices)
                self.overlay_view.set_image(r.image_b, fit=False)  # no stale blend
                self._sync_enabled()
                return
            self.warning_label.setText(warning_text(fit.warnings))
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
        busy = self._save_job is not None or self._folder_job is not None
        ready = self.session.complete and self.last_preview is not None
        self.undo_button.setEnabled(self.register.can_undo if reg else ed.can_undo)
        self.redo_button.setEnabled(self.register.can_redo if reg else ed.can_redo)
        can_save = self.register.ready if reg else ready
        self.save_button.setEnabled(can_save)
        self.save_matrix_button.setEnabled(can_save)
        self.folder_button.setEnabled(can_save and not reg)
        self.detect_button.setEnabled(self.session.image is not None and not reg)
        for w in (self.save_button, self.save_matrix_button, self.folder_button):
            w.setVisible(not busy)
        self.progress.setVisible(busy)
        self.cancel_button.setVisible(busy)

    # --------------------------------------------------------------- saving
    def save_dialog(self) -> None:
        reg = self.mode.currentIndex() == 1
        stem = self.session.path.stem if self.session.path else "image"
        path = ask_save_path(self, self.key, "Save result",
                             f"{stem}_{'registered' if reg else 'rectified'}.png",
                             IMAGE_SAVE_FILTERS, source=self.session.path)
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
        for job in (self._save_job, self._folder_job):
            if job is not None:
                job.cancel()

    def _save_ended(self) -> None:
        self._save_job = None
        self._sync_enabled()

    def save_matrix_dialog(self) -> None:
        stem = self.session.path.stem if self.session.path else "homography"
        path = ask_save_path(self, self.key, "Save matrix", f"{stem}_H.json", ["JSON (*.json)"],
                             source=self.session.path)
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

    # ------------------------------------------------- corners found for you
    def detect(self) -> None:
        """Look for the document's corners off the GUI thread; the latest request wins."""
        image = self.session.image
        self._clear_suggestions()
        if image is None:
            return
        self.detection_note = "Looking for the corners…"
        self.fit_label.setText(self.detection_note) if not self.session.points else None
        self._detect.submit(
            lambda job: find_quadrilaterals(image, 5, min_confidence=MIN_CONFIDENCE),
            on_done=lambda quads, image=image: self._on_detected(image, quads),
            on_error=lambda exc: self.report_error(exc) if shiboken6.isValid(self) else None)

    @property
    def detecting(self) -> bool:
        return self._detect.busy

    def settled(self) -> bool:
        return not self._detect.busy

    def shutdown(self) -> None:
        super().shutdown()
        self._detect.cancel()  # a late result must not reach a panel that is gone

    def _on_detected(self, image: np.ndarray, quads: list) -> None:
        if not shiboken6.isValid(self.suggestion_outline) or image is not self.session.image:
            return  # the window is gone, or another photo was opened meanwhile
        self.suggestions = list(quads)
        self.suggestion_index = 0
        if not quads:
            self.detection_note = ("No rectangle found with enough confidence: click the four "
                                   "corners.")
        else:
            self.detection_note = ""
        if self.session.points:  # the user started by hand meanwhile: keep out of the way
            self.suggestions = []
        self._show_suggestion()
        if not quads and not self.session.points:
            self.info(self.detection_note)
            self.fit_label.setText(self.detection_note)

    @property
    def suggestion(self):
        """The candidate shown, or None."""
        if not self.suggestions or self.session.points:
            return None
        return self.suggestions[self.suggestion_index]

    def _show_suggestion(self) -> None:
        q = self.suggestion
        if q is None:
            self.suggestion_outline.setData([], [])
            self.suggestion_label.hide()
            self.update_welcome()
            return
        xs = [p[0] for p in q.corners] + [q.corners[0][0]]
        ys = [p[1] for p in q.corners] + [q.corners[0][1]]
        self.suggestion_outline.setData(xs, ys)
        n = len(self.suggestions)
        others = " · Tab: next" if n > 1 else ""
        self.suggestion_label.setText(
            f"Suggestion {self.suggestion_index + 1}/{n} · confidence {q.confidence:.0%}\n"
            f"Enter or click inside to accept{others}")
        cx, cy = np.mean(q.corners, axis=0)
        self.suggestion_label.setPos(float(cx), float(cy))
        self.suggestion_label.show()
        self.update_welcome()
        self.fit_label.setText(
            f"Corners found (confidence {q.confidence:.0%}): Enter or a click inside accepts, "
            "Tab shows another candidate, clicking elsewhere places them by hand.")

    def _clear_suggestions(self) -> None:
        self._detect.cancel()
        self.suggestions = []
        self.suggestion_index = 0
        self._show_suggestion()

    def cycle_suggestion(self, step: int = 1) -> bool:
        if self.suggestion is None:
            return False
        self.suggestion_index = (self.suggestion_index + step) % len(self.suggestions)
        self._show_suggestion()
        return True

    def accept_suggestion(self) -> bool:
        q = self.suggestion
        if q is None:
            return False
        self.session.corners.set_all([(float(x), float(y)) for x, y in q.corners])
        self.suggestions = []
        self._show_suggestion()
        self.info(f"Suggested corners accepted (confidence {q.confidence:.0%}); drag to adjust, "
                  "Undo to remove.")
        self._refresh_all()
        return True

    def _suggestion_click(self, x: float, y: float) -> bool:
        """A click inside the suggestion, away from its corners, accepts it; anywhere else the
        suggestion steps aside and the click places the first corner by hand."""
        q = self.suggestion
        if q is None:
            return False
        corners = np.asarray(q.corners)
        near = np.hypot(*(corners - [x, y]).T).min() * self.source_view.pixel_scale()
        if _inside(corners, x, y) and near > 30:
            return self.accept_suggestion()
        self.suggestions = []
        self._show_suggestion()
        return False

    def _on_source_key(self, ev: QtGui.QKeyEvent) -> bool:
        if self.suggestion is not None:
            key = QtCore.Qt.Key(ev.key())
            if key in (QtCore.Qt.Key.Key_Return, QtCore.Qt.Key.Key_Enter):
                return self.accept_suggestion()
            if key == QtCore.Qt.Key.Key_Backtab or (
                    key == QtCore.Qt.Key.Key_Tab
                    and ev.modifiers() & QtCore.Qt.KeyboardModifier.ShiftModifier):
                return self.cycle_suggestion(-1)
            if key == QtCore.Qt.Key.Key_Tab:
                return self.cycle_suggestion(1)
        return self.corners_ui._on_key(ev)

    def _snap(self, x: float, y: float, radius: float):
        image = self.session.image
        if not self.snap_box.isChecked() or image is None:
            return None
        return snap_point(image, x, y, radius)

    # --------------------------------------------------- apply to a folder
    def apply_to_folder_dialog(self) -> None:
        folder = QtWidgets.QFileDialog.getExistingDirectory(
            self, "Folder of photos to rectify", self._last_dir())
        if not folder:
            return
        out = QtWidgets.QFileDialog.getExistingDirectory(
            self, "Folder for the rectified images", folder)
        if out:
            self.apply_to_folder(folder, out)

    def apply_to_folder(self, folder: str | Path, out_dir: str | Path,
                        resume: bool = True) -> Job | None:
        """Rectify every photo in ``folder`` with the current matrix and size, off the GUI
        thread, into ``out_dir`` as ``<stem>.png`` (photos already done are skipped)."""
        from workbench.rectify.batch import apply_matrix_files, expand_inputs

        if self._folder_job is not None or self._save_job is not None:
            self.warn("A save is already running: wait for it or cancel it.")
            return None
        try:
            doc = self.session.matrix_document()
            inputs = expand_inputs([folder])
        except WorkbenchError as exc:
            self.report_error(exc)
            return None
        if not inputs:
            self.warn(f"No images in {folder}.")
            return None
        H, size, interp = np.array(doc["H"]), tuple(doc["size"]), self.session.interpolation

        def work(job: Job):
            return apply_matrix_files(
                H, size, inputs, out_dir, interp=interp, resume=resume, workers=1,
                progress=lambda i, n, p: job.report(i / n, f"{i}/{n} {Path(p).name}"),
                cancelled=lambda: job.is_cancelled)

        def done(report) -> None:
            parts = [f"{len(report.written)} written to {out_dir}"]
            if report.skipped:
                parts.append(f"{len(report.skipped)} already done")
            if report.failed:
                parts.append(f"{len(report.failed)} failed ({report.failed[0][1]})")
            if report.cancelled:
                parts.append("cancelled")
            (self.warn if report.failed or report.cancelled else self.info)(
                "Apply to folder: " + ", ".join(parts) + ".")
            self.last_folder_report = report

        self.progress.setRange(0, 100)
        self._folder_job = run_in_background(
            work,
            on_progress=lambda f, m: (self.progress.setValue(int(f * 100)),
                                      self.progress.setFormat(m)),
            on_done=done, on_error=self.report_error, on_end=self._folder_ended)
        self._folder_job.cancelled.connect(lambda: self.warn(
            "Apply to folder cancelled: the images written so far are kept; run it again to "
            "finish (photos already done are skipped)."))
        self._sync_enabled()
        return self._folder_job

    def _folder_ended(self) -> None:
        self._folder_job = None
        self._sync_enabled()

    # ------------------------------------------------- several photos in turn
    def open_queue(self, paths) -> bool:
        """Open the first of ``paths`` and keep the others for Next photo (one at a time: the
        photos a folder job could not do by itself, say)."""
        paths = [Path(p) for p in paths]
        if not paths:
            return False
        self.queue = paths[1:]
        opened = self.open_file(paths[0])
        self._sync_queue()
        return opened

    def open_next(self) -> bool:
        while self.queue:
            path = self.queue.pop(0)
            if self.open_file(path):
                self._sync_queue()
                return True
        self._sync_queue()
        return False

    def _sync_queue(self) -> None:
        self.next_button.setVisible(bool(self.queue))
        self.next_button.setText(f"Next photo ({len(self.queue)} left)")
