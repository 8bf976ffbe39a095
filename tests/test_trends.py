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


# R 4.2.2, stats::glm(y ~ year + offset(log(n)), family = poisson, control = glm.control(epsilon = 1e-14))
# (tests/fixtures/r_trends/poisson_trend.R): slope, SE, Wald z, p-value.
POISSON_R = [
    (([120, 131, 128, 150, 162], [10200, 10350, 10300, 10500, 10480], [2018, 2019, 2020, 2021, 2022]),
     (0.0679222104244418, 0.027009672943499, 2.51473650075389, 0.0119121377270092)),
    (([14, 9, 12, 8], [1850, 1900, 1870, 1920], [2019, 2020, 2021, 2022]),
     (-0.149923757906489, 0.137595230181742, -1.08959996439166, 0.275889398782401)),
    (([0, 3, 1], [500, 520, 510], [2020, 2021, 2022]),
     (0.378063597130127, 0.638148321545501, 0.592438441606354, 0.553557030910591)),
]


@pytest.mark.parametrize("data,expected", POISSON_R)
def test_poisson_trend_test_matches_r_glm(data, expected):
    r = trends.poisson_trend_test(*data).iloc[0]
    assert (r["estimate"], r["se"], r["statistic"], r["p_value"]) == pytest.approx(expected, rel=1e-6)
    assert r["rate_ratio"] == pytest.approx(np.exp(expected[0]), rel=1e-6)
    z = stats.norm.ppf(0.975)
    assert (r["ci_low"], r["ci_high"]) == pytest.approx((expected[0] - z * expected[1], expected[0] + z * expected[1]),
                                                        rel=1e-6)


def test_poisson_trend_test_errors():
    with pytest.raises(DLSError, match="même longueur"):
        trends.poisson_trend_test([1, 2], [10, 10], [2020])
    with pytest.raises(DLSError, match="année 2"):
        trends.poisson_trend_test([1, 2], [10, 0], [2020, 2021])
    with pytest.raises(DLSError, match="aucun cas"):
        trends.poisson_trend_test([0, 0], [10, 10], [2020, 2021])
