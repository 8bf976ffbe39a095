"""Second look at the grouped-sum engine of diagnostics.stats.survey (blocks, threads, plans).

Every case compares the grouped-sum path ``Design._linear_pairs`` (two threads, blocks of a
few pairs, so that groups are both packed into blocks and cut across blocks) with the
row-level reference ``Design._linear_rows`` (explicit n × K scores per domain, R's
``svyrecvar`` formulas), on designs chosen to reach the edge cases of the new code: zero
weights, rows outside every domain, empty domains, domains present in some strata only,
every lonely-PSU rule, post-stratification and raking, two-stage designs with fpc, ratios
with a zero denominator, categorical questions of several levels, ``domain_df="answers"``
and the plan cache.
"""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_survey import synthetic

import diagnostics.stats.survey as sv
from diagnostics.errors import EstimationError
from diagnostics.stats import weighting as wt
from diagnostics.stats.survey import Design

KEYS = ("theta", "var", "n", "wsum", "degf", "nrow", "nvalid", "deff")


@pytest.fixture
def tiny(monkeypatch):
    """Blocks of 4 pairs for 3 columns, two threads on a few hundred rows."""
    monkeypatch.setattr("diagnostics.stats.survey.variance.MIN_BLOCK", 1)
    monkeypatch.setattr("diagnostics.stats.survey.variance.BLOCK_BYTES", 8 * 3 * 4)
    monkeypatch.setattr("diagnostics.stats.survey.variance.MIN_ROWS_PER_THREAD", 1)
    monkeypatch.setattr("diagnostics.stats.survey.variance.FILL_ROWS", 16)


def frame(seed, n=600):
    """The synthetic answers of test_survey, with a second numeric column, a 3-level
    numeric question and a domain present in two strata only."""
    rng = np.random.default_rng(seed + 100)
    df = synthetic(seed, n)
    df["ilot"] = [f"{q}-{k}" for q, k in zip(df.quartier, rng.integers(0, 9, n))]
    df["logement"] = rng.integers(0, 3, n)
    df["renonce"] = rng.choice(["Oui", "Non", "Parfois", "Ne sait pas"], n)
    df["x"] = rng.gamma(2, 1, n)
    df["groupe"] = np.where(df.quartier.isin(["Biollay", "Centre"]),
                            rng.choice(["A", "B"], n), "C")
    return df


def columns(df):
    Y = np.column_stack([df.score.to_numpy(), (df.score > 55).astype(float).where(
        df.score.notna()).to_numpy(), df.x.to_numpy()])
    M = ~np.isnan(Y)
    return np.where(M, Y, 0.0), M, np.where(M, df.x.to_numpy()[:, None] + 0.5, 0.0)


def same(d, dom, n_dom, Y, M, X=None, kinds=("mean", "total", "ratio"), keys=KEYS, msg=""):
    for kind in kinds:
        Xk = X if kind == "ratio" else None
        a = d._linear_pairs(kind, Y, M, dom, n_dom, Xk, threads=2)
        b = d._linear_rows(kind, Y, M, dom, n_dom, Xk)
        for k in keys:
            np.testing.assert_allclose(a[k], b[k], rtol=1e-9, atol=1e-12,
                                       err_msg=f"{msg} {kind} {k}")


def designs(df, lonely="adjust", **kw):
    yield "srs", Design(df, weights="poids", lonely_psu=lonely, **kw)
    yield "strat", Design(df, weights="poids", strata="quartier", lonely_psu=lonely, **kw)
    yield "clus", Design(df, weights="poids", strata="quartier", cluster="ilot",
                         lonely_psu=lonely, **kw)


@pytest.mark.parametrize("domain_df", ["domain", "answers"])
def test_zero_weights(tiny, domain_df):
    """Rows of zero weight stay in the design (R) but not in n or the degrees of freedom."""
    df = frame(1)
    df.loc[df.index[::7], "poids"] = 0.0
    # one PSU whose every row has zero weight
    df.loc[df.ilot == "Bellevue-3", "poids"] = 0.0
    Y, M, X = columns(df)
    for name, d in designs(df, domain_df=domain_df):
        for by in (None, "sexe", "groupe", ["quartier", "sexe"]):
            dom, labels = d.domain_codes(by)
            assert not d._plan(dom, len(labels), 3).all_pos
            same(d, dom, len(labels), Y, M, X, msg=f"{name} {by}")


@pytest.mark.parametrize("domain_df", ["domain", "answers"])
def test_rows_outside_every_domain_and_empty_domain(tiny, domain_df):
    """A missing domain label (dom = −1) and a domain without any row (code beyond them)."""
    df = frame(2)
    df.loc[df.index[::5], "groupe"] = None
    Y, M, X = columns(df)
    for name, d in designs(df, domain_df=domain_df):
        dom, labels = d.domain_codes("groupe")
        assert (dom == -1).sum() == len(df.index[::5])
        same(d, dom, len(labels), Y, M, X, keys=("theta", "n", "wsum", "degf", "nrow",
                                                 "nvalid", "var"), msg=name)
        # an empty last domain: zero counts, no estimate
        a = d._linear_pairs("mean", Y, M, dom, len(labels) + 1, threads=2)
        b = d._linear_rows("mean", Y, M, dom, len(labels) + 1, None)
        for k in ("n", "wsum", "degf", "nrow", "nvalid"):
            np.testing.assert_allclose(a[k], b[k], rtol=1e-12, err_msg=k)
        assert (a["n"][-1] == 0).all() and np.isnan(a["theta"][-1]).all()
        np.testing.assert_allclose(a["var"], b["var"], rtol=1e-9)
        assert (a["var"][-1] == 0).all()
        # a column without any valid answer in one domain
        M1 = M.copy()
        M1[dom == 0, 0] = False
        same(d, dom, len(labels), np.where(M1, Y, 0.0), M1, np.where(M1, X, 0.0),
             msg=f"{name} no answer")


@pytest.mark.parametrize("lonely", ["certainty", "remove", "adjust", "average"])
def test_lonely_psu_rules(tiny, lonely):
    """Two strata of one PSU (one with scores in a domain only, and only in one column),
    under every rule; "average" as R on a domain (strata of the domain's valid answers)."""
    df = frame(3)
    df.loc[df.index[:3], ["quartier", "ilot"]] = ["Seul", "Seul-0"]
    df.loc[df.index[3:4], ["quartier", "ilot"]] = ["Isolé", "Isolé-0"]
    df.loc[df.index[3:4], "sexe"] = "Femme"
    df.loc[df.index[3:4], "score"] = np.nan   # the lonely stratum has no answer to score
    Y, M, X = columns(df)
    for cluster in (None, "ilot"):
        d = Design(df, weights="poids", strata="quartier", cluster=cluster, lonely_psu=lonely)
        if cluster is None:     # a stratum of one respondent
            assert d.lonely.sum() == 1
        else:
            assert d.lonely.sum() == 2
        for by in (None, "sexe", "groupe"):
            dom, labels = d.domain_codes(by)
            same(d, dom, len(labels), Y, M, X, msg=f"{lonely} {cluster} {by}")


def test_lonely_psu_fail_only_where_a_score_reaches_it(tiny):
    """"fail": a lonely stratum without any row in the domain does not stop the estimate."""
    df = frame(4)
    df.loc[df.index[:2], ["quartier", "ilot", "sexe"]] = ["Seul", "Seul-0", "Femme"]
    Y, M, X = columns(df)
    d = Design(df, weights="poids", strata="quartier", cluster="ilot", lonely_psu="fail")
    dom, labels = d.domain_codes("sexe")
    homme = np.where(dom == labels.index("Homme"), 0, -1)
    same(d, homme, 1, Y, M, X)
    for engine in (lambda: d._linear_pairs("mean", Y, M, dom, 2, threads=2),
                   lambda: d._linear_rows("mean", Y, M, dom, 2, None)):
        with pytest.raises(EstimationError, match="« Seul » ne contient qu'une seule"):
            engine()
    # the lonely PSU's rows of the domain have no answer: R's svyby(~y, ~sexe, design,
    # svymean, na.rm = TRUE) drops them and does not fail (checked with survey 4.1.1)
    M0 = M.copy()
    M0[:2] = False
    same(d, dom, 2, np.where(M0, Y, 0.0), M0, np.where(M0, X, 0.0))


@pytest.mark.parametrize("domain_df", ["domain", "answers"])
@pytest.mark.parametrize("kind", ["poststrata", "raking"])
def test_calibrated_designs(tiny, kind, domain_df):
    """Post-stratification and raking, with a missing domain label and
    a domain present in some strata only."""
    df = frame(5)   # (weighting refuses zero input weights)
    df.loc[df.index[::13], "groupe"] = None
    if kind == "poststrata":
        pop = df.groupby("quartier").size() * 25.0
        cal = wt.poststratify(df, "quartier", pop, weight="poids")
    else:
        cal = wt.rake(df, {"quartier": df.groupby("quartier").size() * 25.0,
                           ("sexe", "logement"): df.groupby(["sexe", "logement"]).size() * 25.0},
                      weight="poids")
    Y, M, X = columns(df)
    for cluster in (None, "ilot"):
        d = Design(df, strata="quartier", cluster=cluster, calibration=cal,
                   lonely_psu="adjust", domain_df=domain_df)
        for by in (None, "sexe", "groupe", ["quartier", "sexe"]):
            dom, labels = d.domain_codes(by)
            same(d, dom, len(labels), Y, M, X, msg=f"{kind} {cluster} {by}")


@pytest.mark.parametrize("lonely", ["adjust", "certainty", "average"])
def test_two_stages_with_fpc(tiny, lonely):
    """``cluster=[a, b]``, ``fpc=[..]``: the second stage's pairs (SSU, domain) grouped by
    (PSU, domain); a PSU of a single SSU is a lonely stratum of the second stage."""
    rng = np.random.default_rng(6)
    df = frame(6)
    df["logt"] = [f"{i}-{k}" for i, k in zip(df.ilot, rng.integers(0, 4, len(df)))]
    df.loc[df.index[:2], ["quartier", "ilot", "logt"]] = [df.quartier.iloc[0],
                                                          df.ilot.iloc[0] + "x", "seul"]
    n_ilot = df.groupby("quartier").ilot.transform("nunique")
    n_logt = df.groupby("ilot").logt.transform("nunique")
    Y, M, X = columns(df)
    d = Design(df, weights="poids", strata="quartier", cluster=["ilot", "logt"],
               fpc=[n_ilot * 3.0, n_logt * 2.0], lonely_psu=lonely)
    assert len(d.stages) == 2 and d.stages[1].lonely.any()
    for by in (None, "sexe", "groupe"):
        dom, labels = d.domain_codes(by)
        same(d, dom, len(labels), Y, M, X, msg=f"{lonely} {by}")


def test_raked_two_stage_design_with_fpc(tiny):
    """Calibration residuals reach the pairs of both stages (correction entries per stage)."""
    rng = np.random.default_rng(10)
    df = frame(10)
    df["logt"] = [f"{i}-{k}" for i, k in zip(df.ilot, rng.integers(0, 3, len(df)))]
    fpc = [df.groupby("quartier").ilot.transform("nunique") * 2.0,
           df.groupby("ilot").logt.transform("nunique") * 4.0]
    cal = wt.rake(df, {"sexe": df.groupby("sexe").size() * 25.0,
                       "logement": df.groupby("logement").size() * 25.0}, weight="poids")
    d = Design(df, strata="quartier", cluster=["ilot", "logt"], fpc=fpc, calibration=cal,
               lonely_psu="adjust")
    assert len(d.stages) == 2
    Y, M, X = columns(df)
    for by in (None, "sexe", "groupe"):
        dom, labels = d.domain_codes(by)
        same(d, dom, len(labels), Y, M, X, msg=str(by))


def test_ratio_with_a_zero_denominator(tiny):
    """A domain whose denominators are all zero: infinite estimate, zero variance, as rows."""
    df = frame(7)
    Y, M, X = columns(df)
    d = Design(df, weights="poids", strata="quartier", cluster="ilot", lonely_psu="adjust")
    dom, labels = d.domain_codes("groupe")
    X = X.copy()
    X[dom == labels.index("A")] = 0.0
    same(d, dom, len(labels), Y, M, X, kinds=("ratio",))
    a = d._linear_pairs("ratio", Y, M, dom, len(labels), X, threads=2)
    bad = labels.index("A")
    assert np.isinf(a["theta"][bad]).all() and (a["var"][bad] == 0).all()


@pytest.mark.parametrize("calibrated", [False, True])
def test_categorical_question_of_several_levels(tiny, calibrated):
    """Proportions of a 3-level question and a 0/1 question: one mask per question
    (``colvar`` not the identity), as ``proportion`` calls the engine."""
    df = frame(8)
    df.loc[df.index[::9], "renonce"] = None
    d = (Design(df, strata="quartier", cluster="ilot", lonely_psu="adjust",
                calibration=wt.rake(df, {"sexe": df.groupby("sexe").size() * 20.0},
                                    weight="poids"))
         if calibrated else
         Design(df, weights="poids", strata="quartier", cluster="ilot", lonely_psu="adjust"))
    lv1, Y1, v1, _, _ = d._categorical("renonce", sv.MISSING_DEFAULT, False, None)
    assert len(lv1) == 3
    Y2 = (df.score > 55).astype(float).where(df.score.notna()).fillna(0).to_numpy()[:, None]
    Y = np.hstack([Y1, Y2])
    Mq = np.column_stack([v1, df.score.notna().to_numpy()])
    colvar = np.array([0, 0, 0, 1])
    for by in (None, "sexe", "groupe"):
        dom, labels = d.domain_codes(by)
        a = d._linear_pairs("mean", Y, Mq, dom, len(labels), colvar=colvar, binary=True,
                            threads=2)
        b = d._linear_rows("mean", Y, Mq[:, colvar], dom, len(labels), None)
        for k in KEYS:
            np.testing.assert_allclose(a[k], b[k], rtol=1e-9, atol=1e-12, err_msg=f"{by} {k}")
        # the float 0/1 mask of the numeric block gives the same result
        c = d._linear_pairs("mean", Y, Mq.astype(float), dom, len(labels), colvar=colvar,
                            binary=True, threads=2)
        for k in KEYS:
            np.testing.assert_allclose(c[k], b[k], rtol=1e-9, atol=1e-12, err_msg=f"{by} {k}")


def test_plan_cache_other_domains_and_changed_data(tiny):
    """Plans kept per domain split: asking by another split and back, with more columns
    (another block size) and after the data column changes, gives the row path's values."""
    df = frame(9)
    d = Design(df, weights="poids", strata="quartier", cluster="ilot", lonely_psu="adjust")
    Y, M, X = columns(df)
    df["moitie"] = np.where(np.arange(len(df)) % 3 == 0, "un", "deux")  # two domains, as sexe
    splits = [None, "sexe", "moitie", "groupe", "quartier", ["quartier", "sexe"], "sexe",
              "moitie", None]
    for by in splits:
        dom, labels = d.domain_codes(by)
        same(d, dom, len(labels), Y, M, X, msg=str(by))
        same(d, dom, len(labels), Y[:, :1], M[:, :1], X[:, :1], msg=f"{by} one column")
    assert len(d._plans) == 4
    # same codes, different number of domains: not the same plan
    dom, labels = d.domain_codes("sexe")
    same(d, dom, len(labels), Y, M, X, kinds=("mean",))
    same(d, dom, len(labels) + 1, Y, M, X, kinds=("mean",), keys=("theta", "n", "degf"))
    # indicators.py writes its column into design.data between calls
    for seed in (1, 2):
        d.data["_y"] = (np.random.default_rng(seed).random(len(df)) < 0.3).astype(float)
        got = d.proportion("_y", levels=1.0, by="sexe").set_index("domain")
        m = d.data.groupby("sexe").apply(lambda g: np.average(g._y, weights=g.poids))
        np.testing.assert_allclose(got.estimate.to_numpy(), m.to_numpy(), rtol=1e-12)
        dom, labels = d.domain_codes("sexe")
        y = d.data["_y"].to_numpy()[:, None]
        b = d._linear_rows("mean", y, np.ones_like(y, bool), dom, len(labels), None)
        np.testing.assert_allclose(got.se.to_numpy() ** 2, b["var"].ravel(), rtol=1e-9)


@pytest.mark.parametrize("domain_df", ["domain", "answers"])
def test_proportion_counts_add_up(domain_df):
    """Every row of a domain is a valid answer, a missing answer or an empty cell."""
    df = pd.DataFrame({"x": ["Oui"] * 6 + ["Non"] * 2 + ["Ne sait pas", "Refus", None],
                       "q": ["a", "b"] * 5 + ["a"]})
    res = Design(df, domain_df=domain_df).proportion("x", levels="Oui", by="q")
    res = res.set_index("domain")
    # hand count: a = Oui Oui Oui Non | Ne sait pas | None ; b = Oui Oui Oui Non | Refus
    assert res.n.to_dict() == {"a": 4, "b": 4}
    assert res.numerator.to_dict() == {"a": 3, "b": 3}
    assert res.n_missing.to_dict() == {"a": 1, "b": 1}
    assert res.n_na.to_dict() == {"a": 1, "b": 0}
    num = pd.DataFrame({"y": [1.0, 0.0, np.nan, 1.0, np.nan, 0.0], "q": ["a"] * 3 + ["b"] * 3})
    res = Design(num, domain_df=domain_df).proportion("y", levels=1.0, by="q")
    assert res.n_na.tolist() == [1, 1] and res.n_missing.tolist() == [0, 0]


@pytest.mark.parametrize("domain_df", ["domain", "answers"])
def test_numeric_block_equals_categorical_path(tiny, domain_df):
    """The one-pass indicator block of numeric columns (float 0/1 mask, no missing-answer
    arrays) gives the table of the general categorical path, zero weights and a missing
    domain label included."""
    df = frame(11)
    df.loc[df.index[::17], "poids"] = 0.0
    df.loc[df.index[::19], "groupe"] = None
    df["y2"] = df.logement.astype(float).where(df.score.notna())
    d = Design(df, weights="poids", strata="quartier", cluster="ilot", lonely_psu="adjust",
               domain_df=domain_df)
    cols = ["estimate", "se", "ci_low", "ci_high", "n", "df", "deff", "numerator",
            "n_missing", "n_na"]
    slow = {by: d.proportion(["rare", "y2"], by=by, ci_method="beta")   # every level
            for by in (None, "groupe")}
    for variables, levels in ((["rare", "y2"], 1.0), ("y2", [1.0, 2.0])):
        assert d._numeric_block(list(np.atleast_1d(variables)), levels) is not None
        for by in (None, "groupe"):
            fast = d.proportion(variables, levels=levels, by=by, ci_method="beta")
            ref = slow[by].set_index(["domain", "variable", "level"]).loc[
                pd.MultiIndex.from_frame(fast[["domain", "variable", "level"]])]
            for c in cols:
                np.testing.assert_allclose(fast[c].to_numpy(float), ref[c].to_numpy(float),
                                           rtol=1e-9, err_msg=f"{variables} {by} {c}")


def test_chisq_leaves_out_every_missing_token():
    """Rao-Scott on a categorical and an object column with « Ne sait pas » / « REFUS »:
    the same test as on the columns where those answers are empty cells."""
    df = frame(12)
    df.loc[df.index[::6], "sexe"] = "REFUS"
    df["renonce_c"] = pd.Categorical(df.renonce)
    d = Design(df, weights="poids", strata="quartier", cluster="ilot", lonely_psu="adjust")
    blank = df.copy()
    blank["sexe"] = blank.sexe.where(blank.sexe != "REFUS")
    blank["renonce_c"] = blank.renonce.where(blank.renonce != "Ne sait pas")
    e = Design(blank, weights="poids", strata="quartier", cluster="ilot", lonely_psu="adjust")
    got, exp = d.chisq("renonce_c", "sexe"), e.chisq("renonce_c", "sexe")
    assert got.attrs["table"].value.shape == (3, 2)
    for k in ("chisq", "statistic", "df", "p_value", "mean_deff"):
        assert got[k].iloc[0] == pytest.approx(exp[k].iloc[0], rel=1e-12), k


# ----------------------------------------------------------------------------------------
# the same edge cases against R: tests/fixtures/r_survey/survey_blocks.R (R 4.2, survey
# 4.1.1) writes survey_blocks.csv and the columns it adds to apistrat (survey_blocks_data.csv)
# ----------------------------------------------------------------------------------------
FIX = Path(__file__).parent / "fixtures" / "r_survey"


def r_blocks():
    ref = pd.read_csv(FIX / "survey_blocks.csv", keep_default_na=False)
    ref["value"] = ref["value"].astype(float)
    data = pd.concat([pd.read_csv(FIX / "apistrat.csv"),
                      pd.read_csv(FIX / "survey_blocks_data.csv")], axis=1)
    return ref, data


def check_r(ref, case, res, stats_):
    rows = ref[ref.case == case]
    assert len(rows) > 0, case
    got = res.set_index("domain")
    for _, row in rows[rows.stat.isin(stats_)].iterrows():
        exp, val = row.value, got.loc[row.domain, row.stat]
        if np.isnan(exp):
            assert np.isnan(val) or val == 0, (case, row.domain, row.stat, val)
            continue
        assert np.isclose(val, exp, rtol=1e-6, atol=1e-9), (case, row.domain, row.stat, val,
                                                             exp)


def test_zero_weights_missing_domains_partial_domains_match_r(tiny):
    ref, s = r_blocks()
    d0 = Design(s, weights="pw0", strata="stype")
    assert d0.degf == ref[ref.case == "zero"].value.iloc[0]
    check_r(ref, "zero:mean", d0.mean("api00", by="awards"), ["estimate", "se"])
    check_r(ref, "zero:total", d0.total("enroll", by="awards"), ["estimate", "se"])
    check_r(ref, "zero:ciprop", d0.proportion("yes", levels=1.0, by="awards"),
            ["estimate", "ci_low", "ci_high"])
    d = Design(s, weights="pw", strata="stype")
    for case, by in (("nadom", "grp"), ("partial", "grp2")):
        check_r(ref, f"{case}:mean", d.mean("api00", by=by), ["estimate", "se"])
        check_r(ref, f"{case}:ciprop", d.proportion("yes", levels=1.0, by=by),
                ["estimate", "ci_low", "ci_high"])


@pytest.mark.parametrize("rule", ["certainty", "remove", "adjust", "average"])
def test_lonely_psu_rules_match_r(tiny, rule):
    ref, s = r_blocks()
    d = Design(s, weights="pw", strata="lone", lonely_psu=rule)
    assert d.lonely.sum() == 2
    check_r(ref, f"lonely_{rule}:mean", d.mean("api00"), ["estimate", "se"])
    check_r(ref, f"lonely_{rule}:by_mean", d.mean("api00", by="sch2"), ["estimate", "se"])
    check_r(ref, f"lonely_{rule}:by_mean_na", d.mean("api00m", by="sch2"), ["estimate", "se"])
    check_r(ref, f"lonely_{rule}:total", d.total("enroll"), ["estimate", "se"])
