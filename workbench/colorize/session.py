"""What the Colorize panel shows and edits, in plain Python (no Qt), testable without a window.

A :class:`ColorizeSession` holds the model, the still image (or the latest live frame), the
network's result for it, the knobs (temperature T, saturation) and the view. The panel is a thin
view over it: it forwards the user's actions here and shows :meth:`ColorizeSession.displayed`.

Every image gets an id. A prediction is asked for with :meth:`ColorizeSession.prediction_request`
and handed back with that id to :meth:`ColorizeSession.accept_prediction`, which refuses it when
the image has changed since: a slow prediction of photo A can never be shown over photo B, even
when both have the same size (every photo from one camera has).

>>> session = ColorizeSession()
>>> session.set_image(np.zeros((4, 6, 3), np.uint8), None)
>>> session.gray.shape, session.truth is None     # a gray photo has no "ground truth" to show
((4, 6, 3), True)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from workbench.history import UndoHistory
from workbench.imaging.io import to_uint8_display

VIEWS = ("Side by side", "Split (wipe)", "Result only")


def gray_of(image: np.ndarray) -> np.ndarray:
    """What the model sees, for display: the image's L* with no colour, as 8-bit RGB."""
    from workbench.imaging.color import lightness, lightness_ab_to_rgb

    plane = lightness(image)
    return lightness_ab_to_rgb(plane, np.zeros(plane.shape + (2,), np.float32))


def is_colour(image: np.ndarray) -> bool:
    """True when the image has real colour (not a gray image stored as RGB).

    >>> is_colour(np.zeros((2, 2, 3), np.uint8)), is_colour(np.eye(3, dtype=np.uint8) * 200)
    (False, False)
    """
    if image.ndim == 2 or image.shape[2] < 3:
        return False
    rgb = image[..., :3].astype(np.int32)
    step = max(1, rgb.shape[0] // 128)
    sample = rgb[::step, ::step]
    return bool(np.abs(sample - sample.mean(axis=2, keepdims=True)).max() > 3)


def wipe(before: np.ndarray, after: np.ndarray, position: float) -> np.ndarray:
    """Before on the left of ``position`` (0..1 of the width), after on the right.

    >>> wipe(np.zeros((1, 4), int), np.ones((1, 4), int), 0.5).tolist()
    [[0, 0, 1, 1]]
    """
    out = after.copy()
    x = int(round(np.clip(position, 0, 1) * out.shape[1]))
    out[:, :x] = before[:, :x]
    return out


def provider_summary(note: str) -> str:
    """The provider note for a status line: the advice on enabling the GPU (a paragraph) is
    left to the tooltip and the About dialog."""
    from workbench.runtime import GPU_HELP

    if GPU_HELP not in note:
        return note
    return f"{note.replace(GPU_HELP, '').strip().rstrip('.')} · to use a GPU see Help ▸ About"


def uncertainty_image(entropy: np.ndarray) -> np.ndarray:
    """A normalised entropy map (0..1) as an 8-bit gray RGB image."""
    level = (np.clip(entropy, 0, 1) * 255).astype(np.uint8)
    return np.repeat(level[..., None], 3, axis=2)


@dataclass(frozen=True)
class PredictionRequest:
    """What a background prediction needs: run :meth:`run` (``colorizer.predict(image,
    hints)``), then hand the result back with ``image_id`` to
    :meth:`ColorizeSession.accept_prediction`."""

    image_id: int
    colorizer: Any
    image: np.ndarray
    hints: tuple = ()  # the user's colour hints, for a model that takes them

    def run(self):
        if self.hints:
            return self.colorizer.predict(self.image, hints=list(self.hints))
        return self.colorizer.predict(self.image)


def takes_hints(colorizer) -> bool:
    """Whether a loaded model takes colour hints (False for None)."""
    return bool(getattr(colorizer, "takes_hints", False))


class ColorizeSession:
    """The Colorize panel's state: model, image, result, knobs and view.

    For an A/B demo a second model, B (:meth:`set_compare`), runs on the same image or frames;
    its result is kept beside A's and decoded at the same knobs. In the split view A is left of
    the divider and B right; side by side, B gets a pane of its own.
    """

    def __init__(self) -> None:
        self.colorizer = None  # workbench.colorize.engine.Colorizer once a model has loaded
        self.image: np.ndarray | None = None  # the still image (None while streaming)
        self.path: Path | None = None
        self.gray: np.ndarray | None = None  # what the model sees, for display
        self.truth: np.ndarray | None = None  # the real colours of a colour photo
        self.result = None  # ColorizeResult of the image or frame shown
        self.output: np.ndarray | None = None  # the colorized RGB image shown
        self.image_id = 0
        self.temperature = 0.38
        self.saturation = 1.0
        self.view = VIEWS[0]
        self.show_uncertainty = False
        self.wipe_position = 0.5
        self.compare = None  # model B of an A/B comparison, or None
        self.result_b = None  # B's ColorizeResult of the image or frame shown
        self.output_b: np.ndarray | None = None  # B's colorized RGB image
        # colour hints (workbench.colorize.hints.Hint) in pixel coordinates of the image shown,
        # with their undo and redo history (each entry is the whole tuple before an edit)
        self.hints: tuple = ()
        self._history: UndoHistory[tuple] = UndoHistory()
        self.pin_hints = False  # on a live stream, apply the hints to every frame
        self._opening_drag = False

    # ---------------------------------------------------------------- model
    def set_model(self, colorizer) -> None:
        """Use a freshly loaded model; T starts at the model's own default."""
        self.colorizer = colorizer
        self.temperature = float(colorizer.contract.temperature)
        self.result = None  # the old model's colours are not shown under the new one's name
        self.output = None

    @property
    def takes_temperature(self) -> bool:
        """Bin models decode at a temperature; models that output ab directly do not."""
        return self.colorizer is None or self.colorizer.contract.output != "ab"

    # ---------------------------------------------------------------- image
    def set_image(self, image: np.ndarray, path: Path | None) -> None:
        """Show a new still image; any prediction still running for the old one goes stale."""
        self.image = image
        self.path = Path(path) if path is not None else None
        self.gray = gray_of(image)
        self.truth = to_uint8_display(image)[..., :3] if is_colour(image) else None
        self.result = None
        self.output = None
        self.result_b = None
        self.output_b = None
        self.image_id += 1
        self.forget_hints()

    def prediction_request(self) -> PredictionRequest | None:
        """What to run for the still image, or None (no model or no image yet)."""
        if self.colorizer is None or self.image is None:
            return None
        return PredictionRequest(self.image_id, self.colorizer, self.image,
                                 self.hints_for(self.colorizer))

    def accept_prediction(self, image_id: int, result) -> bool:
        """Take a finished prediction if it is for the image shown now, made with the hints
        placed now; False when stale."""
        if image_id != self.image_id or self.image is None:
            return False
        if tuple(getattr(result, "hints", ())) != self.hints_for(self.colorizer):
            return False
        self.result = result
        self.recolor()
        return True

    # --------------------------------------------------------- compare (A/B)
    def set_compare(self, colorizer) -> None:
        """Use ``colorizer`` as model B beside A (None ends the comparison); B's old result is
        dropped."""
        self.compare = colorizer
        self.result_b = None
        self.output_b = None

    @property
    def comparing(self) -> bool:
        return self.compare is not None

    def compare_request(self) -> PredictionRequest | None:
        """What to run on model B for the still image, or None (no B, no image)."""
        if self.compare is None or self.image is None:
            return None
        return PredictionRequest(self.image_id, self.compare, self.image,
                                 self.hints_for(self.compare))

    def accept_compare(self, image_id: int, colorizer, result) -> bool:
        """Take B's prediction if it is for the image shown now and B is still that model."""
        if image_id != self.image_id or self.image is None or colorizer is not self.compare:
            return False
        if tuple(getattr(result, "hints", ())) != self.hints_for(colorizer):
            return False
        self.result_b = result
        self.recolor()
        return True

    def show_frame_b(self, colorizer, result, colour: np.ndarray) -> bool:
        """B's colorization of a live frame (B runs on the same frames as A, at its own pace);
        False when it comes from a B that has been replaced since."""
        if colorizer is not self.compare:
            return False
        self.result_b = result
        self.output_b = colour
        return True

    # ---------------------------------------------------------------- hints
    @property
    def takes_hints(self) -> bool:
        """Whether model A (or B) takes colour hints."""
        return takes_hints(self.colorizer) or takes_hints(self.compare)

    def hints_for(self, colorizer) -> tuple:
        """The hints a model runs with: the placed hints for a hint model, none otherwise."""
        return self.hints if takes_hints(colorizer) else ()

    def live_hints(self, colorizer, width: int, height: int) -> tuple:
        """The hints a live frame of ``width`` × ``height`` runs with: the pinned hints that
        lie in the frame (none unless pinned)."""
        if not (self.pin_hints and takes_hints(colorizer)):
            return ()
        return tuple(h for h in self.hints if 0 <= h.x < width and 0 <= h.y < height)

    def _size(self) -> tuple[int, int]:
        if self.gray is None:
            raise ValueError("there is no image to place hints on")
        return self.gray.shape[1], self.gray.shape[0]

    def _clamped(self, x: float, y: float) -> tuple[float, float]:
        width, height = self._size()
        return (float(np.clip(x, 0, width - 1e-3)), float(np.clip(y, 0, height - 1e-3)))

    def _edit(self, hints) -> None:
        hints = tuple(hints)
        if hints == self.hints and not self._opening_drag:
            return  # nothing changed: no undo step
        self._opening_drag = False
        self._history.record(self.hints)
        self.hints = hints

    def add_hint(self, x: float, y: float, rgb) -> int:
        """Place a hint of colour ``rgb`` at image pixel (x, y) (kept inside the image);
        returns its index."""
        from workbench.colorize.hints import Hint

        x, y = self._clamped(x, y)
        self._edit((*self.hints, Hint(x, y, tuple(int(c) for c in rgb))))
        return len(self.hints) - 1

    def move_hint(self, index: int, x: float, y: float, *, record: bool = True) -> None:
        """Move hint ``index`` (kept inside the image). A drag moves with ``record=False`` and
        calls :meth:`begin_edit` once first, so the whole drag is one undo step."""
        from workbench.colorize.hints import Hint

        x, y = self._clamped(x, y)
        hints = list(self.hints)
        hints[index] = Hint(x, y, hints[index].rgb)
        if record:
            self._edit(hints)
        else:
            self.hints = tuple(hints)

    def begin_edit(self) -> None:
        """Record the hints as they are now as one undo step (before a drag)."""
        self._opening_drag = True
        self._edit(self.hints)

    def end_edit(self) -> None:
        """After a drag: a drag that changed nothing leaves no undo step."""
        self._history.drop_if_same(self.hints)

    def recolour_hint(self, index: int, rgb) -> None:
        from workbench.colorize.hints import Hint

        hints = list(self.hints)
        hints[index] = Hint(hints[index].x, hints[index].y, tuple(int(c) for c in rgb))
        self._edit(hints)

    def remove_hint(self, index: int) -> None:
        self._edit(h for i, h in enumerate(self.hints) if i != index)

    def set_hints(self, hints, *, undoable: bool = True) -> None:
        """Replace all hints (loaded from a file, or cleared with ``[]``): one undo step, or
        with ``undoable=False`` a fresh start with no history (hints that open with a photo)."""
        from workbench.colorize.hints import validate_hints

        hints = tuple(hints)
        validate_hints(hints, *self._size())
        if undoable:
            self._edit(hints)
        else:
            self.hints = hints
            self._history.clear()

    def forget_hints(self) -> None:
        """No hints and no history (a new image)."""
        self.hints = ()
        self._history.clear()

    @property
    def can_undo(self) -> bool:
        return self._history.can_undo

    @property
    def can_redo(self) -> bool:
        return self._history.can_redo

    def undo(self) -> bool:
        if not self._history.can_undo:
            return False
        self.hints = self._history.undo(self.hints)
        return True

    def redo(self) -> bool:
        if not self._history.can_redo:
            return False
        self.hints = self._history.redo(self.hints)
        return True

    def begin_stream(self) -> None:
        """A live stream replaces the still image; its prediction, if still running, is stale.
        Pinned hints stay (they apply to every frame); others go with the still image."""
        self.image = None
        self.path = None
        self.image_id += 1
        self.result_b = None  # B's pane waits for B's first frame, not the photo's colours
        self.output_b = None
        if not self.pin_hints:
            self.forget_hints()

    def show_frame(self, frame: np.ndarray, result, colour: np.ndarray) -> None:
        """A live frame and its colorization (decoded on the stream's thread)."""
        self.image = None
        self.image_id += 1  # a still prediction still running is stale now
        self.result = result
        self.output = colour
        self.gray = gray_of(frame)
        self.truth = frame if is_colour(frame) else None

    # ---------------------------------------------------------------- knobs
    def set_knobs(self, temperature: float, saturation: float, *, recolor: bool = True) -> None:
        self.temperature = float(temperature)
        self.saturation = float(saturation)
        if recolor:
            self.recolor()

    def recolor(self) -> None:
        """Re-decode the cached prediction at the current knobs: the network does not run."""
        if self.result is not None:
            self.output = self.result.recolor(self.temperature, self.saturation)
        if self.result_b is not None:
            self.output_b = self.result_b.recolor(self.temperature, self.saturation)

    # ----------------------------------------------------------------- view
    def _shown(self, output: np.ndarray | None, result) -> np.ndarray | None:
        if self.show_uncertainty and result is not None and result.contract.output != "ab":
            return uncertainty_image(result.uncertainty())
        return output

    def displayed(self) -> np.ndarray | None:
        """The image for the result view: the colorization, or its uncertainty map, wiped
        against the gray input in the split view; when comparing, A wiped against B."""
        shown = self._shown(self.output, self.result)
        if self.view != "Split (wipe)" or shown is None:
            return shown
        if self.comparing:
            other = self.displayed_b()
            return wipe(shown, other, self.wipe_position) if (
                other is not None and other.shape == shown.shape) else shown
        return wipe(self.gray, shown, self.wipe_position) if self.gray is not None else shown

    def displayed_b(self) -> np.ndarray | None:
        """Model B's colorization (or uncertainty map); None when not comparing."""
        return self._shown(self.output_b, self.result_b) if self.comparing else None

    @property
    def wipes(self) -> bool:
        """Whether the result view shows a divider (split view with something to split)."""
        return self.view == "Split (wipe)" and self.output is not None and (
            self.output_b is not None if self.comparing else self.gray is not None)

    @property
    def shows_inputs(self) -> bool:
        """Whether the gray input is shown beside the result (side by side, not comparing:
        A and B take the room then)."""
        return self.view == "Side by side" and not self.comparing

    @property
    def shows_truth(self) -> bool:
        """Whether the real colours of a colour photo are shown beside (side by side)."""
        return self.view == "Side by side" and self.truth is not None

    @property
    def shows_b(self) -> bool:
        """Whether model B has a pane of its own (side by side while comparing)."""
        return self.view == "Side by side" and self.comparing
