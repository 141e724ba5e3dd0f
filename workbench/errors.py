"""Exceptions a user can cause and act on.

Everything raised as a :class:`WorkbenchError` carries a message written for the person using the
tool. The GUI shows it in the status bar or a dialog; the command line prints it on one line and
exits with status 2. Anything else escaping is a bug (exit status 1).

:class:`InputError` is the base of everything a user can cause with what they give a tool (a
file, an array, points, a model, a parameter); each tool's own errors derive from it. It is also
a :class:`ValueError`, so code that validates arguments the Python way keeps working.
"""

from __future__ import annotations


class WorkbenchError(Exception):
    """Base class for errors caused by input the user can fix."""


class InputError(WorkbenchError, ValueError):
    """Input a tool cannot use: a file, image, array, set of points, model or parameter."""


class ImageReadError(InputError):
    """An image file could not be read: missing, unreadable, corrupt, truncated or too large."""


class ImageWriteError(InputError):
    """An image could not be written (bad extension, unsupported dtype, disk error)."""


class DegenerateConfigurationError(InputError):
    """Point correspondences that do not determine a homography.

    ``indices`` names the offending points (0-based) so a UI can highlight them.
    """

    def __init__(self, message: str, indices: tuple[int, ...] = ()) -> None:
        super().__init__(message)
        self.indices = tuple(indices)
