"""Errors the Faces tools raise for problems a user can fix.

All of them are :class:`~workbench.errors.WorkbenchError` subclasses, so the command line turns
them into a one-line message with exit status 2 and the GUI shows them in the status bar.
"""

from __future__ import annotations

from workbench.errors import WorkbenchError

__all__ = [
    "FaceNotFoundError",
    "FaceQualityError",
    "GalleryCorruptError",
    "GalleryError",
    "GalleryLockedError",
    "GalleryVersionError",
    "ModelError",
    "PersonExistsError",
    "UnknownPersonError",
]


class FaceNotFoundError(WorkbenchError):
    """No usable face in an image (or several where exactly one was needed)."""


class FaceQualityError(WorkbenchError):
    """An enrolment shot was rejected (blurred, too dark, too bright, no face, several faces).

    ``reasons`` lists each problem in the user's words, so a UI can show them one per line.
    """

    def __init__(self, message: str, reasons: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.reasons = tuple(reasons)


class ModelError(WorkbenchError):
    """A face model cannot be trained or loaded from what it was given."""


class GalleryError(WorkbenchError):
    """Base class for problems with a face gallery file."""


class GalleryCorruptError(GalleryError):
    """The gallery file is damaged, not an SQLite database, or not a Workbench face gallery."""


class GalleryLockedError(GalleryError):
    """Another program held the gallery database longer than the busy timeout."""


class GalleryVersionError(GalleryError):
    """The gallery was written by a newer Workbench whose schema this one cannot read."""


class UnknownPersonError(GalleryError):
    """No person of that name is enrolled."""


class PersonExistsError(GalleryError):
    """A person of that name is already enrolled (on rename)."""
