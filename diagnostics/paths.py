"""Where the toolkit's own files are: the package data shipped inside ``diagnostics``.

Everything a fresh install needs is package data, read through :mod:`importlib.resources`
so that it works from a wheel as well as from the source tree:

``resources/questionnaires/``  the resident questionnaire (single source of truth);
``resources/config/``          the nine dimensions, the indicator catalogue, the standard
                               populations;
``resources/exemple/``         the Chambéry example project on synthetic data (``projet.yaml``,
                               references, answers, margins, extracts, directory, interviews);
``resources/notebooks/``       the analyst's notebooks (jupytext percent format);
``templates/``                 report, paper form and stylesheet templates.

Paths that users give (project file, data files, output folders) are never resolved here: they
are relative to the project file or to the current folder.
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path


def resource(*parts: str) -> Path:
    """Path of a file or folder shipped in the package, e.g. ``resource("config", "dimensions.yaml")``.

    Parameters
    ----------
    *parts : str
        Path components below ``diagnostics/resources``.

    Returns
    -------
    pathlib.Path
        A real file-system path (the package is installed unzipped, as pip always does).
    """
    ref = resources.files("diagnostics").joinpath("resources", *parts)
    return Path(str(ref))


def template_dir() -> Path:
    """Folder of the Jinja2 templates and stylesheets."""
    return Path(str(resources.files("diagnostics").joinpath("templates")))


QUESTIONNAIRE = resource("questionnaires", "dls_habitants.yaml")
DIMENSIONS = resource("config", "dimensions.yaml")
CATALOGUE = resource("config", "indicateurs.yaml")
STANDARD_POPULATIONS = resource("config", "populations_standard.csv")
EXAMPLE = resource("exemple")
EXAMPLE_PROJECT = EXAMPLE / "projet.yaml"
NOTEBOOKS = resource("notebooks")
