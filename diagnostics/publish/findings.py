"""The verdicts of a report: one headline per indicator and quartier, and the « À retenir » list.
"""
from __future__ import annotations

import re

import pandas as pd

from .. import fmt
from ..stats.compare import p_from_interval
from .display import TableIndex, _aggregate, _flag, _na, format_interval, format_value

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

    The comparator is the first reference with a *published* value (central reference, then the
    QPV, France, the other levels); an illustrative value is never a comparator, only grey
    context (``context``: « Chambéry : 58,0 % (illustratif) »).  Else the rest of the surveyed quartiers (the quartier left out: ``ref_reste``,
    verdict ``cmp_reste`` from the test of the difference, p-value ``p_reste``), else — for an
    extract without the rest — the « Ensemble » row, said to include the quartier, else none: the
    figure is then stated with its interval (the « Ensemble » row, which contains the quartier,
    is context without a verdict: ``kind`` « ensemble »).  One comparator per indicator means that a report never calls
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
        (« écart testé, p = 0,04 » against the other quartiers), ``p`` (the p-value of the
        comparison: :func:`~diagnostics.stats.compare.p_from_interval` for a reference, ``p_reste``
        for the other quartiers), ``source`` (source and period of the reference), ``context``,
        ``neutral`` (bool) and ``text`` (« moins favorable que la France (24,5 %) »).
    """
    unit = r.get("unit") or ""
    neutral = r.get("direction") == "neutre"
    out = {"kind": "seul", "verdict": None, "against": "", "against_value": "", "ref_key": None,
           "illustrative": False, "neutral": neutral, "text": "", "short": "", "test": "", "source": "",
           "p": float("nan")}
    if not _reference_comparator(r, project, sources, out):
        if not _na(r.get("ref_reste")):
            v = r.get("cmp_reste")
            p = r.get("p_reste")
            out.update(kind="quartiers", verdict=None if _na(v) else v, against=rest_label(project),
                       against_value=format_value(r.get("ref_reste"), unit), p=float("nan") if _na(p) else float(p),
                       test="" if _na(p) else "écart testé, " + _p_text(float(p)))
        elif agg is not None and _publishable(agg) and agg is not r:
            # an average that contains the quartier is context, never a verdict
            out.update(kind="ensemble", verdict=None,
                       against=f"l'ensemble des quartiers enquêtés, {r.get('quartier')} compris",
                       against_value=format_value(agg.get("estimate"), unit))
    if out["kind"] != "seul":
        out["short"] = f"vs {out['against']} : {out['against_value']}"
    else:
        out["short"] = "sans comparaison"
    if out["context"]:
        out["short"] += f" · {out['context']}"
    if out["verdict"] == "non comparable":
        out["verdict"] = None
    if out["verdict"] in _VERDICT_WORDS:
        mark = f", {out['test']}" if out["test"] else ""
        out["text"] = (f"{_VERDICT_WORDS[out['verdict']]} {out['against']} ({out['against_value']}{mark})"
                       .replace(" à les ", " aux ").replace(" à le ", " au "))
        if neutral and out["verdict"] in ("plus élevé", "plus bas"):
            out["text"] += " — contexte, sans sens favorable"
    elif out["kind"] != "seul":
        out["text"] = f"non comparé à {out['against']} ({out['against_value']})"
    else:
        out["text"] = "aucune référence publiée : chiffre à lire avec son intervalle"
    if out["context"] and out["kind"] == "seul":
        out["text"] += f" ({out['context']}, sans verdict)"
    return out


def _reference_comparator(r: dict, project, sources, out: dict) -> bool:
    """Fill ``out`` with the first *published* reference of ``r`` (``True``), the first illustrative
    one becoming grey ``context`` only; ``False`` when there is no published reference."""
    unit = r.get("unit") or ""
    out["context"] = ""
    for key in _comparators(project):
        if _na(r.get(f"ref_{key}")):
            continue
        ref = (sources.references.get((r.get("indicator_id"), key)) if sources else None) or {}
        if ref.get("illustrative"):
            if not out["context"]:  # grey context at most, never a verdict nor a centre
                out["context"] = (f"{project.references.get(key, key)} : "
                                  f"{format_value(r.get(f'ref_{key}'), unit)} (illustratif)")
            continue
        v = r.get(f"cmp_{key}")
        out.update(kind="reference", verdict=None if _na(v) else v, against=project.comparatif(key),
                   against_value=format_value(r.get(f"ref_{key}"), unit), ref_key=key, source=_ref_source(ref),
                   p=p_from_interval(r.get("estimate"), r.get("ci_low"), r.get("ci_high"), r.get(f"ref_{key}"),
                                     unit, project.niveau_confiance))
        return True
    return False


def _ref_source(ref: dict) -> str:
    """« Baromètre santé 2005 (BEH 2007), 2005 »: the short name of a reference's source and its period."""
    if not ref:
        return ""
    name = (ref.get("court") or ref.get("source") or "").strip().rstrip(".")
    period = str(ref.get("period") or "")
    return name if not period or period in name else f"{name}, {period}"


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
                 per_dimension: int = 5, limit: int | None = None) -> dict:
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
    limit : int, optional
        Length of the ``worse`` / ``better`` / ``context`` lists (largest relative gaps first);
        all by default, so that the counts of the key-figure box equal the verdicts printed.

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
    idx = TableIndex(table)
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
    out["rows"] = rows
    out["n_indicators"] = len(sub)
    out["n_suppressed"] = sum(_flag(r.get("suppressed")) for r in sub)
    out["n_fragile"] = sum(_flag(r.get("fragile")) and not _flag(r.get("suppressed")) for r in sub)
    return out


# --------------------------------------------------------------------------- « L'essentiel »

_FRACTIONS = [(1, 10, "une personne sur dix"), (1, 5, "une personne sur cinq"), (1, 4, "une personne sur quatre"),
              (1, 3, "une personne sur trois"), (2, 5, "deux personnes sur cinq"), (1, 2, "une personne sur deux"),
              (3, 5, "trois personnes sur cinq"), (2, 3, "deux personnes sur trois"),
              (3, 4, "trois personnes sur quatre"), (4, 5, "quatre personnes sur cinq"),
              (9, 10, "neuf personnes sur dix")]


def plain_share(p: float, tolerance: float = 0.02) -> str:
    """« environ une personne sur trois » for a proportion close to a simple fraction, else ``""``.

    >>> plain_share(0.329)
    'environ une personne sur trois'
    """
    for a, b, words in _FRACTIONS:
        if abs(p - a / b) <= tolerance:
            return f"environ {words}"
    return ""


def _verdict_word(v: str) -> str:
    return {"moins bien": "situation moins favorable", "mieux": "situation plus favorable",
            "en dégradation": "en dégradation", "en amélioration": "en amélioration"}.get(v, v)


def _finding(r: dict, h: dict, q, project, survey: str) -> dict:
    """The fields of one finding sentence (value, interval, comparator, source) and the sentence."""
    unit = r.get("unit") or ""
    value = format_value(r["estimate"], unit)
    ci = format_interval(r.get("ci_low"), r.get("ci_high"), unit)
    share = plain_share(float(r["estimate"])) if unit == "%" else ""
    if h["kind"] in ("reference", "complement"):
        where, source = project.dans(h["ref_key"]), h["source"]
    elif h["kind"] == "evolution":
        where, source = f"au diagnostic de {h['year']}", f"enquête auprès des habitants de {h['year']}, écart testé"
    else:
        where, source = f"dans {h['against']}", f"{survey}, écart testé"
    source = re.sub(r"\s*\(([^()]*)\)", r", \1", source)  # no parentheses inside the sentence's own
    fields = {"valeur": value, "ic": ci, "reference": h["against_value"], "comparateur": where,
              "source": source, "quartier": q.libelle}
    tail = "pas d'écart significatif" if h["kind"] == "complement" else _verdict_word(h["verdict"])
    sentence = (f"{r['label']} : {value} {ci} {q.dans}{', soit ' + share if share else ''}, contre "
                f"{h['against_value']} {where} ({source}) — {tail}.")
    return {"fields": fields, "sentence": sentence}


def _evolution_candidates(evolution, quartier: str, rows_by_id: dict) -> list[dict]:
    """Tested changes since the previous diagnostic, as comparisons of the quartier's rows."""
    if evolution is None or not len(evolution):
        return []
    out = []
    e = evolution[(evolution["quartier"] == quartier) & evolution["p_value"].notna()
                  & ~evolution["verdict"].isin(["non comparable", "non testé"])]
    for x in e.to_dict("records"):
        r = rows_by_id.get(x["indicator_id"])
        if r is None or x.get("direction") == "neutre":
            continue
        if x.get("verdict") not in ("en dégradation", "en amélioration"):
            # tested but not significant on the evolution page (its own FDR family): p stays a test of
            # the report, never a finding, so that the two pages never disagree
            out.append({"row": r, "h": {"kind": "evolution", "verdict": None, "against_value": "", "year": "",
                                        "p": float(x["p_value"]), "ref": float(x["estimate_previous"])}})
            continue
        up = float(x["difference"]) > 0
        good = up == (x.get("direction") == "hausse_favorable")
        out.append({"row": r, "h": {"kind": "evolution", "verdict": "en amélioration" if good else "en dégradation",
                                    "against_value": format_value(x["estimate_previous"], x["unit"]),
                                    "year": str(x["previous_year"]), "p": float(x["p_value"]),
                                    "ref": float(x["estimate_previous"])}})
    return out


def _size(r: dict, ref: float) -> float:
    """Size of a gap: the absolute log ratio of the estimate to its comparator."""
    import math

    try:
        return abs(math.log(max(float(r["estimate"]), 1e-9) / max(float(ref), 1e-9)))
    except (TypeError, ValueError):
        return 0.0


def essentiel(table, quartier: str, project, *, sources=None, evolution=None, statement=None,
              twins: dict | None = None, n: int | None = None, per_dimension: int = 2) -> dict:
    """The main findings of a quartier, chosen automatically, as French sentences (« L'essentiel »).

    Candidates are the comparisons with a *real* comparator (:func:`headline`: a published
    reference of same or close definition, else the other quartiers, the quartier left out) and
    the tested changes since the previous diagnostic, on indicators with a favourable direction
    and a non-fragile estimate.  Their p-values (all the tests of the report together) are
    adjusted for the false discovery rate (Benjamini–Hochberg); a candidate is kept when its
    adjusted p-value is below :math:`\\alpha` and its verdict says « mieux » / « moins bien ».
    They are ranked by size (the absolute log ratio of the estimate to its comparator), then by
    certainty (adjusted p-value); at most one per dimension in a first pass, then at most
    ``per_dimension``; one per indicator, and one of an indicator measured twice (``twins``).
    The analyst's file (``statement``) pins findings first, drops some and rewords others.

    Parameters
    ----------
    table : pandas.DataFrame
        Protected indicator table.
    quartier : str
    project : diagnostics.config.project.Project
        ``project.constats`` findings by default.
    sources : diagnostics.publish.sources.IndicatorSources, optional
    evolution : pandas.DataFrame, optional
        :func:`diagnostics.engine.evolution.compute_evolution` (all quartiers).
    statement : diagnostics.publish.constats.Statement, optional
    twins : dict, optional
        ``{indicator id: the id of the same thing measured otherwise}``.
    n : int, optional
    per_dimension : int

    Returns
    -------
    dict
        ``findings`` (``[{"id", "dimension", "label", "sentence", "verdict", "kind", "p", "q",
        "size", "why", "pinned"}]``), ``n_tests`` (the tests adjusted together), ``alpha``,
        ``n_significant`` (findings chosen for a significant gap; when fewer than ``n``, the list
        is completed by the most precise comparisons with a published reference that show no
        significant gap, ``kind`` « complement », said so in their sentence).

    References
    ----------
    Benjamini Y., Hochberg Y. (1995), *JRSS B* 57(1), 289–300.
    """
    from ..stats.compare import adjust_bh
    from .constats import Statement

    st = statement or Statement()
    alpha = 1 - float(project.niveau_confiance)
    idx = TableIndex(table)
    q = project.quartier(quartier)
    if st.path is not None:
        st.check_ids(r["indicator_id"] for r in idx.records)
    rows_by_id = {r["indicator_id"]: r for r in idx.of_quartier(q.libelle)}
    cands = _candidates(idx, rows_by_id, project, sources, evolution, q.libelle)
    for c, qv in zip(cands, adjust_bh([c["h"]["p"] for c in cands])):
        c.update(q=qv, size=_size(c["row"], c["h"]["ref"]))
    ok = sorted((c for c in cands if c["q"] < alpha and c["h"]["verdict"] in _DIRECTIONAL),
                key=lambda c: (-c["size"], c["q"]))
    pick = _Picker(n or project.constats, twins or {}, st.dropped)
    for iid in st.pinned:
        r = rows_by_id.get(iid)
        if r is not None and _publishable(r):
            c = next((c for c in cands if c["row"]["indicator_id"] == iid), None) or {
                "row": r, "h": {**headline(r, _aggregate(idx.rows(iid), project), project, sources), "ref": None},
                "q": float("nan"), "size": 0.0}
            pick.take(c, "épinglé par l'analyste (constats)", force=True)
    for cap in (1, per_dimension):
        for c in ok:
            pick.take(c, f"écart significatif après contrôle du taux de fausses découvertes (p ajusté = "
                         f"{fmt.number(c['q'], 3)}), taille {fmt.number(c['size'], 2)} (|log du rapport|)", cap=cap)
    n_significant = sum(1 for _, why in pick.chosen if not why.startswith("épinglé"))
    _complete(pick, [c for c in cands if c not in ok], per_dimension)
    survey = sources.survey if sources is not None else "enquête auprès des habitants"
    out = [{"id": c["row"]["indicator_id"], "dimension": c["row"]["dimension"], "label": c["row"]["label"],
            "sentence": _sentence(c["row"], c["h"], q, project, survey, st.reworded),
            "verdict": c["h"].get("verdict"), "kind": c["h"]["kind"], "p": c["h"].get("p"), "q": c["q"],
            "size": c["size"], "why": why, "pinned": why.startswith("épinglé")} for c, why in pick.chosen]
    return {"findings": out, "n_tests": len(cands), "alpha": alpha, "n_significant": n_significant}


_DIRECTIONAL = ("mieux", "moins bien", "en dégradation", "en amélioration")


def _complete(pick, rest: list, cap: int) -> None:
    """Fewer significant gaps than wanted: the most precise comparisons with a published reference
    that show *no* significant gap (``kind`` « complement », said so in their sentence)."""
    rest = [c for c in rest if c["h"]["kind"] == "reference" and c["h"].get("verdict") == "similaire"]
    for c in sorted(rest, key=lambda c: float(c["row"]["ci_high"]) - float(c["row"]["ci_low"])):
        pick.take({**c, "h": {**c["h"], "kind": "complement"}}, "complément : aucun autre écart significatif ; "
                  "comparaison la plus précise à une référence publiée", cap=cap)


class _Picker:
    """The findings chosen so far: at most ``n``, one per indicator and twin pair, a cap per dimension."""

    def __init__(self, n: int, twins: dict, dropped):
        self.n, self.twins, self.dropped = n, twins, set(dropped)
        self.chosen, self.used, self.per_dim = [], set(), {}

    def take(self, c: dict, why: str, *, cap: int | None = None, force: bool = False) -> None:
        iid, dim = c["row"]["indicator_id"], c["row"]["dimension"]
        if iid in self.used or (not force and (len(self.chosen) >= self.n or iid in self.dropped
                                                or self.per_dim.get(dim, 0) >= (cap or self.n))):
            return
        self.chosen.append((c, why))
        self.used.update({iid, self.twins.get(iid, iid)})
        self.per_dim[dim] = self.per_dim.get(dim, 0) + 1


def _candidates(idx, rows_by_id: dict, project, sources, evolution, quartier: str) -> list[dict]:
    """Every test of the report that could give a finding: a real comparator, a favourable direction,
    a publishable and non-fragile estimate (references and other quartiers), then the changes."""
    cands = []
    usable = {k: r for k, r in rows_by_id.items() if _publishable(r) and not _flag(r.get("fragile"))}
    for r in usable.values():
        if r.get("direction") == "neutre":
            continue
        h = headline(r, _aggregate(idx.rows(r["indicator_id"]), project), project, sources)
        if h["kind"] == "reference" or (h["kind"] == "quartiers" and not _na(r.get("ref_reste"))):
            ref = r.get(f"ref_{h['ref_key']}") if h["kind"] == "reference" else r.get("ref_reste")
            cands.append({"row": r, "h": {**h, "ref": ref}})
    return cands + _evolution_candidates(evolution, quartier, usable)


def _sentence(r: dict, h: dict, q, project, survey: str, reworded: dict) -> str:
    """The sentence of one finding (the analyst's wording when given, its figures filled in)."""
    if h.get("verdict") is None or h["kind"] in ("seul", "ensemble"):
        unit = r.get("unit") or ""
        return (f"{r['label']} : {format_value(r['estimate'], unit)} "
                f"{format_interval(r.get('ci_low'), r.get('ci_high'), unit)} {q.dans} — {h['text']}.")
    f = _finding(r, h, q, project, survey)
    if r["indicator_id"] in reworded:
        return reworded[r["indicator_id"]].format(**f["fields"])
    return f["sentence"]
