"""Activity of the IMPACT programme: referrals, consultations by type and month, people seen.

Input is the activity log read by :func:`diagnostics.impact.read_activity`: one row per
consultation (``date``, ``type``, ``id``); rows of type ``Adressage`` are new referrals and
are not consultations.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..errors import EstimationError
from ..fmt import number, percent
from ..results import add_deprecated_columns

__all__ = ["ActivitySummary", "activity_summary", "chart_consultations_by_type",
           "chart_consultations_by_month", "chart_change"]

REFERRAL = "Adressage"
MONTHS_FR = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
             "septembre", "octobre", "novembre", "décembre"]


@dataclass
class ActivitySummary:
    """Key activity figures of one period."""

    period: str
    new_referrals: int
    consultations: int
    people_seen: int
    by_type: pd.DataFrame        # type, consultations, people, share (personnes, part: deprecated)
    by_month: pd.DataFrame       # month (Period) × type counts, with "Total"
    per_person: pd.Series        # consultations per person seen (index: id)

    def table(self) -> pd.DataFrame:
        """French key-figures table (strings formatted with :mod:`diagnostics.fmt`)."""
        pp = self.per_person
        rows = [("Nouveaux adressages", number(self.new_referrals)),
                ("Consultations (tous types)", number(self.consultations)),
                ("Personnes vues en consultation", number(self.people_seen)),
                ("Consultations par personne vue : moyenne", number(pp.mean(), 1)),
                ("Consultations par personne vue : médiane [min ; max]",
                 f"{number(pp.median(), 1)} [{number(pp.min())} ; {number(pp.max())}]")]
        rows += [(f"  dont {r.type}", f"{number(r.consultations)} ({percent(r.share)}), "
                                      f"{number(r.people)} personnes")
                 for r in self.by_type.itertuples()]
        return pd.DataFrame(rows, columns=[f"Activité {self.period}", "Valeur"])


def activity_summary(log: pd.DataFrame, *, year: int | None = None,
                     start=None, end=None) -> ActivitySummary:
    """Summarise the activity log over a period.

    Parameters
    ----------
    log : DataFrame
        Columns ``date`` (datetime), ``type`` and ``id`` (``.data`` of
        :func:`~diagnostics.impact.read_activity`).
    year : int, optional
        Calendar year to keep; or give ``start``/``end`` (inclusive dates).

    Returns
    -------
    ActivitySummary
        New referrals (``Adressage`` rows), consultations (other rows), people seen (distinct
        ``id`` among consultations), counts by type (``by_type``: ``type, consultations,
        people, share``; the old French names ``personnes``, ``part`` are kept until version
        0.2) and by month (``by_month``, index ``month``), consultations per person.

    Notes
    -----
    Counts are plain tallies of the rows kept; nothing is estimated.
    """
    for col in ("date", "type", "id"):
        if col not in log.columns:
            raise EstimationError(f"colonne « {col} » absente du journal d'activité ; les "
                                  "colonnes date, type et id étaient attendues.", column=col)
    df = log.copy()
    df["date"] = pd.to_datetime(df["date"])
    if year is not None:
        df = df[df["date"].dt.year == int(year)]
        period = str(year)
    else:
        if start is not None:
            df = df[df["date"] >= pd.Timestamp(start)]
        if end is not None:
            df = df[df["date"] <= pd.Timestamp(end)]
        period = "" if start is None and end is None else \
            f"du {pd.Timestamp(start):%d/%m/%Y} au {pd.Timestamp(end):%d/%m/%Y}"
    ref = df[df["type"] == REFERRAL]
    cons = df[df["type"] != REFERRAL]
    by_type = (cons.groupby("type").agg(consultations=("id", "size"), people=("id", "nunique"))
               .sort_values("consultations", ascending=False).reset_index())
    by_type["share"] = by_type["consultations"] / max(len(cons), 1)
    by_type = add_deprecated_columns(by_type, {"personnes": "people", "part": "share"})
    by_month = (cons.assign(month=cons["date"].dt.to_period("M"))
                .pivot_table(index="month", columns="type", values="id", aggfunc="size",
                             fill_value=0))
    by_month = by_month.reindex(columns=list(by_type["type"]), fill_value=0)
    by_month["Total"] = by_month.sum(axis=1)
    per_person = cons.groupby("id").size().rename("consultations")
    return ActivitySummary(period, len(ref), len(cons), int(cons["id"].nunique()), by_type,
                           by_month, per_person)


# --------------------------------------------------------------------------- charts

def _month_label(p: pd.Period) -> str:
    return f"{MONTHS_FR[p.month - 1]} {p.year}"


def chart_consultations_by_type(summary: ActivitySummary):
    """Horizontal bar chart of consultations by type (plotly, French labels)."""
    import plotly.graph_objects as go

    t = summary.by_type.sort_values("consultations")
    fig = go.Figure(go.Bar(
        x=t["consultations"], y=t["type"], orientation="h",
        text=[f"{number(v)} ({percent(p, 0)})" for v, p in zip(t["consultations"], t["share"])],
        textposition="auto",
        hovertemplate="%{y} : %{x} consultations<extra></extra>"))
    fig.update_layout(title=f"Consultations IMPACT par type — {summary.period}",
                      xaxis_title="Nombre de consultations", yaxis_title="",
                      separators=", ", template="plotly_white")
    return fig


def chart_consultations_by_month(summary: ActivitySummary):
    """Stacked bar chart of consultations by month and type (plotly, French labels)."""
    import plotly.graph_objects as go

    m = summary.by_month.drop(columns="Total")
    labels = [_month_label(p) for p in m.index]
    fig = go.Figure([go.Bar(name=col, x=labels, y=m[col],
                            hovertemplate=f"{col} : %{{y}}<extra>%{{x}}</extra>")
                     for col in m.columns])
    fig.update_layout(barmode="stack", title=f"Consultations IMPACT par mois — {summary.period}",
                      xaxis_title="Mois", yaxis_title="Nombre de consultations",
                      legend_title="Type", separators=", ", template="plotly_white")
    return fig


def chart_change(result):
    """Bar chart of the shares decreased / stable / increased with their Wilson CIs."""
    import plotly.graph_objects as go

    s = result.shares.drop(index="decreased_or_stable")
    fig = go.Figure(go.Bar(
        x=s["label"], y=s["estimate"] * 100,
        error_y=dict(type="data", symmetric=False,
                     array=(s["ci_high"] - s["estimate"]) * 100,
                     arrayminus=(s["estimate"] - s["ci_low"]) * 100),
        text=[percent(v, 0) for v in s["estimate"]], textposition="outside",
        hovertemplate="%{x} : %{y:.1f} %<extra></extra>"))
    fig.update_layout(title=f"{result.label} : évolution entre avant et après le suivi "
                            f"(n = {result.n_pairs}, IC à {percent(result.conf_level, 0)})",
                      yaxis_title="Part des personnes (%)", xaxis_title="",
                      yaxis_range=[0, 100], separators=", ", template="plotly_white")
    return fig
