"""The XLSForm export converts with pyxform and carries names, lists, skip logic and constraints."""
import shutil
import xml.etree.ElementTree as ET

import openpyxl
import pytest
from pyxform.xls2xform import convert

from diagnostics.collect.xlsform import LANGUAGE, choice_list_name, write_xlsform
from diagnostics.config.questionnaire import load_questionnaire

XF = "{http://www.w3.org/2002/xforms}"


@pytest.fixture(scope="module")
def qn():
    return load_questionnaire()


@pytest.fixture(scope="module")
def built(qn, tmp_path_factory):
    path = write_xlsform(qn, tmp_path_factory.mktemp("xlsform") / "dls.xlsx")
    warnings = []
    # with Java present, ODK Validate (JavaRosa, what ODK Collect runs) checks the XForm too
    xml = convert(xlsform=str(path), warnings=warnings, validate=shutil.which("java") is not None).xform
    return path, xml, ET.fromstring(xml), warnings


def _binds(root):
    return {b.get("nodeset"): b for b in root.iter(f"{XF}bind")}


def _instances(root):
    out = {}
    for inst in root.iter(f"{XF}instance"):
        if inst.get("id"):
            out[inst.get("id")] = [item.find(f"{XF}name").text for item in inst.iter(f"{XF}item")]
    return out


def test_pyxform_converts_without_warning(built):
    _, xml, _, warnings = built
    assert warnings == []
    assert xml.startswith("<?xml")


def test_every_question_is_in_its_section_group(qn, built):
    _, _, root, _ = built
    binds = _binds(root)
    for sec in qn.sections:
        for q in sec.questions:
            assert f"/data/{sec.id}/{q.name}" in binds, q.name
    assert binds["/data/profil/age"].get("type") == "int"
    assert binds["/data/recueil/date_reponse"].get("type") == "date"


def test_relevance_bind(built):
    binds = _binds(built[2])
    rel = " ".join(binds["/data/prevention/depistage_sein"].get("relevant").split())
    assert rel == "/data/profil/sexe = 1 and /data/profil/age >= 50 and /data/profil/age <= 74"
    assert " ".join(binds["/data/soins/renoncement_raisons"].get("relevant").split()) == "/data/soins/renoncement = 1"
    assert binds["/data/soins/renoncement_raisons"].get("required") == "true()"
    assert binds["/data/prevention/vaccin_grippe"].get("relevant") is None


def test_choice_lists_with_missing_code_variants(qn, built):
    inst = _instances(built[2])
    # plain list (no missing code declared) and its variants with 98 / 99 appended
    assert inst["oui_non"] == ["1", "2"]
    assert inst["oui_non_nsp"] == ["1", "2", "98"]
    assert inst["complementaire_nsp_refus"] == ["1", "2", "3", "4", "98", "99"]
    assert inst["who5"] == ["5", "4", "3", "2", "1", "0"]
    assert inst["solitude_refus"] == ["1", "2", "3", "99"]
    for q in qn:
        name = choice_list_name(qn, q)
        if name is None:
            continue
        assert inst[name] == [str(c) for c in q.codes + q.missing_codes], q.name


def test_constraints_and_messages(built):
    binds = _binds(built[2])
    assert binds["/data/profil/age"].get("constraint") == "(. >= 15 and . <= 110) or . = 999"
    assert binds["/data/profil/taille_foyer"].get("constraint") == "(. >= 1 and . <= 20) or . = 999"
    assert binds["/data/recueil/date_reponse"].get("constraint") == \
        ". >= date('2020-01-01') and . <= date('2030-12-31')"
    assert binds["/data/expression/commentaire"].get("constraint") == "string-length(.) <= 2000"
    xml = built[1]
    assert "Indiquez un nombre entier compris entre 15 et 110 ans (ou 999 pour « Ne souhaite pas répondre »)." in xml
    assert "Cette question est obligatoire." in xml


def test_sheets_settings_and_groups(qn, built):
    wb = openpyxl.load_workbook(built[0])
    assert wb.sheetnames == ["survey", "choices", "settings"]
    settings = dict(zip([c.value for c in wb["settings"][1]], [c.value for c in wb["settings"][2]]))
    assert settings == {"form_title": qn.title, "form_id": "dls_habitants", "version": "2022.1",
                        "default_language": LANGUAGE}
    rows = list(wb["survey"].iter_rows(min_row=2, values_only=True))
    begins = [r[1] for r in rows if r[0] == "begin group"]
    ends = [r[1] for r in rows if r[0] == "end group"]
    assert begins == ends == [s.id for s in qn.sections]


def test_small_questionnaire_decimal_and_exclusive_missing(tmp_path):
    yml = tmp_path / "mini.yaml"
    yml.write_text("""
id: mini
title: Mini
version: "1"
missing_codes:
  nsp: {code: 98, label: Ne sait pas}
choice_lists:
  oui_non: [{code: 1, label: Oui}, {code: 2, label: Non}]
  oui_non_nsp: [{code: 1, label: Oui}, {code: 2, label: Non}, {code: 3, label: Peut-être}]
  gene: [{code: 1, label: Bruit}, {code: 2, label: Odeurs}]
sections:
  - id: s
    label: S
    questions:
      - {name: poids, type: decimal, range: [2.5, 300], label: Poids, unit: kg}
      - {name: q1, type: single, choices: oui_non, missing: [nsp], label: Q1}
      - {name: q0, type: single, choices: oui_non_nsp, label: Q0}
      - {name: g, type: multiple, choices: gene, missing: [nsp], label: G, relevant: "q1 == 1"}
      - {name: g2, type: text, label: Autre, relevant: "selected(g, 2)"}
""", encoding="utf-8")
    qn = load_questionnaire(yml)
    # the natural variant name is taken by another list: a distinct name is used
    assert choice_list_name(qn, qn["q1"]) == "oui_non_nsp_nr"
    root = ET.fromstring(convert(xlsform=str(write_xlsform(qn, tmp_path / "mini.xlsx"))).xform)
    binds, inst = _binds(root), _instances(root)
    assert inst["oui_non_nsp_nr"] == ["1", "2", "98"] and inst["oui_non_nsp"] == ["1", "2", "3"]
    assert binds["/data/s/poids"].get("constraint") == ". >= 2.5 and . <= 300"
    assert binds["/data/s/g"].get("constraint") == "not((selected(., '98')) and count-selected(.) > 1)"
    assert "selected(" in binds["/data/s/g2"].get("relevant") and "'2'" in binds["/data/s/g2"].get("relevant")


def test_cli_xlsform(tmp_path):
    from click.testing import CliRunner

    from diagnostics.cli import cli

    out = tmp_path / "kobo.xlsx"
    res = CliRunner().invoke(cli, ["questionnaire", "xlsform", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "61 questions" in res.output
    assert "profil" in convert(xlsform=str(out)).xform
