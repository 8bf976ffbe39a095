"""The questionnaire definition loads, covers the brief, and its skip logic behaves like ODK."""
import pandas as pd
import pytest

from diagnostics.config.questionnaire import load_dimensions, load_questionnaire
from diagnostics.errors import ConfigurationError


@pytest.fixture(scope="module")
def qn():
    return load_questionnaire()


def test_covers_nine_dimensions_and_instruments(qn):
    dims = {q.dimension for q in qn if q.dimension}
    assert dims == set(load_dimensions())
    names = set(qn.questions)
    assert {f"epices_{i:02d}" for i in range(1, 12)} <= names
    assert {f"who5_{i}" for i in range(1, 6)} <= names
    assert {"solitude_1", "solitude_2", "solitude_3"} <= names
    assert {"sante_generale", "maladie_chronique", "limitation"} <= names
    assert [c.label for c in qn["quartier"].choices] == ["Biollay", "Hauts-de-Chambéry", "Bellevue", "Autre quartier"]
    assert qn["canal"].required and len(qn["canal"].choices) == 6
    types = {q.type for q in qn}
    assert types == {"single", "multiple", "integer", "text", "date"}


def test_multiple_choice_columns(qn):
    assert qn["renoncement_raisons"].columns[:2] == ["renoncement_raisons_1", "renoncement_raisons_2"]
    q, code = qn.column_owner("nuisances_3")
    assert q.name == "nuisances" and code == 3


def test_relevance_is_false_on_missing_like_odk(qn):
    codes = pd.DataFrame({"sexe": [1, 1, 2, 1, None], "age": [50, 75, 60, None, 60]})
    assert qn.relevance("depistage_sein", codes).tolist() == [True, False, False, False, False]
    assert qn.relevance("age", codes).all()  # no condition
    assert qn.xpath_relevance("depistage_sein") == "${sexe} = 1 and ${age} >= 50 and ${age} <= 74"


def test_relevance_in_and_selected(qn, tmp_path):
    text = (qn.source.read_text(encoding="utf-8")
            .replace("relevant: quartier == 4", "relevant: quartier in [3, 4] and not selected(nuisances, 7)"))
    p = tmp_path / "q.yaml"
    p.write_text(text, encoding="utf-8")
    q2 = load_questionnaire(p)
    codes = pd.DataFrame({"quartier": [3, 4, 1, 4], "nuisances_7": [0, 1, 0, None]})
    assert q2.relevance("quartier_autre", codes).tolist() == [True, False, False, True]
    assert q2.xpath_relevance("quartier_autre") == \
        "(${quartier} = 3 or ${quartier} = 4) and not(selected(${nuisances}, '7'))"


@pytest.mark.parametrize("old,new,fragment", [
    ("relevant: quartier == 4", "relevant: quartiers == 4", "variable inconnue « quartiers »"),
    ("relevant: quartier == 4", "relevant: __import__('os')", "expression non reconnue"),
    ("choices: quartier\n", "choices: quartiers\n", "liste de choix inconnue « quartiers »"),
    ("type: integer", "type: entier", "type inconnu « entier »"),
    ("missing: [refus]", "missing: [peut-etre]", "code de non-réponse inconnu"),
    ("missing: [refus_nombre]", "missing: [refus]", "99 (« Ne souhaite pas répondre ») tombe dans cet intervalle"),
])
def test_bad_definitions_give_french_errors(qn, tmp_path, old, new, fragment):
    p = tmp_path / "q.yaml"
    p.write_text(qn.source.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ConfigurationError) as err:
        load_questionnaire(p)
    assert fragment in str(err.value) and "q.yaml" in str(err.value)


def test_invalid_yaml_names_line(tmp_path):
    p = tmp_path / "q.yaml"
    p.write_text("sections:\n  - id: a\n   questions: [\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="ligne"):
        load_questionnaire(p)
