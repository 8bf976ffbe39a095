"""« Le quartier en bref »: the quartier in context before its findings.

Population and its age pyramid by sex (the census margins the project already has), the
respondents and their share of the population, the precarity score (EPICES), the share covered
by the Complémentaire santé solidaire and the quartier's QPV code — the opening of the territory
profiles of the ORS and of Fingertips.  Shares only in the pyramid (no small count printed).
"""
from __future__ import annotations

import html

import pandas as pd

from .. import fmt
from .display import _flag, _na, format_interval, format_value

__all__ = ["CONTEXT_INDICATORS", "pyramid_svg", "quartier_context"]

#: Indicators of the box, in order (id -> the words before the figure); absent ones are skipped.
CONTEXT_INDICATORS = {
    "precarite_epices": "en situation de précarité (score EPICES ≥ 30,17), déclarée",
    "am_c2s": "bénéficiaires de la Complémentaire santé solidaire (Assurance Maladie)",
    "css_ame": "couverts par la CSS ou l'AME, déclaré",
}


def pyramid_svg(margins: pd.DataFrame, label: str, *, width: int = 320, bar_h: int = 16) -> str:
    """Age pyramid by sex of one quartier as inline SVG (shares of the population, women right).

    Parameters
    ----------
    margins : pandas.DataFrame
        ``groupe_age, sexe, effectif`` of the quartier (census margins).
    label : str
        Accessible name of the figure.

    Notes
    -----
    Each bar is :math:`N_{a,s} / N`, the share of the age group × sex in the quartier's
    population counted by the margins; the widest bar spans half the width.
    """
    tot = float(margins["effectif"].sum())
    if tot <= 0:
        return ""
    ages = list(dict.fromkeys(margins["groupe_age"]))
    share = margins.groupby(["groupe_age", "sexe"])["effectif"].sum() / tot
    top = max(float(share.max()), 1e-9)
    mid, half, pad = width / 2, width / 2 - 58, 18
    rows, desc = [], []
    for k, age in enumerate(reversed(ages)):
        y = pad + k * (bar_h + 4)
        rows.append(f'<text x="{mid:.0f}" y="{y + bar_h - 4}" text-anchor="middle" font-size="11">{html.escape(str(age))}</text>')
        for sexe, sign, colour in (("Homme", -1, "#0072B2"), ("Femme", 1, "#B35806")):
            v = float(share.get((age, sexe), 0.0))
            w = half * v / top
            x = mid + 24 if sign > 0 else mid - 24 - w
            rows.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{colour}"/>')
            tx = x + w + 3 if sign > 0 else x - 3
            rows.append(f'<text x="{tx:.1f}" y="{y + bar_h - 4}" font-size="10" '
                        f'text-anchor="{"start" if sign > 0 else "end"}">{fmt.percent(v, 0)}</text>')
            desc.append(f"{sexe}s {age} ans : {fmt.percent(v, 0)}")
    h = pad + len(ages) * (bar_h + 4) + 4
    head = (f'<text x="{mid - 24:.0f}" y="12" text-anchor="end" font-size="11">Hommes</text>'
            f'<text x="{mid + 24:.0f}" y="12" font-size="11">Femmes</text>')
    return (f'<svg class="pyramide" width="{width}" height="{h}" viewBox="0 0 {width} {h}" role="img" '
            f'aria-label="{html.escape(label + " — " + " ; ".join(desc), quote=True)}">{head}{"".join(rows)}</svg>')


def quartier_context(project, quartier, table, *, margins: pd.DataFrame | None = None,
                     methods: dict | None = None) -> dict:
    """The figures of « Le quartier en bref » for one quartier.

    Parameters
    ----------
    project : diagnostics.config.project.Project
    quartier : diagnostics.config.project.Quartier
    table : diagnostics.publish.display.TableIndex or pandas.DataFrame
        The protected indicator table.
    margins : pandas.DataFrame, optional
        Census margins (default: the project's ``donnees: marges`` file).
    methods : dict, optional
        The methods summary (``weighting``: respondents used per quartier).

    Returns
    -------
    dict
        ``population`` (formatted, ages covered by the margins), ``ages``, ``pyramid`` (SVG),
        ``respondents``, ``respondent_share``, ``indicators`` (``[{"words", "value", "ci"}]``),
        ``qpv``.
    """
    from ..collect.margins import read_margins
    from .display import TableIndex

    if margins is None and project.donnees.get("marges"):
        margins = read_margins(project.donnees["marges"])
    out = {"population": "", "ages": "", "pyramid": "", "respondents": "", "respondent_share": "",
           "indicators": [], "qpv": quartier.qpv or ""}
    pop = 0
    if margins is not None and len(margins):
        m = margins[margins["quartier"] == quartier.libelle]
        pop = int(m["effectif"].sum())
        if pop:
            ages = list(dict.fromkeys(m["groupe_age"]))
            out.update(population=fmt.number(pop), ages=f"{ages[0].split('-')[0]} ans ou plus",
                       pyramid=pyramid_svg(m, f"Pyramide des âges {quartier.dans}"))
    w = (methods or {}).get("weighting")
    if w is not None and len(w):
        w = w if isinstance(w, pd.DataFrame) else pd.DataFrame(w)
        sel = w[w["quartier"] == quartier.libelle]
        if len(sel):
            n = int(sel["n"].iloc[0])
            out["respondents"] = fmt.number(n)
            out["respondent_share"] = fmt.percent(n / pop, 1) if pop else ""
    idx = TableIndex(table)
    for iid, words in CONTEXT_INDICATORS.items():
        r = idx.get(iid, quartier.libelle)
        if r is None or _flag(r.get("suppressed")) or _na(r.get("estimate")):
            continue
        unit = r.get("unit") or ""
        out["indicators"].append({"words": words, "value": format_value(r["estimate"], unit),
                                  "ci": format_interval(r.get("ci_low"), r.get("ci_high"), unit)})
    return out
