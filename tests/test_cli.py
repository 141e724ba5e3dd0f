"""The command line contract from DESIGN.md: happy paths and bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from workbench.cli import main
from workbench.imaging.io import read_image, write_image


@pytest.fixture
def tilted(tmp_path):
    """A known picture seen in perspective, with its four corners in the photo."""
    import cv2
    from skimage import data

    page = data.astronaut()[::2, ::2].copy()  # 256×256
    src = np.array([[0, 0], [255, 0], [255, 255], [0, 255]], np.float64)
    corners = np.array([[60, 40], [300, 70], [280, 330], [40, 300]], np.float64)
    H = cv2.getPerspectiveTransform(src.astype(np.float32), corners.astype(np.float32))
    photo = cv2.warpPerspective(page, H, (360, 380), flags=cv2.INTER_CUBIC)
    path = tmp_path / "photo.png"
    write_image(path, photo)
    return path, page, corners


def pts(a):
    return [f"{x:g},{y:g}" for x, y in a]


def test_rectify_with_size_recovers_the_picture(tilted, tmp_path, capsys):
    path, page, corners = tilted
    out = tmp_path / "out.png"
    code = main(["rectify", str(path), str(out), "--points", *pts(corners), "--size", "256x256",
                 "--json"])
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["size"] == [256, 256]
    H = np.array(doc["H"])
    for (x, y), (u, v) in zip(corners, [(0, 0), (255, 0), (255, 255), (0, 255)], strict=True):
        p = H @ [x, y, 1]
        assert p[:2] / p[2] == pytest.approx([u, v], abs=1e-6)
    result = read_image(out)
    assert result.shape == (256, 256, 3)
    inner = (slice(8, -8), slice(8, -8))
    err = np.abs(result[inner].astype(float) - page[inner].astype(float)).mean()
    assert err < 8


def test_rectify_with_target_points(tilted, tmp_path, capsys):
    path, _, corners = tilted
    out = tmp_path / "out.png"
    to = [(10, 10), (110, 10), (110, 60), (10, 60)]
    assert main(["rectify", str(path), str(out), "--points", *pts(corners), "--to", *pts(to),
                 "--json", "--interp", "nearest"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["size"] == [111, 61]
    assert read_image(out).shape[:2] == (61, 111)


def test_rectify_estimates_size_when_none_given(tilted, tmp_path, capsys):
    path, _, corners = tilted
    out = tmp_path / "out.png"
    assert main(["rectify", str(path), str(out), "--points", *pts(corners), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    w, h = doc["size"]
    assert w > 100 and h > 100
    assert doc["size_method"] in ("zhang-he", "side-lengths")


@pytest.mark.parametrize(
    "args,needle",
    [
        (["rectify", "missing.png", "o.png", "--points", "0,0", "1,0", "1,1", "0,1"], "missing"),
        (["rectify", "{img}", "o.png", "--points", "0,0", "1,0", "1,1"], "--points"),
        (["rectify", "{img}", "o.png", "--points", "0,0", "1,0", "1;1", "0,1"], "1;1"),
        (["rectify", "{img}", "o.png", "--points", "0,0", "50,0", "100,0", "0,50"], "collinear"),
        (["rectify", "{img}", "o.png", "--points", "5,5", "5,5", "50,50", "0,50"], "coincide"),
        (["rectify", "{img}", "o.xyz", "--points", "0,0", "50,0", "50,50", "0,50",
          "--size", "10x10"], ".xyz"),
        (["rectify", "{img}", "o.png", "--points", "0,0", "50,0", "50,50", "0,50",
          "--size", "0x10"], "size"),
        (["nonsense-command"], "nonsense"),
    ],
)
def test_bad_input_exits_2_with_one_line(tilted, tmp_path, args, needle):
    path, _, _ = tilted
    args = [a.replace("{img}", str(path)) for a in args]
    args = [str(tmp_path / a) if a in ("o.png", "o.xyz") else a for a in args]
    proc = subprocess.run([sys.executable, "-m", "workbench", *args], capture_output=True,
                          text=True, cwd=tmp_path, timeout=60)
    assert proc.returncode == 2, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert needle.lower() in lines[0].lower()


def test_info_lists_the_cpu_provider(capsys):
    assert main(["info", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert "CPUExecutionProvider" in report["ORT providers usable"]
    assert report["Workbench"]
    from workbench.pyramid import levels as pyramid

    compiled = pyramid._compiled is not None
    assert report["Pyramid REDUCE"].startswith("compiled" if compiled else "OpenCV route")


def test_screenshot_renders_the_window(tmp_path):
    out = tmp_path / "shot.png"
    proc = subprocess.run([sys.executable, "-m", "workbench", "--screenshot", str(out)],
                          capture_output=True, text=True, timeout=120,
                          env={**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen",
                               "XDG_CONFIG_HOME": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr
    shot = read_image(out)
    assert shot.shape[0] > 400 and shot.shape[1] > 600
    assert shot.std() > 10  # a rendered window, not a blank image


def test_negative_coordinates_are_points_not_options(tilted, tmp_path, capsys):
    path, _, corners = tilted
    shifted = corners - [70, 50]  # the first corners now lie left of / above the image
    out = tmp_path / "out.png"
    code = main(["rectify", str(path), str(out), "--points", *pts(shifted), "--size", "64x64",
                 "--json"])
    assert code == 0
    captured = capsys.readouterr()
    assert "outside" in captured.err  # a warning, not an error
    assert json.loads(captured.out)["size"] == [64, 64]


@pytest.mark.parametrize("bad", ["nan,3", "inf,2"])
def test_non_finite_points_are_bad_input(tilted, tmp_path, capsys, bad):
    path, _, _ = tilted
    code = main(["rectify", str(path), str(tmp_path / "o.png"), "--points", bad, "1,0", "1,1",
                 "0,1"])
    assert code == 2
    assert "not finite" in capsys.readouterr().err


def test_absurd_size_is_reported_as_size(tilted, tmp_path, capsys):
    path, _, corners = tilted
    code = main(["rectify", str(path), str(tmp_path / "o.png"), "--points", *pts(corners),
                 "--size", "99999999999999999999x5"])
    assert code == 2
    assert "too large" in capsys.readouterr().err
