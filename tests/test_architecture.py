"""The house's shape (issues 20 and 29): modules of one concept, data flowing one way, no import
cycle (lazy imports and ``TYPE_CHECKING`` included), private names kept in their module, short
functions, the raking called from one place.

The allow-lists below are today's exceptions, each with its reason.  Other work changes them in
parallel: a failure names what is NEW (not allowed: fix it, or add it with a reason) or STALE
(allowed but gone: remove the line).

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


def _imports(name, path, lazy, type_checking=False):
    """Modules of the package imported by ``name`` (module-level only unless ``lazy``; the
    ``if TYPE_CHECKING:`` blocks only with ``type_checking``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    pkg = name if path.name == "__init__.py" else name.rpartition(".")[0]
    nodes = (ast.walk(tree) if type_checking else _walk(tree)) if lazy else tree.body
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


def _graph(lazy, type_checking=False):
    return {m: {t for t in _imports(m, p, lazy, type_checking) if t in MODULES and t != m}
            for m, p in MODULES.items()}


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


# --------------------------------------------------------------------------- issue 29, item 5

def _report(kind: str, new, stale) -> str:
    lines = [f"{kind} :"]
    lines += [f"  NEW   {x}" for x in sorted(map(str, new))]
    lines += [f"  STALE {x}  (allowed but gone: remove it from the allow-list)" for x in sorted(map(str, stale))]
    return "\n".join(lines)


def _components(graph):
    """Strongly connected components of more than one module (Tarjan), each as a sorted tuple."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def strong(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w.startswith(v + "."):   # a package's __init__ importing its own submodules
                continue
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(tuple(sorted(comp)))

    for v in sorted(graph):
        if v not in index:
            strong(v)
    return set(out)


#: Import circles that only close through an ``if TYPE_CHECKING:`` import (annotations).
KNOWN_CYCLES: set = set()   # the stats/survey circle is gone (issue 29, item 5)


def test_no_import_circle_even_through_type_checking_imports():
    found = _components(_graph(lazy=True, type_checking=True))
    new, stale = found - KNOWN_CYCLES, KNOWN_CYCLES - found
    assert not new and not stale, _report("Cercles d'import", new, stale)


def test_the_circle_finder_finds_every_circle():
    assert _components({"a": {"b"}, "b": {"a"}, "c": {"d"}, "d": {"c"}, "e": set()}) == {("a", "b"), ("c", "d")}


def _private_imports():
    """``(importer, source module)`` of every ``from x import _name`` across modules."""
    found = {}
    for name, path in MODULES.items():
        pkg = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom):
                continue
            base = ".".join(pkg.split(".")[: len(pkg.split(".")) - node.level + 1]) if node.level else ""
            source = ".".join(x for x in (base, node.module) if x)
            for a in node.names:
                if a.name.startswith("_") and not a.name.startswith("__") and source != name:
                    found.setdefault((name, source), set()).add(a.name)
    return found


#: Private names imported from another module, by (importer, source): the reason each is allowed.
PRIVATE_ALLOWED = {
    ("diagnostics.collect.interviews", "diagnostics.collect.actors"): "the partner key of the directory, one rule",
    ("diagnostics.collect.readers", "diagnostics.io.formats"): "file-format helpers split from the reader (issue 29 moves)",
    ("diagnostics.collect.readers", "diagnostics.collect.values"): "label index and integer parsing of answers",
    ("diagnostics.collect.validation", "diagnostics.collect.values"): "how a value is quoted in a French message",
    ("diagnostics.impact.change", "diagnostics.impact.proportions"): "deprecated limits and p formatting shared in impact/",
    ("diagnostics.publish.charts", "diagnostics.publish.display"): "display helpers of the report, one package",
    ("diagnostics.publish.context", "diagnostics.publish.display"): "display helpers of the report, one package",
    ("diagnostics.publish.charts", "diagnostics.publish.findings"): "what may be published, decided once",
    ("diagnostics.publish.evolution_view", "diagnostics.publish.display"): "missing-value test of the report",
    ("diagnostics.publish.findings", "diagnostics.publish.display"): "display helpers of the report, one package",
    ("diagnostics.publish.report", "diagnostics.publish.display"): "display helpers of the report, one package",
    ("diagnostics.publish.report", "diagnostics.publish.findings"): "what may be published, decided once",
}


def test_no_private_name_imported_across_modules():
    found = _private_imports()
    new = {f"{k[0]} ← {k[1]}: {', '.join(sorted(v))}" for k, v in found.items() if k not in PRIVATE_ALLOWED}
    stale = set(PRIVATE_ALLOWED) - set(found)
    assert not new and not stale, _report("Noms privés importés d'un autre module", new, stale)


def _long_functions(limit=80):
    out = {}
    for name, path in MODULES.items():
        def visit(node, prefix):
            for ch in ast.iter_child_nodes(node):
                if isinstance(ch, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    if ch.end_lineno - ch.lineno + 1 > limit:
                        out[(name, prefix + ch.name)] = ch.end_lineno - ch.lineno + 1
                    visit(ch, prefix + ch.name + ".")
                else:
                    visit(ch, prefix + ch.name + "." if isinstance(ch, ast.ClassDef) else prefix)
        visit(ast.parse(path.read_text(encoding="utf-8")), "")
    return out


#: Functions over 80 lines (docstring included): the reason each is allowed for now.
LONG_ALLOWED = {
    ("diagnostics.collect.actors", "load_actors"): "one pass over the directory's columns; to split per column",
    ("diagnostics.collect.entry_workbook", "write_entry_workbook"): "one sheet laid out cell by cell; to split per sheet",
    ("diagnostics.collect.extracts", "read_extract"): "one pass over a producer's file; to split per check (issue 29)",
    ("diagnostics.collect.interviews", "load_interviews"): "markdown parser of the notes; to split per block",
    ("diagnostics.collect.readers", "read_answers"): "dispatch over five formats; to split per format",
    ("diagnostics.collect.sample", "generate_answers"): "synthetic sample, one question after another (example only)",
    ("diagnostics.collect.validation", "_judge"): "every check of an answer; issue 29: one rule per question type",
    ("diagnostics.collect.validation", "validate"): "reads, judges, dedupes; to split with _judge",
    ("diagnostics.config.catalogue", "_parse_entry"): "every key of a catalogue entry checked in order",
    ("diagnostics.config.project", "load_project"): "every section of projet.yaml checked in order (issue 29)",
    ("diagnostics.config.questionnaire", "load_questionnaire"): "every key of the questionnaire checked in order",
    ("diagnostics.engine.build", "_build_locked"): "the build's steps in order; to split with the one printer",
    ("diagnostics.engine.evolution", "extract_series"): "series and trend tests; the evolution verdict work splits it",
    ("diagnostics.impact.change", "wilcoxon_signed_rank"): "exact and normal branches with ties, as R",
    ("diagnostics.impact.read", "read_followup"): "one pass over the follow-up file's columns",
    ("diagnostics.protect.cells", "protect_block"): "the secondary suppression loop and its audit, one algorithm",
    ("diagnostics.publish.charts", "spine_chart"): "one figure specification, trace by trace",
    ("diagnostics.stats.quantiles", "quantile"): "R's survey quantile rules, one branch per interval type",
    ("diagnostics.stats.rates", "dsr"): "Dobson interval with its checks, as PHEindicatormethods",
    ("diagnostics.stats.survey.design", "Design.__init__"): "strata, stages and fpc checked as R svydesign",
    ("diagnostics.stats.survey.design", "Design._linear_core"): "the shared variance kernel of every estimator",
    ("diagnostics.stats.survey.intervals", "proportion_ci"): "the six interval methods of svyciprop",
    ("diagnostics.stats.weighting", "rake"): "raking with bounds and R's stopping rule",
}


def test_no_function_over_80_lines_outside_the_allow_list():
    found = _long_functions()
    new = {f"{m}.{f} ({n} lignes)" for (m, f), n in found.items() if (m, f) not in LONG_ALLOWED}
    stale = set(LONG_ALLOWED) - set(found)
    assert not new and not stale, _report("Fonctions de plus de 80 lignes", new, stale)


def test_raking_is_called_from_one_place():
    """Survey weights are raked by :func:`diagnostics.engine.wave.rake_wave` only (the statistics
    package defines the raking; nobody else calls it)."""
    callers = set()
    for name, path in MODULES.items():
        if name.startswith("diagnostics.stats"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                f = node.func
                called = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
                if called == "rake":
                    callers.add(name)
    assert callers == {"diagnostics.engine.wave"}, _report("Appels du calage (rake)",
                                                           callers - {"diagnostics.engine.wave"}, set())


#: Notebooks already on the public API (04 and 05 are being moved by other work of issue 27/29).
PUBLIC_NOTEBOOKS = ("01_verifier_reponses.py", "02_ponderer.py", "03_indicateurs.py")


@pytest.mark.parametrize("name", PUBLIC_NOTEBOOKS)
def test_notebooks_use_only_the_public_api(name):
    """The analyst's way in is the library's front door: ``import diagnostics as dls`` (and the
    ``fmt`` module), every ``dls.x`` a public name, no private column renamed."""
    import diagnostics as dls

    text = (PKG.parent / "notebooks" / name).read_text(encoding="utf-8")
    tree = ast.parse(text)
    deep = [ast.unparse(n) for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))
            and (getattr(n, "module", None) or "").startswith("diagnostics.")
            or isinstance(n, ast.Import) and any(a.name.startswith("diagnostics.") for a in n.names)]
    assert deep == []
    used = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)
            and n.value.id == "dls"}
    assert used <= set(dls.__all__), sorted(used - set(dls.__all__))
    assert not any(f'"{c}"' in text for c in ("_quartier", "_groupe_age", "_sexe"))


def test_public_namespace_has_no_helper_module():
    """What ``diagnostics/__init__.py`` itself binds is private or public API (no ``importlib``);
    subpackages appear once imported, as in any package."""
    import diagnostics as dls

    tree = ast.parse((PKG / "__init__.py").read_text(encoding="utf-8"))
    bound = set()
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.Assign):
            bound.update(t.id for t in node.targets if isinstance(t, ast.Name))
    leaked = {n for n in bound if not n.startswith("_") and n not in dls.__all__}
    assert leaked == set() and "importlib" not in dir(dls)
