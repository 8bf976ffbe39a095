"""The printable paper questionnaire (A4 PDF, French), rendered from the questionnaire definition.

An HTML page is rendered from ``templates/paper_form.html.j2`` (style sheet
``templates/paper_form.css`` inlined) and printed to PDF by :mod:`diagnostics.io.pdf`.  Questions
are numbered from 1 across sections; choice questions get tick boxes (☐) with the code printed
small next to each box to speed up keying in; numbers get digit boxes, dates ``jj/mm/aaaa``
boxes, free text answer lines.  Skip logic (``relevant``) is turned into a plain French
instruction above the question, e.g. « Si vous avez répondu « Oui » à la question 27 : … Sinon,
passez à la question 30. »  A question is never split across two pages.
"""
from __future__ import annotations

import ast
import os
import tempfile
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from .. import paths
from ..config.questionnaire import Question, Questionnaire

TEMPLATES = paths.template_dir()

_OPS = {ast.Eq: "égale à", ast.NotEq: "différente de", ast.Lt: "inférieure à",
        ast.LtE: "inférieure ou égale à", ast.Gt: "supérieure à", ast.GtE: "supérieure ou égale à"}
_MIRROR = {ast.Lt: ast.Gt, ast.Gt: ast.Lt, ast.LtE: ast.GtE, ast.GtE: ast.LtE, ast.Eq: ast.Eq,
           ast.NotEq: ast.NotEq}


def question_numbers(qn: Questionnaire) -> dict[str, int]:
    """Number of each asked question on the paper form (1, 2, … in questionnaire order).

    Derived questions (:attr:`Question.asked` false) are not on the form and have no number.
    """
    return {q.name: qn.question_number(q.name) for q in qn.asked}


class _Words:
    """Turn a parsed relevance condition into French (the loader has already checked its syntax)."""

    def __init__(self, qn: Questionnaire, numbers: dict[str, int]):
        self.qn, self.numbers = qn, numbers

    def _q(self, name: str) -> tuple[Question, str]:
        return self.qn[name], f"la question {self.numbers[name]}"

    def _value(self, q: Question, v, unit: bool = True) -> str:
        if q.type in ("single", "multiple"):
            lab = q.label_of(v)
            return f"« {lab} »" if lab is not None else str(v)
        if isinstance(v, (int, float)):
            s = (f"{v:g}" if isinstance(v, float) else str(v)).replace(".", ",")
            return s + (f" {q.unit}" if q.unit and unit else "")
        return f"« {v} »"

    def compare(self, node: ast.Compare) -> str:
        left, op, right = node.left, node.ops[0], node.comparators[0]
        if isinstance(left, ast.Constant) and isinstance(right, ast.Name) and type(op) in _MIRROR:
            left, right, op = right, left, _MIRROR[type(op)]()
        q, where = self._q(left.id)
        if isinstance(op, (ast.In, ast.NotIn)):
            vals = [self._value(q, e.value) for e in right.elts]
            if isinstance(op, ast.In):
                return f"vous avez répondu {' ou '.join(vals)} à {where}"
            return f"vous n'avez répondu ni {' ni '.join(vals)} à {where}"
        if isinstance(right, ast.Name):  # comparison between two questions
            _, other = self._q(right.id)
            return f"votre réponse à {where} est {_OPS[type(op)]} la réponse à {other}"
        if q.type == "single" and isinstance(op, (ast.Eq, ast.NotEq)):
            neg = "n'" if isinstance(op, ast.NotEq) else ""
            pas = " pas" if neg else ""
            return f"vous {neg}avez{pas} répondu {self._value(q, right.value)} à {where}"
        return f"votre réponse à {where} est {_OPS[type(op)]} {self._value(q, right.value)}"

    def node(self, node, top: bool = False) -> str:
        if isinstance(node, ast.BoolOp):
            parts = self._ranges(node.values) if isinstance(node.op, ast.And) else \
                [self.node(v) for v in node.values]
            glue = (" et si " if isinstance(node.op, ast.And) else " ou si ") if top else \
                (" et " if isinstance(node.op, ast.And) else " ou ")
            return glue.join(parts)
        if isinstance(node, ast.UnaryOp):
            return f"vous n'êtes pas dans ce cas : {self.node(node.operand)}"
        if isinstance(node, ast.Call):
            q, where = self._q(node.args[0].id)
            return f"vous avez coché {self._value(q, node.args[1].value)} à {where}"
        return self.compare(node)

    def _ranges(self, values) -> list[str]:
        """``x >= a and x <= b`` on the same question reads « comprise entre a et b »."""
        lows, highs = {}, {}
        for v in values:
            if isinstance(v, ast.Compare) and isinstance(v.left, ast.Name) \
                    and isinstance(v.comparators[0], ast.Constant):
                if isinstance(v.ops[0], ast.GtE):
                    lows.setdefault(v.left.id, v)
                elif isinstance(v.ops[0], ast.LtE):
                    highs.setdefault(v.left.id, v)
        paired = {n for n in lows if n in highs}
        out, done = [], set()
        for v in values:
            name = v.left.id if isinstance(v, ast.Compare) and isinstance(v.left, ast.Name) else None
            if name in paired and (v is lows[name] or v is highs[name]):
                if name not in done:
                    q, where = self._q(name)
                    lo = self._value(q, lows[name].comparators[0].value, unit=False)
                    hi = self._value(q, highs[name].comparators[0].value)
                    out.append(f"votre réponse à {where} est comprise entre {lo} et {hi}")
                    done.add(name)
                continue
            out.append(self.node(v))
        return out


def relevance_in_words(qn: Questionnaire, name: str, numbers: dict[str, int] | None = None) -> str:
    """The skip-logic condition of a question as a French instruction ('' when none).

    Parameters
    ----------
    qn : Questionnaire
    name : str
        Question name.
    numbers : dict, optional
        Question numbers (default :func:`question_numbers`).

    Returns
    -------
    str
        For example « Si vous avez répondu « Femme » à la question 6 et si la réponse à la
        question 5 est comprise entre 50 et 74 ans ».

    Examples
    --------
    >>> from diagnostics.config.questionnaire import load_questionnaire
    >>> qn = load_questionnaire()
    >>> relevance_in_words(qn, "quartier_autre")
    'Si vous avez répondu « Autre quartier » à la question 3'
    """
    q = qn[name]
    if not q.relevant:
        return ""
    tree = ast.parse(q.relevant, mode="eval").body
    return "Si " + _Words(qn, numbers or question_numbers(qn)).node(tree, top=True)


def skip_target(qn: Questionnaire, name: str, numbers: dict[str, int] | None = None) -> int | None:
    """Number of the question to go to when ``name`` is not to be answered.

    That is the first following question whose condition differs (``None``: end of the form).
    """
    numbers = numbers or question_numbers(qn)
    qs = qn.asked
    i = numbers[name] - 1
    cond = qs[i].relevant
    for q in qs[i + 1:]:
        if q.relevant != cond:
            return numbers[q.name]
    return None


def _typo(text: str | None) -> str | None:
    """French typography: no-break space before ? ! : ; » and after « (no orphan « ? » at line start)."""
    if not text:
        return text
    text = " ".join(text.split())
    for mark in ("?", "!", ":", ";", "»"):
        text = text.replace(f" {mark}", f"\u00a0{mark}")
    return text.replace("« ", "«\u00a0")


def _choice_layout(labels: list[str]) -> str:
    longest = max((len(s) for s in labels), default=0)
    if longest <= 16 and len(labels) <= 6:
        return "inline"
    if longest <= 34:
        return "cols2"
    return "cols1"


def _digits(q: Question) -> int:
    if q.type in ("integer", "decimal") and q.range is not None:
        return max(len(str(int(abs(q.range[1])))), 1)
    return 3


def _context(qn: Questionnaire) -> dict:
    numbers = question_numbers(qn)
    sections = []
    for sec in qn.sections:
        items = []
        for q in sec.questions:
            if not q.asked:
                continue
            miss = sorted(q.missing, key=lambda m: m.code)
            cond = relevance_in_words(qn, q.name, numbers)
            target = skip_target(qn, q.name, numbers) if cond else None
            skip = "" if not cond else (f"Sinon, passez à la question {target}." if target
                                        else "Sinon, vous avez terminé.")
            labels = [c.label for c in q.choices] + [m.label for m in miss]
            items.append(dict(
                name=q.name, number=numbers[q.name], type=q.type, label=_typo(q.label), hint=_typo(q.hint),
                unit=q.unit, condition=_typo(cond), skip=skip,
                choices=[dict(code=c.code, label=_typo(c.label)) for c in q.choices],
                missing=[dict(code=m.code, label=_typo(m.label)) for m in miss],
                layout=_choice_layout(labels), digits=_digits(q),
                decimal=q.type == "decimal",
                lines=max(2, min(8, (q.max_length or 300) // 300)),
                multiple=q.type == "multiple"))
        sections.append(dict(id=sec.id, label=sec.label, questions=items))
    miss = sorted(qn.missing_codes.values(), key=lambda m: m.code)
    return dict(title=qn.title, version=qn.version, id=qn.id, intro=_typo(qn.intro or ""),
                sections=sections, missing=miss, n_questions=len(numbers),
                css=(TEMPLATES / "paper_form.css").read_text(encoding="utf-8"))


def render_paper_form_html(qn: Questionnaire, html_path: str | os.PathLike) -> Path:
    """Render the paper form as a self-contained HTML file (CSS inlined).

    Parameters
    ----------
    qn : Questionnaire
    html_path : path-like
        Output HTML file.

    Returns
    -------
    pathlib.Path
    """
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html", "j2"]),
                      trim_blocks=True, lstrip_blocks=True)
    html = env.get_template("paper_form.html.j2").render(**_context(qn))
    html_path = Path(html_path)
    html_path.parent.mkdir(parents=True, exist_ok=True)
    html_path.write_text(html, encoding="utf-8")
    return html_path


def write_paper_form(qn: Questionnaire, pdf_path: str | os.PathLike, html_path: str | os.PathLike | None = None,
                     timeout: float = 120) -> Path:
    """Write the printable A4 paper form as PDF.

    Parameters
    ----------
    qn : Questionnaire
        Loaded questionnaire.
    pdf_path : path-like
        Output PDF (written atomically by :func:`diagnostics.io.pdf.html_to_pdf`).
    html_path : path-like, optional
        Also keep the intermediate HTML there (otherwise a temporary file is used).
    timeout : float
        Seconds allowed to Chromium.

    Returns
    -------
    pathlib.Path
        ``pdf_path``.

    Raises
    ------
    DLSError
        When no Chromium is available or printing fails (French message).
    """
    from ..io.pdf import html_to_pdf

    if html_path is not None:
        return html_to_pdf(render_paper_form_html(qn, html_path), pdf_path, timeout=timeout)
    with tempfile.TemporaryDirectory(prefix="dls-papier-") as tmp:
        return html_to_pdf(render_paper_form_html(qn, Path(tmp) / "questionnaire.html"), pdf_path,
                           timeout=timeout)
