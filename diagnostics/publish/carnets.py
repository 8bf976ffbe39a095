"""Helpers of the analyst notebooks: the project, the work folder, tables for reading.

The notebooks (``carnets/01_…`` to ``05_…``) pass their results to one another through a work
folder (``build/travail`` beside ``projet.yaml``; respondent-level, never published).
:func:`load_step` reads a previous notebook's result and, when the analyst opened a notebook
out of order, says in French which notebook to run first.  :func:`show` turns a table into
what an analyst reads: French headers, numbers formatted with :mod:`diagnostics.fmt`.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from .. import fmt
from ..config.project import Project, find_project, load_project, work_folder
from ..errors import DLSError

#: Result file of each step -> the notebook that writes it.
STEP_FILES = {
    "reponses.pkl": "01_verifier_reponses",
    "ponderation.pkl": "02_ponderer",
    "vague.pkl": "02_ponderer",
    "indicateurs.pkl": "03_indicateurs",
    "evolution.pkl": "03_indicateurs",
}


def open_project(projet: str | Path | None = None, dossier_travail: str | Path | None = None
                 ) -> tuple[Project, Path]:
    """The notebook's project and work folder.

    ``projet`` None: ``projet.yaml`` of the notebook's folder or of its parent (a project made
    by ``dls init``), else the embedded Chambéry example.  ``dossier_travail`` None:
    :func:`diagnostics.config.project.work_folder`.
    """
    project = load_project(find_project(projet))
    return project, work_folder(project, dossier_travail)


def save_step(travail: str | Path, name: str, value) -> Path:
    """Save a step's result in the work folder (pickle)."""
    path = Path(travail) / name
    pd.to_pickle(value, path)
    return path


def load_step(travail: str | Path, name: str):
    """Read a previous notebook's result from the work folder.

    Raises
    ------
    DLSError
        The file is absent: the sentence names the notebook to run first.
    """
    path = Path(travail) / name
    if not path.is_file():
        producer = STEP_FILES.get(name, "précédent")
        raise DLSError(f"Ce carnet a besoin des résultats du carnet « {producer} » (fichier « {name} » "
                       f"absent du dossier de travail « {Path(travail)} ») : exécutez d'abord le carnet "
                       f"« {producer} » en entier, puis relancez celui-ci.")
    return pd.read_pickle(path)


def show(frame: pd.DataFrame, labels: dict[str, str], *, percent: tuple[str, ...] = (),
         decimals: dict[str, int] | None = None, flags: tuple[str, ...] = ()) -> pd.DataFrame:
    """A table for reading: the columns of ``labels`` renamed, numbers formatted the French way.

    Parameters
    ----------
    frame : DataFrame
    labels : dict
        ``{column: French header}``, in display order; other columns are left out.
    percent : tuple of str
        Columns holding proportions (0–1), shown as ``22,3 %``.
    decimals : dict, optional
        ``{column: decimals}`` of the other numeric columns (0 by default).
    flags : tuple of str
        Boolean columns, shown « oui » / « non ».
    """
    decimals = decimals or {}
    out = pd.DataFrame(index=frame.index)
    for col, header in labels.items():
        s = frame[col]
        if col in percent:
            out[header] = s.map(lambda v: fmt.percent(v, decimals.get(col, 1)))
        elif col in flags:
            out[header] = s.map(lambda v: "" if pd.isna(v) else ("oui" if bool(v) else "non"))
        elif pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            out[header] = s.map(lambda v: fmt.number(v, decimals.get(col, 0)))
        else:
            out[header] = s
    return out.reset_index(drop=True)
