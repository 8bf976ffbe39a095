"""One safe writer for every workbook and CSV the toolkit writes.

Text from users (free text, ids, choice labels, headers, quartier names) is data: a cell that
starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return would be run as a formula by
Excel or LibreOffice (CSV / formula injection).  Following the OWASP guidance:

* in an XLSX written here every string is stored as a string cell, never a formula, and its text
  is kept unchanged;
* in a CSV, where there are no cell types, such a string is prefixed with a single quote ``'``.

Every XLSX/CSV output goes through :func:`write_csv`, :func:`write_cell` / :func:`write_frame`
(openpyxl worksheets) or :func:`write_workbook`, and through :func:`diagnostics.io.files.atomic_path`.

References
----------
OWASP, « CSV Injection », https://owasp.org/www-community/attacks/CSV_Injection
"""
from __future__ import annotations

import contextlib
import math
import os
import re
from pathlib import Path

import pandas as pd

from .files import atomic_path

#: Characters that make a spreadsheet treat a cell as a formula (OWASP), with their full-width forms.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


#: Characters a workbook cannot store (XML 1.0 control characters; openpyxl's
#: ``ILLEGAL_CHARACTERS_RE``), and the visible mark that replaces each of them.
ILLEGAL_CHARACTERS_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
REPLACEMENT = "\ufffd"


def storable(value):
    """Return ``(value, n)``: a string with every character a workbook cannot store replaced by « � »,
    and how many were replaced (0 for anything that is not a string)."""
    if not isinstance(value, str):
        return value, 0
    new, n = ILLEGAL_CHARACTERS_RE.subn(REPLACEMENT, value)
    return new, n


def count_unstorable(frame: pd.DataFrame) -> int:
    """Characters of ``frame`` (header and text cells) that a workbook cannot store."""
    n = sum(len(ILLEGAL_CHARACTERS_RE.findall(str(c))) for c in frame.columns)
    for j in range(frame.shape[1]):
        col = frame.iloc[:, j]
        if col.dtype == object or isinstance(col.dtype, (pd.StringDtype, pd.CategoricalDtype)):
            for v in pd.unique(col.astype(object).to_numpy()) if len(col) else []:
                if isinstance(v, str) and ILLEGAL_CHARACTERS_RE.search(v):
                    k = len(ILLEGAL_CHARACTERS_RE.findall(v))
                    n += k * int((col.astype(object) == v).sum())
    return n


def is_risky(text) -> bool:
    """True when ``text`` is a string a spreadsheet would read as a formula."""
    return isinstance(text, str) and text.startswith(FORMULA_PREFIXES)


def neutralise(value):
    """Return ``value`` safe for a CSV cell: risky strings get a leading ``'`` (OWASP)."""
    return "'" + value if is_risky(value) else value


def write_cell(ws, row: int, column: int, value):
    """Write ``value`` to an openpyxl worksheet cell; strings are always string cells.

    Returns the cell, so that the caller can style it.
    """
    if isinstance(value, float) and math.isnan(value):
        value = None
    elif value is pd.NA or value is pd.NaT:
        value = None
    value = storable(value)[0]
    cell = ws.cell(row=row, column=column)
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"          # openpyxl makes "=…" a formula otherwise
    return cell


def write_frame(ws, frame: pd.DataFrame, *, start_row: int = 1, header: bool = True):
    """Write a DataFrame (header row then values) to a worksheet through :func:`write_cell`."""
    r = start_row
    if header:
        for j, name in enumerate(frame.columns, start=1):
            write_cell(ws, r, j, str(name))
        r += 1
    for values in frame.itertuples(index=False, name=None):
        for j, v in enumerate(values, start=1):
            if hasattr(v, "item") and not isinstance(v, str):
                v = v.item()                      # numpy scalar -> Python
            write_cell(ws, r, j, v)
        r += 1
    return ws


def write_workbook(path: str | os.PathLike, sheets: dict[str, pd.DataFrame]) -> Path:
    """Write ``{sheet name: DataFrame}`` to an XLSX atomically, user text kept as text."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for name, frame in sheets.items():
        write_frame(wb.create_sheet(title=str(name)[:31]), frame)
    path = Path(path)
    with atomic_path(path) as tmp:
        wb.save(tmp)
    return path


def write_csv(frame: pd.DataFrame, path: str | os.PathLike, *, sep: str = ";", decimal: str = ",",
              encoding: str = "utf-8-sig", **kwargs) -> Path:
    """Write a CSV atomically (French by default: ``;`` and decimal comma), formulas neutralised.

    Header and every text cell pass through :func:`neutralise`; other arguments go to
    :meth:`pandas.DataFrame.to_csv`.
    """
    safe = frame.copy()
    safe.columns = [neutralise(str(c)) for c in safe.columns]
    for col in safe.columns:
        s = safe[col]
        if s.dtype == object or isinstance(s.dtype, (pd.StringDtype, pd.CategoricalDtype)):
            safe[col] = s.astype(object).map(neutralise)
    path = Path(path)
    with atomic_path(path) as tmp:
        safe.to_csv(tmp, sep=sep, decimal=decimal, encoding=encoding, index=kwargs.pop("index", False),
                    **kwargs)
    return path


def _plain(v):
    """A cell value openpyxl can store: numpy scalars as Python, NaN / NA as empty."""
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if hasattr(v, "item") and not isinstance(v, str):
        v = v.item()
    if isinstance(v, float) and math.isnan(v):
        return None
    return v


def stream_workbook(path: str | os.PathLike, sheets: dict[str, pd.DataFrame], *,
                    highlight: dict[str, "pd.Series | list[bool]"] | None = None,
                    max_rows: int | None = None, widths: bool = True) -> Path:
    """Write ``{sheet name: DataFrame}`` to an XLSX in bounded memory (openpyxl write-only mode).

    Parameters
    ----------
    path : path-like
    sheets : dict
        Sheet name → table; the header row is bold and frozen.
    highlight : dict, optional
        Sheet name → one boolean per row: rows filled in light red (e.g. rejected rows).
    max_rows : int, optional
        Write at most this many rows per sheet (the caller says so in its summary).
    widths : bool
        Size the columns to their content (measured on the first 1 000 rows).

    Notes
    -----
    Rows are written one at a time and never kept: a workbook of a million problems takes a
    few megabytes of memory.  Every string is a string cell (never a formula), as in
    :func:`write_cell`; a character a workbook cannot store (a control character of a binary
    file) is replaced by « � » (:func:`storable`; :func:`count_unstorable` counts them
    beforehand), never an error.  The output file is reserved before the first row is written:
    a folder that cannot be written is reported before any work, and a failure leaves ``path``
    as it was.
    """
    from openpyxl import Workbook

    path = Path(path)
    with atomic_path(path) as tmp:    # the folder is checked writable here, before any row is written
        wb = Workbook(write_only=True)
        try:
            _stream_sheets(wb, sheets, highlight or {}, max_rows, widths)
            wb.save(tmp)
        except BaseException:
            for ws in wb.worksheets:  # end the sheets' writers quietly (no « Exception ignored »)
                rows = getattr(ws, "_rows", None)
                writer = getattr(ws, "_writer", None)
                with contextlib.suppress(Exception):  # a writer already broken by the first error
                    if rows is not None:
                        rows.close()
                with contextlib.suppress(Exception):
                    if writer is not None:
                        writer.close()
                ws._rows = None
            raise
    return path


def _stream_sheets(wb, sheets, highlight, max_rows, widths):
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    bold = Font(bold=True)
    red = PatternFill("solid", fgColor="FDE2E2")
    for name, frame in sheets.items():
        ws = wb.create_sheet(title=storable(str(name))[0][:31])
        ws.freeze_panes = "A2"
        body = frame if max_rows is None else frame.iloc[:max_rows]
        if widths:
            sample = body.iloc[:1000]
            for j, c in enumerate(frame.columns, start=1):
                w = max([len(str(c))] + [len(str(v)) for v in sample.iloc[:, j - 1] if v is not None])
                ws.column_dimensions[get_column_letter(j)].width = min(max(10, w + 2), 80)

        def cell(v, font=None, fill=None, ws=ws):
            c = WriteOnlyCell(ws, value=storable(_plain(v))[0])
            if isinstance(c.value, str):
                c.data_type = "s"
            if font is not None:
                c.font = font
            if fill is not None:
                c.fill = fill
            return c

        ws.append([cell(str(c), font=bold) for c in frame.columns])
        marks = highlight.get(name)
        marks = None if marks is None else list(marks)[:len(body)]
        for k, values in enumerate(body.itertuples(index=False, name=None)):
            fill = red if marks is not None and marks[k] else None
            ws.append([cell(v, fill=fill) for v in values])
