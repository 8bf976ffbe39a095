"""Each domain against the rest of the domains (issues 17 and 29), against R's survey 4.1.

Reference values: tests/fixtures/r_survey/domain_contrast.csv, written by
tests/fixtures/r_survey/domain_contrast.R (R 4.2, survey 4.1.1: ``svyratio(covmat = TRUE)`` +
``svycontrast``, checked there against ``svyby(covmat = TRUE)`` + ``svycontrast``, and
``svyttest``) on R's ``api`` data: apiclus1 and apiclus1 raked on stype and sch.wide; and
tests/fixtures/r_survey/domain_contrast_df.csv, written by domain_contrast_df.R (R 4.2.2,
survey 4.1.1: ``svyttest`` on the valid answers, equal to ``svyttest`` on
``subset(design, !is.na(y))``, for scattered missing answers and filtered subpopulations).
"""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from diagnostics.errors import DLSError
from diagnostics.stats import weighting as wt
from diagnostics.stats.survey import Design, contrast

FIX = Path(__file__).parent / "fixtures" / "r_survey"
REF = pd.read_csv(FIX / "domain_contrast.csv", keep_default_na=False)
REF["value"] = REF["value"].astype(float)
REF_DF = pd.read_csv(FIX / "domain_contrast_df.csv", keep_default_na=False)
REF_DF["value"] = REF_DF["value"].astype(float)


def with_subpopulations(df):
    """The variables of domain_contrast_df.R (a question answered by some schools only)."""
    df = df.copy()
    df["api00na"] = np.where((np.arange(len(df)) + 1) % 7 == 0, np.nan, df["api00"])
    df["api00no"] = df["api00"].where(df["sch.wide"] == "No")
    df["api00aw"] = df["api00"].where(df["awards"] == "Yes")
    df["ellaw"] = (df["ell"] > 20).astype(float).where(df["awards"] == "Yes")
    df["tier"] = np.where(df["api99"] < 600, "a", np.where(df["api99"] < 750, "b", "c"))
    return df


CLUS = with_subpopulations(pd.read_csv(FIX / "apiclus1.csv"))
CLUS["award"] = (CLUS["awards"] == "Yes").astype(float)
STRAT = with_subpopulations(pd.read_csv(FIX / "apistrat.csv"))
POP_TYPES = {"E": 4421.0, "H": 755.0, "M": 1018.0}
POP_SCHWIDE = {"No": 1072.0, "Yes": 5122.0}


def make(name):
    if name == "strat":
        return Design(STRAT, weights="pw", strata="stype", fpc="fpc")
    if name == "clus1":
        return Design(CLUS, weights="pw", cluster="dnum", fpc="fpc")
    rk = wt.rake(CLUS, {"stype": POP_TYPES, "sch.wide": POP_SCHWIDE}, weight="pw")
    return Design(CLUS, cluster="dnum", fpc="fpc", calibration=rk)


@pytest.mark.parametrize("dn", ["clus1", "clus1_rake"])
@pytest.mark.parametrize("var", ["api00", "award", "api00na"])
def test_domain_against_rest_matches_r(dn, var):
    got = make(dn).domain_contrast(var, by="stype").set_index("domain")
    assert list(got.index) == ["E", "H", "M"]
    ref = REF[REF.case == f"{dn}:{var}"]
    checked = 0
    for _, r in ref.iterrows():
        col = {"t": "statistic", "p": "p_value", "estimate": "estimate_domain",
               "rest": "estimate_rest", "difference": "estimate"}.get(r.stat, r.stat)
        assert np.isclose(got.at[r.domain, col], r.value, rtol=1e-6, atol=0), (dn, var, r.domain, r.stat)
        checked += 1
    assert checked == (12 if var == "api00na" else 21)
    g = got.loc["E"]
    assert g.ci_low < g.estimate < g.ci_high          # the interval of the difference
    assert g.difference == g.estimate and g.rest == g.estimate_rest   # deprecated aliases


def test_contrast_view_and_covariance_matter():
    d = make("clus1_rake")
    a = d.by("stype").contrast("api00").set_index("domain")
    b = d.domain_contrast("api00", "stype").set_index("domain")
    assert np.allclose(a["se"], b["se"])
    # the SE is not the one of two independent means: the covariance is in it
    m = d.mean("api00", by="stype").set_index("domain")
    assert not np.isclose(b.at["E", "se"], m.at["E", "se"])


CASES_DF = sorted(set(REF_DF["case"]))


@pytest.mark.parametrize("case", CASES_DF)
def test_test_uses_the_degrees_of_freedom_of_the_valid_answers(case):
    """R's svyttest drops the rows without an answer: t on their own degrees of freedom."""
    dn, var = case.split(":")
    got = make(dn).domain_contrast(var, by="tier" if dn == "strat" else "stype")
    got = got.set_index("domain")
    ref = REF_DF[REF_DF.case == case]
    for _, r in ref.iterrows():
        col = {"t": "statistic", "p": "p_value"}.get(r.stat, r.stat)
        assert np.isclose(got.at[r.domain, col], r.value, rtol=1e-6, atol=1e-12), (case, r.domain, r.stat)
    assert len(ref) == 7 * len(got)


def test_filtered_subpopulation_is_not_read_on_the_whole_sample():
    d = make("strat")
    got = d.domain_contrast("api00aw", "tier")
    assert d.degf == 197 and (got["df"] == 109).all()   # 113 answers, 3 strata, minus 1


def test_generic_contrast_is_the_domain_contrast():
    d = make("clus1_rake")
    m = d.mean("api00", by="stype")
    c = contrast(m, {"E − H": {"E": 1, "H": -1}, "moyenne": [1 / 3] * 3})
    e, h = m.set_index("domain").loc[["E", "H"], "estimate"]
    assert np.isclose(c.at[0, "estimate"], e - h) and c.at[0, "kind"] == "contrast"
    assert c.at[0, "ci_low"] < e - h < c.at[0, "ci_high"] and c.at[0, "variable"] == "api00"
    # one row: the contrast (1) is the estimate itself, with its standard error
    one = contrast(m[m.domain == "E"], [[1.0]])
    assert np.isclose(one.at[0, "se"], m.set_index("domain").at["E", "se"], rtol=1e-12)
    with pytest.raises(DLSError, match="absente"):
        contrast(m, {"x": {"Z": 1}})
    bare = m.copy()
    bare.attrs = {}
    with pytest.raises(DLSError, match="covariance"):
        contrast(bare, [[1, 0, 0]])


def test_an_empty_domain_spoils_only_its_own_row():
    df = STRAT.assign(y=np.where(STRAT["tier"] == "a", np.nan, STRAT["api00"]))
    got = Design(df, weights="pw", strata="stype").domain_contrast("y", "tier").set_index("domain")
    assert np.isnan(got.at["a", "estimate"]) and got.at["a", "n"] == 0
    assert np.isfinite(got.loc[["b", "c"], ["estimate", "se", "p_value"]]).all().all()
