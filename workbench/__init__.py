"""Workbench: a desktop computer-vision workbench (rectify, colorize, faces, pyramids)."""

__version__ = "0.1.0"

import os as _os

# OpenCV logs decoder errors to stderr; we turn them into one clear message ourselves.
_os.environ.setdefault("OPENCV_LOG_LEVEL", "SILENT")
