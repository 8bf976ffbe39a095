"""Where the toolkit's own files are: the repository's top-level folders, shipped in the wheel.

In the repository (the canonical sources, where an analyst looks first):

``questionnaires/``            the resident questionnaire (single source of truth);
``notebooks/``                 the analyst's notebooks (jupytext percent format);
``data/exemple/``              the Chambéry example project on synthetic data (``projet.yaml``,
                               references, answers, margins, extracts, directory, interviews);
``diagnostics/resources/config/``  the nine dimensions, the indicator catalogue, the standard
                               populations;
``diagnostics/templates/``     report, paper form and stylesheet templates.

The wheel maps the three top-level folders into the package, at the same relative places
(``diagnostics/resources/questionnaires``, ``…/notebooks``, ``…/data/exemple``: see
``[tool.hatch.build.targets.wheel.force-include]`` in ``pyproject.toml``), so that relative paths
between them (the example's ``../../questionnaires/…``) hold in both. :func:`resource` finds
each file in the installed package, or else in the source tree.

Paths that users give (project file, data files, output folders) are never resolved here: they
are relative to the project file or to the current folder.  One name of a written file lives
here too, :data:`DEFINITIONS_FILE`, because the reports link to it and the build prints it: a
leaf module both can read without loading the report machinery.
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path


_PACKAGE = Path(str(resources.files("diagnostics")))
#: Folders kept at the repository's top level and mapped into ``diagnostics/resources`` by the wheel.
_TOP_LEVEL = ("questionnaires", "notebooks", "data")


def resource(*parts: str) -> Path:
    """Path of a file or folder shipped in the package, e.g. ``resource("config", "dimensions.yaml")``.

    Parameters
    ----------
    *parts : str
        Path components below ``diagnostics/resources`` (``questionnaires``, ``notebooks`` and
        ``data`` are the repository's top-level folders of the same name).

    Returns
    -------
    pathlib.Path
        A real file-system path (the package is installed unzipped, as pip always does).
    """
    packaged = _PACKAGE.joinpath("resources", *parts)
    if not parts or packaged.exists() or parts[0] not in _TOP_LEVEL:
        return packaged
    return _PACKAGE.parent.joinpath(*parts)   # source tree: the repository's top-level folder


def template_dir() -> Path:
    """Folder of the Jinja2 templates and stylesheets."""
    return Path(str(resources.files("diagnostics").joinpath("templates")))


QUESTIONNAIRE = resource("questionnaires", "dls_habitants.yaml")
DIMENSIONS = resource("config", "dimensions.yaml")
CATALOGUE = resource("config", "indicateurs.yaml")
STANDARD_POPULATIONS = resource("config", "populations_standard.csv")
EXAMPLE = resource("data", "exemple")
EXAMPLE_PROJECT = EXAMPLE / "projet.yaml"
NOTEBOOKS = resource("notebooks")
#: The definitions document shared by every report, written beside them by notebook 05
#: (:func:`diagnostics.publish.report.render_definitions`); each report's annex C links to it.
DEFINITIONS_FILE = "dls_definitions.html"
