"""One result shape across the library's estimators (issue 11, lead's decision; issue 20).

Every public estimator takes its confidence level as ``conf_level`` (any float in (0, 1),
default 0.95) and answers a tidy table with at least the columns
``estimate, se, ci_low, ci_high, conf_level, method, n``; ``conf_level`` holds the float.
Column names are English identifiers (CONTRIBUTING.md, « Forme des résultats »).
"""
import inspect
import re

import numpy as np
import pandas as pd
import pytest

from diagnostics import impact
from diagnostics.results import DEPRECATED_COLUMNS_ATTR, KINDS, RESULT_COLUMNS, ROW_KEYS, covariance_of
from diagnostics.stats import rates, trends
from diagnostics.stats.quantiles import quantile
from diagnostics.stats.regression import glm, ttest
from diagnostics.stats.survey import Design, contrast

SHAPE = {"estimate", "se", "ci_low", "ci_high", "conf_level", "method", "n"}
LEVEL = 0.8   # outside the old 0.9–1 range of ``rates``: must work everywhere

PAIRS = pd.DataFrame({"avant": [1, 1, 0, 0, 1, 0, 1, 1, 0, 1],
                      "apres": [1, 1, 1, 1, 0, 1, 1, 1, 0, 1],
                      "m_avant": [10.1, 12.3, 9.8, 11.0, 13.4, 8.7, 10.0, 9.9, 12.1, 11.5],
                      "m_apres": [9.6, 11.1, 9.8, 10.2, 12.2, 8.9, 9.1, 9.0, 11.7, 11.9]})
TABLE = pd.DataFrame({"x": [12, 30], "n": [100, 120], "e": [10.5, 25.0]})
BANDS = pd.DataFrame({"age": ["0-14", "15-64", "65+"], "x": [15, 40, 60],
                      "n": [1000, 4000, 1000]})


def _frames():
    """(name, callable taking conf_level, result → DataFrame) for every public estimator."""
    return [
        ("rates.proportion_ci", rates.proportion_ci, lambda cl: rates.proportion_ci(TABLE, "x", "n", conf_level=cl)),
        ("rates.rate_ci", rates.rate_ci, lambda cl: rates.rate_ci(TABLE, "x", "n", conf_level=cl)),
        ("rates.count_ci", rates.count_ci, lambda cl: rates.count_ci(TABLE, "x", conf_level=cl)),
        ("rates.ratio_ci", rates.ratio_ci, lambda cl: rates.ratio_ci(TABLE, "x", "e", conf_level=cl)),
        ("rates.dsr", rates.dsr, lambda cl: rates.dsr(BANDS, "x", "n", "age", conf_level=cl)),
        ("impact.proportion", impact.proportion,
         lambda cl: impact.proportion(PAIRS, "apres", conf_level=cl).to_frame()),
        ("impact.paired_proportions", impact.paired_proportions,
         lambda cl: impact.paired_proportions(PAIRS, "avant", "apres", conf_level=cl).to_frame()),
        ("impact.paired_table", impact.paired_table,
         lambda cl: impact.paired_table(5, 1, 3, 1, conf_level=cl).to_frame()),
        ("impact.measure_change", impact.measure_change,
         lambda cl: impact.measure_change(PAIRS, "m_avant", "m_apres", conf_level=cl).to_frame()),
        ("trends.wave_difference", trends.wave_difference,
         lambda cl: trends.wave_difference((0.31, 0.02), (0.25, 0.015), conf_level=cl)),
        ("impact.measure_change.shares", impact.measure_change,
         lambda cl: impact.measure_change(PAIRS, "m_avant", "m_apres", conf_level=cl).shares),
    ]


@pytest.mark.parametrize("name,func,call", _frames(), ids=[f[0] for f in _frames()])
def test_argument_and_columns(name, func, call):
    param = inspect.signature(func).parameters.get("conf_level")
    assert param is not None and param.default == 0.95, name
    assert "confidence" not in inspect.signature(func).parameters, name
    out = call(LEVEL)
    assert SHAPE <= set(out.columns), (name, SHAPE - set(out.columns))
    assert (out["conf_level"] == LEVEL).all(), name            # the float, not « 80 % »
    assert not {"value", "lowercl", "uppercl", "estimation", "ic_bas", "ic_haut"} & set(out.columns)
    ok = out["estimate"].notna()
    assert (out.loc[ok, "ci_low"] <= out.loc[ok, "estimate"]).all()
    assert (out.loc[ok, "estimate"] <= out.loc[ok, "ci_high"]).all()


def test_wider_interval_at_higher_level():
    for name, _, call in _frames():
        lo80, lo99 = call(0.8), call(0.99)
        ok = lo80["estimate"].notna() & lo80["ci_low"].notna() & (lo80["n"] > 0)
        assert (lo99.loc[ok, "ci_low"] <= lo80.loc[ok, "ci_low"] + 1e-12).all(), name


APISTRAT = pd.read_csv(__import__("pathlib").Path(__file__).parent / "fixtures" / "r_survey" / "apistrat.csv")


def test_design_based_estimators_of_this_library():
    d = Design(APISTRAT, weights="pw", strata="stype")
    assert inspect.signature(quantile).parameters["conf_level"].default == 0.95
    for func, call in ((quantile, lambda cl: quantile(d, "api00", (0.25, 0.5), by="stype", conf_level=cl)),
                       (glm, lambda cl: glm(d, "api00 ~ ell + meals", conf_level=cl)),
                       (ttest, lambda cl: ttest(d, "api00", "comp.imp", conf_level=cl))):
        assert inspect.signature(func).parameters["conf_level"].default == 0.95
        out = call(LEVEL)
        assert SHAPE <= set(out.columns) and (out["conf_level"] == LEVEL).all(), func.__name__


def test_design_estimators_columns():
    d = Design(APISTRAT, weights="pw", strata="stype")
    for out in (d.mean("api00"), d.total("enroll"), d.ratio("api00", "api99"),
                d.proportion("sch.wide")):
        assert {"estimate", "se", "ci_low", "ci_high", "method", "n"} <= set(out.columns)
        assert np.isfinite(out["estimate"]).all()


def test_design_conf_level():
    assert "conf_level" in inspect.signature(Design).parameters
    d = Design(APISTRAT, weights="pw", strata="stype", conf_level=LEVEL)
    assert (d.mean("api00")["conf_level"] == LEVEL).all()


# --------------------------------------------------------------------------- one vocabulary
# issue 20: English snake_case column names in every result frame (French only in values such as
# ``label``/``note``, and in the display tables); ``statistic`` is a test's statistic (a number);
# ``kind`` says what the row estimates; renamed columns kept for one version are listed in
# ``frame.attrs["deprecated_columns"]`` (see diagnostics/results.py, CONTRIBUTING.md).
IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")
FRENCH = {"categorie", "personnes", "part", "mois", "nombre", "valeur", "libelle", "effectif",
          "taux", "borne_inf", "borne_sup", "ic_bas", "ic_haut", "methode", "estimation",
          "indicateur", "precision", "note_fr"}


def _every_result():
    """(name, frame) for every public estimator of the library (at its default level)."""
    d = Design(APISTRAT.assign(o1=(APISTRAT.api00 > 600).astype(int),
                               o2=(APISTRAT.api99 > 600).astype(int)), weights="pw", strata="stype")
    out = [(name, call(0.95)) for name, _, call in _frames()]
    out += [("Design.mean", d.mean("api00", by="stype")), ("Design.total", d.total("enroll")),
            ("Design.ratio", d.ratio("api00", "api99")), ("Design.proportion", d.proportion("sch.wide")),
            ("Design.multiple_choice", d.multiple_choice(["o1", "o2"])),
            ("Design.chisq", d.chisq("sch.wide", "stype")),
            ("Design.by.chisq", d.by("stype").chisq("sch.wide", "awards")),
            ("Design.domain_contrast", d.domain_contrast("api00", "stype")),
            ("contrast", contrast(d.mean("api00", by="stype"), {"E − H": {"E": 1, "H": -1}})),
            ("quantile", quantile(d, "api00", (0.25, 0.5))),
            ("glm", glm(d, "api00 ~ ell + meals")), ("ttest", ttest(d, "api00", "comp.imp")),
            ("trends.prop_trend_test", trends.prop_trend_test([83, 90, 129, 70], [86, 93, 136, 82])),
            ("impact.measure_change.to_frame",
             impact.measure_change(PAIRS, "m_avant", "m_apres").to_frame())]
    return out


@pytest.mark.parametrize("name,out", _every_result(), ids=[r[0] for r in _every_result()])
def test_one_vocabulary(name, out):
    assert set(RESULT_COLUMNS) <= set(out.columns), (name, set(RESULT_COLUMNS) - set(out.columns))
    deprecated = out.attrs.get(DEPRECATED_COLUMNS_ATTR, {})
    # inputs of the table verbs come back beside the results: here x, n, e, age (English already)
    for col in out.columns:
        assert IDENTIFIER.match(str(col)), (name, col)
        assert col not in FRENCH or col in deprecated, (name, col)
    for old, new in deprecated.items():          # an alias names a column that is there
        assert old in out.columns and new in out.columns, (name, old, new)
    if "statistic" in out.columns and "statistic" not in deprecated:
        assert pd.api.types.is_numeric_dtype(out["statistic"]), name
    if "kind" in out.columns:
        assert set(out["kind"]) <= set(KINDS), (name, set(out["kind"]) - set(KINDS))
    assert pd.api.types.is_numeric_dtype(out["conf_level"]), name


def test_count_kind_is_count_not_nombre():
    out = rates.count_ci(TABLE, "x")
    assert out["kind"].tolist() == ["count", "count"] and (out["multiplier"] == 1).all()
    assert out["estimate"].tolist() == [12, 30] and out["n"].isna().all()
    # « nombre » only in display code (and, until 0.2, in the deprecated column)
    from diagnostics.fmt import statistic_label
    assert statistic_label("count") == "nombre"
    assert statistic_label("rate", 100_000) == "taux pour 100\u202f000"
    assert statistic_label("proportion", 1) == "proportion"


def test_impact_dataclasses_name_limits_ci_low_ci_high():
    import dataclasses
    for cls in (impact.ProportionResult, impact.PairedResult, impact.WilcoxonResult):
        names = {f.name for f in dataclasses.fields(cls)}
        assert {"ci_low", "ci_high"} <= names and not {"lower", "upper"} & names, cls.__name__
    r = impact.paired_table(5, 1, 3, 1)
    assert r.to_frame().loc[2, ["ci_low", "ci_high"]].tolist() == [r.ci_low, r.ci_high]
    with pytest.warns(DeprecationWarning):
        assert (r.lower, r.upper) == (r.ci_low, r.ci_high)


def test_design_results_share_row_keys_and_keep_their_covariance():
    """Every design estimator, its contrasts and its tests name their rows the same way."""
    for name, out in _every_result():
        if name.startswith(("Design.", "contrast")):
            assert set(ROW_KEYS) <= set(out.columns), name
            assert {"df", "kind"} <= set(out.columns), name
    d = Design(APISTRAT, weights="pw", strata="stype")
    for out in (d.mean("api00", by="stype"), d.total("enroll"), d.ratio("api00", "api99"),
                d.proportion("sch.wide", by="stype")):
        V = covariance_of(out).of(out)
        assert np.allclose(np.sqrt(np.diag(V)), out["se"], rtol=1e-9)
        sub = out.iloc[::-1]                       # a reordered subset keeps its covariance
        assert np.allclose(np.sqrt(np.diag(covariance_of(sub).of(sub))), sub["se"], rtol=1e-9)


def test_a_contrast_row_describes_one_quantity():
    """issue 29: on apistrat, E against the rest: estimate and interval of the difference."""
    d = Design(APISTRAT, weights="pw", strata="stype")
    e = d.domain_contrast("api00", "stype").set_index("domain").loc["E"]
    assert e.kind == "difference" and e.ci_low < e.estimate < e.ci_high
    assert np.isclose(e.estimate, e.estimate_domain - e.estimate_rest)
    assert np.isclose(e.statistic, e.estimate / e.se)
