"""The Linux desktop integration: desktop entry, AppStream metadata, icons, and the script that
installs them from a bundle."""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
LINUX = REPO / "packaging" / "linux"
ICONS = REPO / "resources" / "icons"
APP_ID = "io.github.workbench.Workbench"
DESKTOP = LINUX / f"{APP_ID}.desktop"
METAINFO = LINUX / f"{APP_ID}.metainfo.xml"
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def _entry(path: Path) -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keys are case-sensitive
    parser.read(path, encoding="utf-8")
    return dict(parser["Desktop Entry"])


def test_desktop_entry_launches_workbench_with_its_icon():
    entry = _entry(DESKTOP)
    assert entry["Type"] == "Application"
    assert entry["Name"] == "Workbench"
    assert entry["Exec"] == "workbench %f"  # the GUI opens one file
    assert entry["Icon"] == APP_ID
    assert entry["Terminal"] == "false"
    assert entry["Categories"].endswith(";")


def test_desktop_entry_mime_types_are_files_the_app_opens():
    from workbench.imaging.io import SUPPORTED_READ_EXTENSIONS
    from workbench.imaging.video import VIDEO_EXTENSIONS

    by_mime = {
        "image/jpeg": ".jpg", "image/png": ".png", "image/tiff": ".tif", "image/bmp": ".bmp",
        "image/webp": ".webp", "video/mp4": ".mp4", "video/x-msvideo": ".avi",
        "video/x-matroska": ".mkv", "video/quicktime": ".mov", "video/webm": ".webm",
    }
    mimes = [m for m in _entry(DESKTOP)["MimeType"].split(";") if m]
    assert mimes
    opens = {e.lower() for e in SUPPORTED_READ_EXTENSIONS + VIDEO_EXTENSIONS}  # videos: Colorize
    for mime in mimes:
        assert mime in by_mime, f"no known extension for {mime}"
        assert by_mime[mime] in opens, f"{mime} listed, but Workbench does not open {by_mime[mime]}"


def test_appstream_metadata_names_the_desktop_entry():
    root = ET.parse(METAINFO).getroot()
    assert root.tag == "component" and root.get("type") == "desktop-application"
    assert root.findtext("id") == APP_ID
    assert root.find("launchable").text == DESKTOP.name
    assert root.find("provides/binary").text == "workbench"
    assert root.findtext("project_license") == "MIT"
    from workbench import __version__

    assert root.find("releases/release").get("version") == __version__


@pytest.mark.skipif(not shutil.which("desktop-file-validate"),
                    reason="desktop-file-validate not installed (Debian: desktop-file-utils)")
def test_desktop_entry_passes_desktop_file_validate():
    result = subprocess.run(["desktop-file-validate", str(DESKTOP)], capture_output=True, text=True)
    assert result.returncode == 0 and "error" not in result.stdout, result.stdout


@pytest.mark.skipif(not shutil.which("appstreamcli"),
                    reason="appstreamcli not installed (Debian: appstream)")
def test_appstream_metadata_passes_appstreamcli():
    result = subprocess.run(["appstreamcli", "validate", "--no-net", str(METAINFO)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_icon_svg_and_every_png_size():
    root = ET.parse(ICONS / "workbench.svg").getroot()
    assert root.tag.endswith("svg") and root.get("viewBox") == "0 0 256 256"
    for size in ICON_SIZES:
        with Image.open(ICONS / f"workbench-{size}.png") as image:
            assert image.size == (size, size)
            rgba = np.asarray(image.convert("RGBA"))
        alpha = rgba[..., 3]
        assert alpha[size // 2, size // 2] == 255, "the icon's middle is opaque"
        assert alpha[0, 0] < 128, "the rounded corners are transparent"
        assert rgba[..., :3].std() > 20, "the icon has content, not one flat colour"


@pytest.mark.parametrize("size, svg", [(16, "workbench-small.svg"), (64, "workbench.svg")])
def test_icons_are_the_rendered_svg(qapp, size, svg):
    """The PNGs were made from the SVGs (packaging/make_icons.py), not drawn separately; the
    smallest sizes from the simplified drawing."""
    pytest.importorskip("PySide6.QtSvg")
    import sys

    sys.path.insert(0, str(REPO / "packaging"))
    try:
        import make_icons
    finally:
        sys.path.remove(str(REPO / "packaging"))
    target = Path(os.environ.get("TMPDIR", "/tmp")) / f"workbench-icon-{os.getpid()}.png"
    try:
        make_icons.render(ICONS / svg, size, target)
        fresh = np.asarray(Image.open(target).convert("RGBA")).astype(int)
    finally:
        target.unlink(missing_ok=True)
    shipped = np.asarray(Image.open(ICONS / f"workbench-{size}.png").convert("RGBA")).astype(int)
    assert np.abs(fresh - shipped).max() <= 2, "run packaging/make_icons.py after editing the SVG"


def _fake_bundle(root: Path, share: str = "share/linux") -> Path:
    """The layout build_bundle.py leaves (workbench, _internal/resources, share/linux), or with
    ``share="_internal/share/linux"`` PyInstaller's own, from a hand-run build."""
    bundle = root / "workbench"
    shutil.copytree(ICONS, bundle / "_internal" / "resources" / "icons")
    shutil.copytree(LINUX, bundle / share)
    exe = bundle / "workbench"
    exe.write_text("#!/bin/sh\nexit 0\n")
    exe.chmod(0o755)
    return bundle


def _install(bundle: Path, data: Path, share: str = "share/linux", *args: str):
    env = dict(os.environ, XDG_DATA_HOME=str(data), HOME=str(data.parent))
    script = bundle / share / "install-desktop-entry.sh"
    return subprocess.run([str(script), *args], env=env, capture_output=True, text=True)


@pytest.mark.parametrize("share", ["share/linux", "_internal/share/linux"])
def test_install_script_adds_and_removes_the_menu_entry(tmp_path, share):
    bundle = _fake_bundle(tmp_path / "apps dir", share)  # a space, as in real home folders
    data = tmp_path / "data"

    result = _install(bundle, data, share)
    assert result.returncode == 0, result.stderr
    installed = data / "applications" / f"{APP_ID}.desktop"
    entry = _entry(installed)
    assert entry["Exec"] == f'"{bundle}/workbench" %f'
    assert entry["TryExec"] == f"{bundle}/workbench"
    assert entry["Icon"] == APP_ID and entry["Name"] == "Workbench"  # the rest is kept
    for size in ICON_SIZES:
        assert (data / "icons" / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png").is_file()
    assert (data / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg").is_file()
    assert (data / "metainfo" / f"{APP_ID}.metainfo.xml").is_file()
    if shutil.which("desktop-file-validate"):
        check = subprocess.run(["desktop-file-validate", str(installed)],
                               capture_output=True, text=True)
        assert check.returncode == 0, check.stdout

    assert _install(bundle, data, share).returncode == 0  # running it again is harmless
    assert _entry(installed) == entry

    result = _install(bundle, data, share, "--uninstall")
    assert result.returncode == 0, result.stderr
    assert not installed.exists()
    assert not list((data / "icons").rglob(f"{APP_ID}.*"))


def test_install_script_escapes_what_a_desktop_entry_would_misread(tmp_path):
    bundle = _fake_bundle(tmp_path / "R&D | 100% demo")
    data = tmp_path / "data"
    assert _install(bundle, data).returncode == 0
    entry = _entry(data / "applications" / f"{APP_ID}.desktop")
    assert entry["Exec"] == f'"{tmp_path}/R&D | 100%% demo/workbench/workbench" %f'
    assert entry["TryExec"] == f"{tmp_path}/R&D | 100% demo/workbench/workbench"


def test_install_script_refuses_a_path_it_cannot_quote(tmp_path):
    bundle = _fake_bundle(tmp_path / "costs $HOME")
    data = tmp_path / "data"
    result = _install(bundle, data)
    assert result.returncode == 2 and "move the bundle" in result.stderr
    assert not (data / "applications").exists()


def test_install_script_refuses_outside_a_bundle(tmp_path):
    loose = tmp_path / "x" / "share" / "linux"
    shutil.copytree(LINUX, loose)
    env = dict(os.environ, XDG_DATA_HOME=str(tmp_path / "data"))
    result = subprocess.run([str(loose / "install-desktop-entry.sh")], env=env,
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert "run this script from inside the bundle" in result.stderr
    assert not (tmp_path / "data").exists()
