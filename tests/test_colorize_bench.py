"""``workbench bench colorize``: the provider check and the figures' shape (tiny ONNX models).

No timing is asserted (only that rates are positive); measurements run for a few milliseconds.
"""

from __future__ import annotations

import json

import numpy as np
import onnx_models as models
import pytest

from workbench.cli import main
from workbench.colorize import bench
from workbench.errors import WorkbenchError

SIZES = ((64, 48), (96, 72))


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bench")
    return (models.realistic_model(folder / "a.onnx", size=32, width=4, seed=0),
            models.realistic_model(folder / "b.onnx", size=32, width=4, seed=1))


def _check_figures(entry: dict) -> None:
    for w, h in SIZES:
        f = entry[f"{w}x{h}"]
        for slot in (f, f["io_binding"]):
            assert slot["model_fps"] > 0 and slot["end_to_end_fps"] > 0
        assert set(f["max_abs_diff_vs_cpu"]) == {"output", "rgb"}


def test_cpu_is_measured_with_and_without_io_binding_and_matches_itself(tiny):
    from workbench.runtime import usable_providers

    report = bench.bench_colorize(tiny[0], sizes=SIZES, seconds=0.01)
    cpu = report["providers"]["CPUExecutionProvider"]
    _check_figures(cpu)
    assert cpu["session_providers"][0] == "CPUExecutionProvider"
    assert cpu["run_size"] == [32, 32]
    for w, h in SIZES:
        assert cpu[f"{w}x{h}"]["max_abs_diff_vs_cpu"] == {"output": 0.0, "rgb": 0}
    # every provider measured really works here; the others are reported with a reason
    usable = set(usable_providers())
    assert set(report["providers"]) <= usable
    for name in ("TensorrtExecutionProvider", "CUDAExecutionProvider"):
        assert (name in report["providers"]) != (name in report["unavailable"])
        if name not in usable:
            assert report["unavailable"][name]


def _pretend(real_open, provider_name, session_providers, model=None):
    """An _open that returns a CPU colorizer claiming to be ``provider_name``."""

    def fake(model_path, provider, io_binding, threads):
        if provider != provider_name:
            return real_open(model_path, provider, io_binding, threads)
        colorizer = real_open(model or model_path, "cpu", io_binding, threads)
        colorizer.provider = provider_name
        colorizer.session.get_providers = lambda: list(session_providers)
        return colorizer

    return fake


def test_a_provider_whose_session_fell_back_to_the_cpu_is_not_measured(tiny, monkeypatch):
    # the engine thinks it got CUDA, but the session runs on the CPU: not a working provider
    monkeypatch.setattr(bench, "_open", _pretend(bench._open, "cuda", ["CPUExecutionProvider"]))
    report = bench.bench_colorize(tiny[0], providers=("cuda", "cpu"), sizes=SIZES,
                                  seconds=0.01)
    assert list(report["providers"]) == ["CPUExecutionProvider"]
    assert "CUDAExecutionProvider" in report["unavailable"]


def test_a_working_provider_is_compared_with_the_cpu_output(tiny, monkeypatch):
    # a "CUDA" provider that runs another network: its difference from the CPU is not zero
    monkeypatch.setattr(bench, "_open", _pretend(
        bench._open, "cuda", ["CUDAExecutionProvider", "CPUExecutionProvider"], model=tiny[1]))
    report = bench.bench_colorize(tiny[0], providers=("cuda",), sizes=SIZES, seconds=0.01)
    assert list(report["providers"]) == ["CUDAExecutionProvider", "CPUExecutionProvider"]
    cuda = report["providers"]["CUDAExecutionProvider"]
    _check_figures(cuda)
    from workbench.colorize.engine import Colorizer

    frame = bench.synthetic_frame(*SIZES[0], seed=0)
    a = Colorizer(tiny[0], provider="cpu").predict(frame).output
    b = Colorizer(tiny[1], provider="cpu").predict(frame).output
    diff = cuda[f"{SIZES[0][0]}x{SIZES[0][1]}"]["max_abs_diff_vs_cpu"]
    assert diff["output"] == pytest.approx(float(np.abs(a - b).max()), rel=1e-5)
    assert diff["output"] > 0


def test_synthetic_frames_are_deterministic_rgb():
    a, b = bench.synthetic_frame(40, 30, seed=2), bench.synthetic_frame(40, 30, seed=2)
    assert a.shape == (30, 40, 3) and a.dtype == np.uint8
    np.testing.assert_array_equal(a, b)
    assert a.std() > 10


def test_cli_json_has_the_issue_shape(tiny, capsys):
    frames = ["64x48", "96x72"]
    assert main(["bench", "colorize", "--model", str(tiny[0]), "--seconds", "0.01",
                 "--frames", *frames, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    cpu = report["providers"]["CPUExecutionProvider"]
    for w, h in SIZES:
        assert {"model_fps", "end_to_end_fps"} <= set(cpu[f"{w}x{h}"])
    assert main(["bench", "colorize", "--model", str(tiny[0]), "--seconds", "0.01",
                 "--frames", "64x48"]) == 0
    assert "| CPUExecutionProvider | 64x48 |" in capsys.readouterr().out


def test_default_frames_are_the_issue_sizes():
    import argparse

    parser = argparse.ArgumentParser()
    bench.add_bench_parser(parser.add_subparsers())
    args = parser.parse_args(["bench", "colorize"])
    assert args.frames == ["640x480", "1920x1080"] and args.func is bench.cmd_bench_colorize


def test_bad_arguments_are_user_errors(tiny, tmp_path, capsys):
    assert main(["bench", "colorize", "--model", str(tmp_path / "missing.onnx")]) != 0
    assert "model not found" in capsys.readouterr().err
    assert main(["bench", "colorize", "--model", str(tiny[0]), "--seconds", "0"]) != 0
    assert main(["bench", "colorize", "--model", str(tiny[0]), "--frames", "64by48"]) != 0
    assert "expected WxH" in capsys.readouterr().err
    with pytest.raises(WorkbenchError):
        bench.bench_colorize(tiny[0], providers=("directml",), seconds=0.01)


def test_a_hint_model_is_measured_with_its_empty_hint_maps(tmp_path):
    """A model with hint inputs used to stop the bench with an internal error (L fed alone)."""
    hinted = models.hint_model(tmp_path / "hints.onnx", height=32, width=32)
    report = bench.bench_colorize(hinted, sizes=SIZES, seconds=0.01)
    _check_figures(report["providers"]["CPUExecutionProvider"])
