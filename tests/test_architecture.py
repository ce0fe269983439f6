"""The shape of the package: layers import downward only, and the core does no I/O."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import refundcore

PACKAGE = Path(refundcore.__file__).parent

# Lowest first; a module may import only from its own layer or lower ones. This is the
# order of DESIGN.md's pieces, with errors and the currency table below money because
# money raises errors and reads the table.
LAYERS = {
    "errors": 0,
    "currencies": 1,
    "money": 2,
    "_checks": 3,
    "domain": 3,
    "policy": 4,
    "lifecycle": 5,
    "ledger": 6,
    "posting": 6,
    "balances": 6,
    "analysis": 6,
    "reconcile": 7,
    "formats": 8,
    "persist": 8,  # records to dicts and stores of cases: above everything it serialises
}
EDGE = 9  # the command line, DataFrames, test strategies, the simulator: anything not above
# Only the edges may touch the outside world or the clock.
FORBIDDEN_CALLS = {
    ("datetime", "now"), ("datetime", "utcnow"), ("datetime", "today"), ("date", "today"),
    ("time", "time"), ("time", "time_ns"), ("time", "localtime"), ("time", "monotonic"),
}
FORBIDDEN_NAMES = {"open", "input", "print"}
# io is allowed: parsers read text through io.StringIO, which touches nothing outside.
FORBIDDEN_MODULES = {"os", "pathlib", "socket", "urllib", "subprocess", "shutil", "sys"}


def modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).with_suffix("")
        yield ".".join(("refundcore", *relative.parts)).removesuffix(".__init__"), path


def layer(module: str) -> int:
    parts = module.split(".")
    if len(parts) == 1:
        return EDGE  # refundcore/__init__.py re-exports everything
    return LAYERS.get(parts[1], EDGE)


def imports(tree: ast.AST) -> Iterator[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)


@pytest.mark.parametrize(("module", "path"), list(modules()), ids=lambda v: str(v))
def test_imports_point_downward(module: str, path: Path) -> None:
    """No module imports a refundcore layer above its own."""
    own = layer(module)
    for name in imports(ast.parse(path.read_text(encoding="utf-8"))):
        if name.startswith("refundcore.") or name == "refundcore":
            assert layer(name) <= own, f"{module} (layer {own}) imports {name}"


@pytest.mark.parametrize(("module", "path"), [m for m in modules() if layer(m[0]) < EDGE],
                         ids=lambda v: str(v))
def test_core_does_no_io_and_reads_no_clock(module: str, path: Path) -> None:
    """Core modules never read the clock, open files, print, or import OS modules."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for name in imports(tree):
        assert name.split(".")[0] not in FORBIDDEN_MODULES, f"{module} imports {name}"
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
                assert (func.value.id, func.attr) not in FORBIDDEN_CALLS, (
                    f"{module}:{node.lineno} calls {func.value.id}.{func.attr}"
                )
            if isinstance(func, ast.Name):
                assert func.id not in FORBIDDEN_NAMES, f"{module}:{node.lineno} calls {func.id}"


def test_public_names_are_exported_and_documented() -> None:
    """Everything in refundcore.__all__ exists, is sorted, and has a docstring."""
    names = refundcore.__all__
    assert len(names) == len(set(names))
    for name in names:
        value = getattr(refundcore, name)
        if name.isupper():
            continue  # constants are documented where they are defined
        assert (value.__doc__ or "").strip(), f"{name} has no docstring"


@pytest.mark.parametrize("module", ["refundcore", "refundcore.testing",
                                    "refundcore.testing.pytest_plugin"])
def test_hypothesis_is_imported_only_by_the_testing_kit(module: str) -> None:
    """The core, the simulator and the pytest plugin run without Hypothesis installed."""
    import os
    import subprocess
    import sys

    code = (f"import sys, {module}\n"
            "assert 'hypothesis' not in sys.modules, sorted(m for m in sys.modules\n"
            "                                              if m.startswith('hypothesis'))[:3]")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, timeout=60)


def test_the_testing_kit_names_hypothesis_and_pytest_as_its_extra() -> None:
    """The kit's optional dependencies are declared in the ``testing`` extra."""
    import tomllib

    project = tomllib.loads((PACKAGE.parents[1] / "pyproject.toml").read_text("utf-8"))
    extras = project["project"]["optional-dependencies"]
    assert {"hypothesis>=6.100", "pytest>=8"} <= set(extras["testing"])
    points = project["project"]["entry-points"]
    assert points["hypothesis"]["refundcore"] == (
        "refundcore.testing._hypothesis:_hypothesis_setup_hook")
    assert points["pytest11"]["refundcore"] == "refundcore.testing.pytest_plugin"
