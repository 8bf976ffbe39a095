"""diagnostics.stats.weighting.calibrate (linear GREG, bounded logit) against R's ``calibrate``.

Reference values: tests/fixtures/r_survey/calibrate.csv, written by
tests/fixtures/r_survey/calibrate.R (R 4.2, survey 4.1.1) on R's ``api`` data.
"""
from pathlib import Path

import pandas as pd
import pytest

from diagnostics import calibrate
from diagnostics.errors import EstimationError
from diagnostics.stats.survey import Design

FIX = Path(__file__).parent / "fixtures" / "r_survey"
REF = pd.read_csv(FIX / "calibrate.csv", keep_default_na=False)
REF["value"] = REF["value"].astype(float)
DATA = {"clus1": pd.read_csv(FIX / "apiclus1.csv"), "strat": pd.read_csv(FIX / "apistrat.csv")}
# R: population c(`(Intercept)` = 6194, stypeH = 755, stypeM = 1018, api99 = 3914069)
TOTALS = {"stype": {"E": 6194 - 755 - 1018, "H": 755, "M": 1018}, "api99": 3914069}


def r(case, stat, level=""):
    x = REF[(REF.case == case) & (REF.stat == stat) & (REF.level == level)]
    assert len(x) == 1
    return x.value.iloc[0]


@pytest.mark.parametrize("method", ["linear", "logit"])
@pytest.mark.parametrize("dn", ["clus1", "strat"])
def test_calibrate_matches_r(dn, method):
    df = DATA[dn]
    kw = {"bounds": (0.7, 1.7)} if method == "logit" else {}
    res = calibrate(df, TOTALS, method=method, weights="pw", **kw)
    assert res.converged
    case = f"{dn}:{method}"
    g = res.weights / df["pw"]
    for stat, got in [("g_min", g.min()), ("g_max", g.max()), ("w_min", res.weights.min()),
                      ("w_max", res.weights.max())]:
        assert got == pytest.approx(r(case, stat), rel=1e-6), stat
    d = (Design(df, cluster="dnum", fpc="fpc", calibration=res) if dn == "clus1"
         else Design(df, strata="stype", calibration=res))
    for _, row in d.mean(["api00", "enroll"]).iterrows():
        assert row.estimate == pytest.approx(r(case, "mean", row.variable), rel=1e-6)
        assert row.se == pytest.approx(r(case, "mean_se", row.variable), rel=1e-6)
    t = d.total("enroll").iloc[0]
    assert t.estimate == pytest.approx(r(case, "total", "enroll"), rel=1e-6)
    assert t.se == pytest.approx(r(case, "total_se", "enroll"), rel=1e-6)


def test_calibrated_totals_are_reproduced_and_errors_are_french():
    df = DATA["strat"]
    res = calibrate(df, TOTALS, weights="pw")
    w = res.weights
    assert w.groupby(df["stype"]).sum().to_dict() == pytest.approx(TOTALS["stype"], rel=1e-10)
    assert float((w * df["api99"]).sum()) == pytest.approx(TOTALS["api99"], rel=1e-10)
    with pytest.raises(EstimationError, match="calage logit"):
        calibrate(df, TOTALS, method="logit", weights="pw")
    with pytest.raises(EstimationError, match="absente"):
        calibrate(df, {"inconnue": 3.0}, weights="pw")
