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
"""
from __future__ import annotations

import pandas as pd

__all__ = ["RESULT_COLUMNS", "KINDS", "DEPRECATED_COLUMNS_ATTR", "add_deprecated_columns"]

#: Columns every estimator's result frame holds.
RESULT_COLUMNS = ("estimate", "se", "ci_low", "ci_high", "conf_level", "method", "n")

#: Values of the ``kind`` column (what a row estimates).
KINDS = ("proportion", "mean", "total", "ratio", "rate", "count", "dsr", "difference",
         "pseudomedian", "quantile", "coefficient")

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
