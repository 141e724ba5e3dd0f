"""``workbench bench colorize``: how fast the colorizer runs on each provider that works here.

For every ONNX Runtime provider the engine knows (TensorRT, CUDA, CPU) a :class:`Colorizer` is
opened with that provider asked for by name; a provider counts only when the session really runs
on it (``session.get_providers()[0]`` is its name — ONNX Runtime silently falls back to the CPU
otherwise). For each working provider and frame size (640×480 and 1920×1080 by default) it
measures, with and without ONNX Runtime I/O binding:

* ``model_fps`` — the network alone, on the input the engine prepares for that frame;
* ``end_to_end_fps`` — :meth:`Colorizer.colorize` on an RGB frame: lightness, resize, network,
  annealed-mean decoding, upsampling and recombination to RGB;

and the largest absolute difference from the CPU provider's output on the same frame, both in
the network's output (bin scores or ab) and in the final 8-bit RGB.

Core code: no Qt. The command-line parser is :func:`add_bench_parser`.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from workbench.errors import WorkbenchError

#: Providers tried, best first, as the engine names them.
BENCH_PROVIDERS = ("tensorrt", "cuda", "cpu")
DEFAULT_SIZES = ((640, 480), (1920, 1080))


def synthetic_frame(width: int, height: int, seed: int = 0) -> np.ndarray:
    """A deterministic RGB uint8 frame with smooth colour regions and edges (not noise, which
    no camera delivers)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    frame = np.empty((height, width, 3), np.float32)
    for c in range(3):
        fx, fy, phase = rng.uniform(1, 4), rng.uniform(1, 4), rng.uniform(0, 2 * np.pi)
        frame[..., c] = 128 + 90 * np.sin(2 * np.pi * (fx * x / width + fy * y / height) + phase)
    # a few flat blocks of solid colour
    for _ in range(6):
        w, h = int(rng.integers(width // 10, width // 3)), int(rng.integers(height // 10,
                                                                          height // 3))
        x0, y0 = int(rng.integers(0, width - w)), int(rng.integers(0, height - h))
        frame[y0:y0 + h, x0:x0 + w] = rng.uniform(0, 255, 3)
    return np.clip(frame, 0, 255).astype(np.uint8)


def _rate(fn: Callable[[], object], seconds: float, min_runs: int = 3) -> float:
    """Runs per second of ``fn`` over about ``seconds`` (after one untimed run)."""
    fn()
    runs, start = 0, time.perf_counter()
    while True:
        fn()
        runs += 1
        elapsed = time.perf_counter() - start
        if runs >= min_runs and elapsed >= seconds:
            return runs / elapsed


def _open(model_path, provider: str, io_binding: bool, threads: int | None):
    from workbench.colorize.engine import Colorizer

    return Colorizer(model_path, provider=provider, io_binding=io_binding, threads=threads)


def bench_colorize(model_path: str | os.PathLike[str] | None = None, *,
                   providers: Sequence[str] = BENCH_PROVIDERS,
                   sizes: Sequence[tuple[int, int]] = DEFAULT_SIZES, seconds: float = 1.5,
                   threads: int | None = None,
                   progress: Callable[[str], None] | None = None) -> dict:
    """Measure the colorizer on every provider that really works here.

    Parameters
    ----------
    model_path : path, optional
        An ONNX colorizer; default: the shipped model.
    providers : sequence of str
        Engine provider names to try (``"tensorrt"``, ``"cuda"``, ``"cpu"``); the CPU is always
        measured, as the reference for the differences.
    sizes : sequence of (width, height)
        Frame sizes.
    seconds : float
        Time per measurement (each provider and size runs 4: model and end to end, with and
        without I/O binding).
    threads : int, optional
        CPU threads for ONNX Runtime (default: its own choice).
    progress : callable, optional
        Called with a line of text before each provider.

    Returns
    -------
    dict
        ``{"providers": {ORT_NAME: {"WxH": {"model_fps", "end_to_end_fps", "io_binding":
        {"model_fps", "end_to_end_fps"}, "max_abs_diff_vs_cpu": {"output", "rgb"}}, ...,
        "session_providers": [...], "run_size": [h, w]}}, "unavailable": {name: reason},
        "model", "seconds_per_measure", "threads", "total_seconds"}``.
    """
    from workbench.colorize.engine import _ORT_NAMES

    if seconds <= 0:
        raise WorkbenchError("seconds must be positive")
    unknown = [p for p in providers if p not in BENCH_PROVIDERS]
    if unknown:
        raise WorkbenchError(f"unknown provider(s) {unknown}; choose from {BENCH_PROVIDERS}")
    order = [p for p in BENCH_PROVIDERS if p in providers or p == "cpu"]
    started = time.perf_counter()
    frames = {(w, h): synthetic_frame(w, h, seed=i) for i, (w, h) in enumerate(sizes)}
    reference: dict = {}  # size -> (output, rgb) on the CPU
    results: dict = {}
    unavailable: dict = {}
    resolved_model = None
    # the CPU first: it is the reference for the others
    for name in ["cpu", *[p for p in order if p != "cpu"]]:
        if progress is not None:
            progress(f"{name}: opening")
        plain = _open(model_path, name, False, threads)
        resolved_model = plain.model_path
        session_providers = list(plain.session.get_providers())
        if plain.provider != name or session_providers[0] != _ORT_NAMES[name]:
            unavailable[_ORT_NAMES[name]] = plain.provider_note
            plain.close()
            continue
        bound = _open(model_path, name, True, threads)
        entry: dict = {"session_providers": session_providers}
        for (w, h), frame in frames.items():
            if progress is not None:
                progress(f"{name}: {w}x{h}")
            key = f"{w}x{h}"
            figures: dict = {}
            for colorizer, slot in ((plain, figures), (bound, figures.setdefault("io_binding",
                                                                                  {}))):
                result = colorizer.predict(frame)
                batch = colorizer._network_input(result.lightness)
                # a hint model runs with its (empty) hint maps, as without hints in use
                extra = colorizer._hint_inputs((), result.lightness.shape, batch.shape[2:])
                slot["model_fps"] = _rate(
                    lambda c=colorizer, b=batch, e=extra: c._infer(b, e), seconds)
                slot["end_to_end_fps"] = _rate(lambda c=colorizer, f=frame: c.colorize(f),
                                                 seconds)
            output = plain.predict(frame).output
            rgb = plain.colorize(frame)
            bound_output = bound.predict(frame).output
            if name == "cpu":
                reference[key] = (output, rgb)
            ref_out, ref_rgb = reference[key]
            figures["max_abs_diff_vs_cpu"] = {
                "output": float(max(np.abs(output - ref_out).max(),
                                    np.abs(bound_output - ref_out).max())),
                "rgb": int(np.abs(rgb.astype(np.int16) - ref_rgb.astype(np.int16)).max()),
            }
            entry[key] = figures
            entry["run_size"] = list(batch.shape[2:])
        results[_ORT_NAMES[name]] = entry
        plain.close()
        bound.close()
    ordered = {k: results[k] for k in [_ORT_NAMES[p] for p in BENCH_PROVIDERS] if k in results}
    return {"providers": ordered, "unavailable": unavailable,
            "model": str(resolved_model), "seconds_per_measure": seconds, "threads": threads,
            "total_seconds": round(time.perf_counter() - started, 2)}


def format_report(report: dict) -> str:
    """The figures as a Markdown table, then the providers that do not work here."""
    lines = [f"model: {report['model']}", "",
             "| provider | frame | model fps | end-to-end fps | model fps, I/O binding "
             "| end-to-end fps, I/O binding | max diff vs CPU (output / RGB) |",
             "|---|---|---|---|---|---|---|"]
    for name, entry in report["providers"].items():
        for key, f in entry.items():
            if not isinstance(f, dict) or "model_fps" not in f:
                continue
            io, diff = f["io_binding"], f["max_abs_diff_vs_cpu"]
            lines.append(f"| {name} | {key} | {f['model_fps']:.1f} | {f['end_to_end_fps']:.1f} | "
                         f"{io['model_fps']:.1f} | {io['end_to_end_fps']:.1f} | "
                         f"{diff['output']:.2g} / {diff['rgb']} |")
    for name, reason in report["unavailable"].items():
        lines.append(f"\n{name}: not measured: {reason}")
    return "\n".join(lines)


def add_bench_parser(subparsers) -> argparse.ArgumentParser:
    """Add ``bench`` (with its ``colorize`` target) to an argparse sub-parser collection."""
    p = subparsers.add_parser("bench", help="measure speed on this machine (bench colorize)",
                              description="Speed measurements on this machine.")
    targets = p.add_subparsers(dest="target", required=True, parser_class=type(p))
    c = targets.add_parser(
        "colorize", help="colorizer frames per second on each provider that works here",
        description="For each ONNX Runtime provider that really works here (TensorRT, CUDA, "
        "CPU): the network alone and end to end (colorize an RGB frame) at 640x480 and "
        "1920x1080, with and without I/O binding, and the largest difference from the CPU "
        "output.")
    c.add_argument("--model", metavar="MODEL.onnx", help="default: the shipped colorizer")
    c.add_argument("--seconds", type=float, default=1.5,
                   help="time per measurement (default: %(default)s)")
    c.add_argument("--threads", type=int, help="CPU threads (default: ONNX Runtime's choice)")
    c.add_argument("--frames", nargs="+", default=[f"{w}x{h}" for w, h in DEFAULT_SIZES],
                   metavar="WxH", help="frame sizes (default: %(default)s)")
    c.add_argument("--json", action="store_true", help="print the figures as JSON")
    c.set_defaults(func=cmd_bench_colorize)
    return p


def cmd_bench_colorize(args) -> int:
    """Handler of ``workbench bench colorize``."""
    import sys

    if args.model is not None and not Path(args.model).is_file():
        raise WorkbenchError(f"model not found: {args.model}")
    if not args.seconds > 0 or (args.threads is not None and args.threads < 1):
        raise WorkbenchError("--seconds must be positive and --threads at least 1")
    sizes = []
    for text in args.frames:
        try:
            w, h = (int(v) for v in text.lower().split("x"))
        except ValueError:
            raise WorkbenchError(f"--frames: expected WxH, got {text!r}") from None
        if not (8 <= w <= 16384 and 8 <= h <= 16384):
            raise WorkbenchError(f"--frames: {text} is out of range (8..16384 px)")
        sizes.append((w, h))
    report = bench_colorize(args.model, sizes=sizes, seconds=args.seconds, threads=args.threads,
                            progress=lambda text: print(text, file=sys.stderr, flush=True))
    print(json.dumps(report, indent=1) if args.json else format_report(report))
    return 0
