"""Tests of diagnostics.stats.weighting against R's survey (rake, postStratify, trimWeights)."""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from diagnostics.errors import EstimationError
from diagnostics.stats import weighting as wt

FIX = Path(__file__).parent / "fixtures" / "r_survey"
POP_TYPES = pd.Series({"E": 4421.0, "H": 755.0, "M": 1018.0})
POP_SCHWIDE = pd.Series({"No": 1072.0, "Yes": 5122.0})


@pytest.fixture(scope="module")
def ref():
    r = pd.read_csv(FIX / "reference_values.csv", keep_default_na=False)
    r["value"] = r["value"].astype(float)
    return r


@pytest.fixture(scope="module")
def strat():
    return pd.read_csv(FIX / "apistrat.csv")


@pytest.fixture(scope="module")
def clus():
    return pd.read_csv(FIX / "apiclus1.csv")


def r_weights(ref, case):
    return ref.loc[ref.case == f"{case}:weights", "value"].to_numpy()


def assert_rel(got, exp, tol=1e-8):
    got, exp = np.asarray(got, float), np.asarray(exp, float)
    assert got.shape == exp.shape
    np.testing.assert_allclose(got, exp, rtol=tol, atol=0)


def test_poststratify_matches_r(ref, clus):
    res = wt.poststratify(clus, "stype", POP_TYPES, weight="pw")
    assert_rel(res.weights, r_weights(ref, "clus1_ps"), 1e-12)
    assert res.weights.index.equals(clus.index)


def test_poststratify_two_columns_equal_start_matches_r(ref, strat):
    pop = pd.DataFrame({"stype": ["E", "H", "M"] * 2, "sch.wide": ["No"] * 3 + ["Yes"] * 3,
                        "effectif": [400, 300, 350, 4021, 455, 668]})
    res = wt.poststratify(strat, ["stype", "sch.wide"], pop)
    assert_rel(res.weights, r_weights(ref, "equal_ps2"), 1e-12)


def test_rake_matches_r(ref, clus, strat):
    res = wt.rake(clus, {"stype": POP_TYPES, "sch.wide": POP_SCHWIDE}, weight="pw")
    assert res.converged and res.iterations < 100 and res.max_error < 1e-10
    assert_rel(res.weights, r_weights(ref, "clus1_rake"), 1e-8)
    res2 = wt.rake(strat, {"sch.wide": {"No": 1200, "Yes": 4994},
                           "awards": {"No": 2300, "Yes": 3894}}, weight="pw")
    assert_rel(res2.weights, r_weights(ref, "strat_rake"), 1e-8)
    res3 = wt.rake(strat, {"stype": POP_TYPES, "sch.wide": POP_SCHWIDE})  # equal start
    assert_rel(res3.weights, r_weights(ref, "equal_rake"), 1e-8)
    assert "convergé" in res.summary()


def test_trim_weights_matches_r(ref, clus):
    w = wt.rake(clus, {"stype": POP_TYPES, "sch.wide": POP_SCHWIDE}, weight="pw").weights
    once = wt.trim_weights(w, lower=25, upper=45)
    assert_rel(once, r_weights(ref, "clus1_rake_trim"), 1e-8)
    strict = wt.trim_weights(w, lower=25, upper=45, strict=True)
    assert_rel(strict, r_weights(ref, "clus1_rake_trimstrict"), 1e-8)
    assert strict.sum() == pytest.approx(w.sum(), rel=1e-12)
    assert strict.min() >= 25 - 1e-9 and strict.max() <= 45 + 1e-9


def test_trim_weights_hand_example():
    # 10 trimmed from the 20 (upper 10) is shared by the three others: +10/3 each
    out = wt.trim_weights(np.array([1.0, 2.0, 3.0, 20.0]), upper=10)
    np.testing.assert_allclose(out, [1 + 10 / 3, 2 + 10 / 3, 3 + 10 / 3, 10.0])


def test_weight_diagnostics_hand_example():
    d = wt.weight_diagnostics([1, 1, 2, 4])
    # sum 8, sum of squares 22: deff = 4·22/64, n_eff = 64/22
    assert d["n"] == 4 and d["sum"] == 8
    assert d["kish_deff"] == pytest.approx(4 * 22 / 64)
    assert d["n_eff"] == pytest.approx(64 / 22)
    assert d["ratio_max_min"] == 4 and d["min"] == 1 and d["max"] == 4


def _synthetic(seed, n=600):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "quartier": rng.choice(["Biollay", "Bellevue", "Hauts-de-Chambéry"], n),
        "groupe_age": rng.choice(["15-29", "30-44", "45-59", "60-74", "75+"], n,
                                 p=[.3, .25, .2, .15, .1]),
        "sexe": rng.choice(["Femme", "Homme"], n),
        "w0": rng.uniform(0.5, 3, n),
    })


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_raked_weights_reproduce_every_margin(seed):
    df = _synthetic(seed)
    rng = np.random.default_rng(seed + 100)
    cells = df.groupby(["quartier", "groupe_age", "sexe"]).size()
    pop = pd.DataFrame({"effectif": rng.integers(50, 500, len(cells)).astype(float)},
                       index=cells.index).reset_index()
    m_q = pop.groupby("quartier")["effectif"].sum()
    m_as = pop.groupby(["groupe_age", "sexe"])["effectif"].sum()
    m_qs = pop[["quartier", "sexe", "effectif"]]          # DataFrame margin, summed by pair
    res = wt.rake(df, {"quartier": m_q, ("groupe_age", "sexe"): m_as,
                       ("quartier", "sexe"): m_qs}, weight="w0", tol=1e-12, max_iter=500)
    assert res.converged
    w = res.weights
    got_q = w.groupby(df["quartier"]).sum()
    np.testing.assert_allclose(got_q[m_q.index], m_q, rtol=1e-8)
    got_as = w.groupby([df["groupe_age"], df["sexe"]]).sum()
    np.testing.assert_allclose(got_as[m_as.index], m_as, rtol=1e-8)
    got_qs = w.groupby([df["quartier"], df["sexe"]]).sum()
    exp_qs = m_qs.groupby(["quartier", "sexe"])["effectif"].sum()
    np.testing.assert_allclose(got_qs[exp_qs.index], exp_qs, rtol=1e-8)


def test_bounded_rake_respects_bounds():
    df = _synthetic(5)
    m_q = pd.Series({"Biollay": 3000.0, "Bellevue": 1000.0, "Hauts-de-Chambéry": 2000.0})
    m_s = pd.Series({"Femme": 3100.0, "Homme": 2900.0})
    res = wt.rake(df, {"quartier": m_q, "sexe": m_s}, bounds=(0.5, 20))
    g = res.weights / 1.0
    assert g.min() >= 0.5 - 1e-12 and g.max() <= 20 + 1e-12


def test_error_empty_category_in_sample():
    df = _synthetic(7)
    df = df[df["groupe_age"] != "75+"]
    margin = pd.Series({"15-29": 10.0, "30-44": 10.0, "45-59": 10.0, "60-74": 10.0,
                        "75+": 10.0})
    with pytest.raises(EstimationError, match="« 75\\+ ».*aucun répondant"):
        wt.rake(df, {"groupe_age": margin})


def test_error_margins_disagree_on_total():
    df = _synthetic(8)
    with pytest.raises(EstimationError, match="même total"):
        wt.rake(df, {"sexe": {"Femme": 100, "Homme": 100},
                     "quartier": {"Biollay": 100, "Bellevue": 100, "Hauts-de-Chambéry": 100}})


def test_error_unknown_category_names_row():
    df = _synthetic(9)
    df.loc[df.index[3], "sexe"] = "Autre"
    with pytest.raises(EstimationError, match="ligne 5, colonne « sexe ».*« Autre »"):
        wt.poststratify(df, "sexe", {"Femme": 100, "Homme": 100})



def test_rake_with_r_default_stopping_rule_matches_r(strat):
    """R's rake() stops early by default (epsilon = 1, maxit = 10); r_epsilon reproduces it."""
    ref = pd.read_csv(FIX / "rake_default_control.csv", dtype={"cds": str})
    assert ref.cds.astype("int64").tolist() == strat.cds.astype("int64").tolist()  # same row order
    margins = {"sch.wide": {"No": 1200, "Yes": 4994}, "awards": {"No": 2300, "Yes": 3894}, "stype": POP_TYPES}
    default = wt.rake(strat, margins, weight="pw", r_epsilon=1, max_iter=10)
    assert_rel(default.weights, ref.w_default, 1e-10)
    assert default.converged
    two = wt.rake(strat, margins, weight="pw", r_epsilon=1, max_iter=2)
    assert_rel(two.weights, ref.w_maxit2, 1e-10)
    assert two.iterations == 2 and not two.converged
    # the converged weights differ from R's default ones by about 1e-3: the rule matters
    full = wt.rake(strat, margins, weight="pw")
    gap = np.max(np.abs(full.weights.to_numpy() / ref.w_default.to_numpy() - 1))
    assert 1e-4 < gap < 1e-2
