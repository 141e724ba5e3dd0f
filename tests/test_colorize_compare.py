"""A/B: two colorizers on the same photos (`workbench colorize --compare`, compare.py)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from onnx_models import ab_model
from skimage import data

from workbench.cli import main
from workbench.colorize.compare import compare_outputs, side_by_side
from workbench.colorize.engine import Colorizer
from workbench.errors import InputError
from workbench.imaging.io import read_image, write_image


@pytest.fixture
def models(tmp_path):
    # A paints warm (a > 0), B paints cold (a < 0): which half is which is visible in the pixels
    a = ab_model(tmp_path / "warm.onnx", height=None, width=None, a=(0.0, 30.0), b=(0.0, 0.0))
    b = ab_model(tmp_path / "cold.onnx", height=None, width=None, a=(0.0, -30.0), b=(0.0, 0.0))
    return a, b


@pytest.fixture
def photos(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    paths = []
    for name, img in (("cam", data.camera()[::4, ::4]), ("moon", data.moon()[::4, ::4])):
        paths.append(folder / f"{name}.png")
        write_image(paths[-1], img)
    return paths


def _mean_a(rgb: np.ndarray) -> float:
    from skimage.color import rgb2lab

    return float(rgb2lab(rgb)[..., 1].mean())


def test_side_by_side_puts_a_left_b_right_under_their_labels():
    a = np.zeros((60, 80, 3), np.uint8)
    b = np.full((60, 80, 3), 200, np.uint8)
    both = side_by_side(a, b, "A: old", "B: new")
    bar = both.shape[0] - 60
    assert bar >= 18 and both.shape[1] == 2 * 80 + 4
    assert (both[bar:, :80] == 0).all() and (both[bar:, 84:] == 200).all()
    label_a, label_b = both[:bar, :80], both[:bar, 84:]
    assert label_a.max() > 200 and label_b.max() > 200  # white text drawn on each bar
    assert not np.array_equal(side_by_side(a, b, "A: old", "B: newer")[:bar, 84:], label_b)


def test_side_by_side_refuses_different_sizes():
    with pytest.raises(InputError, match="differ in size"):
        side_by_side(np.zeros((4, 4, 3), np.uint8), np.zeros((4, 5, 3), np.uint8), "a", "b")


def test_long_labels_are_cut_to_fit():
    out = side_by_side(np.zeros((40, 60, 3), np.uint8), np.zeros((40, 60, 3), np.uint8),
                       "A: " + "x" * 200, "B")
    assert out.shape[1] == 124  # the label did not widen the picture


def test_cli_compare_writes_a_b_and_side_by_side(models, photos, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["colorize", *map(str, photos), "--out-dir", str(out), "--model",
                 str(models[0]), "--compare", str(models[1]), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["a"]["model"].endswith("warm.onnx") and doc["b"]["model"].endswith("cold.onnx")
    assert len(doc["results"]) == 2
    for photo in photos:
        path_a, path_b, path_ab = compare_outputs(out / f"{photo.stem}.png")
        a, b, both = read_image(path_a), read_image(path_b), read_image(path_ab)
        assert a.shape == b.shape == read_image(photo).shape + (3,)
        assert _mean_a(a) > 10 and _mean_a(b) < -10  # A is the warm model, B the cold one
        bar = both.shape[0] - a.shape[0]
        assert np.array_equal(both[bar:, : a.shape[1]], a)
        assert np.array_equal(both[bar:, -b.shape[1]:], b)


def test_cli_compare_defaults_a_to_the_shipped_model(models, photos, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["colorize", str(photos[0]), "--out-dir", str(out), "--compare",
                 str(models[1]), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["a"]["model"].endswith("colorizer.onnx")
    shipped = Colorizer(None).colorize(read_image(photos[0]))
    assert np.abs(read_image(out / "cam_A.png").astype(int) - shipped).max() <= 1


def test_cli_compare_reports_a_bad_photo_and_keeps_going(models, photos, tmp_path, capsys):
    bad = photos[0].parent / "broken.png"
    bad.write_bytes(b"not a png")
    out = tmp_path / "out"
    code = main(["colorize", str(bad), *map(str, photos), "--out-dir", str(out), "--model",
                 str(models[0]), "--compare", str(models[1])])
    assert code == 2
    assert "broken.png" in capsys.readouterr().err
    assert sorted(p.name for p in out.glob("*_A_vs_B.png")) == ["cam_A_vs_B.png",
                                                                 "moon_A_vs_B.png"]


@pytest.mark.parametrize("extra, message", [
    (["-o", "x.png"], "--out-dir"),
    (["--out-dir", "o", "--workers", "2"], "not with --workers"),
])
def test_cli_compare_usage_errors(models, photos, tmp_path, capsys, extra, message):
    code = main(["colorize", str(photos[0]), "--compare", str(models[1]),
                 *[str(tmp_path / e) if e in ("x.png", "o") else e for e in extra]])
    assert code == 2
    assert message in capsys.readouterr().err


def test_cli_compare_refuses_a_video(models, tmp_path, capsys):
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"")
    code = main(["colorize", str(clip), "--out-dir", str(tmp_path / "o"), "--compare",
                 str(models[1])])
    assert code == 2
    assert "not videos" in capsys.readouterr().err


def test_cli_compare_with_a_missing_b_model_is_one_line(photos, tmp_path, capsys):
    code = main(["colorize", str(photos[0]), "--out-dir", str(tmp_path / "o"), "--compare",
                 str(tmp_path / "nope.onnx")])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "nope.onnx" in err[0]
