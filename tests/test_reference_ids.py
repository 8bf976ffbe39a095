"""Reference levels have generic ids (commune, departement, region, france); the old Chambéry ids still read."""
import shutil

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from report_fixture import make_table

from diagnostics.cli import cli
from diagnostics.collect.extracts import read_references
from diagnostics.config.project import load_project
from diagnostics.paths import EXAMPLE, QUESTIONNAIRE
from diagnostics.publish.display import check_table


def test_init_writes_generic_ids(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(cli, ["init", "ville", "--ville", "Villeneuve"])
    assert res.exit_code == 0, res.output
    proj = yaml.safe_load((tmp_path / "ville" / "projet.yaml").read_text(encoding="utf-8"))
    assert proj["references"][0] == {"id": "commune", "libelle": "Villeneuve", "locatif": "à Villeneuve"}
    assert [r["id"] for r in proj["references"]] == ["commune", "departement", "region", "france", "qpv", "hors_qpv"]
    assert proj["reference_centrale"] == "commune"
    assert "id: chambery" not in (tmp_path / "ville" / "projet.yaml").read_text(encoding="utf-8")


def _old_project(tmp_path):
    """The example project as written before the generic ids (chambery, savoie)."""
    shutil.copytree(EXAMPLE, tmp_path, dirs_exist_ok=True)
    text = (EXAMPLE / "projet.yaml").read_text(encoding="utf-8")
    text = (text.replace("{id: commune,", "{id: chambery,").replace("{id: departement,", "{id: savoie,")
            .replace("reference_centrale: commune", "reference_centrale: chambery")
            .replace("../../questionnaires/dls_habitants.yaml", str(QUESTIONNAIRE)))
    assert "id: chambery" in text and "id: savoie" in text
    (tmp_path / "projet.yaml").write_text(text, encoding="utf-8")
    return tmp_path / "projet.yaml"


def test_old_ids_in_projet_yaml_are_read_with_a_note(tmp_path):
    with pytest.warns(FutureWarning, match="« chambery » est ancien ; il est lu comme « commune »"):
        p = load_project(_old_project(tmp_path))
    assert p.references == {"commune": "Chambéry", "departement": "Savoie", "region": "Auvergne-Rhône-Alpes",
                            "france": "France", "qpv": "Ensemble des QPV", "hors_qpv": "Hors QPV"}
    assert p.reference_centrale == "commune" and p.dans("departement") == "en Savoie"


def test_old_level_in_references_file(tmp_path):
    f = tmp_path / "references.yaml"
    f.write_text("references:\n  - {indicator_id: x, level: savoie, territory_code: '73', period: '2021', "
                 "value: 0.5, status: illustrative, source: essai}\n", encoding="utf-8")
    with pytest.warns(FutureWarning, match="« savoie »"):
        assert read_references(f)["level"].tolist() == ["département"]


def test_old_columns_of_an_indicator_table(tmp_path):
    t = make_table().rename(columns={"ref_commune": "ref_chambery", "cmp_departement": "cmp_savoie"})
    with pytest.warns(FutureWarning, match="ref_chambery"):
        c = check_table(t)
    assert "ref_chambery" not in c and "cmp_savoie" not in c
    pd.testing.assert_series_equal(c["ref_commune"], make_table()["ref_commune"])
    pd.testing.assert_series_equal(c["cmp_departement"], make_table()["cmp_departement"])


@pytest.mark.slow
def test_old_project_still_builds(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "p").mkdir()
    proj = _old_project(tmp_path / "p")
    res = CliRunner().invoke(cli, ["build", "--projet", str(proj), "--out", "livrables", "--sans-pdf"])
    assert res.exit_code == 0, res.output
    html = (tmp_path / "livrables" / "dls_biollay.html").read_text(encoding="utf-8")
    assert "Chambéry" in html and "Savoie" in html
