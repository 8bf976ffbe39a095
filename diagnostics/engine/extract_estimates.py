"""Extract side of the indicator table: one territory's rows of an ORS / Assurance Maladie extract → an estimate.

Counts of the producer (numerator, denominator per age band × sex), no survey design:
Wilson intervals for proportions, Byar's (or exact Poisson) intervals for crude rates, Dobson
intervals for directly age-standardised rates (:mod:`diagnostics.stats.rates`).  Used by the
indicator table (:mod:`diagnostics.engine.indicators`) and the yearly series of the extracts
(:mod:`diagnostics.engine.evolution`).
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..collect.values import normalise_label
from ..errors import DLSError
from ..stats.rates import dsr, proportion_ci, rate_ci, wilson_limits

__all__ = ["MULTIPLIERS", "ExtractEstimate", "Territories", "extract_estimate", "latest_year", "pick_territory",
           "sum_quartiers"]

#: Scale of each unit (proportions are stored on the 0–1 scale).
MULTIPLIERS = {"%": 1.0, "pour 1 000": 1e3, "pour 10 000": 1e4, "pour 100 000": 1e5, "ratio": 1.0}

def latest_year(years) -> str:
    """The latest of the extract's years (« 2021 », « 2019-2021 »: by first year, then the longest)."""
    return max(years, key=lambda y: (int(str(y)[:4]), len(str(y)), str(y)))


@functools.lru_cache(maxsize=4096)
def _name_without_note(name) -> str:
    """A territory's name without its trailing note: « Biollay (QPV, code illustratif) » → ``biollay``."""
    return normalise_label(re.sub(r"\s*\([^()]*\)\s*$", "", str(name)))


def pick_territory(rows: pd.DataFrame, level: str, code=None, label=None, city=None) -> pd.DataFrame:
    """Rows of one territory of ``level``: by code, else by label (:meth:`Territories.pick`)."""
    return Territories(rows, level).pick(code, label, city)


class Territories:
    """The rows of one level of an extract, split by territory once, to pick many territories.

    A territory is found by its code; else by its label, which matches a territory's name
    exactly once a trailing note in brackets is set aside (« Biollay » is « Biollay (QPV, code
    illustratif) », never « Biollay 2 »); a label that matches several territory codes is
    refused rather than summed.  With neither code nor label: the first territory, or the one
    named as ``city`` when the level holds several.
    """

    def __init__(self, rows: pd.DataFrame, level: str):
        r = rows[rows["level"] == level]
        self.level, self.none = level, r.iloc[0:0]
        self.by_code = {str(c): g for c, g in r.groupby("territory_code", sort=False)}
        self.names = {c: {_name_without_note(t) for t in g["territory"].unique()} for c, g in self.by_code.items()}

    def pick(self, code=None, label=None, city=None) -> pd.DataFrame:
        """Rows of the territory of ``code``, else of ``label``, else of ``city`` or the first one."""
        if not self.by_code:
            return self.none
        if code is not None and str(code) in self.by_code:
            return self.by_code[str(code)]
        if label is not None:
            codes = [c for c, names in self.names.items() if normalise_label(label) in names]
            if len(codes) > 1:
                raise DLSError(f"Le quartier « {label} » correspond à {len(codes)} territoires de niveau {self.level} "
                               f"de l'extrait (codes {', '.join(codes)}) : indiquez son code QPV (clé « qpv ») "
                               "dans projet.yaml pour choisir le bon.", value=label)
            return self.by_code[codes[0]] if codes else self.none
        if code is not None:
            return self.none
        if len(self.by_code) > 1 and city is not None:
            for g in self.by_code.values():
                hit = g[(g["territory"].map(normalise_label) == normalise_label(city)).to_numpy()]
                if len(hit):
                    return hit
        return next(iter(self.by_code.values()))


@dataclass
class ExtractEstimate:
    """An estimate from extract counts (NaN when not computable; ``note`` says why, in French)."""

    estimate: float = np.nan
    ci_low: float = np.nan
    ci_high: float = np.nan
    n: float = np.nan
    numerator: float = np.nan
    method: str = ""
    masked: bool = False
    note: str = ""


def extract_estimate(rows: pd.DataFrame, unit: str, method: str, confidence: float) -> ExtractEstimate:
    """Estimate from the rows of one territory (or the summed rows of several).

    ``method`` is ``wilson``, ``byar`` or ``dsr``; ``unit`` gives the multiplier.
    """
    mult = MULTIPLIERS.get(unit, 1.0)
    if method == "dsr":
        bands = rows[(rows["age_group"] != "Ensemble") & (rows["sex"] == "Ensemble")]
        if bands.empty:
            return ExtractEstimate(note="pas de ligne par classe d'âge dans l'extrait : taux standardisé impossible")
        if bands["masked"].any():
            tok = bands.loc[bands["masked"], "masked_token"].iloc[0]
            return ExtractEstimate(masked=True, note=f"effectif masqué par le producteur dans une classe d'âge (« {tok} »)")
        res = dsr(bands.reset_index(drop=True), "numerator", "denominator", "age_group", stdpop="esp2013",
                  conf_level=confidence, multiplier=mult).iloc[0]
        note = "" if pd.notna(res["estimate"]) else str(res["note"])
        return ExtractEstimate(res["estimate"], res["ci_low"], res["ci_high"], res["total_pop"], res["total_count"],
                    "Dobson (taux standardisé direct, population européenne 2013)", note=note)
    tot = rows[(rows["age_group"] == "Ensemble") & (rows["sex"] == "Ensemble")]
    if tot.empty:
        return ExtractEstimate(note="pas de ligne « Ensemble » (tous âges, deux sexes) dans l'extrait")
    if tot["masked"].any():
        tok = tot.loc[tot["masked"], "masked_token"].iloc[0]
        return ExtractEstimate(masked=True, note=f"valeur masquée par le producteur (secret statistique : « {tok} »)")
    x, n = tot["numerator"].sum(min_count=len(tot)), tot["denominator"].sum(min_count=len(tot))
    if pd.isna(x) or pd.isna(n) or n <= 0:
        if len(tot) == 1 and pd.notna(tot["value"].iloc[0]):
            v = float(tot["value"].iloc[0]) / (100.0 if unit == "%" else 1.0)
            return ExtractEstimate(v, method="valeur publiée (sans effectifs : pas d'intervalle)",
                        note="effectifs absents de l'extrait : intervalle de confiance non calculable")
        return ExtractEstimate(note="numérateur ou dénominateur absent de l'extrait")
    if method == "wilson" and 0 <= x <= n:    # one proportion: the limits directly
        lo, hi = wilson_limits(x, n, confidence)
        return ExtractEstimate(x / n * mult, lo * mult, hi * mult, n, x, "Wilson (proportion)")
    df = pd.DataFrame({"x": [x], "n": [n]})
    if method == "wilson":                     # proportion_ci says what is wrong
        res = proportion_ci(df, "x", "n", conf_level=confidence, multiplier=mult).iloc[0]
        meth = "Wilson (proportion)"
    else:
        res = rate_ci(df, "x", "n", conf_level=confidence, multiplier=mult).iloc[0]
        meth = f"{res['method']} (taux brut)"
    return ExtractEstimate(res["estimate"], res["ci_low"], res["ci_high"], n, x, meth)


def sum_quartiers(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Add the quartiers' rows key by key (age band × sex); a masked part masks the sum."""
    allrows = pd.concat(parts, ignore_index=True)
    out = []
    for (age, sex), g in allrows.groupby(["age_group", "sex"], sort=False):
        complete = len(g) == len(parts)
        masked = bool(g["masked"].any()) or not complete
        out.append(dict(age_group=age, sex=sex, numerator=g["numerator"].sum(min_count=len(g)),
                        denominator=g["denominator"].sum(min_count=len(g)), value=np.nan, masked=masked,
                        masked_token=(g.loc[g["masked"], "masked_token"].iloc[0] if g["masked"].any()
                                      else "quartier manquant" if not complete else "")))
    return pd.DataFrame(out)
