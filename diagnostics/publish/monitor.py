"""The fieldwork page of ``dls suivi``: one HTML page of counts, from :func:`diagnostics.engine.fieldwork.monitor`.

The channel and association counts are printed through the one rule of printed counts
(:func:`diagnostics.protect.cells.publish_counts`): a channel under the threshold is « s », and
so is the cell that would give it back from the total of the answers.
"""
from __future__ import annotations

import html
import math
from pathlib import Path
from typing import TYPE_CHECKING

from .. import fmt, paths
from ..collect.review import summary_line as review_summary
from ..io.files import atomic_path
from ..protect.cells import SECRET_MARK, publish_counts

if TYPE_CHECKING:
    import pandas as pd

    from ..engine.fieldwork import MonitorResult

__all__ = ["render_monitor", "summary_text", "write_monitor_page"]


def _ok(x) -> bool:
    """True for a number that is neither missing nor NaN."""
    return x is not None and not (isinstance(x, float) and math.isnan(x))


def _date(d) -> str:
    if d is None or (isinstance(d, float) and math.isnan(d)):
        return "–"
    if isinstance(d, str):
        return d
    return d.strftime("%d/%m/%Y")


def _points(h) -> str:
    return "–" if not _ok(h) else f"± {fmt.number(100 * h, 1)} points"


def summary_text(res: MonitorResult) -> str:
    """The short terminal summary (French)."""
    other = res.n_rejected - res.n_duplicates - res.review["rejected"]
    lines = [(f"Suivi de la collecte au {_date(res.today)} : {fmt.number(res.n_accepted)} réponses retenues, "
             f"{fmt.number(res.n_duplicates)} doublon{'s' if res.n_duplicates > 1 else ''} écarté"
             f"{'s' if res.n_duplicates > 1 else ''}, {fmt.number(other)} autre"
             f"{'s' if other > 1 else ''} ligne{'s' if other > 1 else ''} rejetée{'s' if other > 1 else ''}.")]
    if review_summary(res.review):
        lines.append("  " + review_summary(res.review))
    for p, r in zip(res.pace.itertuples(), res.precision.itertuples()):
        cible = "" if p.cible is None or p.cible != p.cible else f"/{fmt.number(p.cible)}"
        quand = "" if p.date_prevue is None else f", cible {'atteinte' if p.date_prevue == 'atteinte' else 'vers le ' + _date(p.date_prevue)}"
        lines.append(f"  {p.quartier} : {fmt.number(p.n)}{cible} réponses, {fmt.number(p.rythme, 1)} par semaine"
                     f"{quand} ; précision {_points(r.demi_largeur)}"
                     + ("" if r.restant is None else f", encore {fmt.number(r.restant)} pour la précision demandée"))
    if len(res.under):
        top = res.under.head(3)
        lines.append("  Groupes sous-représentés : " + " ; ".join(
            f"{u.quartier} {u.sexe.lower()}s {u.groupe_age} ans ({fmt.number(u.n)} pour {fmt.number(u.attendu, 1)} attendus)"
            for u in top.itertuples()))
    return "\n".join(lines)


def _table(head, rows, num=()) -> str:
    e = html.escape
    out = ["<div class='t'><table><thead><tr>"]
    out += [f"<th{' class=nombre' if i in num else ''}>{e(h)}</th>" for i, h in enumerate(head)]
    out.append("</tr></thead><tbody>")
    for r in rows:
        cls = r[-1] if isinstance(r, tuple) and len(r) == len(head) + 1 else ""
        cells = r[:len(head)]
        out.append(f"<tr{f' class={e(cls)}' if cls else ''}>" + "".join(
            f"<td{' class=nombre' if i in num else ''}>{e(str(c))}</td>" for i, c in enumerate(cells)) + "</tr>")
    out.append("</tbody></table></div>")
    return "".join(out)


#: Weeks per table of the weekly returns: quartiers as rows, a new table every ``WEEKS_PER_TABLE`` weeks.
WEEKS_PER_TABLE = 8


def _weekly_tables(weekly: "pd.DataFrame") -> list[str]:
    """The weekly returns with the quartiers as rows and the weeks as columns, cut every
    :data:`WEEKS_PER_TABLE` weeks, so that no table grows wider with the quartiers or the weeks;
    a « Total » row and a « Cumul » row (all quartiers) under each table, a « Total » column
    (all weeks) in the last one."""
    if not len(weekly):
        return [_table(["Quartier", "Total"], [])]
    totals, cumul = weekly.sum(axis=1), weekly.sum(axis=1).cumsum()
    out = []
    for k in range(0, len(weekly), WEEKS_PER_TABLE):
        part = weekly.iloc[k:k + WEEKS_PER_TABLE]
        last = k + WEEKS_PER_TABLE >= len(weekly)
        head = ["Quartier"] + [f"Semaine du {_date(wk)}" for wk in part.index] + (["Total"] if last else [])
        rows = [tuple([q] + [fmt.number(int(v)) for v in part[q]] + ([fmt.number(int(weekly[q].sum()))] if last else []))
                for q in weekly.columns]
        rows.append(tuple(["Total"] + [fmt.number(int(v)) for v in totals.iloc[k:k + WEEKS_PER_TABLE]]
                          + ([fmt.number(int(totals.sum()))] if last else [])) + ("total",))
        rows.append(tuple(["Cumul"] + [fmt.number(int(v)) for v in cumul.iloc[k:k + WEEKS_PER_TABLE]]
                          + ([""] if last else [])))
        out.append(_table(head, rows, num=set(range(1, len(head)))))
    return out


_CSS = """
main { max-width: 980px; }
div.t { overflow-x: auto; }
.chiffres .chiffre { min-width: 130px; }
tr.alerte td { background: #fde2e2; }
tr.total td { font-weight: bold; border-top: 2px solid #003b5c; }
.barre { display: inline-block; height: .7em; background: var(--bleu, #0072b2); vertical-align: middle; }
td.barre-cell { min-width: 90px; }
@media (max-width: 600px) { main { padding: 12px 10px 32px; } h1 { font-size: 1.5rem; }
  table { font-size: .8rem; } th, td { padding: 3px 4px; } }
"""


def _n(x) -> str:
    return fmt.number(x) if _ok(x) else "–"


def _section_quartiers(res: MonitorResult) -> list[str]:
    """Progress, pace, projection and precision per quartier."""
    rows = []
    hstar = res.half_width_target
    for p, r in zip(res.pace.itertuples(), res.precision.itertuples()):
        late = (p.restant or 0) > 0 and (p.date_prevue is None)
        rows.append((p.quartier, _n(p.n), _n(p.cible), fmt.number(p.rythme, 1),
                     "atteinte" if p.date_prevue == "atteinte" else _date(p.date_prevue),
                     fmt.number(r.deff, 2) if r.deff == r.deff else "–", _points(r.demi_largeur),
                     _n(r.restant), "alerte" if late else ""))
    return ["<h2>Par quartier : avancement, rythme, précision</h2>",
            _table(["Quartier", "Réponses", "Cible", "Par semaine", "Cible atteinte le", "Effet du plan",
                    "Précision (IC 95 %)",
                    "Encore nécessaires" + (f" pour ± {fmt.number(100 * hstar, 0)} pts" if hstar else "")],
                   rows, num={1, 2, 3, 5, 7}),
            "<p class='lecture'>Rythme : réponses par semaine sur les trois dernières semaines. Précision : "
            "demi-largeur de l'intervalle de confiance à 95 % d'une proportion de 50 %, avec l'effet "
            "du plan (Kish) des poids provisoires calés sur l'âge et le sexe. En rouge : plus aucune "
            "réponse ces trois dernières semaines, la cible n'a pas de date prévisible.</p>"]


def _section_weekly(res: MonitorResult) -> list[str]:
    """Returns per week: quartiers as rows, weeks as columns (:func:`_weekly_tables`)."""
    parts = ["<h2>Retours par semaine</h2>", *_weekly_tables(res.weekly)]
    if res.n_undated:
        parts.append(f"<p>{html.escape(fmt.number(res.n_undated))} réponse(s) sans date de réponse, comptées dans "
                     "les totaux par quartier mais pas dans ce tableau.</p>")
    return parts


def _section_under(res: MonitorResult) -> list[str]:
    """The under-represented age × sex groups, the latest first."""
    parts = ["<h2>Groupes sous-représentés aujourd'hui</h2>"]
    if not len(res.under):
        return parts + ["<p>Aucun groupe sous 80 % de sa part attendue.</p>"]
    nb, hy = "\u00a0", "\u2011"      # no-break space and hyphen: « Hommes 60‑74 ans » on one line
    urows = [(u.quartier, f"{u.sexe}s{nb}{u.groupe_age.replace('-', hy)}{nb}ans", fmt.number(u.n),
              fmt.number(u.attendu, 1), fmt.percent(u.ratio, 0), _n(u.manquants)) for u in res.under.itertuples()]
    return parts + [_table(["Quartier", "Groupe", "Réponses", "Attendues", "Atteint", "Manquent (cible)"], urows,
                           num={2, 3, 4, 5}),
                    "<p class='lecture'>Attendues : part du groupe dans la population du quartier "
                    "(recensement) × répondants du quartier à ce jour ; un groupe est signalé sous 80 %, "
                    "du plus en retard au moins en retard. Manquent (cible) : réponses encore à obtenir "
                    "dans ce groupe pour la cible du quartier.</p>"]


def _section_channels(res: MonitorResult) -> list[str]:
    """Channels and partner associations, through the one rule of printed counts."""
    shown, _ = publish_counts(res.channels, ["n"], "canal", res.threshold)
    crows = [(c.canal, c.n if c.n == SECRET_MARK else fmt.number(c.n), _n(c.distribues),
              "–" if c.n == SECRET_MARK or c.taux is None or c.taux != c.taux else fmt.percent(c.taux, 1))
             for c in shown.itertuples()]
    parts = ["<h2>Canaux de recueil</h2>",
             _table(["Canal", "Réponses", "Questionnaires remis", "Taux de retour"], crows, num={1, 2, 3})]
    if any(r[1] == SECRET_MARK for r in crows):
        parts.append(f"<p class='lecture'>« {SECRET_MARK} » : effectif masqué (secret statistique) ; un canal de moins "
                     f"de {res.threshold} réponses, et un autre pour qu'il ne se retrouve pas par différence avec le "
                     "total des réponses.</p>")
    if res.associations is not None:
        parts += ["<h2>Associations partenaires</h2>",
                  _table(["Association", "Réponses"], [(a.association, a.n if a.n == SECRET_MARK else fmt.number(a.n))
                                                      for a in res.associations.itertuples()], num={1}),
                  f"<p class='lecture'>Les associations de moins de {res.threshold} réponses sont regroupées ; "
                  f"« {SECRET_MARK} » : effectif masqué (secret statistique), pour qu'aucun effectif inférieur à "
                  f"{res.threshold} ne puisse être retrouvé à partir du total des réponses.</p>"]
    return parts


def _section_quotas_files(res: MonitorResult) -> list[str]:
    """The full quota table and the files read."""
    under = set(res.under.index)   # the cells the computation flags (its rows of the quota table)
    qrows = [(q.quartier, q.groupe_age, q.sexe, fmt.number(q.n), fmt.number(q.attendu, 1),
              fmt.number(q.cible, 0) if q.cible == q.cible else "–", "alerte" if q.Index in under else "")
             for q in res.quotas.itertuples()]
    return ["<h2>Quotas par âge et sexe</h2>",
            _table(["Quartier", "Âge", "Sexe", "Réponses", "Attendues", "Cible"], qrows, num={3, 4, 5}),
            "<h2>Fichiers lus</h2>",
            _table(["Fichier", "Lignes", "Retenues", "Doublons", "Rejetées à la revue", "Autres rejets"],
                   [(f.fichier, fmt.number(f.lignes), fmt.number(f.acceptees), fmt.number(f.doublons),
                     fmt.number(f.rejetees_revue), fmt.number(f.rejetees_autres))
                    for f in res.files.itertuples()], num={1, 2, 3, 4, 5})]


def render_monitor(res: MonitorResult) -> str:
    """The one-page HTML of the follow-up (house report CSS, counts only, no script)."""
    e = html.escape
    css = (paths.template_dir() / "report.css").read_text(encoding="utf-8") + _CSS
    parts = ["<!DOCTYPE html><html lang='fr'><head><meta charset='utf-8'>",
             "<meta name='viewport' content='width=device-width, initial-scale=1'>",
             f"<title>Suivi de la collecte — {e(_date(res.today))}</title><style>{css}</style></head><body><main>",
             f"<p class='meta'>{e(res.project_title)}</p>",
             f"<h1>Suivi de la collecte au {e(_date(res.today))}</h1>",
             "<div class='chiffres'>"]
    review = ([("rejetées à la revue (écartées)", res.review["rejected"]),
               ("« à problème » à la revue (gardées)", res.review["has_issues"])]
              if res.review["rejected"] or res.review["has_issues"] else [])
    for label, v in (("réponses retenues", res.n_accepted), ("doublons écartés", res.n_duplicates),
                     ("autres lignes rejetées", res.n_rejected - res.n_duplicates - res.review["rejected"]),
                     *review, ("sans date", res.n_undated)):
        parts.append(f"<div class='chiffre'><strong>{e(fmt.number(v))}</strong>{e(label)}</div>")
    parts.append("</div>")
    parts += _section_quartiers(res) + _section_weekly(res) + _section_under(res) + _section_channels(res)
    parts += _section_quotas_files(res)
    parts += [f"<p>{e(n)}</p>" for n in res.notes]
    parts.append("<p class='meta'>Page de suivi interne : effectifs de retours seulement, aucune réponse au "
                 "questionnaire. Produite par « dls suivi ».</p></main></body></html>")
    return "\n".join(parts)


def write_monitor_page(res: MonitorResult, path) -> Path:
    """Write :func:`render_monitor` to ``path`` atomically; returns the path."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(render_monitor(res), encoding="utf-8")
    return path
