"""The analyst's file of a deliverable: ``constats/<quartier>.md`` beside ``projet.yaml``.

One Markdown file per deliverable (``<quartier id>.md``, ``synthese.md``) holds what people, not
the toolkit, decide about « L'essentiel »:

- an optional YAML header between two ``---`` lines, which pins, drops or rewords the automatic
  findings by indicator id::

      ---
      epingler: [tabac_quotidien]        # shown first, even when not among the automatic ones
      ecarter: [air_mauvais]             # never shown
      reformuler:
        tabac_quotidien: "Un adulte sur trois fume chaque jour ({valeur} {ic}), contre {reference} {comparateur} ({source})."
      ---

  A reworded sentence keeps its figures computed: ``{valeur}``, ``{ic}``, ``{reference}``,
  ``{comparateur}``, ``{source}``, ``{quartier}`` are filled at each build.
- then the text of the Atelier Santé Ville (« ## Points forts », « ## Pistes d'action », one
  « - » line per point), printed after the findings.  HTML comments (``<!-- … -->``) are ignored:
  the template of ``dls init`` explains itself in them.

A missing file, or a file without text, leaves the ASV box out of the deliverable (``dls build``
says so); nothing of this file's instructions is ever printed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..errors import DLSError

__all__ = ["PLACEHOLDERS", "Statement", "missing_statements", "read_statement", "render_markdown",
           "statement_path"]

#: Fields a reworded finding may use, filled at each build.
PLACEHOLDERS = ("valeur", "ic", "reference", "comparateur", "source", "quartier")
_KEYS = ("epingler", "ecarter", "reformuler")
_COMMENT = re.compile(r"<!--.*?-->", re.S)


@dataclass
class Statement:
    """What ``constats/<name>.md`` says: ``pinned``, ``dropped`` (indicator ids), ``reworded``
    (``{id: sentence}``), ``text`` (the ASV's markdown, comments removed), ``path``."""

    pinned: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    reworded: dict[str, str] = field(default_factory=dict)
    text: str = ""
    path: Path | None = None

    def check_ids(self, known) -> None:
        """Refuse, in French, an indicator id of the header that the catalogue does not know."""
        known = set(known)
        for key, ids in (("epingler", self.pinned), ("ecarter", self.dropped), ("reformuler", self.reworded)):
            for iid in ids:
                if iid not in known:
                    raise DLSError(f"Fichier « {self.path} », clé « {key} » : indicateur « {iid} » inconnu ; "
                                   "attendu un identifiant du catalogue des indicateurs (colonne « Identifiant » "
                                   "de indicateurs.csv).", file=str(self.path), column=key, value=iid)


def statement_path(project, name: str) -> Path | None:
    """``constats/<name>.md`` in the folder of the project file; ``None`` without a project file."""
    if getattr(project, "source", None) is None:
        return None
    return Path(project.source).parent / "constats" / f"{name}.md"


def _fail(path, key, value, expected) -> DLSError:
    return DLSError(f"Fichier « {path} », clé « {key} » : valeur « {value} » ; attendu {expected}.",
                    file=str(path), column=key, value=str(value))


def read_statement(path: str | Path | None) -> Statement:
    """Read a ``constats`` file (an empty :class:`Statement` when it is absent).

    Raises
    ------
    DLSError
        Unreadable header, unknown key, a list or a sentence of the wrong type, or a sentence
        naming a field other than :data:`PLACEHOLDERS`.
    """
    if path is None or not Path(path).is_file():
        return Statement(path=None if path is None else Path(path))
    path = Path(path)
    raw = _COMMENT.sub("", path.read_text(encoding="utf-8-sig")).lstrip()
    head: dict = {}
    m = re.match(r"\A---[ \t]*\n(.*?)\n---[ \t]*(\n|\Z)", raw, re.S)
    if m:
        try:
            head = yaml.safe_load(m.group(1)) or {}
        except yaml.YAMLError as exc:
            raise DLSError(f"Fichier « {path} » : l'en-tête entre les lignes « --- » n'est pas du YAML lisible "
                           f"({getattr(exc, 'problem', exc)}).", file=str(path)) from exc
        if not isinstance(head, dict):
            raise _fail(path, "en-tête", head, "des clés epingler, ecarter, reformuler")
        raw = raw[m.end():]
    for key in head:
        if key not in _KEYS:
            raise _fail(path, key, key, "une des clés " + ", ".join(_KEYS))
    st = Statement(path=path, text=raw.strip())
    for key, attr in (("epingler", "pinned"), ("ecarter", "dropped")):
        ids = head.get(key) or []
        if not isinstance(ids, list) or not all(isinstance(x, str) for x in ids):
            raise _fail(path, key, ids, "une liste d'identifiants d'indicateurs, ex. [tabac_quotidien]")
        setattr(st, attr, ids)
    words = head.get("reformuler") or {}
    if not isinstance(words, dict):
        raise _fail(path, "reformuler", words, "un dictionnaire « identifiant: phrase »")
    for iid, sentence in words.items():
        if not isinstance(sentence, str) or not sentence.strip():
            raise _fail(path, f"reformuler.{iid}", sentence, "une phrase")
        for name in re.findall(r"\{([^{}]*)\}", sentence):
            if name not in PLACEHOLDERS:
                raise _fail(path, f"reformuler.{iid}", "{" + name + "}",
                            "un des champs " + ", ".join("{" + p + "}" for p in PLACEHOLDERS))
        st.reworded[str(iid)] = " ".join(sentence.split())
    return st


def render_markdown(text: str) -> str:
    """The ASV's markdown as HTML (raw HTML shown as text; headings shifted below the report's h2)."""
    from markdown_it import MarkdownIt

    if not text:
        return ""
    html = MarkdownIt("commonmark", {"html": False}).render(text)
    for k in (3, 2, 1):  # # → h3, ## → h4…
        html = html.replace(f"<h{k}>", f"<h{k + 2}>").replace(f"</h{k}>", f"</h{k + 2}>")
    return html


def missing_statements(project) -> list[str]:
    """French sentences, one per deliverable whose ASV text (« points forts », « pistes d'action »)
    is missing: ``dls build`` prints them, the deliverable leaves the box out."""
    names = [(q.id, f"du quartier {q.libelle}") for q in project.quartiers] + [("synthese", "de la synthèse")]
    out = []
    for name, what in names:
        path = statement_path(project, name)
        if path is None:
            continue
        try:
            text = read_statement(path).text
        except DLSError:
            text = ""
        if not text:
            out.append(f"Livrable {what} : pas de « points forts » ni de « pistes d'action » de l'Atelier Santé "
                       f"Ville (fichier « {path} » absent ou sans texte) ; l'encadré est omis.")
    return out
