"""What the Rectify panel is doing, in plain Python (no Qt): points, undo, output size, results.

The panel in :mod:`workbench.ui.rectify_panel` draws this state and forwards the user's clicks and
drags to it; tests and the command line drive it directly.

Two modes share the machinery:

* :class:`RectifySession` — four corners of a planar rectangle (document, facade, screen) in one
  photo, mapped to an upright rectangle whose size is estimated or chosen from a preset.
* :class:`RegisterSession` — four (or more) correspondences between image A and image B; A is
  warped into B's frame and shown over it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from workbench.errors import DegenerateConfigurationError, WorkbenchError
from workbench.history import UndoHistory
from workbench.rectify.homography import (
    CORNER_NAMES,
    MAX_OUTPUT_PIXELS,
    HomographyFit,
    estimate_homography,
    homography_fit,
    quadrilateral_warnings,
    rectified_size,
    rectify_homography,
)
from workbench.rectify.warp import warp_perspective

CORNER_LABELS = ("1 TL", "2 TR", "3 BR", "4 BL")
INTERPOLATIONS = ("nearest", "bilinear", "bicubic")
MAX_OUTPUT_SIDE = 60_000


@dataclass(frozen=True)
class OutputPreset:
    """A choice of output rectangle: ``aspect`` is width / height, None means estimated/custom."""

    key: str
    label: str
    aspect: float | None


PRESETS: tuple[OutputPreset, ...] = (
    OutputPreset("auto", "Auto (estimate aspect)", None),
    OutputPreset("a4-portrait", "A4 portrait", 210 / 297),
    OutputPreset("a4-landscape", "A4 landscape", 297 / 210),
    OutputPreset("letter-portrait", "Letter portrait", 8.5 / 11),
    OutputPreset("letter-landscape", "Letter landscape", 11 / 8.5),
    OutputPreset("square", "Square", 1.0),
    OutputPreset("custom", "Custom W×H", None),
)
PRESET_BY_KEY = {p.key: p for p in PRESETS}


def scale_matrix(scale: float) -> np.ndarray:
    """Homography that resizes an image by ``scale`` with pixel centres at integer coordinates."""
    offset = 0.5 * scale - 0.5
    return np.array([[scale, 0, offset], [0, scale, offset], [0, 0, 1]], dtype=float)


def downscale_for_preview(image: np.ndarray, max_side: int) -> tuple[np.ndarray, float]:
    """Area-downscale ``image`` to at most ``max_side`` on its longer side; return it and scale."""
    import cv2

    h, w = image.shape[:2]
    scale = min(1.0, max_side / max(h, w))
    if scale >= 1.0:
        return image, 1.0
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    small = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    # the exact factor actually applied along x (y differs by < 1 px of rounding)
    return small, size[0] / w


@dataclass(frozen=True)
class RenderPlan:
    """A warp to run later: source image, matrix, output size, interpolation, fill."""

    image: np.ndarray
    H: np.ndarray
    size: tuple[int, int]
    interpolation: str
    fill: object = 0

    def run(self, progress: Callable[[float], None] | None = None) -> np.ndarray:
        """The warp at full resolution; ``progress`` as in :func:`warp_perspective`."""
        return warp_perspective(self.image, self.H, self.size, interpolation=self.interpolation,
                                fill=self.fill, progress=progress)


class PointEditor:
    """An ordered list of image points with selection and undo/redo.

    A drag is one undoable edit: call :meth:`begin_drag` when it starts, :meth:`move` while it
    moves (not recorded), and the drag's start state is what :meth:`undo` returns to. So is a
    run of :meth:`nudge` calls on one point with no other edit between them.
    """

    def __init__(self, max_points: int | None = None) -> None:
        self.max_points = max_points
        self.points: list[tuple[float, float]] = []
        self.selected: int | None = None
        self._history: UndoHistory[list[tuple[float, float]]] = UndoHistory()
        self._dragging = False
        self._nudging: int | None = None  # the point the current run of nudges moves

    @property
    def full(self) -> bool:
        return self.max_points is not None and len(self.points) >= self.max_points

    def _record(self) -> None:
        self._history.record(list(self.points))
        self._nudging = None

    def add(self, x: float, y: float) -> int | None:
        """Append a point; returns its index, or None when the list is full."""
        if self.full:
            return None
        self._record()
        self.points.append((float(x), float(y)))
        self.selected = len(self.points) - 1
        return self.selected

    def set_all(self, points: Sequence[tuple[float, float]]) -> None:
        self._record()
        self.points = [(float(x), float(y)) for x, y in points]
        self.selected = None

    def begin_drag(self, index: int) -> None:
        if not self._dragging:
            self._record()
            self._dragging = True
        self.selected = index

    def move(self, index: int, x: float, y: float) -> None:
        """Move a point; recorded for undo unless a drag is in progress."""
        if not self._dragging:
            self._record()
        self.points[index] = (float(x), float(y))
        self.selected = index

    def end_drag(self) -> None:
        self._dragging = False

    def nudge(self, dx: float, dy: float) -> bool:
        """Move the selected point by (dx, dy) pixels; False when nothing is selected."""
        if self.selected is None or self.selected >= len(self.points):
            return False
        index = self.selected
        x, y = self.points[index]
        if self._nudging == index and not self._dragging:
            self.points[index] = (x + dx, y + dy)  # the same run: still one undo step
        else:
            self.move(index, x + dx, y + dy)
            self._nudging = index
        return True

    def select(self, index: int | None) -> None:
        self.selected = index if index is None or 0 <= index < len(self.points) else None

    def select_next(self) -> None:
        if self.points:
            self.selected = 0 if self.selected is None else (self.selected + 1) % len(self.points)

    def nearest(self, x: float, y: float) -> int | None:
        if not self.points:
            return None
        d = [math.hypot(px - x, py - y) for px, py in self.points]
        return int(np.argmin(d))

    def clear(self) -> None:
        if self.points:
            self._record()
        self.points = []
        self.selected = None

    @property
    def can_undo(self) -> bool:
        return self._history.can_undo

    @property
    def can_redo(self) -> bool:
        return self._history.can_redo

    def undo(self) -> bool:
        if not self._history.can_undo:
            return False
        self.points = self._history.undo(list(self.points))
        self._dragging = False
        self._nudging = None
        self.select(self.selected)
        return True

    def redo(self) -> bool:
        if not self._history.can_redo:
            return False
        self.points = self._history.redo(list(self.points))
        self._nudging = None
        self.select(self.selected)
        return True


def _check_image(image: np.ndarray | None) -> np.ndarray:
    if image is None:
        raise WorkbenchError("Open an image first.")
    return image


class RectifySession:
    """Four corners on one photo → an upright rectangle.

    Corner order is top-left, top-right, bottom-right, bottom-left (the CLI's order).
    """

    def __init__(self) -> None:
        self.image: np.ndarray | None = None
        self.path: Path | None = None
        self.corners = PointEditor(max_points=4)
        self.preset = "auto"
        self.custom_size: tuple[int, int] = (1000, 1000)
        self.interpolation = "bilinear"
        self._preview_source: np.ndarray | None = None
        self._preview_scale = 1.0

    # ----------------------------------------------------------- loading
    def load(self, image: np.ndarray, path: str | Path | None = None,
             corners: Sequence[tuple[float, float]] | None = None) -> None:
        """Start over on a new image, optionally with suggested corners."""
        self.image = image
        self.path = Path(path) if path is not None else None
        self.corners = PointEditor(max_points=4)
        if corners is not None:
            self.corners.points = [(float(x), float(y)) for x, y in corners]
        self._preview_source = None

    @property
    def points(self) -> list[tuple[float, float]]:
        return self.corners.points

    @property
    def complete(self) -> bool:
        return len(self.corners.points) == 4

    # -------------------------------------------------------- geometry
    def shape_warnings(self) -> list[str]:
        """Near-degeneracy warnings for the current corners (empty when fine or incomplete)."""
        if not self.complete:
            return []
        return quadrilateral_warnings(self.corners.points)

    def output_size(self) -> tuple[tuple[int, int], str]:
        """Output (width, height) for the current preset and a note on how it was chosen."""
        key = (tuple(self.corners.points), self.preset, tuple(self.custom_size),
               None if self.image is None else self.image.shape)
        if getattr(self, "_size_cache", (None,))[0] != key:
            self._size_cache = (key, self._output_size())
        return self._size_cache[1]

    def _output_size(self) -> tuple[tuple[int, int], str]:
        if self.preset == "custom":
            w, h = self.custom_size
            return (int(w), int(h)), "custom size"
        if not self.complete:
            raise WorkbenchError("Place all four corners first.")
        image = _check_image(self.image)
        est = rectified_size(self.corners.points, image_size=(image.shape[1], image.shape[0]))
        preset = PRESET_BY_KEY[self.preset]
        if preset.aspect is None:
            note = (
                f"aspect {est.aspect:.3f} from the camera geometry (Zhang & He), "
                f"focal length ≈ {est.focal:.0f} px"
                if est.method == "zhang-he"
                else f"aspect {est.aspect:.3f} from mean opposite side lengths "
                "(focal length not recoverable)"
            )
            return (est.width, est.height), note
        # keep about the source resolution along the longer output side
        long_side = max(est.width, est.height)
        if preset.aspect >= 1:
            w, h = long_side, long_side / preset.aspect
        else:
            w, h = long_side * preset.aspect, long_side
        return (max(1, round(w)), max(1, round(h))), preset.label

    def homography(self) -> np.ndarray:
        """Source → output homography (raises DegenerateConfigurationError for bad corners)."""
        (w, h), _ = self.output_size()
        return rectify_homography(self.corners.points, (w, h))

    def fit(self) -> HomographyFit:
        (w, h), _ = self.output_size()
        dst = [(0, 0), (w - 1, 0), (w - 1, h - 1), (0, h - 1)]
        return homography_fit(self.corners.points, dst, self.homography())

    # ---------------------------------------------------------- results
    def preview(self, max_side: int = 900) -> np.ndarray:
        """The rectified image, at most ``max_side`` px: cheap enough for every drag event."""
        image = _check_image(self.image)
        if self._preview_source is None:
            self._preview_source, self._preview_scale = downscale_for_preview(image, 2 * max_side)
        (w, h), _ = self.output_size()
        validate_output_size(w, h)
        out_scale = min(1.0, max_side / max(w, h))
        pw, ph = max(1, round(w * out_scale)), max(1, round(h * out_scale))
        H = self.homography()
        Hp = scale_matrix(pw / w) @ H @ np.linalg.inv(scale_matrix(self._preview_scale))
        return warp_perspective(self._preview_source, Hp, (pw, ph), interpolation="bilinear")

    def render_plan(self) -> RenderPlan:
        """Everything a full-resolution render needs, frozen now (for a background thread)."""
        image = _check_image(self.image)
        (w, h), _ = self.output_size()
        validate_output_size(w, h)
        return RenderPlan(image, self.homography(), (w, h), self.interpolation)

    def render(self) -> np.ndarray:
        """The rectified image at full resolution with the chosen interpolation."""
        return self.render_plan().run()

    def matrix_document(self) -> dict:
        """What "Save matrix" writes: H (source → output pixels), sizes, corners, conventions."""
        image = _check_image(self.image)
        (w, h), note = self.output_size()
        fit = self.fit()
        return {
            "H": self.homography().tolist(),
            "size": [w, h],
            "source": str(self.path) if self.path else None,
            "source_size": [int(image.shape[1]), int(image.shape[0])],
            "corners": [list(p) for p in self.corners.points],
            "corner_order": list(CORNER_NAMES),
            "size_from": note,
            "interpolation": self.interpolation,
            "condition": fit.condition,
            "convention": "pixel centres at integer coordinates; H maps source to output pixels",
        }


def validate_output_size(w: int, h: int) -> None:
    """One rule for the panel and the CLI: at most MAX_OUTPUT_SIDE per side and 1 gigapixel."""
    if w < 1 or h < 1:
        raise WorkbenchError(f"Output size {w}×{h} is empty.")
    if max(w, h) > MAX_OUTPUT_SIDE or w * h > MAX_OUTPUT_PIXELS:
        raise WorkbenchError(
            f"Output size {w}×{h} is too large (limits: {MAX_OUTPUT_SIDE} px per side, "
            f"{MAX_OUTPUT_PIXELS / 1e6:.0f} megapixels); choose a smaller size, or check that "
            "no two corners are (nearly) on top of each other.")


class RegisterSession:
    """Correspondences between image A and image B; A warped into B's frame."""

    def __init__(self) -> None:
        self.image_a: np.ndarray | None = None
        self.image_b: np.ndarray | None = None
        self.points_a = PointEditor()
        self.points_b = PointEditor()
        self.interpolation = "bilinear"
        self._undo_order: list[PointEditor] = []
        self._redo_order: list[PointEditor] = []
        self._small: dict[str, tuple[np.ndarray, float]] = {}

    def load_a(self, image: np.ndarray) -> None:
        self.image_a = image
        self.points_a = PointEditor()
        self._reset_history()

    def load_b(self, image: np.ndarray) -> None:
        self.image_b = image
        self.points_b = PointEditor()
        self._reset_history()

    def _reset_history(self) -> None:
        self._undo_order.clear()
        self._redo_order.clear()
        self._small.clear()

    def editor(self, which: str) -> PointEditor:
        return self.points_a if which == "a" else self.points_b

    def touched(self, which: str) -> None:
        """Record an edit of side ``which`` so undo/redo follow the user's order across A and B."""
        self._undo_order.append(self.editor(which))
        self._redo_order.clear()

    @property
    def can_undo(self) -> bool:
        return bool(self._undo_order)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo_order)

    def undo(self) -> bool:
        while self._undo_order:
            editor = self._undo_order.pop()
            if editor.undo():
                self._redo_order.append(editor)
                return True
        return False

    def redo(self) -> bool:
        while self._redo_order:
            editor = self._redo_order.pop()
            if editor.redo():
                self._undo_order.append(editor)
                return True
        return False

    @property
    def pairs(self) -> int:
        return min(len(self.points_a.points), len(self.points_b.points))

    @property
    def ready(self) -> bool:
        return self.image_a is not None and self.image_b is not None and self.pairs >= 4

    def homography(self) -> np.ndarray:
        n = self.pairs
        if n < 4:
            raise WorkbenchError(f"Click at least four pairs of points ({n} so far).")
        return estimate_homography(self.points_a.points[:n], self.points_b.points[:n])

    def fit(self) -> HomographyFit:
        n = self.pairs
        return homography_fit(self.points_a.points[:n], self.points_b.points[:n],
                              self.homography())

    def render_plan(self) -> RenderPlan:
        """A warped into B's frame with alpha (transparent where A does not reach)."""
        a = _check_image(self.image_a)
        b = _check_image(self.image_b)
        return RenderPlan(a, self.homography(), (b.shape[1], b.shape[0]), self.interpolation,
                          fill="transparent")

    def preview(self, max_side: int = 900) -> tuple[np.ndarray, np.ndarray]:
        """(B, A warped onto B) at most ``max_side`` px: cheap enough for every drag event."""
        a = _check_image(self.image_a)
        b = _check_image(self.image_b)
        if self._small.get("max_side") != max_side:
            self._small = {"max_side": max_side,
                           "a": downscale_for_preview(a, 2 * max_side),
                           "b": downscale_for_preview(b, max_side)}
        small_a, scale_a = self._small["a"]
        small_b, scale_b = self._small["b"]
        Hp = scale_matrix(scale_b) @ self.homography() @ np.linalg.inv(scale_matrix(scale_a))
        warped = warp_perspective(small_a, Hp, (small_b.shape[1], small_b.shape[0]),
                                  interpolation="bilinear", fill="transparent")
        return small_b, warped

    def matrix_document(self) -> dict:
        n = self.pairs
        fit = self.fit()
        return {
            "H": self.homography().tolist(),
            "points_a": [list(p) for p in self.points_a.points[:n]],
            "points_b": [list(p) for p in self.points_b.points[:n]],
            "reprojection_errors": [float(e) for e in fit.errors],
            "condition": fit.condition,
            "convention": "pixel centres at integer coordinates; H maps image A pixels to "
                          "image B pixels",
        }


def overlay(base: np.ndarray, top_rgba: np.ndarray, opacity: float) -> np.ndarray:
    """Blend RGBA ``top_rgba`` over ``base`` (any of our image kinds) at ``opacity``; uint8 RGB."""
    from workbench.imaging.io import to_uint8_display

    b = to_uint8_display(base)
    if b.ndim == 2:
        b = np.repeat(b[:, :, None], 3, axis=2)
    b = b[..., :3].astype(np.float32)
    t = to_uint8_display(top_rgba).astype(np.float32)
    alpha = (t[..., 3:4] / 255.0) * float(opacity)
    return np.clip(b * (1 - alpha) + t[..., :3] * alpha + 0.5, 0, 255).astype(np.uint8)


def save_matrix(path: str | Path, document: dict) -> None:
    """Write the matrix document as JSON (atomically: a failed write keeps the old file)."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_text(json.dumps(document, indent=2))
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise WorkbenchError(f"Could not save {path}: {exc.strerror or exc}") from exc


__all__ = [
    "CORNER_LABELS",
    "CORNER_NAMES",
    "DegenerateConfigurationError",
    "INTERPOLATIONS",
    "PRESETS",
    "PointEditor",
    "RectifySession",
    "RegisterSession",
    "overlay",
    "save_matrix",
    "validate_output_size",
]
