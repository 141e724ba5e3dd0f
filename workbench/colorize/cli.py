"""``workbench colorize``: colorize photos or folders with an ONNX model, headless."""

from __future__ import annotations

import json
import sys

from workbench.cliutil import UsageError


def add_parser(sub) -> None:
    p = sub.add_parser("colorize", help="colorize images with an ONNX model",
                       description="Colorize gray (or colour, reduced to gray) images. The output "
                       "has the input's size; with --out-dir each result is <input stem>.png.")
    p.add_argument("inputs", nargs="+", metavar="IN")
    out = p.add_mutually_exclusive_group(required=True)
    out.add_argument("-o", "--output", metavar="OUT", help="output file (one input)")
    out.add_argument("--out-dir", metavar="DIR", help="output folder (any number of inputs)")
    p.add_argument("--model", metavar="ONNX", help="an ONNX colorizer (default: the shipped one)")
    p.add_argument("--compare", metavar="ONNX_B",
                   help="A/B: also colorize with this model and write <stem>_A.png, "
                   "<stem>_B.png and a labelled side-by-side <stem>_A_vs_B.png (with --out-dir)")
    p.add_argument("--temperature", type=float, default=None, metavar="T",
                   help="annealed-mean temperature for bin models (default: the model's)")
    p.add_argument("--saturation", type=float, default=1.0, metavar="S")
    p.add_argument("--provider", choices=("auto", "cpu", "cuda", "tensorrt"), default="auto")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    hints = p.add_argument_group("colour hints (one image, with -o)")
    hints.add_argument("--hint", action="append", metavar="X,Y,#RRGGBB",
                       help="pixel (X, Y) of the input has this sRGB colour; repeat for more. "
                       "Without --model the shipped hint model runs")
    hints.add_argument("--hints", metavar="FILE.json",
                       help='hints as JSON: [{"x": .., "y": .., "rgb": [r, g, b]}, ...]; '
                       "[] runs the hint model without hints")
    batch = p.add_argument_group("many files (with --out-dir; folders are expanded)")
    batch.add_argument("--workers", type=int, default=0, metavar="N",
                       help="colorize on N local processes (each loads the model once)")
    batch.add_argument("--scheduler", metavar="local|ADDRESS",
                       help="run on Dask: 'local' starts a LocalCluster here, or the address of "
                       "a running scheduler (needs the cluster extra)")
    batch.add_argument("--resume", action="store_true",
                       help="skip inputs an earlier run of the same job already wrote")
    p.set_defaults(func=cmd_colorize)




def cmd_colorize(args) -> int:
    from pathlib import Path

    from workbench.batch import ProgressBar
    from workbench.colorize.batch import colorize_files
    from workbench.colorize.video import colorize_video, is_video
    from workbench.imaging.io import read_image, write_image

    if args.output and len(args.inputs) != 1:
        raise UsageError("-o/--output takes exactly one input; use --out-dir for several")
    if args.temperature is not None and not (0 <= args.temperature <= 10):
        raise UsageError(f"--temperature must be between 0 and 10, got {args.temperature}")
    if args.workers < 0:
        raise UsageError(f"--workers must be 0 or more, got {args.workers}")
    video = bool(args.output) and is_video(args.inputs[0])
    if args.compare:
        return _compare(args)
    hints = _hints(args, video)
    if args.output and not video and (args.workers or args.scheduler or args.resume):
        raise UsageError("--workers, --scheduler and --resume go with --out-dir or a video")
    distributed = bool(args.workers or args.scheduler)
    colorizer = None if distributed else _load(args)
    failed: list = []
    if video and distributed:
        from workbench.colorize.video import colorize_video_distributed

        bar = None

        def chunk_done(done, total, task):
            nonlocal bar
            bar = bar or ProgressBar(total, label="chunks ")
            bar.update(done)

        report = colorize_video_distributed(
            args.inputs[0], args.output, model=args.model, provider=args.provider,
            temperature=args.temperature, saturation=args.saturation, workers=args.workers,
            scheduler=args.scheduler, resume=args.resume, progress=chunk_done)
        if bar is not None:
            bar.close()
        print(f"workbench: {report.frames} frames in chunks, sound {report.audio}",
              file=sys.stderr)
        results = [{"input": args.inputs[0], "output": args.output, "frames": report.frames,
                    "audio": report.audio}]
    elif video:
        bar = ProgressBar(0, label="frames ")

        def step(done, total):
            bar.total = total or done
            bar.update(done)

        report = colorize_video(colorizer, args.inputs[0], args.output,
                                temperature=args.temperature, saturation=args.saturation,
                                progress=step)
        bar.close()
        print(f"workbench: {report.frames} frames at {report.fps:g} fps, "
              f"{report.size[0]}x{report.size[1]}, sound {report.audio}", file=sys.stderr)
        results = [{"input": args.inputs[0], "output": args.output, "frames": report.frames,
                    "audio": report.audio}]
    elif args.output:
        image = read_image(args.inputs[0])
        write_image(args.output, colorizer.colorize(image, args.temperature, args.saturation,
                                                    hints))
        results = [{"input": args.inputs[0], "output": args.output}]
        if hints is not None:
            results[0]["hints"] = len(hints)
    else:
        bar: ProgressBar | None = None

        def started(report) -> None:
            nonlocal bar
            if report.dashboard:
                print(f"workbench: {report.where}; dashboard {report.dashboard}",
                      file=sys.stderr)

        def step(done, total, path) -> None:
            nonlocal bar
            if bar is None:
                bar = ProgressBar(total)
            bar.update(done, Path(path).name)

        report = colorize_files(
            colorizer, args.inputs, args.out_dir, temperature=args.temperature,
            saturation=args.saturation, model=args.model, provider=args.provider,
            workers=args.workers, scheduler=args.scheduler, resume=args.resume,
            progress=step, on_start=started)
        if bar is not None:
            bar.close()
        if report.skipped:
            print(f"workbench: {len(report.skipped)} already done (--resume)", file=sys.stderr)
        results = [{"input": t.source, "output": t.output} for t in report.done]
        failed = report.failed
    for _path, reason in failed:  # the reason names the file
        print(f"workbench: error: {reason}", file=sys.stderr)
    if args.json:
        print(json.dumps({
            "provider": colorizer.provider if colorizer else args.provider,
            "model": str(colorizer.model_path) if colorizer else args.model,
            "results": results,
            "failed": [{"input": str(p), "error": r} for p, r in failed]}))
    return 2 if failed else 0


def _compare(args) -> int:
    """``--compare B.onnx``: A (``--model``, default the shipped one) and B on the same photos."""
    from pathlib import Path

    from workbench.batch import ProgressBar
    from workbench.colorize.compare import compare_files
    from workbench.colorize.engine import Colorizer
    from workbench.colorize.video import is_video

    if not args.out_dir:
        raise UsageError("--compare writes three files per input: give --out-dir, not -o")
    if args.hint is not None or args.hints is not None:
        raise UsageError("--compare does not take hints: compare hints in the Colorize panel")
    if args.workers or args.scheduler or args.resume:
        raise UsageError("--compare runs here, one photo after another: not with --workers, "
                         "--scheduler or --resume")
    videos = [p for p in args.inputs if Path(p).is_file() and is_video(p)]
    if videos:
        raise UsageError(f"--compare takes photos, not videos ({Path(videos[0]).name}); "
                         "compare models on a video live in the Colorize panel")
    colorizer_a = _load(args)
    colorizer_b = Colorizer(args.compare, provider=args.provider)
    if colorizer_b.fell_back:
        print(f"workbench: note: B: {colorizer_b.provider_note}", file=sys.stderr)
    bar = ProgressBar(0)

    def step(done, total, path) -> None:
        bar.total = total
        bar.update(done, Path(path).name)

    report = compare_files(colorizer_a, colorizer_b, args.inputs, args.out_dir,
                           temperature=args.temperature, saturation=args.saturation,
                           progress=step)
    bar.close()
    for _path, reason in report.failed:
        print(f"workbench: error: {reason}", file=sys.stderr)
    if args.json:
        print(json.dumps({
            "a": {"model": str(colorizer_a.model_path), "provider": colorizer_a.provider},
            "b": {"model": str(colorizer_b.model_path), "provider": colorizer_b.provider},
            "results": report.written,
            "failed": [{"input": str(p), "error": r} for p, r in report.failed]}))
    return 2 if report.failed else 0


def _hints(args, video: bool):
    """The hints of --hint (in order), then of --hints, or None when neither was given."""
    if args.hint is None and args.hints is None:
        return None
    from workbench.colorize.hints import load_hints, parse_hint

    if not args.output or video:
        raise UsageError("--hint/--hints go with one image and -o/--output")
    hints = [parse_hint(text) for text in args.hint or []]
    if args.hints is not None:
        hints += load_hints(args.hints)
    if args.model is None:  # the shipped hint model
        from workbench.colorize.engine import shipped_hint_model_path

        path = shipped_hint_model_path()
        if not path.is_file():
            from workbench.colorize.contract import ModelLoadError

            raise ModelLoadError(f"the hint model that ships with Workbench is not installed "
                                 f"(expected {path}); pass --model with a hint-taking model")
        args.model = str(path)
    return hints


def _load(args):
    from workbench.colorize.engine import Colorizer

    colorizer = Colorizer(args.model, provider=args.provider)
    if colorizer.fell_back:
        print(f"workbench: note: {colorizer.provider_note}", file=sys.stderr)
    if (args.hint is not None or args.hints is not None) and not colorizer.takes_hints:
        from workbench.colorize.hints import HintError

        raise HintError(f"this model takes no colour hints: {colorizer.model_path.name} has no "
                        "hint_ab/hint_mask inputs (leave out --model to use the shipped hint "
                        "model)")
    return colorizer
