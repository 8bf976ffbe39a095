"""Where each published figure comes from: source, period, definition, numerator, denominator.

The deliverables print « Source : …, année » under every chart and table, an annex with the
definition of every catalogue indicator, and flag every reference value that is only
illustrative.  This module gathers those facts once, from the project's own files: the indicator
catalogue (definitions), the questionnaire (wording of the questions and choices), the extract
files (source and year of each extract indicator) and ``references.yaml`` (source, period and
status « publiée » / « illustrative » of each reference value).

It reads configuration and published aggregates only, never an answer table, and sits between
:mod:`diagnostics.engine.indicators` and :mod:`diagnostics.publish.report` in the data flow.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .. import fmt
from ..config.project import EXTRACT_REFERENCE_LEVELS, REFERENCE_LEVELS

__all__ = ["DEFAULT_DENOMINATOR", "TWIN_NOTE", "IndicatorSources", "load_sources", "survey_source", "twin_pairs"]



@dataclass
class IndicatorSources:
    """Sources and definitions of the indicators of a project.

    Attributes
    ----------
    indicators : pandas.DataFrame
        One row per catalogue indicator, in catalogue order: ``indicator_id, label, dimension,
        source_kind, definition, numerator, denominator, source, period, note``.
    references : dict
        ``{(indicator_id, ref_key): {"source", "period", "illustrative", "url", "origin", "value"}}``
        for every reference value shown (the project's files, then the toolkit's published set).
    survey : str
        « Enquête habitants … » source line of the questionnaire indicators.
    twins : dict
        ``{indicator id: id of its twin}``: the same thing measured twice, declared by the
        residents (questionnaire) and recorded by the Assurance Maladie (extract), both ways
        (:func:`twin_pairs`).
    """

    indicators: pd.DataFrame
    references: dict = field(default_factory=dict)
    survey: str = ""
    twins: dict = field(default_factory=dict)

    def of(self, indicator_id) -> dict:
        """The row of one indicator as a dict (empty when unknown)."""
        sel = self.indicators[self.indicators["indicator_id"] == indicator_id]
        return sel.iloc[0].to_dict() if len(sel) else {}

    def line(self, indicator_ids) -> str:
        """« Source : … » sentence for a set of indicators (each distinct source once, with its periods)."""
        periods: dict[str, list[str]] = {}
        for iid in indicator_ids:
            r = self.of(iid)
            if r:
                seen = periods.setdefault(r["source"], [])
                if r.get("period") and r["period"] not in seen:
                    seen.append(r["period"])
        parts = [f"{src}, {', '.join(sorted(p))}" if p else src for src, p in periods.items()]
        return "Source : " + " ; ".join(parts) + "." if parts else ""

    def reference_line(self, indicator_ids, ref_keys) -> str:
        """« Références : … » sentence naming the source and period of the published reference values
        shown; illustrative values are said to be so once, without a source that would contradict it."""
        parts, illustrative = [], False
        for iid in indicator_ids:
            for k in ref_keys:
                r = self.references.get((iid, k))
                if r is None:
                    continue
                if r["illustrative"]:
                    illustrative = True
                    continue
                source = (r.get("court") or r["source"]).rstrip(".")  # short name here, full citation in the annex
                text = source if str(r["period"]) in source else f"{source}, {r['period']}"
                if text not in parts:
                    parts.append(text)
        out = ("Références : " + " ; ".join(parts) + ".") if parts else ""
        if illustrative:
            out += (" " if out else "") + ("Autres valeurs de référence : illustratives, inventées pour "
                                           "l'exemple, montrées en gris sans verdict.")
        return out

    def published(self, labels: dict | None = None) -> list[dict]:
        """Every reference value printed as published, once: indicator, level, value, source, year, URL.

        The method annex lists them (``labels``: ``{ref key: label}`` of the project's levels).
        """
        out, seen = [], set()
        for (iid, key), r in self.references.items():
            if r["illustrative"] or (iid, key) in seen:
                continue
            seen.add((iid, key))
            label = self.of(iid).get("label", iid)
            out.append({"indicator_id": iid, "indicator": label, "level": (labels or {}).get(key, key),
                        "value": r.get("value"), "source": r["source"], "period": r["period"],
                        "url": r.get("url", ""), "origin": r.get("origin", "")})
        return out

    def has_illustrative(self, indicator_id=None) -> bool:
        """Whether any reference value (of ``indicator_id``, or of the project) is illustrative."""
        return any(v["illustrative"] for (iid, _), v in self.references.items()
                   if indicator_id is None or iid == indicator_id)


#: Why the two measures of a twin pair differ (printed once under the pair).
TWIN_NOTE = ("Deux mesures d'une même pratique : la première est déclarée par les habitants qui ont répondu "
             "à l'enquête (estimation pondérée, avec sa marge d'erreur), la seconde est enregistrée par "
             "l'Assurance Maladie pour tous ses assurés du quartier (sans marge d'erreur d'échantillon) ; "
             "elles diffèrent par la population couverte, la période et la façon de mesurer (souvenir "
             "déclaré ou acte remboursé), et ne se comparent pas entre elles.")


def twin_pairs(catalogue) -> dict:
    """``{id: twin id}`` of the questionnaire and extract indicators that measure the same thing.

    A questionnaire indicator and an extract indicator are twins when the extract's code is the
    questionnaire indicator's id or its ``reference:`` code (médecin traitant, vaccination,
    dépistages); both directions are listed.
    """
    extracts = {ind.extract_code: ind.id for ind in catalogue if ind.source == "extrait" and ind.extract_code}
    out = {}
    for ind in catalogue:
        if ind.source != "questionnaire":
            continue
        twin = extracts.get(ind.id) or extracts.get(ind.reference)
        if twin and twin not in out:
            out[ind.id], out[twin] = twin, ind.id
    return out


def survey_source(project) -> str:
    """Source line of the questionnaire indicators (« Enquête habitants DLS Chambéry, 2020-2022 »)."""
    ville = f" {project.ville}" if project.ville else ""
    synth = " (données synthétiques)" if project.donnees_synthetiques else ""
    return f"Enquête auprès des habitants, diagnostic local de santé{ville}, estimations pondérées{synth}"


def _extract_source(rows: pd.DataFrame) -> str:
    """« Extraits ORS / Assurance Maladie (…) » naming the usual ``source`` of the extract rows.

    A note that names a file (« voir data/references.yaml ») or says how counts were rebuilt is
    for the analyst, not the reader: only the source's name before such notes is kept.
    """
    names = rows["source"].dropna().astype(str).map(_clean_source)
    names = names[names != ""]
    main = names.value_counts().index[0] if len(names) else ""  # the usual source (not a masking note)
    return "Extraits ORS / Assurance Maladie" + (f" ({main})" if main else "")


def _clean_source(text: str) -> str:
    """The name of an extract's source without file paths, analyst notes or nested parentheses."""
    import re

    first = text.split(";")[0].strip()
    if re.search(r"\.(ya?ml|csv|xlsx?)\b|/|\\|\bvoir\b", first, re.I):
        return ""
    return re.sub(r"\s*\(([^()]*)\)", r", \1", first).strip(" ,")


#: The usual denominator of a questionnaire indicator (said once in the definitions annex).
DEFAULT_DENOMINATOR = "Réponses exprimées, hors « ne sait pas » et refus"


def _codes_text(question, codes) -> str:
    labels = [question.label_of(c) or str(c) for c in codes]
    return " ou ".join(f"« {lab} »" for lab in labels)


def _definition_parts(ind, qn) -> tuple[str, str]:
    """(numerator, denominator) sentences of a catalogue entry."""
    pop = f" (population : {ind.filter})" if ind.filter else ""
    if ind.source == "extrait":
        return ("Nombre de personnes concernées (ou d'événements), colonne « numérateur » de l'extrait "
                f"« {ind.extract_code} »",
                "Population du territoire (colonne « dénominateur » de l'extrait)"
                + (", standardisée sur l'âge" if ind.method == "dsr" else ""))
    if ind.score:
        name = {"epices": "EPICES", "who5": "WHO-5", "solitude": "de solitude"}.get(ind.score, ind.score)
        if ind.statistic == "moyenne" or ind.threshold is None:
            return (f"Somme des scores {name} individuels", f"Répondants dont le score {name} est calculable{pop}")
        op, val = ind.threshold
        return (f"Répondants dont le score {name} est {op} {fmt.number(val, 2)}",
                f"Répondants dont le score {name} est calculable{pop}")
    try:
        q = qn[ind.question]
    except Exception:  # noqa: BLE001 - a question unknown here: say the variable name
        return (f"Réponses comptées à la question « {ind.question} »", f"Réponses exprimées{pop}")
    if ind.threshold is not None:
        op, val = ind.threshold
        num = f"Répondants dont la réponse à « {q.label} » est {op} {fmt.number(val)}"
    elif ind.numerator_codes:
        num = f"Réponses {_codes_text(q, ind.numerator_codes)} à la question « {q.label} »"
    else:
        num = f"Réponses à la question « {q.label} »"
    if ind.denominator_codes:
        den = f"Réponses {_codes_text(q, ind.denominator_codes)}{pop}"
    else:
        den = f"{DEFAULT_DENOMINATOR}{pop}"
    return num, den


def load_sources(project, catalogue=None, extracts: pd.DataFrame | None = None,
                 references: pd.DataFrame | None = None) -> IndicatorSources:
    """Gather the sources and definitions of every catalogue indicator of ``project``.

    Parameters
    ----------
    project : diagnostics.config.project.Project
    catalogue : diagnostics.config.catalogue.Catalogue, optional
        Default: the project's catalogue, checked against its questionnaire.
    extracts : pandas.DataFrame, optional
        Extract rows (``ExtractResult.data``); default: the project's extract files.
    references : pandas.DataFrame, optional
        Reference values (:func:`diagnostics.collect.extracts.read_references`); default: the project's.

    Returns
    -------
    IndicatorSources

    Notes
    -----
    The value of each level is chosen by :func:`diagnostics.collect.references.choose_reference`
    (:data:`~diagnostics.collect.references.PRECEDENCE_RULE`), as in the indicator table.
    A value is *illustrative* when ``references.yaml`` says so (``status: illustrative``) or when
    it comes from extracts of a project on synthetic data.
    """
    d = project.donnees
    if catalogue is None and extracts is None and references is None:
        # every notebook of a build asks for the same project: read its files once per process
        key = (str(getattr(project, "source", "")), project.ville, project.donnees_synthetiques,
               str(project.recueil.get("periode", "")),
               tuple((k, str(v), _mtime(v)) for k, v in sorted(d.items()) if not isinstance(v, (list, tuple))))
        if key not in _CACHE:
            _CACHE[key] = _load(project, None, None, None)
        return _CACHE[key]
    return _load(project, catalogue, extracts, references)


_CACHE: dict = {}


def _mtime(path) -> float | None:
    try:
        return Path(path).stat().st_mtime
    except (OSError, TypeError):
        return None


def _load(project, catalogue, extracts, references) -> IndicatorSources:
    from ..collect.extracts import read_extracts
    from ..collect.references import choose_reference, load_references
    from ..config.catalogue import load_catalogue
    from ..config.questionnaire import load_questionnaire

    d = project.donnees
    qn = load_questionnaire(d["questionnaire"]) if d.get("questionnaire") else load_questionnaire()
    if catalogue is None:
        catalogue = load_catalogue(d["catalogue"], qn) if d.get("catalogue") else load_catalogue(questionnaire=qn)
    if extracts is None and d.get("extraits"):
        ex_paths = d["extraits"] if isinstance(d["extraits"], (list, tuple)) else [d["extraits"]]
        extracts = read_extracts(ex_paths).data
    if references is None:
        references = load_references(d.get("references"))
    survey = survey_source(project)
    period = str(project.recueil.get("periode", "") or project.annee or "")
    rows, refs = [], {}
    for ind in catalogue:
        num, den = _definition_parts(ind, qn)
        source, when = survey, period
        if ind.source == "extrait":
            ex = extracts[extracts["indicator_id"] == ind.extract_code] if extracts is not None else None
            if ex is not None and len(ex):
                source = _extract_source(ex)
                years = sorted({str(y) for y in ex["year"].dropna()})
                when = years[-1] if years else ""
            else:
                source, when = "Extraits ORS / Assurance Maladie", ""
        rows.append({"indicator_id": ind.id, "label": ind.label, "dimension": ind.dimension,
                     "source_kind": ind.source, "definition": ind.definition, "numerator": num,
                     "denominator": den, "source": source, "period": when, "note": ind.note or ""})
        code = ind.reference
        ex = extracts[extracts["indicator_id"] == code] if extracts is not None and code is not None else None
        for key, level in REFERENCE_LEVELS.items():
            ext = None
            if key in EXTRACT_REFERENCE_LEVELS and ex is not None and len(ex) and (ex["level"] == level).any():
                e = ex[ex["level"] == level]
                years = sorted({str(y) for y in e["year"].dropna()})
                ext = {"value": 1.0, "source": _extract_source(e), "period": years[-1] if years else "",
                       "illustrative": bool(project.donnees_synthetiques)}
            choice = choose_reference(ext, references, code or ind.id, level, fallback_code=ind.id, kind=ind.source)
            if choice is not None:
                refs[(ind.id, key)] = {"source": " ".join(str(choice["source"]).split()), "period": choice["period"],
                                       "illustrative": bool(choice["illustrative"]), "url": choice["url"],
                                       "origin": choice["origin"], "value": choice["value"],
                                       "court": choice.get("court", "")}
    return IndicatorSources(pd.DataFrame(rows), refs, survey, twin_pairs(catalogue))
