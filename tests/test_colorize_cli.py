"""`workbench colorize`: single file, batch folder, bad models and inputs."""

from __future__ import annotations

import json

import numpy as np
import pytest
from onnx_models import ab_model, rgb_input_model
from skimage import data

from workbench.cli import main
from workbench.colorize.batch import output_paths
from workbench.imaging.io import read_image, write_image


@pytest.fixture
def model(tmp_path):
    return ab_model(tmp_path / "ab.onnx", height=None, width=None)


@pytest.fixture
def grays(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    paths = []
    for i, img in enumerate([data.camera()[::4, ::4], data.moon()[::4, ::4]]):
        p = folder / f"g{i}.png"
        write_image(p, img)
        paths.append(p)
    return paths


def test_single_file_keeps_size_and_lightness(model, grays, tmp_path, capsys):
    out = tmp_path / "out.png"
    assert main(["colorize", str(grays[0]), "-o", str(out), "--model", str(model),
                 "--provider", "cpu", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["provider"] == "cpu"
    result = read_image(out)
    gray = read_image(grays[0])
    assert result.shape == gray.shape + (3,)
    from skimage.color import rgb2lab

    lab = rgb2lab(result)
    expected_l = rgb2lab(np.dstack([gray] * 3))[..., 0]
    assert np.abs(lab[..., 0] - expected_l).mean() < 1.0  # L kept
    assert np.abs(lab[..., 1:]).mean() > 2  # and colour added


def test_batch_writes_stem_png_per_input(model, grays, tmp_path, capsys):
    out_dir = tmp_path / "out"
    assert main(["colorize", *map(str, grays), "--out-dir", str(out_dir), "--model", str(model),
                 "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    names = sorted(p.name for p in out_dir.iterdir())
    assert names == [".workbench-batch.jsonl", "g0.png", "g1.png"]  # the manifest for --resume
    assert len(doc["results"]) == 2


def test_batch_reports_a_bad_file_and_keeps_going(model, grays, tmp_path, capsys):
    bad = tmp_path / "in" / "broken.png"
    bad.write_bytes(b"nope")
    out_dir = tmp_path / "out"
    code = main(["colorize", str(bad), *map(str, grays), "--out-dir", str(out_dir), "--model",
                 str(model)])
    assert code == 2
    assert "broken.png" in capsys.readouterr().err
    assert sorted(p.name for p in out_dir.glob("*.png")) == ["g0.png", "g1.png"]


@pytest.mark.parametrize("compare", [False, True])
def test_an_output_folder_that_cannot_be_made_is_a_clear_error(model, grays, tmp_path, capsys,
                                                               compare):
    blocker = tmp_path / "a-file"
    blocker.write_text("keep me")
    extra = ["--compare", str(model)] if compare else []
    code = main(["colorize", *map(str, grays), "--out-dir", str(blocker / "out"), "--model",
                 str(model), *extra])
    assert code == 2
    err = capsys.readouterr().err
    assert "Cannot create output folder" in err and "a-file" in err
    assert blocker.read_text() == "keep me"  # nothing lost


def test_same_stems_do_not_overwrite_each_other(tmp_path):
    from pathlib import Path

    paths = output_paths([Path("a/x.jpg"), Path("b/x.png"), Path("c/y.png")], tmp_path)
    assert [p.name for p in paths] == ["x.png", "x_2.png", "y.png"]


def test_model_with_wrong_shapes_is_a_clear_error(grays, tmp_path):
    import subprocess
    import sys

    bad = rgb_input_model(tmp_path / "rgb.onnx")
    proc = subprocess.run([sys.executable, "-m", "workbench", "colorize", str(grays[0]), "-o",
                           str(tmp_path / "o.png"), "--model", str(bad)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr
    assert "channel" in lines[0].lower() or "input" in lines[0].lower()


def test_output_flag_takes_one_input(model, grays, tmp_path, capsys):
    code = main(["colorize", *map(str, grays), "-o", str(tmp_path / "o.png"), "--model",
                 str(model)])
    assert code == 2
    assert "exactly one input" in capsys.readouterr().err
