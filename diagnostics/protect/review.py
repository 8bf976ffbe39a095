"""Quotes reviewed by the analyst: only a quote marked « oui » reaches a deliverable."""
from __future__ import annotations

import math

import pandas as pd

from ..errors import DLSError
from .cells import fold

__all__ = ["quote_id", "load_reviewed_quotes", "reviewed_only", "write_quotes_for_review",
           "is_publishable", "REVIEWED_QUOTES_FILE", "RESIDENTS"]


# --------------------------------------------------------------------------- reviewed quotes

#: File of the project where the analyst marks each resident or partner quote as publishable.
REVIEWED_QUOTES_FILE = "citations_relues.csv"
REVIEW_COLUMNS = ["id_citation", "partenaire", "ligne", "texte", "publiable"]


def quote_id(partenaire: str, text: str) -> str:
    """Stable identifier of a quote: 10 hex digits of SHA-256 over its source and normalised text.

    The same quote keeps its identifier when the notes are re-read or reordered; an edited
    quote gets a new one, and must be reviewed again.
    """
    import hashlib

    key = f"{fold(partenaire)}\x1f{' '.join(str(text).split())}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:10]


#: Source name of residents' free-text answers in the review file (``partenaire`` column).
RESIDENTS = "habitant"


def is_publishable(reviewed: dict[str, bool], source: str, text: str) -> bool:
    """True when the analyst marked this free text « oui » (``source``: partner, or :data:`RESIDENTS`)."""
    return reviewed.get(quote_id(source, text)) is True


def write_quotes_for_review(interviews, path, *, reviewed: dict | None = None, comments=()):
    """Write the review file (``citations_relues.csv``) listing every quote, ``publiable`` to fill.

    Parameters
    ----------
    interviews : list of Interview
        From :func:`diagnostics.collect.interviews.load_interviews`.
    path : path-like
        The project's review file; the answers already given (``reviewed``, or those of the
        existing file) are kept.
    comments : iterable of str, optional
        Residents' free-text answers (e.g. the ``commentaire`` column of the validated
        answers), listed under the source :data:`RESIDENTS` (``ligne`` empty).

    Returns
    -------
    pathlib.Path

    Notes
    -----
    The file stays in the project folder (it holds the raw quotes): it is never a deliverable.
    Written through :func:`diagnostics.io.spreadsheet.write_csv` (``;``, UTF-8 with BOM, text never
    a formula).
    """
    from pathlib import Path

    from ..io.spreadsheet import write_csv

    path = Path(path)
    if reviewed is None:
        reviewed = load_reviewed_quotes(path) if path.is_file() else {}
    rows = []
    for it in interviews:
        for q in it.quotes:
            qid = quote_id(it.partenaire, q.text)
            verdict = reviewed.get(qid)
            rows.append(dict(id_citation=qid, partenaire=it.partenaire, ligne=q.line, texte=q.text,
                             publiable="" if verdict is None else ("oui" if verdict else "non")))
    seen = set()
    for text in comments:
        if text is None or (isinstance(text, float) and math.isnan(text)) or not str(text).strip():
            continue
        qid = quote_id(RESIDENTS, text)
        if qid in seen:
            continue
        seen.add(qid)
        verdict = reviewed.get(qid)
        rows.append(dict(id_citation=qid, partenaire=RESIDENTS, ligne="", texte=str(text),
                         publiable="" if verdict is None else ("oui" if verdict else "non")))
    return write_csv(pd.DataFrame(rows, columns=REVIEW_COLUMNS), path)


_YES = {"oui", "o", "yes", "1", "x", "vrai", "publiable"}
_NO = {"non", "n", "no", "0", "faux", ""}


def load_reviewed_quotes(path) -> dict[str, bool]:
    """Read the review file: ``{id_citation: publishable?}``.

    Parameters
    ----------
    path : path-like
        CSV (``;`` or ``,``) with at least the columns ``id_citation`` and ``publiable``
        (« oui » / « non »; an empty cell means not reviewed yet, hence not publishable).

    Returns
    -------
    dict
        Identifier → True when the analyst wrote « oui ».  A missing file gives ``{}``: nothing
        is publishable until reviewed.

    Raises
    ------
    DLSError
        Missing column, or a ``publiable`` cell that is neither « oui » nor « non » (file, row,
        value named).
    """
    import io
    from pathlib import Path

    from ..io.formats import decode_text

    path = Path(path)
    if not path.is_file():
        return {}
    text = decode_text(path.read_bytes())
    sep = ";" if text.split("\n", 1)[0].count(";") >= text.split("\n", 1)[0].count(",") else ","
    df = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False)
    df.columns = [c.strip().lower() for c in df.columns]
    for col in ("id_citation", "publiable"):
        if col not in df.columns:
            raise DLSError(f"« {path.name} » : colonne « {col} » absente (attendu : id_citation;publiable, "
                           "« oui » ou « non » pour chaque citation).", file=path, column=col)
    out = {}
    for i, (qid, verdict) in enumerate(zip(df["id_citation"], df["publiable"]), start=2):
        v = fold(verdict)
        if v not in _YES and v not in _NO:
            raise DLSError(f"« {path.name} », ligne {i}, colonne « publiable » : valeur « {verdict} » "
                           "(attendu : « oui » ou « non »).", file=path, row=i, column="publiable", value=verdict)
        out[str(qid).strip().lstrip("'")] = v in _YES
    return out


def reviewed_only(interviews, reviewed: dict[str, bool]):
    """The interviews with only the quotes the analyst marked publishable (« oui »).

    Free text is published only when reviewed: this is the gate; :func:`scrub_text` (phone
    numbers, e-mails, known names) remains the safety net applied to what passes it.

    Parameters
    ----------
    interviews : list of Interview
    reviewed : dict
        From :func:`load_reviewed_quotes`.

    Returns
    -------
    list of Interview
        Copies; the input is not modified.
    """
    import copy

    out = []
    for it in interviews:
        kept = copy.copy(it)
        kept.quotes = [q for q in it.quotes if reviewed.get(quote_id(it.partenaire, q.text)) is True]
        out.append(kept)
    return out
