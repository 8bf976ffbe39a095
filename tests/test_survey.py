"""Tests of diagnostics.stats.survey against R's survey 4.1 on R's own ``api`` data, and properties.

Reference values: tests/fixtures/r_survey/reference_values.csv, produced by
tests/fixtures/r_survey/make_reference.R (R 4.2, survey 4.1.1).
"""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from diagnostics.errors import EstimationError
from diagnostics.stats import weighting as wt
from diagnostics.stats.survey import CI_METHODS, RESULT_COLUMNS, Design, proportion_ci

FIX = Path(__file__).parent / "fixtures" / "r_survey"
RTOL, ATOL = 1e-6, 1e-12
R_METHODS = ["logit", "likelihood", "asin", "beta", "mean", "xlogit"]

REF = pd.read_csv(FIX / "reference_values.csv", keep_default_na=False)
REF["value"] = REF["value"].astype(float)
STRAT = pd.read_csv(FIX / "apistrat.csv")
CLUS = pd.read_csv(FIX / "apiclus1.csv")
POP_TYPES = pd.Series({"E": 4421.0, "H": 755.0, "M": 1018.0})
POP_SCHWIDE = pd.Series({"No": 1072.0, "Yes": 5122.0})


def make_design(name):
    if name == "weights":
        return Design(STRAT, weights="pw")
    if name == "strat":
        return Design(STRAT, weights="pw", strata="stype")
    if name == "stratfpc":
        return Design(STRAT, weights="pw", strata="stype", fpc="fpc")
    if name == "clus1":
        return Design(CLUS, weights="pw", cluster="dnum")
    if name == "clus1fpc":
        return Design(CLUS, weights="pw", cluster="dnum", fpc="fpc")
    if name == "clus1_ps":
        ps = wt.poststratify(CLUS, "stype", POP_TYPES, weight="pw")
        return Design(CLUS, cluster="dnum", fpc="fpc", calibration=ps)
    if name == "clus1_rake":
        rk = wt.rake(CLUS, {"stype": POP_TYPES, "sch.wide": POP_SCHWIDE}, weight="pw")
        return Design(CLUS, cluster="dnum", fpc="fpc", calibration=rk)
    if name == "strat_rake":
        rk = wt.rake(STRAT, {"sch.wide": {"No": 1200, "Yes": 4994},
                             "awards": {"No": 2300, "Yes": 3894}}, weight="pw")
        return Design(STRAT, strata="stype", calibration=rk)
    raise KeyError(name)


DESIGNS = ["weights", "strat", "stratfpc", "clus1", "clus1fpc", "clus1_ps", "clus1_rake",
           "strat_rake"]
_CACHE = {}


def design(name):
    if name not in _CACHE:
        _CACHE[name] = make_design(name)
    return _CACHE[name]


def r(dn, case, stat, level="", domain=""):
    x = REF[(REF.case == f"{dn}:{case}") & (REF.stat == stat)
            & (REF.level.astype(str) == str(level)) & (REF.domain.astype(str) == str(domain))]
    assert len(x) == 1, (dn, case, stat, level, domain)
    return x.value.iloc[0]


def has(dn, case):
    return (REF.case == f"{dn}:{case}").any()


def check(rows, dn, case, stats_, level_col="level", level=None, domain=False):
    assert len(rows) > 0
    for _, row in rows.iterrows():
        lv = row[level_col] if level is None else level
        dom = row["domain"] if domain else ""
        for st in stats_:
            exp = r(dn, case, st, lv, dom)
            if np.isnan(exp):  # R undefined (zero variance after calibration): nothing to compare
                continue
            assert np.isclose(row[st], exp, rtol=RTOL, atol=ATOL, equal_nan=True), (dn, case, st, lv, dom,
                                                                   row[st], exp)


@pytest.mark.parametrize("dn", DESIGNS)
def test_mean_total_ratio_match_r(dn):
    d = design(dn)
    m = d.mean(["api00", "enroll"])
    assert list(m.columns[:12]) == RESULT_COLUMNS
    check(m, dn, "mean", ["estimate", "se", "deff", "ci_low", "ci_high"], level_col="variable")
    check(d.total("enroll"), dn, "total", ["estimate", "se", "deff"], level="enroll")
    check(d.ratio("api.stu", "enroll"), dn, "ratio", ["estimate", "se", "deff"],
          level="api.stu/enroll")
    check(d.mean("acs.k3"), dn, "mean_na", ["estimate", "se", "deff"], level="acs.k3")
    check(d.proportion("stype"), dn, "prop_stype", ["estimate", "se", "deff"])
    assert d.degf == r(dn, "degf", "value")


@pytest.mark.parametrize("dn", DESIGNS)
def test_domains_match_svyby(dn):
    d = design(dn)
    check(d.mean(["api00", "enroll"], by="stype"), dn, "by_mean",
          ["estimate", "se", "ci_low", "ci_high", "deff"], level_col="variable", domain=True)
    check(d.proportion("sch.wide", by="stype"), dn, "by_prop", ["estimate", "se", "deff"],
          domain=True)
    check(d.by("stype").total("enroll"), dn, "by_total", ["estimate", "se", "deff"],
          level="enroll", domain=True)
    check(d.ratio("api.stu", "enroll", by="stype"), dn, "by_ratio", ["estimate", "se"],
          level="api.stu/enroll", domain=True)


@pytest.mark.parametrize("method", R_METHODS)
@pytest.mark.parametrize("dn", DESIGNS)
def test_ciprop_matches_svyciprop(dn, method):
    d = design(dn)
    for case, var, lev in [("ciprop", "sch.wide", "Yes"), ("ciprop_awards", "awards", "No")]:
        if has(dn, f"{case}:{method}"):  # R failed on one likelihood case: nothing to compare
            res = d.proportion(var, ci_method=method, levels=lev)
            check(res, dn, f"{case}:{method}", ["estimate", "ci_low", "ci_high"])
    if has(dn, f"by_ciprop:{method}"):
        res = d.proportion("sch.wide", ci_method=method, levels="Yes", by="stype")
        check(res, dn, f"by_ciprop:{method}", ["estimate", "se", "ci_low", "ci_high"],
              domain=True)


@pytest.mark.parametrize("dn", DESIGNS)
@pytest.mark.parametrize("pair", [("sch.wide", "stype"), ("api_cat", "stype"),
                                  ("awards", "api_cat")])
def test_chisq_matches_svychisq(dn, pair):
    c = design(dn).chisq(*pair).iloc[0]
    key = f"chisq:{pair[0]}x{pair[1]}"
    got = {"F": c.statistic, "F_ndf": c.df_num, "F_ddf": c.df, "F_p": c.p_value, "X2": c.chisq,
           "X2_df": c.chisq_df, "X2_p": c.p_chisq}
    for st, v in got.items():
        assert np.isclose(v, r(dn, key, st), rtol=RTOL, atol=0), (st, v, r(dn, key, st))
    assert c.kind == "independence" and c.variable == f"{pair[0]} × {pair[1]}"


def test_chisq_equals_pearson_under_simple_random_sampling():
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"a": rng.choice(list("xyz"), 300), "b": rng.choice(list("uv"), 300)})
    c = Design(df).chisq("a", "b").iloc[0]
    x2, p, dof, _ = stats.chi2_contingency(pd.crosstab(df.a, df.b), correction=False)
    assert c.chisq == pytest.approx(x2, rel=1e-12) and c.chisq_df == dof


# ---------------------------------------------------------------------------- properties

def synthetic(seed, n=2000):
    rng = np.random.default_rng(seed)
    q = rng.choice(["Biollay", "Bellevue", "Hauts-de-Chambéry", "Centre"], n, p=[.4, .3, .2, .1])
    df = pd.DataFrame({
        "quartier": q,
        "sexe": rng.choice(["Femme", "Homme"], n),
        "ilot": [f"{a}-{b}" for a, b in zip(q, rng.integers(0, 12, n))],
        "poids": rng.gamma(4, 5, n),
        "renonce": rng.choice(["Oui", "Non", "Ne sait pas", "Refus"], n, p=[.2, .6, .15, .05]),
        "rare": (rng.random(n) < 0.03).astype(float),
        "score": rng.normal(50, 10, n),
    })
    df.loc[rng.random(n) < 0.05, "score"] = np.nan
    return df


@pytest.mark.parametrize("method", ["logit", "beta", "wilson", "likelihood", "asin"])
def test_proportion_cis_contain_estimate_within_unit_interval(method):
    df = synthetic(11)
    d = Design(df, weights="poids", strata="quartier", cluster="ilot")
    res = pd.concat([d.proportion("renonce", ci_method=method, by=["quartier", "sexe"]),
                     d.proportion("rare", ci_method=method, by="quartier")])
    assert res[["ci_low", "ci_high"]].notna().all().all()
    assert (res.ci_low >= 0).all() and (res.ci_high <= 1).all()
    assert (res.ci_low <= res.estimate + 1e-12).all() and (res.estimate <= res.ci_high + 1e-12).all()


def test_domain_estimates_average_to_overall():
    df = synthetic(12)
    d = Design(df, weights="poids", strata="quartier", cluster="ilot")
    for est in (d.mean("score"), d.proportion("renonce")):
        key = ["variable", "level"]
        by = (d.mean("score", by="sexe") if est.variable.iloc[0] == "score"
              else d.proportion("renonce", by="sexe"))
        valid = (df["score"].notna() if est.variable.iloc[0] == "score"
                 else ~df["renonce"].isin(["Ne sait pas", "Refus"]))
        wsum = df.loc[valid].groupby("sexe")["poids"].sum()
        by["W"] = by["domain"].map(wsum)
        avg = by.groupby(key).apply(lambda g: np.sum(g.estimate * g.W) / g.W.sum())
        for _, row in est.iterrows():
            assert avg[(row.variable, row.level)] == pytest.approx(row.estimate, rel=1e-12)


def test_domain_fast_path_equals_row_path():
    """The vectorised (PSU × domain) computation equals explicit per-domain scores."""
    df = synthetic(13, n=800)
    d = Design(df, weights="poids", strata="quartier", cluster="ilot", fpc=np.full(800, 0.1))
    dom, labels = d.domain_codes("sexe")
    Y = np.column_stack([df.score.to_numpy(), df.rare.to_numpy()])
    M = ~np.isnan(Y)
    for kind, X in [("mean", None), ("total", None), ("ratio", np.abs(Y) + 1)]:
        Yz = np.where(M, Y, 0.0)
        Xz = None if X is None else np.where(M, X, 0.0)
        a = d._linear_pairs(kind, Yz, M, dom, len(labels), Xz)
        b = d._linear_rows(kind, Yz, M, dom, len(labels), Xz)
        for k in ("theta", "var", "n", "degf", "deff"):
            np.testing.assert_allclose(a[k], b[k], rtol=1e-10, err_msg=f"{kind} {k}")


@pytest.mark.parametrize("calibrated", [False, True])
@pytest.mark.parametrize("pairs", [5, 40])
def test_blocks_and_threads_equal_row_path(monkeypatch, calibrated, pairs):
    """Small blocks of pairs (whole groups packed in a block, or a group larger than a block
    summed, then squared, block by block) and two threads sharing the rows and the pairs give
    the explicit per-domain scores of the row path, for every statistic, domain split and
    lonely-PSU rule."""
    monkeypatch.setattr("diagnostics.stats.survey.variance.MIN_BLOCK", 1)
    monkeypatch.setattr("diagnostics.stats.survey.variance.BLOCK_BYTES", 8 * 3 * pairs)      # blocks of `pairs` pairs
    monkeypatch.setattr("diagnostics.stats.survey.variance.MIN_ROWS_PER_THREAD", 1)
    monkeypatch.setattr("diagnostics.stats.survey.variance.FILL_ROWS", 64)
    df = synthetic(17, n=700)
    df.loc[df.index[:1], "quartier"] = "Seul"                   # a stratum of one PSU
    df.loc[df.index[:1], "ilot"] = "Seul-0"
    Y = np.column_stack([df.score.to_numpy(), df.rare.to_numpy(), df.poids.to_numpy() % 3])
    M = ~np.isnan(Y)
    Yz, Xz = np.where(M, Y, 0.0), np.where(M, np.abs(Y) + 1, 0.0)
    cal = None
    if calibrated:
        cal = wt.rake(df, {("quartier", "sexe"): df.groupby(["quartier", "sexe"]).size() * 30.0},
                      weight="poids")
    for lonely in ("adjust", "average", "certainty"):
        for cluster in (None, "ilot"):
            d = (Design(df, strata="quartier", cluster=cluster, calibration=cal,
                        lonely_psu=lonely) if calibrated else
                 Design(df, weights="poids", strata="quartier", cluster=cluster,
                        lonely_psu=lonely))
            for by in (None, "sexe", ["quartier", "sexe"]):
                dom, labels = d.domain_codes(by)
                for kind, X in [("mean", None), ("total", None), ("ratio", Xz)]:
                    a = d._linear_pairs(kind, Yz, M, dom, len(labels), X, threads=2)
                    b = d._linear_rows(kind, Yz, M, dom, len(labels), X)
                    for k in ("theta", "var", "n", "degf"):
                        np.testing.assert_allclose(
                            a[k], b[k], rtol=1e-9, atol=1e-12,
                            err_msg=f"{kind} {k} {by} {cluster} {lonely} {calibrated}")
    # the fast indicator block and its count of "yes" agree with a plain count
    res = Design(df, weights="poids", strata="quartier", cluster="ilot",
                 lonely_psu="adjust").proportion("rare", levels=1.0, by="sexe")
    assert res.set_index("domain")["numerator"].to_dict() == \
        df[df.rare == 1].groupby("sexe").size().to_dict()


def test_lonely_psu_fails_through_blocks_and_threads(monkeypatch):
    monkeypatch.setattr("diagnostics.stats.survey.variance.MIN_BLOCK", 1)
    monkeypatch.setattr("diagnostics.stats.survey.variance.BLOCK_BYTES", 8)
    monkeypatch.setattr("diagnostics.stats.survey.variance.MIN_ROWS_PER_THREAD", 1)
    df = synthetic(18, n=300)
    df.loc[df.index[:1], "quartier"] = "Seul"
    df.loc[df.index[:1], "ilot"] = "Seul-0"
    d = Design(df, weights="poids", strata="quartier", cluster="ilot")
    with pytest.raises(EstimationError, match="« Seul » ne contient qu'une seule unité"):
        d.mean("score", by="sexe")


def test_missing_answers_excluded_and_counted():
    df = pd.DataFrame({"x": ["Oui"] * 6 + ["Non"] * 2 + ["Ne sait pas", "REFUS", None],
                       "w": [1.0] * 11})
    d = Design(df, weights="w")
    res = d.proportion("x").set_index("level")
    assert res.loc["Oui", "estimate"] == pytest.approx(6 / 8)
    assert res.loc["Oui", "n"] == 8 and res.loc["Oui", "numerator"] == 6
    assert res.loc["Oui", "n_missing"] == 2 and res.loc["Oui", "n_na"] == 1
    kept = d.proportion("x", keep_missing=True).set_index("level")
    assert kept.loc["Oui", "estimate"] == pytest.approx(6 / 10)
    assert set(kept.index) == {"Oui", "Non", "Ne sait pas", "REFUS"}


def test_multiple_choice_hand_calculation():
    df = pd.DataFrame({"aide_famille": [1, 0, 1, np.nan, 0, 1],
                       "aide_voisin": [0, 0, 1, np.nan, 1, 0],
                       "w": [1.0, 2.0, 1.0, 5.0, 2.0, 2.0]})
    d = Design(df, weights="w")
    res = d.multiple_choice(["aide_famille", "aide_voisin"]).set_index("level")
    # answered: rows 0,1,2,4,5 -> weight 8; famille: 1+1+2 = 4; voisin: 1+2 = 3
    assert res.loc["aide_famille", "estimate"] == pytest.approx(4 / 8)
    assert res.loc["aide_voisin", "estimate"] == pytest.approx(3 / 8)
    assert (res["n"] == 5).all() and (res["n_missing"] == 1).all()
    assert (res["variable"] == "aide").all()


def test_small_sample_flags_keep_estimates():
    df = synthetic(14, n=400)
    d = Design(df, weights="poids", fragile_n=30, suppress_n=10)
    res = d.proportion("rare", levels=1.0, by=["quartier", "sexe"])
    assert (res.fragile == (res.n < 30)).all() and (res.suppressed == (res.n < 10)).all()
    assert res.estimate.notna().all()
    small = Design(df.iloc[:40], weights="poids").mean("score", by="quartier")
    assert small.fragile.all() and small.suppressed.any()


def test_wilson_hand_calculation():
    # equal weights, no strata/clusters: v = p(1-p)/(n-1), so n* = n - 1 and t ratio = 1
    y = np.array([1.0] * 12 + [0.0] * 18)
    res = Design(pd.DataFrame({"y": y})).proportion("y", ci_method="wilson", levels=1.0)
    p, n, z = 0.4, 29, stats.norm.ppf(0.975)
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    assert res.ci_low.iloc[0] == pytest.approx(centre - half, rel=1e-12)
    assert res.ci_high.iloc[0] == pytest.approx(centre + half, rel=1e-12)


def test_degenerate_proportion_falls_back_to_beta():
    lo, hi, deg = proportion_ci([0.0, 1.0], [0.0, 0.0], [20, 20], [21, 21], "logit")
    assert deg.all()
    assert lo[0] == 0 and hi[0] == pytest.approx(1 - 0.025 ** (1 / 21), rel=1e-9)
    assert hi[1] == 1 and lo[1] == pytest.approx(0.025 ** (1 / 21), rel=1e-9)


def test_every_ci_method_selectable_by_name():
    d = Design(synthetic(15, n=300), weights="poids")
    for m in CI_METHODS + ("korn-graubard", "arcsine", "wald"):
        res = d.proportion("renonce", ci_method=m)
        assert res.ci_low.notna().all()
    with pytest.raises(EstimationError, match="Méthode d'intervalle"):
        d.proportion("renonce", ci_method="bayes")


def test_lonely_psu_fails_in_french_and_certainty_is_zero():
    df = pd.DataFrame({"s": ["a", "a", "b"], "c": [1, 2, 3], "y": [1.0, 2.0, 3.0]})
    with pytest.raises(EstimationError, match="une seule unité primaire"):
        Design(df, strata="s", cluster="c").mean("y")
    # the lonely PSU is taken with certainty (fpc = 1 PSU): it contributes no variance
    d = Design(df, strata="s", cluster="c", fpc=np.array([10, 10, 1]))
    assert np.isfinite(d.mean("y").se.iloc[0])
    assert Design(df, strata="s", cluster="c", lonely_psu="certainty").mean("y").se.iloc[0] > 0


def test_clusters_must_nest_in_strata():
    df = pd.DataFrame({"s": ["a", "b", "a", "b"], "c": [1, 1, 2, 2], "y": [1.0, 2, 3, 4]})
    with pytest.raises(EstimationError, match="plusieurs strates"):
        Design(df, strata="s", cluster="c")
    assert Design(df, strata="s", cluster="c", nest=True).n_psu == 4


@pytest.mark.parametrize("by", ["quartier", "sexe", ["quartier", "sexe"], None])
def test_raked_grouped_form_equals_row_backfitting(by):
    """The cell-level calibration residuals equal R's row-level back-fitting (10 sweeps),
    raked within each quartier (margins quartier × sexe, quartier × age) and across."""
    df = synthetic(16, n=900)
    df["age"] = np.random.default_rng(1).choice(["jeune", "adulte", "senior"], len(df))
    m_qs = df.groupby(["quartier", "sexe"]).size() * 30.0
    m_qa = df.groupby(["quartier", "age"]).size() * 30.0
    rk = wt.rake(df, {("quartier", "sexe"): m_qs, ("quartier", "age"): m_qa}, weight="poids",
                 r_epsilon=1, max_iter=2)        # unconverged: per-margin weights matter
    for cluster in (None, "ilot"):
        d = Design(df, strata="quartier", cluster=cluster, calibration=rk)
        dom, labels = d.domain_codes(by)
        Y = np.column_stack([df.score.to_numpy(), df.rare.to_numpy()])
        M = ~np.isnan(Y)
        Yz = np.where(M, Y, 0.0)
        for kind in ("mean", "total"):
            a = d._linear_pairs(kind, Yz, M, dom, len(labels))
            b = d._linear_rows(kind, Yz, M, dom, len(labels), None)
            for k in ("theta", "var", "n", "degf", "deff"):
                np.testing.assert_allclose(a[k], b[k], rtol=1e-9, atol=1e-14,
                                           err_msg=f"{kind} {k} {by} {cluster}")
