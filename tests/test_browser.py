"""The deliverables in a real headless Chromium: no console error, no network request, every
section in the PDF, data shown as text (never executed).  Needs Chromium (skipped otherwise)."""
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from diagnostics.errors import DLSError
from diagnostics.paths import EXAMPLE
from diagnostics.project import load_project
from diagnostics.questionnaire import load_dimensions

pytestmark = pytest.mark.browser

QUARTIERS = {"biollay": "Biollay", "hauts_de_chambery": "Hauts-de-Chambéry", "bellevue": "Bellevue"}
SCREENSHOTS = Path(__file__).resolve().parent.parent / "build" / "captures"


def _chromium():
    from diagnostics.pdf import find_chromium

    try:
        return find_chromium()
    except DLSError as exc:
        pytest.skip(f"Chromium introuvable ({exc}) : test navigateur ignoré.")


@pytest.fixture(scope="module")
def browser():
    exe = _chromium()
    sync_api = pytest.importorskip("playwright.sync_api", reason="paquet Python playwright absent")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        yield b
        b.close()


@pytest.fixture(scope="module")
def livrables(tmp_path_factory):
    """The real end-to-end build of the embedded sample (notebooks, indicators, PDFs)."""
    _chromium()
    from diagnostics.build import build

    out = tmp_path_factory.mktemp("build") / "livrables"
    build(out)
    return out


def _open(browser, path: Path, shot: Path | None = None):
    """Load ``path``; return (page, console errors, requested URLs, dialogs)."""
    page = browser.new_page(viewport={"width": 1000, "height": 1400})
    errors, requests, dialogs = [], [], []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(path.resolve().as_uri(), wait_until="load")
    page.wait_for_function("document.documentElement.getAttribute('data-figures') === 'pretes'", timeout=30000)
    if shot is not None:
        shot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shot), full_page=False)
    return page, errors, requests, dialogs


@pytest.mark.parametrize("name", ["dls_biollay", "dls_hauts_de_chambery", "dls_bellevue", "dls_synthese"])
def test_report_in_browser(browser, livrables, name):
    html = livrables / f"{name}.html"
    page, errors, requests, dialogs = _open(browser, html, SCREENSHOTS / f"{name}.png")
    try:
        assert errors == []
        assert dialogs == []
        assert [u for u in requests if u != html.resolve().as_uri() and not u.startswith("data:")] == []
        n_fig = page.evaluate("document.querySelectorAll('.graphique').length")
        drawn = page.evaluate("document.querySelectorAll('.graphique svg.main-svg').length")
        assert n_fig >= 9 and drawn >= n_fig  # every figure was drawn by plotly
        text = page.inner_text("body")
        for label in load_dimensions().values():
            assert label in text
    finally:
        page.close()


def _pdf_text(path: Path) -> str:
    if shutil.which("pdftotext"):
        return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                              check=True).stdout
    from pypdf import PdfReader

    return "\n".join(p.extract_text() for p in PdfReader(str(path)).pages)


def _squash(s: str) -> str:
    return " ".join(s.replace("\u202f", " ").replace("\u00a0", " ").split())


@pytest.mark.parametrize("name", ["dls_biollay", "dls_hauts_de_chambery", "dls_bellevue"])
def test_quartier_pdf_has_every_section(livrables, name):
    pdf = livrables / f"{name}.pdf"
    assert pdf.read_bytes()[:5] == b"%PDF-"
    text = _squash(_pdf_text(pdf))
    for label in load_dimensions().values():
        assert label in text, label
    for title in ("L'essentiel", "Méthode", "Trois modes de recueil", "Échantillon et population", "Pondération",
                  "Marges d'erreur", "Estimations « fragiles » et cases « supprimées »",
                  "Paroles de partenaires et d'habitants", "Annuaire des acteurs", "1 600", "questionnaires imprimés",
                  "Tableau des indicateurs", "Lecture : chaque ligne est un indicateur"):
        assert title in text, title
    # figures were rendered before printing: their axis labels are in the PDF text
    assert "◀ moins favorable" in text and "plus favorable ▶" in text
    quartier = load_project().quartier(name.removeprefix("dls_")).libelle
    assert quartier in text


def test_synthesis_pdf(livrables):
    text = _squash(_pdf_text(livrables / "dls_synthese.pdf"))
    for label in load_dimensions().values():
        assert label in text
    for title in ("Synthèse des quartiers", "L'essentiel, quartier par quartier", "Méthode", "Paroles de partenaires"):
        assert title in text


def test_markup_in_data_is_shown_as_text(browser, tmp_path):
    from diagnostics import report
    from diagnostics.actors import load_actors
    from report_fixture import make_table

    project = load_project()
    actors = load_actors(EXAMPLE / "annuaire_acteurs_synthetique.csv", quartiers=QUARTIERS)
    evil = pd.DataFrame([{"nom": "<script>alert(1)</script>", "type": "<img src=x onerror=alert(2)>",
                          "themes": ["soins"], "quartiers": ["Biollay"], "adresse": "", "telephone": "",
                          "site_web": "", "horaires": "", "description": "", "ligne": 99}])
    html = report.render_quartier(project, "Biollay", make_table(extra_label="<script>alert(3)</script>"),
                                  actors=pd.concat([actors, evil], ignore_index=True),
                                  comments=["<b onmouseover=alert(4)>gras</b>"])
    path = report.write_html(html, tmp_path / "piege.html")
    page, errors, requests, dialogs = _open(browser, path)
    try:
        assert dialogs == [] and errors == []
        assert [u for u in requests if u != path.resolve().as_uri() and not u.startswith("data:")] == []
        text = page.inner_text("#annuaire")
        assert "<script>alert(1)</script>" in text and "<img src=x onerror=alert(2)>" in text
        assert "<script>alert(3)</script>" in page.inner_text("#dim-droits table")
        assert "<b onmouseover=alert(4)>gras</b>" in page.inner_text("#qualitatif")
        assert page.evaluate("document.querySelectorAll('main script, main img[src=x], main b').length") == 18
    finally:
        page.close()
