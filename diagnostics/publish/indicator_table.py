"""The indicator table as analysts open it: one XLSX and one French CSV, the same everywhere.

``dls indicators`` and ``dls build`` both write the protected indicator table
(:func:`diagnostics.engine.indicators.compute_indicators`, after disclosure control) through
:func:`write_analyst_table`:

``indicateurs.xlsx``
    sheet « Indicateurs »: French headers, one row per quartier × indicator, proportions stored
    on the 0–1 scale with the Excel number format ``0.0%`` (Excel shows 22,3 % and computes with
    0,223), other units with one decimal, counts as whole numbers, oui/non for the flags; column
    widths set, filters on the header, header row frozen.  Sheet « Définitions »: one row per
    indicator of the catalogue (definition, dimension, source, numerator, filter, unit,
    direction, method).
``indicateurs.csv``
    the same table for those who prefer a CSV, as French Excel reads it: ``;`` separator,
    decimal comma, UTF-8 with BOM, French headers, oui/non, percentages on the 0–100 scale
    (column « Unité » says « % »).
``indicateurs.xlsx`` sheets « Évolution » and « Tendances », ``indicateurs_evolution.csv``
    when the project names a previous diagnostic or has extract series: each quartier ×
    indicator against the previous diagnostic (previous value, difference and its interval, p,
    verdict), and the trend test of each extract series.

The machine-readable table (English column names of the agreed indicator table,
``CONTRIBUTING.md``; proportions 0–1; decimal point; ``True``/``False``) is
:func:`write_machine_table`, for other programs only.

Every file goes through :mod:`diagnostics.io.spreadsheet` (user text never a live formula).
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..io.files import atomic_path
from ..io.spreadsheet import write_csv, write_frame

#: Reference levels of the table (``ref_<id>``, ``cmp_<id>``) and their default labels.
_REFERENCES = {"commune": "Commune", "departement": "Département", "region": "Région", "france": "France",
               "qpv": "Ensemble des QPV", "hors_qpv": "Hors QPV (mêmes unités urbaines)"}

#: Percentage format of Excel (value stored 0–1).
PERCENT_FORMAT = "0.0%"
DECIMAL_FORMAT = "0.0"
INTEGER_FORMAT = "0"

#: Value columns: on the indicator's unit scale (percentages for « % » indicators).
_VALUES = ("estimate", "ci_low", "ci_high", *(f"ref_{k}" for k in _REFERENCES), "ref_reste")


def french_columns(references: dict[str, str] | None = None) -> dict[str, str]:
    """English column of the indicator table -> French header of the analyst's table.

    Parameters
    ----------
    references : dict, optional
        ``{reference id: label}`` of the project (« Chambéry », « Savoie »…); the default labels
        otherwise.
    """
    refs = {**_REFERENCES, **(references or {})}
    cols = {
        "quartier": "Quartier", "dimension": "Dimension", "label": "Indicateur", "source": "Source",
        "unit": "Unité", "estimate": "Valeur", "ci_low": "IC bas", "ci_high": "IC haut",
        "n": "Effectif (répondants ou population)", "numerator": "Cas",
        "fragile": "Estimation fragile", "suppressed": "Masqué (secret statistique)",
        "suppression_reason": "Motif du masquage",
    }
    for r, lib in refs.items():
        cols[f"ref_{r}"] = f"Référence {lib}"
        cols[f"refstatus_{r}"] = f"Statut référence {lib}"
        cols[f"refsource_{r}"] = f"Source référence {lib}"
        cols[f"refyear_{r}"] = f"Année référence {lib}"
    cols["cmp_ensemble"] = "Comparaison à l'ensemble des quartiers (quartier compris)"
    cols["ref_reste"] = "Valeur des autres quartiers (quartier exclu)"
    cols["p_reste"] = "p (écart aux autres quartiers)"
    cols["cmp_reste"] = "Comparaison aux autres quartiers"
    for r, lib in refs.items():
        cols[f"cmp_{r}"] = f"Comparaison {lib}"
    cols.update({"p_rao_scott": "p (Rao-Scott)", "direction": "Sens", "status": "Statut",
                 "method": "Méthode", "note": "Note", "indicator_id": "Identifiant"})
    return cols


_DIRECTIONS = {"hausse_favorable": "hausse favorable", "hausse_defavorable": "hausse défavorable",
               "neutre": "neutre"}
_SOURCES = {"questionnaire": "questionnaire habitants", "extrait": "extrait ORS / Assurance Maladie"}


def _dimension_labels() -> dict[str, str]:
    from ..config.questionnaire import load_dimensions

    return load_dimensions()


def _is_percent(table: pd.DataFrame) -> pd.Series:
    return table["unit"].astype(str).str.strip().eq("%")


def reference_details(table: pd.DataFrame, sources, keys) -> pd.DataFrame:
    """``table`` with, beside each ``ref_<key>``, its status (publiée / illustrative), source and year.

    ``sources`` is :class:`diagnostics.publish.sources.IndicatorSources`; a row without a
    reference value gets empty cells.
    """
    t = table.copy()
    for key in keys:
        if f"ref_{key}" not in t:
            continue
        info = [sources.references.get((iid, key)) if not pd.isna(v) else None
                for iid, v in zip(t["indicator_id"], t[f"ref_{key}"])]
        t[f"refstatus_{key}"] = [None if i is None else ("illustrative" if i["illustrative"] else "publiée")
                                 for i in info]
        t[f"refsource_{key}"] = [None if i is None else i["source"] for i in info]
        t[f"refyear_{key}"] = [None if i is None else i["period"] for i in info]
    return t


def analyst_frame(table: pd.DataFrame, references: dict[str, str] | None = None,
                  dimensions: dict[str, str] | None = None, sources=None) -> pd.DataFrame:
    """The indicator table with French headers and words, values on their stored scale.

    Proportions stay on the 0–1 scale (the XLSX formats them as percentages; the CSV multiplies
    them by 100).  Flags become « oui » / « non »; counts are whole numbers.

    Parameters
    ----------
    table : DataFrame
        The indicator table (English columns, ``CONTRIBUTING.md``).
    references : dict, optional
        Reference labels of the project.
    dimensions : dict, optional
        ``{dimension id: French label}``.
    sources : IndicatorSources, optional
        Adds, beside each reference value, its status, source and year (:func:`reference_details`).

    Returns
    -------
    DataFrame
        Columns in the order of :func:`french_columns` (those present in ``table``).
    """
    cols = french_columns(references)
    if sources is not None:
        table = reference_details(table, sources, {**_REFERENCES, **(references or {})})
    out = table[[c for c in cols if c in table.columns]].copy()
    for c in ("fragile", "suppressed"):
        if c in out:
            out[c] = out[c].map(lambda v: None if pd.isna(v) else ("oui" if bool(v) else "non"))
    for c in ("n", "numerator"):
        if c in out:
            out[c] = pd.to_numeric(out[c], errors="coerce").round().astype("Int64")
    for c in _VALUES + ("p_rao_scott", "p_reste"):
        if c in out:
            out[c] = pd.to_numeric(out[c], errors="coerce")
    if "direction" in out:
        out["direction"] = out["direction"].map(lambda v: _DIRECTIONS.get(v, v))
    if "source" in out:
        out["source"] = out["source"].map(lambda v: _SOURCES.get(v, v))
    if dimensions and "dimension" in out:
        out["dimension"] = out["dimension"].map(lambda v: dimensions.get(v, v))
    return out.rename(columns=cols).reset_index(drop=True)


def definitions_frame(catalogue) -> pd.DataFrame:
    """The sheet « Définitions »: one row per indicator of the catalogue, French headers."""
    d = catalogue.to_frame()
    d["sens"] = d["sens"].map(lambda v: _DIRECTIONS.get(v, v))
    d["source"] = d["source"].map(lambda v: _SOURCES.get(v, v))
    dims = _dimension_labels()
    d["dimension"] = d["dimension"].map(lambda v: dims.get(v, v))
    return d.rename(columns={
        "id": "Identifiant", "libelle": "Indicateur", "definition": "Définition", "dimension": "Dimension",
        "source": "Source", "question": "Question ou score", "code_extrait": "Code de l'extrait",
        "numerateur": "Réponses comptées (codes)", "seuil": "Seuil", "filtre": "Champ (filtre)",
        "unite": "Unité", "sens": "Sens", "methode": "Méthode"})


#: French headers of the sheet « Évolution » (columns of :data:`diagnostics.engine.evolution.EVOLUTION_COLUMNS`).
_EVOLUTION_HEADERS = {
    "quartier": "Quartier", "dimension": "Dimension", "label": "Indicateur", "unit": "Unité",
    "direction": "Sens", "previous_year": "Année du diagnostic précédent", "estimate_previous": "Valeur précédente",
    "ci_low_previous": "IC bas (précédent)", "ci_high_previous": "IC haut (précédent)",
    "n_previous": "Répondants (précédent)", "estimate": "Valeur actuelle", "difference": "Écart (en points pour les %)",
    "diff_ci_low": "Écart, IC bas", "diff_ci_high": "Écart, IC haut", "p_value": "p (écart)",
    "p_adjusted": "p ajusté (Benjamini-Hochberg)", "verdict": "Évolution", "note": "Note",
    "indicator_id": "Identifiant"}
_EVOLUTION_VALUES = ("estimate_previous", "ci_low_previous", "ci_high_previous", "estimate", "difference",
                     "diff_ci_low", "diff_ci_high")
#: French headers of the sheet « Tendances » (extract series, :data:`diagnostics.engine.evolution.TREND_COLUMNS`).
_TREND_HEADERS = {
    "quartier": "Territoire", "label": "Indicateur", "unit": "Unité", "direction": "Sens", "years": "Nombre d'années",
    "first_year": "Première année", "last_year": "Dernière année", "method": "Test", "statistic": "Statistique",
    "p_value": "p (tendance)", "trend": "Tendance", "verdict": "Lecture", "indicator_id": "Identifiant"}


def evolution_frame(evolution: pd.DataFrame, dimensions: dict[str, str] | None = None) -> pd.DataFrame:
    """The sheet « Évolution »: each quartier × questionnaire indicator against the previous diagnostic.

    Values stay on their stored scale (proportions 0–1, the XLSX formats them as percentages;
    the difference of two proportions is then shown in percentage points).  Rows whose current
    value is not published keep their note and no figure.
    """
    e = evolution[[c for c in _EVOLUTION_HEADERS if c in evolution.columns]].copy()
    for c in _EVOLUTION_VALUES + ("p_value", "p_adjusted"):
        if c in e:
            e[c] = pd.to_numeric(e[c], errors="coerce")
    if "n_previous" in e:
        e["n_previous"] = pd.to_numeric(e["n_previous"], errors="coerce").round().astype("Int64")
    e["direction"] = e["direction"].map(lambda v: _DIRECTIONS.get(v, v))
    if dimensions:
        e["dimension"] = e["dimension"].map(lambda v: dimensions.get(v, v))
    return e.rename(columns=_EVOLUTION_HEADERS).reset_index(drop=True)


def trends_frame(trends: pd.DataFrame) -> pd.DataFrame:
    """The sheet « Tendances »: the trend test of each extract series (Fingertips-style recent trend)."""
    t = trends[[c for c in _TREND_HEADERS if c in trends.columns]].copy()
    for c in ("statistic", "p_value"):
        if c in t:
            t[c] = pd.to_numeric(t[c], errors="coerce")
    t["direction"] = t["direction"].map(lambda v: _DIRECTIONS.get(v, v))
    return t.rename(columns=_TREND_HEADERS).reset_index(drop=True)


def _fill_sheet(ws, frame: pd.DataFrame, percent_rows=None, value_headers=(), formats=None) -> None:
    """Write ``frame`` into ``ws`` (house safe writer), then number formats and header style:
    ``value_headers`` as percentages on the rows of ``percent_rows``, else one decimal; each
    header of ``formats`` with its own format."""
    write_frame(ws, frame)
    index = {name: j for j, name in enumerate(frame.columns, start=1)}
    for i in range(len(frame)):
        for h in value_headers:
            if h in index:
                pct = percent_rows is not None and percent_rows[i]
                ws.cell(i + 2, index[h]).number_format = PERCENT_FORMAT if pct else DECIMAL_FORMAT
        for h, f in (formats or {}).items():
            if h in index:
                ws.cell(i + 2, index[h]).number_format = f
    _style_sheet(ws, frame)


def _percent_csv(frame: pd.DataFrame, headers, percent_rows) -> pd.DataFrame:
    """``frame`` for the French CSV: the ``headers`` columns of percentage rows on the 0–100 scale."""
    out = frame.copy()
    for h in headers:
        out[h] = out[h].where(~percent_rows, out[h] * 100).round(4)
    return out


def _width(series: pd.Series, header: str) -> float:
    longest = max([len(str(header))] + [len(str(v)) for v in series.head(500) if not pd.isna(v)])
    return float(min(max(longest + 2, 8), 60))


def _style_sheet(ws, frame: pd.DataFrame) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    for j, name in enumerate(frame.columns, start=1):
        cell = ws.cell(1, j)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        ws.column_dimensions[get_column_letter(j)].width = _width(frame[name], name)
    ws.freeze_panes = "A2"
    if len(frame.columns):
        ws.auto_filter.ref = f"A1:{get_column_letter(len(frame.columns))}{len(frame) + 1}"


def write_analyst_table(table: pd.DataFrame, directory, catalogue=None, *,
                        references: dict[str, str] | None = None, stem: str = "indicateurs",
                        sources=None, evolution: dict | None = None) -> dict[str, Path]:
    """Write ``indicateurs.xlsx`` and ``indicateurs.csv`` for analysts (see the module docstring).

    Parameters
    ----------
    table : DataFrame
        The protected indicator table.
    directory : path-like
        Output folder (created).
    catalogue : Catalogue, optional
        Adds the sheet « Définitions » and the dimensions' French labels.
    references : dict, optional
        ``{reference id: label}`` (the project's ``references``), for the headers.
    sources : IndicatorSources, optional
        Status (publiée / illustrative), source and year beside each reference value.
    evolution : dict, optional
        ``{"evolution", "trends"}`` of :mod:`diagnostics.engine.evolution`: the sheets « Évolution »
        (against the previous diagnostic) and « Tendances » (extract series), and the CSV
        ``<stem>_evolution.csv``.

    Returns
    -------
    dict
        ``{"xlsx": path, "csv": path}`` (and ``"evolution_csv"`` when there is an evolution).
    """
    from openpyxl import Workbook

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    frame = analyst_frame(table, references, _dimension_labels(), sources)
    cols = french_columns(references)
    pct = _is_percent(table).to_numpy()
    value_headers = [cols[c] for c in _VALUES if cols[c] in frame.columns]

    wb = Workbook()
    ws = wb.active
    ws.title = "Indicateurs"
    _fill_sheet(ws, frame, pct, value_headers, {cols["n"]: INTEGER_FORMAT, cols["numerator"]: INTEGER_FORMAT,
                                                cols["p_rao_scott"]: "0.000"})
    evo = (evolution or {}).get("evolution")
    evo_frame = None
    if evo is not None and len(evo):
        evo_frame = evolution_frame(evo, _dimension_labels())
        evo_pct = _is_percent(evo).to_numpy()
        evo_values = [_EVOLUTION_HEADERS[c] for c in _EVOLUTION_VALUES]
        _fill_sheet(wb.create_sheet("Évolution"), evo_frame, evo_pct, evo_values,
                    {"Répondants (précédent)": INTEGER_FORMAT, "p (écart)": "0.000",
                     "p ajusté (Benjamini-Hochberg)": "0.000"})
    trends = (evolution or {}).get("trends")
    if trends is not None and len(trends):
        _fill_sheet(wb.create_sheet("Tendances"), trends_frame(trends),
                    formats={"p (tendance)": "0.000", "Statistique": "0.00"})
    if catalogue is not None:
        _fill_sheet(wb.create_sheet("Définitions"), definitions_frame(catalogue))
    xlsx = directory / f"{stem}.xlsx"
    with atomic_path(xlsx) as tmp:
        wb.save(tmp)

    csv = write_csv(_percent_csv(frame, value_headers, pct), directory / f"{stem}.csv")
    out = {"xlsx": xlsx, "csv": csv}
    if evo_frame is not None:
        out["evolution_csv"] = write_csv(_percent_csv(evo_frame, evo_values, evo_pct),
                                         directory / f"{stem}_evolution.csv")
    return out


def write_machine_table(table: pd.DataFrame, directory, *, name: str = "indicateurs_machine.csv") -> Path:
    """Write the indicator table for other programs: the agreed English columns
    (``CONTRIBUTING.md``), proportions on 0–1, ``;`` separator, decimal point, UTF-8."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    return write_csv(table, directory / name, sep=";", decimal=".", encoding="utf-8")
