"""The save and export dialogs every panel shares.

* A name typed without an extension gets the extension of the chosen file type ("letter" with
  PNG chosen saves ``letter.png``), instead of failing on an unknown extension.
* Each panel remembers the folder it last saved to and opens its save dialogs there. Before its
  first save a panel starts in the source file's folder when that folder is writable (photos
  often sit on read-only media), otherwise in the user's Pictures folder.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from PySide6 import QtCore, QtWidgets


def filter_extensions(name_filter: str) -> list[str]:
    """The extensions of one name filter: ``"TIFF (*.tif *.tiff)"`` → ``[".tif", ".tiff"]``."""
    return [e.lower() for e in re.findall(r"\*(\.[\w.]+)", name_filter)]


def with_extension(path: str | Path, name_filter: str, filters: list[str]) -> Path:
    """``path`` as saved: unchanged when it ends in an extension of one of ``filters``, else
    with the first extension of ``name_filter`` (the chosen file type) appended."""
    path = Path(path)
    known = {e for f in filters for e in filter_extensions(f)}
    if path.suffix.lower() in known:
        return path
    exts = filter_extensions(name_filter) or filter_extensions(filters[0])
    return path.with_name(path.name + exts[0]) if exts else path


def _settings_key(panel_key: str) -> str:
    return f"{panel_key}/last_save_dir"


def start_folder(panel_key: str, source: str | Path | None = None) -> Path:
    """Where ``panel_key``'s save dialogs open: the folder last saved to, else the source's
    folder if it is writable, else Pictures (or home)."""
    saved = QtCore.QSettings().value(_settings_key(panel_key), "")
    if saved and Path(str(saved)).is_dir():
        return Path(str(saved))
    if source is not None:
        folder = Path(source)
        folder = folder if folder.is_dir() else folder.parent
        if folder.is_dir() and os.access(folder, os.W_OK):
            return folder
    pictures = QtCore.QStandardPaths.writableLocation(
        QtCore.QStandardPaths.StandardLocation.PicturesLocation)
    return Path(pictures) if pictures and Path(pictures).is_dir() else Path.home()


def remember_folder(panel_key: str, folder: str | Path) -> None:
    QtCore.QSettings().setValue(_settings_key(panel_key), str(folder))


def ask_save_path(parent: QtWidgets.QWidget, panel_key: str, title: str, name: str,
                  filters: list[str], *, source: str | Path | None = None) -> Path | None:
    """Ask where to save; None when cancelled. ``name`` is the suggested file name, ``filters``
    the file types (the first is the default), ``source`` the file the result comes from."""
    dialog = QtWidgets.QFileDialog(parent, title)
    dialog.setAcceptMode(QtWidgets.QFileDialog.AcceptMode.AcceptSave)
    dialog.setFileMode(QtWidgets.QFileDialog.FileMode.AnyFile)
    dialog.setNameFilters(filters)
    dialog.setDirectory(str(start_folder(panel_key, source)))
    dialog.selectFile(name)

    def suffix_for(name_filter: str) -> None:
        exts = filter_extensions(name_filter)
        dialog.setDefaultSuffix(exts[0].lstrip(".") if exts else "")

    suffix_for(filters[0])
    dialog.filterSelected.connect(suffix_for)
    try:
        if dialog.exec() != QtWidgets.QDialog.DialogCode.Accepted or not dialog.selectedFiles():
            return None
        path = with_extension(dialog.selectedFiles()[0], dialog.selectedNameFilter(), filters)
    finally:
        dialog.deleteLater()
    remember_folder(panel_key, path.parent)
    return path


class _FolderDialog(QtWidgets.QFileDialog):
    """Qt's own folder dialog refuses a folder that does not exist yet ("Directory not
    found"); this one accepts a new name typed under an existing folder (the caller creates
    it)."""

    def accept(self) -> None:
        typed = self.selectedFiles()
        target = Path(typed[0]) if typed else None
        if target is not None and not target.exists() and target.parent.is_dir():
            QtWidgets.QDialog.accept(self)
            return
        super().accept()


def ask_export_folder(parent: QtWidgets.QWidget, panel_key: str, title: str, name: str = "",
                      *, source: str | Path | None = None) -> Path | None:
    """Ask for a folder to export into, existing or new (typed as a name); None when cancelled.
    Opens where the panel last saved, with ``name`` suggested for a new folder."""
    dialog = _FolderDialog(parent, title)
    dialog.setFileMode(QtWidgets.QFileDialog.FileMode.Directory)
    dialog.setOption(QtWidgets.QFileDialog.Option.ShowDirsOnly, True)
    dialog.setLabelText(QtWidgets.QFileDialog.DialogLabel.FileName, "Folder:")
    dialog.setDirectory(str(start_folder(panel_key, source)))
    if name:
        dialog.selectFile(name)
    try:
        if dialog.exec() != QtWidgets.QDialog.DialogCode.Accepted or not dialog.selectedFiles():
            return None
        folder = Path(dialog.selectedFiles()[0])
    finally:
        dialog.deleteLater()
    remember_folder(panel_key, folder.parent)  # where the next export's folder goes too
    return folder
