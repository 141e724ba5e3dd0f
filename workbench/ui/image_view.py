"""The one image view every panel uses.

A pyqtgraph ``ImageItem`` inside a ``ViewBox``: wheel zooms about the cursor, dragging pans, the
aspect ratio is locked and y points down like image rows. Image coordinates follow OpenCV: the
centre of the top-left pixel is (0, 0), so the item is placed at (-0.5, -0.5).

The view shows any image ``workbench.imaging.io`` returns (gray, RGB, RGBA; uint8, uint16, float)
and reports the *original* value under the cursor, not the 8-bit display copy.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from workbench.imaging.io import to_uint8_display

pg.setConfigOptions(imageAxisOrder="row-major", antialias=True)

LOUPE_RADIUS = 10  # source pixels either side of the cursor
LOUPE_ZOOM = 6  # screen pixels per source pixel


def display_uint8(image: np.ndarray) -> np.ndarray:
    """8-bit rendering for the screen. 16-bit images that use fewer bits (12-bit camera data in
    a 16-bit file) are stretched by their bit depth, so they are not shown nearly black."""
    if image.dtype == np.uint16 and image.size:
        bits = max(8, int(image.max()).bit_length())
        if bits < 16:
            scale = 255.0 / (2**bits - 1)
            out = image.astype(np.float32) * scale + 0.5
            return np.clip(out, 0, 255).astype(np.uint8)
    return to_uint8_display(image)


def format_value(value: np.ndarray | float | int | None) -> str:
    """Human-readable pixel value: ``128``, ``(12, 200, 3)`` or ``0.503``."""
    if value is None:
        return ""
    arr = np.asarray(value)
    if arr.ndim == 0:
        return f"{arr.item():.4g}" if arr.dtype.kind == "f" else str(arr.item())
    if arr.dtype.kind == "f":
        return "(" + ", ".join(f"{v:.4g}" for v in arr.tolist()) + ")"
    return "(" + ", ".join(str(v) for v in arr.tolist()) + ")"


class _ClickableViewBox(pg.ViewBox):
    """ViewBox that reports left clicks (not drags) in view coordinates."""

    sigLeftClicked = QtCore.Signal(float, float)

    def mouseClickEvent(self, ev):  # noqa: N802 (Qt naming)
        if ev.button() == QtCore.Qt.MouseButton.LeftButton:
            ev.accept()
            p = self.mapSceneToView(ev.scenePos())
            self.sigLeftClicked.emit(p.x(), p.y())
        else:
            super().mouseClickEvent(ev)


class ImageView(pg.GraphicsView):
    """Zoomable, pannable image display with pixel read-out, overlays and a loupe.

    Signals
    -------
    clicked(x, y)
        Left click on the image area (not on an overlay item), image pixel coordinates.
    hovered(x, y)
        Cursor moved over the view, image pixel coordinates.
    hoverText(str)
        Ready-made status-bar text, e.g. ``x 10.4  y 3.0  value (12, 40, 200)``; empty when the
        cursor leaves the image.
    """

    clicked = QtCore.Signal(float, float)
    hovered = QtCore.Signal(float, float)
    hoverText = QtCore.Signal(str)

    def __init__(self, parent: QtWidgets.QWidget | None = None, *, placeholder: str = ""):
        super().__init__(parent, background=pg.mkColor(38, 40, 44))
        self.setFocusPolicy(QtCore.Qt.FocusPolicy.StrongFocus)
        self.setMinimumSize(160, 120)
        self.view_box = _ClickableViewBox(lockAspect=True, invertY=True, enableMenu=False)
        self.fit_padding = 0.02  # margin around a fitted image, as a fraction of the view
        self.view_box.setDefaultPadding(self.fit_padding)
        self.setCentralItem(self.view_box)
        self.image_item = pg.ImageItem(axisOrder="row-major")
        self.view_box.addItem(self.image_item)
        self._image: np.ndarray | None = None
        self._display: np.ndarray | None = None
        self.scale = 1.0  # view units per image pixel (pyramid levels shown at input scale)
        self.key_handler: Callable[[QtGui.QKeyEvent], bool] | None = None
        # what the status bar says at view point (x, y) when the view shows something other
        # than one image's pixels (the pyramid's mosaic of levels); None: the pixel read-out
        self.hover_text: Callable[[float, float], str] | None = None
        self.view_box.sigLeftClicked.connect(self.clicked)
        self.scene().sigMouseMoved.connect(self._on_mouse_moved)

        self._placeholder = QtWidgets.QLabel(placeholder, self)
        self._placeholder.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        self._placeholder.setWordWrap(True)
        self._placeholder.setStyleSheet("color: #b8bcc4; font-size: 14px; background: transparent;")
        self._placeholder.setVisible(bool(placeholder))

        self._loupe = QtWidgets.QLabel(self)
        self._loupe.setAttribute(QtCore.Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self._loupe.setStyleSheet("border: 2px solid #f0c020; background: black;")
        self._loupe.hide()
        self._loupe_enabled = False
        # which side of the cursor the loupe goes (+1: right/below); a panel dragging a labelled
        # point puts it on the side away from that point's label
        self.loupe_side: tuple[int, int] = (1, 1)
        self.loupe_point: tuple[float, float] | None = None

    # ----------------------------------------------------------------- image
    @property
    def image(self) -> np.ndarray | None:
        """The array being shown, as given (not the display copy)."""
        return self._image

    def set_image(self, image: np.ndarray | None, *, fit: bool = True, scale: float = 1.0,
                  display: np.ndarray | None = None) -> None:
        """Show ``image`` (or clear the view with ``None``); ``fit`` zooms to the whole image.

        ``scale`` draws each pixel ``scale`` view units wide, pixel ``i`` centred at
        ``scale * i``; ``display`` is a ready uint8 rendering (e.g. a signed band on mid-gray)
        while the status bar still reads values from ``image``.
        """
        self._image = image
        self.scale = float(scale)
        if image is None:
            self._display = None
            self.image_item.clear()
            self._placeholder.setVisible(bool(self._placeholder.text()))
            return
        self._placeholder.hide()
        extent = (image.shape[0] * self.scale, image.shape[1] * self.scale)
        shape_changed = getattr(self, "_extent", None) != extent
        self._extent = extent
        self._display = display_uint8(image) if display is None else display
        self.image_item.setImage(self._display, autoLevels=False, levels=(0, 255))
        h, w = image.shape[:2]
        sc = self.scale
        self.image_item.setRect(QtCore.QRectF(-0.5 * sc, -0.5 * sc, w * sc, h * sc))
        if fit or shape_changed:
            self.fit()

    def set_placeholder(self, text: str) -> None:
        """What the view says while it has no image (what to do next)."""
        self._placeholder.setText(text)
        self._placeholder.setVisible(bool(text) and self._image is None)

    def placeholder_text(self) -> str:
        return self._placeholder.text()

    def placeholder_shown(self) -> bool:
        """True while the empty-state text is on screen (the view has no image)."""
        return self._placeholder.isVisible()

    def pixel_at(self, x: float, y: float) -> tuple[int, int]:
        """(column, row) of the pixel containing view point (x, y); pixel centres are integers."""
        return int(np.floor(x / self.scale + 0.5)), int(np.floor(y / self.scale + 0.5))

    def value_at(self, x: float, y: float):
        """Original pixel value at image coordinates (x, y), or None outside the image."""
        if self._image is None:
            return None
        col, row = self.pixel_at(x, y)
        h, w = self._image.shape[:2]
        if 0 <= row < h and 0 <= col < w:
            return self._image[row, col]
        return None

    # ------------------------------------------------------------- zooming
    def fit(self) -> None:
        """Zoom so the whole image fits the view."""
        if self._image is None:
            return
        h, w = self._image.shape[:2]
        sc = self.scale
        self.view_box.setRange(QtCore.QRectF(-0.5 * sc, -0.5 * sc, w * sc, h * sc),
                               padding=self.fit_padding)

    def zoom_actual_pixels(self) -> None:
        """1:1 — one image pixel per device pixel, centred where the view is centred now."""
        if self._image is None:
            return
        centre = self.view_box.viewRect().center()
        dpr = self.devicePixelRatioF()
        vw = self.view_box.width() * dpr
        vh = self.view_box.height() * dpr
        rect = QtCore.QRectF(centre.x() - vw / 2, centre.y() - vh / 2, vw, vh)
        self.view_box.setRange(rect, padding=0)

    def zoom_by(self, factor: float) -> None:
        """Zoom in (factor > 1) or out about the view centre."""
        s = 1.0 / factor
        self.view_box.scaleBy((s, s))

    def pixel_scale(self) -> float:
        """Screen pixels per image pixel at the current zoom."""
        rect = self.view_box.viewRect()
        if rect.width() <= 0:
            return 1.0
        return self.view_box.width() / rect.width()

    # -------------------------------------------------------------- loupe
    def set_loupe_enabled(self, enabled: bool) -> None:
        """A magnifier that follows the cursor, for sub-pixel point placement."""
        self._loupe_enabled = enabled
        if not enabled:
            self._loupe.hide()

    def show_loupe_at(self, x: float, y: float) -> None:
        """Show the loupe centred on image point (x, y) (a snapped point, not the cursor)."""
        self._update_loupe(x, y, QtCore.QPointF(self.map_image_to_widget(x, y)))

    def _update_loupe(self, x: float, y: float, widget_pos: QtCore.QPointF) -> None:
        if not self._loupe_enabled or self._display is None:
            self._loupe.hide()
            return
        self.loupe_point = (x, y)  # image point under the loupe's crosshair (tests read it)
        r = LOUPE_RADIUS
        img = self._display
        h, w = img.shape[:2]
        cx, cy = self.pixel_at(x, y)
        x, y = x / self.scale, y / self.scale
        rows = np.clip(np.arange(cy - r, cy + r + 1), 0, h - 1)
        cols = np.clip(np.arange(cx - r, cx + r + 1), 0, w - 1)
        crop = img[rows][:, cols]
        if crop.ndim == 2:
            crop = np.repeat(crop[:, :, None], 3, axis=2)
        crop = np.ascontiguousarray(crop[..., :3])
        big = np.repeat(np.repeat(crop, LOUPE_ZOOM, axis=0), LOUPE_ZOOM, axis=1)
        big = np.ascontiguousarray(big)
        size = big.shape[0]
        qimg = QtGui.QImage(big.data, size, size, 3 * size, QtGui.QImage.Format.Format_RGB888)
        pix = QtGui.QPixmap.fromImage(qimg.copy())
        painter = QtGui.QPainter(pix)
        # crosshair through the exact (sub-pixel) cursor position
        fx = (x - (cx - r) + 0.5) * LOUPE_ZOOM
        fy = (y - (cy - r) + 0.5) * LOUPE_ZOOM
        painter.setPen(QtGui.QPen(QtGui.QColor(255, 60, 60), 1))
        painter.drawLine(QtCore.QPointF(fx, 0), QtCore.QPointF(fx, size))
        painter.drawLine(QtCore.QPointF(0, fy), QtCore.QPointF(size, fy))
        painter.end()
        self._loupe.setPixmap(pix)
        self._loupe.resize(size + 4, size + 4)
        # keep the loupe beside the cursor on its side, flipping sides near the edges
        after_x, before_x = widget_pos.x() + 24, widget_pos.x() - size - 28
        after_y, before_y = widget_pos.y() + 24, widget_pos.y() - size - 28
        sx, sy = self.loupe_side
        px = after_x if (sx > 0 and after_x + size <= self.width()) or before_x < 0 else before_x
        py = after_y if (sy > 0 and after_y + size <= self.height()) or before_y < 0 else before_y
        self._loupe.move(int(max(0, px)), int(max(0, py)))
        self._loupe.show()
        self._loupe.raise_()

    # ------------------------------------------------------------- events
    def _on_mouse_moved(self, scene_pos: QtCore.QPointF) -> None:
        if self._image is None or not self.view_box.sceneBoundingRect().contains(scene_pos):
            self.hoverText.emit("")
            self._loupe.hide()
            return
        p = self.view_box.mapSceneToView(scene_pos)
        x, y = p.x(), p.y()
        self.hovered.emit(x, y)
        value = self.value_at(x, y)
        if self.hover_text is not None:
            self.hoverText.emit(self.hover_text(x, y))
        elif value is None:
            self.hoverText.emit(f"x {x:.1f}  y {y:.1f}")
        else:
            col, row = self.pixel_at(x, y)
            self.hoverText.emit(
                f"x {x:.1f}  y {y:.1f}  ·  pixel {col}, {row} = {format_value(value)}")
        self._update_loupe(x, y, self.mapFromScene(scene_pos).toPointF())

    def leaveEvent(self, ev):  # noqa: N802
        self._loupe.hide()
        self.hoverText.emit("")
        super().leaveEvent(ev)

    def event(self, ev):  # noqa: N802
        # Tab normally moves keyboard focus before keyPressEvent sees it; let the panel have it
        if (ev.type() == QtCore.QEvent.Type.KeyPress and ev.key() == QtCore.Qt.Key.Key_Tab
                and self.key_handler is not None and self.key_handler(ev)):
            ev.accept()
            return True
        return super().event(ev)

    def keyPressEvent(self, ev):  # noqa: N802
        if self.key_handler is not None and self.key_handler(ev):
            ev.accept()
            return
        super().keyPressEvent(ev)

    def resizeEvent(self, ev):  # noqa: N802
        super().resizeEvent(ev)
        placeholder = getattr(self, "_placeholder", None)  # resized once inside __init__ already
        if placeholder is not None:
            placeholder.setGeometry(self.rect().adjusted(20, 20, -20, -20))

    # ------------------------------------------------------ test helpers
    def map_image_to_widget(self, x: float, y: float) -> QtCore.QPoint:
        """Widget (viewport) position of image point (x, y) — for tests that click."""
        scene = self.view_box.mapViewToScene(QtCore.QPointF(x, y))
        return self.mapFromScene(scene)


def link_views(views: list[ImageView]) -> Callable[[ImageView], None]:
    """Views that compare the same picture (same pixel grid): zooming or panning one with the
    mouse gives every other the same zoom (screen pixels per image pixel) and centre. Returns
    ``follow(view)``, which lines the others up with ``view`` (after a view switch)."""
    busy = False

    def follow(source: ImageView) -> None:
        nonlocal busy
        if busy or source.image is None:
            return
        busy = True
        try:
            centre = source.view_box.viewRect().center()
            scale = source.pixel_scale()
            for view in views:
                if view is source or view.image is None or not view.isVisible():
                    continue
                w, h = view.view_box.width() / scale, view.view_box.height() / scale
                view.view_box.setRange(QtCore.QRectF(centre.x() - w / 2, centre.y() - h / 2,
                                                     w, h), padding=0)
        finally:
            busy = False

    for view in views:
        view.view_box.sigRangeChangedManually.connect(lambda *_args, v=view: follow(v))
    return follow
