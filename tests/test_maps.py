"""The quartier's map: GeoJSON contours read with French errors, actors placed by their
coordinates (or listed), a local projection checked by hand, an SVG with its text alternative."""
import dataclasses
import json
import math

import pytest
import yaml

from diagnostics.collect.actors import load_actors
from diagnostics.collect.contours import load_contours
from diagnostics.config.project import load_project
from diagnostics.errors import ConfigurationError, UnreadableFileError
from diagnostics.paths import EXAMPLE
from diagnostics.publish.maps import local_projection, overview_map, quartier_map

QUARTIERS = {"biollay": "Biollay", "hauts_de_chambery": "Hauts-de-Chambéry", "bellevue": "Bellevue"}
SQUARE = [[5.90, 45.55], [5.91, 45.55], [5.91, 45.56], [5.90, 45.56], [5.90, 45.55]]


def _geojson(tmp_path, obj, name="qpv.geojson"):
    path = tmp_path / name
    path.write_text(obj if isinstance(obj, str) else json.dumps(obj), encoding="utf-8")
    return path


def _feature(code, ring=SQUARE, kind="Polygon"):
    coords = [ring] if kind == "Polygon" else ring
    return {"type": "Feature", "properties": {"code_qp": code}, "geometry": {"type": kind, "coordinates": coords}}


def test_example_contours_are_marked_synthetic():
    c = load_contours(EXAMPLE / "contours_qpv_synthetiques.geojson")
    assert sorted(c.areas) == ["QN073001", "QN073002", "QN073003"]
    assert c.synthetic and "SYNTHÉTIQUES" in c.source
    assert c.names["QN073001"] == "Biollay"
    assert load_contours(EXAMPLE / "contour_commune_synthetique.geojson").synthetic


def test_2015_key_and_multipolygon(tmp_path):
    feat = {"type": "Feature", "properties": {"CODE_QP": "QP073001", "NOM_QP": "Le Biollay"},
            "geometry": {"type": "MultiPolygon", "coordinates": [[SQUARE], [SQUARE]]}}
    c = load_contours(_geojson(tmp_path, {"type": "FeatureCollection", "features": [feat]}))
    assert len(c.polygons("QP073001")) == 2 and c.names["QP073001"] == "Le Biollay" and not c.synthetic


@pytest.mark.parametrize("content, error, message", [
    ("{pas du json", UnreadableFileError, "« qpv.geojson » n'est pas un fichier GeoJSON lisible (ligne 1, colonne 2)"),
    ({"type": "Topology"}, ConfigurationError, "contenu de type « Topology » ; attendu un GeoJSON « FeatureCollection »"),
    ({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"code_qp": "QN073001"},
                                                 "geometry": {"type": "Point", "coordinates": [5.9, 45.5]}}]},
     ConfigurationError, "entité n° 1 (QPV QN073001) : géométrie « Point » ; attendu un Polygon ou un MultiPolygon"),
    ({"type": "FeatureCollection", "features": [_feature("QN073001", [[925000, 6500000], [926000, 6500000],
                                                                      [926000, 6501000], [925000, 6500000]])]},
     ConfigurationError, "hors des degrés de longitude et latitude ; attendu des coordonnées WGS 84"),
    ({"type": "FeatureCollection", "features": [_feature("QN073001", SQUARE[:3])]},
     ConfigurationError, "au moins 4 points"),
])
def test_broken_geojson_is_refused_in_french(tmp_path, content, error, message):
    with pytest.raises(error) as err:
        load_contours(_geojson(tmp_path, content))
    assert message in str(err.value) and "qpv.geojson" in str(err.value)


def test_missing_quartier_contour_names_code_and_file(tmp_path):
    c = load_contours(_geojson(tmp_path, {"type": "FeatureCollection", "features": [_feature("QN073009")]}))
    project = load_project()   # the example's QPV codes are blank (not confirmed): give Biollay one
    project = dataclasses.replace(project, quartiers=[dataclasses.replace(q, qpv="QN073001") if q.id == "biollay"
                                                      else q for q in project.quartiers])
    with pytest.raises(ConfigurationError, match="« qpv.geojson » : aucun contour pour le quartier Biollay "
                                                 r"\(QPV QN073001\).*trouvés : QN073009"):
        quartier_map(project, "Biollay", c)


def test_quartier_without_code_found_by_name(tmp_path):
    """A quartier whose QPV code is not (yet) in projet.yaml is found by its name in the file."""
    project = load_project()
    project = dataclasses.replace(project, quartiers=[dataclasses.replace(q, qpv=None) for q in project.quartiers])
    c = load_contours(EXAMPLE / "contours_qpv_synthetiques.geojson")
    m = quartier_map(project, "hauts_de_chambery", c)
    assert m["qpv"] is None and "Carte du quartier Hauts-de-Chambéry :" in m["alt"]
    with pytest.raises(ConfigurationError, match="pas de code QPV dans projet.yaml.*« Nulle part »"):
        c.require(None, "Nulle part")


def test_local_projection_by_hand():
    # 0,01° of latitude = 6 371 008,8 × π / 180 × 0,01 = 1 111,95 m; of longitude at 45° N, × cos 45° = 786,27 m
    f = local_projection(5.0, 45.0)
    x, y = f(5.01, 45.01)
    assert y == pytest.approx(1111.95, abs=0.01)
    assert x == pytest.approx(786.27, abs=0.01)
    assert f(5.0, 45.0) == (0.0, 0.0)


def test_map_places_actors_and_lists_the_others():
    project = load_project()
    c = load_contours(EXAMPLE / "contours_qpv_synthetiques.geojson")
    actors = [{"nom": "Centre <social>", "type": "Centre social", "latitude": 45.5581, "longitude": 5.9052},
              {"nom": "Médiation de nuit", "type": "Service", "latitude": math.nan, "longitude": math.nan},
              {"nom": "PMI", "type": "PMI", "latitude": 45.5562, "longitude": 5.9168}]
    m = quartier_map(project, "Biollay", c, actors)
    assert [(a["n"], a["nom"]) for a in m["placed"]] == [(1, "Centre <social>"), (2, "PMI")]
    assert [a["nom"] for a in m["unplaced"]] == ["Médiation de nuit"]
    svg = str(m["svg"])
    assert svg.startswith('<svg class="carte-svg" viewBox="0 0 680 ') and 'role="img"' in svg
    assert "1. Centre &lt;social&gt; ; 2. PMI" in svg and "<social>" not in svg  # escaped, named in the alternative
    assert "CONTOURS SYNTHÉTIQUES" in svg and m["synthetic"]
    assert svg.count('class="acteur-point"') == 2


def test_actor_coordinates(tmp_path):
    head = "nom;type;themes;quartiers;latitude;longitude\n"
    path = tmp_path / "annuaire.csv"
    path.write_text(head + "A;PMI;soins;Biollay;45,5581;5.9052\nB;PMI;soins;Biollay;;\n", encoding="utf-8")
    a = load_actors(path, quartiers=QUARTIERS)
    assert a.loc[0, "latitude"] == 45.5581 and a.loc[0, "longitude"] == 5.9052
    assert a.loc[1, ["latitude", "longitude"]].isna().all()
    for row, message in (("C;PMI;soins;Biollay;45,5;\n", "ligne 2, colonne « longitude » : valeur «  » : case vide"),
                         ("C;PMI;soins;Biollay;495;5,9\n", "ligne 2, colonne « latitude » : valeur « 495 » : attendu "
                                                           "un nombre de degrés décimaux entre -90 et 90")):
        path.write_text(head + row, encoding="utf-8")
        with pytest.raises(ConfigurationError, match=message):
            load_actors(path, quartiers=QUARTIERS)


def test_commune_contour_needs_qpv_contours(tmp_path):
    src = yaml.safe_load((EXAMPLE / "projet.yaml").read_text(encoding="utf-8"))
    for key in ("questionnaire", "reponses", "marges"):
        src["donnees"][key] = str((EXAMPLE / src["donnees"][key]).resolve())
    src["donnees"] = {k: src["donnees"][k] for k in ("questionnaire", "reponses", "marges")}
    src["donnees"]["contour_commune"] = str(EXAMPLE / "contour_commune_synthetique.geojson")
    src.pop("precedent", None)
    src["projet"].pop("logo", None)
    (tmp_path / "projet.yaml").write_text(yaml.safe_dump(src, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigurationError, match="donnees.contour_commune.*attendu aussi « contours_qpv »"):
        load_project(tmp_path / "projet.yaml")


def test_report_has_the_map():
    from report_fixture import make_table

    from diagnostics.publish import report

    project = load_project()
    actors = load_actors(EXAMPLE / "annuaire_acteurs_synthetique.csv", quartiers=QUARTIERS)
    html = report.render_quartier(project, "Biollay", make_table(), actors=actors)
    assert '<section id="carte" class="carte">' in html and '<a href="#carte">' in html
    assert html.count('class="acteur-point"') == html.count("<li value=")
    assert "Sans position sur la carte" in html and "Médiation de nuit (service fictif)" in html


def test_overview_map_names_every_quartier():
    project = load_project()
    m = overview_map(project, load_contours(EXAMPLE / "contours_qpv_synthetiques.geojson"),
                     load_contours(EXAMPLE / "contour_commune_synthetique.geojson"))
    assert m["alt"].startswith("Carte des 3 quartiers du diagnostic dans la commune : Biollay")
    svg = str(m["svg"])
    assert svg.count('class="quartier"') == 3 and 'class="commune"' in svg
    for q in project.libelles:
        assert f">{q}</text>" in svg
    assert overview_map(project, None) is None


def test_overview_map_numbers_the_quartiers_beyond_six(tmp_path):
    """Seven quartiers (the example's three and four clones, scale_project.py): their names would
    overlap, so the map shows 1…7 and the legend names them in the project's order."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    from scale_project import make_project

    project = load_project(make_project(tmp_path / "p7", 7))
    m = overview_map(project, load_contours(project.donnees["contours_qpv"]),
                     load_contours(project.donnees["contour_commune"]))
    svg = str(m["svg"])
    assert m["legend"] == list(enumerate(project.libelles, start=1))
    assert [f">{k}</text>" in svg for k in range(1, 8)] == [True] * 7
    assert ">Biollay</text>" not in svg and m["alt"].startswith("Carte des 7 quartiers du diagnostic")
    assert overview_map(load_project(), load_contours(EXAMPLE / "contours_qpv_synthetiques.geojson"))["legend"] == []
