"""The definitions of indicators over individual records: columns, statuses, levels, care rules.

A catalogue (``indicateurs_individuels.yaml`` or a project's own file) names a **column
preset** (``colonnes: synthetique`` or ``colonnes: snds``, files of
``diagnostics/resources/config/colonnes_individuelles/``, or a path, or an inline mapping):
where each table is read, which physical column carries each logical name (``id``, ``date``,
``atc``, ``acte``…), the beneficiary statuses (``css``, ``invalidite``…) and the territory levels
(``QPV``, ``commune``, ``EPCI``…).  Indicators are written once with logical names and run on any
data whose preset maps them.

A case (``numerateur``) is a tree of rules: ``lignes`` (care lines of one table passing filters
over several columns, in a window of years relative to ``annee``, at least ``au_moins`` lines or
distinct dates), ``ald`` (an ALD in progress in the year), ``statut`` (a boolean column of the
beneficiaries), ``cas`` (the case of another indicator), combined with ``un_de`` (or) and
``tous`` (and).  The population may be restricted the same way (``population: {cas: …}``).
:func:`load_record_catalogue` checks everything and raises a French
:class:`~diagnostics.errors.ConfigurationError` naming the file, the indicator and the key.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ...collect.extracts import parse_age_band
from ...config import yamlfile
from ...errors import ConfigurationError
from ..rates import standard_population

__all__ = ["DEFAULT_RECORD_CATALOGUE", "PRESETS_DIR", "MULTIPLIERS", "Lines", "Ald", "Status", "AnyOf", "AllOf",
           "Level", "TableMap", "RecordIndicator", "RecordCatalogue", "load_record_catalogue"]

_CONFIG = Path(__file__).resolve().parents[2] / "resources" / "config"
DEFAULT_RECORD_CATALOGUE = _CONFIG / "indicateurs_individuels.yaml"
PRESETS_DIR = _CONFIG / "colonnes_individuelles"
MULTIPLIERS = {"%": 100.0, "pour 1 000": 1e3, "pour 10 000": 1e4, "pour 100 000": 1e5}
_FILTER_OPS = ("dans", "pas_dans", "commence_par", "entre")
_COUNT_MODES = ("lignes", "dates")


# --------------------------------------------------------------------------- rule tree
@dataclass(frozen=True)
class Lines:
    """At least ``at_least`` lines (or distinct dates) of ``table`` passing ``filters`` with a
    date in the years ``year + start`` … ``year + end`` (``start ≤ end ≤ 0``)."""

    table: str
    filters: tuple          # ((logical column, op, values tuple), …), sorted
    start: int = 0
    end: int = 0
    at_least: int = 1
    count: str = "lignes"


@dataclass(frozen=True)
class Ald:
    """An ALD in progress during the year, of these numbers (all when empty)."""

    numbers: tuple = ()


@dataclass(frozen=True)
class Status:
    """A boolean column of the beneficiaries (declared in the preset's ``statuts``)."""

    name: str


@dataclass(frozen=True)
class _Combination:
    rules: tuple


class AnyOf(_Combination):
    """At least one of the rules."""


class AllOf(_Combination):
    """Every rule."""


@dataclass(frozen=True)
class Level:
    """A territory level and the beneficiaries' column carrying its code (None: France)."""

    name: str
    column: str | None


@dataclass(frozen=True)
class TableMap:
    """Where a table is read (a path or URI relative to the data folder, or a metastore table)
    and its logical → physical column names."""

    name: str
    source: str
    columns: dict
    metastore: bool = False

    def col(self, logical: str) -> str:
        return self.columns.get(logical, logical)


@dataclass(frozen=True)
class RecordIndicator:
    """One definition of the catalogue: who is counted (``population``) and who is a case."""

    id: str
    label: str
    unit: str
    method: str
    age_min: int | None = None
    age_max: int | None = None
    sex: int | None = None
    within: object = None           # a rule restricting the population (``population: {cas: …}``)
    case: object = None             # the numerator's rule


@dataclass
class RecordCatalogue:
    year: int
    bands: list[str]
    levels: list[Level]
    tables: dict[str, TableMap]
    statuses: dict[str, str]
    indicators: list[RecordIndicator] = field(default_factory=list)
    source: str = ""

    def table(self, name: str) -> TableMap:
        return self.tables[name]


# --------------------------------------------------------------------------- loading
def _err(src, msg, **kw):
    return ConfigurationError(f"« {src} »{msg}", file=src, **kw)


def _bad(src, i, key, value, expected):
    return ConfigurationError(f"« {src} », indicateur n° {i} : « {key} » vaut « {value} » ; {expected} est attendu.",
                              file=src, row=i, column=key, value=value, expected=expected)


def _read_yaml(path: Path) -> dict:
    try:
        return yamlfile.parse(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigurationError(f"« {path} » ne peut pas être lu ({exc}).", file=path.name) from exc


def _preset(doc: dict, base: Path, src: str) -> dict:
    spec = doc.get("colonnes", "synthetique")
    if isinstance(spec, str):
        path = PRESETS_DIR / f"{spec}.yaml"
        if not path.exists():
            path = (base / spec) if not Path(spec).is_absolute() else Path(spec)
        if not path.exists():
            known = ", ".join(sorted(p.stem for p in PRESETS_DIR.glob("*.yaml")))
            raise _err(src, f" : « colonnes » vaut « {spec} » ; un préréglage ({known}) ou un fichier YAML est attendu.",
                       column="colonnes", value=spec)
        return _read_yaml(path)
    if not isinstance(spec, dict):
        raise _err(src, " : « colonnes » doit nommer un préréglage ou décrire les tables.", column="colonnes")
    return spec


def _tables(preset: dict, src: str) -> dict[str, TableMap]:
    tables = preset.get("tables")
    if not isinstance(tables, dict) or "beneficiaires" not in tables:
        raise _err(src, " : « tables » doit décrire au moins « beneficiaires ».", column="tables")
    out = {}
    for name, spec in tables.items():
        spec = spec or {}
        cols = {str(k): str(v) for k, v in (spec.get("colonnes") or {}).items()}
        if "table" in spec:
            out[name] = TableMap(name, str(spec["table"]), cols, metastore=True)
        else:
            out[name] = TableMap(name, str(spec.get("source") or name), cols)
    return out


def _levels(raw, src: str) -> list[Level]:
    if isinstance(raw, dict):                      # {QPV: code_qpv, …, France: null}
        raw = [{"nom": k, "colonne": v} for k, v in raw.items()]
    if not isinstance(raw, list) or not raw:
        raise _err(src, " : « niveaux » doit lister les niveaux de territoire (nom, colonne).", column="niveaux")
    out = []
    for item in raw:
        if not isinstance(item, dict) or not item.get("nom"):
            raise _err(src, f" : niveau « {item} » incompris ; « {{nom: commune, colonne: code_commune}} » est attendu.",
                       column="niveaux", value=item)
        out.append(Level(str(item["nom"]), None if item.get("colonne") in (None, "") else str(item["colonne"])))
    if len({lv.name for lv in out}) != len(out):
        raise _err(src, " : deux niveaux portent le même nom.", column="niveaux")
    return out


def _bands(doc: dict, src: str) -> list[str]:
    bands = [str(b) for b in doc.get("classes_age") or []]
    if not bands:
        raise _err(src, " : la liste « classes_age » manque.", column="classes_age")
    spans = [parse_age_band(b) for b in bands]
    if spans[0][0] != 0 or spans[-1][1] != math.inf or any(a[1] + 1 != b[0] for a, b in itertools.pairwise(spans)):
        raise _err(src, " : les « classes_age » doivent couvrir tous les âges sans trou ni chevauchement, de 0 à « NN+ ».",
                   column="classes_age")
    standard_population("esp2013", bands)          # bounds shared with the standard population
    return bands


class _Reader:
    """Parses the rules of one indicator (``i``-th of ``src``) against the preset."""

    def __init__(self, src, i, cat: RecordCatalogue, cases: dict):
        self.src, self.i, self.cat, self.cases = src, i, cat, cases

    def bad(self, key, value, expected):
        return _bad(self.src, self.i, key, value, expected)

    def rule(self, spec):
        if not isinstance(spec, dict) or len(spec) != 1:
            raise self.bad("numerateur", spec, "une seule règle (lignes, soins, ald, statut, cas, un_de ou tous)")
        (kind, body), = spec.items()
        if kind in ("un_de", "tous"):
            if not isinstance(body, list) or not body:
                raise self.bad(kind, body, "une liste de règles")
            rules = tuple(self.rule(r) for r in body)
            return AnyOf(rules) if kind == "un_de" else AllOf(rules)
        if kind == "lignes":
            return self.lines(body or {})
        if kind == "soins":                        # short form: {prestations: [GEN], annees: 1, au_moins: 1}
            body = body or {}
            codes = body.get("prestations") or ()
            if not codes:
                raise self.bad("prestations", "", "une liste de codes de prestation")
            return self.lines({"table": "soins", "filtres": {"prestation": list(codes)},
                               "annees": body.get("annees", 1), "au_moins": body.get("au_moins", 1)})
        if kind == "ald":
            return self.ald(body or {})
        if kind == "statut":
            if body not in self.cat.statuses:
                raise self.bad("statut", body, " ou ".join(f"« {s} »" for s in self.cat.statuses) or "un statut déclaré")
            return Status(str(body))
        if kind == "cas":
            if body not in self.cases:
                raise self.bad("cas", body, "l'identifiant d'un indicateur défini plus haut")
            return self.cases[body]
        raise self.bad("numerateur", kind, "lignes, soins, ald, statut, cas, un_de ou tous")

    def ald(self, body):
        if "ald" not in self.cat.tables:
            raise self.bad("ald", body, "une table « ald » décrite dans « colonnes »")
        try:
            return Ald(tuple(sorted(int(c) for c in body.get("numeros") or ())))
        except (TypeError, ValueError):
            raise self.bad("numeros", body.get("numeros"), "une liste de numéros d'ALD") from None

    def lines(self, body):
        table = body.get("table", "soins")
        if table not in self.cat.tables or table == "beneficiaires":
            raise self.bad("table", table, "une table de lignes décrite dans « colonnes » ("
                           + ", ".join(t for t in self.cat.tables if t != "beneficiaires") + ")")
        filters = []
        for col, cond in (body.get("filtres") or {}).items():
            if not isinstance(cond, dict):
                cond = {"dans": cond}
            for op, values in cond.items():
                if op not in _FILTER_OPS:
                    raise self.bad(f"filtres.{col}", op, " ou ".join(f"« {o} »" for o in _FILTER_OPS))
                values = tuple(values) if isinstance(values, list | tuple) else (values,)
                if not values or (op == "entre" and len(values) != 2):
                    raise self.bad(f"filtres.{col}.{op}", values, "une liste de valeurs (deux pour « entre »)")
                filters.append((str(col), op, values))
        period = body.get("periode") or {}
        try:
            if "annees" in body:
                start, end = 1 - int(body["annees"]), 0
            else:
                start, end = int(period.get("de", 0)), int(period.get("a", 0))
            at_least = int(body.get("au_moins", 1))
        except (TypeError, ValueError):
            raise self.bad("periode", period or body.get("annees"), "des nombres entiers d'années") from None
        if not start <= end <= 0:
            raise self.bad("periode", f"{start} à {end}", "une fenêtre d'années « de ≤ a ≤ 0 » (0 : l'année)")
        if at_least < 1:
            raise self.bad("au_moins", at_least, "un nombre ≥ 1")
        count = body.get("compter", "lignes")
        if count not in _COUNT_MODES:
            raise self.bad("compter", count, "« lignes » ou « dates » (dates distinctes)")
        return Lines(str(table), tuple(sorted(filters, key=repr)), start, end, at_least, count)


def _indicator(reader: _Reader, it: dict) -> RecordIndicator:
    src, i = reader.src, reader.i
    for k in ("id", "libelle", "unite", "methode", "numerateur"):
        if not it.get(k):
            raise ConfigurationError(f"« {src} », indicateur n° {i} : le champ « {k} » manque.", file=src, row=i, column=k)
    if it["unite"] not in MULTIPLIERS:
        raise reader.bad("unite", it["unite"], " ou ".join(f"« {u} »" for u in MULTIPLIERS))
    if it["methode"] not in ("wilson", "dsr"):
        raise reader.bad("methode", it["methode"], "« wilson » ou « dsr »")
    pop = dict(it.get("population") or {})
    sex = pop.pop("sexe", None)
    if sex not in (None, 1, 2):
        raise reader.bad("sexe", sex, "1 (homme) ou 2 (femme)")
    ages = [pop.pop(k, None) for k in ("age_min", "age_max")]
    rest = [{k: v} for k, v in pop.items()]
    within = reader.rule(rest[0] if len(rest) == 1 else {"tous": rest}) if rest else None
    return RecordIndicator(str(it["id"]), str(it["libelle"]), it["unite"], it["methode"],
                           *(None if a is None else int(a) for a in ages), sex, within, reader.rule(it["numerateur"]))


def load_record_catalogue(path=None) -> RecordCatalogue:
    """Read and check the definitions of indicators over individual records.

    Parameters
    ----------
    path : path-like, optional
        By default :data:`DEFAULT_RECORD_CATALOGUE`.

    Returns
    -------
    RecordCatalogue
        Indicators as rule trees (:class:`Lines`, :class:`Ald`, :class:`Status`, :class:`AnyOf`,
        :class:`AllOf`) over the tables, statuses and levels of the column preset.
    """
    path = Path(path) if path else DEFAULT_RECORD_CATALOGUE
    src = path.name
    doc = _read_yaml(path)
    try:
        year = int(doc.get("annee"))
    except (TypeError, ValueError):
        raise _err(src, " : « annee » doit être une année comme 2021.", column="annee", value=doc.get("annee")) from None
    preset = _preset(doc, path.parent, src)
    statuses = preset.get("statuts") or {}
    if not isinstance(statuses, dict):
        raise _err(src, " : « statuts » doit associer chaque statut à une colonne des bénéficiaires.", column="statuts")
    cat = RecordCatalogue(year, _bands(doc, src), _levels(doc.get("niveaux") or preset.get("niveaux"), src),
                          _tables(preset, src), {str(k): str(v) for k, v in statuses.items()}, source=src)
    items = doc.get("indicateurs")
    if not isinstance(items, list) or not items:
        raise _err(src, " : une liste « indicateurs: » est attendue.")
    cases = {}
    for i, it in enumerate(items, start=1):
        if not isinstance(it, dict):
            raise _bad(src, i, "indicateur", it, "une entrée « id, libelle, unite, methode, numerateur »")
        if it.get("id") in cases:
            raise _bad(src, i, "id", it["id"], "un identifiant unique")
        ind = _indicator(_Reader(src, i, cat, cases), it)
        cases[ind.id] = ind.case
        cat.indicators.append(ind)
    return cat
