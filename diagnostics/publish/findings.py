"""The verdicts of a report: one headline per indicator and quartier, and the « À retenir » list.
"""
from __future__ import annotations

import pandas as pd

from .. import fmt
from .display import _aggregate, _flag, _Index, _na, format_interval, format_value

# --------------------------------------------------------------------------- key findings

def _publishable(r) -> bool:
    return (not _flag(r.get("suppressed")) and not _na(r.get("estimate"))
            and (_na(r.get("status")) or r.get("status") != "non calculable"))


#: Words of a verdict in a sentence (« moins favorable que Chambéry »).
_VERDICT_WORDS = {"moins bien": "moins favorable que", "mieux": "plus favorable que",
                  "similaire": "comparable à", "plus élevé": "plus élevé que", "plus bas": "plus bas que"}
#: Order of the verdicts in the summary: unfavourable first, then favourable, context, the rest.
_VERDICT_RANK = {"moins bien": 0, "mieux": 1, "plus élevé": 2, "plus bas": 2, "similaire": 3}


def _comparators(project) -> list[str]:
    """Reference keys in the order a verdict looks for them.

    The central one (the city, from the extracts), then all the priority neighbourhoods of France
    (the comparator of a QPV's survey figure the ONPV uses), then France, then the others.
    """
    keys = [project.reference_centrale, "qpv", "france", *project.references]
    return [k for k in dict.fromkeys(keys) if k in project.references]


_OTHERS = {1: "l'autre quartier enquêté", 2: "les deux autres quartiers enquêtés",
           3: "les trois autres quartiers enquêtés", 4: "les quatre autres quartiers enquêtés"}


def _p_text(p: float) -> str:
    """« p < 0,001 », « p = 0,04 »."""
    return "p < 0,001" if p < 0.001 else f"p = {fmt.number(p, 3 if p < 0.01 else 2)}"


def rest_label(project) -> str:
    """« les deux autres quartiers enquêtés »: the comparator of a quartier among the surveyed ones."""
    return _OTHERS.get(len(project.libelles) - 1, "le reste des quartiers enquêtés")


def headline(r: dict, agg: dict | None, project, sources=None) -> dict:
    """The one verdict of an indicator in a quartier, used everywhere in a report.

    The comparator is the first reference with a value (central reference, then France, then the
    other levels), else the rest of the surveyed quartiers (the quartier left out: ``ref_reste``,
    verdict ``cmp_reste`` from the test of the difference, p-value ``p_reste``), else — for an
    extract without the rest — the « Ensemble » row, said to include the quartier, else none: the
    figure is then stated with its interval.  One comparator per indicator means that a report never calls
    the same figure both more and less favourable.

    Parameters
    ----------
    r : dict
        The indicator row of the quartier (indicator-table columns).
    agg : dict or None
        The « Ensemble » row of the same indicator.
    project : diagnostics.config.project.Project
    sources : diagnostics.publish.sources.IndicatorSources, optional
        To say whether the reference value is illustrative.

    Returns
    -------
    dict
        ``kind`` (« reference », « quartiers » or « seul »), ``verdict`` (a
        :data:`diagnostics.stats.compare.VERDICTS` value or ``None``), ``against`` (label of the
        comparator), ``against_value`` (formatted), ``ref_key``, ``illustrative`` (bool), ``test``
        (« écart testé, p = 0,04 » against the other quartiers),
        ``neutral`` (bool) and ``text`` (« moins favorable que Chambéry (89,0 %) »).
    """
    unit = r.get("unit") or ""
    neutral = r.get("direction") == "neutre"
    out = {"kind": "seul", "verdict": None, "against": "", "against_value": "", "ref_key": None,
           "illustrative": False, "neutral": neutral, "text": "", "short": "", "test": ""}
    for key in _comparators(project):
        if not _na(r.get(f"ref_{key}")):
            v = r.get(f"cmp_{key}")
            ill = bool(sources and (r.get("indicator_id"), key) in sources.references
                       and sources.references[(r.get("indicator_id"), key)]["illustrative"])
            out.update(kind="reference", verdict=None if _na(v) else v, against=project.comparatif(key),
                       against_value=format_value(r.get(f"ref_{key}"), unit), ref_key=key, illustrative=ill)
            break
    else:
        if agg is not None and agg is not r and not _na(r.get("ref_reste")):
            v = r.get("cmp_reste")
            p = r.get("p_reste")
            out.update(kind="quartiers", verdict=None if _na(v) else v, against=rest_label(project),
                       against_value=format_value(r.get("ref_reste"), unit),
                       test="" if _na(p) else "écart testé, " + _p_text(float(p)))
        elif agg is not None and _publishable(agg) and agg is not r:
            v = r.get("cmp_ensemble")
            out.update(kind="quartiers", verdict=None if _na(v) else v,
                       against=f"l'ensemble des quartiers enquêtés, {r.get('quartier')} compris",
                       against_value=format_value(agg.get("estimate"), unit))
    if out["kind"] != "seul":
        out["short"] = f"vs {out['against']} : {out['against_value']}" + (" (illustratif)" if out["illustrative"] else "")
    else:
        out["short"] = "sans comparaison"
    if out["verdict"] == "non comparable":
        out["verdict"] = None
    if out["verdict"] in _VERDICT_WORDS:
        mark = ", valeur illustrative" if out["illustrative"] else (f", {out['test']}" if out["test"] else "")
        out["text"] = (f"{_VERDICT_WORDS[out['verdict']]} {out['against']} ({out['against_value']}{mark})"
                       .replace(" à les ", " aux ").replace(" à le ", " au "))
        if neutral and out["verdict"] in ("plus élevé", "plus bas"):
            out["text"] += " — contexte, sans sens favorable"
    elif out["kind"] != "seul":
        out["text"] = f"non comparé à {out['against']} ({out['against_value']})"
    else:
        out["text"] = "aucune référence : chiffre à lire avec son intervalle"
    return out


def _gap(r: dict, h: dict) -> float:
    """Relative gap between the estimate and its comparator (for ordering the findings)."""
    if h["kind"] == "reference":
        ref = r.get(f"ref_{h['ref_key']}")
    else:
        return 0.0
    try:
        return abs(float(r["estimate"]) - float(ref)) / max(abs(float(ref)), 1e-9)
    except (TypeError, ValueError):
        return 0.0


def key_findings(table: pd.DataFrame, quartier: str, project, *, sources=None, dimensions: dict | None = None,
                 per_dimension: int = 5, limit: int = 8) -> dict:
    """The « À retenir » of one quartier: per dimension its main figures and one verdict each.

    Every publishable indicator gets one verdict (:func:`headline`).  Per dimension, the
    indicators with a significant gap come first (unfavourable, favourable, then gaps on
    indicators without a favourable direction, shown as context), then the others, in catalogue
    order, questionnaire indicators before extracts; at most ``per_dimension`` are kept.

    Parameters
    ----------
    table : pandas.DataFrame
        Protected indicator table (CONTRIBUTING.md columns).
    quartier : str
        Label of the quartier (as in the ``quartier`` column).
    project : diagnostics.config.project.Project
    sources : diagnostics.publish.sources.IndicatorSources, optional
        Flags illustrative reference values.
    dimensions : dict, optional
        ``{id: label}`` (the nine DLS dimensions by default).
    per_dimension : int
        Indicators shown per dimension.
    limit : int
        Length of the ``worse`` / ``better`` / ``context`` lists (largest relative gaps first).

    Returns
    -------
    dict
        ``dimensions`` (``[{"id", "label", "rows"}]``), ``worse``, ``better``, ``context``
        (lists of rows), ``n_indicators``, ``n_suppressed``, ``n_fragile``.  A row is
        ``{"id", "dimension", "label", "value", "ci", "n", "fragile", "source", "verdict"
        (from :func:`headline`), "sentence"}``.
    """
    from ..config.questionnaire import load_dimensions

    dims = dimensions or load_dimensions()
    idx = _Index(table)
    sub = idx.of_quartier(quartier)
    q = project.quartier(quartier)
    rows = []
    for pos, r in enumerate(sub):
        if not _publishable(r):
            continue
        unit = r.get("unit") or ""
        h = headline(r, _aggregate(idx.rows(r["indicator_id"]), project), project, sources)
        val, ci = format_value(r["estimate"], unit), format_interval(r.get("ci_low"), r.get("ci_high"), unit)
        frag = _flag(r.get("fragile"))
        sentence = (f"{r['label']} : {val} {ci} {q.dans} — {h['text']}"
                    f"{' (estimation fragile)' if frag else ''}.")
        rows.append({"id": r["indicator_id"], "dimension": r["dimension"], "label": r["label"], "value": val,
                     "ci": ci, "n": fmt.number(r["n"]) if not _na(r.get("n")) else "–", "fragile": frag,
                     "source": "" if _na(r.get("source")) else r.get("source"), "verdict": h,
                     "sentence": sentence, "gap": _gap(r, h), "pos": pos})
    out = {"dimensions": []}
    for did, dlabel in dims.items():
        mine = [x for x in rows if x["dimension"] == did]
        mine.sort(key=lambda x: (_VERDICT_RANK.get(x["verdict"]["verdict"], 4), x["source"] != "questionnaire",
                                 x["pos"]))
        if mine:
            out["dimensions"].append({"id": did, "label": dlabel, "rows": mine[:per_dimension],
                                      "n_more": max(len(mine) - per_dimension, 0)})
    for key, verdicts in (("worse", ("moins bien",)), ("better", ("mieux",)), ("context", ("plus élevé", "plus bas"))):
        out[key] = sorted([x for x in rows if x["verdict"]["verdict"] in verdicts], key=lambda x: -x["gap"])[:limit]
    out["n_indicators"] = len(sub)
    out["n_suppressed"] = sum(_flag(r.get("suppressed")) for r in sub)
    out["n_fragile"] = sum(_flag(r.get("fragile")) and not _flag(r.get("suppressed")) for r in sub)
    return out
