"""The IMPACT evaluation table: every result as one French line with n, value, CI and method."""
from __future__ import annotations

import pandas as pd

from ..fmt import interval, number, percent

__all__ = ["evaluation_table", "SMALL_N"]

#: Below this denominator a line is flagged « effectif faible : à interpréter avec prudence ».
SMALL_N = 30


def evaluation_table(*results, decimals: int = 0) -> pd.DataFrame:
    """Stack results into the French evaluation table.

    Parameters
    ----------
    *results
        :class:`ProportionResult`, :class:`PairedResult` or :class:`ChangeResult` objects
        (anything with ``to_frame()``).
    decimals : int
        Decimals of the percentages shown.

    Returns
    -------
    DataFrame
        Columns « Indicateur », « n », « Valeur », « IC », « Méthode », « Précisions »;
        proportions and differences in percent (differences in points), the median change
        in the unit of the measure.
    """
    frames = [r.to_frame() for r in results]
    if not frames:
        return pd.DataFrame(columns=["Indicateur", "n", "Valeur", "IC", "Méthode", "Précisions"])
    t = pd.concat(frames, ignore_index=True)
    rows = []
    for r in t.itertuples():
        level = percent(r.niveau, 0)
        if "pseudo-médiane" in r.indicateur:
            value = number(r.estimation, 2)
            ci = interval(r.ic_bas, r.ic_haut, 2, scale=1.0)
        elif "différence" in r.indicateur:
            value = f"{number(r.estimation * 100, decimals)} points"
            ci = interval(r.ic_bas, r.ic_haut, decimals)
        else:
            value = percent(r.estimation, decimals)
            ci = interval(r.ic_bas, r.ic_haut, decimals)
        note = r.precision
        if r.n < SMALL_N:
            note += " ; effectif faible : à interpréter avec prudence"
        rows.append({"Indicateur": r.indicateur, "n": int(r.n), "Valeur": value,
                     f"IC à {level}": ci, "Méthode": r.methode, "Précisions": note})
    return pd.DataFrame(rows)
