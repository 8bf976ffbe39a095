"""The indicator catalogue: the shipped file covers the brief; bad entries give French errors."""
import textwrap

import pandas as pd
import pytest
import yaml

from diagnostics.config.catalogue import DEFAULT_CATALOGUE, load_catalogue
from diagnostics.config.questionnaire import load_dimensions, load_questionnaire
from diagnostics.errors import ConfigurationError


@pytest.fixture(scope="module")
def qn():
    return load_questionnaire()


@pytest.fixture(scope="module")
def cat(qn):
    return load_catalogue(questionnaire=qn)


def test_shipped_catalogue_covers_the_brief(cat):
    quest = [i for i in cat if i.source == "questionnaire"]
    extr = [i for i in cat if i.source == "extrait"]
    assert len(quest) >= 30
    assert {i.dimension for i in quest} == set(load_dimensions())
    assert len(extr) >= 10
    assert {i.method for i in extr} == {"wilson", "byar", "dsr"}
    assert all(i.reference == i.extract_code for i in extr)
    ids = [i.id for i in cat]
    assert len(ids) == len(set(ids))
    # every score and every kind of rule is exercised by the shipped file
    assert {i.score for i in quest if i.score} == {"epices", "who5", "solitude"}
    assert any(i.filter for i in quest) and any(i.statistic == "moyenne" for i in quest)
    assert all(i.label and i.definition for i in cat)


def test_extract_codes_match_the_sample_extracts(cat):
    from diagnostics.collect.extracts import read_extracts
    from diagnostics.engine.indicators import DEFAULT_EXTRAITS
    codes = set(read_extracts([DEFAULT_EXTRAITS]).data["indicator_id"])
    assert {i.extract_code for i in cat if i.source == "extrait"} == codes


def test_entry_attributes(cat):
    e = cat["precarite_epices"]
    assert (e.score, e.threshold, e.unit, e.direction) == ("epices", (">=", 30.17), "%", "hausse_defavorable")
    v = cat["vaccin_grippe_65"]
    assert (v.question, v.numerator_codes, v.filter) == ("vaccin_grippe", (1,), "age >= 65")
    assert cat["gene_bruit"].numerator_codes == (1, 2)


def test_population_filter_uses_relevant_syntax(cat):
    codes = pd.DataFrame({"age": [64, 65, 999, None], "sexe": [1, 2, 1, 1]})
    assert cat.population("vaccin_grippe_65", codes).tolist() == [False, True, True, False]
    assert cat.population("renonce_sortir_soir_femmes", codes).tolist() == [True, False, True, True]
    assert cat.population("sante_mauvaise", codes).all()


BASE = dict(id="ind_test", libelle="Test", definition="Un indicateur de test.", dimension="soins",
            source="questionnaire", question="renoncement", numerateur=[1], unite="%",
            sens="hausse_defavorable")


def write(tmp_path, *entries):
    p = tmp_path / "indicateurs.yaml"
    p.write_text(yaml.safe_dump({"indicateurs": list(entries)}, allow_unicode=True), encoding="utf-8")
    return p


def test_minimal_catalogue_loads(tmp_path, qn):
    c = load_catalogue(write(tmp_path, BASE), questionnaire=qn)
    assert len(c) == 1 and c["ind_test"].numerator_codes == (1,)


@pytest.mark.parametrize("change,fragment", [
    (dict(question="renoncemnt"), "l'indicateur « ind_test » : la question « renoncemnt » n'existe pas"),
    (dict(numerateur=[3]), "le code 3 du champ « numerateur » n'existe pas pour la question « renoncement »"),
    (dict(numerateur=[99]), "code de non-réponse"),
    (dict(dimension="sante"), "la dimension « sante » est inconnue"),
    (dict(libelle=None), "le champ obligatoire « libelle » manque"),
    (dict(filtre="age >= "), "le filtre « age >=  » est invalide"),
    (dict(filtre="agee >= 65"), "variable inconnue « agee »"),
    (dict(filtre="__import__('os')"), "expression non reconnue"),
    (dict(sens="hausse"), "le sens « hausse » est inconnu"),
    (dict(source="registre"), "la source « registre » est inconnue"),
    (dict(numerateurs=[1]), "le champ « numerateurs » n'est pas reconnu"),
    (dict(question=None, numerateur=None, score="epices"), "doit avoir un « seuil »"),
    (dict(question=None, numerateur=None, score="epice", seuil=">= 30"), "le score « epice » est inconnu"),
    (dict(question=None, numerateur=None, score="who5", seuil="=< 50"), "le seuil « =< 50 » est mal écrit"),
    (dict(question=None, numerateur=None, score="solitude", seuil=">= 12"), "hors de l'étendue"),
    (dict(score="who5", seuil="<= 50"), "soit « question », soit « score »"),
    (dict(question="commentaire"), "de type text"),
    (dict(unite="pour mille"), "l'unité « pour mille » est inconnue"),
    (dict(question="renoncement_raisons", numerateur=[1], denominateur=[1, 2]), "choix multiples"),
    (dict(question="complementaire", numerateur=[4], denominateur=[1, 2]), "n'est pas dans le dénominateur"),
    (dict(question="age", numerateur=None), "indiquez un « seuil »"),
    (dict(source="extrait", question=None, numerateur=None, code_extrait="X", methode="poisson"),
     "la méthode « poisson » est inconnue"),
    (dict(source="extrait", question=None, numerateur=None, methode="wilson"), "« code_extrait » manque"),
])
def test_bad_entries_give_french_errors(tmp_path, qn, change, fragment):
    entry = {k: v for k, v in {**BASE, **change}.items() if v is not None}
    with pytest.raises(ConfigurationError) as err:
        load_catalogue(write(tmp_path, entry), questionnaire=qn)
    msg = str(err.value)
    assert fragment in msg
    assert msg.startswith("Catalogue « indicateurs.yaml »")


def test_duplicate_id_is_named(tmp_path, qn):
    with pytest.raises(ConfigurationError, match="l'indicateur « ind_test » : l'identifiant « ind_test » est "
                                                 "utilisé deux fois"):
        load_catalogue(write(tmp_path, BASE, BASE), questionnaire=qn)


def test_entry_without_id_is_named_by_position(tmp_path, qn):
    entry = {k: v for k, v in BASE.items() if k != "id"}
    with pytest.raises(ConfigurationError, match="l'indicateur n° 2 : le champ obligatoire « id » manque"):
        load_catalogue(write(tmp_path, {**BASE, "id": "a"}, entry), questionnaire=qn)


def test_unreadable_yaml(tmp_path, qn):
    p = tmp_path / "indicateurs.yaml"
    p.write_text(textwrap.dedent("""\
        indicateurs:
          - id: a
            libelle: [non fermé
        """), encoding="utf-8")
    with pytest.raises(ConfigurationError, match="n'est pas un YAML valide"):
        load_catalogue(p, questionnaire=qn)
    p.write_text("indicateurs: 3\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="doit contenir une liste « indicateurs »"):
        load_catalogue(p, questionnaire=qn)


def test_default_path_is_the_config_file():
    assert DEFAULT_CATALOGUE.name == "indicateurs.yaml" and DEFAULT_CATALOGUE.parent.name == "config"
