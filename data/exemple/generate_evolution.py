"""Rebuild the example's previous diagnostic (2017) and the earlier extract years — SYNTHETIC.

    python data/exemple/generate_evolution.py

Writes, seeded (the same files every run):

* ``precedent/questionnaire_2017.yaml``: the current questionnaire as it was in 2017, with four
  changes a real update meets: ``renoncement`` was called ``renonce`` (renamed), the choices of
  ``sante_generale`` were numbered the other way round (1 = « Très mauvaise »: recoded),
  the question on feeling unsafe was worded differently (``modifiees``: not comparable) and
  ``qualite_air`` was not asked;
* ``precedent/reponses_2017.csv``: ~350 fictitious respondents of the same three quartiers,
  drawn by :func:`diagnostics.collect.sample.generate_answers` (seed 2017) with a different
  precarity per quartier, written with the 2017 names and codes;
* ``precedent/marges_2017.csv``: the 2017 margins (the current ones × 0,96, illustrative);
* extra rows in ``extraits_synthetiques.csv``: the years 2017 to 2020 of the quartiers' (QPV)
  rows of five extract indicators, drifting towards the 2021 value (source « synthétique (série) »;
  rerunning replaces them).

Nothing here describes real people or real territories.
"""
from __future__ import annotations

import copy
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from diagnostics.collect import sample
from diagnostics.config.questionnaire import load_questionnaire

SEED = 2017
PREV = HERE / "precedent"
SERIES_SOURCE = "synthétique (série)"
#: Yearly drift of the five indicators given as a series (points of % or per 1 000 per year).
SERIES = {"medecin_traitant": -1.2, "c2s": 0.9, "depistage_colorectal": -1.5, "recours_dentiste": 0.0,
          "passages_urgences": 25.0}


def previous_questionnaire() -> dict:
    cur = yaml.safe_load((HERE.parents[1] / "questionnaires" / "dls_habitants.yaml").read_text(encoding="utf-8"))
    old = copy.deepcopy(cur)
    old["version"] = "2017.1"
    old["title"] = cur["title"] + " (2017)"
    old["choice_lists"]["sante_generale_2017"] = list(reversed(
        [dict(c, code=6 - c["code"]) for c in cur["choice_lists"]["sante_generale"]]))
    for sec in old["sections"]:
        keep = []
        for q in sec["questions"]:
            if q["name"] == "qualite_air":
                continue
            if q["name"] == "renoncement":
                q["name"] = "renonce"
            if q["name"] == "sante_generale":
                q["choices"] = "sante_generale_2017"
            if q["name"] == "insecurite_quartier":
                q["label"] = "Vous sentez-vous en sécurité dans votre quartier le soir ?"
            if isinstance(q.get("relevant"), str):
                q["relevant"] = q["relevant"].replace("renoncement ==", "renonce ==")
            keep.append(q)
        sec["questions"] = keep
    return old


def previous_answers() -> pd.DataFrame:
    qn = load_questionnaire()
    saved = dict(sample.PRECARITY), dict(sample.SIZES)
    try:
        sample.PRECARITY.update({1: 0.50, 2: 0.45, 3: 0.30, 4: -0.3})
        sample.SIZES.update({1: 115, 2: 150, 3: 90, 4: 5})
        df = sample.generate_answers(SEED, qn)
    finally:
        sample.PRECARITY.clear(), sample.PRECARITY.update(saved[0])
        sample.SIZES.clear(), sample.SIZES.update(saved[1])
    df["date_reponse"] = df["date_reponse"].map(lambda d: None if d is None else d.replace(year=2017))
    df["id_questionnaire"] = df["id_questionnaire"].map(lambda v: f"2017-{v}")
    table = sample.to_french_csv_table(df, qn)
    table = table.drop(columns=["qualite_air"]).rename(columns={"renoncement": "renonce"})
    table["sante_generale"] = table["sante_generale"].map(lambda v: v if v in ("", "98") else str(6 - int(v)))
    return table


def previous_margins() -> pd.DataFrame:
    m = sample.population_margins()
    m["effectif"] = (m["effectif"] * 0.96 / 5).round().astype(int) * 5
    return m


def extract_years() -> None:
    path = HERE / "extraits_synthetiques.csv"
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    keep = [ln for ln in lines if not ln.rstrip().endswith(SERIES_SOURCE)]
    header = next(ln for ln in keep if ln.startswith("niveau;"))
    cols = header.split(";")
    rng = np.random.default_rng(SEED)
    new = []
    for ln in keep:
        v = dict(zip(cols, ln.split(";")))
        if v.get("niveau") != "QPV" or v.get("indicateur") not in SERIES or v.get("annee") != "2021":
            continue
        try:
            num, den = float(v["numerateur"]), float(v["denominateur"])
        except ValueError:      # masked by the producer in 2021: no series
            continue
        mult = 100.0 if v["unite"] == "%" else 1000.0
        for year in (2017, 2018, 2019, 2020):
            rate = num / den * mult - SERIES[v["indicateur"]] * (2021 - year)
            d = round(den * (1 - 0.01 * (2021 - year)))
            x = int(rng.binomial(d, min(max(rate / mult, 0.0), 1.0))) if v["unite"] == "%" else \
                int(rng.poisson(rate / mult * d))
            row = dict(v, annee=str(year), numerateur=str(x), denominateur=str(d),
                       valeur=f"{x / d * mult:.1f}".replace(".", ","), source=SERIES_SOURCE)
            new.append(";".join(row[c] for c in cols))
    path.write_bytes(("\ufeff" + "\r\n".join(keep + new) + "\r\n").encode("utf-8"))


def main() -> None:
    PREV.mkdir(exist_ok=True)
    head = ("# Questionnaire du diagnostic de 2017 — exemple SYNTHÉTIQUE écrit par "
            "data/exemple/generate_evolution.py (ne pas modifier à la main).\n")
    (PREV / "questionnaire_2017.yaml").write_text(
        head + yaml.safe_dump(previous_questionnaire(), allow_unicode=True, sort_keys=False, width=110),
        encoding="utf-8")
    sample.write_french_csv(previous_answers(), PREV / "reponses_2017.csv")
    previous_margins().to_csv(PREV / "marges_2017.csv", sep=";", index=False, encoding="utf-8")
    extract_years()
    print("écrit :", *(p.relative_to(HERE) for p in sorted(PREV.iterdir())), "extraits_synthetiques.csv")


if __name__ == "__main__":
    main()
