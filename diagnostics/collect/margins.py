"""Population margins: the census counts per quartier × age group × sex that the weights are raked to.

The one reader of the margins file, for the indicator table, the evolution, the fieldwork page
(``dls suivi``) and the notebooks; the project's quartiers are checked by
:func:`diagnostics.engine.wave.margins_frame`.
"""
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DLSError


def read_margins(path) -> pd.DataFrame:
    """Read a population margins file (``quartier;groupe_age;sexe;effectif``, ``#`` comments).

    Header names are case-insensitive; labels are stripped; a count may be written the French
    way (« 1 600 », « 1 600,5 »: spaces, no-break spaces and a decimal comma accepted).

    Raises
    ------
    DLSError
        The file cannot be read, or a count is not a number ≥ 0 (file, line, column and value
        named).
    """
    path = Path(path)
    try:
        m = pd.read_csv(path, sep=";", comment="#", encoding="utf-8-sig", dtype={"effectif": str})
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise DLSError(f"Le fichier de marges « {path.name} » ne peut pas être lu ({exc}).", file=path.name) from exc
    m.columns = [str(c).strip().lower() for c in m.columns]
    for c in ("quartier", "groupe_age", "sexe"):
        if c in m.columns:
            m[c] = m[c].where(m[c].isna(), m[c].astype(str).str.strip())
    if "effectif" in m.columns:
        raw = m["effectif"].astype(str).str.replace("\u202f", "").str.replace("\u00a0", "").str.replace(" ", "")
        val = pd.to_numeric(raw.str.replace(",", "."), errors="coerce")
        bad = val.isna() | (val < 0)
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise DLSError(f"« {path.name} », ligne {i + 2}, colonne « effectif » : la valeur « {m['effectif'].iloc[i]} » "
                           "ne convient pas ; un nombre positif ou nul est attendu.", file=path.name, row=i + 2,
                           column="effectif", value=m["effectif"].iloc[i])
        m["effectif"] = val
    return m
