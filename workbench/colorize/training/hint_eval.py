"""What colour hints buy: the hint curve of a hint model, measured through the engine.

As Zhang, Zhu, Isola et al. (2017, Fig. 4) do, each validation photo is colorized with 0, 1, 2,
5, 10 and 20 hints revealed from its ground truth at uniformly random pixels (a fixed seed per
photo, so every model and count sees the same points; the points for k hints are the first k of
the photo's 20). A hint's colour is the photo's true sRGB colour at that pixel; the engine
rasterizes it as the app and the command line do (:func:`workbench.colorize.hints.rasterize`).
For each count: plain and class-rebalanced AuC of the per-pixel ab error (Zhang et al. 2016;
both as :mod:`.metrics` defines them, the rebalancing prior being the training bin distribution
stored in the model) and the mean per-photo PSNR of the sRGB result.

Numpy, OpenCV and ONNX Runtime only (no torch).

References
----------
R. Zhang, J.-Y. Zhu, P. Isola, X. Geng, A. S. Lin, T. Yu and A. A. Efros, "Real-Time User-Guided
Image Colorization with Learned Deep Priors", ACM TOG 36(4) (SIGGRAPH), 2017.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from workbench.colorize.training.metrics import (
    AucAccumulator,
    EvalSetAucAccumulator,
    evaluation_prior,
)

HINT_COUNTS = (0, 1, 2, 5, 10, 20)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR (dB) of two uint8 images (peak 255)."""
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 99.0 if mse == 0 else 10.0 * math.log10(255.0 ** 2 / mse)


def hint_points(height: int, width: int, count: int, seed: int) -> np.ndarray:
    """``count`` distinct random pixels (rows of x, y) of a ``height`` × ``width`` image."""
    rng = np.random.default_rng(seed)
    cells = rng.choice(height * width, size=min(count, height * width), replace=False)
    ys, xs = np.divmod(cells, width)
    return np.stack([xs, ys], 1)


def evaluate_hint_curve(model_path: Path | str, val_dir: Path | str, *,
                        counts=HINT_COUNTS, short_side: int = 256, seed: int = 0,
                        max_photos: int = 0, temperature: float | None = None,
                        threads: int = 2, prior_model: Path | str | None = None,
                        progress=None) -> dict:
    """Plain/rebalanced AuC and PSNR of ``model_path`` on ``val_dir`` for each hint count.

    Photos are resized to a short side of ``short_side`` first (as :mod:`.evaluate` does). An
    L-only model is measured at 0 hints only. The rebalancing prior is the training bin
    distribution in the metadata of ``prior_model`` (default: the measured model itself), so
    that several models can be compared under one definition.

    Returns
    -------
    dict
        ``rows``: one per count with ``hints``, ``plain_auc``, ``rebalanced_auc``,
        ``rebalanced_auc_evalset``, ``psnr``; and the settings.
    """
    from workbench.colorize.engine import Colorizer
    from workbench.colorize.hints import Hint
    from workbench.colorize.training.data import list_photos, read_rgb
    from workbench.colorize.training.evaluate import prepare_photo
    from workbench.imaging import color

    colorizer = Colorizer(model_path, provider="cpu", threads=threads)
    if prior_model is None:
        meta = colorizer.session.get_modelmeta().custom_metadata_map
    else:
        import onnx

        model = onnx.load(str(prior_model), load_external_data=False)
        meta = {p.key: p.value for p in model.metadata_props}
    prior = np.asarray(json.loads(meta["workbench.training.bin_distribution"]), np.float64)
    centres = colorizer.contract.bin_centres
    eval_prior = evaluation_prior(prior, centres)
    if not colorizer.takes_hints:
        counts = (0,)
    photos = list_photos(val_dir)
    if max_photos:
        photos = photos[:: max(1, len(photos) // max_photos)][:max_photos]
    accs = {k: AucAccumulator(centres, eval_prior) for k in counts}
    evalset = {k: EvalSetAucAccumulator() for k in counts}
    psnrs: dict[int, list[float]] = {k: [] for k in counts}
    most = max(counts)
    for i, path in enumerate(photos):
        rgb = read_rgb(path)
        if rgb is None:
            continue
        rgb = prepare_photo(rgb, short_side)
        true_ab = color.rgb_to_lab(rgb)[..., 1:]
        weights = None
        h, w = rgb.shape[:2]
        points = hint_points(h, w, most, seed * 100003 + i)
        for k in counts:
            hints = [Hint(float(x), float(y), tuple(int(c) for c in rgb[y, x]))
                     for x, y in points[:k]]
            result = colorizer.predict(rgb, hints if colorizer.takes_hints else None)
            out = result.recolor(temperature)
            ab = _ab_full(result, temperature)  # before gamut mapping, as .evaluate scores
            weights = accs[k].pixel_weights(true_ab) if weights is None else weights
            accs[k].add(ab, true_ab, weights)
            evalset[k].add(ab, true_ab)
            psnrs[k].append(psnr(out, rgb))
        if progress is not None:
            progress(i + 1, len(photos))
    rows = [{"hints": k, "plain_auc": accs[k].plain_auc, "rebalanced_auc": accs[k].rebalanced_auc,
             "rebalanced_auc_evalset": evalset[k].rebalanced_auc,
             "psnr": float(np.mean(psnrs[k]))} for k in counts]
    return {"model": Path(model_path).name, "photos": len(psnrs[counts[0]]),
            "short_side": short_side, "seed": seed,
            "temperature": colorizer.contract.temperature if temperature is None else temperature,
            "rows": rows}


def _ab_full(result, temperature: float | None) -> np.ndarray:
    """The decoded ab upsampled to the photo's size (what the engine recombines with L)."""
    import cv2

    ab = result.ab(temperature)
    height, width = result.size
    return cv2.resize(ab, (width, height), interpolation=cv2.INTER_LINEAR)


def format_curve(report: dict, baselines: list[dict] | None = None) -> str:
    """A Markdown table of the hint curve (and each baseline's 0-hint row)."""
    lines = ["| hints | plain AuC | rebalanced AuC | rebal. AuC (eval set) | PSNR (dB) |",
             "|---|---|---|---|---|"]
    for baseline in baselines or []:
        r = baseline["rows"][0]
        lines.append(f"| {baseline['model']} (L only) | {r['plain_auc']:.2f} | "
                     f"{r['rebalanced_auc']:.2f} | {r['rebalanced_auc_evalset']:.2f} | "
                     f"{r['psnr']:.2f} |")
    for r in report["rows"]:
        lines.append(f"| {r['hints']} | {r['plain_auc']:.2f} | {r['rebalanced_auc']:.2f} | "
                     f"{r['rebalanced_auc_evalset']:.2f} | {r['psnr']:.2f} |")
    return "\n".join(lines)


def plot_curve(report: dict, png: Path | str) -> None:
    """The hint curve as a PNG: AuC (plain, rebalanced) and PSNR against the number of hints."""
    from workbench.colorize.training.plot import save_learning_curves

    k = [r["hints"] for r in report["rows"]]
    save_learning_curves(png, [
        ("AuC (%) vs hints", [("plain", k, [r["plain_auc"] for r in report["rows"]]),
                              ("rebalanced", k, [r["rebalanced_auc"] for r in report["rows"]])]),
        ("PSNR (dB) vs hints", [("PSNR", k, [r["psnr"] for r in report["rows"]])]),
    ], xlabel="random ground-truth hint points")


def main(argv: list[str] | None = None) -> int:
    import argparse
    import sys

    parser = argparse.ArgumentParser(description="Measure a hint model's hint curve.")
    parser.add_argument("model")
    parser.add_argument("val_dir")
    parser.add_argument("--baseline", action="append", default=[],
                        help="an L-only model measured at 0 hints for comparison (repeatable; "
                        "rebalanced with the hint model's training prior)")
    parser.add_argument("--json", help="write the report here")
    parser.add_argument("--png", help="write the plot here")
    parser.add_argument("--max-photos", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)

    def step(i, n):
        if i % 50 == 0 or i == n:
            print(f"{i}/{n}", file=sys.stderr, flush=True)

    report = evaluate_hint_curve(args.model, args.val_dir, max_photos=args.max_photos,
                                 threads=args.threads, progress=step)
    bases = [evaluate_hint_curve(b, args.val_dir, max_photos=args.max_photos,
                                 threads=args.threads, prior_model=args.model)
             for b in args.baseline]
    report["baselines"] = bases
    print(format_curve(report, bases))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1))
    if args.png:
        plot_curve(report, args.png)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
