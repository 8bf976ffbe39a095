"""Partner interview notes (entretiens): a plain-text format, a theme × quartier matrix, quotes.

The notes are a Markdown-like text file that a coordinator writes in any editor::

    # Notes d'entretiens — données synthétiques        (title and free text: ignored)

    ## Centre social des Tilleuls (fictif)             (one "##" heading per interview)
    Type : Centre social
    Quartiers : Biollay, Bellevue                      (ids, labels, or « tous »)
    Date : 2021-03-15                                  (optional, AAAA-MM-JJ)
    Thèmes : lien_social, services                     (dimension ids or labels)
    Personnes : Mme Exemple                            (optional: names to remove from quotes)

    Free notes, one or more paragraphs.

    > Les familles ne savent pas où s'adresser. #droits #soins

The metadata block is the run of ``Clé : valeur`` lines right under the heading.  A line
starting with ``>`` is a quote; ``#theme`` tags at its end give its themes (otherwise it takes
the interview's themes).  Quotes are published only after scrubbing phone numbers, e-mail
addresses and names (:func:`diagnostics.publish.report.select_quotes`, with
:func:`diagnostics.protect.text.scrub_text`).
"""
from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..errors import ConfigurationError, UnreadableFileError, where
from .actors import _key

_META = re.compile(r"^\s*([A-Za-zÀ-ÿ ]+?)\s*:\s*(.*)$")
_TAG = re.compile(r"(?:^|\s)#([\wÀ-ÿ-]+)")
_SEP = re.compile(r"\s*[,|;]\s*")
_FIELDS = {"type": "type", "quartiers": "quartiers", "quartier": "quartiers", "date": "date",
           "themes": "themes", "theme": "themes", "personnes": "personnes"}


@dataclass
class Quote:
    """One quote and the dimensions it illustrates."""

    text: str
    themes: list[str]
    line: int


@dataclass
class Interview:
    """One partner interview.

    Attributes
    ----------
    partenaire : str
        Heading of the entry (the partner structure).
    quartiers : list of str
        Neighbourhood labels concerned.
    themes : list of str
        Dimension ids discussed (interview tags plus every quote's tags).
    notes : str
        Free notes (never published as is).
    quotes : list of Quote
    personnes : list of str
        Names to remove from any published text.
    """

    partenaire: str
    line: int
    type: str = ""
    quartiers: list[str] = field(default_factory=list)
    date: _dt.date | None = None
    themes: list[str] = field(default_factory=list)
    personnes: list[str] = field(default_factory=list)
    notes: str = ""
    quotes: list[Quote] = field(default_factory=list)


def load_interviews(path: str | Path, *, dimensions: dict[str, str] | None = None,
                    quartiers: list[str] | dict[str, str] | None = None) -> list[Interview]:
    """Read and validate a file of interview notes.

    Parameters
    ----------
    path : str or Path
        The text file (format in the module docstring), UTF-8.
    dimensions : dict, optional
        ``{id: label}`` of allowed themes; the nine DLS dimensions by default.
    quartiers : list or dict, optional
        Allowed neighbourhoods (labels, or ``{id: label}``); ``tous`` stands for all of them.

    Returns
    -------
    list of Interview

    Raises
    ------
    ConfigurationError
        Unknown theme or neighbourhood, interview without neighbourhood or theme, malformed date
        (one French sentence naming the line).
    """
    from ..config.questionnaire import load_dimensions

    path = Path(path)
    dims = dimensions if dimensions is not None else load_dimensions()
    dim_keys = {**{_key(k): k for k in dims}, **{_key(v): k for k, v in dims.items()}}
    if isinstance(quartiers, dict):
        q_keys = {**{_key(k): v for k, v in quartiers.items()}, **{_key(v): v for v in quartiers.values()}}
        q_all = list(quartiers.values())
    elif quartiers is not None:
        q_keys, q_all = {_key(v): v for v in quartiers}, list(quartiers)
    else:
        q_keys, q_all = None, None
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError as exc:
        raise UnreadableFileError(f"Les notes d'entretiens « {path.name} » ne sont pas encodées en UTF-8.",
                                  file=path) from exc
    except OSError as exc:
        raise UnreadableFileError(f"Impossible de lire les notes d'entretiens « {path} » : "
                                  f"{exc.strerror or exc}.", file=path) from exc

    def fail(line, msg):
        raise ConfigurationError(f"{where(path.name, line)}{msg}", file=path, row=line)

    def theme(value, line):
        did = dim_keys.get(_key(value))
        if did is None:
            fail(line, f"thème inconnu « {value} » (attendu une des neuf dimensions : {', '.join(dims)}).")
        return did

    interviews: list[Interview] = []
    cur: Interview | None = None
    in_meta = False
    n_meta = 0
    para: list[str] = []

    def flush_para():
        if cur is not None and para:
            cur.notes = (cur.notes + "\n\n" if cur.notes else "") + " ".join(para)
        para.clear()

    for n, raw in enumerate(lines, start=1):
        line = raw.strip()
        if raw.startswith("## "):
            flush_para()
            cur = Interview(partenaire=raw[3:].strip(), line=n)
            interviews.append(cur)
            in_meta, n_meta = True, 0
            continue
        if cur is None:
            continue  # title and preamble
        if in_meta and not line:
            in_meta = n_meta == 0  # a blank line closes the metadata block once it has started
            continue
        if in_meta:
            m = _META.match(line)
            key = _FIELDS.get(_key(m.group(1)).replace(" ", "_")) if m else None
            if m and key:
                val = m.group(2).strip()
                if key == "type":
                    cur.type = val
                elif key == "date":
                    try:
                        cur.date = _dt.date.fromisoformat(val) if val else None
                    except ValueError:
                        fail(n, f"date « {val} » mal écrite (attendu AAAA-MM-JJ, ex. 2021-03-15).")
                elif key == "themes":
                    for t in filter(None, _SEP.split(val)):
                        did = theme(t, n)
                        if did not in cur.themes:
                            cur.themes.append(did)
                elif key == "personnes":
                    cur.personnes = [p for p in _SEP.split(val) if p]
                elif key == "quartiers":
                    for q in filter(None, _SEP.split(val)):
                        if q_keys is None:
                            cur.quartiers.append(q)
                        elif _key(q) in ("tous", "tous les quartiers"):
                            cur.quartiers.extend(x for x in q_all if x not in cur.quartiers)
                        elif _key(q) in q_keys:
                            if q_keys[_key(q)] not in cur.quartiers:
                                cur.quartiers.append(q_keys[_key(q)])
                        else:
                            fail(n, f"quartier inconnu « {q} » (attendu : {', '.join(q_all)} ou « tous »).")
                n_meta += 1
                continue
            if m and not line.startswith(">") and len(m.group(1)) <= 20 and not para:
                fail(n, f"rubrique inconnue « {m.group(1)} » (attendu : Type, Quartiers, Date, Thèmes, Personnes).")
            in_meta = False
        if line.startswith(">"):
            flush_para()
            text = line.lstrip(">").strip()
            tags = [theme(t, n) for t in _TAG.findall(text)]
            text = _TAG.sub("", text).strip()
            if text:
                cur.quotes.append(Quote(text, tags, n))
                for t in tags:
                    if t not in cur.themes:
                        cur.themes.append(t)
        elif line:
            para.append(line)
        else:
            flush_para()
    flush_para()
    for it in interviews:
        if not it.quartiers:
            fail(it.line, f"l'entretien « {it.partenaire} » n'indique aucun quartier (ligne « Quartiers : … »).")
        if not it.themes:
            fail(it.line, f"l'entretien « {it.partenaire} » n'indique aucun thème (ligne « Thèmes : … »).")
        for q in it.quotes:
            if not q.themes:
                q.themes = list(it.themes)
    return interviews


def theme_matrix(interviews: list[Interview], dimensions: dict[str, str], quartiers: list[str]) -> pd.DataFrame:
    """Number of interviews that raised each theme for each neighbourhood.

    Returns
    -------
    pandas.DataFrame
        Index: dimension labels (all nine, in order); columns: ``quartiers``; integer counts.
    """
    m = pd.DataFrame(0, index=list(dimensions.values()), columns=list(quartiers), dtype=int)
    for it in interviews:
        for did in it.themes:
            for q in it.quartiers:
                if q in m.columns and did in dimensions:
                    m.loc[dimensions[did], q] += 1
    m.index.name = "Thème"
    return m
