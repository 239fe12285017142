"""The house's rules (docs/architecture.md), checked on the code's own imports — those inside
functions included, since they hide a cycle rather than remove it."""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
PACKAGE = "cbslocal"
# The floors of the house, top to bottom (docs/architecture.md): an arrow goes down or stays on
# its floor, never up.
FLOORS = [
    ("cbslocal.__main__", "cbslocal.cli"),
    ("cbslocal.testing", "cbslocal.workers"),
    ("cbslocal.app",),
    ("cbslocal.control", "cbslocal.observe", "cbslocal.invariants"),
    ("cbslocal.gateway",),
    ("cbslocal.router",),
    ("cbslocal.cvm",),
    ("cbslocal.cbs",),
    ("cbslocal.billing",),
    ("cbslocal.iam",),
    ("cbslocal.api",),
    ("cbslocal.config",),
    ("cbslocal.engine",),
    ("cbslocal.store",),
    ("cbslocal.config_schema", "cbslocal.ids"),
    ("cbslocal",),
]
DOMAIN = ("cbslocal.cbs", "cbslocal.cvm", "cbslocal.billing")
ABOVE_THE_DOMAIN = ("cbslocal.gateway", "cbslocal.router", "cbslocal.control", "cbslocal.app",
                    "cbslocal.cli", "cbslocal.testing", "cbslocal.workers", "cbslocal.observe",
                    "cbslocal.invariants")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in SRC.joinpath(PACKAGE).rglob("*.py")
            if "migrations" not in path.parts}


def _imported(name: str, path: Path, known: set[str]) -> set[str]:
    """The cbslocal modules `name` imports, anywhere in the file; `from package import module`
    names the module, `from module import name` the module."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                found.add(submodule if submodule in known else base)
    return {module for module in found if module in known and module != name}


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imported(name, path, set(modules)) for name, path in modules.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle, or []."""
    try:
        tuple(TopologicalSorter(graph).static_order())
    except CycleError as error:
        return error.args[1]
    return []


GRAPH = _graph()
EDGES = [(a, b) for a, targets in GRAPH.items() for b in targets]


def _within(module: str, places) -> bool:
    return any(module == place or module.startswith(place + ".") for place in places)


def test_the_graph_sees_the_house():
    # A check that reads nothing passes everything: make sure known arrows are there.
    assert "cbslocal.api.errors" in GRAPH["cbslocal.router.dispatch"]
    assert "cbslocal.cbs.disks" in GRAPH["cbslocal.cvm.instances"]
    assert len(GRAPH) > 50


def _floor(module: str) -> int:
    return next(level for level, places in enumerate(FLOORS) if _within(module, places))


def test_every_arrow_goes_down():
    up = [(a, b) for a, b in EDGES if _floor(a) > _floor(b)]
    assert up == []


def test_no_import_cycles():
    assert _cycle(GRAPH) == []


def test_the_store_imports_only_itself_configuration_and_ids():
    allowed = ("cbslocal.store", "cbslocal.config", "cbslocal.config_schema", "cbslocal.ids")
    wrong = [(a, b) for a, b in EDGES
             if _within(a, ["cbslocal.store"]) and not _within(b, allowed)]
    assert wrong == []


def test_the_domain_never_imports_what_stands_above_it():
    wrong = [(a, b) for a, b in EDGES
             if _within(a, DOMAIN) and _within(b, ABOVE_THE_DOMAIN)]
    assert wrong == []


def test_the_contract_never_imports_the_domain_or_above():
    """api/ is what the gateway, identity and the domain may import: it imports none of them."""
    wrong = [(a, b) for a, b in EDGES
             if _within(a, ["cbslocal.api"]) and _within(b, DOMAIN + ABOVE_THE_DOMAIN)]
    assert wrong == []


def test_the_gateway_knows_nothing_of_disks_or_the_router():
    wrong = [(a, b) for a, b in EDGES if _within(a, ["cbslocal.gateway"])
             and _within(b, ("cbslocal.cbs", "cbslocal.cvm", "cbslocal.router",
                             "cbslocal.control", "cbslocal.app"))]
    assert wrong == []


@pytest.mark.parametrize("upper, lower", [("cbslocal.cvm", "cbslocal.cbs")])
def test_cbs_and_cvm_depend_one_way(upper, lower):
    """CVM builds on CBS (an instance's disks, an image's snapshots); CBS sees instances through
    its own model of them (cbs/instance_state.py)."""
    back = [(a, b) for a, b in EDGES if _within(a, [lower]) and _within(b, [upper])]
    assert back == []
    assert any(_within(a, [upper]) and _within(b, [lower]) for a, b in EDGES)


def test_a_cycle_is_seen(tmp_path):
    # The cycle check on a graph that has one, through an import inside a function.
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from pkg import b\n")
    (package / "b.py").write_text("def f():\n    from pkg.a import x\n")
    known = {"pkg", "pkg.a", "pkg.b"}
    assert _imported("pkg.b", package / "b.py", known) == {"pkg.a"}
    assert _imported("pkg.a", package / "a.py", known) == {"pkg.b"}
    assert set(_cycle({"pkg.a": {"pkg.b"}, "pkg.b": {"pkg.a"}})) == {"pkg.a", "pkg.b"}


def test_no_source_file_over_600_lines():
    long = {str(path.relative_to(SRC)): n for path in SRC.joinpath(PACKAGE).rglob("*.py")
            if (n := len(path.read_text().splitlines())) > 600}
    assert long == {}
