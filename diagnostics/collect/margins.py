"""Population margins: the census counts per quartier × age group × sex that the weights are raked to."""
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DLSError


def read_margins(path) -> pd.DataFrame:
    """Read a population margins file (``quartier;groupe_age;sexe;effectif``, ``#`` comments)."""
    path = Path(path)
    try:
        m = pd.read_csv(path, sep=";", comment="#", encoding="utf-8-sig", dtype={"effectif": str})
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise DLSError(f"Le fichier de marges « {path.name} » ne peut pas être lu ({exc}).", file=path.name) from exc
    m.columns = [str(c).strip().lower() for c in m.columns]
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
