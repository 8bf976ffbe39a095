"""Scores against worked examples computed by hand (coefficients and cut-offs of the papers)."""
import numpy as np
import pandas as pd
import pytest

from diagnostics.errors import EstimationError
from diagnostics.stats import scores

OUI, NON = 1, 2


def epices_row(yes):
    """One respondent answering "oui" to the items listed in ``yes`` and "non" elsewhere."""
    return {f"epices_{k:02d}": OUI if k in yes else NON for k in range(1, 12)}


# Published EPICES score (Sass C et al., « Le score EPICES : un score individuel de précarité.
# Construction du score et mesure des relations avec des données de santé, dans une population
# de 197 389 personnes », BEH 2006;(14):93-96, table 1; Labbe E et al., La Revue de l'IRES
# 2007;53:3-49): constant 75.14 and coefficients for a « oui »
#   1 +10.06, 2 -11.83, 3 -8.28, 4 -8.28, 5 +14.80, 6 -6.51, 7 -7.10, 8 -7.10, 9 -9.47,
#   10 -9.47, 11 -7.10.
# The paper's worked extremes: a respondent with every answer favourable scores 0, every
# answer unfavourable scores 100 (the nine negative coefficients add up to 75.14).
def test_epices_published_extremes():
    rows = [epices_row({2, 3, 4, 6, 7, 8, 9, 10, 11}),  # all favourable: 75.14 - 75.14 = 0
            epices_row({1, 5})]                          # all unfavourable: 75.14 + 24.86 = 100
    assert scores.epices(pd.DataFrame(rows)).tolist() == [0.0, 100.0]
    # the nine published negative coefficients add up to the constant
    negatives = [11.83, 8.28, 8.28, 6.51, 7.10, 7.10, 9.47, 9.47, 7.10]
    assert round(sum(negatives), 2) == 75.14


def test_epices_worked_examples():
    rows = [
        epices_row(set()),                  # "non" everywhere: constant only
        epices_row({1, 2, 5, 9}),           # 75.14 + 10.06 - 11.83 + 14.80 - 9.47 = 78.70
        epices_row({2, 3, 4, 6}),           # 75.14 - 11.83 - 8.28 - 8.28 - 6.51 = 40.24
        epices_row({2, 3, 4, 7, 9}),        # 75.14 - 11.83 - 8.28 - 8.28 - 7.10 - 9.47 = 30.18
        epices_row({2, 7, 9, 10, 11}),      # 75.14 - 11.83 - 7.10 - 9.47 - 9.47 - 7.10 = 30.17
        epices_row({1, 2, 9, 11}),          # 75.14 + 10.06 - 11.83 - 9.47 - 7.10 = 56.80
    ]
    s = scores.epices(pd.DataFrame(rows))
    assert s.tolist() == pytest.approx([75.14, 78.70, 40.24, 30.18, 30.17, 56.80], abs=1e-9)
    prec = scores.epices_precarious(pd.DataFrame(rows))
    assert prec.tolist() == [1, 1, 1, 1, 1, 1]   # 30.17 is précaire (threshold inclusive)


def test_epices_threshold_is_inclusive():
    df = pd.DataFrame([epices_row({2, 3, 4, 7, 9})])  # 30.18
    assert scores.epices_precarious(df, threshold=30.18).iloc[0] == 1.0
    assert scores.epices_precarious(df, threshold=30.19).iloc[0] == 0.0
    # one step below the threshold: 75.14 - 11.83 - 8.28 - 7.10 - 9.47 - 9.47 - 7.10 = 21.89
    assert scores.epices_precarious(pd.DataFrame([epices_row({2, 3, 7, 9, 10, 11})])).iloc[0] == 0


def test_epices_one_zero_coding():
    # same respondents coded 1 = oui, 0 = non
    rows = [epices_row({1, 5}), epices_row({2, 3, 4, 6, 7, 8, 9, 10, 11})]
    df = pd.DataFrame(rows).replace({NON: 0})
    with pytest.raises(EstimationError, match=r"colonne « epices_0\d », la valeur « 0 ».*yes_no=\(1, 0\)"):
        scores.epices(df)
    assert scores.epices(df, yes_no=(1, 0)).tolist() == [100.0, 0.0]
    assert scores.epices_precarious(df, yes_no=(1, 0)).tolist() == [1.0, 0.0]
    with pytest.raises(EstimationError, match="deux codes"):
        scores.epices(df, yes_no=(1, 1))


def test_epices_missing_item_gives_missing_score():
    rows = [epices_row({1}), epices_row({1}), epices_row({1})]
    rows[0]["epices_04"] = np.nan
    rows[1]["epices_11"] = 99  # refus
    df = pd.DataFrame(rows)
    s = scores.epices(df)
    assert s.isna().tolist() == [True, True, False]
    assert s.iloc[2] == pytest.approx(85.20)
    assert scores.epices_precarious(df).isna().tolist() == [True, True, False]


def test_who5_worked_examples():
    items = [f"who5_{i}" for i in range(1, 6)]
    df = pd.DataFrame([
        [5, 5, 5, 5, 5],   # 25 * 4 = 100
        [0, 0, 0, 0, 0],   # 0
        [3, 2, 3, 1, 4],   # 13 * 4 = 52: not poor
        [3, 2, 2, 1, 4],   # 12 * 4 = 48: poor wellbeing
        [2, 2, 2, 1, 1],   # 8 * 4 = 32: poor, not depression
        [2, 1, 2, 1, 1],   # 7 * 4 = 28: likely depression (<= 28)
        [2, 1, 2, 98, 1],  # invalid code -> missing
        [5, 5, np.nan, 5, 5],
    ], columns=items)
    cat = scores.who5_categories(df)
    assert cat["who5"].iloc[:6].tolist() == [100, 0, 52, 48, 32, 28]
    assert cat["who5"].iloc[6:].isna().all()
    assert cat["who5_faible"].iloc[:6].tolist() == [0, 1, 0, 1, 1, 1]
    assert cat["who5_depression"].iloc[:6].tolist() == [0, 1, 0, 0, 0, 1]
    assert cat[["who5_faible", "who5_depression"]].iloc[6:].isna().all().all()


def test_mehm_indicators_independent():
    df = pd.DataFrame({
        "sante_generale": [1, 4, 5, 3, 98],
        "maladie_chronique": [2, 1, 1, 99, 2],
        "limitation": [3, 1, 2, 98, np.nan],
    })
    m = scores.mehm(df)
    pd.testing.assert_series_equal(m["sante_mauvaise"], pd.Series([0, 1, 1, 0, np.nan], name="sante_mauvaise"))
    pd.testing.assert_series_equal(m["maladie_chronique"],
                                   pd.Series([0, 1, 1, np.nan, 0], name="maladie_chronique"))
    pd.testing.assert_series_equal(m["limitation_forte"],
                                   pd.Series([0, 1, 0, np.nan, np.nan], name="limitation_forte"))
    pd.testing.assert_series_equal(m["limitation_toute"],
                                   pd.Series([0, 1, 1, np.nan, np.nan], name="limitation_toute"))


def test_loneliness_worked_examples():
    df = pd.DataFrame({"solitude_1": [1, 3, 2, 1, 3, 2],
                       "solitude_2": [1, 3, 2, 2, 99, 3],
                       "solitude_3": [1, 3, 2, 2, 1, 1]})
    s = scores.loneliness(df)
    assert s.iloc[[0, 1, 2, 3, 5]].tolist() == [3, 9, 6, 5, 6]
    assert np.isnan(s.iloc[4])
    lonely = scores.loneliness_lonely(df)
    assert lonely.iloc[[0, 1, 2, 3, 5]].tolist() == [0, 1, 1, 0, 1]
    assert np.isnan(lonely.iloc[4])


def test_scores_keep_the_index():
    df = pd.DataFrame({"solitude_1": [1, 3], "solitude_2": [1, 3], "solitude_3": [1, 3]}, index=["a", "b"])
    assert list(scores.loneliness(df).index) == ["a", "b"]


def test_missing_column_french_error():
    with pytest.raises(EstimationError, match="« epices_07 » manquent"):
        scores.epices(pd.DataFrame([epices_row({1})]).drop(columns="epices_07"))


def test_registry_matches_functions():
    assert set(scores.SCORES) == {"epices", "who5", "solitude"}
    df = pd.DataFrame([epices_row({1, 5})])
    assert scores.SCORES["epices"].compute(df).iloc[0] == 100.0
