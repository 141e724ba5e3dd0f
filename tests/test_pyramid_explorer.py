"""The Pyramid panel's computations without a window, and `workbench pyramid`."""

from __future__ import annotations

import json

import numpy as np
import pytest
from skimage import data

from workbench.cli import main
from workbench.errors import WorkbenchError
from workbench.imaging.io import read_image, write_image
from workbench.pyramid import levels as pyr
from workbench.pyramid.explorer import (
    PyramidParams,
    compute,
    display_level,
    export_levels,
    make_mask,
    match_second_image,
)


@pytest.fixture(scope="module")
def camera():
    return data.camera()[::2, ::2].copy()  # 256×256 uint8 gray


def test_gaussian_levels_match_the_core(camera):
    result = compute(camera, PyramidParams("gaussian", 5))
    expected = pyr.gaussian_pyramid(camera, 5)
    assert len(result.levels) == 5
    for got, want in zip(result.levels, expected, strict=True):
        np.testing.assert_array_equal(got, want)
    assert result.signed == [False] * 5


def test_laplacian_bands_are_computed_coarse_to_fine_and_reconstruct(camera):
    seen = []
    result = compute(camera, PyramidParams("laplacian", 5, 1.4, 7),
                     check=lambda f, m: seen.append(m))
    want = pyr.laplacian_pyramid(camera, 5, sigma=1.4, kernel_size=7)
    for got, ref in zip(result.levels, want, strict=True):
        np.testing.assert_allclose(got, ref, atol=1e-4)
    laplacian_steps = [m for m in seen if m.startswith("Laplacian")]
    assert laplacian_steps == [f"Laplacian level {k}" for k in (3, 2, 1, 0)]
    assert result.reconstruction_error is not None and result.reconstruction_error <= 1
    assert result.signed == [True] * 4 + [False]


def test_cancelling_between_levels_stops_the_work(camera):
    class Stop(Exception):
        pass

    def check(fraction, message):
        if message == "Gaussian level 2":
            raise Stop

    with pytest.raises(Stop):
        compute(camera, PyramidParams("gaussian", 6), check=check)


def test_blend_with_a_half_mask_keeps_each_side(camera):
    other = np.full_like(camera, 200)
    mask = make_mask("left half", camera.shape)
    result = compute(camera, PyramidParams("blend", 5), image_b=other, mask=mask)
    out = result.blended.astype(float)
    assert np.abs(out[:, :60] - camera[:, :60]).mean() < 4  # far left: image A
    assert np.abs(out[:, -60:] - 200).mean() < 4  # far right: image B


def test_signed_bands_are_shown_on_mid_gray_with_contrast():
    band = np.array([[-10.0, 0.0, 10.0]], np.float32)
    shown = display_level(band, True, np.dtype(np.uint8), contrast=2)
    assert shown.tolist() == [[108, 128, 148]]
    shown16 = display_level(band * 257, True, np.dtype(np.uint16), contrast=2)
    assert shown16.tolist() == [[108, 128, 148]]


def test_second_image_is_matched_to_the_first():
    first = np.zeros((40, 60, 3), np.uint16)
    second = np.full((20, 30), 255, np.uint8)
    matched = match_second_image(first, second)
    assert matched.shape == first.shape and matched.dtype == np.uint16
    assert matched.min() == 65535


def test_export_keeps_16_bit_and_writes_signed_bands_as_float_tiff(tmp_path):
    image = (np.arange(64 * 48, dtype=np.uint32).reshape(48, 64) * 20).astype(np.uint16)
    g = compute(image, PyramidParams("gaussian", 3))
    files = export_levels(g, tmp_path, stem="g")
    assert [f.name for f in files] == ["g_0.png", "g_1.png", "g_2.png"]
    assert read_image(files[1]).dtype == np.uint16
    np.testing.assert_array_equal(read_image(files[1]), g.levels[1])
    lap = compute(image, PyramidParams("laplacian", 3))
    files = export_levels(lap, tmp_path, stem="l")
    assert [f.suffix for f in files] == [".tif", ".tif", ".png"]  # signed bands, then top level
    assert read_image(files[2]).dtype == np.uint16
    band = read_image(files[0])
    assert band.dtype == np.float32 and band.min() < 0
    np.testing.assert_allclose(band, lap.levels[0])


def test_export_to_missing_folder_is_a_user_error(camera, tmp_path):
    result = compute(camera, PyramidParams("gaussian", 2))
    with pytest.raises(WorkbenchError, match="does not exist"):
        export_levels(result, tmp_path / "nope")


def test_cli_pyramid_writes_one_file_per_level(camera, tmp_path, capsys):
    src = tmp_path / "cam.png"
    write_image(src, camera)
    out = tmp_path / "levels"
    assert main(["pyramid", str(src), "--levels", "4", "--out-dir", str(out), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [p.split("/")[-1] for p in doc["files"]] == [f"cam_{k}.png" for k in range(4)]
    shapes = [read_image(p).shape for p in doc["files"]]
    assert shapes == [(256, 256), (128, 128), (64, 64), (32, 32)]
    assert main(["pyramid", str(src), "--levels", "3", "--out-dir", str(out), "--kind",
                 "laplacian", "--sigma", "1.2", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["reconstruction_error"] <= 1
    assert doc["files"][0].endswith(".tif")


@pytest.mark.parametrize("extra,needle", [
    (["--levels", "0"], "levels"),
    (["--levels", "3", "--kernel-size", "4"], "odd"),
    (["--levels", "3", "--sigma", "-1"], "sigma"),
])
def test_cli_pyramid_bad_parameters_exit_2(camera, tmp_path, capsys, extra, needle):
    src = tmp_path / "cam.png"
    write_image(src, camera)
    code = main(["pyramid", str(src), "--out-dir", str(tmp_path / "o"), *extra])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0]
