"""Pyramid panel: browse Gaussian / Laplacian / DoG pyramids level by level, tune the kernel,
blend two images with the multiresolution spline.

Mouse and keys: click a level in the mosaic, or PageUp/PageDown, or the slider, to choose the
level shown large; with "Same scale" every level is drawn at the input's scale, so zoom and the
cursor stay on the same scene point when you change level. Kernel changes recompute in the
background; a newer change cancels an older computation.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from workbench.errors import WorkbenchError
from workbench.imaging.io import read_image, write_image
from workbench.pyramid import levels as pyr
from workbench.pyramid.explorer import (
    MASKS,
    MODE_LABELS,
    MODES,
    PyramidParams,
    PyramidResult,
    compute,
    display_level,
    export_levels,
    make_mask,
    match_second_image,
)
from workbench.ui.dialogs import ask_export_folder, ask_save_path
from workbench.ui.flow_layout import FlowLayout, group
from workbench.ui.image_view import ImageView, format_value
from workbench.ui.panel import Panel, native_keys
from workbench.ui.rectify_panel import IMAGE_SAVE_FILTERS, image_filter
from workbench.ui.worker import Job, LatestRequest

DEFAULT_LEVELS = 6

HINT = ("Click a level in the mosaic, use the slider or PageUp/PageDown to choose the level shown "
        "large · wheel zooms, drag pans · kernel changes recompute in the background.")


class _Marks(pg.ScatterPlotItem):
    """Cross-hairs that follow the cursor: never take a click (it belongs to the view)."""

    def mouseClickEvent(self, ev):  # noqa: N802
        ev.ignore()


def default_image() -> np.ndarray:
    from workbench.samples import load_sample_photo

    return load_sample_photo("astronaut.jpg")


class PyramidPanel(Panel):
    title = "Pyramid"
    key = "pyramid"
    can_open = True
    can_save = True
    KEYS = (("Page Down", "Next (smaller) level"), ("Page Up", "Previous (larger) level"))
    #: Export levels asks first when the files could take more than this (bytes).
    EXPORT_ASK_BYTES = 100_000_000

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.image: np.ndarray | None = None
        self.image_b: np.ndarray | None = None
        self.path: Path | None = None
        self.result: PyramidResult | None = None
        self.result_before: PyramidResult | None = None
        self.displays: list[np.ndarray] = []
        self.mosaic: pyr.PyramidMosaic | None = None
        self.level = 0
        self._fit_next = True  # fit the large view on the first result for a new image
        self._blend_next = False  # show the blended result when the next blend result comes
        self.request = LatestRequest(self)  # the latest recompute wins
        self._debounce = QtCore.QTimer(self, singleShot=True, interval=120)
        self._debounce.timeout.connect(self.recompute)
        self._build()

    # ------------------------------------------------------------- layout
    def _build(self) -> None:
        s = self.settings()
        self.open_button = QtWidgets.QPushButton("Open…")
        self.mode = QtWidgets.QComboBox()
        for m in MODES:
            self.mode.addItem(MODE_LABELS[m], m)
        self.mode.setCurrentIndex(max(0, MODES.index(str(s.value("pyramid/mode", "gaussian")))
                                      if s.value("pyramid/mode", "gaussian") in MODES else 0))
        self.levels = QtWidgets.QSpinBox(minimum=1, maximum=16,
                                         value=int(s.value("pyramid/levels", DEFAULT_LEVELS)))
        self.sigma = QtWidgets.QDoubleSpinBox(minimum=0.3, maximum=12.0, singleStep=0.05,
                                              decimals=4)  # the default 1.0292 exactly
        self.sigma.setValue(float(s.value("pyramid/sigma", pyr.DEFAULT_SIGMA)))
        self.sigma.setToolTip(f"Gaussian sigma; {pyr.DEFAULT_SIGMA} with size 5 matches Burt & "
                              "Adelson's [1 4 6 4 1]/16 closely")
        self.ksize = QtWidgets.QSpinBox(minimum=3, maximum=41, singleStep=2,
                                        value=int(s.value("pyramid/kernel_size", 5)))
        self.ksize.setToolTip("Kernel size (odd)")
        self.defaults_button = QtWidgets.QToolButton(text="Defaults")
        self.defaults_button.setToolTip(
            f"Back to the default kernel: σ {pyr.DEFAULT_SIGMA}, size "
            f"{pyr.DEFAULT_KERNEL_SIZE}, {DEFAULT_LEVELS} levels (the settings are remembered "
            "between runs)")
        self.contrast = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal, minimum=1,
                                          maximum=40, value=8)
        self.contrast.setFixedWidth(120)  # never squeezed to a dot
        self.contrast.setToolTip("Contrast of signed band-pass levels (mid-gray is zero)")
        self.same_scale = QtWidgets.QCheckBox("Same scale")
        self.same_scale.setChecked(True)
        self.same_scale.setToolTip("Draw every level at the input's size so levels compare "
                                   "at the same scale")
        self.open_b = QtWidgets.QPushButton("Second image…")
        self.mask = QtWidgets.QComboBox()
        self.mask.addItems(MASKS)
        self.export_button = QtWidgets.QPushButton("Export levels…")
        self.export_mosaic_button = QtWidgets.QPushButton("Export mosaic…")
        self.progress = QtWidgets.QProgressBar(maximumWidth=130)
        self.progress.setToolTip("Recomputing the pyramid")
        policy = self.progress.sizePolicy()
        policy.setRetainSizeWhenHidden(True)  # its room is kept: nothing jumps when it shows
        self.progress.setSizePolicy(policy)
        self.progress.hide()

        bar = FlowLayout()  # wraps onto a second row in a narrow window
        bar.addWidget(self.open_button)
        bar.addWidget(self.mode)
        bar.addWidget(group("Levels", self.levels, "σ", self.sigma, "Size", self.ksize,
                            self.defaults_button))
        self.contrast_label = QtWidgets.QLabel("Contrast")
        self.contrast_group = group(self.contrast_label, self.contrast)
        bar.addWidget(self.contrast_group)
        bar.addWidget(self.same_scale)
        bar.addWidget(self.open_b)
        bar.addWidget(self.mask)
        bar.addStretch(1)
        bar.addWidget(self.progress)
        bar.addWidget(self.export_button)
        bar.addWidget(self.export_mosaic_button)

        self.level_view = ImageView(placeholder=(
            "No image yet.\n\nOpen an image with Open… "
            f"({native_keys(QtGui.QKeySequence.StandardKey.Open)}) or drop one here to "
            "explore its Gaussian, Laplacian and DoG pyramids."))
        self.level_view.key_handler = self._on_key
        self.level_title = QtWidgets.QLabel()
        self.slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal, minimum=0, maximum=0)
        self.slider.setPageStep(1)
        left = QtWidgets.QWidget()
        ll = QtWidgets.QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.level_title)
        row.addWidget(self.slider, 1)
        ll.addLayout(row)
        ll.addWidget(self.level_view, 1)

        self.mosaic_view = ImageView(placeholder="Every level of the pyramid appears here.")
        self.mosaic_view.key_handler = self._on_key
        self.mosaic_view.hover_text = self._mosaic_hover_text
        self.mosaic_view.setMinimumHeight(200)
        self.mosaic_marks = _Marks(symbol="+", size=14,
                                               pen=pg.mkPen("#30e0ff", width=2), brush=None)
        self.mosaic_view.view_box.addItem(self.mosaic_marks, ignoreBounds=True)
        self.mosaic_frame = pg.PlotCurveItem(pen=pg.mkPen("#ffcc33", width=2))
        self.mosaic_view.view_box.addItem(self.mosaic_frame, ignoreBounds=True)
        self.level_mark = _Marks(symbol="+", size=18,
                                             pen=pg.mkPen("#30e0ff", width=2), brush=None)
        self.level_view.view_box.addItem(self.level_mark, ignoreBounds=True)

        self.kernel_plot = pg.PlotWidget(background="w")
        self.kernel_plot.setMinimumHeight(140)
        self.kernel_plot.setLabel("bottom", "tap")
        self.kernel_plot.setTitle("1-D kernel (integrated Gaussian)", size="9pt")
        self.kernel_bars = pg.BarGraphItem(x=[0], height=[1], width=0.8, brush="#4a90d9")
        self.kernel_curve = pg.PlotCurveItem(pen=pg.mkPen("#d04020", width=2))
        self.kernel_ref = pg.ScatterPlotItem(symbol="x", size=9, pen=pg.mkPen("#222"))
        for item in (self.kernel_bars, self.kernel_curve, self.kernel_ref):
            self.kernel_plot.addItem(item)
        self.heat = pg.PlotWidget(background="w")
        self.heat.setTitle("2-D kernel", size="9pt")
        self.heat.setAspectLocked(True)
        self.heat.hideAxis("left")
        self.heat.hideAxis("bottom")
        self.heat.setMaximumWidth(170)
        self.heat_item = pg.ImageItem(axisOrder="row-major")
        self.heat_item.setLookupTable(pg.colormap.get("viridis").getLookupTable(nPts=256))
        self.heat.addItem(self.heat_item)
        kernel_row = QtWidgets.QHBoxLayout()
        kernel_row.addWidget(self.kernel_plot, 1)
        kernel_row.addWidget(self.heat)

        self.table = QtWidgets.QTableWidget(0, 6)
        self.table.setHorizontalHeaderLabels(["level", "size", "min", "max", "mean", "energy"])
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        # the columns share the panel's width (contents-sized columns left a blank strip)
        self.table.horizontalHeader().setSectionResizeMode(
            QtWidgets.QHeaderView.ResizeMode.Stretch)
        self.recon_label = QtWidgets.QLabel()

        right = QtWidgets.QWidget()
        rl = QtWidgets.QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(QtWidgets.QLabel("<b>All levels</b> — click one"))
        rl.addWidget(self.mosaic_view, 3)
        rl.addLayout(kernel_row, 2)
        rl.addWidget(self.table, 2)
        rl.addWidget(self.recon_label)

        split = QtWidgets.QSplitter()
        split.addWidget(left)
        split.addWidget(right)
        split.setSizes([700, 520])
        self.lay_out(bar, body=split, hint=HINT)

        self.open_button.clicked.connect(self.open_dialog)
        self.open_b.clicked.connect(self.open_second_dialog)
        self.export_button.clicked.connect(self.save_dialog)
        self.defaults_button.clicked.connect(self.reset_kernel)
        self.export_mosaic_button.clicked.connect(self.export_mosaic_dialog)
        for w in (self.mode, self.mask):
            w.currentIndexChanged.connect(self._params_changed)
        for w in (self.levels, self.ksize):
            w.valueChanged.connect(self._params_changed)
        self.sigma.valueChanged.connect(self._params_changed)
        self.contrast.valueChanged.connect(lambda _v: self._refresh_displays())
        self.same_scale.toggled.connect(lambda _v: self.show_level(self.level, keep_view=False))
        self.slider.valueChanged.connect(self.show_level)
        self.mosaic_view.clicked.connect(self._on_mosaic_click)
        self.level_view.hovered.connect(self._on_level_hover)
        self.mosaic_view.hovered.connect(self._on_mosaic_hover)
        self._sync_controls()
        self._update_kernel_plot()

    # ------------------------------------------------------------ opening
    def show_default(self) -> None:
        if self.image is None:
            self.set_image(default_image(), None)
            self.info("Pyramid of scikit-image's 'astronaut' — open your own image to explore it.")

    def open_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(
            self, "Open image", str(self.settings().value("pyramid/last_dir", str(Path.home()))),
            image_filter())
        if path:
            self.open_file(path)

    def open_file(self, path: str | Path) -> bool:
        image = self.read_opened(path)
        if image is None:
            return False
        self.set_image(image, Path(path))
        return True

    def set_image(self, image: np.ndarray, path: Path | None) -> None:
        self.image = image
        self.path = path
        self.image_b = None
        self.levels.setMaximum(pyr.max_levels(image.shape))
        self.level = 0
        self._fit_next = True
        self._blend_next = self.mode.currentData() == "blend"
        # the cross-hairs marked a point of the old image
        self.mosaic_marks.setData([], [])
        self.level_mark.setData([], [])
        self.recompute()

    def open_second_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(
            self, "Second image for the blend",
            str(self.settings().value("pyramid/last_dir", str(Path.home()))), image_filter())
        if path:
            self.open_second(path)

    def open_second(self, path: str | Path) -> bool:
        if self.image is None:
            self.warn("Open the first image before the second.")
            return False
        try:
            self.image_b = match_second_image(self.image, read_image(path))
        except WorkbenchError as exc:
            self.report_error(exc)
            return False
        self.mode.setCurrentIndex(MODES.index("blend"))
        self._blend_next = True
        self.recompute()
        return True

    def _second_image(self) -> np.ndarray:
        if self.image_b is None:  # a ready partner for the demo: the image mirrored
            self.image_b = np.ascontiguousarray(self.image[:, ::-1])
        return self.image_b

    # ------------------------------------------------------------ compute
    def params(self) -> PyramidParams:
        size = self.ksize.value() | 1
        return PyramidParams(self.mode.currentData(), self.levels.value(),
                             self.sigma.value(), size)

    def _params_changed(self, *_args) -> None:
        p = self.params()
        if p.mode == "blend" and (self.result is None or self.result.params.mode != "blend"):
            self._blend_next = True  # choosing Blend shows the blend, not a band
        s = self.settings()
        s.setValue("pyramid/mode", p.mode)
        s.setValue("pyramid/levels", p.levels)
        s.setValue("pyramid/sigma", p.sigma)
        s.setValue("pyramid/kernel_size", p.kernel_size)
        self._sync_controls()
        self._update_kernel_plot()
        self._debounce.start()

    def _sync_controls(self) -> None:
        mode = self.mode.currentData()
        signed = mode in ("laplacian", "dog", "blend")
        self.contrast_group.setVisible(signed)
        self.open_b.setVisible(mode == "blend")
        self.mask.setVisible(mode == "blend")

    def recompute(self) -> Job | None:
        """Start computing the pyramid in the background; a newer call cancels this one."""
        if self.image is None:
            return None
        params = self.params()
        image = self.image
        image_b = mask = None
        if params.mode == "blend":
            image_b = self._second_image()
            mask = make_mask(self.mask.currentText(), image.shape[:2])
        contrast = self.contrast.value() / 2

        def work(job: Job):
            result = compute(image, params, image_b=image_b, mask=mask, check=job.report)
            displays = [display_level(lv, sg, result.input_dtype, contrast)
                        for lv, sg in zip(result.levels, result.signed, strict=True)]
            return result, displays, pyr.pyramid_mosaic(displays, fill=40)

        self.progress.setRange(0, 100)
        self.progress.show()
        self.request.submit(
            work,
            on_progress=lambda f, m: self.progress.setValue(int(100 * f)),
            on_done=lambda r: self._on_computed(*r),
            on_error=self.report_error,
            on_end=self.progress.hide,
        )
        return self.request.job

    def settled(self) -> bool:
        """No recompute is on its way (a --screenshot waits for it)."""
        return not self.request.busy and not self._debounce.isActive()

    def _on_computed(self, result: PyramidResult, displays, mosaic) -> None:
        self.result_before, self.result = self.result, result
        self.displays = displays
        self.mosaic = mosaic
        n = len(result.levels) + (1 if result.blended is not None else 0)
        previous = self.result_before
        if result.blended is not None and self._blend_next:
            self.level = n - 1  # the slider's last position: the blended result
            self._blend_next = False
        elif (result.blended is None and previous is not None and previous.blended is not None
              and self.level == len(previous.levels)):
            self.level = 0  # it showed the blend, which this mode does not have
        self.slider.blockSignals(True)
        self.slider.setMaximum(n - 1)
        self.level = min(self.level, n - 1)
        self.slider.setValue(self.level)
        self.slider.blockSignals(False)
        self.mosaic_view.set_image(mosaic.image, fit=True)
        self._fill_table()
        if result.reconstruction_error is not None:
            self.recon_label.setText(
                f"Reconstruction from the Laplacian pyramid: max error "
                f"{result.reconstruction_error:g} (input {result.input_dtype})")
        elif result.blended is not None:
            self.recon_label.setText("Blend: the slider's last position is the blended result; "
                                     "the others are the blended bands.")
        else:
            self.recon_label.setText("")
        self.show_level(self.level, keep_view=True)

    def _refresh_displays(self) -> None:
        if self.result is None:
            return
        contrast = self.contrast.value() / 2
        self.displays = [display_level(lv, sg, self.result.input_dtype, contrast)
                         for lv, sg in zip(self.result.levels, self.result.signed, strict=True)]
        self.mosaic = pyr.pyramid_mosaic(self.displays, fill=40)
        self.mosaic_view.set_image(self.mosaic.image, fit=False)
        self.show_level(self.level, keep_view=True)

    # ------------------------------------------------------------- levels
    def show_level(self, level: int, keep_view: bool = True) -> None:
        if self.result is None:
            return
        r = self.result
        showing_blend = r.blended is not None and level == len(r.levels)
        level = min(level, len(r.levels) if r.blended is not None else len(r.levels) - 1)
        self.level = level
        if self.slider.value() != level:
            self.slider.setValue(level)
        view_range = self.level_view.view_box.viewRect() if keep_view else None
        if showing_blend and self.same_scale.isChecked():
            view_range = None
        old_scale = self.level_view.scale
        if showing_blend:
            data, display, scale = r.blended, None, 1.0
            title = "Blended result"
        else:
            data, display = r.levels[level], self.displays[level]
            scale = 2.0 ** level if self.same_scale.isChecked() else 1.0
            h, w = data.shape[:2]
            kind = "band-pass" if r.signed[level] else "Gaussian"
            title = f"Level {level} of {len(r.levels) - 1} · {w}×{h} · {kind}"
        self.level_title.setText(f"<b>{title}</b>")
        self.level_view.set_image(data, fit=False, scale=scale, display=display)
        if view_range is not None and old_scale and scale != old_scale and \
                not self.same_scale.isChecked():
            f = scale / old_scale  # keep the same scene region in view
            view_range = QtCore.QRectF(view_range.x() * f, view_range.y() * f,
                                       view_range.width() * f, view_range.height() * f)
        if self._fit_next or view_range is None:
            self.level_view.fit()
            self._fit_next = False
        elif view_range.width() > 0:
            self.level_view.view_box.setRange(view_range, padding=0)
        self._frame_level_in_mosaic(level)

    def _frame_level_in_mosaic(self, level: int) -> None:
        if self.mosaic is None or level >= len(self.mosaic.level_offsets):
            self.mosaic_frame.setData([], [])
            return
        (top, left), (h, w) = self.mosaic.level_offsets[level], self.mosaic.level_shapes[level]
        x0, y0, x1, y1 = left - 0.5, top - 0.5, left + w - 0.5, top + h - 0.5
        self.mosaic_frame.setData([x0, x1, x1, x0, x0], [y0, y0, y1, y1, y0])

    def step_level(self, delta: int) -> None:
        top = self.slider.maximum()
        self.show_level(int(np.clip(self.level + delta, 0, top)))

    def _on_key(self, ev: QtGui.QKeyEvent) -> bool:
        if ev.key() == QtCore.Qt.Key.Key_PageDown:
            self.step_level(1)
            return True
        if ev.key() == QtCore.Qt.Key.Key_PageUp:
            self.step_level(-1)
            return True
        return False

    def _on_mosaic_click(self, x: float, y: float) -> None:
        if self.mosaic is None:
            return
        hit = self.mosaic.level_at(y + 0.5, x + 0.5)
        if hit is not None:
            self.show_level(hit[0], keep_view=True)

    def scene_point(self, x: float, y: float) -> tuple[float, float]:
        """Input-image coordinates of a point in the large level view."""
        factor = 2.0 ** self.level / self.level_view.scale
        return x * factor, y * factor

    def _mark_scene(self, sx: float, sy: float) -> None:
        """Cross-hairs on every level of the mosaic at the same scene point."""
        if self.mosaic is None:
            return
        xs, ys = [], []
        for k, ((top, left), (h, w)) in enumerate(
                zip(self.mosaic.level_offsets, self.mosaic.level_shapes, strict=True)):
            lx, ly = sx / 2 ** k, sy / 2 ** k
            if -0.5 <= lx <= w - 0.5 and -0.5 <= ly <= h - 0.5:
                xs.append(left + lx)
                ys.append(top + ly)
        self.mosaic_marks.setData(xs, ys)

    def _on_level_hover(self, x: float, y: float) -> None:
        self.level_mark.setData([], [])
        self._mark_scene(*self.scene_point(x, y))

    def _on_mosaic_hover(self, x: float, y: float) -> None:
        if self.mosaic is None:
            return
        hit = self.mosaic.level_at(y + 0.5, x + 0.5)
        if hit is None:
            return
        k, row, col = hit
        sx, sy = (col - 0.5) * 2 ** k, (row - 0.5) * 2 ** k
        self._mark_scene(sx, sy)
        scale = self.level_view.scale / 2 ** self.level
        self.level_mark.setData([sx * scale], [sy * scale])

    def _mosaic_hover_text(self, x: float, y: float) -> str:
        """Status-bar text over the mosaic: the level under the cursor and that level's pixel
        (not mosaic coordinates, which are no image's pixels)."""
        if self.mosaic is None or self.result is None:
            return ""
        hit = self.mosaic.level_at(y + 0.5, x + 0.5)
        if hit is None or hit[0] >= len(self.result.levels):
            return ""
        k, row, col = hit
        level = self.result.levels[k]
        r, c = min(int(row), level.shape[0] - 1), min(int(col), level.shape[1] - 1)
        return (f"level {k}  ·  x {col - 0.5:.1f}  y {row - 0.5:.1f}  ·  pixel {c}, {r} = "
                f"{format_value(level[r, c])}")

    def reset_kernel(self) -> None:
        """σ, kernel size and levels back to their defaults (one recompute)."""
        for w in (self.levels, self.sigma, self.ksize):
            w.blockSignals(True)
        self.levels.setValue(min(DEFAULT_LEVELS, self.levels.maximum()))
        self.sigma.setValue(pyr.DEFAULT_SIGMA)
        self.ksize.setValue(pyr.DEFAULT_KERNEL_SIZE)
        for w in (self.levels, self.sigma, self.ksize):
            w.blockSignals(False)
        self._params_changed()

    # --------------------------------------------------------------- info
    def _update_kernel_plot(self) -> None:
        p = self.params()
        taps = pyr.gaussian_kernel_1d(p.kernel_size, p.sigma)
        r = p.kernel_size // 2
        x = np.arange(-r, r + 1)
        self.kernel_bars.setOpts(x=x, height=taps, width=0.8)
        fine = np.linspace(-r - 0.5, r + 0.5, 200)
        density = np.exp(-0.5 * (fine / p.sigma) ** 2) / (p.sigma * np.sqrt(2 * np.pi))
        self.kernel_curve.setData(fine, density)
        if p.kernel_size == 5:
            self.kernel_ref.setData(np.arange(-2, 3), pyr.BURT_ADELSON_TAPS)
        else:
            self.kernel_ref.setData([], [])
        k2 = pyr.gaussian_kernel(p.kernel_size, p.sigma)
        self.heat_item.setImage(k2, levels=(0, float(k2.max())))
        self.heat.autoRange()

    def _fill_table(self) -> None:
        r = self.result
        self.table.setRowCount(len(r.stats))
        for k, st in enumerate(r.stats):
            h, w = st.shape[:2]
            cells = [str(k), f"{w}×{h}", f"{st.min:.4g}", f"{st.max:.4g}", f"{st.mean:.4g}",
                     f"{st.energy:.4g}" if r.signed[k] else "—"]
            for c, text in enumerate(cells):
                item = QtWidgets.QTableWidgetItem(text)
                if c:
                    item.setTextAlignment(QtCore.Qt.AlignmentFlag.AlignRight |
                                          QtCore.Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(k, c, item)

    # ------------------------------------------------------------- export
    def _stem(self) -> str:
        return f"{self.path.stem if self.path else 'astronaut'}_{self.result.params.mode}"

    def export_bytes(self) -> int:
        """At most how many bytes Export levels writes (uncompressed sizes)."""
        r = self.result
        arrays = [*r.levels, *([r.blended] if r.blended is not None else [])]
        return sum(a.nbytes for a in arrays)

    def save_dialog(self) -> None:
        if self.result is None:
            self.warn("Nothing to export yet.")
            return
        folder = ask_export_folder(self, self.key, "Export levels to a folder (a new name "
                                   "creates it)", f"{self._stem()}_levels", source=self.path)
        if folder is None:
            return
        files = len(self.result.levels) + (self.result.blended is not None)
        size = self.export_bytes()
        if size > self.EXPORT_ASK_BYTES:
            answer = QtWidgets.QMessageBox.question(
                self, "Export levels",
                f"Export {files} files, up to {size / 1e6:,.0f} MB, to {folder}?",
                QtWidgets.QMessageBox.StandardButton.Ok
                | QtWidgets.QMessageBox.StandardButton.Cancel,
                QtWidgets.QMessageBox.StandardButton.Ok)
            if answer != QtWidgets.QMessageBox.StandardButton.Ok:
                self.info("Export cancelled; nothing written.")
                return
        self.export_to(folder)

    def export_to(self, folder: str | Path, fmt: str = "png") -> list[Path]:
        """Write every level into ``folder``, creating it if needed."""
        try:
            try:
                Path(folder).mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise WorkbenchError(
                    f"Could not create the folder {folder}: {exc.strerror or exc}") from exc
            written = export_levels(self.result, folder, stem=self._stem(), fmt=fmt)
        except WorkbenchError as exc:
            self.report_error(exc)
            return []
        self.info(f"Exported {len(written)} files to {folder}")
        return written

    def export_mosaic_dialog(self) -> None:
        if self.mosaic is None:
            self.warn("Nothing to export yet.")
            return
        path = ask_save_path(self, self.key, "Export mosaic", f"{self._stem()}_mosaic.png",
                             IMAGE_SAVE_FILTERS[:2], source=self.path)
        if path:
            self.export_mosaic_to(path)

    def export_mosaic_to(self, path: str | Path) -> bool:
        try:
            write_image(path, self.mosaic.image)
        except WorkbenchError as exc:
            self.report_error(exc)
            return False
        self.info(f"Saved mosaic to {path}")
        return True
