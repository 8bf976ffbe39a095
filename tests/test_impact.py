"""Tests of diagnostics.impact (IMPACT evaluation statistics).

Reference values come from R 4.2.2 (base ``stats``), see ``tests/fixtures/impact/reference.R``
(run ``Rscript tests/fixtures/impact/reference.R``), and from published worked examples:

* Newcombe RG (1998) Stat Med 17:2635–2650, example (a) 36/12/2/0: method 10 gives
  θ = 0.2000, 95 % CI 0.0569 to 0.3404;
* Fagerland MW, Lydersen S, Laake P (2017) Statistical Analysis of Contingency Tables, ch. 8,
  Cavo et al. (2012) table 59/6/16/80: Newcombe square-and-add −0.0621 (−0.1186 to −0.0046)
  (the value the book's companion R package ``contingencytables`` checks in its tests).
Tango's interval is checked against an R implementation of Tango's published formula
(``reference.R``) and by the score equation it must solve.

Orientation: the reference formulas give *first − second* = (b − c)/n; the library reports
*après − avant* = (c − b)/n, so the limits are negated and swapped.
"""
from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from diagnostics import impact, paths
from diagnostics.errors import DLSError
from diagnostics.impact.proportions import _tango_score, wilson_interval

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = paths.EXAMPLE
SUIVI = SAMPLE / "impact_suivi_synthetique.csv"
FIX = Path(__file__).parent / "fixtures" / "impact"
ACTIVITE = SAMPLE / "impact_activite_synthetique.csv"


def flip(ref):
    """(θ, L, U) of first − second → (θ, L, U) of second − first."""
    t, lo, hi = ref
    return -t, -hi, -lo


# --------------------------------------------------------------------------- paired CIs

# R: newcombe10(a, b, c, d) in reference.R (first − second), printed with %.10f
NEWCOMBE_R = {
    (36, 12, 2, 0): (0.2000000000, 0.0569295840, 0.3404276030),
    (59, 6, 16, 80): (-0.0621118012, -0.1186211956, -0.0046251139),
    (1, 1, 7, 12): (-0.2857142857, -0.5069202267, -0.0255591242),
    (31, 1, 13, 3): (-0.2500000000, -0.3908620152, -0.1040663048),
}
# R: tango(a, b, c, d) in reference.R (uniroot, tol = 1e-14)
TANGO_R = {
    (36, 12, 2, 0): (0.2000000000, 0.0611124062, 0.3447087483),
    (59, 6, 16, 80): (-0.0621118012, -0.1240234325, -0.0054333957),
    (1, 1, 7, 12): (-0.2857142857, -0.5172322764, -0.0260030325),
    (31, 1, 13, 3): (-0.2500000000, -0.3949413327, -0.1154948214),
}


@pytest.mark.parametrize("table", list(NEWCOMBE_R))
def test_newcombe_method10_matches_r(table):
    got = impact.paired_difference_ci(*table, method="newcombe")
    assert got == pytest.approx(flip(NEWCOMBE_R[table]), abs=1e-9)


@pytest.mark.parametrize("table", list(TANGO_R))
def test_tango_matches_r(table):
    got = impact.paired_difference_ci(*table, method="tango")
    assert got == pytest.approx(flip(TANGO_R[table]), abs=1e-8)


def test_published_worked_examples():
    # Newcombe 1998, Table II example (a): 0.0569 to 0.3404 (first − second = +0.2)
    t, lo, hi = impact.paired_difference_ci(36, 12, 2, 0)
    assert (round(-t, 4), round(-hi, 4), round(-lo, 4)) == (0.2, 0.0569, 0.3404)
    # Fagerland et al. 2017 ch. 8, Cavo 2012: −0.0621 (−0.1186 to −0.0046)
    t, lo, hi = impact.paired_difference_ci(59, 6, 16, 80)
    assert (round(-t, 4), round(-hi, 4), round(-lo, 4)) == (-0.0621, -0.1186, -0.0046)


def test_tango_limits_solve_score_equation():
    a, b, c, d = 31, 1, 13, 3
    _, lo, hi = impact.paired_difference_ci(a, b, c, d, method="tango")
    assert _tango_score(lo, c, b, 48) == pytest.approx(1.959963984540054, abs=1e-8)
    assert _tango_score(hi, c, b, 48) == pytest.approx(-1.959963984540054, abs=1e-8)


@pytest.mark.parametrize("method", ["newcombe", "tango"])
def test_paired_ci_properties(method):
    rng = np.random.default_rng(1)
    for _ in range(60):
        a, b, c, d = (int(v) for v in rng.integers(0, 25, 4))
        if a + b + c + d == 0:
            continue
        t, lo, hi = impact.paired_difference_ci(a, b, c, d, method=method)
        assert -1 <= lo <= t <= hi <= 1
        # swapping before and after mirrors the interval
        t2, lo2, hi2 = impact.paired_difference_ci(a, c, b, d, method=method)
        assert (t2, lo2, hi2) == pytest.approx((-t, -hi, -lo), abs=1e-9)
    # wider at 99 % than at 90 %
    _, l90, h90 = impact.paired_difference_ci(31, 1, 13, 3, method=method, conf_level=0.90)
    _, l99, h99 = impact.paired_difference_ci(31, 1, 13, 3, method=method, conf_level=0.99)
    assert l99 < l90 and h99 > h90


def test_paired_ci_bad_method():
    with pytest.raises(DLSError, match="newcombe"):
        impact.paired_difference_ci(1, 2, 3, 4, method="wald")


# --------------------------------------------------------------------------- McNemar

# R: binom.test(b, b + c, 0.5)$p.value ; mid-p 2*pbinom(k) - dbinom(k) ;
#    mcnemar.test(matrix(c(10, c, b, 10), 2))$p.value (continuity corrected)
MCNEMAR_R = {
    (1, 7): (0.070312500000, 0.039062500000, 0.077099871744),
    (6, 16): (0.052478790283, 0.034689664841, 0.055008833629),
    (1, 13): (0.001831054688, 0.000976562500, 0.003283460986),
    (12, 2): (0.012939453125, 0.007385253906, 0.016156931261),
    (5, 5): (1.0, 1.0, 1.0),
    (0, 9): (0.003906250000, 0.001953125000, 0.007660761135),
}


@pytest.mark.parametrize("bc", list(MCNEMAR_R))
def test_mcnemar_matches_r(bc):
    got = impact.mcnemar_exact(*bc)
    exact, midp, cc = MCNEMAR_R[bc]
    assert got["p_exact"] == pytest.approx(exact, abs=1e-11)
    assert got["p_midp"] == pytest.approx(midp, abs=1e-11)
    assert got["p_asymptotic_cc"] == pytest.approx(cc, abs=1e-11)
    assert got["discordant"] == sum(bc)


def test_mcnemar_hand_calculation_and_no_discordant():
    # b = 0, c = 3: P(X ≤ 0) = 1/8, exact p = 2/8, mid-p = 2/8 − 1/8
    got = impact.mcnemar_exact(0, 3)
    assert got["p_exact"] == 0.25 and got["p_midp"] == 0.125
    assert impact.mcnemar_exact(0, 0)["p_exact"] == 1.0


# --------------------------------------------------------------------------- Wilson

def test_wilson_matches_r_prop_test():
    # R: prop.test(28, 62, correct = FALSE)$conf.int etc. (score interval = Wilson)
    assert wilson_interval(28, 62) == pytest.approx((0.334197131675995, 0.574674875301557), abs=1e-12)
    assert wilson_interval(46, 62) == pytest.approx((0.621188726528520, 0.834451238583719), abs=1e-12)
    assert wilson_interval(41, 50) == pytest.approx((0.692039463256992, 0.902298073297658), abs=1e-12)
    assert wilson_interval(0, 10)[0] == 0.0 and wilson_interval(10, 10)[1] == pytest.approx(1.0, abs=1e-15)


# --------------------------------------------------------------------------- Wilcoxon

DEPRESSION_X = [1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30]
DEPRESSION_Y = [0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29]
D_TIES = [2, -1, 0, 3, 1, -2, 2, 1, 0, 4, 1, -1, 2, 3]
D_DEC = [-1.5, -0.5, -2, 0.5, -1, -3, 1, -0.5, -2.5, 0, -1, -1.5, 2, -4, -0.5, 1.5, -1, -2,
         0.5, -1]
D_EXACT12 = [-2.1, 0.4, -1.3, -0.7, 1.8, -3.2, -0.2, -1.1, 0.9, -2.6, -0.5, -1.6]

# R: wilcox.test(d, conf.int = TRUE[, correct, conf.level], tol.root = 1e-12)
#    -> (V, p.value, estimate, conf.int)
WILCOX_R = [
    # Hollander & Wolfe depression data (?wilcox.test), exact, no ties
    (np.subtract(DEPRESSION_X, DEPRESSION_Y), {}, (40, 0.039062500000, 0.46, 0.01, 0.786)),
    (D_TIES, {}, (64.5, 0.047147685397, 1.5, 0.0, 2.5)),
    (D_TIES, {"correct": False}, (64.5, 0.042901206011, 1.5, 0.0, 2.5)),
    (D_DEC, {}, (41, 0.030503259746, -1.0, -1.5, 0.0)),
    (D_EXACT12, {}, (16, 0.077148437500, -0.875, -1.85, 0.1)),
    (D_EXACT12, {"conf_level": 0.90}, (16, 0.077148437500, -0.875, -1.65, -0.1)),
]


@pytest.mark.parametrize("d,kw,ref", WILCOX_R)
def test_wilcoxon_matches_r(d, kw, ref):
    w = impact.wilcoxon_signed_rank(d, **kw)
    V, p, est, lo, hi = ref
    assert w.statistic == V
    assert w.p_value == pytest.approx(p, abs=1e-10)
    assert (w.estimate, w.ci_low, w.ci_high) == pytest.approx((est, lo, hi), abs=1e-9)


def test_wilcoxon_exact_selection():
    assert impact.wilcoxon_signed_rank(D_EXACT12).exact
    assert not impact.wilcoxon_signed_rank(D_TIES).exact           # ties and zeros
    assert not impact.wilcoxon_signed_rank(D_EXACT12, exact=False).exact
    with pytest.raises(DLSError):
        impact.wilcoxon_signed_rank([0, 0, np.nan])


# --------------------------------------------------------------------------- readers

@pytest.fixture(scope="module")
def suivi():
    return impact.read_followup(SUIVI)


def test_read_followup_sample(suivi):
    assert suivi.layout == "long"
    assert suivi.n_read == 152 and suivi.n_accepted == 150 and suivi.n_rejected == 2
    assert suivi.n_read == suivi.n_accepted + suivi.n_rejected
    rej = suivi.rejected.set_index("column")
    assert rej.loc["date_mesure", "value"] == "31/02/2021"
    assert rej.loc["temps", "value"] == "milieu"
    msg = rej.loc["temps", "message"]
    assert "« impact_suivi_synthetique.csv »" in msg and f"ligne {rej.loc['temps', 'row']}" in msg
    assert "« milieu »" in msg and "avant" in msg
    d = suivi.data
    assert d["id"].is_unique and len(d) == 80   # the two refused rows were single-row people
    assert {"graisse_viscerale_avant", "graisse_viscerale_apres", "effet_moral_apres"} <= set(d)


def test_rejected_row_numbers_are_excel_rows(suivi):
    # cp1252 file: header is line 1, so the Excel row is the line number
    lines = SUIVI.read_bytes().decode("cp1252").splitlines()
    for r in suivi.rejected.itertuples():
        assert r.value in lines[r.row - 1]


def test_read_wide_utf8_decimal_comma_and_rejections(tmp_path):
    f = tmp_path / "suivi_large.csv"
    f.write_text(
        "Identifiant;Graisse viscérale avant;Graisse viscérale après;Aise questions avant;"
        "Aise questions après;Effet moral\n"
        "A1;12,5;11,5;non;oui;oui\n"
        ";;;;;\n"                              # blank Excel row: ignored, numbering kept
        "A2;14;14;Oui;OUI;\n"
        "A3;douze;11;non;oui;non\n"            # row 5: not a number
        "A1;10;9;oui;oui;oui\n"                # row 6: duplicate person
        "A4;80;9;peut-être;oui;oui\n",         # row 7: out of range and bad yes/no
        encoding="utf-8-sig")
    r = impact.read_followup(f)
    assert r.layout == "wide"
    assert r.n_read == 5 and r.n_accepted == 2 and r.n_rejected == 3
    assert r.n_read == r.n_accepted + r.n_rejected
    rej = r.rejected
    assert rej["row"].tolist() == [5, 6, 7, 7]           # row 7 has two problems
    assert rej.loc[0, "column"] == "Graisse viscérale avant" and rej.loc[0, "value"] == "douze"
    assert "(ligne 2)" in rej.loc[1, "message"]          # duplicate points to the first row
    assert "entre 1 et 59" in rej.loc[2, "message"]
    assert rej.loc[3, "value"] == "peut-être" and "« oui » ou « non »" in rej.loc[3, "message"]
    d = r.data.set_index("id")
    assert d.loc["A1", "graisse_viscerale_avant"] == 12.5
    assert d.loc["A2", "aise_questions_apres"] == 1.0 and np.isnan(d.loc["A2", "effet_moral"])


def test_read_followup_xlsx_round_trip(tmp_path, suivi):
    raw = pd.read_csv(SUIVI, sep=";", dtype=str, encoding="cp1252", keep_default_na=False)
    f = tmp_path / "suivi.xlsx"
    raw.to_excel(f, index=False)
    x = impact.read_followup(f)
    assert (x.n_read, x.n_accepted, x.n_rejected) == (152, 150, 2)
    pd.testing.assert_frame_equal(x.data, suivi.data)
    assert x.rejected["row"].tolist() == suivi.rejected["row"].tolist()


def test_read_followup_long_time_spellings_and_duplicates(tmp_path):
    f = tmp_path / "long.csv"
    f.write_text("id;moment;aise_questions\nB1;T0;non\nB1;fin de suivi;oui\nB1;Inclusion;oui\n"
                 "B2;avant;oui\n", encoding="cp1252")
    r = impact.read_followup(f)
    assert r.layout == "long" and r.n_rejected == 1 and r.rejected.loc[0, "row"] == 4
    assert "« avant »" in r.rejected.loc[0, "message"]
    d = r.data.set_index("id")
    assert d.loc["B1", "aise_questions_avant"] == 0 and d.loc["B1", "aise_questions_apres"] == 1
    assert np.isnan(d.loc["B2", "aise_questions_apres"])


def test_read_followup_structural_errors(tmp_path):
    f = tmp_path / "x.csv"
    f.write_text("nom;valeur\nA;1\n", encoding="utf-8")
    with pytest.raises(DLSError, match=r"« x\.csv », ligne 1 : colonne d'identifiant"):
        impact.read_followup(f)
    f.write_text("id;valeur\nA;1\n", encoding="utf-8")
    with pytest.raises(DLSError, match="format du suivi non reconnu"):
        impact.read_followup(f)
    with pytest.raises(DLSError, match="introuvable"):
        impact.read_followup(tmp_path / "absent.csv")


def test_read_activity_sample_and_rejections(tmp_path):
    a = impact.read_activity(ACTIVITE)
    assert a.n_read == a.n_accepted == 182 + 537 and a.rejected.empty
    assert a.data["date"].dt.year.eq(2021).all()
    f = tmp_path / "journal.csv"
    f.write_text("Date;Type de consultation;ID personne\n03/02/2021;diététique;Z1\n"
                 "2021-02-04;Psychologue;Z1\n05/02/2021;kiné;Z2\n06/13/2021;ICA;Z3\n"
                 "07/02/2021;ICA;\n08/02/2021;Mois sans tabac;Z4\n", encoding="cp1252")
    r = impact.read_activity(f)
    assert (r.n_read, r.n_accepted, r.n_rejected) == (6, 3, 3)
    assert r.data["type"].tolist() == ["Diététique", "Psychologie", "Tabacologie"]
    rej = r.rejected.set_index("row")
    assert rej.loc[4, "value"] == "kiné" and "« Réflexologie »" in rej.loc[4, "message"]
    assert rej.loc[5, "column"] == "Date" and rej.loc[6, "column"] == "ID personne"


# --------------------------------------------------------------------------- synthetic sample

def test_sample_matches_2021_report(suivi):
    d = suivi.data
    ow = d[d["surpoids_avant"] == 1]
    ch = impact.measure_change(ow, "graisse_viscerale_avant", "graisse_viscerale_apres")
    assert (ch.n_pairs, ch.n_decreased, ch.n_stable, ch.n_increased) == (62, 28, 18, 16)
    s = ch.shares.set_index("label")
    assert round(s.loc["en baisse", "estimate"] * 100) == 45
    assert round(s.loc["en baisse ou stable", "estimate"] * 100) == 74
    assert (s.loc["en baisse", "ci_low"], s.loc["en baisse", "ci_high"]) == pytest.approx(
        (0.334197131675995, 0.574674875301557), abs=1e-12)           # R prop.test(28, 62)
    # R: wilcox.test(dd, conf.int = TRUE, tol.root = 1e-12) on the 62 differences
    w = ch.wilcoxon
    assert (w.statistic, w.n_nonzero) == (307, 44)
    assert w.p_value == pytest.approx(0.027663975202, abs=1e-11)
    assert (w.estimate, w.ci_low, w.ci_high) == pytest.approx((-0.75, -1.25, 0.0), abs=1e-9)

    mood = impact.proportion(d, "effet_moral_apres")
    assert (mood.n_yes, mood.n_asked) == (41, 50) and round(mood.estimate * 100) == 82
    assert (mood.ci_low, mood.ci_high) == pytest.approx((0.692039463256992, 0.902298073297658),
                                                     abs=1e-12)
    p = impact.paired_proportions(d, "aise_questions_avant", "aise_questions_apres")
    assert (p.a, p.b, p.c, p.d, p.discordant) == (31, 1, 13, 3, 14)
    assert round(p.p_before * 100) == 67 and round(p.p_after * 100) == 92
    assert (p.difference, p.ci_low, p.ci_high) == pytest.approx(flip(NEWCOMBE_R[(31, 1, 13, 3)]),
                                                             abs=1e-9)
    assert p.p_mcnemar_exact == pytest.approx(0.001831054688, abs=1e-11)


def test_activity_summary_sample():
    s = impact.activity_summary(impact.read_activity(ACTIVITE).data, year=2021)
    assert s.new_referrals == 182 and s.consultations == 537 != 509
    assert dict(zip(s.by_type["type"], s.by_type["consultations"])) == {
        "Psychologie": 204, "Diététique": 164, "ICA": 115, "Tabacologie": 36,
        "Réflexologie": 14, "Neuropsychologie": 4}
    assert s.by_month["Total"].sum() == 537 and len(s.by_month) == 12
    assert s.per_person.sum() == 537 and len(s.per_person) == s.people_seen
    t = s.table()
    assert t.iloc[1, 1] == "537"
    assert impact.activity_summary(impact.read_activity(ACTIVITE).data, year=2020).consultations == 0


def test_activity_hand_example():
    log = pd.DataFrame({"date": pd.to_datetime(["2021-01-05", "2021-01-20", "2021-02-01",
                                                "2021-02-03", "2022-01-01"]),
                        "type": ["Adressage", "ICA", "ICA", "Psychologie", "ICA"],
                        "id": ["p1", "p1", "p2", "p1", "p3"]})
    s = impact.activity_summary(log, start="2021-01-01", end="2021-12-31")
    assert (s.new_referrals, s.consultations, s.people_seen) == (1, 3, 2)
    assert s.per_person.to_dict() == {"p1": 2, "p2": 1}
    assert s.by_month.loc[pd.Period("2021-02", "M"), "Total"] == 2


def test_generator_is_reproducible(tmp_path):
    spec = importlib.util.spec_from_file_location("generate_impact",
                                                  SAMPLE / "generate_impact.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    f1, f2 = mod.main(tmp_path)
    assert f1.read_bytes() == SUIVI.read_bytes()
    assert f2.read_bytes() == ACTIVITE.read_bytes()
    assert sum(mod.CONSULTATIONS_2021.values()) == 537


# --------------------------------------------------------------------------- table, charts

def test_evaluation_table_and_charts(suivi):
    d = suivi.data
    ch = impact.measure_change(d[d["surpoids_avant"] == 1], "graisse_viscerale_avant",
                               "graisse_viscerale_apres", label="Graisse viscérale")
    p = impact.paired_proportions(d, "aise_questions_avant", "aise_questions_apres",
                                  label="À l'aise", method="tango")
    t = impact.evaluation_table(ch, p).set_index("Indicateur")
    assert t.loc["Graisse viscérale — en baisse ou stable", "Valeur"] == "74\u202f%"
    assert t.loc["À l'aise — différence après − avant", "Valeur"] == "25 points"
    assert t.loc["À l'aise — différence après − avant", "Méthode"].startswith("Tango")
    assert t.loc["Graisse viscérale — variation (pseudo-médiane)", "IC à 95\u202f%"] == \
        "[-1,25 ; 0,00]"
    assert "McNemar exact p = 0,002" in t.loc["À l'aise — avant", "Précisions"]
    s = impact.activity_summary(impact.read_activity(ACTIVITE).data, year=2021)
    fig = impact.chart_consultations_by_month(s)
    assert len(fig.data) == 6 and "par mois" in fig.layout.title.text
    assert fig.data[0].x[0] == "janvier 2021"
    assert impact.chart_consultations_by_type(s).layout.xaxis.title.text == \
        "Nombre de consultations"
    assert list(impact.chart_change(ch).data[0].x) == ["en baisse", "stable", "en hausse"]


def test_importable_in_plain_python():
    out = subprocess.run([sys.executable, "-c", "from diagnostics import impact; "
                          "print(impact.paired_proportions.__name__)"],
                         cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "paired_proportions"


@pytest.mark.slow
def test_notebook_runs(tmp_path):
    # `jupytext --execute` needs nbconvert (not installed): convert with jupytext, run with
    # papermill, in the notebooks/ folder as an analyst would.
    import jupytext
    import papermill

    src = tmp_path / "impact.ipynb"
    jupytext.write(jupytext.read(paths.NOTEBOOKS / "impact.py"), src)
    out = tmp_path / "impact_execute.ipynb"
    papermill.execute_notebook(str(src), str(out), cwd=str(paths.NOTEBOOKS),
                               kernel_name="python3", progress_bar=False,
                               execution_timeout=60)
    text = out.read_text(encoding="utf-8")
    assert '"output_type": "error"' not in text
    assert "Somme du détail par type du rapport : 537 (total annoncé dans le rapport : 509)" in text
    assert "74\u202f% des 62 personnes en surpoids" in text or \
        "74\\u202f% des 62 personnes en surpoids" in text
    assert "Données synthétiques" in text


def test_module_docstring_example(monkeypatch):
    import doctest

    monkeypatch.chdir(ROOT)
    assert doctest.testmod(impact).failed == 0


# --------------------------------------------------------------------------- issue 11 defects

def test_wilcoxon_digits_rank_matches_r():
    # R: tests/fixtures/impact/wilcoxon_digits_rank.R (wilcox.test(d, conf.int = TRUE,
    # digits.rank = Inf | 7, tol.root = 1e-12) on one-decimal measures)
    ref = pd.read_csv(FIX / "wilcoxon_digits_rank.csv")
    raw = pd.read_csv(FIX / "wilcoxon_digits_rank_input.csv")
    d = (raw["after"] - raw["before"]).to_numpy()
    for r in ref.itertuples():
        w = impact.wilcoxon_signed_rank(d, correct=bool(r.correct), digits_rank=r.digits_rank)
        assert w.statistic == r.statistic
        assert w.p_value == pytest.approx(r.p_value, rel=1e-10)
        # R's uniroot stops within 5e-8 of the jump when ranks are rounded to 7 digits
        assert (w.estimate, w.ci_low, w.ci_high) == pytest.approx((r.estimate, r.lower, r.upper),
                                                               abs=1e-9 if r.digits_rank > 7 else 1e-6)
    # R's default (Inf) does not tie -1.2 keyed as 11.1 - 12.3 with 12.2 - 13.4; 7 digits does
    assert ref.set_index("digits_rank")["n_distinct_ranks"].to_dict() == {np.inf: 7, 7: 4}
    dflt = impact.wilcoxon_signed_rank(d)
    assert dflt.statistic == 11.5 and impact.DIGITS_RANK == 7
    ch = impact.measure_change(raw, "before", "after", digits_rank=np.inf)
    assert ch.wilcoxon.statistic == 10.5


def test_mcnemar_chisq_matches_r():
    # R: tests/fixtures/impact/mcnemar.R (mcnemar.test(matrix(c(a, c, b, d), 2), correct))
    for r in pd.read_csv(FIX / "mcnemar.csv").itertuples():
        m = impact.paired_table(r.a, r.b, r.c, r.d).mcnemar
        stat, p = (m["statistic_cc"], m["p_asymptotic_cc"]) if r.correct else (m["statistic"],
                                                                              m["p_asymptotic"])
        assert (stat, m["df"]) == (pytest.approx(r.statistic, rel=1e-12, abs=1e-14), r.df)
        assert p == pytest.approx(r.p_value, rel=1e-10)


def test_paired_table_equals_row_data(suivi):
    rows = impact.paired_proportions(suivi.data, "aise_questions_avant", "aise_questions_apres")
    for t in (impact.paired_table(31, 1, 13, 3), impact.paired_table([[31, 1], [13, 3]]),
              impact.paired_table(np.array([[31, 1], [13, 3]]))):
        assert (t.p_before, t.p_after, t.difference, t.ci_low, t.ci_high) == (
            rows.p_before, rows.p_after, rows.difference, rows.ci_low, rows.ci_high)
        assert t.mcnemar == rows.mcnemar and t.p_mcnemar == pytest.approx(0.00328346098606903)
    with pytest.raises(DLSError, match="2×2"):
        impact.paired_table([1, 2, 3, 4])
    with pytest.raises(DLSError, match="« b » = « -1 »"):
        impact.paired_table(1, -1, 3, 4)


def test_change_shares_have_english_keys(suivi):
    ow = suivi.data[suivi.data["surpoids_avant"] == 1]
    ch = impact.measure_change(ow, "graisse_viscerale_avant", "graisse_viscerale_apres")
    assert list(ch.shares.index) == list(impact.CHANGE_KEYS)
    # 28 decreased, 18 stable, 16 increased out of 62 (test_sample_matches_2021_report)
    assert ch.decreased["count"] == 28 and ch.stable["count"] == 18 and ch.increased["count"] == 16
    assert ch.share("decreased_or_stable")["count"] == 46 and ch.decreased["n"] == 62
    with pytest.raises(DLSError, match="decreased"):
        ch.share("en baisse")


def test_deprecated_names_still_read_for_one_version(suivi):
    # result convention (CONTRIBUTING.md « Forme des résultats »): ci_low/ci_high, English columns;
    # the old names are read until version 0.2, attributes with a DeprecationWarning
    d = suivi.data
    mood = impact.proportion(d, "effet_moral_apres")
    p = impact.paired_proportions(d, "aise_questions_avant", "aise_questions_apres")
    w = impact.wilcoxon_signed_rank([-1.0, -2.0, 0.5, -0.5, -3.0])
    for res in (mood, p, w):
        with pytest.warns(DeprecationWarning, match="ci_low"):
            assert res.lower == res.ci_low
        with pytest.warns(DeprecationWarning, match="ci_high"):
            assert res.upper == res.ci_high
    ch = impact.measure_change(d[d["surpoids_avant"] == 1], "graisse_viscerale_avant",
                               "graisse_viscerale_apres")
    assert ch.shares["label"].tolist() == ["en baisse", "stable", "en hausse", "en baisse ou stable"]
    assert ch.shares["categorie"].tolist() == ch.shares["label"].tolist()
    assert ch.shares.attrs["deprecated_columns"] == {"categorie": "label"}
    s = impact.activity_summary(impact.read_activity(ACTIVITE).data, year=2021)
    assert {"people", "share"} <= set(s.by_type.columns) and s.by_month.index.name == "month"
    assert (s.by_type["personnes"] == s.by_type["people"]).all()
    assert s.by_type.attrs["deprecated_columns"] == {"personnes": "people", "part": "share"}
    assert s.by_type.loc[s.by_type["type"] == "Psychologie", "share"].iloc[0] == \
        pytest.approx(204 / 537)
