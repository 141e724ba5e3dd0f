"""Names that hold still: a live view shows a name only once it has been stable for a few frames.

Recognition answers each frame on its own. A face half-way between two enrolled people, or
turning, can come out as one person in one frame and the other in the next; shown as it is,
the label flickers. :class:`StableNames` follows each face from frame to frame (by the overlap
of its box with the last frame's boxes) and shows a verdict only when the last ``frames``
answers for that face agree: the same known person, or all "unknown". Until then the face is
shown as undecided. No Qt here: the Faces panel feeds it each frame's recognitions.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from workbench.faces.detect import _overlap
from workbench.faces.recognize import Recognition

__all__ = ["Shown", "StableNames"]


@dataclass(frozen=True)
class Shown:
    """What to show for one face: ``status`` is None while the answers disagree."""

    status: str | None
    name: str | None

    @property
    def text(self) -> str:
        if self.status == "known":
            return str(self.name)
        return self.status if self.status is not None else "…"


class StableNames:
    """Per-face history of answers; :meth:`update` says what to show for each face.

    Parameters
    ----------
    frames : int
        How many consecutive agreeing answers a verdict needs (1: show every answer).
    min_overlap : float
        A face continues the track of last frame's face whose box overlaps it most, when the
        intersection over union is at least this.
    """

    def __init__(self, frames: int = 3, *, min_overlap: float = 0.3) -> None:
        if frames < 1:
            raise ValueError(f"frames must be at least 1, got {frames}")
        self.frames = int(frames)
        self.min_overlap = float(min_overlap)
        self._tracks: list[tuple[tuple[int, int, int, int], deque]] = []

    def reset(self) -> None:
        """Forget every face (a new stream, a new gallery)."""
        self._tracks = []

    def update(self, recognitions: list[Recognition]) -> list[Shown]:
        """Add this frame's answers; what to show for each, in the same order."""
        previous, self._tracks = self._tracks, []
        taken: set[int] = set()
        shown = []
        for result in recognitions:
            box = result.box or (0, 0, 0, 0)
            best, best_overlap = None, self.min_overlap
            for k, (old_box, _) in enumerate(previous):
                overlap = _overlap(box, old_box)
                if k not in taken and overlap >= best_overlap:
                    best, best_overlap = k, overlap
            if best is None:
                history: deque = deque(maxlen=self.frames)
            else:
                taken.add(best)
                history = previous[best][1]
            history.append((result.status, result.name))
            self._tracks.append((box, history))
            shown.append(self._verdict(history))
        return shown

    def _verdict(self, history: deque) -> Shown:
        if len(history) < self.frames or len(set(history)) != 1:
            return Shown(None, None)
        status, name = history[-1]
        return Shown(status, name)
