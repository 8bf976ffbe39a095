"""Thirty quartiers in one project (issue 31): deliverables whose shape does not grow with the
number of quartiers, and PDFs that stay accessible (issue 27 item 7).

The projects are made by files only from the example (``benchmarks/scale_project.py``); the
reports are rendered from the hand-made indicator table of ``report_fixture`` with one copy of
each example quartier's rows per clone (the engine is not what is measured here), printed by
the toolkit's one printer, then measured: widths under print media, word heights
(``pdftotext -bbox``), quartier names, links and bookmarks (pikepdf).
"""
import re
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from report_fixture import make_table

from diagnostics.collect.contours import load_contours
from diagnostics.config.project import load_project

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from scale_project import clones, make_project  # noqa: E402

PRINTABLE_PX = (210 - 14 - 14) / 25.4 * 96   # A4 minus the 14 mm side margins of report.css, at 96 px/in


def test_make_project_clones_the_example_by_files(tmp_path):
    path = make_project(tmp_path / "p7", 7)
    project = load_project(path)
    assert [q.libelle for q in project.quartiers] == [c.label for c in clones(7)]
    assert project.quartiers[3].libelle == "Biollay 2" and project.quartiers[3].code == 5   # code 4 stays « Autre »
    answers = pd.read_csv(tmp_path / "p7" / "reponses.csv", sep=";", encoding="cp1252")
    counts = answers["quartier"].value_counts()
    assert counts["Biollay 2"] == counts["Biollay"] == 130 and counts["Hauts-de-Chambéry 2"] == 170
    assert answers["id_questionnaire"].is_unique
    margins = pd.read_csv(tmp_path / "p7" / "marges.csv", sep=";")
    assert set(margins["quartier"]) == {c.label for c in clones(7)}
    assert "Quartiers : Biollay, Bellevue, Biollay 2, Bellevue 2, Biollay 3" in \
        (tmp_path / "p7" / "entretiens.md").read_text(encoding="utf-8")
    # the map's files are copied: a contour per quartier, found by its QPV code or its name
    contours = load_contours(project.donnees["contours_qpv"])
    assert all(contours.require(q.qpv, q.libelle, q.id) for q in project.quartiers)
    assert project.donnees["contour_commune"].is_file()


def _table(labels: list[str]) -> pd.DataFrame:
    """The fixture table with one copy of an example quartier's rows per clone."""
    base = make_table()
    parts = []
    for c in clones(len(labels)):
        part = base[base["quartier"] == c.base].copy()
        part["quartier"] = c.label
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def _render(tmp_path: Path, n: int) -> tuple[Path, object]:
    from diagnostics.collect.interviews import load_interviews
    from diagnostics.publish import report

    project = load_project(make_project(tmp_path / f"p{n}", n))
    table = _table(project.libelles)
    interviews = load_interviews(project.donnees["entretiens"], quartiers={q.id: q.libelle for q in project.quartiers})
    channels = [{"Canal de recueil": ch, **{q: 40 + 3 * k for k, q in enumerate(project.libelles)},
                 "Total": sum(40 + 3 * k for k in range(n))} for ch in ("Papier via une association partenaire",
                                                                         "Cabinet médical", "Aller-vers dans la rue")]
    out = tmp_path / f"out{n}"
    out.mkdir()
    links = {q.libelle: f"dls_{q.id}.html" for q in project.quartiers}
    report.write_html(report.render_synthesis(project, table, interviews=interviews, links=links,
                                              methods={"channels": channels}), out / "dls_synthese.html")
    first = project.quartiers[0]
    report.write_html(report.render_quartier(project, first.libelle, table, interviews=interviews,
                                             methods={"channels": channels}), out / f"dls_{first.id}.html")
    return out, project


def _too_wide(browser, html: Path) -> list[str]:
    """Elements wider than the printable width of an A4 page, under print media (a text for screen
    readers only, a 1 × 1 px clipped box such as a table's hidden caption, is not printed)."""
    page = browser.new_page(viewport={"width": round(PRINTABLE_PX), "height": 1000})
    try:
        page.emulate_media(media="print")
        page.goto(html.resolve().as_uri(), wait_until="load")
        # HTML elements and the outer <svg> of each chart (what is inside an <svg> is clipped to it)
        return page.evaluate("""(limit) => [...document.querySelectorAll('body *')]
            .filter(e => e.namespaceURI === 'http://www.w3.org/1999/xhtml' || e.parentElement.namespaceURI
                         === 'http://www.w3.org/1999/xhtml')
            .filter(e => e.getBoundingClientRect().width > 1 || e.getBoundingClientRect().height > 1)
            .filter(e => e.getBoundingClientRect().right > limit + 1 || e.scrollWidth > e.clientWidth + 1
                         && getComputedStyle(e).overflowX !== 'visible')
            .map(e => e.tagName + '.' + e.getAttribute('class') + ' ' + Math.round(e.getBoundingClientRect().right)
                      + ' ' + (e.textContent || '').slice(0, 40))""", PRINTABLE_PX)
    finally:
        page.close()


def _word_heights(pdf: Path, after: str | None = None) -> float:
    """Median height (pt) of the words of ``pdf`` (``pdftotext -bbox``); with ``after``, of the
    pages from the last one holding that word on (a part whose text does not depend on Q)."""
    xml = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    pages = xml.split("<page ")[1:]
    if after is not None:
        pages = pages[max(i for i, p in enumerate(pages) if f">{after}</word>" in p):]
    heights = [float(b) - float(a) for p in pages
               for a, b in re.findall(r'<word [^>]*yMin="([\d.]+)"[^>]*yMax="([\d.]+)"', p)]
    return statistics.median(heights)


@pytest.fixture(scope="module")
def printed(tmp_path_factory):
    """The synthesis and the first quartier's report at 3 and 30 quartiers, HTML and PDF."""
    from diagnostics.errors import DLSError
    from diagnostics.io.pdf import find_chromium, print_pdfs

    try:
        find_chromium()
    except DLSError:
        pytest.skip("pas de Chromium sur cette machine")
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler) absent")
    tmp = tmp_path_factory.mktemp("echelle")
    built = {n: _render(tmp, n) for n in (3, 30)}
    print_pdfs([(h, h.with_suffix(".pdf")) for out, _ in built.values() for h in sorted(out.glob("*.html"))])
    return built


@pytest.mark.browser
@pytest.mark.slow
def test_nothing_wider_than_the_page_and_nothing_shrinks(printed):
    sync_api = pytest.importorskip("playwright.sync_api")
    from diagnostics.io.pdf import find_chromium

    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=find_chromium(), args=["--no-sandbox", "--disable-gpu"])
        try:
            for n, (out, _) in printed.items():
                for html in sorted(out.glob("*.html")):
                    assert _too_wide(browser, html) == [], (n, html.name)
        finally:
            browser.close()
    # a page scaled down to fit shrinks every word: the quartier report, whose text does not
    # depend on the number of quartiers, keeps its median word height; the synthesis' median
    # moves with its mix (30 rows of table text per grid), so its annex C, the same text at any
    # size of project (the pointer to the shared definitions and glossary), is what shows a shrink
    small, large = (_word_heights(printed[n][0] / "dls_biollay.pdf") for n in (3, 30))
    assert abs(large / small - 1) <= 0.05, (small, large)
    small, large = (_word_heights(printed[n][0] / "dls_synthese.pdf", after="glossaire") for n in (3, 30))
    assert abs(large / small - 1) <= 0.05, (small, large)


@pytest.mark.browser
@pytest.mark.slow
def test_synthesis_names_every_quartier_and_annex_b_stays_short(printed):
    out, project = printed[30]
    text = subprocess.run(["pdftotext", str(out / "dls_synthese.pdf"), "-"], capture_output=True, text=True,
                          check=True).stdout
    text = " ".join(re.sub(r"-\s*\n", "-", text).split())
    assert [q.libelle for q in project.quartiers if q.libelle not in text] == []
    # annex B of a quartier report: as many pages at 30 quartiers as at 3
    def annex_b_pages(pdf):
        pages = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        pages = pages.split("\f")
        start = next(i for i, t in enumerate(pages) if "Annexe B." in t and "parmi les quartiers" in t)
        end = next(i for i, t in enumerate(pages) if i > start and "Annexe C." in t)
        return end - start + 1
    assert annex_b_pages(out / "dls_biollay.pdf") == annex_b_pages(printed[3][0] / "dls_biollay.pdf")


@pytest.mark.browser
@pytest.mark.slow
def test_pdfs_links_stay_in_their_folder_and_bookmarks_are_single(printed):
    import pikepdf

    for n, (out, _) in printed.items():
        for pdf_path in sorted(out.glob("*.pdf")):
            with pikepdf.open(pdf_path) as pdf:
                targets = []
                for page in pdf.pages:
                    for annot in page.obj.get("/Annots", []):
                        action = annot.get("/A")
                        if action is not None:
                            targets.append((str(action.get("/S")), str(action.get("/URI", action.get("/F", "")))))
                assert not [t for t in targets if t[1].startswith("file:")], pdf_path.name
                for kind, target in targets:
                    if kind == "/GoToR":
                        assert "/" not in target and target.endswith(".pdf")
                titles = []
                with pdf.open_outline() as outline:
                    stack = list(outline.root)
                    while stack:
                        item = stack.pop()
                        titles.append(item.title)
                        stack.extend(item.children)
                doubled = [t for t in titles if len(t) % 2 == 0 and t[:len(t) // 2] == t[len(t) // 2:]]
                assert titles and doubled == [], (pdf_path.name, doubled)
                # every figure has an alternative text; no page content outside tags or artifacts
                figures = []
                stack = [pdf.Root.StructTreeRoot]
                while stack:
                    node = stack.pop()
                    kids = node.get("/K")
                    for kid in (kids if isinstance(kids, pikepdf.Array) else [kids] if kids is not None else []):
                        if isinstance(kid, pikepdf.Dictionary) and "/S" in kid:
                            if kid.S == "/Figure":
                                figures.append("/Alt" in kid)
                            stack.append(kid)
                assert figures and all(figures), pdf_path.name
                # no text outside a tagged sequence or an artifact (page numbers included)
                for page in pdf.pages:
                    depth, loose = 0, 0
                    for line in page.obj.Contents.read_bytes().split(b"\n"):
                        line = line.strip()
                        depth += line.endswith((b"BDC", b"BMC")) - (line == b"EMC")
                        loose += depth == 0 and line.endswith((b"Tj", b"TJ"))
                    assert loose == 0, pdf_path.name
        synth_links = [t for t in _links(out / "dls_synthese.pdf") if t.endswith(".pdf")]
        assert f"dls_{printed[n][1].quartiers[0].id}.pdf" in synth_links


def _links(pdf_path) -> list[str]:
    import pikepdf

    with pikepdf.open(pdf_path) as pdf:
        return [str(a.A.get("/F", "")) for p in pdf.pages for a in p.obj.get("/Annots", []) if "/A" in a]


def test_finish_pdf_on_a_hand_made_file(tmp_path):
    """The five repairs of ``finish_pdf`` on a PDF written by hand as Chromium writes them."""
    import io

    import pikepdf

    from diagnostics.io.pdf import finish_pdf

    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(595, 842))
    page = pdf.pages[0]
    page.obj.Contents = pdf.make_stream(b"\n".join([
        b"/P <</MCID 0 >>BDC", b"BT", b"/F1 10 Tf", b"<0041> Tj", b"ET", b"EMC",       # tagged: kept
        b"BT", b"/F1 9 Tf", b"<0031> Tj", b"ET",                                          # page number
        b"0 0 10 10 re", b"f",                                                              # background
        b"0 0 595 842 re", b"W n"]))                                                        # clip: no mark
    folder = tmp_path / ".construction-x"
    link = lambda uri: pdf.make_indirect(pikepdf.Dictionary(  # noqa: E731
        Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Link, Rect=[0, 0, 10, 10],
        A=pikepdf.Dictionary(S=pikepdf.Name.URI, URI=pikepdf.String(uri))))
    page.obj.Annots = pdf.make_indirect(pikepdf.Array([
        link(f"file://{folder}/dls_biollay.html"), link("file:///ailleurs/dls_x.html"),
        link("https://www.insee.fr/")]))
    outer = pikepdf.Dictionary(S=pikepdf.Name.Figure, Alt=pikepdf.String("Graphique : 12 %"),
                               K=pikepdf.Array([pikepdf.Dictionary(S=pikepdf.Name.Figure)]))
    # an HTML <figure> around a described <svg> and its <figcaption>: a figure without /Alt
    group = pikepdf.Dictionary(S=pikepdf.Name.Figure, K=pikepdf.Array([
        pikepdf.Dictionary(S=pikepdf.Name.Figure, Alt=pikepdf.String("Carte du quartier")),
        pikepdf.Dictionary(S=pikepdf.Name.P)]))
    lone = pikepdf.Dictionary(S=pikepdf.Name.Figure)   # no described figure inside: left as is
    pdf.Root.StructTreeRoot = pdf.make_indirect(pikepdf.Dictionary(
        Type=pikepdf.Name.StructTreeRoot, K=pikepdf.Array([outer, group, lone])))
    with pdf.open_outline() as outline:
        outline.root.append(pikepdf.OutlineItem("Accès aux soinsAccès aux soins", 0))
        outline.root.append(pikepdf.OutlineItem("Bilan", 0))
    raw = io.BytesIO()
    pdf.save(raw)

    with pikepdf.open(io.BytesIO(finish_pdf(raw.getvalue(), folder))) as done:
        lines = done.pages[0].obj.Contents.read_bytes().split(b"\n")
        assert lines[:6] == [b"/P <</MCID 0 >>BDC", b"BT", b"/F1 10 Tf", b"<0041> Tj", b"ET", b"EMC"]
        assert lines[6:12] == [b"/Artifact BMC", b"BT", b"/F1 9 Tf", b"<0031> Tj", b"ET", b"EMC"]
        assert lines[12:] == [b"/Artifact BMC", b"0 0 10 10 re", b"f", b"EMC", b"0 0 595 842 re", b"W n"]
        actions = [a.A for a in done.pages[0].obj.Annots]
        assert [str(a.S) for a in actions] == ["/GoToR", "/URI"]     # the link outside the folder is dropped
        assert str(actions[0].F) == "dls_biollay.pdf" and str(actions[1].URI) == "https://www.insee.fr/"
        with done.open_outline() as outline:
            assert [i.title for i in outline.root] == ["Accès aux soins", "Bilan"]
        figure, group, lone = done.Root.StructTreeRoot.K
        assert str(figure.S) == "/Figure" and str(figure.K[0].S) == "/Div"
        assert [str(group.S), str(group.K[0].S), str(group.K[1].S)] == ["/Div", "/Figure", "/P"]
        assert str(group.K[0].Alt) == "Carte du quartier" and str(lone.S) == "/Figure"


def test_the_engine_keeps_each_clone_apart(tmp_path):
    """Seven quartiers through the engine: each clone's extract rows are its own.

    Without QPV codes, « Biollay » was found by name among « Biollay (QPV…) » and « Biollay 2
    (QPV…) » together; the rows of both were summed and the age-standardised rates refused the
    doubled age bands, so that any project of four or more quartiers failed in notebook 3.
    """
    from diagnostics.collect.extracts import read_extracts
    from diagnostics.engine.evolution import extract_series
    from diagnostics.engine.indicators import compute_from_files

    project = load_project(make_project(tmp_path / "p", 7))
    table = compute_from_files(project=project).table
    ald = table[(table["indicator_id"] == "am_ald_standardise") & table["quartier"].isin(["Biollay", "Biollay 2"])]
    assert ald["n"].tolist() == [ald["n"].iloc[0]] * 2 and ald["status"].eq("calculé").all()
    series, trends = extract_series(read_extracts([project.donnees["extraits"]]).data, project)
    assert set(series["quartier"]) == {q.libelle for q in project.quartiers}
    # one value per quartier, indicator and year: no territory counted twice
    assert not series.duplicated(["quartier", "indicator_id", "year"]).any()
