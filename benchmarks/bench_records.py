"""Benchmark of the indicators from individual records (issues 21, 30): the whole
``dls extraits-individuels`` on DuckDB against one hand-written SQL query, then Spark local.

Run:  .venv/bin/python benchmarks/bench_records.py [--beneficiaires 10000000] [--lignes 10]
                    [--dossier /tmp/dls_records] [--communes 360] [--spark] [--sans-main]

Generates (once, kept in ``--dossier``) the synthetic national tables — ``--beneficiaires``
beneficiaries, about ``--lignes`` care lines each (10 M × 10 ≈ 100 M lines), 1 500 QPV,
``--communes`` communes per département (360: ~35 000 communes; 3 600 for the « ten times more
communes » geography) — then, each in a child process so that its peak memory (``ru_maxrss``) is
its own:

* ``duckdb``: every indicator of ``indicateurs_individuels.yaml`` (13) at every level (QPV,
  commune, département, région, France) with the age-band rows of the standardised rate,
  masking (primary and secondary), Wilson and Dobson limits, the CSV written: the command;
* ``main`` (the baseline): one SQL query written by hand below, run by DuckDB on the same files
  in the same run — the same 18 distinct sums by GROUPING SETS over the same levels and bands,
  fetched as a DataFrame; its counts are compared with the command's (``mismatches``);
* ``spark`` (``--spark``): the command on Spark ``local[threads]`` (time only: the JVM's memory is
  a grandchild's).

Bar (issue 30): at 10 M × 100 M, DuckDB within 1.5× the hand-written query's time and ≤ 4 GB;
with ten times more communes the driver ≤ 3 GB.  Results go to
``benchmarks/results/bench_records.json`` (one entry per data size and geography).

Measured 2026-12-07 on the shared 2 cores (load average 2–4 during these runs), 2 threads:

* 10 M × 103.5 M care lines, 36 170 territories: the command 10.6 s (query 8.4 s), peak 3.0 GB;
  the hand-written query 11.9 s, 3.3 GB — ratio 0.89×; 0 mismatches over 6 577 974 counts
  (252 999 cells × 13 indicators × numerator and denominator).
* 10 M, ten times more communes (346 627 territories, 6 129 048 rows written): 32.0 s, 3.3 GB
  (hand query 31.3 s, ratio 1.03×, 0 mismatches over 51 207 624 counts); with
  ``--memoire 1500MB`` 38.5 s and 2.7 GB.
* 10 M × 100 M on Spark local[2] (``--spark``, load average 5): 186.4 s (query 169.9 s), Python
  driver 633 MB; DuckDB 56.2 s in the same run; the two CSV files byte-identical.
* 1 M × 10 M: DuckDB 3.9 s, hand query 2.5 s (1.58×: fixed costs of the extract at this size),
  Spark local[2] 94.4 s (query 72.3 s); Spark's CSV byte-identical to DuckDB's.
* An earlier run of the same code at load average 15: 10 M, DuckDB 86.0 s against 132.9 s.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# Bands and sums of the default catalogue, written out by hand (not generated from it).
_HAND_SQL = """
WITH care AS (
  SELECT ben_id,
    SUM(CASE WHEN prestation = 'GEN' AND date_soins >= DATE '2021-01-01' THEN 1 ELSE 0 END) AS gen,
    SUM(CASE WHEN prestation = 'DEN' AND date_soins >= DATE '2021-01-01' THEN 1 ELSE 0 END) AS den,
    SUM(CASE WHEN prestation = 'URG' AND date_soins >= DATE '2021-01-01' THEN 1 ELSE 0 END) AS urg,
    SUM(CASE WHEN prestation = 'MAM' AND date_soins >= DATE '2020-01-01' THEN 1 ELSE 0 END) AS mam,
    SUM(CASE WHEN prestation = 'FCU' THEN 1 ELSE 0 END) AS fcu,
    SUM(CASE WHEN prestation = 'COL' AND date_soins >= DATE '2020-01-01' THEN 1 ELSE 0 END) AS col
  FROM read_parquet('{d}/soins.parquet')
  WHERE date_soins BETWEEN DATE '2019-01-01' AND DATE '2021-12-31'
    AND prestation IN ('GEN', 'DEN', 'URG', 'MAM', 'FCU', 'COL')
  GROUP BY ben_id),
ald AS (SELECT DISTINCT ben_id FROM read_parquet('{d}/ald.parquet')
        WHERE annee_debut <= 2021 AND (annee_fin IS NULL OR annee_fin >= 2021)),
pop AS (
  SELECT b.code_qpv, b.code_commune, b.code_departement, b.code_region, b.sexe, b.css, b.ame,
         b.medecin_traitant, 2021 - b.annee_naissance AS age,
         CASE WHEN 2021 - b.annee_naissance <= 14 THEN '0-14' WHEN 2021 - b.annee_naissance <= 29 THEN '15-29'
              WHEN 2021 - b.annee_naissance <= 44 THEN '30-44' WHEN 2021 - b.annee_naissance <= 59 THEN '45-59'
              WHEN 2021 - b.annee_naissance <= 74 THEN '60-74' ELSE '75+' END AS classe_age,
         coalesce(c.gen, 0) AS gen, coalesce(c.den, 0) AS den, coalesce(c.urg, 0) AS urg,
         coalesce(c.mam, 0) AS mam, coalesce(c.fcu, 0) AS fcu, coalesce(c.col, 0) AS col,
         a.ben_id IS NOT NULL AS has_ald
  FROM read_parquet('{d}/beneficiaires.parquet') b
  LEFT JOIN care c ON c.ben_id = b.ben_id LEFT JOIN ald a ON a.ben_id = b.ben_id
  WHERE b.code_region IS NOT NULL AND (b.annee_deces IS NULL OR b.annee_deces >= 2021))
SELECT code_qpv, code_commune, code_departement, code_region, classe_age,
  GROUPING(code_qpv) AS g_qpv, GROUPING(code_commune) AS g_com, GROUPING(code_departement) AS g_dep,
  GROUPING(code_region) AS g_reg, GROUPING(classe_age) AS g_age,
  COUNT(*) AS n_all,
  SUM((gen >= 1)::INT) AS gen1, SUM((gen >= 3)::INT) AS gen3, SUM((den >= 1)::INT) AS den1,
  SUM((age <= 14)::INT) AS n_child, SUM((age <= 14 AND den >= 1)::INT) AS den_child,
  SUM((urg >= 1)::INT) AS urg1,
  SUM((sexe = 2 AND age BETWEEN 50 AND 74)::INT) AS n_w5074,
  SUM((sexe = 2 AND age BETWEEN 50 AND 74 AND mam >= 1)::INT) AS mam1,
  SUM((sexe = 2 AND age BETWEEN 25 AND 65)::INT) AS n_w2565,
  SUM((sexe = 2 AND age BETWEEN 25 AND 65 AND fcu >= 1)::INT) AS fcu1,
  SUM((age BETWEEN 50 AND 74)::INT) AS n_5074, SUM((age BETWEEN 50 AND 74 AND col >= 1)::INT) AS col1,
  SUM(has_ald::INT) AS ald1, SUM(css::INT) AS css1, SUM(ame::INT) AS ame1,
  SUM((age >= 17)::INT) AS n_17, SUM((age >= 17 AND medecin_traitant)::INT) AS mt1
FROM pop
GROUP BY GROUPING SETS ((code_qpv, classe_age), (code_qpv), (code_commune, classe_age), (code_commune),
  (code_departement, classe_age), (code_departement), (code_region, classe_age), (code_region), (classe_age), ())
"""
#: hand column → (den, num) columns of the command's counts
_HAND_MAP = {"recours_generaliste": ("n_all", "gen1"), "recours_generaliste_std": ("n_all", "gen1"),
             "recours_generaliste_3": ("n_all", "gen3"), "recours_dentiste": ("n_all", "den1"),
             "recours_dentiste_enfants": ("n_child", "den_child"), "passage_urgences": ("n_all", "urg1"),
             "depistage_sein": ("n_w5074", "mam1"), "depistage_col_uterus": ("n_w2565", "fcu1"),
             "depistage_colorectal": ("n_5074", "col1"), "ald": ("n_all", "ald1"), "c2s": ("n_all", "css1"),
             "ame": ("n_all", "ame1"), "medecin_traitant": ("n_17", "mt1")}
_LEVEL_COLS = {"QPV": ("code_qpv", "g_qpv"), "commune": ("code_commune", "g_com"),
               "département": ("code_departement", "g_dep"), "région": ("code_region", "g_reg")}


def _hand_tall(res):
    """The hand query's rows in the command's shape (niveau, code_territoire, classe_age)."""
    import numpy as np
    import pandas as pd
    g = res[["g_qpv", "g_com", "g_dep", "g_reg"]].to_numpy() == 0
    parts = []
    for level, (col, flag) in {**_LEVEL_COLS, "France": (None, None)}.items():
        if col is None:
            rows = res[g.sum(axis=1) == 0]
            code = pd.Series("FR", index=rows.index)
        else:
            rows = res[(res[flag] == 0) & (g.sum(axis=1) == 1) & res[col].notna()]
            code = rows[col].astype(str)
        band = rows["classe_age"].where(rows["g_age"] == 0, "Ensemble")
        parts.append(pd.DataFrame({"niveau": level, "code_territoire": code, "classe_age": band,
                                   **{c: rows[c].to_numpy(np.int64) for c in res.columns[10:]}}))
    return pd.concat(parts, ignore_index=True)


def _mismatches(counts_csv: str, hand_csv: str) -> int:
    import pandas as pd
    ours = pd.read_parquet(counts_csv)
    hand = pd.read_parquet(hand_csv)
    key = ["niveau", "code_territoire", "classe_age"]
    m = ours.merge(hand, on=key, how="outer", indicator=True)
    bad = int((m["_merge"] != "both").sum())
    both = m[m["_merge"] == "both"]
    for ind, (den, num) in _HAND_MAP.items():
        bad += int((both[f"den_{ind}"] != both[den]).sum() + (both[f"num_{ind}"] != both[num]).sum())
    return bad


def _run_engine(engine: str, data: str, out: str, threads: int, memory: str | None = None) -> dict:
    from diagnostics.stats.records import (connect, count_records, load_record_catalogue, records_extract,
                                           write_records_extract)
    t0 = time.perf_counter()
    if engine == "main":
        import duckdb
        con = duckdb.connect()
        con.execute(f"SET threads = {threads}")
        res = con.execute(_HAND_SQL.format(d=data)).df()
        total = time.perf_counter() - t0
        _hand_tall(res).to_parquet(out)
        return {"engine": engine, "seconds_total": round(total, 2), "seconds_query": round(total, 2),
                "rows": len(res)}
    cat = load_record_catalogue()
    if engine == "duckdb":
        con = connect("duckdb", threads=threads, memory=memory)
    else:
        con = connect("spark", master=f"local[{threads}]",
                      spark_conf={"spark.driver.memory": "3g", "spark.sql.shuffle.partitions": "16",
                                  "spark.ui.enabled": "false"})
    t_connect = time.perf_counter() - t0
    counts = count_records(con, data, cat)
    t_query = time.perf_counter() - t0 - t_connect
    table = records_extract(counts, cat)
    write_records_extract(table, out)
    total = time.perf_counter() - t0
    counts.table.to_parquet(out + ".counts.parquet")
    return {"engine": engine, "seconds_total": round(total, 2), "seconds_connect": round(t_connect, 2),
            "seconds_query": round(t_query, 2), "seconds_extract": round(total - t_connect - t_query, 2),
            "rows": len(table), "indicators": len(cat.indicators),
            "territories": len(table[["niveau", "code_territoire"]].drop_duplicates()),
            "masked_secondary": int((table["masque"] == "s").sum())}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--beneficiaires", type=int, default=10_000_000)
    ap.add_argument("--lignes", type=float, default=10.0)
    ap.add_argument("--communes", type=int, default=360, help="communes per département")
    ap.add_argument("--dossier", default="/tmp/dls_records")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--spark", action="store_true", help="Spark local[threads] too")
    ap.add_argument("--memoire", default=None, help="DuckDB memory limit of the command (e.g. 2GB)")
    ap.add_argument("--sans-main", dest="no_main", action="store_true", help="skip the hand-written query")
    ap.add_argument("--_engine", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    data = Path(a.dossier) / f"n{a.beneficiaires}_l{a.lignes:g}_c{a.communes}"
    if a._engine:
        res = _run_engine(a._engine, str(data), str(data / f"extrait_{a._engine}.csv"), a.threads, a.memoire)
        res["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        print(json.dumps(res))
        return
    report = {"memoire_duckdb": a.memoire, "beneficiaires": a.beneficiaires, "lignes_par_beneficiaire": a.lignes, "communes_par_departement":
              a.communes, "threads": a.threads, "cpus": os.cpu_count(), "load_average": os.getloadavg()[0]}
    if not (data / "soins.parquet").exists():
        from diagnostics.collect.records_synth import generate_records, national_territories
        t0 = time.perf_counter()
        rp = generate_records(data, a.beneficiaires, a.lignes,
                              territories=national_territories(communes_per_departement=a.communes))
        report["generation"] = {"seconds": round(time.perf_counter() - t0, 1), "soins": rp.n_soins, "ald": rp.n_ald}
        print(f"généré : {rp.n_beneficiaires} bénéficiaires, {rp.n_soins} lignes de soins, {rp.n_ald} ALD "
              f"en {report['generation']['seconds']} s", flush=True)
    engines = ["duckdb"] + ([] if a.no_main else ["main"]) + (["spark"] if a.spark else [])
    for engine in engines:
        cmd = [sys.executable, __file__, "--beneficiaires", str(a.beneficiaires), "--lignes", str(a.lignes),
               "--communes", str(a.communes), "--dossier", a.dossier, "--threads", str(a.threads), "--_engine", engine,
               *(["--memoire", a.memoire] if a.memoire else [])]
        p = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if p.returncode:
            print(p.stderr[-3000:], file=sys.stderr)
            report[engine] = {"error": p.stderr[-500:]}
            continue
        res = json.loads(p.stdout.strip().splitlines()[-1])
        report[engine] = res
        print(f"{engine:7s} {res['seconds_total']:8.1f} s (requête {res['seconds_query']:.1f} s), "
              f"pic mémoire du processus {res['peak_rss_mb']:.0f} Mo, {res['rows']} lignes", flush=True)
    if "seconds_total" in report.get("main", {}) and "seconds_total" in report.get("duckdb", {}):
        report["ratio_duckdb_main"] = round(report["duckdb"]["seconds_total"] / report["main"]["seconds_total"], 2)
        report["mismatches"] = _mismatches(str(data / "extrait_duckdb.csv.counts.parquet"),
                                           str(data / "extrait_main.csv"))
        print(f"DuckDB / requête écrite à la main : {report['ratio_duckdb_main']}× ; "
              f"{report['mismatches']} écart(s) de comptage", flush=True)
    if "seconds_total" in report.get("spark", {}) and "seconds_total" in report.get("duckdb", {}):
        import filecmp
        report["spark_csv_identical"] = filecmp.cmp(data / "extrait_duckdb.csv", data / "extrait_spark.csv",
                                                    shallow=False)
    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    path = out / "bench_records.json"
    old = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    old = old if isinstance(old, dict) and "runs" in old else {"runs": {}}
    old["runs"][data.name + ("_spark" if a.spark else "") + (f"_mem{a.memoire}" if a.memoire else "")] = report
    path.write_text(json.dumps(old, indent=2, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
