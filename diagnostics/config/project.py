"""The project configuration: one YAML file that describes a city's DLS.

A peer city writes its own ``projet.yaml`` (neighbourhoods and their QPV codes, data files,
reference levels, thresholds, the report's title, authors and logo) and builds its deliverables
with ``dls build --projet projet.yaml`` without touching Python.  The file is validated on load;
every problem is reported as one French sentence naming the file, the key, the value and what
was expected.

Relative paths in the file are resolved against the folder that holds the file.

Layout of the file (see ``data/exemple/projet.yaml`` for the Chambéry example;
``dls init`` writes a commented one for a new city)::

    projet:      titre, sous_titre, ville, auteurs, annee, logo, donnees_synthetiques, contact,
                 constats (findings of « L'essentiel », 5 by default)
    quartiers:   list of {id, libelle, code, qpv, locatif}
    donnees:     questionnaire, reponses, marges, extraits, references, catalogue, annuaire, entretiens,
                 contours_qpv, contour_commune (GeoJSON of the map, :mod:`diagnostics.collect.contours`)
    references:  list of {id, libelle, locatif} among commune, departement, region, france
                 (the old ids ``chambery``, ``savoie`` are still read, with a deprecation note)
    reference_centrale: the reference at the centre of the spine charts
    seuils:      effectif_fragile, secret_statistique, repondants_minimum, niveau_confiance
    recueil:     questionnaires_imprimes, associations_partenaires, periode, modes
    suivi:       (optional, ``dls suivi``) n_cible (per quartier: a number or {id: number}),
                 demi_largeur_cible (0–0.5), debut (date), distribues ({canal code: number})
    precedent:   the previous diagnostic (see :mod:`diagnostics.config.previous`)
"""
from __future__ import annotations

import base64
import mimetypes
import re
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .. import paths
from . import yamlfile
from .previous import PreviousWave, config_file, parse_previous
from ..errors import ConfigurationError

DEFAULT_PROJECT = paths.EXAMPLE_PROJECT

#: Reference levels known to the indicator table (columns ``ref_<id>`` and ``cmp_<id>``) -> the
#: territory level of the extract rows and reference entries they read (``level`` column).
#: ``qpv`` is the set of all priority neighbourhoods of France, ``hors_qpv`` the other
#: neighbourhoods of the same urban units (the comparators of the ONPV reports): published
#: references only, never an extract row (an extract's « QPV » rows are the quartiers themselves).
REFERENCE_LEVELS = {"commune": "commune", "departement": "département", "region": "région", "france": "France",
                    "qpv": "QPV", "hors_qpv": "hors QPV"}
#: Reference levels that an extract of the territories can fill.
EXTRACT_REFERENCE_LEVELS = ("commune", "departement", "region", "france")

#: Old reference ids (Chambéry's example before the ids became generic) -> generic id.
#: Still read in ``projet.yaml``, ``references.yaml`` and indicator tables, with a deprecation note.
LEGACY_REFERENCE_IDS = {"chambery": "commune", "savoie": "departement"}


def legacy_reference_id(ref_id, where: str = "projet.yaml"):
    """The generic id of a reference level; an old id (``chambery``, ``savoie``) is mapped with a note."""
    new = LEGACY_REFERENCE_IDS.get(ref_id) if isinstance(ref_id, str) else None
    if new is None:
        return ref_id
    warnings.warn(f"« {where} » : l'identifiant de référence « {ref_id} » est ancien ; il est lu comme "
                  f"« {new} » (écrivez « {new} », l'ancien nom ne sera plus lu dans une prochaine version).",
                  FutureWarning, stacklevel=3)
    return new


def rename_legacy_columns(table, where: str = "tableau d'indicateurs"):
    """``table`` with old columns ``ref_chambery``, ``cmp_savoie``… renamed to the generic ones."""
    old = {f"{p}_{o}": f"{p}_{n}" for o, n in LEGACY_REFERENCE_IDS.items() for p in ("ref", "cmp")}
    found = {c: new for c, new in old.items() if c in table.columns and new not in table.columns}
    if not found:
        return table
    warnings.warn(f"« {where} » : colonnes anciennes {', '.join(found)} lues comme {', '.join(found.values())}.",
                  FutureWarning, stacklevel=3)
    return table.rename(columns=found)

#: Data files: key -> (required, French description).
DATA_KEYS = {
    "questionnaire": (True, "la définition du questionnaire (YAML)"),
    "reponses": (True, "le fichier des réponses au questionnaire"),
    "marges": (True, "les marges de population (recensement) pour le calage"),
    "extraits": (False, "les extraits Assurance Maladie / ORS"),
    "references": (False, "les valeurs de référence (commune, département, région, France)"),
    "catalogue": (False, "le catalogue des indicateurs"),
    "annuaire": (False, "l'annuaire des acteurs locaux"),
    "entretiens": (False, "les notes d'entretiens avec les partenaires"),
    "contours_qpv": (False, "les contours des quartiers en GeoJSON, une entité par QPV"),
    "contour_commune": (False, "le contour de la commune en GeoJSON"),
}

_QPV = re.compile(r"^Q[NP]\d{5,6}[A-Z]?$")
_ID = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Quartier:
    """One neighbourhood of the diagnostic.

    Attributes
    ----------
    id : str
        Short identifier used in file names (``biollay``).
    libelle : str
        Name shown to readers and used in the answer and indicator tables (``Biollay``).
    code : int or None
        Code of the neighbourhood in the questionnaire's ``quartier`` question.
    qpv : str or None
        Official code of the priority neighbourhood (QPV), e.g. ``QN07301M``.
    locatif : str
        How a sentence says "in this neighbourhood" (``au Biollay``); optional.
    """

    id: str
    libelle: str
    code: int | None = None
    qpv: str | None = None
    locatif: str = ""

    @property
    def dans(self) -> str:
        """Locative phrase used in sentences (« au Biollay »); « à <libellé> » by default."""
        return self.locatif or f"à {self.libelle}"


@dataclass
class Project:
    """A validated project configuration (see :func:`load_project`)."""

    source: Path | None
    titre: str
    sous_titre: str
    ville: str
    auteurs: list[str]
    annee: str
    quartiers: list[Quartier]
    donnees: dict[str, Path | None]
    references: dict[str, str]
    reference_centrale: str
    effectif_fragile: int = 30
    secret_statistique: int = 11
    repondants_minimum: int = 11
    niveau_confiance: float = 0.95
    logo: Path | None = None
    contact: str = ""
    donnees_synthetiques: bool = False
    recueil: dict = field(default_factory=dict)
    reference_locatifs: dict[str, str] = field(default_factory=dict)
    reference_comparatifs: dict[str, str] = field(default_factory=dict)
    suivi: dict = field(default_factory=dict)
    precedent: PreviousWave | None = None
    constats: int = 5

    def dans(self, ref_id: str) -> str:
        """Locative phrase for a reference level (« en France »), « à <libellé> » by default."""
        return self.reference_locatifs.get(ref_id) or f"à {self.references.get(ref_id, ref_id)}"

    def comparatif(self, ref_id: str) -> str:
        """The reference as a verdict names it (« plus élevé que l'ensemble des QPV »), its label by default."""
        return self.reference_comparatifs.get(ref_id) or self.references.get(ref_id, ref_id)

    def quartier(self, key) -> Quartier:
        """Find a neighbourhood by id, label (case-insensitive) or questionnaire code."""
        for q in self.quartiers:
            if key == q.id or key == q.code or str(key).strip().casefold() == q.libelle.casefold():
                return q
        raise ConfigurationError(
            f"Quartier inconnu « {key} » (attendu : {', '.join(q.id for q in self.quartiers)}).")

    @property
    def libelles(self) -> list[str]:
        """Labels of the neighbourhoods, in configuration order."""
        return [q.libelle for q in self.quartiers]

    def logo_data_uri(self) -> str | None:
        """The logo as a ``data:`` URI (so the report needs no external file), or ``None``."""
        if self.logo is None:
            return None
        return data_uri(self.logo)


def data_uri(path: str | Path) -> str:
    """Return the file's content as a base64 ``data:`` URI (image embedded in a page)."""
    path = Path(path)
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if path.suffix.lower() == ".svg":
        mime = "image/svg+xml"
    return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode("ascii")


PROJECT_FILE = "projet.yaml"


def find_project(path: str | Path | None = None, start: str | Path | None = None, levels: int = 2) -> Path:
    """The project file to use: ``path`` if given, else the nearest ``projet.yaml``.

    Parameters
    ----------
    path : str or Path, optional
        A project file named by the user (relative to the current folder), or the project's
        folder (its ``projet.yaml``).
    start : str or Path, optional
        Folder where the search starts (the current folder by default).
    levels : int, default 2
        Folders searched, ``start`` first, then up: by default the folder and its parent, so
        that a notebook opened in ``<projet>/carnets/`` finds ``<projet>/projet.yaml``.

    Returns
    -------
    pathlib.Path
        The project file, or the embedded Chambéry example when none is found.

    Raises
    ------
    ConfigurationError
        ``path`` is a folder without ``projet.yaml`` (never the example in its place).
    """
    if path is not None:
        named = Path(path).expanduser().resolve()
        if not named.is_dir():
            return named
        if (named / PROJECT_FILE).is_file():
            return named / PROJECT_FILE
        raise ConfigurationError(f"Le dossier « {named} » ne contient pas de {PROJECT_FILE} : donnez le fichier "
                                 f"de configuration du projet, ou le dossier créé par « dls init ».", file=named)
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents)[:levels]:
        if (folder / PROJECT_FILE).is_file():
            return folder / PROJECT_FILE
    return DEFAULT_PROJECT


def project_of(data_file: str | Path | None = None) -> Path | None:
    """The user's project a data file belongs to, or ``None`` when there is none.

    Parameters
    ----------
    data_file : path-like, optional
        An answer file: the ``projet.yaml`` of its folder or up to three folders above
        (``data/raw/`` of a project made by ``dls init``) comes first.

    Returns
    -------
    pathlib.Path or None
        That project file, else the current folder's (:func:`find_project`), else ``None``
        (the embedded example is never returned in place of a user's project).
    """
    starts = ([(Path(data_file).resolve().parent, 4)] if data_file is not None else []) + [(None, 2)]
    for start, levels in starts:
        found = find_project(start=start, levels=levels)
        if found != DEFAULT_PROJECT:
            return found
    return None


def is_example(project: "Project") -> bool:
    """True for the embedded Chambéry example (package data, read-only once installed)."""
    return project.source is not None and Path(project.source).resolve() == DEFAULT_PROJECT.resolve()


def work_folder(project: "Project", folder: str | Path | None = None) -> Path:
    """The folder of a manual notebook run's intermediate results (created).

    ``folder`` when given; else ``build/travail`` beside the project file, or in the current
    folder for the embedded example (the installed package is not a place to write to).
    These respondent-level tables never go into the deliverables.
    """
    if folder is None:
        if is_example(project) or project.source is None:
            here = Path.cwd().resolve()
            shipped = (paths.resource().resolve().parent, paths.NOTEBOOKS.resolve())
            inside = any(here == top or top in here.parents for top in shipped)
            # never write into the installed package (notebooks opened where they are shipped)
            folder = (Path(tempfile.gettempdir()) / "dls-exemple" if inside else here / "build") / "travail"
        else:
            folder = Path(project.source).parent / "build" / "travail"
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _read(path: Path):
    """The parsed ``projet.yaml`` (a dict) and its ``fail(key, message)``, or a French refusal."""
    name = path.name

    def fail(key, msg):
        raise ConfigurationError(f"Configuration du projet « {name} », clé « {key} » : {msg}", file=path,
                                 column=key)

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(f"Impossible de lire la configuration du projet « {path} » : "
                                 f"{exc.strerror or exc}.", file=path) from exc
    try:
        raw = yamlfile.parse(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f", ligne {mark.line + 1}" if mark else ""
        raise ConfigurationError(f"La configuration du projet « {name} »{line} n'est pas un YAML valide : "
                                 f"{getattr(exc, 'problem', exc)}.", file=path) from exc
    if not isinstance(raw, dict):
        raise ConfigurationError(f"La configuration du projet « {name} » doit être un dictionnaire YAML "
                                 "(clés projet, quartiers, donnees…).", file=path)
    return raw, fail


def project_questionnaire(path: str | Path) -> Path:
    """The questionnaire file a project names (``donnees.questionnaire``), read alone.

    The rest of the project is not checked, so that a project whose answers are not collected
    yet still gives its forms (``dls questionnaire``) and checks its first files (``dls check``).
    """
    path = Path(path)
    raw, fail = _read(path)
    donnees = raw.get("donnees") if isinstance(raw.get("donnees"), dict) else {}
    if not donnees.get("questionnaire"):
        fail("donnees.questionnaire", f"{DATA_KEYS['questionnaire'][1]} est obligatoire (chemin du fichier).")
    return config_file(path.resolve().parent, donnees["questionnaire"], "donnees.questionnaire", fail,
                       DATA_KEYS["questionnaire"][1])


def load_project(path: str | Path | None = None) -> Project:
    """Load and validate a project configuration file.

    Parameters
    ----------
    path : str or Path, optional
        The YAML file; the embedded Chambéry example (synthetic data) by default.

    Returns
    -------
    Project

    Raises
    ------
    ConfigurationError
        One French sentence naming the file, the key, the value and what was expected
        (unknown key, missing neighbourhood, malformed QPV code, missing data file, threshold
        out of range...).
    """
    path = Path(path) if path is not None else DEFAULT_PROJECT
    name = path.name
    raw, fail = _read(path)
    known = {"projet", "quartiers", "donnees", "references", "reference_centrale", "seuils", "recueil", "suivi",
             "precedent"}
    for key in raw:
        if key not in known:
            fail(key, f"clé inconnue (attendu : {', '.join(sorted(known))}).")
    base = path.resolve().parent

    # -- projet ------------------------------------------------------------------------
    meta = raw.get("projet") or {}
    if not isinstance(meta, dict):
        fail("projet", "attendu un dictionnaire (titre, auteurs, logo…).")
    titre = meta.get("titre")
    if not titre or not isinstance(titre, str):
        fail("projet.titre", "le titre du rapport est obligatoire (texte).")
    auteurs = meta.get("auteurs") or []
    if isinstance(auteurs, str):
        auteurs = [auteurs]
    if not isinstance(auteurs, list) or not all(isinstance(a, str) for a in auteurs):
        fail("projet.auteurs", f"valeur « {auteurs} » : attendu une liste de noms.")
    constats = meta.get("constats", 5)
    if isinstance(constats, bool) or not isinstance(constats, int) or not 1 <= constats <= 10:
        fail("projet.constats", f"valeur « {constats} » : attendu le nombre de constats de « L'essentiel », "
                                "un entier de 1 à 10 (5 par défaut).")
    logo = meta.get("logo")
    if logo:
        logo = (base / str(logo)).resolve()
        if not logo.is_file():
            fail("projet.logo", f"le fichier « {meta.get('logo')} » est introuvable (chemin relatif au fichier de configuration).")
        if logo.suffix.lower() not in (".svg", ".png", ".jpg", ".jpeg", ".gif", ".webp"):
            fail("projet.logo", f"valeur « {meta.get('logo')} » : attendu une image .svg, .png ou .jpg.")
    else:
        logo = None

    # -- quartiers ---------------------------------------------------------------------
    qs = raw.get("quartiers")
    if not isinstance(qs, list) or not qs:
        fail("quartiers", "attendu une liste d'au moins un quartier ({id, libelle, code, qpv}).")
    quartiers, seen = [], set()
    for i, q in enumerate(qs, start=1):
        k = f"quartiers[{i}]"
        if not isinstance(q, dict):
            fail(k, f"valeur « {q} » : attendu un dictionnaire {{id, libelle, code, qpv}}.")
        qid = q.get("id")
        if not isinstance(qid, str) or not _ID.match(qid):
            fail(f"{k}.id", f"valeur « {qid} » : attendu un identifiant en minuscules sans accent ni espace (ex. biollay).")
        if qid in seen:
            fail(f"{k}.id", f"le quartier « {qid} » est déclaré deux fois.")
        seen.add(qid)
        lib = q.get("libelle")
        if not lib or not isinstance(lib, str):
            fail(f"{k}.libelle", "le nom du quartier est obligatoire.")
        code = q.get("code")
        if code is not None and (isinstance(code, bool) or not isinstance(code, int)):
            fail(f"{k}.code", f"valeur « {code} » : attendu le code entier du quartier dans le questionnaire.")
        qpv = q.get("qpv")
        if qpv is not None and (not isinstance(qpv, str) or not _QPV.match(qpv)):
            fail(f"{k}.qpv", f"valeur « {qpv} » : attendu un code QPV officiel (ex. QN07301M ou QP073001).")
        loc = q.get("locatif") or ""
        if not isinstance(loc, str):
            fail(f"{k}.locatif", f"valeur « {loc} » : attendu un texte comme « au Biollay ».")
        unknown = set(q) - {"id", "libelle", "code", "qpv", "locatif"}
        if unknown:
            fail(f"{k}.{sorted(unknown)[0]}", "clé inconnue (attendu : id, libelle, code, qpv, locatif).")
        quartiers.append(Quartier(qid, lib.strip(), code, qpv, loc.strip()))

    # -- donnees -----------------------------------------------------------------------
    dd = raw.get("donnees") or {}
    if not isinstance(dd, dict):
        fail("donnees", "attendu un dictionnaire de chemins de fichiers.")
    donnees: dict[str, Path | None] = {}
    for key in dd:
        if key not in DATA_KEYS:
            fail(f"donnees.{key}", f"clé inconnue (attendu : {', '.join(DATA_KEYS)}).")
    for key, (required, what) in DATA_KEYS.items():
        val = dd.get(key)
        if not val:
            if required:
                fail(f"donnees.{key}", f"{what} est obligatoire (chemin du fichier).")
            donnees[key] = None
            continue
        donnees[key] = config_file(base, val, f"donnees.{key}", fail, what)
    if donnees["contour_commune"] is not None and donnees["contours_qpv"] is None:
        fail("donnees.contour_commune", "le contour de la commune n'est dessiné que sur la carte des quartiers : "
                                        "attendu aussi « contours_qpv » (les contours des QPV, GeoJSON).")

    # -- references --------------------------------------------------------------------
    refs_raw = raw.get("references")
    if refs_raw is None:
        refs_raw = [{"id": r, "libelle": r.capitalize()} for r in REFERENCE_LEVELS]
    if not isinstance(refs_raw, list):
        fail("references", "attendu une liste de {id, libelle}.")
    references, ref_loc, ref_cmp = {}, {}, {}
    src_name = name
    for i, r in enumerate(refs_raw, start=1):
        if isinstance(r, dict) and r.get("id") in LEGACY_REFERENCE_IDS:
            r = {**r, "id": legacy_reference_id(r["id"], src_name)}
        if not isinstance(r, dict) or r.get("id") not in REFERENCE_LEVELS:
            val = r.get("id") if isinstance(r, dict) else r
            fail(f"references[{i}].id", f"valeur « {val} » : attendu un des niveaux {', '.join(REFERENCE_LEVELS)}.")
        references[r["id"]] = str(r.get("libelle") or r["id"])
        if r.get("locatif"):
            ref_loc[r["id"]] = str(r["locatif"])
        if r.get("comparatif"):
            ref_cmp[r["id"]] = str(r["comparatif"])
    centre = legacy_reference_id(raw.get("reference_centrale", next(iter(references), None)), src_name)
    if centre is not None and centre not in references:
        fail("reference_centrale", f"valeur « {centre} » : attendu une des références déclarées "
                                   f"({', '.join(references)}).")

    # -- seuils ------------------------------------------------------------------------
    seuils = raw.get("seuils") or {}
    if not isinstance(seuils, dict):
        fail("seuils", "attendu un dictionnaire (effectif_fragile, secret_statistique, repondants_minimum, "
                       "niveau_confiance).")
    for key in seuils:
        if key not in ("effectif_fragile", "secret_statistique", "repondants_minimum", "niveau_confiance"):
            fail(f"seuils.{key}", "clé inconnue (attendu : effectif_fragile, secret_statistique, repondants_minimum, "
                                  "niveau_confiance).")
    fragile = seuils.get("effectif_fragile", 30)
    secret = seuils.get("secret_statistique", 11)
    survey_min = seuils.get("repondants_minimum", 11)
    level = seuils.get("niveau_confiance", 0.95)
    for key, val in (("effectif_fragile", fragile), ("secret_statistique", secret),
                     ("repondants_minimum", survey_min)):
        if isinstance(val, bool) or not isinstance(val, int) or val < 1:
            fail(f"seuils.{key}", f"valeur « {val} » : attendu un entier positif.")
    if isinstance(level, bool) or not isinstance(level, (int, float)) or not 0.5 <= level < 1:
        fail("seuils.niveau_confiance", f"valeur « {level} » : attendu un nombre entre 0,5 et 1 (ex. 0.95).")

    recueil = raw.get("recueil") or {}
    if not isinstance(recueil, dict):
        fail("recueil", "attendu un dictionnaire (questionnaires_imprimes, associations_partenaires…).")
    for key in ("questionnaires_imprimes", "associations_partenaires"):
        val = recueil.get(key)
        if val is not None and (isinstance(val, bool) or not isinstance(val, int) or val < 0):
            fail(f"recueil.{key}", f"valeur « {val} » : attendu un nombre entier.")

    suivi = _monitoring(raw.get("suivi"), quartiers, fail)

    return Project(
        source=path, titre=titre.strip(), sous_titre=str(meta.get("sous_titre") or ""),
        ville=str(meta.get("ville") or ""), auteurs=auteurs, annee=str(meta.get("annee") or ""),
        quartiers=quartiers, donnees=donnees, references=references, reference_centrale=centre,
        effectif_fragile=fragile, secret_statistique=secret, repondants_minimum=survey_min,
        niveau_confiance=float(level), logo=logo,
        contact=str(meta.get("contact") or ""), donnees_synthetiques=bool(meta.get("donnees_synthetiques", False)),
        recueil=dict(recueil), reference_locatifs=ref_loc, reference_comparatifs=ref_cmp, suivi=suivi,
        precedent=parse_previous(raw.get("precedent"), base, fail), constats=constats)


def _monitoring(raw, quartiers: list[Quartier], fail) -> dict:
    """The optional ``suivi:`` section (targets of the collection followed by ``dls suivi``).

    Returns ``{"n_cible": {libelle: int}, "demi_largeur_cible": float | None, "debut": date | None,
    "distribues": {canal code: int}}`` (empty targets when the section is absent).
    """
    import datetime as _dt

    raw = raw or {}
    if not isinstance(raw, dict):
        fail("suivi", "attendu un dictionnaire (n_cible, demi_largeur_cible, debut, distribues).")
    allowed = {"n_cible", "demi_largeur_cible", "debut", "distribues"}
    for key in raw:
        if key not in allowed:
            fail(f"suivi.{key}", f"clé inconnue (attendu : {', '.join(sorted(allowed))}).")

    def count(key, val):
        if isinstance(val, bool) or not isinstance(val, int) or val < 0:
            fail(key, f"valeur « {val} » : attendu un nombre entier positif.")
        return val

    target = raw.get("n_cible")
    n_cible = {}
    if isinstance(target, dict):
        ids = {q.id: q for q in quartiers}
        for k, v in target.items():
            if k not in ids:
                fail(f"suivi.n_cible.{k}", f"quartier inconnu (attendu : {', '.join(ids)}).")
            n_cible[ids[k].libelle] = count(f"suivi.n_cible.{k}", v)
    elif target is not None:
        n_cible = {q.libelle: count("suivi.n_cible", target) for q in quartiers}
    h = raw.get("demi_largeur_cible")
    if h is not None and (isinstance(h, bool) or not isinstance(h, (int, float)) or not 0 < h < 0.5):
        fail("suivi.demi_largeur_cible", f"valeur « {h} » : attendu une proportion entre 0 et 0,5 "
                                         "(ex. 0.08 pour ± 8 points).")
    debut = raw.get("debut")
    if debut is not None and not isinstance(debut, _dt.date):
        try:
            debut = _dt.date.fromisoformat(str(debut))
        except ValueError:
            fail("suivi.debut", f"valeur « {debut} » : attendu une date AAAA-MM-JJ.")
    dist = raw.get("distribues") or {}
    if not isinstance(dist, dict):
        fail("suivi.distribues", "attendu un dictionnaire {code du canal : questionnaires remis}.")
    distribues = {}
    for k, v in dist.items():
        if isinstance(k, bool) or not isinstance(k, int):
            fail(f"suivi.distribues.{k}", "attendu le code entier du canal dans le questionnaire (liste « canal »).")
        distribues[k] = count(f"suivi.distribues.{k}", v)
    return {"n_cible": n_cible, "demi_largeur_cible": None if h is None else float(h), "debut": debut,
            "distribues": distribues}
