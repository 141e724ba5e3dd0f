"""Tests for workbench.colorize: the model contract, inspection and the Colorizer engine.

Models are tiny ONNX graphs built by tests/onnx_models.py (1x1 convolutions whose outputs are
known functions of L), so every decoded colour can be computed by hand.
"""

from __future__ import annotations

import json
import os

import numpy as np
import onnx_models as models
import pytest
from skimage import data

from workbench.colorize import (
    ColorizeError,
    Colorizer,
    ModelContractError,
    ModelLoadError,
    contract_metadata,
    inspect_model,
)
from workbench.colorize.bins import ab_gamut_bins
from workbench.colorize.contract import TensorSpec, resolve_contract
from workbench.errors import WorkbenchError
from workbench.imaging.color import lightness, rgb_to_lab
from workbench.runtime import GPU_HELP

RNG = np.random.default_rng(7)


class CountingSession:
    """Wraps an ORT session and counts network runs."""

    def __init__(self, session):
        self._session = session
        self.runs = 0
        self.shapes: list[tuple[int, ...]] = []

    def run(self, names, feeds):
        self.runs += 1
        self.shapes.extend(v.shape for v in feeds.values())
        return self._session.run(names, feeds)

    def __getattr__(self, name):
        return getattr(self._session, name)


def _count(colorizer: Colorizer) -> CountingSession:
    counting = CountingSession(colorizer.session)
    colorizer.session = counting
    return counting


def _photo(height=120, width=160) -> np.ndarray:
    import cv2

    return cv2.resize(data.astronaut(), (width, height), interpolation=cv2.INTER_AREA)


# --------------------------------------------------------------------------------------------
# Contract from shapes and metadata


def test_eccv16_export_loads_unchanged(tmp_path):
    path = models.eccv16_standin(tmp_path / "eccv16.onnx", a=(0.5, -25.0), b=(-0.4, 20.0))
    colorizer = Colorizer(path, provider="cpu")
    c = colorizer.contract
    assert (c.output, c.input_height, c.input_width) == ("ab", 256, 256)
    assert (c.input_scale, c.input_offset, c.ab_scale) == (1.0, 0.0, 1.0)
    assert c.from_metadata == ()
    assert any("raw L in 0..100" in note for note in c.notes)
    grey = np.full((90, 130), 128, np.uint8)  # L = 53.585
    counting = _count(colorizer)
    out = colorizer.colorize(grey)
    assert out.shape == (90, 130, 3) and out.dtype == np.uint8
    assert counting.shapes == [(1, 1, 256, 256)]
    lab = rgb_to_lab(out)
    expected = [53.585, 0.5 * 53.585 - 25.0, -0.4 * 53.585 + 20.0]  # by hand: (1.79, -1.43)
    assert lab[45, 65] == pytest.approx(expected, abs=0.4)  # uint8 rounding


def test_ab_model_with_metadata_scaling(tmp_path):
    meta = contract_metadata("ab", input_scale=0.01, input_offset=-0.5, ab_scale=110.0)
    path = models.ab_model(tmp_path / "m.onnx", a=(0.2, 0.0), b=(0.0, -0.1), metadata=meta)
    colorizer = Colorizer(path, provider="cpu")
    c = colorizer.contract
    assert (c.input_scale, c.input_offset, c.ab_scale) == (0.01, -0.5, 110.0)
    assert "workbench.ab_scale" in c.from_metadata
    grey = np.full((40, 40), 0.5, np.float32)  # L = 53.389; x = 0.03389
    out = colorizer.colorize(grey)
    a_hand = 110 * 0.2 * (53.389 * 0.01 - 0.5)  # 0.746
    b_hand = 110 * -0.1  # -11
    assert rgb_to_lab(out)[20, 20] == pytest.approx([53.389, a_hand, b_hand], abs=0.4)


def test_dynamic_model_runs_at_short_side_multiple(tmp_path):
    path = models.ab_model(tmp_path / "dyn.onnx", height=None, width=None)
    colorizer = Colorizer(path, provider="cpu")
    c = colorizer.contract
    assert c.dynamic and c.short_side == 256 and c.size_multiple == 32
    assert c.run_size(480, 640) == (256, 352)  # 640 * 256 / 480 = 341.3 -> 352
    assert c.run_size(1080, 1920) == (256, 448)  # 455.1 -> 448
    assert c.run_size(100, 5000) == (256, 1024)  # long side capped at 4 short sides
    counting = _count(colorizer)
    image = _photo(480, 640)
    assert colorizer.colorize(image).shape == (480, 640, 3)
    assert counting.shapes == [(1, 1, 256, 352)]
    small = Colorizer(path, provider="cpu", short_side=128)
    counting = _count(small)
    small.colorize(image)
    assert counting.shapes == [(1, 1, 128, 160)]  # 170.7 -> 160


def test_metadata_input_size_and_multiple(tmp_path):
    meta = contract_metadata("ab", input_size=(96, 128), size_multiple=8)
    colorizer = Colorizer(models.ab_model(tmp_path / "m.onnx", height=None, width=None,
                                          metadata=meta), provider="cpu")
    counting = _count(colorizer)
    colorizer.colorize(_photo(300, 200))
    assert counting.shapes == [(1, 1, 96, 128)]
    meta = contract_metadata("ab", input_size=200, size_multiple=8)
    c = Colorizer(models.ab_model(tmp_path / "n.onnx", height=None, width=None, metadata=meta),
                  provider="cpu").contract
    assert c.run_size(300, 400) == (200, 264)  # 266.7 -> 264 (multiple of 8)


def test_low_resolution_output_is_upsampled(tmp_path):
    path = models.ab_model(tmp_path / "pool.onnx", height=None, width=None, pool=4)
    colorizer = Colorizer(path, provider="cpu")
    result = colorizer.predict(_photo(200, 300))
    assert result.output.shape == (2, 64, 96)  # run at 256 x 384, pooled by 4
    assert result.recolor().shape == (200, 300, 3)


def _bins_meta(centres, output="logits", **kw):
    return contract_metadata(output, bin_centres=centres, **kw)


CENTRES = np.array([[0.0, 0.0], [30.0, 0.0], [0.0, 30.0], [-20.0, -20.0]])


def test_bins_model_decodes_by_annealed_mean(tmp_path):
    p = np.array([0.1, 0.5, 0.3, 0.1])  # the same at every pixel: zero slopes
    path = models.bins_model(tmp_path / "bins.onnx", 4, offsets=np.log(p),
                             metadata=_bins_meta(CENTRES))
    colorizer = Colorizer(path, provider="cpu")
    assert colorizer.contract.output == "logits" and colorizer.contract.num_bins == 4
    result = colorizer.predict(np.full((20, 30), 128, np.uint8))
    mean = p @ CENTRES  # T = 1: the mean, (13, 7)
    assert result.ab(temperature=1.0)[3, 4] == pytest.approx(mean, abs=1e-4)
    assert result.ab(temperature=0.0)[3, 4] == pytest.approx(CENTRES[1], abs=1e-6)  # the mode
    sharp = p ** (1 / 0.38) / np.sum(p ** (1 / 0.38))
    assert result.ab()[3, 4] == pytest.approx(sharp @ CENTRES, abs=1e-4)  # default T = 0.38
    assert result.ab(1.0, saturation=0.5)[0, 0] == pytest.approx(mean * 0.5, abs=1e-4)
    lab = rgb_to_lab(result.recolor(temperature=1.0))
    assert lab[10, 15] == pytest.approx([53.585, *mean], abs=0.4)


def test_decoding_is_stable_for_scores_far_apart_across_pixels(tmp_path):
    # every logit gets 10 * L: the same distribution at every pixel, but a dark pixel's
    # scores sit ~1000 below a bright one's, so a shift by the global maximum underflows
    p = np.array([0.1, 0.5, 0.3, 0.1])
    path = models.bins_model(tmp_path / "b.onnx", 4, slopes=[10.0] * 4, offsets=np.log(p),
                             metadata=_bins_meta(CENTRES))
    ramp = np.tile(np.linspace(0, 255, 32).astype(np.uint8), (32, 1))
    result = Colorizer(path, provider="cpu").predict(ramp)
    assert np.ptp(result.output) > 900
    sharp = p ** (1 / 0.38) / np.sum(p ** (1 / 0.38))
    ab = result.ab(0.38)
    assert np.all(np.isfinite(ab))
    assert ab.reshape(-1, 2) == pytest.approx(np.tile(sharp @ CENTRES, (32 * 32, 1)), abs=1e-3)


def test_bins_without_metadata_use_gamut_bins_and_detect_probabilities(tmp_path):
    q = len(ab_gamut_bins())
    offsets = RNG.normal(0, 1, q)
    probs = Colorizer(models.bins_model(tmp_path / "p.onnx", q, offsets=offsets, softmax=True),
                      provider="cpu")
    logits = Colorizer(models.bins_model(tmp_path / "l.onnx", q, offsets=offsets),
                       provider="cpu")
    assert probs.contract.output == "bins" and logits.contract.output == "logits"
    for c in (probs.contract, logits.contract):
        assert np.array_equal(c.bin_centres, ab_gamut_bins())
        assert any("grid-10" in note for note in c.notes) and not c.scores_undecided
    grey = np.full((16, 16), 100, np.uint8)
    for t in (0.1, 0.38, 1.0):
        assert probs.predict(grey).ab(t) == pytest.approx(logits.predict(grey).ab(t), abs=1e-3)


def test_bins_without_metadata_of_unknown_count_is_refused(tmp_path):
    with pytest.raises(ModelContractError, match=r"7 ab bins.*261"):
        Colorizer(models.bins_model(tmp_path / "b.onnx", 7), provider="cpu")


def test_declared_centres_must_match_channels(tmp_path):
    path = models.bins_model(tmp_path / "b.onnx", 5, metadata=_bins_meta(CENTRES))
    with pytest.raises(ModelContractError, match="4 bin centres.*5 channels"):
        Colorizer(path, provider="cpu")


def test_contract_metadata_round_trip(tmp_path):
    meta = _bins_meta(CENTRES, "bins", input_scale=0.02, input_offset=-1, temperature=0.6)
    path = models.bins_model(tmp_path / "b.onnx", 4, softmax=True, metadata=meta)
    c = Colorizer(path, provider="cpu").contract
    assert c.bin_centres.tolist() == CENTRES.tolist()
    assert (c.output, c.temperature, c.input_scale, c.input_offset) == ("bins", 0.6, 0.02, -1.0)
    assert set(c.from_metadata) >= {"workbench.bin_centres", "workbench.temperature"}


@pytest.mark.parametrize(
    ("build", "pattern"),
    [
        (models.rgb_input_model, r"Expected one input of shape \(N, 1, H, W\).*3 channels"),
        (models.rank3_model, r"Expected one input of shape \(N, 1, H, W\).*rank 3"),
        (models.one_channel_output_model, r"\(N, 2, h, w\).*\(1, 1, 64, 64\) with 1 channel"),
    ],
)
def test_bad_models_give_a_contract_error(tmp_path, build, pattern):
    path = build(tmp_path / "bad.onnx")
    with pytest.raises(ModelContractError, match=pattern) as caught:
        Colorizer(path, provider="cpu")
    assert isinstance(caught.value, WorkbenchError)
    info = inspect_model(path)  # inspection still describes it
    assert info.contract is None and "Expected" in info.contract_error


def test_contract_errors_from_specs():
    good_in = [TensorSpec("L", (1, 1, "h", "w"), "float32")]
    with pytest.raises(ModelContractError, match="found 2"):
        resolve_contract(good_in * 2, [TensorSpec("ab", (1, 2, 8, 8), "float32")])
    with pytest.raises(ModelContractError, match="floating-point input"):
        resolve_contract([TensorSpec("L", (1, 1, 8, 8), "uint8")],
                         [TensorSpec("ab", (1, 2, 8, 8), "float32")])
    with pytest.raises(ModelContractError, match="dynamic"):
        resolve_contract(good_in, [TensorSpec("out", (1, "c", 8, 8), "float32")])
    with pytest.raises(ModelContractError, match="only 'L'"):
        resolve_contract(good_in, [TensorSpec("ab", (1, 2, 8, 8), "float32")],
                         {"workbench.input": "RGB"})
    with pytest.raises(ModelContractError, match="input_size"):
        resolve_contract(good_in, [TensorSpec("ab", (1, 2, 8, 8), "float32")],
                         {"workbench.input_size": "big"})
    c = resolve_contract(good_in, [TensorSpec("out", (1, "c", 8, 8), "float32")],
                         {"workbench.output": "ab"})
    assert c.output == "ab" and c.output_channels == 2


# --------------------------------------------------------------------------------------------
# Files that are not usable models


def test_ir_version_onnx_runtime_refuses(tmp_path):
    path = models.ab_model(tmp_path / "ir14.onnx", ir_version=14)
    with pytest.raises(ModelLoadError, match=r"IR version 14.*up to IR version 13"):
        Colorizer(path, provider="cpu")
    assert inspect_model(path).ir_version == 14


@pytest.mark.parametrize(
    ("content", "pattern"),
    [
        (b"", "empty"),
        (b"\xff\xd8\xff\xe0 a jpeg, not a model", "not an ONNX model"),
        (b"just some text\n" * 20, "not an ONNX model"),
    ],
)
def test_corrupt_files(tmp_path, content, pattern):
    path = tmp_path / "model.onnx"
    path.write_bytes(content)
    with pytest.raises(ModelLoadError, match=pattern):
        inspect_model(path)
    with pytest.raises(ModelLoadError):
        Colorizer(path, provider="cpu")


def test_truncated_model(tmp_path):
    path = models.realistic_model(tmp_path / "r.onnx", size=64)
    data_bytes = path.read_bytes()
    path.write_bytes(data_bytes[: len(data_bytes) // 2])
    with pytest.raises(ModelLoadError, match="not an ONNX model"):
        inspect_model(path)
    with pytest.raises(ModelLoadError):
        Colorizer(path, provider="cpu")


def test_missing_files_and_the_shipped_model(tmp_path, monkeypatch):
    with pytest.raises(ModelLoadError, match="does not exist"):
        Colorizer(tmp_path / "nope.onnx")
    with pytest.raises(ModelLoadError, match="not a file"):
        Colorizer(tmp_path)
    monkeypatch.setenv("WORKBENCH_RESOURCES", str(tmp_path))
    with pytest.raises(ModelLoadError, match="ships with Workbench is not installed"):
        Colorizer()


# --------------------------------------------------------------------------------------------
# Providers


def test_cuda_requested_without_a_gpu_falls_back_with_a_note(tmp_path):
    from workbench.runtime import usable_providers

    if "CUDAExecutionProvider" in usable_providers():
        pytest.skip("CUDA works on this machine; the fallback cannot be observed")
    colorizer = Colorizer(models.ab_model(tmp_path / "m.onnx"), provider="cuda")
    assert colorizer.provider == "cpu" and colorizer.fell_back
    assert colorizer.provider_note.startswith("CPU (CUDA unavailable: ")
    assert GPU_HELP in colorizer.provider_note
    assert colorizer.session.get_providers() == ["CPUExecutionProvider"]
    auto = Colorizer(models.ab_model(tmp_path / "n.onnx"))
    assert auto.provider == "cpu" and not auto.fell_back and "CPU" in auto.provider_note
    cpu = Colorizer(models.ab_model(tmp_path / "o.onnx"), provider="cpu")
    assert cpu.provider_note == "CPU (as requested)"


def test_unknown_provider_and_bad_knobs(tmp_path):
    path = models.ab_model(tmp_path / "m.onnx")
    with pytest.raises(ColorizeError, match="provider must be one of"):
        Colorizer(path, provider="gpu")
    colorizer = Colorizer(path, provider="cpu", threads=1)
    with pytest.raises(ColorizeError, match="temperature"):
        colorizer.colorize(np.zeros((8, 8), np.uint8), temperature=-1)
    with pytest.raises(ColorizeError, match="saturation"):
        colorizer.colorize(np.zeros((8, 8), np.uint8), saturation=float("nan"))
    with pytest.raises(ColorizeError, match="shape"):
        colorizer.colorize(np.zeros((8, 8, 2), np.uint8))
    with pytest.raises(ColorizeError, match="dtype"):
        colorizer.colorize(np.zeros((8, 8), np.int32))
    with pytest.raises(ColorizeError, match="numpy array"):
        colorizer.colorize([[0, 1], [2, 3]])


# --------------------------------------------------------------------------------------------
# Pipeline: sizes, L preserved, alpha, caching, uncertainty, I/O binding


@pytest.mark.parametrize(
    "image",
    [
        _photo(),  # RGB uint8
        _photo()[..., 0],  # grey uint8
        (_photo()[..., 1].astype(np.uint16) * 257),  # grey uint16
        _photo().astype(np.float32) / 255,  # RGB float
        np.dstack([_photo(), np.full((120, 160), 200, np.uint8)]),  # RGBA
    ],
    ids=["rgb-u8", "grey-u8", "grey-u16", "rgb-float", "rgba-u8"],
)
def test_output_keeps_the_input_lightness(tmp_path, image):
    # strong ab (|a|, |b| up to ~50) so that many pixels leave the sRGB gamut at their L
    path = models.ab_model(tmp_path / "m.onnx", height=None, width=None, pool=2,
                           a=(1.0, -50.0), b=(-1.0, 50.0))
    colorizer = Colorizer(path, provider="cpu")
    out = colorizer.colorize(image)
    assert out.shape == image.shape[:2] + (3,) and out.dtype == np.uint8
    assert np.abs(lightness(out) - lightness(image)).max() < 0.3  # uint8 rounding only
    assert rgb_to_lab(out)[..., 1:].std() > 5  # and it is colourful
    if image.ndim == 3 and image.shape[2] == 4:
        assert np.array_equal(colorizer.last_result.alpha, image[..., 3])
    else:
        assert colorizer.last_result.alpha is None


@pytest.mark.parametrize("shape", [(1, 1), (1, 9), (7, 1), (3, 5, 3), (37, 53)])
def test_tiny_and_odd_sizes(tmp_path, shape):
    colorizer = Colorizer(models.ab_model(tmp_path / "m.onnx", height=None, width=None),
                          provider="cpu")
    image = RNG.integers(0, 256, shape, dtype=np.uint8)
    out = colorizer.colorize(image)
    assert out.shape == shape[:2] + (3,)
    assert np.abs(lightness(out) - lightness(image)).max() < 0.3


def test_saturation(tmp_path):
    colorizer = Colorizer(models.ab_model(tmp_path / "m.onnx"), provider="cpu")
    result = colorizer.predict(_photo())
    grey = result.recolor(saturation=0.0)
    assert np.abs(rgb_to_lab(grey)[..., 1:]).max() < 1.0
    assert np.abs(lightness(grey) - result.lightness).max() < 0.3
    chroma = []
    for s in (0.5, 1.0, 1.5):
        lab = rgb_to_lab(result.recolor(saturation=s))
        chroma.append(np.hypot(lab[..., 1], lab[..., 2]).mean())
    assert chroma[0] < chroma[1] < chroma[2]


def test_temperature_change_does_not_rerun_the_network(tmp_path):
    q = len(ab_gamut_bins())
    path = models.bins_model(tmp_path / "b.onnx", q, slopes=RNG.normal(0, 0.05, q),
                             offsets=RNG.normal(0, 1, q), height=64, width=64)
    colorizer = Colorizer(path, provider="cpu")
    counting = _count(colorizer)
    result = colorizer.predict(_photo())
    images = [result.recolor(t) for t in (0.05, 0.38, 1.0)] + [result.recolor(0.38, 1.5)]
    assert counting.runs == 1
    assert not np.array_equal(images[0], images[2]) and not np.array_equal(images[1], images[3])
    assert np.array_equal(images[1], result.recolor(0.38))  # decoding is deterministic
    assert np.array_equal(colorizer.colorize(_photo(), temperature=0.38), images[1])
    assert counting.runs == 2
    t = result.timings
    assert min(t.preprocess, t.inference, t.decode, t.recombine) >= 0 and t.total > 0
    assert set(t.as_ms()) == {"preprocess", "inference", "decode", "recombine", "total"}
    assert colorizer.last_timings is colorizer.last_result.timings


def test_uncertainty_map(tmp_path):
    q = len(ab_gamut_bins())
    flat = Colorizer(models.bins_model(tmp_path / "u.onnx", q), provider="cpu")  # uniform
    u = flat.uncertainty(_photo(50, 70))
    assert u.shape == (50, 70) and u.dtype == np.float32
    assert u == pytest.approx(np.ones((50, 70)), abs=1e-4)
    offsets = np.zeros(q)
    offsets[5] = 40.0  # nearly one-hot
    peaked = Colorizer(models.bins_model(tmp_path / "p.onnx", q, offsets=offsets), provider="cpu")
    assert peaked.uncertainty(_photo(50, 70)).max() < 1e-3
    varied = Colorizer(models.bins_model(tmp_path / "v.onnx", q, slopes=RNG.normal(0, 0.1, q),
                                         height=48, width=64), provider="cpu")
    v = varied.uncertainty(_photo(50, 70))
    assert 0 <= v.min() < v.max() <= 1
    ab_only = Colorizer(models.ab_model(tmp_path / "ab.onnx"), provider="cpu")
    with pytest.raises(ColorizeError, match="distribution"):
        ab_only.uncertainty(_photo(50, 70))


def test_io_binding_gives_the_same_result_and_rebinds_on_new_sizes(tmp_path):
    path = models.realistic_model(tmp_path / "r.onnx", width=8)
    plain = Colorizer(path, provider="cpu")
    bound = Colorizer(path, provider="cpu", io_binding=True)
    assert bound.io_binding and not plain.io_binding
    for shape in [(120, 160, 3), (120, 160, 3), (200, 100, 3)]:
        image = _photo(*shape[:2])
        assert np.array_equal(plain.colorize(image), bound.colorize(image))
        assert tuple(bound._bound_input.shape()) == (1, 1) + bound.contract.run_size(*shape[:2])


def test_close(tmp_path):
    colorizer = Colorizer(models.ab_model(tmp_path / "m.onnx"), provider="cpu")
    colorizer.close()
    with pytest.raises(ColorizeError, match="closed"):
        colorizer.colorize(np.zeros((8, 8), np.uint8))


# --------------------------------------------------------------------------------------------
# Inspection


def test_inspect_model(tmp_path):
    centres = ab_gamut_bins()
    meta = contract_metadata("logits", bin_centres=centres, input_scale=0.02, input_offset=-1.0)
    path = models.realistic_model(tmp_path / "r.onnx", metadata=meta)
    info = inspect_model(path)
    assert info.file_size == os.path.getsize(path)
    assert (info.ir_version, info.opset, info.producer) == (9, 17, "workbench-tests 1")
    assert [(s.name, s.shape, s.dtype) for s in info.inputs] == [
        ("L", (1, 1, "height", "width"), "float32")
    ]
    assert [(s.name, s.shape) for s in info.outputs] == [
        ("logits", (1, 261, "out_height", "out_width"))
    ]
    assert info.parameter_count == models.parameter_count(path)
    assert info.op_types == {"Conv": 5, "Relu": 4} and info.node_count == 9
    assert json.loads(info.metadata["workbench.bin_centres"]) == centres.tolist()
    assert info.contract.output == "logits" and info.contract_error is None
    text = info.describe()
    assert "IR version 9" in text and "261 ab bins" in text and "parameters" in text
    assert json.loads(json.dumps(info.to_dict()))["contract"]["channels"] == 261


def test_inspect_eccv16_shape(tmp_path):
    info = inspect_model(models.eccv16_standin(tmp_path / "e.onnx"))
    assert info.inputs[0].shape == (1, 1, 256, 256) and info.outputs[0].shape == (1, 2, 256, 256)
    assert info.parameter_count == 4 and info.metadata == {}
    assert info.contract.output == "ab" and info.contract.notes


def test_uncertainty_is_computed_once_per_result(tmp_path, monkeypatch):
    q = len(ab_gamut_bins())
    colorizer = Colorizer(models.bins_model(tmp_path / "u.onnx", q,
                                            slopes=RNG.normal(0, 0.1, q)), provider="cpu")
    result = colorizer.predict(_photo(50, 70))
    first = result.uncertainty()
    calls = []
    original = type(result)._scores
    monkeypatch.setattr(type(result), "_scores", lambda self: (calls.append(1),
                                                               original(self))[1])
    result.recolor(0.2)  # a new temperature decodes again ...
    calls.clear()
    assert result.uncertainty() is first  # ... but the entropy does not depend on it
    assert not calls and not first.flags.writeable
