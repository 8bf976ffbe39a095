"""Issue 30: inputs by URI and partitioned folders, the care-rule grammar (three published
indicators counted by hand here), declared statuses and levels, renamed columns, and the
secondary suppression across nested territories and age bands."""
import shutil

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

pytest.importorskip("ibis")
pytest.importorskip("duckdb")

from diagnostics.collect.records_synth import example_territories, generate_records
from diagnostics.errors import ConfigurationError, DLSError
from diagnostics.stats.records import (connect, count_records, load_record_catalogue, records_extract,
                                       write_records_extract)
from diagnostics.stats.records.grammar import Level
from diagnostics.stats.records.query import RecordCounts

YEAR = 2021


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    out = tmp_path_factory.mktemp("records30")
    generate_records(out, 20_000, 8.0, seed=5, territories=example_territories(), chunk=8_000)
    return out


@pytest.fixture(scope="module")
def carto(records):
    from diagnostics.stats.records.grammar import DEFAULT_RECORD_CATALOGUE
    return load_record_catalogue(DEFAULT_RECORD_CATALOGUE.parent / "indicateurs_cartographie.yaml")


def _population(records):
    ben = pd.read_parquet(records / "beneficiaires.parquet")
    ben = ben[ben["code_region"].notna() & (ben["annee_deces"].isna() | (ben["annee_deces"] >= YEAR))]
    return ben.assign(age=YEAR - ben["annee_naissance"].astype(int))


def _france(table, ind):
    row = table[(table["niveau"] == "France") & (table["indicateur"] == ind) & (table["classe_age"] == "Ensemble")]
    return int(row["numerateur"].iloc[0]), int(row["denominateur"].iloc[0])


def test_three_published_indicators_by_hand(records, carto):
    """Diabetes: ≥ 3 distinct dates of an A10 drug in 2021; mammography acts in 2020–2021 for
    women 50–74; ≥ 3 distinct HbA1c dates in 2021 among the treated diabetics."""
    ben = _population(records)
    drugs = pd.read_parquet(records / "pharmacie.parquet")
    care = pd.read_parquet(records / "soins.parquet")
    a10 = drugs[drugs["code_atc"].astype(str).str.startswith("A10")
                & (pd.to_datetime(drugs["date_delivrance"]).dt.year == YEAR)]
    diab = set(a10.groupby("ben_id")["date_delivrance"].nunique().loc[lambda s: s >= 3].index)
    years = pd.to_datetime(care["date_soins"]).dt.year
    mammo = set(care.loc[care["code_acte"].astype(str).isin(["QEQK004", "QEQK001"])
                         & years.between(YEAR - 1, YEAR), "ben_id"])
    bio = care[(care["code_bio"].astype(str) == "1577") & (years == YEAR)]
    hba1c = set(bio.groupby("ben_id")["date_soins"].nunique().loc[lambda s: s >= 3].index)
    women = ben[(ben["sexe"] == 2) & ben["age"].between(50, 74)]
    diabetics = ben[ben["ben_id"].isin(diab)]
    want = {"diabete_traite": (len(diabetics), len(ben)),
            "depistage_sein_ccam": (int(women["ben_id"].isin(mammo).sum()), len(women)),
            "diabete_hba1c_3": (int(diabetics["ben_id"].isin(hba1c).sum()), len(diabetics))}
    table = records_extract(count_records(connect("duckdb"), records, carto), carto, threshold=1)
    for ind, (x, n) in want.items():
        assert _france(table, ind) == (x, n), ind
        assert x > 20, ind                          # the synthetic data exercise each rule


def _write_catalogue(tmp_path, body, colonnes="synthetique"):
    p = tmp_path / "defs.yaml"
    p.write_text(f"annee: 2021\nclasses_age: ['0-14', '15-59', '60+']\ncolonnes: {colonnes}\n{body}", encoding="utf-8")
    return p


def test_statuses_levels_and_columns_are_declared(records, tmp_path):
    """« invalidite » and an « EPCI » level come from the preset; renamed columns (no
    « code_commune », « ben_id », « sexe ») come from an inline mapping."""
    ren = tmp_path / "renamed"
    ren.mkdir()
    ben = pq.read_table(records / "beneficiaires.parquet")
    ben = ben.rename_columns(["ident", "sx", "naiss", "deces", "qpv", "com", "epci", "dep", "reg", "css", "ame",
                              "mt", "inval"])
    pq.write_table(ben, ren / "people.parquet")
    shutil.copy(records / "soins.parquet", ren / "soins.parquet")
    mapping = ("\n  tables:\n    beneficiaires: {source: people, colonnes: {id: ident, sexe: sx, naissance: naiss, "
               "deces: deces}}\n    soins: {source: soins, colonnes: {id: ben_id, date: date_soins}}\n"
               "  statuts: {invalidite: inval, maladie_grave: inval}\n  niveaux:\n    - {nom: commune, colonne: com}\n"
               "    - {nom: EPCI, colonne: epci}\n    - {nom: France}\n")
    body = ("indicateurs:\n  - {id: inv, libelle: Invalidité, unite: '%', methode: wilson, population: {age_min: 20},"
            " numerateur: {statut: invalidite}}\n  - {id: gen_ou_inv, libelle: X, unite: '%', methode: wilson,"
            " numerateur: {un_de: [{statut: invalidite}, {tous: [{soins: {prestations: [GEN], au_moins: 2}},"
            " {lignes: {table: soins, filtres: {specialite: {entre: [1, 1]}}}}]}]}}\n")
    cat = load_record_catalogue(_write_catalogue(tmp_path, body, colonnes=mapping))
    assert [lv.name for lv in cat.levels] == ["commune", "EPCI", "France"]
    table = records_extract(count_records(connect("duckdb"), ren, cat), cat, threshold=1)
    pop = _population(records)
    adults = pop[pop["age"] >= 20]
    assert _france(table, "inv") == (int(adults["invalidite"].sum()), len(adults))
    care = pd.read_parquet(records / "soins.parquet")
    gen = care[(care["prestation"].astype(str) == "GEN") & (pd.to_datetime(care["date_soins"]).dt.year == YEAR)]
    two = set(gen.groupby("ben_id").size().loc[lambda s: s >= 2].index)
    assert _france(table, "gen_ou_inv")[0] == int((pop["invalidite"] | pop["ben_id"].isin(two)).sum())
    epci = table[(table["niveau"] == "EPCI") & (table["indicateur"] == "inv")]
    assert set(epci["code_territoire"]) == set(pop["code_epci"])


def test_unknown_status_is_a_french_error(tmp_path):
    body = "indicateurs:\n  - {id: x, libelle: X, unite: '%', methode: wilson, numerateur: {statut: riche}}\n"
    with pytest.raises(ConfigurationError, match="« statut » vaut « riche » ; « css » ou .*« invalidite »"):
        load_record_catalogue(_write_catalogue(tmp_path, body))
    body = "indicateurs:\n  - {id: x, libelle: X, unite: '%', methode: wilson, numerateur: {lignes: {table: radio}}}\n"
    with pytest.raises(ConfigurationError, match="« table » vaut « radio »"):
        load_record_catalogue(_write_catalogue(tmp_path, body))


def _partitioned(records, dest):
    """``soins.parquet/annee=2019/…`` as Spark's ``partitionBy`` writes it."""
    t = pq.read_table(records / "soins.parquet")
    year = pa.compute.year(t["date_soins"])
    t = t.append_column("annee", year)
    ds.write_dataset(t, dest / "soins.parquet", format="parquet", partitioning=["annee"],
                     partitioning_flavor="hive")
    for name in ("beneficiaires", "ald"):
        shutil.copy(records / f"{name}.parquet", dest / f"{name}.parquet")
    return dest


def test_uri_and_partitioned_folder_give_the_same_counts(records, tmp_path):
    cat = load_record_catalogue()
    con = connect("duckdb")
    base = count_records(con, records, cat).table
    assert (tmp_path / "p").mkdir() is None
    part = _partitioned(records, tmp_path / "p")
    assert any((part / "soins.parquet").glob("annee=2021/*.parquet"))
    for src in (f"file://{part}", str(part), f"file://{records}"):
        pd.testing.assert_frame_equal(count_records(con, src, cat).table, base)


def test_missing_input_is_the_engines_french_sentence(tmp_path):
    cat = load_record_catalogue()
    for src in (str(tmp_path), f"file://{tmp_path}"):
        with pytest.raises(DLSError, match=r"La table « beneficiaires » est introuvable : « .*beneficiaires.parquet »"):
            count_records(connect("duckdb"), src, cat)


# --------------------------------------------------------------------------- secrecy
def _counts(rows, geography, bands=("0-59", "60+")):
    """A hand-made RecordCounts of one indicator ``x`` (rows: level, code, band, n, x)."""
    t = pd.DataFrame(rows, columns=["niveau", "code_territoire", "classe_age", "den_x", "num_x"])
    return RecordCounts(t, pd.DataFrame(geography, columns=["code_qpv", "code_commune"]))


def _catalogue(tmp_path, method):
    body = (f"niveaux: [{{nom: QPV, colonne: code_qpv}}, {{nom: commune, colonne: code_commune}}, {{nom: France}}]\n"
            f"indicateurs:\n  - {{id: x, libelle: X, unite: '%', methode: {method}, numerateur: {{statut: css}}}}\n")
    p = tmp_path / "c.yaml"
    p.write_text(f"annee: 2021\nclasses_age: ['0-59', '60+']\n{body}", encoding="utf-8")
    return load_record_catalogue(p)


def test_commune_minus_its_only_qpv_does_not_give_back_a_small_rest(tmp_path):
    """Commune 001: 205 persons, 52 cases; its only QPV: 200 and 50 → outside the QPV 5 persons,
    2 cases, which « commune − QPV » would print.  One of the two must be masked."""
    ens = [("QPV", "Q1", "Ensemble", 200, 50), ("commune", "001", "Ensemble", 205, 52),
           ("commune", "002", "Ensemble", 400, 100), ("France", "FR", "Ensemble", 605, 152)]
    counts = _counts(ens, [("Q1", "001"), (None, "001"), (None, "002")])
    t = records_extract(counts, _catalogue(tmp_path, "wilson"), threshold=11).set_index("code_territoire")
    shown = t[t["masque"] == ""]
    assert not {"Q1", "001"} <= set(shown.index)
    # the commune masked too would be recovered by France − the other commune: France is masked, or 002
    assert not {"FR", "002"} <= set(shown.index) or {"Q1", "001"} & set(shown.index) == {"001"}


def test_one_masked_age_band_is_not_recovered_from_the_total(tmp_path):
    """Bands 0-59: 300 persons, 4 cases (masked); 60+: 100, 40; the « Ensemble » numerator 44
    would give back 4: a second band is masked."""
    rows = [("commune", "001", "Ensemble", 400, 44), ("commune", "001", "0-59", 300, 4),
            ("commune", "001", "60+", 100, 40), ("France", "FR", "Ensemble", 400, 44),
            ("France", "FR", "0-59", 300, 4), ("France", "FR", "60+", 100, 40)]
    t = records_extract(_counts(rows, [(None, "001")]), _catalogue(tmp_path, "dsr"), threshold=11)
    com = t[t["code_territoire"] == "001"].set_index("classe_age")
    assert com.loc["0-59", "masque"] == "<11"
    assert com.loc["60+", "masque"] == "s" or com.loc["Ensemble", "masque"] == "s"
    assert np.isnan(com.loc["Ensemble", "valeur"])       # a standardised rate needs every band


def _recoverable(table, geography, covers):
    """Relations (parent = Σ children [+ rest]) of the printed table with a single unknown that
    is a masked cell or a small rest (1 … 10 persons or cases)."""
    bad = []
    num = table.set_index(["indicateur", "classe_age", "niveau", "code_territoire"])
    for (child, ccol), (parent, pcol) in covers:
        links = geography[[ccol] + ([pcol] if pcol else [])].dropna().drop_duplicates()
        for (ind, band), sub in num.groupby(level=[0, 1]):
            sub = sub.droplevel([0, 1])
            for pcode, kids in links.groupby(pcol).__iter__() if pcol else [("FR", links)]:
                if (parent, pcode) not in sub.index:
                    continue
                p = sub.loc[(parent, pcode)]
                ch = sub.loc[[(child, c) for c in kids[ccol].unique() if (child, c) in sub.index]]
                partition = covers[((child, ccol), (parent, pcol))]
                unknown = int((ch["masque"] != "").sum()) + int(p["masque"] != "") + (0 if partition else 1)
                if unknown != 1 or p["masque"] != "":
                    continue
                if (ch["masque"] != "").any():
                    bad.append((ind, band, parent, pcode, "masked child"))
                else:
                    rest = p["numerateur"] - ch["numerateur"].sum(), p["denominateur"] - ch["denominateur"].sum()
                    if 0 < rest[0] < 11 or 0 < rest[1] - rest[0] < 11 or 0 < rest[1] < 11:
                        bad.append((ind, band, parent, pcode, rest))
    return bad


def test_no_masked_cell_recoverable_across_nested_territories(records):
    cat = load_record_catalogue()
    counts = count_records(connect("duckdb"), records, cat)
    t = records_extract(counts, cat, threshold=11)
    assert (t["masque"] == "s").sum() > 0
    g = counts.geography
    covers = {(("QPV", "code_qpv"), ("commune", "code_commune")): False,
              (("commune", "code_commune"), ("département", "code_departement")): True,
              (("département", "code_departement"), ("région", "code_region")): True,
              (("région", "code_region"), ("France", None)): True}
    assert _recoverable(t, g, covers) == []


def test_writer_round_trip(records, tmp_path):
    from diagnostics.collect.extracts import read_extract
    cat = load_record_catalogue()
    t = records_extract(count_records(connect("duckdb"), records, cat), cat)
    res = read_extract(write_records_extract(t, tmp_path / "e.csv"))
    assert res.n_rejected == 0 and res.n_accepted == len(t)
    assert int(res.data["masked"].sum()) == int((t["masque"] != "").sum())
    shown = t[t["masque"] == ""].reset_index(drop=True)
    got = res.data[~res.data["masked"]].reset_index(drop=True)
    np.testing.assert_array_equal(got["value"].to_numpy(float), shown["valeur"].to_numpy(float))


def test_cli_reads_a_uri_and_refuses_an_empty_run(records, tmp_path, capsys):
    from diagnostics.cli import main
    out = tmp_path / "ext.csv"
    with pytest.raises(SystemExit) as ok:
        main(["extraits-individuels", f"file://{records}", "--out", str(out)])
    assert ok.value.code == 0 and out.exists()
    said = capsys.readouterr().out
    # 3 QPV, 7 communes, 5 départements, 3 régions, France: counted by (level, code)
    assert "13 indicateurs, 19 territoires" in said and "par secret secondaire" in said
    empty = tmp_path / "vide"
    empty.mkdir()
    for name in ("soins", "ald"):
        shutil.copy(records / f"{name}.parquet", empty / f"{name}.parquet")
    pq.write_table(pq.read_table(records / "beneficiaires.parquet").slice(0, 0), empty / "beneficiaires.parquet")
    with pytest.raises(SystemExit) as bad:
        main(["extraits-individuels", str(empty), "--out", str(tmp_path / "y.csv")])
    assert bad.value.code != 0 and not (tmp_path / "y.csv").exists()
    assert "Aucun bénéficiaire vivant et résident en 2021" in capsys.readouterr().err


def test_tables_named_in_the_engines_catalogue(records, tmp_path):
    """« table: base.nom » reads a table the engine already knows (a Spark/Hive metastore table;
    here DuckDB's own catalogue), the same counts as from the files; an unknown one is the same
    French sentence."""
    con = connect("duckdb")
    for name in ("beneficiaires", "soins", "ald"):
        con.raw_sql(f"CREATE TABLE main.t_{name} AS SELECT * FROM read_parquet('{records}/{name}.parquet')")
    mapping = ("\n  tables:\n" + "".join(
        f"    {n}: {{table: main.t_{n}, colonnes: {c}}}\n" for n, c in (
            ("beneficiaires", "{id: ben_id, naissance: annee_naissance, deces: annee_deces}"),
            ("soins", "{id: ben_id, date: date_soins}"), ("ald", "{id: ben_id, debut: annee_debut, fin: annee_fin, "
                                                          "numero: num_ald}")))
        + "  statuts: {css: css, ame: ame, medecin_traitant: medecin_traitant}\n")
    text = load_text().replace("colonnes: synthetique", "colonnes:" + mapping)
    defs = tmp_path / "meta.yaml"
    defs.write_text(text, encoding="utf-8")
    cat = load_record_catalogue(defs)
    pd.testing.assert_frame_equal(count_records(con, "inutilise", cat).table,
                                  count_records(connect("duckdb"), records, load_record_catalogue()).table)
    defs.write_text(text.replace("main.t_ald", "main.t_absente"), encoding="utf-8")
    with pytest.raises(DLSError, match="La table « ald » est introuvable : « main.t_absente »"):
        count_records(con, "inutilise", load_record_catalogue(defs))


def load_text():
    from diagnostics.stats.records.grammar import DEFAULT_RECORD_CATALOGUE
    return DEFAULT_RECORD_CATALOGUE.read_text(encoding="utf-8")


def test_duckdb_says_it_cannot_read_hdfs():
    with pytest.raises(DLSError, match="que DuckDB ne lit pas : lancez le calcul avec « --moteur spark »"):
        count_records(connect("duckdb"), "hdfs://127.0.0.1:9/extrait", load_record_catalogue())
