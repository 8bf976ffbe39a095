"""A peer city's project made by ``dls init`` and adapted by file edits only (issue 28).

Grenoble, two quartiers (Mistral, Villeneuve), a changed questionnaire (``urgences_12m`` and
``espaces_verts`` removed, ``transport_sante`` and ``teleconsultation`` added), its own answers,
margins, extracts and references, ``donnees_synthetiques: false``.  Every figure of it differs
from the Chambéry example, so a command that reads the example's files behind the project's back
is seen: other quartiers, other respondents, other margins.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from diagnostics import paths
from diagnostics.config.scaffold import init_project

CITY = "Grenoble"
RENAME = {"Biollay": "Mistral", "Hauts-de-Chambéry": "Villeneuve"}
REMOVED = ("urgences_12m", "espaces_verts")
ADDED = ("transport_sante", "teleconsultation")
#: Names of the example that must never reach the project's outputs.
EXAMPLE_NAMES = ("Chambéry", "Savoie", "Biollay", "Bellevue")
TERRITORIES = {"QN073001": "QN038001", "QN073002": "QN038002", "73065": "38185", ";73;": ";38;",
               "Biollay (QPV, code illustratif)": "Mistral", "Hauts-de-Chambéry (QPV, code illustratif)":
               "Villeneuve", "Chambéry": CITY, "Savoie": "Isère"}


def _yaml_dump(data, path: Path) -> None:
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _questionnaire(root: Path) -> None:
    qn = yaml.safe_load((root / "questionnaire.yaml").read_text(encoding="utf-8"))
    qn.update(id="dls_grenoble", title="Enquête habitants — Grenoble", version="2026.1")
    qn["choice_lists"]["quartier"] = [{"code": 1, "label": "Mistral"}, {"code": 2, "label": "Villeneuve"},
                                      {"code": 4, "label": "Autre quartier"}]
    for section in qn["sections"]:
        section["questions"] = [q for q in section["questions"] if q["name"] not in REMOVED]
    qn["sections"][-1]["questions"][:0] = [
        {"name": name, "type": "single", "choices": "oui_non", "label": label}
        for name, label in zip(ADDED, ("Avez-vous du mal à vous rendre chez un soignant faute de transport ?",
                                       "Avez-vous déjà consulté un médecin en vidéo ?"))]
    _yaml_dump(qn, root / "questionnaire.yaml")
    cat = yaml.safe_load((root / "indicateurs.yaml").read_text(encoding="utf-8"))
    cat["indicateurs"] = [i for i in cat["indicateurs"] if i.get("question") not in REMOVED]
    _yaml_dump(cat, root / "indicateurs.yaml")


def _answers(root: Path) -> pd.DataFrame:
    src = paths.EXAMPLE / "reponses_synthetiques.csv"
    answers = pd.read_csv(src, sep=";", dtype=str, keep_default_na=False, encoding="cp1252")
    answers = answers[answers["quartier"] != "Bellevue"].replace({"quartier": RENAME})
    answers = answers.drop(columns=list(REMOVED)).iloc[::2].copy()   # every other respondent
    answers["quartier_autre"] = answers["quartier_autre"].where(answers["quartier_autre"] == "", "Échirolles")
    rng = np.random.default_rng(28)
    for name in ADDED:
        answers[name] = rng.choice(["1", "2"], size=len(answers))
    answers["id_questionnaire"] = "G" + answers["id_questionnaire"].str[1:]
    answers.to_csv(root / "data/raw/reponses.csv", sep=";", index=False, encoding="utf-8")
    return answers


def _rewrite(path: Path, mapping: dict, drop: tuple = ()) -> None:
    lines = path.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    text = "".join(ln for ln in lines if not any(d in ln for d in drop))
    for a, b in mapping.items():
        text = text.replace(a, b)
    path.write_text(text, encoding="utf-8")


def _margins(root: Path) -> None:
    m = pd.read_csv(root / "data/marges_population.csv", sep=";", encoding="utf-8-sig")
    m = m[m["quartier"] != "Bellevue"].replace({"quartier": RENAME})
    m["effectif"] = (m["effectif"] * 3).astype(int)          # Grenoble's quartiers are larger
    m.to_csv(root / "data/marges_population.csv", sep=";", index=False, encoding="utf-8")


def _references(root: Path) -> None:
    refs = yaml.safe_load((root / "data/references.yaml").read_text(encoding="utf-8"))
    # real data: only published values; the example's illustrative ones are removed
    refs["references"] = [r for r in refs["references"] if r.get("status") == "publiée"]
    _yaml_dump(refs, root / "data/references.yaml")


def _project(root: Path) -> None:
    proj = yaml.safe_load((root / "projet.yaml").read_text(encoding="utf-8"))
    proj["projet"].update(titre="Diagnostic local de santé de Grenoble", donnees_synthetiques=False)
    proj["quartiers"] = [
        {"id": "mistral", "libelle": "Mistral", "code": 1, "qpv": "QN038001", "locatif": "au Mistral"},
        {"id": "villeneuve", "libelle": "Villeneuve", "code": 2, "qpv": "QN038002", "locatif": "à la Villeneuve"},
    ]
    proj["references"] = [
        {"id": "commune", "libelle": CITY, "locatif": f"à {CITY}"},
        {"id": "departement", "libelle": "Isère", "locatif": "en Isère"},
        {"id": "region", "libelle": "Auvergne-Rhône-Alpes", "locatif": "en Auvergne-Rhône-Alpes"},
        {"id": "france", "libelle": "France", "locatif": "en France"},
    ]
    proj["reference_centrale"] = "commune"
    _yaml_dump(proj, root / "projet.yaml")


def make_peer_project(root: Path) -> Path:
    """Create the Grenoble project in ``root`` (absent or empty) and return its ``projet.yaml``."""
    init_project(root, CITY)
    _questionnaire(root)
    _answers(root)
    _margins(root)
    _rewrite(root / "data/extraits.csv", TERRITORIES, drop=("QN073003", "DONNÉES SYNTHÉTIQUES"))
    for name in ("data/annuaire_acteurs.csv", "data/entretiens.md"):
        _rewrite(root / name, {**RENAME, "Bellevue": "Villeneuve", "Chambéry": CITY, "Savoie": "Isère"})
    _references(root)
    _project(root)
    return root / "projet.yaml"
