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
import re
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
    bundle = dist / "workbench"
    # PyInstaller puts every data file under _internal/; the desktop-entry installer belongs
    # where a user looks for it, beside the executable.
    shutil.move(str(bundle / "_internal" / "share"), str(bundle / "share"))
    collect_licences(bundle, work)
    return bundle


def bundled_distributions(bundle: Path, work: Path) -> list[str]:
    """The installed distributions whose modules PyInstaller put into the bundle: top-level
    names from its Python archive and from the extension folders under ``_internal/``."""
    from importlib import metadata

    from PyInstaller.archive.readers import ZlibArchiveReader

    names = {entry.name.split(".")[0] for entry in (bundle / "_internal").iterdir()}
    for archive in (work / "workbench").glob("PYZ-*.pyz"):
        names |= {module.split(".")[0] for module in ZlibArchiveReader(str(archive)).toc}
    owners = metadata.packages_distributions()
    found = {dist for name in names for dist in owners.get(name, [])}
    # one spelling for each (PySide6_Essentials on disk is pyside6-essentials), as pip shows them
    return sorted({re.sub(r"[-_.]+", "-", d).lower() for d in found} - {"workbench"})


def collect_licences(bundle: Path, work: Path) -> list[str]:
    """Copy the licence files of every bundled distribution, Python's and Workbench's own into
    ``licenses/`` (Qt's LGPL, ONNX Runtime's MIT, OpenCV's Apache 2 with FFmpeg's notices...)."""
    from importlib import metadata

    target = bundle / "licenses"
    target.mkdir(exist_ok=True)
    shutil.copy(REPO / "packaging" / "LICENSE", target / "Workbench-LICENSE.txt")
    version = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    python_licence = Path(sys.base_prefix) / "lib" / version / "LICENSE.txt"
    if python_licence.is_file():
        shutil.copy(python_licence, target / "Python-LICENSE.txt")
    keys = ("LICENSE", "LICENCE", "COPYING", "NOTICE")
    index = ["Third-party software in this bundle (distribution, version, licence):", ""]
    covered = []
    for name in bundled_distributions(bundle, work):
        dist = metadata.distribution(name)
        meta = dist.metadata
        classifiers = [c.split("::")[-1].strip() for c in meta.get_all("Classifier") or []
                       if c.startswith("License")]
        declared = (meta.get("License-Expression") or meta.get("License") or "").strip()
        # some put the whole text in License: then the classifiers name it
        short = declared and "\n" not in declared and len(declared) < 120
        licence = declared if short else ", ".join(classifiers)
        index.append(f"{name} {dist.version}: {licence or 'see its folder'}")
        folder = target / name
        folder.mkdir(exist_ok=True)
        for file in dist.files or []:
            if not (any(k in file.name.upper() for k in keys) or "licenses" in file.parts):
                continue
            source = Path(dist.locate_file(file))
            if source.is_file():
                shutil.copy(source, folder / file.name)
                covered.append(name)
        if name not in covered and "LGPL" in licence:
            # Qt for Python's wheels carry no licence file: add the texts their metadata names
            for text in ("LGPL-3", "GPL-3"):
                common = Path("/usr/share/common-licenses") / text
                if common.is_file():
                    shutil.copy(common, folder / f"{text}.txt")
                    covered.append(name)
    (target / "README.txt").write_text("\n".join(index) + "\n")
    return sorted(set(covered))


def missing_system_libraries(bundle: Path) -> list[str]:
    """Libraries Qt's X11/Wayland plugins need that are neither bundled nor on this machine:
    a desktop that lacks them cannot show the window (offscreen runs do not notice)."""
    plugins = bundle / "_internal" / "PySide6" / "Qt" / "plugins" / "platforms"
    missing = set()
    for plugin in sorted(plugins.glob("libq*.so")):
        if plugin.name.startswith(("libqoffscreen", "libqminimal", "libqvnc", "libqlinuxfb")):
            continue
        out = subprocess.run(["ldd", str(plugin)], capture_output=True, text=True).stdout
        missing |= {line.split()[0] for line in out.splitlines() if "not found" in line}
    return sorted(missing)


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
    missing = missing_system_libraries(bundle)
    if missing:
        print("warning: not bundled and not on this machine, so the window needs them on the "
              f"user's desktop: {', '.join(missing)} (Debian: libxcb-icccm4 libxcb-keysyms1 "
              "libwayland-cursor0)")
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
