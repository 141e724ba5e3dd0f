"""``workbench rectify``: the Rectify tool headless (see DESIGN.md for the contract)."""

from __future__ import annotations

import json
import sys

from workbench.cliutil import parse_point, parse_size


def add_parser(sub) -> None:
    p = sub.add_parser("rectify", help="rectify a planar rectangle given its four corners",
                       description="Map four points (top-left, top-right, bottom-right, "
                       "bottom-left, in source pixels) to an upright rectangle.")
    p.add_argument("input", metavar="IN")
    p.add_argument("output", metavar="OUT")
    p.add_argument("--points", nargs=4, type=parse_point, required=True, metavar="x,y")
    target = p.add_mutually_exclusive_group()
    target.add_argument("--to", nargs=4, type=parse_point, metavar="u,v",
                        help="where the four points go in the output (output size: their extent)")
    target.add_argument("--size", type=parse_size, metavar="WxH",
                        help="map the points to the corner pixel centres of a WxH output")
    p.add_argument("--interp", choices=("nearest", "bilinear", "bicubic"), default="bilinear")
    p.add_argument("--json", action="store_true", help='print {"H": ..., "size": [w, h]}')
    p.set_defaults(func=cmd_rectify)


def cmd_rectify(args) -> int:
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

    image = read_image(args.input)
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
    write_image(args.output, result)
    for warning in warnings:  # only once it worked: a failure stays a one-line message
        print(f"workbench: warning: {warning}", file=sys.stderr)
    if args.json:
        print(json.dumps({"H": H.tolist(), "size": list(size), "size_method": method}))
    else:
        print(f"wrote {args.output} ({size[0]}×{size[1]}, size from {method})", file=sys.stderr)
    return 0
