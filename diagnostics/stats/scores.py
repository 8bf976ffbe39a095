"""Validated composite scores computed from questionnaire codes.

Every function takes a DataFrame of numeric codes (the ``.codes`` table of
:func:`diagnostics.collect.validation.validate`, or any table with the same columns) and returns a
Series or DataFrame aligned on its index.  Scores are vectorised; a respondent with any item
missing (empty cell, "ne sait pas", "refus" or any code outside the item's scale) gets a
missing score: no imputation, as in the published scoring rules.

Scores
------
* :func:`epices` and :func:`epices_precarious`: EPICES deprivation score (Sass et al., 2006);
* :func:`who5` and :func:`who5_categories`: WHO-5 Well-Being Index (Topp et al., 2015);
* :func:`mehm`: the three indicators of the Minimum European Health Module;
* :func:`loneliness` and :func:`loneliness_lonely`: 3-item loneliness scale (Hughes et al., 2004).

:data:`SCORES` maps the names used in the indicator catalogue (``config/indicateurs.yaml``)
to these functions and the item columns they need.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import pandas as pd

from ..errors import EstimationError

__all__ = [
    "EPICES_CONSTANT", "EPICES_COEFFICIENTS", "EPICES_THRESHOLD", "WHO5_POOR", "WHO5_DEPRESSION",
    "LONELINESS_THRESHOLD", "epices", "epices_precarious", "who5", "who5_categories", "mehm",
    "loneliness", "loneliness_lonely", "SCORES", "ScoreSpec",
]

#: Constant of the EPICES score (Sass et al., 2006).
EPICES_CONSTANT = 75.14
#: Coefficient added when the answer to item ``epices_XX`` is "oui" (code 1).
EPICES_COEFFICIENTS = {
    "epices_01": 10.06,   # rencontre un travailleur social
    "epices_02": -11.83,  # assurance maladie complémentaire
    "epices_03": -8.28,   # vit en couple
    "epices_04": -8.28,   # propriétaire de son logement
    "epices_05": 14.80,   # difficultés financières dans le mois
    "epices_06": -6.51,   # sport au cours des 12 derniers mois
    "epices_07": -7.10,   # spectacle au cours des 12 derniers mois
    "epices_08": -7.10,   # vacances au cours des 12 derniers mois
    "epices_09": -9.47,   # contacts avec la famille (6 derniers mois)
    "epices_10": -9.47,   # personnes pour héberger quelques jours
    "epices_11": -7.10,   # personnes pour une aide matérielle
}
#: Precarity threshold: a score greater than or equal to 30.17 is "précaire".
EPICES_THRESHOLD = 30.17
#: WHO-5 percentage score at or below which wellbeing is poor (screen for depression).
WHO5_POOR = 50
#: WHO-5 percentage score at or below which depression is likely.
WHO5_DEPRESSION = 28
#: 3-item loneliness score at or above which a respondent is classified as lonely.
LONELINESS_THRESHOLD = 6

YES, NO = 1, 2
WHO5_ITEMS = [f"who5_{i}" for i in range(1, 6)]
LONELINESS_ITEMS = ["solitude_1", "solitude_2", "solitude_3"]
MEHM_ITEMS = ["sante_generale", "maladie_chronique", "limitation"]


def _items(codes: pd.DataFrame, columns: list[str], score: str) -> pd.DataFrame:
    """Return the item columns as floats; a clear French error when one is absent."""
    absent = [c for c in columns if c not in codes.columns]
    if absent:
        raise EstimationError(
            f"Le score {score} ne peut pas être calculé : la ou les colonnes "
            f"{', '.join('« ' + c + ' »' for c in absent)} manquent dans le tableau des réponses "
            f"(attendu : {', '.join(columns)}).", column=absent[0])
    return codes[columns].apply(pd.to_numeric, errors="coerce").astype(float)


def _valid(items: pd.DataFrame, allowed) -> pd.DataFrame:
    """Replace every code outside ``allowed`` (missing codes 98/99 included) by NaN."""
    return items.where(items.isin(list(allowed)))


def _yes_no(items: pd.DataFrame, yes_no) -> tuple:
    """Check the coding of the EPICES answers; refuse 0 when « non » is coded 2."""
    try:
        yes, no = (float(v) for v in yes_no)
    except (TypeError, ValueError):
        yes = no = None
    if yes is None or yes == no:
        raise EstimationError(f"codage oui/non « {yes_no} » refusé pour le score EPICES ; deux codes "
                              "distincts (oui, non) étaient attendus, par exemple (1, 2) ou (1, 0).",
                              value=yes_no, expected="(1, 2) ou (1, 0)")
    if 0 not in (yes, no):
        zero = items.eq(0)
        if zero.to_numpy().any():
            col = zero.any()[lambda s: s].index[0]
            row = zero.index[zero[col]][0]
            raise EstimationError(
                f"score EPICES : ligne {row}, colonne « {col} », la valeur « 0 » ne correspond à "
                f"aucune réponse ; le questionnaire code 1 = oui et 2 = non (pour des réponses "
                "codées 1 = oui, 0 = non, appelez epices(..., yes_no=(1, 0))).",
                row=row, column=col, value=0, expected="1 (oui) ou 2 (non)")
    return yes, no


def epices(codes: pd.DataFrame, *, yes_no=(YES, NO)) -> pd.Series:
    """EPICES individual deprivation score (0–100, higher is more deprived).

    Parameters
    ----------
    codes : DataFrame
        Numeric codes with columns ``epices_01`` … ``epices_11`` (1 = oui, 2 = non).
    yes_no : tuple, default (1, 2)
        Codes of « oui » and « non »; ``(1, 0)`` for a table coded 1/0.  With the default a
        0 in an item raises :class:`~diagnostics.errors.EstimationError`.

    Returns
    -------
    Series of float
        The score, rounded to 2 decimals (the precision of the coefficients), named ``epices``;
        missing when any of the 11 answers is missing or is neither code of ``yes_no``.

    Notes
    -----
    .. math:: S = 75{,}14 + \\sum_{k=1}^{11} c_k \\, \\mathbb{1}[\\text{réponse}_k = \\text{oui}]

    with :math:`c = (+10{,}06, -11{,}83, -8{,}28, -8{,}28, +14{,}80, -6{,}51, -7{,}10, -7{,}10,
    -9{,}47, -9{,}47, -7{,}10)` (see :data:`EPICES_COEFFICIENTS`).  The nine negative
    coefficients add up to the constant 75,14, so the least deprived answers (non to items 1
    and 5, oui elsewhere) give exactly 0 and the most deprived (oui to items 1 and 5, non
    elsewhere) exactly 75,14 + 10,06 + 14,80 = 100.

    The answers must be coded as in the questionnaire (1 = oui, 2 = non, the ``oui_non`` list
    of ``questionnaires/dls_habitants.yaml``).  A table coded 1 = oui, 0 = non is accepted
    with ``yes_no=(1, 0)``; with the default coding a 0 is refused with a French error (it
    would otherwise silently make the score missing).

    The published rule uses the 11 answers; there is no rule for a partial questionnaire,
    hence any missing item makes the score missing.

    References
    ----------
    Sass C, Moulin JJ, Guéguen R, Abric L, Dauphinot V, Dupré C, et al. Le score Epices : un
    score individuel de précarité. Construction du score et mesure des relations avec des
    données de santé, dans une population de 197 389 personnes. *Bulletin épidémiologique
    hebdomadaire* 2006;(14):93-96.

    Examples
    --------
    >>> import pandas as pd
    >>> row = {f"epices_{k:02d}": 2 for k in range(1, 12)}
    >>> float(epices(pd.DataFrame([row]))[0])  # "non" everywhere
    75.14
    """
    cols = list(EPICES_COEFFICIENTS)
    raw = _items(codes, cols, "EPICES")
    yes_code, no_code = _yes_no(raw, yes_no)
    items = _valid(raw, (yes_code, no_code))
    yes = (items == yes_code).astype(float)
    coef = pd.Series(EPICES_COEFFICIENTS)
    score = EPICES_CONSTANT + yes.mul(coef, axis=1).sum(axis=1)
    score = score.where(items.notna().all(axis=1)).round(2)
    return score.rename("epices")


def epices_precarious(codes: pd.DataFrame, threshold: float = EPICES_THRESHOLD, *,
                      yes_no=(YES, NO)) -> pd.Series:
    """Is the respondent "en situation de précarité" according to EPICES?

    Parameters
    ----------
    codes : DataFrame
        Codes with columns ``epices_01`` … ``epices_11``.
    threshold : float, default 30.17
        Precarity threshold.
    yes_no : tuple, default (1, 2)
        Codes of « oui » and « non » (see :func:`epices`).

    Returns
    -------
    Series of float
        1.0 when ``score >= threshold``, 0.0 below, NaN when the score is missing.

    Notes
    -----
    The threshold 30,17 is the lower bound of the fourth quintile of the score in the
    reference population of the Centres d'examens de santé; "précaire" means belonging to
    the two upper quintiles, i.e. :math:`S \\geq 30{,}17` (a score of exactly 30,17 is
    précaire).

    References
    ----------
    Sass C et al. BEH 2006;(14):93-96 (see :func:`epices`).
    Labbe E, Moulin JJ, Guéguen R, Sass C, Chatain C, Gerbaud L. Un indicateur de mesure de la
    précarité et de la « santé sociale » : le score EPICES. *La Revue de l'IRES* 2007;53:3-49.
    """
    s = epices(codes, yes_no=yes_no)
    return (s >= threshold).astype(float).where(s.notna()).rename("epices_precaire")


def who5(codes: pd.DataFrame) -> pd.Series:
    """WHO-5 Well-Being Index as a percentage score (0–100, higher is better).

    Parameters
    ----------
    codes : DataFrame
        Codes with columns ``who5_1`` … ``who5_5``, each 0 (jamais) to 5 (tout le temps).

    Returns
    -------
    Series of float
        :math:`4 \\times \\sum_{i=1}^{5} x_i`, named ``who5``; missing when any item is missing
        or outside 0–5.

    Notes
    -----
    The raw score (0–25) is multiplied by 4 to give the percentage score (0–100).

    References
    ----------
    Topp CW, Østergaard SD, Søndergaard S, Bech P. The WHO-5 Well-Being Index: a systematic
    review of the literature. *Psychotherapy and Psychosomatics* 2015;84(3):167-176.
    """
    items = _valid(_items(codes, WHO5_ITEMS, "WHO-5"), range(0, 6))
    score = items.sum(axis=1, min_count=5) * 4
    return score.where(items.notna().all(axis=1)).rename("who5")


def who5_categories(codes: pd.DataFrame) -> pd.DataFrame:
    """WHO-5 screening flags.

    Returns
    -------
    DataFrame
        Columns ``who5`` (percentage score), ``who5_faible`` (1.0 when score ≤ 50: poor
        wellbeing, screening for depression indicated) and ``who5_depression`` (1.0 when
        score ≤ 28: likely depression); NaN where the score is missing.

    Notes
    -----
    Both cut-offs are inclusive ("a score of ≤ 50", "a score of ≤ 28"), as in Topp et al.
    (2015).  On the raw 0–25 scale, ≤ 50 is a raw score below 13 and ≤ 28 a raw score ≤ 7.

    References
    ----------
    Topp CW et al. *Psychother Psychosom* 2015;84:167-176 (see :func:`who5`).
    """
    s = who5(codes)
    ok = s.notna()
    return pd.DataFrame({
        "who5": s,
        "who5_faible": (s <= WHO5_POOR).astype(float).where(ok),
        "who5_depression": (s <= WHO5_DEPRESSION).astype(float).where(ok),
    })


def mehm(codes: pd.DataFrame) -> pd.DataFrame:
    """The three binary indicators of the Minimum European Health Module (MEHM).

    Parameters
    ----------
    codes : DataFrame
        Codes with columns ``sante_generale`` (1 très bon … 5 très mauvais),
        ``maladie_chronique`` (1 oui, 2 non) and ``limitation`` (1 fortement limité,
        2 limité mais pas fortement, 3 pas limité).

    Returns
    -------
    DataFrame of float (1.0 / 0.0 / NaN)
        ``sante_mauvaise``: perceived health bad or very bad (codes 4, 5);
        ``maladie_chronique``: chronic condition (code 1);
        ``limitation_forte``: strongly limited (code 1);
        ``limitation_toute``: limited, strongly or not (codes 1, 2).
        Each is missing where its own question is unanswered or answered "ne sait pas" /
        "refus" (the three indicators are independent).

    Notes
    -----
    The Eurostat definitions: "bad or very bad" self-perceived health, "long-standing
    illness or health problem", "limitation in activities people usually do because of
    health problems for at least the last 6 months" (severe, or severe and moderate: the GALI).

    References
    ----------
    Eurostat. Minimum European Health Module (MEHM), EU-SILC methodological guidelines;
    Robine JM, Jagger C, Euro-REVES Group. Creating a coherent set of indicators to monitor
    health across Europe: the Euro-REVES 2 project. *Eur J Public Health* 2003;13(3 Suppl):6-14.
    """
    items = _items(codes, MEHM_ITEMS, "MEHM")
    sg = _valid(items[["sante_generale"]], range(1, 6))["sante_generale"]
    mc = _valid(items[["maladie_chronique"]], (YES, NO))["maladie_chronique"]
    li = _valid(items[["limitation"]], (1, 2, 3))["limitation"]
    return pd.DataFrame({
        "sante_mauvaise": sg.isin([4, 5]).astype(float).where(sg.notna()),
        "maladie_chronique": (mc == YES).astype(float).where(mc.notna()),
        "limitation_forte": (li == 1).astype(float).where(li.notna()),
        "limitation_toute": li.isin([1, 2]).astype(float).where(li.notna()),
    })


def loneliness(codes: pd.DataFrame) -> pd.Series:
    """Three-item loneliness scale score (3–9, higher is lonelier).

    Parameters
    ----------
    codes : DataFrame
        Codes with columns ``solitude_1`` … ``solitude_3``, each 1 (presque jamais),
        2 (parfois) or 3 (souvent).

    Returns
    -------
    Series of float
        Sum of the three items, named ``solitude``; missing when any item is missing.

    Notes
    -----
    .. math:: S = x_1 + x_2 + x_3, \\quad x_i \\in \\{1, 2, 3\\}

    References
    ----------
    Hughes ME, Waite LJ, Hawkley LC, Cacioppo JT. A short scale for measuring loneliness in
    large surveys: results from two population-based studies. *Research on Aging*
    2004;26(6):655-672.
    """
    items = _valid(_items(codes, LONELINESS_ITEMS, "de solitude"), (1, 2, 3))
    return items.sum(axis=1, min_count=3).where(items.notna().all(axis=1)).rename("solitude")


def loneliness_lonely(codes: pd.DataFrame, threshold: int = LONELINESS_THRESHOLD) -> pd.Series:
    """Is the respondent lonely on the 3-item scale (score ≥ 6)?

    Returns
    -------
    Series of float
        1.0 when ``score >= threshold`` (6 to 9), 0.0 for 3 to 5, NaN when missing.

    Notes
    -----
    Hughes et al. (2004) publish the scale without a cut-off.  The dichotomy "3–5 not lonely,
    6–9 lonely" is the convention of the large surveys that use the scale (English
    Longitudinal Study of Ageing analyses, e.g. Steptoe et al. 2013), adopted here;
    the threshold is a parameter.

    References
    ----------
    Hughes ME et al. *Research on Aging* 2004;26(6):655-672 (see :func:`loneliness`).
    Steptoe A, Shankar A, Demakakos P, Wardle J. Social isolation, loneliness, and all-cause
    mortality in older men and women. *PNAS* 2013;110(15):5797-5801.
    """
    s = loneliness(codes)
    return (s >= threshold).astype(float).where(s.notna()).rename("solitude_isole")


# ------------------------------------------------------------------ registry for the catalogue

@dataclass(frozen=True)
class ScoreSpec:
    """A score usable in the indicator catalogue.

    Attributes
    ----------
    name : str
        Name used in ``config/indicateurs.yaml`` (``score: epices``).
    label : str
        French name shown in errors and notes.
    items : tuple of str
        Answer columns the score needs.
    compute : callable
        ``compute(codes) -> Series`` of the numeric score.
    range : tuple
        Possible values (min, max), used to check catalogue thresholds.
    """

    name: str
    label: str
    items: tuple
    compute: Callable[[pd.DataFrame], pd.Series]
    range: tuple


SCORES: dict[str, ScoreSpec] = {
    "epices": ScoreSpec("epices", "score EPICES", tuple(EPICES_COEFFICIENTS), epices, (0.0, 100.0)),
    "who5": ScoreSpec("who5", "indice de bien-être WHO-5", tuple(WHO5_ITEMS), who5, (0.0, 100.0)),
    "solitude": ScoreSpec("solitude", "échelle de solitude en 3 items", tuple(LONELINESS_ITEMS),
                          loneliness, (3.0, 9.0)),
}
