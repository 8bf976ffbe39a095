"""The indicator catalogue: which indicators a DLS publishes and how each is computed.

The catalogue is a YAML file (``config/indicateurs.yaml``) that a peer city edits without
Python.  :func:`load_catalogue` reads it, checks every entry against the questionnaire, the
nine dimensions and the score registry, and returns a :class:`Catalogue` of
:class:`Indicator` objects.  Any problem raises a
:class:`~diagnostics.errors.ConfigurationError` with one French sentence naming the file,
the entry and the field.

Entry fields (French keys, as the file is edited by analysts)
--------------------------------------------------------------
Common to all entries:

``id``          identifier (letters, digits, ``_``), unique;
``libelle``     French label; ``definition``: one-sentence French definition;
``dimension``   one of the ids of ``config/dimensions.yaml``;
``source``      ``questionnaire`` or ``extrait``;
``unite``       ``%``, ``score``, ``pour 1 000``, ``pour 10 000``, ``pour 100 000``, ``ratio``…;
``sens``        ``hausse_favorable``, ``hausse_defavorable`` or ``neutre``;
``note``        optional free text shown with the indicator;
``reference``   optional: code of the indicator in the reference values (``references.yaml`` of the project
                and the commune / département / région / France rows of the extracts); by
                default the ``code_extrait`` of an extract entry, none for a questionnaire entry
                (a self-reported figure is compared with a reference only when an analyst says
                that the two measure the same thing).

Questionnaire entries, either a question:

``question``    a single- or multiple-choice question (or an integer/decimal one with ``seuil``);
``numerateur``  codes counted in the numerator (for a multiple choice: options, "at least one
                ticked");
``denominateur`` optional: codes forming the denominator (default: every substantive code;
                "ne sait pas" and "refus" are excluded from the denominator and counted);

or a score of :data:`diagnostics.stats.scores.SCORES`:

``score``       ``epices``, ``who5`` or ``solitude``;
``seuil``       a condition such as ``">= 30.17"`` (proportion of respondents meeting it), or
``statistique: moyenne`` (mean score, unit ``score``);

and optionally ``filtre``: a population condition in the questionnaire's ``relevant`` syntax
(``age >= 65``, ``sexe == 1 and age < 30``).

Extract entries:

``code_extrait`` the indicator code in the ORS / Assurance Maladie extract files;
``methode``     ``wilson`` (proportion), ``byar`` (crude rate of a count) or ``dsr``
                (directly standardised rate).
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from .. import paths
from . import yamlfile
from ..errors import ConfigurationError
from .questionnaire import (DIMENSIONS_FILE, Questionnaire, Condition, load_dimensions,
                            load_questionnaire)
from ..stats.scores import SCORES

DEFAULT_CATALOGUE = paths.CATALOGUE

SOURCES = ("questionnaire", "extrait")
DIRECTIONS = ("hausse_favorable", "hausse_defavorable", "neutre")
METHODS = ("wilson", "byar", "dsr")
UNITS = ("%", "score", "pour 1 000", "pour 10 000", "pour 100 000", "ratio", "nombre", "années")
STATISTICS = ("proportion", "moyenne")
COMPARATORS = (">=", "<=", ">", "<", "==")

_COMMON = {"id", "libelle", "definition", "dimension", "source", "unite", "sens", "note", "reference"}
_QUESTION_KEYS = {"question", "numerateur", "denominateur", "filtre", "seuil", "statistique"}
_SCORE_KEYS = {"score", "seuil", "statistique", "filtre"}
_EXTRACT_KEYS = {"code_extrait", "methode"}
_REQUIRED = ("id", "libelle", "definition", "dimension", "source", "unite", "sens")
_THRESHOLD = re.compile(r"^\s*(>=|<=|==|>|<)\s*(-?\d+(?:[.,]\d+)?)\s*$")


@dataclass(frozen=True)
class Indicator:
    """One catalogue entry (attributes in English; YAML keys in French).

    Attributes
    ----------
    id, label, definition, dimension, source, unit, direction, note : str
        Description (``label`` = ``libelle``, ``unit`` = ``unite``, ``direction`` = ``sens``).
    question : str or None
        Questionnaire variable (questionnaire entries based on a question).
    numerator_codes, denominator_codes : tuple of int or None
        Codes counted in the numerator; codes forming the denominator (``None``: all
        substantive codes).
    score : str or None
        Name of a score of :data:`diagnostics.stats.scores.SCORES`.
    threshold : tuple (str, float) or None
        Comparison applied to the score or numeric answer, e.g. ``(">=", 30.17)``.
    statistic : str
        ``"proportion"`` or ``"moyenne"``.
    filter : str or None
        Population condition in the questionnaire's expression syntax.
    extract_code, method : str or None
        Extract entries: indicator code in the extract files and CI method.
    reference : str or None
        Code looked up in the reference values (default: ``extract_code``).
    """

    id: str
    label: str
    definition: str
    dimension: str
    source: str
    unit: str
    direction: str
    note: str = ""
    question: str | None = None
    numerator_codes: tuple | None = None
    denominator_codes: tuple | None = None
    score: str | None = None
    threshold: tuple | None = None
    statistic: str = "proportion"
    filter: str | None = None
    extract_code: str | None = None
    method: str | None = None
    reference: str | None = None

    @property
    def method_label(self) -> str:
        """Short French description of the estimation method (``method`` column)."""
        if self.source == "extrait":
            return {"wilson": "Wilson (proportion)", "byar": "Byar (taux brut)",
                    "dsr": "Dobson (taux standardisé direct)"}[self.method]
        if self.statistic == "moyenne":
            return "moyenne pondérée (linéarisation)"
        return "proportion pondérée, IC logit"


class _Filter(Condition):
    """A population filter: the questionnaire's ``relevant`` language, with its own messages."""

    def _err(self, what):
        raise ValueError(f"{what}")


class Catalogue:
    """A validated list of indicators.

    Iterate over it to get :class:`Indicator` objects in file order; ``catalogue[id]`` gives
    one entry; :meth:`population` evaluates an entry's filter on a table of codes.
    """

    def __init__(self, indicators: list[Indicator], questionnaire: Questionnaire, source: Path | None = None):
        self.indicators = list(indicators)
        self.questionnaire = questionnaire
        self.source = source
        self._by_id = {i.id: i for i in self.indicators}
        self._filters = {i.id: _Filter(i.filter, questionnaire, i.id) for i in self.indicators if i.filter}

    def __iter__(self):
        return iter(self.indicators)

    def __len__(self):
        return len(self.indicators)

    def __getitem__(self, indicator_id: str) -> Indicator:
        return self._by_id[indicator_id]

    def __repr__(self) -> str:
        n_q = sum(i.source == "questionnaire" for i in self)
        return f"<Catalogue {len(self)} indicateurs ({n_q} questionnaire, {len(self) - n_q} extrait)>"

    def population(self, indicator_id: str, codes: pd.DataFrame) -> pd.Series:
        """Boolean Series: does each respondent belong to the entry's population filter?

        ``True`` everywhere when the entry has no ``filtre``.  A comparison with a missing
        value is false (as for the questionnaire's skip logic).
        """
        cond = self._filters.get(indicator_id)
        if cond is None:
            return pd.Series(True, index=codes.index)
        return cond.evaluate(codes)

    def to_frame(self) -> pd.DataFrame:
        """The catalogue as a table (one row per indicator), e.g. for the report's annex."""
        rows = []
        for i in self:
            rows.append(dict(
                id=i.id, libelle=i.label, definition=i.definition, dimension=i.dimension, source=i.source,
                question=i.question or i.score or "", code_extrait=i.extract_code or "",
                numerateur=", ".join(map(str, i.numerator_codes or ())),
                seuil="" if i.threshold is None else f"{i.threshold[0]} {i.threshold[1]:g}",
                filtre=i.filter or "", unite=i.unit, sens=i.direction, methode=i.method_label))
        return pd.DataFrame(rows)


def load_catalogue(path: str | Path = DEFAULT_CATALOGUE, questionnaire: Questionnaire | None = None,
                   dimensions_path: str | Path = DIMENSIONS_FILE) -> Catalogue:
    """Load and validate the indicator catalogue.

    Parameters
    ----------
    path : path-like
        YAML file; defaults to ``config/indicateurs.yaml``.
    questionnaire : Questionnaire, optional
        The questionnaire the entries refer to (default: the project's questionnaire).
    dimensions_path : path-like
        The nine dimensions (default ``config/dimensions.yaml``).

    Returns
    -------
    Catalogue

    Raises
    ------
    ConfigurationError
        One French sentence naming the file, the entry (``id`` or position) and the problem:
        missing field, unknown field, duplicate id, unknown dimension, unknown question or
        code, unknown score, bad threshold, bad filter, unknown method.
    """
    path = Path(path)
    qn = questionnaire if questionnaire is not None else load_questionnaire()
    dims = load_dimensions(dimensions_path)
    try:
        raw = yamlfile.parse(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigurationError(f"Impossible de lire le catalogue d'indicateurs « {path} » : {exc.strerror}.",
                                 file=path) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f", ligne {mark.line + 1}" if mark else ""
        raise ConfigurationError(f"Le catalogue d'indicateurs « {path.name} »{line} n'est pas un YAML valide : "
                                 f"{getattr(exc, 'problem', exc)}.", file=path) from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("indicateurs"), list):
        raise ConfigurationError(f"Le catalogue d'indicateurs « {path.name} » doit contenir une liste "
                                 "« indicateurs ».", file=path)

    indicators, seen, errors = [], set(), []
    for pos, entry in enumerate(raw["indicateurs"], start=1):
        try:
            indicators.append(_parse_entry(entry, pos, path, qn, dims, seen))
        except ConfigurationError as exc:  # every entry is checked: all errors in one run
            errors.append(exc)
    if len(errors) == 1:
        raise errors[0]
    if errors:
        head = f"Catalogue « {path.name} », "
        raise ConfigurationError(
            f"Catalogue « {path.name} » : {len(errors)} erreurs à corriger — "
            + " ; ".join(f"({k}) {str(e).removeprefix(head).rstrip('.')}" for k, e in enumerate(errors, 1)) + ".",
            file=path, row=errors[0].row, column=errors[0].column, value=errors[0].value)
    return Catalogue(indicators, qn, source=path)


def load_project_catalogue(project, path: str | Path | None = None) -> Catalogue:
    """The catalogue of a project, checked against the project's own questionnaire.

    Parameters
    ----------
    project : diagnostics.config.project.Project
        The project (``donnees.questionnaire`` and, when given, ``donnees.catalogue``).
    path : path-like, optional
        A catalogue named by the user instead of the project's (``dls indicators --catalogue``).

    Returns
    -------
    Catalogue
        From ``path``, else the project's ``donnees.catalogue``, else the toolkit's catalogue;
        always checked against ``donnees.questionnaire`` (never the toolkit's questionnaire
        behind a project's back).
    """
    qn = load_questionnaire(project.donnees["questionnaire"])
    return load_catalogue(path or project.donnees.get("catalogue") or DEFAULT_CATALOGUE, qn)


def unused_questions(catalogue: Catalogue, baseline: Questionnaire | None = None) -> list[str]:
    """Questions added to a project's questionnaire that feed no indicator of its catalogue.

    Parameters
    ----------
    catalogue : Catalogue
        The project's catalogue (with its questionnaire).
    baseline : Questionnaire, optional
        The questionnaire the project started from (default: the toolkit's): its questions that
        feed no indicator serve the weighting, the fieldwork or the context, and are not listed.

    Returns
    -------
    list of str
        Names of the asked choice or numeric questions that are absent from ``baseline`` and
        used by no indicator (``question``, score item or ``filtre``), in questionnaire order.
    """
    baseline = baseline if baseline is not None else load_questionnaire()
    used = set()
    for ind in catalogue:
        used.update({ind.question} | set(SCORES[ind.score].items if ind.score else ()))
        if ind.filter:
            used.update(n.id for n in ast.walk(ast.parse(ind.filter, mode="eval")) if isinstance(n, ast.Name))
    return [q.name for q in catalogue.questionnaire.asked
            if q.type not in ("text", "date") and q.name not in used and q.name not in baseline.questions]


def _parse_entry(entry, pos: int, path: Path, qn: Questionnaire, dims: dict, seen: set) -> Indicator:
    name = entry.get("id") if isinstance(entry, dict) else None
    who = f"l'indicateur « {name} »" if name else f"l'indicateur n° {pos}"

    def fail(msg, column=None, value=None):
        raise ConfigurationError(f"Catalogue « {path.name} », {who} : {msg}", file=path, row=pos,
                                 column=column, value=value)

    if not isinstance(entry, dict):
        fail("chaque indicateur doit être une liste de champs « clé: valeur ».")
    for key in _REQUIRED:
        if entry.get(key) in (None, ""):
            fail(f"le champ obligatoire « {key} » manque.", column=key)
    iid = str(entry["id"])
    if not iid.isidentifier():
        fail(f"l'identifiant « {iid} » est invalide (lettres, chiffres et _ seulement).", "id", iid)
    if iid in seen:
        fail(f"l'identifiant « {iid} » est utilisé deux fois.", "id", iid)
    seen.add(iid)
    dim = entry["dimension"]
    if dim not in dims:
        fail(f"la dimension « {dim} » est inconnue (attendu : {', '.join(dims)}).", "dimension", dim)
    source = entry["source"]
    if source not in SOURCES:
        fail(f"la source « {source} » est inconnue (attendu : questionnaire ou extrait).", "source", source)
    direction = entry["sens"]
    if direction not in DIRECTIONS:
        fail(f"le sens « {direction} » est inconnu (attendu : {', '.join(DIRECTIONS)}).", "sens", direction)
    unit = str(entry["unite"])
    if unit not in UNITS:
        fail(f"l'unité « {unit} » est inconnue (attendu : {', '.join(UNITS)}).", "unite", unit)

    allowed = _COMMON | (_EXTRACT_KEYS if source == "extrait" else _QUESTION_KEYS | _SCORE_KEYS)
    unknown = [k for k in entry if k not in allowed]
    if unknown:
        fail(f"le champ « {unknown[0]} » n'est pas reconnu pour une source « {source} » "
             f"(champs possibles : {', '.join(sorted(allowed))}).", unknown[0])

    common = dict(id=iid, label=" ".join(str(entry["libelle"]).split()),
                  definition=" ".join(str(entry["definition"]).split()), dimension=dim, source=source,
                  unit=unit, direction=direction, note=" ".join(str(entry.get("note") or "").split()),
                  reference=None if entry.get("reference") in (None, "") else str(entry["reference"]))

    if source == "extrait":
        code = entry.get("code_extrait")
        if code in (None, ""):
            fail("le champ obligatoire « code_extrait » manque (code de l'indicateur dans les extraits).",
                 "code_extrait")
        method = entry.get("methode")
        if method not in METHODS:
            fail(f"la méthode « {method} » est inconnue (attendu : wilson, byar ou dsr).", "methode", method)
        if method == "wilson" and unit != "%":
            fail(f"une proportion (méthode wilson) s'exprime en « % », pas en « {unit} ».", "unite", unit)
        if common["reference"] is None:
            common["reference"] = str(code)
        return Indicator(**common, extract_code=str(code), method=method)

    # questionnaire entry
    has_q, has_s = entry.get("question") not in (None, ""), entry.get("score") not in (None, "")
    if has_q == has_s:
        fail("indiquez soit « question », soit « score » (exactement l'un des deux).",
             "question" if has_q else None)
    statistic = entry.get("statistique", "proportion")
    if statistic not in STATISTICS:
        fail(f"la statistique « {statistic} » est inconnue (attendu : proportion ou moyenne).",
             "statistique", statistic)
    threshold = None
    if entry.get("seuil") is not None:
        m = _THRESHOLD.match(str(entry["seuil"]))
        if not m:
            fail(f"le seuil « {entry['seuil']} » est mal écrit (attendu par exemple « >= 30.17 » ou « <= 50 »).",
                 "seuil", entry["seuil"])
        threshold = (m.group(1), float(m.group(2).replace(",", ".")))
    flt = entry.get("filtre")
    if flt is not None:
        flt = str(flt)
        try:
            ast.parse(flt, mode="eval")
            _Filter(flt, qn, iid)
        except (SyntaxError, ValueError) as exc:
            detail = "expression mal écrite" if isinstance(exc, SyntaxError) else str(exc)
            fail(f"le filtre « {flt} » est invalide ({detail} ; syntaxe attendue : celle des conditions "
                 "« relevant » du questionnaire, par exemple « age >= 65 and sexe == 1 »).", "filtre", flt)
    if statistic == "moyenne" and (threshold is not None or entry.get("numerateur") is not None):
        fail("une moyenne n'a ni « seuil » ni « numerateur ».", "statistique")
    expected_unit = "score" if statistic == "moyenne" else "%"
    if unit != expected_unit and not (statistic == "moyenne" and unit in ("années", "nombre")):
        fail(f"l'unité doit être « {expected_unit} » pour une {statistic} (reçu « {unit} »).", "unite", unit)

    if has_s:
        sname = entry["score"]
        if sname not in SCORES:
            fail(f"le score « {sname} » est inconnu (attendu : {', '.join(SCORES)}).", "score", sname)
        for k in ("numerateur", "denominateur"):
            if entry.get(k) is not None:
                fail(f"le champ « {k} » ne s'applique pas à un score (utilisez « seuil »).", k)
        if statistic == "proportion":
            if threshold is None:
                fail("un indicateur fondé sur un score doit avoir un « seuil » (par exemple « >= 30.17 ») "
                     "ou « statistique: moyenne ».", "seuil")
            lo, hi = SCORES[sname].range
            if not lo <= threshold[1] <= hi:
                fail(f"le seuil {threshold[1]:g} est hors de l'étendue du {SCORES[sname].label} "
                     f"({lo:g} à {hi:g}).", "seuil", entry["seuil"])
        return Indicator(**common, score=sname, threshold=threshold, statistic=statistic, filter=flt)

    qname = entry["question"]
    if qname not in qn.questions:
        fail(f"la question « {qname} » n'existe pas dans le questionnaire « {qn.id} ».", "question", qname)
    q = qn[qname]
    if q.type in ("text", "date"):
        fail(f"la question « {qname} » est de type {q.type} : elle ne peut pas donner un indicateur chiffré.",
             "question", qname)
    num = den = None
    if q.type in ("single", "multiple"):
        if statistic == "moyenne":
            fail(f"la question « {qname} » est à choix : la moyenne de ses codes n'a pas de sens.", "statistique")
        if threshold is not None:
            fail(f"la question « {qname} » est à choix : utilisez « numerateur » (liste de codes), pas « seuil ».",
                 "seuil")
        num = _codes(entry.get("numerateur"), "numerateur", q, fail, required=True)
        den = _codes(entry.get("denominateur"), "denominateur", q, fail, required=False)
        if den is not None:
            if q.type == "multiple":
                fail("« denominateur » ne s'applique pas à une question à choix multiples (le dénominateur est "
                     "l'ensemble des personnes ayant coché au moins une case).", "denominateur")
            outside = [c for c in num if c not in den]
            if outside:
                fail(f"le code {outside[0]} du numérateur n'est pas dans le dénominateur {list(den)}.", "numerateur")
    else:  # integer / decimal
        for k in ("numerateur", "denominateur"):
            if entry.get(k) is not None:
                fail(f"la question « {qname} » est numérique : utilisez « seuil » ou « statistique: moyenne », "
                     f"pas « {k} ».", k)
        if statistic == "proportion" and threshold is None:
            fail(f"la question « {qname} » est numérique : indiquez un « seuil » (par exemple « >= 5 »).", "seuil")
    return Indicator(**common, question=qname, numerator_codes=num, denominator_codes=den, threshold=threshold,
                     statistic=statistic, filter=flt)


def _codes(value, key, q, fail, required):
    """Check a list of codes against the question's substantive codes."""
    if value is None:
        if required:
            fail(f"le champ « {key} » manque : indiquez la liste des codes comptés (par exemple [1]).", key)
        return None
    items = value if isinstance(value, list) else [value]
    codes = []
    for v in items:
        try:
            c = int(v)
            if c != float(v):
                raise ValueError
        except (TypeError, ValueError):
            fail(f"le code « {v} » du champ « {key} » n'est pas un nombre entier.", key, v)
        if c in q.missing_codes or c in (98, 99):
            fail(f"le code {c} du champ « {key} » est un code de non-réponse : « ne sait pas » et « refus » sont "
                 "exclus du dénominateur et comptés à part.", key, c)
        if c not in q.codes:
            fail(f"le code {c} du champ « {key} » n'existe pas pour la question « {q.name} » "
                 f"(codes possibles : {', '.join(map(str, q.codes))}).", key, c)
        codes.append(c)
    if not codes:
        fail(f"le champ « {key} » est une liste vide.", key)
    return tuple(codes)
