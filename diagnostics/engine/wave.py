"""The one indicator engine: the answers of a wave → one raked design → one estimate per indicator.

Every questionnaire estimate of the toolkit goes through these functions, in this order:

* :func:`survey_frame` — the respondents of the studied quartiers with their calibration cells
  (``quartier``, ``groupe_age``, ``sexe``);
* :func:`rake_wave` — the **only** call of the raking (:func:`diagnostics.stats.weighting.rake`):
  within each quartier, to the census margins by age group and by sex;
* :func:`prepare_wave` — the :class:`Wave`: one :class:`~diagnostics.stats.survey.Design` built
  once on the respondents and the respondent-level variable of every questionnaire indicator
  (:func:`indicator_variable`), never modified afterwards;
* :func:`estimate` — the tidy table of estimates per quartier (a domain of the full design, not a
  subset) and for the set of the quartiers; :func:`quartier_tests` — each quartier against the
  others (t test) and the Rao-Scott test of independence between the indicator and the quartier.

The indicator table (:func:`diagnostics.engine.indicators.compute_indicators`), the evolution
(:func:`diagnostics.engine.evolution.wave_estimates`), the fieldwork page
(:func:`diagnostics.engine.fieldwork.monitor`) and notebook 02 all call them.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..collect.values import normalise_label
from ..config.catalogue import Catalogue, Indicator
from ..config.project import Project
from ..errors import DLSError, EstimationError
from ..stats.rates import parse_age_band
from ..stats.scores import SCORES
from ..stats.survey import Design
from ..stats.weighting import rake

__all__ = ["FRAME_COLUMNS", "Wave", "age_groups", "as_codes", "clean_numeric", "ensemble_label", "estimate", "indicator_variable",
           "margins_frame", "prepare_wave", "quartier_tests", "rake_wave", "survey_frame"]

#: Columns of :func:`survey_frame`: the quartier and the two calibration cells.
FRAME_COLUMNS = ("quartier", "groupe_age", "sexe")
#: Columns of :func:`estimate`.
ESTIMATE_COLUMNS = ["quartier", "indicator_id", "estimate", "se", "ci_low", "ci_high", "n", "numerator", "df",
                    "fragile", "method"]
_NUMBER_WORDS = {2: "deux", 3: "trois", 4: "quatre", 5: "cinq", 6: "six", 7: "sept", 8: "huit", 9: "neuf",
                 10: "dix"}
_OPS = {">=": np.greater_equal, "<=": np.less_equal, ">": np.greater, "<": np.less, "==": np.equal}


def ensemble_label(n_quartiers: int) -> str:
    """Label of the aggregate row: « Ensemble des trois quartiers » for three quartiers."""
    return f"Ensemble des {_NUMBER_WORDS.get(n_quartiers, str(n_quartiers))} quartiers"


# =========================================================================== answers

def clean_numeric(codes: pd.DataFrame, catalogue: Catalogue) -> pd.DataFrame:
    """Copy of ``codes`` where the non-response codes of numeric questions are blanked.

    ``age`` answered « refus » (99) must not pass a filter such as ``age >= 65``.
    """
    out = codes.copy()
    for q in catalogue.questionnaire:
        if q.type in ("integer", "decimal") and q.name in out.columns and q.missing_codes:
            v = pd.to_numeric(out[q.name], errors="coerce")
            out[q.name] = v.mask(v.isin(q.missing_codes))
    return out


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


def _question_value(indicator: Indicator, codes: pd.DataFrame, catalogue: Catalogue):
    """``(value, valid, nsp)`` of a question-based indicator (see :func:`indicator_variable`)."""
    q = catalogue.questionnaire[indicator.question]
    absent = [c for c in q.columns if c not in codes.columns]
    if absent:
        raise EstimationError(f"la colonne « {absent[0]} » de la question « {q.name} » est absente des "
                              "réponses.", column=absent[0])
    nsp = pd.Series(False, index=codes.index)
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
    return value, valid, nsp


def _score_value(indicator: Indicator, codes: pd.DataFrame, catalogue: Catalogue):
    """``(value, valid, nsp)`` of a score-based indicator (see :func:`indicator_variable`)."""
    qn = catalogue.questionnaire
    spec = SCORES[indicator.score]
    value = spec.compute(codes).astype(float)
    items = codes[list(spec.items)].apply(pd.to_numeric, errors="coerce")
    miss = sorted({c for name in spec.items if name in qn.questions for c in qn[name].missing_codes} | {98, 99})
    valid = value.notna()
    return value, valid, ~valid & items.isin(miss).any(axis=1)


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
    clean = clean_numeric(codes, catalogue) if clean is None else clean
    idx = codes.index
    concerned = catalogue.population(indicator.id, clean)
    if indicator.score:
        value, valid, nsp = _score_value(indicator, codes, catalogue)
    else:
        value, valid, nsp = _question_value(indicator, codes, catalogue)
        concerned = concerned & catalogue.questionnaire.relevance(indicator.question, clean)
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


# =========================================================================== respondents and margins

def survey_frame(codes: pd.DataFrame, project: Project, catalogue: Catalogue,
                 margins: pd.DataFrame | None = None) -> tuple[pd.DataFrame, dict]:
    """Respondents of the studied quartiers, with their quartier label and calibration cells.

    Returns
    -------
    frame : DataFrame
        Index of ``codes`` restricted to the project's quartiers; columns ``quartier`` (label),
        ``groupe_age`` (label of the margins, NaN when the age is missing or refused) and
        ``sexe`` (``Femme`` / ``Homme``, NaN when unknown).
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
    frame = pd.DataFrame({"quartier": qcode[keep].map(by_code)}, index=codes.index[keep])
    clean = clean_numeric(codes.loc[keep], catalogue)
    age = pd.to_numeric(clean.get("age"), errors="coerce") if "age" in clean else pd.Series(np.nan, index=frame.index)
    frame["groupe_age"] = age_groups(margins, age) if margins is not None else pd.Series(
        np.nan, index=frame.index, dtype=object)
    sexe = (pd.to_numeric(codes.loc[keep, "sexe"], errors="coerce") if "sexe" in codes
            else pd.Series(np.nan, index=frame.index))
    frame["sexe"] = sexe.map({1: "Femme", 2: "Homme"})
    counts = {"hors_quartiers": int((~keep).sum()),
              "sans_age_sexe": int((frame["groupe_age"].isna() | frame["sexe"].isna()).sum())}
    return frame, counts


def age_groups(margins: pd.DataFrame, age: pd.Series) -> pd.Series:
    """The age group of the margins (``15-29``, …, ``75+``) of each age; NaN outside every group."""
    out = pd.Series(np.nan, index=age.index, dtype=object)
    for lab in pd.unique(margins["groupe_age"].astype(str)):
        lo, hi = parse_age_band(lab)
        out[(age >= lo) & (age <= hi)] = lab
    return out


def margins_frame(margins: pd.DataFrame, project: Project) -> pd.DataFrame:
    """The margins of the project's quartiers (``quartier`` as the project's label), checked.

    Raises
    ------
    DLSError
        A column is absent, or a quartier of the project has no row.
    """
    need = ["quartier", "groupe_age", "sexe", "effectif"]
    absent = [c for c in need if c not in margins.columns]
    if absent:
        raise DLSError(f"Les marges de population n'ont pas la colonne « {absent[0]} » ; colonnes attendues : "
                       f"{', '.join(need)}.", column=absent[0])
    m = margins.copy()
    m["quartier"] = m["quartier"].map(lambda v: _label_of(project, v))
    unknown = sorted(set(project.libelles) - set(m["quartier"]))
    if unknown:
        raise DLSError(f"Les marges de population n'ont aucune ligne pour le quartier « {unknown[0]} » ; une ligne "
                       "par quartier × groupe d'âge × sexe est attendue.", column="quartier", value=unknown[0])
    m = m[m["quartier"].isin(project.libelles)]
    m["sexe"] = m["sexe"].astype(str).str.strip().str.capitalize()
    return m


def _label_of(project: Project, v):
    """The project's label of quartier ``v`` (id, label or code); ``v`` itself when unknown."""
    try:
        return project.quartier(v).libelle
    except DLSError:
        return v


def rake_wave(frame: pd.DataFrame, margins: pd.DataFrame):
    """Rake the respondents of ``frame``, within each quartier, to the margins by age and by sex.

    The one place of the toolkit that rakes survey weights: the indicator table, the evolution,
    the fieldwork page and the notebooks call it (swapping the raking engine is a change here).

    Parameters
    ----------
    frame : DataFrame
        ``quartier, groupe_age, sexe`` of each respondent (no missing value).
    margins : DataFrame
        ``quartier, groupe_age, sexe, effectif`` (:func:`margins_frame`).

    Returns
    -------
    RakeResult
        Weights in the order of ``frame`` and the calibration kept for the variances.

    Notes
    -----
    Raking (iterative proportional fitting) on the two margins quartier × age group and
    quartier × sex: :math:`w_i \\leftarrow w_i N_{q,g} / \\sum_{j \\in (q,g)} w_j` in turn until
    both are reproduced (Deming & Stephan 1940; Lumley, *Complex Surveys*, 2010, §7.3).
    """
    cols = ["quartier", "groupe_age", "sexe", "effectif"]
    m = margins[cols]
    return rake(frame, {("quartier", "groupe_age"): m[["quartier", "groupe_age", "effectif"]],
                        ("quartier", "sexe"): m[["quartier", "sexe", "effectif"]]})


# =========================================================================== the wave

@dataclass(frozen=True)
class Wave:
    """One wave of the survey, ready to estimate (what :func:`prepare_wave` returns).

    Attributes
    ----------
    design : Design or None
        The design of the respondents that could be weighted; its data holds ``quartier,
        groupe_age, sexe`` and one column per questionnaire indicator (named by its id).
        ``None`` when nobody can be weighted (then ``problem`` says why).
    frame : DataFrame
        ``quartier, groupe_age, sexe`` of the design's respondents (index of the answers).
    status : DataFrame
        Per respondent and indicator: ``denominateur``, ``nsp_refus``, ``sans_reponse`` or
        ``hors_champ`` (:func:`indicator_variable`).
    errors : dict
        ``{indicator id: French reason}`` for the indicators the answers cannot compute.
    counts : dict
        ``hors_quartiers`` and ``sans_age_sexe`` (respondents left out of the design).
    ensemble : str
        Label of the set of the quartiers (« Ensemble des trois quartiers »).
    calibration : RakeResult or None
        The raking (weights in the order of ``frame``), when the weights were raked.
    problem : str or None
        Why nothing can be estimated.
    """

    design: Design | None
    frame: pd.DataFrame
    status: pd.DataFrame
    errors: dict = field(default_factory=dict)
    counts: dict = field(default_factory=dict)
    ensemble: str = ""
    calibration: object = None
    problem: str | None = None
    #: :func:`estimate`'s table per catalogue, computed once (the wave itself never changes)
    estimates: dict = field(default_factory=dict, repr=False, compare=False)


def _weights(frame, margins, project, weights, calibration):
    """``(frame, weights or None, calibration)`` of the design: raked, equal or given weights."""
    if isinstance(weights, str) and weights == "calage":
        if margins is None:
            raise DLSError("Les marges de population sont nécessaires pour le calage des poids "
                           "(ou demandez des poids égaux : weights=\"egaux\").")
        m = margins_frame(margins, project)
        frame = frame[frame["groupe_age"].notna() & frame["sexe"].notna()]
        return frame, None, (rake_wave(frame, m) if len(frame) else None)
    if isinstance(weights, str) and weights == "egaux":
        return frame, pd.Series(1.0, index=frame.index), None
    if not isinstance(weights, pd.Series):
        raise DLSError(f"Pondération « {weights} » inconnue ; attendu « calage », « egaux » ou une série de poids.",
                       value=weights)
    w = pd.to_numeric(weights.reindex(frame.index), errors="coerce")
    frame = frame[w.notna().to_numpy()]
    cal = getattr(calibration, "calibration", calibration)
    if len(frame) and cal is not None and len(cal.weights) != len(frame):
        raise DLSError(f"Le calage fourni porte sur {len(cal.weights)} répondants, les poids sur "
                       f"{len(frame)} répondants des quartiers : attendu les mêmes répondants.")
    return frame, w.dropna(), cal


def _variables(codes: pd.DataFrame, catalogue: Catalogue):
    """``(values, status, errors)`` of every questionnaire indicator on ``codes``."""
    clean = clean_numeric(codes, catalogue)
    values, status, errors = {}, {}, {}
    for ind in catalogue:
        if ind.source != "questionnaire":
            continue
        try:
            var = indicator_variable(ind, codes, catalogue, clean)
        except EstimationError as exc:
            errors[ind.id] = str(exc)
            continue
        except KeyError as exc:
            errors[ind.id] = f"la colonne « {exc.args[0]} » est absente des réponses."
            continue
        values[ind.id], status[ind.id] = var["value"], var["status"]
    return (pd.DataFrame(values, index=codes.index), pd.DataFrame(status, index=codes.index, dtype=object),
            errors)


def prepare_wave(codes: pd.DataFrame, margins: pd.DataFrame | None, project: Project, catalogue: Catalogue, *,
                 weights="calage", calibration=None, threshold: float | None = None) -> Wave:
    """The respondents of one wave, weighted, and the variable of every questionnaire indicator.

    Parameters
    ----------
    codes : DataFrame
        Validated answers as numeric codes (labels are converted by :func:`as_codes`).
    margins : DataFrame, optional
        ``quartier, groupe_age, sexe, effectif`` (:func:`diagnostics.collect.margins.read_margins`);
        required when ``weights="calage"``.
    project : Project
        Quartiers, thresholds and confidence level.
    catalogue : Catalogue
        The indicators.
    weights : {"calage", "egaux"} or Series
        ``"calage"``: :func:`rake_wave` (respondents without age group or sex are left out);
        ``"egaux"``: every respondent weighs 1; a Series: given weights aligned on ``codes`` by
        index (respondents without a weight are left out).
    calibration : RakeResult or Calibration, optional
        With a Series of weights: the raking that produced them (same respondents), for
        calibration-adjusted variances.
    threshold : float, optional
        Publication threshold (default ``seuils.secret_statistique``): the design's
        ``suppressed`` flag.

    Returns
    -------
    Wave
        The design is built once on the respondents and every indicator's variable, and never
        modified afterwards (each estimate reads its column).

    Notes
    -----
    Each quartier is a *domain* of the full design (Lumley 2010, §2.4): its estimate uses the
    respondents of every quartier for the variance, as R's ``svyby``.  Degrees of freedom of a
    domain's interval: those of its valid answers (``domain_df="answers"``).
    """
    codes = as_codes(codes, catalogue)
    thr = float(project.secret_statistique if threshold is None else threshold)
    frame, counts = survey_frame(codes, project, catalogue, margins)
    frame, w, cal = _weights(frame, margins, project, weights, calibration)
    if not (isinstance(weights, str) and weights == "calage"):
        counts["sans_age_sexe"] = 0
    ens = ensemble_label(len(project.quartiers))
    if not len(frame):
        return Wave(None, frame, pd.DataFrame(index=frame.index), {}, counts, ens, cal,
                    "Non calculable : aucun répondant des quartiers étudiés avec un âge et un sexe connus.")
    values, status, errors = _variables(codes.loc[frame.index], catalogue)
    clash = sorted(set(values.columns) & set(FRAME_COLUMNS))
    if clash:
        raise DLSError(f"L'indicateur « {clash[0]} » porte le nom d'une colonne du plan de sondage ; "
                       "un autre identifiant est attendu dans le catalogue.", value=clash[0])
    design = Design(pd.concat([frame, values], axis=1), weights=None if w is None else w.to_numpy(),
                    calibration=cal, fragile_n=project.effectif_fragile, suppress_n=int(math.ceil(thr)),
                    conf_level=float(project.niveau_confiance), domain_df="answers")
    return Wave(design, frame, status, errors, counts, ens, cal)


# =========================================================================== estimates

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


def _estimate_one(wave: Wave, ind: Indicator) -> list[dict]:
    design, rows = wave.design, []
    for by in ("quartier", None):
        if ind.statistic == "moyenne":
            res = design.mean(ind.id, by=by)
            res["numerator"] = np.nan
        else:
            res = _level_one(design.proportion(ind.id, ci_method="logit", missing=(), by=by))
        for _, r in res.iterrows():
            if not r["n"] > 0:
                continue
            rows.append({"quartier": r["domain"] if by else wave.ensemble, "indicator_id": ind.id,
                         "estimate": float(r["estimate"]), "se": float(r["se"]), "ci_low": float(r["ci_low"]),
                         "ci_high": float(r["ci_high"]), "n": int(r["n"]),
                         "numerator": np.nan if pd.isna(r["numerator"]) else int(r["numerator"]),
                         "df": float(r["df"]), "fragile": bool(r["fragile"]), "method": str(r["method"])})
    return rows


def estimate(wave: Wave, catalogue: Catalogue) -> pd.DataFrame:
    """Estimate every questionnaire indicator the wave can compute, per quartier and overall.

    Returns
    -------
    DataFrame
        Columns ``quartier, indicator_id, estimate, se, ci_low, ci_high, n, numerator, df,
        fragile, method``: one row per quartier (a domain of the full design) and one for the
        set of the quartiers (``wave.ensemble``) with at least one valid answer; ``n`` and
        ``numerator`` unweighted.  An indicator in ``wave.errors``, or without any valid
        answer, has no row.

    The table is computed once per wave and catalogue (the indicator table and the evolution
    read the same estimates); each call returns a copy.

    Notes
    -----
    Proportion :math:`\\hat p_d = \\sum_{i \\in d} w_i y_i / \\sum_{i \\in d} w_i`, linearised
    variance with the calibration adjustment, logit interval
    :math:`\\mathrm{expit}(\\mathrm{logit}\\,\\hat p \\pm t\\,\\widehat{se}/(\\hat p(1-\\hat p)))`
    (R ``svyciprop(method = "logit")``); means: R ``svymean`` with a t interval.
    """
    key = id(catalogue)
    if key not in wave.estimates or wave.estimates[key][0] is not catalogue:   # an id is only unique while alive
        rows = []
        if wave.design is not None:
            for ind in catalogue:
                if ind.id in wave.design.data.columns and ind.source == "questionnaire" \
                        and wave.design.data[ind.id].notna().any():
                    rows += _estimate_one(wave, ind)
        wave.estimates[key] = (catalogue, pd.DataFrame(rows, columns=ESTIMATE_COLUMNS))
    return wave.estimates[key][1].copy()


def quartier_tests(wave: Wave, ind: Indicator) -> tuple[pd.DataFrame, float]:
    """Each quartier against the rest of the surveyed quartiers, and the Rao-Scott test.

    Returns
    -------
    contrasts : DataFrame
        :meth:`Design.domain_contrast` (``domain``, ``estimate`` the difference, ``estimate_rest``,
        ``p_value`` …: t test of the difference between the quartier and the other quartiers
        together).
    p_rao_scott : float
        Second-order Rao-Scott F test of independence between the indicator and the quartier
        (R ``svychisq``); NaN for a mean, or when the test cannot be computed (fewer than two
        quartiers or answers with the indicator).
    """
    design = wave.design
    contrasts = design.domain_contrast(ind.id, "quartier")
    y = design.data[ind.id]
    p = np.nan
    if ind.statistic != "moyenne" and y.notna().any() and y.dropna().nunique() >= 2 \
            and design.data.loc[y.notna(), "quartier"].nunique() >= 2:
        try:
            p = float(design.chisq(ind.id, "quartier", missing=())["p_value"].iloc[0])
        except (EstimationError, np.linalg.LinAlgError, ValueError, ZeroDivisionError):
            p = np.nan
    return contrasts, p
