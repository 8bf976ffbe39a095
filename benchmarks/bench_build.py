"""Time the whole build (``dls build``) of the example and of projects of 3, 10 and 30 quartiers.

Usage::

    .venv/bin/python benchmarks/bench_build.py [--quartiers 3 10 30] [--sans-pdf] [--exemple]

Each project is made by files only from the example (:mod:`scale_project`, about 134 answers
per quartier, the previous diagnostic cloned with them) and built once into a temporary folder.
For each size the script prints the wall time, the processor time of the build and of the
processes it started (kernel, Chromium), and the time of each stage; then the time per added
quartier between the two largest sizes, :math:`(T_{Q_2} - T_{Q_1}) / (Q_2 - Q_1)`, and the
growth exponent :math:`\\log(T_{Q_2} / T_{Q_1}) / \\log(Q_2 / Q_1)` (1 = linear).  Targets
(issue 31): 30 quartiers ≤ 40 s on 2 cores with the PDFs, ≤ 1 s per added quartier from 10
to 30; the example ≤ 5 s (issue 29).  Results are also written to
``benchmarks/results/bench_build.json``.  On a shared machine the wall time depends on the
load: the processor time is the figure to compare between runs.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import resource
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


def _one(projet: Path | None, out: Path, pdf: bool) -> dict:
    from diagnostics.engine.build import build

    cpu, t0 = _cpu(), time.perf_counter()
    res = build(out, projet, pdf=pdf)
    return {"mur": time.perf_counter() - t0, "cpu": _cpu() - cpu, **res.timings}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quartiers", type=int, nargs="+", default=[3, 10, 30])
    ap.add_argument("--sans-pdf", action="store_true", help="ne pas imprimer les PDF")
    ap.add_argument("--exemple", action="store_true", help="mesurer aussi l'exemple embarqué")
    args = ap.parse_args(argv)
    from scale_project import make_project

    runs: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="dls-bench-") as tmp:
        tmp = Path(tmp)
        if args.exemple:
            runs["exemple"] = _one(None, tmp / "exemple", not args.sans_pdf)
            print(f"exemple : {runs['exemple']['mur']:.1f} s (processeur {runs['exemple']['cpu']:.1f} s)", flush=True)
        for n in args.quartiers:
            projet = make_project(tmp / f"projet{n}", n)
            runs[str(n)] = _one(projet, tmp / f"livrables{n}", not args.sans_pdf)
            r = runs[str(n)]
            print(f"{n} quartiers : {r['mur']:.1f} s (processeur {r['cpu']:.1f} s ; carnet 03 "
                  f"{r.get('03_indicateurs', float('nan')):.1f} s ; attente PDF {r.get('pdf_attente', 0):.1f} s)",
                  flush=True)
    sizes = sorted(args.quartiers)
    if len(sizes) >= 2:
        q1, q2 = sizes[-2], sizes[-1]
        for key, label in (("mur", "temps écoulé"), ("cpu", "temps processeur")):
            t1, t2 = runs[str(q1)][key], runs[str(q2)][key]
            print(f"{label} : {(t2 - t1) / (q2 - q1):.2f} s par quartier ajouté de {q1} à {q2} ; "
                  f"exposant de croissance {math.log(t2 / t1) / math.log(q2 / q1):.2f}")
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench_build.json").write_text(json.dumps({"cpu_count": os.cpu_count(), "runs": runs}, indent=2),
                                          encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
