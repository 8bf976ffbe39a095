"""The previous diagnostic named in ``projet.yaml`` (section ``precedent``).

A project updating an earlier DLS names its previous wave in one of two ways::

    precedent:
      annee: "2017"                       # shown as « Évolution depuis le diagnostic de 2017 »
      # 1. the answers survive: each wave is weighted to its own margins
      reponses: precedent/reponses_2017.csv
      questionnaire: precedent/questionnaire_2017.yaml
      marges: precedent/marges_2017.csv
      correspondance:
        questions: {renonce_soins: renoncement}     # old name -> current name
        codes: {logement_type: {1: 2, 2: 1}}         # current name -> {old code: current code}
        modifiees: [sante_percue]                    # wording or choices changed: not comparable
      # 2. or only the published table survives
      tableau: precedent/indicateurs_2017.csv

The table (``;``, decimal comma) has the columns ``quartier; indicateur; estimation; ic_bas;
ic_haut; erreur_type; effectif`` (``erreur_type`` or the interval; percentages as published,
0–100).  Paths are relative to ``projet.yaml``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["PreviousWave", "parse_previous"]


@dataclass(frozen=True)
class PreviousWave:
    """The previous diagnostic of a project (see the module docstring).

    Attributes
    ----------
    annee : str
        Year (or period) of the previous diagnostic, as printed.
    reponses, questionnaire, marges : Path or None
        Its answers, their questionnaire and its population margins (mode 1).
    tableau : Path or None
        Its published indicator table (mode 2).
    questions : dict
        Old question name -> current name, for renamed questions.
    codes : dict
        Current question name -> {old code: current code}, for recoded choices.
    modifiees : tuple of str
        Current names of the questions whose wording or choices changed: every indicator built on
        one of them is « non comparable ».
    """

    annee: str
    reponses: Path | None = None
    questionnaire: Path | None = None
    marges: Path | None = None
    tableau: Path | None = None
    questions: dict = field(default_factory=dict)
    codes: dict = field(default_factory=dict)
    modifiees: tuple = ()

    @property
    def libelle(self) -> str:
        """« diagnostic de 2017 »."""
        return f"diagnostic de {self.annee}"


def config_file(base: Path, val, key: str, fail, what: str | None = None) -> Path:
    """The file ``val`` named in the configuration, resolved against its folder ``base``.

    Calls ``fail(key, message)`` (in French) when no such file exists.
    """
    p = (base / str(val)).resolve()
    if not p.is_file():
        named = f" ({what})" if what else ""
        fail(key, f"le fichier « {val} »{named} est introuvable (chemin relatif au fichier de "
                  f"configuration : {p}).")
    return p


def _int(v):
    if isinstance(v, int) and not isinstance(v, bool):
        return v
    if isinstance(v, str) and v.strip().lstrip("-").isdigit():
        return int(v)
    raise ValueError(v)


def parse_previous(raw, base: Path, fail) -> PreviousWave | None:
    """Validate the ``precedent`` section of ``projet.yaml``.

    Parameters
    ----------
    raw : dict or None
        The section as read from YAML.
    base : Path
        Folder of ``projet.yaml`` (paths are relative to it).
    fail : callable
        ``fail(key, message)`` raises the project's ``ConfigurationError``.

    Returns
    -------
    PreviousWave or None
    """
    if raw is None:
        return None
    if not isinstance(raw, dict):
        fail("precedent", "attendu un dictionnaire (annee, reponses, questionnaire, marges, "
                          "correspondance ou tableau).")
    known = {"annee", "reponses", "questionnaire", "marges", "tableau", "correspondance"}
    for key in raw:
        if key not in known:
            fail(f"precedent.{key}", f"clé inconnue (attendu : {', '.join(sorted(known))}).")
    annee = raw.get("annee")
    if annee is None or not str(annee).strip():
        fail("precedent.annee", "l'année du diagnostic précédent est obligatoire (ex. \"2017\").")
    files = {}
    for key in ("reponses", "questionnaire", "marges", "tableau"):
        val = raw.get(key)
        if not val:
            files[key] = None
            continue
        files[key] = config_file(base, val, f"precedent.{key}", fail)
    wave = [k for k in ("reponses", "questionnaire", "marges") if files[k]]
    if files["tableau"] and wave:
        fail(f"precedent.{wave[0]}", "donnez soit les réponses du diagnostic précédent (reponses, "
                                     "questionnaire, marges), soit son tableau publié (tableau), pas les deux.")
    if not files["tableau"]:
        for k in ("reponses", "questionnaire", "marges"):
            if not files[k]:
                fail(f"precedent.{k}", "attendu le fichier (les réponses du diagnostic précédent, leur "
                                       "questionnaire et leurs marges), ou à défaut « tableau » : le "
                                       "tableau d'indicateurs publié.")
    corr = raw.get("correspondance") or {}
    if not isinstance(corr, dict):
        fail("precedent.correspondance", "attendu un dictionnaire (questions, codes, modifiees).")
    for key in corr:
        if key not in ("questions", "codes", "modifiees"):
            fail(f"precedent.correspondance.{key}", "clé inconnue (attendu : questions, codes, modifiees).")
    questions = corr.get("questions") or {}
    if not isinstance(questions, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                  for k, v in questions.items()):
        fail("precedent.correspondance.questions", f"valeur « {questions} » : attendu des paires "
                                                    "« ancien_nom: nouveau_nom ».")
    codes_raw = corr.get("codes") or {}
    if not isinstance(codes_raw, dict):
        fail("precedent.correspondance.codes", "attendu « question: {ancien_code: nouveau_code} ».")
    codes = {}
    for q, m in codes_raw.items():
        if not isinstance(m, dict):
            fail(f"precedent.correspondance.codes.{q}", f"valeur « {m} » : attendu "
                                                         "{ancien_code: nouveau_code}.")
        try:
            codes[str(q)] = {_int(a): _int(b) for a, b in m.items()}
        except ValueError as exc:
            fail(f"precedent.correspondance.codes.{q}", f"valeur « {exc.args[0]} » : attendu des codes "
                                                         "entiers du questionnaire.")
    mod = corr.get("modifiees") or []
    if isinstance(mod, str):
        mod = [mod]
    if not isinstance(mod, list) or not all(isinstance(m, str) for m in mod):
        fail("precedent.correspondance.modifiees", f"valeur « {mod} » : attendu une liste de noms de "
                                                    "questions.")
    return PreviousWave(annee=str(annee).strip(), questions=dict(questions), codes=codes,
                        modifiees=tuple(mod), **files)
