"""A design's weights follow its rows (issue 29, item 1): calibration aligned on the index.

``Design.rake / poststratify / calibrate / trim`` return a new design, as R's ``rake(design)``;
a calibration result given to ``Design(..., calibration=res)`` is matched to the data by
index, or refused.  Reference values: tests/fixtures/r_survey/reference_values.csv
(make_reference.R, R 4.2, survey 4.1.1: ``postStratify(clus1fpc, ~stype, pop.types)`` gives
the mean of api00 642.31078821158212, SE 23.92048644509039) and
tests/fixtures/r_survey/design_alignment.csv (design_alignment.R: the same without clusters,
642.31 / SE 7.84, the case of the issue).
"""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from diagnostics.errors import DLSError
from diagnostics.stats import weighting as wt
from diagnostics.stats.survey import Design

FIX = Path(__file__).parent / "fixtures" / "r_survey"
REF = pd.read_csv(FIX / "reference_values.csv", keep_default_na=False)
CLUS = pd.read_csv(FIX / "apiclus1.csv")
POP_TYPES = pd.Series({"E": 4421.0, "H": 755.0, "M": 1018.0})
POP_SCHWIDE = pd.Series({"No": 1072.0, "Yes": 5122.0})


def ref(case, stat, variable="api00"):
    r = REF[(REF.case == case) & (REF.level == variable) & (REF.stat == stat)]
    return float(r.value.iloc[0])


def check_r_mean(d):
    got = d.mean("api00").iloc[0]
    assert np.isclose(got.estimate, ref("clus1_ps:mean", "estimate"), rtol=1e-9)
    assert np.isclose(got.se, ref("clus1_ps:mean", "se"), rtol=1e-9)


def test_resorted_data_gets_its_own_weights():
    ps = wt.poststratify(CLUS, "stype", POP_TYPES, weight="pw")
    shuffled = CLUS.sample(frac=1.0, random_state=3)     # same rows, another order
    assert not shuffled.index.equals(CLUS.index)
    check_r_mean(Design(shuffled, cluster="dnum", fpc="fpc", calibration=ps))
    check_r_mean(Design(shuffled, cluster="dnum", fpc="fpc", calibration=ps.calibration))


def test_resorted_copy_of_the_issue_gives_r_values():
    """issue 29: without clusters, R's 642.31 / SE 7.84 (design_alignment.R) for any row order
    (the issue saw 642.05 / 8.01 on a re-sorted copy before the alignment)."""
    r = pd.read_csv(FIX / "design_alignment.csv").set_index("stat")["value"]
    ps = wt.poststratify(CLUS, "stype", POP_TYPES, weight="pw")
    for data in (CLUS, CLUS.iloc[::-1], CLUS.sample(frac=1.0, random_state=7)):
        got = Design(data, calibration=ps).mean("api00").iloc[0]
        assert np.isclose(got.estimate, r["estimate"], rtol=1e-9)
        assert np.isclose(got.se, r["se"], rtol=1e-9)


def test_other_respondents_are_refused():
    ps = wt.poststratify(CLUS, "stype", POP_TYPES, weight="pw")
    other = CLUS.set_axis(CLUS.index + 1000)
    with pytest.raises(DLSError, match="répondant « 1000 » n'est pas dans les deux tableaux"):
        Design(other, cluster="dnum", calibration=ps)
    with pytest.raises(DLSError, match="répondant « 0 » n.est pas dans les deux tableaux"):
        Design(CLUS.iloc[1:], cluster="dnum", calibration=ps)
    twice = CLUS.set_axis([0] * len(CLUS)).sample(frac=1.0, random_state=1)
    with pytest.raises(DLSError, match="en double"):
        Design(twice, cluster="dnum", calibration=ps)


def test_verbs_return_a_new_design_and_agree_with_r():
    base = Design(CLUS, weights="pw", cluster="dnum", fpc="fpc")
    w0 = base.w.copy()
    ps = base.poststratify("stype", POP_TYPES)
    check_r_mean(ps)
    assert ps is not base and np.array_equal(base.w, w0) and not base.calibrated
    rk = base.rake({"stype": POP_TYPES, "sch.wide": POP_SCHWIDE})
    old = wt.rake(CLUS, {"stype": POP_TYPES, "sch.wide": POP_SCHWIDE}, weight="pw")
    same = Design(CLUS, cluster="dnum", fpc="fpc", calibration=old)
    assert np.allclose(rk.mean("api00")[["estimate", "se"]], same.mean("api00")[["estimate", "se"]],
                       rtol=1e-12)
    tr = base.trim(25, 45)
    assert not tr.calibrated and np.isclose(tr.w.sum(), w0.sum())
    assert np.allclose(tr.w, wt.trim_weights(CLUS["pw"], 25, 45).to_numpy(), rtol=1e-12)
    with pytest.raises(DLSError, match="déjà calé"):
        rk.trim(25, 45)
    with pytest.raises(DLSError, match="déjà calé"):
        ps.rake({"stype": POP_TYPES})


def test_calibrate_verb_matches_poststratify():
    """GREG on the stype dummies is post-stratification (Deville and Särndal 1992, §2)."""
    base = Design(CLUS, weights="pw", cluster="dnum", fpc="fpc")
    cal = base.calibrate({"stype": POP_TYPES.to_dict()})
    check_r_mean(cal)


def test_one_weight_rule():
    zero = CLUS.assign(pw=np.where(np.arange(len(CLUS)) == 0, 0.0, CLUS["pw"]))
    for build in (lambda: Design(zero, weights="pw"),
                  lambda: wt.poststratify(zero, "stype", POP_TYPES, weight="pw")):
        build()   # a zero weight is allowed by both
    neg = CLUS.assign(pw=-CLUS["pw"])
    for build in (lambda: Design(neg, weights="pw"),
                  lambda: wt.rake(neg, {"stype": POP_TYPES}, weight="pw")):
        with pytest.raises(DLSError, match="ligne 2, colonne « pw ».*positif ou nul"):
            build()


def test_raking_residuals_of_domain_scores_swept_together_are_the_same_bits():
    # margins crossed with the quartier (as the toolkit rakes): each quartier is a calibration
    # component, and the scores of different quartiers' domains are residualised as one column
    # (design._pack_by_component); the reference is R's back-fitting sweep, column by column
    from diagnostics.stats.survey.contrast import _domain_and_rest

    rng = np.random.default_rng(7)
    n = 600
    q = rng.choice(["A", "B", "C", "D"], n)
    age = rng.choice(["15-29", "30-59", "60+"], n)
    sexe = rng.choice(["F", "H"], n)
    data = pd.DataFrame({"quartier": q, "qa": np.char.add(q, age), "qs": np.char.add(q, sexe),
                         "y": rng.integers(0, 2, n).astype(float), "w": rng.uniform(0.5, 2.0, n)})
    data.loc[rng.choice(n, 40, replace=False), "y"] = np.nan     # unanswered: out of both sides
    pop_qa = data.groupby("qa")["w"].sum() * rng.uniform(0.9, 1.1, data["qa"].nunique())
    pop_qs = data.groupby("qs")["w"].sum() * (pop_qa.sum() / data.groupby("qs")["w"].sum().sum())
    raked = Design(data, weights="w").rake({"qa": pop_qa, "qs": pop_qs})
    assert raked.cal_margins.n_comp == 4

    def plain(S):
        S = np.array(S, float)
        for _ in range(raked.cal_margins.sweeps):
            for G, f, psw, den in raked.cal_margins.rows:
                S -= psw[:, None] * (G.T @ ((G @ (S * f[:, None])) / den[:, None]))
        return S

    S = _domain_and_rest(raked, "y", "quartier")[3]          # 4 domains, then the rest of each
    mixed = np.column_stack([S, rng.normal(size=n), np.zeros(n)])
    for scores in (S, mixed):
        got, want = raked._calibrate(scores), plain(scores)
        assert np.array_equal(got, want) and np.array_equal(np.signbit(got), np.signbit(want))
