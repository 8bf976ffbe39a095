"""Contours of the quartiers (and of the commune) read from a GeoJSON file, for the report's map.

The QPV contours are published as one GeoJSON ``FeatureCollection`` with one feature per QPV,
its code in a property (``code_qp`` in the 2024 files, ``CODE_QP`` in the 2015 ones), the
geometry a ``Polygon`` or ``MultiPolygon`` in longitude / latitude degrees (WGS 84, RFC 7946).
``projet.yaml`` names such a file (``donnees: contours_qpv``) and, optionally, the commune's
contour (``donnees: contour_commune``, every feature of the file drawn).

Every problem (unreadable file, not GeoJSON, a geometry that is not a polygon, coordinates that
are not degrees, a QPV code absent from the file) is one French sentence naming the file, the
feature and what was expected.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ConfigurationError, UnreadableFileError

#: Properties that may hold the QPV code, in the order they are tried.
CODE_KEYS = ("code_qp", "CODE_QP", "code_quartier", "code_qpv", "qpv")
#: Properties that may hold the name of the area.
NAME_KEYS = ("lib_qp", "NOM_QP", "nom_qp", "nom_quartier", "nom", "libelle", "name")

Ring = list[tuple[float, float]]  # (longitude, latitude) points, first == last


@dataclass
class Contours:
    """The polygons of one GeoJSON file.

    Attributes
    ----------
    path : Path
    areas : dict
        ``{code: [polygon, …]}``, a polygon being a list of rings (outer ring first), a ring a
        list of ``(longitude, latitude)``; features without a code are kept under ``""``.
    names : dict
        ``{code: name}`` when the file gives one.
    source : str
        The file's own statement of its origin (top-level member ``source``), or ``""``.
    synthetic : bool
        True when the file says it is invented (top-level member ``synthetique: true``).
    """

    path: Path
    areas: dict[str, list[list[Ring]]] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    source: str = ""
    synthetic: bool = False

    def polygons(self, code: str | None = None) -> list[list[Ring]]:
        """The polygons of ``code`` (all of them when ``code`` is None)."""
        if code is None:
            return [p for polys in self.areas.values() for p in polys]
        return self.areas.get(code, [])

    def require(self, code: str | None, quartier: str, *aliases: str) -> list[list[Ring]]:
        """The polygons of ``quartier``: by its QPV ``code``, else by its name (``quartier`` or one of
        ``aliases``, case- and accent-insensitive) in the file's name property; a French error when
        the file has neither."""
        from .values import normalise_label

        if code and code in self.areas:
            return self.areas[code]
        wanted = {normalise_label(n) for n in (quartier, *aliases) if n}
        for key, name in self.names.items():
            if normalise_label(name) in wanted:
                return self.areas[key]
        known = ", ".join(sorted(f"{k} ({self.names[k]})" if k in self.names else k for k in self.areas if k)[:8])
        raise ConfigurationError(
            f"« {self.path.name} » : aucun contour pour le quartier {quartier}"
            + (f" (QPV {code})" if code else " (pas de code QPV dans projet.yaml)")
            + f" ; attendu une entité dont la propriété {' ou '.join(CODE_KEYS[:2])} vaut son code QPV, ou dont "
            f"le nom ({' ou '.join(NAME_KEYS[:2])}) est « {quartier} » (trouvés : {known or 'aucun'}).",
            file=self.path, value=code or quartier, expected="contour du quartier")


def _fail(path: Path, msg: str, **kw):
    raise ConfigurationError(f"« {path.name} » : {msg}", file=path, **kw)


def _ring(path: Path, where: str, ring) -> Ring:
    """Validate one linear ring: at least 4 positions ``[lon, lat]`` in degrees."""
    if not isinstance(ring, list) or len(ring) < 4:
        _fail(path, f"{where} : un anneau de polygone doit avoir au moins 4 points [longitude, latitude].")
    out = []
    for pos in ring:
        if (not isinstance(pos, list) or len(pos) < 2
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in pos[:2])):
            _fail(path, f"{where} : point « {json.dumps(pos)[:40]} » ; attendu [longitude, latitude] en nombres.",
                  value=pos)
        lon, lat = float(pos[0]), float(pos[1])
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            _fail(path, f"{where} : point [{pos[0]}, {pos[1]}] hors des degrés de longitude et latitude ; "
                        "attendu des coordonnées WGS 84 en degrés (RFC 7946) — un fichier en Lambert 93 se "
                        "convertit par exemple avec « ogr2ogr -t_srs EPSG:4326 ».", value=pos)
        out.append((lon, lat))
    return out


def _geometry(path: Path, where: str, geom) -> list[list[Ring]]:
    """The polygons of a ``Polygon`` or ``MultiPolygon`` geometry."""
    kind = geom.get("type") if isinstance(geom, dict) else None
    coords = geom.get("coordinates") if isinstance(geom, dict) else None
    if kind == "Polygon" and isinstance(coords, list) and coords:
        return [[_ring(path, where, r) for r in coords]]
    if kind == "MultiPolygon" and isinstance(coords, list) and coords:
        return [[_ring(path, where, r) for r in poly] for poly in coords if isinstance(poly, list) and poly]
    _fail(path, f"{where} : géométrie « {kind} » ; attendu un Polygon ou un MultiPolygon avec ses coordonnées.",
          value=kind)


def _first(props: dict, keys) -> str:
    for k in keys:
        if props.get(k) not in (None, ""):
            return str(props[k]).strip()
    return ""


def load_contours(path: str | Path) -> Contours:
    """Read the polygons of a GeoJSON file (QPV contours keyed by their code, or a commune).

    Parameters
    ----------
    path : path-like
        A GeoJSON ``FeatureCollection`` (or a single ``Feature``), UTF-8, coordinates in
        longitude / latitude degrees (RFC 7946).

    Returns
    -------
    Contours

    Raises
    ------
    UnreadableFileError
        The file cannot be read or is not JSON.
    ConfigurationError
        Not a feature collection, a geometry that is not a polygon, coordinates out of degrees.

    References
    ----------
    Butler H. et al., *The GeoJSON Format*, IETF RFC 7946, 2016, https://www.rfc-editor.org/rfc/rfc7946
    """
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise UnreadableFileError(f"Impossible de lire le fichier de contours « {path} » : {exc.strerror or exc}.",
                                  file=path) from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        pos = f" (ligne {exc.lineno}, colonne {exc.colno})" if isinstance(exc, json.JSONDecodeError) else ""
        raise UnreadableFileError(f"« {path.name} » n'est pas un fichier GeoJSON lisible{pos} : attendu un texte "
                                  "JSON en UTF-8 (FeatureCollection de polygones).", file=path) from exc
    if isinstance(raw, dict) and raw.get("type") == "Feature":
        raw = {"type": "FeatureCollection", "features": [raw]}
    if not isinstance(raw, dict) or raw.get("type") != "FeatureCollection" or not isinstance(raw.get("features"), list):
        kind = raw.get("type") if isinstance(raw, dict) else type(raw).__name__
        _fail(path, f"contenu de type « {kind} » ; attendu un GeoJSON « FeatureCollection » (une entité par "
                    "quartier, son code QPV en propriété).", value=kind)
    out = Contours(path, source=str(raw.get("source") or ""), synthetic=bool(raw.get("synthetique")))
    for i, feat in enumerate(raw["features"], start=1):
        props = (feat.get("properties") if isinstance(feat, dict) else None) or {}
        code = _first(props, CODE_KEYS)
        where = f"entité n° {i}" + (f" (QPV {code})" if code else "")
        out.areas.setdefault(code, []).extend(_geometry(path, where, (feat or {}).get("geometry")))
        if _first(props, NAME_KEYS):
            out.names[code] = _first(props, NAME_KEYS)
    if not any(out.areas.values()):
        _fail(path, "aucun polygone ; attendu au moins une entité avec une géométrie Polygon ou MultiPolygon.")
    return out
