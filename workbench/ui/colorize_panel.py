"""Colorize panel: colorize photos, folders and live camera/video with an ONNX model.

For demos: open a photo (colour photos are shown reduced to gray first, so the real colours can be
compared as "ground truth"), a folder (batch, cancellable), a camera or a video file; turn the
temperature knob live; switch models and providers; go full screen (F11, Esc to leave).

A/B: "Compare with" runs a second model, B, on the same photo or on the same live frames (each
model on its own thread, dropping frames on its own, never queueing); side by side B has its own
pane, in the split view A is left of the divider and B right. Every result is labelled with its
model, provider and its own speed, full screen too.

Colour hints (a hint model, e.g. "Shipped hint model"): click the result to place a hint (it
starts with the model's own most likely colour there), drag it to move it, Delete to remove it,
undo/redo; the Hints bar offers the model's suggestions at the selected hint (the modes of its
predicted distribution there), a free colour and a colour picked from a reference photo. Hints
are saved as JSON beside the photo (and loaded with it); on a live stream they can be pinned to
every frame.

The network runs off the GUI thread. On a still image a temperature or saturation change only
re-decodes the cached bin probabilities; the network does not run again.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from workbench.colorize.session import VIEWS, ColorizeSession, provider_summary, takes_hints
from workbench.errors import WorkbenchError
from workbench.imaging.io import write_image
from workbench.ui.dialogs import ask_export_folder, ask_save_path
from workbench.ui.flow_layout import FlowLayout, group
from workbench.ui.image_view import ImageView, link_views
from workbench.ui.live import LiveResult, LiveRunner, start_live
from workbench.ui.overlays import HintsOverlay
from workbench.ui.panel import Panel, native_keys
from workbench.ui.rectify_panel import IMAGE_SAVE_FILTERS, image_filter
from workbench.ui.worker import Job, LatestRequest, run_in_background

SHIPPED = "Shipped model"
SHIPPED_HINTS = "Shipped hint model"
MAX_SUGGESTIONS = 6
NO_COMPARE = "Nothing (A only)"
MAX_RECENT_MODELS = 6
HINT = ("Open a photo, a folder, a video or start the camera · colour photos are shown as gray "
        "input next to their real colours · T: annealed-mean temperature (low = vivid, "
        "1 = mean) · F11 full screen, Esc to leave.")


class UncertaintyBar(QtWidgets.QWidget):
    """The uncertainty map's legend: its gray ramp against bits of entropy, from 0 (the model
    is sure of one colour) to log2 Q (every one of its Q colour bins equally likely)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.bins = 261
        self.setFixedWidth(self.fontMetrics().horizontalAdvance("8.0 bits") + 34)
        self.setToolTip("Entropy of the predicted colour distribution per pixel, in bits: "
                        "0 = one colour for sure; the top = all bins equally likely")

    @property
    def max_bits(self) -> float:
        return float(np.log2(max(self.bins, 2)))

    def set_bins(self, bins: int | None) -> None:
        self.bins = int(bins or 261)
        self.update()

    def paintEvent(self, event):  # noqa: N802
        painter = QtGui.QPainter(self)
        fm = self.fontMetrics()
        text_colour = self.palette().color(QtGui.QPalette.ColorRole.WindowText)
        top, bottom = fm.height() + 8, self.height() - fm.height() // 2 - 4
        bar = QtCore.QRect(2, top, 12, max(1, bottom - top))
        ramp = QtGui.QLinearGradient(0, bar.top(), 0, bar.bottom())
        ramp.setColorAt(0, QtGui.QColor(255, 255, 255))
        ramp.setColorAt(1, QtGui.QColor(0, 0, 0))
        painter.fillRect(bar, ramp)
        painter.setPen(text_colour)
        painter.drawRect(bar.adjusted(0, 0, -1, -1))
        painter.drawText(QtCore.QPoint(0, fm.ascent() + 2), "bits")
        for bits, label in zip(self.ticks(), self.tick_labels(), strict=True):
            y = round(bar.bottom() - bits / self.max_bits * (bar.height() - 1))
            painter.drawLine(bar.right() + 1, y, bar.right() + 5, y)
            painter.drawText(QtCore.QPoint(bar.right() + 8, y + fm.ascent() // 2 - 1), label)
        painter.end()

    def ticks(self) -> list[float]:
        """Every 2 bits, and the top (log2 Q) unless it is next to the last of those."""
        top = self.max_bits
        ticks = [float(b) for b in range(0, int(top) + 1, 2)]
        return [*ticks, top] if top - ticks[-1] > 0.6 else ticks

    def tick_labels(self) -> list[str]:
        return [f"{b:.0f}" if b == int(b) else f"{b:.1f}" for b in self.ticks()]


class Presentation(QtWidgets.QWidget):
    """The full-screen presentation: the result and, when two models are compared, a header
    with their labels (model, provider, speed), so the audience knows which is which."""

    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle("Workbench — Colorize")
        self.header = QtWidgets.QLabel()
        self.header.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.header.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        self.header.setStyleSheet("background: #24262b; color: white; padding: 6px;")
        font = self.header.font()
        font.setPointSizeF(font.pointSizeF() * 1.5)
        self.header.setFont(font)
        self.header.hide()
        self.view = ImageView()
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.header)
        lay.addWidget(self.view, 1)

    def show_content(self, image: np.ndarray | None, header: str) -> None:
        self.header.setText(header)
        self.header.setVisible(bool(header))
        self.view.set_image(image, fit=self.view.image is None)


class ReferencePicker(QtWidgets.QDialog):
    """A reference photo to pick a hint's colour from: click a pixel, its colour is taken."""

    def __init__(self, image: np.ndarray, parent=None) -> None:
        super().__init__(parent)
        from workbench.imaging.io import to_uint8_display

        self.setWindowTitle("Click the colour to use")
        self.image = to_uint8_display(image)
        if self.image.ndim == 2:
            self.image = np.repeat(self.image[..., None], 3, axis=2)
        self.rgb: tuple[int, int, int] | None = None
        self.view = ImageView()
        self.view.set_image(self.image)
        self.view.clicked.connect(self._picked)
        lay = QtWidgets.QVBoxLayout(self)
        lay.addWidget(QtWidgets.QLabel("Click the colour the hint should have; Esc cancels."))
        lay.addWidget(self.view, 1)
        self.resize(720, 540)

    def _picked(self, x: float, y: float) -> None:
        height, width = self.image.shape[:2]
        if 0 <= x < width and 0 <= y < height:
            r, g, b = (int(c) for c in self.image[int(y), int(x), :3])
            self.rgb = (r, g, b)
            self.accept()


def _shipped() -> Path:
    from workbench.colorize.engine import shipped_model_path

    return shipped_model_path()


class ColorizePanel(Panel):
    title = "Colorize"
    key = "colorize"
    can_open = True
    can_save = True
    KEYS = (("Esc or F11", "Leave full screen"),)
    KEYS_WHERE = "In the full-screen presentation:"

    @staticmethod
    def empty_text() -> str:
        """What the result view says before there is anything to colorize."""
        return ("Nothing to colorize yet.\n\nOpen a black-and-white photo "
                f"({native_keys(QtGui.QKeySequence.StandardKey.Open)}) or drop one here, "
                "colorize a whole Batch folder…, play a Video…, or start the Camera.")

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.session = ColorizeSession()  # model, image, result, knobs, view: the state
        self.runner: LiveRunner | None = None
        self.recorder = None
        self.model_request = LatestRequest(self)  # the latest model chosen wins
        self.predict_request = LatestRequest(self)  # the latest image's prediction wins
        self.compare_request = LatestRequest(self)  # model B: the latest choice wins
        self.compare_predict_request = LatestRequest(self)  # B's prediction of the image shown
        self._speed = ["", ""]  # A's and B's speed, for their labels ("24.1 fps · 38 ms")
        self.selected_hint: int | None = None
        self._dragging_hint: int | None = None  # a drag is one undo step
        self._hint_timer = QtCore.QTimer(self, singleShot=True, interval=40)
        self._hint_timer.timeout.connect(self._rerun_for_hints)
        self._pending_video: str | None = None  # opened before the model was ready
        self._knobs = (0.38, 1.0)  # (T, saturation) as plain floats, set by _on_knobs
        self._first_frame_pending = False  # a stream started and has shown nothing yet
        self._batch_job: Job | None = None
        self._fullscreen: QtWidgets.QWidget | None = None
        self._build()

    # The session's state, read-only here: the panel changes it through the session's methods.
    colorizer = property(lambda self: self.session.colorizer)
    image = property(lambda self: self.session.image)
    path = property(lambda self: self.session.path)
    result = property(lambda self: self.session.result)
    output = property(lambda self: self.session.output)
    gray = property(lambda self: self.session.gray)
    truth = property(lambda self: self.session.truth)

    # ------------------------------------------------------------- layout
    def _build(self) -> None:
        self.open_button = QtWidgets.QPushButton("Open…")
        self.open_button.setToolTip("Open photos (several at once: the first is shown, "
                                    "use Batch for a whole folder)")
        self.folder_button = QtWidgets.QPushButton("Batch folder…")
        sources = self.source_controls()
        self.model_combo = QtWidgets.QComboBox()
        self.model_combo.setMinimumContentsLength(16)
        self.model_combo.setSizeAdjustPolicy(
            QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.provider_combo = QtWidgets.QComboBox()
        self.provider_combo.addItem("auto", "auto")
        self.provider_combo.setToolTip("Where the model runs; only providers that work here "
                                       "are listed")
        self.compare_combo = QtWidgets.QComboBox()
        self.compare_combo.setMinimumContentsLength(12)
        self.compare_combo.setSizeAdjustPolicy(
            QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.compare_combo.setToolTip(
            "A/B: run a second model (B) on the same photo or stream, shown beside the first "
            "(A) side by side, or with A left and B right of the divider in the split view")
        # wide sliders (a step of 0.01 is 2 px or more) with a spin box each for exact values;
        # the arrow keys and the wheel step by 0.01, Page Up/Down by 0.05
        self.temperature = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal, minimum=1,
                                             maximum=100, value=38, singleStep=1, pageStep=5)
        self.temperature.setFixedWidth(220)
        self.temperature.setToolTip("Annealed-mean temperature T (Zhang et al. 2016): low = "
                                    "vivid, 1 = the mean of the predicted colours")
        self.t_label = QtWidgets.QLabel("T")
        self.t_spin = QtWidgets.QDoubleSpinBox(minimum=0.01, maximum=1.0, singleStep=0.01,
                                               decimals=2, value=0.38)
        self.t_spin.setToolTip(self.temperature.toolTip())
        self.saturation = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal, minimum=0,
                                            maximum=200, value=100, singleStep=1, pageStep=5)
        self.saturation.setFixedWidth(180)
        self.saturation.setToolTip("Saturation gain on the predicted colours")
        self.s_label = QtWidgets.QLabel("S")
        self.s_spin = QtWidgets.QDoubleSpinBox(minimum=0.0, maximum=2.0, singleStep=0.01,
                                               decimals=2, value=1.0)
        self.s_spin.setToolTip(self.saturation.toolTip())
        for spin in (self.t_spin, self.s_spin):
            spin.setKeyboardTracking(False)  # a typed value applies on Enter, not per digit
        self.view_combo = QtWidgets.QComboBox()
        self.view_combo.addItems(VIEWS)
        self.uncertainty = QtWidgets.QCheckBox("Uncertainty")
        self.uncertainty.setToolTip("Per-pixel entropy of the predicted colour distribution "
                                    "(bright = unsure); bin models only")
        self.save_button = QtWidgets.QPushButton("Save…")
        self.record_button = QtWidgets.QPushButton("Record…")
        self.record_button.setCheckable(True)
        self.fullscreen_button = QtWidgets.QPushButton("Full screen")
        self.progress = QtWidgets.QProgressBar(maximumWidth=140)
        self.progress.hide()
        self.cancel_button = QtWidgets.QPushButton("Cancel")
        self.cancel_button.hide()

        row1 = FlowLayout()  # both rows wrap in a narrow window
        for w in (self.open_button, self.folder_button, *sources):
            row1.addWidget(w)
        row1.addSpacing(10)
        row1.addWidget(group("Model", self.model_combo, self.provider_combo))
        row1.addWidget(group("Compare with", self.compare_combo))
        row1.addStretch(1)
        for w in (self.progress, self.cancel_button, self.fullscreen_button, self.save_button,
                  self.record_button):
            row1.addWidget(w)
        row2 = FlowLayout()
        row2.addWidget(group(self.t_label, self.temperature, self.t_spin))
        row2.addWidget(group(self.s_label, self.saturation, self.s_spin))
        for w in (self.view_combo, self.uncertainty):
            row2.addWidget(w)
        row3 = self._build_hints_bar()

        # the transport of a video file: play/pause, position, loop
        style = self.style()
        self.play_button = QtWidgets.QToolButton()
        self.play_button.setIcon(style.standardIcon(
            QtWidgets.QStyle.StandardPixmap.SP_MediaPause))
        self.play_button.setText("Pause")
        self.play_button.setToolButtonStyle(
            QtCore.Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.seek = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal, minimum=0, maximum=0)
        self.seek.setToolTip("Position in the video: drag or click to go there")
        self.position_label = QtWidgets.QLabel()
        self.position_label.setMinimumWidth(self.position_label.fontMetrics().horizontalAdvance(
            "frame 00000 of 00000 · 00:00 / 00:00"))
        self.loop = QtWidgets.QCheckBox("Loop")
        self.loop.setToolTip("Start the video again at its end")
        self.transport = QtWidgets.QWidget()
        tr = QtWidgets.QHBoxLayout(self.transport)
        tr.setContentsMargins(0, 0, 0, 0)
        tr.addWidget(self.play_button)
        tr.addWidget(self.seek, 1)
        tr.addWidget(self.position_label)
        tr.addWidget(self.loop)
        self.transport.hide()
        self._video: str | None = None  # the video file streamed last (Play starts it again)
        self._paused_by_hiding = False
        self._updating_seek = False  # the position bar follows the video, not the user

        self.input_view = ImageView(placeholder="The gray input the model sees appears here.")
        self.output_view = ImageView(placeholder=self.empty_text())
        self.compare_view = ImageView(placeholder="Model B's result appears here.")
        self.truth_view = ImageView(placeholder="The real colours appear here when you open a "
                                                "colour photo.")
        self.colour_bar = UncertaintyBar()
        self.colour_bar.hide()
        self.views = QtWidgets.QSplitter()
        self.titles: list[QtWidgets.QLabel] = []
        for title, view in (("Input (what the model sees)", self.input_view),
                            ("Colorized", self.output_view),
                            ("B", self.compare_view),
                            ("Ground truth", self.truth_view)):
            box = QtWidgets.QWidget()
            lay = QtWidgets.QVBoxLayout(box)
            lay.setContentsMargins(0, 0, 0, 0)
            self.titles.append(QtWidgets.QLabel(f"<b>{title}</b>"))
            lay.addWidget(self.titles[-1])
            if view is self.output_view:
                row = QtWidgets.QHBoxLayout()
                row.addWidget(view, 1)
                row.addWidget(self.colour_bar)
                lay.addLayout(row, 1)
            else:
                lay.addWidget(view, 1)
            self.views.addWidget(box)
        self.output_title, self.compare_title = self.titles[1], self.titles[2]
        for label in self.titles:
            label.setTextFormat(QtCore.Qt.TextFormat.RichText)
        # the panes compare the same picture: zoom and pan one, the others follow
        self._follow = link_views([self.input_view, self.output_view, self.compare_view,
                                   self.truth_view])
        self._truth_box = self.views.widget(3)
        self._compare_box = self.views.widget(2)
        self._compare_box.hide()
        self._input_box = self.views.widget(0)
        self.divider = pg.InfiniteLine(angle=90, movable=True, pen=pg.mkPen("#30e0ff", width=3),
                                       hoverPen=pg.mkPen("w", width=4))
        self.divider.setZValue(30)
        self.output_view.view_box.addItem(self.divider, ignoreBounds=True)
        self.divider.hide()

        self.status = QtWidgets.QLabel()
        self.status.setWordWrap(True)  # the provider note can be long: never widen the window
        self.status.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        self.fps_plot = pg.PlotWidget(background="w")
        self.fps_plot.setFixedHeight(90)
        self.fps_plot.setLabel("left", "ms")
        self.fps_plot.setTitle("frame time (recent frames)", size="8pt")
        self.fps_curve = self.fps_plot.plot(pen=pg.mkPen("#4a90d9", width=2))
        self.fps_plot.hide()
        self.lay_out(row1, row2, row3, body=self.views,
                     below=(self.transport, self.fps_plot, self.status), hint=HINT)

        self.open_button.clicked.connect(self.open_dialog)
        self.folder_button.clicked.connect(self.batch_dialog)
        self.cancel_button.clicked.connect(self._cancel_batch)
        self.model_combo.activated.connect(self._on_model_chosen)
        self.provider_combo.activated.connect(lambda _i: self.load_model(self.current_model()))
        self.compare_combo.activated.connect(self._on_compare_chosen)
        self.temperature.valueChanged.connect(self._on_knobs)
        self.saturation.valueChanged.connect(self._on_knobs)
        self.t_spin.valueChanged.connect(
            lambda v: self.temperature.setValue(int(round(v * 100))))
        self.s_spin.valueChanged.connect(
            lambda v: self.saturation.setValue(int(round(v * 100))))
        self.play_button.clicked.connect(self.toggle_play)
        self.seek.valueChanged.connect(self._on_seek)
        self.loop.toggled.connect(lambda on: self.runner.set_loop(on) if self.runner else None)
        self.view_combo.currentIndexChanged.connect(self._on_view)
        self.uncertainty.toggled.connect(self._on_view)
        self.divider.sigPositionChanged.connect(self._on_divider)
        self.save_button.clicked.connect(self.save_dialog)
        self.record_button.toggled.connect(self._on_record)
        self.fullscreen_button.clicked.connect(self.toggle_fullscreen)
        # the markers sit on the pane of the model that takes the hints: A's, or B's own pane
        # when only B takes them and is shown beside A (see hints_on_b)
        self.hint_overlay = HintsOverlay(self.output_view.view_box)
        self.hint_overlay_b = HintsOverlay(self.compare_view.view_box)
        for overlay in (self.hint_overlay, self.hint_overlay_b):
            overlay.pointDragged.connect(self._on_hint_dragged)
            overlay.pointDragFinished.connect(self._on_hint_drag_finished)
        self.output_view.clicked.connect(self._click_a)
        self.compare_view.clicked.connect(self._click_b)
        self.add_shortcut("Delete", self.delete_hint, "Remove the selected colour hint")
        self.add_shortcut(QtGui.QKeySequence.StandardKey.Undo, self.undo_hint,
                          "Undo the last change to the colour hints")
        self.add_shortcut(QtGui.QKeySequence.StandardKey.Redo, self.redo_hint,
                          "Redo a change to the colour hints")
        self.add_shortcut("F11", self.toggle_fullscreen, "Show the result full screen")
        self.fullscreen_button.setToolTip(f"The result alone, full screen ({native_keys('F11')}; "
                                          "Esc leaves)")
        self._fill_models()
        self._sync()
        self._sync_hints()

    # ------------------------------------------------------------- models
    def temperature_value(self) -> float:
        return self.temperature.value() / 100

    def saturation_value(self) -> float:
        return self.saturation.value() / 100

    def recent_models(self) -> list[str]:
        value = self.settings().value("colorize/recent_models", [])
        value = [value] if isinstance(value, str) else list(value or [])
        return [v for v in value if Path(v).is_file()]

    def _fill_models(self) -> None:
        from workbench.colorize.engine import shipped_hint_model_path

        self.model_combo.clear()
        self.model_combo.addItem(SHIPPED, None)
        if shipped_hint_model_path().is_file():
            self.model_combo.addItem(SHIPPED_HINTS, "shipped-hints")
            self.model_combo.setItemData(self.model_combo.count() - 1,
                                         "Takes colour hints: click the result to place one",
                                         QtCore.Qt.ItemDataRole.ToolTipRole)
        for path in self.recent_models():
            self.model_combo.addItem(Path(path).name, path)
            self.model_combo.setItemData(self.model_combo.count() - 1, path,
                                         QtCore.Qt.ItemDataRole.ToolTipRole)
        self.model_combo.addItem("Open model…", "open")
        b = self.compare_combo.currentData() if self.compare_combo.count() else "off"
        self.compare_combo.clear()
        self.compare_combo.addItem(NO_COMPARE, "off")
        self.compare_combo.addItem(SHIPPED, "shipped")
        if shipped_hint_model_path().is_file():  # as B too: hints on B's pane beside A
            self.compare_combo.addItem(SHIPPED_HINTS, "shipped-hints")
            self.compare_combo.setItemData(self.compare_combo.count() - 1,
                                           "Takes colour hints: click its result to place one",
                                           QtCore.Qt.ItemDataRole.ToolTipRole)
        for path in self.recent_models():
            self.compare_combo.addItem(Path(path).name, path)
            self.compare_combo.setItemData(self.compare_combo.count() - 1, path,
                                           QtCore.Qt.ItemDataRole.ToolTipRole)
        self.compare_combo.addItem("Open model…", "open")
        self.compare_combo.setCurrentIndex(max(0, self.compare_combo.findData(b)))

    def current_model(self) -> str | None:
        data = self.model_combo.currentData()
        if data == "shipped-hints":
            from workbench.colorize.engine import shipped_hint_model_path

            return str(shipped_hint_model_path())
        return None if data in (None, "open") else data

    def _on_model_chosen(self, index: int) -> None:
        if self.model_combo.itemData(index) == "open":
            path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Open ONNX colorizer", "",
                                                            "ONNX models (*.onnx)")
            if not path:
                self.model_combo.setCurrentIndex(0)
                return
            self.load_model(path)
            return
        self.load_model(self.current_model())

    def _remember_model(self, path: str, select: bool = True) -> None:
        from workbench.colorize.engine import shipped_hint_model_path

        if Path(path) == shipped_hint_model_path():  # listed already, as "Shipped hint model"
            if select:
                self.model_combo.setCurrentIndex(max(0, self.model_combo.findData(
                    "shipped-hints")))
            return
        recent = [p for p in self.recent_models() if p != path]
        self.settings().setValue("colorize/recent_models", [path, *recent][:MAX_RECENT_MODELS])
        current = self.current_model()
        self._fill_models()
        self.model_combo.setCurrentIndex(max(0, self.model_combo.findData(
            path if select else current)))

    def _fill_providers(self, available: list[str]) -> None:
        current = self.provider_combo.currentData()
        self.provider_combo.clear()
        self.provider_combo.addItem("auto", "auto")
        for name in available:
            self.provider_combo.addItem(name, name)
        index = self.provider_combo.findData(current)
        self.provider_combo.setCurrentIndex(max(0, index))

    def load_model(self, path: str | None) -> Job:
        """Load a model in the background (session creation + warm-up take a moment)."""
        provider = self.provider_combo.currentData() or "auto"
        was_streaming = self.runner is not None and self.runner.running

        def work(job: Job):
            from workbench.colorize.engine import Colorizer
            from workbench.runtime import usable_providers

            names = {"TensorrtExecutionProvider": "tensorrt", "CUDAExecutionProvider": "cuda",
                     "CPUExecutionProvider": "cpu"}
            usable = [names[p] for p in usable_providers() if p in names]
            return Colorizer(path, provider=provider), usable

        def done(value) -> None:
            colorizer, usable = value
            self.stop_stream()
            self.session.set_model(colorizer)
            self._fill_providers(usable)
            if path:
                self._remember_model(str(path))
            c = colorizer.contract
            self.temperature.blockSignals(True)  # start at the model's own default T
            self.temperature.setValue(int(round(self.session.temperature * 100)))
            self.temperature.blockSignals(False)
            self._on_knobs()
            self.uncertainty.setEnabled(self.session.takes_temperature)
            self.temperature.setEnabled(self.session.takes_temperature)
            self._speed[0] = ""
            self._hints_beside_if_any()
            self._sync_hints()
            self.status.setText(f"{Path(colorizer.model_path).name} · {c.output} · "
                                f"{provider_summary(colorizer.provider_note)} · loaded in "
                                f"{colorizer.load_seconds * 1000:.0f} ms")
            self.status.setToolTip(colorizer.provider_note)
            self.info(f"Model ready on {colorizer.provider.upper()}.")
            if self.image is not None:
                self._predict_still()
            if was_streaming:
                self.warn("The stream stopped while the model changed; start it again.")
            if self._pending_video is not None:
                video, self._pending_video = self._pending_video, None
                self.start_stream(video)

        def failed(exc) -> None:
            self.report_error(exc)
            if self._pending_video is not None:
                self.warn(f"{Path(self._pending_video).name} was not played: no model could be "
                          f"loaded ({exc}).")
                self._pending_video = None
            if self.colorizer is None:
                self.status.setText(f"No model loaded: {exc}")
            self.model_combo.setCurrentIndex(max(0, self.model_combo.findData(
                str(self.colorizer.model_path) if self.colorizer else None)))

        self.status.setText("Loading model…")
        self.model_request.submit(work, on_done=done, on_error=failed, on_end=self._show)
        return self.model_request.job

    # ------------------------------------------------------------ A/B
    def _on_compare_chosen(self, index: int) -> None:
        data = self.compare_combo.itemData(index)
        if data == "open":
            path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Open ONNX colorizer (B)", "",
                                                            "ONNX models (*.onnx)")
            if not path:
                self._select_compare()
                return
            self.load_compare(path)
            return
        if data == "shipped-hints":
            from workbench.colorize.engine import shipped_hint_model_path

            data = str(shipped_hint_model_path())
        self.load_compare(None if data == "off" else data)

    def _select_compare(self) -> None:
        """The B list shows the model B really is (after a cancelled or failed choice)."""
        from workbench.colorize.engine import shipped_hint_model_path

        b = self.session.compare
        if b is None:
            data = "off"
        elif b.model_path == _shipped():
            data = "shipped"
        elif Path(b.model_path) == shipped_hint_model_path():
            data = "shipped-hints"
        else:
            data = str(b.model_path)
        self.compare_combo.setCurrentIndex(max(0, self.compare_combo.findData(data)))

    def load_compare(self, path: str | None) -> Job | None:
        """Run model B beside A: ``"shipped"``, an ONNX file, or None to stop comparing.
        Loads in the background; a live stream goes on and B joins it on the next frames."""
        if path is None:
            self.compare_request.cancel()
            self.compare_predict_request.cancel()
            self.session.set_compare(None)
            self._speed[1] = ""
            self._select_compare()
            self.info("Comparing no more: model A only.")
            self._show()
            self._sync_hints()  # B may have been the model that took them
            return None
        provider = self.provider_combo.currentData() or "auto"

        def work(job: Job):
            from workbench.colorize.engine import Colorizer

            return Colorizer(None if path == "shipped" else path, provider=provider)

        def done(colorizer) -> None:
            self.session.set_compare(colorizer)
            self._speed[1] = ""
            self._hints_beside_if_any()
            if path != "shipped":
                self._remember_model(str(path), select=False)
            self._select_compare()
            self.info(f"Comparing with {Path(colorizer.model_path).name} on "
                      f"{colorizer.provider.upper()} (B).")
            self._predict_compare()
            self._show(fit=self.compare_view.image is None)
            self._sync_hints()  # the new B may take hints where the old one did not, or not

        def failed(exc) -> None:
            self.report_error(exc)
            self._select_compare()

        self.info("Loading model B…")
        self.compare_request.submit(work, on_done=done, on_error=failed)
        return self.compare_request.job

    def _predict_compare(self) -> None:
        request = self.session.compare_request()
        if request is None:
            self.compare_predict_request.cancel()
            return
        self.compare_predict_request.submit(
            lambda job: (job.check(), request.run())[1],
            on_done=lambda result: self._on_compare_predicted(request, result),
            on_error=self.report_error)

    def _on_compare_predicted(self, request, result) -> None:
        if self.session.accept_compare(request.image_id, request.colorizer, result):
            self._speed[1] = f"{result.timings.total * 1000:.0f} ms"
            self._fill_suggestions()
            self._show()

    def model_text(self, channel: int) -> str:
        """What A's (0) or B's (1) label says: model file, provider and its own speed."""
        c = self.colorizer if channel == 0 else self.session.compare
        if c is None:
            return ""
        speed = f" · {self._speed[channel]}" if self._speed[channel] else ""
        n = len(self.session.hints_for(c))
        hints = f" · {n} hint{'s' if n != 1 else ''}" if n else ""
        return f"{Path(c.model_path).name} · {c.provider.upper()}{hints}{speed}"

    def _titles(self, uncertain: bool) -> tuple[str, str]:
        """The result pane's title and B's (also the presentation's header)."""
        s = self.session
        if not s.comparing:
            return ("<b>Uncertainty</b> — entropy of the predicted colours, in bits" if uncertain
                    else "<b>Colorized</b>"), ""
        what = " · uncertainty (bits)" if uncertain else ""
        a = f"<b>A</b> · {self.model_text(0)}{what}"
        b = f"<b>B</b> · {self.model_text(1) or 'loading…'}{what}"
        if s.view == "Split (wipe)":
            return f"{a} &nbsp;◀ divider ▶&nbsp; {b}", b
        return a, b

    # ------------------------------------------------------------ hints
    def _build_hints_bar(self) -> FlowLayout:
        self.hints_label = QtWidgets.QLabel()
        self.hints_label.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.swatches: list[QtWidgets.QToolButton] = []
        for i in range(MAX_SUGGESTIONS):
            button = QtWidgets.QToolButton()
            button.setFixedSize(26, 22)
            button.hide()
            button.clicked.connect(lambda _c=False, i=i: self._on_swatch(i))
            self.swatches.append(button)
        self.colour_button = QtWidgets.QPushButton("Colour…")
        self.colour_button.setToolTip("Choose any colour for the selected hint")
        self.reference_button = QtWidgets.QPushButton("From photo…")
        self.reference_button.setToolTip("Pick the selected hint's colour from a reference photo")
        self.delete_hint_button = QtWidgets.QPushButton("Delete")
        self.delete_hint_button.setToolTip(f"Remove the selected hint ({native_keys('Delete')})")
        self.undo_hint_button = QtWidgets.QPushButton("Undo")
        self.undo_hint_button.setToolTip(
            f"Undo ({native_keys(QtGui.QKeySequence.StandardKey.Undo)})")
        self.redo_hint_button = QtWidgets.QPushButton("Redo")
        self.redo_hint_button.setToolTip(
            f"Redo ({native_keys(QtGui.QKeySequence.StandardKey.Redo)})")
        self.clear_hints_button = QtWidgets.QPushButton("Clear")
        self.pin_hints = QtWidgets.QCheckBox("Pin to stream")
        self.pin_hints.setToolTip("On a camera or video, apply the hints to every frame (e.g. "
                                  "'this jacket is red'); the hints keep their pixel positions")
        self.save_hints_button = QtWidgets.QPushButton("Save hints…")
        self.save_hints_button.setToolTip("Save the hints as JSON (beside the photo, "
                                          "<name>.hints.json, is loaded with it next time)")
        self.load_hints_button = QtWidgets.QPushButton("Load hints…")
        self.colour_button.clicked.connect(self.choose_hint_colour)
        self.reference_button.clicked.connect(lambda: self.pick_from_reference())
        self.delete_hint_button.clicked.connect(self.delete_hint)
        self.undo_hint_button.clicked.connect(self.undo_hint)
        self.redo_hint_button.clicked.connect(self.redo_hint)
        self.clear_hints_button.clicked.connect(self.clear_hints)
        self.pin_hints.toggled.connect(self._on_pin)
        self.save_hints_button.clicked.connect(self.save_hints_dialog)
        self.load_hints_button.clicked.connect(self.load_hints_dialog)
        row = FlowLayout()
        row.addWidget(self.hints_label)
        row.addWidget(group(*self.swatches, spacing=2))
        for w in (self.colour_button, self.reference_button, self.delete_hint_button,
                  self.undo_hint_button, self.redo_hint_button, self.clear_hints_button,
                  self.pin_hints, self.save_hints_button, self.load_hints_button):
            row.addWidget(w)
        return row

    def _sync_hints(self) -> None:
        """The Hints bar and the markers follow the session's hints and the model."""
        s = self.session
        n = len(s.hints)
        if self.selected_hint is not None and self.selected_hint >= n:
            self.selected_hint = n - 1 if n else None
        takes = s.takes_hints
        if self.colorizer is None:
            text = "<b>Hints</b>"
        elif not takes:
            text = ("<b>Hints</b> · this model takes no colour hints"
                    + (f" (choose “{SHIPPED_HINTS}”)" if self.model_combo.findData(
                        "shipped-hints") >= 0 else ""))
        elif n == 0:
            text = "<b>Hints</b> · click the result to place one"
        else:
            text = f"<b>Hints</b> · {n} placed" + (
                f" · #{self.selected_hint + 1} selected:" if self.selected_hint is not None
                else "")
            if self.runner is not None and not s.pin_hints:
                text += " · tick Pin to stream to apply them to the frames"
        self.hints_label.setText(text)
        selected = takes and self.selected_hint is not None
        for w in (self.colour_button, self.reference_button, self.delete_hint_button):
            w.setEnabled(selected)
        self.undo_hint_button.setEnabled(takes and s.can_undo)
        self.redo_hint_button.setEnabled(takes and s.can_redo)
        for w in (self.clear_hints_button, self.save_hints_button):
            w.setEnabled(takes and n > 0)
        self.load_hints_button.setEnabled(takes and s.gray is not None)
        self.pin_hints.setEnabled(takes)
        self._fill_suggestions()
        points, colours = [(h.x, h.y) for h in s.hints], [h.rgb for h in s.hints]
        on_b = self.hints_on_b()
        self.hint_overlay.set_hints(points if takes and not on_b else [], colours,
                                    self.selected_hint)
        self.hint_overlay_b.set_hints(points if takes and on_b else [], colours,
                                      self.selected_hint)

    def hints_on_b(self) -> bool:
        """Whether the hints belong on B's pane: only B takes them and B has a pane of its own
        (side by side). In the wipe, B's half is in the result pane, where they stay."""
        s = self.session
        return s.shows_b and takes_hints(s.compare) and not takes_hints(self.colorizer)

    def _click_b(self, x: float, y: float) -> None:
        """A click on B's pane places or selects a hint when the hints are B's."""
        if self.hints_on_b():
            self.click_result(x, y)

    def _click_a(self, x: float, y: float) -> None:
        """A click on the result pane: a hint, unless the hints are B's, on B's own pane."""
        if self.hints_on_b():
            if self.session.gray is not None:
                self.info("Only B takes colour hints: click B's pane to place one.")
            return
        self.click_result(x, y)

    def suggestions(self) -> list[tuple[int, int, int]]:
        """The model's own likely colours at the selected hint (strongest first)."""
        s = self.session
        result = s.result if takes_hints(self.colorizer) else s.result_b
        if self.selected_hint is None or result is None or \
                self.selected_hint >= len(s.hints):
            return []
        h = s.hints[self.selected_hint]
        try:
            return result.suggestions(h.x, h.y, MAX_SUGGESTIONS)
        except WorkbenchError:
            return []

    def _fill_suggestions(self) -> None:
        colours = self.suggestions()
        for i, button in enumerate(self.swatches):
            if i < len(colours):
                r, g, b = colours[i]
                pixmap = QtGui.QPixmap(18, 14)
                pixmap.fill(QtGui.QColor(r, g, b))
                button.setIcon(QtGui.QIcon(pixmap))
                button.setToolTip(f"#{r:02x}{g:02x}{b:02x}: the model's "
                                  f"{'most likely colour' if i == 0 else f'choice {i + 1}'} "
                                  "at this hint")
                button.setProperty("rgb", (r, g, b))
                button.show()
            else:
                button.hide()

    def _hints_changed(self) -> None:
        """The hints changed: redraw, and re-run the models that take hints (on a drag at most
        every 40 ms: the latest hints win, older queued runs are skipped)."""
        self._sync_hints()
        if not self._hint_timer.isActive():
            self._hint_timer.start()

    def _rerun_for_hints(self) -> None:
        s = self.session
        if self.runner is not None and self.runner.running:
            if self.runner.paused and self.runner.seekable:  # show the paused frame anew
                self.runner.seek(self.seek.value())
            return
        if takes_hints(self.colorizer):
            self._predict_still()
        if takes_hints(s.compare):
            self._predict_compare()

    def click_result(self, x: float, y: float) -> None:
        """A click on the result: select the hint there, or place a new one."""
        s = self.session
        if s.gray is None:
            return
        if not s.takes_hints:
            if self.colorizer is not None:
                self.info("This model takes no colour hints"
                          + (f": choose “{SHIPPED_HINTS}” in the Model list."
                             if self.model_combo.findData("shipped-hints") >= 0 else "."))
            return
        height, width = s.gray.shape[:2]
        if not (0 <= x < width and 0 <= y < height):
            return
        near = 10 / max(self.output_view.pixel_scale(), 1e-6)  # 10 screen px
        for i, h in enumerate(s.hints):
            if abs(h.x - x) <= near and abs(h.y - y) <= near:
                self.select_hint(i)
                return
        result = s.result if takes_hints(self.colorizer) else s.result_b
        rgb = (128, 128, 128)
        if result is not None:
            try:
                rgb = result.suggestions(x, y, 1)[0]
            except (WorkbenchError, IndexError):
                pass
        self.selected_hint = s.add_hint(x, y, rgb)
        self._hints_changed()

    def select_hint(self, index: int | None) -> None:
        self.selected_hint = index
        self._sync_hints()

    def set_hint_colour(self, rgb) -> None:
        """Give the selected hint this colour."""
        if self.selected_hint is None:
            return
        self.session.recolour_hint(self.selected_hint, rgb)
        self._hints_changed()

    def _on_swatch(self, i: int) -> None:
        rgb = self.swatches[i].property("rgb")
        if rgb is not None:
            self.set_hint_colour(tuple(rgb))

    def choose_hint_colour(self) -> None:
        if self.selected_hint is None:
            return
        r, g, b = self.session.hints[self.selected_hint].rgb
        colour = QtWidgets.QColorDialog.getColor(QtGui.QColor(r, g, b), self,
                                                 "Colour of the hint")
        if colour.isValid():
            self.set_hint_colour((colour.red(), colour.green(), colour.blue()))

    def pick_from_reference(self, path: str | Path | None = None) -> bool:
        """Pick the selected hint's colour by clicking in a reference photo."""
        if self.selected_hint is None:
            self.warn("Select a hint first (click it).")
            return False
        if path is None:
            path, _ = QtWidgets.QFileDialog.getOpenFileName(
                self, "Reference photo", str(self.settings().value("colorize/last_dir", "")),
                image_filter())
            if not path:
                return False
        image = self.read_opened(path)
        if image is None:
            return False
        picker = ReferencePicker(image, self)
        self._picker = picker  # tests reach it while it is open
        try:
            if picker.exec() and picker.rgb is not None:
                self.set_hint_colour(picker.rgb)
                return True
        finally:
            self._picker = None
        return False

    def delete_hint(self) -> None:
        if self.selected_hint is None or not self.session.hints or not self.session.takes_hints:
            return
        self.session.remove_hint(self.selected_hint)
        self.selected_hint = None
        self._hints_changed()

    def clear_hints(self) -> None:
        if self.session.hints:
            self.session.set_hints([])
            self.selected_hint = None
            self._hints_changed()

    def undo_hint(self) -> None:
        self._dragging_hint = None
        if self.session.takes_hints and self.session.undo():
            self._hints_changed()

    def redo_hint(self) -> None:
        self._dragging_hint = None
        if self.session.takes_hints and self.session.redo():
            self._hints_changed()

    def _on_hint_dragged(self, index: int, x: float, y: float) -> None:
        if index >= len(self.session.hints):
            return
        if self._dragging_hint != index:  # the drag starts: one undo step for all of it
            self._dragging_hint = index
            self.selected_hint = index
            self.session.begin_edit()
        self.session.move_hint(index, x, y, record=False)
        self._hints_changed()  # the result follows the drag (the latest request wins)

    def _on_hint_drag_finished(self, index: int, x: float, y: float) -> None:
        if self._dragging_hint is None or index >= len(self.session.hints):
            self._dragging_hint = None
            return
        self._dragging_hint = None
        self.session.move_hint(index, x, y, record=False)
        self.session.end_edit()
        self._hints_changed()

    def _on_pin(self, on: bool) -> None:
        self.session.pin_hints = bool(on)
        self._hints_changed()

    def hints_file(self) -> Path | None:
        """``<photo>.hints.json`` beside the photo shown (None for a frame or a sample)."""
        return self.path.with_suffix(".hints.json") if self.path is not None else None

    def save_hints_dialog(self) -> None:
        beside = self.hints_file()
        path = ask_save_path(self, self.key, "Save colour hints",
                             beside.name if beside else "hints.json", ["JSON (*.json)"],
                             source=self.path)
        if path:
            self.save_hints_to(path)

    def save_hints_to(self, path: str | Path) -> bool:
        from workbench.colorize.hints import save_hints

        try:
            save_hints(path, self.session.hints)
        except OSError as exc:
            self.warn(f"Could not save the hints to {path}: {exc.strerror or exc}")
            return False
        self.info(f"Saved {len(self.session.hints)} hints to {path}")
        return True

    def load_hints_dialog(self) -> None:
        beside = self.hints_file()
        path, _ = QtWidgets.QFileDialog.getOpenFileName(
            self, "Load colour hints", str(beside.parent) if beside else "",
            "JSON (*.json)")
        if path:
            self.load_hints_from(path)

    def load_hints_from(self, path: str | Path) -> bool:
        """Replace the hints with those of a JSON file (one undo step); a bad file changes
        nothing and says why."""
        from workbench.colorize.hints import load_hints

        try:
            hints = load_hints(path)
            self.session.set_hints(hints)
        except (WorkbenchError, ValueError) as exc:
            self.report_error(exc)
            return False
        self.selected_hint = None
        self._hints_changed()
        self.info(f"Loaded {len(hints)} hints from {Path(path).name}")
        return True

    # ------------------------------------------------------------ opening
    def show_default(self) -> None:
        if self.colorizer is None and not self.model_request.busy:
            self.load_model(None)
        if self.image is None:
            from workbench.samples import load_sample_photo

            # a colour photo: its real colours are the ground truth to compare with
            self.set_image(load_sample_photo("chelsea.jpg"), None)

    def open_dialog(self) -> None:
        paths, _ = QtWidgets.QFileDialog.getOpenFileNames(
            self, "Open photos", str(self.settings().value("colorize/last_dir", "")),
            image_filter())
        if paths:
            self.open_file(paths[0])
            if len(paths) > 1:
                self.info(f"Showing {Path(paths[0]).name}; use Batch folder… to colorize many.")

    def open_file(self, path: str | Path) -> bool:
        image = self.read_opened(path)
        if image is None:
            return False
        self._pending_video = None  # the newest request wins
        self.stop_stream()
        self._video = None  # a photo now: no transport
        self._show_transport()
        self.set_image(image, Path(path))
        return True

    def set_image(self, image: np.ndarray, path: Path | None) -> None:
        self.session.set_image(image, path)
        self.selected_hint = None
        beside = self.hints_file()
        if beside is not None and beside.is_file() and self.session.takes_hints:
            self._load_beside(beside)
        self._sync_hints()
        self._show(fit=True)
        self._predict_still()
        self._predict_compare()

    def _hints_beside_if_any(self) -> None:
        """A hint model has arrived: the photo's saved hints come with it, if it has some."""
        beside = self.hints_file()
        if (beside is not None and beside.is_file() and self.session.takes_hints
                and not self.session.hints and self.session.image is not None):
            self._load_beside(beside)

    def _load_beside(self, beside: Path) -> None:
        from workbench.colorize.hints import load_hints

        try:
            # the photo opens with them: nothing to undo
            self.session.set_hints(load_hints(beside), undoable=False)
            self.info(f"Loaded {len(self.session.hints)} colour hints from {beside.name}")
        except (WorkbenchError, ValueError) as exc:
            self.warn(f"The hints beside the photo were not loaded: {exc}")

    def _predict_still(self) -> None:
        request = self.session.prediction_request()
        if request is None:
            self.predict_request.cancel()  # nothing to run; an older prediction is stale
            return
        self.predict_request.submit(
            lambda job: (job.check(), request.run())[1],  # a superseded queued job is skipped
            on_done=lambda result: self._on_predicted(request.image_id, result),
            on_error=self.report_error)

    def _on_predicted(self, image_id: int, result) -> None:
        if not self.session.accept_prediction(image_id, result):
            return  # a newer image replaced it
        self._speed[0] = f"{result.timings.total * 1000:.0f} ms"
        self._fill_suggestions()
        self._show()
        t = result.timings.as_ms()
        self.status.setText(" · ".join(f"{k} {v:.1f} ms" for k, v in t.items()) +
                            f" · {provider_summary(self.colorizer.provider_note)}")

    def _on_knobs(self, *_args) -> None:
        self._knobs = (self.temperature_value(), self.saturation_value())  # for stream threads
        for spin, value in ((self.t_spin, self.temperature_value()),
                            (self.s_spin, self.saturation_value())):
            spin.blockSignals(True)
            spin.setValue(value)
            spin.blockSignals(False)
        still = self.runner is None or not self.runner.running
        # on a still image the cached prediction is re-decoded: the network does not run again
        self.session.set_knobs(*self._knobs, recolor=still)
        if still:
            self._show()

    def _on_view(self, *_args) -> None:
        self.session.view = self.view_combo.currentText()
        self.session.show_uncertainty = self.uncertainty.isChecked()
        self._show()
        # panes shown again line up with the result's zoom and pan once laid out
        QtCore.QTimer.singleShot(0, lambda: self._follow(self.output_view))

    def _on_divider(self, *_args) -> None:
        width = self.session.output.shape[1] if self.session.output is not None else 1
        self.session.wipe_position = float(np.clip(self.divider.value() / max(width, 1), 0, 1))
        self._show()
        self._present()

    # -------------------------------------------------------------- views
    def _show(self, fit: bool = False) -> None:
        s = self.session
        wiping = s.wipes
        if wiping and not self.divider.isVisible():
            s.wipe_position = 0.5
            self.divider.blockSignals(True)
            self.divider.setValue(s.output.shape[1] * 0.5)
            self.divider.blockSignals(False)
            self.divider.show()
        elif not wiping and self.divider.isVisible():
            self.divider.hide()
        shown = s.displayed()
        uncertain = (s.show_uncertainty and s.result is not None
                     and s.result.contract.output != "ab")
        title, b_title = self._titles(uncertain)
        self.output_title.setText(title)
        self.compare_title.setText(b_title)
        if uncertain:
            self.colour_bar.set_bins(s.result.contract.num_bins)
        self.colour_bar.setVisible(uncertain)
        self._input_box.setVisible(s.shows_inputs)
        self._truth_box.setVisible(s.shows_truth)
        if self._compare_box.isHidden() == s.shows_b:  # B's pane comes or goes: so may the hints
            self._compare_box.setVisible(s.shows_b)
            self._sync_hints()
        if s.comparing:
            self.compare_view.set_placeholder("Colorizing with B…" if self.gray is not None
                                              else "Model B's result appears here.")
            self.compare_view.set_image(s.displayed_b(),
                                        fit=fit or self.compare_view.image is None)
        self.input_view.set_image(self.gray, fit=fit)
        self.truth_view.set_image(self.truth, fit=fit)
        if self.gray is None:
            placeholder = self.empty_text()
        elif self.colorizer is not None:
            placeholder = "Colorizing…"
        elif self.model_request.busy:
            placeholder = "Loading the model…"
        else:
            placeholder = "No model loaded: choose Open model… in the Model list."
        self.output_view.set_placeholder(placeholder)
        self.output_view.set_image(shown, fit=fit or self.output_view.image is None)
        self._present()

    def presentation(self) -> tuple[np.ndarray | None, str]:
        """What full screen shows: the result (A and B side by side when comparing, or the
        wipe) and its header (the models' labels; empty for one model)."""
        s = self.session
        shown = s.displayed()
        if not s.comparing:
            return shown, ""
        title, _b = self._titles(False)
        b = s.displayed_b()
        if s.view == "Split (wipe)" or shown is None or b is None or b.shape != shown.shape:
            return shown, title
        from workbench.colorize.compare import GAP

        gap = np.full((shown.shape[0], GAP, 3), 16, np.uint8)
        return np.hstack([shown, gap, b]), f"{title} &nbsp;│&nbsp; {_b}"

    def _present(self) -> None:
        if self._fullscreen is not None:
            image, header = self.presentation()
            self._fullscreen.show_content(image, header)

    def toggle_fullscreen(self) -> None:
        """Presentation mode: the result alone, full screen, with the models' labels when
        comparing; Esc or F11 returns."""
        if self._fullscreen is not None:
            self._fullscreen.close()
            return
        view = Presentation()
        for key in ("Escape", "F11"):
            sc = QtGui.QShortcut(QtGui.QKeySequence(key), view)
            sc.activated.connect(view.close)
        view.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
        view.destroyed.connect(lambda: setattr(self, "_fullscreen", None))
        self._fullscreen = view
        self._present()
        view.showFullScreen()
        view.view.fit()

    # ------------------------------------------------------------- streams
    def play_video(self, path: str | Path) -> bool:
        """Stream a video file, now or as soon as the model that is loading is ready; the file
        goes into Open Recent."""
        if not Path(path).is_file():
            self.warn(f"No such video: {path}")
            return False
        self.fileOpened.emit(str(path))
        if self.colorizer is None and self.model_request.busy:
            self._pending_video = str(path)
            self.info(f"{Path(path).name} plays once the model has loaded.")
            return True
        return self.start_stream(str(path))

    def start_stream(self, source, *, loop: bool | None = None) -> bool:
        """Colorize a camera (index) or a video file live; frames are dropped, not queued.
        A file plays once unless ``loop`` (default: the Loop box, off at first)."""
        self._pending_video = None  # the newest request wins
        if loop is None:
            loop = self.loop.isChecked()
        if self.colorizer is None:
            self.warn("No model is loaded yet.")
            return False
        self.stop_stream()
        colorizer = self.colorizer
        panel = self

        def run(model, frame):  # pinned hints apply to every frame of the stream
            hints = panel.session.live_hints(model, frame.shape[1], frame.shape[0])
            return model.predict(frame, hints=list(hints)) if hints else model.predict(frame)

        def process(frame):  # on the stream's thread: reads plain floats, never the sliders
            result = run(colorizer, frame)
            return result, result.recolor(panel._knobs[0], panel._knobs[1])

        def process_b(frame):  # model B on the same frames, on a thread of its own
            b = panel.session.compare  # chosen, changed or dropped while the stream runs
            if b is None:  # nothing to compare: the frame is let go at once
                return None
            try:
                result = run(b, frame)
            except Exception as exc:  # B failing must not stop A: B is dropped, A goes on
                return b, exc, None
            return b, result, result.recolor(panel._knobs[0], panel._knobs[1])

        self._speed = ["", ""]
        runner = start_live(self, source, process, self._on_live_result,
                            self._on_stream_finished, loop=loop, also=[process_b])
        if runner is None:
            return False
        self.runner = runner
        self.predict_request.cancel()
        self.session.begin_stream()
        self.selected_hint = None if not self.session.hints else self.selected_hint
        self._sync_hints()
        self._first_frame_pending = True
        self._paused_by_hiding = False
        self.fps_plot.show()
        is_file = not isinstance(source, int) and runner.seekable
        self._video = str(source) if is_file else None
        if is_file:
            self.seek.blockSignals(True)
            self.seek.setRange(0, max(0, runner.frame_count - 1))
            self.seek.setValue(0)
            self.seek.blockSignals(False)
        self._show_transport()
        name = f"camera {source}" if isinstance(source, int) else Path(source).name
        self.info(f"Streaming {name}.")
        self._sync()
        return True

    # ----------------------------------------------------------- transport
    def _show_transport(self) -> None:
        playing = self.runner is not None and not self.runner.paused
        self.transport.setVisible(self._video is not None)
        self.play_button.setText("Pause" if playing else "Play")
        self.play_button.setIcon(self.style().standardIcon(
            QtWidgets.QStyle.StandardPixmap.SP_MediaPause if playing
            else QtWidgets.QStyle.StandardPixmap.SP_MediaPlay))
        self.play_button.setToolTip("Pause the video" if playing else
                                    "Play the video" if self.runner is not None else
                                    "Play the video again from the start")
        self.seek.setEnabled(self.runner is not None)

    def toggle_play(self) -> None:
        """Pause or resume the video; after its end, play it again from the start."""
        if self.runner is None:
            if self._video is not None:
                self.start_stream(self._video)
            return
        self.pause(not self.runner.paused)

    def pause(self, paused: bool = True) -> None:
        if self.runner is None:
            return
        self.runner.pause(paused)
        self._paused_by_hiding = False
        if paused:
            self.status.setText("Paused." + (" Drag the position bar to look at other frames."
                                             if self.runner.seekable else ""))
        self._show_transport()

    def _on_seek(self, value: int) -> None:
        if self.runner is not None and self.runner.seekable and not self._updating_seek:
            self.runner.seek(value)
            self._show_position(value)

    def _show_position(self, position: int | None) -> None:
        if position is None or self.runner is None or not self.runner.frame_count:
            return
        n = self.runner.frame_count
        fps = max(self.runner.fps, 1.0)

        def clock(frames: float) -> str:
            seconds = int(frames / fps)
            return f"{seconds // 60:02d}:{seconds % 60:02d}"

        self.position_label.setText(f"frame {position + 1} of {n} · {clock(position)} / "
                                    f"{clock(n)}")
        if not self.seek.isSliderDown():
            self._updating_seek = True
            self.seek.setValue(position)
            self._updating_seek = False

    def hideEvent(self, event):  # noqa: N802
        """Leaving the tab pauses a stream (it would keep a core busy unseen), unless it is
        being recorded; coming back resumes it."""
        super().hideEvent(event)
        if self.runner is None or self.runner.paused or self.window().isHidden():
            return
        if self.recorder is not None:  # it goes on: the tab says so
            self.activity.emit(f"recording to {Path(self.recorder.path).name}")
            return
        self.runner.pause(True)
        self._paused_by_hiding = True
        self.status.setText("Paused while the panel is hidden.")
        self._show_transport()

    def showEvent(self, event):  # noqa: N802
        super().showEvent(event)
        self.activity.emit("")
        if self._paused_by_hiding and self.runner is not None:
            self._paused_by_hiding = False
            self.runner.pause(False)
            self._show_transport()

    def stop_stream(self) -> None:
        if self.runner is not None:
            self.runner.stop()
            self.runner = None
            self.status.setText("Stopped.")  # no stale fps readout
            self.fps_curve.setData([])
        self._first_frame_pending = False
        self._paused_by_hiding = False
        self._stop_recording()
        self._show_transport()
        self._sync()

    def _on_stream_finished(self) -> None:
        if self.runner is not None and not self.runner.running:
            ended_cleanly = self.runner.stats.processed > 0 and self._video is not None
            self.runner = None
            self._first_frame_pending = False
            self.status.setText(
                f"End of {Path(self._video).name}: Play starts it again."
                if ended_cleanly else "The stream ended.")
            self.fps_curve.setData([])
            self._stop_recording()
            self._show_transport()
            self._sync()

    def _on_live_result(self, item: LiveResult) -> None:
        if item.channel == 1:
            if item.output is not None and isinstance(item.output[1], Exception):
                b, exc, _ = item.output
                if b is self.session.compare:
                    self.load_compare(None)
                    self.warn(f"Model B ({Path(b.model_path).name}) failed on a frame and "
                              f"was dropped; A goes on: {exc}")
                return
            if item.output is not None and self.session.show_frame_b(*item.output):
                st = item.stats
                self._speed[1] = f"{st.fps:.1f} fps · {st.process_ms:.0f} ms"
                self._show()
            return
        self._first_frame_pending = False
        self._show_position(item.position)
        result, colour = item.output
        self.session.show_frame(item.frame, result, colour)
        self._show(fit=self.output_view.image is None)
        if self.recorder is not None:
            try:
                self.recorder.write(colour)
            except WorkbenchError as exc:
                self.report_error(exc)
                self._stop_recording()
        st = item.stats
        if self.runner is not None and self.runner.paused:
            return  # a frame shown after a seek while paused: no fps to speak of
        self._speed[0] = f"{st.fps:.1f} fps · {st.process_ms:.0f} ms"
        b = ""
        if self.session.comparing and self.runner is not None:
            sb = self.runner.channel_stats[1]
            b = f" · B: {sb.fps:.1f} fps, dropped {sb.dropped} of {sb.captured}"
        self.status.setText(
            f"{st.fps:.1f} fps · inference+decode {st.process_ms:.1f} ms · latency "
            f"{st.latency_ms:.0f} ms · dropped {st.dropped} of {st.captured} · "
            f"{self.colorizer.provider.upper()}{b}")
        self.fps_curve.setData(np.asarray(st.recent_ms))

    def _on_record(self, on: bool) -> None:
        if not on:
            self._stop_recording()
            return
        if self.recorder is not None:
            return
        if self.runner is None:
            self.warn("Start a camera or video stream first, then record.")
            self.record_button.setChecked(False)
            return
        path = ask_save_path(self, self.key, "Record colorized stream", "colorized.avi",
                             ["AVI video (*.avi)", "MP4 video (*.mp4)"])
        if not path:
            self.record_button.setChecked(False)
            return
        self.record_to(path)

    def record_to(self, path: str | Path) -> bool:
        from workbench.imaging.video import VideoRecorder

        try:
            self.recorder = VideoRecorder(path, fps=25.0)
        except WorkbenchError as exc:
            self.report_error(exc)
            self.record_button.setChecked(False)
            return False
        self.record_button.blockSignals(True)  # checked by code: no file dialog
        self.record_button.setChecked(True)
        self.record_button.blockSignals(False)
        self.info(f"Recording to {path}")
        return True

    def _stop_recording(self) -> None:
        self.activity.emit("")
        if self.recorder is not None:
            self.recorder.close()
            self.info(f"Recorded {self.recorder.frames} frames to {self.recorder.path}")
            self.recorder = None
        if self.record_button.isChecked():
            self.record_button.blockSignals(True)
            self.record_button.setChecked(False)
            self.record_button.blockSignals(False)

    # --------------------------------------------------------------- batch
    def batch_dialog(self) -> None:
        folder = QtWidgets.QFileDialog.getExistingDirectory(self, "Folder of photos to colorize")
        if not folder:
            return
        out = ask_export_folder(self, self.key, "Write the results to (a new name creates the "
                                "folder)", f"{Path(folder).name}_colorized",
                                source=Path(folder).parent)
        if out:
            self.run_batch(folder, out)

    def run_batch(self, folder: str | Path, out_dir: str | Path) -> Job | None:
        from workbench.colorize.batch import colorize_files, images_in

        if self.colorizer is None:
            self.warn("No model is loaded yet.")
            return None
        try:
            inputs = images_in(folder)
        except WorkbenchError as exc:
            self.report_error(exc)
            return None
        if not inputs:
            self.warn(f"No images in {folder}.")
            return None
        colorizer, t, s = self.colorizer, self.temperature_value(), self.saturation_value()

        def work(job: Job):
            return colorize_files(
                colorizer, inputs, out_dir, temperature=t, saturation=s,
                progress=lambda i, n, p: job.report(i / n, p.name),
                cancelled=lambda: job.is_cancelled)

        def done(report) -> None:
            msg = f"Colorized {len(report.written)} of {len(inputs)} into {out_dir}"
            if report.cancelled:
                msg += " (cancelled; the rest were not touched)"
            if report.failed:
                msg += f"; {len(report.failed)} failed: " + "; ".join(
                    r for _p, r in report.failed[:3])
                self.warn(msg)
            else:
                self.info(msg)

        self.progress.setRange(0, 100)
        self._batch_job = run_in_background(
            work, on_done=done, on_error=self.report_error,
            on_progress=lambda f, m: (self.progress.setValue(int(f * 100)),
                                      self.progress.setFormat(f"%p% {m}")),
            on_end=self._batch_ended)
        self._sync()
        return self._batch_job

    def _cancel_batch(self) -> None:
        if self._batch_job is not None:
            self._batch_job.cancel()

    def _batch_ended(self) -> None:
        self._batch_job = None
        self._sync()

    # ---------------------------------------------------------------- save
    def save_dialog(self) -> None:
        if self.output is None:
            self.warn("Nothing colorized yet.")
            return
        stem = self.path.stem if self.path else "frame"
        path = ask_save_path(self, self.key, "Save colorized image", f"{stem}_colorized.png",
                             IMAGE_SAVE_FILTERS, source=self.path)
        if path:
            self.save_to(path)

    def save_to(self, path: str | Path) -> bool:
        if self.output is None:
            self.warn("Nothing colorized yet.")
            return False
        try:
            write_image(path, self.output)
        except WorkbenchError as exc:
            self.report_error(exc)
            return False
        self.info(f"Saved {path}")
        return True

    def _sync(self) -> None:
        streaming = self.runner is not None
        batch = self._batch_job is not None
        self.stop_button.setVisible(streaming)
        self.camera_button.setVisible(not streaming)
        self.progress.setVisible(batch)
        self.cancel_button.setVisible(batch)
        self.record_button.setEnabled(streaming)
        self.fps_plot.setVisible(streaming)
        for w in (self.open_button, self.folder_button):
            w.setEnabled(not batch)

    def settled(self) -> bool:
        loading = (self.model_request.busy or self.predict_request.busy
                   or self.compare_request.busy or self.compare_predict_request.busy)
        waiting = self._pending_video is not None or self._first_frame_pending
        return not (loading or waiting)

    def shutdown(self) -> None:
        self._pending_video = None
        self.predict_request.cancel()
        self.compare_request.cancel()
        self.compare_predict_request.cancel()
        self.stop_stream()

    def closeEvent(self, event):  # noqa: N802
        self.shutdown()
        super().closeEvent(event)
