"""The questionnaire: one definition that drives validation, labels, forms and exports.

The definition is a YAML file (``questionnaires/dls_habitants.yaml``) loaded into a
:class:`Questionnaire`.  Everything downstream asks it questions: which columns a clean
answer table has, which codes a question accepts, when a question is relevant (skip logic),
which codes mean "ne sait pas" or "refus".

Column convention of answer tables
----------------------------------
* single choice, integer, decimal, text, date: one column named after the question;
* multiple choice: one 0/1 column per option, named ``{question}_{code}`` (the form that
  KoboToolbox exports as ``group/question/code`` and that SPSS and Stata accept).

Skip logic (``relevant``) is a small expression language: variable names, numbers, strings,
``== != < <= > >=``, ``and or not``, ``in [..]`` and ``selected(var, code)``.  It is parsed once
with :mod:`ast` (nothing is ``eval``-ed), evaluated on a table of codes, and translated to
XPath for XLSForm.

Derived questions (``derive``) are not asked: their code is computed from another question's
answer through a mapping of codes, written in the YAML::

    derive: {from: complementaire, map: {1: 1, 2: 1, 3: 2, 4: 2}}

A source code absent from the mapping (a non-response, an unanswered question) gives a
missing value.  Derived questions keep their column in answer tables (validation fills it),
but have no number and no place on the paper form, the entry workbook or the XLSForm's
questions (the XLSForm computes them with a ``calculate`` row).
"""
from __future__ import annotations

import ast
import datetime as _dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from .. import paths
from . import yamlfile
from ..errors import ConfigurationError

DEFAULT_QUESTIONNAIRE = paths.QUESTIONNAIRE
DIMENSIONS_FILE = paths.DIMENSIONS

QUESTION_TYPES = ("single", "multiple", "integer", "decimal", "text", "date")


@dataclass(frozen=True)
class Choice:
    """One answer option: integer ``code`` and French ``label``."""

    code: int
    label: str


@dataclass(frozen=True)
class MissingCode:
    """A non-response code ("ne sait pas", "refus") with its key, code and label."""

    key: str
    code: int
    label: str


@dataclass(frozen=True)
class Derivation:
    """How a derived question's code follows from another question: ``{source code: code}``."""

    source: str
    mapping: dict

    def apply(self, source_codes: pd.Series) -> pd.Series:
        """Target codes (float, NaN where the source code is not in the mapping) for a Series of codes."""
        return pd.to_numeric(source_codes, errors="coerce").map(
            {float(k): float(v) for k, v in self.mapping.items()}).astype(float)


@dataclass
class Question:
    """One question of the instrument.

    Attributes
    ----------
    name : str
        Variable name (column in answer tables).
    type : str
        One of ``single, multiple, integer, decimal, text, date``.
    label : str
        Published French wording.
    choices : list of Choice
        Options for ``single`` / ``multiple``.
    missing : list of MissingCode
        Non-response codes accepted for this question.
    relevant : str or None
        Skip-logic condition; the question is asked only when it holds.
    required : bool
        An answer (possibly a missing code) is required when the question is relevant.
    range : tuple or None
        Inclusive bounds for integer, decimal and date questions.
    derive : Derivation or None
        For a question that is not asked but computed from another one's answer.
    """

    name: str
    type: str
    label: str
    section: str
    dimension: str | None = None
    choices: list[Choice] = field(default_factory=list)
    choice_list: str | None = None
    missing: list[MissingCode] = field(default_factory=list)
    relevant: str | None = None
    required: bool = False
    range: tuple | None = None
    hint: str | None = None
    unit: str | None = None
    max_length: int | None = None
    derive: Derivation | None = None

    @property
    def asked(self) -> bool:
        """Is the question put to the respondent (``False`` for a derived question)?"""
        return self.derive is None

    @property
    def codes(self) -> list[int]:
        """Valid substantive codes (missing codes excluded)."""
        return [c.code for c in self.choices]

    @property
    def missing_codes(self) -> list[int]:
        return [m.code for m in self.missing]

    def label_of(self, code) -> str | None:
        """Label of a substantive or missing code, ``None`` if unknown."""
        for c in self.choices:
            if c.code == code:
                return c.label
        for m in self.missing:
            if m.code == code:
                return m.label
        return None

    @property
    def columns(self) -> list[str]:
        """Columns of this question in a clean answer table."""
        if self.type == "multiple":
            return [f"{self.name}_{c.code}" for c in self.choices]
        return [self.name]


@dataclass
class Section:
    id: str
    label: str
    dimension: str | None
    note: str | None
    questions: list[Question]


class Questionnaire:
    """A loaded, validated questionnaire definition.

    Use :func:`load_questionnaire` to build one from a YAML file.
    """

    def __init__(self, meta: dict, sections: list[Section], missing_codes: dict[str, MissingCode],
                 choice_lists: dict[str, list[Choice]], source: Path | None = None):
        self.id = meta.get("id", "questionnaire")
        self.title = meta.get("title", "")
        self.version = str(meta.get("version", ""))
        self.intro = meta.get("intro", "")
        self.sections = sections
        self.missing_codes = missing_codes
        self.choice_lists = choice_lists
        self.source = source
        self.questions: dict[str, Question] = {q.name: q for s in sections for q in s.questions}
        self._relevance = {q.name: Condition(q.relevant, self, q.name)
                           for q in self.questions.values() if q.relevant}

    def __repr__(self) -> str:
        return f"<Questionnaire {self.id} v{self.version}: {len(self.questions)} questions>"

    def __iter__(self):
        return iter(self.questions.values())

    def __getitem__(self, name: str) -> Question:
        return self.questions[name]

    @property
    def columns(self) -> list[str]:
        """All columns of a clean answer table, in questionnaire order."""
        return [c for q in self for c in q.columns]

    @property
    def asked(self) -> list[Question]:
        """The questions put to respondents (derived ones excluded), in questionnaire order."""
        return [q for q in self if q.asked]

    @property
    def asked_columns(self) -> list[str]:
        """Columns of the asked questions: those of the entry workbook and the online form."""
        return [c for q in self.asked for c in q.columns]

    @property
    def derived(self) -> list[Question]:
        """The derived questions, in questionnaire order."""
        return [q for q in self if not q.asked]

    def question_number(self, name: str) -> int:
        """Number of a question on the paper form (1, 2, … across sections).

        ``name`` may be a question or an answer-table column (``{question}_{code}`` of a multiple
        choice): the number of its question is returned.  The same numbers head the paper form,
        the entry workbook's columns and the check report.  Only asked questions are numbered,
        so the numbers run 1, 2, … without a gap.

        Raises
        ------
        KeyError
            ``name`` is neither a question nor a column of the questionnaire, or is a derived
            question (not asked, hence not numbered).
        """
        if name not in self.questions:
            name = self.column_owner(name)[0].name
        numbered = [q.name for q in self.asked]
        if name not in numbered:
            raise KeyError(name)
        return numbered.index(name) + 1

    def question_label(self, name: str) -> str:
        """« Q12 · renoncement »: the paper form's number and the variable name of a column.

        A derived question has no number: « epices_02 (calculée) ».
        """
        q = self.questions.get(name) or self.column_owner(name)[0]
        if not q.asked:
            return f"{name} (calculée)"
        return f"Q{self.question_number(name)} · {name}"

    def column_owner(self, column: str) -> tuple[Question, int | None]:
        """Return the question a column belongs to and, for multiple choice, the option code."""
        if column in self.questions:
            return self.questions[column], None
        for q in self:
            if q.type == "multiple":
                for c in q.choices:
                    if column == f"{q.name}_{c.code}":
                        return q, c.code
        raise KeyError(column)

    def relevance(self, name: str, codes: pd.DataFrame) -> pd.Series:
        """Boolean Series: is question ``name`` relevant for each row of a table of codes?

        Comparisons with a missing value are false, as in ODK/XPath.  Missing codes
        ("ne sait pas", "refus") take part in comparisons as their numeric code, so a
        condition ``age >= 50`` is false for an age answered "refus" (99 is not a valid age:
        validation turns it into a missing value before relevance is evaluated).
        """
        cond = self._relevance.get(name)
        if cond is None:
            return pd.Series(True, index=codes.index)
        return cond.evaluate(codes)

    def xpath_relevance(self, name: str) -> str:
        """The relevance condition of ``name`` as an XLSForm/XPath expression ('' if none)."""
        cond = self._relevance.get(name)
        return "" if cond is None else cond.to_xpath()

    def codebook(self) -> pd.DataFrame:
        """One row per (column, code): the codebook shown in the entry workbook and reports."""
        rows = []
        for q in self:
            base = dict(section=q.section, question=q.name, type=q.type, libelle=q.label,
                        filtre=q.relevant or "", obligatoire="oui" if q.required else "non")
            if not q.asked:
                base["filtre"] = f"non posée : calculée à partir de « {q.derive.source} »"
            if q.type == "multiple":
                for c in q.choices:
                    rows.append({**base, "colonne": f"{q.name}_{c.code}", "code": "0 / 1",
                                 "modalite": f"{c.label} (1 = coché, 0 = non coché)"})
            elif q.type == "single":
                for c in q.choices:
                    rows.append({**base, "colonne": q.name, "code": str(c.code), "modalite": c.label})
            else:
                rng = "" if q.range is None else f"de {q.range[0]} à {q.range[1]}"
                kind = {"integer": "nombre entier", "decimal": "nombre décimal", "text": "texte libre",
                        "date": "date (jj/mm/aaaa)"}[q.type]
                rows.append({**base, "colonne": q.name, "code": "", "modalite": f"{kind} {rng}".strip()})
            for m in q.missing:
                rows.append({**base, "colonne": q.name, "code": str(m.code), "modalite": m.label})
        return pd.DataFrame(rows, columns=["section", "question", "colonne", "type", "libelle", "code",
                                           "modalite", "filtre", "obligatoire"])


def load_dimensions(path: str | Path = DIMENSIONS_FILE) -> dict[str, str]:
    """Return ``{dimension id: French label}`` for the nine dimensions of the DLS."""
    path = Path(path)
    try:
        data = yamlfile.parse(path.read_text(encoding="utf-8"))
        return {d["id"]: d["label"] for d in data["dimensions"]}
    except (OSError, yaml.YAMLError, KeyError, TypeError) as exc:
        raise ConfigurationError(f"Le fichier des dimensions « {path} » est illisible ou mal formé ({exc}).",
                                 file=path) from exc


def load_questionnaire(path: str | Path = DEFAULT_QUESTIONNAIRE) -> Questionnaire:
    """Load and validate a questionnaire definition.

    Parameters
    ----------
    path : path-like
        YAML file; defaults to ``questionnaires/dls_habitants.yaml``.

    Returns
    -------
    Questionnaire

    Raises
    ------
    ConfigurationError
        With a French sentence naming the file, the question and the problem.
    """
    path = Path(path)
    try:
        raw = yamlfile.parse(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigurationError(f"Impossible de lire le questionnaire « {path} » : {exc.strerror}.",
                                 file=path) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f", ligne {mark.line + 1}" if mark else ""
        raise ConfigurationError(f"Le questionnaire « {path} »{line} n'est pas un YAML valide : "
                                 f"{getattr(exc, 'problem', exc)}.", file=path) from exc
    if not isinstance(raw, dict) or "sections" not in raw:
        raise ConfigurationError(f"Le questionnaire « {path} » doit contenir une liste « sections ».", file=path)

    def fail(msg):
        raise ConfigurationError(f"Questionnaire « {path.name} » : {msg}", file=path)

    dims = load_dimensions()
    missing_codes = {}
    for key, spec in (raw.get("missing_codes") or {}).items():
        try:
            missing_codes[key] = MissingCode(key, int(spec["code"]), str(spec["label"]))
        except (KeyError, TypeError, ValueError):
            fail(f"le code de non-réponse « {key} » doit avoir un « code » entier et un « label ».")

    choice_lists = {}
    for key, items in (raw.get("choice_lists") or {}).items():
        choices = []
        for item in items or []:
            try:
                choices.append(Choice(int(item["code"]), str(item["label"])))
            except (KeyError, TypeError, ValueError):
                fail(f"la liste de choix « {key} » contient une modalité sans « code » entier ou sans « label » : {item!r}.")
            extra = [k for k in item if k not in ("code", "label")]
            if extra:  # typically an unquoted label with a comma inside {code: 1, label: Oui, souvent}
                fail(f"la liste de choix « {key} », code {item['code']} : clé inattendue « {extra[0]} » ; "
                     "mettez le libellé entre guillemets s'il contient une virgule ou deux-points.")
        codes = [c.code for c in choices]
        if len(set(codes)) != len(codes):
            fail(f"la liste de choix « {key} » contient des codes en double.")
        clash = set(codes) & {m.code for m in missing_codes.values()}
        if clash:
            fail(f"la liste de choix « {key} » utilise le code {sorted(clash)[0]}, réservé à une non-réponse.")
        choice_lists[key] = choices

    sections, seen = [], set()
    for sec in raw["sections"]:
        sid = sec.get("id")
        sdim = sec.get("dimension")
        if sdim is not None and sdim not in dims:
            fail(f"la section « {sid} » a une dimension inconnue « {sdim} » (attendu : {', '.join(dims)}).")
        questions = []
        for qd in sec.get("questions") or []:
            name = qd.get("name")
            if not name or not str(name).isidentifier():
                fail(f"une question de la section « {sid} » a un nom invalide « {name} » (lettres, chiffres et _).")
            if name in seen:
                fail(f"la question « {name} » est définie deux fois.")
            seen.add(name)
            qtype = qd.get("type")
            if qtype not in QUESTION_TYPES:
                fail(f"la question « {name} » a un type inconnu « {qtype} » (attendu : {', '.join(QUESTION_TYPES)}).")
            choices, clist = [], qd.get("choices")
            if qtype in ("single", "multiple"):
                if clist not in choice_lists:
                    fail(f"la question « {name} » renvoie à une liste de choix inconnue « {clist} ».")
                choices = choice_lists[clist]
            miss = []
            for key in qd.get("missing") or []:
                if key not in missing_codes:
                    fail(f"la question « {name} » déclare un code de non-réponse inconnu « {key} ».")
                miss.append(missing_codes[key])
            rng = qd.get("range")
            if rng is not None:
                if qtype == "date":
                    try:
                        rng = tuple(_dt.date.fromisoformat(str(x)) for x in rng)
                    except ValueError:
                        fail(f"la question « {name} » a des bornes de date invalides {rng!r} (attendu AAAA-MM-JJ).")
                else:
                    rng = tuple(float(x) if qtype == "decimal" else int(x) for x in rng)
            if rng is not None and qtype in ("integer", "decimal"):
                inside = [m for m in miss if rng[0] <= m.code <= rng[1]]
                if inside:
                    fail(f"la question « {name} » accepte les valeurs de {rng[0]} à {rng[1]}, et son code de "
                         f"non-réponse {inside[0].code} (« {inside[0].label} ») tombe dans cet intervalle : "
                         "choisissez un code hors de l'intervalle (par exemple 999).")
            dim = qd.get("dimension", sdim)
            if dim is not None and dim not in dims:
                fail(f"la question « {name} » a une dimension inconnue « {dim} ».")
            derive = qd.get("derive")
            if derive is not None:
                derive = _derivation(derive, name, qtype, choices, fail)
            questions.append(Question(
                name=name, type=qtype, label=" ".join(str(qd.get("label", "")).split()), section=sid,
                dimension=dim, choices=list(choices), choice_list=clist, missing=miss,
                relevant=qd.get("relevant"), required=bool(qd.get("required", False)), range=rng,
                hint=qd.get("hint"), unit=qd.get("unit"), max_length=qd.get("max_length"),
                derive=derive))
        sections.append(Section(sid, sec.get("label", sid), sdim, sec.get("note"), questions))
    by_name = {q.name: q for s in sections for q in s.questions}
    for q in by_name.values():
        if q.derive is None:
            continue
        src = by_name.get(q.derive.source)
        if src is None or src.type != "single" or not src.asked:
            fail(f"la question « {q.name} » est calculée à partir de « {q.derive.source} », qui n'est pas "
                 "une question à choix unique posée du questionnaire.")
        unknown = [k for k in q.derive.mapping if k not in src.codes]
        if unknown:
            fail(f"la question « {q.name} » : le code {unknown[0]} de « derive » n'est pas un code de "
                 f"« {src.name} » (attendu : {', '.join(map(str, src.codes))}).")
    try:
        return Questionnaire(raw, sections, missing_codes, choice_lists, source=path)
    except ValueError as exc:
        fail(str(exc))


def _derivation(spec, name: str, qtype: str, choices: list[Choice], fail) -> Derivation:
    """Check a ``derive: {from: question, map: {source code: code}}`` entry of the YAML."""
    if not isinstance(spec, dict) or not isinstance(spec.get("from"), str) or not isinstance(spec.get("map"), dict):
        fail(f"la question « {name} » a un « derive » mal formé (attendu : "
             "{from: question, map: {code source: code}}).")
    if qtype != "single":
        fail(f"la question « {name} » est calculée (« derive ») : elle doit être à choix unique.")
    try:
        mapping = {int(k): int(v) for k, v in spec["map"].items()}
    except (TypeError, ValueError):
        fail(f"la question « {name} » : les codes de « derive » doivent être des entiers.")
    bad = [v for v in mapping.values() if v not in [c.code for c in choices]]
    if bad:
        fail(f"la question « {name} » : le code calculé {bad[0]} n'est pas l'une de ses modalités.")
    return Derivation(spec["from"], mapping)


# --------------------------------------------------------------------------- skip logic

_CMP = {ast.Eq: ("==", "="), ast.NotEq: ("!=", "!="), ast.Lt: ("<", "<"), ast.LtE: ("<=", "<="),
        ast.Gt: (">", ">"), ast.GtE: (">=", ">=")}


class Condition:
    """A parsed condition in the questionnaire's small expression language.

    Used for skip logic (``relevant``) and, by :mod:`diagnostics.config.catalogue`, for the
    population filters of indicators.  Parsed with :mod:`ast` and checked against the
    questionnaire's variables; :meth:`evaluate` works on a table of codes and
    :meth:`to_xpath` gives the XLSForm form.  Subclasses may override ``_err`` to word errors.
    """

    def __init__(self, text: str, qn: Questionnaire, owner: str):
        self.text = str(text)
        self.qn = qn
        self.owner = owner
        try:
            self.tree = ast.parse(self.text, mode="eval").body
        except SyntaxError as exc:
            raise ValueError(f"la condition « {self.text} » de la question « {owner} » est mal écrite.") from exc
        self._check(self.tree)

    def _err(self, what):
        raise ValueError(f"la condition « {self.text} » de la question « {self.owner} » : {what}.")

    def _check(self, node):
        if isinstance(node, ast.BoolOp):
            for v in node.values:
                self._check(v)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            self._check(node.operand)
        elif isinstance(node, ast.Compare):
            if len(node.ops) != 1:
                self._err("une seule comparaison par terme (utilisez « and »)")
            self._check_operand(node.left)
            if isinstance(node.ops[0], (ast.In, ast.NotIn)):
                if not isinstance(node.comparators[0], (ast.List, ast.Tuple)):
                    self._err("« in » attend une liste, par exemple [1, 2]")
                self._check_codes(node.left, node.comparators[0].elts)
            elif type(node.ops[0]) not in _CMP:
                self._err("opérateur non reconnu")
            else:
                self._check_operand(node.comparators[0])
                if isinstance(node.ops[0], (ast.Eq, ast.NotEq)):
                    self._check_codes(node.left, [node.comparators[0]])
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "selected":
            if len(node.args) != 2 or not isinstance(node.args[0], ast.Name):
                self._err("selected(variable, code) attend deux arguments")
            q = self.qn.questions.get(node.args[0].id)
            if q is None or q.type != "multiple":
                self._err(f"« {node.args[0].id} » n'est pas une question à choix multiples")
            self._check_codes(node.args[0], node.args[1:])
        else:
            self._err("expression non reconnue")

    def _check_codes(self, name, values):
        """A choice question compared with a code it does not have (a list changed, a quartier
        dropped) would silently select nobody: refused."""
        q = self.qn.questions.get(name.id) if isinstance(name, ast.Name) else None
        if q is None or q.type not in ("single", "multiple"):
            return
        known = set(q.codes) | set(q.missing_codes)
        for v in values:
            value = v.value if isinstance(v, ast.Constant) else None
            if isinstance(value, (int, float)) and not isinstance(value, bool) and value not in known:
                self._err(f"le code {value:g} n'existe pas pour « {q.name} » (codes possibles : "
                          f"{', '.join(map(str, q.codes))})")

    def _check_operand(self, node):
        if isinstance(node, ast.Name):
            if node.id not in self.qn.questions:
                self._err(f"variable inconnue « {node.id} »")
        elif not isinstance(node, ast.Constant):
            self._err("seuls des noms de variables et des constantes sont permis")

    # evaluation on a DataFrame of codes -------------------------------------------------
    def evaluate(self, df: pd.DataFrame) -> pd.Series:
        return pd.Series(self._eval(self.tree, df), index=df.index).fillna(False).astype(bool)

    def _value(self, node, df):
        if isinstance(node, ast.Name):
            if node.id not in df:
                return np.full(len(df), np.nan)
            return pd.to_numeric(df[node.id], errors="coerce").to_numpy(dtype=float) \
                if self.qn.questions[node.id].type not in ("text", "date") else df[node.id].to_numpy()
        return node.value

    def _eval(self, node, df) -> np.ndarray:
        if isinstance(node, ast.BoolOp):
            parts = [self._eval(v, df) for v in node.values]
            out = parts[0]
            for p in parts[1:]:
                out = (out & p) if isinstance(node.op, ast.And) else (out | p)
            return out
        if isinstance(node, ast.UnaryOp):
            return ~self._eval(node.operand, df)
        if isinstance(node, ast.Call):
            col = f"{node.args[0].id}_{node.args[1].value}"
            if col not in df:
                return np.zeros(len(df), dtype=bool)
            return (pd.to_numeric(df[col], errors="coerce") == 1).to_numpy()
        left = self._value(node.left, df)
        op = node.ops[0]
        if isinstance(op, (ast.In, ast.NotIn)):
            vals = [e.value for e in node.comparators[0].elts]
            res = pd.Series(left).isin(vals).to_numpy()
            return ~res & ~pd.isna(left) if isinstance(op, ast.NotIn) else res
        right = self._value(node.comparators[0], df)
        with np.errstate(invalid="ignore"):
            valid = ~pd.isna(left)
            res = {ast.Eq: np.equal, ast.NotEq: np.not_equal, ast.Lt: np.less, ast.LtE: np.less_equal,
                   ast.Gt: np.greater, ast.GtE: np.greater_equal}[type(op)](left, right)
        return np.asarray(res, dtype=bool) & valid

    # translation to XPath -------------------------------------------------------------
    def to_xpath(self) -> str:
        return self._xp(self.tree, top=True)

    def _xp(self, node, top=False) -> str:
        if isinstance(node, ast.BoolOp):
            word = " and " if isinstance(node.op, ast.And) else " or "
            s = word.join(self._xp(v) for v in node.values)
            return s if top else f"({s})"
        if isinstance(node, ast.UnaryOp):
            return f"not({self._xp(node.operand, top=True)})"
        if isinstance(node, ast.Call):
            return f"selected(${{{node.args[0].id}}}, '{node.args[1].value}')"
        left = self._xp_operand(node.left)
        op = node.ops[0]
        if isinstance(op, (ast.In, ast.NotIn)):
            s = " or ".join(f"{left} = {self._xp_operand(e)}" for e in node.comparators[0].elts)
            return f"not({s})" if isinstance(op, ast.NotIn) else f"({s})"
        return f"{left} {_CMP[type(op)][1]} {self._xp_operand(node.comparators[0])}"

    def _xp_operand(self, node) -> str:
        if isinstance(node, ast.Name):
            return f"${{{node.id}}}"
        v = node.value
        return f"'{v}'" if isinstance(v, str) else str(v)
