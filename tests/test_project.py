"""The project configuration: the Chambéry example loads, a peer city builds its own, errors are French."""
import shutil
from pathlib import Path

import pytest
import yaml

from diagnostics.config.project import DEFAULT_PROJECT, data_uri, load_project
from diagnostics.errors import ConfigurationError
from diagnostics.paths import EXAMPLE, QUESTIONNAIRE


def test_chambery_example():
    p = load_project()
    assert p.source == DEFAULT_PROJECT
    assert [q.libelle for q in p.quartiers] == ["Biollay", "Hauts-de-Chambéry", "Bellevue"]
    assert [q.code for q in p.quartiers] == [1, 2, 3]
    assert all(q.qpv is None for q in p.quartiers)   # codes not confirmed in the official list: left blank
    assert p.quartier("biollay").dans == "au Biollay"
    assert p.quartier("Hauts-de-Chambéry").dans == "aux Hauts-de-Chambéry"
    assert p.quartier(3).libelle == "Bellevue"
    assert p.quartier("BELLEVUE").id == "bellevue"
    assert list(p.references) == ["commune", "departement", "region", "france", "qpv", "hors_qpv"]
    assert p.dans("france") == "en France" and p.dans("qpv") == "dans l'ensemble des QPV" and p.reference_centrale == "commune"
    assert (p.effectif_fragile, p.secret_statistique, p.niveau_confiance) == (30, 11, 0.95)
    assert p.recueil["questionnaires_imprimes"] == 1600
    assert p.donnees_synthetiques is True
    assert p.donnees["reponses"] == EXAMPLE / "reponses_synthetiques.csv"
    assert p.donnees["annuaire"].name == "annuaire_acteurs_synthetique.csv"
    uri = p.logo_data_uri()
    assert uri.startswith("data:image/svg+xml;base64,") and len(uri) > 200


def test_unknown_quartier_is_french():
    with pytest.raises(ConfigurationError, match="Quartier inconnu « Chamnord »"):
        load_project().quartier("Chamnord")


def _peer_city(tmp_path: Path, **changes) -> Path:
    """A peer city's configuration in its own folder, with its own copies of the data files."""
    data = tmp_path / "donnees"
    data.mkdir(exist_ok=True)
    for name in ("reponses_synthetiques.csv", "marges_population_synthetiques.csv"):
        shutil.copy(EXAMPLE / name, data / name)
    cfg = {
        "projet": {"titre": "DLS de Villeneuve", "auteurs": "Atelier Santé Ville de Villeneuve", "annee": 2024},
        "quartiers": [{"id": "nord", "libelle": "Quartier Nord", "code": 1, "qpv": "QN09901M"},
                      {"id": "sud", "libelle": "Quartier Sud", "code": 2}],
        "donnees": {"questionnaire": str(QUESTIONNAIRE),
                    "reponses": "donnees/reponses_synthetiques.csv",
                    "marges": "donnees/marges_population_synthetiques.csv"},
        "references": [{"id": "france", "libelle": "France", "locatif": "en France"}],
    }
    for key, value in changes.items():
        section, _, sub = key.partition(".")
        if sub:
            cfg.setdefault(section, {})[sub] = value
        else:
            cfg[section] = value
    path = tmp_path / "projet.yaml"
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    return path


def test_peer_city_without_code_changes(tmp_path):
    p = load_project(_peer_city(tmp_path))
    assert p.titre == "DLS de Villeneuve" and p.auteurs == ["Atelier Santé Ville de Villeneuve"]
    assert p.annee == "2024"
    assert p.libelles == ["Quartier Nord", "Quartier Sud"]
    assert p.quartier("sud").qpv is None and p.quartier("sud").dans == "à Quartier Sud"
    assert p.donnees["reponses"] == (tmp_path / "donnees" / "reponses_synthetiques.csv").resolve()
    assert p.donnees["annuaire"] is None
    assert p.reference_centrale == "france"
    assert p.logo is None and p.logo_data_uri() is None
    assert p.donnees_synthetiques is False


@pytest.mark.parametrize("changes, message", [
    ({"quartiers": [{"id": "nord", "libelle": "Nord", "qpv": "7301"}]},
     "clé « quartiers[1].qpv » : valeur « 7301 » : attendu un code QPV officiel"),
    ({"quartiers": [{"id": "Nord Est", "libelle": "Nord"}]}, "clé « quartiers[1].id » : valeur « Nord Est »"),
    ({"quartiers": [{"id": "a", "libelle": "A"}, {"id": "a", "libelle": "B"}]},
     "le quartier « a » est déclaré deux fois"),
    ({"quartiers": [{"id": "a", "libelle": "A", "code": "un"}]}, "clé « quartiers[1].code » : valeur « un »"),
    ({"donnees.reponses": "absent.csv"}, "clé « donnees.reponses » : le fichier « absent.csv »"),
    ({"donnees.annuaires": "x.csv"}, "clé « donnees.annuaires » : clé inconnue"),
    ({"seuils": {"secret_statistique": 0}}, "clé « seuils.secret_statistique » : valeur « 0 » : attendu un entier positif"),
    ({"seuils": {"niveau_confiance": 95}}, "clé « seuils.niveau_confiance » : valeur « 95 »"),
    ({"references": [{"id": "monde"}]}, "clé « references[1].id » : valeur « monde »"),
    ({"reference_centrale": "departement"}, "clé « reference_centrale » : valeur « departement »"),
    ({"projet.logo": "logo.png"}, "clé « projet.logo » : le fichier « logo.png » est introuvable"),
    ({"theme": "bleu"}, "clé « theme » : clé inconnue"),
    ({"projet": {"auteurs": ["x"]}}, "clé « projet.titre » : le titre du rapport est obligatoire"),
])
def test_errors_name_key_and_value(tmp_path, changes, message):
    with pytest.raises(ConfigurationError) as err:
        load_project(_peer_city(tmp_path, **changes))
    assert str(err.value).startswith("Configuration du projet « projet.yaml »")
    assert message in str(err.value)


def test_invalid_yaml_gives_line(tmp_path):
    path = tmp_path / "projet.yaml"
    path.write_text("projet:\n  titre: [non fermé\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"« projet.yaml », ligne \d+ n'est pas un YAML valide"):
        load_project(path)


def test_data_uri_round_trip(tmp_path):
    import base64

    f = tmp_path / "logo.png"
    f.write_bytes(b"\x89PNG\r\n\x1a\nabc")
    uri = data_uri(f)
    assert uri.startswith("data:image/png;base64,")
    assert base64.b64decode(uri.split(",", 1)[1]) == f.read_bytes()
