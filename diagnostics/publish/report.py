"""The deliverables: one self-contained HTML report per quartier and the cross-quartier synthesis.

Input is the protected indicator table (one row per quartier × indicator, columns agreed in
CONTRIBUTING.md), the project configuration, a summary of the methods (collection, weighting),
the directory of actors and the partner interview notes.  Output is a single HTML file that
works offline and without a script: the figures are inline SVG (:mod:`diagnostics.publish.svg`),
the logo is a ``data:`` URI, no font or image is fetched; the same file prints to A4 (print CSS, page breaks) with
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
from .charts import distribution_chart, spine_chart
from .constats import read_statement, render_markdown, statement_path
from ..errors import DLSError
from ..protect.cells import group_neighbours, publish_counts
from ..protect.text import scrub_text
from .display import (
    FIG_WIDTH,
    VERDICT_COLOURS,
    TableIndex,
    _aggregate,
    _na,
    _row_view,
    check_table,
    format_value,
)
from .evolution_view import evolution_view, previous_values, synthesis_evolution
from .findings import _publishable, essentiel, headline, key_findings
from .sources import DEFAULT_DENOMINATOR
from .svg import figure_html

TEMPLATES = paths.template_dir()


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


def collection_summary(responses: pd.DataFrame, frame: pd.DataFrame, weights: pd.Series, margins: pd.DataFrame,
                       project, *, n_read: int | None = None, n_rejected: int | None = None) -> dict:
    """Describe the survey for the methods section: counts, channels, representativeness, weighting.

    Parameters
    ----------
    responses : pandas.DataFrame
        Every accepted answer (``ValidationResult.data``), with ``quartier`` and ``canal``.
    frame : pandas.DataFrame
        The respondents of the quartiers (:func:`diagnostics.engine.wave.survey_frame`) with
        ``quartier``, ``groupe_age`` and ``sexe`` (NaN when unknown: not weighted).
    weights : pandas.Series
        The weights of the weighted respondents (indexed like ``frame``).
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
        sex, plus « non renseigné » when some are unknown); ``weighting`` (``quartier, n,
        deff, n_eff``: ``n`` every respondent of the quartier — the one count of the quartier
        printed throughout —, ``deff`` and ``n_eff`` of the weights,
        :func:`diagnostics.stats.weighting.weight_diagnostics`).

    Notes
    -----
    Shares are computed within each quartier: sample share :math:`n_g / n` over every respondent
    of the quartier, population share :math:`N_g / N`, weighted share
    :math:`\\sum_{i \\in g} w_i / \\sum_i w_i` over the weighted respondents.
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
    w = pd.Series(weights, index=weights.index if isinstance(weights, pd.Series) else frame.index).astype(float)
    for q in labels:
        sub = frame[frame["quartier"].astype(object) == q]
        wq = w[w.index.isin(sub.index)]
        d = weight_diagnostics(wq)
        wrows.append({"quartier": q, "n": len(sub), "deff": d["kish_deff"], "n_eff": d["n_eff"]})
        rep += _representativeness(sub, wq, margins[margins["quartier"] == q], q)
    return {"n_read": n_read if n_read is not None else len(responses), "n_accepted": len(responses),
            "n_rejected": n_rejected, "channels": channels, "representativeness": pd.DataFrame(rep),
            "weighting": pd.DataFrame(wrows)}


def _representativeness(sub: pd.DataFrame, wq: pd.Series, mq: pd.DataFrame, q: str) -> list[dict]:
    """Rows of one quartier: by age group, then by sex (``kind`` « age » / « sexe »), unknown last."""
    rows = []
    for var, suffix in (("groupe_age", " ans"), ("sexe", "")):
        pop = mq.groupby(var, sort=False)["effectif"].sum()
        col = sub[var].astype(object)
        wcol = col.reindex(wq.index)
        for g, npop in pop.items():
            rows.append({"quartier": q, "groupe": f"{g}{suffix}", "n": int((col == g).sum()),
                         "pct_echantillon": float((col == g).mean()) if len(sub) else math.nan,
                         "pct_population": float(npop / pop.sum()) if pop.sum() else math.nan,
                         "pct_pondere": float(wq[(wcol == g).to_numpy()].sum() / wq.sum()) if wq.sum() else math.nan,
                         "kind": var, "band": str(g)})
        if col.isna().any():
            rows.append({"quartier": q, "groupe": "Âge non renseigné" if var == "groupe_age" else "Sexe non renseigné",
                         "n": int(col.isna().sum()), "pct_echantillon": float(col.isna().mean()),
                         "pct_population": math.nan, "pct_pondere": math.nan, "kind": var, "band": ""})
    return rows


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
    idx = TableIndex(t)
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
            block["rows"] = _pair_twins(block["rows"], sources.twins if sources is not None else {})
            if ids:
                block["spine_fig"] = figure_html(spine_chart(idx, quartier, did, project, sources, previous=previous),
                                                 f"{prefix}-colonne-{did}", FIG_WIDTH)
        if ids:
            block["ci_fig"] = figure_html(distribution_chart(idx, did, project, quartier), f"{prefix}-ic-{did}",
                                          FIG_WIDTH)
        block["cross"], block["cross_refs"] = _cross_view(idx, ids, project, sources) if quartier is None else ([], [])
        blocks.append(block)
    return blocks


def _pair_twins(rows: list[dict], twins: dict) -> list[dict]:
    """Put the twin of an indicator (declared / recorded) right after it, the pair marked so that
    the table prints them together with the sentence on why they differ."""
    from .sources import TWIN_NOTE

    by_id = {r["id"]: r for r in rows}
    out, done = [], set()
    for r in rows:
        if r["id"] in done:
            continue
        out.append(r)
        done.add(r["id"])
        twin = by_id.get(twins.get(r["id"]))
        if twin is not None and twin["id"] not in done:
            if r.get("source") == "extrait":     # the declared measure first, as the note says
                out[-1], twin = twin, r
            out[-1]["twin_first"] = True
            out.append({**twin, "twin_note": TWIN_NOTE})
            done.add(twin["id"])
    return out


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
        "project": project, "logo": project.logo_data_uri(),
        "css": (TEMPLATES / "report.css").read_text(encoding="utf-8"),
        "generated": generated or _dt.date.today().strftime("%d/%m/%Y"),
        "verdict_colours": VERDICT_COLOURS, "centre_label": project.references.get(project.reference_centrale, ""),
        "fmt": fmt,
    }


def _opening(project, q, t, sources, stmt_path, evo: dict, methods) -> dict:
    """The opening pages of a quartier's report: « L'essentiel », the ASV's text, « Le quartier en bref »."""
    from .context import quartier_context

    stmt = read_statement(stmt_path)
    return {"essentiel": essentiel(t, q.libelle, project, sources=sources, evolution=evo.get("evolution"),
                                   statement=stmt, twins=sources.twins if sources is not None else {}),
            "statement": render_markdown(stmt.text), "context": quartier_context(project, q, t, methods=methods),
            "extract_levels": _extract_levels(project)}


def _extract_levels(project) -> str:
    """« à Chambéry, en Savoie, en Auvergne-Rhône-Alpes et en France »: the levels of the extracts,
    from the project's reference labels (never written in a template)."""
    from ..config.project import EXTRACT_REFERENCE_LEVELS

    words = [project.dans(k) for k in project.references if k in EXTRACT_REFERENCE_LEVELS]
    return (", ".join(words[:-1]) + " et " + words[-1]) if len(words) > 1 else "".join(words)


def _channel_table(channels, project, quartier: str | None) -> list[dict]:
    """The « Canal de recueil » table as printed, protected, in a shape that does not grow with the
    quartiers.

    A quartier's report: one row per channel and three counts (the quartier, the other quartiers,
    all), protected as printed (:func:`diagnostics.protect.cells.publish_counts`, the quartier's
    total being printed elsewhere).  The synthesis: the protected channel × quartier table
    (:func:`_channels_view`) transposed, one row per quartier and one column per channel, so that
    its width depends on the channels only.
    """
    if quartier is None:
        table = _channels_view(channels, project)
        if not table:
            return []
        name = next(iter(table[0]))
        columns = [k for k in table[0] if k != name]
        return [{"Quartier": col, **{r[name]: r[col] for r in table}} for col in columns]
    rows = _records(channels)
    if not rows or quartier not in rows[0]:
        return []
    df = pd.DataFrame(rows)
    label = df.columns[0]
    others = [c for c in df.columns[1:] if c in project.libelles and c != quartier]
    view = pd.DataFrame({label: df[label], quartier: df[quartier], "Autres quartiers": df[others].sum(axis=1)})
    return _published_with_total(view, label, [quartier, "Autres quartiers"], project.secret_statistique)


def _methods_view(methods: dict | None, project, quartier: str | None) -> dict:
    """Format the methods summary (counts, channels, representativeness, weighting) for the template."""
    m = dict(methods or {})
    rec = project.recueil
    view = {
        "printed": rec.get("questionnaires_imprimes"), "partners": rec.get("associations_partenaires"),
        "period": rec.get("periode", ""), "n_read": m.get("n_read"), "n_accepted": m.get("n_accepted"),
        "n_rejected": m.get("n_rejected"), "channels": _channel_table(m.get("channels"), project, quartier),
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
        view["representativeness"] = _representativeness_view(rep, project.secret_statistique)
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


def _channels_view(channels, project) -> list[dict]:
    """The channel × quartier table as printed: the studied quartiers only (their totals are the
    respondents printed elsewhere), then :func:`diagnostics.protect.cells.publish_counts`."""
    rows = _records(channels)
    if not rows:
        return []
    df = pd.DataFrame(rows)
    label = df.columns[0]
    counts = [c for c in df.columns[1:] if c in project.libelles]
    return _published_with_total(df[[label, *counts]].copy(), label, counts, project.secret_statistique)


def _published_with_total(df: pd.DataFrame, label: str, counts: list[str], threshold) -> list[dict]:
    """A count table with its « Total » column, rows without anybody left out, as printed:
    :func:`diagnostics.protect.cells.publish_counts` (no masked cell recoverable from the totals)."""
    df["Total"] = df[counts].sum(axis=1)
    table, _ = publish_counts(df[df["Total"] > 0], [*counts, "Total"], label, threshold, total_col="Total")
    return table.to_dict("records")


def _age_band_label(bands: list[str]) -> str:
    """« 60 ans ou plus » for the bands 60-74 and 75+, « 30-59 ans » for 30-44 and 45-59."""
    from ..stats.rates import parse_age_band

    lo, hi = parse_age_band(bands[0])[0], parse_age_band(bands[-1])[1]
    if math.isinf(hi) or hi >= 120:
        return f"{lo} ans ou plus"
    return f"{lo}-{int(hi)} ans"


def _representativeness_view(rep: pd.DataFrame, threshold) -> list[dict]:
    """Annex A as printed: age groups with a small count grouped with their neighbour (« 60 ans ou
    plus »), then :func:`~diagnostics.protect.cells.publish_counts` on each block (age, sex) of
    each quartier, the quartier's total being printed elsewhere; a suppressed count hides its
    share of the sample too."""
    if not {"kind", "band"} <= set(rep.columns):
        raise DLSError("Le résumé de la collecte est d'un ancien format (colonnes « kind » et « band » absentes) ; "
                       "relancez le carnet 02_ponderer.")
    out = []
    for (_, kind), block in rep.groupby(["quartier", "kind"], sort=False):
        known, unknown = block[block["band"] != ""].to_dict("records"), block[block["band"] == ""].to_dict("records")
        if kind == "groupe_age":
            known = [_merge_rows([known[i] for i in g]) for g in group_neighbours([r["n"] for r in known], threshold)]
        table, status = publish_counts(pd.DataFrame(known + unknown), ["n"], "groupe", threshold)
        out += [{**r, "pct_echantillon": None} if st else r for r, st in zip(table.to_dict("records"), status["n"])]
    return out


def _merge_rows(rows: list[dict]) -> dict:
    """One row for neighbouring age groups: counts and shares added."""
    if len(rows) == 1:
        return rows[0]
    merged = {**rows[0], "groupe": _age_band_label([r["band"] for r in rows]), "band": rows[0]["band"]}
    for k in ("n", "pct_echantillon", "pct_population", "pct_pondere"):
        merged[k] = sum(r[k] for r in rows)
    return merged


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


def render_statement(path: Path | None) -> str:
    """The ASV's text of a ``constats`` file as HTML, or an empty string when there is none
    (:mod:`diagnostics.publish.constats`)."""
    return render_markdown(read_statement(path).text)


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
            rows = [{**r, "denominator": "" if r["denominator"] == DEFAULT_DENOMINATOR else r["denominator"]}
                    for r in rows]
            out.append({"label": dlabel, "rows": rows, "source": sources.line([r["indicator_id"] for r in rows])})
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


def _contours(project):
    """The project's QPV contours and commune contour (``donnees: contours_qpv, contour_commune``), or Nones."""
    from ..collect.contours import load_contours

    path, commune = project.donnees.get("contours_qpv"), project.donnees.get("contour_commune")
    return (load_contours(path) if path is not None else None,
            load_contours(commune) if commune is not None else None)


def _map_view(project, quartier: str, directory: list[dict]) -> dict | None:
    """The quartier's map (:func:`~diagnostics.publish.maps.quartier_map`), or None without contours."""
    from .maps import quartier_map

    contours, commune = _contours(project)
    return quartier_map(project, quartier, contours, directory, commune)


def _evolution_of(evo: dict, project, quartier: str) -> dict | None:
    """The « Évolution » page of one quartier (:func:`evolution_view`), years from the project."""
    return evolution_view(evo.get("evolution"), quartier, series=evo.get("series"), trends=evo.get("trends"),
                          previous_year=project.precedent.annee if project.precedent else "",
                          current_year=project.annee, threshold=project.secret_statistique)


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
    table : pandas.DataFrame or diagnostics.publish.display.TableIndex
        Protected indicator table (all quartiers: the figures compare them), or its index.
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
        :func:`diagnostics.publish.constats.statement_path`); a placeholder says where to write it when it is absent.
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
    Structure: cover, « À retenir » (at most four A4 pages), the quartier's map when the project
    names its contours (:func:`diagnostics.publish.maps.quartier_map`), one part per dimension (spine
    chart and table, each followed by its source), the partners' and residents' words, then the
    annexes: methods, confidence-interval charts, definitions of every catalogue indicator,
    glossary, directory of actors.
    """
    from ..config.questionnaire import load_dimensions

    dims = dimensions or load_dimensions()
    q = project.quartier(quartier)
    t = TableIndex(table)
    sources = _sources_or_none(project, sources)
    ctx = _base_context(project, generated)
    stmt_path = Path(statement) if statement is not None else statement_path(project, q.id)
    quotes = select_quotes(interviews, q.libelle, dimensions=dims, per_theme=1) if interviews else []
    evo = evolution or {}
    directory = _directory(actors, q.libelle, dims)
    ctx.update(_opening(project, q, t, sources, stmt_path, evo, methods))
    ctx.update({
        "doc_title": f"{project.titre} — {q.libelle}", "quartier": q,
        "findings": key_findings(t, q.libelle, project, sources=sources, dimensions=dims),
        "dimensions": _dimension_blocks(t, project, dims, q.libelle, sources,
                                        previous=previous_values(evo.get("evolution"), q.libelle)),
        "evolution": _evolution_of(evo, project, q.libelle),
        "methods": _methods_view(methods, project, q.libelle),
        "directory": directory, "map": _map_view(project, q.libelle, directory),
        "matrix": _matrix_view(interviews, dims, project, q.libelle),
        "quotes": quotes, "comments": list(comments), "n_interviews": len(interviews or []),
        "quartiers": project.quartiers, "definitions_link": paths.DEFINITIONS_FILE,
        "illustrative": bool(sources and sources.has_illustrative()),
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
    Fingertips overview) on one or two A4 pages, then the map of the quartiers when the project
    names their contours; the per-dimension detail (charts and tables with the references) is in
    the annex.
    """
    from ..config.questionnaire import load_dimensions
    from .maps import overview_map

    dims = dimensions or load_dimensions()
    t = TableIndex(table)
    sources = _sources_or_none(project, sources)
    ctx = _base_context(project, generated)
    stmt_path = Path(statement) if statement is not None else statement_path(project, "synthese")
    blocks = _dimension_blocks(t, project, dims, None, sources)
    ctx.update({
        "doc_title": f"{project.titre} — synthèse des quartiers",
        "summaries": [{"quartier": q,
                       "essentiel": essentiel(t, q.libelle, project, sources=sources,
                                              evolution=(evolution or {}).get("evolution"),
                                              statement=read_statement(statement_path(project, q.id)),
                                              twins=sources.twins if sources is not None else {}),
                       "link": (links or {}).get(q.libelle)} for q in project.quartiers],
        "dimensions": blocks, "methods": _methods_view(methods, project, None),
        "matrix": _matrix_view(interviews, dims, project),
        "n_interviews": len(interviews or []), "quartiers": project.quartiers,
        "statement": render_statement(stmt_path),
        "extract_levels": _extract_levels(project),
        "definitions_link": paths.DEFINITIONS_FILE, "illustrative": bool(sources and sources.has_illustrative()),
        "precedence_rule": PRECEDENCE_RULE,
        "survey_source": sources.survey if sources is not None else "",
        "overview_refs": [k for k in dict.fromkeys((project.reference_centrale, "qpv", "france"))
                          if k in project.references],
        "evolution": synthesis_evolution((evolution or {}).get("evolution"), project),
        "map": overview_map(project, *_contours(project)),
    })
    return _env().get_template("report_synthese.html.j2").render(**ctx)


def render_definitions(project, *, sources=None, dimensions: dict[str, str] | None = None,
                       generated: str | None = None) -> str:
    """Render the document shared by every report: definitions, reference values and glossary.

    The definitions of every catalogue indicator (numerator, denominator, source, period), the
    published reference values the reports use with their source and the precedence rule, and
    the glossary are the same for every quartier: they are printed once, in this document
    (:data:`diagnostics.paths.DEFINITIONS_FILE` beside the reports), and each report's annex C links to it.

    Returns
    -------
    str
        The HTML document.
    """
    from ..config.questionnaire import load_dimensions

    dims = dimensions or load_dimensions()
    sources = _sources_or_none(project, sources)
    ctx = _base_context(project, generated)
    ctx.update({
        "doc_title": f"{project.titre} — définitions, sources et glossaire",
        "definitions": _definitions(sources, dims),
        "published_refs": sources.published(project.references) if sources is not None else [],
        "precedence_rule": PRECEDENCE_RULE,
    })
    return _env().get_template("report_definitions.html.j2").render(**ctx)


def write_html(html: str, path: str | Path) -> Path:
    """Write ``html`` to ``path`` atomically (temporary file in the same folder, then rename)."""
    from ..io.files import atomic_path

    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(html, encoding="utf-8")
    return path
