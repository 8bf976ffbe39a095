"""A peer city's project (issue 28): every command run from its folder uses its files or refuses.

The project (tests/peer_project.py) is Grenoble: two quartiers, two questions removed and two
added, its own answers (every other respondent of the example's two first quartiers, renamed),
margins (three times the example's), extracts and published references, on real data.
"""
import re
import shutil

import openpyxl
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from diagnostics import paths
from diagnostics.cli import cli
from diagnostics.config.catalogue import load_catalogue, load_project_catalogue
from diagnostics.config.project import load_project
from diagnostics.config.questionnaire import load_questionnaire
from diagnostics.errors import ConfigurationError, DLSError

from peer_project import ADDED, EXAMPLE_NAMES, REMOVED, make_peer_project

_EXAMPLE = re.compile("|".join(EXAMPLE_NAMES))


@pytest.fixture
def peer(tmp_path, monkeypatch):
    monkeypatch.delenv("DLS_SECRET", raising=False)
    make_peer_project(tmp_path / "grenoble")
    monkeypatch.chdir(tmp_path / "grenoble")
    return tmp_path / "grenoble"


def _run(*args):
    return CliRunner().invoke(cli, list(args))


def _refusal(res) -> str:
    """The French sentence of a command that refused (``dls`` prints it and exits 2)."""
    assert isinstance(res.exception, DLSError), res.output
    assert res.exception.exit_code == 2
    return str(res.exception)


def _no_example_name(path):
    """No name of the Chambéry example anywhere in a CSV, HTML or workbook output."""
    if path.suffix == ".xlsx":
        cells = [str(v) for ws in openpyxl.load_workbook(path) for row in ws.iter_rows(values_only=True)
                 for v in row if v is not None]
        text = "\n".join(cells + [ws.title for ws in openpyxl.load_workbook(path)])
    else:
        text = path.read_text(encoding="utf-8-sig")
    found = _EXAMPLE.findall(text)
    assert not found, f"{path.name}: {sorted(set(found))}"


def test_check_validates_against_the_project_questionnaire(peer, tmp_path):
    answers = pd.read_csv(peer / "data/raw/reponses.csv", sep=";", dtype=str)
    res = _run("check", "data/raw/reponses.csv")
    assert res.exit_code == 0, res.output
    assert "« dls_grenoble » (version 2026.1)" in res.output
    # every row accepted, the new questions read (no « colonne inconnue »), the removed ones not missed
    assert f"{len(answers)} lignes lues, {len(answers)} acceptées, 0 rejetée, 0 avertissement" in res.output
    report = pd.read_excel(peer / "data/raw/reponses_controle.xlsx", sheet_name=None, engine="openpyxl")
    assert not any(_EXAMPLE.search(str(v)) for df in report.values() for v in df.to_numpy().ravel())
    # the pseudonymisation secret is the project's, never the current folder's of another place
    assert (peer / ".dls_secret").is_file()


def test_indicators_use_the_project_files(peer):
    res = _run("indicators", "--out", "sorties")
    assert res.exit_code == 0, res.output
    answers = pd.read_csv(peer / "data/raw/reponses.csv", sep=";", dtype=str)
    in_scope = answers["quartier"].isin(["Mistral", "Villeneuve"]).sum()
    assert f"{len(answers)} répondants lus" in res.output
    assert f"Hors champ : {len(answers) - in_scope} répondant(s) d'un autre quartier" in res.output
    # the new questions feed no indicator: said
    assert f"2 question(s) du questionnaire n'alimentent aucun indicateur du catalogue ({', '.join(ADDED)})" \
        in res.output
    t = pd.read_csv(peer / "sorties/indicateurs.csv", sep=";", encoding="utf-8-sig")
    assert set(t["Quartier"]) == {"Mistral", "Villeneuve", "Ensemble des deux quartiers"}
    cat = load_project_catalogue(load_project(peer / "projet.yaml"))
    assert t["Indicateur"].nunique() == len(cat) and not {"urgences_12m", "espaces_verts"} & {i.id for i in cat}
    assert "Référence Grenoble" in t.columns and "Référence Isère" in t.columns
    for out in ("indicateurs.csv", "indicateurs.xlsx"):
        _no_example_name(peer / "sorties" / out)
    # the denominators are the project's respondents of each quartier (none of the example's)
    n = t[t["Indicateur"] == cat["sans_complementaire"].label].set_index("Quartier")["Effectif (répondants ou population)"]
    counts = answers["quartier"].value_counts()
    for q in ("Mistral", "Villeneuve"):
        assert 0.9 * counts[q] < n[q] <= counts[q]


def test_indicators_refuse_illustrative_references_on_real_data(peer):
    shutil.copyfile(paths.EXAMPLE / "references.yaml", peer / "data/references.yaml")
    msg = _refusal(_run("indicators", "--out", "sorties"))
    assert msg.startswith("Projet sur données réelles (donnees_synthetiques: false)")
    assert "illustrative" in msg and not (peer / "sorties").exists()


def test_a_run_that_computes_nothing_fails(peer):
    answers = pd.read_csv(peer / "data/raw/reponses.csv", sep=";", dtype=str, keep_default_na=False)
    answers["quartier"] = "Autre quartier"                 # nobody of the project's quartiers
    answers.to_csv(peer / "data/raw/reponses.csv", sep=";", index=False)
    proj = yaml.safe_load((peer / "projet.yaml").read_text(encoding="utf-8"))
    del proj["donnees"]["extraits"]
    (peer / "projet.yaml").write_text(yaml.safe_dump(proj, allow_unicode=True), encoding="utf-8")
    msg = _refusal(_run("indicators", "--out", "sorties"))
    assert msg.startswith("aucun indicateur n'a pu être calculé") and "rien n'a été écrit" in msg
    assert not (peer / "sorties").exists()
    # the build refuses too: no deliverable built on nothing (exit 2, a French sentence)
    msg = _refusal(_run("build", "--out", "livrables", "--sans-pdf"))
    assert "aucun répondant des quartiers du projet" in msg and "Error" not in msg
    assert not (peer / "livrables").exists()


def test_forms_and_monitoring_use_the_project_questionnaire(peer, tmp_path):
    res = _run("questionnaire", "xlsform", "--out", str(tmp_path / "form.xlsx"))
    assert res.exit_code == 0, res.output
    names = {r[1] for r in openpyxl.load_workbook(tmp_path / "form.xlsx")["survey"].iter_rows(values_only=True)}
    assert set(ADDED) <= names and not set(REMOVED) & names
    # before any answer is collected (no data/raw/reponses.csv) the form is still made
    (peer / "data/raw/reponses.csv").rename(tmp_path / "reponses.csv")
    assert _run("questionnaire", "saisie", "--out", str(tmp_path / "saisie.xlsx")).exit_code == 0
    (tmp_path / "reponses.csv").rename(peer / "data/raw/reponses.csv")
    res = _run("suivi", "--out", str(tmp_path / "suivi.html"))
    assert res.exit_code == 0, res.output
    assert "Mistral" in res.output and "Villeneuve" in res.output
    _no_example_name(tmp_path / "suivi.html")


def test_relevant_on_a_dropped_code_is_refused(peer):
    qn = yaml.safe_load((peer / "questionnaire.yaml").read_text(encoding="utf-8"))
    for section in qn["sections"]:
        for q in section["questions"]:
            if q["name"] == "quartier_autre":
                q["relevant"] = "quartier == 3"          # Bellevue, not a quartier of Grenoble
    (peer / "questionnaire.yaml").write_text(yaml.safe_dump(qn, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"« quartier == 3 ».*le code 3 n'existe pas pour « quartier » "
                                                 r"\(codes possibles : 1, 2, 4\)"):
        load_questionnaire(peer / "questionnaire.yaml")
    res = _run("check", "data/raw/reponses.csv")
    assert res.exit_code == 2 and "le code 3 n'existe pas" in res.output


def test_catalogue_errors_are_all_reported_at_once(peer):
    cat = yaml.safe_load((peer / "indicateurs.yaml").read_text(encoding="utf-8"))
    cat["indicateurs"][0]["dimension"] = "inconnue"
    cat["indicateurs"][3]["question"] = "urgences_12m"      # removed from the questionnaire
    cat["indicateurs"][5]["sens"] = "vers_le_haut"
    (peer / "indicateurs.yaml").write_text(yaml.safe_dump(cat, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigurationError) as err:
        load_catalogue(peer / "indicateurs.yaml", load_questionnaire(peer / "questionnaire.yaml"))
    msg = str(err.value)
    assert msg.startswith("Catalogue « indicateurs.yaml » : 3 erreurs à corriger")
    assert "(1) l'indicateur « sans_couverture_base » : la dimension « inconnue »" in msg
    assert "(2) l'indicateur « difficultes_droits » : la question « urgences_12m » n'existe pas" in msg
    assert "(3) l'indicateur « epices_moyen » : le sens « vers_le_haut »" in msg


def test_api_validate_keeps_the_secret_in_the_project(peer, tmp_path, monkeypatch):
    from diagnostics import validate

    elsewhere = tmp_path / "ailleurs"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    res = validate(peer / "data/raw/reponses.csv", load_questionnaire(peer / "questionnaire.yaml"))
    assert res.n_rejected == 0
    assert (peer / ".dls_secret").is_file() and not (elsewhere / ".dls_secret").exists()


@pytest.mark.slow
def test_build_from_the_project_folder_names_no_example_place(peer):
    """« dls build » run from the project's folder: its quartiers, its reference territories (the
    methods' sentence of report_macros.j2 comes from projet.yaml), none of the example's names."""
    res = _run("build", "--sans-pdf", "--out", "livrables")
    assert res.exit_code == 0, res.output
    out = peer / "livrables"
    assert {"dls_mistral.html", "dls_villeneuve.html", "dls_synthese.html", "indicateurs.csv",
            "indicateurs.xlsx"} <= {p.name for p in out.iterdir()}
    for path in out.iterdir():
        if path.suffix in (".html", ".csv", ".xlsx", ".txt"):
            _no_example_name(path)
    html = (out / "dls_mistral.html").read_text(encoding="utf-8")
    assert ("par quartier prioritaire (QPV) et, pour comparaison, à Grenoble, en Isère, "
            "en Auvergne-Rhône-Alpes et en France.") in html


def test_api_validate_secret_without_a_project(tmp_path, monkeypatch):
    """No project: the secret goes beside the answers (a folder of the user's), never into the
    toolkit's example data; the example read from elsewhere keeps it in the current folder."""
    from diagnostics import validate

    monkeypatch.delenv("DLS_SECRET", raising=False)
    data, here = tmp_path / "donnees", tmp_path / "ici"
    data.mkdir()
    here.mkdir()
    shutil.copyfile(paths.EXAMPLE / "reponses_synthetiques.csv", data / "reponses.csv")
    monkeypatch.chdir(here)
    validate(data / "reponses.csv")
    assert (data / ".dls_secret").is_file() and not (here / ".dls_secret").exists()
    before = set(paths.EXAMPLE.iterdir())
    validate(paths.EXAMPLE / "reponses_synthetiques.csv")
    assert (here / ".dls_secret").is_file() and set(paths.EXAMPLE.iterdir()) == before


def test_without_its_own_catalogue_the_toolkit_catalogue_is_checked_against_its_questionnaire(peer):
    """A project that changed the questionnaire but names no catalogue: the toolkit's catalogue is
    checked against the *project's* questionnaire wherever it is loaded (the indicator table, the
    build's analyst workbook, notebooks 02 and 03) — it names the questions the project removed
    instead of computing from the toolkit's questionnaire behind the project's back."""
    from diagnostics.engine.indicators import compute_indicators

    proj = yaml.safe_load((peer / "projet.yaml").read_text(encoding="utf-8"))
    proj["donnees"].pop("catalogue", None)
    (peer / "projet.yaml").write_text(yaml.safe_dump(proj, allow_unicode=True), encoding="utf-8")
    project = load_project(peer / "projet.yaml")
    with pytest.raises(ConfigurationError) as err:
        load_project_catalogue(project)
    assert any(q in str(err.value) for q in REMOVED)
    with pytest.raises(ConfigurationError):
        compute_indicators(pd.DataFrame(), pd.DataFrame(), project=project)
