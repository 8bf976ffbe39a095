"""Extract-based rates: golden values from PHEindicatormethods' worked examples, R, and hand calculation.

Sources of the golden figures
-----------------------------
* PHE_INTRO: ukhsa-collaboration/PHEindicatormethods, ``inst/doc/PHEindicatormethodsIntroVignette.html``
  (commit b0fa919d), section « Execute phe_proportion and phe_rate »: data frame ``df`` with
  obs = 87, 1, 44, 13, 83, 7, 43, 5 and pop = 131, 164, 134, 109, 131, 139, 137, 163, printed
  outputs of ``phe_proportion(df, obs, pop)``, ``phe_proportion(df, obs, pop, conf_level=0.998)``,
  ``phe_rate(df, obs, pop)`` and ``phe_rate(df, obs, pop, type="full", conf_level=0.998, multiplier=100)``.
* PHE_DSR: same repository, ``inst/doc/DSR-vignette.html`` (commit 423d2627), last chunk
  ``phe_dsr(df3, dths, pop)`` → value 8283.016, lowercl 6570.819, uppercl 10289.65.
* R: Hmisc 4.x ``binconf(x, n, method="wilson")`` and base R ``qchisq`` run on this machine
  (R 4, Debian), printed with 15 digits.
Printed values have at least 7 significant digits, so agreement is checked to 1e-6 relative.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from diagnostics.errors import DLSError
from diagnostics.stats import rates

OBS = [87, 1, 44, 13, 83, 7, 43, 5]
POP = [131, 164, 134, 109, 131, 139, 137, 163]
REL = 1e-6


@pytest.fixture
def phe_df():
    return pd.DataFrame({"area": ["Area1", "Area2", "Area3", "Area4"] * 2,
                         "year": [2015] * 4 + [2016] * 4, "obs": OBS, "pop": POP})


# ----------------------------------------------------------------------------- Wilson
def test_wilson_matches_phe_intro_vignette_95(phe_df):
    # PHE_INTRO, output of phe_proportion(df, obs, pop), rows 1-8
    lower = [0.579592491, 0.001077181, 0.254598570, 0.071039739, 0.548367919, 0.024605552,
             0.242136529, 0.013172190]
    upper = [0.73930053, 0.03372625, 0.41168471, 0.19341500, 0.71119617, 0.10029837,
             0.39575419, 0.06978956]
    out = rates.proportion_ci(phe_df, "obs", "pop")
    assert out["ci_low"].tolist() == pytest.approx(lower, rel=REL)
    assert out["ci_high"].tolist() == pytest.approx(upper, rel=REL)
    assert out["estimate"].iloc[0] == pytest.approx(0.664122137, rel=REL)
    assert set(out["method"]) == {"Wilson"}
    assert out["conf_level"].iloc[0] == 0.95
    # same table out: input columns untouched
    assert out[["area", "year", "obs", "pop"]].equals(phe_df)


def test_wilson_matches_phe_intro_vignette_998_percentage(phe_df):
    # PHE_INTRO, phe_proportion(df, obs, pop, conf_level=0.998, percentage=TRUE, type="full")
    lower = [52.93576135, 0.05322047, 21.81147658, 5.29712429, 49.85908973, 1.67360401,
             20.69168113, 0.84801369]
    upper = [77.658434, 6.601672, 46.143836, 24.689949, 75.043163, 14.179381, 44.507799, 10.481797]
    out = rates.proportion_ci(phe_df, "obs", "pop", conf_level=0.998, multiplier=100)
    assert out["ci_low"].tolist() == pytest.approx(lower, rel=REL)
    assert out["ci_high"].tolist() == pytest.approx(upper, rel=REL)
    assert (out["kind"].iloc[0], out["multiplier"].iloc[0]) == ("proportion", 100)
    assert out["statistic"].iloc[0] == "pourcentage"          # deprecated column, until 0.2
    assert out["conf_level"].iloc[0] == 0.998


@pytest.mark.parametrize("x,n,lo,hi", [
    (65, 100, 0.5525444329688797, 0.7363575175690247),     # R Hmisc::binconf
    (1045, 5000, 0.1979554988001330, 0.2204913037318903),
    (0, 50, 0.0, 0.0713475991333587),
    (20, 20, 0.8388748419471806, 1.0),
])
def test_wilson_matches_r_hmisc(x, n, lo, hi):
    assert rates.wilson_lower(x, n) == pytest.approx(lo, rel=1e-9, abs=1e-12)
    assert rates.wilson_upper(x, n) == pytest.approx(hi, rel=1e-9)


def test_wilson_hand_calculation():
    # x = 10, n = 40, z = 1.959963984540054: (2x + z² ± z√(z² + 4x(1 − x/n))) / (2(n + z²))
    z = 1.959963984540054
    root = math.sqrt(z * z + 4 * 10 * (1 - 10 / 40))
    assert rates.wilson_lower(10, 40) == pytest.approx((20 + z * z - z * root) / (2 * (40 + z * z)), rel=1e-12)
    assert rates.wilson_upper(10, 40) == pytest.approx((20 + z * z + z * root) / (2 * (40 + z * z)), rel=1e-12)
    assert rates.wilson_lower(65, 100, 0.998) == pytest.approx(0.495494657407045, rel=1e-9)  # R, alpha 0.002


# ----------------------------------------------------------------------------- Byar / exact rates
def test_rate_matches_phe_intro_vignette(phe_df):
    # PHE_INTRO, phe_rate(df, obs, pop): Byars for obs >= 10, exact for obs < 10
    value = [66412.2137, 609.7561, 32835.8209, 11926.6055, 63358.7786, 5035.9712, 31386.8613, 3067.4847]
    lower = [53191.89721, 15.43769, 23856.24577, 6344.25775, 50463.30549, 2024.72162, 22712.53344, 996.00392]
    upper = [81920.133, 3397.344, 44081.622, 20396.080, 78543.665, 10376.025, 42278.943, 7158.486]
    out = rates.rate_ci(phe_df, "obs", "pop")
    assert out["estimate"].tolist() == pytest.approx(value, rel=REL)
    assert out["ci_low"].tolist() == pytest.approx(lower, rel=REL)
    assert out["ci_high"].tolist() == pytest.approx(upper, rel=REL)
    assert out["method"].tolist() == ["Byars", "Poisson exact", "Byars", "Byars",
                                      "Byars", "Poisson exact", "Byars", "Poisson exact"]


def test_rate_998_per_100_matches_phe_intro_vignette(phe_df):
    # PHE_INTRO, phe_rate(df, obs, pop, type="full", conf_level=0.998, multiplier=100)
    lower = [4.654873e+01, 6.100612e-04, 1.961417e+01, 4.192660e+00, 4.400613e+01, 1.093767e+00,
             1.862510e+01, 4.536023e-01]
    upper = [91.51034, 5.63013, 51.21896, 26.14598, 87.94878, 14.11955, 49.19876, 10.09494]
    out = rates.rate_ci(phe_df, "obs", "pop", conf_level=0.998, multiplier=100)
    assert out["ci_low"].tolist() == pytest.approx(lower, rel=REL)
    assert out["ci_high"].tolist() == pytest.approx(upper, rel=REL)
    assert (out["kind"].iloc[0], out["multiplier"].iloc[0]) == ("rate", 100)
    assert out["statistic"].iloc[0] == "taux pour 100"        # deprecated column, until 0.2


@pytest.mark.parametrize("x,lo,hi", [
    (0, 0.0, 3.68887945411394),            # R qchisq; also −ln(0.025) by hand
    (1, 0.0253178079842899, 5.57164339093890),
    (5, 1.6234863901184207, 11.66833207932267),
    (9, 4.1153730973783320, 17.08480345141917),
])
def test_exact_poisson_matches_r_qchisq(x, lo, hi):
    assert rates.exact_poisson_lower(x) == pytest.approx(lo, rel=1e-9, abs=1e-12)
    assert rates.exact_poisson_upper(x) == pytest.approx(hi, rel=1e-9)


def test_exact_poisson_closed_forms():
    # x = 0: upper = −ln(α/2); x = 1: lower = −ln(1 − α/2)
    assert rates.exact_poisson_upper(0) == pytest.approx(-math.log(0.025), rel=1e-12)
    assert rates.exact_poisson_lower(1) == pytest.approx(-math.log(0.975), rel=1e-12)


def test_byars_hand_calculation_and_switch_at_ten():
    z = 1.959963984540054
    assert rates.byars_lower(65) == pytest.approx(65 * (1 - 1 / 585 - z / (3 * math.sqrt(65))) ** 3, rel=1e-12)
    assert rates.byars_upper(65) == pytest.approx(66 * (1 - 1 / 594 + z / (3 * math.sqrt(66))) ** 3, rel=1e-12)
    out = rates.count_ci(pd.DataFrame({"x": [9, 10]}), "x")
    assert out["method"].tolist() == ["Poisson exact", "Byars"]
    # the kind in English, the French word only in the deprecated column (removed in 0.2)
    assert out["kind"].tolist() == ["count", "count"] and out["n"].isna().all()
    assert out["statistic"].tolist() == ["nombre", "nombre"]
    assert out.attrs["deprecated_columns"] == {"statistic": "kind"}
    assert out["ci_low"].iloc[0] == pytest.approx(4.1153730973783320, rel=1e-9)
    assert out["ci_low"].iloc[1] == pytest.approx(rates.byars_lower(10), rel=1e-12)


def test_ratio_uses_observed_count_limits():
    df = pd.DataFrame({"o": [30, 4], "e": [20.0, 8.0]})
    out = rates.ratio_ci(df, "o", "e", multiplier=100)
    assert out["estimate"].tolist() == pytest.approx([150.0, 50.0])
    assert out["ci_low"].iloc[0] == pytest.approx(rates.byars_lower(30) / 20 * 100, rel=1e-12)
    assert out["ci_high"].iloc[1] == pytest.approx(rates.exact_poisson_upper(4) / 8 * 100, rel=1e-12)


# ----------------------------------------------------------------------------- DSR (Dobson)
def _dsr_vignette_df3():
    # PHE_DSR: pops2 / deaths2 joined, NA deaths replaced by 0
    bands = list(rates.standard_population("esp2013").index)
    pop = [30, 35, 35, 35, 40, 40, 45, 50, 50, 50, 60, 60, 70, 75, 70, 60, 20, 20, 15]
    deaths = dict(zip([0, 5, 25, 30, 35, 40, 45, 50, 55, 60, 65, 70, 75, 80, 85, 90],
                      [1, 1, 1, 1, 3, 3, 3, 3, 10, 10, 10, 10, 8, 8, 8, 8]))
    dths = [deaths.get(a, 0) for a in range(0, 95, 5)]
    return pd.DataFrame({"ageband": bands, "pop": pop, "dths": dths})


def test_dsr_matches_phe_dsr_vignette():
    out = rates.dsr(_dsr_vignette_df3(), "dths", "pop", "ageband")
    row = out.iloc[0]
    assert row["estimate"] == pytest.approx(8283.016, rel=REL)
    assert row["ci_low"] == pytest.approx(6570.819, rel=REL)
    assert row["ci_high"] == pytest.approx(10289.65, rel=REL)
    assert row["total_count"] == 88 and row["total_pop"] == 860
    assert row["method"] == "Dobson" and (row["kind"], row["note"]) == ("dsr", "")
    assert row["statistic"] == "TSD pour 100\u202f000"         # deprecated column, until 0.2


def test_dsr_matches_bands_by_label_not_position():
    df = _dsr_vignette_df3()
    shuffled = df.sample(frac=1, random_state=3)
    a = rates.dsr(df, "dths", "pop", "ageband")
    b = rates.dsr(shuffled, "dths", "pop", "ageband")
    assert b["estimate"].iloc[0] == pytest.approx(a["estimate"].iloc[0], rel=1e-12)


def test_dsr_hand_calculation_with_grouped_bands_and_groups():
    # two areas, three bands of ESP2013: 0-14 (16 000), 15-64 (64 500), 65+ (19 500)
    df = pd.DataFrame({"area": ["A"] * 3 + ["B"] * 3, "age": ["0-14", "15-64", "65+"] * 2,
                       "x": [5, 40, 60, 2, 3, 4], "n": [1000, 4000, 1000, 500, 800, 300]})
    out = rates.dsr(df, "x", "n", "age", by="area", multiplier=1000)
    w = np.array([16000, 64500, 19500.0])
    xa, na = np.array([5, 40, 60.0]), np.array([1000, 4000, 1000.0])
    value = (w * xa / na).sum() / w.sum()
    var = (xa * (w / na) ** 2).sum() / w.sum() ** 2
    lo = value + math.sqrt(var / 105) * (rates.byars_lower(105) - 105)
    a = out.set_index("area")
    assert a.at["A", "estimate"] == pytest.approx(value * 1000, rel=1e-12)
    assert a.at["A", "ci_low"] == pytest.approx(lo * 1000, rel=1e-12)
    # B: 9 events < 10 → not computed (PHE rule), with the reason in French
    assert math.isnan(a.at["B", "estimate"]) and "moins de 10" in a.at["B", "note"]
    assert a.at["B", "statistic"] == a.at["B", "note"] and a.at["A", "note"] == ""


def test_dsr_with_masked_band_is_not_computed_and_never_zero():
    df = pd.DataFrame({"age": ["0-14", "15-64", "65+"], "x": [np.nan, 40, 60], "n": [1000, 4000, 1000]})
    out = rates.dsr(df, "x", "n", "age")
    assert math.isnan(out["estimate"].iloc[0]) and "masqué" in out["note"].iloc[0]


def test_standard_population_regrouping_and_errors():
    assert rates.standard_population().sum() == 100_000
    assert rates.standard_population("esp1976").sum() == 100_000
    assert rates.standard_population("esp2013", ["65-74", "75 ans et plus"]).tolist() == [10500, 9000]
    with pytest.raises(DLSError, match="coupe la classe"):
        rates.standard_population("esp2013", ["0-12"])
    with pytest.raises(DLSError, match="n'existe pas"):
        rates.standard_population("esp2099")


# ----------------------------------------------------------------------------- checks and missing values
def test_masked_inputs_give_missing_outputs_not_zero():
    df = pd.DataFrame({"x": [np.nan, 5], "n": [100, np.nan]})
    out = rates.proportion_ci(df, "x", "n")
    assert out[["estimate", "ci_low", "ci_high"]].isna().all().all()


def test_errors_are_french_sentences_naming_row_and_column():
    df = pd.DataFrame({"x": [5, 120], "n": [100, 100], "ligne": [2, 3]})
    with pytest.raises(DLSError, match=r"ligne 3, colonne « x ».*dépasse le dénominateur"):
        rates.proportion_ci(df, "x", "n")
    with pytest.raises(DLSError, match="positif ou nul"):
        rates.rate_ci(pd.DataFrame({"x": [-1], "n": [10]}), "x", "n")
    with pytest.raises(DLSError, match="strictement positif"):
        rates.rate_ci(pd.DataFrame({"x": [1], "n": [0]}), "x", "n")
    with pytest.raises(DLSError, match="niveau de confiance"):
        rates.proportion_ci(df.iloc[:1], "x", "n", conf_level=95)
    with pytest.raises(DLSError, match="« y » est absente"):
        rates.rate_ci(df, "y", "n")
