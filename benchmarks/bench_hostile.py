"""Time and peak memory of reading hostile answer files (issue 19).

Usage::

    .venv/bin/python benchmarks/bench_hostile.py

Builds, in a temporary folder, the 288 Ko workbook whose xl/sharedStrings.xml holds one text of
280 Mio (tests/test_hostile_trust2.py, ``huge_shared_string_xlsx``) and a 10 000-column CSV
export, and reads each in a fresh process, printing seconds and peak resident memory (Mo).
Measured on the 2-core development machine (December 2026), before → after issue 19: huge
shared string 165 s / 3 511 Mo → 0.14 s / 161 Mo (refused); 10 000 columns validated 12.7 s → 3.5 s
(the same run gives 14 s when the machine is loaded: compare runs made in the same minutes).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHILD = """
import json, os, resource, sys, time
os.environ.setdefault("DLS_SECRET", "bench")
from diagnostics.collect.validation import validate
t = time.perf_counter()
try:
    res = validate(sys.argv[1]); outcome = f"{res.n_accepted} lignes acceptées"
except Exception as exc:
    outcome = f"refusé : {type(exc).__name__}"
print(json.dumps({"seconds": time.perf_counter() - t, "outcome": outcome,
                  "peak_mo": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def main() -> None:
    sys.path.insert(0, str(ROOT / "tests"))
    from test_hostile_trust2 import _wide_csv, huge_shared_string_xlsx

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        files = {"texte partagé de 280 Mio (288 Ko)": huge_shared_string_xlsx(tmp / "geant.xlsx", 280 << 20),
                 "export de 10 000 colonnes": _wide_csv(tmp)[0]}
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        for label, path in files.items():
            out = subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True,
                                 env=env, check=True, cwd=tmp).stdout.strip().splitlines()[-1]
            r = json.loads(out)
            print(f"{label} : {r['seconds']:.2f} s, {r['peak_mo']:.0f} Mo au plus, {r['outcome']}")


if __name__ == "__main__":
    main()
