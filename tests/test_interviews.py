"""Partner interview notes: the text format, the theme × quartier matrix, scrubbed quotes."""
import datetime as dt

import pytest

from diagnostics.collect.interviews import load_interviews, theme_matrix
from diagnostics.config.questionnaire import load_dimensions
from diagnostics.errors import ConfigurationError
from diagnostics.paths import EXAMPLE
from diagnostics.publish.report import select_quotes

SAMPLE = EXAMPLE / "entretiens_synthetiques.md"
QUARTIERS = {"biollay": "Biollay", "hauts_de_chambery": "Hauts-de-Chambéry", "bellevue": "Bellevue"}


@pytest.fixture(scope="module")
def interviews():
    return load_interviews(SAMPLE, quartiers=QUARTIERS)


def test_sample_parsed(interviews):
    assert len(interviews) == 10
    first = interviews[0]
    assert first.partenaire == "Centre social et d'animation des Tilleuls (fictif)"
    assert first.type == "Centre social" and first.quartiers == ["Biollay"]
    assert first.date == dt.date(2021, 3, 15)
    assert first.themes == ["lien_social", "services", "droits"]
    assert first.personnes == ["Mme Exemple-Durand"]
    assert first.notes.startswith("Beaucoup de familles monoparentales")
    assert [q.themes for q in first.quotes] == [["lien_social"], ["droits"], ["services"]]
    assert sum(len(i.quotes) for i in interviews) == 21
    assert interviews[-2].quartiers == ["Biollay", "Hauts-de-Chambéry", "Bellevue"]  # « tous »


def test_matrix_hand_counts(interviews):
    m = theme_matrix(interviews, load_dimensions(), list(QUARTIERS.values()))
    assert m.shape == (9, 3)
    # Sécurité: Centre social des Hauts (Hauts) and Association des locataires (Bellevue) only
    assert m.loc["Sentiment de sûreté et de sécurité"].tolist() == [0, 1, 1]
    # Logement at Bellevue: Régie Horizon, locataires de Bellevue, service d'hygiène (tous)
    assert m.loc["Qualité de l'environnement et du logement", "Bellevue"] == 3
    # Prévention at Biollay: PMI sud, Point écoute jeunes, Club Bouger (tous)
    assert m.loc["Accès à la prévention", "Biollay"] == 3


def test_quotes_are_scrubbed(interviews):
    quotes = select_quotes(interviews, "Biollay", dimensions=load_dimensions(), per_theme=5)
    texts = " ".join(q["text"] for q in quotes)
    assert "04 79 00 99 98" not in texts and "mediation.fictive@example.org" not in texts
    assert "[téléphone]" in texts and "[courriel]" in texts
    assert "Exemple-Durand" not in texts and "[nom] nous dit" in texts
    # dimension order, and only quotes of interviews about the Biollay
    order = list(load_dimensions())
    assert [order.index(q["theme"]) for q in quotes] == sorted(order.index(q["theme"]) for q in quotes)
    assert not any(q["partenaire"].startswith("Centre social des Hauts") for q in quotes)
    per2 = select_quotes(interviews, "Biollay", dimensions=load_dimensions(), per_theme=1)
    assert len({q["theme"] for q in per2}) == len(per2)


def _write(tmp_path, text):
    f = tmp_path / "notes.md"
    f.write_text(text, encoding="utf-8")
    return f


@pytest.mark.parametrize("text, message", [
    ("## A\nQuartiers : Biollay\nThèmes : jardinage\n", "« notes.md », ligne 3 : thème inconnu « jardinage »"),
    ("## A\nQuartiers : Chamnord\nThèmes : soins\n", "« notes.md », ligne 2 : quartier inconnu « Chamnord »"),
    ("## A\nQuartiers : Biollay\nThèmes : soins\nDate : 15/03/2021\n", "ligne 4 : date « 15/03/2021 » mal écrite"),
    ("## A\nThèmes : soins\n\nNotes.\n", "ligne 1 : l'entretien « A » n'indique aucun quartier"),
    ("## A\nQuartiers : Biollay\n\n> Une citation sans thème.\n", "ligne 1 : l'entretien « A » n'indique aucun thème"),
    ("## A\nQuartier : Biollay\nHumeur : bonne\n", "ligne 3 : rubrique inconnue « Humeur »"),
    ("## A\nQuartiers : Biollay\n> Citation #meteo\n", "ligne 3 : thème inconnu « meteo »"),
])
def test_errors(tmp_path, text, message):
    with pytest.raises(ConfigurationError) as err:
        load_interviews(_write(tmp_path, text), quartiers=QUARTIERS)
    assert message in str(err.value)


def test_quote_tags_and_notes(tmp_path):
    its = load_interviews(_write(tmp_path, "Titre libre\n\n## B\nQuartiers : tous\nThèmes : Accès aux soins\n\n"
                                           "Note : ceci est une note, pas une rubrique.\n\n"
                                           "> Pas de #logement décent. #securite\n"), quartiers=QUARTIERS)
    (b,) = its
    assert b.notes == "Note : ceci est une note, pas une rubrique."
    assert b.quotes[0].text == "Pas de décent." and b.quotes[0].themes == ["logement", "securite"]
    assert b.themes == ["soins", "logement", "securite"]
