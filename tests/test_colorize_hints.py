"""User colour hints (issue 16): parsing, JSON, validation, rasterizing, the hint contract, the
engine's hint API and suggestions, the command line, and the shipped hint model.

Tiny hint-taking ONNX models come from :func:`onnx_models.hint_model` (``ab`` equals the hint's
colour exactly where a hint is), so these run without torch.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from onnx_models import ab_model, bins_model, hint_model

from workbench.cli import main
from workbench.colorize.bins import ab_gamut_bins
from workbench.colorize.contract import (
    ModelContractError,
    TensorSpec,
    contract_metadata,
    resolve_contract,
)
from workbench.colorize.engine import Colorizer, shipped_hint_model_path
from workbench.colorize.hints import (
    HINT_CELL,
    Hint,
    HintError,
    format_hint,
    hint_ab,
    load_hints,
    parse_hint,
    rasterize,
    save_hints,
    validate_hints,
)
from workbench.errors import InputError
from workbench.imaging.io import read_image, write_image

RED = (220, 30, 30)

# ------------------------------------------------------------------------------ parsing, JSON


def test_parse_hint_reads_x_y_and_hex_colour():
    assert parse_hint("120,45,#d03020") == Hint(120.0, 45.0, (208, 48, 32))
    assert parse_hint(" 1.5, 2 ,00FF7f ") == Hint(1.5, 2.0, (0, 255, 127))
    assert format_hint(Hint(120, 45, (208, 48, 32))) == "120,45,#d03020"


@pytest.mark.parametrize("text", ["", "1,2", "1,2,#12345", "1,2,#gggggg", "a,2,#ffffff",
                                  "1,2,3,#ffffff", "nan,2,#ffffff", "1,inf,#ffffff"])
def test_parse_hint_rejects_malformed_text_in_one_line(text):
    with pytest.raises(HintError) as info:
        parse_hint(text)
    assert "\n" not in str(info.value)
    assert isinstance(info.value, InputError)  # the CLI's exit-2 family


def test_hints_json_round_trip(tmp_path):
    hints = [Hint(3, 4, (1, 2, 3)), Hint(10.5, 0, (255, 0, 128))]
    path = tmp_path / "h.json"
    save_hints(path, hints)
    doc = json.loads(path.read_text())
    assert doc == [{"x": 3, "y": 4, "rgb": [1, 2, 3]}, {"x": 10.5, "y": 0, "rgb": [255, 0, 128]}]
    assert load_hints(path) == hints
    save_hints(path, [])
    assert load_hints(path) == []


def test_load_hints_ignores_extra_keys(tmp_path):
    path = tmp_path / "h.json"
    path.write_text('[{"x": 1, "y": 2, "rgb": [3, 4, 5], "pinned": true}]')
    assert load_hints(path) == [Hint(1, 2, (3, 4, 5))]


@pytest.mark.parametrize("text, match", [
    ("[{", "not valid JSON"),
    ('{"x": 1}', "JSON list"),
    ("[1]", "object"),
    ('[{"x": 1, "rgb": [1, 2, 3]}]', "lacks y"),
    ('[{"x": "a", "y": 1, "rgb": [1, 2, 3]}]', "number"),
    ('[{"x": 1, "y": 1, "rgb": [1, 2]}]', "three integers"),
    ('[{"x": 1, "y": 1, "rgb": [1, 2, 3.5]}]', "three integers"),
    ('[{"x": 1, "y": 1, "rgb": [1, 2, 300]}]', "0..255"),
    ('[{"x": 1, "y": 1, "rgb": [-1, 2, 3]}]', "0..255"),
])
def test_load_hints_rejects_bad_files_in_one_line(tmp_path, text, match):
    path = tmp_path / "h.json"
    path.write_text(text)
    with pytest.raises(HintError, match=match) as info:
        load_hints(path)
    assert "\n" not in str(info.value)


def test_load_hints_of_a_missing_file(tmp_path):
    with pytest.raises(HintError, match="not found"):
        load_hints(tmp_path / "nope.json")


# ------------------------------------------------------------------------------ validate, rasterize


def test_validate_hints_rejects_points_outside_and_bad_colours():
    validate_hints([Hint(0, 0, (0, 0, 0)), Hint(99.9, 49.9, (255, 255, 255))], 100, 50)
    for bad in (Hint(100, 0, RED), Hint(0, 50, RED), Hint(-0.1, 3, RED),
                Hint(float("nan"), 3, RED)):
        with pytest.raises(HintError, match="hint 2"):
            validate_hints([Hint(1, 1, RED), bad], 100, 50)
    with pytest.raises(HintError, match="outside the 100x50 image"):
        validate_hints([Hint(100, 0, RED)], 100, 50)
    for colour in ((256, 0, 0), (0, -1, 0), (1, 2), (1.5, 2, 3)):
        with pytest.raises(HintError, match="colour"):
            validate_hints([Hint(1, 1, colour)], 100, 50)


def test_rasterize_paints_one_output_cell_per_hint_with_its_ab():
    ab, mask = rasterize([Hint(0, 0, RED), Hint(199, 99, (20, 40, 220))], (100, 200), (64, 64))
    assert ab.shape == (1, 2, 64, 64) and mask.shape == (1, 1, 64, 64)
    assert ab.dtype == mask.dtype == np.float32
    assert mask.sum() == 2 * HINT_CELL ** 2
    assert mask[0, 0, :4, :4].all() and mask[0, 0, 60:, 60:].all()
    np.testing.assert_allclose(ab[0, :, 0, 0], hint_ab(RED), atol=1e-4)
    np.testing.assert_allclose(ab[0, :, 63, 63], hint_ab((20, 40, 220)), atol=1e-4)
    assert hint_ab(RED)[0] > 40  # red: a* strongly positive
    assert np.all(ab[:, :, mask[0, 0] == 0] == 0)


def test_rasterize_averages_hints_in_one_cell_and_is_empty_without_hints():
    ab, mask = rasterize([Hint(0, 0, (255, 0, 0)), Hint(1, 1, (0, 0, 255))], (64, 64), (64, 64))
    assert mask.sum() == HINT_CELL ** 2
    expected = (np.array(hint_ab((255, 0, 0))) + np.array(hint_ab((0, 0, 255)))) / 2
    np.testing.assert_allclose(ab[0, :, 0, 0], expected, atol=1e-4)
    ab, mask = rasterize([], (10, 10), (32, 32))
    assert not ab.any() and not mask.any()
    with pytest.raises(HintError):
        rasterize([Hint(10, 0, RED)], (10, 10), (32, 32))


# ------------------------------------------------------------------------------ contract


def _specs(*items):
    return [TensorSpec(n, s, "float32") for n, s in items]


def test_contract_recognises_a_hint_model_by_metadata_and_by_names():
    inputs = _specs(("L", (1, 1, 64, 64)), ("hint_ab", (1, 2, 64, 64)),
                    ("hint_mask", (1, 1, 64, 64)))
    outputs = _specs(("ab", (1, 2, 64, 64)))
    declared = resolve_contract(inputs, outputs, contract_metadata("ab", hints=True))
    assert declared.takes_hints and declared.input_name == "L"
    assert (declared.hint_ab_name, declared.hint_mask_name) == ("hint_ab", "hint_mask")
    assert "workbench.hints" in declared.from_metadata
    assert "colour hints" in declared.describe()
    by_names = resolve_contract(list(reversed(inputs)), outputs)
    assert by_names.takes_hints and by_names.input_name == "L"
    assert any("input names" in n for n in by_names.notes)
    plain = resolve_contract(inputs[:1], outputs)
    assert not plain.takes_hints
    assert "not taken" in plain.describe()
    assert contract_metadata("ab", hints=True)["workbench.hints"] == "ab-mask"
    assert "workbench.hints" not in contract_metadata("ab")


def test_contract_rejects_hint_metadata_without_hint_inputs_and_bad_hint_shapes():
    outputs = _specs(("ab", (1, 2, 64, 64)))
    with pytest.raises(ModelContractError, match="lacks the inputs"):
        resolve_contract(_specs(("L", (1, 1, 64, 64))), outputs,
                         contract_metadata("ab", hints=True))
    with pytest.raises(ModelContractError, match="hint input 'hint_ab'"):
        resolve_contract(_specs(("L", (1, 1, 64, 64)), ("hint_ab", (1, 3, 64, 64)),
                                ("hint_mask", (1, 1, 64, 64))), outputs)
    with pytest.raises(ModelContractError, match="workbench.hints must be"):
        resolve_contract(_specs(("L", (1, 1, 64, 64))), outputs, {"workbench.hints": "dots"})


# ------------------------------------------------------------------------------ engine


@pytest.fixture
def hinted(tmp_path):
    return Colorizer(hint_model(tmp_path / "hint.onnx"), provider="cpu", threads=1)


@pytest.fixture
def gray():
    ramp = np.linspace(40, 200, 120, dtype=np.float32)
    return np.tile(ramp, (80, 1)).astype(np.uint8)  # 80 x 120


def test_engine_takes_hints_and_the_hinted_pixel_gets_the_hint_colour(hinted, gray):
    assert hinted.takes_hints
    plain = hinted.predict(gray)
    result = hinted.predict(gray, [Hint(60, 40, RED)])
    assert result.hints == (Hint(60, 40, RED),) and plain.hints == ()
    out, before = result.recolor(), plain.recolor()
    r, g, b = (int(v) for v in out[40, 60])
    assert r > g + 40 and r > b + 40  # red
    assert out[40, 60, 0] > before[40, 60, 0] + 30
    assert np.array_equal(out[5, 5], before[5, 5])  # far away: untouched by this model
    # T and saturation re-decode the kept result without a network run
    grey = result.recolor(saturation=0.0)
    assert np.ptp(grey[40, 60].astype(int)) <= 2


def test_empty_hints_equal_no_hints(hinted, gray):
    none = hinted.predict(gray).recolor()
    assert np.array_equal(hinted.predict(gray, []).recolor(), none)
    assert np.array_equal(hinted.colorize(gray, hints=[]), none)


def test_an_l_only_model_refuses_hints_cleanly_and_still_works(tmp_path, gray):
    colorizer = Colorizer(ab_model(tmp_path / "ab.onnx"), provider="cpu", threads=1)
    assert not colorizer.takes_hints
    with pytest.raises(HintError, match="^this model takes no colour hints$"):
        colorizer.predict(gray, [Hint(1, 1, RED)])
    out = colorizer.predict(gray, []).recolor()
    assert out.shape == (80, 120, 3)
    assert np.array_equal(out, colorizer.colorize(gray))


def test_engine_rejects_hints_outside_the_image(hinted, gray):
    with pytest.raises(HintError, match="outside the 120x80 image"):
        hinted.predict(gray, [Hint(120, 10, RED)])
    with pytest.raises(HintError, match="colour"):
        hinted.predict(gray, [Hint(1, 1, (0, 0, 999))])


def test_hints_are_placed_by_input_pixel_coordinates_on_non_square_images(hinted, gray):
    # 120 x 80 image on a 64 x 64 network: the hint lands in the right place after resizing
    out = hinted.predict(gray, [Hint(119, 79, (30, 30, 220))]).recolor()
    assert out[79, 119, 2] > out[79, 119, 0] + 40  # blue at the corner
    assert out[0, 0, 2] < out[0, 0, 0] + 40


def test_suggestions_are_the_modes_of_the_distribution_strongest_first(tmp_path):
    centres = ab_gamut_bins()
    q = len(centres)
    first = int(np.argmin(np.hypot(centres[:, 0] - 60, centres[:, 1] - 50)))   # red-orange
    second = int(np.argmin(np.hypot(centres[:, 0] + 40, centres[:, 1] - 40)))  # green
    d1 = np.hypot(*(centres - centres[first]).T)
    d2 = np.hypot(*(centres - centres[second]).T)
    offsets = np.maximum(6 - d1 / 8, 4 - d2 / 8)  # two peaks, the first higher
    path = bins_model(tmp_path / "b.onnx", q, offsets=offsets, softmax=True,
                      metadata=contract_metadata("bins", bin_centres=centres))
    colorizer = Colorizer(path, provider="cpu", threads=1)
    image = np.full((40, 60), 140, np.uint8)
    result = colorizer.predict(image)
    colours = result.suggestions(30, 20, k=5)
    assert 2 <= len(colours) <= 5 and len(set(colours)) == len(colours)
    r, g, b = colours[0]
    assert r > g and r > b  # the strongest mode: red-orange
    r, g, b = colours[1]
    assert g > r and g > b  # then the green one
    assert result.suggestions(30, 20, k=1) == colours[:1]
    with pytest.raises(HintError, match="outside"):
        result.suggestions(60, 0)


def test_suggestions_of_an_ab_model_are_its_prediction(hinted, gray):
    result = hinted.predict(gray, [Hint(60, 40, RED)])
    (colour,) = result.suggestions(60, 40)
    assert colour[0] > colour[1] + 40


# ------------------------------------------------------------------------------ command line


@pytest.fixture
def gray_file(tmp_path, gray):
    path = tmp_path / "gray.png"
    write_image(path, gray)
    return path


def test_cli_hint_colours_the_pixel(tmp_path, gray_file):
    model = hint_model(tmp_path / "hint.onnx")
    out = tmp_path / "out.png"
    assert main(["colorize", str(gray_file), "-o", str(out), "--model", str(model),
                 "--hint", "60,40,#dc1e1e", "--hint", "5,5,#1e1edc", "--provider", "cpu"]) == 0
    img = read_image(out)
    assert img[40, 60, 0] > img[40, 60, 2] + 40 and img[5, 5, 2] > img[5, 5, 0] + 40


def test_cli_hints_file_and_empty_list(tmp_path, gray_file, capsys):
    model = hint_model(tmp_path / "hint.onnx")
    hints = tmp_path / "h.json"
    save_hints(hints, [Hint(60, 40, RED)])
    a, b, c = (tmp_path / f"{n}.png" for n in "abc")
    assert main(["colorize", str(gray_file), "-o", str(a), "--model", str(model),
                 "--hints", str(hints), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["results"][0]["hints"] == 1
    assert main(["colorize", str(gray_file), "-o", str(b), "--model", str(model),
                 "--hint", "60,40,#dc1e1e"]) == 0
    assert np.array_equal(read_image(a), read_image(b))
    hints.write_text("[]")
    assert main(["colorize", str(gray_file), "-o", str(c), "--model", str(model),
                 "--hints", str(hints)]) == 0
    plain = Colorizer(model, provider="cpu").colorize(read_image(gray_file))
    assert np.array_equal(read_image(c), plain)


@pytest.mark.parametrize("args, match", [
    (["--hint", "500,5,#ff0000"], "outside the 120x80 image"),
    (["--hint", "5,5,red"], "expected X,Y,#RRGGBB"),
    (["--hints", "BAD_JSON"], "not valid JSON"),
    (["--hints", "BAD_COLOUR"], "0..255"),
    (["--hints", "MISSING"], "not found"),
    (["--hint", "5,5,#ff0000", "--model", "L_ONLY"], "takes no colour hints"),
    (["--hints", "EMPTY", "--model", "L_ONLY"], "takes no colour hints"),
])
def test_cli_bad_hints_are_one_line_errors_with_exit_2(tmp_path, gray_file, capsys, args,
                                                       match):
    (tmp_path / "bad.json").write_text('[{"x": 1, "y": 2, "rgb": [1, 2')
    (tmp_path / "colour.json").write_text('[{"x": 1, "y": 2, "rgb": [1, 2, 256]}]')
    (tmp_path / "empty.json").write_text("[]")
    subst = {"BAD_JSON": str(tmp_path / "bad.json"), "BAD_COLOUR": str(tmp_path / "colour.json"),
             "MISSING": str(tmp_path / "missing.json"), "EMPTY": str(tmp_path / "empty.json"),
             "L_ONLY": str(ab_model(tmp_path / "ab.onnx"))}
    args = [subst.get(a, a) for a in args]
    if "--model" not in args:
        args += ["--model", str(hint_model(tmp_path / "hint.onnx"))]
    out = tmp_path / "out.png"
    assert main(["colorize", str(gray_file), "-o", str(out), *args]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("workbench: error:") and match in err
    assert "\n" not in err and "Traceback" not in err
    assert not out.exists()


def test_cli_hints_need_one_image_and_o(tmp_path, gray_file, capsys):
    model = hint_model(tmp_path / "hint.onnx")
    assert main(["colorize", str(gray_file), "--out-dir", str(tmp_path / "o"), "--model",
                 str(model), "--hint", "1,1,#ff0000"]) == 2
    assert "one image" in capsys.readouterr().err


# ------------------------------------------------------------------------------ shipped hint model


@pytest.fixture(scope="module")
def shipped_hints():
    path = shipped_hint_model_path()
    if not path.exists():
        pytest.skip(f"the shipped hint model is not in this checkout ({path})")
    return Colorizer(path, provider="cpu", threads=2)


@pytest.fixture(scope="module")
def poster():
    from workbench.resources import sample_path

    return read_image(sample_path("rectify_poster.jpg"))[..., :3]


def test_shipped_hint_model_declares_hints_and_its_contract(shipped_hints):
    c = shipped_hints.contract
    assert shipped_hints.takes_hints
    assert c.input_name == "L" and (c.hint_ab_name, c.hint_mask_name) == ("hint_ab", "hint_mask")
    assert c.output == "bins" and c.num_bins == len(ab_gamut_bins())
    assert "workbench.hints" in c.from_metadata
    assert shipped_hints.model_path.stat().st_size < 20 * 2**20


def test_shipped_hint_model_turns_the_hinted_region_red(shipped_hints, poster):
    h, w = poster.shape[:2]
    x, y = w // 3, h // 2
    plain = shipped_hints.predict(poster).recolor()
    hinted = shipped_hints.predict(poster, [Hint(x, y, (200, 20, 20))]).recolor()
    from workbench.imaging.color import rgb_to_lab

    a_plain = rgb_to_lab(plain[y - 2:y + 3, x - 2:x + 3])[..., 1].mean()
    a_hint = rgb_to_lab(hinted[y - 2:y + 3, x - 2:x + 3])[..., 1].mean()
    assert a_hint > a_plain + 10  # redder (a* up) where the hint is


def test_shipped_hint_model_without_hints_equals_an_empty_list(shipped_hints, poster):
    assert np.array_equal(shipped_hints.predict(poster).recolor(),
                          shipped_hints.predict(poster, []).recolor())
    suggestions = shipped_hints.predict(poster).suggestions(10, 10)
    assert 1 <= len(suggestions) <= 5


def test_cli_with_hints_and_no_model_runs_the_shipped_hint_model(shipped_hints, tmp_path,
                                                                   capsys):
    from workbench.resources import sample_path

    out = tmp_path / "out.png"
    assert main(["colorize", str(sample_path("rectify_poster.jpg")), "-o", str(out),
                 "--hint", "10,10,#c81414", "--provider", "cpu", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["model"].endswith("colorizer_hints.onnx")
    assert read_image(out).shape[:2] == read_image(sample_path("rectify_poster.jpg")).shape[:2]
