"""The house's shape (issue 20): modules of one concept, data flowing one way, no import cycle.

The stages are subpackages in data-flow order; a module may import from its own stage, from an
earlier one, or from the shared top-level helpers, never from a later stage::

    config → collect → stats → protect → publish        (engine, impact and cli sit on top)
"""
import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "diagnostics"
#: Data-flow rank of each stage; the helpers (errors, fmt, paths, results, io/) rank 0, the
#: orchestrators (engine/, impact/, cli, the package itself) rank last.
RANK = {"errors": 0, "fmt": 0, "paths": 0, "results": 0, "io": 0,
        "config": 1, "collect": 2, "stats": 3, "protect": 4, "publish": 5, "engine": 6, "impact": 6,
        "cli": 7,
        "__init__": 8}


def _modules():
    for path in sorted(PKG.rglob("*.py")):
        if "resources" in path.parts:
            continue
        parts = path.relative_to(PKG).with_suffix("").parts
        yield ".".join(("diagnostics",) + parts).removesuffix(".__init__"), path


def _imports(name, path, lazy):
    """Modules of the package imported by ``name`` (module-level only unless ``lazy``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    pkg = name if path.name == "__init__.py" else name.rpartition(".")[0]
    nodes = _walk(tree) if lazy else tree.body
    out = set()
    for node in nodes:
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg.split(".")[: len(pkg.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.startswith("diagnostics"):
                if target != "diagnostics":   # « from diagnostics import fmt » imports fmt
                    out.add(target)
                out.update(f"{target}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("diagnostics"))
    return out


def _walk(node):
    """Every node, but not the ``if TYPE_CHECKING:`` blocks (annotations only, never run)."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
            continue
        yield child
        yield from _walk(child)


MODULES = dict(_modules())


def _graph(lazy):
    return {m: {t for t in _imports(m, p, lazy) if t in MODULES and t != m} for m, p in MODULES.items()}


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_module_over_800_lines(name):
    lines = MODULES[name].read_text(encoding="utf-8").count("\n")
    assert lines <= 800, f"{name}: {lines} lignes"


def _cycle(graph):
    state, stack = {}, []

    def visit(m):
        state[m] = 1
        stack.append(m)
        for t in sorted(graph[m]):
            # a package's __init__ importing its own submodules is not a cycle of concepts
            if t.startswith(m + "."):
                continue
            if state.get(t) == 1:
                return stack[stack.index(t):] + [t]
            if t not in state and (found := visit(t)):
                return found
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(graph):
        if m not in state and (found := visit(m)):
            return found
    return None


def test_no_import_cycle_even_through_imports_inside_functions():
    assert _cycle(_graph(lazy=True)) is None


def _stage(name):
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


#: The one exception, with its reason.
LATER_STAGE_ALLOWED = {
    # the catalogue (a file a peer city edits) names scores: checked against their specifications
    ("diagnostics.config.catalogue", "diagnostics.stats.scores"),
}


def test_data_flows_one_way_between_stages():
    backwards = [(m, t) for m, targets in _graph(lazy=True).items() for t in targets
                 if RANK[_stage(t)] > RANK[_stage(m)] and (m, t) not in LATER_STAGE_ALLOWED]
    assert backwards == []


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None
