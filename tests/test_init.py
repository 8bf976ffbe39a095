"""dls init: a peer city's project folder, adapted with YAML/CSV edits only, builds its reports."""
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from diagnostics.cli import cli
from diagnostics.config.project import find_project, load_project
from diagnostics.config.scaffold import init_project
from diagnostics.errors import DLSError

RENAME = {"Biollay": "Les Tilleuls", "Hauts-de-Chambéry": "Le Port"}


def _replace_in(path, mapping, drop_lines_with=None):
    lines = path.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    if drop_lines_with:
        lines = [ln for ln in lines if drop_lines_with not in ln]
    text = "".join(lines)
    for a, b in mapping.items():
        text = text.replace(a, b)
    path.write_text(text, encoding="utf-8")


def test_init_layout_and_refusal(tmp_path, capsys):
    files = init_project(tmp_path / "ville", "Villeneuve")
    names = {p.relative_to(tmp_path / "ville").as_posix() for p in files}
    assert {"projet.yaml", "questionnaire.yaml", "indicateurs.yaml", "LISEZMOI.md", ".gitignore",
            "data/marges_population.csv", "data/extraits.csv", "data/references.yaml",
            "data/annuaire_acteurs.csv", "data/entretiens.md", "carnets/01_verifier_reponses.py",
            "carnets/jupytext.toml"} <= names
    assert (tmp_path / "ville" / "data" / "raw").is_dir()
    ignored = (tmp_path / "ville" / ".gitignore").read_text(encoding="utf-8").splitlines()
    # the real answers, and the build's working folder (« livrables_travail »: executed notebooks)
    assert "data/raw/" in ignored and "*_travail/" in ignored
    assert "Villeneuve" in (tmp_path / "ville" / "LISEZMOI.md").read_text(encoding="utf-8")
    # no answers yet: the project says which file is missing, in French
    with pytest.raises(DLSError, match="donnees.reponses.*introuvable"):
        load_project(tmp_path / "ville" / "projet.yaml")
    # a notebook opened in carnets/ finds the project of its parent folder
    assert find_project(start=tmp_path / "ville" / "carnets") == tmp_path / "ville" / "projet.yaml"
    # the project named by its folder (« --projet ville », a notebook's ``projet = "../ville"``) is
    # its projet.yaml; a folder without one is refused in French, never the example in its place
    assert find_project(tmp_path / "ville") == tmp_path / "ville" / "projet.yaml"
    with pytest.raises(DLSError, match=r"ne contient pas de projet\.yaml"):
        find_project(tmp_path / "ville" / "data")
    from diagnostics.cli import main

    with pytest.raises(SystemExit) as ex:
        main(["build", "--projet", str(tmp_path / "ville" / "data"), "--sans-pdf"])
    assert ex.value.code == 2
    assert "ne contient pas de projet.yaml" in capsys.readouterr().err
    with pytest.raises(DLSError, match="n'est pas vide"):
        init_project(tmp_path / "ville")


@pytest.mark.slow
def test_two_quartier_city_builds_with_file_edits_only(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DLS_SECRET", raising=False)
    from diagnostics import paths
    from diagnostics.collect.pseudonym import get_secret, secret_path
    package_secrets = set(paths.resource().rglob(".dls_secret"))
    run = CliRunner()
    res = run.invoke(cli, ["initialiser", "villeneuve", "--ville", "Villeneuve-sur-Test", "--exemple"])
    assert res.exit_code == 0, res.output
    root = tmp_path / "villeneuve"

    # projet.yaml: two quartiers
    proj = yaml.safe_load((root / "projet.yaml").read_text(encoding="utf-8"))
    proj["quartiers"] = [
        {"id": "les_tilleuls", "libelle": "Les Tilleuls", "code": 1, "qpv": "QN073001", "locatif": "aux Tilleuls"},
        {"id": "le_port", "libelle": "Le Port", "code": 2, "qpv": "QN073002", "locatif": "au Port"},
    ]
    proj["projet"]["titre"] = "Diagnostic local de santé de Villeneuve-sur-Test"
    (root / "projet.yaml").write_text(yaml.safe_dump(proj, allow_unicode=True), encoding="utf-8")
    # questionnaire.yaml: the city's quartiers in the « quartier » list
    qn = yaml.safe_load((root / "questionnaire.yaml").read_text(encoding="utf-8"))
    qn["choice_lists"]["quartier"] = [{"code": 1, "label": "Les Tilleuls"}, {"code": 2, "label": "Le Port"},
                                      {"code": 4, "label": "Autre quartier"}]
    (root / "questionnaire.yaml").write_text(yaml.safe_dump(qn, allow_unicode=True, sort_keys=False),
                                             encoding="utf-8")
    # CSV / Markdown: the city's names; answers and margins of the third quartier dropped
    answers = pd.read_csv(root / "data/raw/reponses.csv", sep=";", dtype=str, keep_default_na=False,
                          encoding="cp1252")
    kept = answers[answers["quartier"] != "Bellevue"].replace({"quartier": RENAME})
    assert 0 < len(kept) < len(answers) and set(kept["quartier"]) == {"Les Tilleuls", "Le Port", "Autre quartier"}
    kept.to_csv(root / "data/raw/reponses.csv", sep=";", index=False, encoding="utf-8")
    _replace_in(root / "data/marges_population.csv", RENAME, drop_lines_with="Bellevue")
    _replace_in(root / "data/extraits.csv", RENAME, drop_lines_with="QN073003")
    _replace_in(root / "data/annuaire_acteurs.csv", {**RENAME, "Bellevue": "Le Port"})
    _replace_in(root / "data/entretiens.md", {**RENAME, "Bellevue": "Le Port"})

    res = run.invoke(cli, ["check", "villeneuve/data/raw/reponses.csv", "--questionnaire",
                           "villeneuve/questionnaire.yaml"])
    assert res.exit_code == 0, res.output
    assert (root / "data/raw/reponses_controle.xlsx").is_file()   # beside the checked file
    # the pseudonymisation secret is the project's, beside projet.yaml (not where dls runs)
    assert (root / ".dls_secret").is_file() and not (tmp_path / ".dls_secret").exists()
    secret = (root / ".dls_secret").read_text(encoding="utf-8").strip().encode()

    res = run.invoke(cli, ["build", "--projet", "villeneuve/projet.yaml", "--out", "livrables", "--sans-pdf"])
    assert res.exit_code == 0, res.output
    # the build's notebooks (their kernel runs in the package's notebook folder) used the same
    # secret and wrote none elsewhere
    assert (root / ".dls_secret").read_text(encoding="utf-8").strip().encode() == secret
    assert set(paths.resource().rglob(".dls_secret")) == package_secrets
    assert not (tmp_path / ".dls_secret").exists() and not list((tmp_path / "livrables").rglob(".dls_secret"))
    assert get_secret(secret_path(load_project(root / "projet.yaml"))) == secret
    out = tmp_path / "livrables"
    assert sorted(p.name for p in out.glob("*.html")) == ["dls_definitions.html", "dls_le_port.html",
                                                          "dls_les_tilleuls.html", "dls_synthese.html"]
    html = (out / "dls_les_tilleuls.html").read_text(encoding="utf-8")
    assert "Les Tilleuls" in html and "Biollay" not in html and "Villeneuve-sur-Test" in html
    table = pd.read_csv(out / "indicateurs.csv", sep=";", decimal=",", encoding="utf-8-sig")
    assert set(table["Quartier"]) == {"Les Tilleuls", "Le Port", "Ensemble des deux quartiers"}


def test_help_is_french():
    run = CliRunner()
    top = run.invoke(cli, ["--help"]).output
    assert "COMMANDE [ARGUMENTS]" in top and "COMMAND [ARGS]" not in top and "init" in top
    sub = run.invoke(cli, ["questionnaire", "saisie", "--help"]).output
    assert "[obligatoire]" in sub and "[required]" not in sub and "ENTIER" in sub and "INTEGER" not in sub
    assert "TEXT " not in run.invoke(cli, ["check", "--help"]).output


def test_setup_gives_jupyterlab():
    """run.sh (the README's set-up command) installs the [carnets] extra for « carnets » and « test »:
    JupyterLab + jupytext (each command's extras: tests/test_install.py)."""
    import re
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    script = (root / "run.sh").read_text(encoding="utf-8")
    assert 'setup_python "carnets"' in script and re.search(r'setup_python "[^"]*\bcarnets\b[^"]*spark', script)
    assert '"jupyterlab' in (root / "pyproject.toml").read_text(encoding="utf-8")
    lab = Path(sys.executable).parent / "jupyter-lab"
    if not lab.exists() and shutil.which("jupyter-lab") is None:
        pytest.skip("environnement installé sans l'option [carnets]")
    res = subprocess.run([str(lab if lab.exists() else "jupyter-lab"), "--version"], capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 0 and res.stdout.strip()[0].isdigit()
