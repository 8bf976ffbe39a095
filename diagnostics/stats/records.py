"""Extract indicators computed from individual records, one expression for DuckDB and Spark.

The definitions (``diagnostics/resources/config/indicateurs_individuels.yaml``, or a project's
own file) say who is counted (alive on 1 January, resident, age and sex bounds) and what makes
a case (care lines of some codes in a window of years, a beneficiary status, an ALD in
progress).  :func:`count_records` compiles them into **one** Ibis expression over the three
tables (:mod:`diagnostics.collect.records_synth` documents their columns) and runs it on the
engine chosen — DuckDB in process over Parquet files (the default) or Apache Spark (``local[*]``
or a cluster's master URL); Ibis writes the SQL of each, there is no second implementation.

The engine returns integer counts per finest cell (QPV × commune × département × région × age
band); the roll-up to every territory level, the masking of small cells, the Wilson limits and
the directly standardised rates are done here on that small table with the house functions
(:func:`~diagnostics.stats.rates.proportion_ci`, :func:`~diagnostics.stats.rates.dsr`), so both
engines give the same table to the last digit.  :func:`records_extract` returns it in the
format ``dls extraits`` reads (``niveau;code_territoire;…;numerateur;denominateur;valeur;…``).
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from ..collect.extracts import parse_age_band
from ..config import yamlfile
from ..errors import ConfigurationError, DLSError
from .rates import dsr, proportion_ci, standard_population

__all__ = [
    "DEFAULT_RECORD_CATALOGUE",
    "ENGINES",
    "RecordCatalogue",
    "RecordIndicator",
    "connect",
    "count_records",
    "load_record_catalogue",
    "records_extract",
    "write_records_extract",
]

DEFAULT_RECORD_CATALOGUE = Path(__file__).resolve().parents[1] / "resources" / "config" / "indicateurs_individuels.yaml"
ENGINES = ("duckdb", "spark")
_LEVELS = ("QPV", "commune", "département", "région", "France")
_MULT = {"%": 100.0, "pour 1 000": 1e3, "pour 10 000": 1e4, "pour 100 000": 1e5}
_STATUS = ("css", "ame", "medecin_traitant")
_TABLES = ("beneficiaires", "soins", "ald")


@dataclass(frozen=True)
class RecordIndicator:
    """One definition of the catalogue (see the YAML file's header for the keys)."""

    id: str
    label: str
    unit: str
    method: str
    age_min: int | None = None
    age_max: int | None = None
    sex: int | None = None
    kind: str = "soins"                 # soins | statut | ald
    codes: tuple = ()                   # care codes, or ALD numbers (empty: every ALD)
    years: int = 1
    at_least: int = 1
    status: str | None = None

    @property
    def care_key(self) -> str:
        return f"c_{'_'.join(self.codes)}_{self.years}_{self.at_least}"

    @property
    def ald_key(self) -> str:
        return "a_" + ("_".join(map(str, self.codes)) or "toutes")


@dataclass
class RecordCatalogue:
    year: int
    bands: list[str]
    levels: dict[str, str | None]
    indicators: list[RecordIndicator] = field(default_factory=list)
    source: str = ""


def _bad(src, i, key, value, expected):
    return ConfigurationError(f"« {src} », indicateur n° {i} : « {key} » vaut « {value} » ; {expected} est attendu.",
                              file=src, row=i, column=key, value=value, expected=expected)


def load_record_catalogue(path=None) -> RecordCatalogue:
    """Read and check the definitions of indicators over individual records.

    Parameters
    ----------
    path : path-like, optional
        By default :data:`DEFAULT_RECORD_CATALOGUE`.

    Returns
    -------
    RecordCatalogue
    """
    path = Path(path) if path else DEFAULT_RECORD_CATALOGUE
    src = path.name
    try:
        doc = yamlfile.parse(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigurationError(f"« {path} » ne peut pas être lu ({exc}).", file=src) from exc
    try:
        year = int(doc.get("annee"))
    except (TypeError, ValueError):
        raise ConfigurationError(f"« {src} » : « annee » doit être une année comme 2021.", file=src,
                                 column="annee", value=doc.get("annee")) from None
    bands = [str(b) for b in doc.get("classes_age") or []]
    if not bands:
        raise ConfigurationError(f"« {src} » : la liste « classes_age » manque.", file=src, column="classes_age")
    spans = [parse_age_band(b) for b in bands]
    if spans[0][0] != 0 or spans[-1][1] != math.inf or any(a[1] + 1 != b[0] for a, b in itertools.pairwise(spans)):
        raise ConfigurationError(f"« {src} » : les « classes_age » doivent couvrir tous les âges sans trou "
                                 "ni chevauchement, de 0 à « NN+ ».", file=src, column="classes_age")
    standard_population("esp2013", bands)          # bounds shared with the standard population
    levels = doc.get("niveaux") or {}
    if not isinstance(levels, dict) or any(k not in _LEVELS for k in levels):
        raise ConfigurationError(f"« {src} » : « niveaux » doit associer {', '.join(_LEVELS)} à une colonne.",
                                 file=src, column="niveaux")
    items = doc.get("indicateurs")
    if not isinstance(items, list) or not items:
        raise ConfigurationError(f"« {src} » : une liste « indicateurs: » est attendue.", file=src)
    out, seen = [], set()
    for i, it in enumerate(items, start=1):
        for k in ("id", "libelle", "unite", "methode", "numerateur"):
            if not it.get(k):
                raise ConfigurationError(f"« {src} », indicateur n° {i} : le champ « {k} » manque.",
                                         file=src, row=i, column=k)
        if it["id"] in seen:
            raise _bad(src, i, "id", it["id"], "un identifiant unique")
        seen.add(it["id"])
        if it["unite"] not in _MULT:
            raise _bad(src, i, "unite", it["unite"], " ou ".join(f"« {u} »" for u in _MULT))
        if it["methode"] not in ("wilson", "dsr"):
            raise _bad(src, i, "methode", it["methode"], "« wilson » ou « dsr »")
        pop = it.get("population") or {}
        sex = pop.get("sexe")
        if sex not in (None, 1, 2):
            raise _bad(src, i, "sexe", sex, "1 (homme) ou 2 (femme)")
        num = it["numerateur"]
        kind = next((k for k in ("soins", "statut", "ald") if k in num), None)
        if kind is None or len(num) != 1:
            raise _bad(src, i, "numerateur", num, "un seul de « soins », « statut » ou « ald »")
        common = {"id": str(it["id"]), "label": str(it["libelle"]), "unit": it["unite"], "method": it["methode"],
                  "age_min": pop.get("age_min"), "age_max": pop.get("age_max"), "sex": sex, "kind": kind}
        if kind == "soins":
            spec = num["soins"] or {}
            codes = tuple(str(c) for c in spec.get("prestations") or ())
            if not codes:
                raise _bad(src, i, "prestations", "", "une liste de codes de prestation")
            years, at_least = int(spec.get("annees", 1)), int(spec.get("au_moins", 1))
            if years < 1 or at_least < 1:
                raise _bad(src, i, "annees", years, "un nombre d'années et de lignes ≥ 1")
            out.append(RecordIndicator(**common, codes=codes, years=years, at_least=at_least))
        elif kind == "statut":
            if num["statut"] not in _STATUS:
                raise _bad(src, i, "statut", num["statut"], " ou ".join(f"« {s} »" for s in _STATUS))
            out.append(RecordIndicator(**common, status=num["statut"]))
        else:
            codes = tuple(int(c) for c in ((num["ald"] or {}).get("numeros") or ()))
            out.append(RecordIndicator(**common, codes=codes))
    return RecordCatalogue(year, bands, dict(levels), out, src)


# --------------------------------------------------------------------------- engines
def connect(engine: str = "duckdb", *, master: str | None = None, spark_conf: dict | None = None,
            session=None):
    """An Ibis backend: DuckDB in process, or Spark (an existing ``session`` or a new one).

    Parameters
    ----------
    engine : {"duckdb", "spark"}
    master : str, optional
        Spark master URL (``local[*]`` by default, ``spark://hôte:7077``, ``yarn``, ``k8s://…``).
    spark_conf : dict, optional
        Extra Spark settings (``spark.executor.memory``…).
    session : pyspark.sql.SparkSession, optional
        Reuse this session.
    """
    try:
        import ibis
    except ImportError:
        raise DLSError("Le calcul sur données individuelles demande Ibis : installez "
                       "« pip install 'dls-diagnostics[national]' ».") from None
    if engine == "duckdb":
        return ibis.duckdb.connect()
    if engine != "spark":
        raise DLSError(f"Moteur « {engine} » inconnu ; « duckdb » ou « spark » est attendu.", value=engine)
    if session is None:
        try:
            from pyspark.sql import SparkSession
        except ImportError:
            raise DLSError("Le moteur Spark demande pyspark : installez « pip install 'dls-diagnostics[spark]' » "
                           "et Java 17.") from None
        builder = SparkSession.builder.master(master or "local[*]").appName("dls-extraits-individuels")
        for k, v in {"spark.sql.session.timeZone": "UTC", "spark.ui.showConsoleProgress": "false",
                     **(spark_conf or {})}.items():
            builder = builder.config(k, v)
        session = builder.getOrCreate()
    return ibis.pyspark.connect(session)


def _table(con, path: Path, name: str):
    p = path / f"{name}.parquet"
    if not p.exists():
        raise DLSError(f"La table « {name} » est introuvable : « {p} » est attendu (fichier ou dossier Parquet).",
                       file=str(p))
    target = str(p / "*.parquet") if p.is_dir() else str(p)
    return con.read_parquet(target, table_name=f"dls_{name}")


def _band_expr(age, bands):
    import ibis
    expr = ibis.literal(bands[-1])
    for label in reversed(bands[:-1]):
        expr = ibis.ifelse(age <= int(parse_age_band(label)[1]), label, expr)
    return expr


def count_records(con, data_dir, catalogue: RecordCatalogue) -> pd.DataFrame:
    """Counts per finest cell: one query on the engine ``con``.

    Returns
    -------
    pandas.DataFrame
        Columns: the level columns of the catalogue, ``classe_age``, then ``den_<id>`` and
        ``num_<id>`` (int64) for each indicator.  Cells are sorted, so two engines return the
        same frame.
    """
    import ibis

    data_dir = Path(data_dir)
    ben, care, ald = (_table(con, data_dir, t) for t in _TABLES)
    y = catalogue.year
    inds = catalogue.indicators
    geo = [c for c in catalogue.levels.values() if c]
    pop = ben.filter(ben.code_commune.notnull() & (ben.annee_deces.isnull() | (ben.annee_deces >= y)))
    pop = pop.mutate(age=ibis.literal(y) - pop.annee_naissance.cast("int32"))
    # care lines: one aggregate by beneficiary, a count per distinct (codes, window, threshold)
    care_specs = {i.care_key: i for i in inds if i.kind == "soins"}
    if care_specs:
        longest = max(i.years for i in care_specs.values())
        lines = care.filter((care.date_soins >= ibis.date(y - longest + 1, 1, 1)) & (care.date_soins <= ibis.date(y, 12, 31)))
        agg = {k: ibis.ifelse(lines.prestation.cast("string").isin(list(i.codes))
                              & (lines.date_soins >= ibis.date(y - i.years + 1, 1, 1)), 1, 0).sum()
               for k, i in care_specs.items()}
        per_ben = lines.group_by(lines.ben_id.name("cid")).aggregate(**agg)
        pop = pop.left_join(per_ben, pop.ben_id == per_ben.cid).drop("cid")
    ald_specs = {i.ald_key: i for i in inds if i.kind == "ald"}
    if ald_specs:
        cur = ald.filter((ald.annee_debut <= y) & (ald.annee_fin.isnull() | (ald.annee_fin >= y)))
        agg = {k: ibis.ifelse(cur.num_ald.isin(list(i.codes)) if i.codes else cur.num_ald.notnull(), 1, 0).max()
               for k, i in ald_specs.items()}
        per_ben = cur.group_by(cur.ben_id.name("aid")).aggregate(**agg)
        pop = pop.left_join(per_ben, pop.ben_id == per_ben.aid).drop("aid")
    band = _band_expr(pop.age, catalogue.bands)
    metrics = {}
    for i in inds:
        cond = pop.ben_id.notnull()
        if i.age_min is not None:
            cond &= pop.age >= int(i.age_min)
        if i.age_max is not None:
            cond &= pop.age <= int(i.age_max)
        if i.sex is not None:
            cond &= pop.sexe == int(i.sex)
        if i.kind == "soins":
            case = pop[i.care_key].fill_null(0) >= i.at_least
        elif i.kind == "ald":
            case = pop[i.ald_key].fill_null(0) >= 1
        else:
            case = pop[i.status].fill_null(False)
        metrics[f"den_{i.id}"] = ibis.ifelse(cond, 1, 0).sum().cast("int64")
        metrics[f"num_{i.id}"] = ibis.ifelse(cond & case, 1, 0).sum().cast("int64")
    expr = pop.group_by([*[pop[c] for c in geo], band.name("classe_age")]).aggregate(**metrics)
    out = con.execute(expr)
    out = out.sort_values([*geo, "classe_age"], na_position="first").reset_index(drop=True)
    for c in metrics:
        out[c] = out[c].astype("int64")
    return out


# --------------------------------------------------------------------------- extract table
EXTRACT_HEADER = ["niveau", "code_territoire", "libelle_territoire", "indicateur", "libelle_indicateur", "annee",
                  "classe_age", "sexe", "numerateur", "denominateur", "valeur", "ic_bas", "ic_haut", "unite",
                  "source", "masque"]


def _rollup(cells: pd.DataFrame, catalogue: RecordCatalogue) -> pd.DataFrame:
    num_cols = [c for c in cells.columns if c.startswith(("den_", "num_"))]
    parts = []
    for level, col in catalogue.levels.items():
        sub = cells if col is None else cells[cells[col].notna()]
        key = ["classe_age"] if col is None else [col, "classe_age"]
        g = sub.groupby(key, sort=True)[num_cols].sum().reset_index()
        g.insert(0, "code_territoire", "FR" if col is None else g.pop(col).astype(str))
        g.insert(0, "niveau", level)
        parts.append(g)
    return pd.concat(parts, ignore_index=True)


def records_extract(cells: pd.DataFrame, catalogue: RecordCatalogue, *, threshold: int = 11,
                    names: dict | None = None, source: str = "données individuelles", conf_level=0.95) -> pd.DataFrame:
    """The extract table from the cell counts of :func:`count_records`.

    Parameters
    ----------
    cells : DataFrame
    catalogue : RecordCatalogue
    threshold : int, default 11
        Statistical secrecy: a row whose numerator, or denominator minus numerator, lies in
        ``1 … threshold - 1``, or whose denominator is below ``threshold``, is masked (its
        numerator, value and limits are blank and ``masque`` says « <11 »).  Standardised rates
        need every age band unmasked.
    names : dict, optional
        Territory code → label (e.g. the project's quartiers).
    source : str
    conf_level : float, default 0.95

    Returns
    -------
    pandas.DataFrame
        Columns :data:`EXTRACT_HEADER`; one ``Ensemble`` row per territory × indicator and, for
        ``dsr`` indicators, one row per age band.  ``valeur`` is on the unit's scale (84,0 for
        84 %).

    Notes
    -----
    Proportions: :math:`100\\,x/n` with Wilson limits (:func:`proportion_ci`); ``dsr``
    indicators: the age-band rows carry :math:`x_i, n_i`, the ``Ensemble`` row the directly
    standardised rate on the European Standard Population 2013 with Dobson limits
    (:func:`dsr`).  Masking is primary only: the complement rule blocks the obvious
    subtraction within a row, not differences between nested territories.
    """
    names = names or {}
    tall = _rollup(cells, catalogue)
    tok = f"<{threshold}"
    weights = standard_population("esp2013", catalogue.bands)    # read once, not once per territory
    rows = []
    for ind in catalogue.indicators:
        mult = _MULT[ind.unit]
        base = tall[["niveau", "code_territoire", "classe_age"]].assign(
            numerateur=tall[f"num_{ind.id}"].astype(float), denominateur=tall[f"den_{ind.id}"].astype(float))
        tot = base.groupby(["niveau", "code_territoire"], sort=False)[["numerateur", "denominateur"]].sum().reset_index()
        tot["classe_age"] = "Ensemble"
        blocks = [tot]
        if ind.method == "dsr":
            blocks.append(base)
        frame = pd.concat(blocks, ignore_index=True)
        x, n = frame["numerateur"], frame["denominateur"]
        small = ((x > 0) & (x < threshold)) | ((n - x > 0) & (n - x < threshold)) | (n < threshold)
        frame["masque"] = np.where(small, tok, "")
        frame["valeur"] = frame["ic_bas"] = frame["ic_haut"] = np.nan
        ok = ~small & (n > 0)
        if ok.any():
            ci = proportion_ci(frame[ok], "numerateur", "denominateur", conf_level=conf_level, multiplier=mult)
            frame.loc[ok, ["valeur", "ic_bas", "ic_haut"]] = ci[["estimate", "ci_low", "ci_high"]].to_numpy()
        if ind.method == "dsr":
            bands = frame[frame["classe_age"] != "Ensemble"]
            blocked = bands[bands["masque"] != ""].groupby(["niveau", "code_territoire"]).size()
            good = bands.set_index(["niveau", "code_territoire"]).drop(index=blocked.index, errors="ignore").reset_index()
            good = good[good["denominateur"] > 0]
            whole = good.groupby(["niveau", "code_territoire"])["classe_age"].transform("size") == len(catalogue.bands)
            good = good[whole]
            is_tot = frame["classe_age"] == "Ensemble"
            frame.loc[is_tot, ["valeur", "ic_bas", "ic_haut"]] = np.nan
            if len(good):
                res = dsr(good, "numerateur", "denominateur", "classe_age", by=["niveau", "code_territoire"],
                          stdpop=weights, conf_level=conf_level, multiplier=mult)
                key = frame.loc[is_tot].merge(res, on=["niveau", "code_territoire"], how="left")
                frame.loc[is_tot, ["valeur", "ic_bas", "ic_haut"]] = key[["estimate", "ci_low", "ci_high"]].to_numpy()
        frame.loc[small, ["numerateur", "valeur", "ic_bas", "ic_haut"]] = np.nan
        frame.loc[frame["denominateur"] < threshold, "denominateur"] = np.nan
        frame["indicateur"], frame["libelle_indicateur"], frame["unite"] = ind.id, ind.label, ind.unit
        rows.append(frame)
    out = pd.concat(rows, ignore_index=True)
    codes = out["code_territoire"].astype(object)
    out["libelle_territoire"] = codes.map({**{"FR": "France"}, **names}).fillna(codes)
    out["annee"] = str(catalogue.year)
    out["sexe"] = "Ensemble"
    out["source"] = source
    order = {lv: k for k, lv in enumerate(_LEVELS)}
    out["_o"] = out["niveau"].map(order)
    out["_b"] = out["classe_age"].map({b: k + 1 for k, b in enumerate(catalogue.bands)}).fillna(0)
    out = out.sort_values(["indicateur", "_o", "code_territoire", "_b"], kind="stable")
    return out[EXTRACT_HEADER].reset_index(drop=True)


def write_records_extract(table: pd.DataFrame, path) -> Path:
    """Write the extract as the ORS files are written (``;``, decimal comma, UTF-8 with BOM),
    masked cells as their token so that :func:`~diagnostics.collect.extracts.read_extract` reads
    them as masked."""
    from ..io.spreadsheet import write_csv
    t = table.copy().astype({"numerateur": object, "valeur": object, "denominateur": object})
    m = t["masque"] != ""
    for c in ("numerateur", "valeur"):
        t.loc[m, c] = t.loc[m, "masque"]
    t.loc[t["denominateur"].isna(), "denominateur"] = "s"
    for c in ("numerateur", "denominateur"):
        t[c] = t[c].map(lambda v: str(int(v)) if isinstance(v, float) and not math.isnan(v) else v)
    for c in ("valeur", "ic_bas", "ic_haut"):      # decimal comma by hand: the column mixes tokens
        t[c] = t[c].map(lambda v: repr(float(v)).replace(".", ",") if isinstance(v, float) and not math.isnan(v)
                        else ("" if isinstance(v, float) else v))
    t = t.drop(columns="masque")
    return write_csv(t, path, index=False)
