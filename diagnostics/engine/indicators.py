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
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .. import fmt, paths
from ..collect.margins import read_margins
from ..collect.pseudonym import get_secret, secret_path
from ..collect.values import normalise_label
from ..config.catalogue import Catalogue, Indicator, load_catalogue
from ..config.project import EXTRACT_REFERENCE_LEVELS, REFERENCE_LEVELS, Project, load_project
from ..errors import DLSError, EstimationError
from ..protect.cells import MASKED, TOTAL_LABELS
from ..protect.estimates import protect_indicators
from ..stats.compare import compare_ci, compare_test
from ..stats.rates import dsr, parse_age_band, proportion_ci, rate_ci, wilson_lower, wilson_upper
from ..stats.scores import SCORES
from ..stats.survey import Design
from ..stats.weighting import rake

__all__ = ["COLUMNS", "ENSEMBLE", "REFERENCE_LEVELS", "IndicatorInputs", "compute_indicators", "as_codes",
           "compute_from_files", "indicator_variable", "survey_frame", "ensemble_label",
           "write_indicators"]

#: Columns of the indicator table, in order (see CONTRIBUTING.md).
COLUMNS = ["quartier", "indicator_id", "label", "dimension", "source", "unit", "direction",
           "estimate", "ci_low", "ci_high", "n", "numerator", "method", "fragile", "suppressed",
           "suppression_reason", *(f"ref_{k}" for k in REFERENCE_LEVELS),
           "cmp_ensemble", *(f"cmp_{k}" for k in REFERENCE_LEVELS),
           "p_rao_scott", "ref_reste", "p_reste", "cmp_reste", "status", "note"]

#: Label of the row for the set of the three quartiers.
ENSEMBLE = "Ensemble des trois quartiers"
#: Scale of each unit (proportions are stored on the 0–1 scale).
MULTIPLIERS = {"%": 1.0, "pour 1 000": 1e3, "pour 10 000": 1e4, "pour 100 000": 1e5, "ratio": 1.0}
CALCULATED, NOT_CALCULABLE = "calculé", "non calculable"

_NUMBER_WORDS = {2: "deux", 3: "trois", 4: "quatre", 5: "cinq", 6: "six", 7: "sept", 8: "huit", 9: "neuf",
                 10: "dix"}
DEFAULT_REPONSES = paths.EXAMPLE / "reponses_synthetiques.csv"
DEFAULT_MARGES = paths.EXAMPLE / "marges_population_synthetiques.csv"
DEFAULT_EXTRAITS = paths.EXAMPLE / "extraits_synthetiques.csv"
DEFAULT_REFERENCES = paths.EXAMPLE / "references.yaml"


def ensemble_label(n_quartiers: int) -> str:
    """Label of the aggregate row: « Ensemble des trois quartiers » for three quartiers."""
    if n_quartiers == 3:
        return ENSEMBLE
    return f"Ensemble des {_NUMBER_WORDS.get(n_quartiers, str(n_quartiers))} quartiers"


# =========================================================================== questionnaire side

def _clean_numeric(codes: pd.DataFrame, catalogue: Catalogue) -> pd.DataFrame:
    """Copy of ``codes`` where the non-response codes of numeric questions are blanked.

    ``age`` answered « refus » (99) must not pass a filter such as ``age >= 65``.
    """
    out = codes.copy()
    for q in catalogue.questionnaire:
        if q.type in ("integer", "decimal") and q.name in out.columns and q.missing_codes:
            v = pd.to_numeric(out[q.name], errors="coerce")
            out[q.name] = v.mask(v.isin(q.missing_codes))
    return out


_OPS = {">=": np.greater_equal, "<=": np.less_equal, ">": np.greater, "<": np.less, "==": np.equal}


def as_codes(answers: pd.DataFrame, catalogue: Catalogue) -> pd.DataFrame:
    """Numeric codes from an answer table that may carry French labels (``ValidationResult.data``).

    Single-choice columns written as labels (categorical or text) are mapped back to their codes,
    "Ne sait pas" / "Ne souhaite pas répondre" included; other columns are left as they are.
    """
    out = answers.copy()
    for q in catalogue.questionnaire:
        if q.type != "single" or q.name not in out.columns:
            continue
        col = out[q.name]
        if pd.api.types.is_numeric_dtype(col) and not isinstance(col.dtype, pd.CategoricalDtype):
            continue
        labels = {normalise_label(c.label): c.code for c in q.choices}
        labels.update({normalise_label(m.label): m.code for m in q.missing})

        def code(v, labels=labels):
            if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
                return np.nan
            try:
                return float(v)
            except (TypeError, ValueError):
                return float(labels.get(normalise_label(v), np.nan))
        out[q.name] = col.astype(object).map(code).astype(float)
    return out


def indicator_variable(indicator: Indicator, codes: pd.DataFrame, catalogue: Catalogue,
                       clean: pd.DataFrame | None = None) -> pd.DataFrame:
    """The respondent-level variable of a questionnaire indicator.

    Parameters
    ----------
    indicator : Indicator
        A catalogue entry with ``source == "questionnaire"``.
    codes : DataFrame
        Numeric codes (``ValidationResult.codes``), one row per respondent.
    catalogue : Catalogue
        The catalogue (for the population filter and the questionnaire).
    clean : DataFrame, optional
        ``codes`` with the non-response codes of numeric questions blanked, when the caller
        already has it (several indicators of the same answers).

    Returns
    -------
    DataFrame
        Same index; ``value``: 1.0 / 0.0 for a proportion (the score or the answer for a mean),
        NaN outside the denominator; ``status``: ``denominateur`` (counted),
        ``nsp_refus`` (answered « ne sait pas » / « refus »: excluded and counted),
        ``sans_reponse`` (concerned but no answer), ``hors_champ`` (outside the filter, the
        question's skip logic or the denominator codes).

    Raises
    ------
    EstimationError
        When a column the indicator needs is absent from ``codes``.

    Notes
    -----
    * single choice: numerator = answer in ``numerateur``; denominator = answer in
      ``denominateur`` (default: every substantive code);
    * multiple choice: numerator = at least one of the ``numerateur`` options ticked;
      denominator = respondents who ticked at least one option (an answer always ticks one:
      the lists have a « none of these » option) and to whom the question applied;
    * score: the score of :data:`diagnostics.stats.scores.SCORES` (missing when one item is), compared
      with ``seuil`` for a proportion;
    * integer / decimal: the answer (missing codes excluded) compared with ``seuil``.
    """
    qn = catalogue.questionnaire
    clean = _clean_numeric(codes, catalogue) if clean is None else clean
    idx = codes.index
    population = catalogue.population(indicator.id, clean)
    nsp = pd.Series(False, index=idx)
    if indicator.score:
        spec = SCORES[indicator.score]
        value = spec.compute(codes).astype(float)
        items = codes[list(spec.items)].apply(pd.to_numeric, errors="coerce")
        miss = sorted({c for name in spec.items if name in qn.questions for c in qn[name].missing_codes}
                      | {98, 99})
        valid = value.notna()
        nsp = ~valid & items.isin(miss).any(axis=1)
        concerned = population
    else:
        q = qn[indicator.question]
        absent = [c for c in q.columns if c not in codes.columns]
        if absent:
            raise EstimationError(f"la colonne « {absent[0]} » de la question « {q.name} » est absente des "
                                  "réponses.", column=absent[0])
        concerned = population & qn.relevance(q.name, clean)
        if q.type == "multiple":
            m = codes[q.columns].apply(pd.to_numeric, errors="coerce")
            valid = (m == 1).any(axis=1)
            cols = [f"{q.name}_{c}" for c in indicator.numerator_codes]
            value = (m[cols] == 1).any(axis=1).astype(float)
        elif q.type == "single":
            v = pd.to_numeric(codes[q.name], errors="coerce")
            valid = v.isin(list(indicator.denominator_codes or q.codes))
            nsp = v.isin(q.missing_codes)
            value = v.isin(list(indicator.numerator_codes)).astype(float)
        else:
            raw = pd.to_numeric(codes[q.name], errors="coerce")
            nsp = raw.isin(q.missing_codes)
            value = raw.mask(nsp)
            if q.range is not None:
                value = value.where(value.between(*q.range))
            valid = value.notna()
    if indicator.threshold is not None and indicator.statistic == "proportion":
        op, thr = indicator.threshold
        with np.errstate(invalid="ignore"):
            value = pd.Series(_OPS[op](value.to_numpy(dtype=float), thr).astype(float), index=idx).where(valid)
    status = pd.Series("hors_champ", index=idx, dtype=object)
    status[concerned] = "sans_reponse"
    status[concerned & nsp] = "nsp_refus"
    status[concerned & valid] = "denominateur"
    return pd.DataFrame({"value": value.where(status == "denominateur").astype(float), "status": status},
                        index=idx)


def _age_group_labels(margins: pd.DataFrame) -> list[tuple[str, int, float]]:
    labels = []
    for lab in pd.unique(margins["groupe_age"].astype(str)):
        lo, hi = parse_age_band(lab)
        labels.append((lab, lo, hi))
    return labels


def survey_frame(codes: pd.DataFrame, project: Project, catalogue: Catalogue,
                 margins: pd.DataFrame | None = None) -> tuple[pd.DataFrame, dict]:
    """Respondents of the studied quartiers, with their quartier label and calibration cells.

    Returns
    -------
    frame : DataFrame
        Index of ``codes`` restricted to the project's quartiers; columns ``_quartier`` (label),
        ``_groupe_age`` (label of the margins, NaN when the age is missing or refused) and
        ``_sexe`` (``Femme`` / ``Homme``).
    counts : dict
        ``hors_quartiers``: respondents of another quartier (outside the survey population);
        ``sans_age_sexe``: respondents of the quartiers whose age group or sex is unknown.
    """
    if "quartier" not in codes.columns:
        raise EstimationError("La colonne « quartier » est absente des réponses : impossible de répartir "
                              "les répondants entre les quartiers.", column="quartier")
    qcode = pd.to_numeric(codes["quartier"], errors="coerce")
    by_code = {q.code: q.libelle for q in project.quartiers if q.code is not None}
    keep = qcode.isin(list(by_code))
    frame = pd.DataFrame({"_quartier": qcode[keep].map(by_code)}, index=codes.index[keep])
    clean = _clean_numeric(codes.loc[keep], catalogue)
    age = pd.to_numeric(clean.get("age"), errors="coerce") if "age" in clean else pd.Series(np.nan, index=frame.index)
    groups = _age_group_labels(margins) if margins is not None else []
    grp = pd.Series(np.nan, index=frame.index, dtype=object)
    for lab, lo, hi in groups:
        grp[(age >= lo) & (age <= hi)] = lab
    frame["_groupe_age"] = grp
    sexe = pd.to_numeric(codes.loc[keep, "sexe"], errors="coerce") if "sexe" in codes else pd.Series(np.nan, index=frame.index)
    frame["_sexe"] = sexe.map({1: "Femme", 2: "Homme"})
    counts = {"hors_quartiers": int((~keep).sum()),
              "sans_age_sexe": int((frame["_groupe_age"].isna() | frame["_sexe"].isna()).sum())}
    return frame, counts


def _margins_frame(margins: pd.DataFrame, project: Project) -> pd.DataFrame:
    need = ["quartier", "groupe_age", "sexe", "effectif"]
    absent = [c for c in need if c not in margins.columns]
    if absent:
        raise DLSError(f"Les marges de population n'ont pas la colonne « {absent[0]} » ; colonnes attendues : "
                       f"{', '.join(need)}.", column=absent[0])
    m = margins.copy()
    m["quartier"] = m["quartier"].map(lambda v: project.quartier(v).libelle if _known_quartier(project, v) else v)
    unknown = sorted(set(project.libelles) - set(m["quartier"]))
    if unknown:
        raise DLSError(f"Les marges de population n'ont aucune ligne pour le quartier « {unknown[0]} » ; une ligne "
                       "par quartier × groupe d'âge × sexe est attendue.", column="quartier", value=unknown[0])
    m = m[m["quartier"].isin(project.libelles)]
    m["sexe"] = m["sexe"].astype(str).str.strip().str.capitalize()
    return m.rename(columns={"quartier": "_quartier", "groupe_age": "_groupe_age", "sexe": "_sexe"})


def _known_quartier(project: Project, v) -> bool:
    try:
        project.quartier(v)
        return True
    except DLSError:
        return False


# =========================================================================== extract side

def _latest_year(years) -> str:
    return max(years, key=lambda y: (int(str(y)[:4]), len(str(y)), str(y)))


def _pick_territory(rows: pd.DataFrame, level: str, code=None, label=None, city=None) -> pd.DataFrame:
    """Rows of one territory of ``level``: by code, else by label (« Biollay (QPV…) »)."""
    r = rows[rows["level"] == level]
    if r.empty:
        return r
    if code is not None and (r["territory_code"] == str(code)).any():
        return r[r["territory_code"] == str(code)]
    if label is not None:
        lab = normalise_label(label)
        hit = r["territory"].map(lambda t: normalise_label(t) == lab or normalise_label(t).startswith(lab + " "))
        return r[hit.to_numpy()]
    if code is None and label is None:
        codes = list(pd.unique(r["territory_code"]))
        if len(codes) > 1 and city is not None:
            hit = r[r["territory"].map(normalise_label) == normalise_label(city)]
            if not hit.empty:
                return hit
        return r[r["territory_code"] == codes[0]]
    return r.iloc[0:0]


@dataclass
class _Est:
    estimate: float = np.nan
    ci_low: float = np.nan
    ci_high: float = np.nan
    n: float = np.nan
    numerator: float = np.nan
    method: str = ""
    masked: bool = False
    note: str = ""


def _extract_estimate(rows: pd.DataFrame, unit: str, method: str, confidence: float) -> _Est:
    """Estimate from the rows of one territory (or the summed rows of several).

    ``method`` is ``wilson``, ``byar`` or ``dsr``; ``unit`` gives the multiplier.
    """
    mult = MULTIPLIERS.get(unit, 1.0)
    if method == "dsr":
        bands = rows[(rows["age_group"] != "Ensemble") & (rows["sex"] == "Ensemble")]
        if bands.empty:
            return _Est(note="pas de ligne par classe d'âge dans l'extrait : taux standardisé impossible")
        if bands["masked"].any():
            tok = bands.loc[bands["masked"], "masked_token"].iloc[0]
            return _Est(masked=True, note=f"effectif masqué par le producteur dans une classe d'âge (« {tok} »)")
        res = dsr(bands.reset_index(drop=True), "numerator", "denominator", "age_group", stdpop="esp2013",
                  conf_level=confidence, multiplier=mult).iloc[0]
        note = "" if pd.notna(res["estimate"]) else str(res["note"])
        return _Est(res["estimate"], res["ci_low"], res["ci_high"], res["total_pop"], res["total_count"],
                    "Dobson (taux standardisé direct, population européenne 2013)", note=note)
    tot = rows[(rows["age_group"] == "Ensemble") & (rows["sex"] == "Ensemble")]
    if tot.empty:
        return _Est(note="pas de ligne « Ensemble » (tous âges, deux sexes) dans l'extrait")
    if tot["masked"].any():
        tok = tot.loc[tot["masked"], "masked_token"].iloc[0]
        return _Est(masked=True, note=f"valeur masquée par le producteur (secret statistique : « {tok} »)")
    x, n = tot["numerator"].sum(min_count=len(tot)), tot["denominator"].sum(min_count=len(tot))
    if pd.isna(x) or pd.isna(n) or n <= 0:
        if len(tot) == 1 and pd.notna(tot["value"].iloc[0]):
            v = float(tot["value"].iloc[0]) / (100.0 if unit == "%" else 1.0)
            return _Est(v, method="valeur publiée (sans effectifs : pas d'intervalle)",
                        note="effectifs absents de l'extrait : intervalle de confiance non calculable")
        return _Est(note="numérateur ou dénominateur absent de l'extrait")
    if method == "wilson" and 0 <= x <= n:    # one proportion: the limits directly
        return _Est(x / n * mult, wilson_lower(x, n, confidence) * mult,
                    wilson_upper(x, n, confidence) * mult, n, x, "Wilson (proportion)")
    df = pd.DataFrame({"x": [x], "n": [n]})
    if method == "wilson":                     # proportion_ci says what is wrong
        res = proportion_ci(df, "x", "n", conf_level=confidence, multiplier=mult).iloc[0]
        meth = "Wilson (proportion)"
    else:
        res = rate_ci(df, "x", "n", conf_level=confidence, multiplier=mult).iloc[0]
        meth = f"{res['method']} (taux brut)"
    return _Est(res["estimate"], res["ci_low"], res["ci_high"], n, x, meth)


def _sum_quartiers(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Add the quartiers' rows key by key (age band × sex); a masked part masks the sum."""
    allrows = pd.concat(parts, ignore_index=True)
    out = []
    for (age, sex), g in allrows.groupby(["age_group", "sex"], sort=False):
        complete = len(g) == len(parts)
        masked = bool(g["masked"].any()) or not complete
        out.append(dict(age_group=age, sex=sex, numerator=g["numerator"].sum(min_count=len(g)),
                        denominator=g["denominator"].sum(min_count=len(g)), value=np.nan, masked=masked,
                        masked_token=(g.loc[g["masked"], "masked_token"].iloc[0] if g["masked"].any()
                                      else "quartier manquant" if not complete else "")))
    return pd.DataFrame(out)


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
        rows = rows[rows["year"] == _latest_year(rows["year"])] if len(rows) else None
    for key, level in REFERENCE_LEVELS.items():
        ext = None
        if rows is not None and key in EXTRACT_REFERENCE_LEVELS:
            terr = _pick_territory(rows, level, city=project.ville if level == "commune" else None)
            if len(terr):
                method = indicator.method or ("wilson" if indicator.unit == "%" else "byar")
                ext = {"value": _extract_estimate(terr, indicator.unit, method, confidence).estimate,
                       "illustrative": bool(project.donnees_synthetiques), "source": "", "period": ""}
        choice = choose_reference(ext, references, code or indicator.id, level, fallback_code=indicator.id)
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


def _excluded_note(status: pd.Series, threshold: float) -> str:
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


def _questionnaire_rows(ind: Indicator, design: Design | None, frame: pd.DataFrame, codes: pd.DataFrame,
                        clean: pd.DataFrame,
                        catalogue: Catalogue, quartiers: list[str], ens: str, problem: str | None,
                        threshold: float) -> list[dict]:
    rows = {q: _blank_row(ind, q) for q in [*quartiers, ens]}
    if problem:
        for r in rows.values():
            r["note"] = problem
        return list(rows.values())
    try:
        var = indicator_variable(ind, codes, catalogue, clean)
    except EstimationError as exc:
        for r in rows.values():
            r["note"] = f"Non calculable : {exc}"
        return list(rows.values())
    col = "_y"
    design.data[col] = var["value"].to_numpy()
    is_mean = ind.statistic == "moyenne"
    in_quartier = {lab: (frame["_quartier"] == lab).to_numpy() for lab in quartiers}
    in_quartier[ens] = np.ones(len(frame), dtype=bool)
    for lab, mask in in_quartier.items():
        rows[lab]["note"] = _excluded_note(var["status"][mask], threshold)
    if var["value"].notna().any():
        for by in ("_quartier", None):
            if is_mean:
                res = design.mean(col, by=by)
                res["numerator"] = np.nan
            else:
                res = _level_one(design.proportion(col, ci_method="logit", missing=(), by=by))
            for _, r in res.iterrows():
                lab = r["domain"] if by else ens
                if lab not in rows or not r["n"] > 0:
                    continue
                method = ind.method_label
                if "repli" in str(r["method"]):
                    method += " (repli Korn-Graubard : p = 0 ou 1)"
                rows[lab].update(estimate=float(r["estimate"]), ci_low=float(r["ci_low"]),
                                 ci_high=float(r["ci_high"]), n=int(r["n"]),
                                 numerator=np.nan if is_mean else int(r["numerator"]),
                                 fragile=bool(r["fragile"]), status=CALCULATED, method=method)
        # each quartier against the rest of the surveyed quartiers (difference, t test)
        alpha = 1 - design.conf_level
        for _, c in design.domain_contrast(col, "_quartier").iterrows():
            if c["domain"] in rows and np.isfinite(c["difference"]):
                rows[c["domain"]].update(ref_reste=float(c["rest"]), p_reste=float(c["p_value"]),
                                         cmp_reste=compare_test(c["difference"], c["p_value"], alpha,
                                                                ind.direction))
    for r in rows.values():
        if r["status"] != CALCULATED:
            r["note"] = ("Non calculable : aucun répondant dans le dénominateur. " + r["note"]).strip()
    # Rao-Scott test of the difference between quartiers
    p = np.nan
    if not is_mean:
        y = design.data[col]
        if y.notna().any() and design.data.loc[y.notna(), "_quartier"].nunique() >= 2 and y.dropna().nunique() >= 2:
            try:
                p = float(design.chisq(col, "_quartier", missing=())["p_value"].iloc[0])
            except (EstimationError, np.linalg.LinAlgError, ValueError, ZeroDivisionError):
                p = np.nan
    for r in rows.values():
        r["p_rao_scott"] = p
    del design.data[col]
    return list(rows.values())


def _level_one(res: pd.DataFrame) -> pd.DataFrame:
    """Rows of level 1 of a 0/1 proportion table; when 1 never occurs, 1 − level 0."""
    lv = pd.to_numeric(res["level"], errors="coerce")
    one = res[lv == 1]
    zero = res[lv == 0].set_index("domain")
    if len(one):
        return one
    flip = zero.copy()
    flip["estimate"] = 1.0 - zero["estimate"]
    flip["ci_low"], flip["ci_high"] = 1.0 - zero["ci_high"], 1.0 - zero["ci_low"]
    flip["numerator"] = 0
    return flip.reset_index()


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
    year = _latest_year(d["year"])
    d = d[d["year"] == year]
    parts = []
    for q in project.quartiers:
        terr = _pick_territory(d, "QPV", code=q.qpv, label=q.libelle)
        parts.append(terr)
        rows[q.libelle].update(_est_to_row(_extract_estimate(terr, ind.unit, ind.method, confidence) if len(terr) else
                                           _Est(note=f"aucune ligne QPV pour {q.libelle} dans l'extrait"), year, project.effectif_fragile))
    if all(len(p) for p in parts):
        summed = _sum_quartiers(parts)
        est = _extract_estimate(summed, ind.unit, ind.method, confidence)
        if est.masked:
            # unknown to us as to the reader: a masked total protects the quartiers (no secondary
            # suppression is needed to hide a masked quartier behind it)
            est.note = "un quartier au moins est masqué dans l'extrait : la somme des quartiers est inconnue"
        rows[ens].update(_est_to_row(est, year, project.effectif_fragile))
    else:
        rows[ens].update(_est_to_row(_Est(note="un quartier au moins manque dans l'extrait"), year, project.effectif_fragile))
    return list(rows.values())


def _est_to_row(est: _Est, year: str, fragile_n: float = 30) -> dict:
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


def compute_indicators(codes: pd.DataFrame, margins: pd.DataFrame | None = None,
                       extracts: pd.DataFrame | None = None, references: pd.DataFrame | None = None, *,
                       project: Project | None = None, catalogue: Catalogue | None = None,
                       weights="calage", calibration=None, threshold: float | None = None,
                       protect: bool = True, counts: dict | None = None) -> pd.DataFrame:
    """Compute the indicator table (one row per quartier × indicator, plus the « Ensemble » rows).

    Parameters
    ----------
    codes : DataFrame
        Validated answers as numeric codes (``ValidationResult.codes``), one row per respondent;
        a table with French labels (``ValidationResult.data``) is converted by :func:`as_codes`.
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
    weights : {"calage", "egaux"} or Series
        ``"calage"``: raking within each quartier to the margins by age group and by sex;
        ``"egaux"``: every respondent weighs 1 (unweighted estimates); a Series: given weights
        (aligned on ``codes`` by index; respondents without a weight are left out).
    calibration : RakeResult or Calibration, optional
        With a Series of weights computed by :func:`diagnostics.stats.weighting.rake` on the same
        respondents (same order), gives calibration-adjusted variances.
    threshold : float, optional
        Publication threshold of the disclosure rules (default: the project's
        ``secret_statistique``).
    protect : bool, default True
        Apply :func:`diagnostics.protect.estimates.protect_indicators` (never switch it off for a table
        that leaves the machine).
    counts : dict, optional
        Filled with ``hors_quartiers`` and ``sans_age_sexe`` (respondents left out).

    Returns
    -------
    DataFrame
        Columns :data:`COLUMNS`; proportions on the 0–1 scale, rates in the catalogue's unit.

    Notes
    -----
    Questionnaire indicators: weighted proportion
    :math:`\\hat p_d = \\sum_{i \\in d} w_i y_i / \\sum_{i \\in d} w_i` over the domain :math:`d`
    (quartier ∩ denominator) of the full raked design, linearised variance with the calibration
    adjustment, logit interval :math:`\\mathrm{expit}(\\mathrm{logit}\\,\\hat p \\pm t\\,
    \\widehat{se}/(\\hat p(1-\\hat p)))` (R ``svyciprop(method = "logit")``); ``n`` and
    ``numerator`` are unweighted.  ``p_rao_scott`` is the second-order Rao-Scott F test of
    independence between the indicator and the quartier (R ``svychisq``).  Respondents
    without age group or sex cannot be raked and are left out of the weighted estimates (their
    number is in ``counts`` and ``table.attrs``).

    Against the other quartiers: ``ref_reste``, ``p_reste``, ``cmp_reste`` compare each quartier
    with the rest of the surveyed quartiers (:meth:`Design.domain_contrast`, t test at the
    confidence level).  Comparisons: :func:`diagnostics.stats.compare.compare_ci` of each quartier's interval with the
    « Ensemble » estimate and with each reference value (Fingertips rule), oriented by the
    catalogue's ``sens``.

    References
    ----------
    Lumley T. *Complex Surveys*, Wiley 2010 (domains, raking, ``svyciprop``);
    Rao JNK, Scott AJ. *Ann Stat* 1984;12:46-60; PHEindicatormethods (Wilson, Byar, Dobson).
    """
    project = project or load_project()
    catalogue = catalogue or load_catalogue()
    codes = as_codes(codes, catalogue)
    thr = float(project.secret_statistique if threshold is None else threshold)
    conf = float(project.niveau_confiance)
    quartiers = project.libelles
    ens = ensemble_label(len(quartiers))
    frame, cnt = survey_frame(codes, project, catalogue, margins)
    problem = None
    design = None
    if isinstance(weights, str) and weights == "calage":
        if margins is None:
            raise DLSError("Les marges de population sont nécessaires pour le calage des poids "
                           "(ou demandez des poids égaux : weights=\"egaux\").")
        m = _margins_frame(margins, project)
        frame = frame[frame["_groupe_age"].notna() & frame["_sexe"].notna()]
        if len(frame):
            res = rake(frame, {("_quartier", "_groupe_age"): m[["_quartier", "_groupe_age", "effectif"]],
                               ("_quartier", "_sexe"): m[["_quartier", "_sexe", "effectif"]]})
            design = Design(frame.copy(), calibration=res, fragile_n=project.effectif_fragile,
                            suppress_n=int(math.ceil(thr)), conf_level=conf,
                            domain_df="answers")
    else:
        cnt["sans_age_sexe"] = 0
        if isinstance(weights, str) and weights == "egaux":
            w = pd.Series(1.0, index=frame.index)
        elif isinstance(weights, pd.Series):
            w = pd.to_numeric(weights.reindex(frame.index), errors="coerce")
            frame = frame[w.notna().to_numpy()]
            w = w.dropna()
        else:
            raise DLSError(f"Pondération « {weights} » inconnue ; attendu « calage », « egaux » ou une série de poids.",
                           value=weights)
        if len(frame):
            cal = getattr(calibration, "calibration", calibration)
            if cal is not None and len(cal.weights) != len(frame):
                raise DLSError(f"Le calage fourni porte sur {len(cal.weights)} répondants, les poids sur "
                               f"{len(frame)} répondants des quartiers : attendu les mêmes répondants.")
            design = Design(frame.copy(), weights=w.to_numpy(), calibration=cal,
                            fragile_n=project.effectif_fragile, suppress_n=int(math.ceil(thr)), conf_level=conf,
                            domain_df="answers")
    if design is None:
        problem = "Non calculable : aucun répondant des quartiers étudiés avec un âge et un sexe connus."
    if counts is not None:
        counts.update(cnt)

    rows = []
    sub = codes.loc[frame.index]                 # the answers of the design's respondents
    clean = _clean_numeric(sub, catalogue)
    for ind in catalogue:
        if ind.source == "questionnaire":
            rows += _questionnaire_rows(ind, design, frame, sub, clean, catalogue, quartiers, ens, problem,
                                        thr)
        else:
            rows += _extract_rows(ind, extracts, project, quartiers, ens, conf)
    table = pd.DataFrame(rows, columns=COLUMNS)

    # references and comparisons
    for ind in catalogue:
        sel = table["indicator_id"] == ind.id
        refs = _reference_values(ind.reference, ind, extracts, references, project, conf)
        for key, val in refs.items():
            table.loc[sel, f"ref_{key}"] = val
        ens_est = table.loc[sel & (table["quartier"] == ens), "estimate"]
        ens_val = float(ens_est.iloc[0]) if len(ens_est) else np.nan
        for i in table.index[sel]:
            r = table.loc[i]
            if r["quartier"] != ens:
                table.at[i, "cmp_ensemble"] = compare_ci(r["estimate"], r["ci_low"], r["ci_high"], ens_val,
                                                         direction=ind.direction)
            for key in REFERENCE_LEVELS:
                table.at[i, f"cmp_{key}"] = compare_ci(r["estimate"], r["ci_low"], r["ci_high"],
                                                       r[f"ref_{key}"], direction=ind.direction)
    table["fragile"] = table["fragile"].astype(bool)
    table["suppressed"] = table["suppressed"].astype(bool)
    if protect:
        table = protect_indicators(table, threshold=thr, total_labels=(ens, *TOTAL_LABELS),
                                   survey_min=project.repondants_minimum)
        table = table[COLUMNS]
    table.attrs.update(seuil=thr, ensemble=ens, **cnt)
    return table.reset_index(drop=True)


# =========================================================================== files

def compute_from_files(reponses=None, marges=None, extraits=None, references=None, *, project=None,
                       catalogue=None) -> IndicatorInputs:
    """Read the input files (default: the embedded synthetic sample) and compute the table.

    Parameters
    ----------
    reponses, marges, extraits, references : path-like, optional
        Answers (any format of :mod:`diagnostics.collect.readers`), margins CSV (``;``), extract files
        (a path or a list) and reference values (YAML).  Defaults: the example project (``diagnostics.paths.EXAMPLE``) and
        ``references.yaml`` of the project, over the toolkit's published references
        (:mod:`diagnostics.collect.references`); ``extraits`` may be ``False`` to do without, and
        ``references=False`` drops every reference value (the project's and the toolkit's).
    """
    from ..collect.extracts import read_extracts
    from ..collect.references import load_references
    from ..collect.validation import validate

    reponses = Path(reponses) if reponses else DEFAULT_REPONSES
    marges = Path(marges) if marges else DEFAULT_MARGES
    if extraits is None:
        extraits = [DEFAULT_EXTRAITS]
    elif extraits is not False:
        extraits = [Path(p) for p in (extraits if isinstance(extraits, (list, tuple)) else [extraits])]
    project = project or load_project()
    if references is None:
        references = project.donnees.get("references") or None  # the toolkit's published set still applies
    catalogue = catalogue or load_catalogue()
    val = validate(reponses, catalogue.questionnaire, secret=get_secret(secret_path(project)))
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
