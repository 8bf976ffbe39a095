"""Evolution: the previous diagnostic and the extracts over the years.

* :func:`compute_evolution` compares each questionnaire indicator of each quartier with the
  previous diagnostic named in ``projet.yaml`` (:class:`diagnostics.config.previous.PreviousWave`):
  each wave is raked to its own margins (as :func:`diagnostics.engine.indicators.compute_indicators`),
  the difference of the two independent estimates has the standard error
  :math:`\\sqrt{SE_1^2 + SE_2^2}` (:func:`diagnostics.stats.trends.wave_difference`), and the verdict
  (« en amélioration », « stable », « en dégradation ») follows the indicator's direction.  An
  indicator built on a question that changed (``correspondance.modifiees``) or that the previous
  questionnaire did not ask is « non comparable », never compared.
* :func:`extract_series` gives, per quartier and extract indicator, the values of every year of
  the extracts and a trend test: chi-square for trend of proportions
  (:func:`~diagnostics.stats.trends.prop_trend_test`), Poisson regression on the year for rates
  (:func:`~diagnostics.stats.trends.poisson_trend_test`), read as Fingertips reads a recent trend.
"""
from __future__ import annotations

import math
import re
import warnings

import numpy as np
import pandas as pd

from ..config.catalogue import Catalogue, load_catalogue
from ..config.project import Project
from ..errors import DLSError, EstimationError
from ..collect.margins import read_margins
from ..stats.compare import EVOLUTION_WORDS, compare_test
from ..stats.scores import SCORES
from ..stats import distributions as dist
from ..stats.trends import poisson_trend_test, prop_trend_test, wave_difference
from .extract_estimates import Territories, extract_estimate
from .wave import Wave, estimate, prepare_wave

__all__ = [
    "EVOLUTION_COLUMNS",
    "SERIES_COLUMNS",
    "TREND_COLUMNS",
    "adjust_evolution",
    "compute_evolution",
    "evolution_estimates",
    "evolution_verdict",
    "extract_series",
    "read_previous_wave",
    "wave_estimates",
]

NOT_COMPARABLE = "non comparable"
#: A difference that rests on too few respondents with the characteristic: values shown, no verdict.
TOO_FEW = "non testé"
UP, DOWN = "en hausse", "en baisse"

EVOLUTION_COLUMNS = ["quartier", "indicator_id", "label", "dimension", "unit", "direction", "previous_year",
                     "estimate", "estimate_previous", "ci_low_previous", "ci_high_previous", "n_previous",
                     "difference", "diff_ci_low", "diff_ci_high", "p_value", "p_adjusted", "verdict", "note",
                     "count", "count_previous"]
SERIES_COLUMNS = ["quartier", "indicator_id", "year", "estimate", "ci_low", "ci_high", "numerator",
                  "denominator", "masked"]
TREND_COLUMNS = ["quartier", "indicator_id", "label", "unit", "direction", "years", "first_year", "last_year",
                 "method", "statistic", "p_value", "slope", "trend", "verdict"]


def evolution_verdict(difference: float, p_value: float, direction: str, alpha: float = 0.05) -> str:
    """« en amélioration / pas d'écart significatif / en dégradation » from a difference and its test.

    A change whose two-sided p-value (adjusted for the number of tests, :func:`adjust_evolution`)
    is not below ``alpha`` is « pas d'écart significatif » (not « stable »: with about a hundred
    respondents per wave, a real change of a few points goes undetected); otherwise a rise is
    an improvement when ``direction == "hausse_favorable"``, a worsening when
    ``"hausse_defavorable"``; for a ``"neutre"`` indicator the verdict only says « en hausse » or
    « en baisse ». The rule is the one of the quartier against the rest (:func:`compare_test`),
    in the evolution's words (:data:`EVOLUTION_WORDS`).
    """
    return compare_test(difference, p_value, alpha, direction, words=EVOLUTION_WORDS)


def _questions_of(ind, catalogue: Catalogue) -> set[str]:
    """Questionnaire variables an indicator reads (question, score items, filter)."""
    names = {q.name for q in catalogue.questionnaire}
    used = set()
    if ind.question:
        used.add(ind.question)
    if ind.score and ind.score in SCORES:
        used.update(SCORES[ind.score].items)
    if ind.filter:
        used.update(w for w in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", ind.filter) if w in names)
    return used


def _question_labels(names, catalogue: Catalogue) -> str:
    """« « Vous sentez-vous en sécurité… » » for a set of question names (never the internal name)."""
    out = []
    for name in sorted(names):
        try:
            out.append(f"« {catalogue.questionnaire[name].label} »")
        except (KeyError, TypeError):
            out.append("une question du questionnaire")
    return ", ".join(dict.fromkeys(out))


def wave_estimates(codes: pd.DataFrame, margins: pd.DataFrame, project: Project, catalogue: Catalogue) -> pd.DataFrame:
    """Estimate and SE of every questionnaire indicator, per quartier, for one wave.

    The wave goes through the one indicator engine (:func:`diagnostics.engine.wave.prepare_wave`,
    :func:`~diagnostics.engine.wave.estimate`): raked within each quartier to its own margins by
    age group and by sex, the quartiers are domains of the wave's design, as in the indicator
    table (same estimates).

    Returns
    -------
    DataFrame
        ``quartier, indicator_id, estimate, se, ci_low, ci_high, n, df, count`` (``count``: the
        unweighted respondents with the characteristic of a proportion, NaN for a mean); an
        indicator the wave cannot compute (question absent…) has no row.
    """
    return evolution_estimates(prepare_wave(codes, margins, project, catalogue), catalogue)


def evolution_estimates(wave: Wave, catalogue: Catalogue) -> pd.DataFrame:
    """:func:`wave_estimates` of a wave already prepared (the current one, raked in notebook 2).

    The estimates are those of the indicator table (:func:`diagnostics.engine.wave.estimate`,
    computed once per wave), so that a printed difference is the printed value minus the
    previous one.
    """
    if wave.design is None:
        raise EstimationError("aucun répondant des quartiers étudiés avec un âge et un sexe connus dans cette "
                              "vague ; des réponses avec l'âge et le sexe étaient attendues.")
    est = estimate(wave, catalogue).rename(columns={"numerator": "count"})
    return est[["quartier", "indicator_id", "estimate", "se", "ci_low", "ci_high", "n", "df", "count"]]


def read_previous_wave(project: Project, catalogue: Catalogue, secret: bytes | None = None) -> pd.DataFrame:
    """The previous diagnostic's estimates, in the current names (``quartier, indicator_id, estimate,
    se, ci_low, ci_high, n``).

    With answers: they are validated against *their* questionnaire, renamed and recoded by
    ``correspondance``, then raked to *their* margins (:func:`wave_estimates`).  With a published
    table only: its values; a missing SE is recovered from the interval,
    :math:`SE = (b_{haut} - b_{bas}) / (2 z_{0,975})` (symmetric normal interval assumed).
    """
    prev = project.precedent
    if prev is None:
        raise DLSError("Aucun diagnostic précédent n'est déclaré dans projet.yaml (section « precedent »).")
    if prev.tableau is not None:
        return _read_previous_table(prev.tableau, project, catalogue)
    from ..collect.validation import validate
    from ..config.questionnaire import load_questionnaire

    qn = load_questionnaire(prev.questionnaire)
    val = validate(prev.reponses, qn, secret=secret)
    codes = val.codes.copy()
    multi = {q.name for q in qn if q.type == "multiple"}
    ren = {}
    for old, new in prev.questions.items():
        ren[old] = new
        if old in multi:
            ren.update({c: new + c[len(old):] for c in codes.columns if c.startswith(old + "_")})
    codes = codes.rename(columns=ren)
    for q, mapping in prev.codes.items():
        if q in codes.columns:
            v = pd.to_numeric(codes[q], errors="coerce")
            codes[q] = v.map(lambda c, m=mapping: m.get(int(c), c) if pd.notna(c) else c)
    return wave_estimates(codes, read_margins(prev.marges), project, catalogue)


def _read_previous_table(path, project: Project, catalogue: Catalogue) -> pd.DataFrame:
    try:
        t = pd.read_csv(path, sep=";", decimal=",", encoding="utf-8-sig", dtype={"quartier": str,
                                                                               "indicateur": str})
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise DLSError(f"Le tableau du diagnostic précédent « {path} » n'a pas pu être lu : {exc}.",
                       file=path) from exc
    need = ["quartier", "indicateur", "estimation", "effectif"]
    for c in need:
        if c not in t.columns:
            raise DLSError(f"Tableau du diagnostic précédent « {path.name} » : la colonne « {c} » manque ; "
                           "attendu quartier; indicateur; estimation; ic_bas; ic_haut (ou erreur_type); effectif.",
                           file=path, column=c)
    units = {i.id: i.unit for i in catalogue}
    z = dist.norm_ppf(0.975)
    rows, dropped = [], {}
    for i, r in t.iterrows():
        line = i + 2
        ind = str(r["indicateur"]).strip()
        if ind not in units:  # an indicator the catalogue dropped since: no evolution, said once
            dropped.setdefault(ind, []).append(line)
            continue
        scale = 100.0 if units[ind] == "%" else 1.0
        est = pd.to_numeric(r["estimation"], errors="coerce")
        se = pd.to_numeric(r.get("erreur_type"), errors="coerce")
        lo, hi = (pd.to_numeric(r.get(c), errors="coerce") for c in ("ic_bas", "ic_haut"))
        if pd.isna(est) or (pd.isna(se) and (pd.isna(lo) or pd.isna(hi))):
            raise DLSError(f"Tableau du diagnostic précédent « {path.name} », ligne {line} : une estimation et son "
                           "erreur type ou son intervalle (ic_bas, ic_haut) étaient attendus.", file=path, row=line)
        se = se if pd.notna(se) else (hi - lo) / (2 * z)
        rows.append({"quartier": str(r["quartier"]).strip(), "indicator_id": ind, "estimate": est / scale,
                     "se": se / scale, "ci_low": (lo if pd.notna(lo) else est - z * se * scale) / scale,
                     "ci_high": (hi if pd.notna(hi) else est + z * se * scale) / scale,
                     "n": pd.to_numeric(r["effectif"], errors="coerce"), "df": np.nan})
    if dropped:
        warnings.warn(f"Tableau du diagnostic précédent « {path.name} » : {len(dropped)} indicateur(s) absent(s) "
                      "du catalogue actuel, sans évolution calculée : " + " ; ".join(
                          f"« {k} » (ligne{'s' if len(v) > 1 else ''} {', '.join(map(str, v))})"
                          for k, v in dropped.items()) + ".", UserWarning, stacklevel=2)
    return pd.DataFrame(rows)


def compute_evolution(table: pd.DataFrame, current: pd.DataFrame, previous: pd.DataFrame, project: Project,
                      catalogue: Catalogue | None = None) -> pd.DataFrame:
    """Per quartier × questionnaire indicator: previous value, difference, CI, test and verdict.

    Parameters
    ----------
    table : DataFrame
        The published indicator table (after the disclosure rules): a value it masks is not
        compared, a previous value on fewer respondents than the secrecy threshold is not shown.
    current, previous : DataFrame
        :func:`wave_estimates` of the current wave and :func:`read_previous_wave`.
    project : Project
        With its ``precedent`` (questions changed) and confidence level.

    Returns
    -------
    DataFrame
        Columns :data:`EVOLUTION_COLUMNS`; ``difference`` = current − previous with its normal
        interval, two-sided ``p_value`` (z test), ``verdict`` of :func:`evolution_verdict` or
        « non comparable » (the ``note`` says why).

    Notes
    -----
    The two waves are independent samples: :math:`SE(\\hat\\Delta) = \\sqrt{SE_1^2 + SE_2^2}`
    (Kish 1965, §12.10), each SE from its own raked design (Lumley 2010).
    """
    catalogue = catalogue or load_catalogue()
    prev = project.precedent
    changed = set(prev.modifiees) if prev else set()
    inds = [i for i in catalogue if i.source == "questionnaire"]
    order = {ind.id: k for k, ind in enumerate(inds)}
    t = table[table["indicator_id"].isin(order)]
    t = t.iloc[np.argsort(t["indicator_id"].map(order).to_numpy(), kind="stable")]
    meta = pd.DataFrame([{"indicator_id": i.id, "label": i.label, "dimension": i.dimension, "unit": i.unit,
                          "direction": i.direction, "_changed": _changed_note(i, changed, prev, catalogue)}
                         for i in inds])
    out = t[["quartier", "indicator_id", "estimate"]].merge(meta, on="indicator_id", how="left")
    out["_unpublished"] = (t["suppressed"].fillna(False).astype(bool).to_numpy() if "suppressed" in t
                           else False) | out["estimate"].isna()
    keys = ["quartier", "indicator_id"]
    cur = current[[*keys, "estimate", "se", "count"] if "count" in current else [*keys, "estimate", "se"]]
    old = previous[[c for c in [*keys, "estimate", "se", "ci_low", "ci_high", "n", "count"] if c in previous]]
    out = out.merge(cur.rename(columns=lambda c: c if c in keys else f"_{c}_cur"), on=keys, how="left",
                    indicator="_in_cur")
    out = out.merge(old.rename(columns=lambda c: c if c in keys else f"_{c}_old"), on=keys, how="left",
                    indicator="_in_old")
    return adjust_evolution(_evolution_rows(out, project), project)


def _changed_note(ind, changed: set, prev, catalogue: Catalogue) -> str:
    """« question modifiée depuis … (« … ») » when the indicator reads a question changed since, else ""."""
    qs = _questions_of(ind, catalogue) & changed
    return f"question modifiée depuis le {prev.libelle} ({_question_labels(qs, catalogue)})" if qs else ""


def _evolution_rows(m: pd.DataFrame, project: Project) -> pd.DataFrame:
    """The evolution rows from the table rows merged with both waves' estimates (one pass, first rule wins).

    In order: a value not published is not compared; a changed question, an indicator absent from
    either wave, or fewer than the secrecy threshold of respondents in the previous wave make the
    row « non comparable »; the rest get the difference and its test (:func:`wave_difference`).
    """
    prev = project.precedent
    thr = project.secret_statistique
    out = pd.DataFrame({c: np.nan for c in EVOLUTION_COLUMNS}, index=m.index).astype(object)
    for c in ("quartier", "indicator_id", "label", "dimension", "unit", "direction", "estimate"):
        out[c] = m[c]
    out["previous_year"] = prev.annee if prev else ""
    out["verdict"], out["note"] = "", ""
    absent = (m["_in_cur"] != "both") | (m["_in_old"] != "both")
    few = ~absent & m["_n_old"].notna() & (m["_n_old"] < thr)
    rules = [(m["_unpublished"], "", "valeur actuelle non publiée ou non calculable"),
             (m["_changed"] != "", NOT_COMPARABLE, m["_changed"]),
             (absent, NOT_COMPARABLE, f"indicateur absent du {prev.libelle}" if prev else ""),
             (few, NOT_COMPARABLE, f"moins de {thr} répondants au {prev.libelle}" if prev else "")]
    done = pd.Series(False, index=m.index)
    for cond, verdict, note in rules:
        sel = cond.astype(bool) & ~done
        out.loc[sel, "verdict"] = verdict
        out.loc[sel, "note"] = note[sel] if isinstance(note, pd.Series) else note
        done |= sel
    out.loc[m["_unpublished"].astype(bool), "estimate"] = np.nan
    ok = ~done
    if ok.any():
        d = wave_difference(pd.DataFrame({"estimate": m.loc[ok, "_estimate_cur"], "se": m.loc[ok, "_se_cur"]}),
                            pd.DataFrame({"estimate": m.loc[ok, "_estimate_old"], "se": m.loc[ok, "_se_old"]}),
                            conf_level=float(project.niveau_confiance))
        d.index = m.index[ok]
        pairs = {"estimate_previous": m["_estimate_old"], "ci_low_previous": m["_ci_low_old"],
                 "ci_high_previous": m["_ci_high_old"], "n_previous": m["_n_old"],
                 "difference": d["estimate"], "diff_ci_low": d["ci_low"], "diff_ci_high": d["ci_high"],
                 "p_value": d["p_value"], "count": m.get("_count_cur"), "count_previous": m.get("_count_old")}
        for col, values in pairs.items():
            out.loc[ok, col] = values[ok] if values is not None else np.nan
    return _typed(out.reset_index(drop=True))


def _typed(out: pd.DataFrame) -> pd.DataFrame:
    """Number columns back to floats (the frame was filled as objects)."""
    text = {"quartier", "indicator_id", "label", "dimension", "unit", "direction", "previous_year", "verdict", "note"}
    for c in out.columns:
        if c not in text:
            out[c] = pd.to_numeric(out[c], errors="coerce").astype(float)
    return out


def adjust_evolution(evolution: pd.DataFrame, project: Project) -> pd.DataFrame:
    """Verdicts of the wave differences under false discovery rate control, one report at a time.

    The tests of one quartier (the changes its report prints) are adjusted together with the
    Benjamini–Hochberg procedure (:func:`diagnostics.stats.compare.adjust_bh`; the « Ensemble »
    rows form their own family); ``verdict`` follows the adjusted p-value.  A difference that
    rests on fewer than ``seuils.secret_statistique`` respondents with the characteristic in
    either wave gets no verdict (« non testé »): it stays in the table, with its values.

    Returns
    -------
    DataFrame
        ``evolution`` with ``p_adjusted`` and ``verdict`` filled (rows already « non comparable »
        unchanged).

    Notes
    -----
    :math:`q_{(i)} = \\min_{j \\ge i} m\\,p_{(j)} / j` over the :math:`m` tests of the quartier;
    verdict when :math:`q < \\alpha`, :math:`\\alpha = 1 -` the confidence level.

    References
    ----------
    Benjamini Y., Hochberg Y. (1995), *JRSS B* 57(1), 289–300.
    """
    from ..stats.compare import adjust_bh

    out = evolution.copy()
    if out.empty:
        return out
    alpha = 1 - float(project.niveau_confiance)
    thr = project.secret_statistique
    few = (out["count"] < thr) | (out["count_previous"] < thr)
    tested = out["p_value"].notna() & (out["verdict"] != NOT_COMPARABLE) & ~few
    out["p_adjusted"] = np.nan
    for _, idx in out[tested].groupby("quartier", sort=False).groups.items():
        out.loc[idx, "p_adjusted"] = adjust_bh(out.loc[idx, "p_value"].to_numpy())
    dirs = out["direction"].astype(str)
    for i in out.index[tested]:
        out.at[i, "verdict"] = evolution_verdict(out.at[i, "difference"], out.at[i, "p_adjusted"], dirs[i], alpha)
    sel = out["p_value"].notna() & (out["verdict"] != NOT_COMPARABLE) & few
    out.loc[sel, "verdict"] = TOO_FEW
    out.loc[sel, "note"] = (f"moins de {thr} répondants concernés dans l'une des deux enquêtes : "
                            "écart non testé")
    return out


def extract_series(extracts: pd.DataFrame | None, project: Project, catalogue: Catalogue | None = None,
                   min_years: int = 5, recent: int = 5) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Yearly values of each extract indicator per quartier, and the trend over the years.

    Parameters
    ----------
    extracts : DataFrame
        ``ExtractResult.data`` (:func:`diagnostics.collect.extracts.read_extracts`).
    min_years : int, default 5
        Fewest unmasked years for a trend test (Fingertips: five points).
    recent : int, default 5
        The trend is tested on the most recent ``recent`` unmasked years (Fingertips: five).

    Returns
    -------
    series : DataFrame
        Columns :data:`SERIES_COLUMNS`, one row per quartier × indicator × year.
    trends : DataFrame
        Columns :data:`TREND_COLUMNS`, one row per quartier × indicator with at least
        ``min_years`` unmasked years: the test on the ``recent`` latest ones (chi-square for trend of the proportions, Poisson
        regression of the cases on the year for rates, on the crude counts summed over the age
        bands), ``trend`` « en hausse / en baisse / pas d'évolution significative » and the
        ``verdict`` by the indicator's direction.

    Notes
    -----
    As Fingertips' « recent trend » markers: at least five yearly points, the test on the most
    recent five, the arrow up or down coloured by the indicator's polarity, « no significant
    change » otherwise.  Fingertips tests proportions with a chi-square test for trend, as here;
    for rates it uses a weighted regression on the values and their intervals, where this toolkit
    (which has the counts) fits a Poisson regression of the counts on the year.

    References
    ----------
    Office for Health Improvement and Disparities, *Fingertips trend markers*, Public health
    technical guidance, https://fingertips.phe.org.uk/static-reports/public-health-technical-guidance/Presentation/Trend_markers.html
    (read 2026).
    """
    catalogue = catalogue or load_catalogue()
    conf = float(project.niveau_confiance)
    series, trends = [], []
    if extracts is None or extracts.empty:
        return pd.DataFrame(columns=SERIES_COLUMNS), pd.DataFrame(columns=TREND_COLUMNS)
    for ind in catalogue:
        if ind.source == "questionnaire":
            continue
        d = extracts[extracts["indicator_id"] == ind.extract_code]
        if d.empty:
            continue
        territories = Territories(d, "QPV")
        for q in project.quartiers:
            terr = territories.pick(code=q.qpv, label=q.libelle)
            years = []
            for year, rows in sorted(terr.groupby(terr["year"].astype(str)), key=lambda x: x[0]):
                est = extract_estimate(rows, ind.unit, ind.method, conf)
                tot = rows[(rows["age_group"] == "Ensemble") & (rows["sex"] == "Ensemble")]
                if ind.method == "dsr" or tot.empty:
                    tot = rows[(rows["age_group"] != "Ensemble") & (rows["sex"] == "Ensemble")]
                num = pd.to_numeric(tot["numerator"], errors="coerce")
                den = pd.to_numeric(tot["denominator"], errors="coerce")
                masked = bool(est.masked) or tot.empty or bool(tot["masked"].any()) or num.isna().any() \
                    or den.isna().any()
                series.append({"quartier": q.libelle, "indicator_id": ind.id, "year": year,
                               "estimate": est.estimate, "ci_low": est.ci_low, "ci_high": est.ci_high,
                               "numerator": np.nan if masked else float(num.sum()),
                               "denominator": np.nan if masked else float(den.sum()), "masked": masked})
                if not masked and pd.notna(est.estimate):
                    years.append((year, float(num.sum()), float(den.sum())))
            if len(years) < min_years:
                continue
            years = years[-recent:]
            y = np.array([_year_number(v[0]) for v in years])
            x = np.array([v[1] for v in years])
            n = np.array([v[2] for v in years])
            try:
                if ind.unit == "%":
                    r = prop_trend_test(x, n, y).iloc[0]
                else:
                    r = poisson_trend_test(x, n, y, conf_level=conf).iloc[0]
            except EstimationError:
                continue
            p, slope = float(r["p_value"]), float(r["estimate"])
            trend = "pas d'évolution significative" if p >= 1 - conf else (UP if slope > 0 else DOWN)
            trends.append({"quartier": q.libelle, "indicator_id": ind.id, "label": ind.label, "unit": ind.unit,
                           "direction": ind.direction, "years": len(years), "first_year": years[0][0],
                           "last_year": years[-1][0], "method": r["method"], "statistic": float(r["statistic"]),
                           "p_value": p, "slope": slope, "trend": trend,
                           "verdict": evolution_verdict(slope, p, ind.direction, 1 - conf)})
    return pd.DataFrame(series, columns=SERIES_COLUMNS), pd.DataFrame(trends, columns=TREND_COLUMNS)


def _year_number(year: str) -> float:
    """2021 for « 2021 », the middle 2020 for « 2019-2021 »."""
    nums = [float(v) for v in re.findall(r"\d{4}", str(year))]
    return sum(nums) / len(nums) if nums else math.nan
