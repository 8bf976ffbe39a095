"""Derived questions: EPICES item 2 is not asked again, it follows from « complementaire »."""
import re

import numpy as np
import pytest

from diagnostics.collect.paper_form import render_paper_form_html
from diagnostics.collect.sample import generate_answers
from diagnostics.collect.validation import validate
from diagnostics.collect.xlsform import xlsform_tables
from diagnostics.config.questionnaire import load_questionnaire
from diagnostics.errors import ConfigurationError

QN = load_questionnaire()
SECRET = b"secret-de-test"


def _answers(tmp_path, **columns):
    """A three-row CSV of the sample's first answers, with some columns replaced."""
    df = generate_answers().head(3).copy()
    for name, values in columns.items():
        if values is None:
            df = df.drop(columns=name)
        else:
            df[name] = values
    path = tmp_path / "reponses.csv"
    df.to_csv(path, sep=";", index=False, encoding="utf-8")
    return path


def test_epices_02_is_derived_not_asked():
    q = QN["epices_02"]
    assert not q.asked and q.derive.source == "complementaire"
    # mutuelle (1) or CSS (2): a complementary insurance; AME (3) or none (4): not
    assert q.derive.mapping == {1: 1, 2: 1, 3: 2, 4: 2}
    assert "epices_02" in QN.columns and "epices_02" not in QN.asked_columns
    assert QN.question_number("epices_01") + 1 == QN.question_number("epices_03")
    with pytest.raises(KeyError):
        QN.question_number("epices_02")


def test_paper_form_asks_about_complementary_insurance_once(tmp_path):
    html = render_paper_form_html(QN, tmp_path / "q.html").read_text(encoding="utf-8").lower()
    assert html.count("complémentaire santé\u00a0?") == 1      # « Avez-vous une complémentaire santé ? »
    assert "assurance maladie complémentaire" not in html  # EPICES item 2 wording is gone
    numbers = [int(x) for x in re.findall(r'<span class="num">(\d+)</span>', html)]
    assert numbers == list(range(1, 62))  # 61 asked questions, numbered without a gap


def test_complementaire_4_gives_epices_02_non(tmp_path):
    path = _answers(tmp_path, complementaire=[4, 1, 98], epices_02=None)
    res = validate(path, QN, secret=SECRET)
    assert res.codes["epices_02"].tolist()[:2] == [2.0, 1.0] and np.isnan(res.codes["epices_02"].iat[2])
    assert res.data["epices_02"].astype(str).tolist()[:2] == ["Non", "Oui"]
    assert not (res.issues["colonne"] == "epices_02").any()  # an absent derived column is no problem


def test_disagreeing_epices_02_is_recomputed_with_a_warning(tmp_path):
    path = _answers(tmp_path, complementaire=[4, 1, 2], epices_02=[1, 1, 2])
    res = validate(path, QN, secret=SECRET)
    assert res.codes["epices_02"].tolist() == [2.0, 1.0, 1.0]
    warn = res.issues[res.issues["colonne"] == "epices_02"]
    assert warn["ligne"].tolist() == [2, 4] and set(warn["gravite"]) == {"avertissement"}
    assert "complementaire" in warn["message"].iat[0] and "« Non »" in warn["message"].iat[0]
    assert res.n_accepted == 3


def test_xlsform_calculates_epices_02():
    rows = {r["name"]: r for r in xlsform_tables(QN)["survey"]}
    row = rows["epices_02"]
    assert row["type"] == "calculate" and "label::French (fr)" not in row
    assert row["calculation"] == ("if(${complementaire} = '1' or ${complementaire} = '2', '1', "
                                  "if(${complementaire} = '3' or ${complementaire} = '4', '2', ''))")


def test_loader_checks_derivations(tmp_path):
    yml = tmp_path / "q.yaml"
    yml.write_text("id: g\nchoice_lists:\n  c: [{code: 1, label: Oui}, {code: 2, label: Non}]\nsections:\n"
                   "  - id: s\n    questions:\n      - {name: a, type: single, choices: c, label: A}\n"
                   "      - {name: b, type: single, choices: c, label: B, derive: {from: a, map: {1: 2, 3: 1}}}\n",
                   encoding="utf-8")
    with pytest.raises(ConfigurationError, match="le code 3 de « derive »"):
        load_questionnaire(yml)
    yml.write_text(yml.read_text(encoding="utf-8").replace("from: a", "from: z"), encoding="utf-8")
    with pytest.raises(ConfigurationError, match="calculée à partir de « z »"):
        load_questionnaire(yml)
