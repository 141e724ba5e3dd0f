"""Frame sources (camera, video file, image sequence) and a recorder, through OpenCV. No Qt.

Frames are RGB uint8 arrays. A camera is an OpenCV ``VideoCapture`` index; a video file stands in
for a camera in tests. Errors a user can cause — no camera, a camera unplugged mid-stream, an
unreadable video — are :class:`VideoError` with a message saying what to do.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import cv2
import numpy as np

from workbench.errors import InputError

VIDEO_EXTENSIONS = (".mp4", ".avi", ".mkv", ".mov", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv")


class VideoError(InputError):
    """A frame source could not be opened or stopped delivering frames."""


class CameraDisconnected(VideoError):
    """A camera that was delivering frames stopped (unplugged, taken by another program)."""


class FrameSource:
    """Base class: ``read()`` returns the next RGB frame, or None at the end of a finite source."""

    name = "source"
    live = False  # a camera: frames arrive in real time and cannot be re-read

    def read(self) -> np.ndarray | None:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def fps(self) -> float:
        return 30.0

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __iter__(self) -> Iterator[np.ndarray]:
        while (frame := self.read()) is not None:
            yield frame


def _to_rgb(frame: np.ndarray) -> np.ndarray:
    if frame.ndim == 2:
        return cv2.cvtColor(frame, cv2.COLOR_GRAY2RGB)
    if frame.shape[2] == 4:
        return cv2.cvtColor(frame, cv2.COLOR_BGRA2RGB)
    return cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)


class CameraSource(FrameSource):
    """A camera by OpenCV index. Raises VideoError when there is none at that index."""

    live = True

    def __init__(self, index: int = 0, *, size: tuple[int, int] | None = None,
                 first_frame_timeout: float = 3.0) -> None:
        self.index = int(index)
        self.name = f"camera {self.index}"
        self._cap = cv2.VideoCapture(self.index)
        if not self._cap.isOpened():
            self._cap.release()
            raise VideoError(
                f"No camera at index {self.index}. Check that one is connected and not in use by "
                "another program, or pick another index (or open a video file instead).")
        if size is not None:
            self._cap.set(cv2.CAP_PROP_FRAME_WIDTH, size[0])
            self._cap.set(cv2.CAP_PROP_FRAME_HEIGHT, size[1])
        self._failures = 0
        self._first = self._first_frame(first_frame_timeout)

    def _first_frame(self, timeout: float) -> np.ndarray:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ok, frame = self._cap.read()
            if ok and frame is not None:
                return _to_rgb(frame)
            time.sleep(0.05)
        self._cap.release()
        raise VideoError(f"Camera {self.index} opened but sent no picture within {timeout:g} s.")

    @property
    def fps(self) -> float:
        fps = self._cap.get(cv2.CAP_PROP_FPS)
        return float(fps) if fps and fps > 0 else 30.0

    def read(self) -> np.ndarray:
        if self._first is not None:
            frame, self._first = self._first, None
            return frame
        ok, frame = self._cap.read()
        if not ok or frame is None:
            self._failures += 1
            if self._failures >= 5:  # a few dropped grabs happen; a run of them is an unplug
                raise CameraDisconnected(
                    f"Camera {self.index} stopped sending pictures (unplugged?). "
                    "Reconnect it and start the stream again.")
            return self.read()
        self._failures = 0
        return _to_rgb(frame)

    def close(self) -> None:
        self._cap.release()


class VideoFileSource(FrameSource):
    """Frames of a video file; ``loop=True`` restarts at the end (a stand-in camera)."""

    def __init__(self, path: str | os.PathLike, *, loop: bool = False) -> None:
        self.path = Path(path)
        self.name = self.path.name
        self.loop = loop
        if not self.path.is_file():
            raise VideoError(f"Cannot open video '{self.path}': no such file.")
        self._cap = cv2.VideoCapture(str(self.path))
        if not self._cap.isOpened():
            raise VideoError(f"Cannot open video '{self.path}': not a video OpenCV can decode.")
        ok, frame = self._cap.read()
        if not ok or frame is None:
            self._cap.release()
            raise VideoError(f"Cannot read video '{self.path}': it has no decodable frames.")
        self._first: np.ndarray | None = _to_rgb(frame)
        self.frame_count = int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT))
        self.position = -1  # index of the frame read last

    @property
    def fps(self) -> float:
        fps = self._cap.get(cv2.CAP_PROP_FPS)
        return float(fps) if fps and fps > 0 else 25.0

    def read(self) -> np.ndarray | None:
        if self._first is not None:
            frame, self._first = self._first, None
            self.position = 0
            return frame
        ok, frame = self._cap.read()
        if not ok or frame is None:
            if not self.loop:
                return None
            self._cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
            self.position = -1
            ok, frame = self._cap.read()
            if not ok or frame is None:
                return None
        self.position += 1
        return _to_rgb(frame)

    def seek(self, index: int) -> None:
        """Make frame ``index`` (clamped to the file) the next one :meth:`read` returns."""
        last = max(0, self.frame_count - 1) if self.frame_count > 0 else index
        index = int(min(max(0, index), last))
        self._first = None
        self._cap.set(cv2.CAP_PROP_POS_FRAMES, index)
        self.position = index - 1

    def close(self) -> None:
        self._cap.release()


class ImageSequenceSource(FrameSource):
    """Image files as frames (read safely through ``workbench.imaging.io``)."""

    def __init__(self, paths: Sequence[str | os.PathLike]) -> None:
        self.paths = [Path(p) for p in paths]
        if not self.paths:
            raise VideoError("The image sequence is empty.")
        self.name = f"{len(self.paths)} images"
        self._next = 0

    def read(self) -> np.ndarray | None:
        from workbench.imaging.io import read_image, to_uint8_display

        if self._next >= len(self.paths):
            return None
        image = to_uint8_display(read_image(self.paths[self._next]))
        self._next += 1
        if image.ndim == 2:
            return np.repeat(image[..., None], 3, axis=2)
        return np.ascontiguousarray(image[..., :3])


def open_source(spec: str | int | os.PathLike, *, loop: bool = False) -> FrameSource:
    """A camera index (``0`` or ``"camera:0"``), a video file, or an image file."""
    if isinstance(spec, int) or (isinstance(spec, str) and spec.isdigit()):
        return CameraSource(int(spec))
    if isinstance(spec, str) and spec.startswith("camera:"):
        return CameraSource(int(spec.split(":", 1)[1]))
    path = Path(spec)
    if path.suffix.lower() in VIDEO_EXTENSIONS:
        return VideoFileSource(path, loop=loop)
    return ImageSequenceSource([path])


class VideoRecorder:
    """Write RGB frames to a video file (MJPG .avi or mp4v .mp4), sized by the first frame."""

    def __init__(self, path: str | os.PathLike, fps: float = 25.0) -> None:
        self.path = Path(path)
        if not self.path.parent.is_dir():
            raise VideoError(f"Cannot record to '{self.path}': folder does not exist.")
        ext = self.path.suffix.lower()
        codecs = {".avi": "MJPG", ".mp4": "mp4v", ".mkv": "MJPG"}
        if ext not in codecs:
            raise VideoError(f"Cannot record to '{self.path}': use .avi, .mp4 or .mkv.")
        self._fourcc = cv2.VideoWriter_fourcc(*codecs[ext])
        self.fps = float(fps)
        self._writer: cv2.VideoWriter | None = None
        self.frames = 0

    def write(self, frame: np.ndarray) -> None:
        if self._writer is None:
            h, w = frame.shape[:2]
            self._writer = cv2.VideoWriter(str(self.path), self._fourcc, self.fps, (w, h))
            if not self._writer.isOpened():
                raise VideoError(f"Cannot record to '{self.path}': OpenCV has no writer for it.")
            self._size = (w, h)
        if (frame.shape[1], frame.shape[0]) != self._size:
            frame = cv2.resize(frame, self._size, interpolation=cv2.INTER_AREA)
        self._writer.write(cv2.cvtColor(np.ascontiguousarray(frame[..., :3]), cv2.COLOR_RGB2BGR))
        self.frames += 1

    def close(self) -> None:
        if self._writer is not None:
            self._writer.release()
            self._writer = None

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()
