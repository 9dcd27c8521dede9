"""The import rules of docs/ARCHITECTURE.md, checked by parsing every module (AST).

``workflows/`` imports nothing of ``app/``; inside ``app/`` the layers are base <
schema < kernel < features (in their written order) < composition; no feature
imports another feature's views; no module imports ``app``/``workflows`` inside a
function; and no two modules import each other, directly or around a circle.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

BASE = (
    "app.config",
    "app.extensions",
    "app.clock",
    "app.vocabulary",
    "app.errors",
    "app.limits",
    "app.privacy",
)
KERNEL = (
    "app.policy",
    "app.engine",
    "app.files",
    "app.audit",
    "app.filters",
    "app.schema_forms",
    "app.once",
)
FEATURES = (
    "auth", "notifications", "org", "items", "routing", "cases", "desk", "supervision",
    "messages", "payments", "designer", "verify", "feedback", "statistics", "portal", "api",
)  # fmt: skip
COMPOSITION = ("app", "app.cli", "app.scheduler")


@dataclass
class Module:
    name: str
    imports: set[str] = field(default_factory=set)  # modules imported at module level
    late: list[tuple[str, int]] = field(default_factory=list)  # (module, line) inside functions
    is_view: bool = False  # defines pages: a Blueprint or views guarded by ``requires``


def _resolve(module: str, package: str, node: ast.ImportFrom) -> list[str]:
    if node.level:
        base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
        stem = ".".join(base + ([node.module] if node.module else []))
    else:
        stem = node.module or ""
    # "from app.cases import services" imports the module app.cases.services,
    # "from app.cases.services import accept" the module app.cases.services
    return [f"{stem}.{alias.name}" for alias in node.names]


def parse_module(name: str, source: str, is_package: bool = False) -> Module:
    package = name if is_package else name.rpartition(".")[0]
    module = Module(name)
    tree = ast.parse(source)

    def visit(node: ast.AST, depth: int) -> None:
        for child in ast.iter_child_nodes(node):
            inner = depth + isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            if isinstance(child, ast.Import | ast.ImportFrom):
                targets = (
                    [a.name for a in child.names]
                    if isinstance(child, ast.Import)
                    else _resolve(name, package, child)
                )
                ours = [t for t in targets if t.split(".")[0] in ("app", "workflows")]
                if depth:
                    module.late += [(t, child.lineno) for t in ours[:1]]
                else:
                    module.imports.update(ours)
                names = {a.name for a in child.names}
                if isinstance(child, ast.ImportFrom) and (
                    (child.module == "flask" and "Blueprint" in names)
                    or (child.module == "app.policy" and "requires" in names)
                ):
                    module.is_view = True
            visit(child, inner)

    visit(tree, 0)
    return module


def load_tree() -> dict[str, Module]:
    modules = {}
    for top in ("app", "workflows"):
        for path in sorted((ROOT / top).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            name = ".".join(parts[:-1] if is_package else parts)
            modules[name] = parse_module(name, path.read_text(encoding="utf-8"), is_package)
    return modules


def layer_of(name: str) -> tuple[int, str]:
    """(rank, unit): a module may import modules of lower rank, or of its own unit."""
    if name in COMPOSITION:
        return 100, name
    if name.startswith("workflows"):
        return 0, "workflows"
    if any(name == b or name.startswith(b + ".") for b in BASE):
        return 1, "base"
    if name == "app.models" or name.startswith("app.models."):
        return 2, "schema"
    if any(name == k or name.startswith(k + ".") for k in KERNEL):
        return 3, "kernel"
    feature = name.split(".")[1]
    if feature in FEATURES:
        return 10 + FEATURES.index(feature), feature
    return 99, name  # unknown: must be added to a layer


def _known(target: str, modules: dict[str, Module]) -> str | None:
    """The module an import names (``app.cases.services.X`` -> ``app.cases.services``)."""
    while target and target not in modules:
        target = target.rpartition(".")[0]
    return target or None


def violations(modules: dict[str, Module]) -> list[str]:
    found = []
    for module in modules.values():
        rank, unit = layer_of(module.name)
        if rank == 99:
            found.append(f"{module.name}: in no layer (add it to docs/ARCHITECTURE.md and here)")
        for target, line in module.late:
            named = _known(target, modules) or target
            found.append(f"{module.name}:{line}: imports {named} inside a function")
        targets = {_known(raw, modules) for raw in module.imports} - {None, module.name}
        for target in sorted(targets):
            t_rank, t_unit = layer_of(target)
            if unit == "workflows" and t_unit != "workflows":
                found.append(f"{module.name}: workflows/ imports {target}")
            elif t_unit != unit and t_rank >= rank and rank != 100:
                found.append(f"{module.name} ({unit}) imports {target} ({t_unit}): upward")
            elif t_unit != unit and 10 <= rank < 100 and t_rank >= 10 and modules[target].is_view:
                found.append(f"{module.name} imports the views of another feature: {target}")
    found += [f"import cycle: {' -> '.join(c)}" for c in cycles(modules)]
    return found


def cycles(modules: dict[str, Module]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    graph = {
        name: {t for t in (_known(i, modules) for i in m.imports) if t and t != name}
        for name, m in modules.items()
    }
    index, low, stack, on_stack, found, counter = {}, {}, [], set(), [], [0]

    def connect(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for name in sorted(graph):
        if name not in index:
            connect(name)
    return found


def test_the_import_rules_hold():
    assert violations(load_tree()) == []


def _fake(sources: dict[str, str]) -> dict[str, Module]:
    return {name: parse_module(name, text) for name, text in sources.items()}


def test_the_check_finds_a_cycle_an_upward_import_and_a_late_import():
    """The rules would catch what the renovation removed (so the test above can fail)."""
    tree = _fake(
        {
            "app.cases.services": "from app.desk.services import x\n",
            "app.desk.services": "from app.cases.services import y\n",
            "app.policy": "from app.cases.services import y\n",
            "app.org.services": "def f():\n    from app.items.services import z\n",
            "app.items.services": "z = 1\n",
            "workflows.runtime": "from app.engine import platform_runtime\n",
            "app.engine": "x = 1\n",
        }
    )
    found = violations(tree)
    assert "import cycle: app.cases.services -> app.desk.services" in found
    assert "app.cases.services (cases) imports app.desk.services (desk): upward" in found
    assert "app.policy (kernel) imports app.cases.services (cases): upward" in found
    assert "app.org.services:2: imports app.items.services inside a function" in found
    assert "workflows.runtime: workflows/ imports app.engine" in found


def test_the_check_finds_a_feature_importing_another_features_views():
    tree = _fake(
        {
            "app.cases.views": "from flask import Blueprint\n",
            "app.supervision.views": "from app.cases.views import visible_case\n",
        }
    )
    assert violations(tree) == [
        "app.supervision.views imports the views of another feature: app.cases.views"
    ]
