"""Render the application icon (resources/icons/workbench.svg) to the PNG sizes desktops use.

Run from the repository root after editing the SVG::

    .venv/bin/python packaging/make_icons.py

Writes resources/icons/workbench-<size>.png for 16…512 px (freedesktop hicolor sizes); sizes up
to 24 px come from workbench-small.svg, a simplified drawing that stays legible there. Qt's own
SVG renderer draws them, so no extra tool is needed.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
SMALL = 24  # this size and below use the simplified drawing
ICONS = Path(__file__).resolve().parent.parent / "resources" / "icons"


def render(svg: Path, size: int, target: Path) -> None:
    from PySide6 import QtCore, QtGui, QtSvg

    renderer = QtSvg.QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"{svg}: not a valid SVG")
    image = QtGui.QImage(size, size, QtGui.QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(QtCore.Qt.GlobalColor.transparent)
    painter = QtGui.QPainter(image)
    painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
    renderer.render(painter, QtCore.QRectF(0, 0, size, size))
    painter.end()
    if not image.save(str(target)):
        raise SystemExit(f"could not write {target}")


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6 import QtGui

    app = QtGui.QGuiApplication.instance() or QtGui.QGuiApplication(sys.argv[:1])  # noqa: F841
    for size in SIZES:
        svg = ICONS / ("workbench-small.svg" if size <= SMALL else "workbench.svg")
        target = ICONS / f"workbench-{size}.png"
        render(svg, size, target)
        print(f"wrote {target.relative_to(ICONS.parent.parent)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
