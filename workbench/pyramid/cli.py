"""``workbench pyramid``: pyramid levels to image files, headless."""

from __future__ import annotations

import json

from workbench.cliutil import UsageError


def add_parser(sub) -> None:
    p = sub.add_parser("pyramid", help="write each level of a Gaussian/Laplacian pyramid",
                       description="One image file per level: Gaussian levels keep the input's "
                       "bit depth (PNG); Laplacian band-pass levels are float32 TIFF (signed).")
    p.add_argument("input", metavar="IN")
    p.add_argument("--levels", type=int, required=True, metavar="N")
    p.add_argument("--out-dir", required=True, metavar="DIR")
    p.add_argument("--kind", choices=("gaussian", "laplacian", "dog"), default="gaussian")
    p.add_argument("--sigma", type=float, default=None, metavar="S",
                   help="Gaussian sigma (default: the Burt & Adelson match, 1.0292)")
    p.add_argument("--kernel-size", type=int, default=5, metavar="K", help="odd, default 5")
    p.add_argument("--format", choices=("png", "tif"), default="png",
                   help="file type for Gaussian levels")
    p.add_argument("--json", action="store_true", help="print the files and level statistics")
    p.set_defaults(func=cmd_pyramid)


def cmd_pyramid(args) -> int:
    from pathlib import Path

    from workbench.imaging.io import read_image
    from workbench.pyramid import levels as pyr
    from workbench.pyramid.explorer import PyramidParams, compute, export_levels

    if args.levels < 1:
        raise UsageError(f"--levels must be at least 1, got {args.levels}")
    sigma = pyr.DEFAULT_SIGMA if args.sigma is None else args.sigma
    image = read_image(args.input)
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    params = PyramidParams(args.kind, args.levels, sigma, args.kernel_size)
    result = compute(image, params)
    written = export_levels(result, out_dir, stem=Path(args.input).stem, fmt=args.format)
    if args.json:
        print(json.dumps({
            "files": [str(p) for p in written],
            "levels": [{"shape": list(st.shape), "min": st.min, "max": st.max, "mean": st.mean,
                        "energy": st.energy} for st in result.stats],
            "reconstruction_error": result.reconstruction_error,
        }))
    else:
        for path in written:
            print(path)
    return 0
