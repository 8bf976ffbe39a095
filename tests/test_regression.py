"""svyglm and svyttest against R survey 4.1 (tests/fixtures/r_survey/regression.R) on R's api data."""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from diagnostics.errors import DLSError
from diagnostics.stats.regression import glm, ttest
from diagnostics.stats.survey import Design

FIX = Path(__file__).parent / "fixtures" / "r_survey"
REF = pd.read_csv(FIX / "regression_reference.csv")


def _design(name):
    if name == "strat":
        data = pd.read_csv(FIX / "apistrat.csv")
        kw = dict(strata="stype")
    else:
        data = pd.read_csv(FIX / "apiclus1.csv")
        kw = dict(cluster="dnum")
    data["sch_yes"] = (data["sch.wide"] == "Yes").astype(float)
    return Design(data, weights="pw", **kw)


def _check(got, ref):
    for col in ("estimate", "se", "statistic", "p_value", "ci_low", "ci_high"):
        want = ref[col].to_numpy(float)
        keep = ~np.isnan(want)
        np.testing.assert_allclose(got[col].to_numpy(float)[keep], want[keep], rtol=1e-6)
    assert (got["df"].to_numpy() == ref["df"].to_numpy()).all()


@pytest.mark.parametrize("name", ["strat", "clus1"])
def test_svyglm_gaussian_and_quasibinomial_match_r(name):
    d = _design(name)
    ref = REF[REF.design == name]
    _check(glm(d, "api00", ["ell", "meals", "mobility"]), ref[ref.model == "gaussian"])
    _check(glm(d, "sch_yes ~ ell + meals", family="quasibinomial"), ref[ref.model == "quasibinomial"])
    # the formula and the column interfaces agree
    a = glm(d, "api00 ~ ell + meals + mobility")
    b = glm(d, "api00", ["ell", "meals", "mobility"])
    np.testing.assert_allclose(a["se"], b["se"], rtol=1e-12)
    assert list(a["term"]) == ["Intercept", "ell", "meals", "mobility"]


@pytest.mark.parametrize("name", ["strat", "clus1"])
def test_svyttest_matches_r(name):
    ref = REF[(REF.design == name) & (REF.model == "ttest")]
    got = ttest(_design(name), "enroll", "comp.imp")
    _check(got, ref)
    assert got["term"].iloc[0] == "comp.imp = Yes"


def test_regression_errors():
    d = _design("strat")
    with pytest.raises(DLSError, match="famille"):
        glm(d, "api00", ["ell"], family="poisson")
    with pytest.raises(DLSError, match="deux groupes"):
        ttest(d, "api00", "stype")
    with pytest.raises(DLSError, match="entre 0 et 1"):
        glm(d, "api00", ["ell"], family="quasibinomial")
