"""Exceptions a user can cause and act on.

Everything raised as a :class:`WorkbenchError` carries a message written for the person using the
tool. The GUI shows it in the status bar or a dialog; the command line prints it on one line and
exits with status 2. Anything else escaping is a bug (exit status 1).
"""

from __future__ import annotations


class WorkbenchError(Exception):
    """Base class for errors caused by input the user can fix."""


class ImageReadError(WorkbenchError):
    """An image file could not be read: missing, unreadable, corrupt, truncated or too large."""


class ImageWriteError(WorkbenchError):
    """An image could not be written (bad extension, unsupported dtype, disk error)."""


class DegenerateConfigurationError(WorkbenchError, ValueError):
    """Point correspondences that do not determine a homography.

    ``indices`` names the offending points (0-based) so a UI can highlight them.
    """

    def __init__(self, message: str, indices: tuple[int, ...] = ()) -> None:
        super().__init__(message)
        self.indices = tuple(indices)
