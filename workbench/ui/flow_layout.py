"""A tool bar layout that wraps: its controls flow onto a second row when the window is narrow.

Panels put their controls in one :class:`FlowLayout` instead of a ``QHBoxLayout``, so a window
fits a 1,024 px wide screen (a projector at a demo) without squeezing any control to nothing:
each control keeps its preferred width and the row breaks where the next one would not fit.
Controls after :meth:`FlowLayout.addStretch` sit at the right edge of their row, as after a
stretch in a box layout. Hidden controls take no room, unless their size policy retains it
(``setRetainSizeWhenHidden``: a progress bar that must not push the others around).
"""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets


class FlowLayout(QtWidgets.QLayout):
    """Left-to-right rows of widgets that wrap at the layout's width (height for width)."""

    def __init__(self, parent: QtWidgets.QWidget | None = None, *, spacing: int = 6,
                 row_spacing: int = 4) -> None:
        super().__init__(parent)
        self._items: list[QtWidgets.QLayoutItem] = []
        self._right_from: int | None = None  # index of the first right-aligned item
        self._gaps: dict[int, int] = {}  # extra space before item index
        self._spacing = spacing
        self._row_spacing = row_spacing
        self.setContentsMargins(0, 0, 0, 0)

    # ------------------------------------------------------------ building
    def addItem(self, item: QtWidgets.QLayoutItem) -> None:  # noqa: N802 (Qt naming)
        self._items.append(item)

    def addStretch(self, _stretch: int = 1) -> None:  # noqa: N802
        """What is added after this sits at the right end of its row."""
        self._right_from = len(self._items)

    def addSpacing(self, size: int) -> None:  # noqa: N802
        """Extra room before the next item (dropped where a row begins)."""
        self._gaps[len(self._items)] = self._gaps.get(len(self._items), 0) + size

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QtWidgets.QLayoutItem | None:  # noqa: N802
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QtWidgets.QLayoutItem | None:  # noqa: N802
        if not 0 <= index < len(self._items):
            return None
        if self._right_from is not None and index < self._right_from:
            self._right_from -= 1
        self._gaps = {k - (k > index): v for k, v in self._gaps.items() if k != index}
        return self._items.pop(index)

    # ------------------------------------------------------------- sizing
    def expandingDirections(self) -> QtCore.Qt.Orientation:  # noqa: N802
        return QtCore.Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:  # noqa: N802
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802
        return self._arrange(QtCore.QRect(0, 0, width, 0), move=False)

    def minimumSize(self) -> QtCore.QSize:  # noqa: N802
        """As wide as the widest control: narrower than that nothing can wrap any more."""
        size = QtCore.QSize()
        for item in self._shown():
            size = size.expandedTo(item.minimumSize().expandedTo(item.sizeHint()))
        m = self.contentsMargins()
        return size + QtCore.QSize(m.left() + m.right(), m.top() + m.bottom())

    def sizeHint(self) -> QtCore.QSize:  # noqa: N802
        """Everything on one row."""
        shown = self._shown()
        width = sum(i.sizeHint().width() for i in shown) + self._spacing * max(0, len(shown) - 1)
        height = max((i.sizeHint().height() for i in shown), default=0)
        m = self.contentsMargins()
        return QtCore.QSize(width + m.left() + m.right(), height + m.top() + m.bottom())

    def setGeometry(self, rect: QtCore.QRect) -> None:  # noqa: N802
        super().setGeometry(rect)
        self._arrange(rect, move=True)

    def rows(self) -> list[list[QtWidgets.QWidget]]:
        """The widgets of each row as laid out now (for tests)."""
        return [[item.widget() for item, _ in row if item.widget() is not None]
                for row in self._rows(self.geometry().width())]

    # ------------------------------------------------------------- layout
    def _shown(self) -> list[QtWidgets.QLayoutItem]:
        return [item for item in self._items if not item.isEmpty()]

    def _rows(self, width: int) -> list[list[tuple[QtWidgets.QLayoutItem, int]]]:
        """Items (with the gap before each) in rows no wider than ``width``."""
        m = self.contentsMargins()
        room = max(1, width - m.left() - m.right())
        rows: list[list[tuple[QtWidgets.QLayoutItem, int]]] = [[]]
        used = 0
        for index, item in enumerate(self._items):
            if item.isEmpty():
                continue
            w = item.sizeHint().width()
            gap = self._spacing + self._gaps.get(index, 0) if rows[-1] else 0
            if rows[-1] and used + gap + w > room:
                rows.append([])
                used, gap = 0, 0
            rows[-1].append((item, gap))
            used += gap + w
        return [row for row in rows if row]

    def _arrange(self, rect: QtCore.QRect, *, move: bool) -> int:
        """Place the items in ``rect`` (when ``move``); returns the height they need."""
        m = self.contentsMargins()
        left, right = rect.x() + m.left(), rect.right() - m.right()
        top = y = rect.y() + m.top()
        for r, row in enumerate(self._rows(rect.width())):
            if r:
                y += self._row_spacing
            height = max(item.sizeHint().height() for item, _ in row)
            if move:
                self._place_row(row, left, right, y, height)
            y += height
        return y - top + m.top() + m.bottom()

    def _place_row(self, row, left: int, right: int, y: int, height: int) -> None:
        xs, x = [], left
        for item, gap in row:
            x += gap
            xs.append(x)
            x += item.sizeHint().width()
        if self._right_from is not None:  # the right-aligned tail moves to the right edge
            shift = max(0, right + 1 - x)
            xs = [x + shift if self._items.index(item) >= self._right_from else x
                  for (item, _), x in zip(row, xs, strict=True)]
        for (item, _), x in zip(row, xs, strict=True):
            hint = item.sizeHint()
            h = min(height, max(hint.height(), item.minimumSize().height()))
            item.setGeometry(QtCore.QRect(x, y + (height - h) // 2, hint.width(), h))


def group(*widgets: QtWidgets.QWidget | str, spacing: int = 4) -> QtWidgets.QWidget:
    """Controls that belong together (a label and its spin box) as one piece: a row never
    breaks between them. A string becomes a label."""
    box = QtWidgets.QWidget()
    row = QtWidgets.QHBoxLayout(box)
    row.setContentsMargins(0, 0, 0, 0)
    row.setSpacing(spacing)
    for w in widgets:
        row.addWidget(QtWidgets.QLabel(w) if isinstance(w, str) else w)
    return box
