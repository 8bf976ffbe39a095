"""The counts of every indicator at every territory level, computed by the engine.

:func:`count_records` compiles the catalogue (:mod:`.grammar`) into **one** Ibis plan run by
DuckDB or Spark, which writes the SQL of each — there is no second implementation:

1. each table of care lines is read once, restricted to the years and to the lines that some
   rule can count (the OR of every rule's filters), and reduced to one row per beneficiary with
   one column per distinct rule (number of lines, or of distinct dates);
2. the ALD in progress in the year, one column per distinct list of numbers;
3. the beneficiaries alive on 1 January and resident, joined to these, give the counts per finest
   cell (every level's column × age band), one sum per **distinct** population and per distinct
   (population, case) pair — thirteen indicators over one population need fewer sums;
4. that small table is kept by the engine (a temporary table, a cached DataFrame) and rolled up
   by one aggregate over GROUPING SETS — each level × (age band, « Ensemble »), and the finest
   geography for the nested-territory secrecy: only the published cells reach the driver
   (through Arrow on Spark).
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ...collect.extracts import parse_age_band
from .grammar import Ald, AllOf, AnyOf, Lines, RecordCatalogue, Status
from .inputs import read_table

__all__ = ["RecordCounts", "count_records", "ENSEMBLE"]

ENSEMBLE = "Ensemble"
FRANCE_CODE = "FR"


@dataclass
class RecordCounts:
    """What the engine returns.

    Attributes
    ----------
    table : DataFrame
        ``niveau``, ``code_territoire``, ``classe_age`` (each band and « Ensemble »), then
        ``den_<id>`` and ``num_<id>`` (int64) per indicator; sorted, so two engines give the same
        frame.
    geography : DataFrame
        The distinct combinations of the level columns among the counted beneficiaries (which
        territory lies in which), for the secrecy of nested territories.
    """

    table: pd.DataFrame
    geography: pd.DataFrame


def _year_of(col):
    t = col.type()
    return col.year() if (t.is_date() or t.is_timestamp()) else col.cast("int32")


def _in_years(col, first: int, last: int):
    import ibis
    t = col.type()
    if t.is_date():
        return col.between(ibis.date(first, 1, 1), ibis.date(last, 12, 31))
    if t.is_timestamp():
        return (col >= ibis.timestamp(first, 1, 1, 0, 0, 0)) & (col < ibis.timestamp(last + 1, 1, 1, 0, 0, 0))
    return col.cast("int32").between(first, last)


def _typed(col, values):
    t = col.type()
    if t.is_integer():
        return [int(v) for v in values]
    if t.is_floating() or t.is_decimal():
        return [float(v) for v in values]
    return [str(v) for v in values]


def _filter(col, op, values):
    if op == "commence_par":
        col = col.cast("string")
        out = None
        for v in values:
            cond = col.startswith(str(v))
            out = cond if out is None else out | cond
        return out
    if op == "entre":
        lo, hi = _typed(col, values)
        return col.between(lo, hi)
    inside = col.isin(_typed(col, values))
    return inside if op == "dans" else (col.isnull() | ~inside)


def _walk(rule):
    yield rule
    if isinstance(rule, AnyOf | AllOf):
        for r in rule.rules:
            yield from _walk(r)


class _Plan:
    """The Ibis expressions of one catalogue on one engine."""

    def __init__(self, con, data, cat: RecordCatalogue):
        self.con, self.data, self.cat = con, data, cat
        self.keys = {}                         # rule → column of the per-beneficiary table

    def read(self, name):
        tm = self.cat.table(name)
        return read_table(self.con, self.data, name, tm.source, metastore=tm.metastore), tm.col

    def rules(self):
        out = []
        for ind in self.cat.indicators:
            for root in (ind.within, ind.case):
                if root is not None:
                    out.extend(r for r in _walk(root) if r not in out)
        return out

    def line_counts(self, table: str, specs: list[Lines]):
        import ibis
        t, col = self.read(table)
        y = self.cat.year
        date = t[col("date")]
        wanted = None
        conds = {}
        for s in specs:
            c = _in_years(date, y + s.start, y + s.end)
            for name, op, values in s.filters:
                c &= _filter(t[col(name)], op, values)
            conds[s] = c
            wanted = c if wanted is None else wanted | c
        lines = t.filter(wanted)
        aggs = {}
        for k, s in enumerate(specs):
            key = f"{table}_{k}"
            self.keys[s] = key
            aggs[key] = (date.nunique(where=conds[s]) if s.count == "dates"
                         else ibis.ifelse(conds[s], 1, 0).sum()).cast("int64")
        return lines.group_by(lines[col("id")].name("_id")).aggregate(**aggs)

    def ald_counts(self, specs: list[Ald]):
        import ibis
        t, col = self.read("ald")
        y = self.cat.year
        end = t[col("fin")]
        cur = t.filter((_year_of(t[col("debut")]) <= y) & (end.isnull() | (_year_of(end) >= y)))
        num = cur[col("numero")]
        aggs = {}
        for k, s in enumerate(specs):
            key = f"ald_{k}"
            self.keys[s] = key
            aggs[key] = ibis.ifelse(num.isin(_typed(num, s.numbers)) if s.numbers else num.notnull(), 1, 0).max()
        return cur.group_by(cur[col("id")].name("_id")).aggregate(**aggs)

    def population(self):
        """The beneficiaries counted (alive on 1 January, resident) with one column per rule."""
        import ibis
        ben, col = self.read("beneficiaires")
        y = self.cat.year
        death = ben[col("deces")]
        resident = [lv.column for lv in self.cat.levels if lv.column][-1]       # the widest level known
        pop = ben.filter(ben[resident].notnull() & (death.isnull() | (_year_of(death) >= y)))
        pop = pop.mutate(_age=ibis.literal(y) - _year_of(pop[col("naissance")]), _sexe=pop[col("sexe")].cast("int8"))
        rules = self.rules()
        by_table = {}
        for r in rules:
            if isinstance(r, Lines):
                by_table.setdefault(r.table, []).append(r)
        parts = [self.line_counts(t, specs) for t, specs in by_table.items()]
        alds = [r for r in rules if isinstance(r, Ald)]
        if alds:
            parts.append(self.ald_counts(alds))
        for part in parts:
            pop = pop.left_join(part, pop[col("id")] == part._id).drop("_id")
        return pop

    def case(self, pop, rule):
        if isinstance(rule, Lines):
            return pop[self.keys[rule]].fill_null(0) >= rule.at_least
        if isinstance(rule, Ald):
            return pop[self.keys[rule]].fill_null(0) >= 1
        if isinstance(rule, Status):
            return pop[self.cat.statuses[rule.name]].cast("boolean").fill_null(False)
        conds = [self.case(pop, r) for r in rule.rules]
        out = conds[0]
        for c in conds[1:]:
            out = (out | c) if isinstance(rule, AnyOf) else (out & c)
        return out

    def metrics(self, pop):
        """One sum per distinct population and (population, case); the indicator → sum names."""
        import ibis
        sums, names = {}, {}
        for ind in self.cat.indicators:
            den_key = (ind.age_min, ind.age_max, ind.sex, ind.within)
            num_key = (den_key, ind.case)
            for key, cond_of in ((den_key, None), (num_key, ind.case)):
                if key in sums:
                    continue
                cond = pop[self.cat.table("beneficiaires").col("id")].notnull()
                if ind.age_min is not None:
                    cond &= pop._age >= ind.age_min
                if ind.age_max is not None:
                    cond &= pop._age <= ind.age_max
                if ind.sex is not None:
                    cond &= pop._sexe == ind.sex
                if ind.within is not None:
                    cond &= self.case(pop, ind.within)
                if cond_of is not None:
                    cond &= self.case(pop, cond_of)
                sums[key] = (f"m{len(sums)}", ibis.ifelse(cond, 1, 0).sum().cast("int64"))
            names[ind.id] = (sums[den_key][0], sums[num_key][0])
        return dict(sums.values()), names


def _band_expr(age, bands):
    import ibis
    expr = ibis.literal(bands[-1])
    for label in reversed(bands[:-1]):
        expr = ibis.ifelse(age <= int(parse_age_band(label)[1]), label, expr)
    return expr


def _run_sql(con, sql: str) -> pd.DataFrame:
    """Run SQL written in DuckDB's dialect: Ibis (sqlglot) writes it for Spark and the result
    comes through Arrow; on DuckDB straight through its connection (Ibis 12's ``con.sql`` calls
    a cursor method DuckDB 2 no longer has)."""
    if con.name == "pyspark":
        return con.to_pyarrow(con.sql(sql, dialect="duckdb")).to_pandas()
    return con.raw_sql(sql).df()


def _rollup(con, cells, cat: RecordCatalogue, metric_names):
    """One aggregate by GROUPING SETS over the kept finest cells, each level × (band,
    « Ensemble »), returned as ``niveau, code_territoire, classe_age`` and the sums; then the
    finest geography.  Written once in DuckDB's dialect; Ibis (sqlglot) writes it for Spark."""
    geo = [lv for lv in cat.levels if lv.column]
    q, lit = '"{}"'.format, "'{}'".format
    band = q("classe_age")
    sets = [f"({q(lv.column)}, {band})" for lv in geo] + [f"({q(lv.column)})" for lv in geo] + [f"({band})", "()"]
    france = next((lv.name for lv in cat.levels if lv.column is None), None)
    when = " ".join(f"WHEN GROUPING({q(lv.column)}) = 0 THEN {{}}" for lv in geo)
    level = "CASE " + when.format(*(lit(lv.name.replace("'", "''")) for lv in geo)) + f" ELSE {lit(france)} END"
    code = "CASE " + when.format(*(f"CAST({q(lv.column)} AS VARCHAR)" for lv in geo)) + f" ELSE {lit(FRANCE_CODE)} END"
    sums = [f"CAST(SUM({q(m)}) AS BIGINT) AS {q(m)}" for m in metric_names]
    sql = (f"SELECT * FROM (SELECT {level} AS niveau, {code} AS code_territoire, "
           f"CASE WHEN GROUPING({band}) = 1 THEN {lit(ENSEMBLE)} ELSE {band} END AS classe_age, {', '.join(sums)} "
           f"FROM {q(cells.op().name)} GROUP BY GROUPING SETS ({', '.join(sets)})) AS r "
           f"WHERE code_territoire IS NOT NULL" + ("" if france else f" AND niveau IS NOT NULL"))
    table = _run_sql(con, sql)
    for k in ("niveau", "code_territoire", "classe_age"):
        table[k] = table[k].astype("category")
    geography = _run_sql(con, f"SELECT DISTINCT {', '.join(q(lv.column) for lv in geo)} FROM {q(cells.op().name)}")
    return table, geography


def _keep(con, expr):
    """The finest cells kept by the engine for the roll-up: a temporary table (DuckDB), a cached
    DataFrame (Spark); and how to let them go."""
    if con.name == "pyspark":
        kept = expr.cache()
        return kept, kept.release
    import uuid
    name = f"dls_cells_{uuid.uuid4().hex}"
    kept = con.create_table(name, expr, temp=True)
    return kept, lambda: con.raw_sql(f'DROP TABLE IF EXISTS "{name}"')


def count_records(con, data, catalogue: RecordCatalogue) -> RecordCounts:
    """Counts of every indicator at every level and age band, computed by the engine ``con``.

    Parameters
    ----------
    con : ibis backend
        From :func:`~diagnostics.stats.records.inputs.connect`.
    data : path-like or str
        The folder or URI under which the tables' sources are read.
    catalogue : RecordCatalogue

    Returns
    -------
    RecordCounts
    """
    plan = _Plan(con, data, catalogue)
    pop = plan.population()
    metrics, names = plan.metrics(pop)
    geo = [lv.column for lv in catalogue.levels if lv.column]
    band = _band_expr(pop._age, catalogue.bands).name("classe_age")
    cells, release = _keep(con, pop.group_by([*(pop[c] for c in geo), band]).aggregate(**metrics))
    try:
        table, geography = _rollup(con, cells, catalogue, list(metrics))
    finally:
        release()
    order = {lv.name: k for k, lv in enumerate(catalogue.levels)}
    band_order = {b: k + 1 for k, b in enumerate(catalogue.bands)}
    table = table.assign(_o=table["niveau"].map(order).astype(int),
                         _b=table["classe_age"].map(band_order).astype(float).fillna(0))
    table = table.sort_values(["_o", "code_territoire", "_b"], kind="stable").drop(columns=["_o", "_b"])
    out = table[["niveau", "code_territoire", "classe_age"]].reset_index(drop=True)
    cols = {}
    for ind_id, (den, num) in names.items():
        cols[f"den_{ind_id}"] = table[den].fillna(0).to_numpy("int64")     # SUM over no row is NULL
        cols[f"num_{ind_id}"] = table[num].fillna(0).to_numpy("int64")
    out = pd.concat([out, pd.DataFrame(cols)], axis=1)
    geography = geography.sort_values(geo, na_position="first").reset_index(drop=True)
    return RecordCounts(out, geography)
