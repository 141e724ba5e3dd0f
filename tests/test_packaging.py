"""The package list in pyproject.toml stays complete (packages are listed, not found)."""

from __future__ import annotations

from pathlib import Path

import tomllib

REPO = Path(__file__).resolve().parents[1]


def test_every_workbench_package_is_listed_in_pyproject():
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    listed = set(config["tool"]["setuptools"]["packages"])
    on_disk = {
        ".".join(init.parent.relative_to(REPO).parts)
        for init in (REPO / "workbench").rglob("__init__.py")
    }
    missing = on_disk - listed
    assert not missing, f"add to [tool.setuptools] packages in pyproject.toml: {sorted(missing)}"


def test_bundled_resources_are_found():
    from workbench.resources import RECTIFY_SAMPLE, resources_dir, sample_path

    assert (resources_dir() / "models" / "provider_probe.onnx").is_file()
    assert sample_path(RECTIFY_SAMPLE).is_file()


def test_every_resources_folder_ships_in_the_wheel():
    """Each folder the app reads under resources/ is a listed workbench_resources package with
    package data (README screenshots are documentation, not run-time data)."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    listed = set(config["tool"]["setuptools"]["packages"])
    data = config["tool"]["setuptools"]["package-data"]
    for folder in sorted(p for p in (REPO / "resources").iterdir() if p.is_dir()):
        if folder.name == "screenshots":
            continue
        package = f"workbench_resources.{folder.name}"
        assert package in listed, f"add {package} to [tool.setuptools] packages"
        assert package in data, f"add {package} to [tool.setuptools.package-data]"
