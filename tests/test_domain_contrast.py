"""Each domain against the rest of the domains (issue 17, item 2), against R's survey 4.1.

Reference values: tests/fixtures/r_survey/domain_contrast.csv, written by
tests/fixtures/r_survey/domain_contrast.R (R 4.2, survey 4.1.1: ``svyratio(covmat = TRUE)`` +
``svycontrast``, checked there against ``svyby(covmat = TRUE)`` + ``svycontrast``, and
``svyttest``) on R's ``api`` data: apiclus1 and apiclus1 raked on stype and sch.wide.
"""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from diagnostics.stats import weighting as wt
from diagnostics.stats.survey import Design

FIX = Path(__file__).parent / "fixtures" / "r_survey"
REF = pd.read_csv(FIX / "domain_contrast.csv", keep_default_na=False)
REF["value"] = REF["value"].astype(float)
CLUS = pd.read_csv(FIX / "apiclus1.csv")
CLUS["award"] = (CLUS["awards"] == "Yes").astype(float)
CLUS["api00na"] = np.where((np.arange(len(CLUS)) + 1) % 7 == 0, np.nan, CLUS["api00"])
POP_TYPES = {"E": 4421.0, "H": 755.0, "M": 1018.0}
POP_SCHWIDE = {"No": 1072.0, "Yes": 5122.0}


def make(name):
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
        col = {"t": "statistic", "p": "p_value"}.get(r.stat, r.stat)
        assert np.isclose(got.at[r.domain, col], r.value, rtol=1e-6, atol=0), (dn, var, r.domain, r.stat)
        checked += 1
    assert checked == (12 if var == "api00na" else 21)
    g = got.loc["E"]
    assert g.ci_low < g.difference < g.ci_high


def test_contrast_view_and_covariance_matter():
    d = make("clus1_rake")
    a = d.by("stype").contrast("api00").set_index("domain")
    b = d.domain_contrast("api00", "stype").set_index("domain")
    assert np.allclose(a["se"], b["se"])
    # the SE is not the one of two independent means: the covariance is in it
    m = d.mean("api00", by="stype").set_index("domain")
    assert not np.isclose(b.at["E", "se"], m.at["E", "se"])
