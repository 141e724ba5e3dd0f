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
    """What a background prediction needs: run ``colorizer.predict(image)``, then hand the
    result back with ``image_id`` to :meth:`ColorizeSession.accept_prediction`."""

    image_id: int
    colorizer: Any
    image: np.ndarray


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

    # ---------------------------------------------------------------- model
    def set_model(self, colorizer) -> None:
        """Use a freshly loaded model; T starts at the model's own default."""
        self.colorizer = colorizer
        self.temperature = float(colorizer.contract.temperature)

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

    def prediction_request(self) -> PredictionRequest | None:
        """What to run for the still image, or None (no model or no image yet)."""
        if self.colorizer is None or self.image is None:
            return None
        return PredictionRequest(self.image_id, self.colorizer, self.image)

    def accept_prediction(self, image_id: int, result) -> bool:
        """Take a finished prediction if it is for the image shown now; False when stale."""
        if image_id != self.image_id or self.image is None:
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
        return PredictionRequest(self.image_id, self.compare, self.image)

    def accept_compare(self, image_id: int, colorizer, result) -> bool:
        """Take B's prediction if it is for the image shown now and B is still that model."""
        if image_id != self.image_id or self.image is None or colorizer is not self.compare:
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

    def begin_stream(self) -> None:
        """A live stream replaces the still image; its prediction, if still running, is stale."""
        self.image = None
        self.path = None
        self.image_id += 1

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
