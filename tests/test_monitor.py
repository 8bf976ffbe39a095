"""``dls suivi``: six weekly deliveries of the synthetic sample reconcile with the files; the
under-represented groups and the precision match hand calculations written below."""
import itertools
import math
import re

import pandas as pd
import pytest
from click.testing import CliRunner

from diagnostics import paths
from diagnostics.cli import cli
from diagnostics.config.project import load_project
from diagnostics.engine.fieldwork import monitor
from diagnostics.publish.monitor import render_monitor, write_monitor_page

SAMPLE = paths.EXAMPLE / "reponses_synthetiques.csv"


@pytest.fixture(scope="module")
def project():
    return load_project()


def _raw():
    t = pd.read_csv(SAMPLE, sep=";", dtype=str, encoding="latin-1")
    t["_date"] = pd.to_datetime(t["date_reponse"], format="%d/%m/%Y")
    return t


@pytest.fixture(scope="module")
def deliveries(tmp_path_factory):
    """The sample cut into six deliveries (by answer date, about three weeks each); a form of
    delivery 2 is sent again in delivery 5 (a duplicate)."""
    d = tmp_path_factory.mktemp("livraisons")
    t = _raw()
    order = t.sort_values("_date", kind="stable")
    edges = pd.date_range("2022-02-28", periods=7, freq="21D")   # Mondays, up to 2022-07-04
    parts = [order[(order["_date"] >= lo) & (order["_date"] < hi)] for lo, hi in itertools.pairwise(edges)]
    assert sum(map(len, parts)) == len(t) == 406
    parts[4] = pd.concat([parts[4], parts[1].iloc[[0]]])
    files = []
    for k, p in enumerate(parts, start=1):
        f = d / f"livraison_{k}.csv"
        p.drop(columns="_date").to_csv(f, sep=";", index=False, encoding="utf-8")
        files.append(f)
    return files, parts, t


def test_six_deliveries_reconcile(deliveries, project):
    files, parts, t = deliveries
    res = monitor(files, project)
    # files table: rows per file, one duplicate flagged in delivery 5
    assert res.files["lignes"].tolist() == [len(p) for p in parts]
    assert res.files["doublons"].tolist() == [0, 0, 0, 0, 1, 0]
    assert res.n_accepted == 406 and res.n_duplicates == 1 and res.n_rejected == 1
    # per quartier totals and per week counts, counted independently on the raw file
    quartier = t["quartier"].str[:4].map({"Biol": "Biollay", "Haut": "Hauts-de-Chambéry", "Bell": "Bellevue"})
    assert res.pace.set_index("quartier")["n"].to_dict() == quartier.value_counts().to_dict()
    week = (t["_date"] - pd.to_timedelta(t["_date"].dt.weekday, unit="D")).dt.date
    for q in project.libelles:
        expected = week[quartier == q].value_counts()
        got = res.weekly[q]
        assert got[got > 0].to_dict() == expected.to_dict()
    assert int(res.weekly.to_numpy().sum()) == 406 == len(t)
    # channels: counts by the code before « - » in the file
    code = t["canal"].str.extract(r"^(\d)")[0].astype(int)
    got = {r.code: r.n for r in res.channels.itertuples() if r.code == r.code and r.code is not None}
    assert got == code.value_counts().to_dict()
    assert code.eq(6).sum() == 7     # the lone small channel « Autre » is shown as « s », and so is another
    assert res.channels.loc[res.channels["code"] == 1, "taux"].iloc[0] == pytest.approx(code.eq(1).sum() / 900)
    # quotas: achieved per cell sums to the respondents with known age band and sex
    assert res.quotas["n"].sum() == res.precision["n"].sum()
    # the page shows those counts
    page = render_monitor(res)
    for q, n in quartier.value_counts().items():
        assert re.search(rf"<td>{re.escape(q)}</td><td class=nombre>{n}</td>", page)
    assert "<td>Total</td><td class=nombre>130</td><td class=nombre>170</td><td class=nombre>100</td>" in page
    assert "<td>Autre</td><td class=nombre>s</td>" in page
    assert page.count("<td class=nombre>s</td>") == 2      # secondary suppression: 406 − the others ≠ 7
    assert "<script" not in page


def test_partial_deliveries_pace(deliveries, project):
    files, parts, _ = deliveries
    res = monitor(files[:3], project)
    assert res.n_accepted == sum(len(p) for p in parts[:3])
    assert res.today == max(p["_date"].max() for p in parts[:3]).date()
    # pace: answers of the last three weeks (Monday of three weeks ago .. today) × 7 / days
    allp = pd.concat(parts[:3])
    start = pd.Timestamp(res.today) - pd.Timedelta(days=res.today.weekday() + 14)
    recent = allp[(allp["_date"] >= start) & (allp["_date"] <= pd.Timestamp(res.today))]
    days = (pd.Timestamp(res.today) - start).days + 1
    n_b = int(recent["quartier"].str.startswith("Biol").sum())
    row = res.pace.set_index("quartier").loc["Biollay"]
    assert row["rythme"] == pytest.approx(n_b * 7 / days)


def _hand_file(path):
    """40 Biollay respondents (cells below) and 20 Bellevue respondents aged 30-44 (10 F, 10 H)."""
    cells = {("20", "1"): 10, ("20", "2"): 2, ("35", "1"): 8, ("35", "2"): 6, ("50", "1"): 5, ("50", "2"): 4,
             ("65", "1"): 3, ("65", "2"): 1, ("80", "1"): 1}
    rows = []
    for (age, sexe), k in cells.items():
        rows += [("1", age, sexe)] * k
    rows += [("3", "35", "1")] * 10 + [("3", "35", "2")] * 10
    lines = ["id_questionnaire;canal;date_reponse;quartier;age;sexe"]
    lines += [f"H{i:03d};1;0{1 + i % 9}/06/2022;{q};{a};{s}" for i, (q, a, s) in enumerate(rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_under_represented_and_precision_by_hand(tmp_path, project):
    res = monitor([_hand_file(tmp_path / "main.csv")], project)
    assert res.n_accepted == 60
    # Biollay (population 2 000; margins 270 270 260 240 230 210 185 155 110 70): expected now
    # = 40 × N_cell / 2 000.  Ratios achieved / expected: H 75+ 0/1,4 = 0; H 60-74 1/3,1 = 0,323;
    # H 15-29 2/5,4 = 0,370; F 75+ 1/2,2 = 0,455; F 60-74 3/3,7 = 0,811 (not below 0,8).
    b = res.under[res.under["quartier"] == "Biollay"]
    assert list(zip(b["sexe"], b["groupe_age"])) == [("Homme", "75+"), ("Homme", "60-74"), ("Homme", "15-29"),
                                                     ("Femme", "75+")]
    assert b["attendu"].round(6).tolist() == [1.4, 3.1, 5.4, 2.2]
    assert b["ratio"].round(4).tolist() == [0.0, 0.3226, 0.3704, 0.4545]
    # missing for the target 140: ceil(140 × N / 2 000 − n) = ceil(4,9) 5, ceil(9,85) 10, ceil(16,9) 17, ceil(6,7) 7
    assert b["manquants"].tolist() == [5, 10, 17, 7]
    # Bellevue: only 30-44 reached (430 people); weights raked to the sex shares of the margins,
    # women 235+225+215+165+110 = 950, men 235+205+200+140+70 = 850 (of 1 800):
    # w_F = 430 × 0,52778 / 10, w_H = 430 × 0,47222 / 10; Kish deff = n Σ p_g² / n_g
    # = 20 × (0,52778² + 0,47222²) / 10 = 1,003086; h = 1,959964 √(1,003086 × 0,25 / 20) = 0,21947;
    # n* for ± 9 points = ceil(1,003086 × 1,959964² × 0,25 / 0,09²) = ceil(118,93) = 119.
    p = res.precision.set_index("quartier").loc["Bellevue"]
    pf, ph = 950 / 1800, 850 / 1800
    assert p["deff"] == pytest.approx(20 * (pf ** 2 + ph ** 2) / 10, rel=1e-9)
    assert p["deff"] == pytest.approx(1.003086, abs=1e-6)
    assert p["demi_largeur"] == pytest.approx(0.21947, abs=1e-5)
    assert (p["n_requis"], p["restant"]) == (119, 99)
    assert any("Bellevue : aucun répondant encore dans 15-29" in n for n in res.notes)
    # Hauts-de-Chambéry has nobody: no precision, target not in sight
    h = res.precision.set_index("quartier").loc["Hauts-de-Chambéry"]
    assert h["n"] == 0 and math.isnan(h["demi_largeur"])


def test_cli_suivi_and_alias(tmp_path, deliveries):
    files, _, _ = deliveries
    out = tmp_path / "suivi.html"
    r = CliRunner().invoke(cli, ["suivi", *map(str, files), "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "406 réponses retenues, 1 doublon écarté" in r.output and out.is_file()
    r = CliRunner().invoke(cli, ["monitor", str(files[0]), "--out", str(tmp_path / "m.html"), "--date", "hier"])
    assert r.exit_code == 2 and "attendu une date AAAA-MM-JJ" in r.output


def test_write_page_atomic(tmp_path, project):
    res = monitor([_hand_file(tmp_path / "a.csv")], project)
    path = write_monitor_page(res, tmp_path / "p" / "suivi.html")
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert [p.name for p in path.parent.iterdir()] == ["suivi.html"]


def test_association_column_grouped(tmp_path, project):
    """An ``association`` column (not a question: ignored by validation) is counted per partner;
    partners under the threshold (11) are grouped: 25 « Le Lien », 12 « ASV », 9 + 7 + 7 others."""
    f = _hand_file(tmp_path / "a.csv")
    lines = f.read_text(encoding="utf-8").splitlines()
    names = ["Le Lien"] * 25 + ["ASV"] * 12 + ["Amicale"] * 9 + ["Club"] * 7 + ["Maison"] * 7
    f.write_text("\n".join([lines[0] + ";association"] + [f"{x};{n}" for x, n in zip(lines[1:], names)]) + "\n",
                 encoding="utf-8")
    res = monitor([f], project)
    assert dict(zip(res.associations["association"], res.associations["n"])) == {
        "Le Lien": 25, "ASV": 12, "Autres (regroupés)": 23}
    assert "<td>Autres (regroupés)</td><td class=nombre>23</td>" in render_monitor(res)


def test_monitoring_section_errors(tmp_path):
    import shutil

    from diagnostics.errors import ConfigurationError
    src = paths.EXAMPLE / "projet.yaml"
    text = src.read_text(encoding="utf-8").replace(
        "../../questionnaires", str((paths.EXAMPLE / "../../questionnaires").resolve()))
    for bad, msg in (("demi_largeur_cible: 0.09", "demi_largeur_cible: 9"),
                     ("n_cible: 140 ", "n_cible: {biolay: 140} "),
                     ("    5: 100", "    cinq: 100")):
        d = tmp_path / bad[:5].strip()
        shutil.copytree(paths.EXAMPLE, d)
        (d / "projet.yaml").write_text(text.replace(bad, msg), encoding="utf-8")
        with pytest.raises(ConfigurationError, match="clé « suivi"):
            load_project(d / "projet.yaml")
    p = load_project(src)
    assert p.suivi["n_cible"] == {"Biollay": 140, "Hauts-de-Chambéry": 140, "Bellevue": 140}
    assert p.suivi["distribues"][1] == 900 and p.suivi["demi_largeur_cible"] == 0.09
