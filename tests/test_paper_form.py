"""The paper form: skip logic in plain French, and an A4 PDF holding every question."""
import re
import unicodedata

import pytest

from diagnostics.collect.paper_form import (
    question_numbers,
    relevance_in_words,
    render_paper_form_html,
    skip_target,
    write_paper_form,
)
from diagnostics.config.questionnaire import load_questionnaire
from diagnostics.errors import ConfigurationError, DLSError


def _has_chromium():
    try:
        from diagnostics.io.pdf import find_chromium
        return bool(find_chromium())
    except DLSError:
        return False


needs_browser = pytest.mark.skipif(not _has_chromium(), reason="Chromium absent")


@pytest.fixture(scope="module")
def qn():
    return load_questionnaire()


def _norm(text: str) -> str:
    """Compare texts across PDF extraction: NFKC, no soft hyphens, hyphenation or whitespace."""
    text = unicodedata.normalize("NFKC", text).replace("\u00ad", "")
    text = re.sub(r"-\s*\n\s*", "-", text)
    text = text.replace("’", "'")
    return re.sub(r"\s+", "", text).lower()


def test_numbers_and_filters_in_words(qn):
    n = question_numbers(qn)
    assert n["canal"] == 1 and n["quartier"] == 3 and n["age"] == 5 and n["sexe"] == 6
    assert n["renoncement"] == 27 and len(n) == 61  # EPICES item 2 is derived, not numbered
    assert relevance_in_words(qn, "quartier_autre") == "Si vous avez répondu « Autre quartier » à la question 3"
    assert relevance_in_words(qn, "renoncement_soins") == "Si vous avez répondu « Oui » à la question 27"
    assert relevance_in_words(qn, "depistage_sein") == (
        "Si vous avez répondu « Femme » à la question 6 et si votre réponse à la question 5 "
        "est comprise entre 50 et 74 ans")
    assert relevance_in_words(qn, "age") == ""
    # both questions filtered on Q27 are skipped together, to Q30
    assert skip_target(qn, "renoncement_soins") == skip_target(qn, "renoncement_raisons") == 30
    assert skip_target(qn, "quartier_autre") == 5


def test_other_conditions_in_words(tmp_path):
    yml = tmp_path / "f.yaml"
    yml.write_text("""
id: f
title: F
choice_lists:
  c: [{code: 1, label: Bus}, {code: 2, label: Vélo}, {code: 3, label: "Marche, à pied"}]
sections:
  - id: s
    label: S
    questions:
      - {name: a, type: single, choices: c, label: A}
      - {name: m, type: multiple, choices: c, label: M}
      - {name: n, type: integer, label: N}
      - {name: b, type: text, label: B, relevant: "a in [1, 2] or selected(m, 3)"}
      - {name: d, type: text, label: D, relevant: "a != 2 and n > 3"}
""", encoding="utf-8")
    f = load_questionnaire(yml)
    assert relevance_in_words(f, "b") == ("Si vous avez répondu « Bus » ou « Vélo » à la question 1 "
                                          "ou si vous avez coché « Marche, à pied » à la question 2")
    assert relevance_in_words(f, "d") == ("Si vous n'avez pas répondu « Vélo » à la question 1 "
                                          "et si votre réponse à la question 3 est supérieure à 3")
    assert skip_target(f, "d") is None


def test_unquoted_comma_label_is_refused(tmp_path):
    yml = tmp_path / "g.yaml"
    yml.write_text("id: g\nchoice_lists:\n  c: [{code: 1, label: Oui, souvent}]\nsections:\n"
                   "  - id: s\n    questions: [{name: a, type: single, choices: c, label: A}]\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="guillemets"):
        load_questionnaire(yml)


def test_html_has_boxes_codes_and_filters(qn, tmp_path):
    html = render_paper_form_html(qn, tmp_path / "q.html").read_text(encoding="utf-8")
    assert html.count('class="q"') == 61
    n_boxes = sum(len(q.choices) + len(q.missing) for q in qn.asked if q.type in ("single", "multiple")) + \
        sum(len(q.missing) for q in qn.asked if q.type in ("integer", "decimal"))
    assert html.count("☐</span>") == n_boxes
    assert html.count('class="filter"') == sum(1 for q in qn if q.relevant)
    assert "Sinon, passez à la question 30." in html


@needs_browser
def test_pdf_is_a4_and_holds_every_question(qn, tmp_path):
    pdf = write_paper_form(qn, tmp_path / "questionnaire.pdf")
    from pypdf import PdfReader

    reader = PdfReader(str(pdf))
    assert 4 <= len(reader.pages) <= 16
    for page in reader.pages:
        assert abs(float(page.mediabox.width) - 595.28) <= 1
        assert abs(float(page.mediabox.height) - 841.89) <= 1
    text = _norm("\n".join(page.extract_text() for page in reader.pages))
    for q in qn.asked:
        assert _norm(q.label[:60]) in text, q.name
    assert _norm("Biollay") in text
    assert _norm("Examens (analyses, radios)") in text  # a label with commas survives whole
    assert _norm("Si vous avez répondu « Oui » à la question 27") in text
    assert not list(tmp_path.glob(".questionnaire-*"))  # no temporary file left behind


def test_find_chromium_errors_in_french(monkeypatch):
    from diagnostics.io import pdf

    monkeypatch.setenv("DLS_CHROMIUM", "/chemin/inexistant/chrome")
    with pytest.raises(DLSError, match="DLS_CHROMIUM"):
        pdf.find_chromium()
    monkeypatch.delenv("DLS_CHROMIUM")
    monkeypatch.setenv("PATH", "")
    monkeypatch.setattr(pdf, "_KNOWN_LOCATIONS", ())
    with pytest.raises(DLSError, match="Aucun navigateur"):
        pdf.find_chromium()


def test_missing_html_is_refused(tmp_path):
    from diagnostics.io.pdf import html_to_pdf

    with pytest.raises(DLSError, match="introuvable"):
        html_to_pdf(tmp_path / "absent.html", tmp_path / "x.pdf")


@needs_browser
def test_png_screenshot_has_requested_size(tmp_path):
    import struct

    from diagnostics.io.pdf import html_to_png

    page = tmp_path / "p.html"
    page.write_text("<html><body style='background:#1d4e89'>Biollay</body></html>", encoding="utf-8")
    png = html_to_png(page, tmp_path / "p.png", width=320, height=200).read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", png[16:24]) == (320, 200)
