"""The deliverables: one self-contained HTML report per quartier and the cross-quartier synthesis.

Input is the protected indicator table (one row per quartier × indicator, columns agreed in
CONTRIBUTING.md), the project configuration, a summary of the methods (collection, weighting),
the directory of actors and the partner interview notes.  Output is a single HTML file that
works offline: the plotly library is embedded once, the logo is a ``data:`` URI, no font or
image is fetched; the same file prints to A4 (print CSS, page breaks) with
:func:`diagnostics.io.pdf.html_to_pdf`.

Every text that comes from data (labels, names, quotes) goes through Jinja2 autoescaping, so a
``<script>`` in a partner file is shown as text, never run.  Colours follow the Okabe–Ito
palette, readable with the common colour-vision deficiencies; the comparison with a reference
is also written in words, never conveyed by colour alone.
"""
from __future__ import annotations

import datetime as _dt
import functools
import math
from pathlib import Path

import pandas as pd

from .. import fmt, paths
from ..collect.interviews import Interview
from ..collect.references import PRECEDENCE_RULE
from .charts import _fig_html, distribution_chart, spine_chart
from ..protect.text import scrub_text
from .display import (
    VERDICT_COLOURS,
    _aggregate,
    _Index,
    _na,
    _row_view,
    check_table,
    format_value,
)
from .evolution_view import evolution_view, previous_values, synthesis_evolution
from .findings import _publishable, headline, key_findings

TEMPLATES = paths.template_dir()
#: The verdict of a cell of the synthesis' grids also as a sign (never by colour alone).
VERDICT_SIGNS = {"moins bien": "▼", "mieux": "▲", "similaire": "=", "plus élevé": "≠", "plus bas": "≠"}



# --------------------------------------------------------------------------- methods helpers

def margin_of_error(p: float, n_eff: float, z: float = 1.959964) -> float:
    """Half-width of the normal-approximation CI of a proportion ``p`` with effective size ``n_eff``.

    Notes
    -----
    :math:`z\\sqrt{p(1-p)/n_{eff}}`; with :math:`p = 0.5` this is the largest margin of error
    for a given sample, the figure usually quoted to readers (Kish 1965, ch. 2).
    """
    if n_eff is None or _na(n_eff) or n_eff <= 0:
        return math.nan
    return z * math.sqrt(p * (1 - p) / n_eff)


def collection_summary(responses: pd.DataFrame, weighted: pd.DataFrame, weights: pd.Series, margins: pd.DataFrame,
                       project, *, n_read: int | None = None, n_rejected: int | None = None) -> dict:
    """Describe the survey for the methods section: counts, channels, representativeness, weighting.

    Parameters
    ----------
    responses : pandas.DataFrame
        Every accepted answer (``ValidationResult.data``), with ``quartier`` and ``canal``.
    weighted : pandas.DataFrame
        The answers that were weighted, with ``quartier``, ``groupe_age`` and ``sexe``.
    weights : pandas.Series
        Their weights (same index).
    margins : pandas.DataFrame
        Population margins ``quartier;groupe_age;sexe;effectif``.
    project : diagnostics.config.project.Project
    n_read, n_rejected : int, optional
        Counts from validation.

    Returns
    -------
    dict
        ``n_read, n_accepted, n_rejected``; ``channels`` (one row per channel, one column per
        quartier, ``Total``); ``representativeness`` (``quartier, groupe, n, pct_echantillon,
        pct_population, pct_pondere``, shares within the quartier, one row per age group and per
        sex); ``weighting`` (``quartier, n, deff, n_eff`` from
        :func:`diagnostics.stats.weighting.weight_diagnostics`).

    Notes
    -----
    Shares are computed within each quartier: sample share :math:`n_g / n`, population share
    :math:`N_g / N`, weighted share :math:`\\sum_{i \\in g} w_i / \\sum_i w_i`.
    """
    from ..stats.weighting import weight_diagnostics

    labels = project.libelles
    resp = responses.copy()
    resp["quartier"] = resp["quartier"].astype(object)
    resp["canal"] = resp["canal"].astype(object).where(resp["canal"].notna(), "Non renseigné")
    ct = pd.crosstab(resp["canal"], resp["quartier"])
    others = [c for c in ct.columns if c not in labels]
    ct = ct.reindex(columns=[c for c in labels if c in ct.columns] + others, fill_value=0)
    ct["Total"] = ct.sum(axis=1)
    ct = ct.sort_values("Total", ascending=False)
    channels = [{"Canal de recueil": str(idx), **{str(k): int(v) for k, v in row.items()}}
                for idx, row in ct.iterrows()]
    rep, wrows = [], []
    w = pd.Series(weights, index=weighted.index).astype(float)
    for q in labels:
        sel = weighted["quartier"].astype(object) == q
        sub, wq = weighted[sel], w[sel]
        mq = margins[margins["quartier"] == q]
        d = weight_diagnostics(wq)
        wrows.append({"quartier": q, "n": d["n"], "deff": d["kish_deff"], "n_eff": d["n_eff"]})
        for var, suffix in (("groupe_age", " ans"), ("sexe", "")):
            pop = mq.groupby(var, sort=False)["effectif"].sum()
            for g, npop in pop.items():
                mask = sub[var].astype(object) == g
                rep.append({"quartier": q, "groupe": f"{g}{suffix}", "n": int(mask.sum()),
                            "pct_echantillon": float(mask.mean()) if len(sub) else math.nan,
                            "pct_population": float(npop / pop.sum()) if pop.sum() else math.nan,
                            "pct_pondere": float(wq[mask].sum() / wq.sum()) if wq.sum() else math.nan})
    return {"n_read": n_read if n_read is not None else len(responses), "n_accepted": len(responses),
            "n_rejected": n_rejected, "channels": channels, "representativeness": pd.DataFrame(rep),
            "weighting": pd.DataFrame(wrows)}


def select_comments(responses: pd.DataFrame, quartier: str, *, reviewed: dict[str, bool], n: int = 4,
                    column: str = "commentaire", min_length: int = 20) -> list[str]:
    """A few free-text answers of one quartier, reviewed and scrubbed, for the qualitative part.

    Only the comments the analyst marked publishable in the project's review file pass
    (``reviewed``, from :func:`diagnostics.protect.review.load_reviewed_quotes`: the gate); they are
    then scrubbed of phone numbers, e-mail addresses and names
    (:func:`diagnostics.protect.text.scrub_text`: the safety net), de-duplicated, and the first
    ``n`` of at least ``min_length`` characters are kept (file order: the selection is
    reproducible).
    """
    from ..protect.review import RESIDENTS, is_publishable
    from ..protect.text import scrub_text

    if column not in responses or "quartier" not in responses:
        return []
    texts = responses.loc[responses["quartier"].astype(object) == quartier, column].dropna()
    out, seen = [], set()
    for t in texts:
        if not is_publishable(reviewed, RESIDENTS, str(t)):
            continue
        s = " ".join(scrub_text(str(t)).split())
        if len(s) >= min_length and s.casefold() not in seen:
            seen.add(s.casefold())
            out.append(s)
        if len(out) >= n:
            break
    return out


def read_indicator_table(path: str | Path) -> pd.DataFrame:
    """Read an indicator table written as CSV (``;``, UTF-8) by a previous build or another tool."""
    t = pd.read_csv(path, sep=";", encoding="utf-8-sig")
    for c in ("fragile", "suppressed"):
        if c in t:
            t[c] = t[c].map(lambda v: str(v).strip().lower() in ("true", "vrai", "1", "oui"))
    return check_table(t)


# --------------------------------------------------------------------------- rendering

def _breakable(text):
    """Escape ``text`` and allow a line break after each hyphen (long place names in headers)."""
    from markupsafe import Markup, escape

    return Markup(str(escape(text)).replace("-", "-<wbr>"))


@functools.lru_cache(maxsize=1)
def _env():
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["num"] = lambda x, d=0: fmt.number(x, d)
    env.filters["pct"] = lambda x, d=1: fmt.percent(x, d)
    env.filters["slug"] = lambda s: "".join(c if c.isalnum() else "-" for c in str(s).lower())
    env.filters["coupable"] = _breakable
    return env


@functools.lru_cache(maxsize=1)
def _plotly_js() -> str:
    """plotly.js « basic » partial bundle vendored with the package (resources/vendor/README.md)."""
    return paths.resource("vendor", "plotly-basic.min.js").read_text(encoding="utf-8")


def _records(df) -> list[dict]:
    if df is None:
        return []
    if isinstance(df, pd.DataFrame):
        return df.to_dict("records")
    return list(df)


def _dimension_blocks(t, project, dimensions: dict[str, str], quartier: str | None, sources=None,
                      previous: dict | None = None) -> list[dict]:
    """Per dimension: the quartier's rows (one verdict each), its figures, the cross-quartier rows
    and the « Source : … » lines of its table and charts."""
    idx = _Index(t)
    blocks = []
    prefix = "fig-" + ("synthese" if quartier is None else "".join(c for c in quartier if c.isalnum()).lower())
    for did, dlabel in dimensions.items():
        ids = idx.ids(did)
        block = {"id": did, "label": dlabel, "rows": [], "ci_fig": "", "spine_fig": "",
                 "source_line": sources.line(ids) if sources is not None else "",
                 "ref_line": sources.reference_line(ids, list(project.references)) if sources is not None else ""}
        if quartier is not None:
            for iid in ids:
                r = idx.get(iid, quartier)
                if r is None:
                    continue
                agg = _aggregate(idx.rows(iid), project)
                ens = format_value(agg["estimate"], agg.get("unit") or "", with_unit=False) \
                    if agg is not None and _publishable(agg) else ""
                block["rows"].append({**_row_view(r, project), "ensemble": ens,
                                      "headline": headline(r, agg, project, sources) if _publishable(r) else None})
            if ids:
                block["spine_fig"] = _fig_html(spine_chart(idx, quartier, did, project, sources, previous=previous),
                                               f"{prefix}-colonne-{did}")
        if ids:
            block["ci_fig"] = _fig_html(distribution_chart(idx, did, project, quartier), f"{prefix}-ic-{did}")
        block["cross"], block["cross_refs"] = _cross_view(idx, ids, project, sources) if quartier is None else ([], [])
        blocks.append(block)
    return blocks


def _cross_view(idx, ids, project, sources) -> tuple[list[dict], list[str]]:
    """The synthesis' view of a dimension: per indicator, one cell per quartier, the « Ensemble »
    and the references; and the reference levels with a value in the dimension."""
    cross = []
    for iid in ids:
        first = idx.rows(iid)[0]
        agg = _aggregate(idx.rows(iid), project)
        cells = []
        for q in project.libelles:
            r = idx.get(iid, q)
            if r is None:
                cells.append(None)
                continue
            cells.append({**_row_view(r, project),
                          "headline": headline(r, agg, project, sources) if _publishable(r) else None})
        cross.append({"id": iid, "label": first["label"] if (first.get("unit") or "%") == "%"
                      else f"{first['label']} ({first['unit']})",
                      "unit": first.get("unit") or "", "cells": cells,
                      "refs": [{**ref, "illustrative": bool(sources and (iid, ref["id"]) in sources.references
                                                            and sources.references[(iid, ref["id"])]["illustrative"])}
                               for ref in _row_view(first, project)["refs"]],
                      "ensemble": _row_view(agg, project) if agg is not None else None})
    refs = [rid for rid in project.references
            if any(ref["id"] == rid and ref["value"] != "–" for row in cross for ref in row["refs"])]
    return cross, refs


def _base_context(project, generated: str | None) -> dict:
    return {
        "project": project, "logo": project.logo_data_uri(), "plotly_js": _plotly_js(),
        "css": (TEMPLATES / "report.css").read_text(encoding="utf-8"),
        "generated": generated or _dt.date.today().strftime("%d/%m/%Y"),
        "verdict_colours": VERDICT_COLOURS, "verdict_signs": VERDICT_SIGNS, "centre_label": project.references.get(project.reference_centrale, ""),
        "fmt": fmt,
    }


def protect_counts(rows: list[dict], threshold: int, label: str = "Autres canaux") -> list[dict]:
    """Group the rows of a count table that hold a cell under ``threshold``; mask what stays small.

    Parameters
    ----------
    rows : list of dict
        One dict per row: the first key is the row label, the other values are counts (the last
        one may be a ``Total``).
    threshold : int
        No published cell below it (``seuils.secret_statistique``).
    label : str
        Label of the grouped row.

    Returns
    -------
    list of dict
        Rows whose every count is at least ``threshold`` unchanged, the others summed into one
        row ``label``; a grouped cell still under the threshold is shown as « < 11 », and the
        total of a row with exactly one masked cell is masked too (it would give the cell back
        by difference: secondary suppression).  Zero stays zero only when the whole column is
        zero, otherwise it is masked like any small count.
    """
    if not rows:
        return []
    keys = list(rows[0])
    name, cols = keys[0], keys[1:]
    small = [r for r in rows if any(isinstance(r[c], (int, float)) and r[c] < threshold for c in cols)]
    keep = [r for r in rows if r not in small]
    if len(small) == 1 and keep:  # a single small row cannot be hidden in a group of its own
        small.append(min(keep, key=lambda r: r[cols[-1]]))
        keep.remove(small[-1])
    out = list(keep)
    if small:
        grouped = {name: label if len(small) > 1 else small[0][name]}
        for c in cols:
            grouped[c] = sum(r[c] for r in small)
        masked = [c for c in cols[:-1] if 0 < grouped[c] < threshold] if len(cols) > 1 else []
        for c in cols:
            if 0 < grouped[c] < threshold:
                grouped[c] = f"< {threshold}"
        if len(masked) == 1 and cols[-1] == "Total":
            grouped["Total"] = "–"
        out.append(grouped)
    return out


def _channel_table(rows: list[dict], project, quartier: str | None) -> list[dict]:
    """The « Canal de recueil » table, protected, in a shape that does not grow with the quartiers.

    A quartier's report: one row per channel, three columns (the quartier, the other quartiers,
    all).  The synthesis: the protected channel × quartier table (:func:`protect_counts`)
    transposed, one row per quartier and one column per channel, so that its width depends on
    the channels only.
    """
    if not rows:
        return []
    name = next(iter(rows[0]))
    if quartier is not None:
        rows = [{name: r[name], quartier: r.get(quartier, 0), "Autres quartiers": r["Total"] - r.get(quartier, 0),
                 "Total": r["Total"]} for r in rows]
        return protect_counts(rows, project.secret_statistique)
    table = protect_counts(rows, project.secret_statistique)
    columns = [k for k in table[0] if k != name]
    return [{"Quartier": col, **{r[name]: r[col] for r in table}} for col in columns]


def _methods_view(methods: dict | None, project, quartier: str | None) -> dict:
    """Format the methods summary (counts, channels, representativeness, weighting) for the template."""
    m = dict(methods or {})
    rec = project.recueil
    view = {
        "printed": rec.get("questionnaires_imprimes"), "partners": rec.get("associations_partenaires"),
        "period": rec.get("periode", ""), "n_read": m.get("n_read"), "n_accepted": m.get("n_accepted"),
        "n_rejected": m.get("n_rejected"), "channels": _channel_table(_records(m.get("channels")), project, quartier),
        "representativeness": [], "weighting": [], "threshold_fragile": project.effectif_fragile,
        "threshold_secret": project.secret_statistique, "threshold_survey": project.repondants_minimum,
        "confidence": fmt.number(project.niveau_confiance * 100, 0), "return_rate": None,
    }
    if view["printed"] and view["n_read"]:
        view["return_rate"] = fmt.percent(view["n_read"] / view["printed"], 0)
    rep = m.get("representativeness")
    if rep is not None and len(rep):
        rep = rep if isinstance(rep, pd.DataFrame) else pd.DataFrame(rep)
        if quartier is not None and "quartier" in rep:
            rep = rep[rep["quartier"] == quartier]
        small = f"< {project.secret_statistique}"
        view["representativeness"] = [
            {**r, "n": small, "pct_echantillon": None} if (not _na(r.get("n")) and r["n"] < project.secret_statistique)
            else r for r in rep.to_dict("records")]
    w = m.get("weighting")
    if w is not None and len(w):
        w = w if isinstance(w, pd.DataFrame) else pd.DataFrame(w)
        rows = []
        for r in w.to_dict("records"):
            n_eff = r.get("n_eff")
            rows.append({**r, "moe": margin_of_error(0.5, n_eff) if not _na(n_eff) else math.nan,
                         "highlight": quartier is not None and r.get("quartier") == quartier})
        view["weighting"] = rows
    return view


def review_path(project) -> Path | None:
    """The project's quote review file, ``citations_relues.csv`` beside the project file.

    ``None`` when the project has no file (embedded configuration): then nothing is published.
    """
    if getattr(project, "source", None) is None:
        return None
    return Path(project.source).parent / "citations_relues.csv"


def reviewed_quotes(project, interviews, responses: pd.DataFrame | None = None, *, column: str = "commentaire"):
    """Apply the review gate to a project's free text; list what still awaits review.

    Returns the interviews keeping only the quotes marked « oui » in :func:`review_path`, the
    ``{id: publishable}`` reviews, and the number of quotes and comments not reviewed yet.
    """
    from ..protect.review import RESIDENTS, load_reviewed_quotes, quote_id, reviewed_only

    path = review_path(project)
    reviewed = load_reviewed_quotes(path) if path is not None else {}
    pending = sum(quote_id(it.partenaire, q.text) not in reviewed for it in interviews for q in it.quotes)
    if responses is not None and column in responses:
        texts = {str(t) for t in responses[column].dropna() if str(t).strip()}
        pending += sum(quote_id(RESIDENTS, t) not in reviewed for t in texts)
    return reviewed_only(interviews, reviewed), reviewed, pending


def statement_path(project, name: str) -> Path | None:
    """Where the ASV writes the « points forts » and « pistes d'action » of a deliverable.

    ``constats/<name>.md`` in the folder of the project file (``name`` is the quartier's id, or
    ``synthese``); ``None`` when the project has no file (embedded configuration).
    """
    if getattr(project, "source", None) is None:
        return None
    return Path(project.source).parent / "constats" / f"{name}.md"


def render_statement(path: Path | None) -> str:
    """The ASV's markdown text as HTML, or an empty string when the file is absent.

    Raw HTML in the file is shown as text (markdown-it-py, CommonMark with ``html`` off), so the
    text of a user can never inject markup; headings are shifted below the report's own ``h2``.
    """
    from markdown_it import MarkdownIt

    if path is None or not Path(path).is_file():
        return ""
    md = MarkdownIt("commonmark", {"html": False})
    html = md.render(Path(path).read_text(encoding="utf-8-sig"))
    for k in (3, 2, 1):  # # → h3, ## → h4…
        html = html.replace(f"<h{k}>", f"<h{k + 2}>").replace(f"</h{k}>", f"</h{k + 2}>")
    return html


def _directory(actors, quartier: str, dims: dict) -> list[dict]:
    """The quartier's actors, one row each (deduplicated by name and address), themes as a column."""
    from ..collect.actors import actors_for_quartier

    if actors is None or not len(actors):
        return []
    sub = actors_for_quartier(actors, quartier)
    rows, seen = [], set()
    for r in sorted(sub.to_dict("records"), key=lambda r: str(r.get("nom", "")).casefold()):
        key = (" ".join(str(r.get("nom", "")).casefold().split()), str(r.get("adresse", "")).casefold())
        if key in seen:
            continue
        seen.add(key)
        themes = [dims.get(t, t) for t in (r.get("themes") or [])]
        rows.append({**r, "themes_label": ", ".join(themes)})
    return rows


def _matrix_view(interviews, dims, project, quartier: str | None = None):
    """The interview theme matrix in a shape that does not grow with the quartiers.

    A quartier's report: one row per theme, two columns (the quartier, all the interviews).
    The synthesis: one row per quartier, one column per theme.
    """
    from ..collect.interviews import theme_matrix

    if not interviews:
        return None
    if quartier is not None:
        mine = [it for it in interviews if quartier in it.quartiers]
        matrix = pd.DataFrame({quartier: [sum(did in it.themes for it in mine) for did in dims],
                               "Tous les entretiens": [sum(did in it.themes for it in interviews) for did in dims]},
                              index=list(dims.values()))
        corner = "Thème"
    else:
        matrix, corner = theme_matrix(interviews, dims, project.libelles).T, "Quartier"
    return {"columns": list(matrix.columns), "corner": corner,
            "rows": [(i, list(map(int, v))) for i, v in zip(matrix.index, matrix.to_numpy())],
            "max": int(matrix.to_numpy().max()) if matrix.size else 0}


def _sources_or_none(project, sources):
    """The project's sources (loaded when not given); ``None`` when its files cannot be read."""
    from ..errors import DLSError

    if sources is not None:
        return sources
    from .sources import load_sources

    try:
        return load_sources(project)
    except (DLSError, OSError, KeyError):
        return None


def _definitions(sources, dims) -> list[dict]:
    if sources is None:
        return []
    out = []
    for did, dlabel in dims.items():
        rows = sources.indicators[sources.indicators["dimension"] == did].to_dict("records")
        if rows:
            out.append({"label": dlabel, "rows": rows})
    return out


def select_quotes(interviews: list[Interview], quartier: str, *, dimensions: dict[str, str] | None = None,
                  per_theme: int = 2, scrub: bool = True) -> list[dict]:
    """Quotes about ``quartier``, at most ``per_theme`` per dimension, scrubbed for publication.

    Each quote is published under its first theme.  Scrubbing removes phone numbers, e-mail
    addresses and the names listed in the interview's ``Personnes`` line
    (:func:`diagnostics.protect.text.scrub_text`).

    Returns
    -------
    list of dict
        ``{"theme": id, "theme_label": label, "text": scrubbed text, "partenaire": str, "type": str}``
        in dimension order.
    """
    order = list(dimensions) if dimensions else []
    count: dict[str, int] = {}
    out = []
    for it in interviews:
        if quartier not in it.quartiers:
            continue
        for q in it.quotes:
            t = q.themes[0]
            if count.get(t, 0) >= per_theme:
                continue
            count[t] = count.get(t, 0) + 1
            text = scrub_text(q.text, names=tuple(it.personnes)) if scrub else q.text
            out.append({"theme": t, "theme_label": (dimensions or {}).get(t, t), "text": text,
                        "partenaire": it.partenaire, "type": it.type})
    out.sort(key=lambda r: order.index(r["theme"]) if r["theme"] in order else len(order))
    return out


def render_quartier(project, quartier: str, table: pd.DataFrame, *, methods: dict | None = None,
                    actors: pd.DataFrame | None = None, interviews: list | None = None,
                    comments: list[str] = (), dimensions: dict[str, str] | None = None,
                    generated: str | None = None, sources=None, statement: str | Path | None = None,
                    evolution: dict | None = None) -> str:
    """Render the DLS deliverable of one quartier as a self-contained HTML page.

    Parameters
    ----------
    project : diagnostics.config.project.Project
    quartier : str
        Label or id of the quartier.
    table : pandas.DataFrame
        Protected indicator table (all quartiers: the figures compare them).
    methods : dict, optional
        ``n_read, n_accepted, n_rejected`` (counts from validation), ``channels`` (table of
        collection channels: ``canal, n`` and optionally per quartier), ``representativeness``
        (``quartier, groupe, pct_echantillon, pct_population[, pct_pondere]``) and ``weighting``
        (``quartier, n, n_eff, deff``).
    actors : pandas.DataFrame, optional
        Directory from :func:`diagnostics.collect.actors.load_actors` (all quartiers; filtered here).
    interviews : list of diagnostics.collect.interviews.Interview, optional
    comments : list of str
        Free-text answers (``commentaire``) already scrubbed and selected for publication.
    dimensions : dict, optional
        ``{id: label}``; the nine DLS dimensions by default.
    generated : str, optional
        Date printed on the cover (today by default).
    sources : diagnostics.publish.sources.IndicatorSources, optional
        Sources, periods and definitions (default: read from the project's files).
    statement : path-like, optional
        The ASV's markdown file of « points forts » and « pistes d'action » (default:
        :func:`statement_path`); a placeholder says where to write it when it is absent.
    evolution : dict, optional
        ``{"evolution", "series", "trends"}`` of :mod:`diagnostics.engine.evolution` (all quartiers): the
        « Évolution depuis le diagnostic de … » page of « À retenir » and the previous values on
        the spine charts.

    Returns
    -------
    str
        The HTML document.

    Notes
    -----
    Structure: cover, « À retenir » (at most four A4 pages), one part per dimension (spine
    chart and table, each followed by its source), the partners' and residents' words, then the
    annexes: methods, confidence-interval charts, definitions of every catalogue indicator,
    glossary, directory of actors.
    """
    from ..config.questionnaire import load_dimensions

    dims = dimensions or load_dimensions()
    q = project.quartier(quartier)
    t = _Index(table)
    sources = _sources_or_none(project, sources)
    ctx = _base_context(project, generated)
    stmt_path = Path(statement) if statement is not None else statement_path(project, q.id)
    quotes = select_quotes(interviews, q.libelle, dimensions=dims, per_theme=1) if interviews else []
    evo = evolution or {}
    ctx.update({
        "doc_title": f"{project.titre} — {q.libelle}", "quartier": q,
        "findings": key_findings(t, q.libelle, project, sources=sources, dimensions=dims),
        "dimensions": _dimension_blocks(t, project, dims, q.libelle, sources,
                                        previous=previous_values(evo.get("evolution"), q.libelle)),
        "evolution": evolution_view(evo.get("evolution"), q.libelle, series=evo.get("series"),
                                    trends=evo.get("trends"),
                                    previous_year=project.precedent.annee if project.precedent else ""),
        "methods": _methods_view(methods, project, q.libelle),
        "directory": _directory(actors, q.libelle, dims),
        "matrix": _matrix_view(interviews, dims, project, q.libelle),
        "quotes": quotes, "comments": list(comments), "n_interviews": len(interviews or []),
        "quartiers": project.quartiers, "statement": render_statement(stmt_path),
        "statement_path": stmt_path, "definitions": _definitions(sources, dims),
        "illustrative": bool(sources and sources.has_illustrative()),
        "published_refs": sources.published(project.references) if sources is not None else [],
        "precedence_rule": PRECEDENCE_RULE,
        "survey_source": sources.survey if sources is not None else "",
    })
    return _env().get_template("report_quartier.html.j2").render(**ctx)


def render_synthesis(project, table: pd.DataFrame, *, methods: dict | None = None, interviews: list | None = None,
                     dimensions: dict[str, str] | None = None, generated: str | None = None,
                     links: dict[str, str] | None = None, sources=None, statement: str | Path | None = None,
                     evolution: dict | None = None) -> str:
    """Render the cross-quartier synthesis as a self-contained HTML page.

    Parameters
    ----------
    links : dict, optional
        ``{quartier label: relative file name}`` of each quartier's report.
    sources, statement
        As for :func:`render_quartier` (the statement file is ``constats/synthese.md``).
    evolution : dict, optional
        ``{"evolution", …}`` of :mod:`diagnostics.engine.evolution`: the « Évolution depuis le diagnostic
        de … » overview, quartiers side by side (:func:`~diagnostics.publish.evolution_view.synthesis_evolution`).

    Returns
    -------
    str

    Notes
    -----
    The body is one quartier × indicator overview (values coloured by their verdict, as in the
    Fingertips overview) on one or two A4 pages; the per-dimension detail (charts and tables with
    the references) is in the annex.
    """
    from ..config.questionnaire import load_dimensions

    dims = dimensions or load_dimensions()
    t = _Index(table)
    sources = _sources_or_none(project, sources)
    ctx = _base_context(project, generated)
    stmt_path = Path(statement) if statement is not None else statement_path(project, "synthese")
    blocks = _dimension_blocks(t, project, dims, None, sources)
    ctx.update({
        "doc_title": f"{project.titre} — synthèse des quartiers",
        "summaries": [{"quartier": q, "findings": key_findings(t, q.libelle, project, sources=sources, dimensions=dims,
                                                               limit=5),
                       "link": (links or {}).get(q.libelle)} for q in project.quartiers],
        "dimensions": blocks, "methods": _methods_view(methods, project, None),
        "matrix": _matrix_view(interviews, dims, project),
        "n_interviews": len(interviews or []), "quartiers": project.quartiers,
        "statement": render_statement(stmt_path), "statement_path": stmt_path,
        "definitions": _definitions(sources, dims), "illustrative": bool(sources and sources.has_illustrative()),
        "published_refs": sources.published(project.references) if sources is not None else [],
        "precedence_rule": PRECEDENCE_RULE,
        "survey_source": sources.survey if sources is not None else "",
        "overview_refs": [k for k in dict.fromkeys((project.reference_centrale, "qpv", "france"))
                          if k in project.references],
        "evolution": synthesis_evolution((evolution or {}).get("evolution"), project),
    })
    return _env().get_template("report_synthese.html.j2").render(**ctx)


def write_html(html: str, path: str | Path) -> Path:
    """Write ``html`` to ``path`` atomically (temporary file in the same folder, then rename)."""
    from ..io.files import atomic_path

    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(html, encoding="utf-8")
    return path
