"""Where the bundled files live: sample images, the shipped model(s), icons."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import sys
from pathlib import Path


def resources_dir() -> Path:
    """The ``resources/`` folder: ``$WORKBENCH_RESOURCES``, a frozen bundle's, the checkout's
    (editable installs), or the installed ``workbench_resources`` data package (wheels)."""
    env = os.environ.get("WORKBENCH_RESOURCES")
    if env:
        return Path(env)
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "resources"
    checkout = Path(__file__).resolve().parents[1] / "resources"
    if checkout.is_dir():
        return checkout
    spec = importlib.util.find_spec("workbench_resources")
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    return checkout


def sample_path(name: str) -> Path:
    return resources_dir() / "samples" / name


RECTIFY_SAMPLE = "rectify_poster.jpg"
RECTIFY_SAMPLE_B = "rectify_poster_b.jpg"


def sample_corners(image_name: str) -> list[tuple[float, float]] | None:
    """Suggested corners stored beside a sample (``<stem>.json``), if any."""
    meta = sample_path(image_name).with_suffix(".json")
    try:
        data = json.loads(meta.read_text())
        return [(float(x), float(y)) for x, y in data["corners"]]
    except (OSError, KeyError, ValueError, TypeError):
        return None


ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def icon_files() -> list[Path]:
    """The application icon's files that exist: the SVG first, then the PNG sizes."""
    folder = resources_dir() / "icons"
    candidates = [folder / "workbench.svg"]
    candidates += [folder / f"workbench-{size}.png" for size in ICON_SIZES]
    return [p for p in candidates if p.is_file()]


def _readable(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def readme_text() -> str | None:
    """The README (the user guide) as Markdown, or None when this installation has none.

    Looked for in a source checkout (``README.md`` beside ``pyproject.toml``), a frozen bundle
    (``README.md`` at its root), then the installed distribution's long description (wheels).
    """
    root = Path(__file__).resolve().parents[1]
    if (root / "pyproject.toml").is_file():
        text = _readable(root / "README.md")
        if text:
            return text
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        text = _readable(Path(bundle) / "README.md")
        if text:
            return text
    try:
        description = importlib.metadata.metadata("workbench")["Description"]
    except importlib.metadata.PackageNotFoundError:
        description = None
    if description and description.strip():
        return str(description)
    return None
