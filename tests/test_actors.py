"""Directory of local actors: validated on load (French errors), normalised, grouped by theme."""
import pandas as pd
import pytest

from diagnostics.collect.actors import (
    actors_for_quartier,
    group_by_theme,
    load_actors,
    normalise_phone,
    valid_url,
)
from diagnostics.config.questionnaire import load_dimensions
from diagnostics.errors import ConfigurationError
from diagnostics.paths import EXAMPLE

SAMPLE = EXAMPLE / "annuaire_acteurs_synthetique.csv"
QUARTIERS = {"biollay": "Biollay", "hauts_de_chambery": "Hauts-de-Chambéry", "bellevue": "Bellevue"}
HEADER = "nom;type;themes;quartiers;adresse;telephone;site_web;horaires;description\n"


@pytest.mark.parametrize("raw, expected", [
    ("04 79 00 12 34", "04 79 00 12 34"),
    ("0479001234", "04 79 00 12 34"),
    ("04.79.00.12.34", "04 79 00 12 34"),
    ("04-79-00-12-34", "04 79 00 12 34"),
    ("+33 4 79 00 12 34", "04 79 00 12 34"),
    ("+33479001234", "04 79 00 12 34"),
    ("0033 4 79 00 12 34", "04 79 00 12 34"),
    ("15", "15"), ("115", "115"), ("3919", "3919"),
    ("04 79 00 12", None), ("00 79 00 12 34", None), ("04 79 00 12 345", None), ("12345", None),
    ("tél : 04 79 00 12 34", None), ("", None),
])
def test_normalise_phone(raw, expected):
    assert normalise_phone(raw) == expected


@pytest.mark.parametrize("url, ok", [
    ("https://www.chambery.fr", True), ("http://pmi-sud.example.org/horaires?x=1", True),
    ("www.chambery.fr", False), ("javascript:alert(1)", False), ("https://localhost", False),
    ("https://exemple .fr", False), ("ftp://exemple.fr", False), ('https://a.fr/"onmouseover=', False),
])
def test_valid_url(url, ok):
    assert valid_url(url) is ok


def test_sample_directory():
    a = load_actors(SAMPLE, quartiers=QUARTIERS)
    assert len(a) == 20
    assert a["nom"].str.contains("fictif|fictive").all()  # the sample says its entries are fictional
    assert a["telephone"].str.match(r"^04 79 00 \d\d \d\d$").all()
    dims = set(load_dimensions())
    assert set().union(*a["themes"]) == dims  # every dimension has at least one actor
    # « tous » expands to the three quartiers, in configuration order
    assoc = a[a["nom"].str.startswith("Association Bien Lire")].iloc[0]
    assert assoc["quartiers"] == ["Biollay", "Hauts-de-Chambéry", "Bellevue"]
    assert assoc["ligne"] == 11  # comment line + header + 9th actor: the row Excel shows


def test_filter_and_group():
    a = load_actors(SAMPLE, quartiers=QUARTIERS)
    bel = actors_for_quartier(a, "Bellevue")
    assert "Centre social de Bellevue (fictif)" in set(bel["nom"])
    assert "Centre social des Hauts (fictif)" not in set(bel["nom"])
    groups = group_by_theme(bel, load_dimensions())
    assert [g["id"] for g in groups] == list(load_dimensions())  # dimension order
    secu = next(g for g in groups if g["id"] == "securite")
    # hand count: bailleur (tous), locataires de Bellevue, médiation de nuit (tous)
    assert [x["nom"] for x in secu["actors"]] == ["Association des locataires de Bellevue (fictive)",
                                                 "Bailleur social — agence de proximité (fictive)",
                                                 "Médiation de nuit (service fictif)"]


def _write(tmp_path, *rows, comment=True):
    f = tmp_path / "annuaire.csv"
    f.write_text(("# fichier de test\n" if comment else "") + HEADER + "".join(r + "\n" for r in rows),
                 encoding="utf-8")
    return f


OK = "PMI test;PMI;soins;Biollay;1 rue A;04 79 00 00 01;https://pmi.example.org;9 h;desc"


@pytest.mark.parametrize("row, message", [
    ("PMI test;PMI;soins;Biollay;1 rue A;04 79 00 00;;;",
     "« annuaire.csv », ligne 4, colonne « telephone » : valeur « 04 79 00 00 » : numéro de téléphone mal formé"),
    ("PMI test;PMI;soins;Biollay;;;www.pmi.fr;;",
     "« annuaire.csv », ligne 4, colonne « site_web » : valeur « www.pmi.fr » : adresse web mal formée"),
    ("PMI test;PMI;soins|jardinage;Biollay;;;;;",
     "« annuaire.csv », ligne 4, colonne « themes » : valeur « jardinage » : thème inconnu"),
    ("PMI test;PMI;soins;Chamnord;;;;;",
     "« annuaire.csv », ligne 4, colonne « quartiers » : valeur « Chamnord » : quartier inconnu"),
    (";PMI;soins;Biollay;;;;;", "« annuaire.csv », ligne 4, colonne « nom » : cette case est obligatoire"),
])
def test_errors_are_french_with_row_and_column(tmp_path, row, message):
    with pytest.raises(ConfigurationError) as err:
        load_actors(_write(tmp_path, OK, row), quartiers=QUARTIERS)
    assert message in str(err.value)
    assert err.value.row == 4


def test_labels_accents_and_case(tmp_path):
    f = _write(tmp_path, "X;Asso;Accès aux soins, SECURITE;hauts de chambery|BIOLLAY;;+33 4 79 00 00 02;;;")
    a = load_actors(f, quartiers=QUARTIERS)
    assert a.loc[0, "themes"] == ["soins", "securite"]
    assert a.loc[0, "quartiers"] == ["Hauts-de-Chambéry", "Biollay"]
    assert a.loc[0, "telephone"] == "04 79 00 00 02"


def test_missing_column(tmp_path):
    f = tmp_path / "a.csv"
    f.write_text("nom;type;quartiers\nX;Y;Biollay\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="« a.csv », ligne 1 : l'annuaire doit avoir la colonne « themes »"):
        load_actors(f)


def test_xlsx_round_trip(tmp_path):
    a = load_actors(SAMPLE, quartiers=QUARTIERS)
    f = tmp_path / "annuaire.xlsx"
    flat = a.drop(columns="ligne").assign(themes=a["themes"].map("|".join), quartiers=a["quartiers"].map("|".join))
    flat.to_excel(f, index=False)
    b = load_actors(f, quartiers=QUARTIERS)
    pd.testing.assert_frame_equal(a.drop(columns="ligne"), b.drop(columns="ligne"))
