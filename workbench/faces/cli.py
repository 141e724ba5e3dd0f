"""``workbench faces enroll|recognize|evaluate|list|remove``: the headless twin of the Faces panel.

Wire it into :mod:`workbench.cli` with ``COMMANDS["faces"] = add_faces_parser``. Handlers return
the exit status and raise :class:`~workbench.errors.WorkbenchError` for anything the user can
fix (unreadable image, no face, unknown person, damaged gallery), which the command line prints
as one line with exit status 2.

``recognize --json`` prints one JSON array, one object per image (DESIGN.md)::

    [{"image": "a.jpg", "faces": [{"box": [x, y, w, h], "name": "Ada" or null, "nearest": "Ada",
      "distance": 21.5, "identity_threshold": 33.0, "face_distance": 31.0,
      "face_threshold": 52.0, "status": "known" | "unknown" | "not a face",
      "alignment": "eyes" | "box" | null}]}]

``name`` is null unless the status is ``known``; ``nearest`` is the closest enrolled person
whatever the status. ``distance`` and ``identity_threshold`` are degrees (the angle in the
Fisherfaces' discriminant space, the default method) or RMS grey levels (eigenfaces);
``face_distance`` and ``face_threshold`` are always RMS grey levels. Detections that are not
faces (the distance from face space is above the face threshold) are left out unless
``--all`` is given. ``alignment`` says how the crop was aligned: by a validated eye pair or
by the face box alone (null for ``--aligned`` crops).

``recognize IN... --out-dir DIR`` (files or folders) runs on the shared batch layer
(:mod:`workbench.faces.batch`): each photo's object is written as ``DIR/<stem>.json``, with
``--workers N`` local processes or ``--scheduler local|ADDRESS`` (Dask) and ``--resume``; each
worker opens the gallery read-only once. A photo that cannot be read is reported on stderr and
the others go on (exit status 2 at the end). The combined array (``--json``) or the table is
printed as without ``--out-dir``.

``evaluate DATASET_DIR [--enrol K] [--strangers N] [--method fisher|eigen] [--json]`` measures
recognition on one folder per person (:mod:`workbench.faces.evaluate`).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from workbench.errors import WorkbenchError
from workbench.faces.detect import FaceDetector, check_shot
from workbench.faces.gallery import Gallery
from workbench.imaging.io import read_image

__all__ = [
    "add_faces_parser",
    "cmd_faces_enroll",
    "cmd_faces_evaluate",
    "cmd_faces_list",
    "cmd_faces_recognize",
    "cmd_faces_remove",
]


def add_faces_parser(sub: Any) -> argparse.ArgumentParser:
    """Add ``faces`` and its sub-commands to an argparse sub-parser collection."""
    faces = sub.add_parser("faces", help="enrol people and recognise faces (eigenfaces)",
                           description="Manage a face gallery and recognise faces in images.")
    commands = faces.add_subparsers(dest="faces_command", required=True, metavar="COMMAND")

    p = commands.add_parser("enroll", help="add face pictures of one person to the gallery",
                            description="Find the single face in each image, check it is sharp "
                            "and well lit, align it and add it to the gallery (all or nothing).")
    p.add_argument("--db", required=True, metavar="DB", help="gallery file (created if missing)")
    p.add_argument("--name", required=True, help="the person's name")
    p.add_argument("images", nargs="+", metavar="IMAGE")
    p.add_argument("--aligned", action="store_true",
                   help="the images are aligned face crops already (e.g. ORL): no face search")
    p.add_argument("--skip-bad", action="store_true",
                   help="skip rejected images with a warning instead of enrolling nothing")
    p.set_defaults(func=cmd_faces_enroll)

    p = commands.add_parser("recognize", help="name the faces in images")
    p.add_argument("--db", required=True, metavar="DB")
    p.add_argument("images", nargs="+", metavar="IMAGE")
    p.add_argument("--aligned", action="store_true",
                   help="the images are aligned face crops already: no face search")
    p.add_argument("--json", action="store_true", help="print one JSON array")
    p.add_argument("--all", action="store_true",
                   help="also report detections that are not faces (status 'not a face')")
    batch = p.add_argument_group(
        "many photos (with --out-dir; folders are expanded)",
        "Each photo's result is written as DIR/<stem>.json; a photo that cannot be read is "
        "reported and the others go on.")
    batch.add_argument("--out-dir", metavar="DIR",
                       help="write one JSON file per photo into DIR (created if needed)")
    batch.add_argument("--workers", type=int, default=0, metavar="N",
                       help="recognise on N local processes (each opens the gallery read-only "
                       "once)")
    batch.add_argument("--scheduler", metavar="local|ADDRESS",
                       help="run on Dask: 'local' starts a LocalCluster here, or the address of "
                       "a running scheduler (needs the cluster extra)")
    batch.add_argument("--resume", action="store_true",
                       help="skip photos an earlier run into the same DIR already did")
    p.set_defaults(func=cmd_faces_recognize)

    p = commands.add_parser(
        "evaluate", help="measure recognition on a folder of people's photos",
        description="DATASET_DIR holds one sub-folder per person. In file-name order, the first "
        "K photos of each person are enrolled and the rest recognised; the last N people are "
        "strangers (never enrolled). Reports closed-set rank-1, named correctly and strangers "
        "rejected at the tuned thresholds, ROC AUC and timing. Nothing is written.")
    p.add_argument("dataset", metavar="DATASET_DIR")
    p.add_argument("--enrol", type=int, default=5, metavar="K",
                   help="photos enrolled per person (default 5)")
    p.add_argument("--strangers", type=int, default=0, metavar="N",
                   help="people left out of enrolment, recognised as strangers (default 0)")
    p.add_argument("--method", choices=("fisher", "eigen"), default="fisher",
                   help="Fisherfaces (default) or eigenfaces")
    p.add_argument("--aligned", action="store_true",
                   help="the photos are aligned face crops already (e.g. ORL): no face search")
    p.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    p.set_defaults(func=cmd_faces_evaluate)

    p = commands.add_parser("list", help="list the enrolled people")
    p.add_argument("--db", required=True, metavar="DB")
    p.set_defaults(func=cmd_faces_list)

    p = commands.add_parser("remove", help="remove a person and their faces")
    p.add_argument("--db", required=True, metavar="DB")
    p.add_argument("--name", required=True)
    p.set_defaults(func=cmd_faces_remove)
    return faces


def _existing_gallery(path: str) -> Gallery:
    from pathlib import Path

    if not Path(path).exists():
        raise WorkbenchError(f"no face gallery at '{path}'; enrol someone first "
                             "(workbench faces enroll)")
    return Gallery(path)


def cmd_faces_evaluate(args: argparse.Namespace) -> int:
    from workbench.faces.evaluate import evaluate_folder

    report = evaluate_folder(args.dataset, enrol=args.enrol, strangers=args.strangers,
                             method=f"{args.method}faces", aligned=args.aligned)
    if args.json:
        print(json.dumps(report.to_json()))
    else:
        print("\n".join(report.lines()))
    return 0


def _gallery_detector(path: str) -> FaceDetector:
    """A detector making crops the way the gallery at ``path`` stores them (new: defaults)."""
    from pathlib import Path

    if not Path(path).is_file():
        return FaceDetector()
    with Gallery(path) as gallery:
        return FaceDetector(size=gallery.face_size, illumination=gallery.illumination)


def cmd_faces_enroll(args: argparse.Namespace) -> int:
    detector = _gallery_detector(args.db)
    crops, sources = [], []
    for path in args.images:
        shot = check_shot(read_image(path), detector, aligned=args.aligned, photo=True)
        if not shot.ok:
            message = f"'{path}': {'; '.join(shot.reasons)}"
            if not args.skip_bad:
                raise WorkbenchError(f"{message} (nothing was enrolled; use --skip-bad to "
                                     "enrol the other images)")
            print(f"workbench: warning: skipped {message}", file=sys.stderr)
            continue
        for note in shot.notes:
            print(f"workbench: note: '{path}': {note}", file=sys.stderr)
        crops.append(shot.raise_if_rejected(path).aligned)
        sources.append(str(path))
    if not crops:
        raise WorkbenchError("no usable face in any of the images; nothing was enrolled")
    with Gallery(args.db) as gallery:
        gallery.enroll(args.name, crops, sources=sources)
        total = next((p.face_count for p in gallery.people()
                      if p.name.casefold() == " ".join(args.name.split()).casefold()), len(crops))
    print(f"enrolled {len(crops)} face(s) of {' '.join(args.name.split())} ({total} in all)",
          file=sys.stderr)
    return 0


def cmd_faces_recognize(args: argparse.Namespace) -> int:
    from workbench.cliutil import UsageError

    out_dir = getattr(args, "out_dir", None)
    workers, scheduler = getattr(args, "workers", 0), getattr(args, "scheduler", None)
    resume = getattr(args, "resume", False)
    if workers < 0:
        raise UsageError(f"--workers must be 0 or more, got {workers}")
    if not out_dir and (workers or scheduler or resume):
        raise UsageError("--workers, --scheduler and --resume go with --out-dir")
    with _existing_gallery(args.db) as gallery:
        recognizer = gallery.recognizer()
        detector = FaceDetector(size=gallery.face_size, illumination=gallery.illumination)
    if recognizer.calibration is not None and recognizer.calibration.warning:
        print(f"workbench: warning: {recognizer.calibration.warning}", file=sys.stderr)
    if out_dir:
        report, failed = _recognize_batch(args, (recognizer, detector))
        for _path, reason in failed:  # the reason names the file
            print(f"workbench: error: {reason}", file=sys.stderr)
        if args.json:
            print(json.dumps(report))
        else:
            for entry in report:
                _print_table(entry)
        return 2 if failed else 0
    report = []
    for path in args.images:
        results = recognizer.recognize_image(read_image(path), detector, aligned=args.aligned,
                                             include_non_faces=args.all)
        report.append({"image": str(path), "faces": [r.to_json() for r in results]})
        if not args.json:
            if not results:
                print(f"{path}: no face")
            for r in results:
                who = r.name if r.name is not None else f"unknown (nearest: {r.nearest})"
                x, y, w, h = r.box or (0, 0, 0, 0)
                print(f"{path}: {who}  distance {r.distance:.2f} (threshold "
                      f"{r.identity_threshold:.2f})  face distance {r.face_distance:.2f} "
                      f"(threshold {r.face_threshold:.2f})  box {x},{y},{w},{h}  aligned by "
                      f"{r.alignment or 'nothing (crop as given)'}")
    if args.json:
        print(json.dumps(report))
    return 0


def _print_table(entry: dict) -> None:
    """The table line(s) for one photo's ``--json`` object (as printed without --out-dir)."""
    path = entry["image"]
    if not entry["faces"]:
        print(f"{path}: no face")
    for r in entry["faces"]:
        who = r["name"] if r["name"] is not None else f"unknown (nearest: {r['nearest']})"
        x, y, w, h = r["box"] or (0, 0, 0, 0)
        print(f"{path}: {who}  distance {_num(r['distance'])} (threshold "
              f"{_num(r['identity_threshold'])})  face distance {_num(r['face_distance'])} "
              f"(threshold {_num(r['face_threshold'])})  box {x},{y},{w},{h}  aligned by "
              f"{r['alignment'] or 'nothing (crop as given)'}")


def _num(value: float | None) -> str:
    return "nan" if value is None else f"{value:.2f}"


def _recognize_batch(args: argparse.Namespace, state) -> tuple[list[dict], list]:
    """``recognize --out-dir``: the shared batch layer, one JSON file per photo."""
    from pathlib import Path

    from workbench.batch import ProgressBar
    from workbench.faces.batch import read_results, recognize_files

    bar: ProgressBar | None = None

    def started(report) -> None:
        if report.dashboard:
            print(f"workbench: {report.where}; dashboard {report.dashboard}", file=sys.stderr)

    def step(done, total, task) -> None:
        nonlocal bar
        if bar is None:
            bar = ProgressBar(total)
        bar.update(done, Path(task.source).name)

    tasks, report = recognize_files(
        args.db, args.images, args.out_dir, aligned=args.aligned, include_non_faces=args.all,
        state=state, workers=args.workers, scheduler=args.scheduler, resume=args.resume,
        progress=step if sys.stderr.isatty() else None, on_start=started)
    if bar is not None:
        bar.close()
    if report.skipped:
        print(f"workbench: {len(report.skipped)} already done (--resume)", file=sys.stderr)
    print(f"workbench: {len(report.written)} photo(s) recognised into {args.out_dir}"
          + (f", {len(report.failed)} failed" if report.failed else ""), file=sys.stderr)
    return read_results(tasks), report.failed


def cmd_faces_list(args: argparse.Namespace) -> int:
    with _existing_gallery(args.db) as gallery:
        people = gallery.people()
        settings = gallery.settings
    if not people:
        print("no one is enrolled", file=sys.stderr)
    used = settings.method_label
    if settings.method == "fisherfaces" and len(people) < 3:
        used += " (eigenfaces until 3 people are enrolled)"
    print(f"method: {used}", file=sys.stderr)
    width = max((len(p.name) for p in people), default=0)
    for p in people:
        print(f"{p.name:<{width}}  {p.face_count:>4} face(s)  enrolled {p.created}")
    return 0


def cmd_faces_remove(args: argparse.Namespace) -> int:
    with _existing_gallery(args.db) as gallery:
        count = gallery.remove(args.name)
    print(f"removed {args.name} and {count} face(s)", file=sys.stderr)
    return 0
