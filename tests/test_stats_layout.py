"""The statistics layer reads as a newcomer would (issue 29, item 5).

Inside ``diagnostics/stats/`` (and for the twins of ``diagnostics/impact/``): no import circle,
counting the imports made inside functions and under ``TYPE_CHECKING``; no private name
(``_x``) imported from another module; one place for the rules that were written several times
(confidence level, Wilson, the proportion interval methods).
"""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "diagnostics"
STATS = sorted((ROOT / "stats").rglob("*.py"))


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path):
    """(module imported, names) of every import of ``path``, wherever it stands."""
    here = _module(path)
    package = here if path.name == "__init__.py" else here.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = package.split(".")
            if node.level:
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            yield target, [a.name for a in node.names]
        elif isinstance(node, ast.Import):
            for a in node.names:
                yield a.name, []


def test_no_private_name_imported_across_modules():
    found = []
    for path in STATS + [ROOT / "impact" / "proportions.py", ROOT / "impact" / "change.py"]:
        for target, names in _imports(path):
            found += [f"{_module(path)} ← {target}.{n}" for n in names
                      if n.startswith("_") and not n.startswith("__")
                      and target.startswith("diagnostics.stats")]
    assert not found, found


def test_no_import_circle_in_stats():
    modules = {_module(p): p for p in STATS}
    graph = {m: set() for m in modules}
    for m, path in modules.items():
        for target, names in _imports(path):
            for t in [target] + [f"{target}.{n}" for n in names]:
                if t in modules and t != m and not modules[t].name == "__init__.py":
                    graph[m].add(t)
    seen, stack = set(), []

    def visit(m):
        if m in stack:
            pytest.fail("import circle: " + " → ".join(stack[stack.index(m):] + [m]))
        if m in seen:
            return
        stack.append(m)
        for t in sorted(graph[m]):
            visit(t)
        stack.pop()
        seen.add(m)
    for m in sorted(graph):
        visit(m)


@pytest.mark.parametrize("text", ["niveau de confiance", "CI_METHODS = ",
                                  "z**2 + 4 * x"])
def test_one_place_per_rule(text):
    where = [str(p.relative_to(ROOT)) for p in sorted(ROOT.rglob("*.py"))
             if text in p.read_text(encoding="utf-8")]
    assert len(where) == 1, (text, where)
