"""The extract table from the engine's counts: values, limits, secrecy, and its CSV writer.

:func:`records_extract` turns :class:`~.query.RecordCounts` into the table ``dls extraits``
reads (``niveau;code_territoire;…;numerateur;denominateur;valeur;…``): Wilson limits for
proportions, directly standardised rates on the European Standard Population 2013 for ``dsr``
indicators (:func:`~diagnostics.stats.rates.proportion_ci`, :func:`~diagnostics.stats.rates.dsr`),
small cells masked with their secondary suppression (:mod:`.secrecy`).  Every step works on whole
columns; :func:`write_records_extract` formats them the same way (no per-cell Python).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..rates import dsr, proportion_ci, standard_population
from .grammar import MULTIPLIERS, RecordCatalogue
from .query import ENSEMBLE, FRANCE_CODE, RecordCounts
from .secrecy import PRIMARY_TOKEN, SECONDARY_TOKEN, mask_extract, nested_pairs, relations

__all__ = ["EXTRACT_HEADER", "records_extract", "write_records_extract"]

EXTRACT_HEADER = ["niveau", "code_territoire", "libelle_territoire", "indicateur", "libelle_indicateur", "annee",
                  "classe_age", "sexe", "numerateur", "denominateur", "valeur", "ic_bas", "ic_haut", "unite",
                  "source", "masque"]


def _standardised(frame, catalogue, shown, conf_level):
    """The « Ensemble » value of each ``dsr`` indicator where every band is shown."""
    weights = standard_population("esp2013", catalogue.bands)
    ind_col = frame["indicateur"].to_numpy()
    is_tot = (frame["classe_age"] == ENSEMBLE).to_numpy()
    for ind in (i for i in catalogue.indicators if i.method == "dsr"):
        mine = ind_col == ind.id
        tot = mine & is_tot
        frame.loc[tot, ["valeur", "ic_bas", "ic_haut"]] = np.nan
        bands = frame[mine & ~is_tot]
        ok = pd.Series(shown[mine & ~is_tot] & (bands["denominateur"] > 0).to_numpy(), index=bands.index)
        full = ok.groupby([bands["niveau"], bands["code_territoire"]], observed=True).transform("all")
        good = bands[full.to_numpy()]
        if good.empty:
            continue
        res = dsr(good, "numerateur", "denominateur", "classe_age", by=["niveau", "code_territoire"],
                  stdpop=weights, conf_level=conf_level, multiplier=MULTIPLIERS[ind.unit])
        key = frame.loc[tot, ["niveau", "code_territoire"]].merge(res, on=["niveau", "code_territoire"], how="left")
        frame.loc[tot, ["valeur", "ic_bas", "ic_haut"]] = key[["estimate", "ci_low", "ci_high"]].to_numpy()


def _blocks(counts: RecordCounts, catalogue: RecordCatalogue, threshold: int) -> pd.DataFrame:
    """One block of rows per indicator (every band for ``dsr``, « Ensemble » only otherwise),
    keys as categoricals, the masks of :mod:`.secrecy` computed on integer codes."""
    tall = counts.table
    keys = {k: pd.factorize(tall[k].to_numpy(object)) for k in ("niveau", "code_territoire", "classe_age")}
    (lv, lv_names), (cd, cd_names), (bd, bd_names) = keys.values()
    ens = int(np.flatnonzero(bd_names == ENSEMBLE)[0])
    pairs = nested_pairs(counts.geography, catalogue.levels)
    subsets = {}
    for method in ("dsr", "wilson"):
        rows = np.arange(len(tall)) if method == "dsr" else np.flatnonzero(bd == ens)
        subsets[method] = (rows, relations(lv[rows], cd[rows], bd[rows], list(lv_names), list(cd_names), ens, pairs))
    parts = []
    for ind in catalogue.indicators:
        rows, rels = subsets[ind.method]
        x = tall[f"num_{ind.id}"].to_numpy(float)[rows]
        n = tall[f"den_{ind.id}"].to_numpy(float)[rows]
        primary, num_hidden, den_hidden = mask_extract(x, n, rels, threshold)
        parts.append(pd.DataFrame({"_lv": lv[rows], "_cd": cd[rows], "_bd": bd[rows], "indicateur": ind.id,
                                   "numerateur": x, "denominateur": n, "_primary": primary, "_num": num_hidden,
                                   "_den": den_hidden}))
    frame = pd.concat(parts, ignore_index=True)
    for col, (codes, names) in zip(("niveau", "code_territoire", "classe_age"), keys.values()):
        frame[col] = pd.Categorical.from_codes(frame.pop({"niveau": "_lv", "code_territoire": "_cd",
                                                          "classe_age": "_bd"}[col]), categories=names)
    frame["indicateur"] = pd.Categorical(frame["indicateur"], categories=[i.id for i in catalogue.indicators])
    return frame


def records_extract(counts: RecordCounts, catalogue: RecordCatalogue, *, threshold: int = 11,
                    names: dict | None = None, source: str = "données individuelles", conf_level=0.95) -> pd.DataFrame:
    """The extract table from the counts of :func:`~.query.count_records`.

    Parameters
    ----------
    counts : RecordCounts
    catalogue : RecordCatalogue
    threshold : int, default 11
        Statistical secrecy: a row whose numerator, or denominator minus numerator, lies in
        ``1 … threshold - 1``, or whose denominator is below ``threshold``, is masked
        (``masque`` « <11 »), then the rows that would give it back by subtraction across nested
        territories or age bands (``masque`` « s »; :mod:`.secrecy`).  Masked: numerator, value
        and limits blank; the denominator too when it is small or recoverable.
    names : dict, optional
        Territory code → label (e.g. the project's quartiers).
    source : str
    conf_level : float, default 0.95

    Returns
    -------
    pandas.DataFrame
        Columns :data:`EXTRACT_HEADER` (keys and labels as categoricals); one ``Ensemble`` row per
        territory × indicator and, for ``dsr`` indicators, one row per age band.  ``valeur`` is
        on the unit's scale (84,0 for 84 %).

    Notes
    -----
    Proportions: :math:`m\\,x/n` (:math:`m` the unit's multiplier) with Wilson limits
    (:func:`proportion_ci`); ``dsr`` indicators: the band rows carry :math:`x_i, n_i` and their
    Wilson limits, the ``Ensemble`` row the directly standardised rate
    :math:`m \\sum_i w_i x_i / n_i / \\sum_i w_i` with Dobson limits (:func:`dsr`), printed only
    when every band is.
    """
    frame = _blocks(counts, catalogue, threshold)
    num_hidden, den_hidden = frame.pop("_num").to_numpy(), frame.pop("_den").to_numpy()
    primary = frame.pop("_primary").to_numpy()
    frame["valeur"] = frame["ic_bas"] = frame["ic_haut"] = np.nan
    shown = ~num_hidden
    units = frame["indicateur"].map({i.id: i.unit for i in catalogue.indicators})
    for unit, mult in MULTIPLIERS.items():
        ok = shown & (frame["denominateur"] > 0).to_numpy() & (units == unit).to_numpy()
        if ok.any():
            ci = proportion_ci(frame[ok], "numerateur", "denominateur", conf_level=conf_level, multiplier=mult)
            frame.loc[ok, ["valeur", "ic_bas", "ic_haut"]] = ci[["estimate", "ci_low", "ci_high"]].to_numpy()
    _standardised(frame, catalogue, shown, conf_level)
    frame["masque"] = pd.Categorical.from_codes(np.where(primary, 1, np.where(num_hidden, 2, 0)),
                                                categories=["", PRIMARY_TOKEN(threshold), SECONDARY_TOKEN])
    frame.loc[num_hidden, ["numerateur", "valeur", "ic_bas", "ic_haut"]] = np.nan
    frame.loc[den_hidden, "denominateur"] = np.nan
    frame["libelle_indicateur"] = frame["indicateur"].map({i.id: i.label for i in catalogue.indicators})
    frame["unite"] = units
    frame["libelle_territoire"] = frame["code_territoire"].map(
        lambda c: {FRANCE_CODE: "France", **(names or {})}.get(c, c))
    for col, value in (("annee", str(catalogue.year)), ("sexe", "Ensemble"), ("source", source)):
        frame[col] = pd.Categorical.from_codes(np.zeros(len(frame), np.int8), categories=[value])
    return frame[EXTRACT_HEADER]


def _safe_text(s: pd.Series):
    """A text column as an Arrow dictionary, each distinct value neutralised once (a leading
    « ' » before what a spreadsheet would take for a formula)."""
    import pyarrow as pa

    from ...io.spreadsheet import neutralise
    cat = s if isinstance(s.dtype, pd.CategoricalDtype) else s.astype("category")
    labels = [neutralise(str(v)) for v in cat.cat.categories]
    codes = pa.array(cat.cat.codes.to_numpy(), mask=(cat.cat.codes < 0).to_numpy())
    return pa.DictionaryArray.from_arrays(codes, pa.array(labels, pa.string()))


def _batch_text(batch, masked):
    """One batch of the table as text columns, masked cells as their token."""
    import pyarrow as pa
    import pyarrow.compute as pc
    mask_text = pc.cast(masked, pa.string())
    is_masked = pc.not_equal(mask_text, "")
    cols = {}
    for c in EXTRACT_HEADER[:-1]:
        arr = batch.column(c)
        if c in ("numerateur", "denominateur", "valeur", "ic_bas", "ic_haut"):
            if c in ("numerateur", "denominateur"):
                arr = pc.cast(arr, pa.int64())
            text = pc.replace_substring(pc.cast(arr, pa.string()), ".", ",")
            fill = mask_text if c in ("numerateur", "valeur") else pa.scalar("s" if c == "denominateur" else "")
            text = pc.if_else(pc.is_null(text), fill, text)
            cols[c] = pc.if_else(is_masked, mask_text, text) if c == "valeur" else text
        else:
            cols[c] = pc.cast(arr, pa.string())
    return pa.table(cols)


def write_records_extract(table: pd.DataFrame, path, *, batch_rows: int = 500_000) -> Path:
    """Write the extract as the ORS files are written (``;``, decimal comma, UTF-8 with BOM),
    masked cells as their token so that :func:`~diagnostics.collect.extracts.read_extract` reads
    them as masked.  Whole columns are formatted by Arrow and written by its CSV writer, a batch
    of ``batch_rows`` rows at a time (the text of one batch only is in memory)."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    from ...io.files import atomic_path
    numeric = ("numerateur", "denominateur", "valeur", "ic_bas", "ic_haut")
    data = pa.table({c: (pa.array(table[c].to_numpy(float), from_pandas=True) if c in numeric
                         else _safe_text(table[c])) for c in EXTRACT_HEADER})
    path = Path(path)
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        fh.write("\ufeff".encode())
        writer = None
        for batch in data.to_batches(max_chunksize=batch_rows) or [data]:      # an empty table: the header
            text = _batch_text(batch, batch.column("masque"))
            if writer is None:
                writer = pcsv.CSVWriter(fh, text.schema, write_options=pcsv.WriteOptions(delimiter=";",
                                                                                        quoting_style="needed"))
            writer.write_table(text)
        writer.close()
    return path
