"""``workbench rectify``: the Rectify tool headless (see DESIGN.md for the contract).

One photo: ``rectify IN OUT (--points x,y ×4 | --auto) [--to … | --size WxH] [--json]``.
Many: ``rectify (--matrix H.json | --auto) IN... --out-dir DIR [--resume] [--workers N]``.
"""

from __future__ import annotations

import json
import os
import sys

from workbench.cliutil import UsageError, parse_point, parse_size, progress_bar


def add_parser(sub) -> None:
    p = sub.add_parser("rectify", help="rectify a planar rectangle given (or found by) its corners",
                       description="Map four points (top-left, top-right, bottom-right, "
                       "bottom-left, in source pixels) to an upright rectangle; --auto finds "
                       "them; --matrix applies a saved rectification to many photos.")
    p.add_argument("paths", nargs="+", metavar="PATH",
                   help="IN OUT for one photo; with --out-dir, any number of inputs or folders")
    how = p.add_mutually_exclusive_group(required=True)
    how.add_argument("--points", nargs=4, type=parse_point, metavar="x,y")
    how.add_argument("--auto", action="store_true", help="find the corners automatically")
    how.add_argument("--matrix", metavar="H.json",
                     help='a saved matrix ({"H", "size"}: Save matrix… or rectify --json)')
    target = p.add_mutually_exclusive_group()
    target.add_argument("--to", nargs=4, type=parse_point, metavar="u,v",
                        help="where the four points go in the output (output size: their extent)")
    target.add_argument("--size", type=parse_size, metavar="WxH",
                        help="map the points to the corner pixel centres of a WxH output")
    p.add_argument("--interp", choices=("nearest", "bilinear", "bicubic"), default="bilinear")
    p.add_argument("--out-dir", metavar="DIR", help="output folder: <input stem>.png per input")
    p.add_argument("--resume", action="store_true",
                   help="skip inputs an earlier run of the same job already wrote")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="local processes (default: all cores)")
    p.add_argument("--scheduler", metavar="local|ADDRESS",
                   help="run on Dask: 'local' starts a LocalCluster, or a scheduler's address")
    p.add_argument("--json", action="store_true", help='print {"H": ..., "size": [w, h]}')
    p.set_defaults(func=cmd_rectify)


def cmd_rectify(args) -> int:
    if args.out_dir is not None:
        return _cmd_folder(args)
    if args.matrix:
        raise UsageError("rectify --matrix needs --out-dir DIR")
    if len(args.paths) != 2:
        raise UsageError("rectify takes IN OUT (use --out-dir DIR for many inputs)")
    if args.resume or args.workers is not None or args.scheduler:
        raise UsageError("--resume, --workers and --scheduler go with --out-dir")
    if args.auto:
        return _cmd_auto(args)
    return _cmd_points(args)


def _cmd_points(args) -> int:
    import numpy as np

    from workbench.imaging.io import read_image, write_image
    from workbench.rectify.homography import (
        estimate_homography,
        quadrilateral_warnings,
        rectified_size,
        rectify_homography,
    )
    from workbench.rectify.session import validate_output_size
    from workbench.rectify.warp import warp_perspective

    src, dst = args.paths
    image = read_image(src)
    h_img, w_img = image.shape[:2]
    warnings = [
        f"point {x:g},{y:g} lies outside the {w_img}×{h_img} image"
        for x, y in args.points
        if not (-0.5 <= x <= w_img - 0.5 and -0.5 <= y <= h_img - 0.5)
    ]
    warnings += quadrilateral_warnings(args.points)
    method = None
    if args.to:
        H = estimate_homography(args.points, args.to)
        to = np.asarray(args.to)
        size = (int(np.ceil(to[:, 0].max())) + 1, int(np.ceil(to[:, 1].max())) + 1)
        method = "given points"
    else:
        if args.size:
            size = args.size
            method = "given size"
        else:
            est = rectified_size(args.points, image_size=(w_img, h_img))
            size = (est.width, est.height)
            method = est.method
        validate_output_size(*size)
        H = rectify_homography(args.points, size)
    validate_output_size(*size)
    result = warp_perspective(image, H, size, interpolation=args.interp)
    write_image(dst, result)
    for warning in warnings:  # only once it worked: a failure stays a one-line message
        print(f"workbench: warning: {warning}", file=sys.stderr)
    if args.json:
        print(json.dumps({"H": H.tolist(), "size": list(size), "size_method": method}))
    else:
        print(f"wrote {dst} ({size[0]}×{size[1]}, size from {method})", file=sys.stderr)
    return 0


def _cmd_auto(args) -> int:
    from workbench.imaging.io import read_image, write_image
    from workbench.rectify.batch import auto_rectify
    from workbench.rectify.homography import rectify_homography
    from workbench.rectify.session import validate_output_size
    from workbench.rectify.warp import warp_perspective

    if args.to:
        raise UsageError("--to goes with --points, not --auto")
    src, dst = args.paths
    image = read_image(src)
    result, doc = auto_rectify(image, interp=args.interp)  # NoRectangleFound: one line, exit 2
    if args.size:
        validate_output_size(*args.size)
        H = rectify_homography(doc["corners"], args.size)
        result = warp_perspective(image, H, args.size, interpolation=args.interp)
        doc.update(H=H.tolist(), size=list(args.size), size_method="given size")
    write_image(dst, result)
    if args.json:
        print(json.dumps(doc))
    else:
        w, h = doc["size"]
        print(f"wrote {dst} ({w}×{h}, corners found with confidence {doc['confidence']:.2f})",
              file=sys.stderr)
    return 0


def _cmd_folder(args) -> int:
    from pathlib import Path

    from workbench.rectify.batch import apply_matrix_files, auto_files, load_matrix

    if args.points:
        raise UsageError("--out-dir goes with --matrix or --auto, not --points")
    if args.to or args.size:
        raise UsageError("--to/--size do not go with --out-dir")
    if args.workers is not None and args.workers < 1:
        raise UsageError(f"--workers must be at least 1, got {args.workers}")
    workers = (os.cpu_count() or 1) if args.workers is None and not args.scheduler else \
        (args.workers or 0)
    common = dict(interp=args.interp, resume=args.resume, workers=workers,
                  scheduler=args.scheduler,
                  progress=lambda i, n, p: progress_bar(i, n, Path(p).name))
    if args.matrix:
        H, size = load_matrix(args.matrix)
        report = apply_matrix_files(H, size, args.paths, args.out_dir, **common)
    else:
        report = auto_files(args.paths, args.out_dir, **common)
    total = len(report.written) + len(report.failed) + len(report.not_found)
    if total > 1:
        progress_bar(total, total, "done")
        sys.stderr.write("\n")
    for _path, reason in report.failed:  # the reason names the file
        print(f"workbench: error: {reason}", file=sys.stderr)
    if report.not_found:
        print(f"workbench: no rectangle found in {len(report.not_found)} photo(s); do these by "
              "hand (the Rectify panel's Open… takes them all, Next photo goes through them):",
              file=sys.stderr)
        for p in report.not_found:
            print(f"  {p}", file=sys.stderr)
    if args.json:
        print(json.dumps({"written": [str(p) for p in report.written],
                          "skipped": [str(p) for p in report.skipped],
                          "failed": [{"input": str(p), "error": r} for p, r in report.failed],
                          "not_found": [str(p) for p in report.not_found]}))
    else:
        print(f"{len(report.written)} written, {len(report.skipped)} already done, "
              f"{len(report.failed)} failed, {len(report.not_found)} without a rectangle "
              f"({report.seconds:.1f} s)", file=sys.stderr)
    return 0 if report.ok else 2
