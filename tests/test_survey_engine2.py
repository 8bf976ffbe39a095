"""Tests of the second round of diagnostics.stats.survey against R's survey 4.1 (issue 11).

Reference values: tests/fixtures/r_survey/survey_engine2.csv, written by
tests/fixtures/r_survey/survey_engine2.R (R 4.2, survey 4.1.1) on R's own ``api`` data.
"""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from diagnostics.errors import EstimationError
from diagnostics.stats import weighting as wt
from diagnostics.stats.survey import Design

FIX = Path(__file__).parent / "fixtures" / "r_survey"
RTOL = 1e-6
REF = pd.read_csv(FIX / "survey_engine2.csv", keep_default_na=False)
REF["value"] = REF["value"].astype(float)
STRAT = pd.read_csv(FIX / "apistrat.csv")
CLUS = pd.read_csv(FIX / "apiclus1.csv")
CLUS2 = pd.read_csv(FIX / "apiclus2.csv")
POP_TYPES = {"E": 4421.0, "H": 755.0, "M": 1018.0}


def r(case, stat, level="", domain=""):
    x = REF[(REF.case == case) & (REF.stat == stat) & (REF.level == str(level))
            & (REF.domain == str(domain))]
    assert len(x) == 1, (case, stat, level, domain)
    return x.value.iloc[0]


def close(got, case, stat, level="", domain="", rtol=RTOL):
    exp = r(case, stat, level, domain)
    if np.isnan(exp):  # R gives no value (e.g. svyglm's SE column): nothing to compare
        return
    assert np.isclose(got, exp, rtol=rtol, atol=0), (case, stat, level, domain, got, exp)


@pytest.mark.parametrize("ctl,max_iter", [("default", 10), ("maxit2", 2)])
def test_rake_variance_with_r_stopping_rule(ctl, max_iter):
    """R keeps each margin's weights after its step of the last sweep; so do we."""
    margins = {"sch.wide": {"No": 1200, "Yes": 4994}, "awards": {"No": 2300, "Yes": 3894},
               "stype": POP_TYPES}
    rk = wt.rake(STRAT, margins, weight="pw", r_epsilon=1, max_iter=max_iter)
    d = Design(STRAT, strata="stype", calibration=rk)
    case = f"rake_{ctl}"
    for _, row in d.mean(["api00", "enroll"]).iterrows():
        close(row.estimate, f"{case}:mean", "estimate", row.variable)
        close(row.se, f"{case}:mean", "se", row.variable, rtol=1e-9)
    t = d.total("enroll").iloc[0]
    close(t.estimate, f"{case}:total", "estimate", "enroll")
    close(t.se, f"{case}:total", "se", "enroll", rtol=1e-9)
    STRAT["_la"] = (STRAT.cname == "Los Angeles").map({True: "TRUE", False: "FALSE"})
    for _, row in d.mean("api00", by="_la").iterrows():
        close(row.estimate, f"{case}:by_mean", "estimate", "api00", row.domain)
        close(row.se, f"{case}:by_mean", "se", "api00", row.domain, rtol=1e-9)


@pytest.mark.parametrize("method", ["logit", "beta", "mean", "asin"])
@pytest.mark.parametrize("dn", ["strat", "clus1"])
def test_domain_ci_uses_the_domain_design_df(dn, method):
    """Rows with a missing answer count in the domain's degrees of freedom, as in R."""
    if dn == "strat":
        df, d, by = STRAT.copy(), None, "stype"
        df["big46"] = np.where(df["acs.46"].isna(), np.nan, (df["acs.46"] > 28).astype(float))
        d = Design(df, weights="pw", strata="stype")
    else:
        df, by = CLUS.copy(), "awards"
        df["big46"] = np.where(df["acs.46"].isna(), np.nan, (df["acs.46"] > 28).astype(float))
        d = Design(df, weights="pw", cluster="dnum", fpc="fpc")
    res = d.proportion("big46", ci_method=method, levels=1.0, by=by)
    for _, row in res.iterrows():
        for st in ("estimate", "se", "ci_low", "ci_high"):
            close(row[st], f"{dn}:na_by_ciprop:{method}", st, "1", row.domain)
    row = d.proportion("big46", ci_method=method, levels=1.0).iloc[0]
    for st in ("estimate", "ci_low", "ci_high"):
        close(row[st], f"{dn}:na_ciprop:{method}", st, "1")


@pytest.mark.parametrize("dn", ["clus2fpc", "clus2"])
def test_two_stage_design_matches_r(dn):
    if dn == "clus2fpc":
        d = Design(CLUS2, cluster=["dnum", "snum"], fpc=["fpc1", "fpc2"],
                   weights="pw")
    else:
        d = Design(CLUS2, cluster=["dnum", "snum"], weights="pw")
    assert d.degf == r(f"{dn}:degf", "value")
    for _, row in d.mean(["api00", "api99"]).iterrows():
        close(row.estimate, f"{dn}:mean", "estimate", row.variable)
        close(row.se, f"{dn}:mean", "se", row.variable)
    t = d.total("enroll").iloc[0]
    close(t.estimate, f"{dn}:total", "estimate", "enroll")
    close(t.se, f"{dn}:total", "se", "enroll")
    for _, row in d.by("stype").mean("api00").iterrows():
        close(row.estimate, f"{dn}:by_mean", "estimate", "api00", row.domain)
        close(row.se, f"{dn}:by_mean", "se", "api00", row.domain)


@pytest.mark.parametrize("dn", ["strat", "clus1"])
def test_by_view_chisq_matches_svychisq_on_subsets(dn):
    d = (Design(STRAT, weights="pw", strata="stype") if dn == "strat"
         else Design(CLUS, weights="pw", cluster="dnum", fpc="fpc"))
    tests = d.by("stype").chisq("sch.wide", "awards").set_index("domain")
    for k in ("E", "M"):
        close(tests.at[k, "statistic"], f"{dn}:by_chisq", "F", domain=k)
        close(tests.at[k, "df"], f"{dn}:by_chisq", "F_ddf", domain=k)
        close(tests.at[k, "p_value"], f"{dn}:by_chisq", "F_p", domain=k)


def test_calibration_refuses_other_weights_in_french():
    rk = wt.rake(CLUS, {"stype": POP_TYPES}, weight="pw")
    with pytest.raises(EstimationError, match="différent du poids calé"):
        Design(CLUS, weights="pw", cluster="dnum", calibration=rk)
    # the calibration's own weights are accepted
    same = Design(CLUS, weights=rk.weights, cluster="dnum", calibration=rk)
    assert same.w == pytest.approx(rk.weights.to_numpy(), rel=0)


def test_conf_level_argument_and_column():
    d = Design(STRAT, weights="pw", conf_level=0.9)
    res = d.proportion("sch.wide", levels="Yes")
    assert (res.conf_level == 0.9).all()
    for col in ("estimate", "se", "ci_low", "ci_high", "n", "deff", "method", "df"):
        assert col in res.columns
    wide = Design(STRAT, weights="pw").proportion("sch.wide", levels="Yes")
    assert wide.ci_low.iloc[0] < res.ci_low.iloc[0] < res.ci_high.iloc[0] < wide.ci_high.iloc[0]
    with pytest.raises(EstimationError, match="niveau de confiance"):
        Design(STRAT, conf_level=95)
