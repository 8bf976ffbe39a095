"""The map of a quartier: its contour, the commune around it and the directory's actors, as inline SVG.

No tile server and no script: the map is a small SVG drawn from the project's GeoJSON contours
(:mod:`diagnostics.collect.contours`) with a local projection of longitude / latitude, so it
shows offline, scales with the page and prints.  Each actor placed on the map carries a number
that the list under the map repeats with its name; actors without coordinates are listed, not
dropped.
"""
from __future__ import annotations

import math

from markupsafe import Markup, escape

from .. import fmt
from ..errors import ConfigurationError

#: Mean Earth radius (m), IUGG: the sphere of the local projection.
EARTH_RADIUS = 6_371_008.8
WIDTH = 680  # SVG user units: the drawing scales to its box
_HEIGHT = (300, 480)
_SCALES = (50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000)
_NUDGES = [(0, 0)] + [(round(24 * math.cos(a), 1), round(24 * math.sin(a), 1))
                      for a in [k * math.pi / 4 for k in range(8)]]


def local_projection(lon0: float, lat0: float):
    """Return ``f(lon, lat) -> (x, y)`` in metres east and north of ``(lon0, lat0)``.

    Notes
    -----
    Equidistant cylindrical projection with its standard parallel through the map's centre, on a
    sphere of radius :math:`R`: :math:`x = R\\,\\Delta\\lambda \\cos\\varphi_0`,
    :math:`y = R\\,\\Delta\\varphi` (angles in radians).  Over a few kilometres the distortion of
    lengths stays below 0,1 %, well under what a quartier map shows.

    References
    ----------
    Snyder J. P., *Map Projections — A Working Manual*, U.S. Geological Survey Professional Paper
    1395, 1987, pp. 90–91 (Equidistant Cylindrical projection, equations 12-1 and 12-2).
    """
    k = math.cos(math.radians(lat0))

    def f(lon: float, lat: float) -> tuple[float, float]:
        return (EARTH_RADIUS * math.radians(lon - lon0) * k, EARTH_RADIUS * math.radians(lat - lat0))

    return f


def _frame(points: list[tuple[float, float]]):
    """Projection, scale (SVG units per metre), height and offsets fitting ``points`` with a margin."""
    lons, lats = [p[0] for p in points], [p[1] for p in points]
    proj = local_projection((min(lons) + max(lons)) / 2, (min(lats) + max(lats)) / 2)
    xy = [proj(*p) for p in points]
    x0, x1 = min(x for x, _ in xy), max(x for x, _ in xy)
    y0, y1 = min(y for _, y in xy), max(y for _, y in xy)
    pad = max(0.12 * max(x1 - x0, y1 - y0), 150.0)
    x0, x1, y0, y1 = x0 - pad, x1 + pad, y0 - pad, y1 + pad
    height = min(max(WIDTH * (y1 - y0) / (x1 - x0), _HEIGHT[0]), _HEIGHT[1])
    scale = min(WIDTH / (x1 - x0), height / (y1 - y0))
    dx = (WIDTH - scale * (x1 - x0)) / 2 - scale * x0
    dy = (height - scale * (y1 - y0)) / 2 + scale * y1

    def to_svg(lon: float, lat: float) -> tuple[float, float]:
        x, y = proj(lon, lat)
        return (round(dx + scale * x, 1), round(dy - scale * y, 1))

    return to_svg, scale, round(height)


def _path(polygons, to_svg) -> str:
    """SVG path data of polygons (rings closed with ``Z``; holes drawn with the even-odd rule)."""
    parts = []
    for poly in polygons:
        for ring in poly:
            pts = [to_svg(lon, lat) for lon, lat in ring]
            parts.append("M" + " L".join(f"{x:g} {y:g}" for x, y in pts) + " Z")
    return " ".join(parts)


def _scale_bar(scale: float, height: int) -> str:
    """A scale bar of a round length close to a fifth of the map's width, at the bottom left."""
    target = WIDTH / 5 / scale
    metres = min(_SCALES, key=lambda m: abs(math.log(m / target)))
    w, y = metres * scale, height - 16
    label = f"{fmt.number(metres / 1000)} km" if metres >= 1000 else f"{fmt.number(metres)} m"
    return (f'<g class="echelle"><rect x="10" y="{y - 20}" width="{w + 16:.0f}" height="30" fill="#fff" '
            f'opacity="0.85"/><path d="M18 {y - 6} V{y} H{18 + w:.1f} V{y - 6}" fill="none" stroke="#000" '
            f'stroke-width="2"/><text x="{18 + w / 2:.1f}" y="{y - 8}" text-anchor="middle">{label}</text></g>')


def _markers(placed: list[dict], to_svg) -> list[str]:
    """Numbered markers; one that would hide another is moved aside, with a line to its place."""
    out, taken = [], []
    for a in placed:
        px, py = to_svg(a["longitude"], a["latitude"])
        for ox, oy in _NUDGES:
            x, y = px + ox, py + oy
            if all((x - u) ** 2 + (y - v) ** 2 >= 22 ** 2 for u, v in taken):
                break
        taken.append((x, y))
        lead = f'<line x1="{px}" y1="{py}" x2="{x}" y2="{y}" stroke="#000" stroke-width="1"/>' if (x, y) != (px, py) \
            else ""
        out.append(f'<g class="acteur-point">{lead}<circle cx="{x}" cy="{y}" r="10.5" fill="#003b5c" stroke="#fff" '
                   f'stroke-width="1.5"/><text x="{x}" y="{y + 4.5}" text-anchor="middle" fill="#fff" '
                   f'font-size="13" font-weight="bold">{a["n"]}</text></g>')
    return out


def _label(polygons, to_svg, name: str, height: int, weight: str = "bold") -> str:
    """The area's name above its contour (centred on it), on a white halo; none when the area's
    centre is outside the map."""
    pts = [to_svg(lon, lat) for poly in polygons for lon, lat in poly[0]]
    x = (min(p[0] for p in pts) + max(p[0] for p in pts)) / 2
    if not (0 < x < WIDTH and 0 < (min(p[1] for p in pts) + max(p[1] for p in pts)) / 2 < height):
        return ""
    y = max(min(p[1] for p in pts) - 8, 16)
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="middle" font-weight="{weight}" stroke="#fff" '
            f'stroke-width="4" paint-order="stroke" fill="#003b5c">{escape(name)}</text>')


def _others(contours, quartier) -> list:
    """The contour of another quartier of the diagnostic, or none when the file lacks it (context only)."""
    try:
        return contours.require(quartier.qpv, quartier.libelle, quartier.id)
    except ConfigurationError:
        return []


def _coords(a: dict):
    lat, lon = a.get("latitude"), a.get("longitude")
    ok = all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in (lat, lon))
    return (float(lon), float(lat)) if ok else None


def _svg(body: list[str], to_svg, scale: float, height: int, alt: str, commune, synthetic: bool) -> Markup:
    """The SVG element: the commune behind ``body``, then the scale bar, the north and the
    « synthetic » mark on top; ``alt`` is its text alternative (``role="img"``)."""
    back = []
    if commune is not None:
        back.append(f'<path class="commune" d="{_path(commune.polygons(), to_svg)}" fill="#f2f2f2" '
                    'stroke="#595959" stroke-width="1.5" stroke-dasharray="6 4" fill-rule="evenodd"/>')
    top = [_scale_bar(scale, height),
           f'<g class="nord"><path d="M{WIDTH - 24} 14 l8 22 l-8 -6 l-8 6 Z" fill="#000"/>'
           f'<text x="{WIDTH - 24}" y="50" text-anchor="middle">N</text></g>']
    if synthetic:
        top.append(f'<text x="{WIDTH - 10}" y="{height - 10}" text-anchor="end" font-weight="bold" '
                   'fill="#8a3b00">CONTOURS SYNTHÉTIQUES (exemple)</text>')
    return Markup(f'<svg class="carte-svg" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(alt)}" '
                  f'xmlns="http://www.w3.org/2000/svg" font-family="DejaVu Sans, Arial, sans-serif" font-size="14">'
                  + "".join(back + body + top) + "</svg>")


def _area(polygons, to_svg, focus: bool) -> str:
    """A quartier's contour: in blue for the map's subject, in grey for the others."""
    style = ('fill="#0072B2" fill-opacity="0.18" stroke="#0072B2" stroke-width="3"' if focus
             else 'fill="#e0e0e0" stroke="#767676" stroke-width="1"')
    return f'<path class="{"quartier" if focus else "autre-quartier"}" d="{_path(polygons, to_svg)}" {style} ' \
           'fill-rule="evenodd"/>'


def _ending(synthetic: bool) -> str:
    return ". Contours synthétiques, inventés pour l'exemple." if synthetic else "."


def quartier_map(project, quartier: str, contours, actors: list[dict] = (), commune=None) -> dict | None:
    """The map of one quartier: its contour, the others of the diagnostic, the commune, the actors.

    Parameters
    ----------
    project : diagnostics.config.project.Project
    quartier : str
        Label or id of the quartier.
    contours : diagnostics.collect.contours.Contours or None
        The QPV contours named by ``projet.yaml`` (``donnees: contours_qpv``); no map without them.
    actors : list of dict
        The quartier's actors as listed in its directory (``nom``, ``type``, ``adresse``,
        ``latitude``, ``longitude``).
    commune : diagnostics.collect.contours.Contours, optional
        The commune's contour (``donnees: contour_commune``), drawn in the background.

    Returns
    -------
    dict or None
        ``svg`` (markup), ``alt`` (the text alternative), ``placed`` (actors with their number),
        ``unplaced`` (actors without coordinates), ``synthetic`` and ``source``; None without contours.

    Raises
    ------
    ConfigurationError
        The file has no contour for the quartier, neither by its QPV code nor by its name.
    """
    if contours is None:
        return None
    q = project.quartier(quartier)
    mine = contours.require(q.qpv, q.libelle, q.id)
    placed = [{**a, "n": i} for i, a in enumerate((a for a in actors if _coords(a)), start=1)]
    unplaced = [a for a in actors if not _coords(a)]
    to_svg, scale, height = _frame([p for poly in mine for p in poly[0]] + [_coords(a) for a in placed])
    synthetic = contours.synthetic or bool(commune is not None and commune.synthetic)
    n = len(placed)
    alt = (f"Carte du quartier {q.libelle}" + (f" (QPV {q.qpv})" if q.qpv else "") + " : contour du quartier"
           + (", limite de la commune" if commune is not None else "")
           + (f", {n} acteur{'s' * (n > 1)} de l'annuaire placé{'s' * (n > 1)} par un numéro : "
              + " ; ".join(f"{a['n']}. {a['nom']}" for a in placed) if placed else ", aucun acteur placé")
           + _ending(synthetic))
    body = []
    for o in project.quartiers:
        polys = _others(contours, o) if o.id != q.id else []
        if polys:
            body += [_area(polys, to_svg, False), _label(polys, to_svg, o.libelle, height, "normal")]
    body += [_area(mine, to_svg, True), *_markers(placed, to_svg), _label(mine, to_svg, q.libelle, height)]
    return {"svg": _svg(body, to_svg, scale, height, alt, commune, synthetic), "alt": alt, "placed": placed,
            "unplaced": unplaced, "synthetic": synthetic, "source": contours.source,
            "commune": commune is not None, "qpv": q.qpv}


#: Most quartiers named on the synthesis' map; more are numbered and named in its legend.
NAMED_ON_MAP = 6


def overview_map(project, contours, commune=None) -> dict | None:
    """The synthesis' map: every quartier of the diagnostic in the commune, each named.

    Parameters
    ----------
    project, contours, commune
        As for :func:`quartier_map`.

    Returns
    -------
    dict or None
        ``svg``, ``alt``, ``synthetic``, ``source``, ``commune``, ``legend`` (``[(number, name)]``
        when the quartiers are numbered on the map, else empty); None without contours.

    Raises
    ------
    ConfigurationError
        The file has no contour for one of the quartiers.

    Notes
    -----
    Beyond :data:`NAMED_ON_MAP` quartiers their names would overlap on a map a page wide: each
    is numbered on the map and named in the legend, as the actors of a quartier's map are.
    """
    if contours is None:
        return None
    areas = [(q, contours.require(q.qpv, q.libelle, q.id)) for q in project.quartiers]
    numbered = len(areas) > NAMED_ON_MAP
    frame_pts = [p for _, polys in areas for poly in polys for p in poly[0]]
    if commune is not None:
        frame_pts += [p for poly in commune.polygons() for p in poly[0]]
    to_svg, scale, height = _frame(frame_pts)
    synthetic = contours.synthetic or bool(commune is not None and commune.synthetic)
    alt = (f"Carte des {len(areas)} quartiers du diagnostic"
           + (" dans la commune" if commune is not None else "") + " : "
           + ", ".join(q.libelle + (f" (QPV {q.qpv})" if q.qpv else "") for q, _ in areas) + _ending(synthetic))
    body = [x for k, (q, polys) in enumerate(areas, start=1)
            for x in (_area(polys, to_svg, True), _label(polys, to_svg, str(k) if numbered else q.libelle, height))]
    return {"svg": _svg(body, to_svg, scale, height, alt, commune, synthetic), "alt": alt, "synthetic": synthetic,
            "source": contours.source, "commune": commune is not None,
            "legend": [(k, q.libelle) for k, (q, _) in enumerate(areas, start=1)] if numbered else []}
