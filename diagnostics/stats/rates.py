"""Rates, proportions, counts and directly standardised rates from extracts, with CIs.

The methods are those of the UKHSA R package PHEindicatormethods (Wilson score interval for
proportions, Byar's approximation or the exact Poisson interval for counts and rates, Dobson's
method for directly standardised rates), reproduced to the last printed digit of its worked
examples (see ``tests/test_rates.py``).

Every public function follows the library's result shape (:mod:`diagnostics.results`): a tidy
table in, the same table out with the result columns ``estimate, se, ci_low, ci_high,
conf_level, method, n``, ``kind`` (``"proportion"``, ``"rate"``, ``"count"``, ``"ratio"``,
``"dsr"``) and ``multiplier`` appended (the DSR returns one row per group, with a ``note``
saying why a rate is not computed); the French name of the statistic (« taux pour 100 000 »)
is made for display by :func:`diagnostics.fmt.statistic_label`.  The column ``statistic``,
which held that French name, is deprecated: it is still appended, with the same values, until
version 0.2 removes it (``statistic`` is, across the library, a test's statistic).  The
confidence level is the
argument ``conf_level`` (a fraction in (0, 1), default 0.95), as for every estimator of the
library.  Arguments are checked first, and an input the function cannot use raises a
:class:`~diagnostics.errors.DLSError` whose French message names the row, the column, the value
and what was expected.  A missing (masked) numerator or denominator gives a missing value and
missing limits, never a zero.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from .. import fmt
from ..errors import ConfigurationError, DLSError, EstimationError, where
from ..results import add_deprecated_columns, check_conf_level
from ..collect.extracts import parse_age_band
from . import distributions as dist

__all__ = [
    "wilson_limits", "wilson_lower", "wilson_upper", "byars_lower", "byars_upper",
    "exact_poisson_lower", "exact_poisson_upper",
    "proportion_ci", "rate_ci", "count_ci", "ratio_ci", "dsr",
    "standard_population", "parse_age_band",
]

#: Below this number of events the exact Poisson interval replaces Byar's approximation,
#: and a directly standardised rate is not computed (PHEindicatormethods' rule).
SMALL_COUNT = 10


# --------------------------------------------------------------------------- argument checks
def _ret(out):
    """A Python float for scalar input, the array otherwise."""
    return float(out) if np.ndim(out) == 0 else out


def _z(conf: float) -> float:
    return float(dist.norm_ppf(conf + (1 - conf) / 2))


def _result(out: pd.DataFrame, est, se, lo, hi, conf, method, n, kind, multiplier=1.0) -> pd.DataFrame:
    """Append the library's result columns to ``out`` (in place) and return it.

    The deprecated ``statistic`` column (the French name of ``kind``) is appended too, for one
    version.
    """
    out["estimate"] = est
    out["se"] = se
    out["ci_low"] = lo
    out["ci_high"] = hi
    out["conf_level"] = conf
    out["method"] = method
    out["n"] = n
    out["kind"] = kind
    out["multiplier"] = float(multiplier)
    return add_deprecated_columns(out, {"statistic": "kind"},
                                  {"statistic": fmt.statistic_label(kind, multiplier)})


def _row_label(data: pd.DataFrame, idx) -> str:
    """Excel row of ``idx`` when the table came from a file (column ``ligne``), else its index."""
    if "ligne" in data.columns:
        try:
            return str(int(data.at[idx, "ligne"]))
        except (TypeError, ValueError):
            pass
    return str(idx)


def _numeric_column(data: pd.DataFrame, col: str, *, allow_zero: bool = True) -> pd.Series:
    """Return ``data[col]`` as floats; NaN stays NaN (masked); bad values raise a French error."""
    if col not in data.columns:
        raise DLSError(
            f"{where(data.attrs.get('fichier'))}la colonne « {col} » est absente du tableau ; "
            f"colonnes présentes : {', '.join(map(str, data.columns))}.", column=col)
    values = pd.to_numeric(data[col], errors="coerce").astype(float)
    bad = data[col].notna() & values.isna()
    neg = values < 0 if allow_zero else values <= 0
    for mask, expected in ((bad, "un nombre"),
                           (neg, "un nombre positif ou nul" if allow_zero else "un nombre strictement positif")):
        if mask.any():
            idx = mask[mask].index[0]
            row = _row_label(data, idx)
            raise DLSError(
                f"{where(data.attrs.get('fichier'), row, col)}la valeur « {data.at[idx, col]} » "
                f"ne convient pas ; {expected} est attendu.",
                file=data.attrs.get("fichier"), row=row, column=col, value=data.at[idx, col],
                expected=expected)
    return values


def _check_le(data: pd.DataFrame, x: str, n: str, xs: pd.Series, ns: pd.Series) -> None:
    over = xs > ns
    if over.any():
        idx = over[over].index[0]
        row = _row_label(data, idx)
        raise DLSError(
            f"{where(data.attrs.get('fichier'), row, x)}le numérateur {fmt.number(xs[idx], 2)} dépasse "
            f"le dénominateur « {n} » ({fmt.number(ns[idx], 2)}) ; pour une proportion, le numérateur "
            "doit être inférieur ou égal au dénominateur.",
            file=data.attrs.get("fichier"), row=row, column=x, value=xs[idx],
            expected="numérateur ≤ dénominateur")


# --------------------------------------------------------------------------- elementary limits
def wilson_limits(x, n, conf_level=0.95):
    """Wilson score limits of a proportion ``x / n`` (the toolkit's one Wilson formula).

    Parameters
    ----------
    x, n : array_like
        Number of cases and sample size (``0 <= x <= n``, ``n > 0``); non-integer values are
        allowed (an effective sample size, :func:`diagnostics.stats.survey.proportion_ci`).
    conf_level : float
        Confidence level in (0, 1).

    Returns
    -------
    (numpy.ndarray or float, numpy.ndarray or float)
        Lower and upper limits.

    Notes
    -----
    .. math:: L, U = \\frac{2x + z^2 \\mp z\\sqrt{z^2 + 4x(1 - x/n)}}{2(n + z^2)}

    with :math:`z` the :math:`1 - \\alpha/2` normal quantile.

    References
    ----------
    Wilson EB. J Am Stat Assoc 1927;22:209-12; PHEindicatormethods, ``R/Wilson.R``.
    """
    z = _z(check_conf_level(conf_level))
    x = np.asarray(x, dtype=float)
    n = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        half = z * np.sqrt(z**2 + 4 * x * (1 - x / n))
        lo = (2 * x + z**2 - half) / 2 / (n + z**2)
        hi = (2 * x + z**2 + half) / 2 / (n + z**2)
    return _ret(lo), _ret(hi)


def wilson_lower(x, n, conf_level=0.95):
    """Lower Wilson score limit of a proportion ``x / n``.

    Parameters
    ----------
    x, n : array_like
        Number of cases and sample size (``0 <= x <= n``, ``n > 0``).
    conf_level : float
        Confidence level in (0, 1).

    Returns
    -------
    numpy.ndarray or float

    Notes
    -----
    .. math:: L = \\frac{2x + z^2 - z\\sqrt{z^2 + 4x(1 - x/n)}}{2(n + z^2)}

    with :math:`z` the :math:`1 - \\alpha/2` normal quantile.

    References
    ----------
    Wilson EB. Probable inference, the law of succession, and statistical inference.
    J Am Stat Assoc 1927;22:209-12.  Newcombe RG, Altman DG. Proportions and their differences.
    In: Altman DG et al. (eds). Statistics with confidence, 2nd edn. BMJ Books, 2000.
    PHEindicatormethods, ``R/Wilson.R``.

    Examples
    --------
    >>> round(wilson_lower(65, 100), 6)
    0.552544
    """
    return wilson_limits(x, n, conf_level)[0]


def wilson_upper(x, n, conf_level=0.95):
    """Upper Wilson score limit of a proportion ``x / n`` (see :func:`wilson_lower`).

    Notes
    -----
    .. math:: U = \\frac{2x + z^2 + z\\sqrt{z^2 + 4x(1 - x/n)}}{2(n + z^2)}

    Examples
    --------
    >>> round(wilson_upper(65, 100), 6)
    0.736358
    """
    return wilson_limits(x, n, conf_level)[1]


def byars_lower(x, conf_level=0.95):
    """Lower limit of a Poisson count ``x`` by Byar's approximation.

    Notes
    -----
    .. math:: L = x\\left(1 - \\frac{1}{9x} - \\frac{z}{3\\sqrt{x}}\\right)^3

    References
    ----------
    Breslow NE, Day NE. Statistical methods in cancer research, vol. II. IARC, 1987.
    PHEindicatormethods, ``R/Byars.R``.

    Examples
    --------
    >>> round(byars_lower(65), 4)
    50.1632
    """
    z = _z(check_conf_level(conf_level))
    x = np.asarray(x, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = x * (1 - 1 / (9 * x) - z / (3 * np.sqrt(x))) ** 3
    return _ret(out)


def byars_upper(x, conf_level=0.95):
    """Upper limit of a Poisson count ``x`` by Byar's approximation.

    Notes
    -----
    .. math:: U = (x+1)\\left(1 - \\frac{1}{9(x+1)} + \\frac{z}{3\\sqrt{x+1}}\\right)^3

    Examples
    --------
    >>> round(byars_upper(65), 4)
    82.8491
    """
    z = _z(check_conf_level(conf_level))
    x = np.asarray(x, dtype=float) + 1
    out = x * (1 - 1 / (9 * x) + z / (3 * np.sqrt(x))) ** 3
    return _ret(out)


def exact_poisson_lower(x, conf_level=0.95):
    """Exact (Garwood) lower limit of a Poisson count: :math:`\\chi^2_{\\alpha/2,\\,2x} / 2` (0 when x = 0).

    References
    ----------
    Armitage P, Berry G. Statistical methods in medical research, 4th edn. Blackwell, 2002.
    """
    conf = check_conf_level(conf_level)
    x = np.asarray(x, dtype=float)
    with np.errstate(invalid="ignore"):
        out = np.where(x > 0, dist.chi2_ppf((1 - conf) / 2, 2 * np.where(x > 0, x, 1)) / 2, 0.0)
    out = np.where(np.isnan(x), np.nan, out)
    return _ret(out)


def exact_poisson_upper(x, conf_level=0.95):
    """Exact (Garwood) upper limit of a Poisson count: :math:`\\chi^2_{1-\\alpha/2,\\,2x+2} / 2`."""
    conf = check_conf_level(conf_level)
    x = np.asarray(x, dtype=float)
    out = dist.chi2_ppf(conf + (1 - conf) / 2, 2 * x + 2) / 2
    return _ret(out)


def _poisson_limits(x: np.ndarray, conf_level: float):
    """Exact limits below :data:`SMALL_COUNT` events, Byar's from then on (PHEindicatormethods)."""
    small = x < SMALL_COUNT
    with np.errstate(invalid="ignore", divide="ignore"):
        lo = np.where(small, exact_poisson_lower(x, conf_level), byars_lower(x, conf_level))
        hi = np.where(small, exact_poisson_upper(x, conf_level), byars_upper(x, conf_level))
    method = np.where(np.isnan(x), None, np.where(small, "Poisson exact", "Byars"))
    lo = np.where(np.isnan(x), np.nan, lo)
    hi = np.where(np.isnan(x), np.nan, hi)
    return lo, hi, method


# --------------------------------------------------------------------------- table verbs
def proportion_ci(data: pd.DataFrame, x: str, n: str, *, conf_level=0.95, multiplier: float = 1.0):
    """Proportions ``x / n`` with Wilson score confidence limits.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per territory × indicator × year (× age group × sex).
    x, n : str
        Columns of cases and denominators.  Missing (masked) values give missing results.
    conf_level : float, default 0.95
    multiplier : float, default 1
        1 keeps the 0–1 scale used across the toolkit; 100 gives percentages.

    Returns
    -------
    pandas.DataFrame
        A copy of ``data`` with ``estimate, se, ci_low, ci_high, conf_level, method, n``
        (``n`` the denominator), ``kind`` (``"proportion"``), ``multiplier`` and the deprecated
        ``statistic``.

    Notes
    -----
    :math:`p = x/n`, limits from :func:`wilson_lower` and :func:`wilson_upper`, all multiplied by
    ``multiplier``; ``se`` is the binomial standard error :math:`\\sqrt{p(1-p)/n}` (the Wilson
    limits do not use it).  Requires :math:`0 \\le x \\le n` and :math:`n > 0`.

    References
    ----------
    PHEindicatormethods, ``phe_proportion`` (``R/Proportions.R``).

    Examples
    --------
    >>> df = pd.DataFrame({"obs": [87], "pop": [131]})
    >>> round(float(proportion_ci(df, "obs", "pop")["ci_low"].iloc[0]), 9)
    0.579592491
    """
    conf = check_conf_level(conf_level)
    xs = _numeric_column(data, x)
    ns = _numeric_column(data, n, allow_zero=False)
    _check_le(data, x, n, xs, ns)
    p = xs / ns
    lo, hi = wilson_limits(xs.to_numpy(), ns.to_numpy(), conf)
    return _result(data.copy(), p * multiplier, np.sqrt(p * (1 - p) / ns) * multiplier,
                   lo * multiplier, hi * multiplier, conf, "Wilson", ns, "proportion", multiplier)


def rate_ci(data: pd.DataFrame, x: str, n: str, *, conf_level=0.95, multiplier: float = 100_000):
    """Crude rates ``x / n × multiplier`` with Byar's (≥ 10 events) or exact Poisson limits.

    Parameters
    ----------
    data : pandas.DataFrame
    x, n : str
        Columns of events and of the population (or person-time) at risk.
    conf_level : float, default 0.95
    multiplier : float, default 100 000
        1 000 for a rate « pour 1 000 habitants ».

    Returns
    -------
    pandas.DataFrame
        A copy of ``data`` with ``estimate, se, ci_low, ci_high, conf_level, method, n``,
        ``kind`` (``"rate"``), ``multiplier`` and the deprecated ``statistic``; ``method`` is
        ``"Byars"`` or ``"Poisson exact"`` row by row, ``n`` the population, ``se`` the
        Poisson standard error :math:`\\sqrt{x}/n \\cdot m`.

    Notes
    -----
    :math:`r = x/n \\cdot m`; limits :math:`L(x)/n \\cdot m` and :math:`U(x)/n \\cdot m` with
    :math:`L, U` the exact Poisson limits (:math:`\\chi^2_{\\alpha/2, 2x}/2`,
    :math:`\\chi^2_{1-\\alpha/2, 2x+2}/2`) when :math:`x < 10`, Byar's approximation otherwise.

    References
    ----------
    PHEindicatormethods, ``phe_rate`` (``R/Rates.R``); Breslow & Day (1987); Armitage & Berry (2002).
    """
    conf = check_conf_level(conf_level)
    xs = _numeric_column(data, x)
    ns = _numeric_column(data, n, allow_zero=False)
    lo, hi, method = _poisson_limits(xs.to_numpy(), conf)
    return _result(data.copy(), xs / ns * multiplier, np.sqrt(xs) / ns * multiplier,
                   lo / ns.to_numpy() * multiplier, hi / ns.to_numpy() * multiplier, conf, method,
                   ns, "rate", multiplier)


def count_ci(data: pd.DataFrame, x: str, *, conf_level=0.95):
    """Counts of events with Poisson confidence limits (exact below 10, Byar's from 10).

    Returns
    -------
    pandas.DataFrame
        A copy of ``data`` with ``estimate`` (= the count), ``se`` (:math:`\\sqrt{x}`),
        ``ci_low, ci_high, conf_level, method, n`` (missing: a count has no denominator),
        ``kind`` (``"count"``), ``multiplier`` (1) and the deprecated ``statistic`` (« nombre »).

    Notes
    -----
    Same limits as :func:`rate_ci` with :math:`n = 1` and multiplier 1.
    """
    conf = check_conf_level(conf_level)
    xs = _numeric_column(data, x)
    lo, hi, method = _poisson_limits(xs.to_numpy(), conf)
    return _result(data.copy(), xs, np.sqrt(xs), lo, hi, conf, method, np.nan, "count")


def ratio_ci(data: pd.DataFrame, observed: str, expected: str, *, conf_level=0.95,
             multiplier: float = 1.0):
    """Ratios observed / expected (e.g. indirectly standardised ratios) with Poisson limits.

    Parameters
    ----------
    observed, expected : str
        Columns of observed events and of expected events (``expected > 0``).
    multiplier : float, default 1
        100 gives the usual « indice comparatif » scale (France = 100).

    Notes
    -----
    :math:`R = O/E \\cdot m`, limits :math:`L(O)/E \\cdot m`, :math:`U(O)/E \\cdot m` with
    the exact Poisson limits when :math:`O < 10`, Byar's otherwise (the expected count is
    treated as fixed); ``se`` :math:`= \\sqrt{O}/E \\cdot m`, ``n`` the observed count,
    ``kind`` ``"ratio"``.

    References
    ----------
    PHEindicatormethods, ``calculate_ISRatio`` (``R/ISRatio.R``).
    """
    conf = check_conf_level(conf_level)
    os_ = _numeric_column(data, observed)
    es = _numeric_column(data, expected, allow_zero=False)
    lo, hi, method = _poisson_limits(os_.to_numpy(), conf)
    return _result(data.copy(), os_ / es * multiplier, np.sqrt(os_) / es * multiplier,
                   lo / es.to_numpy() * multiplier, hi / es.to_numpy() * multiplier, conf, method,
                   os_, "ratio", multiplier)


# --------------------------------------------------------------------------- age bands
def _read_standard_populations(path=None) -> pd.DataFrame:
    if path is None:
        ref = resources.files("diagnostics") / "resources" / "config" / "populations_standard.csv"
        text = ref.read_text(encoding="utf-8")
        src = "populations_standard.csv"
    else:
        text = Path(path).read_text(encoding="utf-8-sig")
        src = str(path)
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    rows = [ln.split(";") for ln in lines]
    if not rows or [c.strip() for c in rows[0]] != ["population", "classe_age", "effectif"]:
        raise ConfigurationError(
            f"« {src} » : l'en-tête doit être « population;classe_age;effectif ».", file=src)
    df = pd.DataFrame([[c.strip() for c in r] for r in rows[1:]], columns=["population", "classe_age", "effectif"])
    df["effectif"] = pd.to_numeric(df["effectif"].str.replace(",", "."), errors="coerce")
    if df["effectif"].isna().any() or (df["effectif"] < 0).any():
        i = int(df.index[df["effectif"].isna() | (df["effectif"] < 0)][0])
        raise ConfigurationError(
            f"{where(src, i + 2, 'effectif')}un effectif positif ou nul est attendu.", file=src)
    return df


def standard_population(name: str = "esp2013", bands=None, *, path=None) -> pd.Series:
    """A standard population, optionally regrouped into the age bands of an extract.

    Parameters
    ----------
    name : str, default "esp2013"
        A population of ``diagnostics/resources/config/populations_standard.csv`` (or of ``path``):
        ``"esp2013"`` (European Standard Population 2013) or ``"esp1976"``.
    bands : list of str, optional
        Age bands wanted (e.g. ``["0-14", "15-29", …, "75+"]``).  Each must be a union of
        standard bands; bands may cover only part of the age range (e.g. ``65-74``, ``75+``).
    path : path-like, optional
        Another file with columns ``population;classe_age;effectif``.

    Returns
    -------
    pandas.Series
        Weights indexed by band label.

    Examples
    --------
    >>> standard_population("esp2013", ["0-14", "15-64", "65+"]).tolist()
    [16000.0, 64500.0, 19500.0]
    """
    table = _read_standard_populations(path)
    sub = table[table["population"] == name]
    if sub.empty:
        raise ConfigurationError(
            f"La population standard « {name} » n'existe pas ; populations disponibles : "
            f"{', '.join(sorted(table['population'].unique()))}.", value=name)
    std = pd.Series(sub["effectif"].to_numpy(dtype=float), index=sub["classe_age"].to_numpy())
    if bands is None:
        return std
    spans = {b: parse_age_band(b) for b in std.index}
    out = {}
    for band in bands:
        lo, hi = parse_age_band(band)
        total = 0.0
        for b, (slo, shi) in spans.items():
            if slo >= lo and shi <= hi:
                total += std[b]
            elif not (shi < lo or slo > hi):
                raise DLSError(
                    f"La classe d'âge « {band} » coupe la classe « {b} » de la population standard "
                    f"« {name} » ; les limites des classes doivent coïncider avec celles de la "
                    "population standard.", value=band, expected="limites communes")
        out[band] = total
    return pd.Series(out, dtype=float)


def _stdpop_for(stdpop, bands) -> pd.Series:
    if isinstance(stdpop, str):
        return standard_population(stdpop, bands)
    if isinstance(stdpop, pd.Series):
        weights = stdpop.astype(float)
    elif isinstance(stdpop, Mapping):
        weights = pd.Series({str(k): float(v) for k, v in stdpop.items()})
    else:
        raise DLSError("La population standard doit être un nom (« esp2013 »), un dictionnaire "
                       "classe → effectif ou une série pandas.", expected="population standard")
    missing = [b for b in bands if b not in weights.index]
    if missing:
        raise DLSError(f"La population standard ne contient pas la classe d'âge « {missing[0]} » ; "
                       f"classes disponibles : {', '.join(map(str, weights.index))}.",
                       value=missing[0], expected="classe de la population standard")
    return weights.loc[list(bands)]


# --------------------------------------------------------------------------- DSR
def dsr(data: pd.DataFrame, x: str, n: str, age: str, *, by=None, stdpop="esp2013",
        conf_level=0.95, multiplier: float = 100_000) -> pd.DataFrame:
    """Directly age-standardised rates with Dobson confidence limits.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per group × age band.
    x, n : str
        Columns of events and population per age band.
    age : str
        Column of age band labels; bands are matched to the standard population by label,
        not by position (so the row order does not matter).
    by : str or list of str, optional
        Grouping columns (territory, indicator, year, sex…); one DSR per group.
    stdpop : str, mapping or pandas.Series, default "esp2013"
        Name of a standard population of ``populations_standard.csv`` (regrouped into the
        bands of the data), or weights per band label.
    conf_level : float, default 0.95
    multiplier : float, default 100 000

    Returns
    -------
    pandas.DataFrame
        One row per group: ``by`` columns, ``total_count, total_pop, estimate, se, ci_low,
        ci_high, conf_level, method`` (``"Dobson"``), ``n`` (= ``total_pop``), ``kind``
        (``"dsr"``), ``multiplier``, ``note`` and the deprecated ``statistic``; ``se`` is
        :math:`\\sqrt{V}`.  When the total count is below 10 or an age band is masked, the
        estimate and limits are missing and ``note`` says why (in French; empty otherwise).

    Notes
    -----
    With :math:`w_i` the standard weights, :math:`x_i, n_i` the events and population in band
    :math:`i`, :math:`X = \\sum x_i`:

    .. math::
        DSR = \\frac{\\sum_i w_i x_i / n_i}{\\sum_i w_i}, \\qquad
        V = \\frac{\\sum_i x_i (w_i / n_i)^2}{(\\sum_i w_i)^2}

    .. math::
        L = DSR + \\sqrt{V / X}\\,(B_L(X) - X), \\qquad U = DSR + \\sqrt{V / X}\\,(B_U(X) - X)

    with :math:`B_L, B_U` Byar's limits of the total count (Dobson's method).

    References
    ----------
    Dobson AJ, Kuulasmaa K, Eberle E, Scherer J. Confidence intervals for weighted sums of
    Poisson parameters. Stat Med 1991;10:457-62.  PHEindicatormethods, ``phe_dsr``
    (``R/DSR.R``).  Eurostat, Revision of the European Standard Population, 2013.
    """
    conf = check_conf_level(conf_level)
    by = [] if by is None else ([by] if isinstance(by, str) else list(by))
    for col in [age, *by]:
        if col not in data.columns:
            raise DLSError(f"La colonne « {col} » est absente du tableau ; colonnes présentes : "
                           f"{', '.join(map(str, data.columns))}.", column=col)
    xs = _numeric_column(data, x)
    ns = _numeric_column(data, n, allow_zero=False)
    work = pd.DataFrame({"_x": xs, "_n": ns, "_age": data[age].astype(str)}, index=data.index)
    for col in by:
        work[col] = data[col]
    if work.empty:
        raise EstimationError("Le tableau est vide : aucun taux standardisé ne peut être calculé.")
    # one pass over all groups (vectorised: ~1 500 QPV × 4 levels of territory in one call)
    key = work.groupby(by, sort=False, dropna=False).ngroup().to_numpy() if by else np.zeros(len(work), int)
    work["_key"] = key
    dup = work.duplicated(["_key", "_age"])
    if dup.any():
        first = work[dup].iloc[0]
        label = ", ".join(f"{c} = {first[c]}" for c in by) or "tableau"
        raise DLSError(f"Groupe {label} : la classe d'âge « {first['_age']} » apparaît "
                       "deux fois ; une ligne par classe d'âge est attendue.", column=age, value=first["_age"])
    # standard weights per group, one lookup per distinct set of age bands
    bands = work.groupby("_key", sort=True)["_age"].agg(tuple)
    cache: dict[tuple, pd.Series] = {}
    weight_of = {}
    for k, sig in bands.items():
        if sig not in cache:
            cache[sig] = _stdpop_for(stdpop, list(sig))
        weight_of[k] = cache[sig]
    w = np.empty(len(work))
    for k, idx in work.groupby("_key", sort=True).indices.items():
        w[idx] = weight_of[k].to_numpy()
    gx, gn = work["_x"].to_numpy(dtype=float), work["_n"].to_numpy(dtype=float)
    parts = pd.DataFrame({"_key": key, "x": np.nan_to_num(gx), "n": gn, "w": w,
                          "xnan": np.isnan(gx), "nnan": np.isnan(gn),
                          "a": w * gx / gn, "v": gx * (w / gn) ** 2})
    g = parts.groupby("_key", sort=True)
    total = g["x"].sum().to_numpy()
    xnan, nnan = g["xnan"].any().to_numpy(), g["nnan"].any().to_numpy()
    pop = np.where(nnan, np.nan, g["n"].sum(min_count=1).to_numpy())
    wsum = g["w"].sum().to_numpy()
    masked = xnan | nnan
    small = ~masked & (total < SMALL_COUNT)
    ok = ~masked & ~small
    with np.errstate(invalid="ignore", divide="ignore"):
        value = g["a"].sum().to_numpy() / wsum
        var = g["v"].sum().to_numpy() / wsum ** 2
        scale = np.sqrt(var / total)
        lo = value + scale * (np.asarray(byars_lower(total, conf)) - total)
        hi = value + scale * (np.asarray(byars_upper(total, conf)) - total)
    nan = np.full(len(total), np.nan)
    out = work.drop_duplicates("_key").sort_values("_key")[by].reset_index(drop=True)
    out["total_count"] = np.where(xnan, np.nan, total)
    out["total_pop"] = pop
    out["estimate"] = np.where(ok, value * multiplier, nan)
    out["se"] = np.where(ok, np.sqrt(var) * multiplier, nan)
    out["ci_low"] = np.where(ok, lo * multiplier, nan)
    out["ci_high"] = np.where(ok, hi * multiplier, nan)
    out["conf_level"] = conf
    out["method"] = "Dobson"
    out["n"] = out["total_pop"]
    out["kind"] = "dsr"
    out["multiplier"] = float(multiplier)
    out["note"] = np.select([masked, small], ["non calculé : effectif masqué dans une classe d'âge",
                                               f"non calculé : moins de {SMALL_COUNT} évènements"], "")
    label = fmt.statistic_label("dsr", multiplier)
    return add_deprecated_columns(out, {"statistic": "kind"},
                                  {"statistic": out["note"].where(out["note"] != "", label)})
