"""Proportions of the IMPACT evaluation: single-time shares and paired before/after shares.

Paired 2×2 table convention used throughout (one person = one pair)::

                     après oui   après non
        avant oui        a           b        (b: « oui » avant, « non » après)
        avant non        c           d        (c: « non » avant, « oui » après)

The difference reported is *après − avant* ``= (c − b) / n``: positive when the share of
« oui » went up after the follow-up.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, stats

from ..errors import EstimationError
from ..results import check_conf_level
from ..stats.rates import wilson_limits

__all__ = [
    "ProportionResult", "PairedResult", "proportion", "paired_proportions",
    "paired_difference_ci", "mcnemar_exact", "paired_table",
]


def _fmt_p(p: float) -> str:
    """French p-value: ``0,018``, ``< 0,001``."""
    if p != p:
        return "–"
    if p < 0.001:
        return "< 0,001"
    return f"{p:.3f}".replace(".", ",")


def _z(conf_level: float) -> float:
    return float(stats.norm.ppf(1 - (1 - check_conf_level(conf_level)) / 2))


def wilson_interval(x, n, conf_level=0.95):
    """Wilson score interval (no continuity correction) for ``x`` successes out of ``n``.

    ``(p + z²/2n ± z·sqrt(p(1−p)/n + z²/4n²)) / (1 + z²/n)``; Wilson (1927), Newcombe (1998a)
    method 3.  Computed by :func:`diagnostics.stats.rates.wilson_limits` (one
    implementation for the whole toolkit), clipped to [0, 1] against rounding.
    """
    if n <= 0:
        return (math.nan, math.nan)
    lo, hi = wilson_limits(x, n, conf_level)
    return (max(0.0, float(lo)), min(1.0, float(hi)))


def _deprecated_limits(cls):
    """Add the deprecated ``lower``/``upper`` aliases of ``ci_low``/``ci_high`` to ``cls``.

    The library's result convention (CONTRIBUTING.md, « Forme des résultats ») names the
    limits ``ci_low``/``ci_high`` everywhere; ``lower``/``upper`` are still read, with a
    :class:`DeprecationWarning`, until version 0.2 removes them (one version).
    """
    def alias(old, new):
        def get(self):
            warnings.warn(f"{cls.__name__}.{old} is deprecated and will be removed in version "
                          f"0.2; use {cls.__name__}.{new}.", DeprecationWarning, stacklevel=2)
            return getattr(self, new)
        get.__doc__ = f"Deprecated alias of :attr:`{new}` (removed in 0.2)."
        return property(get)

    cls.lower = alias("lower", "ci_low")
    cls.upper = alias("upper", "ci_high")
    return cls


def _binomial_se(p: float, n: int) -> float:
    """Binomial standard error ``√(p(1 − p)/n)`` reported next to score intervals."""
    return math.sqrt(p * (1 - p) / n) if n > 0 and p == p else math.nan


# --------------------------------------------------------------------------- single time

@_deprecated_limits
@dataclass(frozen=True)
class ProportionResult:
    """Share of « oui » among the people asked, with a Wilson interval.

    Limits are ``ci_low``/``ci_high`` (``lower``/``upper``: deprecated aliases, removed in
    0.2); :meth:`to_frame` gives the library's result columns.
    """

    label: str
    n_yes: int
    n_asked: int
    n_total: int
    estimate: float
    ci_low: float
    ci_high: float
    conf_level: float
    method: str = "Wilson (score)"

    def to_frame(self) -> pd.DataFrame:
        """One row in the library's result shape (``kind`` ``"proportion"``)."""
        return pd.DataFrame([{
            "label": self.label, "kind": "proportion", "estimate": self.estimate,
            "se": _binomial_se(self.estimate, self.n_asked), "ci_low": self.ci_low,
            "ci_high": self.ci_high, "conf_level": self.conf_level, "method": self.method,
            "n": self.n_asked, "count": self.n_yes,
            "note": f"{self.n_yes} « oui » sur {self.n_asked} personnes interrogées "
                    f"({self.n_total - self.n_asked} sans réponse)",
        }])


def proportion(data: pd.DataFrame, column: str, *, label: str | None = None,
               conf_level: float = 0.95) -> ProportionResult:
    """Share of « oui » (1) among the people who answered ``column``, with a Wilson CI.

    Parameters
    ----------
    data : DataFrame
        One row per person; ``column`` holds 1/0, blank (NaN) when the question was not asked.
    column : str
        Binary column.
    label : str, optional
        French wording for tables.
    conf_level : float
        Confidence level.

    Returns
    -------
    ProportionResult
        ``n_asked`` (denominator: people with an answer), ``n_total`` (rows), estimate and
        Wilson limits.

    Notes
    -----
    Wilson score interval, ``(p̂ + z²/2n ± z √(p̂(1−p̂)/n + z²/4n²)) / (1 + z²/n)``.

    References
    ----------
    Wilson EB (1927) JASA 22:209–212.  Newcombe RG (1998) Stat Med 17:857–872.
    """
    if column not in data.columns:
        raise EstimationError(f"colonne « {column} » introuvable dans les données du suivi ; "
                              f"colonnes disponibles : {', '.join(map(str, data.columns))}.",
                              column=column)
    x = pd.to_numeric(data[column], errors="coerce")
    asked = x.notna()
    n, k = int(asked.sum()), int((x[asked] == 1).sum())
    lo, hi = wilson_interval(k, n, conf_level)
    return ProportionResult(label or column, k, n, len(data), k / n if n else math.nan, lo, hi,
                            conf_level)


# --------------------------------------------------------------------------- paired

def mcnemar_exact(b: int, c: int) -> dict:
    """McNemar's exact (conditional binomial) test and its mid-p version.

    Parameters
    ----------
    b, c : int
        Discordant pairs (« oui » → « non », « non » → « oui »).

    Returns
    -------
    dict
        ``p_exact``, ``p_midp``, ``discordant`` (``b + c``); McNemar's chi-square as R's
        ``mcnemar.test``: ``statistic_cc``, ``p_asymptotic_cc`` (continuity correction, R's
        default), ``statistic``, ``p_asymptotic`` (``correct = FALSE``) and ``df`` (1).

    Notes
    -----
    Under H0, ``b | b + c ~ Binomial(b + c, 1/2)``.  With ``k = min(b, c)``:
    exact ``p = min(1, 2·P(X ≤ k))`` (R ``binom.test(b, b + c)``); mid-p
    ``p = 2·P(X ≤ k) − P(X = k)`` (Fagerland et al. 2013).  Chi-square:
    ``(|b − c| − 1)² / (b + c)`` on 1 df (no correction when ``b = c``, as R), and
    ``(b − c)² / (b + c)`` without correction.  When ``b + c = 0`` the statistics are 0 and
    all p-values 1 (R returns NaN).

    References
    ----------
    McNemar Q (1947) Psychometrika 12:153–157.  Fagerland MW, Lydersen S, Laake P (2013)
    BMC Med Res Methodol 13:91.
    """
    b, c = int(b), int(c)
    m = b + c
    if m == 0:
        return {"discordant": 0, "p_exact": 1.0, "p_midp": 1.0, "statistic_cc": 0.0,
                "p_asymptotic_cc": 1.0, "statistic": 0.0, "p_asymptotic": 1.0, "df": 1}
    k = min(b, c)
    cdf = stats.binom.cdf(k, m, 0.5)
    pk = stats.binom.pmf(k, m, 0.5)
    chi = (abs(b - c) - (1 if b != c else 0)) ** 2 / m   # R: no correction when b == c
    chi0 = (b - c) ** 2 / m
    return {"discordant": m, "p_exact": float(min(1.0, 2 * cdf)),
            "p_midp": float(min(1.0, 2 * cdf - pk)), "statistic_cc": float(chi),
            "p_asymptotic_cc": float(stats.chi2.sf(chi, 1)), "statistic": float(chi0),
            "p_asymptotic": float(stats.chi2.sf(chi0, 1)), "df": 1}


def _newcombe10(a, b, c, d, conf_level):
    n = a + b + c + d
    p_after, p_before = (a + c) / n, (a + b) / n
    l1, u1 = wilson_interval(a + c, n, conf_level)   # after
    l2, u2 = wilson_interval(a + b, n, conf_level)   # before
    margins = (a + b) * (c + d) * (a + c) * (b + d)
    if margins == 0:
        phi = 0.0
    else:
        num = a * d - b * c
        if num > n / 2:
            num -= n / 2
        elif num >= 0:
            num = 0.0
        phi = num / math.sqrt(margins)
    est = p_after - p_before
    lo = est - math.sqrt(max(0.0, (p_after - l1) ** 2 + (u2 - p_before) ** 2
                             - 2 * phi * (p_after - l1) * (u2 - p_before)))
    hi = est + math.sqrt(max(0.0, (u1 - p_after) ** 2 + (p_before - l2) ** 2
                             - 2 * phi * (u1 - p_after) * (p_before - l2)))
    return lo, hi


def _tango_score(delta, c, b, n):
    """Tango's score statistic for H0: p_after − p_before = delta (c gains, b losses)."""
    A = 2 * n
    B = -c - b + (2 * n - c + b) * delta
    C = -b * delta * (1 - delta)
    q = (math.sqrt(max(0.0, B * B - 4 * A * C)) - B) / (2 * A)
    var = n * (2 * q + delta * (1 - delta))
    if var <= 0:
        return math.copysign(math.inf, c - b - n * delta) if c - b - n * delta else 0.0
    return (c - b - n * delta) / math.sqrt(var)


def _tango(a, b, c, d, conf_level):
    n = a + b + c + d
    z = _z(conf_level)
    est = (c - b) / n
    eps = 1e-12
    f_lo = lambda x: _tango_score(x, c, b, n) - z  # noqa: E731
    f_hi = lambda x: _tango_score(x, c, b, n) + z  # noqa: E731
    if est <= -1 or f_lo(-1 + eps) <= 0:
        lo = -1.0
    else:
        lo = optimize.brentq(f_lo, -1 + eps, est, xtol=1e-14, rtol=1e-14)
    if est >= 1 or f_hi(1 - eps) >= 0:
        hi = 1.0
    else:
        hi = optimize.brentq(f_hi, est, 1 - eps, xtol=1e-14, rtol=1e-14)
    return lo, hi


_METHODS = {"newcombe": ("Newcombe méthode 10 (score hybride)", _newcombe10),
            "tango": ("Tango (score asymptotique)", _tango)}


def paired_difference_ci(a: int, b: int, c: int, d: int, *, method: str = "newcombe",
                         conf_level: float = 0.95) -> tuple[float, float, float]:
    """Difference *après − avant* of paired proportions, ``(c − b)/n``, with its CI.

    Parameters
    ----------
    a, b, c, d : int
        Paired table (see module docstring): ``b`` « oui » → « non », ``c`` « non » → « oui ».
    method : {"newcombe", "tango"}
        ``"newcombe"``: Newcombe (1998) method 10, hybrid score (square-and-add Wilson limits
        with the corrected correlation φ); ``"tango"``: Tango (1998) asymptotic score interval.
    conf_level : float
        Confidence level.

    Returns
    -------
    tuple
        ``(difference, ci_low, ci_high)``.

    Notes
    -----
    *Newcombe 10*: with Wilson limits ``(l₁, u₁)`` for p_après and ``(l₂, u₂)`` for p_avant,
    ``L = θ̂ − √((p₁−l₁)² − 2φ(p₁−l₁)(u₂−p₂) + (u₂−p₂)²)`` and
    ``U = θ̂ + √((u₁−p₁)² − 2φ(u₁−p₁)(p₂−l₂) + (p₂−l₂)²)``, where
    ``φ = max(ad − bc − n/2, 0)/√(efgh)`` when ``ad > bc``, ``(ad − bc)/√(efgh)`` otherwise,
    and 0 when a margin is empty.
    *Tango*: the limits solve ``|(c − b − nΔ) / √(n(2q̃ + Δ(1−Δ)))| = z`` where ``q̃`` is the
    constrained maximum-likelihood estimate of the ``b`` cell probability,
    ``q̃ = (√(B² − 4AC) − B)/2A``, ``A = 2n``, ``B = −c − b + (2n − c + b)Δ``,
    ``C = −bΔ(1−Δ)``.

    References
    ----------
    Newcombe RG (1998) Improved confidence intervals for the difference between binomial
    proportions based on paired data. Stat Med 17:2635–2650.
    Tango T (1998) Equivalence test and confidence interval for the difference in proportions
    for the paired-sample design. Stat Med 17:891–908 (correction 1999, 18:3511).
    Fagerland MW, Lydersen S, Laake P (2017) Statistical Analysis of Contingency Tables,
    chapter 8.
    """
    a, b, c, d = (int(v) for v in (a, b, c, d))
    if min(a, b, c, d) < 0:
        raise EstimationError("effectifs négatifs dans la table appariée ; des nombres de "
                              "personnes positifs ou nuls étaient attendus.")
    n = a + b + c + d
    if n == 0:
        raise EstimationError("aucune personne avec une réponse avant et après ; au moins une "
                              "paire complète était attendue.")
    key = str(method).lower()
    if key not in _METHODS:
        raise EstimationError(f"méthode « {method} » inconnue ; « newcombe » ou « tango » était "
                              "attendu.", value=method, expected="newcombe, tango")
    lo, hi = _METHODS[key][1](a, b, c, d, conf_level)
    return (c - b) / n, lo, hi


@_deprecated_limits
@dataclass(frozen=True)
class PairedResult:
    """Before/after comparison of a binary answer on the same people."""

    label: str
    n_pairs: int
    n_total: int
    a: int
    b: int
    c: int
    d: int
    p_before: float
    p_before_ci: tuple
    p_after: float
    p_after_ci: tuple
    difference: float
    ci_low: float            # limits of the difference (``lower``/``upper``: deprecated aliases)
    ci_high: float
    conf_level: float
    method: str
    p_mcnemar_exact: float
    p_mcnemar_midp: float
    mcnemar: dict = None     # full :func:`mcnemar_exact` output (chi-square with and without cc)

    @property
    def mcnemar_statistic(self) -> float:
        """McNemar's chi-square with continuity correction (R's ``mcnemar.test`` default)."""
        return self.mcnemar["statistic_cc"]

    @property
    def p_mcnemar(self) -> float:
        """p-value of McNemar's chi-square with continuity correction (1 df)."""
        return self.mcnemar["p_asymptotic_cc"]

    @property
    def discordant(self) -> int:
        """Number of discordant pairs ``b + c``."""
        return self.b + self.c

    def to_frame(self) -> pd.DataFrame:
        """Three rows in the library's result shape: ``category`` ``before``, ``after``
        (``kind`` ``"proportion"``) and ``after_minus_before`` (``kind`` ``"difference"``, with
        McNemar's ``statistic``, ``df``, ``p_value``); ``label`` and ``note`` in French."""
        n = self.n_pairs
        base = {"n": n, "conf_level": self.conf_level}
        # SE of the paired difference: √(b + c − (c − b)²/n) / n
        se_diff = math.sqrt(max(0.0, self.b + self.c - (self.c - self.b) ** 2 / n)) / n
        rows = [
            {"label": f"{self.label} — avant", "kind": "proportion", "category": "before", "count": self.a + self.b,
             "estimate": self.p_before, "se": _binomial_se(self.p_before, n),
             "ci_low": self.p_before_ci[0], "ci_high": self.p_before_ci[1],
             "method": "Wilson (score)"},
            {"label": f"{self.label} — après", "kind": "proportion", "category": "after", "count": self.a + self.c,
             "estimate": self.p_after, "se": _binomial_se(self.p_after, n),
             "ci_low": self.p_after_ci[0], "ci_high": self.p_after_ci[1],
             "method": "Wilson (score)"},
            {"label": f"{self.label} — différence après − avant", "kind": "difference",
             "category": "after_minus_before", "count": np.nan, "estimate": self.difference, "se": se_diff, "ci_low": self.ci_low,
             "ci_high": self.ci_high, "method": self.method,
             "statistic": self.mcnemar_statistic, "df": 1, "p_value": self.p_mcnemar},
        ]
        prec = (f"{self.n_pairs} personnes avec réponse avant et après ; {self.discordant} paires "
                f"discordantes ({self.c} « non » → « oui », {self.b} « oui » → « non ») ; "
                f"McNemar exact p = {_fmt_p(self.p_mcnemar_exact)} "
                f"(mid-p {_fmt_p(self.p_mcnemar_midp)})")
        return pd.DataFrame([{**r, **base, "note": prec} for r in rows])


def paired_proportions(data: pd.DataFrame, before: str, after: str, *, label: str | None = None,
                       method: str = "newcombe", conf_level: float = 0.95) -> PairedResult:
    """Compare a binary answer before and after the follow-up on the same people.

    Parameters
    ----------
    data : DataFrame
        One row per person, ``before`` and ``after`` columns holding 1/0 (NaN when missing).
    before, after : str
        Column names (e.g. ``aise_questions_avant``, ``aise_questions_apres``).
    label : str, optional
        French wording for tables.
    method : {"newcombe", "tango"}
        CI of the paired difference (see :func:`paired_difference_ci`).
    conf_level : float
        Confidence level.

    Returns
    -------
    PairedResult
        Both proportions (Wilson CIs) on the complete pairs, the difference *après − avant*
        with its paired CI, McNemar's exact and mid-p p-values, the paired table and the
        number of discordant pairs.

    Notes
    -----
    Only people with an answer at both times enter (complete pairs); ``n_total`` counts all
    rows.  See :func:`paired_difference_ci` and :func:`mcnemar_exact` for the formulas.

    References
    ----------
    Newcombe RG (1998) Stat Med 17:2635–2650; Tango T (1998) Stat Med 17:891–908;
    McNemar Q (1947) Psychometrika 12:153–157.
    """
    for col in (before, after):
        if col not in data.columns:
            raise EstimationError(f"colonne « {col} » introuvable dans les données du suivi ; "
                                  f"colonnes disponibles : {', '.join(map(str, data.columns))}.",
                                  column=col)
    x = pd.to_numeric(data[before], errors="coerce")
    y = pd.to_numeric(data[after], errors="coerce")
    ok = x.notna() & y.notna()
    x, y = x[ok], y[ok]
    a = int(((x == 1) & (y == 1)).sum())
    b = int(((x == 1) & (y == 0)).sum())
    c = int(((x == 0) & (y == 1)).sum())
    d = int(((x == 0) & (y == 0)).sum())
    return paired_table(a, b, c, d, label=label or after.removesuffix("_apres"), method=method,
                        conf_level=conf_level, n_total=len(data))


def paired_table(a, b=None, c=None, d=None, *, label: str = "", method: str = "newcombe",
                 conf_level: float = 0.95, n_total: int | None = None) -> PairedResult:
    """Paired proportions from the 2×2 table of counts (no row-level data needed).

    Parameters
    ----------
    a, b, c, d : int
        The paired table of the module docstring (``a`` oui → oui, ``b`` oui → non, ``c``
        non → oui, ``d`` non → non); or ``a`` alone as a 2×2 array-like
        ``[[a, b], [c, d]]`` (rows avant oui/non, columns après oui/non).
    label : str
        French wording for tables.
    method : {"newcombe", "tango"}
        CI of the paired difference (see :func:`paired_difference_ci`).
    conf_level : float
        Confidence level.
    n_total : int, optional
        Rows before dropping incomplete pairs (default: the table's total).

    Returns
    -------
    PairedResult
        As :func:`paired_proportions`.

    Notes
    -----
    ``p_avant = (a + b)/n``, ``p_après = (a + c)/n`` with Wilson CIs, difference
    ``(c − b)/n`` with :func:`paired_difference_ci`, McNemar tests by :func:`mcnemar_exact`.

    References
    ----------
    Newcombe RG (1998) Stat Med 17:2635–2650; McNemar Q (1947) Psychometrika 12:153–157.

    Examples
    --------
    >>> r = paired_table([[31, 1], [13, 3]])
    >>> round(r.p_before, 4), round(r.p_after, 4), r.discordant
    (0.6667, 0.9167, 14)
    """
    if b is None and c is None and d is None:
        arr = np.asarray(a)
        if arr.shape != (2, 2):
            raise EstimationError(f"table appariée de forme {arr.shape} refusée ; une table 2×2 "
                                  "[[a, b], [c, d]] (avant oui/non × après oui/non) était attendue.",
                                  value=str(arr.shape), expected="2×2")
        (a, b), (c, d) = arr.tolist()
    elif None in (b, c, d):
        raise EstimationError("table appariée incomplète ; les quatre effectifs a, b, c et d (ou une "
                              "table 2×2) étaient attendus.")
    vals = []
    for name, v in zip("abcd", (a, b, c, d)):
        try:
            fv = float(v)
        except (TypeError, ValueError):
            fv = math.nan
        if not (fv >= 0 and fv == int(fv)):
            raise EstimationError(f"effectif « {name} » = « {v} » refusé dans la table appariée ; un "
                                  "nombre entier de personnes positif ou nul était attendu.",
                                  value=v, expected="entier ≥ 0")
        vals.append(int(fv))
    a, b, c, d = vals
    n = a + b + c + d
    diff, lo, hi = paired_difference_ci(a, b, c, d, method=method, conf_level=conf_level)
    mc = mcnemar_exact(b, c)
    return PairedResult(label, n, n if n_total is None else n_total, a, b, c, d, (a + b) / n,
                        wilson_interval(a + b, n, conf_level), (a + c) / n, wilson_interval(a + c, n, conf_level),
                        diff, lo, hi, conf_level, _METHODS[method.lower()][0], mc["p_exact"],
                        mc["p_midp"], mc)
