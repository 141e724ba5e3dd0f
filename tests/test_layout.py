"""The house: four tools you can see from the folder list, and imports that only flow downwards.

Read from the source with ``ast`` (every import, also those inside functions), so a lazy import
that goes the wrong way is caught as well as a top-level one.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "workbench"
TOOLS = ("rectify", "colorize", "faces", "pyramid")
GUI = ("workbench.ui", "PySide6", "pyqtgraph", "shiboken6")


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, top_level_only: bool = False) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else ast.walk(tree)
    found = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _under(name: str, prefixes) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def test_the_four_tools_are_packages_beside_imaging_and_ui():
    for name in (*TOOLS, "imaging", "ui"):
        assert (PACKAGE / name / "__init__.py").is_file(), name
    loose = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert not {"rectify.py", "pyramid_explorer.py", "video.py"} & set(loose)


@pytest.mark.parametrize("name", [n for n in MODULES if _under(n, [f"workbench.{t}" for t in
                                                                   (*TOOLS, "imaging")])])
def test_core_modules_never_import_qt_the_ui_or_the_cli(name):
    bad = {i for i in _imports(MODULES[name]) if _under(i, (*GUI, "workbench.cli"))}
    assert not bad, f"{name} imports {sorted(bad)}"


@pytest.mark.parametrize("name", [n for n in MODULES if _under(n, ["workbench.imaging"])])
def test_imaging_is_shared_and_imports_no_tool(name):
    bad = {i for i in _imports(MODULES[name]) if _under(i, [f"workbench.{t}" for t in TOOLS])}
    assert not bad, f"{name} imports {sorted(bad)}"


def test_shared_cli_helpers_import_no_tool_and_nothing_imports_the_top_level_cli():
    assert not {i for i in _imports(MODULES["workbench.cliutil"])
                if _under(i, [f"workbench.{t}" for t in TOOLS] + ["workbench.ui"])}
    importers = sorted(n for n, p in MODULES.items()
                       if n != "workbench.cli" and n != "workbench.__main__"
                       and "workbench.cli" in _imports(p))
    assert importers == []


def test_no_import_cycles_between_modules_at_import_time():
    graph = {}
    for name, path in MODULES.items():
        deps = set()
        for imported in _imports(path, top_level_only=True):
            # "from workbench.x import y": y is a module if it is one, else a name in x
            deps.add(imported if imported in MODULES else imported.rpartition(".")[0])
        graph[name] = {d for d in deps if d in MODULES and d != name
                       and not name.startswith(d + ".")}  # a package's own __init__ is fine
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for dep in sorted(graph[node]):
            if state.get(dep) == 1:
                cycle = trail[trail.index(dep):] + [dep] if dep in trail else [node, dep]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if dep not in state:
                visit(dep, trail + [dep])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
