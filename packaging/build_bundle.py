"""Build the one-folder desktop bundle of Workbench with PyInstaller, then check it.

From the repository root, on a fresh machine::

    python3 -m venv .venv && .venv/bin/pip install -e ".[bundle]" \
        && .venv/bin/python packaging/build_bundle.py

The bundle lands in ``dist/workbench/``: copy that folder anywhere (it needs no Python) and run
``dist/workbench/workbench``; ``dist/workbench/share/linux/install-desktop-entry.sh`` adds it to
the application menu. Options:

``--cpu-only``  leave out ONNX Runtime's CUDA/TensorRT provider libraries (~285 MB smaller).
``--archive``   also pack ``dist/workbench-<version>-<os>-<arch>.tar.gz`` to hand around.
``--no-check``  skip the smoke check (``info``, a headless ``rectify`` and an offscreen
                ``--screenshot`` run from the bundle, each timed).

Why PyInstaller: it freezes PySide6, OpenCV, ONNX Runtime and SciPy with maintained hooks for
each (pyinstaller-hooks-contrib), builds in about a minute, and its one-folder layout starts fast
(nothing to unpack on each start, unlike one-file mode). Briefcase would want its own project
layout and templates; Nuitka compiles to C, which takes far longer on two cores for no gain here
(the heavy lifting is already native code).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SPEC = REPO / "packaging" / "workbench.spec"
SAMPLE = "rectify_poster.jpg"


def folder_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def largest_parts(bundle: Path, count: int = 8) -> list[tuple[str, int]]:
    """The biggest top-level entries of the bundle's _internal folder (what to cut next)."""
    internal = bundle / "_internal"
    sizes = []
    for entry in internal.iterdir():
        if entry.is_symlink():  # PyInstaller links libraries to the top level: count them once
            continue
        size = folder_size(entry) if entry.is_dir() else entry.stat().st_size
        sizes.append((entry.name, size))
    return sorted(sizes, key=lambda item: -item[1])[:count]


def build(dist: Path, work: Path, cpu_only: bool) -> Path:
    try:
        import PyInstaller  # noqa: F401
    except ImportError:
        raise SystemExit("PyInstaller is not installed here: pip install -e '.[bundle]'") from None
    env = dict(os.environ, WORKBENCH_BUNDLE_CPU_ONLY="1" if cpu_only else "0")
    command = [
        sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
        "--distpath", str(dist), "--workpath", str(work), str(SPEC),
    ]
    started = time.perf_counter()
    subprocess.run(command, check=True, env=env, cwd=REPO)
    print(f"built in {time.perf_counter() - started:.0f} s")
    return dist / "workbench"


def run_timed(args: list[str], **kwargs) -> tuple[subprocess.CompletedProcess, float]:
    started = time.perf_counter()
    result = subprocess.run(args, capture_output=True, text=True, timeout=300, **kwargs)
    return result, time.perf_counter() - started


def check(bundle: Path) -> dict[str, float]:
    """Start the bundle the ways a user does; raise SystemExit on any failure."""
    exe = bundle / "workbench"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    timings: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="workbench-bundle-check-") as tmp:
        home = Path(tmp)
        env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / "config"))

        info, timings["info"] = run_timed([str(exe), "info"], env=env)
        if info.returncode != 0 or "CPUExecutionProvider" not in info.stdout:
            raise SystemExit(f"`workbench info` failed:\n{info.stdout}\n{info.stderr}")

        sample = bundle / "_internal" / "resources" / "samples" / SAMPLE
        corners = json.loads(sample.with_suffix(".json").read_text())["corners"]
        out = home / "rectified.png"
        points = [f"{x},{y}" for x, y in corners]
        rectify, timings["rectify"] = run_timed(
            [str(exe), "rectify", str(sample), str(out), "--points", *points, "--json"], env=env
        )
        if rectify.returncode != 0 or not out.is_file():
            raise SystemExit(f"`workbench rectify` failed:\n{rectify.stdout}\n{rectify.stderr}")

        shot = home / "shot.png"
        gui, timings["screenshot"] = run_timed(
            [str(exe), "--screenshot", str(shot), "--timing"], env=env
        )
        if gui.returncode != 0 or not shot.is_file():
            raise SystemExit(f"`workbench --screenshot` failed:\n{gui.stdout}\n{gui.stderr}")
        for line in (gui.stdout + gui.stderr).splitlines():
            if line.startswith(("first window after", "panel ready after")):
                print(f"  {line}")
    return timings


def archive(bundle: Path) -> Path:
    sys.path.insert(0, str(REPO))
    from workbench import __version__

    name = f"workbench-{__version__}-{platform.system().lower()}-{platform.machine()}"
    target = bundle.parent / f"{name}.tar.gz"
    with tarfile.open(target, "w:gz", compresslevel=6) as tar:
        tar.add(bundle, arcname="workbench")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cpu-only", action="store_true",
                        help="leave out the CUDA/TensorRT provider libraries")
    parser.add_argument("--archive", action="store_true", help="also write a .tar.gz")
    parser.add_argument("--no-check", action="store_true", help="skip the smoke check")
    parser.add_argument("--dist", type=Path, default=REPO / "dist", help="output folder")
    parser.add_argument("--work", type=Path, default=REPO / "build" / "pyinstaller",
                        help="PyInstaller's scratch folder")
    args = parser.parse_args(argv)

    bundle = build(args.dist.resolve(), args.work.resolve(), args.cpu_only)
    total = folder_size(bundle)
    print(f"bundle: {bundle} ({total / 2**20:.0f} MB)")
    for name, size in largest_parts(bundle):
        print(f"  {size / 2**20:7.1f} MB  {name}")
    if not args.no_check:
        timings = check(bundle)
        print("smoke check passed: " + ", ".join(f"{k} {v:.2f} s" for k, v in timings.items()))
    if args.archive:
        target = archive(bundle)
        print(f"archive: {target} ({target.stat().st_size / 2**20:.0f} MB)")
    shutil.rmtree(args.work.resolve() / "workbench", ignore_errors=True)  # scratch, ~100 MB
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
