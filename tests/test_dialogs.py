"""The shared save dialogs: extensions added from the chosen type, the folder to open in."""

from __future__ import annotations

import os

import pytest

from workbench.ui.dialogs import filter_extensions, remember_folder, start_folder, with_extension

FILTERS = ["PNG (*.png)", "TIFF (*.tif *.tiff)", "JPEG (*.jpg *.jpeg)"]


def test_a_name_without_a_known_extension_gets_the_chosen_types():
    assert filter_extensions("TIFF (*.tif *.tiff)") == [".tif", ".tiff"]
    assert with_extension("/x/letter", "PNG (*.png)", FILTERS).name == "letter.png"
    assert with_extension("/x/letter", "TIFF (*.tif *.tiff)", FILTERS).name == "letter.tif"
    assert with_extension("/x/letter.v2", "JPEG (*.jpg *.jpeg)", FILTERS).name == "letter.v2.jpg"
    assert with_extension("/x/letter.JPEG", "PNG (*.png)", FILTERS).name == "letter.JPEG"
    assert with_extension("/x/scan.tiff", "PNG (*.png)", FILTERS).name == "scan.tiff"


def test_the_dialog_opens_where_the_panel_last_saved(app_settings, tmp_path):
    photos, saved = tmp_path / "photos", tmp_path / "saved"
    photos.mkdir()
    saved.mkdir()
    assert start_folder("rectify", photos / "a.jpg") == photos  # writable: beside the photo
    remember_folder("rectify", saved)
    assert start_folder("rectify", photos / "a.jpg") == saved
    assert start_folder("pyramid", photos / "a.jpg") == photos  # each panel its own


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_a_read_only_source_folder_is_not_where_the_dialog_opens(app_settings, tmp_path):
    photos = tmp_path / "camera"
    photos.mkdir()
    photos.chmod(0o555)
    try:
        assert start_folder("rectify", photos / "a.jpg") != photos
    finally:
        photos.chmod(0o755)
