"""Rebuild the example's map contours — SYNTHETIC (invented shapes, not the real QPV).

    python data/exemple/generate_contours.py

Writes, the same files every run (no randomness):

* ``contours_qpv_synthetiques.geojson``: one feature per quartier of ``projet.yaml``, keyed by
  its QPV code in ``code_qp`` (the property name of the QPV contours published by the ANCT in
  2024, « à confirmer » on the published file) with ``lib_qp``, an irregular polygon of about
  700 m across placed near Chambéry;
* ``contour_commune_synthetique.geojson``: an invented commune outline around them.

The real QPV contours (ANCT, « Quartiers prioritaires de la politique de la ville », Licence
Ouverte) were not reachable from the machine that built this example; a city replaces these
files by the published ones, which have the same layout.  Both files say ``"synthetique": true``
and the report prints « contours synthétiques » on the map.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: (code, name, centre longitude, centre latitude, radius in metres, phase): invented placements.
QUARTIERS = (("QN073001", "Biollay", 5.9065, 45.5575, 380, 0.4),
             ("QN073002", "Hauts-de-Chambéry", 5.9270, 45.5840, 460, 1.3),
             ("QN073003", "Bellevue", 5.9375, 45.5590, 330, 2.1))
COMMUNE = ("73065", "Chambéry (contour synthétique)", 5.9215, 45.5700, 3900, 0.9)
M_PER_DEG = math.pi * 6_371_008.8 / 180  # metres per degree of latitude on a sphere of the mean Earth radius


def blob(lon0: float, lat0: float, radius: float, phase: float, n: int = 18) -> list[list[float]]:
    """A closed irregular ring around (lon0, lat0), ``radius`` metres on average, counter-clockwise."""
    ring = []
    for k in range(n):
        t = 2 * math.pi * k / n
        r = radius * (1 + 0.22 * math.sin(3 * t + phase) + 0.09 * math.cos(5 * t - phase))
        dx, dy = r * math.cos(t), r * math.sin(t)
        ring.append([round(lon0 + dx / (M_PER_DEG * math.cos(math.radians(lat0))), 5),
                     round(lat0 + dy / M_PER_DEG, 5)])
    return ring + [ring[0]]


def collection(features, source: str) -> dict:
    return {"type": "FeatureCollection", "synthetique": True, "source": source, "features": features}


def main() -> None:
    qpv = [{"type": "Feature", "properties": {"code_qp": code, "lib_qp": name, "synthetique": True},
            "geometry": {"type": "Polygon", "coordinates": [blob(lon, lat, r, ph)]}}
           for code, name, lon, lat, r, ph in QUARTIERS]
    src = "contours SYNTHÉTIQUES (formes inventées pour l'exemple, pas les périmètres officiels des QPV)"
    (HERE / "contours_qpv_synthetiques.geojson").write_text(
        json.dumps(collection(qpv, src), ensure_ascii=False) + "\n", encoding="utf-8")
    code, name, lon, lat, r, ph = COMMUNE
    com = [{"type": "Feature", "properties": {"code_insee": code, "nom": name, "synthetique": True},
            "geometry": {"type": "Polygon", "coordinates": [blob(lon, lat, r, ph, n=36)]}}]
    (HERE / "contour_commune_synthetique.geojson").write_text(
        json.dumps(collection(com, "contour de commune SYNTHÉTIQUE (forme inventée pour l'exemple)"),
                   ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
