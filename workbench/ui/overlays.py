"""Overlays drawn on an :class:`~workbench.ui.image_view.ImageView`: draggable points, polygons.

The overlay only draws and forwards intent: it never owns the point coordinates. The panel's state
object does; after every change the panel calls :meth:`PointsOverlay.set_points`.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyqtgraph as pg
from PySide6 import QtCore, QtGui

POINT_COLOURS = ["#ff5555", "#55dd55", "#5599ff", "#ffcc33", "#dd66ff", "#ff9933"]
POLYGON_COLOUR = "#30e0ff"
# label offsets (screen px) that put corner labels outside a TL, TR, BR, BL quadrilateral
LABEL_PLACES = [((-12, -12), (1, 1)), ((12, -12), (0, 1)), ((12, 12), (0, 0)),
                ((-12, 12), (1, 0))]


class PointsOverlay(QtCore.QObject):
    """Numbered, draggable markers; with ``closed=True`` joined by a polygon (a quadrilateral).

    Signals
    -------
    pointDragged(index, x, y)
        While a marker is dragged (many per drag).
    pointDragFinished(index, x, y)
        When the drag ends: one undoable edit.
    pointSelected(index)
        A marker was clicked.
    """

    pointDragged = QtCore.Signal(int, float, float)
    pointDragFinished = QtCore.Signal(int, float, float)
    pointSelected = QtCore.Signal(int)

    def __init__(self, view_box: pg.ViewBox, *, labels: Sequence[str] = (), closed: bool = True,
                 close_at: int = 3):
        super().__init__()
        self._close_at = close_at  # the outline closes once this many points are placed
        self._vb = view_box
        self._labels = list(labels)
        self._closed = closed
        self._targets: list[pg.TargetItem] = []
        self._selected: int | None = None
        self._highlight: set[int] = set()
        self._updating = False
        self._polygon = pg.PlotCurveItem(pen=pg.mkPen(POLYGON_COLOUR, width=2))
        self._polygon.setZValue(10)
        view_box.addItem(self._polygon, ignoreBounds=True)
        self._warn_pen = pg.mkPen("#ff4040", width=2, style=QtCore.Qt.PenStyle.DashLine)
        self._ok_pen = pg.mkPen(POLYGON_COLOUR, width=2)

    # ------------------------------------------------------------------
    def set_points(self, points: Sequence[tuple[float, float]],
                   selected: int | None = None) -> None:
        """Show exactly ``points`` (image coordinates), highlighting ``selected``."""
        self._updating = True
        try:
            while len(self._targets) > len(points):
                self._vb.removeItem(self._targets.pop())
            while len(self._targets) < len(points):
                self._targets.append(self._make_target(len(self._targets)))
            for target, (x, y) in zip(self._targets, points, strict=True):
                if (target.pos().x(), target.pos().y()) != (x, y):
                    target.setPos(x, y)
            self._selected = selected
            self._restyle()
            self._redraw_polygon(points)
        finally:
            self._updating = False

    def set_warning(self, warn: bool, indices: Sequence[int] = ()) -> None:
        """Draw the polygon dashed red (and ring the named markers) while the shape is suspect."""
        self._polygon.setPen(self._warn_pen if warn else self._ok_pen)
        self._highlight = set(indices) if warn else set()
        self._restyle()

    def points(self) -> list[tuple[float, float]]:
        return [(t.pos().x(), t.pos().y()) for t in self._targets]

    # ------------------------------------------------------------------
    def _label(self, i: int) -> str:
        return self._labels[i] if i < len(self._labels) else str(i + 1)

    def label_place(self, index: int) -> tuple[tuple[int, int], tuple[int, int]]:
        """(offset in screen px, anchor) of point ``index``'s label."""
        return LABEL_PLACES[index % 4] if self._closed else ((10, -10), (0, 1))

    def label_rect(self, index: int) -> QtCore.QRectF:
        """Scene rectangle of point ``index``'s label."""
        return self._targets[index].label().sceneBoundingRect()

    def _target_style(self, index: int) -> dict:
        """How marker ``index`` looks (pg.TargetItem keyword arguments)."""
        colour = POINT_COLOURS[index % len(POINT_COLOURS)]
        offset, anchor = self.label_place(index)
        return {"size": 16, "symbol": "crosshair", "pen": pg.mkPen(colour, width=2),
                "labelOpts": {"color": colour, "offset": offset, "anchor": anchor,
                              "fill": pg.mkBrush(0, 0, 0, 160)}}

    def _make_target(self, index: int) -> pg.TargetItem:
        target = pg.TargetItem(pos=(0, 0), hoverPen=pg.mkPen("w", width=3), movable=True,
                               label=self._label(index), **self._target_style(index))
        target.setZValue(20)
        target.sigPositionChanged.connect(lambda t, i=index: self._on_moved(i, t))
        target.sigPositionChangeFinished.connect(lambda t, i=index: self._on_finished(i, t))
        self._vb.addItem(target, ignoreBounds=True)
        return target

    def _restyle(self) -> None:
        for i, target in enumerate(self._targets):
            colour = POINT_COLOURS[i % len(POINT_COLOURS)]
            width = 4 if i == self._selected else 2
            pen_colour = "#ff2020" if i in self._highlight else colour
            target.setPen(pg.mkPen(pen_colour, width=width))
            target.setBrush(QtGui.QColor(255, 255, 255, 90 if i == self._selected else 0))

    def _redraw_polygon(self, points: Sequence[tuple[float, float]]) -> None:
        if len(points) < 2 or not self._closed:  # open sets (correspondences) get no outline
            self._polygon.setData([], [])
            return
        xs = [p[0] for p in points]
        ys = [p[1] for p in points]
        if len(points) >= self._close_at:
            xs.append(xs[0])
            ys.append(ys[0])
        self._polygon.setData(xs, ys)

    def _on_moved(self, index: int, target: pg.TargetItem) -> None:
        if self._updating:
            return
        self._redraw_polygon(self.points())
        self.pointDragged.emit(index, target.pos().x(), target.pos().y())

    def _on_finished(self, index: int, target: pg.TargetItem) -> None:
        if self._updating:
            return
        self.pointSelected.emit(index)
        self.pointDragFinished.emit(index, target.pos().x(), target.pos().y())


class HintsOverlay(PointsOverlay):
    """Colour hints: numbered square markers filled with each hint's colour, draggable; the
    selected one has a thick white border. No outline joins them."""

    def __init__(self, view_box: pg.ViewBox):
        super().__init__(view_box, closed=False)
        self._colours: list[tuple[int, int, int]] = []

    def set_hints(self, points: Sequence[tuple[float, float]],
                  colours: Sequence[tuple[int, int, int]], selected: int | None = None) -> None:
        self._colours = [tuple(c) for c in colours]
        self.set_points(points, selected)

    def _target_style(self, index: int) -> dict:
        return {"size": 14, "symbol": "s", "pen": pg.mkPen("k", width=2),
                "labelOpts": {"color": "w", "offset": (10, -10), "anchor": (0, 1),
                              "fill": pg.mkBrush(0, 0, 0, 160)}}

    def _restyle(self) -> None:
        for i, target in enumerate(self._targets):
            colour = self._colours[i] if i < len(self._colours) else (128, 128, 128)
            selected = i == self._selected
            target.setPen(pg.mkPen("w" if selected else "k", width=4 if selected else 2))
            target.setBrush(QtGui.QColor(*colour))
