"""dls build: notebooks executed headless, atomic output, French errors naming the failing cell."""

import os
import subprocess
import sys

import pytest
from click.testing import CliRunner
from report_fixture import make_table

from diagnostics.cli import cli
from diagnostics.errors import ConfigurationError, DLSError
from diagnostics.engine.build import MARKER, build

REPORTS = ["dls_bellevue.html", "dls_biollay.html", "dls_definitions.html", "dls_hauts_de_chambery.html",
           "dls_synthese.html"]


@pytest.fixture(scope="module")
def fixture_csv(tmp_path_factory):
    f = tmp_path_factory.mktemp("tableau") / "indicateurs.csv"
    make_table().to_csv(f, sep=";", index=False, encoding="utf-8-sig")
    return f


@pytest.fixture(scope="module")
def built(tmp_path_factory, fixture_csv):
    out = tmp_path_factory.mktemp("livraison") / "livrables"
    messages = []
    res = build(out, pdf=False, indicator_table=fixture_csv, progress=messages.append)
    return out, res, messages


def test_outputs(built):
    out, res, messages = built
    assert sorted(p.name for p in out.glob("*.html")) == REPORTS
    assert [p.name for p in res.files] == REPORTS
    assert not (out / "carnets").exists()  # executed notebooks hold row-level outputs: working folder
    assert res.work == out.parent / "livrables_travail"
    assert sorted(p.name for p in (res.work / "carnets").iterdir()) == [
        "01_verifier_reponses.ipynb", "02_ponderer.ipynb", "03_indicateurs.ipynb",
        "04_livrable_quartier_bellevue.ipynb", "04_livrable_quartier_biollay.ipynb",
        "04_livrable_quartier_hauts_de_chambery.ipynb", "05_synthese.ipynb"]
    assert (out / MARKER).is_file() and (out / "indicateurs.csv").is_file()
    assert not (out / "_travail").exists()  # respondent-level tables never reach the deliverables
    assert sorted(p.name for p in out.parent.iterdir()) == ["livrables", "livrables_travail"]  # no temporary folder left behind
    assert messages[0].startswith("[0/7] Démarrage du noyau Python")
    assert messages[1] == "[1/7] Vérification des réponses (carnet 01_verifier_reponses)…"
    assert messages[-1].startswith("Terminé en ") and "5 fichiers" in messages[-1]   # 3 quartiers, synthesis, definitions
    html = (out / "dls_hauts_de_chambery.html").read_text(encoding="utf-8")
    assert "aux Hauts-de-Chambéry" in html and "Centre social des Hauts (fictif)" in html
    assert "Centre social de Bellevue (fictif)" not in html  # directory filtered to the quartier
    # the executed notebook of the quartier kept its injected parameters and its outputs
    nb = (res.work / "carnets" / "04_livrable_quartier_biollay.ipynb").read_text(encoding="utf-8")
    assert "injected-parameters" in nb and 'quartier = \\"biollay\\"' in nb and "Rapport écrit" in nb
    # notebook 01 really validated the sample: 406 rows read
    assert "406 réponses retenues sur 406 lues" in (res.work / "carnets" / "01_verifier_reponses.ipynb").read_text("utf-8")


def test_failed_build_leaves_previous_output_untouched(built, tmp_path):
    out, _, _ = built
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    broken = tmp_path / "casse.csv"
    make_table().drop(columns="dimension").to_csv(broken, sep=";", index=False)
    with pytest.raises(DLSError) as err:
        build(out, pdf=False, indicator_table=broken)
    msg = str(err.value)
    assert msg.startswith("Le carnet « 03_indicateurs » s'est arrêté à la cellule de code n° 3 (« if tableau_indicateurs: »)")
    assert "Le tableau d'indicateurs n'a pas la colonne « dimension »" in msg
    assert "Traceback" not in msg
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before
    assert sorted(p.name for p in out.parent.iterdir()) == ["livrables", "livrables_travail"]


def test_refuses_to_overwrite_foreign_folder(tmp_path):
    out = tmp_path / "mes_documents"
    out.mkdir()
    (out / "precieux.docx").write_text("x")
    with pytest.raises(DLSError, match="n'est pas vide et ne vient pas d'une construction précédente"):
        build(out, pdf=False)
    assert [p.name for p in out.iterdir()] == ["precieux.docx"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mes_documents"]


def test_bad_project_fails_before_any_work(tmp_path):
    cfg = tmp_path / "projet.yaml"
    cfg.write_text("projet: {titre: T}\nquartiers: []\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="clé « quartiers »"):
        build(tmp_path / "sortie", cfg, pdf=False)
    assert [p.name for p in tmp_path.iterdir()] == ["projet.yaml"]


def test_cli_error_is_one_french_line(tmp_path, capsys):
    cfg = tmp_path / "projet.yaml"
    cfg.write_text("projet: {titre: T}\nquartiers: [{id: a, libelle: A, qpv: faux}]\n", encoding="utf-8")
    from diagnostics.cli import main

    with pytest.raises(SystemExit) as ex:
        main(["build", "--out", str(tmp_path / "l"), "--projet", str(cfg), "--sans-pdf"])
    assert ex.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err == ("Erreur : Configuration du projet « projet.yaml », clé « quartiers[1].qpv » : valeur « faux » : "
                   "attendu un code QPV officiel (ex. QN07301M ou QP073001).")


def test_cli_help_documents_default_folder():
    res = CliRunner().invoke(cli, ["build", "--help"])
    assert res.exit_code == 0
    assert "--out" in res.output and "livrables" in res.output and "--projet" in res.output


def _small_html(tmp_path, name, text):
    f = tmp_path / f"{name}.html"
    f.write_text(f"<!doctype html><html><head><meta charset='utf-8'><style>@page {{ size: A4 }}</style></head>"
                 f"<body><h1>{text}</h1></body></html>",
                 encoding="utf-8")
    return f


@pytest.mark.browser
@pytest.mark.parametrize("broken_playwright", [False, True])
def test_pdf_printer_one_browser_or_fallback(tmp_path, monkeypatch, broken_playwright):
    """Both printing paths give A4 PDFs holding the page's text; errors arrive in French."""
    pypdf = pytest.importorskip("pypdf")
    from diagnostics.io import pdf as build_mod
    from diagnostics.io.pdf import find_chromium

    try:
        find_chromium()
    except DLSError:
        pytest.skip("pas de Chromium sur cette machine")
    if broken_playwright:
        async def no_playwright(self):
            raise RuntimeError("Playwright indisponible")
        monkeypatch.setattr(build_mod.PdfPrinter, "_main", no_playwright)
    pairs = [(_small_html(tmp_path, n, f"Rapport {n}"), tmp_path / f"{n}.pdf") for n in ("un", "deux", "trois")]
    build_mod.print_pdfs(pairs, workers=2)
    for html, pdf in pairs:
        page = pypdf.PdfReader(pdf).pages[0]
        assert round(float(page.mediabox.width)) == 595 and round(float(page.mediabox.height)) == 842
        assert f"Rapport {html.stem}" in page.extract_text()
    with pytest.raises(DLSError):
        build_mod.print_pdfs([(tmp_path / "absent.html", tmp_path / "absent.pdf")])
    assert not (tmp_path / "absent.pdf").exists()


def test_each_notebook_starts_from_an_empty_namespace(tmp_path):
    # the build runs every notebook in one kernel: a name (or a cached output) of the previous
    # notebook must not be visible to the next, or a notebook could work in the build and not alone
    import nbformat

    from diagnostics.engine.build import _Kernel

    first = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1\n_y = 2\nimport math\nx + 1")])
    second = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "names = {n for n in dir() if not n.startswith('__')}\n"
        "print(sorted(names & {'x', '_y', 'math', '_', '_1', '_gc', 'pandas', 'diagnostics'}), len(Out), __name__)")])
    kernel = _Kernel(tmp_path)   # the names of its PRELOAD imports are gone too
    try:
        kernel.ready()
        kernel.run("premier", first)
        out = kernel.run("second", second).cells[0].outputs
    finally:
        kernel.close()
    assert [o["text"] for o in out] == ["[] 0 __main__\n"]


def test_the_example_s_secret_is_made_silently_and_the_iri_grammar_never_compiled(tmp_path, capsys, monkeypatch):
    # a project's new secret is announced (keep it with the raw data); the embedded example's
    # lives in the build's temporary work folder and goes with it: no notice
    from diagnostics.collect.pseudonym import get_secret

    monkeypatch.delenv("DLS_SECRET", raising=False)
    get_secret(tmp_path / "travail.dls_secret", announce=False)
    assert (tmp_path / "travail.dls_secret").is_file() and "secret" not in capsys.readouterr().err
    get_secret(tmp_path / ".dls_secret")
    assert (tmp_path / ".dls_secret").is_file() and "Conservez ce fichier" in capsys.readouterr().err
    # the build, in a process of its own: the example's secret made silently, in its work folder;
    # and jsonschema's IRI grammar never compiled (1.1 s of processor: nbformat imported before
    # the build's guard did that at every build, unseen)
    code = ("import sys; from diagnostics.engine.build import build; build(sys.argv[1], pdf=False); "
            "print(repr(sys.modules.get('rfc3987_syntax', 'absent')))")
    run = subprocess.run([sys.executable, "-c", code, str(tmp_path / "livrables")], capture_output=True, text=True,
                         env={k: v for k, v in os.environ.items() if k != "DLS_SECRET"}, check=True)
    assert "secret" not in run.stderr
    assert run.stdout.splitlines()[-1] in ("None", "'absent'")
