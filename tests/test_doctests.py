"""The examples in the core packages' docstrings run and give what they say (doctest)."""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "workbench"
CORE = ("imaging", "rectify", "colorize", "faces", "pyramid")


def _core_modules() -> list[str]:
    names = []
    for package in CORE:
        for path in sorted((PACKAGE / package).rglob("*.py")):
            if "training" in path.parts:  # needs torch (the optional training extra)
                continue
            parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
            names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


@pytest.mark.parametrize("name", _core_modules())
def test_docstring_examples(name):
    import numpy as np

    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in finder.find(module, name, globs={"np": np, **vars(module)}):
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
