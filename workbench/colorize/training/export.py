"""Export a trained colorizer to ONNX with the engine's contract in its metadata, and check it.

The exported graph takes L in 0..100 (1, 1, S, S) and returns softmax probabilities over the Q ab
bins at a quarter of the input size (1, Q, S/4, S/4); the engine decodes them by the annealed mean
of Zhang, Isola & Efros (2016) at a temperature the user can change live. The metadata keys are the
ones :mod:`workbench.colorize.contract` defines, so the engine needs no special case.

References
----------
R. Zhang, P. Isola and A. A. Efros, "Colorful Image Colorization", ECCV 2016.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np
import torch

from workbench.colorize.training.model import ProbabilityOutput, parameter_count
from workbench.colorize.training.train import load_checkpoint

#: ONNX Runtime 1.31 refuses IR version 14; IR 8 is what opsets 13–18 need.
IR_VERSION = 8
SHIPPED_OPSET = 17
CHECK_OPSETS = (13, 17, 18)


def contract_metadata(centres: np.ndarray, temperature: float,
                      extra: dict | None = None, output: str = "bins") -> dict[str, str]:
    """The ONNX metadata (string → string) that states the model's contract for the engine.

    The ``workbench.*`` keys come from :func:`workbench.colorize.contract.contract_metadata`;
    ``extra`` items are added as ``workbench.training.<key>`` (provenance, not contract).
    """
    from workbench.colorize.contract import contract_metadata as engine_metadata

    # Raw L in 0..100 (scale 1, offset 0): the gray-to-RGB step is inside the graph.
    meta = engine_metadata(output, bin_centres=np.asarray(centres, np.float64),
                           input_scale=1.0, input_offset=0.0, temperature=temperature)
    for key, value in (extra or {}).items():
        meta[f"workbench.training.{key}"] = value if isinstance(value, str) else json.dumps(value)
    return meta


def _export_graph(net, path: Path, size: int, opset: int, output: str = "bins") -> None:
    import onnx

    wrapped = (ProbabilityOutput(net) if output == "bins" else net).eval()
    dummy = torch.full((1, 1, size, size), 50.0)
    torch.onnx.export(wrapped, (dummy,), str(path), opset_version=opset, dynamo=False,
                      input_names=["L"], output_names=["bins"], do_constant_folding=True)
    model = onnx.load(str(path))
    model.ir_version = min(model.ir_version, IR_VERSION)
    onnx.save(model, str(path))


def sample_lightness(paths: list[Path], size: int) -> np.ndarray:
    """L (N, 1, size, size) float32 of real photos, resized as the engine does."""
    import cv2

    from workbench.colorize.training.data import read_rgb
    from workbench.imaging.color import lightness

    out = []
    for p in paths:
        rgb = read_rgb(p)
        if rgb is None:
            continue
        light = lightness(rgb)
        out.append(cv2.resize(light, (size, size), interpolation=cv2.INTER_AREA))
    return np.stack(out)[:, None].astype(np.float32)


def ort_session(path: Path | str, threads: int = 2):
    """A CPU ONNX Runtime session with ``threads`` intra-op threads and a quiet log."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def max_deviation(path: Path | str, net, lightness: np.ndarray, output: str = "bins") -> float:
    """Largest absolute difference between ONNX Runtime's and torch's outputs (bin
    probabilities, or logits)."""
    with torch.no_grad():
        ref = net(torch.from_numpy(lightness))
        ref = (torch.softmax(ref, 1) if output == "bins" else ref).numpy()
    sess = ort_session(path)
    got = np.concatenate([sess.run(None, {"L": lightness[i:i + 1]})[0]
                          for i in range(len(lightness))])
    return float(np.abs(got - ref).max())


def check_opsets(net, size: int, lightness: np.ndarray,
                 opsets: tuple[int, ...] = CHECK_OPSETS, output: str = "bins") -> dict[int, float]:
    """Export at each opset and return ONNX Runtime's largest absolute difference from torch's
    probabilities on the given L images."""
    result = {}
    with tempfile.TemporaryDirectory() as tmp:
        for opset in opsets:
            path = Path(tmp) / f"m{opset}.onnx"
            _export_graph(net, path, size, opset, output)
            result[opset] = max_deviation(path, net, lightness, output)
    return result


def export_onnx(checkpoint: Path | str, out: Path | str, *, temperature: float = 0.38,
                opset: int = SHIPPED_OPSET, check_images: list[Path] | None = None,
                opsets_to_check: tuple[int, ...] = CHECK_OPSETS, output: str = "bins") -> dict:
    """Export a checkpoint to ONNX with the contract metadata; verify it against torch.

    Parameters
    ----------
    checkpoint : Path
        A ``final.pt``/``last.pt`` written by :func:`.train.train`.
    out : Path
        The ONNX file to write.
    temperature : float
        Default annealed-mean temperature recorded in the metadata.
    opset : int
        Opset of the written file.
    check_images : list of Path, optional
        Real photos for the torch-vs-ONNX Runtime check (default: a few validation photos from
        the training configuration, or random L if none are found).
    opsets_to_check : tuple of int
        Opsets at which the export is compared with torch (default 13, 17 and 18).
    output : {"bins", "logits"}
        ``"bins"``: the graph ends in a softmax (probabilities); ``"logits"``: it stops before
        it and the engine normalises (the softmax over 261 × 40 × 40 values measured about
        10 ms of a 35 ms single-thread run at 160 px in ONNX Runtime).

    Returns
    -------
    dict
        Size in bytes, parameter count, opset, IR version, maximum deviation per checked opset.
    """
    import onnx

    net, state = load_checkpoint(checkpoint)
    cfg = state["config"]
    size = int(cfg["size"])
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if check_images is None:
        from workbench.colorize.training.data import list_photos

        try:
            check_images = list_photos(cfg["val"])[::97][:6]
        except Exception:  # no validation folder on this machine: fall back to random L
            check_images = []
    light = (sample_lightness(check_images, size) if check_images else
             np.random.default_rng(0).uniform(0, 100, (2, 1, size, size)).astype(np.float32))
    if output not in ("bins", "logits"):
        raise ValueError(f"output must be 'bins' or 'logits', got {output!r}")
    _export_graph(net, out, size, opset, output)
    deviations = {opset: max_deviation(out, net, light, output)}
    deviations.update(check_opsets(net, size, light,
                                   tuple(o for o in opsets_to_check if o != opset), output))
    model = onnx.load(str(out))
    extra = {"input_size": size, "checkpoint_step": state["step"],
             "images_seen": state["seen"], "loss": cfg["loss"],
             "bin_distribution": [round(float(v), 8) for v in state["prior"]]}
    model.producer_name = "workbench.colorize.training"
    encoder = net.encoder.capitalize()
    extra["encoder"] = f"EfficientNet-{encoder}"
    meta = contract_metadata(state["centres"], temperature, extra, output)
    del model.metadata_props[:]
    for key, value in meta.items():
        model.metadata_props.add(key=key, value=value)
    model.doc_string = (f"Workbench colorizer (Zhang, Isola & Efros 2016 bins) on an "
                        f"EfficientNet-{encoder} encoder; input L 0..100, output bin "
                        f"{'probabilities' if output == 'bins' else 'logits'}.")
    onnx.checker.check_model(model)
    onnx.save(model, str(out))
    return {"path": str(out), "bytes": out.stat().st_size, "parameters": parameter_count(net),
            "opset": opset, "ir_version": int(model.ir_version), "input_size": size,
            "output": output,
            "num_bins": int(state["num_bins"]), "max_abs_deviation_by_opset": deviations}


def _export_hint_graph(net, path: Path, size: int, opset: int) -> None:
    import onnx

    from workbench.colorize.training.model import HintProbabilityOutput

    wrapped = HintProbabilityOutput(net).eval()
    dummy = (torch.full((1, 1, size, size), 50.0), torch.zeros(1, 2, size, size),
             torch.zeros(1, 1, size, size))
    torch.onnx.export(wrapped, dummy, str(path), opset_version=opset, dynamo=False,
                      input_names=["L", "hint_ab", "hint_mask"], output_names=["bins"],
                      do_constant_folding=True)
    model = onnx.load(str(path))
    model.ir_version = min(model.ir_version, IR_VERSION)
    onnx.save(model, str(path))


def _hint_check_inputs(light: np.ndarray, seed: int = 0) -> list[tuple[np.ndarray, ...]]:
    """(L, hint_ab, hint_mask) triples for the torch-vs-ONNX Runtime check: no hints, and a few
    random 4×4 hint cells."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(len(light)):
        n, _, h, w = light[i:i + 1].shape
        ab = np.zeros((1, 2, h, w), np.float32)
        mask = np.zeros((1, 1, h, w), np.float32)
        if i % 2:
            for _ in range(5):
                y, x = rng.integers(0, h // 4) * 4, rng.integers(0, w // 4) * 4
                ab[0, :, y:y + 4, x:x + 4] = rng.uniform(-60, 60, (2, 1, 1))
                mask[0, :, y:y + 4, x:x + 4] = 1
        out.append((light[i:i + 1], ab, mask))
    return out


def export_hint_onnx(checkpoint: Path | str, out: Path | str, *, temperature: float = 0.6,
                     opset: int = SHIPPED_OPSET, check_images: list[Path] | None = None,
                     extra: dict | None = None) -> dict:
    """Export a hint colorizer checkpoint (:mod:`.hint_train`) to ONNX and check it.

    The graph takes ``L`` (1, 1, S, S), ``hint_ab`` (1, 2, S, S) and ``hint_mask`` (1, 1, S, S)
    and returns ``bins`` (1, Q, S/4, S/4) probabilities; the metadata holds the engine's contract
    with ``workbench.hints = "ab-mask"`` and provenance under ``workbench.training.*``.

    Returns
    -------
    dict
        Size in bytes, parameters, opset, IR version, the largest absolute difference between
        ONNX Runtime's and torch's probabilities (with and without hints).
    """
    import onnx

    from workbench.colorize.contract import contract_metadata as engine_metadata
    from workbench.colorize.training.hint_train import load_hint_checkpoint

    net, state = load_hint_checkpoint(checkpoint)
    size = int(state["plain_config"]["size"])
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    light = (sample_lightness(check_images, size) if check_images else
             np.random.default_rng(0).uniform(0, 100, (4, 1, size, size)).astype(np.float32))
    _export_hint_graph(net, out, size, opset)
    sess = ort_session(out)
    worst = 0.0
    with torch.no_grad():
        for lab, ab, mask in _hint_check_inputs(light):
            ref = torch.softmax(net(*(torch.from_numpy(a) for a in (lab, ab, mask))), 1).numpy()
            got = sess.run(None, {"L": lab, "hint_ab": ab, "hint_mask": mask})[0]
            worst = max(worst, float(np.abs(got - ref).max()))
    model = onnx.load(str(out))
    meta = engine_metadata("bins", bin_centres=np.asarray(state["centres"], np.float64),
                           input_scale=1.0, input_offset=0.0, temperature=temperature,
                           hints=True)
    provenance = {"input_size": size, "checkpoint_step": state["step"],
                  "images_seen": state["seen"], "loss": "rebalanced",
                  "hint_sampling": {k: state["config"][k] for k in
                                    ("p_none", "geometric_p", "max_patch")},
                  "bin_distribution": [round(float(v), 8) for v in state["prior"]],
                  "encoder": f"EfficientNet-{net.encoder.capitalize()}",
                  **(extra or {})}
    for key, value in provenance.items():
        meta[f"workbench.training.{key}"] = value if isinstance(value, str) else json.dumps(value)
    del model.metadata_props[:]
    for key, value in meta.items():
        model.metadata_props.add(key=key, value=value)
    model.producer_name = "workbench.colorize.training"
    model.doc_string = ("Workbench hint colorizer (Zhang et al. 2017 user hints on Zhang et al. "
                        f"2016 bins), EfficientNet-{net.encoder.capitalize()} encoder; inputs L "
                        "0..100, hint_ab (Lab units), hint_mask; output bin probabilities.")
    onnx.checker.check_model(model)
    onnx.save(model, str(out))
    return {"path": str(out), "bytes": out.stat().st_size, "parameters": parameter_count(net),
            "opset": opset, "ir_version": int(model.ir_version), "input_size": size,
            "num_bins": int(state["num_bins"]), "max_abs_deviation": worst}
