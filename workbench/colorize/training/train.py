"""The training loop: time-budgeted, checkpointed, resumable, logged.

Training follows Zhang, Isola & Efros (2016): soft-encoded targets over the 5 nearest in-gamut ab
bins (σ = 5) and a class-rebalanced multinomial cross-entropy (λ = 0.5, prior smoothed with
σ = 5, weights normalised so that E[w] = 1) — or, as the measured alternative, the focal loss of
Lin et al. (2017). The frozen encoder trunk's outputs come from a cache (see :mod:`.data`), so each
step runs only the trainable head.

References
----------
R. Zhang, P. Isola and A. A. Efros, "Colorful Image Colorization", ECCV 2016.
T.-Y. Lin et al., "Focal Loss for Dense Object Detection", ICCV 2017.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
import logging
import math
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from workbench.colorize import bins
from workbench.colorize.training import data as data_mod
from workbench.colorize.training.data import FEATURES
from workbench.colorize.training.losses import annealed_mean_torch, binned_loss, soft_encode_torch
from workbench.colorize.training.metrics import AucAccumulator, evaluation_prior
from workbench.colorize.training.model import (
    Colorizer,
    ColorizerTrunk,
    FrozenTrunk,
    cached_feature_names,
    encoder_layout,
    parameter_count,
    run_upper_blocks,
)
from workbench.errors import WorkbenchError

log = logging.getLogger(__name__)


@dataclass
class TrainConfig:
    """Everything that determines a training run (saved next to the model)."""

    data: str
    val: str
    out: str
    work_dir: str = "checkpoints/colorizer"
    cache_dir: str = "checkpoints/colorizer_cache"  # shared by runs (trunk outputs, prior)
    size: int = 160
    width: int = 32
    minutes: float = 60.0
    batch: int = 32
    lr: float = 1e-3
    weight_decay: float = 1e-4
    warmup_steps: int = 150
    loss: str = "rebalanced"  # "rebalanced" | "focal" | "plain"
    rebalance_lambda: float = 0.5
    prior_sigma: float = 5.0
    focal_gamma: float = 2.0
    soft_neighbours: int = 5
    soft_sigma: float = 5.0
    # Share of training samples drawn from each source (the rest shared by the others in
    # proportion to their number of views). Intel's 150x150 scenes are 81 % of the photos.
    source_share: dict = field(default_factory=lambda: {"intel": 0.35})
    views_by_source: dict = field(default_factory=lambda: {"intel": 2})
    default_views: int = 4
    max_photos: int = 0  # 0: all
    max_val_photos: int = 0
    seed: int = 0
    val_every_min: float = 6.0
    checkpoint_every_min: float = 4.0
    threads: int = 2
    temperature: float = 0.38
    max_steps: int = 0  # stop after this many steps (0: only the time budget); for tests
    pretrained: bool = True  # False: random encoder weights (tests only)
    onnx_encoder: bool = True  # run the frozen encoder in ONNX Runtime to build the cache
    # Encoder blocks tune_from.. are trained; None: none (the same as the encoder's block count,
    # 16 for Lite0 and 21 for Lite1 and Lite2; see :func:`split_of`). The frozen part's outputs
    # are cached, so only the upper blocks and the decoder run in a training step.
    tune_from: int | None = None
    # The ImageNet encoder: EfficientNet-Lite0 (every shipped model), Lite1 or Lite2.
    encoder: str = "lite0"
    encoder_lr: float = 1e-4  # learning rate of the tuned encoder blocks
    bf16: bool = False  # bfloat16 autocast for the forward pass (AMX / AVX-512 BF16 CPUs)
    min_crop_area: float = 0.45  # smallest training crop, as a share of the photo's area
    # Start from another run's weights (its final.pt/last.pt; same size, width, tune_from and
    # encoder)
    # with a fresh optimiser and schedule; ignored when this run resumes its own checkpoint.
    init_from: str = ""

    @classmethod
    def from_json(cls, path: Path) -> TrainConfig:
        raw = json.loads(Path(path).read_text())
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in raw.items() if k in names})


def bins_and_prior(cache: data_mod.FeatureCache, probs: np.ndarray, cfg: TrainConfig,
                   work: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bin centres, the training bin distribution p and the rebalancing weights (p cached)."""
    from workbench.colorize import bins

    centres = np.asarray(bins.ab_gamut_bins(), np.float64)
    share = json.dumps(cfg.source_share, sort_keys=True).replace(" ", "").replace('"', "")
    path = work / f"prior_q{len(centres)}_{cache.folder.name}_{share}.npz"
    if path.exists():
        prior = np.load(path)["prior"]
    else:
        # The distribution the loss sees: bin counts of each view, weighted by how often the
        # sampler draws it (sampling is uniform within a source, so weight per source).
        prior = np.zeros(len(centres))
        for src in np.unique(cache.sources):
            rows = np.flatnonzero(cache.sources == src)
            counts = np.zeros(len(centres))
            for start in range(0, len(rows), 512):
                ab = np.asarray(cache.ab[rows[start:start + 512]], np.float32)
                counts += bins.bin_counts(ab.transpose(0, 2, 3, 1), centres)
            prior += counts * probs[rows[0]]
        prior /= prior.sum()
        np.savez(path, prior=prior, centres=centres)
    weights = bins.rebalancing_weights(prior, lam=cfg.rebalance_lambda, sigma=cfg.prior_sigma,
                                        centres=centres)
    return centres, np.asarray(prior, np.float64), np.asarray(weights, np.float64)


def trunk_runner(trunk: ColorizerTrunk, work: Path, size: int,
                 tune_from: int | None = None):
    """A function running the frozen trunk through ONNX Runtime (several times faster than torch
    on CPU for the depthwise convolutions)."""
    import onnxruntime as ort

    layout = trunk.layout
    tune_from = layout.frozen if tune_from is None else tune_from
    frozen = FrozenTrunk(trunk, tune_from)
    names = list(frozen.names)
    suffix = "" if tune_from == layout.frozen else f"_upto{tune_from}"
    prefix = "encoder" if layout.name == "lite0" else f"encoder_{layout.name}"
    path = work / f"{prefix}_{size}{suffix}.onnx"
    if not path.exists():
        frozen.eval()
        dummy = torch.zeros(2, 1, size, size)
        torch.onnx.export(frozen, (dummy,), str(path), opset_version=17, dynamo=False,
                          input_names=["L"], output_names=names,
                          dynamic_axes={k: {0: "n"} for k in ("L", *names)})
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 2
    opts.log_severity_level = 3
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    return lambda light: tuple(sess.run(None, {"L": light}))


class _Progress:
    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.last = 0.0

    def __call__(self, text: str, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last < (0.5 if self.tty else 30.0):
            return
        self.last = now
        if self.tty:
            sys.stderr.write("\r" + text[:150].ljust(150))
            sys.stderr.flush()
        else:
            print(text, file=sys.stderr, flush=True)


def prepare_caches(cfg: TrainConfig, net: Colorizer):
    """Build (once) and open the training and validation caches."""
    work = Path(cfg.cache_dir)
    work.mkdir(parents=True, exist_ok=True)
    names = cached_feature_names(net.tune_from, net.trunk.layout)
    if cfg.onnx_encoder:
        run = trunk_runner(net.trunk, work, cfg.size, net.tune_from)
    else:
        frozen = FrozenTrunk(net.trunk, net.tune_from).eval()

        def run(light: np.ndarray) -> tuple[np.ndarray, ...]:
            with torch.no_grad():
                return tuple(f.numpy() for f in frozen(torch.from_numpy(light)))
    progress = _Progress()
    caches = []
    for folder, views, default, limit, tag in (
            (cfg.data, cfg.views_by_source, cfg.default_views, cfg.max_photos, "train"),
            (cfg.val, {}, 1, cfg.max_val_photos, "val")):
        photos = data_mod.list_photos(folder)
        if limit:
            photos = photos[:: max(1, len(photos) // limit)][:limit]
        key = [cfg.size, [str(p.resolve()) for p in photos], default, views, cfg.seed,
               FEATURES if names == FEATURES else names]
        if cfg.min_crop_area != 0.45:
            key.append(cfg.min_crop_area)
        if cfg.encoder != "lite0":  # Lite0 caches keep the names they had before the choice
            key.append(cfg.encoder)
        key = json.dumps(key, sort_keys=True)
        path = work / f"{tag}_{cfg.size}px_{hashlib.sha1(key.encode()).hexdigest()[:12]}"
        if not (path / "meta.json").exists():
            t0 = time.monotonic()
            data_mod.build_cache(
                photos, path, size=cfg.size, views_by_source=views, default_views=default,
                trunk=run, seed=cfg.seed, names=names, min_area=cfg.min_crop_area,
                progress=lambda i, n, tag=tag: progress(f"caching {tag}: {i}/{n}"))
            progress(f"cached {tag} in {time.monotonic() - t0:.0f} s", force=True)
        caches.append(data_mod.FeatureCache.open(path))
    return caches


def init_weights(net: Colorizer, cfg: TrainConfig) -> None:
    """Load the network weights of ``cfg.init_from`` (another run's checkpoint) into ``net``.

    Raises
    ------
    WorkbenchError
        The checkpoint is missing, unreadable or of another architecture.
    """
    path = Path(cfg.init_from)
    if not path.is_file():
        raise WorkbenchError(f"--init-from: checkpoint not found: {path}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
        old = state["config"]
        weights = state["model"]
    except Exception as exc:  # noqa: BLE001 - any unreadable file gets one message
        raise WorkbenchError(f"--init-from: not a training checkpoint: {path} ({exc})") from exc
    theirs = _architecture(old)
    ours = _architecture(dataclasses.asdict(cfg))
    if theirs != ours:
        raise WorkbenchError(
            f"--init-from: {path} has size/width/tune-from/encoder {theirs}, this run {ours}")
    net.load_state_dict(weights)
    log.info("initialised from %s (step %s of that run)", path, state.get("step"))


def _architecture(config: dict) -> tuple:
    """What two runs must share for one's weights to load into the other (checkpoints from
    before the encoder choice are Lite0)."""
    return (config["size"], config["width"], split_of(config), config.get("encoder", "lite0"))


def split_of(config: dict) -> int:
    """The first trained encoder block of a run's configuration (its encoder's block count when
    none is: configurations from before the encoder choice say 16, Lite0's, or nothing)."""
    encoder = config.get("encoder", "lite0")
    tune_from = config.get("tune_from")
    return encoder_layout(encoder).frozen if tune_from is None else int(tune_from)


def _lr_factor(step: int, elapsed: float, budget: float, warmup: int,
               max_steps: int = 0) -> float:
    """Linear warm-up, then cosine decay to 2 % over the time budget (or over ``max_steps``
    when that comes first, which makes short comparisons independent of machine load)."""
    warm = min(1.0, (step + 1) / warmup)
    frac = min(1.0, elapsed / budget)
    if max_steps:
        frac = max(frac, min(1.0, step / max_steps))
    return warm * (0.02 + 0.98 * 0.5 * (1.0 + math.cos(math.pi * frac)))


def _batch(cache: data_mod.FeatureCache, idx: np.ndarray):
    """The cached features (by name) and the true ab of views ``idx``, as float32 tensors."""
    idx = np.sort(idx)
    feats = {k: torch.from_numpy(np.asarray(a[idx], np.float32))
             for k, a in cache.features.items()}
    return feats, torch.from_numpy(np.asarray(cache.ab[idx], np.float32))


def head_logits(net: Colorizer, feats: dict, cfg: TrainConfig) -> torch.Tensor:
    """Bin logits from cached features: the tuned encoder blocks, then the decoder (float32
    out; bfloat16 autocast inside when ``cfg.bf16``)."""
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=cfg.bf16):
        logits = net.head(*run_upper_blocks(net.trunk, feats, net.tune_from))
    return logits.float()


def validate(net: Colorizer, cache: data_mod.FeatureCache, centres: torch.Tensor,
             class_w: torch.Tensor, prior: np.ndarray, cfg: TrainConfig,
             temperatures=(0.38, 1.0)) -> dict:
    """Validation loss (rebalanced CE) and AuC at ¼ resolution on the cached validation views."""
    net.eval()
    accs = {t: AucAccumulator(centres.numpy(), prior) for t in temperatures}
    total, count = 0.0, 0
    with torch.no_grad():
        for start in range(0, len(cache), 64):
            feats, ab = _batch(cache, np.arange(start, min(start + 64, len(cache))))
            logits = head_logits(net, feats, cfg)
            index, weight = soft_encode_torch(ab, centres, cfg.soft_neighbours, cfg.soft_sigma)
            total += float(binned_loss(logits, index, weight, class_w)) * len(ab)
            count += len(ab)
            true = ab.permute(0, 2, 3, 1).numpy()
            weights = None
            for t, acc in accs.items():
                pred = annealed_mean_torch(logits, centres, t).permute(0, 2, 3, 1).numpy()
                weights = acc.pixel_weights(true) if weights is None else weights
                acc.add(pred, true, weights)
    net.train()
    out = {"val_loss": total / max(count, 1)}
    for t, acc in accs.items():
        out[f"val_auc_T{t:g}"] = acc.plain_auc
        out[f"val_rauc_T{t:g}"] = acc.rebalanced_auc
    return out


def train(cfg: TrainConfig, resume: bool = True) -> Path:
    """Train (or resume) a colorizer for ``cfg.minutes`` of wall-clock time.

    Returns the path of the final checkpoint. Writes into ``cfg.work_dir``: the caches,
    ``last.pt`` (every few minutes), ``log.csv``, ``learning_curves.png`` and ``config.json``.

    Raises
    ------
    WorkbenchError
        Bad folders, no usable photos, or a checkpoint from a different configuration.
    """
    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    work = Path(cfg.work_dir)
    work.mkdir(parents=True, exist_ok=True)
    ckpt_path = work / "last.pt"

    q = len(bins.ab_gamut_bins())
    net = Colorizer(q, cfg.width, pretrained=cfg.pretrained, tune_from=cfg.tune_from,
                    encoder=cfg.encoder)
    train_cache, val_cache = prepare_caches(cfg, net)
    probs = data_mod.sampling_probabilities(train_cache.sources, cfg.source_share)
    centres_np, prior, class_w_np = bins_and_prior(train_cache, probs, cfg, Path(cfg.cache_dir))
    eval_prior = evaluation_prior(prior, centres_np)
    centres = torch.from_numpy(centres_np).float()
    class_w = torch.from_numpy(class_w_np).float()
    use_w = class_w if cfg.loss == "rebalanced" else None
    gamma = cfg.focal_gamma if cfg.loss == "focal" else 0.0
    if cfg.loss not in ("rebalanced", "focal", "plain"):
        raise WorkbenchError(f"unknown loss {cfg.loss!r} (rebalanced, focal or plain)")

    groups = [{"params": list(net.head.parameters()), "lr": cfg.lr}]
    if net.tuned_parameters():
        groups.append({"params": net.tuned_parameters(), "lr": cfg.encoder_lr})
    opt = torch.optim.AdamW(groups, lr=cfg.lr, weight_decay=cfg.weight_decay)
    base_lrs = [g["lr"] for g in opt.param_groups]
    step, seen, elapsed = 0, 0, 0.0
    if resume and ckpt_path.exists():
        state = torch.load(ckpt_path, map_location="cpu", weights_only=False)
        old = state["config"]
        if _architecture(old) != _architecture(dataclasses.asdict(cfg)):
            raise WorkbenchError(f"{ckpt_path} was trained with another size/width/encoder; "
                                 "use a new --work-dir or --no-resume")
        # the time budget may be extended on resume: the cosine follows the new budget
        net.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        step, seen, elapsed = state["step"], state["seen"], state["elapsed"]
        rng = np.random.default_rng(state["rng_seed"])
        torch.manual_seed(state["rng_seed"])
        log.info("resumed from %s at step %d (%.1f min)", ckpt_path, step, elapsed / 60)
    elif cfg.init_from:
        init_weights(net, cfg)
    (work / "config.json").write_text(json.dumps(dataclasses.asdict(cfg), indent=1))
    log_path = work / "log.csv"
    fields = ["step", "seen", "minutes", "lr", "train_loss", "val_loss", "val_auc_T0.38",
              "val_rauc_T0.38", "val_auc_T1", "val_rauc_T1"]
    if not log_path.exists() or step == 0:
        with open(log_path, "w", newline="") as fh:
            csv.writer(fh).writerow(fields)

    def save(final: bool = False) -> None:
        state = {"model": net.state_dict(), "optimizer": opt.state_dict(), "step": step,
                 "seen": seen, "elapsed": elapsed, "config": dataclasses.asdict(cfg),
                 "rng_seed": int(rng.integers(2**31)), "num_bins": q, "centres": centres_np,
                 "prior": prior, "class_weights": class_w_np}
        tmp = ckpt_path.with_suffix(".tmp")
        torch.save(state, tmp)
        os.replace(tmp, ckpt_path)
        if final:
            torch.save(state, work / "final.pt")

    def log_row(row: dict) -> None:
        with open(log_path, "a", newline="") as fh:
            csv.writer(fh).writerow([row.get(k, "") for k in fields])
        plot_log(log_path, work / "learning_curves.png")

    budget = cfg.minutes * 60.0
    progress = _Progress()
    log.info("training %d-bin colorizer: %d parameters (%d trainable, encoder from block %d), "
             "%d views, loss %s, bf16 %s", q, parameter_count(net),
             sum(p.numel() for p in net.parameters() if p.requires_grad), net.tune_from,
             len(train_cache), cfg.loss, cfg.bf16)
    net.train()
    ema = None
    t_start = time.monotonic() - elapsed
    last_ckpt = last_val = time.monotonic()
    if step == 0:
        log_row({"step": 0, "seen": 0, "minutes": 0.0,
                 **validate(net, val_cache, centres, class_w, eval_prior, cfg)})
    while elapsed < budget and not (cfg.max_steps and step >= cfg.max_steps):
        factor = _lr_factor(step, elapsed, budget, cfg.warmup_steps, cfg.max_steps)
        for g, base in zip(opt.param_groups, base_lrs, strict=True):
            g["lr"] = base * factor
        idx = rng.choice(len(train_cache), size=cfg.batch, p=probs)
        feats, ab = _batch(train_cache, idx)
        index, weight = soft_encode_torch(ab, centres, cfg.soft_neighbours, cfg.soft_sigma)
        loss = binned_loss(head_logits(net, feats, cfg), index, weight, use_w, gamma)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        seen += cfg.batch
        elapsed = time.monotonic() - t_start
        value = loss.item()
        ema = value if ema is None else 0.98 * ema + 0.02 * value
        rate = seen / max(elapsed, 1e-6)
        progress(f"step {step}  {seen / 1000:.1f}k images  loss {ema:.3f}  "
                 f"{rate:.1f} img/s  {elapsed / 60:.1f}/{cfg.minutes:g} min  lr×{factor:.2f}")
        now = time.monotonic()
        if now - last_ckpt > cfg.checkpoint_every_min * 60:
            save()
            last_ckpt = now
        done = elapsed >= budget or (cfg.max_steps and step >= cfg.max_steps)
        if now - last_val > cfg.val_every_min * 60 or done:
            row = {"step": step, "seen": seen, "minutes": elapsed / 60,
                   "lr": base_lrs[0] * factor, "train_loss": ema,
                   **validate(net, val_cache, centres, class_w, eval_prior, cfg)}
            log_row(row)
            log.info("validation at step %d: %s", step,
                     {k: round(v, 3) for k, v in row.items() if isinstance(v, float)})
            last_val = time.monotonic()
    save(final=True)
    progress(f"done: {step} steps, {seen} images, {elapsed / 60:.1f} min", force=True)
    return work / "final.pt"


def plot_log(log_path: Path, png: Path) -> None:
    """Learning curves (loss; validation AuC) from ``log.csv``."""
    from workbench.colorize.training.plot import save_learning_curves

    with open(log_path) as fh:
        rows = list(csv.DictReader(fh))

    def col(name: str) -> list[float]:
        return [float(r[name]) if r.get(name) not in (None, "") else float("nan") for r in rows]

    seen = [s / 1000 for s in col("seen")]
    save_learning_curves(png, [
        ("loss (rebalanced CE for val)", [("train", seen, col("train_loss")),
                                          ("validation", seen, col("val_loss"))]),
        ("validation AuC at 1/4 res (%)", [("plain T=0.38", seen, col("val_auc_T0.38")),
                                           ("rebal. T=0.38", seen, col("val_rauc_T0.38")),
                                           ("plain T=1", seen, col("val_auc_T1")),
                                           ("rebal. T=1", seen, col("val_rauc_T1"))]),
    ])


def load_checkpoint(path: Path | str) -> tuple[Colorizer, dict]:
    """A trained :class:`Colorizer` (eval mode) and its checkpoint dict."""
    state = torch.load(path, map_location="cpu", weights_only=False)
    config = state["config"]
    net = Colorizer(state["num_bins"], config["width"], pretrained=False,
                    tune_from=split_of(config),
                    encoder=config.get("encoder", "lite0"))
    net.load_state_dict(state["model"])
    net.eval()
    return net, state
