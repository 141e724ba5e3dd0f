"""Training the hint-conditioned colorizer on the cached features of a plain run.

The hint model (:class:`.model.HintColorizer`) starts from a trained plain colorizer (its trunk
and decoder; the decoder's new hint inputs at zero, so step 0 is the plain model exactly) and is
trained on the same cached trunk features, with user hints simulated from the ground truth as
Zhang, Zhu, Isola et al. (2017) do: a random number of hints per image (none for a share of the
images, otherwise geometric), each a square patch of 1–3 cells at the output's quarter resolution
coloured with the patch's mean true ab. The loss is the plain model's (class-rebalanced soft
cross-entropy over the ab bins).

References
----------
R. Zhang, J.-Y. Zhu, P. Isola, X. Geng, A. S. Lin, T. Yu and A. A. Efros, "Real-Time User-Guided
Image Colorization with Learned Deep Priors", ACM TOG 36(4) (SIGGRAPH), 2017.
R. Zhang, P. Isola and A. A. Efros, "Colorful Image Colorization", ECCV 2016.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import logging
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from workbench.colorize.training import data as data_mod
from workbench.colorize.training.losses import annealed_mean_torch, binned_loss, soft_encode_torch
from workbench.colorize.training.metrics import AucAccumulator, evaluation_prior
from workbench.colorize.training.model import HintColorizer, run_upper_blocks

log = logging.getLogger(__name__)


# --- hint simulation (numpy; shared with the evaluation) -----------------------------------------

def sample_training_hints(ab4: np.ndarray, rng: np.random.Generator, *, p_none: float = 0.15,
                          geometric_p: float = 0.125, max_hints: int = 64,
                          max_patch: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Simulated user hints for a batch of quarter-resolution ab maps.

    Parameters
    ----------
    ab4 : ndarray, shape (N, 2, h, w)
        True ab at the output resolution.
    rng : numpy Generator
    p_none : float
        Share of the images that get no hint.
    geometric_p : float
        The others get ``Geometric(geometric_p)`` hints (mean ``1 / geometric_p``), at most
        ``max_hints``.
    max_patch : int
        Hint patches are squares of 1..``max_patch`` cells, placed uniformly.

    Returns
    -------
    hint_ab : ndarray, shape (N, 2, h, w)
        Each patch filled with its mean true ab; 0 elsewhere.
    hint_mask : ndarray, shape (N, 1, h, w)
        1 on the patches.
    """
    n, _, h, w = ab4.shape
    hint_ab = np.zeros((n, 2, h, w), np.float32)
    mask = np.zeros((n, 1, h, w), np.float32)
    for i in range(n):
        if rng.random() < p_none:
            continue
        for _ in range(min(int(rng.geometric(geometric_p)), max_hints)):
            s = int(rng.integers(1, max_patch + 1))
            y = int(rng.integers(0, h - s + 1))
            x = int(rng.integers(0, w - s + 1))
            colour = ab4[i, :, y:y + s, x:x + s].reshape(2, -1).mean(1)
            hint_ab[i, :, y:y + s, x:x + s] = colour[:, None, None]
            mask[i, :, y:y + s, x:x + s] = 1.0
    return hint_ab, mask


def sample_point_hints(ab4: np.ndarray, count: int,
                       rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``count`` single-cell hints per image at uniformly random distinct cells, each with that
    cell's true ab (the evaluation's hints)."""
    n, _, h, w = ab4.shape
    hint_ab = np.zeros((n, 2, h, w), np.float32)
    mask = np.zeros((n, 1, h, w), np.float32)
    for i in range(n):
        if count == 0:
            continue
        cells = rng.choice(h * w, size=min(count, h * w), replace=False)
        ys, xs = np.divmod(cells, w)
        hint_ab[i, :, ys, xs] = ab4[i, :, ys, xs]
        mask[i, 0, ys, xs] = 1.0
    return hint_ab, mask


# --- training ---------------------------------------------------------------------------------

@dataclass
class HintTrainConfig:
    """Everything that determines a hint training run (saved next to the checkpoints)."""

    init: str = "checkpoints/v2/final.pt"
    train_cache: str = "checkpoints/cache192/train_192px_ae29bc539a56"
    val_cache: str = "checkpoints/cache192/val_192px_fbf4ff028129"
    prior: str = "checkpoints/cache192/prior_q261_train_192px_ae29bc539a56_{intel:0.3}.npz"
    work_dir: str = "checkpoints/hints"
    minutes: float = 65.0
    batch: int = 32
    lr: float = 6e-4  # the plain decoder's weights (warm-started)
    hint_lr: float = 5e-3  # the new hint convolutions (start at zero)
    encoder_lr: float = 5e-5
    tune_encoder: bool = False
    weight_decay: float = 1e-4
    warmup_steps: int = 100
    rebalance_lambda: float = 0.5
    source_share: dict = dataclasses.field(default_factory=lambda: {"intel": 0.3})
    p_none: float = 0.15
    geometric_p: float = 0.125
    max_patch: int = 3
    bf16: bool = True
    threads: int = 1
    seed: int = 0
    val_every_min: float = 12.0
    checkpoint_every_min: float = 4.0
    val_counts: tuple = (0, 10)
    temperature: float = 0.6
    max_steps: int = 0


def _features(cache: data_mod.FeatureCache, idx: np.ndarray):
    idx = np.sort(idx)
    feats = {k: torch.from_numpy(np.asarray(a[idx], np.float32))
             for k, a in cache.features.items()}
    return feats, np.asarray(cache.ab[idx], np.float32)


def hint_logits(net: HintColorizer, feats: dict, ab4: np.ndarray, mask4: np.ndarray,
                tune_from: int, bf16: bool, tune_encoder: bool) -> torch.Tensor:
    """Bin logits from cached trunk features and quarter-resolution hints."""
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        with torch.set_grad_enabled(tune_encoder and torch.is_grad_enabled()):
            trunk_out = run_upper_blocks(net.trunk, feats, tune_from)
        logits = net.head(*trunk_out, torch.from_numpy(ab4), torch.from_numpy(mask4))
    return logits.float()


def validate_hints(net: HintColorizer, cache: data_mod.FeatureCache, centres: torch.Tensor,
                   eval_prior: np.ndarray, cfg: HintTrainConfig,
                   counts=(0, 10), temperature: float = 0.6, seed: int = 1) -> dict:
    """Plain and rebalanced AuC at ¼ resolution on the cached validation views with ``count``
    random single-cell ground-truth hints per view (fixed seed), for each count."""
    net.eval()
    out = {}
    with torch.no_grad():
        for count in counts:
            rng = np.random.default_rng(seed)
            acc = AucAccumulator(centres.numpy(), eval_prior)
            for start in range(0, len(cache), 64):
                feats, ab = _features(cache, np.arange(start, min(start + 64, len(cache))))
                hab, hmask = sample_point_hints(ab, count, rng)
                logits = hint_logits(net, feats, hab, hmask, net.tune_from, cfg.bf16, False)
                pred = annealed_mean_torch(logits, centres, temperature)
                acc.add(pred.permute(0, 2, 3, 1).numpy(), ab.transpose(0, 2, 3, 1))
            out[f"auc_{count}"] = acc.plain_auc
            out[f"rauc_{count}"] = acc.rebalanced_auc
    net.train()
    return out


def _lr_factor(step: int, elapsed: float, budget: float, warmup: int) -> float:
    warm = min(1.0, (step + 1) / warmup)
    frac = min(1.0, elapsed / budget)
    return warm * (0.02 + 0.98 * 0.5 * (1.0 + math.cos(math.pi * frac)))


def train_hints(cfg: HintTrainConfig, resume: bool = True) -> Path:
    """Train (or resume) the hint colorizer for ``cfg.minutes``; returns ``final.pt``'s path."""
    from workbench.colorize import bins
    from workbench.colorize.training.train import load_checkpoint

    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    work = Path(cfg.work_dir)
    work.mkdir(parents=True, exist_ok=True)
    ckpt = work / "last.pt"

    plain, init_state = load_checkpoint(cfg.init)
    net = HintColorizer.from_plain(plain)
    del plain
    tune_from = net.tune_from
    if not cfg.tune_encoder:
        for p in net.trunk.parameters():
            p.requires_grad_(False)
    train_cache = data_mod.FeatureCache.open(cfg.train_cache)
    val_cache = data_mod.FeatureCache.open(cfg.val_cache)
    probs = data_mod.sampling_probabilities(train_cache.sources, cfg.source_share)
    centres_np = np.asarray(bins.ab_gamut_bins(), np.float64)
    prior = np.load(cfg.prior)["prior"]
    class_w = torch.from_numpy(np.asarray(bins.rebalancing_weights(
        prior, lam=cfg.rebalance_lambda, sigma=5.0, centres=centres_np), np.float32))
    eval_prior = evaluation_prior(prior, centres_np)
    centres = torch.from_numpy(centres_np).float()

    hint_params = net.head.hint_parameters()
    hint_ids = {id(p) for p in hint_params}
    groups = [{"params": [p for p in net.head.parameters() if id(p) not in hint_ids],
               "lr": cfg.lr},
              {"params": hint_params, "lr": cfg.hint_lr}]
    if cfg.tune_encoder:
        groups.append({"params": net.tuned_parameters(), "lr": cfg.encoder_lr})
    opt = torch.optim.AdamW(groups, lr=cfg.lr, weight_decay=cfg.weight_decay)
    base = [g["lr"] for g in opt.param_groups]
    step, seen, elapsed = 0, 0, 0.0
    if resume and ckpt.exists():
        state = torch.load(ckpt, map_location="cpu", weights_only=False)
        net.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        step, seen, elapsed = state["step"], state["seen"], state["elapsed"]
        rng = np.random.default_rng(state["rng_seed"])
        log.info("resumed at step %d (%.1f min)", step, elapsed / 60)
    (work / "config.json").write_text(json.dumps(dataclasses.asdict(cfg), indent=1))
    fields = ["step", "seen", "minutes", "lr", "train_loss"] + [
        f"{k}_{c}" for c in cfg.val_counts for k in ("auc", "rauc")]
    log_path = work / "log.csv"
    if step == 0:
        with open(log_path, "w", newline="") as fh:
            csv.writer(fh).writerow(fields)

    def save(final: bool = False) -> None:
        state = {"model": net.state_dict(), "optimizer": opt.state_dict(), "step": step,
                 "seen": seen, "elapsed": elapsed, "config": dataclasses.asdict(cfg),
                 "plain_config": init_state["config"], "num_bins": int(net.num_bins),
                 "width": int(net.width), "tune_from": int(tune_from), "encoder": net.encoder,
                 "rng_seed": int(rng.integers(2**31)), "centres": centres_np, "prior": prior}
        tmp = ckpt.with_suffix(".tmp")
        torch.save(state, tmp)
        os.replace(tmp, ckpt)
        if final:
            torch.save(state, work / "final.pt")

    def log_row(row: dict) -> None:
        with open(log_path, "a", newline="") as fh:
            csv.writer(fh).writerow([row.get(k, "") for k in fields])
        log.info("%s", {k: round(v, 3) if isinstance(v, float) else v for k, v in row.items()})

    budget = cfg.minutes * 60
    net.train()
    if step == 0:
        log_row({"step": 0, "seen": 0, "minutes": 0.0,
                 **validate_hints(net, val_cache, centres, eval_prior, cfg, cfg.val_counts,
                                  cfg.temperature)})
    t0 = time.monotonic() - elapsed
    last_ckpt = last_val = last_print = time.monotonic()
    ema = None
    while elapsed < budget and not (cfg.max_steps and step >= cfg.max_steps):
        factor = _lr_factor(step, elapsed, budget, cfg.warmup_steps)
        for g, b in zip(opt.param_groups, base, strict=True):
            g["lr"] = b * factor
        idx = rng.choice(len(train_cache), size=cfg.batch, p=probs)
        feats, ab = _features(train_cache, idx)
        hab, hmask = sample_training_hints(ab, rng, p_none=cfg.p_none,
                                           geometric_p=cfg.geometric_p, max_patch=cfg.max_patch)
        ab_t = torch.from_numpy(ab)
        index, weight = soft_encode_torch(ab_t, centres, 5, 5.0)
        logits = hint_logits(net, feats, hab, hmask, tune_from, cfg.bf16, cfg.tune_encoder)
        loss = binned_loss(logits, index, weight, class_w)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        seen += cfg.batch
        elapsed = time.monotonic() - t0
        ema = loss.item() if ema is None else 0.98 * ema + 0.02 * loss.item()
        now = time.monotonic()
        if now - last_print > 30:
            print(f"step {step} loss {ema:.3f} {seen / elapsed:.1f} img/s "
                  f"{elapsed / 60:.1f}/{cfg.minutes:g} min lr×{factor:.2f}", flush=True)
            last_print = now
        if now - last_ckpt > cfg.checkpoint_every_min * 60:
            save()
            last_ckpt = now
        done = elapsed >= budget or (cfg.max_steps and step >= cfg.max_steps)
        if now - last_val > cfg.val_every_min * 60 or done:
            log_row({"step": step, "seen": seen, "minutes": elapsed / 60, "lr": base[0] * factor,
                     "train_loss": ema,
                     **validate_hints(net, val_cache, centres, eval_prior, cfg, cfg.val_counts,
                                      cfg.temperature)})
            last_val = time.monotonic()
    save(final=True)
    return work / "final.pt"


def load_hint_checkpoint(path: Path | str) -> tuple[HintColorizer, dict]:
    """A trained :class:`HintColorizer` (eval mode) and its checkpoint dict."""
    state = torch.load(path, map_location="cpu", weights_only=False)
    # checkpoints from before the encoder choice are Lite0 (as their plain run's config says)
    encoder = state.get("encoder", state.get("plain_config", {}).get("encoder", "lite0"))
    net = HintColorizer(state["num_bins"], state["width"], pretrained=False,
                        tune_from=state["tune_from"], encoder=encoder)
    net.load_state_dict(state["model"])
    net.eval()
    return net, state


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cfg = HintTrainConfig()
    for f in dataclasses.fields(HintTrainConfig):
        value = getattr(cfg, f.name)
        if isinstance(value, bool):
            parser.add_argument(f"--{f.name.replace('_', '-')}", default=value,
                                action=argparse.BooleanOptionalAction)
        elif isinstance(value, (int, float, str)):
            parser.add_argument(f"--{f.name.replace('_', '-')}", type=type(value), default=value)
    parser.add_argument("--no-resume", action="store_true")
    args = vars(parser.parse_args(argv))
    resume = not args.pop("no_resume")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    train_hints(HintTrainConfig(**args), resume=resume)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
