"""Read database extracts (Assurance Maladie, ORS) as they are delivered: CSV « à la française » or XLSX.

An extract has one row per territory × indicator × year (× age band × sex), with the territory
level (QPV, commune, département, région, France), a numerator, a denominator and/or a published
value.  Files come from Excel: ``;`` separators, decimal commas, thousands separated by spaces,
``cp1252`` or ``utf-8-sig`` encodings, title or ``#`` comment lines above the header.

Masked cells (« <10 », « s », « nd », « secret », empty, « NA »…) are read as *masked*: the number
is missing (never zero), ``masked`` is true and ``masked_token`` keeps what the file said, so the
secret travels to the report.  A row that cannot be used is rejected with a French reason naming
the file, the row as Excel shows it, the column, the value and what was expected; nothing is
lost: ``n_read == n_accepted + n_rejected``.
"""
from __future__ import annotations

import csv
import math
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from ..config import yamlfile
from ..config.project import legacy_reference_id
from ..errors import ConfigurationError, DLSError, UnreadableFileError, where
from ..io.formats import decode_text

__all__ = ["ExtractResult", "read_extract", "read_extracts", "read_references", "parse_number",
           "parse_age_band", "MASKED_TOKENS", "LEVELS", "EXTRACT_COLUMNS"]

#: Tokens meaning « value withheld » (compared case- and accent-insensitively, spaces ignored);
#: any « <N » is masked as well.
MASKED_TOKENS = frozenset({"", "s", "nd", "n.d.", "n.d", "nc", "n.c.", "secret", "secretstatistique",
                           "na", "n/a", "nan", "-", "–", "x", "c", "masque", "masquee"})

#: Territory levels, in the order of the report, as written in the output.
LEVELS = ("QPV", "commune", "département", "région", "France")

#: Columns of :attr:`ExtractResult.data`.
EXTRACT_COLUMNS = ["level", "territory_code", "territory", "indicator_id", "indicator_label", "year",
                   "age_group", "sex", "numerator", "denominator", "value", "unit", "source",
                   "masked", "masked_token", "fichier", "ligne"]

_ALIASES = {
    "level": ["niveau", "niveau_geographique", "type_territoire", "echelon", "niveau_geo"],
    "territory_code": ["code_territoire", "code", "code_geo", "codgeo", "code_geographique", "code_insee"],
    "territory": ["territoire", "libelle_territoire", "libelle", "lib_territoire", "nom_territoire", "libgeo", "nom"],
    "indicator_id": ["indicateur", "code_indicateur", "id_indicateur", "indicator_id"],
    "indicator_label": ["libelle_indicateur", "intitule", "intitule_indicateur"],
    "year": ["annee", "periode", "annees", "millesime"],
    "age_group": ["classe_age", "tranche_age", "groupe_age", "classe_d_age", "tranche_d_age", "age"],
    "sex": ["sexe", "genre"],
    "numerator": ["numerateur", "nb", "nombre", "effectif", "cas", "nb_cas"],
    "denominator": ["denominateur", "population", "pop", "effectif_total", "population_reference"],
    "value": ["valeur", "taux", "pourcentage", "part", "proportion"],
    "unit": ["unite"],
    "source": ["source", "producteur"],
}
_REQUIRED = ("level", "territory_code", "indicator_id", "year")
_FRENCH_NAME = {"level": "niveau", "territory_code": "code_territoire", "indicator_id": "indicateur",
                "year": "annee", "numerator": "numerateur", "denominator": "denominateur",
                "value": "valeur", "age_group": "classe_age", "sex": "sexe"}

_LEVEL_MAP = {
    "qpv": "QPV", "quartier": "QPV", "quartier_prioritaire": "QPV", "iris": "QPV",
    "commune": "commune", "com": "commune", "ville": "commune",
    "departement": "département", "dep": "département", "dept": "département",
    "region": "région", "reg": "région",
    "france": "France", "national": "France", "nation": "France", "pays": "France",
    "france_entiere": "France", "france_metropolitaine": "France", "fra": "France",
}
#: Reference files also know the rest of the agglomerations (« hors QPV »), never an extract level.
_REF_LEVEL_MAP = {**_LEVEL_MAP, "hors_qpv": "hors QPV"}
_CODE_RULES = {
    "QPV": (re.compile(r"^Q[NP](\d{3}|2[AB]\d)[0-9A-Z]{3,4}$"), "un code QPV comme « QN073001 »"),
    "commune": (re.compile(r"^(\d{5}|2[AB]\d{3})$"), "un code commune INSEE à 5 caractères comme « 73065 »"),
    "département": (re.compile(r"^(\d{2}|2[AB]|97\d)$"), "un code département comme « 73 »"),
    "région": (re.compile(r"^\d{2}$"), "un code région à 2 chiffres comme « 84 »"),
    "France": (re.compile(r"^FR$"), "« FR »"),
}
_SEX_MAP = {"femme": "Femme", "femmes": "Femme", "f": "Femme", "feminin": "Femme", "2": "Femme",
            "homme": "Homme", "hommes": "Homme", "h": "Homme", "m": "Homme", "masculin": "Homme", "1": "Homme",
            "ensemble": "Ensemble", "tous": "Ensemble", "total": "Ensemble", "": "Ensemble",
            "deux_sexes": "Ensemble", "les_deux": "Ensemble", "0": "Ensemble"}
_ALL_AGES = {"", "ensemble", "tous_ages", "tous", "total", "tout_age", "tous_les_ages"}


def _norm(s) -> str:
    """Lower case, no accents, non-alphanumerics as single underscores."""
    s = unicodedata.normalize("NFKD", str(s)).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9+<]+", "_", s).strip("_")


def _is_blank(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or (isinstance(v, str) and not v.strip())


# --------------------------------------------------------------------------- values
def parse_number(value):
    """Parse a cell of an extract.

    Returns
    -------
    tuple
        ``(number, masked, token)``: ``number`` is a float or None; ``masked`` is True when the
        cell is withheld (the number is then None, never 0); ``token`` is the original text.

    Raises
    ------
    ValueError
        When the cell is neither a number nor a masking token.

    Examples
    --------
    >>> parse_number("1 234,5")
    (1234.5, False, '1 234,5')
    >>> parse_number("<10")
    (None, True, '<10')
    >>> parse_number("12,5 %")
    (12.5, False, '12,5 %')
    """
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, (int, float)) and not _is_blank(value):
        return float(value), False, str(value)
    token = "" if _is_blank(value) else str(value).strip()
    key = re.sub(r"\s+", "", unicodedata.normalize("NFKD", token).encode("ascii", "ignore").decode().lower())
    if key in MASKED_TOKENS or re.fullmatch(r"[<≤]=?\d+", token.replace(" ", "")):
        return None, True, token
    s = token.replace("\u202f", "").replace("\u00a0", "").replace(" ", "").rstrip("%")
    if "," in s and "." in s:
        s = s.replace(".", "").replace(",", ".")
    else:
        s = s.replace(",", ".")
    if not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", s):
        raise ValueError(token)
    return float(s), False, token


_BAND_RANGE = re.compile(r"^(\d+)\s*(?:-|–|à)\s*(\d+)$")
_BAND_OPEN = re.compile(r"^(\d+)\s*(?:\+|et plus|ou plus)$")
_BAND_UNDER = re.compile(r"^(?:moins de|<)\s*(\d+)$")


def parse_age_band(label) -> tuple[int, float]:
    """Return ``(first_age, last_age)`` of an age band label, ``last_age`` inf for an open band.

    Accepts ``"0-4"``, ``"15-29 ans"``, ``"15 à 29 ans"``, ``"75+"``, ``"75 ans et plus"``,
    ``"moins de 15 ans"``.

    Examples
    --------
    >>> parse_age_band("75 ans et plus")
    (75, inf)
    >>> parse_age_band("15-29")
    (15, 29)
    """
    s = re.sub(r"\bans?\b", "", str(label).strip().lower())
    s = re.sub(r"\s+", " ", s).strip()
    m = _BAND_RANGE.match(s)
    if m and int(m.group(1)) <= int(m.group(2)):
        return int(m.group(1)), int(m.group(2))
    m = _BAND_OPEN.match(s)
    if m:
        return int(m.group(1)), math.inf
    m = _BAND_UNDER.match(s)
    if m and int(m.group(1)) > 0:
        return 0, int(m.group(1)) - 1
    raise DLSError(
        f"La classe d'âge « {label} » n'est pas comprise ; formes attendues : « 15-29 », "
        "« 15-29 ans », « 75+ », « 75 ans et plus » ou « moins de 15 ans ».",
        value=label, expected="classe d'âge")


# --------------------------------------------------------------------------- result
@dataclass
class ExtractResult:
    """What :func:`read_extract` returns.

    Attributes
    ----------
    data : pandas.DataFrame
        Accepted rows, columns :data:`EXTRACT_COLUMNS`.
    rejected : pandas.DataFrame
        One row per rejected input row: ``fichier, ligne, colonne, valeur, motif``.
    issues : pandas.DataFrame
        Every problem found (``gravite`` = « rejet » or « avertissement »).
    n_read : int
        Non-empty data rows read.
    """

    data: pd.DataFrame
    rejected: pd.DataFrame
    issues: pd.DataFrame
    n_read: int
    files: list = field(default_factory=list)

    @property
    def n_accepted(self) -> int:
        return len(self.data)

    @property
    def n_rejected(self) -> int:
        return len(self.rejected)


_REJ_COLS = ["fichier", "ligne", "colonne", "valeur", "motif"]


# --------------------------------------------------------------------------- raw reading
def _decode(raw: bytes, encoding, name) -> str:
    if encoding:
        try:
            return raw.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise UnreadableFileError(f"« {name} » ne peut pas être lu avec l'encodage « {encoding} » "
                                      f"({exc}) ; essayez « utf-8-sig » ou « cp1252 ».", file=name) from exc
    return decode_text(raw)


def _header_score(cells) -> int:
    names = {_norm(c) for c in cells}
    return sum(any(a in names for a in _ALIASES[k]) for k in _REQUIRED)


def _read_csv_rows(path: Path, encoding) -> list[tuple[int, list]]:
    text = _decode(path.read_bytes(), encoding, path.name)
    lines = text.splitlines()
    sample = next((ln for ln in lines if ln.strip() and not ln.lstrip().startswith("#")), "")
    sep = max([";", "\t", ","], key=lambda c: (sample.count(c), c == ";"))
    rows = []
    for i, line in enumerate(lines, start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        cells = next(csv.reader([line], delimiter=sep))
        rows.append((i, cells))
    return rows


def _read_xlsx_rows(path: Path, sheet) -> list[tuple[int, list]]:
    try:
        raw = pd.read_excel(path, sheet_name=sheet, header=None, dtype=object)
    except ValueError as exc:
        raise UnreadableFileError(f"« {path.name} » : la feuille « {sheet} » est introuvable ou illisible "
                                  f"({exc}).", file=path.name) from exc
    rows = []
    for i, rec in enumerate(raw.itertuples(index=False), start=1):
        cells = ["" if _is_blank(v) else v for v in rec]
        if all(c == "" for c in cells) or (isinstance(cells[0], str) and cells[0].lstrip().startswith("#")):
            continue
        rows.append((i, cells))
    return rows


# --------------------------------------------------------------------------- main reader
def read_extract(path, *, sheet=0, encoding=None) -> ExtractResult:
    """Read one extract file (``.csv``, ``.txt`` or ``.xlsx``) into the canonical long table.

    Parameters
    ----------
    path : path-like
    sheet : int or str, default 0
        Sheet of a workbook.
    encoding : str, optional
        Forced encoding; by default ``utf-8-sig`` / ``utf-8`` then ``cp1252``.

    Returns
    -------
    ExtractResult

    Notes
    -----
    The header is the first row naming at least three of the required columns (``niveau``,
    ``code_territoire``, ``indicateur``, ``annee``; accents and case ignored, usual synonyms
    accepted); lines above it and lines starting with ``#`` are skipped.  Rows are numbered as
    Excel shows them.  A row is rejected when its level, territory code, indicator, year, age
    band or sex is unusable, when a number is neither a number nor a masking token, when a
    number is negative, or when it repeats a key already read (``level, territory_code,
    indicator_id, year, age_group, sex``).
    """
    path = Path(path)
    name = path.name
    if not path.exists():
        raise UnreadableFileError(f"Le fichier « {path} » est introuvable.", file=str(path))
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        rows = _read_xlsx_rows(path, sheet)
    elif suffix in (".csv", ".txt", ".tsv"):
        rows = _read_csv_rows(path, encoding)
    else:
        raise UnreadableFileError(f"« {name} » : format « {suffix} » non pris en charge ; un fichier "
                                  ".csv ou .xlsx est attendu.", file=name)
    head_at = next((k for k, (_, cells) in enumerate(rows) if _header_score(cells) >= 3), None)
    if head_at is None:
        raise UnreadableFileError(
            f"« {name} » : aucune ligne d'en-tête trouvée ; les colonnes « niveau », « code_territoire », "
            "« indicateur » et « annee » sont attendues.", file=name)
    header_line, header = rows[head_at]
    colmap: dict[str, int] = {}
    for j, h in enumerate(header):
        key = _norm(h)
        for canon, aliases in _ALIASES.items():
            if key in aliases and canon not in colmap:
                colmap[canon] = j
                break
    for canon in _REQUIRED:
        if canon not in colmap:
            raise DLSError(
                f"{where(name, header_line)}la colonne « {_FRENCH_NAME[canon]} » est absente de l'en-tête ; "
                f"colonnes lues : {', '.join(map(str, header))}.", file=name, row=header_line,
                column=_FRENCH_NAME[canon], expected=_FRENCH_NAME[canon])
    if "numerator" not in colmap and "value" not in colmap:
        raise DLSError(f"{where(name, header_line)}il faut au moins une colonne « numerateur » ou "
                       "« valeur » ; aucune n'a été trouvée.", file=name, row=header_line,
                       column="numerateur", expected="numerateur ou valeur")
    header_names = {canon: str(header[j]) for canon, j in colmap.items()}

    accepted, rejected, issues = [], [], []
    seen: dict[tuple, int] = {}
    n_read = 0
    for line, cells in rows[head_at + 1:]:
        if all(_is_blank(c) for c in cells):
            continue
        n_read += 1

        def cell(canon):
            j = colmap.get(canon)
            return cells[j] if j is not None and j < len(cells) else ""

        def reject(canon, value, motif):
            col = header_names.get(canon, _FRENCH_NAME.get(canon, canon))
            rec = dict(fichier=name, ligne=line, colonne=col, valeur=str(value), motif=motif)
            rejected.append(rec)
            issues.append({**rec, "gravite": "rejet"})

        def warn(canon, value, motif):
            col = header_names.get(canon, canon)
            issues.append(dict(fichier=name, ligne=line, colonne=col, valeur=str(value), motif=motif,
                               gravite="avertissement"))

        # level
        raw_level = cell("level")
        level = _LEVEL_MAP.get(_norm(raw_level))
        if level is None:
            reject("level", raw_level, f"niveau de territoire inconnu ; valeurs attendues : {', '.join(LEVELS)}")
            continue
        # territory code
        raw_code = cell("territory_code")
        code = str(raw_code).strip().upper()
        if isinstance(raw_code, float) and raw_code.is_integer():
            code = str(int(raw_code))
        if level == "France" and _norm(code) in ("", "fr", "fra", "france", "f", "00", "0"):
            code = "FR"
        width = {"commune": 5, "département": 2, "région": 2}.get(level)
        if width and code.isdigit() and len(code) < width:
            warn("territory_code", raw_code, f"code complété par des zéros à gauche : « {code.zfill(width)} »")
            code = code.zfill(width)
        rule, expected = _CODE_RULES[level]
        if not rule.match(code):
            reject("territory_code", raw_code, f"code de territoire invalide pour le niveau « {level} » ; "
                                               f"{expected} est attendu")
            continue
        # indicator
        indicator = str(cell("indicator_id")).strip()
        if not indicator:
            reject("indicator_id", "", "indicateur vide ; un code d'indicateur est attendu")
            continue
        # year or period
        raw_year = cell("year")
        year = str(int(raw_year)) if isinstance(raw_year, (int, float)) and not _is_blank(raw_year) \
            and float(raw_year).is_integer() else str(raw_year).strip()
        m = re.fullmatch(r"(\d{4})(?:\s*[-/–]\s*(\d{4}))?", year)
        if not m or not (1980 <= int(m.group(1)) <= 2100) or (m.group(2) and int(m.group(2)) < int(m.group(1))):
            reject("year", raw_year, "année invalide ; une année comme « 2021 » ou une période comme "
                                     "« 2020-2021 » est attendue")
            continue
        year = m.group(1) if not m.group(2) else f"{m.group(1)}-{m.group(2)}"
        # age band and sex
        raw_age = cell("age_group")
        age = str(raw_age).strip()
        if _norm(age) in _ALL_AGES:
            age = "Ensemble"
        else:
            try:
                parse_age_band(age)
            except DLSError:
                reject("age_group", raw_age, "classe d'âge incomprise ; « 15-29 », « 75+ », « 75 ans et plus » "
                                             "ou « Ensemble » est attendu")
                continue
        raw_sex = cell("sex")
        sex = _SEX_MAP.get(_norm(raw_sex))
        if sex is None:
            reject("sex", raw_sex, "sexe incompris ; « Femme », « Homme » ou « Ensemble » est attendu")
            continue
        # numbers
        nums, tokens, bad = {}, {}, False
        for canon in ("numerator", "denominator", "value"):
            nums[canon], tokens[canon] = None, None
            if canon not in colmap:
                continue
            raw = cell(canon)
            try:
                number, masked, token = parse_number(raw)
            except ValueError:
                reject(canon, raw, "valeur non numérique ; un nombre (« 12,5 », « 1 600 ») ou une valeur "
                                   "masquée (« <10 », « s », « nd », « secret », vide) est attendu")
                bad = True
                break
            if number is not None and number < 0:
                reject(canon, raw, "nombre négatif ; un nombre positif ou nul est attendu")
                bad = True
                break
            nums[canon] = number
            tokens[canon] = token if masked else None
        if bad:
            continue
        # Masked: an explicit token anywhere (« <10 », « s »…), or no usable figure at all
        # (empty numerator and empty value).  An empty numerator next to a published value, or an
        # empty value next to a numerator, only means the column was not filled.
        explicit = [t for t in tokens.values() if t]
        nothing = nums["numerator"] is None and nums["value"] is None
        masked_token = explicit[0] if explicit else ("(vide)" if nothing else "")
        is_masked = bool(explicit) or nothing
        key = (level, code, indicator, year, age, sex)
        if key in seen:
            reject("indicator_id", indicator, f"doublon de la ligne {seen[key]} (même territoire, indicateur, "
                                              "année, classe d'âge et sexe) ; une seule ligne est attendue")
            continue
        seen[key] = line
        accepted.append(dict(
            level=level, territory_code=code, territory=str(cell("territory")).strip(),
            indicator_id=indicator, indicator_label=str(cell("indicator_label")).strip(),
            year=year, age_group=age, sex=sex,
            numerator=nums["numerator"], denominator=nums["denominator"], value=nums["value"],
            unit=str(cell("unit")).strip(), source=str(cell("source")).strip(),
            masked=is_masked, masked_token=masked_token,
            fichier=name, ligne=line))

    data = pd.DataFrame(accepted, columns=EXTRACT_COLUMNS)
    for col in ("numerator", "denominator", "value"):
        data[col] = data[col].astype(float)
    data["masked"] = data["masked"].astype(bool)
    data["ligne"] = data["ligne"].astype(int)
    data.attrs["fichier"] = name
    result = ExtractResult(data=data, rejected=pd.DataFrame(rejected, columns=_REJ_COLS),
                           issues=pd.DataFrame(issues, columns=[*_REJ_COLS, "gravite"]),
                           n_read=n_read, files=[name])
    assert result.n_read == result.n_accepted + result.n_rejected
    return result


def read_extracts(paths, **kwargs) -> ExtractResult:
    """Read several extract files and stack them (duplicates across files are rejected too).

    Parameters
    ----------
    paths : iterable of path-like
    **kwargs
        Passed to :func:`read_extract`.
    """
    results = [read_extract(p, **kwargs) for p in paths]
    if not results:
        raise DLSError("Aucun fichier d'extraction n'a été donné.")
    data = pd.concat([r.data for r in results], ignore_index=True)
    rejected = [r.rejected for r in results]
    issues = [r.issues for r in results]
    key = ["level", "territory_code", "indicator_id", "year", "age_group", "sex"]
    dup = data.duplicated(key, keep="first")
    if dup.any():
        extra = pd.DataFrame({"fichier": data.loc[dup, "fichier"], "ligne": data.loc[dup, "ligne"],
                              "colonne": "indicateur", "valeur": data.loc[dup, "indicator_id"],
                              "motif": "doublon d'une ligne d'un autre fichier (même territoire, indicateur, "
                                       "année, classe d'âge et sexe) ; une seule ligne est attendue"})
        rejected.append(extra)
        issues.append(extra.assign(gravite="rejet"))
        data = data.loc[~dup].reset_index(drop=True)
    data.attrs["fichier"] = ", ".join(r.files[0] for r in results)
    return ExtractResult(data=data, rejected=pd.concat(rejected, ignore_index=True),
                         issues=pd.concat(issues, ignore_index=True),
                         n_read=sum(r.n_read for r in results), files=[r.files[0] for r in results])


# --------------------------------------------------------------------------- references
#: Statuses of a reference value; only « publiée » is printed without a warning, « à confirmer » is never used.
REFERENCE_STATUSES = ("publiée", "illustrative", "à confirmer")
#: Comparability of a published definition with the catalogue's indicator.
COMPARABILITY = ("même", "proche", "différente")
_REF_REQUIRED = ("indicator_id", "level", "territory_code", "period", "value", "status", "source")


MEASURES = ("déclarée", "enregistrée")


def _measure_fields(item: dict, path: Path, i: int) -> tuple[str, dict]:
    """``mesure`` (« déclarée » in a survey, « enregistrée » in administrative data, or empty) and
    ``comparabilite_indicateurs`` (``{indicator id: même | proche | différente}``) of a reference."""
    measure = str(item.get("mesure") or "").strip()
    if measure and measure not in MEASURES:
        raise ConfigurationError(f"« {path.name} », référence n° {i} : mesure « {measure} » inconnue ; "
                                 "« déclarée » ou « enregistrée » est attendue.", file=path.name, row=i,
                                 column="mesure", value=measure)
    per = item.get("comparabilite_indicateurs") or {}
    if not isinstance(per, dict) or any(str(v) not in COMPARABILITY for v in per.values()):
        raise ConfigurationError(f"« {path.name} », référence n° {i} : « comparabilite_indicateurs » doit associer "
                                 "un identifiant d'indicateur à « même », « proche » ou « différente ».",
                                 file=path.name, row=i, column="comparabilite_indicateurs", value=str(per))
    return measure, {str(k): str(v) for k, v in per.items()}


def read_references(path) -> pd.DataFrame:
    """Read the published reference values (``references.yaml`` of the project).

    Returns
    -------
    pandas.DataFrame
        Columns ``indicator_id, level, territory_code, territory, period, value, ci_low,
        ci_high, unit, status (« publiée » | « illustrative » | « à confirmer »), source, url,
        comparabilite (« même » | « proche » | « différente » | empty), definition, population, n,
        lu_dans, note, fichier, entree`` (file name and 1-based entry number, for messages),
        ``mesure`` (« déclarée » | « enregistrée » | empty) and ``comparabilite_indicateurs``
        (``{indicator id: comparabilité}``, the judgement per indicator that uses the row);
        proportions are on the 0–1 scale.
    """
    path = Path(path)
    try:
        doc = yamlfile.parse(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigurationError(f"« {path.name} » ne peut pas être lu ({exc}).", file=path.name) from exc
    items = (doc or {}).get("references")
    if not isinstance(items, list):
        raise ConfigurationError(f"« {path.name} » : une liste « references: » est attendue.", file=path.name)
    rows = []
    for i, item in enumerate(items, start=1):
        for k in _REF_REQUIRED:
            if k not in item or item[k] in (None, ""):
                raise ConfigurationError(f"« {path.name} », référence n° {i} : le champ « {k} » manque.",
                                         file=path.name, row=i, column=k)
        level = _REF_LEVEL_MAP.get(legacy_reference_id(_norm(item["level"]), path.name))  # chambery, savoie: old ids
        if level is None:
            raise ConfigurationError(f"« {path.name} », référence n° {i} : niveau « {item['level']} » inconnu ; "
                                     f"valeurs attendues : {', '.join(LEVELS)}.", file=path.name, row=i,
                                     column="level", value=item["level"])
        if item["status"] not in REFERENCE_STATUSES:
            raise ConfigurationError(f"« {path.name} », référence n° {i} : statut « {item['status']} » inconnu ; "
                                     "« publiée », « illustrative » ou « à confirmer » est attendu.",
                                     file=path.name, row=i, column="status", value=item["status"])
        comparability = str(item.get("comparabilite") or "").strip()
        if comparability and comparability not in COMPARABILITY:
            raise ConfigurationError(f"« {path.name} », référence n° {i} : comparabilité « {comparability} » "
                                     "inconnue ; « même », « proche » ou « différente » est attendue.",
                                     file=path.name, row=i, column="comparabilite", value=comparability)
        measure, per_indicator = _measure_fields(item, path, i)
        try:
            value = float(item["value"])
        except (TypeError, ValueError):
            raise ConfigurationError(f"« {path.name} », référence n° {i} : la valeur « {item['value']} » "
                                     "n'est pas un nombre.", file=path.name, row=i, column="value") from None
        rows.append(dict(indicator_id=str(item["indicator_id"]), level=level,
                         territory_code=str(item["territory_code"]), territory=item.get("territory", ""),
                         period=str(item["period"]), value=value, ci_low=item.get("ci_low"),
                         ci_high=item.get("ci_high"), unit=item.get("unit", ""), status=item["status"],
                         source=" ".join(str(item["source"]).split()), url=item.get("url", ""),
                         comparabilite=comparability, definition=" ".join(str(item.get("definition", "")).split()),
                         population=item.get("population", ""), n=item.get("n"), lu_dans=item.get("lu_dans", ""), court=item.get("court", ""),
                         note=" ".join(str(item.get("note", "")).split()), fichier=path.name, entree=i,
                         mesure=measure, comparabilite_indicateurs=per_indicator))
    out = pd.DataFrame(rows)
    for col in ("ci_low", "ci_high"):
        out[col] = pd.to_numeric(out[col], errors="coerce")
    return out
