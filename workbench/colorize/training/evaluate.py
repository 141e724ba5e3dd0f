"""Evaluate an exported colorizer end to end, as the engine runs it (ONNX Runtime, numpy only).

Each validation photo is brought to a fixed short side (256 px by default, as the project's
earlier measurements), its L is resized to the model's input size, the predicted bin
distribution is decoded by the annealed mean at each temperature, the ab is upsampled bilinearly
to the photo's size and compared with the true ab. The grayscale baseline (ab = 0) and the
ground truth's colourfulness are measured on the same pixels.

Two rebalanced AuCs are reported: with the training bin distribution as the prior
(``rebalanced_auc``, :class:`~workbench.colorize.training.metrics.AucAccumulator`) and with the
evaluated set's own colour distribution over 10×10 ab cells (``rebalanced_auc_evalset``,
:class:`~workbench.colorize.training.metrics.EvalSetAucAccumulator`). Figures are given overall
and per source group (scenes, objects, people; from the dataset names in ``MANIFEST.csv``), each
group rebalanced by its own colour distribution.

References
----------
R. Zhang, P. Isola and A. A. Efros, "Colorful Image Colorization", ECCV 2016 (Table 1).
D. Hasler and S. Süsstrunk, "Measuring colourfulness in natural images", SPIE 5007, 2003.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np

from workbench.colorize import bins
from workbench.colorize.training.metrics import (
    AucAccumulator,
    EvalSetAucAccumulator,
    colourfulness,
    evaluation_prior,
)
from workbench.errors import WorkbenchError
from workbench.imaging import color


class BinModel:
    """An ONNX ``bins`` colorizer with a fixed square input, run on CPU (2 threads)."""

    def __init__(self, path: Path | str, threads: int = 2) -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.log_severity_level = 3
        try:
            self.session = ort.InferenceSession(str(path), opts,
                                                providers=["CPUExecutionProvider"])
        except Exception as exc:  # ORT raises its own exception types for bad files
            raise WorkbenchError(f"cannot load {path} with ONNX Runtime: {exc}") from None
        meta = self.session.get_modelmeta().custom_metadata_map
        self.metadata = dict(meta)
        inp = self.session.get_inputs()[0]
        self.input_name = inp.name
        if not all(isinstance(d, int) for d in inp.shape[2:]):
            raise WorkbenchError(f"{path}: expected a fixed input size, got {inp.shape}")
        self.size = (int(inp.shape[3]), int(inp.shape[2]))  # (w, h)
        self.centres = _centres_from_metadata(meta, path)
        self.logits = meta.get("workbench.output") == "logits"

    def probabilities(self, light: np.ndarray) -> np.ndarray:
        """Bin scores (h, w, Q) for an L image of any size (resized to the input): probabilities,
        or logits when :attr:`logits`."""
        small = cv2.resize(light.astype(np.float32), self.size, interpolation=cv2.INTER_AREA)
        out = self.session.run(None, {self.input_name: small[None, None]})[0][0]
        return np.moveaxis(out, 0, -1)


#: Source datasets (the ``dataset`` column of ``MANIFEST.csv``) by the group they are reported in.
#: Scenes: Intel's outdoor scenes, Urban100's buildings, Sun-Hays' landscapes; objects: ImageNet
#: samples (animals, objects, food); people: COCO and BSDS, mixed everyday photos in which people
#: are the most frequent subject.
DATASET_GROUPS = {
    "Intel Image Classification": "scenes", "Urban100": "scenes", "Sun-Hays 80": "scenes",
    "ImageNet (ILSVRC2012) sample": "objects", "COCO 2017": "people", "BSDS500": "people",
}
#: The same by file-name prefix, for photos the manifest does not list.
PREFIX_GROUPS = {"intel": "scenes", "urban100": "scenes", "sunhays": "scenes",
                 "imagenet": "objects", "coco": "people", "bsds": "people"}
GROUP_ORDER = ("scenes", "objects", "people")


def source_groups(photos: list[Path], manifest: Path | str | None = None) -> dict[Path, str]:
    """The report group (``scenes``, ``objects``, ``people`` or ``other``) of each photo.

    Parameters
    ----------
    photos : list of Path
        Photos to classify.
    manifest : Path, optional
        A ``MANIFEST.csv`` with ``file`` and ``dataset`` columns (``file`` relative to the
        manifest's folder, e.g. ``val/coco_1.jpg``); photos it lists are grouped by their
        dataset, others by their file-name prefix.
    """
    import csv

    from workbench.colorize.training.data import source_of

    by_name: dict[str, str] = {}
    if manifest is not None and Path(manifest).is_file():
        with open(manifest, newline="") as fh:
            for row in csv.DictReader(fh):
                dataset = row.get("dataset", "")
                group = next((g for d, g in DATASET_GROUPS.items() if dataset.startswith(d)),
                             None)
                if group is not None and row.get("file"):
                    by_name[Path(row["file"]).name] = group
    return {p: by_name.get(p.name, PREFIX_GROUPS.get(source_of(p), "other")) for p in photos}


def _centres_from_metadata(meta: dict, path) -> np.ndarray:
    try:
        centres = np.asarray(json.loads(meta["workbench.bin_centres"]), np.float32)
        if centres.ndim != 2 or centres.shape[1] != 2:
            raise ValueError(f"shape {centres.shape}")
        return centres
    except (KeyError, ValueError, TypeError) as exc:
        raise WorkbenchError(f"{path}: no usable bin centres in its metadata ({exc})") from None


def prepare_photo(rgb: np.ndarray, short_side: int) -> np.ndarray:
    """Resize a photo so its short side is ``short_side`` (area interpolation when shrinking)."""
    h, w = rgb.shape[:2]
    scale = short_side / min(h, w)
    if abs(scale - 1) < 1e-6:
        return rgb
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)


def colorize_from_probabilities(probs: np.ndarray, centres: np.ndarray, light: np.ndarray,
                                temperature: float,
                                logits: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Annealed-mean ab at full resolution and the recombined RGB uint8."""
    ab = bins.annealed_mean(probs, centres, temperature, logits=logits)
    h, w = light.shape
    ab_full = cv2.resize(ab, (w, h), interpolation=cv2.INTER_LINEAR)
    rgb = color.lab_to_rgb(np.dstack([light, ab_full]), dtype=np.uint8)
    return ab_full, rgb


def evaluate_model(model_path: Path | str, val_dir: Path | str, *,
                   temperatures=(0.38, 1.0), short_side: int = 256,
                   prior_path: Path | str | None = None, max_photos: int = 0,
                   grid_path: Path | str | None = None, grid_rows: int = 6,
                   manifest: Path | str | None = None) -> dict:
    """AuC (plain, rebalanced) and colourfulness of a model on a folder of photos.

    Parameters
    ----------
    model_path : Path
        An ONNX ``bins`` colorizer.
    val_dir : Path
        Colour photos.
    temperatures : sequence of float
        Annealed-mean temperatures to measure.
    short_side : int
        Evaluation resolution.
    prior_path : Path, optional
        ``.npz`` with a ``prior`` array (Q,) for the rebalanced AuC; default: the distribution
        stored in the model's metadata (``workbench.training.bin_distribution``).
    max_photos : int
        Evaluate on an evenly spaced subset (0: all).
    grid_path : Path, optional
        Write a gray / ours / ground-truth figure of a few photos here (one per temperature,
        ``<stem>_T<t>.png``, when several are measured).
    manifest : Path, optional
        ``MANIFEST.csv`` naming each photo's source dataset, for the groups; default: the one
        in the parent folder of ``val_dir`` when there is one (else file-name prefixes).

    Returns
    -------
    dict
        ``rows`` (one per method: grayscale, each T, ground truth) with ``plain_auc``,
        ``rebalanced_auc`` (training prior), ``rebalanced_auc_evalset`` (the evaluated set's own
        colour distribution), ``colourfulness``; ``by_group`` with the same figures for
        ``all`` and each source group; the training-prior AuCs per source and for the first-pass
        photos (short side >= 256, the set the project's first measurements used); photo count;
        settings.
    """
    from workbench.colorize.training.data import list_photos, read_rgb, source_of

    model = BinModel(model_path)
    if prior_path is not None:
        prior = np.load(prior_path)["prior"]
    else:
        raw = model.metadata.get("workbench.training.bin_distribution")
        if raw is None:
            raise WorkbenchError("the model stores no bin distribution: pass --prior")
        prior = np.asarray(json.loads(raw), np.float64)
    eval_prior = evaluation_prior(prior, model.centres)
    photos = list_photos(val_dir)
    if max_photos:
        photos = photos[:: max(1, len(photos) // max_photos)][:max_photos]
    names = ["grayscale"] + [f"T={t:g}" for t in temperatures]
    if manifest is None and (Path(val_dir).parent / "MANIFEST.csv").is_file():
        manifest = Path(val_dir).parent / "MANIFEST.csv"
    group_of = source_groups(photos, manifest)
    per_group: dict = defaultdict(lambda: {
        n: {"prior": AucAccumulator(model.centres, eval_prior), "evalset": EvalSetAucAccumulator(),
            "colourfulness": []} for n in [*names, "ground truth"]})
    accs = {n: AucAccumulator(model.centres, eval_prior) for n in names}
    by_source: dict = defaultdict(lambda: {n: AucAccumulator(model.centres, eval_prior)
                                           for n in names})
    colourful: dict = defaultdict(list)
    grid_items: dict = defaultdict(list)
    grid_pick = set(_grid_choice(photos, grid_rows)) if grid_path else set()
    for path in photos:
        rgb = read_rgb(path)
        if rgb is None:
            continue
        # The first-pass photos of the shared set keep a short side >= 256 (the floor's set).
        group = "first-pass (short side >= 256)" if min(rgb.shape[:2]) >= 256 else None
        rgb = prepare_photo(rgb, short_side)
        lab = color.rgb_to_lab(rgb)
        light, true_ab = lab[..., 0], lab[..., 1:]
        probs = model.probabilities(light)
        src = source_of(path)
        groups = [by_source[src]] + ([by_source[group]] if group else [])
        zero = np.zeros_like(true_ab)
        weights = accs["grayscale"].pixel_weights(true_ab)
        summary = [per_group["all"], per_group[group_of[path]]]

        for acc in [accs["grayscale"]] + [g["grayscale"] for g in groups]:
            acc.add(zero, true_ab, weights)
        colourful["grayscale"].append(0.0)
        colourful["ground truth"].append(colourfulness(rgb))
        _record(summary, "grayscale", zero, true_ab, weights, 0.0)
        _record(summary, "ground truth", None, true_ab, weights, colourful["ground truth"][-1])
        for t in temperatures:
            ab, out = colorize_from_probabilities(probs, model.centres, light, t, model.logits)
            for acc in [accs[f"T={t:g}"]] + [g[f"T={t:g}"] for g in groups]:
                acc.add(ab, true_ab, weights)
            colourful[f"T={t:g}"].append(colourfulness(out))
            _record(summary, f"T={t:g}", ab, true_ab, weights, colourful[f"T={t:g}"][-1])
            if path in grid_pick:
                gray = color.lab_to_rgb(np.dstack([light, zero]), dtype=np.uint8)
                grid_items[t].append((gray, out, rgb))
    rows = [{"method": n, "plain_auc": accs[n].plain_auc, "rebalanced_auc": accs[n].rebalanced_auc,
             "rebalanced_auc_evalset": per_group["all"][n]["evalset"].rebalanced_auc,
             "colourfulness": float(np.mean(colourful[n]))} for n in names]
    rows.append({"method": "ground truth", "plain_auc": 100.0, "rebalanced_auc": 100.0,
                 "rebalanced_auc_evalset": 100.0,
                 "colourfulness": float(np.mean(colourful["ground truth"]))})
    by_group = {}
    for g in ["all", *GROUP_ORDER, *sorted(set(per_group) - {"all", *GROUP_ORDER})]:
        if g not in per_group:
            continue
        d = per_group[g]
        by_group[g] = {"photos": len(d["ground truth"]["colourfulness"])}
        for n in [*names, "ground truth"]:
            truth = n == "ground truth"
            by_group[g][n] = {
                "plain_auc": 100.0 if truth else d[n]["prior"].plain_auc,
                "rebalanced_auc": 100.0 if truth else d[n]["prior"].rebalanced_auc,
                "rebalanced_auc_evalset": 100.0 if truth else d[n]["evalset"].rebalanced_auc,
                "colourfulness": float(np.mean(d[n]["colourfulness"]))}
    sources = {s: {n: {"plain_auc": a.plain_auc, "rebalanced_auc": a.rebalanced_auc,
                       "photos": a.images} for n, a in d.items()}
               for s, d in sorted(by_source.items())}
    for t, items in grid_items.items():
        path_t = Path(str(grid_path))
        if len(temperatures) > 1:
            path_t = path_t.with_name(f"{path_t.stem}_T{t:g}{path_t.suffix}")
        save_grid(path_t, items)
    return {"model": str(model_path), "photos": len(colourful["ground truth"]),
            "short_side": short_side, "input_size": list(model.size), "rows": rows,
            "by_group": by_group, "by_source": sources}


def _record(summary: list[dict], name: str, ab: np.ndarray | None, true_ab: np.ndarray,
            weights: np.ndarray, cf: float) -> None:
    """Add one photo's result to the accumulators of each group in ``summary`` (no AuC for the
    ground truth itself, ``ab`` None)."""
    for d in summary:
        if ab is not None:
            d[name]["prior"].add(ab, true_ab, weights)
            d[name]["evalset"].add(ab, true_ab)
        d[name]["colourfulness"].append(cf)


def save_result_grid(model_path: Path | str, photos: list[Path], path: Path | str, *,
                     temperature: float | None = None, short_side: int = 256) -> None:
    """A gray / ours / ground-truth figure of chosen photos (``temperature``: the model's own
    default when None)."""
    from workbench.colorize.training.data import read_rgb

    model = BinModel(model_path)
    t = float(model.metadata.get("workbench.temperature", 0.38)) if temperature is None \
        else temperature
    items = []
    for photo in photos:
        rgb = read_rgb(Path(photo))
        if rgb is None:
            raise WorkbenchError(f"cannot read {photo}")
        rgb = prepare_photo(rgb, short_side)
        light = color.rgb_to_lab(rgb)[..., 0]
        _, out = colorize_from_probabilities(model.probabilities(light), model.centres, light, t,
                                             model.logits)
        gray = color.lab_to_rgb(np.dstack([light, np.zeros(light.shape + (2,), np.float32)]))
        items.append((gray, out, rgb))
    save_grid(path, items)


def _grid_choice(photos: list[Path], rows: int) -> list[Path]:
    """A few photos spread over the sources (objects and people first, then scenes)."""
    from workbench.colorize.training.data import source_of

    order = ["imagenet", "coco", "bsds", "sunhays", "urban100", "intel"]
    by_src = defaultdict(list)
    for p in photos:
        by_src[source_of(p)].append(p)
    picked: list[Path] = []
    k = 0
    while len(picked) < rows and any(by_src.values()):
        for s in order:
            lst = by_src.get(s, [])
            if lst and len(picked) < rows:
                picked.append(lst[(k * 7 + 3) % len(lst)])
                lst.remove(picked[-1])
        k += 1
    return picked


def save_grid(path: Path | str, items: list[tuple[np.ndarray, ...]], height: int = 112,
              labels: tuple[str, ...] = ("gray input", "ours", "ground truth")) -> None:
    """Rows of (gray input, ours, ground truth) as a PNG; tiles ``height`` px tall, in columns."""
    gap = 4
    resized = [[cv2.resize(img, (round(img.shape[1] * height / img.shape[0]), height),
                           interpolation=cv2.INTER_AREA) for img in row] for row in items]
    tile_w = max(t.shape[1] for row in resized for t in row)
    ncol = max(len(row) for row in resized)
    width = ncol * tile_w + (ncol - 1) * gap
    header_h = 22
    img = np.full((header_h + len(resized) * (height + gap) - gap, width, 3), 255, np.uint8)
    for j, text in enumerate(labels[:ncol]):
        cv2.putText(img, text, (j * (tile_w + gap) + 4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5,
                    (0, 0, 0), 1, cv2.LINE_AA)
    for i, row in enumerate(resized):
        y = header_h + i * (height + gap)
        for j, tile in enumerate(row):
            x = j * (tile_w + gap) + (tile_w - tile.shape[1]) // 2
            img[y:y + height, x:x + tile.shape[1]] = tile
    cv2.imwrite(str(path), cv2.cvtColor(img, cv2.COLOR_RGB2BGR),
                [cv2.IMWRITE_PNG_COMPRESSION, 9])


def format_table(report: dict) -> str:
    """The figures as a Markdown table."""
    lines = [f"{report['photos']} photos at short side {report['short_side']}, model input "
             f"{report['input_size'][0]}x{report['input_size'][1]}", "",
             "| | plain AuC | rebalanced AuC (training prior) | rebalanced AuC (eval set) "
             "| colourfulness |", "|---|---|---|---|---|"]
    for r in report["rows"]:
        lines.append(_table_row(r["method"], r))
    for group, figures in report.get("by_group", {}).items():
        if group == "all":
            continue
        lines += ["", f"{group} ({figures['photos']} photos)", "",
                  "| | plain AuC | rebalanced AuC (training prior) | rebalanced AuC (eval set) "
                  "| colourfulness |", "|---|---|---|---|---|"]
        lines += [_table_row(method, f) for method, f in figures.items() if method != "photos"]
    return "\n".join(lines)


def _table_row(method: str, r: dict) -> str:
    def fig(key: str) -> str:
        return "—" if method == "ground truth" else f"{r[key]:.2f}"

    return (f"| {method} | {fig('plain_auc')} | {fig('rebalanced_auc')} | "
            f"{fig('rebalanced_auc_evalset')} | {r['colourfulness']:.1f} |")
