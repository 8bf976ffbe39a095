"""The directory of local actors (annuaire des acteurs) printed in each deliverable.

The directory is a partner's table, one row per actor, with the columns

``nom; type; themes; quartiers; adresse; telephone; site_web; horaires; description``

* ``themes``: one or more of the nine DLS dimensions (ids such as ``soins`` or their labels,
  case- and accent-insensitive), separated by ``,`` or ``|``;
* ``quartiers``: the neighbourhoods served (ids or labels) or ``tous``;
* ``telephone``: a French number (``04 79 00 12 34``, ``+33 4 79 00 12 34``) or a short
  number (``15``, ``3919``), normalised to ``04 79 00 12 34``;
* ``site_web``: an ``http(s)://`` address;
* ``latitude``, ``longitude`` (optional columns): the actor's place in decimal degrees (WGS 84,
  ``45,5581`` or ``45.5581``), both or neither; an actor without them is listed beside the
  report's map, not placed on it.

CSV files use ``;`` (as French Excel writes them) or ``,``, UTF-8; leading lines starting with
``#`` are comments.  Excel workbooks (``.xlsx``) are read from their first sheet.  Every problem
is one French sentence naming the file, the row as seen in Excel (header = row 1), the column,
the value and what was expected.
"""
from __future__ import annotations

import csv
import io
import re
import unicodedata
from pathlib import Path
from urllib.parse import urlparse

import pandas as pd

from ..errors import ConfigurationError, UnreadableFileError, where

COLUMNS = ("nom", "type", "themes", "quartiers", "adresse", "telephone", "site_web", "horaires", "description")
REQUIRED = ("nom", "type", "themes", "quartiers")
#: Optional columns placing an actor on the quartier's map: (column, lowest, highest value in degrees).
COORDINATES = (("latitude", -90.0, 90.0), ("longitude", -180.0, 180.0))

_PHONE_LONG = re.compile(r"^(?:\+33\s?|0033\s?|0)([1-9])(?:[\s.\-]?(\d{2})){4}$")
_PHONE_SHORT = re.compile(r"^(?:1[0-9]{1,2}|3\d{3})$")
_SEP = re.compile(r"\s*[,|;]\s*")


def _key(text) -> str:
    """Case- and accent-insensitive comparison key."""
    s = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", " ", s.lower()).strip()


def normalise_phone(value: str) -> str | None:
    """Return a French phone number written ``04 79 00 12 34``, or ``None`` if it is not one.

    Accepts national numbers (10 digits starting with 0, spaces, dots or dashes between pairs),
    international ``+33``/``0033`` numbers and short numbers (``15``, ``112``, ``3919``).

    Examples
    --------
    >>> normalise_phone("+33 4.79.00.12.34")
    '04 79 00 12 34'
    >>> normalise_phone("04 79 00 12") is None
    True
    """
    s = str(value).strip()
    if _PHONE_SHORT.match(s):
        return s
    if not _PHONE_LONG.match(s):
        return None
    digits = re.sub(r"\D", "", s)
    if digits.startswith("0033"):
        digits = "0" + digits[4:]
    elif digits.startswith("33"):
        digits = "0" + digits[2:]
    return " ".join(digits[i:i + 2] for i in range(0, 10, 2))


def valid_url(value: str) -> bool:
    """True if ``value`` is an absolute ``http``/``https`` address with a domain name."""
    s = str(value).strip()
    if any(c.isspace() for c in s) or any(c in s for c in "<>\"'"):
        return False
    try:
        u = urlparse(s)
    except ValueError:
        return False
    host = u.hostname or ""
    return u.scheme in ("http", "https") and "." in host and not host.startswith(".") and not host.endswith(".")


def _read_rows(path: Path) -> list[tuple[int, dict]]:
    """Header (lower-cased) and rows of the file as ``(excel_row_number, {column: text})``."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        try:
            df = pd.read_excel(path, dtype=str).fillna("")
        except Exception as exc:  # noqa: BLE001 - any reader failure is the user's file
            raise UnreadableFileError(f"Impossible de lire l'annuaire « {path.name} » : {exc}.", file=path) from exc
        header = [str(c).strip().lower() for c in df.columns]
        return header, [(i + 2, dict(zip(header, r))) for i, r in enumerate(df.astype(str).itertuples(index=False))]
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnreadableFileError(f"L'annuaire « {path.name} » n'est pas encodé en UTF-8 : enregistrez-le en "
                                  "« CSV UTF-8 » depuis Excel.", file=path) from exc
    except OSError as exc:
        raise UnreadableFileError(f"Impossible de lire l'annuaire « {path} » : {exc.strerror or exc}.",
                                  file=path) from exc
    lines = text.splitlines(keepends=True)
    skip = 0
    while skip < len(lines) and (lines[skip].lstrip().startswith("#") or not lines[skip].strip()):
        skip += 1
    body = "".join(lines[skip:])
    if not body.strip():
        raise UnreadableFileError(f"L'annuaire « {path.name} » est vide (aucune ligne d'en-tête).", file=path)
    first = body.splitlines()[0]
    delim = ";" if first.count(";") >= first.count(",") else ","
    reader = csv.reader(io.StringIO(body), delimiter=delim)
    rows = list(reader)
    header = [h.strip().lower() for h in rows[0]]
    out = []
    # physical line numbers as Excel shows them (comment lines count too)
    for i, r in enumerate(rows[1:], start=skip + 2):
        if not any(c.strip() for c in r):
            continue
        out.append((i, dict(zip(header, (c.strip() for c in r)))))
    return header, out


def _coordinates(r: dict, row: int, fail) -> dict:
    """``{"latitude": float | None, "longitude": float | None}`` of one row (both or neither)."""
    out = {}
    for col, lo, hi in COORDINATES:
        text = (r.get(col) or "").strip()
        if not text or text.lower() in ("nan", "none"):
            out[col] = None
            continue
        try:
            value = float(text.replace(",", ".").replace("\u00a0", "").replace(" ", ""))
        except ValueError:
            value = None
        if value is None or not lo <= value <= hi:
            fail(row, col, text, f"attendu un nombre de degrés décimaux entre {lo:g} et {hi:g} "
                                 "(ex. 45,5581 pour la latitude, 5,9052 pour la longitude), ou une case vide.")
        out[col] = value
    if (out["latitude"] is None) != (out["longitude"] is None):
        col = "latitude" if out["latitude"] is None else "longitude"
        fail(row, col, "", "case vide alors que l'autre coordonnée est remplie : attendu la latitude et la "
                           "longitude ensemble, ou aucune des deux.")
    return out


def load_actors(path: str | Path, *, dimensions: dict[str, str] | None = None,
                quartiers: list[str] | dict[str, str] | None = None) -> pd.DataFrame:
    """Read and validate a directory of local actors.

    Parameters
    ----------
    path : str or Path
        CSV (``;`` or ``,`` separated, UTF-8) or ``.xlsx`` file with the columns of :data:`COLUMNS`.
    dimensions : dict, optional
        ``{id: label}`` of the allowed themes; the nine DLS dimensions by default.
    quartiers : list or dict, optional
        Allowed neighbourhoods: labels, or ``{id: label}``.  When given, ``quartiers`` cells are
        checked and normalised to labels; ``tous`` stands for all of them.

    Returns
    -------
    pandas.DataFrame
        One row per actor; ``themes`` and ``quartiers`` hold lists (dimension ids, neighbourhood
        labels), ``telephone`` is normalised, missing optional fields are empty strings;
        ``latitude`` and ``longitude`` are floats, or None for an actor without a place.

    Raises
    ------
    ConfigurationError
        For a missing column, an empty name, an unknown theme or neighbourhood, a malformed
        phone number or web address, a coordinate that is not degrees or given without the
        other (one French sentence naming row and column).
    """
    from ..config.questionnaire import load_dimensions

    path = Path(path)
    dims = dimensions if dimensions is not None else load_dimensions()
    dim_keys = {}
    for did, label in dims.items():
        dim_keys[_key(did)] = did
        dim_keys[_key(label)] = did
    if isinstance(quartiers, dict):
        q_keys = {**{_key(k): v for k, v in quartiers.items()}, **{_key(v): v for v in quartiers.values()}}
        q_all = list(quartiers.values())
    elif quartiers is not None:
        q_keys = {_key(v): v for v in quartiers}
        q_all = list(quartiers)
    else:
        q_keys, q_all = None, None

    header, rows = _read_rows(path)
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise ConfigurationError(f"{where(path.name, 1)}l'annuaire doit avoir la colonne « {missing[0]} » "
                                 f"(colonnes attendues : {', '.join(COLUMNS)}).", file=path, row=1, column=missing[0])

    def fail(row, col, value, msg):
        raise ConfigurationError(f"{where(path.name, row, col)}valeur « {value} » : {msg}", file=path, row=row,
                                 column=col, value=value)

    records = []
    for row, r in rows:
        rec = {c: (r.get(c) or "").strip() for c in COLUMNS}
        if rec["nom"].lower() in ("nan", "none"):
            rec["nom"] = ""
        for c in REQUIRED:
            if not rec[c]:
                raise ConfigurationError(f"{where(path.name, row, c)}cette case est obligatoire.", file=path,
                                         row=row, column=c)
        themes = []
        for t in _SEP.split(rec["themes"]):
            if not t:
                continue
            did = dim_keys.get(_key(t))
            if did is None:
                fail(row, "themes", t, f"thème inconnu (attendu une des neuf dimensions : {', '.join(dims)}).")
            if did not in themes:
                themes.append(did)
        rec["themes"] = themes
        qs = []
        for q in _SEP.split(rec["quartiers"]):
            if not q:
                continue
            if q_keys is None:
                qs.append(q)
            elif _key(q) in ("tous", "tous les quartiers"):
                qs.extend(x for x in q_all if x not in qs)
            elif _key(q) in q_keys:
                if q_keys[_key(q)] not in qs:
                    qs.append(q_keys[_key(q)])
            else:
                fail(row, "quartiers", q, f"quartier inconnu (attendu : {', '.join(q_all)} ou « tous »).")
        rec["quartiers"] = qs
        if rec["telephone"]:
            phone = normalise_phone(rec["telephone"])
            if phone is None:
                fail(row, "telephone", rec["telephone"],
                     "numéro de téléphone mal formé (attendu 10 chiffres commençant par 0, ex. 04 79 00 12 34, "
                     "ou un numéro court comme 15 ou 3919).")
            rec["telephone"] = phone
        if rec["site_web"]:
            if not valid_url(rec["site_web"]):
                fail(row, "site_web", rec["site_web"],
                     "adresse web mal formée (attendu une adresse complète commençant par https:// ou http://).")
        rec.update(_coordinates(r, row, fail))
        rec["ligne"] = row
        records.append(rec)
    return pd.DataFrame(records, columns=[*COLUMNS, *(c for c, *_ in COORDINATES), "ligne"])


def actors_for_quartier(actors: pd.DataFrame, quartier: str) -> pd.DataFrame:
    """Actors serving ``quartier`` (a label as stored in the ``quartiers`` lists)."""
    mask = actors["quartiers"].map(lambda qs: quartier in qs)
    return actors[mask]


def group_by_theme(actors: pd.DataFrame, dimensions: dict[str, str]) -> list[dict]:
    """Group actors by theme, in the order of ``dimensions``; an actor appears under each of its themes.

    Returns
    -------
    list of dict
        ``{"id": dimension id, "label": French label, "actors": [records sorted by name]}`` for
        every dimension that has at least one actor.
    """
    out = []
    for did, label in dimensions.items():
        sub = actors[actors["themes"].map(lambda ts: did in ts)]
        if len(sub):
            recs = sorted(sub.to_dict("records"), key=lambda r: _key(r["nom"]))
            out.append({"id": did, "label": label, "actors": recs})
    return out
