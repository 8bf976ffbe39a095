"""The deliverables in a real headless Chromium: no console error, no network request, every
section in the PDF, data shown as text (never executed).  Needs Chromium (skipped otherwise)."""
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from diagnostics.config.project import load_project
from diagnostics.config.questionnaire import load_dimensions
from diagnostics.errors import DLSError
from diagnostics.paths import EXAMPLE, NOTEBOOKS

pytestmark = pytest.mark.browser

QUARTIERS = {"biollay": "Biollay", "hauts_de_chambery": "Hauts-de-Chambéry", "bellevue": "Bellevue"}
SCREENSHOTS = Path(__file__).resolve().parent.parent / "build" / "captures"


def _chromium():
    from diagnostics.io.pdf import find_chromium

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
    from diagnostics.engine.build import build

    out = tmp_path_factory.mktemp("build") / "livrables"
    NOTEBOOKS_BEFORE.update(_listing(NOTEBOOKS))
    build(out)
    return out


NOTEBOOKS_BEFORE: dict = {}


def _listing(folder: Path) -> dict:
    return {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}


def test_the_build_writes_nothing_beside_the_shipped_notebooks(livrables):
    # the example's work files and pseudonymisation secret go to the build's work folder: an
    # installed package may be read-only (notebook 3 used to write « .dls_secret » there)
    assert _listing(NOTEBOOKS) == NOTEBOOKS_BEFORE


#: Elements of the page wider than the screen or cut by it (issue 27): every HTML box, and every text of a
#: drawing (plotly, map), must lie within the screen, or within its drawing for a text — unless it is inside
#: a box that scrolls sideways (a table's own scroll region).  Shapes of a drawing are clipped by design.
CUT = """() => {
  const W = document.documentElement.clientWidth, out = [];
  const inScroll = (e) => { for (let p = e.parentElement; p; p = p.parentElement) {
    const s = getComputedStyle(p).overflowX; if (s === 'auto' || s === 'scroll') return true; } return false; };
  for (const e of document.querySelectorAll('main *')) {
    const svg = e.parentElement && e.parentElement.closest('svg');
    if (svg && e.tagName !== 'text') continue;
    const r = e.getBoundingClientRect();
    if (!r.width || !r.height || inScroll(e)) continue;
    let lo = 0, hi = W;
    if (svg) { const s = svg.getBoundingClientRect(); lo = Math.max(lo, s.left); hi = Math.min(hi, s.right); }
    if (r.left < lo - 1 || r.right > hi + 1) {
      out.push(((e.closest('[id]') || {}).id || '') + ' ' + e.tagName + ' « ' + (e.textContent || '').slice(0, 40)
               + ' » ' + Math.round(r.left) + '–' + Math.round(r.right) + ' px'); } }
  return out; }"""
AXE = Path(__file__).resolve().parent / ".node" / "node_modules" / "axe-core" / "axe.min.js"
REPORTS = ["dls_biollay", "dls_hauts_de_chambery", "dls_bellevue", "dls_synthese"]


def _open(browser, path: Path, shot: Path | None = None):
    """Load ``path``; return (page, console errors, requested URLs, dialogs)."""
    page = browser.new_page(viewport={"width": 1000, "height": 1400})
    errors, requests, dialogs = [], [], []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(path.resolve().as_uri(), wait_until="load")
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
        shown = page.evaluate("Array.from(document.querySelectorAll('.graphique svg'))"
                              ".filter(s => s.getBoundingClientRect().height > 0).length")
        assert n_fig >= 9 and shown == n_fig  # each figure shows one of its two drawings
        text = page.inner_text("body")
        for label in load_dimensions().values():
            assert label in text
        if name != "dls_synthese":  # the quartier's map: an SVG with its text alternative, its actors numbered
            assert page.evaluate("document.querySelectorAll('#carte svg[role=img][aria-label]').length") == 1
            assert page.evaluate("document.querySelectorAll('#carte .acteur-point').length") == \
                page.evaluate("document.querySelectorAll('#carte ol.acteurs-carte li').length") > 0
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
    for title in ("L'essentiel", "Le quartier en bref", "Comment lire les graphiques", "Annexe A. Méthode",
                  "Trois modes de recueil", "Échantillon et population", "Pondération", "Marges d'erreur",
                  "Estimations « fragiles » et cases « supprimées »", "Paroles de partenaires et d'habitants",
                  "Annexe B.", "Annexe C. Définitions, sources et glossaire", "Annexe D. Annuaire des acteurs",
                  "1 600", "questionnaires imprimés", "EPICES", "WHO-5",
                  "Le quartier et ses ressources", "CONTOURS SYNTHÉTIQUES", "Sans position sur la carte"):
        assert title in text, title
    # figures were rendered before printing: their axis labels are in the PDF text
    assert "◀ moins favorable" in text and "plus favorable ▶" in text
    # the reading guide is printed once, not under every chart
    assert text.count("Lecture des graphiques") == 1
    quartier = load_project().quartier(name.removeprefix("dls_")).libelle
    assert quartier in text
    assert "À retenir" not in text   # the block « L'essentiel » replaced
    # the ASV's strengths and lines of action when its constats/<quartier>.md has a text (else left out)
    from diagnostics.publish.constats import read_statement, statement_path

    written = bool(read_statement(statement_path(load_project(), name.removeprefix("dls_"))).text.strip())
    assert ("Points forts" in text and "Pistes d'action" in text) == written


def _pages(path: Path) -> list[str]:
    from pypdf import PdfReader

    n = len(PdfReader(str(path)).pages)
    return [subprocess.run(["pdftotext", "-f", str(i), "-l", str(i), "-layout", str(path), "-"], capture_output=True,
                           text=True, check=True).stdout for i in range(1, n + 1)]


def _annex_page(pages: list[str]) -> int:
    """1-based number of the page that opens the annexes (its first line is « Annexes »)."""
    for i, t in enumerate(pages, start=1):
        lines = [x.strip() for x in t.splitlines() if x.strip()]
        if lines and lines[0] == "Annexes":
            return i
    raise AssertionError("pas de page « Annexes »")


@pytest.mark.parametrize("name", ["dls_biollay", "dls_hauts_de_chambery", "dls_bellevue", "dls_synthese"])
def test_pdf_print_quality(livrables, name):
    """Issue 9 bar: body of at most 16 A4 pages before the annexes, raised to 18 by issue 17 (the
    « Évolution depuis le diagnostic de … » page inside « À retenir » and the values the survey
    secrecy rule no longer masks: Hauts-de-Chambéry measured at 18 on 2026-12-06); no page
    without text, an outline (bookmarks) and a tagged PDF."""
    from pypdf import PdfReader

    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext absent")
    pdf = livrables / f"{name}.pdf"
    pages = _pages(pdf)
    assert [i for i, t in enumerate(pages, start=1) if not t.strip()] == []
    assert _annex_page(pages) - 1 <= 18
    reader = PdfReader(str(pdf))
    root = reader.trailer["/Root"]
    assert bool(root.get("/MarkInfo", {}).get("/Marked")) and "/StructTreeRoot" in root

    def flat(items):
        for o in items:
            yield from (flat(o) if isinstance(o, list) else [o.title])

    titles = list(flat(reader.outline))
    assert len(titles) >= 10 and any("Annexes" in t for t in titles), titles


def _catalogue():
    from diagnostics.publish.sources import load_sources

    return load_sources(load_project()).indicators


def _essentiel_items(text: str) -> list[str]:
    """The numbered findings of « L'essentiel » in ``text`` (squashed): the note between the
    significant ones and the complements, and the ASV's box after them (« Points forts »), left out."""
    import re

    body = text[text.index("L'essentiel"):text.index("Le quartier en bref")].split("Points forts")[0]
    body = re.sub(r"(Seuls \d+ écarts restent|Un seul écart reste|Aucun écart ne reste) significatif.*?publiée\.",
                  " ", body)
    starts, k = [], 1
    while (at := body.find(f" {k}. ", starts[-1] if starts else 0)) >= 0:
        starts.append(at)
        k += 1
    return [body[a:b].strip() for a, b in zip(starts, starts[1:] + [len(body)])]


@pytest.mark.parametrize("name", ["dls_biollay", "dls_hauts_de_chambery", "dls_bellevue"])
def test_first_pages_and_verdicts(livrables, name):
    """The first four pages carry « L'essentiel »: its findings (as many as ``constats`` in
    projet.yaml), each with its value, its interval, its comparator and its verdict in words (a
    sentence reworded by the analyst in constats/<quartier>.md keeps value, interval and comparator),
    then the counts of verdicts; no indicator is called both more and less favourable in a report."""
    import re

    from diagnostics.publish.constats import read_statement, statement_path

    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext absent")
    pages = _pages(livrables / f"{name}.pdf")
    project = load_project()
    head = _squash("\n".join(pages[:4]))
    assert "L'essentiel" in _squash(pages[1])   # the page after the cover
    items = _essentiel_items(head)
    assert len(items) == project.constats >= 5, items
    interval = re.compile(r"\d+(,\d)?\s*%?\s*\[\s*\d+(,\d)?\s*;\s*\d+(,\d)?\s*\]")
    assert [i for i in items if not (interval.search(i) and " contre " in i)] == []
    said = re.compile(r"situation (moins|plus) favorable|pas d'écart significatif|en (amélioration|dégradation)")
    reworded = len(read_statement(statement_path(project, name.removeprefix("dls_"))).reworded)
    assert sum(not said.search(i) for i in items) <= reworded, items
    # the counts of verdicts, each with its words (text in reading order: a label wraps in its box)
    raw = _squash(subprocess.run(["pdftotext", "-f", "1", "-l", "4", "-raw", str(livrables / f"{name}.pdf"), "-"],
                                 capture_output=True, text=True, check=True).stdout)
    assert re.search(r"\d+ indicateurs \d+ moins favorables \d+ plus favorables \d+ estimations fragiles", raw)
    # verdicts: every mention of an indicator carries the same verdict
    cat = _catalogue()
    for lab in cat["label"]:
        lines = [ln for ln in "\n".join(pages).splitlines() if lab in ln]
        said = {v for ln in lines for v in ("moins bien", "mieux") if f" {v} " in f" {ln} "}
        assert said != {"moins bien", "mieux"}, lab


@pytest.mark.parametrize("name", ["dls_biollay", "dls_hauts_de_chambery", "dls_bellevue", "dls_synthese"])
def test_sources_and_annex(browser, livrables, name):
    """Every indicator table and chart is followed by « Source : … » with a period; annex C links to
    the shared document, which lists every catalogue indicator."""
    page, *_ = _open(browser, livrables / f"{name}.html")
    try:
        missing = page.evaluate("""() => {
          const out = [];
          for (const el of document.querySelectorAll('table.indicateurs, table.resume, table.vue-ensemble, table.croise, .graphique')) {
            let box = el.closest('.defile') || el;
            let nxt = box.nextElementSibling;
            while (nxt && nxt.tagName === 'SCRIPT') nxt = nxt.nextElementSibling;
            if (!(nxt && nxt.classList.contains('source') && /Source : .*\\d{4}/.test(nxt.textContent))) {
              if (!(el.closest('table.resume') || el.matches('table.resume'))) out.push(el.id || el.className);
            }
          }
          return out;
        }""")
        assert missing == []
        assert page.get_attribute("#definitions a", "href") == "dls_definitions.html"
    finally:
        page.close()
    shared, *_ = _open(browser, livrables / "dls_definitions.html")
    try:
        annex = shared.inner_text("#definitions")
        for lab in _catalogue()["label"]:
            assert lab in annex, lab
    finally:
        shared.close()


@pytest.mark.parametrize("name", ["dls_biollay", "dls_hauts_de_chambery", "dls_bellevue", "dls_synthese"])
def test_html_size_and_no_horizontal_scroll(browser, livrables, name):
    """At most 2 MB, no network request, no sideways scrolling nor cut text on a 375 px phone, at the
    320 px of reflow (WCAG 1.4.10) nor at 1280 px;
    screenshots of the first screen (and of the synthesis overview) for a human look."""
    html = livrables / f"{name}.html"
    assert html.stat().st_size <= 2_000_000
    for width, height in ((1280, 900), (375, 800), (320, 800)):
        page = browser.new_page(viewport={"width": width, "height": height})
        requests = []
        page.on("request", lambda r: requests.append(r.url))
        try:
            page.goto(html.resolve().as_uri(), wait_until="load")
            assert [u for u in requests if u != html.resolve().as_uri() and not u.startswith("data:")] == []
            over = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert over <= 0, f"{name} déborde de {over} px à {width} px"
            assert page.evaluate(CUT) == [], f"{name} : éléments coupés ou plus larges que l'écran à {width} px"
            charts = page.evaluate("Array.from(document.querySelectorAll('.graphique')).filter("
                                   "e => !(e.getAttribute('role') === 'img' && e.getAttribute('aria-label'))).length")
            assert charts == 0
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / f"{name}_{width}px.png"))
            anchor = "#vue-ensemble table" if name == "dls_synthese" else "#essentiel .constats-essentiel"
            page.locator(anchor).first.scroll_into_view_if_needed()
            page.screenshot(path=str(SCREENSHOTS / f"{name}_{width}px_vue.png"))
        finally:
            page.close()


def test_synthesis_pdf(livrables):
    text = _squash(_pdf_text(livrables / "dls_synthese.pdf"))
    for label in load_dimensions().values():
        assert label in text
    for title in ("Synthèse des quartiers", "Vue d'ensemble", "Annexe B. Méthode", "Paroles de partenaires",
                  "Annexe C. Définitions"):
        assert title in text


def test_markup_in_data_is_shown_as_text(browser, tmp_path):
    from report_fixture import make_table

    from diagnostics.collect.actors import load_actors
    from diagnostics.publish import report

    project = load_project()
    actors = load_actors(EXAMPLE / "annuaire_acteurs_synthetique.csv", quartiers=QUARTIERS)
    evil = pd.DataFrame([{"nom": "<script>alert(1)</script>", "type": "<img src=x onerror=alert(2)>",
                          "themes": ["soins"], "quartiers": ["Biollay"], "adresse": "", "telephone": "",
                          "site_web": "", "horaires": "", "description": "", "ligne": 99}])
    # the indicator whose label carries markup is pinned by the analyst: « L'essentiel » names it
    pinned = tmp_path / "constats.md"
    pinned.write_text("---\nepingler: [css]\n---\n", encoding="utf-8")
    html = report.render_quartier(project, "Biollay", make_table(extra_label="<script>alert(3)</script>"),
                                  actors=pd.concat([actors, evil], ignore_index=True),
                                  comments=["<b onmouseover=alert(4)>gras</b>"], statement=pinned)
    path = report.write_html(html, tmp_path / "piege.html")
    page, errors, requests, dialogs = _open(browser, path)
    try:
        assert dialogs == [] and errors == []
        assert [u for u in requests if u != path.resolve().as_uri() and not u.startswith("data:")] == []
        text = page.inner_text("#annuaire")
        assert "<script>alert(1)</script>" in text and "<img src=x onerror=alert(2)>" in text
        assert "<script>alert(3)</script>" in page.inner_text("#dim-droits table")
        assert "<script>alert(3)</script>" in page.inner_text("#essentiel .constats-essentiel")
        assert "<b onmouseover=alert(4)>gras</b>" in page.inner_text("#qualitatif")
        assert page.evaluate("document.querySelectorAll('script, main img[src=x], main b').length") == 0
    finally:
        page.close()


@pytest.mark.parametrize("width", [1280, 375])
@pytest.mark.parametrize("name", REPORTS)
def test_axe_wcag21_aa(browser, livrables, name, width):
    """axe-core (npm, installed by « bash run.sh test » into tests/.node/) finds no violation of the
    WCAG 2.1 A and AA rules on every report, at 1280 px and on a 375 px phone; no text is cut nor
    wider than the screen (the 320 px of reflow, WCAG 1.4.10: test_html_size_and_no_horizontal_scroll)."""
    if not AXE.is_file():
        pytest.skip(f"axe-core absent ({AXE}) : « bash run.sh test » l'installe avec npm.")
    page = browser.new_page(viewport={"width": width, "height": 900})
    try:
        page.goto((livrables / f"{name}.html").resolve().as_uri(), wait_until="load")
        assert page.evaluate(CUT) == []
        page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
        violations = page.evaluate("""async () => {
          const r = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}});
          return r.violations.map(v => v.id + ' (' + v.nodes.length + ') : ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '));
        }""")
        assert violations == []
    finally:
        page.close()


@pytest.mark.parametrize("name", REPORTS)
def test_tables_have_row_headers_captions_and_reachable_scroll(browser, livrables, name):
    """Every data table has a caption and a row header on each body row; every scroll box takes
    the keyboard focus and has a name; each cell of the synthesis grids writes its verdict."""
    page, *_ = _open(browser, livrables / f"{name}.html")
    try:
        bad = page.evaluate("""() => Array.from(document.querySelectorAll('main table')).filter(t =>
            !t.caption || !t.caption.textContent.trim()
            || Array.from(t.tBodies).some(b => Array.from(b.rows).some(r => !r.querySelector('th[scope=row], th[scope=rowgroup]'))))
          .map(t => t.className)""")
        assert bad == []
        boxes = page.evaluate("""() => Array.from(document.querySelectorAll('.defile')).filter(d =>
            d.tabIndex !== 0 || d.getAttribute('role') !== 'region' || !d.getAttribute('aria-label')).length""")
        assert boxes == 0
        coloured = page.evaluate("""() => Array.from(document.querySelectorAll(
            'td.case.mieux, td.case.moins-bien, td.case.similaire')).filter(c => !c.querySelector('.mot-verdict')).length""")
        assert coloured == 0
    finally:
        page.close()
