"""Faces panel: enrol people, recognise them live, and see what eigenfaces see.

* Live view (camera or video file) with a box per face: name and distance, green for known
  people, orange for strangers ("unknown").
* Enrol: type a name, then Capture N shots from the running stream (a countdown; blurred, dark
  or face-less shots are rejected with the reason) or Add photos…. The gallery is a SQLite file.
* Insight: the mean face and the first eigenfaces, the current face next to its reconstruction,
  the scree plot with the 95 % line.
* Thresholds: the ROC of genuine vs impostor distances with the operating point, sliders for
  the identity ("unknown" above it) and face-space ("not a face" above it) thresholds, and the
  histogram of both distances.

Training runs in the background whenever the gallery changes; the window never waits for it.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from workbench.errors import WorkbenchError
from workbench.faces.eigenfaces import FEATURE_WORDS
from workbench.faces.session import FacesSession, analyse_frame, people_count
from workbench.ui.image_view import ImageView
from workbench.ui.live import LiveResult, LiveRunner, start_live
from workbench.ui.panel import Panel, native_keys
from workbench.ui.rectify_panel import image_filter
from workbench.ui.worker import Job, LatestRequest, run_in_background

COLOURS = {"known": "#30d050", "unknown": "#ff9a20", "not a face": "#909090", None: "#30e0ff"}
#: The histogram's key, above it: a solid green line for the same person, a dashed purple one
#: for different people (the curves' pens).
HIST_KEY = ('<span style="color:#2e8b3e">━━ same person</span>&nbsp;&nbsp;&nbsp;'
            '<span style="color:#6a3dc8">╍╍ different people</span>')
HINT = ("Enrol: type a name, start the camera (or a video) and Capture, or Add photos · "
        "recognition runs live on the stream · Insight shows the eigenfaces · Thresholds tunes "
        "when a face is called unknown.")


def default_gallery_path() -> Path:
    base = QtCore.QStandardPaths.writableLocation(
        QtCore.QStandardPaths.StandardLocation.AppDataLocation)
    folder = Path(base or Path.home() / ".workbench")
    folder.mkdir(parents=True, exist_ok=True)
    return folder / "faces.gallery"


def tile(images: list[np.ndarray], columns: int, gap: int = 2) -> np.ndarray:
    """Gray images of one size in a grid (for the eigenface view)."""
    h, w = images[0].shape[:2]
    rows = (len(images) + columns - 1) // columns
    out = np.full((rows * (h + gap) - gap, columns * (w + gap) - gap), 40, np.uint8)
    for i, img in enumerate(images):
        r, c = divmod(i, columns)
        out[r * (h + gap): r * (h + gap) + h, c * (w + gap): c * (w + gap) + w] = img
    return out


def to_display(face: np.ndarray) -> np.ndarray:
    """Any real-valued image (an eigenface) stretched to 0..255 for display."""
    f = np.asarray(face, np.float64)
    lo, hi = float(f.min()), float(f.max())
    return np.zeros(f.shape, np.uint8) if hi <= lo else ((f - lo) / (hi - lo) * 255).astype(
        np.uint8)


class FacesPanel(Panel):
    title = "Faces"
    key = "faces"
    can_open = True
    can_save = False

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.session = FacesSession()  # gallery, recognizer, photo, capture: the state
        self.runner: LiveRunner | None = None
        self._train_job: Job | None = None
        self._enrol_job: Job | None = None
        self._retrain_again = False
        self.recognition_request = LatestRequest(self)  # the latest photo's recognition wins
        self._box_items: list = []
        from workbench.faces.stable import StableNames

        self.stable = StableNames(frames=3)  # live names shown once 3 frames agree
        self._build()

    # The session's state, read-only here: the panel changes it through the session's methods.
    gallery = property(lambda self: self.session.gallery)
    recognizer = property(lambda self: self.session.recognizer)
    image = property(lambda self: self.session.image)
    recognitions = property(lambda self: self.session.recognitions)

    # ------------------------------------------------------------- layout
    def _build(self) -> None:
        self.gallery_label = QtWidgets.QLabel()
        self.gallery_button = QtWidgets.QPushButton("Gallery…")
        self.gallery_button.setToolTip("Open or create a face gallery (a SQLite file)")
        self.export_button = QtWidgets.QPushButton("Export…")
        self.import_button = QtWidgets.QPushButton("Import…")
        self.photo_button = QtWidgets.QPushButton("Recognise photo…")
        sources = self.source_controls()
        self.progress = QtWidgets.QProgressBar(maximumWidth=150)
        self.progress.hide()
        bar = QtWidgets.QHBoxLayout()
        for w in (self.gallery_button, self.gallery_label):
            bar.addWidget(w)
        bar.addStretch(1)
        for w in (self.progress, self.photo_button, *sources, self.export_button,
                  self.import_button):
            bar.addWidget(w)

        self.view = ImageView(placeholder=(
            "No camera running and no photo open.\n\nStart the Camera, play a Video…, or Recognise "
            f"photo… ({native_keys(QtGui.QKeySequence.StandardKey.Open)}) — or drop a photo "
            "here."))
        self.countdown_label = QtWidgets.QLabel(self.view)
        self.countdown_label.setStyleSheet(
            "color: white; background: rgba(0,0,0,150); font-size: 48px; padding: 12px;")
        self.countdown_label.hide()
        self.status = QtWidgets.QLabel()
        self.status.setWordWrap(True)

        # enrol tab
        self.name_edit = QtWidgets.QLineEdit(placeholderText="Name of the person")
        self.shots = QtWidgets.QSpinBox(minimum=1, maximum=30, value=5, suffix=" shots")
        self.capture_button = QtWidgets.QPushButton("Capture")
        self.capture_button.setToolTip("Take shots from the running stream after a countdown")
        self.add_photos_button = QtWidgets.QPushButton("Add photos…")
        self.people = QtWidgets.QListWidget()
        self.people.setIconSize(QtCore.QSize(46, 56))
        self.rename_button = QtWidgets.QPushButton("Rename…")
        self.delete_button = QtWidgets.QPushButton("Delete")
        self.method_combo = QtWidgets.QComboBox()
        self.method_combo.addItem("Fisherfaces (recommended)", "fisherfaces")
        self.method_combo.addItem("Eigenfaces", "eigenfaces")
        self.method_combo.setToolTip(
            "How faces are told apart. Fisherfaces name people better (they learn what differs "
            "between people, not what differs between photos) and compare histograms of local "
            "patterns (which neighbours of each pixel are brighter), which a lamp to one side "
            "hardly changes; they need 3 people, "
            "and the gallery uses eigenfaces until then. Eigenfaces always decide whether it "
            "is a face and fill the Insight tab.")
        enrol = QtWidgets.QWidget()
        el = QtWidgets.QVBoxLayout(enrol)
        el.addWidget(self.name_edit)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.shots)
        row.addWidget(self.capture_button)
        row.addWidget(self.add_photos_button)
        el.addLayout(row)
        el.addWidget(QtWidgets.QLabel("<b>Enrolled</b>"))
        el.addWidget(self.people, 1)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(QtWidgets.QLabel("Method"))
        row.addWidget(self.method_combo, 1)
        el.addLayout(row)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.rename_button)
        row.addWidget(self.delete_button)
        el.addLayout(row)

        # insight tab
        self.eigen_view = ImageView(placeholder="The mean face and the eigenfaces appear "
                                                "here once the gallery is trained.")
        self.eigen_view.setMinimumHeight(170)
        self.recon_view = ImageView(placeholder="The face in view and its reconstruction "
                                                "appear here.")
        self.recon_view.setMinimumHeight(120)
        self.scree = pg.PlotWidget(background="w")
        self.scree.setLabel("bottom", "component")
        self.scree.setLabel("left", "variance explained (cumulative)")
        self.scree_bars = pg.BarGraphItem(x=[0], height=[0], width=0.8, brush="#4a90d9")
        self.scree_curve = pg.PlotCurveItem(pen=pg.mkPen("#d04020", width=2))
        self.scree_line = pg.InfiniteLine(
            pos=0.95, angle=0, pen=pg.mkPen("#444", style=QtCore.Qt.PenStyle.DashLine),
            label="95 %", labelOpts={"position": 0.1})
        for item in (self.scree_bars, self.scree_curve, self.scree_line):
            self.scree.addItem(item)
        insight = QtWidgets.QWidget()
        il = QtWidgets.QVBoxLayout(insight)
        il.addWidget(QtWidgets.QLabel("<b>Mean face and eigenfaces</b>"))
        il.addWidget(self.eigen_view, 2)
        il.addWidget(QtWidgets.QLabel("<b>Current face · reconstruction from face space</b>"))
        il.addWidget(self.recon_view, 1)
        il.addWidget(self.scree, 2)

        # thresholds tab
        self.roc = pg.PlotWidget(background="w")
        self.roc.setLabel("bottom", "false accept rate")
        self.roc.setLabel("left", "true accept rate")
        self.roc_curve = self.roc.plot(pen=pg.mkPen("#4a90d9", width=2))
        self.roc_point = pg.ScatterPlotItem(size=12, brush="#d04020")
        self.roc.addItem(self.roc_point)
        self.hist = pg.PlotWidget(background="w")
        self.hist.setLabel("bottom", "distance in face space")
        # the key above the plot (a legend inside it sat on the bars, its step-shaped samples
        # drawn over the genuine histogram): the line styles in the curves' colours
        self.hist.setTitle(HIST_KEY, size="9pt")
        # outlines in two distinct colours over light fills: where they overlap both stay legible
        self.hist_genuine = self.hist.plot(
            stepMode="center", fillLevel=0, pen=pg.mkPen("#2e8b3e", width=2),
            brush=(46, 139, 62, 45))
        self.hist_impostor = self.hist.plot(
            stepMode="center", fillLevel=0,
            pen=pg.mkPen("#6a3dc8", width=2, style=QtCore.Qt.PenStyle.DashLine),
            brush=(106, 61, 200, 45))
        self.hist_line = pg.InfiniteLine(angle=90, pen=pg.mkPen("#d04020", width=2))
        self.hist.addItem(self.hist_line)
        self.identity_slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal,
                                                 minimum=1, maximum=1000)
        self.face_slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal,
                                             minimum=1, maximum=1000)
        self.identity_label = QtWidgets.QLabel()
        self.face_label = QtWidgets.QLabel()
        self.save_thresholds_button = QtWidgets.QPushButton("Keep these thresholds")
        self.reset_thresholds_button = QtWidgets.QPushButton("Back to tuned")
        self.rates_label = QtWidgets.QLabel()
        self.rates_label.setWordWrap(True)
        self.warning_label = QtWidgets.QLabel()
        self.warning_label.setWordWrap(True)
        self.warning_label.setStyleSheet("color: #b05000;")
        self.warning_label.hide()
        thresholds = QtWidgets.QWidget()
        tl = QtWidgets.QVBoxLayout(thresholds)
        tl.addWidget(self.warning_label)
        tl.addWidget(self.rates_label)
        tl.addWidget(self.roc, 2)
        tl.addWidget(self.hist, 2)
        # a spin box beside each slider: 0.1 per arrow key or wheel step, or type the value
        self.identity_spin = QtWidgets.QDoubleSpinBox(decimals=1, singleStep=0.1,
                                                      maximum=1e6, minimumWidth=90)
        self.face_spin = QtWidgets.QDoubleSpinBox(decimals=1, singleStep=0.1, maximum=1e6,
                                                  minimumWidth=90)
        form = QtWidgets.QFormLayout()
        for label, slider, spin in ((self.identity_label, self.identity_slider,
                                     self.identity_spin),
                                    (self.face_label, self.face_slider, self.face_spin)):
            pair = QtWidgets.QHBoxLayout()
            pair.addWidget(slider, 1)
            pair.addWidget(spin)
            form.addRow(label, pair)
        tl.addLayout(form)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.save_thresholds_button)
        row.addWidget(self.reset_thresholds_button)
        tl.addLayout(row)

        self.side = QtWidgets.QTabWidget()
        self.side.addTab(enrol, "Enrol")
        self.insight_stack = self._untrained(
            insight, "Nothing to show yet.\n\nThe mean face, the eigenfaces and the scree "
            "plot appear once at least two face pictures are enrolled. On the Enrol tab, type "
            "a name, then Capture from the camera or use Add photos… to enrol someone.")
        self.thresholds_stack = self._untrained(
            thresholds, "No thresholds to tune yet.\n\nThe ROC and the distance histograms "
            "need a trained gallery — ideally two or more people, one of them with several "
            "pictures. Enrol them on the Enrol tab.")
        self.side.addTab(self.insight_stack, "Insight")
        self.side.addTab(self.thresholds_stack, "Thresholds")
        split = QtWidgets.QSplitter()
        left = QtWidgets.QWidget()
        ll = QtWidgets.QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addWidget(self.view, 1)
        ll.addWidget(self.status)
        split.addWidget(left)
        split.addWidget(self.side)
        split.setSizes([760, 440])
        self.lay_out(bar, body=split, hint=HINT)

        self.gallery_button.clicked.connect(self.gallery_dialog)
        self.export_button.clicked.connect(self.export_dialog)
        self.import_button.clicked.connect(self.import_dialog)
        self.photo_button.clicked.connect(self.open_dialog)
        self.capture_button.clicked.connect(self.start_capture)
        self.add_photos_button.clicked.connect(self.add_photos_dialog)
        self.rename_button.clicked.connect(self.rename_dialog)
        self.delete_button.clicked.connect(self.delete_selected)
        self.people.currentItemChanged.connect(lambda *_a: self._sync())
        # each control changes its own threshold only (moving one never rounds the other)
        self.identity_slider.valueChanged.connect(
            lambda v: self._set_threshold("identity", v * self._slider_scale()))
        self.face_slider.valueChanged.connect(
            lambda v: self._set_threshold("face", v * self._slider_scale()))
        self.identity_spin.valueChanged.connect(lambda v: self._set_threshold("identity", v))
        self.face_spin.valueChanged.connect(lambda v: self._set_threshold("face", v))
        self.save_thresholds_button.clicked.connect(self.keep_thresholds)
        self.reset_thresholds_button.clicked.connect(lambda: self.keep_thresholds(reset=True))
        self.method_combo.activated.connect(
            lambda index: self.set_method(self.method_combo.itemData(index)))
        self._countdown_timer = QtCore.QTimer(self, interval=700)
        self._countdown_timer.timeout.connect(self._tick)
        self._sync()

    @staticmethod
    def _untrained(page: QtWidgets.QWidget, text: str) -> QtWidgets.QStackedWidget:
        """``page`` behind a centred "what to do first" note, shown while nothing is trained."""
        note = QtWidgets.QLabel(text)
        note.setWordWrap(True)
        note.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        note.setForegroundRole(QtGui.QPalette.ColorRole.PlaceholderText)
        note.setContentsMargins(24, 24, 24, 24)
        stack = QtWidgets.QStackedWidget()
        stack.addWidget(note)
        stack.addWidget(page)
        stack.note = note
        return stack

    # ------------------------------------------------------------ gallery
    def show_default(self) -> None:
        if self.gallery is None:
            path = self.settings().value("faces/gallery", "") or str(default_gallery_path())
            if not self.persist:  # a copy (or a new empty one): the user's file stays untouched
                scratch = Path(tempfile.mkdtemp(prefix="workbench-gallery-"))
                atexit.register(shutil.rmtree, scratch, ignore_errors=True)
                copy = scratch / Path(path).name
                if Path(path).is_file():
                    shutil.copy(path, copy)
                path = str(copy)
            self.open_gallery(path)
        if self.image is None and self.runner is None:
            from workbench.samples import load_sample_photo

            self.show_photo(load_sample_photo("astronaut.jpg"), "the astronaut sample (NASA)")

    def gallery_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getSaveFileName(
            self, "Open or create a face gallery", str(self.gallery.path if self.gallery else
                                                       default_gallery_path()),
            "Face galleries (*.gallery *.sqlite *.db);;All files (*)",
            options=QtWidgets.QFileDialog.Option.DontConfirmOverwrite)
        if path:
            self.open_gallery(path)

    def open_gallery(self, path: str | Path) -> bool:
        try:
            self.session.open_gallery(path)
        except WorkbenchError as exc:
            self.report_error(exc)
            return False
        self.stable.reset()
        self._show_method()
        self.settings().setValue("faces/gallery", str(path))
        self.gallery_label.setText(f"Gallery: <b>{Path(path).name}</b>")
        self.gallery_label.setToolTip(str(path))
        self.refresh_people()
        self.retrain()
        return True

    def _show_method(self) -> None:
        if self.gallery is None:
            return
        index = self.method_combo.findData(self.gallery.settings.method)
        self.method_combo.setCurrentIndex(max(index, 0))

    def set_method(self, method: str) -> None:
        """Train the gallery with ``"fisherfaces"`` or ``"eigenfaces"`` from now on."""
        from dataclasses import replace

        if self.gallery is None or method == self.gallery.settings.method:
            return
        try:
            self.gallery.set_settings(replace(self.gallery.settings, method=method))
        except WorkbenchError as exc:
            self.report_error(exc)
            self._show_method()
            return
        self._show_method()
        self.session.recognizer = None
        self.retrain()

    def refresh_people(self) -> None:
        self.people.clear()
        if self.gallery is None:
            return
        try:
            for name, count, crop in self.session.people():
                item = QtWidgets.QListWidgetItem(
                    f"{name}  ({count} {'face' if count == 1 else 'faces'})")
                item.setData(QtCore.Qt.ItemDataRole.UserRole, name)
                if crop is not None:
                    h, w = crop.shape[:2]
                    qimg = QtGui.QImage(crop.data, w, h, w, QtGui.QImage.Format.Format_Grayscale8)
                    item.setIcon(QtGui.QIcon(QtGui.QPixmap.fromImage(qimg.copy())))
                self.people.addItem(item)
        except WorkbenchError as exc:
            self.report_error(exc)
        if not self.people.count():
            item = QtWidgets.QListWidgetItem("Nobody yet: type a name, then Capture or "
                                             "Add photos.")
            item.setFlags(QtCore.Qt.ItemFlag.NoItemFlags)
            self.people.addItem(item)
        self._sync()

    def selected_person(self) -> str | None:
        item = self.people.currentItem()
        return None if item is None else item.data(QtCore.Qt.ItemDataRole.UserRole)

    def rename_dialog(self) -> None:
        old = self.selected_person()
        if not old:
            self.warn("Select a person to rename.")
            return
        dialog = QtWidgets.QInputDialog(self)
        dialog.setWindowTitle("Rename person")
        dialog.setLabelText(f"New name for {old}:")
        dialog.setTextValue(old)
        field = dialog.findChild(QtWidgets.QLineEdit)
        if field is not None:  # room for the title and a long name (Qt's default is tiny)
            field.setMinimumWidth(360)
        if dialog.exec() and dialog.textValue().strip():
            self.rename(old, dialog.textValue())

    def rename(self, old: str, new: str) -> bool:
        try:
            self.session.rename(old, new)
        except WorkbenchError as exc:
            self.report_error(exc)
            return False
        new = new.strip()
        self.info(f"Renamed {old} to {new}.")
        self.refresh_people()
        self.select_person(new)  # the selection follows the renamed person
        self.name_edit.clear()
        self.retrain()
        return True

    def select_person(self, name: str) -> None:
        for i in range(self.people.count()):
            if self.people.item(i).data(QtCore.Qt.ItemDataRole.UserRole) == name:
                self.people.setCurrentRow(i)
                return

    def delete_selected(self) -> None:
        name = self.selected_person()
        if not name:
            self.warn("Select a person to delete.")
            return
        answer = QtWidgets.QMessageBox.question(
            self, "Delete", f"Delete {name} and all their face pictures from the gallery?")
        if answer == QtWidgets.QMessageBox.StandardButton.Yes:
            self.delete(name)

    def delete(self, name: str) -> bool:
        try:
            removed = self.session.remove(name)
        except WorkbenchError as exc:
            self.report_error(exc)
            return False
        self.info(f"Deleted {name} ({removed} faces).")
        self.refresh_people()
        self.retrain()
        return True

    def export_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self, "Export gallery", "faces-export",
                                                        "All files (*)")
        if path:
            try:
                self.gallery.export(path)
            except WorkbenchError as exc:
                self.report_error(exc)
                return
            self.info(f"Exported the gallery to {path}")

    def import_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Import gallery", "",
                                                        "All files (*)")
        if path:
            try:
                summary = self.gallery.import_(path)
            except WorkbenchError as exc:
                self.report_error(exc)
                return
            self.info(f"Imported: {summary}")
            self.refresh_people()
            self.retrain()

    # ----------------------------------------------------------- training
    def retrain(self) -> Job | None:
        """Get the recognizer for the gallery as it is now, in the background."""
        if self.gallery is None:
            return None
        if self._train_job is not None:
            self._retrain_again = True  # the gallery changed while training: once more after
            return self._train_job
        session = self.session

        def work(job: Job):
            return session.train(progress=job.report)

        def done(value) -> None:
            if not self.session.set_recognizer(value):
                self._clear_model()
                self.status.setText(f"Not recognising yet — {value}")
            else:
                self._show_model()
            if self.image is not None and self.runner is None:
                self._recognise_still()

        def ended() -> None:
            self._train_job = None
            self.progress.hide()
            if self._retrain_again:
                self._retrain_again = False
                self.retrain()

        self.progress.setRange(0, 100)
        self.progress.show()
        self._train_job = run_in_background(
            work, on_done=done, on_error=self.report_error, on_end=ended,
            on_progress=lambda f, m: (self.progress.setValue(int(100 * f)),
                                      self.progress.setFormat(f"training: {m}")))
        return self._train_job

    def _clear_model(self) -> None:
        """Nothing trained (an empty gallery, everyone deleted): no stale eigenfaces or ROC."""
        self.eigen_view.set_image(None)
        self.recon_view.set_image(None)
        self.scree_bars.setOpts(x=[0], height=[0], width=0.8)
        self.scree_curve.setData([], [])
        for curve in (self.roc_curve, self.hist_genuine, self.hist_impostor):
            curve.setData([], [])
        self.roc_point.setData([], [])
        self.roc.setTitle(None)
        self.rates_label.setText("")
        self.warning_label.hide()
        self._sync()

    def _show_model(self) -> None:
        r = self.recognizer
        model = r.model
        faces = [to_display(model.mean_face)]
        if hasattr(model, "eigenfaces"):
            basis = model.eigenfaces()
        else:  # Fisherfaces: their face space is the eigenfaces' (PCA) basis
            basis = model.components_.reshape((-1, *model.image_shape_))
        faces += [to_display(f) for f in basis[:15]]
        ratio = (model.explained_variance_ratio_ if hasattr(model, "eigenfaces") else
                 getattr(model, "face_space_variance_ratio_", None))
        if ratio is not None and len(ratio):
            ratio = np.asarray(ratio)[:60]
            x = np.arange(1, len(ratio) + 1)
            self.scree_bars.setOpts(x=x, height=ratio, width=0.8)
            self.scree_curve.setData(x, np.cumsum(ratio))
        else:  # no variances kept by this model: no scree plot rather than an old one
            self.scree_bars.setOpts(x=[0], height=[0], width=0.8)
            self.scree_curve.setData([], [])
        self.eigen_view.set_image(tile(faces, 4))
        cal = r.calibration
        self._show_thresholds()  # a threshold the calibration could not set stays put
        self._label_thresholds()
        if cal is not None and cal.genuine.size and cal.impostor.size:
            fpr, tpr, _ = cal.roc()
            self.roc_curve.setData(fpr, tpr)
            top = max(float(cal.impostor.max()), float(cal.genuine.max()))
            bins = np.linspace(0, top, 40)
            g, _ = np.histogram(cal.genuine, bins=bins, density=True)
            i, _ = np.histogram(cal.impostor, bins=bins, density=True)
            self.hist_genuine.setData(bins, g)
            self.hist_impostor.setData(bins, i)
            self._update_operating_point()
        else:
            for curve in (self.roc_curve, self.hist_genuine, self.hist_impostor):
                curve.setData([], [])
            self.roc_point.setData([], [])
            self.roc.setTitle("An ROC needs two or more people, one of them with two or more "
                              "pictures: enrol someone else to tune the thresholds.", size="9pt")
        method = (f"Fisherfaces on {FEATURE_WORDS[model.features]}"
                  if model.kind == "fisherfaces" else "Eigenfaces")
        wanted = self.gallery.settings.method if self.gallery is not None else model.kind
        if wanted != model.kind:
            method += " (Fisherfaces from 3 people on)"
        self.status.setText(f"{people_count(len(model.classes_))} · {method} · thresholds: "
                            f"{cal.rule_words if cal else 'set by hand'}")
        warning = cal.warning if cal is not None else ""
        self.warning_label.setText(f"⚠ {warning}" if warning else "")
        self.warning_label.setVisible(bool(warning))
        self._sync()

    def _slider_scale(self) -> float:
        """Slider steps in distance units: 1000 steps over about twice the impostor range."""
        cal = self.recognizer.calibration if self.recognizer else None
        top = 100.0
        if cal is not None and cal.impostor.size:
            top = float(np.percentile(cal.impostor, 99)) * 2
        if self.recognizer is not None:
            finite = [t * 1.5 for t in (self.recognizer.face_threshold,
                                        self.recognizer.identity_threshold) if np.isfinite(t)]
            top = max([top, *finite])
        return top / 1000

    def _label_thresholds(self) -> None:
        if self.recognizer is None:
            return
        self.identity_label.setText(f"unknown above {self.recognizer.identity_threshold:.1f}")
        self.face_label.setText(f"not a face above {self.recognizer.face_threshold:.1f}")

    def _show_thresholds(self) -> None:
        """The spin boxes and sliders at the recognizer's thresholds, without feedback."""
        r = self.recognizer
        if r is None:
            return
        scale = self._slider_scale()
        for slider, spin, value in ((self.identity_slider, self.identity_spin,
                                     r.identity_threshold),
                                    (self.face_slider, self.face_spin, r.face_threshold)):
            if not np.isfinite(value):
                continue
            for control, v in ((slider, int(round(value / scale))), (spin, value)):
                control.blockSignals(True)
                control.setValue(v)
                control.blockSignals(False)

    def _set_threshold(self, which: str, value: float) -> None:
        r = self.recognizer
        if r is None:
            return
        identity = value if which == "identity" else r.identity_threshold
        face = value if which == "face" else r.face_threshold
        self.session.set_thresholds(identity, face)
        self._show_thresholds()
        self._label_thresholds()
        self._update_operating_point()
        if self.image is not None and self.runner is None:
            self._recognise_still()

    def _update_operating_point(self) -> None:
        r = self.recognizer
        if r is None or r.calibration is None or not r.calibration.impostor.size:
            return
        far, tar = r.calibration.operating_point(r.identity_threshold)
        self.roc_point.setData([far], [tar])
        self.hist_line.setValue(r.identity_threshold)
        self.rates_label.setText(
            f"<b>At this threshold: {tar:.0%} of enrolled people's faces are named, "
            f"{1 - far:.0%} of strangers are rejected</b> (measured on the gallery's own faces, "
            "each by a model trained without it)")
        self.roc.setTitle(f"at {r.identity_threshold:.1f}: {tar:.0%} of genuine accepted, "
                          f"{far:.0%} of impostors", size="9pt")

    def keep_thresholds(self, reset: bool = False) -> None:
        if self.recognizer is None:
            return
        try:
            self.session.keep_thresholds(reset)
        except WorkbenchError as exc:
            self.report_error(exc)
            return
        self.info("Thresholds kept with the gallery." if not reset else
                  "Thresholds back to the tuned values.")
        if reset:
            self.retrain()

    # --------------------------------------------------------- recognition
    def open_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Recognise faces in a photo", "",
                                                        image_filter())
        if path:
            self.open_file(path)

    def open_file(self, path: str | Path) -> bool:
        image = self.read_opened(path)
        if image is None:
            return False
        self.stop_stream()
        self.show_photo(image, Path(path).name)
        return True

    def show_photo(self, image: np.ndarray, name: str) -> None:
        self.session.show_photo(image)
        self.view.set_image(image)
        self._draw([])
        self._recognise_still()

    def _recognise_still(self) -> Job | None:
        """Detect and recognise the photo off the GUI thread (a large photo takes a while);
        the latest photo wins."""
        request = self.session.recognition_request()
        if request is None:
            return None

        def done(value) -> None:
            found, _shot, crop, _light = value
            if self.session.accept_recognition(request.image_id, found):
                self._draw(found, crop)

        self.recognition_request.submit(lambda job: request.run(), on_done=done,
                                        on_error=self.report_error)
        return self.recognition_request.job

    def _draw(self, found: list, crop: np.ndarray | None = None, shown: list | None = None
              ) -> None:
        """Boxes and labels; ``shown``: the stable verdict per recognition (live view), whose
        label waits ("…") until a few frames agree."""
        for item in self._box_items:
            self.view.view_box.removeItem(item)
        self._box_items = []
        for k, entry in enumerate(found):
            if isinstance(entry, tuple):  # no model yet: a detection only
                box, status, text = entry[0], None, "not enrolled yet"
            elif shown is not None and shown[k].status is None:
                box, status, text = entry.box, None, "…"
            else:
                box, status = entry.box, entry.status
                text = (f"{entry.name}  {entry.distance:.1f}" if status == "known" else
                        f"unknown (nearest {entry.nearest} {entry.distance:.1f})"
                        if status == "unknown" else f"not a face {entry.face_distance:.1f}")
            if box is None:
                continue
            x, y, w, h = box
            colour = COLOURS[status]
            rect = QtWidgets.QGraphicsRectItem(x - 0.5, y - 0.5, w, h)
            rect.setPen(pg.mkPen(colour, width=3))
            label = pg.TextItem(text, color="w", fill=pg.mkBrush(colour), anchor=(0, 1))
            label.setPos(x - 0.5, y - 0.5)
            for item in (rect, label):
                self.view.view_box.addItem(item, ignoreBounds=True)
                self._box_items.append(item)
        self._show_reconstruction(crop)

    def _show_reconstruction(self, face: np.ndarray | None) -> None:
        """The current face beside its reconstruction from face space (no new detection)."""
        if self.recognizer is None or face is None:
            return
        recon = self.recognizer.model.reconstruct(face)
        self.recon_view.set_image(np.hstack([face, to_display(recon).reshape(face.shape)]))

    # -------------------------------------------------------------- streams
    def start_stream(self, source, *, loop: bool = True) -> bool:
        from workbench.faces.detect import FaceDetector, FaceTracker

        self.stop_stream()
        # the stream thread's own (cascades are not shared); the tracker searches near the
        # faces of the last frames and the whole frame every few frames (~6x less search)
        detector = FaceTracker(FaceDetector(**self.session.crop_settings()))
        session = self.session

        def process(frame):  # on the stream's thread
            return analyse_frame(frame, detector, session.recognizer,
                                 check_enrolment=session.capturing)

        self.stable.reset()
        runner = start_live(self, source, process, self._on_live, self._on_stream_finished,
                            loop=loop)
        if runner is None:
            return False
        self.runner = runner
        self.recognition_request.cancel()
        self.session.begin_stream()
        self._sync()
        return True

    def stop_stream(self) -> None:
        if self.runner is not None:
            self.runner.stop()
            self.runner = None
        self.session.stop_capture()
        self._countdown_timer.stop()
        self.countdown_label.hide()
        self._sync()

    def _on_stream_finished(self) -> None:
        if self.runner is not None and not self.runner.running:
            self.runner = None
            self._sync()

    def _on_live(self, item: LiveResult) -> None:
        from workbench.faces.detect import ONE_SIDED_LIMIT

        found, shot, crop, balance = item.output
        self.view.set_image(item.frame, fit=self.view.image is None)
        self.session.recognitions = found
        recognised = [r for r in found if not isinstance(r, tuple)]
        shown = self.stable.update(recognised) if len(recognised) == len(found) else None
        self._draw(found, crop, shown)
        st = item.stats
        light = ("" if balance is None or balance >= ONE_SIDED_LIMIT else
                 " · the light comes from one side: face the light before you enrol")
        self.status.setText(f"{st.fps:.1f} fps · {st.process_ms:.0f} ms per frame · "
                            f"{len(found)} face(s){light}")
        capture = self.session.capture
        outcome = self.session.take_shot(shot)
        if outcome is None:
            return
        if outcome.kind == "rejected":
            self.warn(outcome.message)
            return
        self.info(outcome.message)
        if outcome.kind == "done":
            self._enrol(capture.name, list(outcome.crops), "camera")

    # ------------------------------------------------------------ enrolment
    def start_capture(self) -> None:
        try:
            capture = self.session.start_capture(self.name_edit.text(), self.shots.value(),
                                                 streaming=self.runner is not None)
        except WorkbenchError as exc:
            self.warn(str(exc))
            return
        self.countdown_label.setText(str(capture.countdown))
        self.countdown_label.adjustSize()
        self.countdown_label.move(20, 20)
        self.countdown_label.show()
        self._countdown_timer.start()

    def _tick(self) -> None:
        left = self.session.tick()
        if left > 0:
            self.countdown_label.setText(str(left))
        else:
            self._countdown_timer.stop()
            self.countdown_label.hide()
            capture = self.session.capture
            if capture is not None:
                self.info(f"Capturing {capture.left} shots of {capture.name}: look at the "
                          "camera.")

    def add_photos_dialog(self) -> None:
        if not self.name_edit.text().strip():  # asked before the photos are chosen, not after
            self.warn("Type the person's name first, then Add photos….")
            self.name_edit.setFocus()
            return
        paths, _ = QtWidgets.QFileDialog.getOpenFileNames(self, "Photos of the person", "",
                                                          image_filter())
        if paths:
            self.add_photos(paths)

    def add_photos(self, paths, *, aligned: bool = False) -> Job | None:
        name = self.name_edit.text().strip()
        if not name:
            self.warn("Type the person's name first.")
            return None
        crops, sources, rejected, notes = self.session.photos_for_enrolment(paths,
                                                                            aligned=aligned)
        skipped = ""
        if rejected:
            skipped = ("Skipped " + " · ".join(rejected[:3]) +
                       (f" (and {len(rejected) - 3} more)" if len(rejected) > 3 else ""))
            self.warn(skipped)
        elif notes:
            self.warn(" · ".join(notes[:2]))
        if not crops:
            return None
        return self._enrol(name, crops, sources, skipped=skipped)

    def _enrol(self, name: str, crops: list[np.ndarray], sources, *, skipped: str = "") -> Job:
        """Enrol in the background; ``skipped`` (photos left out, with why) stays in the
        message that says what was enrolled, not replaced by it."""
        session = self.session

        def work(job: Job):
            return session.enrol(name, crops, sources, progress=job.report)

        def done(ids) -> None:
            enrolled = f"Enrolled {len(ids)} face(s) of {name}."
            if skipped:
                self.warn(f"{enrolled} {skipped}")
            else:
                self.info(enrolled)
            if self.name_edit.text().strip() == name:
                self.name_edit.clear()  # the next photos are not added to this person by mistake
            self.refresh_people()
            self.select_person(name)
            self.retrain()

        self._enrol_job = run_in_background(work, on_done=done, on_error=self.report_error,
                                            on_end=lambda: setattr(self, "_enrol_job", None))
        return self._enrol_job

    def _sync(self) -> None:
        streaming = self.runner is not None
        self.stop_button.setVisible(streaming)
        self.camera_button.setVisible(not streaming)
        has_people = self.gallery is not None and self.selected_person() is not None
        self.rename_button.setEnabled(has_people)
        self.delete_button.setEnabled(has_people)
        ready = self.recognizer is not None
        for stack in (self.insight_stack, self.thresholds_stack):
            stack.setCurrentIndex(1 if ready else 0)
        for w in (self.identity_slider, self.face_slider, self.identity_spin, self.face_spin,
                  self.save_thresholds_button,
                  self.reset_thresholds_button):
            w.setEnabled(ready)

    def settled(self) -> bool:
        """Training and the photo's recognition have finished (a --screenshot waits for it)."""
        return self._train_job is None and not self.recognition_request.busy

    def shutdown(self) -> None:
        self.recognition_request.cancel()
        self.stop_stream()

    def closeEvent(self, event):  # noqa: N802
        self.shutdown()
        super().closeEvent(event)
