"""Time the whole build (``dls build``) of the example and of projects of 3, 10 and 30 quartiers.

Usage::

    .venv/bin/python benchmarks/bench_build.py [--quartiers 3 10 30] [--sans-pdf] [--exemple] [--repetitions 2]

Each project is made by files only from the example (:mod:`scale_project`, about 134 answers
per quartier, the previous diagnostic cloned with them) and built into a temporary folder.
For each size the script prints the wall time, the processor time of the build and of the
processes it started (kernel, Chromium), and the time of each stage; then the time per added
quartier between the two largest sizes, :math:`(T_{Q_2} - T_{Q_1}) / (Q_2 - Q_1)`, and the
growth exponent :math:`\\log(T_{Q_2} / T_{Q_1}) / \\log(Q_2 / Q_1)` (1 = linear).  Targets
(issue 31): 30 quartiers ≤ 40 s on 2 cores with the PDFs, ≤ 1 s per added quartier from 10
to 30; the example ≤ 5 s (issue 29).  Results are also written to
``benchmarks/results/bench_build.json``.

The speed of a shared virtual machine drifts by up to a quarter from one minute to the next, so
``--repetitions N`` (default 2) builds every size N times, the sizes in turn (3, 10, 30, 3, 10,
30…), and the figures above are computed on the medians: a drift then affects every size alike.
Each build also reports the processor time the whole system spent busy during it
(``/proc/stat``: the build, its kernel, Chromium and every process they start); half the busy
processor-seconds per added quartier is the floor of the time per added quartier on 2 cores.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]


def _cpu() -> float:
    """Processor seconds of this process and of its finished children (kernel, Chromium)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _busy() -> float:
    """Processor-seconds the whole system has spent busy since boot (Linux ``/proc/stat``), or NaN."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return float("nan")
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")   # less idle and iowait


def _one(projet: Path | None, out: Path, pdf: bool) -> dict:
    from diagnostics.engine.build import build

    cpu, busy, t0 = _cpu(), _busy(), time.perf_counter()
    res = build(out, projet, pdf=pdf)
    return {"mur": time.perf_counter() - t0, "cpu": _cpu() - cpu, "occupe": _busy() - busy, **res.timings}


def _median(runs: list[dict]) -> dict:
    """The median of each figure over repeated builds of one size."""
    return {k: statistics.median(r[k] for r in runs) for k in runs[0] if all(k in r for r in runs)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quartiers", type=int, nargs="+", default=[3, 10, 30])
    ap.add_argument("--sans-pdf", action="store_true", help="ne pas imprimer les PDF")
    ap.add_argument("--exemple", action="store_true", help="mesurer aussi l'exemple embarqué")
    ap.add_argument("--repetitions", type=int, default=2, help="constructions de chaque taille, en alternance")
    args = ap.parse_args(argv)
    from scale_project import make_project

    every: dict[str, list[dict]] = {}
    with tempfile.TemporaryDirectory(prefix="dls-bench-") as tmp:
        tmp = Path(tmp)
        projets = {n: make_project(tmp / f"projet{n}", n) for n in args.quartiers}
        for rep in range(max(1, args.repetitions)):
            if args.exemple:
                r = _one(None, tmp / "exemple", not args.sans_pdf)
                every.setdefault("exemple", []).append(r)
                print(f"exemple : {r['mur']:.1f} s (système occupé {r['occupe']:.1f} s processeur)", flush=True)
            for n in args.quartiers:
                r = _one(projets[n], tmp / f"livrables{n}", not args.sans_pdf)
                every.setdefault(str(n), []).append(r)
                print(f"{n} quartiers : {r['mur']:.1f} s (système occupé {r['occupe']:.1f} s processeur ; carnet 03 "
                      f"{r.get('03_indicateurs', float('nan')):.1f} s ; attente PDF {r.get('pdf_attente', 0):.1f} s)",
                      flush=True)
    runs = {k: _median(v) for k, v in every.items()}
    print("médianes : " + " ; ".join(f"{k} {v['mur']:.1f} s" for k, v in runs.items()))
    sizes = sorted(args.quartiers)
    if len(sizes) >= 2:
        q1, q2 = sizes[-2], sizes[-1]
        for key, label in (("mur", "temps écoulé"), ("occupe", "processeur occupé (tout le système)")):
            t1, t2 = runs[str(q1)][key], runs[str(q2)][key]
            print(f"{label} : {(t2 - t1) / (q2 - q1):.2f} s par quartier ajouté de {q1} à {q2} ; "
                  f"exposant de croissance {math.log(t2 / t1) / math.log(q2 / q1):.2f}")
        floor = (runs[str(q2)]["occupe"] - runs[str(q1)]["occupe"]) / (q2 - q1) / (os.cpu_count() or 1)
        print(f"plancher sur {os.cpu_count()} processeurs : {floor:.2f} s par quartier ajouté")
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench_build.json").write_text(json.dumps({"cpu_count": os.cpu_count(), "runs": runs, "every": every},
                                                     indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
