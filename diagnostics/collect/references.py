"""Reference values: the toolkit's published set, the project's own file, and one precedence rule.

The toolkit ships sourced French references (``resources/references/references_publiees.yaml``:
France, all QPV, the rest of the agglomerations) for the questionnaire indicators whose
definition was found in a publication.  A project's ``references.yaml`` adds its own values and
overrides a shipped one (same indicator, same level).  Which value fills a ``ref_<level>``
column is decided here, once, for the indicator table and for the sources printed in the report:

1. a value « publiée » (or an extract of real data) wins over an illustrative one;
2. among values of the same kind: the territory's extract (the ``dls extraits`` tables), then the
   project's ``references.yaml``, then the toolkit's published set; the latest period first.

Values « à confirmer » (read only second-hand) and published values whose definition is
« différente » are never used.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .. import paths
from ..errors import ConfigurationError

__all__ = ["PACKAGE_REFERENCES", "PRECEDENCE_RULE", "ReferenceChoice", "choose_reference", "comparable",
           "illustrative_in_use", "load_references", "package_references", "refuse_illustrative"]

#: The toolkit's published references (package data).
PACKAGE_REFERENCES = paths.resource("references", "references_publiees.yaml")

#: The rule, in the words the report prints in its method annex.
PRECEDENCE_RULE = (
    "Pour chaque indicateur et chaque niveau (commune, département, région, France, ensemble des QPV, "
    "hors QPV), la valeur de référence retenue est, dans l'ordre : l'extrait ORS / Assurance Maladie du "
    "territoire (jamais pour les niveaux QPV et hors QPV), puis la valeur inscrite dans le fichier de "
    "références du projet, puis la valeur publiée livrée avec la boîte à outils ; la période la plus "
    "récente d'abord. Seule une valeur de définition identique ou proche sert de comparaison, jugée pour "
    "chaque indicateur : une valeur déclarée dans une enquête ne sert pas de comparaison à un chiffre "
    "enregistré par l'Assurance Maladie, ni l'inverse, sauf avis contraire écrit pour cet indicateur. Une valeur "
    "publiée l'emporte toujours sur une valeur illustrative (données synthétiques), et une valeur « à "
    "confirmer » (lue seulement dans une reprise) ou de définition différente n'est jamais utilisée.")

_ORIGIN_PROJECT, _ORIGIN_PACKAGE = "projet", "boîte à outils"


def package_references(path: str | Path | None = None) -> pd.DataFrame:
    """The toolkit's published references that may serve as comparators.

    Only rows with ``status: publiée`` and ``comparabilite`` « même » or « proche » are kept.
    """
    from .extracts import read_references

    refs = read_references(path or PACKAGE_REFERENCES)
    per = refs["comparabilite_indicateurs"] if "comparabilite_indicateurs" in refs else pd.Series([{}] * len(refs))
    keep = (refs["status"] == "publiée") & (refs["comparabilite"].isin(("même", "proche"))
                                            | per.map(lambda d: bool(d)).to_numpy())
    return refs[keep].assign(origin=_ORIGIN_PACKAGE).reset_index(drop=True)


def load_references(project_file=None, *, package: bool = True) -> pd.DataFrame | None:
    """The project's references over the toolkit's: one table, column ``origin`` says which.

    Parameters
    ----------
    project_file : path-like, optional
        The project's ``references.yaml`` (``donnees: references:``).
    package : bool, default True
        Add the toolkit's published references (after the project's: the project's row wins
        where it is comparable, :func:`choose_reference`).
    """
    from .extracts import read_references

    parts = []
    if project_file:
        own = read_references(project_file)
        per = own["comparabilite_indicateurs"].map(bool) if "comparabilite_indicateurs" in own else False
        usable = (own["status"] != "à confirmer") & ((own["comparabilite"] != "différente") | per)
        parts.append(own[usable].assign(origin=_ORIGIN_PROJECT))
    if package:
        # kept even where the project has a row for the same indicator and level: the project's
        # row comes first in :func:`choose_reference`, the toolkit's serves the indicators for
        # which the project's row is not comparable (judged per indicator)
        parts.append(package_references())
    parts = [p for p in parts if len(p)]
    return pd.concat(parts, ignore_index=True) if parts else None


class ReferenceChoice(dict):
    """The reference value chosen for one indicator and one level.

    Keys: ``value, source, period, url, status`` (« publiée » | « illustrative »), ``illustrative``
    (bool), ``origin`` (« extrait » | « projet » | « boîte à outils »), ``fichier``, ``entree``.
    """


_BY_KEY: list = [None, None]     # (the references table, its rows by (indicator, level, origin))


def _rows_by_key(refs: pd.DataFrame) -> dict:
    """The rows of ``refs`` as dicts grouped by (indicator, level, origin), built once per table
    (a report looks every indicator × level up; boolean masks on the whole table took seconds)."""
    if _BY_KEY[0] is not refs:
        origin = refs["origin"] if "origin" in refs else pd.Series(_ORIGIN_PROJECT, index=refs.index)
        groups: dict = {}
        for r, o in zip(refs.to_dict("records"), origin):
            groups.setdefault((r["indicator_id"], r["level"], o), []).append(r)
        _BY_KEY[:] = [refs, groups]
    return _BY_KEY[1]


#: What an indicator of each catalogue source measures.
_MEASURE_OF = {"questionnaire": "déclarée", "extrait": "enregistrée"}


def comparable(ref: dict, indicator_id, kind: str | None = None) -> bool:
    """Whether a reference row may serve as the comparator of one indicator (per indicator × reference).

    The row's ``comparabilite_indicateurs`` decides for the indicators it names; otherwise a row
    that says what it measures (``mesure``: « déclarée » in a survey, « enregistrée » in
    administrative data) serves only the indicators that measure the same way (``kind``: the
    catalogue source, « questionnaire » or « extrait »), with its ``comparabilite``: a
    self-reported mammography is not the organised-screening participation of the Assurance
    Maladie.  A row without ``mesure`` keeps its single judgement.
    """
    per = ref.get("comparabilite_indicateurs")
    if isinstance(per, dict) and indicator_id in per:
        return per[indicator_id] in ("même", "proche")
    if ref.get("comparabilite") == "différente":
        return False
    measure = ref.get("mesure") or ""
    if isinstance(measure, str) and measure and kind in _MEASURE_OF:
        return measure == _MEASURE_OF[kind]
    return True


def choose_reference(extract: dict | None, refs: pd.DataFrame | None, code, level: str,
                     fallback_code=None, kind: str | None = None) -> ReferenceChoice | None:
    """Apply :data:`PRECEDENCE_RULE` for indicator ``code`` at ``level``.

    Parameters
    ----------
    extract : dict, optional
        ``{"value", "source", "period", "illustrative"}`` from the territory's extract rows.
    refs : DataFrame, optional
        :func:`load_references` (project then toolkit rows).
    code : str
        The indicator's reference code (``reference:`` of the catalogue, else its id).
    level : str
        A territory level of :data:`diagnostics.config.project.REFERENCE_LEVELS` (« France »…).
    fallback_code : str, optional
        A second code whose reference rows come after those of ``code``: a questionnaire
        indicator mapped to an extract code (``reference:``) falls back on its own id's published
        value, which then beats an illustrative one of the extract code.  It is the indicator's
        own id, by which :func:`comparable` judges each row.
    kind : {"questionnaire", "extrait"}, optional
        The catalogue source of the indicator: a row that measures otherwise is skipped
        (:func:`comparable`).

    Returns
    -------
    ReferenceChoice or None
    """
    candidates = []
    if extract is not None and not pd.isna(extract.get("value", np.nan)):
        candidates.append(ReferenceChoice(extract, status="illustrative" if extract["illustrative"] else "publiée",
                                          origin="extrait", url="", fichier="", entree=None))
    codes = [c for c in dict.fromkeys((code, fallback_code)) if c is not None]
    if refs is not None and len(refs) and codes:
        by_key = _rows_by_key(refs)
        for key, origin in ((c, o) for c in codes for o in (_ORIGIN_PROJECT, _ORIGIN_PACKAGE)):
            sel = [r for r in by_key.get((key, level, origin)) or () if comparable(r, fallback_code or code, kind)]
            if sel:
                r = sel[0]
                for x in sel[1:]:                     # the latest period (the last row on a tie)
                    if str(x["period"]) >= str(r["period"]):
                        r = x
                candidates.append(ReferenceChoice(
                    value=float(r["value"]), source=str(r["source"]), period=str(r["period"]),
                    url=str(r.get("url") or ""), court=str(r.get("court") or ""), status=str(r["status"]), illustrative=r["status"] != "publiée",
                    origin=origin, fichier=str(r.get("fichier", "")), entree=r.get("entree")))
    for c in candidates:
        if not c["illustrative"]:
            return c
    return candidates[0] if candidates else None


def illustrative_in_use(project, catalogue=None) -> list[str]:
    """French sentences naming each illustrative entry of the project's references that a verdict would use.

    Used to refuse a build of a project on real data (``donnees_synthetiques: false``).
    """
    from ..config.catalogue import load_catalogue
    from ..config.questionnaire import load_questionnaire

    path = project.donnees.get("references")
    if not path:
        return []
    from .extracts import read_references

    own = read_references(path)
    own = own[own["status"] == "illustrative"]
    if not len(own):
        return []
    if catalogue is None:
        d = project.donnees
        qn = load_questionnaire(d["questionnaire"]) if d.get("questionnaire") else load_questionnaire()
        catalogue = load_catalogue(d["catalogue"], qn) if d.get("catalogue") else load_catalogue(questionnaire=qn)
    used = {ind.reference or ind.id for ind in catalogue}
    from ..config.project import REFERENCE_LEVELS

    levels = set(REFERENCE_LEVELS.values())
    out = []
    for _, r in own.iterrows():
        if r["indicator_id"] in used and r["level"] in levels:
            out.append(f"« {Path(path).name} », référence n° {int(r['entree'])} (indicateur « {r['indicator_id']} », "
                       f"niveau {r['level']}, {r['period']}) a le statut « illustrative »")
    return out


def refuse_illustrative(project, catalogue=None) -> None:
    """Raise a French :class:`ConfigurationError` when a real-data project would use an illustrative value."""
    if project.donnees_synthetiques:
        return
    found = illustrative_in_use(project, catalogue)
    if found:
        more = f" (et {len(found) - 1} autre(s))" if len(found) > 1 else ""
        raise ConfigurationError(
            f"Projet sur données réelles (donnees_synthetiques: false) : {found[0]}{more}. Une valeur "
            "illustrative ne peut pas servir de comparaison dans un rapport réel : remplacez-la par la valeur "
            "publiée (status: publiée, source, period, url) ou supprimez l'entrée.",
            file=Path(project.donnees["references"]).name)
