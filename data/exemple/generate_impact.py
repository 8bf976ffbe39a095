"""Generate the SYNTHETIC IMPACT sample files (données synthétiques, aucune personne réelle).

    .venv/bin/python data/exemple/generate_impact.py

Writes, next to this script:

* ``impact_suivi_synthetique.csv``: follow-up form export, long layout (one row per person
  and time), French Excel style (``;``, decimal comma, ``jj/mm/aaaa``, cp1252);
* ``impact_activite_synthetique.csv``: 2021 activity log (one row per consultation or
  referral), ``;``, UTF-8 with BOM.

Magnitudes follow the 2021 IMPACT evaluation (Pôle Santé Chambéry activity report,
section IV): 74 % of the overweight people followed decreased or stabilised their visceral fat
(45 % decreased); 82 % of the people asked attribute a positive effect on their mood; 92 %
at ease asking health professionals questions against 67 % before; 182 new referrals and the
consultation counts by type (115 ICA, 164 diététique, 204 psychologie, 4 neuropsychologie,
14 réflexologie, 36 tabacologie).  These per-type counts add up to 537, not to the 509
consultations announced by the report: the synthetic log follows the per-type counts.

The report gives no denominators; those chosen here (62 overweight people measured twice,
48 people answering the "at ease" question twice, 50 asked about mood) are invented.
Two invalid rows are included on purpose to show the reader's rejection list.
Seeded: rerunning gives byte-identical files.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
SEED = 2021

#: Consultation counts by type in the 2021 report (sum 537, report says 509).
CONSULTATIONS_2021 = {"ICA": 115, "Diététique": 164, "Psychologie": 204,
                      "Neuropsychologie": 4, "Réflexologie": 14, "Tabacologie": 36}
NEW_REFERRALS_2021 = 182


def _ids(rng, k, prefix):
    seen, out = set(), []
    while len(out) < k:
        s = prefix + "".join(rng.choice(list("0123456789ABCDEF"), 6))
        if s not in seen:
            seen.add(s)
            out.append(s)
    return out


def _date(d: dt.date) -> str:
    return d.strftime("%d/%m/%Y")


def _num(x) -> str:
    return "" if x is None else (f"{x:g}").replace(".", ",")


def followup(seed: int = SEED) -> pd.DataFrame:
    """Long-layout follow-up table (strings, as written in the CSV)."""
    rng = np.random.default_rng(seed)
    n = 80
    ids = _ids(rng, n + 2, "S")
    # persons 0..69 have a "après" row; 70..79 lost to follow-up
    # overweight: 0..61 (measured twice) and 70..75 (measured once)
    overweight = set(range(62)) | set(range(70, 76))
    changes = [-1] * 28 + [0] * 18 + [1] * 16        # 45 % down, 74 % down or stable
    changes = list(rng.permutation(changes))
    # at ease asking questions: 48 complete pairs a=31 (oui/oui) b=1 (oui→non) c=13 (non→oui) d=3
    pairs = [(1, 1)] * 31 + [(1, 0)] * 1 + [(0, 1)] * 13 + [(0, 0)] * 3
    pairs = list(rng.permutation(pairs))
    ease_people = sorted(rng.choice(70, 48, replace=False))
    mood = [1] * 41 + [0] * 9
    mood = list(rng.permutation(mood))
    mood_people = sorted(rng.choice(70, 50, replace=False))
    rows = []
    for i in range(n):
        start = dt.date(2020, 9, 1) + dt.timedelta(days=int(rng.integers(0, 300)))
        end = start + dt.timedelta(days=int(rng.integers(90, 270)))
        fat0 = fat1 = None
        if i in overweight:
            fat0 = float(rng.integers(9, 23)) + (0.5 if rng.random() < 0.25 else 0.0)
            if i < 62:
                step = changes[i]
                mag = float(rng.choice([0.5, 1, 1, 1.5, 2, 2, 3])) if step else 0.0
                fat1 = fat0 + step * mag
        e0 = e1 = None
        if i in ease_people:
            e0, e1 = pairs[ease_people.index(i)]
        elif i < 70 and rng.random() < 0.5:
            e0 = int(rng.random() < 0.6)       # asked before only
        m1 = mood[mood_people.index(i)] if i in mood_people else None
        yn = lambda v: "" if v is None else ("oui" if v else "non")  # noqa: E731
        rows.append({"id_personne": ids[i], "temps": "avant", "date_mesure": _date(start),
                     "surpoids": yn(i in overweight), "graisse_viscerale": _num(fat0),
                     "aise_questions": yn(e0), "effet_moral": ""})
        if i < 70:
            rows.append({"id_personne": ids[i], "temps": "après", "date_mesure": _date(end),
                         "surpoids": "", "graisse_viscerale": _num(fat1),
                         "aise_questions": yn(e1), "effet_moral": yn(m1)})
    # two invalid rows, on purpose: an impossible date and an unknown time
    rows.append({"id_personne": ids[n], "temps": "avant", "date_mesure": "31/02/2021",
                 "surpoids": "non", "graisse_viscerale": "", "aise_questions": "oui",
                 "effet_moral": ""})
    rows.append({"id_personne": ids[n + 1], "temps": "milieu", "date_mesure": "15/06/2021",
                 "surpoids": "oui", "graisse_viscerale": "14", "aise_questions": "",
                 "effet_moral": ""})
    order = rng.permutation(len(rows))
    return pd.DataFrame([rows[k] for k in order])


def activity(seed: int = SEED) -> pd.DataFrame:
    """2021 activity log: one row per referral (``Adressage``) or consultation."""
    rng = np.random.default_rng(seed + 1)
    new = _ids(rng, NEW_REFERRALS_2021 + 70, "P")
    referred, earlier = new[:NEW_REFERRALS_2021], new[NEW_REFERRALS_2021:]
    # monthly weights: activity recovering after the covid period, summer dip
    month_w = np.array([5, 6, 7, 8, 9, 9, 8, 5, 10, 11, 12, 10], float)
    month_w /= month_w.sum()
    rows = []
    pool = referred + earlier
    groups = {"ICA": 95, "Diététique": 52, "Psychologie": 48, "Neuropsychologie": 4,
              "Réflexologie": 5, "Tabacologie": 16}
    first = {}
    for kind, total in CONSULTATIONS_2021.items():
        people = list(rng.choice(pool, groups[kind], replace=False))
        counts = 1 + rng.multinomial(total - len(people), np.ones(len(people)) / len(people))
        for pid, k in zip(people, counts):
            for _ in range(int(k)):
                if kind == "Tabacologie":   # Mois sans tabac: October–December
                    m = int(rng.choice([10, 11, 11, 11, 12]))
                else:
                    m = int(rng.choice(12, p=month_w)) + 1
                d = dt.date(2021, m, int(rng.integers(1, 29)))
                first[pid] = min(first.get(pid, d), d)
                rows.append({"date": d, "type": kind, "id_personne": pid})
    for pid in referred:                    # referral on or before the first consultation
        if pid in first:
            d = max(dt.date(2021, 1, 1), first[pid] - dt.timedelta(days=int(rng.integers(0, 45))))
        else:
            d = dt.date(2021, int(rng.choice(12, p=month_w)) + 1, int(rng.integers(1, 29)))
        rows.append({"date": d, "type": "Adressage", "id_personne": pid})
    out = pd.DataFrame(rows).sort_values(["date", "id_personne", "type"], kind="stable")
    out["date"] = out["date"].map(_date)
    return out.reset_index(drop=True)


def main(folder: Path = HERE, seed: int = SEED) -> tuple[Path, Path]:
    """Write both synthetic files into ``folder``; return their paths."""
    folder = Path(folder)
    f1 = folder / "impact_suivi_synthetique.csv"
    f2 = folder / "impact_activite_synthetique.csv"
    followup(seed).to_csv(f1, sep=";", index=False, encoding="cp1252", lineterminator="\r\n")
    activity(seed).to_csv(f2, sep=";", index=False, encoding="utf-8-sig", lineterminator="\r\n")
    return f1, f2


if __name__ == "__main__":
    for p in main():
        print(f"écrit : {p}")
