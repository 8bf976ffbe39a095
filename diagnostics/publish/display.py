"""How the indicator table is shown: colours, units and decimals, intervals, the table's columns and rows.

Colours follow the Okabe–Ito palette (Okabe & Ito 2008), readable with the common colour-vision
deficiencies; a comparison is also written in words, never conveyed by colour alone.
"""
from __future__ import annotations

import pandas as pd

from .. import fmt
from ..config.project import REFERENCE_LEVELS

#: Colour of a comparison verdict (Fingertips-like, colour-blind safe: dark blue / pale yellow /
#: vermilion), the same as the report's badges (``report.css``): at least 3:1 between any two of
#: « mieux », « moins bien », « similaire » (WCAG 2.1, 1.4.11), the verdict also written in words.
VERDICT_COLOURS = {"mieux": "#003b5c", "similaire": "#FBF3A8",
                   "moins bien": "#E0601A", "plus élevé": "#BBBBBB", "plus bas": "#BBBBBB",
                   "non comparable": "#FFFFFF"}  # grey: significant gap on an indicator with no "good" direction
FIG_WIDTH = 680  # px: fits an A4 page with 15 mm margins at 96 dpi


# --------------------------------------------------------------------------- formatting helpers

def _na(x) -> bool:
    if x is None or x is pd.NA or x is pd.NaT:
        return True
    try:
        return bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


def _flag(x) -> bool:
    return False if _na(x) else bool(x)


def _decimals(unit: str, value=None) -> int:
    if unit == "pour 100 000":
        return 0
    return 1


def _scale(unit: str) -> float:
    return 100.0 if unit == "%" else 1.0


def format_value(value, unit: str, *, with_unit: bool = True) -> str:
    """Format an estimate in its unit: ``12,5 %``, ``8,3 pour 1 000``, ``52,0`` (score).

    Proportions are stored on the 0–1 scale (CONTRIBUTING.md) and always shown as percentages;
    with ``with_unit=False`` rates are shown without their unit (table cells whose header says it).
    """
    if _na(value):
        return "–"
    if unit == "%":
        return fmt.percent(value, 1)
    s = fmt.number(value, _decimals(unit))
    return f"{s} {unit}" if with_unit and unit and unit.startswith("pour") else s


def format_interval(lo, hi, unit: str) -> str:
    """Format a confidence interval in the unit of the estimate (``[10,2 ; 14,9]``)."""
    return fmt.interval(lo, hi, _decimals(unit), scale=_scale(unit))


def _plain(value, unit: str) -> float | None:
    """Value on the scale shown to readers (percentages for proportions)."""
    return None if _na(value) else float(value) * _scale(unit)


# --------------------------------------------------------------------------- the indicator table

REQUIRED_COLUMNS = ("quartier", "indicator_id", "label", "dimension", "unit", "direction", "estimate",
                    "ci_low", "ci_high", "n", "fragile", "suppressed")


def check_table(table: pd.DataFrame) -> pd.DataFrame:
    """Check that ``table`` has the agreed indicator-table columns; fill optional ones with NA."""
    from ..config.project import rename_legacy_columns
    from ..errors import DLSError

    if table.attrs.get("dls_checked"):
        return table
    missing = [c for c in REQUIRED_COLUMNS if c not in table.columns]
    if missing:
        raise DLSError(f"Le tableau d'indicateurs n'a pas la colonne « {missing[0]} » (colonnes attendues : "
                       f"{', '.join(REQUIRED_COLUMNS)}…).")
    t = rename_legacy_columns(table.copy())
    for c in (*(f"ref_{k}" for k in REFERENCE_LEVELS), "cmp_ensemble", "ref_reste", "p_reste",
              "cmp_reste", *(f"cmp_{k}" for k in REFERENCE_LEVELS), "suppression_reason",
              "status", "note", "numerator",
              "source", "method", "p_rao_scott"):
        if c not in t.columns:
            t[c] = pd.NA
    t.attrs["dls_checked"] = True
    return t


class TableIndex:
    """The indicator table as records, indexed once (rendering looks rows up thousands of times).

    Every function of the report that takes the indicator table also takes its index: a notebook
    that renders or summarises many quartiers builds it once (``TableIndex(tableau)``).
    """

    def __init__(self, table):
        if isinstance(table, TableIndex):
            self.__dict__.update(table.__dict__)
            return
        t = check_table(table)
        # text columns as Python objects first: records of Arrow-backed strings cost twice as much;
        # then the records of ``to_dict("records")`` (same values, same Python types), built
        # column by column with ``tolist``: three times faster (once per report)
        t = t.astype({c: object for c in t.columns if isinstance(t[c].dtype, pd.StringDtype)})
        cols = list(t.columns)
        self.records = [dict(zip(cols, row)) for row in zip(*(t[c].tolist() for c in cols))]
        self._by_dim: dict = {}
        self._rows: dict = {}
        self._cell: dict = {}
        for r in self.records:
            self._by_dim.setdefault(r["dimension"], {}).setdefault(r["indicator_id"], None)
            self._rows.setdefault(r["indicator_id"], []).append(r)
            self._cell[(r["indicator_id"], r["quartier"])] = r

    def ids(self, dimension) -> list:
        return list(self._by_dim.get(dimension, {}))

    def rows(self, iid) -> list[dict]:
        return self._rows.get(iid, [])

    def get(self, iid, quartier) -> dict | None:
        return self._cell.get((iid, quartier))

    def of_quartier(self, quartier) -> list[dict]:
        return [r for r in self.records if r["quartier"] == quartier]


def _aggregate(rows: list[dict], project) -> dict | None:
    """The « Ensemble » row of an indicator (all surveyed quartiers together), if any."""
    for x in rows:  # the cheap test first: ``project.libelles`` is built anew at each call
        if str(x["quartier"]).startswith("Ensemble") and x["quartier"] not in project.libelles:
            return x
    return None


def _row_view(r: dict, project) -> dict:
    """One indicator row formatted for the templates."""
    unit = r.get("unit") or ""
    suppressed = _flag(r.get("suppressed"))
    not_computed = (not _na(r.get("status"))) and r.get("status") == "non calculable"
    fragile = _flag(r.get("fragile")) and not suppressed
    refs = []
    for rid, rlabel in project.references.items():
        refs.append({"id": rid, "label": rlabel, "value": format_value(r.get(f"ref_{rid}"), unit, with_unit=False),
                     "cmp": None if _na(r.get(f"cmp_{rid}")) else r.get(f"cmp_{rid}")})
    if suppressed:
        reason = r.get("suppression_reason")
        shown = "secret statistique"
        detail = "" if _na(reason) else str(reason)
    elif not_computed:
        shown, detail = "non calculable", "" if _na(r.get("note")) else str(r.get("note"))
    else:
        shown, detail = format_value(r.get("estimate"), unit, with_unit=False), ""
    centre = project.reference_centrale
    label = r.get("label")
    if unit and unit != "%":
        label = f"{label} ({unit})"
    return {
        "id": r.get("indicator_id"), "label": label, "unit": unit,
        "dimension": r.get("dimension"), "source": "" if _na(r.get("source")) else r.get("source"),
        "value": shown, "ci": "" if (suppressed or not_computed) else format_interval(r.get("ci_low"), r.get("ci_high"), unit),
        "n": "–" if (_na(r.get("n")) or suppressed) else fmt.number(r.get("n")),
        "fragile": fragile, "suppressed": suppressed, "not_computed": not_computed, "detail": detail,
        "refs": refs,
        "cmp_centre": None if _na(r.get(f"cmp_{centre}")) else r.get(f"cmp_{centre}"),
        "cmp_ensemble": None if _na(r.get("cmp_ensemble")) else r.get("cmp_ensemble"),
        "cmp_reste": None if _na(r.get("cmp_reste")) else r.get("cmp_reste"),
        "method": "" if _na(r.get("method")) else str(r.get("method")),
        "note": "" if _na(r.get("note")) else str(r.get("note")),
    }
