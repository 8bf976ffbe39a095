"""The library's result shape: column names every estimator answers with (CONTRIBUTING.md).

A result frame is tidy, one row per estimate, with English snake_case column names:

* ``estimate, se, ci_low, ci_high, conf_level, method, n`` — always (``conf_level`` the float,
  ``n`` the unweighted denominator, missing when there is none, as for a count);
* ``kind`` — what the estimate is, in :data:`KINDS` (``"proportion"``, ``"mean"``, ``"rate"``…);
* ``statistic, df, p_value`` — a test's statistic (a number), degrees of freedom, p-value;
* ``domain, variable, level, category, label, count, note`` — where they apply (``label`` and
  ``note`` hold French wording for tables; ``count`` the unweighted cases).

French words are values (labels, notes), never column names; the French headers of a table
shown to users are made by display code (:mod:`diagnostics.publish`, ``impact.evaluation_table``).
A renamed column stays in the frame for one version under its old name, listed in
``frame.attrs["deprecated_columns"]`` (old name → new name), then is removed.

A design estimator's result also keys its rows by :data:`ROW_KEYS` and keeps the covariance of
its estimates in ``frame.attrs["covariance"]`` (a :class:`Covariance`, computed when first
asked), which :func:`diagnostics.stats.survey.contrast` reads: comparisons need the result,
not the design.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from diagnostics.errors import EstimationError

__all__ = ["RESULT_COLUMNS", "ROW_KEYS", "KINDS", "DEPRECATED_COLUMNS_ATTR", "COVARIANCE_ATTR",
           "Attachment", "Covariance", "covariance_of", "add_deprecated_columns", "check_conf_level"]

#: Columns every estimator's result frame holds.
RESULT_COLUMNS = ("estimate", "se", "ci_low", "ci_high", "conf_level", "method", "n")

#: Columns that name a row of a design estimator's result (and of its contrasts and tests).
ROW_KEYS = ("domain", "variable", "level")

#: Values of the ``kind`` column (what a row estimates).
KINDS = ("proportion", "mean", "total", "ratio", "rate", "count", "dsr", "difference",
         "pseudomedian", "quantile", "coefficient", "contrast", "independence")

#: Key of ``DataFrame.attrs`` holding a result's :class:`Covariance`.
COVARIANCE_ATTR = "covariance"


def check_conf_level(conf_level) -> float:
    """The confidence level as a float strictly between 0 and 1, or a French refusal.

    The one check of a ``conf_level`` argument for every estimator of the toolkit.

    Parameters
    ----------
    conf_level : float
        E.g. ``0.95``.

    Returns
    -------
    float

    Raises
    ------
    EstimationError
        Not a number strictly between 0 and 1 (a percentage such as 95 is refused).
    """
    try:
        c = float(conf_level)
    except (TypeError, ValueError):
        c = float("nan")
    if isinstance(conf_level, bool) or not 0 < c < 1:
        raise EstimationError(f"niveau de confiance « {conf_level} » refusé : attendu un nombre "
                              "strictement compris entre 0 et 1 (par exemple 0,95).",
                              value=conf_level, expected="nombre entre 0 et 1")
    return c


class Attachment:
    """An object kept in a result's ``frame.attrs``: never copied, compared by identity.

    pandas deep-copies ``attrs`` at every operation and compares them when concatenating;
    a matrix or a table held directly would be copied each time and could not be compared.

    Parameters
    ----------
    value : object
        What is kept (e.g. the cell proportions of a Rao-Scott test).
    """

    def __init__(self, value=None):
        self.value = value

    def __deepcopy__(self, memo):
        return self


class Covariance(Attachment):
    """The covariance matrix of a result's estimates, keyed by its rows (R's ``vcov``).

    Parameters
    ----------
    keys : sequence of array-like
        The :data:`ROW_KEYS` columns (domain, variable, level) of the estimates, in the order
        of the matrix.
    compute : callable
        Returns the (k × k) matrix; called once, when the matrix is first asked for (most
        results are never contrasted).
    df : callable or float
        Degrees of freedom of the joint estimation (R's ``degf`` of the design restricted to
        the rows the estimates use), the default of a contrast's t quantile.

    Notes
    -----
    Kept in ``frame.attrs["covariance"]``: a filtered or reordered copy of the frame keeps
    it, and :meth:`of` picks the rows of that copy by their keys.  The object is immutable
    (a deep copy is itself), so pandas copies it for free.
    """

    def __init__(self, keys, compute, df):
        super().__init__()
        self._columns = [np.asarray(k, dtype=object) for k in keys]
        self._compute, self._df, self._matrix = compute, df, None

    @property
    def keys(self) -> pd.MultiIndex:
        """The rows of the matrix (:data:`ROW_KEYS`)."""
        return pd.MultiIndex.from_arrays(self._columns, names=ROW_KEYS)

    @property
    def matrix(self) -> np.ndarray:
        """The full (k × k) covariance matrix, in the order of :attr:`keys`."""
        if self._matrix is None:
            self._matrix = np.asarray(self._compute(), float)
        return self._matrix

    @property
    def df(self) -> float:
        """Degrees of freedom of the joint estimation."""
        if callable(self._df):
            self._df = float(self._df())
        return self._df

    def of(self, frame: pd.DataFrame) -> np.ndarray:
        """The covariance of the rows of ``frame`` (a result or a subset of it), in its order."""
        mine = [frame[k].to_numpy(dtype=object) for k in ROW_KEYS]
        if all(len(a) == len(b) and (a == b).all() for a, b in zip(mine, self._columns)):
            return self.matrix              # the result itself, unfiltered
        if not self.keys.is_unique:
            raise EstimationError("Contraste impossible : deux lignes du résultat ont les mêmes "
                                  "domaine, variable et modalité.")
        rows = pd.MultiIndex.from_arrays(mine)
        pos = self.keys.get_indexer(rows)
        if (pos < 0).any():
            k = rows[int(np.flatnonzero(pos < 0)[0])]
            raise EstimationError(f"Contraste impossible : la ligne {k} n'appartient pas au "
                                  "résultat dont la covariance est connue.")
        return self.matrix[np.ix_(pos, pos)]


def covariance_of(frame: pd.DataFrame) -> Covariance:
    """The :class:`Covariance` kept by a design estimator's result, or a French refusal."""
    cov = frame.attrs.get(COVARIANCE_ATTR)
    if not isinstance(cov, Covariance):
        raise EstimationError("Ce résultat ne porte pas la covariance de ses estimations : "
                              "attendu le tableau rendu par un estimateur du plan de sondage "
                              "(mean, total, ratio, proportion…).")
    return cov

#: Key of ``DataFrame.attrs`` listing the deprecated columns of a result (old → new name).
DEPRECATED_COLUMNS_ATTR = "deprecated_columns"


def add_deprecated_columns(frame: pd.DataFrame, aliases: dict, values: dict | None = None) -> pd.DataFrame:
    """Keep old column names in ``frame`` for one version (in place; returns ``frame``).

    Parameters
    ----------
    frame : DataFrame
        A result frame holding the new columns.
    aliases : dict
        Old name → new name; the old column is a copy of the new one unless ``values`` gives it.
    values : dict, optional
        Old name → values of the old column when they differ from the new column's (e.g. the
        French wording the old column held).

    Returns
    -------
    DataFrame
        ``frame`` with the old columns appended and ``frame.attrs["deprecated_columns"]``
        listing them.
    """
    values = values or {}
    for old, new in aliases.items():
        frame[old] = values[old] if old in values else frame[new]
    frame.attrs[DEPRECATED_COLUMNS_ATTR] = {**frame.attrs.get(DEPRECATED_COLUMNS_ATTR, {}),
                                            **aliases}
    return frame
