"""Waves and trends: R's prop.trend.test (tests/fixtures/r_trends/prop_trend.R) and hand calculations."""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from diagnostics.errors import DLSError
from diagnostics.stats import trends

FIX = Path(__file__).parent / "fixtures" / "r_trends"


def test_prop_trend_test_matches_r():
    ref = pd.read_csv(FIX / "prop_trend.csv")
    for r in ref.itertuples():
        x, n, score = ([float(v) for v in s.split()] for s in (r.x, r.n, r.score))
        out = trends.prop_trend_test(x, n, score).iloc[0]
        assert out["statistic"] == pytest.approx(r.statistic, rel=1e-10)
        assert out["p_value"] == pytest.approx(r.p_value, rel=1e-9)
        assert out["df"] == r.df == 1
    # default scores 1..k as R
    first = ref.iloc[0]
    got = trends.prop_trend_test([83, 90, 129, 70], [86, 93, 136, 82])["statistic"].iloc[0]
    assert got == pytest.approx(first.statistic, rel=1e-10)


def test_prop_trend_test_errors():
    with pytest.raises(DLSError, match="même longueur"):
        trends.prop_trend_test([1, 2], [10, 10, 10])
    with pytest.raises(DLSError, match="groupe 2"):
        trends.prop_trend_test([1, 12], [10, 10])


def test_wave_difference_hand_calculation():
    # 31 % (SE 2 points) now against 25 % (SE 1.5 points): SE = sqrt(0.02² + 0.015²) = 0.025
    r = trends.wave_difference((0.31, 0.02), (0.25, 0.015)).iloc[0]
    assert r["estimate"] == pytest.approx(0.06) and r["se"] == pytest.approx(0.025)
    z = stats.norm.ppf(0.975)
    assert (r["ci_low"], r["ci_high"]) == pytest.approx((0.06 - z * 0.025, 0.06 + z * 0.025))
    assert r["statistic"] == pytest.approx(2.4) and r["p_value"] == pytest.approx(2 * stats.norm.sf(2.4))
    t = trends.wave_difference((0.31, 0.02), (0.25, 0.015), df=20, conf_level=0.9).iloc[0]
    q = stats.t.ppf(0.95, 20)
    assert t["ci_high"] == pytest.approx(0.06 + q * 0.025) and t["conf_level"] == 0.9
    assert t["p_value"] == pytest.approx(2 * stats.t.sf(2.4, 20))


def test_wave_difference_matches_rows_by_domain():
    cur = pd.DataFrame({"domain": ["A", "B"], "variable": "x", "estimate": [0.5, 0.4],
                        "se": [0.03, 0.04], "n": [100, 80]})
    prev = pd.DataFrame({"domain": ["B", "A"], "variable": "x", "estimate": [0.3, 0.45],
                         "se": [0.03, 0.04], "n": [90, 110]})
    out = trends.wave_difference(cur, prev).set_index("domain")
    assert out.loc["A", "estimate"] == pytest.approx(0.05) and out.loc["B", "estimate"] == pytest.approx(0.1)
    assert out.loc["B", "se"] == pytest.approx(0.05) and out.loc["A", "n"] == 210
    assert {"estimate", "se", "ci_low", "ci_high", "conf_level", "method", "n"} <= set(out.columns)
    with pytest.raises(DLSError, match="niveau de confiance"):
        trends.wave_difference(cur, prev, conf_level=95)
    assert np.isfinite(out["p_value"]).all()
