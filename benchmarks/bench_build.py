"""Time the whole sample build (``dls build``) and each of its stages.

Usage::

    .venv/bin/python benchmarks/bench_build.py [--repetitions 3] [--sans-pdf]

Builds the embedded sample (synthetic data) into a temporary folder, ``--repetitions`` times,
and prints the seconds spent in each stage (kernel and Chromium start-up, each notebook, the
wait for the last PDFs) and in total, with the best and median of the runs.  Target: the
whole build under 15 s on a 2-core machine.  Results are also written to
``benchmarks/results/bench_build.json``.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LABELS = {
    "demarrage": "démarrage du noyau, de Chromium ; lecture des carnets",
    "01_verifier_reponses": "01 vérifier les réponses",
    "02_ponderer": "02 pondérer",
    "03_indicateurs": "03 indicateurs (+ secret statistique)",
    "04_livrable_quartier_biollay": "04 livrable Biollay",
    "04_livrable_quartier_hauts_de_chambery": "04 livrable Hauts-de-Chambéry",
    "04_livrable_quartier_bellevue": "04 livrable Bellevue",
    "05_synthese": "05 synthèse",
    "tableau_carnets": "tableau des indicateurs et carnets exécutés",
    "pdf_attente": "attente des derniers PDF (impression en parallèle)",
    "total": "TOTAL",
}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repetitions", type=int, default=3)
    ap.add_argument("--sans-pdf", action="store_true", help="ne pas imprimer les PDF")
    args = ap.parse_args(argv)

    from diagnostics.engine.build import build

    runs = []
    with tempfile.TemporaryDirectory(prefix="dls-bench-") as tmp:
        for i in range(args.repetitions):
            t0 = time.perf_counter()
            res = build(Path(tmp) / "livrables", pdf=not args.sans_pdf)
            wall = time.perf_counter() - t0
            runs.append({**res.timings, "mur": wall})
            print(f"essai {i + 1}/{args.repetitions} : {wall:.2f} s", flush=True)
    keys = [k for k in LABELS if k in runs[0]]
    print(f"\nConstruction complète de l'échantillon ({os.cpu_count()} cœurs, {args.repetitions} essais)")
    print(f"{'étape':<52}{'meilleur':>10}{'médiane':>10}")
    for k in keys:
        vals = [r[k] for r in runs]
        print(f"{LABELS[k]:<52}{min(vals):>9.2f}s{statistics.median(vals):>9.2f}s")
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench_build.json").write_text(json.dumps({"cpu_count": os.cpu_count(), "runs": runs}, indent=2),
                                          encoding="utf-8")
    best = min(r["total"] for r in runs)
    print(f"\nObjectif < 15 s : {'atteint' if best < 15 else 'NON atteint'} (meilleur essai {best:.2f} s).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
