"""What the Faces panel shows and edits, in plain Python (no Qt), testable without a window.

A :class:`FacesSession` holds the gallery (SQLite), the recognizer trained from it, the photo
being recognised and what was found in it, and the state of an enrolment capture (whose shots,
how many are left, the countdown). The panel is a thin view over it.

A still photo is recognised off the GUI thread: :meth:`FacesSession.recognition_request` gives
what to run (:func:`analyse_frame`) with the photo's id, and
:meth:`FacesSession.accept_recognition` refuses the result when another photo is shown by then.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from workbench.errors import InputError, WorkbenchError


def analyse_frame(frame: np.ndarray, detector, recognizer, *, check_enrolment: bool = False):
    """One face-detection pass per frame, shared by recognition, the enrolment shot check and
    the reconstruction view: (recognitions or bare (box, crop) detections, ShotCheck or None,
    the largest face's aligned crop or None, the largest face's light balance or None: see
    :func:`~workbench.faces.detect.light_balance`). ``detector``: a FaceDetector, or a
    FaceTracker for a stream (it searches near the faces of the previous frames)."""
    from workbench.faces.detect import FaceTracker, check_shot, light_balance

    if isinstance(detector, FaceTracker):  # enrolment shots must see everybody in view
        faces = detector.detect(frame, full=check_enrolment)
        detector = detector.detector
    else:
        faces = detector.detect(frame)
    if recognizer is not None and faces:
        found = recognizer.recognize_many(np.stack([f.aligned for f in faces]),
                                          [f.box for f in faces], [f.alignment for f in faces])
    else:
        found = [(f.box, f.aligned) for f in faces]
    shot = check_shot(frame, detector, faces=faces) if check_enrolment else None
    return (found, shot, (faces[0].aligned if faces else None),
            (light_balance(faces[0].raw) if faces else None))


def people_count(n: int) -> str:
    """>>> people_count(1), people_count(2)
    ('1 person', '2 people')
    """
    return f"{n} person" if n == 1 else f"{n} people"


@dataclass
class Capture:
    """An enrolment capture from a stream: a countdown, then ``left`` good shots of ``name``."""

    name: str
    left: int
    countdown: int = 3
    shots: list[np.ndarray] = field(default_factory=list)

    @property
    def taking(self) -> bool:
        """Shots are being taken (the countdown is over and some are still wanted)."""
        return self.countdown == 0 and self.left > 0


@dataclass(frozen=True)
class ShotOutcome:
    """What one checked frame did to a capture: ``kind`` is "taken", "rejected" or "done"."""

    kind: str
    message: str
    crops: tuple[np.ndarray, ...] = ()


@dataclass(frozen=True)
class RecognitionRequest:
    """Recognise the still photo ``image_id`` with :func:`analyse_frame`, then hand the result
    to :meth:`FacesSession.accept_recognition`.

    The session's detector is used while holding ``lock`` (cascades are not shared between
    threads); when an older photo's detection still holds it (it cannot be interrupted), this
    one loads a detector of its own rather than wait for a result nobody will see."""

    image_id: int
    image: np.ndarray
    detector: Any
    recognizer: Any
    lock: Any
    crop_settings: dict = field(default_factory=dict)

    def run(self):
        if self.lock.acquire(blocking=False):
            try:
                return analyse_frame(self.image, self.detector, self.recognizer)
            finally:
                self.lock.release()
        from workbench.faces.detect import FaceDetector

        return analyse_frame(self.image, FaceDetector(**self.crop_settings), self.recognizer)


class FacesSession:
    """The Faces panel's state: gallery, recognizer, the photo shown, an enrolment capture."""

    def __init__(self) -> None:
        self.gallery = None  # workbench.faces.gallery.Gallery
        self.recognizer = None  # trained from the gallery, None until then
        self.image: np.ndarray | None = None  # the still photo shown (None while streaming)
        self.image_id = 0
        self.recognitions: list = []
        self.capture: Capture | None = None
        self._detector = None
        self._detector_lock = threading.Lock()

    # -------------------------------------------------------------- gallery
    def open_gallery(self, path: str | Path):
        """Open (or create) a gallery; the old one is closed and its recognizer dropped."""
        from workbench.faces.gallery import Gallery

        gallery = Gallery(path)  # raises a WorkbenchError with the reason; nothing changes then
        if self.gallery is not None:
            self.gallery.close()
        self.gallery = gallery
        self.recognizer = None
        self._detector = None  # crops must be normalised the way this gallery stores them
        return gallery

    def _need_gallery(self):
        if self.gallery is None:
            raise InputError("No gallery is open: choose Gallery… first.")
        return self.gallery

    def people(self) -> list[tuple[str, int, np.ndarray | None]]:
        """(name, number of faces, first face crop or None) per enrolled person."""
        gallery = self._need_gallery()
        out = []
        for person in gallery.people():
            faces = gallery.faces_of(person.name)
            out.append((person.name, person.face_count,
                        np.ascontiguousarray(faces[0].image) if faces else None))
        return out

    def rename(self, old: str, new: str) -> None:
        new = new.strip()
        if not new:
            raise InputError("A name cannot be empty.")
        self._need_gallery().rename(old, new)

    def remove(self, name: str) -> int:
        return self._need_gallery().remove(name)

    def enrol(self, name: str, crops, sources, progress=None) -> list[int]:
        """Add aligned face crops of ``name`` (runs on a worker thread; SQLite transaction)."""
        sources = [sources] * len(crops) if isinstance(sources, str) else list(sources)
        return self._need_gallery().enroll(name, crops, sources=sources, progress=progress)

    # ------------------------------------------------------------- training
    def train(self, progress=None):
        """The recognizer for the gallery as it is now (worker thread), or the WorkbenchError
        that says why there is none yet (e.g. nobody enrolled): not an error to shout about."""
        gallery = self._need_gallery()
        try:
            return gallery.recognizer(progress=progress)
        except WorkbenchError as exc:
            return exc

    def set_recognizer(self, value) -> bool:
        """Take what :meth:`train` returned; True when there is a recognizer now."""
        self.recognizer = None if isinstance(value, WorkbenchError) else value
        return self.recognizer is not None

    def set_thresholds(self, identity: float, face: float) -> None:
        if self.recognizer is not None:
            self.recognizer.identity_threshold = float(identity)
            self.recognizer.face_threshold = float(face)

    def keep_thresholds(self, reset: bool = False) -> None:
        """Store the current thresholds with the gallery, or forget the stored ones."""
        gallery = self._need_gallery()
        if reset:
            gallery.save_thresholds(None, None)
            self.recognizer = None  # retrain to get the tuned values back
        elif self.recognizer is not None:
            gallery.save_thresholds(self.recognizer.identity_threshold,
                                    self.recognizer.face_threshold)

    # ---------------------------------------------------------- recognition
    def crop_settings(self) -> dict:
        """Detector settings that make crops the way the open gallery stores them."""
        if self.gallery is None:
            return {}
        return {"size": self.gallery.face_size, "illumination": self.gallery.illumination}

    def detector(self):
        if self._detector is None:
            from workbench.faces.detect import FaceDetector

            self._detector = FaceDetector(**self.crop_settings())
        return self._detector

    def show_photo(self, image: np.ndarray) -> None:
        self.image = image
        self.image_id += 1
        self.recognitions = []

    def begin_stream(self) -> None:
        self.image = None
        self.image_id += 1  # a still recognition still running is stale now

    def recognition_request(self) -> RecognitionRequest | None:
        if self.image is None:
            return None
        return RecognitionRequest(self.image_id, self.image, self.detector(), self.recognizer,
                                  self._detector_lock, self.crop_settings())

    def accept_recognition(self, image_id: int, found) -> bool:
        if image_id != self.image_id or self.image is None:
            return False
        self.recognitions = found
        return True

    # ------------------------------------------------------------ enrolment
    def start_capture(self, name: str, shots: int, *, streaming: bool) -> Capture:
        name = name.strip()
        if not name:
            raise InputError("Type the person's name first.")
        if not streaming:
            raise InputError("Start the camera (or a video) first — or use Add photos….")
        self.capture = Capture(name, int(shots))
        return self.capture

    def tick(self) -> int:
        """One second of the countdown has passed; the seconds left."""
        if self.capture is None:
            return 0
        self.capture.countdown = max(0, self.capture.countdown - 1)
        return self.capture.countdown

    @property
    def capturing(self) -> bool:
        """Frames should be checked as enrolment shots now (read by the stream's thread)."""
        capture = self.capture
        return capture is not None and capture.taking

    def stop_capture(self) -> None:
        self.capture = None

    def take_shot(self, shot) -> ShotOutcome | None:
        """A checked frame (:class:`~workbench.faces.detect.ShotCheck`) during a capture."""
        capture = self.capture
        if capture is None or shot is None or not capture.taking:
            return None
        if not shot.ok:
            return ShotOutcome("rejected", "Shot rejected: " + "; ".join(shot.reasons))
        capture.shots.append(shot.face.aligned)
        capture.left -= 1
        notes = f" — {'; '.join(shot.notes)}" if shot.notes else ""
        if capture.left > 0:
            return ShotOutcome("taken", f"Shot {len(capture.shots)} taken{notes}.")
        self.capture = None
        return ShotOutcome("done", f"Shot {len(capture.shots)} taken{notes}.",
                           tuple(capture.shots))

    def photos_for_enrolment(self, paths, *, aligned: bool = False):
        """Check photos as enrolment shots: (crops, sources, rejected reasons, notes on light
        from one side)."""
        from workbench.faces.detect import check_shot
        from workbench.imaging.io import read_image

        crops, sources, rejected, notes = [], [], [], []
        for p in paths:
            try:
                with self._detector_lock:
                    check = check_shot(read_image(p), self.detector(), aligned=aligned,
                                       photo=True)
            except WorkbenchError as exc:
                rejected.append(f"{Path(p).name}: {exc}")
                continue
            if check.ok:
                crops.append(check.face.aligned)
                sources.append(str(p))
                notes += [f"{Path(p).name}: {n}" for n in check.notes if "one side" in n]
            else:
                rejected.append(f"{Path(p).name}: {'; '.join(check.reasons)}")
        return crops, sources, rejected, notes
