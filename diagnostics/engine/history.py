"""What the evolution compares the current wave with, computed ahead of it when it can be.

Notebook 3 compares the current survey with the previous diagnostic
(:func:`~diagnostics.engine.evolution.read_previous_wave`: the old answers, validated and raked
to their own margins) and follows the extracts over the years
(:func:`~diagnostics.engine.evolution.extract_series`).  Neither depends on the current wave,
and at 30 quartiers they take about a third of the notebook.  ``dls build`` therefore computes
them in a second process (:func:`prepare_history`) while the kernel runs notebooks 1 to 3, on
the processor that would otherwise wait, and notebook 3 reads the file it wrote
(:func:`read_history`).  Run by hand, the notebook computes them itself: same functions, same
result.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:   # this module is light to import: the build's process only starts the other one
    import pandas as pd

    from ..config.catalogue import Catalogue
    from ..config.project import Project

__all__ = ["HISTORY_FILE", "prepare_history", "read_history", "start_history"]

#: The file :func:`prepare_history` writes in the build's work folder.
HISTORY_FILE = "historique.pkl"
#: Locked (``flock``) by the process of :func:`start_history` for as long as it lives.
HISTORY_LOCK = "historique.verrou"


def read_history(project: Project, catalogue: Catalogue, extracts: pd.DataFrame | None = None,
                 work: str | Path | None = None, prepared: str | Path | None = None, *,
                 previous: bool = True) -> dict:
    """The previous diagnostic's estimates and the extracts' yearly series and trends.

    Parameters
    ----------
    project, catalogue
        The project and its catalogue (:func:`diagnostics.config.catalogue.load_project_catalogue`).
    extracts : DataFrame, optional
        ``ExtractResult.data`` of the project's extracts; None: no series.
    work : path-like, optional
        The work folder: the pseudonymisation secret of the embedded example is kept there
        (:func:`diagnostics.collect.pseudonym.secret_path`), never in the installed package.
    prepared : path-like, optional
        The file written by :func:`prepare_history` for this build; read instead of computing
        when it exists (``dls build`` passes it, and only it: the file lives in the build's own
        temporary work folder, so it cannot be left over from other inputs).  While the process
        of :func:`start_history` still runs, this waits for it (its lock, :data:`HISTORY_LOCK`).
    previous : bool, default True
        Read the previous diagnostic; False when there is nothing to compare it with (an
        indicator table given as such, without the current answers).

    Returns
    -------
    dict
        ``{"previous": DataFrame or None, "series": DataFrame or None, "trends": DataFrame or None}``:
        ``previous`` as :func:`~diagnostics.engine.evolution.read_previous_wave` (None when the
        project names no previous diagnostic), ``series`` and ``trends`` as
        :func:`~diagnostics.engine.evolution.extract_series` (None without extracts).
    """
    import pandas as pd

    from ..collect.pseudonym import get_secret, secret_path
    from .evolution import extract_series, read_previous_wave

    if prepared is not None:
        _wait_for(Path(prepared).with_name(HISTORY_LOCK))
        if Path(prepared).is_file():
            return pd.read_pickle(prepared)
    old = None
    if previous and project.precedent is not None:
        old = read_previous_wave(project, catalogue, secret=get_secret(secret_path(project, work)))
    series = trends = None
    if extracts is not None:
        series, trends = extract_series(extracts, project, catalogue)
    return {"previous": old, "series": series, "trends": trends}


def prepare_history(projet: str | Path, work: str | Path) -> Path:
    """Compute :func:`read_history` for the project file ``projet`` and write it in ``work``.

    The entry point of the build's second process (:func:`start_history`).  The file is
    written atomically: it exists complete or not at all.

    Returns
    -------
    pathlib.Path
        ``work / HISTORY_FILE``.
    """
    import pandas as pd

    from ..collect.extracts import read_extracts
    from ..config.catalogue import load_project_catalogue
    from ..config.project import load_project
    from ..io.files import atomic_path

    project = load_project(projet)
    catalogue = load_project_catalogue(project)
    extracts = read_extracts([project.donnees["extraits"]]).data if project.donnees["extraits"] else None
    history = read_history(project, catalogue, extracts, work)
    target = Path(work) / HISTORY_FILE
    with atomic_path(target) as tmp:
        pd.to_pickle(history, tmp)
    return target


def start_history(projet: str | Path, work: str | Path) -> subprocess.Popen:
    """Start :func:`prepare_history` in a Python process of its own.

    The process holds an exclusive ``flock`` on ``work / HISTORY_LOCK`` from before it starts
    until it ends, however it ends (the system releases the lock of a dead process):
    :func:`read_history` waits on it, so notebook 3 computes its indicators while this process
    finishes, and reads its file only once written.  Its output is discarded: should it fail, no
    file is written and notebook 3 computes the same thing itself, where a failure is reported
    in French with its cell.
    """
    import fcntl

    code = "import sys; from diagnostics.engine.history import prepare_history; prepare_history(*sys.argv[1:])"
    with open(Path(work) / HISTORY_LOCK, "w") as lock:   # locked here, held by the child's copy
        fcntl.flock(lock, fcntl.LOCK_EX)
        return subprocess.Popen([sys.executable, "-c", code, str(projet), str(work)], cwd=str(work),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, pass_fds=(lock.fileno(),))


def _wait_for(lock: Path) -> None:
    """Return once no process holds ``lock`` (at once when there is no such file)."""
    import fcntl

    try:
        fh = open(lock)   # noqa: SIM115 - closed below
    except FileNotFoundError:
        return
    with fh:
        fcntl.flock(fh, fcntl.LOCK_SH)
