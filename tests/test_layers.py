"""Import rules (DESIGN, REDESIGN §10 rule 6) read from the source: no cycles, no layer leaks.

Each rule is easy to break one import at a time and nothing else notices: the code still runs.
This reads every module of bot/, handlers/, blocks/ and qbd/ with `ast`, counting imports made
only for type checking too (a type-only cycle is still two modules that cannot be understood
apart), and fails naming the offending import.

An edge goes to each module a statement names: `import a.b` names a.b; `from a import b` names a
(it reads what a's `__init__` holds) and a.b when that is a module. A parent package that a dotted
name only implies is no edge, or every package whose `__init__` re-exports would be a cycle.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

from tests.conftest import ROOT

PACKAGES = ("bot", "handlers", "blocks", "qbd")
Graph = Mapping[str, set[str]]


@dataclass(frozen=True)
class Rule:
    """Modules under `importers` (but not `exempt`) may not import `forbidden`, save `allowed`.

    Every name is a dotted pattern matched against an import and each of its parents, so `bot`
    covers all of bot and `slack_*` covers slack_sdk and slack_bolt.
    """

    why: str
    importers: tuple[str, ...]
    forbidden: tuple[str, ...]
    allowed: tuple[str, ...] = ()
    exempt: tuple[str, ...] = ()


RULES = (
    Rule(
        "qbd/ speaks QuickBooks only: nothing of the bot, of Slack or of the database",
        importers=("qbd",),
        forbidden=("bot", "handlers", "blocks", "slack_*", "sqlalchemy", "sqlmodel"),
    ),
    Rule(
        "blocks/ are pure builders: they read only view dataclasses, domain enums and words "
        "(bot.costcodes.domain, bot.*.views, bot.procore.view, bot.connection.words, bot.errors, "
        "qbd.companyfile) and do no I/O",
        importers=("blocks",),
        forbidden=("bot", "handlers", "qbd", "sqlalchemy", "sqlmodel", "aiohttp", "slack_*"),
        allowed=(
            "bot.costcodes.domain",
            "bot.*.views",
            "bot.procore.view",
            "bot.connection.words",
            "bot.errors",
            "qbd.companyfile",
        ),
    ),
    Rule(
        "only the CLI decides sandbox mode, so only bot/cli.py imports bot.sandbox",
        importers=PACKAGES,
        forbidden=("bot.sandbox",),
        exempt=("bot.cli", "bot.sandbox"),
    ),
    Rule(
        "listeners parse and call a service: the database is the services' business",
        importers=("handlers",),
        forbidden=("sqlalchemy", "sqlmodel", "bot.store"),
    ),
)


def module_names(root: Path, packages: Iterable[str] = PACKAGES) -> dict[str, Path]:
    """Dotted name -> file for every module of the packages (a package is its `__init__`)."""
    found: dict[str, Path] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def imports_of(name: str, path: Path, known: Iterable[str]) -> set[str]:
    """Every module `name` loads, wherever the import stands (functions, TYPE_CHECKING)."""
    modules = set(known)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    loaded: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            loaded.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            loaded.add(base)
            loaded.update(f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in modules)
    return loaded - {name, "__future__"}


@functools.cache
def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    names = module_names(root)
    return {name: imports_of(name, path, names) for name, path in names.items()}


def without(graph: Graph, edges: Iterable[tuple[str, str]]) -> dict[str, set[str]]:
    dropped = set(edges)
    return {a: {b for b in targets if (a, b) not in dropped} for a, targets in graph.items()}


def cycles(graph: Graph) -> list[list[str]]:
    """One shortest cycle through each group of modules that all reach one another."""
    reach = {node: _reachable(graph, node) for node in graph}
    groups = {frozenset(m for m in reach[n] if n in reach[m]) for n in graph if n in reach[n]}
    return sorted(_shortest_cycle(graph, set(group)) for group in groups)


def _reachable(graph: Graph, start: str) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        for target in graph[todo.pop()]:
            if target in graph and target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def _shortest_cycle(graph: Graph, group: set[str]) -> list[str]:
    start = min(group)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        following: list[str] = []
        for node in frontier:
            for target in sorted(graph[node] & group):
                if target == start:
                    return [*paths[node], start]
                if target not in paths:
                    paths[target] = [*paths[node], target]
                    following.append(target)
        frontier = following
    raise AssertionError(f"{sorted(group)} is not strongly connected")


def _matches(name: str, patterns: Iterable[str]) -> bool:
    parts = name.split(".")
    prefixes = [".".join(parts[: n + 1]) for n in range(len(parts))]
    return any(fnmatchcase(prefix, p) for p in patterns for prefix in prefixes)


def violations(graph: Graph, rules: Iterable[Rule] = RULES) -> list[str]:
    found = []
    for rule in rules:
        for importer, targets in sorted(graph.items()):
            if not _matches(importer, rule.importers) or _matches(importer, rule.exempt):
                continue
            for target in sorted(targets):
                if _matches(target, rule.forbidden) and not _matches(target, rule.allowed):
                    found.append(f"{importer} imports {target}: {rule.why}")
    return found


def test_no_module_is_part_of_an_import_cycle() -> None:
    found = cycles(import_graph())
    assert found == [], "import cycles:\n" + "\n".join(" -> ".join(c) for c in found)


def test_every_layer_imports_only_what_it_may() -> None:
    found = violations(import_graph())
    assert found == [], "\n".join(found)


def test_the_checker_names_a_cycle_and_a_forbidden_import() -> None:
    graph = {
        "qbd.soap": {"bot.core", "lxml.etree"},
        "bot.core": {"bot.export.replies"},
        "bot.export.replies": {"bot.core", "blocks.export"},
        "blocks.export": {"bot.digests.views", "bot.store.db"},
        "bot.digests.views": set(),
        "bot.store.db": set(),
    }
    assert cycles(graph) == [["bot.core", "bot.export.replies", "bot.core"]]
    assert cycles(without(graph, {("bot.core", "bot.export.replies")})) == []
    assert [line.split(":")[0] for line in violations(graph)] == [
        "qbd.soap imports bot.core",
        "blocks.export imports bot.store.db",
    ]


def test_imports_are_read_as_python_loads_them(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("from pkg import one\n")
    (package / "one.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "from . import two\n"
        "if TYPE_CHECKING:\n"
        "    from pkg.two import Thing\n"
        "def later():\n"
        "    import sqlmodel.main\n"
    )
    (package / "two.py").write_text("import pkg\nfrom .one import later\n")
    names = module_names(tmp_path, ["pkg"])
    graph = {name: imports_of(name, path, names) for name, path in names.items()}
    assert graph == {
        "pkg": {"pkg.one"},
        "pkg.one": {"typing", "pkg", "pkg.two", "sqlmodel.main"},
        "pkg.two": {"pkg", "pkg.one"},
    }
    assert cycles(graph) == [["pkg", "pkg.one", "pkg"]]
