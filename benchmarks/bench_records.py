"""Benchmark of the indicators from individual records (issue 21): DuckDB, then Spark local.

Run:  .venv/bin/python benchmarks/bench_records.py [--beneficiaires 10000000] [--lignes 10]
                                                    [--dossier /tmp/dls_records] [--spark]

Generates (once, kept in ``--dossier``) the synthetic national tables — ``--beneficiaires``
beneficiaries, about ``--lignes`` care lines each (10 M × 10 ≈ 100 M lines), 1 500 QPV — then
computes every indicator of ``indicateurs_individuels.yaml`` (13) at every territory level
(QPV, commune, département, région, France) with the age-band rows of the standardised rate,
masking, Wilson and Dobson limits: the whole ``dls extraits-individuels``.  Each engine runs in
a child process so that its peak memory (``ru_maxrss`` of the child) is its own; for Spark the
time is reported and the JVM's memory is not (it is a grandchild the driver does not wait for).
Target (issue 21): DuckDB ≤ 120 s and ≤ 8 GB on 2 cores for 10 M × 100 M.  Results are
written to ``benchmarks/results/bench_records.json``.

Measured 2026-12-06 on 2 cores shared with other jobs (load average 9 to 14, so pessimistic):
10 M × 100 M — generation 159 s; DuckDB 204 s in all (query 102 s, roll-up/masking/Wilson/DSR
in pandas 98 s), peak 3.5 GB; target of 120 s not met under that load.  1 M × 10 M — DuckDB
109 s (query 28 s), 1.3 GB; Spark local[2] 289 s (query 175 s); the two CSV files identical.
After the vectorised ``dsr`` (same day, 2 cores shared with the test suite): 10 M × 100 M —
generation 28 s, DuckDB 83 s in all (query 53 s), peak 3.3 GB, 13 indicators × 36 157
territories (target met); 1 M × 10 M — DuckDB 28 s (query 6 s), 1.3 GB.
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


def _run_engine(engine: str, data: str, out: str, threads: int) -> dict:
    from diagnostics.stats.records import (connect, count_records, load_record_catalogue, records_extract,
                                           write_records_extract)
    cat = load_record_catalogue()
    t0 = time.perf_counter()
    if engine == "duckdb":
        con = connect("duckdb")
        con.raw_sql(f"SET threads = {threads}")
    else:
        con = connect("spark", master=f"local[{threads}]",
                      spark_conf={"spark.driver.memory": "6g", "spark.sql.shuffle.partitions": "16",
                                  "spark.ui.enabled": "false"})
    t_connect = time.perf_counter() - t0
    cells = count_records(con, data, cat)
    t_query = time.perf_counter() - t0 - t_connect
    table = records_extract(cells, cat)
    write_records_extract(table, out)
    total = time.perf_counter() - t0
    return {"engine": engine, "seconds_total": round(total, 2), "seconds_connect": round(t_connect, 2),
            "seconds_query": round(t_query, 2), "seconds_extract": round(total - t_connect - t_query, 2),
            "cells": len(cells), "rows": len(table), "indicators": len(cat.indicators),
            "territories": int(table["code_territoire"].nunique())}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--beneficiaires", type=int, default=10_000_000)
    ap.add_argument("--lignes", type=float, default=10.0)
    ap.add_argument("--dossier", default="/tmp/dls_records")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--spark", action="store_true", help="Spark local[threads] too")
    ap.add_argument("--_engine", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    data = Path(a.dossier) / f"n{a.beneficiaires}_l{a.lignes:g}"
    if a._engine:
        res = _run_engine(a._engine, str(data), str(data / f"extrait_{a._engine}.csv"), a.threads)
        res["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        print(json.dumps(res))
        return
    report = {"beneficiaires": a.beneficiaires, "lignes_par_beneficiaire": a.lignes, "threads": a.threads,
              "cpus": os.cpu_count()}
    if not (data / "soins.parquet").exists():
        from diagnostics.collect.records_synth import generate_records
        t0 = time.perf_counter()
        rp = generate_records(data, a.beneficiaires, a.lignes)
        report["generation"] = {"seconds": round(time.perf_counter() - t0, 1), "soins": rp.n_soins,
                                "ald": rp.n_ald}
        print(f"généré : {rp.n_beneficiaires} bénéficiaires, {rp.n_soins} lignes de soins, {rp.n_ald} ALD "
              f"en {report['generation']['seconds']} s", flush=True)
    for engine in ["duckdb"] + (["spark"] if a.spark else []):
        cmd = [sys.executable, __file__, "--beneficiaires", str(a.beneficiaires), "--lignes", str(a.lignes),
               "--dossier", a.dossier, "--threads", str(a.threads), "--_engine", engine]
        p = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if p.returncode:
            print(p.stderr[-3000:], file=sys.stderr)
            report[engine] = {"error": p.stderr[-500:]}
            continue
        res = json.loads(p.stdout.strip().splitlines()[-1])
        report[engine] = res
        print(f"{engine:7s} {res['seconds_total']:8.1f} s (requête {res['seconds_query']:.1f} s), "
              f"pic mémoire du processus {res['peak_rss_mb']:.0f} Mo, {res['rows']} lignes, "
              f"{res['indicators']} indicateurs × {res['territories']} territoires", flush=True)
    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    (out / "bench_records.json").write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
