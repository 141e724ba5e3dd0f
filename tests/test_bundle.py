"""Build the PyInstaller bundle and use it the ways a user does (``pytest -m bundle``).

Outside the default run: the build takes a minute or two. CI runs it as its own step. Each
command runs the frozen ``workbench`` executable offscreen with a fresh HOME, and its results
are compared with the same work done by the installed package in this process.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytestmark = pytest.mark.bundle

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    if importlib.util.find_spec("PyInstaller") is None:
        pytest.skip("PyInstaller is not installed: pip install -e '.[bundle]'")
    sys.path.insert(0, str(REPO / "packaging"))
    try:
        import build_bundle
    finally:
        sys.path.remove(str(REPO / "packaging"))
    root = tmp_path_factory.mktemp("bundle")
    folder = build_bundle.build(root / "dist", root / "work", cpu_only=False)
    assert (folder / "workbench").is_file()
    return folder


def _run(bundle: Path, home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env.update(QT_QPA_PLATFORM="offscreen", HOME=str(home), XDG_CONFIG_HOME=str(home / "cfg"))
    env.pop("WORKBENCH_RESOURCES", None)
    return subprocess.run([str(bundle / "workbench"), *args], capture_output=True, text=True,
                          env=env, cwd=home, timeout=300)


def test_bundle_carries_what_the_app_needs_and_not_the_training_stack(bundle):
    internal = bundle / "_internal"
    for needed in ("resources/models/colorizer.onnx", "resources/models/colorizer_hints.onnx",
                   "resources/models/provider_probe.onnx",
                   "resources/samples/rectify_poster.jpg", "resources/samples/astronaut.jpg",
                   "resources/icons/workbench.svg", "resources/screenshots/rectify.png",
                   "cv2/data/haarcascade_frontalface_default.xml", "README.md"):
        assert (internal / needed).is_file(), needed
    assert (bundle / "share" / "linux" / "install-desktop-entry.sh").is_file()
    for unwanted in ("torch", "onnx", "pytest", "tkinter", "skimage"):
        assert not (internal / unwanted).exists(), f"{unwanted} should not be in the bundle"


def test_bundle_carries_the_licences_of_what_it_bundles(bundle):
    licences = bundle / "licenses"
    assert (licences / "Workbench-LICENSE.txt").read_text().startswith("MIT License")
    assert (licences / "Python-LICENSE.txt").is_file()
    expected = ["numpy", "scipy", "opencv-python-headless", "onnxruntime-gpu", "pyqtgraph"]
    if Path("/usr/share/common-licenses/LGPL-3").is_file():  # Qt's wheels carry no text
        expected.append("pyside6-essentials")
    for dist in expected:
        files = list((licences / dist).glob("*"))
        assert files and all(f.stat().st_size > 100 for f in files), dist
    index = (licences / "README.txt").read_text()
    assert "pyside6-essentials" in index and "LGPL" in index
    assert not (licences / "torch").exists() and "torch" not in index


def test_bundled_install_script_puts_the_bundle_in_the_menu(bundle, tmp_path):
    env = dict(os.environ, XDG_DATA_HOME=str(tmp_path / "data"), HOME=str(tmp_path))
    script = bundle / "share" / "linux" / "install-desktop-entry.sh"
    result = subprocess.run([str(script)], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    entry = (tmp_path / "data" / "applications" / "io.github.workbench.Workbench.desktop")
    assert f'Exec="{bundle}/workbench" %f' in entry.read_text().splitlines()
    assert (tmp_path / "data" / "icons" / "hicolor" / "256x256" / "apps"
            / "io.github.workbench.Workbench.png").is_file()


def test_bundled_info_reports_versions_and_the_provider_really_used(bundle, tmp_path):
    result = _run(bundle, tmp_path, "info")
    assert result.returncode == 0, result.stderr
    # "Key with spaces    value": two or more spaces separate the two columns
    report = dict(re.split(r"\s{2,}", line.strip(), maxsplit=1)
                  for line in result.stdout.splitlines() if line.strip())
    from workbench import __version__

    assert report["Workbench"] == __version__
    for package in ("NumPy", "OpenCV", "SciPy", "ONNX Runtime"):
        assert report[package][0].isdigit(), f"{package}: {report[package]}"
    assert report["ORT providers usable"].endswith("CPUExecutionProvider")
    # the bundle carries the compiled pyramid REDUCE built by this checkout's install
    from workbench.pyramid import levels as pyramid

    if pyramid._compiled is not None:
        assert report["Pyramid REDUCE"].startswith("compiled"), report["Pyramid REDUCE"]
    assert "frozen" not in result.stderr.lower() and "Traceback" not in result.stderr


def test_bundled_rectify_matches_the_installed_package(bundle, tmp_path):
    from workbench.cli import main as installed_main

    sample = bundle / "_internal" / "resources" / "samples" / "rectify_poster.jpg"
    corners = json.loads(sample.with_suffix(".json").read_text())["corners"]
    points = ["--points", *[f"{x},{y}" for x, y in corners]]
    frozen_out, local_out = tmp_path / "frozen.png", tmp_path / "local.png"

    result = _run(bundle, tmp_path, "rectify", str(sample), str(frozen_out), *points, "--json")
    assert result.returncode == 0, result.stderr
    frozen_h = json.loads(result.stdout)["H"]
    assert installed_main(["rectify", str(sample), str(local_out), *points]) == 0

    frozen, local = np.asarray(Image.open(frozen_out)), np.asarray(Image.open(local_out))
    assert frozen.shape == local.shape and frozen.shape[0] > 500
    assert np.array_equal(frozen, local)
    assert np.asarray(frozen_h).shape == (3, 3)


def test_bundled_colorize_runs_the_shipped_model(bundle, tmp_path):
    from skimage import data

    from workbench.colorize import Colorizer

    gray = tmp_path / "camera.png"
    Image.fromarray(data.camera()).save(gray)
    out = tmp_path / "camera_color.png"
    result = _run(bundle, tmp_path, "colorize", str(gray), "-o", str(out), "--provider", "cpu")
    assert result.returncode == 0, result.stderr
    frozen = np.asarray(Image.open(out).convert("RGB")).astype(int)
    local = Colorizer(provider="cpu").colorize(data.camera()).astype(int)
    assert frozen.shape == local.shape == data.camera().shape + (3,)
    assert np.abs(frozen - local).max() <= 1  # same model, same runtime; PNG is lossless
    saturation = frozen.max(axis=2) - frozen.min(axis=2)
    assert saturation.mean() > 3, "the output is coloured, not gray"


def test_bundled_faces_finds_and_enrols_a_face(bundle, tmp_path):
    """Face detection needs OpenCV's Haar cascades inside the bundle."""
    photo = bundle / "_internal" / "resources" / "samples" / "astronaut.jpg"
    db = tmp_path / "people.gallery"
    result = _run(bundle, tmp_path, "faces", "enroll", "--db", str(db), "--name", "Eileen",
                  str(photo))
    assert result.returncode == 0, result.stderr
    listed = _run(bundle, tmp_path, "faces", "list", "--db", str(db))
    assert listed.returncode == 0 and "Eileen" in listed.stdout, listed.stdout + listed.stderr


def test_bundled_gui_starts_and_renders_the_rectify_sample(bundle, tmp_path):
    shot = tmp_path / "shot.png"
    result = _run(bundle, tmp_path, "--screenshot", str(shot), "--size", "1200x800", "--timing")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "panel ready after" in result.stdout + result.stderr
    image = np.asarray(Image.open(shot).convert("RGB"))
    assert image.shape[:2] == (800, 1200)
    assert image.std() > 30, "the window has content"
    # the sample poster's rectified preview fills the right half: mostly bright paper
    right = image[150:650, 650:1150]
    assert (right.mean(axis=2) > 200).mean() > 0.3


def test_bundled_bad_input_is_a_one_line_error(bundle, tmp_path):
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    result = _run(bundle, tmp_path, "rectify", str(bad), str(tmp_path / "o.png"),
                  "--points", "0,0", "10,0", "10,10", "0,10")
    assert result.returncode == 2
    assert result.stderr.startswith("workbench: error:") and len(result.stderr.splitlines()) == 1
