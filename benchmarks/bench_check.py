"""Benchmark ``dls check`` on 10^4, 10^5 and 10^6 rows of the sample's columns.

One command::

    python benchmarks/bench_check.py            # 10^4, 10^5, 10^6 rows
    python benchmarks/bench_check.py 10000      # chosen sizes

The file is the shipped synthetic sample repeated with new identifiers.  For each size it
prints the time and peak memory of the command ``dls check FILE --rapport R`` with its default
limits (in a child process, so that the peak is that of the check alone), and the ratio to ``pandas.read_csv`` of the same file
measured in the same run.  Bar (issues 13, 28): 10^6 rows accepted by the command's default limits, in ≤ 60 s, ≤ 2 GB,
≤ 5× read_csv.

Measured on the idle 2-core machine, 2 December 2026 (fresh run after the survey engine's
rewrite; under load, average ≈ 9, 10^6 rows took 26.2 s)::

       lignes  check (s)  pic (Mo) read_csv (s)  ratio
        10000       0.50        88         0.05    9.4   (fixed costs: questionnaire, report)
       100000       1.99       208         0.63    3.2
      1000000      20.46      1402         5.50    3.7   (was > 80 min before)

7 December 2026 (issue 28: the command itself, default limits; 10^6 rows × 92 columns = 92 million
cells had been refused by the 50 million cells limit), machine under heavy load (load average
≈ 12 on 2 cores, read_csv 12× slower than idle)::

       lignes  check (s)  pic (Mo) read_csv (s)  ratio  lues/acceptées/rejetées
        10000       2.60       187         0.45    5.8  10000 10000 0
      1000000     108.37      1641        65.61    1.7  1000000 1000000 0

Same day, after the merge of issue 28's branches, load average ≈ 4 (read_csv still ≈ 4× slower
than idle)::

       lignes  check (s)  pic (Mo) read_csv (s)  ratio  lues/acceptées/rejetées
      1000000      34.55      1648        24.67    1.4  1000000 1000000 0
"""
from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = r"""
import contextlib, io, re, resource, sys, time
from pathlib import Path
import pandas as pd
from diagnostics.cli import main
t0 = time.perf_counter()          # imports excluded, for both
if sys.argv[1] == "check":        # the command itself, with its default limits
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        try:
            main(["check", sys.argv[2], "--rapport", sys.argv[3]])
        except SystemExit as exc:
            code = exc.code
    m = re.search(r"(\S+) lignes lues, (\S+) acceptées, (\S+) rejetée", out.getvalue().replace(" ", ""))
    if code not in (0, 1) or m is None:
        sys.exit(f"dls check a échoué (code {code}) : {out.getvalue()}")
    extra = " ".join(m.groups())
else:
    df = pd.read_csv(sys.argv[2], sep=";", dtype=str, keep_default_na=False, encoding="cp1252")
    extra = f"{len(df)} 0 0"
dt = time.perf_counter() - t0
print(dt, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, extra)
"""


def make_file(n: int, folder: Path) -> Path:
    """The sample repeated to ``n`` rows (as the analyst's Excel writes it), identifiers made unique."""
    import csv
    import io

    from diagnostics import paths

    text = (paths.EXAMPLE / "reponses_synthetiques.csv").read_bytes().decode("cp1252")
    records = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    header, body = records[0], [r for r in records[1:] if r and r[0]]
    out = folder / f"reponses_{n}.csv"
    with open(out, "w", encoding="cp1252", newline="") as fh:
        w = csv.writer(fh, delimiter=";", lineterminator="\r\n")
        w.writerow(header)
        for i in range(n):
            w.writerow([f"B{i:07d}", *body[i % len(body)][1:]])
    return out


def run(kind: str, csv: Path, report: Path) -> tuple[float, float, str]:
    proc = subprocess.run([sys.executable, "-c", CHILD, kind, str(csv), str(report)], capture_output=True,
                          text=True)
    if proc.returncode:
        sys.exit(proc.stderr)
    out = proc.stdout.split()
    return float(out[0]), float(out[1]), " ".join(out[2:])


def main(sizes: list[int]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        print(f"{'lignes':>9} {'check (s)':>10} {'pic (Mo)':>9} {'read_csv (s)':>12} {'ratio':>6}  lues/acceptées/rejetées")
        for n in sizes:
            csv = make_file(n, folder)
            t_pd, _, _ = run("pandas", csv, folder / "x.xlsx")
            t, peak, counts = run("check", csv, folder / f"controle_{n}.xlsx")
            print(f"{n:>9} {t:>10.2f} {peak:>9.0f} {t_pd:>12.2f} {t / t_pd:>6.1f}  {counts}", flush=True)


if __name__ == "__main__":
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sizes", nargs="*", type=int, default=[10_000, 100_000, 1_000_000],
                    help="numbers of rows (default 10^4, 10^5, 10^6)")
    main(ap.parse_args().sizes)
