"""Survey weights: post-stratification, raking, trimming and weight diagnostics.

The functions take the answer table (one row per respondent) and population margins (counts
per category, e.g. age group × sex per quartier) and return weights aligned on the table's
index.  They mirror R's ``survey`` package (``postStratify``, ``rake``, ``trimWeights``) so that
the weights agree with it, and they keep what :class:`diagnostics.stats.survey.Design` needs to
compute calibration-aware variances (``calibration=`` argument).

Errors on user input are :class:`diagnostics.errors.EstimationError` with a French sentence.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import numpy as np
import pandas as pd

from diagnostics import fmt
from diagnostics.errors import EstimationError, where

__all__ = [
    "Calibration",
    "RakeResult",
    "PostStratifyResult",
    "CalibrateResult",
    "calibrate",
    "rake",
    "poststratify",
    "trim_weights",
    "weight_diagnostics",
    "check_weights",
]

_TOTAL_RTOL = 1e-6  # margins must agree on the population total to this relative tolerance


@dataclass
class Calibration:
    """What a calibrated design needs to adjust linearised variances (as R's ``postStrata``).

    Attributes
    ----------
    kind : {"poststrata", "raking", "greg"}
    groups : list of numpy.ndarray
        One integer array per margin giving each respondent's category (0..G-1); for
        ``"greg"`` (:func:`calibrate`) the model matrix (n × p).
    weights : numpy.ndarray
        Final (calibrated) weights.
    oldweights : numpy.ndarray or None
        Weights before post-stratification (``"poststrata"`` only).
    margin_weights : list of numpy.ndarray or None
        ``"raking"`` only: for each margin, the weights as they stood right after that margin's
        post-stratification step of the last sweep (R's ``rake()`` keeps them in each
        ``postStrata`` entry and the variance uses them).  ``None``: the final weights for
        every margin (a converged rake).
    index : pandas.Index or None
        The respondents the arrays describe, in their order (the index of the table that was
        calibrated); ``None`` for a calibration built by hand, matched by position.
    """

    kind: str
    groups: list
    weights: np.ndarray
    oldweights: np.ndarray | None = None
    margin_weights: list | None = None
    index: pd.Index | None = None

    def weights_of_margin(self, m: int) -> np.ndarray:
        """Weights used to residualise on margin ``m`` (see ``margin_weights``)."""
        if self.margin_weights is None:
            return np.asarray(self.weights, float)
        return np.asarray(self.margin_weights[m], float)

    def align(self, index: pd.Index, file=None) -> "Calibration":
        """This calibration with its rows in the order of ``index`` (or a French refusal).

        Parameters
        ----------
        index : pandas.Index
            The index of the design's data.
        file : str, optional
            File name quoted in error messages.

        Returns
        -------
        Calibration
            ``self`` when the rows already match, else a reordered copy (R cannot mismatch
            them: its ``rake(design)`` returns the design).

        Raises
        ------
        EstimationError
            Other respondents, a different number of them, or a duplicated identifier
            (rows that cannot be matched one to one).
        """
        n = len(index)
        if self.index is None or self.index.equals(index):
            if len(self.weights) != n:
                raise EstimationError(
                    f"{where(file)}le calage porte sur {len(self.weights)} répondants, le plan "
                    f"de sondage sur {n} : attendu les mêmes répondants.")
            return self
        if not (index.is_unique and self.index.is_unique):
            raise EstimationError(
                f"{where(file)}identifiants de répondants en double : impossible d'associer "
                "les poids calés aux réponses ; attendu un identifiant unique par ligne.")
        pos = self.index.get_indexer(index)
        if len(self.index) != n or (pos < 0).any():
            lost = index[pos < 0] if (pos < 0).any() else self.index.difference(index)
            raise EstimationError(
                f"{where(file)}le répondant « {lost[0]} » n'est pas dans les deux tableaux : "
                "le calage doit porter sur les mêmes répondants que le plan de sondage.")
        G = [g[pos] for g in self.groups]
        return Calibration(
            self.kind, G, np.asarray(self.weights, float)[pos],
            None if self.oldweights is None else np.asarray(self.oldweights, float)[pos],
            None if self.margin_weights is None else [np.asarray(x)[pos]
                                                      for x in self.margin_weights],
            index)


@dataclass
class RakeResult:
    """Result of :func:`rake`.

    Attributes
    ----------
    weights : pandas.Series
        Raked weights aligned on the input index.
    iterations : int
        Number of full sweeps over the margins.
    converged : bool
        Whether every margin was reproduced within ``tol`` (relative) before ``max_iter``.
    max_error : float
        Largest relative gap ``|Σw − N| / N`` over all margin categories at the end.
    tol, max_iter : float, int
        The settings used.
    calibration : Calibration
        Information for calibration-aware variances in :class:`diagnostics.stats.survey.Design`.
    """

    weights: pd.Series
    iterations: int
    converged: bool
    max_error: float
    tol: float
    max_iter: int
    calibration: Calibration = field(repr=False)

    def summary(self) -> str:
        """One French sentence describing the convergence."""
        etat = "convergé" if self.converged else "NON convergé"
        return (f"Calage (raking) {etat} en {self.iterations} itération(s) ; écart relatif "
                f"maximal aux marges {self.max_error:.2e} (tolérance {self.tol:.0e}, "
                f"au plus {self.max_iter} itérations).")


@dataclass
class PostStratifyResult:
    """Result of :func:`poststratify`: ``weights`` (Series) and ``calibration``."""

    weights: pd.Series
    calibration: Calibration = field(repr=False)


# ----------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------

def _as_tuple(key) -> tuple:
    return tuple(key) if isinstance(key, (tuple, list)) else (key,)


def _margin_name(cols: tuple) -> str:
    return " × ".join(str(c) for c in cols)


def _population_series(cols: tuple, population) -> pd.Series:
    """Normalise a margin (Series, dict or DataFrame) to a float Series indexed by category."""
    if isinstance(population, pd.DataFrame):
        missing = [c for c in cols if c not in population.columns]
        if missing:
            raise EstimationError(
                f"La marge de population pour « {_margin_name(cols)} » n'a pas de colonne "
                f"« {missing[0]} » : attendu les colonnes {', '.join(map(str, cols))} et une "
                "colonne d'effectifs.")
        others = [c for c in population.columns if c not in cols]
        count = "effectif" if "effectif" in others else (others[-1] if others else None)
        if count is None:
            raise EstimationError(
                f"La marge de population pour « {_margin_name(cols)} » n'a pas de colonne "
                "d'effectifs : attendu une colonne « effectif ».")
        grouped = population.groupby(list(cols), observed=True, sort=False)[count].sum()
        s = grouped
    elif isinstance(population, pd.Series):
        s = population
    elif isinstance(population, Mapping):
        s = pd.Series(dict(population))
    else:
        raise EstimationError(
            f"La marge de population pour « {_margin_name(cols)} » doit être une série, un "
            f"dictionnaire ou un tableau, pas « {type(population).__name__} ».")
    s = pd.to_numeric(s, errors="coerce").astype(float)
    if s.isna().any() or (s < 0).any():
        bad = s[s.isna() | (s < 0)].index[0]
        raise EstimationError(
            f"La marge de population « {_margin_name(cols)} », catégorie « {bad} », a un "
            "effectif manquant ou négatif : attendu un nombre positif ou nul.")
    if len(cols) > 1 and not isinstance(s.index, pd.MultiIndex):
        try:
            s.index = pd.MultiIndex.from_tuples(list(s.index))
        except TypeError as exc:
            raise EstimationError(
                f"La marge de population « {_margin_name(cols)} » doit être indexée par des "
                f"couples de catégories ({', '.join(map(str, cols))}).") from exc
    return s


def _row_keys(df: pd.DataFrame, cols: tuple, file=None):
    for c in cols:
        if c not in df.columns:
            raise EstimationError(
                f"{where(file, None, c)}la colonne « {c} » utilisée par une marge de population "
                "est absente des réponses.")
        na = df[c].isna().to_numpy()
        if na.any():
            i = int(np.flatnonzero(na)[0])
            raise EstimationError(
                f"{where(file, i + 2, c)}valeur manquante pour une variable de calage : "
                "attendu une catégorie présente dans les marges de population.")
    if len(cols) == 1:
        return pd.Index(df[cols[0]].astype(object))
    return pd.MultiIndex.from_frame(df[list(cols)].astype(object))


def _group_codes(df, cols, pop: pd.Series, w: np.ndarray, file=None):
    """Map each respondent to a margin category; check empty / unknown categories."""
    keys = _row_keys(df, cols, file)
    pop_index = pop.index
    if not isinstance(pop_index, pd.MultiIndex):
        pop_index = pd.Index(pop_index.astype(object))
    codes = pop_index.get_indexer(keys)
    if (codes < 0).any():
        i = int(np.flatnonzero(codes < 0)[0])
        col = cols[0] if len(cols) == 1 else _margin_name(cols)
        raise EstimationError(
            f"{where(file, i + 2, col)}la catégorie « {keys[i]} » n'existe pas dans la marge de "
            f"population « {_margin_name(cols)} » : attendu l'une de "
            f"{', '.join(map(str, list(pop.index)[:12]))}.")
    sums = np.bincount(codes, weights=w, minlength=len(pop))
    target = pop.to_numpy(dtype=float)
    empty = (sums <= 0) & (target > 0)
    if empty.any():
        k = int(np.flatnonzero(empty)[0])
        raise EstimationError(
            f"La marge de population « {_margin_name(cols)} », catégorie « {pop.index[k]} » "
            f"(effectif {fmt.number(target[k])}), n'a aucun répondant dans l'échantillon : "
            "regroupez cette catégorie avec une voisine ou retirez-la des marges.")
    zero_pop = (target <= 0) & (sums > 0)
    if zero_pop.any():
        k = int(np.flatnonzero(zero_pop)[0])
        raise EstimationError(
            f"La marge de population « {_margin_name(cols)} », catégorie « {pop.index[k]} », a "
            "un effectif nul alors que l'échantillon contient des répondants de cette "
            "catégorie : attendu un effectif positif.")
    return codes, target


def _initial_weights(df: pd.DataFrame, weight, file=None) -> np.ndarray:
    if weight is None:
        return np.ones(len(df))
    if isinstance(weight, str):
        if weight not in df.columns:
            raise EstimationError(
                f"{where(file, None, weight)}la colonne de poids « {weight} » est absente.")
        w = pd.to_numeric(df[weight], errors="coerce").to_numpy(dtype=float)
        col = weight
    else:
        w = np.asarray(pd.Series(weight).reindex(df.index) if isinstance(weight, pd.Series)
                       else weight, dtype=float)
        col = "poids"
    return check_weights(w, len(df), file, col)


def check_weights(w, n: int, file=None, column: str = "poids") -> np.ndarray:
    """The one rule on survey weights (starting weights of a calibration, weights of a design).

    Parameters
    ----------
    w : array-like
        One weight per respondent.
    n : int
        Number of respondents.
    file, column : str, optional
        Quoted in the error message.

    Returns
    -------
    numpy.ndarray
        The weights as floats.

    Raises
    ------
    EstimationError
        A wrong number of weights, a weight missing, infinite or negative, or no positive
        weight at all.

    Notes
    -----
    A weight is a finite number :math:`w_i \\ge 0`, at least one positive.  A zero weight is a
    respondent kept in the design but out of the estimates, as R's ``survey`` does for a
    subset of a calibrated design (``prob = Inf``).
    """
    w = np.asarray(w, dtype=float)
    if w.shape != (n,):
        raise EstimationError(f"Les poids ont {w.size} valeurs pour {n} répondants : attendu "
                              "une valeur par répondant.")
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise EstimationError(f"{where(file, i + 2, column)}poids « {w[i]} » invalide : "
                              "attendu un nombre positif ou nul.")
    if not (w > 0).any():
        raise EstimationError(f"{where(file, None, column)}tous les poids sont nuls : attendu "
                              "au moins un poids strictement positif.")
    return w


def _check_totals(pops: list, names: list) -> None:
    totals = np.array([p.sum() for p in pops])
    if totals.size > 1 and np.ptp(totals) > _TOTAL_RTOL * totals.max():
        detail = ", ".join(f"{fmt.number(t)} pour « {n} »" for t, n in zip(totals, names))
        raise EstimationError(
            f"Les marges de population ne donnent pas le même total ({detail}) : attendu le "
            "même effectif total pour chaque marge.")


# ----------------------------------------------------------------------------------------
# public API
# ----------------------------------------------------------------------------------------

def poststratify(df: pd.DataFrame, strata_cols, population, weight=None, *,
                 file=None) -> PostStratifyResult:
    """Post-stratify weights to known population counts of cells.

    Parameters
    ----------
    df : pandas.DataFrame
        Answer table, one row per respondent.
    strata_cols : str or sequence of str
        Column(s) defining the post-strata (e.g. ``["groupe_age", "sexe"]``).
    population : pandas.Series, dict or pandas.DataFrame
        Population count of each cell: a Series/dict indexed by category (tuples or a
        MultiIndex for several columns) or a DataFrame with ``strata_cols`` and a count
        column (``effectif`` if present, else the last column).
    weight : None, str or array-like
        Starting (design) weights: a column name, values, or ``None`` for equal weights.
    file : str, optional
        File name quoted in error messages.

    Returns
    -------
    PostStratifyResult
        ``.weights`` (Series aligned on ``df.index``) and ``.calibration``.

    Notes
    -----
    In cell :math:`g`, :math:`w_i^* = w_i \\, N_g / \\sum_{j \\in g} w_j`.  Cells with a zero
    population count and no respondent are ignored; a cell with a positive count and no
    respondent, or a respondent whose cell is absent from ``population``, raises an error
    (R's ``postStratify(partial = FALSE)``).

    References
    ----------
    Lumley T. (2010) *Complex Surveys*, Wiley, §7.2; R package survey, ``postStratify``.
    """
    cols = _as_tuple(strata_cols)
    w0 = _initial_weights(df, weight, file)
    pop = _population_series(cols, population)
    codes, target = _group_codes(df, cols, pop, w0, file)
    sums = np.bincount(codes, weights=w0, minlength=len(pop))
    factor = np.divide(target, sums, out=np.zeros_like(target), where=sums > 0)
    w = w0 * factor[codes]
    cal = Calibration("poststrata", [codes], w.copy(), oldweights=w0.copy(), index=df.index)
    return PostStratifyResult(pd.Series(w, index=df.index, name="poids"), cal)


def rake(df: pd.DataFrame, margins: Mapping, weight=None, *, tol: float = 1e-10,
         max_iter: int = 100, bounds=None, r_epsilon: float | None = None, file=None) -> RakeResult:
    """Rake (iterative proportional fitting) weights to several population margins.

    Parameters
    ----------
    df : pandas.DataFrame
        Answer table, one row per respondent.
    margins : dict
        ``{column_or_tuple_of_columns: population}`` where ``population`` is a Series/dict
        of counts by category (tuple keys or MultiIndex for a tuple of columns) or a
        DataFrame with those columns and a count column (``effectif``).  Example:
        ``{("groupe_age", "sexe"): marges, "quartier": marges_quartier}``.
    weight : None, str or array-like
        Starting (design) weights; ``None`` for equal weights.
    tol : float
        Convergence tolerance: largest relative margin gap ``|Σw − N| / N``.
    max_iter : int
        Maximum number of sweeps over all margins.
    bounds : (float, float), optional
        Bounds ``(lo, hi)`` on the adjustment factor ``g = w / w_start``, applied after every
        margin step (bounded raking); margins may then not be reached (``converged`` False).
    r_epsilon : float, optional
        Use R's stopping rule instead of ``tol``: stop after the first sweep that changes the
        weighted cross-table of all margin variables by less than ``r_epsilon`` (absolute), as
        ``rake(..., control = list(epsilon = r_epsilon, maxit = max_iter))`` does.  R's defaults
        are ``r_epsilon=1, max_iter=10``: weights then differ from the converged ones (by about
        1e-3 relative on R's ``apistrat``); give them to reproduce an R script that kept them.
    file : str, optional
        File name quoted in error messages.

    Returns
    -------
    RakeResult

    Notes
    -----
    Each sweep post-stratifies successively to every margin :math:`m`:
    :math:`w_i \\leftarrow w_i N_{m,g} / \\sum_{j \\in g} w_j` for the category :math:`g` of
    respondent :math:`i`.  The sweeps stop when every margin is reproduced within ``tol``.
    Same fixed point as R's ``rake()`` (which by default stops earlier, on an absolute change of
    1 in the weighted cross-table: use ``control = list(epsilon = 1e-14, maxit = 200)`` in R
    to compare).  The margins must agree on the population total (relative 1e-6).
    The calibration kept for variances stores, per margin, the weights right after that
    margin's step of the last sweep, as R's ``rake()`` does: before convergence they differ
    from the final weights, and so does R's variance.

    References
    ----------
    Deming W.E., Stephan F.F. (1940) Ann. Math. Stat. 11:427-444.  Lumley T. (2010)
    *Complex Surveys*, §7.3; R package survey, ``rake``.
    """
    if not margins:
        raise EstimationError("Aucune marge de population fournie pour le calage : attendu au "
                              "moins une marge.")
    w0 = _initial_weights(df, weight, file)
    keys = [_as_tuple(k) for k in margins]
    pops = [_population_series(k, margins[orig]) for k, orig in zip(keys, margins)]
    # drop categories with zero population and no respondent (as R does)
    _check_totals(pops, [_margin_name(k) for k in keys])
    groups, targets = [], []
    for k, p in zip(keys, pops):
        codes, target = _group_codes(df, k, p, w0, file)
        groups.append(codes)
        targets.append(target)
    lo, hi = (None, None) if bounds is None else bounds
    if bounds is not None and not (0 <= lo <= 1 <= hi):
        raise EstimationError(
            f"Bornes de calage ({lo}, {hi}) invalides : attendu 0 ≤ borne basse ≤ 1 ≤ borne "
            "haute.")

    def max_err(w):
        err = 0.0
        for codes, target in zip(groups, targets):
            s = np.bincount(codes, weights=w, minlength=target.size)
            pos = target > 0
            err = max(err, float(np.max(np.abs(s[pos] - target[pos]) / target[pos])))
        return err

    steps = [w0] * len(groups)  # weights after each margin's step of the last sweep

    def sweep(w):
        for m, (codes, target) in enumerate(zip(groups, targets)):
            s = np.bincount(codes, weights=w, minlength=target.size)
            f = np.divide(target, s, out=np.zeros_like(target), where=s > 0)
            w = w * f[codes]
            if bounds is not None:
                w = np.clip(w / w0, lo, hi) * w0
            steps[m] = w
        return w

    w = w0.copy()
    it = 0
    if r_epsilon is None:
        err = max_err(w)
        converged = err < tol
        while not converged and it < max_iter:
            it += 1
            w = sweep(w)
            err = max_err(w)
            converged = err < tol
    else:  # R's rule: change of the weighted cross-table of every margin variable, sweep to sweep
        joint = np.unique(np.stack(groups, axis=1), axis=0, return_inverse=True)[1].ravel()
        old = np.bincount(joint, weights=w)
        converged = False
        while not converged and it < max_iter:
            it += 1
            w = sweep(w)
            new = np.bincount(joint, weights=w, minlength=old.size)
            converged = float(np.max(np.abs(new - old))) < r_epsilon
            old = new
        err = max_err(w)
    # converged to ``tol``: the per-margin weights equal the final ones (to tol); R's rule or
    # no convergence: keep them, the variance depends on them as in R
    keep = it > 0 and (r_epsilon is not None or not converged)
    cal = Calibration("raking", groups, w.copy(),
                      margin_weights=[np.array(x, float) for x in steps] if keep else None,
                      index=df.index)
    return RakeResult(pd.Series(w, index=df.index, name="poids"), it, bool(converged), err,
                      tol, max_iter, cal)


def trim_weights(w, lower=None, upper=None, *, strict: bool = False, max_iter: int = 100):
    """Trim weights to ``[lower, upper]`` and spread the trimmed amount over the others.

    Parameters
    ----------
    w : pandas.Series or array-like
        Weights.
    lower, upper : float, optional
        Bounds (``None``: no bound).
    strict : bool
        If True, repeat until no weight is outside the bounds (R's ``strict = TRUE``);
        otherwise a single pass, so redistributed weights may exceed ``upper`` again.
    max_iter : int
        Safety cap on the number of passes when ``strict``.

    Returns
    -------
    pandas.Series or numpy.ndarray
        Same type as ``w``; the total of the weights is preserved.

    Notes
    -----
    As R's ``trimWeights``: :math:`w^*_i = \\min(\\max(w_i, L), U)`; the total trimmed
    :math:`\\sum_i (w_i - w^*_i)` is shared equally among the weights that were inside the
    bounds.

    References
    ----------
    R package survey, ``trimWeights``; Potter F. (1990) Proc. Survey Research Methods
    Section, ASA, 225-230.
    """
    is_series = isinstance(w, pd.Series)
    x = np.asarray(w, dtype=float).copy()
    lo = -np.inf if lower is None else float(lower)
    hi = np.inf if upper is None else float(upper)
    if lo > hi:
        raise EstimationError(f"Bornes d'écrêtage invalides ({lo} > {hi}) : attendu borne "
                              "basse ≤ borne haute.")
    for _ in range(max_iter):
        outside = (x < lo) | (x > hi)
        if not outside.any():
            break
        new = np.clip(x, lo, hi)
        trimmed = float(np.sum(x - new))
        if (~outside).any():
            new[~outside] += trimmed / np.count_nonzero(~outside)
        x = new
        if not strict:
            break
    return pd.Series(x, index=w.index, name=w.name) if is_series else x


def weight_diagnostics(w) -> dict:
    """Summary of a set of weights: Kish design effect, effective sample size, spread.

    Parameters
    ----------
    w : array-like
        Weights (non-negative).

    Returns
    -------
    dict
        ``n, sum, mean, kish_deff, n_eff, min, max, ratio_max_min, cv``.

    Notes
    -----
    Kish's design effect due to unequal weighting is
    :math:`d = n \\sum w_i^2 / (\\sum w_i)^2 = 1 + \\mathrm{cv}^2` (cv with divisor n) and the
    effective sample size is :math:`n_{eff} = n / d = (\\sum w_i)^2 / \\sum w_i^2`.

    References
    ----------
    Kish L. (1965) *Survey Sampling*, Wiley, §11.7; Kish L. (1992) J. Off. Stat. 8:183-200.
    """
    x = np.asarray(w, dtype=float)
    x = x[np.isfinite(x)]
    n = int(x.size)
    if n == 0:
        return dict(n=0, sum=0.0, mean=np.nan, kish_deff=np.nan, n_eff=0.0, min=np.nan,
                    max=np.nan, ratio_max_min=np.nan, cv=np.nan)
    s, s2 = float(x.sum()), float(np.sum(x * x))
    mn, mx = float(x.min()), float(x.max())
    mean = s / n
    return dict(n=n, sum=s, mean=mean, kish_deff=n * s2 / (s * s) if s else np.nan,
                n_eff=(s * s) / s2 if s2 else 0.0, min=mn, max=mx,
                ratio_max_min=mx / mn if mn > 0 else np.inf,
                cv=float(np.sqrt(max(s2 / n - mean * mean, 0.0)) / mean) if mean else np.nan)


# ----------------------------------------------------------------------------------------
# calibration to totals (GREG / CALMAR)
# ----------------------------------------------------------------------------------------

@dataclass
class CalibrateResult:
    """Result of :func:`calibrate`.

    Attributes
    ----------
    weights : pandas.Series
        Calibrated weights :math:`w_i = d_i g_i`.
    g : numpy.ndarray
        Adjustment factors :math:`g_i`.
    iterations : int
    converged : bool
    method : str
    calibration : Calibration
        ``kind="greg"``: the model matrix (``groups`` holds it), the calibrated and the
        starting weights, for calibration-aware variances in :class:`Design`.
    """

    weights: pd.Series
    g: np.ndarray
    iterations: int
    converged: bool
    method: str
    calibration: Calibration = field(repr=False)


def _model_matrix(df, totals, file=None):
    """Columns of the calibration model and their population totals."""
    cols, target, names = [], [], []
    for var, tot in totals.items():
        if var not in df.columns:
            raise EstimationError(f"{where(file, None, var)}la colonne « {var} » utilisée par "
                                  "le calage est absente des réponses.")
        if isinstance(tot, (Mapping, pd.Series)):
            s = _population_series((var,), tot)
            codes, t = _group_codes(df, (var,), s, np.ones(len(df)), file)
            X = np.zeros((len(df), len(s)))
            X[np.arange(len(df)), codes] = 1.0
            cols.append(X)
            target += list(t)
            names += [f"{var}={k}" for k in s.index]
        else:
            x = pd.to_numeric(df[var], errors="coerce").to_numpy(float)
            if np.isnan(x).any():
                i = int(np.flatnonzero(np.isnan(x))[0])
                raise EstimationError(f"{where(file, i + 2, var)}valeur manquante ou non "
                                      "numérique pour une variable de calage : attendu un "
                                      "nombre.")
            cols.append(x[:, None])
            target.append(float(tot))
            names.append(str(var))
    return np.hstack(cols), np.asarray(target, float), names


def _calfun(method, bounds):
    lo, hi = bounds
    if method == "linear":
        def F(u):
            return np.clip(u, lo - 1, hi - 1)

        def dF(u):
            return ((u >= lo - 1) & (u <= hi - 1)).astype(float)
    elif method == "raking":
        def F(u):
            return np.exp(u) - 1

        dF = np.exp
    elif method == "logit":
        if not (np.isfinite(lo) and np.isfinite(hi) and lo < 1 < hi):
            raise EstimationError(f"Bornes ({lo}, {hi}) invalides pour le calage logit : "
                                  "attendu deux nombres finis, borne basse < 1 < borne haute.")
        A = (hi - lo) / ((hi - 1) * (1 - lo))

        def F(u):
            e = np.exp(np.clip(A * u, -700, 700))
            return (lo * (hi - 1) + hi * (1 - lo) * e) / (hi - 1 + (1 - lo) * e) - 1

        def dF(u):
            e = np.exp(np.clip(A * u, -700, 700))
            den = hi - 1 + (1 - lo) * e
            return (hi * (1 - lo) * e * A / den
                    - (lo * (hi - 1) + hi * (1 - lo) * e) * (1 - lo) * e * A / den ** 2)
    else:
        raise EstimationError(f"Méthode de calage « {method} » inconnue : attendu linear, "
                              "raking ou logit.")
    return F, dF


def calibrate(data: pd.DataFrame, totals: Mapping, *, method: str = "linear",
              bounds=(-np.inf, np.inf), weights=None, tol: float = 1e-12,
              max_iter: int = 100, file=None) -> CalibrateResult:
    """Calibrate weights to population totals of categorical and numeric variables.

    Parameters
    ----------
    data : pandas.DataFrame
        Answer table, one row per respondent.
    totals : dict
        ``{column: total}`` for a numeric variable (population total of the column) and
        ``{column: {category: count}}`` (or a Series) for a categorical one, e.g.
        ``{"sexe": {"Femme": 3100, "Homme": 2900}, "age": 251_000}``.  Every categorical
        margin gives the population size; no intercept is needed.
    method : {"linear", "raking", "logit"}
        Distance function (CALMAR's methods 1, 2 and 4; R's ``calfun``): linear (GREG,
        :math:`g = 1 + x^T\\lambda`, truncated to ``bounds`` if given), raking
        (exponential) or logit (``bounds`` required).
    bounds : (float, float)
        Bounds :math:`(L, U)` on :math:`g = w / d`.
    weights : None, str or array-like
        Starting (design) weights :math:`d`; ``None`` for equal weights.
    tol : float
        Convergence: :math:`\\max |\\sum w x - t| / (1 + |t|)` (R's ``epsilon``).
    max_iter : int
        Maximum Newton iterations.
    file : str, optional
        File name quoted in error messages.

    Returns
    -------
    CalibrateResult

    Notes
    -----
    Find :math:`\\lambda` with :math:`\\sum_i d_i F(x_i^T\\lambda) x_i = t` where
    :math:`g_i = F(x_i^T\\lambda)` (Newton steps with the generalised inverse of
    :math:`\\sum d_i F'(x_i^T\\lambda) x_i x_i^T`, as R's ``grake``).  Variances of a
    calibrated design use the residuals of the weighted regression of the scores on
    :math:`x` (R's ``greg_calibration``): :math:`e = g\\sqrt d \\cdot
    \\mathrm{resid}(\\sqrt d\\,X;\\ z/(g\\sqrt d))`.

    References
    ----------
    Deville J.-C., Särndal C.-E. (1992) J. Am. Stat. Assoc. 87:376-382; Sautory O. (1993)
    *La macro CALMAR*, INSEE, document F9310; R package survey, ``calibrate``.
    """
    d = _initial_weights(data, weights, file)
    X, t, _ = _model_matrix(data, totals, file)
    lo, hi = (float(bounds[0]), float(bounds[1]))
    F, dF = _calfun(method, (lo, hi))
    lam = np.zeros(X.shape[1])
    converged = False
    it = 0
    for it in range(1, max_iter + 1):
        u = X @ lam
        g = 1 + F(u) if method != "raking" else np.exp(u)
        misfit = t - X.T @ (d * g)
        if np.all(np.abs(misfit) / (1 + np.abs(t)) < tol):
            converged = True
            break
        T = (X * (d * dF(u))[:, None]).T @ X
        lam = lam + np.linalg.pinv(T, rcond=256 * np.finfo(float).eps) @ misfit
    u = X @ lam
    g = 1 + F(u) if method != "raking" else np.exp(u)
    w = d * g
    cal = Calibration("greg", [X], w.copy(), oldweights=d.copy(), index=data.index)
    return CalibrateResult(pd.Series(w, index=data.index, name="poids"), g, it, converged,
                           method, cal)
