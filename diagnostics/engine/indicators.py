"""The indicator table: every catalogue entry, per quartier, estimated, compared and protected.

:func:`compute_indicators` turns the validated answers (numeric codes), the population margins,
the ORS / Assurance Maladie extracts and the reference values into the one tidy table described
in ``CONTRIBUTING.md`` (one row per quartier × indicator, plus one row per indicator for the set
of the quartiers, « Ensemble des trois quartiers »):

* questionnaire indicators are design-based estimates (:class:`diagnostics.stats.survey.Design`) with
  weights raked, within each quartier, to the population margins by age group and by sex
  (:func:`diagnostics.stats.weighting.rake`); each quartier is a *domain* of the full design (not a
  subset), proportions have logit confidence intervals, and a Rao-Scott test
  (:meth:`~diagnostics.stats.survey.Design.chisq`) says whether the quartiers differ;
* extract indicators use the producer's counts: Wilson intervals for proportions, Byar's (or
  exact Poisson) intervals for crude rates, Dobson intervals for directly age-standardised
  rates (:mod:`diagnostics.stats.rates`); the « Ensemble » row adds the quartiers' counts;
* reference values (commune, département, région, France) come from the extract rows of those
  territories, else from ``references.yaml`` of the project;
* every estimate is compared with the « Ensemble » row and with each reference
  (:func:`diagnostics.stats.compare.compare_ci`, with the catalogue's direction);
* the publication rules (:func:`diagnostics.protect.estimates.protect_indicators`) are applied last.

Every catalogue entry yields rows: an entry that cannot be computed (a column absent from the
answers, no extract row, a masked value, nobody in the denominator…) is reported with
``status = "non calculable"`` and the reason in ``note``.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
from dataclasses import dataclass, field
from pathlib import Path

from .. import fmt, paths
from ..collect.margins import read_margins
from ..collect.pseudonym import get_secret, secret_path
from ..config.catalogue import Catalogue, Indicator, load_project_catalogue
from ..config.project import EXTRACT_REFERENCE_LEVELS, REFERENCE_LEVELS, Project, load_project
from ..errors import DLSError, EstimationError
from ..protect.cells import MASKED, TOTAL_LABELS
from ..protect.estimates import protect_indicators
from ..stats.compare import compare_ci, compare_test
from .extract_estimates import (ExtractEstimate, Territories, extract_estimate, latest_year, pick_territory,
                                sum_quartiers)
from .wave import Wave, ensemble_label, estimate, prepare_wave, quartier_tests

__all__ = ["COLUMNS", "ENSEMBLE", "REFERENCE_LEVELS", "IndicatorInputs", "compute_indicators",
           "compute_from_files", "refuse_empty", "write_indicators"]

#: Columns of the indicator table, in order (see CONTRIBUTING.md).
COLUMNS = ["quartier", "indicator_id", "label", "dimension", "source", "unit", "direction",
           "estimate", "ci_low", "ci_high", "n", "numerator", "method", "fragile", "suppressed",
           "suppression_reason", *(f"ref_{k}" for k in REFERENCE_LEVELS),
           "cmp_ensemble", *(f"cmp_{k}" for k in REFERENCE_LEVELS),
           "p_rao_scott", "ref_reste", "p_reste", "cmp_reste", "status", "note"]

#: Label of the row for the set of the three quartiers.
ENSEMBLE = ensemble_label(3)
CALCULATED, NOT_CALCULABLE = "calculé", "non calculable"

DEFAULT_REPONSES = paths.EXAMPLE / "reponses_synthetiques.csv"
DEFAULT_MARGES = paths.EXAMPLE / "marges_population_synthetiques.csv"
DEFAULT_EXTRAITS = paths.EXAMPLE / "extraits_synthetiques.csv"
DEFAULT_REFERENCES = paths.EXAMPLE / "references.yaml"


# =========================================================================== references

def _reference_values(code: str | None, indicator: Indicator, extracts: pd.DataFrame | None,
                      references: pd.DataFrame | None, project: Project, confidence: float) -> dict:
    """``{level id: value}`` for each of :data:`REFERENCE_LEVELS` (NaN when unknown).

    The precedence of :data:`diagnostics.collect.references.PRECEDENCE_RULE`: extract of the
    territory, then the project's references, then the toolkit's; a published value wins over an
    illustrative one.  Questionnaire indicators without ``reference:`` look up their own id.
    """
    from ..collect.references import choose_reference

    out = {k: np.nan for k in REFERENCE_LEVELS}
    rows = None
    if code is not None and extracts is not None and len(extracts):
        rows = extracts[extracts["indicator_id"] == code]
        rows = rows[rows["year"] == latest_year(rows["year"])] if len(rows) else None
    for key, level in REFERENCE_LEVELS.items():
        ext = None
        if rows is not None and key in EXTRACT_REFERENCE_LEVELS:
            terr = pick_territory(rows, level, city=project.ville if level == "commune" else None)
            if len(terr):
                method = indicator.method or ("wilson" if indicator.unit == "%" else "byar")
                ext = {"value": extract_estimate(terr, indicator.unit, method, confidence).estimate,
                       "illustrative": bool(project.donnees_synthetiques), "source": "", "period": ""}
        choice = choose_reference(ext, references, code or indicator.id, level, fallback_code=indicator.id,
                                  kind=indicator.source)
        if choice is not None:
            out[key] = choice["value"]
    return out


# =========================================================================== assembly

@dataclass
class IndicatorInputs:
    """What :func:`compute_from_files` read, for the CLI and the reports."""

    table: pd.DataFrame
    n_respondents: int = 0
    counts: dict = field(default_factory=dict)
    files: dict = field(default_factory=dict)


def _blank_row(ind: Indicator, quartier: str) -> dict:
    row = {c: np.nan for c in COLUMNS}
    row.update(quartier=quartier, indicator_id=ind.id, label=ind.label, dimension=ind.dimension,
               source=ind.source, unit=ind.unit, direction=ind.direction, method=ind.method_label,
               fragile=False, suppressed=False, suppression_reason="", status=NOT_CALCULABLE, note="")
    for k in ("cmp_ensemble", "cmp_reste", *(f"cmp_{r}" for r in REFERENCE_LEVELS)):
        row[k] = "non comparable"
    return row


def _excluded_note(status: np.ndarray, threshold: float) -> str:
    """« Exclus du dénominateur : … » with counts below the threshold written « moins de 11 »."""
    def count(k):
        return f"moins de {fmt.number(threshold)}" if k < threshold else fmt.number(k)
    k_nsp = int((status == "nsp_refus").sum())
    k_na = int((status == "sans_reponse").sum())
    parts = []
    if k_nsp:
        parts.append(f"{count(k_nsp)} « ne sait pas » ou refus")
    if k_na:
        parts.append(f"{count(k_na)} sans réponse")
    return ("Exclus du dénominateur : " + ", ".join(parts) + ".") if parts else ""


def _questionnaire_rows(ind: Indicator, wave: Wave, estimates: list[dict], quartiers: dict[str, np.ndarray],
                        threshold: float) -> list[dict]:
    """Rows of a questionnaire indicator: the wave's estimates (its records), each quartier against the others.

    ``quartiers`` maps each quartier's label to the positions of its respondents in the wave.
    """
    ens = wave.ensemble
    rows = {q: _blank_row(ind, q) for q in [*quartiers, ens]}
    if wave.problem or ind.id in wave.errors:
        for r in rows.values():
            r["note"] = wave.problem or f"Non calculable : {wave.errors[ind.id]}"
        return list(rows.values())
    status = wave.status[ind.id].to_numpy()
    for lab, r in rows.items():
        r["note"] = _excluded_note(status if lab == ens else status[quartiers[lab]], threshold)
    for e in estimates:
        if e["quartier"] not in rows:
            continue
        method = ind.method_label + (" (repli Korn-Graubard : p = 0 ou 1)" if "repli" in e["method"] else "")
        rows[e["quartier"]].update(estimate=e["estimate"], ci_low=e["ci_low"], ci_high=e["ci_high"], n=int(e["n"]),
                                   numerator=e["numerator"], fragile=e["fragile"], status=CALCULATED, method=method)
    for r in rows.values():
        if r["status"] != CALCULATED:
            r["note"] = ("Non calculable : aucun répondant dans le dénominateur. " + r["note"]).strip()
    p = np.nan
    if wave.design.data[ind.id].notna().any():
        contrasts, p = quartier_tests(wave, ind)
        alpha = 1 - wave.design.conf_level
        for c in contrasts.to_dict("records"):
            if c["domain"] in rows and np.isfinite(c["estimate"]):
                rows[c["domain"]].update(ref_reste=float(c["estimate_rest"]), p_reste=float(c["p_value"]),
                                         cmp_reste=compare_test(c["estimate"], c["p_value"], alpha,
                                                                ind.direction))
    for r in rows.values():
        r["p_rao_scott"] = p
    return list(rows.values())


def _extract_rows(ind: Indicator, extracts: pd.DataFrame | None, project: Project, quartiers: list[str],
                  ens: str, confidence: float) -> list[dict]:
    rows = {q: _blank_row(ind, q) for q in [*quartiers, ens]}
    if extracts is None:
        for r in rows.values():
            r["note"] = "Non calculable : aucun fichier d'extraits n'a été fourni."
        return list(rows.values())
    d = extracts[extracts["indicator_id"] == ind.extract_code]
    if d.empty:
        for r in rows.values():
            r["note"] = f"Non calculable : l'indicateur « {ind.extract_code} » est absent des extraits."
        return list(rows.values())
    year = latest_year(d["year"])
    d = d[d["year"] == year]
    parts, territories = [], Territories(d, "QPV")
    for q in project.quartiers:
        terr = territories.pick(code=q.qpv, label=q.libelle)
        parts.append(terr)
        rows[q.libelle].update(_est_to_row(extract_estimate(terr, ind.unit, ind.method, confidence) if len(terr) else
                                           ExtractEstimate(note=f"aucune ligne QPV pour {q.libelle} dans l'extrait"), year, project.effectif_fragile))
    if all(len(p) for p in parts):
        summed = sum_quartiers(parts)
        est = extract_estimate(summed, ind.unit, ind.method, confidence)
        if est.masked:
            # unknown to us as to the reader: a masked total protects the quartiers (no secondary
            # suppression is needed to hide a masked quartier behind it)
            est.note = "un quartier au moins est masqué dans l'extrait : la somme des quartiers est inconnue"
        rows[ens].update(_est_to_row(est, year, project.effectif_fragile))
    else:
        rows[ens].update(_est_to_row(ExtractEstimate(note="un quartier au moins manque dans l'extrait"), year, project.effectif_fragile))
    return list(rows.values())


def _est_to_row(est: ExtractEstimate, year: str, fragile_n: float = 30) -> dict:
    row = dict(estimate=est.estimate, ci_low=est.ci_low, ci_high=est.ci_high, n=est.n, numerator=est.numerator,
               fragile=bool(pd.notna(est.numerator) and est.numerator < fragile_n))
    if est.method:
        row["method"] = est.method
    if est.masked:
        row.update(suppressed=True, suppression_reason=MASKED)
    ok = pd.notna(est.estimate)
    row["status"] = CALCULATED if ok else NOT_CALCULABLE
    note = f"Extrait {year}."
    if est.note:
        note += (" " if ok else " Non calculable : ") + est.note + "."
    row["note"] = note
    return row


def _lookups(wave: Wave, catalogue: Catalogue, labels: list[str]) -> tuple[dict, dict]:
    """The wave's estimates as records per indicator, and the positions of each quartier's respondents."""
    by_indicator = {k: g.to_dict("records") for k, g in estimate(wave, catalogue).groupby("indicator_id", sort=False)}
    where = wave.frame["quartier"].to_numpy(dtype=object)
    return by_indicator, {q: np.flatnonzero(where == q) for q in labels}


def _check_threshold(wave: Wave, thr: float) -> None:
    """Refuse a wave prepared with another secrecy threshold than the table's (its ``suppressed`` flags)."""
    if wave.design is not None and wave.design.suppress_n != int(math.ceil(thr)):
        raise DLSError(f"La vague préparée l'a été avec un autre seuil de secret ({wave.design.suppress_n}) que "
                       f"celui demandé ({fmt.number(thr)}) : préparez-la avec le même seuil.")


def compute_indicators(codes: pd.DataFrame | None, margins: pd.DataFrame | None = None,
                       extracts: pd.DataFrame | None = None, references: pd.DataFrame | None = None, *,
                       project: Project | None = None, catalogue: Catalogue | None = None,
                       weights="calage", calibration=None, threshold: float | None = None,
                       protect: bool = True, counts: dict | None = None, wave: Wave | None = None) -> pd.DataFrame:
    """Compute the indicator table (one row per quartier × indicator, plus the « Ensemble » rows).

    Parameters
    ----------
    codes : DataFrame
        Validated answers, one row per respondent: numeric codes (``ValidationResult.codes``)
        or French labels (``.data``, converted by :func:`diagnostics.engine.wave.as_codes`).
    margins : DataFrame, optional
        Population margins ``quartier, groupe_age, sexe, effectif``; required when
        ``weights="calage"``.
    extracts : DataFrame, optional
        Extract rows (``ExtractResult.data`` of :func:`diagnostics.collect.extracts.read_extracts`).
    references : DataFrame, optional
        Reference values (:func:`diagnostics.collect.extracts.read_references`).
    project : Project, optional
        Quartiers (label, questionnaire code, QPV code), city, thresholds and confidence level;
        default ``config/projet.yaml``.
    catalogue : Catalogue, optional
        Default ``config/indicateurs.yaml``.
    weights, calibration
        As :func:`~diagnostics.engine.wave.prepare_wave` (``"calage"``, ``"egaux"`` or a Series and its raking).
    threshold : float, optional
        Publication threshold of the disclosure rules (default: the project's ``secret_statistique``).
    protect : bool, default True
        :func:`~diagnostics.protect.estimates.protect_indicators` (always, for a shared table).
    counts : dict, optional
        Filled with ``hors_quartiers`` and ``sans_age_sexe`` (respondents left out).
    wave : Wave, optional
        A wave already prepared (:func:`~diagnostics.engine.wave.prepare_wave`, notebook 2): used as it is.

    Returns
    -------
    DataFrame
        Columns :data:`COLUMNS`; proportions on the 0–1 scale, rates in the catalogue's unit.

    Notes
    -----
    Questionnaire indicators: :func:`diagnostics.engine.wave.prepare_wave` (one raked design,
    each quartier a domain of it) then :func:`~diagnostics.engine.wave.estimate` (weighted
    proportion or mean, logit interval as R ``svyciprop``; ``n`` and ``numerator`` unweighted)
    and :func:`~diagnostics.engine.wave.quartier_tests`: ``p_rao_scott`` (R ``svychisq``) and
    ``ref_reste``, ``p_reste``, ``cmp_reste`` (each quartier against the other quartiers, t test).
    Respondents without age group or sex cannot be raked and are left out (their number is in
    ``counts`` and ``table.attrs``).  Comparisons: :func:`diagnostics.stats.compare.compare_ci`
    of each interval with the « Ensemble » estimate and each reference (Fingertips rule).

    References
    ----------
    Lumley T. *Complex Surveys*, Wiley 2010 (domains, raking, ``svyciprop``);
    Rao JNK, Scott AJ. *Ann Stat* 1984;12:46-60; PHEindicatormethods (Wilson, Byar, Dobson).
    """
    project = project or load_project()
    catalogue = catalogue or load_project_catalogue(project)
    thr, conf = float(project.secret_statistique if threshold is None else threshold), float(project.niveau_confiance)
    wave = wave or prepare_wave(codes, margins, project, catalogue, weights=weights, calibration=calibration,
                                threshold=thr)
    _check_threshold(wave, thr)
    if counts is not None:
        counts.update(wave.counts)
    by_indicator, quartiers = _lookups(wave, catalogue, project.libelles)
    rows = []
    for ind in catalogue:
        if ind.source == "questionnaire":
            rows += _questionnaire_rows(ind, wave, by_indicator.get(ind.id, []), quartiers, thr)
        else:
            rows += _extract_rows(ind, extracts, project, project.libelles, wave.ensemble, conf)
    table = _compare(pd.DataFrame(rows, columns=COLUMNS), catalogue, extracts, references, project, wave.ensemble)
    table["fragile"] = table["fragile"].astype(bool)
    table["suppressed"] = table["suppressed"].astype(bool)
    if protect:
        table = protect_indicators(table, threshold=thr, total_labels=(wave.ensemble, *TOTAL_LABELS),
                                   survey_min=project.repondants_minimum)
        table = table[COLUMNS]
    table.attrs.update(seuil=thr, ensemble=wave.ensemble, **wave.counts)
    return table.reset_index(drop=True)


def _compare(table: pd.DataFrame, catalogue: Catalogue, extracts, references, project: Project,
             ens: str) -> pd.DataFrame:
    """Fill the reference values and compare each estimate with them and with the « Ensemble » row.

    :func:`diagnostics.stats.compare.compare_ci` (Fingertips rule: the reference outside the
    interval), oriented by the catalogue's ``sens``.
    """
    conf = float(project.niveau_confiance)
    direction = {}
    for ind in catalogue:
        sel = table["indicator_id"] == ind.id
        direction[ind.id] = ind.direction
        for key, val in _reference_values(ind.reference, ind, extracts, references, project, conf).items():
            table.loc[sel, f"ref_{key}"] = val
    ensemble = table[table["quartier"] == ens].drop_duplicates("indicator_id").set_index("indicator_id")["estimate"]
    rows = table[["quartier", "indicator_id", "estimate", "ci_low", "ci_high",
                  *(f"ref_{k}" for k in REFERENCE_LEVELS)]].to_dict("records")
    verdicts = {c: table[c].tolist() for c in ("cmp_ensemble", *(f"cmp_{k}" for k in REFERENCE_LEVELS))}
    for i, r in enumerate(rows):
        if r["indicator_id"] not in direction:
            continue
        way, interval = direction[r["indicator_id"]], (r["estimate"], r["ci_low"], r["ci_high"])
        if r["quartier"] != ens:
            verdicts["cmp_ensemble"][i] = compare_ci(*interval, ensemble.get(r["indicator_id"], np.nan),
                                                     direction=way)
        for key in REFERENCE_LEVELS:
            verdicts[f"cmp_{key}"][i] = compare_ci(*interval, r[f"ref_{key}"], direction=way)
    for c, values in verdicts.items():
        table[c] = values
    return table


# =========================================================================== files

def refuse_empty(table: pd.DataFrame, *, read: str = "", margins: str = "", file=None) -> None:
    """Refuse a run that computed no indicator: an error, never an empty table reported as a success.

    Parameters
    ----------
    table : DataFrame
        The indicator table (``status`` column).
    read, margins : str
        Optional clauses naming what was read (« 406 répondants lus dans « … » ») and the
        margins file, for the French sentence.
    file : path-like, optional
        The answers file the error names.

    Raises
    ------
    EstimationError
        When no row has the status « calculé ».
    """
    if len(table) and (table["status"] == CALCULATED).any():
        return
    raise EstimationError(
        f"aucun indicateur n'a pu être calculé ({len(table)} lignes quartier × indicateur, toutes non "
        f"calculables{', ' + read if read else ''}) : vérifiez que les réponses et les marges"
        f"{' (« ' + margins + ' »)' if margins else ''} portent sur les quartiers du projet ; rien n'a été écrit.", file=file)


def compute_from_files(reponses=None, marges=None, extraits=None, references=None, *, project=None,
                       catalogue=None, limits=None) -> IndicatorInputs:
    """Read the project's input files and compute the indicator table.

    Parameters
    ----------
    reponses, marges, extraits, references : path-like, optional
        Answers (any format of :mod:`diagnostics.collect.readers`), margins CSV (``;``), extract files
        (a path or a list) and reference values (YAML).  Each defaults to the file the project names
        in ``donnees:`` (never to the example's file behind a project's back); ``extraits`` may be
        ``False`` to do without (the default when the project names none), and
        ``references=False`` drops every reference value (the project's and the toolkit's).
    project : Project, optional
        The project; the embedded example (synthetic data) when omitted.
    catalogue : Catalogue, optional
        Default: the project's catalogue checked against the project's questionnaire
        (:func:`diagnostics.config.catalogue.load_project_catalogue`).
    limits : diagnostics.io.formats.Limits, optional
        What the answers' reader accepts (``dls indicators --limite-…``); its defaults otherwise.
    """
    from ..collect.extracts import read_extracts
    from ..collect.references import load_references
    from ..collect.validation import validate
    from ..config.catalogue import load_project_catalogue

    project = project or load_project()
    files = project.donnees
    reponses = Path(reponses) if reponses else files["reponses"]
    marges = Path(marges) if marges else files["marges"]
    if extraits is None:
        extraits = [files["extraits"]] if files.get("extraits") else False
    elif extraits is not False:
        extraits = [Path(p) for p in (extraits if isinstance(extraits, (list, tuple)) else [extraits])]
    if references is None:
        references = files.get("references") or None  # the toolkit's published set still applies
    catalogue = catalogue or load_project_catalogue(project)
    val = validate(reponses, catalogue.questionnaire, secret=get_secret(secret_path(project)), limits=limits)
    margins = read_margins(marges)
    ext = read_extracts(extraits).data if extraits else None
    refs = load_references(references or None, package=references is not False)
    counts: dict = {}
    table = compute_indicators(val.codes, margins, ext, refs, project=project, catalogue=catalogue, counts=counts)
    return IndicatorInputs(table=table, n_respondents=val.n_accepted, counts=counts,
                           files=dict(reponses=reponses, marges=marges, extraits=extraits or [], references=references))


def write_indicators(table: pd.DataFrame, directory, catalogue: Catalogue | None = None,
                     references: dict[str, str] | None = None, sources=None) -> dict[str, Path]:
    """Write the analyst's indicator table: ``indicateurs.xlsx`` and the French ``indicateurs.csv``.

    See :func:`diagnostics.publish.indicator_table.write_analyst_table` (French headers, Excel
    percentages, sheet « Définitions » from ``catalogue``).  Returns ``{"xlsx": path, "csv": path}``.
    """
    from ..publish.indicator_table import write_analyst_table

    return write_analyst_table(table, directory, catalogue, references=references, sources=sources)
