"""Change of a continuous measure between two times (e.g. visceral fat level).

Differences are *après − avant*.  Values keyed with a decimal comma give binary differences
that look equal but are not (``11,1 − 12,3`` and ``12,2 − 13,4`` differ in the 15th digit);
the Wilcoxon ranks are therefore taken on the differences rounded to ``digits_rank``
significant digits, R's ``wilcox.test(digits.rank = )`` argument (default 7 here, see
:func:`wilcoxon_signed_rank`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import EstimationError
from ..fmt import number
from ..results import add_deprecated_columns, check_conf_level
from .proportions import _deprecated_limits, _fmt_p, wilson_interval

__all__ = ["ChangeResult", "WilcoxonResult", "measure_change", "wilcoxon_signed_rank",
           "DIGITS_RANK", "CHANGE_KEYS"]

#: English keys of the change categories (index of ``ChangeResult.shares``) and their labels.
CHANGE_KEYS = {"decreased": "en baisse", "stable": "stable", "increased": "en hausse",
               "decreased_or_stable": "en baisse ou stable"}

#: Default significant digits of the differences when ranking them (R's ``digits.rank``).
DIGITS_RANK = 7


def _signif(x: np.ndarray, digits: float) -> np.ndarray:
    """R's ``signif(x, digits)``: ``x`` rounded to ``digits`` significant digits (Inf: as is)."""
    if not math.isfinite(digits):
        return x
    digits = max(1, int(digits))
    out = np.zeros_like(x, dtype=float)
    nz = (x != 0) & np.isfinite(x)
    e = digits - 1 - np.floor(np.log10(np.abs(x[nz])))
    scale = 10.0 ** e
    out[nz] = np.round(x[nz] * scale) / scale
    out[~nz] = x[~nz]
    return out


# --------------------------------------------------------------------------- Wilcoxon

def _signrank_pmf(n: int) -> np.ndarray:
    """Exact null distribution of the signed-rank statistic V for n non-zero differences."""
    counts = np.zeros(n * (n + 1) // 2 + 1)
    counts[0] = 1.0
    for k in range(1, n + 1):
        shifted = counts.copy()
        shifted[k:] += counts[:-k]
        counts = shifted
    return counts / 2.0 ** n


def _qsignrank(p: float, n: int) -> int:
    """Smallest q with P(V ≤ q) ≥ p (R's ``qsignrank``, same 10·eps fuzz)."""
    cdf = np.cumsum(_signrank_pmf(n))
    return int(np.searchsorted(cdf, p - 10 * np.finfo(float).eps, side="left"))


def _W(x: np.ndarray, d: float, correct: bool, digits_rank: float = math.inf) -> float:
    """Standardised signed-rank statistic of ``x − d`` (R's internal ``W``), two-sided."""
    xd = x - d
    xd = xd[xd != 0]
    nx = len(xd)
    if nx == 0:
        return math.nan
    r = stats.rankdata(np.abs(_signif(xd, digits_rank)))
    zd = r[xd > 0].sum() - nx * (nx + 1) / 4
    _, t = np.unique(r, return_counts=True)
    sigma = math.sqrt(nx * (nx + 1) * (2 * nx + 1) / 24 - (t ** 3 - t).sum() / 48)
    if sigma == 0:
        return math.nan
    corr = (math.copysign(0.5, zd) if zd != 0 else 0.0) if correct else 0.0
    return (zd - corr) / sigma


def _root(x, lo, hi, target, correct, digits_rank=math.inf):
    """Point in [lo, hi] where the step function ``W(d) − target`` changes sign (bisection).

    Mirrors R's ``uniroot`` on the same bracket, driven to machine precision.
    """
    f_lo = _W(x, lo, correct, digits_rank) - target
    for _ in range(200):
        mid = (lo + hi) / 2
        if mid in (lo, hi):
            break
        f_mid = _W(x, mid, correct, digits_rank) - target
        if f_mid == 0:
            return mid
        if (f_mid > 0) == (f_lo > 0):
            lo, f_lo = mid, f_mid
        else:
            hi = mid
    return (lo + hi) / 2


def _snap(value: float, x: np.ndarray, digits_rank: float = math.inf) -> float:
    """Snap a root found by bisection onto the Walsh average it converged to (the jump).

    With ranks rounded to ``digits_rank`` significant digits the jumps move by up to
    ``10^(1 − digits_rank)`` relative from the Walsh averages; the root is snapped back
    within that distance.
    """
    if len(x) > 3000 or not math.isfinite(value):
        return value
    w = (x[:, None] + x[None, :])[np.triu_indices(len(x))] / 2
    near = w[np.argmin(np.abs(w - value))]
    rel = 1e-9 if not math.isfinite(digits_rank) else max(1e-9, 10.0 ** (1 - digits_rank))
    return float(near) if abs(near - value) <= rel * max(1.0, abs(value)) else value


@_deprecated_limits
@dataclass(frozen=True)
class WilcoxonResult:
    """Wilcoxon signed-rank test and Hodges–Lehmann estimate, as R's ``wilcox.test``.

    ``statistic`` is the test statistic V (a number, as in every result of the library);
    the limits are ``ci_low``/``ci_high`` (``lower``/``upper``: deprecated aliases).
    """

    statistic: float        # V: sum of ranks of positive differences
    p_value: float
    estimate: float         # (pseudo)median: Hodges–Lehmann estimate
    ci_low: float
    ci_high: float
    conf_level: float       # achieved level (may differ from the requested one)
    n_nonzero: int
    exact: bool
    method: str


def wilcoxon_signed_rank(differences, *, conf_level: float = 0.95, exact: bool | None = None,
                         correct: bool = True,
                         digits_rank: float = DIGITS_RANK) -> WilcoxonResult:
    """Wilcoxon signed-rank test of median 0 with the Hodges–Lehmann CI, as R.

    Reproduces R (≥ 4.0) ``wilcox.test(x, mu = 0, conf.int = TRUE, exact, correct,
    digits.rank)``.

    Parameters
    ----------
    differences : array-like
        Paired differences *après − avant* (NaN dropped).
    conf_level : float
        Requested confidence level.
    exact : bool, optional
        Exact distribution; by default when fewer than 50 non-zero differences.  It is used
        only without ties and zeros, otherwise the normal approximation is used (as R).
    correct : bool
        Continuity correction of the normal approximation (R's default ``TRUE``).
    digits_rank : float, default 7
        R's ``digits.rank``: the absolute differences are ranked as
        ``rank(signif(|x|, digits_rank))``, so that differences equal to that many significant
        digits tie (also in the CI search).  ``math.inf`` ranks the binary values as they are,
        which is R's default: pass it to reproduce ``wilcox.test(x)`` exactly.  The default 7
        is chosen because the measures are keyed with one or two decimals: their differences
        computed in binary floating point (``11.1 − 12.3`` vs ``12.2 − 13.4``) would otherwise
        not tie, and the statistic, the tie correction and the choice of the exact test would
        depend on rounding noise.  It equals R's ``wilcox.test(x, digits.rank = 7)``, the value
        R's documentation suggests for this case.  Zeros are the exact zero differences, and
        the estimate and limits are computed on the unrounded differences, as in R; with a
        finite ``digits_rank`` they are then snapped onto the Walsh average ``(xᵢ + xⱼ)/2``
        within ``10^(1 − digits_rank)`` relative (R's root lands that close to it, e.g.
        1.49999995 for 1.5 with 7 digits).
        ``V``, two-sided p-value (scipy), Hodges–Lehmann (pseudo)median and CI, achieved
        confidence level, method used.

    Notes
    -----
    Zero differences are dropped (Wilcoxon's convention, R and scipy ``zero_method="wilcox"``),
    for the test *and* for the estimate and CI, as R does.
    *Exact* (no ties, no zeros, n < 50): the ``n(n+1)/2`` Walsh averages ``(xᵢ + xⱼ)/2, i ≤ j``
    are sorted, the estimate is their median and the CI is ``[w₍q₎, w₍N−q+1₎]`` with
    ``q = qsignrank(α/2, n)`` (Bauer 1972).
    *Normal approximation*: ``V`` standardised with the tie correction
    ``σ² = n(n+1)(2n+1)/24 − Σ(t³ − t)/48`` and continuity correction ½; the estimate and limits
    are the shifts ``d`` where the standardised statistic of ``x − d`` crosses ``0`` and ``∓z``
    (R's ``uniroot`` search, solved here by bisection to machine precision).

    References
    ----------
    Wilcoxon F (1945) Biometrics Bull 1:80–83.  Hodges JL, Lehmann EL (1963) Ann Math Stat
    34:598–611.  Bauer DF (1972) JASA 67:687–690.  Hollander M, Wolfe DA (1999)
    Nonparametric Statistical Methods, 2nd ed., §3.1–3.2.
    """
    x = np.asarray(pd.to_numeric(pd.Series(differences), errors="coerce"), float)
    x = x[~np.isnan(x)]
    z_all = x
    x = x[x != 0]
    n = len(x)
    if n == 0:
        raise EstimationError("toutes les différences avant/après sont nulles ou manquantes ; "
                              "le test de Wilcoxon demande au moins une différence non nulle.")
    zeros = len(z_all) > n
    r = stats.rankdata(np.abs(_signif(x, digits_rank)))
    V = float(r[x > 0].sum())
    ties = len(np.unique(r)) != n
    if exact is None:
        exact = n < 50
    use_exact = bool(exact and not ties and not zeros)
    alpha = 1 - conf_level
    check_conf_level(conf_level)
    if use_exact:
        pmf, v = _signrank_pmf(n), int(V)
        tail = pmf[v:].sum() if V > n * (n + 1) / 4 else pmf[:v + 1].sum()   # R's psignrank
        p = min(1.0, 2 * tail)
        w = (x[:, None] + x[None, :])[np.triu_indices(n)] / 2
        w.sort()
        qu = _qsignrank(alpha / 2, n)
        qu = max(qu, 1)
        ql = n * (n + 1) // 2 - qu
        achieved = 2 * np.cumsum(_signrank_pmf(n))[qu - 1] if qu >= 1 else 0.0
        level = conf_level if achieved - alpha <= alpha / 2 else 1 - float(f"{achieved:.2g}")
        return WilcoxonResult(V, float(p), float(np.median(w)), float(w[qu - 1]), float(w[ql]),
                              level, n, True, "Wilcoxon signé exact, Hodges–Lehmann exact")
    p = float(2 * stats.norm.sf(abs(_W(x, 0.0, correct, digits_rank))))
    lo, hi = float(x.min()), float(x.max())
    w_lo, w_hi = _W(x, lo, correct, digits_rank), _W(x, hi, correct, digits_rank)
    if not (math.isfinite(w_lo) and math.isfinite(w_hi)):
        return WilcoxonResult(V, p, (lo + hi) / 2, math.nan, math.nan, 0.0, n, False,
                              "Wilcoxon signé (approximation normale)")
    level = conf_level
    while w_lo - stats.norm.ppf(1 - alpha / 2) < 0 or w_hi - stats.norm.ppf(alpha / 2) > 0:
        alpha *= 2
        if alpha >= 1:
            break
    if alpha >= 1 or 1 - conf_level < alpha * 0.75:
        level = 1 - min(1.0, alpha)
    if alpha < 1:
        ci = (_snap(_root(x, lo, hi, stats.norm.ppf(1 - alpha / 2), correct, digits_rank), x, digits_rank),
              _snap(_root(x, lo, hi, stats.norm.ppf(alpha / 2), correct, digits_rank), x, digits_rank))
    else:
        ci = (float(np.median(x)),) * 2
    est = _snap(_root(x, lo, hi, 0.0, correct, digits_rank), x, digits_rank)
    method = "Wilcoxon signé (approximation normale" + (", correction de continuité" if correct
                                                        else "") + "), Hodges–Lehmann"
    return WilcoxonResult(V, p, est, ci[0], ci[1], level, n, False, method)


# --------------------------------------------------------------------------- categories

@dataclass(frozen=True)
class ChangeResult:
    """Direction of change of a measure, with Wilcoxon and Hodges–Lehmann."""

    label: str
    n_pairs: int
    n_total: int
    tolerance: float
    n_decreased: int
    n_stable: int
    n_increased: int
    shares: pd.DataFrame     # indexed by CHANGE_KEYS (see measure_change); French wording in ``label``
    median_before: float
    median_after: float
    median_change: float     # plain median of the differences (zeros included)
    wilcoxon: WilcoxonResult
    conf_level: float

    def share(self, key: str) -> pd.Series:
        """The row of :attr:`shares` for ``key``: one of :data:`CHANGE_KEYS`."""
        if key not in CHANGE_KEYS:
            raise EstimationError(f"catégorie d'évolution « {key} » inconnue ; une des clés "
                                  f"{', '.join(CHANGE_KEYS)} était attendue.", value=key,
                                  expected=", ".join(CHANGE_KEYS))
        return self.shares.loc[key]

    @property
    def decreased(self) -> pd.Series:
        """Share decreased (``estimate``, ``ci_low``, ``ci_high``, ``count``, ``n``…)."""
        return self.share("decreased")

    @property
    def stable(self) -> pd.Series:
        """Share stable."""
        return self.share("stable")

    @property
    def increased(self) -> pd.Series:
        """Share increased."""
        return self.share("increased")

    def to_frame(self) -> pd.DataFrame:
        """The shares (``kind`` ``"proportion"``, ``category`` a key of :data:`CHANGE_KEYS`)
        and the Hodges–Lehmann shift (``kind`` ``"pseudomedian"``, Wilcoxon's ``statistic``
        V and ``p_value``), in the library's result shape; ``label`` and ``note`` in French."""
        w = self.wilcoxon
        stable = ("stable = valeur identique" if self.tolerance == 0 else
                  f"stable = variation d'au plus {number(self.tolerance, 2)}")
        prec = (f"{self.n_pairs} personnes mesurées avant et après ; {stable} ; Wilcoxon "
                f"V = {number(w.statistic, 1)}, p = {_fmt_p(w.p_value)}")
        rows = [{"label": f"{self.label} — {r.label}", "kind": "proportion", "category": r.change,
                 "estimate": r.estimate, "se": r.se, "ci_low": r.ci_low, "ci_high": r.ci_high,
                 "conf_level": r.conf_level, "method": r.method, "n": self.n_pairs,
                 "count": r.count, "note": prec} for r in self.shares.itertuples()]
        rows.append({"label": f"{self.label} — variation (pseudo-médiane)",
                     "kind": "pseudomedian", "category": "change", "estimate": w.estimate, "se": np.nan,
                     "ci_low": w.ci_low, "ci_high": w.ci_high, "conf_level": w.conf_level,
                     "method": w.method, "n": w.n_nonzero, "count": np.nan,
                     "statistic": w.statistic, "p_value": w.p_value,
                     "note": prec + f" ; {self.n_pairs - w.n_nonzero} variations nulles "
                                    "écartées"})
        return pd.DataFrame(rows)


def measure_change(data: pd.DataFrame, before: str, after: str, *, tolerance: float = 0.0,
                   label: str | None = None, conf_level: float = 0.95, exact: bool | None = None,
                   correct: bool = True, digits_rank: float = DIGITS_RANK) -> ChangeResult:
    """Share of people whose measure decreased, stayed stable or increased, and the shift.

    Parameters
    ----------
    data : DataFrame
        One row per person with numeric ``before`` and ``after`` columns.
    before, after : str
        Column names (e.g. ``graisse_viscerale_avant``, ``graisse_viscerale_apres``).
    tolerance : float
        Stable when ``|après − avant| ≤ tolerance`` (same unit as the measure; 0 = unchanged).
    label : str, optional
        French wording for tables.
    conf_level : float
        Confidence level of the Wilson CIs and of the Hodges–Lehmann CI.
    exact, correct, digits_rank : optional
        Passed to :func:`wilcoxon_signed_rank` (``digits_rank=math.inf`` reproduces R's
        default ``wilcox.test(après - avant)``).

    Returns
    -------
    ChangeResult
        Counts and shares (Wilson CIs) of « en baisse », « stable », « en hausse » and
        « en baisse ou stable », in ``shares`` indexed by the English keys of
        :data:`CHANGE_KEYS` (``result.share("decreased")``, ``result.decreased``), with the
        library's result columns (``change`` the key, ``label`` its French wording,
        ``estimate, se, ci_low, ci_high, conf_level, method, n, count``; ``categorie``, the old
        name of ``label``, is kept until version 0.2); Wilcoxon test and Hodges–Lehmann median
        change with its CI.

    Notes
    -----
    Only complete pairs enter.  Categories: ``δ < −tol`` baisse, ``|δ| ≤ tol`` stable,
    ``δ > tol`` hausse, ``δ = après − avant``.  Shares use the Wilson score interval.

    References
    ----------
    Wilson EB (1927) JASA 22:209–212; see :func:`wilcoxon_signed_rank`.
    """
    for col in (before, after):
        if col not in data.columns:
            raise EstimationError(f"colonne « {col} » introuvable dans les données du suivi ; "
                                  f"colonnes disponibles : {', '.join(map(str, data.columns))}.",
                                  column=col)
    if tolerance < 0:
        raise EstimationError(f"tolérance « {tolerance} » refusée ; un nombre positif ou nul "
                              "était attendu.", value=tolerance)
    x = pd.to_numeric(data[before], errors="coerce")
    y = pd.to_numeric(data[after], errors="coerce")
    ok = x.notna() & y.notna()
    delta = (y[ok] - x[ok]).to_numpy(float)
    n = len(delta)
    if n == 0:
        raise EstimationError(f"aucune personne mesurée à la fois avant (« {before} ») et après "
                              f"(« {after} ») ; au moins une paire complète était attendue.")
    tol = tolerance + 1e-9   # differences of keyed decimals carry binary noise
    dec, inc = int((delta < -tol).sum()), int((delta > tol).sum())
    sta = n - dec - inc
    rows = []
    for key, k in zip(CHANGE_KEYS, (dec, sta, inc, dec + sta)):
        lo, hi = wilson_interval(k, n, conf_level)
        rows.append({"change": key, "label": CHANGE_KEYS[key], "estimate": k / n,
                     "se": math.sqrt(k / n * (1 - k / n) / n), "ci_low": lo, "ci_high": hi,
                     "conf_level": conf_level, "method": "Wilson (score)", "n": n, "count": k})
    w = wilcoxon_signed_rank(delta, conf_level=conf_level, exact=exact, correct=correct,
                             digits_rank=digits_rank)
    shares = add_deprecated_columns(pd.DataFrame(rows).set_index("change", drop=False),
                                    {"categorie": "label"})
    return ChangeResult(label or before.removesuffix("_avant"), n, len(data), tolerance, dec, sta,
                        inc, shares,
                        float(x[ok].median()), float(y[ok].median()),
                        float(np.median(delta)), w, conf_level)
