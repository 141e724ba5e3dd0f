"""``workbench pyramid``: pyramid levels to image files, headless (one photo or many)."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

from workbench.batch import Task
from workbench.cliutil import UsageError


def add_parser(sub) -> None:
    p = sub.add_parser("pyramid", help="write each level of a Gaussian/Laplacian pyramid",
                       description="One image file per level: Gaussian levels keep the input's "
                       "bit depth (PNG); Laplacian band-pass levels are float32 TIFF (signed). "
                       "Several inputs (or folders) run as a batch: <stem>_<level> files.")
    p.add_argument("inputs", nargs="+", metavar="IN")
    p.add_argument("--levels", type=int, required=True, metavar="N")
    p.add_argument("--out-dir", required=True, metavar="DIR")
    p.add_argument("--kind", choices=("gaussian", "laplacian", "dog"), default="gaussian")
    p.add_argument("--sigma", type=float, default=None, metavar="S",
                   help="Gaussian sigma (default: the Burt & Adelson match, 1.0292)")
    p.add_argument("--kernel-size", type=int, default=5, metavar="K", help="odd, default 5")
    p.add_argument("--format", choices=("png", "tif"), default="png",
                   help="file type for Gaussian levels")
    p.add_argument("--json", action="store_true", help="print the files and level statistics")
    batch = p.add_argument_group("many files")
    batch.add_argument("--workers", type=int, default=0, metavar="N",
                       help="N local processes")
    batch.add_argument("--scheduler", metavar="local|ADDRESS", help="run on Dask")
    batch.add_argument("--resume", action="store_true", help="skip inputs already done")
    p.set_defaults(func=cmd_pyramid)


@dataclass(frozen=True)
class PyramidJob:
    """Every level of one photo per task (``task.output`` is its level-0 file)."""

    kind: str
    levels: int
    sigma: float
    kernel_size: int
    fmt: str
    name: str = "pyramid"

    def setup(self):
        return None

    def compute(self, source: str):
        from workbench.imaging.io import read_image
        from workbench.pyramid.explorer import PyramidParams, compute

        params = PyramidParams(self.kind, self.levels, self.sigma, self.kernel_size)
        return compute(read_image(source), params)

    def run(self, _state, task: Task) -> None:
        from workbench.pyramid.explorer import export_levels

        # the output names level 0, <stem>_0.<ext>; the stem may differ from the source's when
        # another input has that name (tasks_for)
        output = Path(task.output)
        export_levels(self.compute(task.source), output.parent,
                      stem=output.stem.removesuffix("_0"), fmt=self.fmt)


def cmd_pyramid(args) -> int:
    from workbench.batch import ProgressBar, expand_inputs, run_batch, tasks_for
    from workbench.imaging.io import SUPPORTED_READ_EXTENSIONS
    from workbench.pyramid import levels as pyr
    from workbench.pyramid.explorer import export_levels

    if args.levels < 1:
        raise UsageError(f"--levels must be at least 1, got {args.levels}")
    sigma = pyr.DEFAULT_SIGMA if args.sigma is None else args.sigma
    job = PyramidJob(args.kind, args.levels, sigma, args.kernel_size, args.format)
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    inputs = expand_inputs(args.inputs, SUPPORTED_READ_EXTENSIONS)
    if len(args.inputs) == 1 and not Path(args.inputs[0]).is_dir() and not (
            args.workers or args.scheduler or args.resume):
        result = job.compute(str(inputs[0]))
        written = export_levels(result, out_dir, stem=inputs[0].stem, fmt=args.format)
        if args.json:
            print(json.dumps({
                "files": [str(p) for p in written],
                "levels": [{"shape": list(st.shape), "min": st.min, "max": st.max,
                            "mean": st.mean, "energy": st.energy} for st in result.stats],
                "reconstruction_error": result.reconstruction_error,
            }))
        else:
            for path in written:
                print(path)
        return 0
    level0 = "tif" if args.kind != "gaussian" or args.format == "tif" else "png"
    # <stem>_<level> for each input; inputs whose levels would take another's names get the
    # next free stem (the extension differs between levels, so names are compared without it)
    stems = tasks_for(inputs, out_dir, suffix="", variants=[f"_{k}" for k in range(args.levels)])
    tasks = [Task(t.source, f"{t.output}_0.{level0}") for t in stems]
    bar = ProgressBar(len(tasks))
    report = run_batch(job, tasks, workers=args.workers, scheduler=args.scheduler,
                       resume=args.resume,
                       progress=lambda done, total, task: bar.update(done, Path(task.source).name))
    bar.close()
    for _path, reason in report.failed:
        print(f"workbench: error: {reason}", file=sys.stderr)
    if args.json:
        print(json.dumps({"done": [t.source for t in report.done],
                          "skipped": [str(p) for p in report.skipped],
                          "failed": [{"input": str(p), "error": r} for p, r in report.failed]}))
    return 2 if report.failed else 0
