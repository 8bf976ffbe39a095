"""``dls init DOSSIER``: a new city's DLS project folder, ready to adapt.

A peer ASV or ORS starts from a folder that holds everything it edits (no Python)::

    DOSSIER/
      projet.yaml              the project configuration (quartiers, files, references, thresholds)
      questionnaire.yaml       a copy of the resident questionnaire to adapt
      indicateurs.yaml         a copy of the indicator catalogue to adapt
      data/raw/                the real answers (kept out of git by .gitignore)
      data/marges_population.csv, data/extraits.csv, data/references.yaml,
      data/annuaire_acteurs.csv, data/entretiens.md
                               templates (the example's synthetic files, same columns)
      carnets/                 the analyst notebooks (jupytext text files + jupytext.toml)
      constats/MODELE.md       how to pin, drop or reword the findings and write the ASV's text
                               (copied as constats/<quartier>.md; never printed itself)
      LISEZMOI.md              next steps, in French
      .gitignore

With ``exemple=True`` the example's synthetic answers are copied to ``data/raw/reponses.csv``
so that ``dls build --projet DOSSIER/projet.yaml`` works at once.
"""
from __future__ import annotations

import datetime as _dt
import shutil
from pathlib import Path

from .. import paths
from ..errors import DLSError

#: Template files copied from the example project: source name -> name in the new project.
TEMPLATES = {
    "marges_population_synthetiques.csv": "data/marges_population.csv",
    "extraits_synthetiques.csv": "data/extraits.csv",
    "references.yaml": "data/references.yaml",
    "annuaire_acteurs_synthetique.csv": "data/annuaire_acteurs.csv",
    "entretiens_synthetiques.md": "data/entretiens.md",
}

#: Two quartiers of the template: id, label, questionnaire code, QPV code of the example files.
DEFAULT_QUARTIERS = (
    ("biollay", "Biollay", 1, "QN073001", "au Biollay"),
    ("hauts_de_chambery", "Hauts-de-Chambéry", 2, "QN073002", "aux Hauts-de-Chambéry"),
    ("bellevue", "Bellevue", 3, "QN073003", "à Bellevue"),
)


def init_project(folder: str | Path, ville: str = "Ma ville", *, exemple: bool = False) -> list[Path]:
    """Create a DLS project folder for a city.

    Parameters
    ----------
    folder : str or Path
        Folder to create (relative to the current folder); it must be absent or empty.
    ville : str
        Name of the city, written in ``projet.yaml`` and ``LISEZMOI.md``.
    exemple : bool
        Also copy the example's synthetic answers to ``data/raw/reponses.csv`` (the project then
        builds straight away, on fictitious data).

    Returns
    -------
    list of Path
        The files written.

    Raises
    ------
    DLSError
        The folder exists and is not empty, or cannot be written.
    """
    root = Path(folder).expanduser().resolve()
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise DLSError(f"Le dossier « {folder} » existe déjà et n'est pas vide : choisissez un nouveau "
                       "dossier pour ne rien écraser.")
    model = paths.resource("nouveau_projet")
    quartiers = "\n".join(f"  - {{id: {i}, libelle: {lib}, code: {c}, qpv: {q}, locatif: {loc}}}"
                          for i, lib, c, q, loc in DEFAULT_QUARTIERS)
    values = {"ville": ville, "annee": str(_dt.date.today().year), "quartiers": quartiers}
    written: list[Path] = []

    def put(rel: str, text: str | None = None, source: Path | None = None) -> None:
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if source is not None:
            shutil.copyfile(source, target)
        else:
            target.write_text(text, encoding="utf-8")
        written.append(target)

    try:
        root.mkdir(parents=True, exist_ok=True)
        put("projet.yaml", (model / "projet.yaml").read_text(encoding="utf-8").format(**values))
        put("LISEZMOI.md", (model / "LISEZMOI.md").read_text(encoding="utf-8").format(**values))
        put(".gitignore", (model / "gitignore.txt").read_text(encoding="utf-8"))
        put("constats/MODELE.md", source=model / "constats_modele.md")
        put("questionnaire.yaml", source=paths.QUESTIONNAIRE)
        put("indicateurs.yaml", source=paths.CATALOGUE)
        for src, dst in TEMPLATES.items():
            put(dst, source=paths.EXAMPLE / src)
        (root / "data" / "raw").mkdir(parents=True, exist_ok=True)
        if exemple:
            put("data/raw/reponses.csv", source=paths.EXAMPLE / "reponses_synthetiques.csv")
            put("citations_relues.csv", source=paths.EXAMPLE / "citations_relues.csv")
        for nb in sorted(paths.NOTEBOOKS.iterdir()):
            if nb.suffix in (".py", ".toml") and not nb.name.startswith("_"):
                put(f"carnets/{nb.name}", source=nb)
    except OSError as exc:
        raise DLSError(f"Impossible d'écrire le projet dans « {folder} » : {exc.strerror or exc}.") from exc
    return written
