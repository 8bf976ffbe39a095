"""Follow the collection while it runs (``dls suivi``): returns, channels, quotas, precision.

From the answer files received so far (KoboToolbox / ODK exports, the entry workbook of the
paper forms; several files are validated together, so that an identifier seen in two deliveries
is flagged as a duplicate and counted once), :func:`monitor` computes

- the returns per quartier and per week (ISO weeks, Monday first), the pace of the last weeks
  and the date at which the target ``n`` of each quartier would be reached at that pace;
- the returns per channel (``canal``) and, when the files carry an ``association`` column, per
  partner association; the return rate of each channel from the questionnaires handed out
  (``suivi: distribues:`` of ``projet.yaml``);
- achieved versus target respondents per quartier × age band × sex, the targets being the
  quartier's target ``n`` shared as the census margins; the groups under-represented now;
- the precision reached per quartier (half-width of the confidence interval of a 50 %
  proportion with the design effect of the current weights) and the answers still needed
  for the precision asked by the committee (``suivi: demi_largeur_cible:``).

The page holds counts only (no answer to any question), and channels or associations with
fewer answers than the publication threshold are grouped into « Autres ».
"""
from __future__ import annotations

import datetime as dt
import html
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats as sps

from .. import fmt, paths
from ..collect.extracts import parse_age_band
from ..collect.validation import validate
from ..config.project import Project
from ..config.questionnaire import load_questionnaire
from ..errors import DLSError, EstimationError
from ..io.files import atomic_path
from ..stats.weighting import rake, weight_diagnostics

#: A group is « under-represented » when it holds less than this share of the respondents the
#: census margins expect at the quartier's current number of respondents.
UNDER_RATIO = 0.8
#: Weeks over which the pace (answers per week) is averaged.
PACE_WEEKS = 3
OTHER_QUARTIER = "Autre / non renseigné"
OTHERS = "Autres (regroupés)"


@dataclass
class MonitorResult:
    """What the page shows (see :func:`monitor`); every table is plain counts."""

    today: dt.date
    files: pd.DataFrame           # fichier, lignes, acceptees, rejetees, doublons
    weekly: pd.DataFrame          # index semaine (Monday), columns quartiers (+ other), counts
    pace: pd.DataFrame            # quartier, n, cible, rythme, restant, date_prevue
    channels: pd.DataFrame        # canal, n, distribues, taux
    associations: pd.DataFrame | None
    quotas: pd.DataFrame          # quartier, groupe_age, sexe, population, cible, attendu, n, ratio, manquants
    under: pd.DataFrame           # quotas rows with ratio < UNDER_RATIO, ranked
    precision: pd.DataFrame       # quartier, n, deff, n_eff, demi_largeur, n_requis, restant
    n_accepted: int
    n_duplicates: int
    n_rejected: int
    n_undated: int
    threshold: int
    half_width_target: float | None
    project_title: str = ""
    notes: list[str] = field(default_factory=list)


def _age_groups(margins: pd.DataFrame, age: pd.Series) -> pd.Series:
    out = pd.Series(np.nan, index=age.index, dtype=object)
    for lab in pd.unique(margins["groupe_age"].astype(str)):
        lo, hi = parse_age_band(lab)
        out[(age >= lo) & (age <= hi)] = lab
    return out


def _read_margins(path: Path, project: Project) -> pd.DataFrame:
    m = pd.read_csv(path, sep=";", comment="#", encoding="utf-8-sig")
    m.columns = [str(c).strip().lower() for c in m.columns]
    need = ["quartier", "groupe_age", "sexe", "effectif"]
    for c in need:
        if c not in m.columns:
            raise DLSError(f"« {path.name} » : la colonne « {c} » manque ; attendu {';'.join(need)}.",
                           file=path.name, column=c)
    m["effectif"] = pd.to_numeric(m["effectif"], errors="coerce")
    bad = m["effectif"].isna() | (m["effectif"] < 0)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise DLSError(f"« {path.name} », ligne {i + 2}, colonne « effectif » : un nombre positif est attendu.",
                       file=path.name, row=i + 2, column="effectif")
    libs = {q.libelle.casefold(): q.libelle for q in project.quartiers}
    libs.update({q.id: q.libelle for q in project.quartiers})
    m["quartier"] = m["quartier"].astype(str).str.strip().map(lambda v: libs.get(v.casefold(), libs.get(v, v)))
    m["sexe"] = m["sexe"].astype(str).str.strip().str.capitalize()
    m["groupe_age"] = m["groupe_age"].astype(str).str.strip()
    return m[m["quartier"].isin(project.libelles)]


def _group_small(counts: pd.Series, threshold: int) -> pd.Series:
    """Categories under ``threshold`` answers merged into « Autres (regroupés) » (counts only)."""
    small = (counts > 0) & (counts < threshold)
    if small.sum() <= 1 and not small.any():
        return counts
    out = counts[~small].copy()
    if small.any():
        out[OTHERS] = int(counts[small].sum())
    return out


def _weights_deff(frame: pd.DataFrame, margins: pd.DataFrame) -> tuple[float, list[str]]:
    """Kish design effect of the raking weights of one quartier (age band, sex margins).

    Margin categories without any respondent yet are left out (their weight cannot be borne by
    anyone): the weights then represent the population of the groups reached so far.
    """
    notes = []
    age = margins.groupby("groupe_age")["effectif"].sum()
    sex = margins.groupby("sexe")["effectif"].sum()
    present_age = age[age.index.isin(frame["groupe_age"].unique()) & (age > 0)]
    present_sex = sex[sex.index.isin(frame["sexe"].unique()) & (sex > 0)]
    missing = sorted(set(age.index[age > 0]) - set(present_age.index)) + sorted(set(sex.index[sex > 0]) - set(present_sex.index))
    if missing:
        notes.append(", ".join(missing))
    f = frame[frame["groupe_age"].isin(present_age.index) & frame["sexe"].isin(present_sex.index)]
    if len(f) < 2:
        return float("nan"), notes
    present_sex = present_sex * present_age.sum() / present_sex.sum()
    try:
        res = rake(f, {"groupe_age": present_age, "sexe": present_sex})
    except EstimationError:
        return float("nan"), notes
    return float(weight_diagnostics(res.weights)["kish_deff"]), notes


def _association_column(val, files) -> pd.Series | None:
    """The optional ``association`` column of the answer files, aligned on the accepted rows."""
    pieces = {}
    for f in files:
        p = Path(f)
        if p.suffix.lower() not in (".csv", ".xlsx"):
            continue
        try:
            t = (pd.read_csv(p, sep=None, engine="python", dtype=str, encoding="utf-8-sig")
                 if p.suffix.lower() == ".csv" else pd.read_excel(p, dtype=str))
        except (OSError, ValueError, UnicodeDecodeError, pd.errors.ParserError):
            continue
        col = next((c for c in t.columns if str(c).split("/")[-1].strip().casefold() == "association"), None)
        if col is not None:
            pieces[p.name] = t[col]
    if not pieces:
        return None
    src = val.sources
    out = pd.Series(np.nan, index=src.index, dtype=object)
    for name, col in pieces.items():
        sel = src["fichier"] == name
        out[sel] = col.reindex(src.loc[sel, "ligne"].to_numpy() - 2).to_numpy()
    return out.fillna("Non renseignée").astype(str).str.strip().replace("", "Non renseignée")


def monitor(files, project: Project, *, today: str | dt.date | None = None, secret: str | None = None,
            questionnaire=None) -> MonitorResult:
    """Compute the collection follow-up from the answer files received so far.

    Parameters
    ----------
    files : path-like or list of path-like
        Answer files (CSV, Excel entry workbook, Kobo / ODK export); validated together, an
        identifier already seen (in the same or an earlier file) is a duplicate, counted once.
    project : Project
        Quartiers, margins (``donnees: marges:``), threshold and the ``suivi:`` targets.
    today : date or str, optional
        Date of the follow-up (default: the latest answer date); pace and projections use it.

    Returns
    -------
    MonitorResult

    Notes
    -----
    Targets per cell: :math:`c_{qas} = n_q \\, N_{qas} / N_q` (census count :math:`N_{qas}` of the
    quartier × age band × sex cell); « expected now » :math:`e_{qas} = m_q N_{qas} / N_q` with
    :math:`m_q` the respondents of the quartier with a known age band and sex; a cell is
    under-represented when :math:`r = \\text{achieved} / e_{qas} < 0.8`, ranked by :math:`r`.

    Precision: raking weights of the quartier on its age-band and sex margins
    (:func:`diagnostics.stats.weighting.rake`), Kish design effect
    :math:`d = m \\sum w_i^2 / (\\sum w_i)^2`; half-width of the CI of a 50 % proportion
    :math:`h = z_{1-\\alpha/2} \\sqrt{d \\cdot 0.25 / n}` (no finite-population correction:
    conservative); answers needed for the half-width :math:`h^*`:
    :math:`n^* = \\lceil d\\, z^2\\, 0.25 / h^{*2} \\rceil`.

    Pace: answers per week averaged over the last three weeks up to ``today``; projected date
    :math:`\\text{today} + 7\\,(n_q^{cible} - n_q)/\\text{rythme}` days.

    References
    ----------
    Kish L. (1965) *Survey Sampling*, Wiley, §11.7 (design effect of weighting);
    Lumley T. (2010) *Complex Surveys*, Wiley, ch. 7 (raking).
    """
    files = [Path(f) for f in (files if isinstance(files, (list, tuple)) else [files])]
    qn = questionnaire or load_questionnaire(project.donnees.get("questionnaire"))
    val = validate(files, qn, secret=secret or "dls-suivi")
    codes = val.codes
    thr = int(project.secret_statistique)
    rej = val.rejected
    dup_mask = rej["motif"].astype(str).str.contains("en double") if len(rej) else pd.Series([], dtype=bool)
    per_file = []
    for f in files:
        n_acc = int((val.sources["fichier"] == f.name).sum())
        r = rej[rej["fichier"] == f.name] if len(rej) else rej
        n_dup = int(dup_mask[r.index].sum()) if len(r) else 0
        per_file.append({"fichier": f.name, "lignes": n_acc + len(r), "acceptees": n_acc, "doublons": n_dup,
                             "rejetees_autres": len(r) - n_dup})
    files_t = pd.DataFrame(per_file)

    by_code = {q.code: q.libelle for q in project.quartiers if q.code is not None}
    quartier = pd.to_numeric(codes.get("quartier"), errors="coerce").map(by_code).fillna(OTHER_QUARTIER)
    dates = pd.to_datetime(codes.get("date_reponse"), errors="coerce")
    if today is None:
        today = dates.max().date() if dates.notna().any() else dt.date.today()
    elif isinstance(today, str):
        try:
            today = dt.date.fromisoformat(today)
        except ValueError:
            raise DLSError(f"Date « {today} » : attendu une date AAAA-MM-JJ.", value=today) from None
    week = (dates - pd.to_timedelta(dates.dt.weekday, unit="D")).dt.date
    cols = project.libelles + ([OTHER_QUARTIER] if (quartier == OTHER_QUARTIER).any() else [])
    weekly = (pd.crosstab(week, quartier).reindex(columns=cols, fill_value=0)
              if dates.notna().any() else pd.DataFrame(columns=cols))
    debut = project.suivi.get("debut") if project.suivi else None
    if len(weekly):
        start = min(weekly.index)
        if debut is not None:   # the weeks since the collection began, even the empty ones
            start = min(start, debut - dt.timedelta(days=debut.weekday()))
        allweeks = [start + dt.timedelta(days=7 * k) for k in range((max(weekly.index) - start).days // 7 + 1)]
        weekly = weekly.reindex(allweeks, fill_value=0)
    weekly.index.name = "semaine"

    # -- pace and projected date ---------------------------------------------------------
    targets = project.suivi.get("n_cible", {}) if project.suivi else {}
    last_monday = today - dt.timedelta(days=today.weekday())
    window_start = last_monday - dt.timedelta(days=7 * (PACE_WEEKS - 1))
    if debut is not None and debut > window_start:
        window_start = min(debut, today)
    in_window = (dates.dt.date >= window_start) & (dates.dt.date <= today)
    days = (today - window_start).days + 1
    pace_rows = []
    for q in project.libelles:
        n = int((quartier == q).sum())
        rythme = float((in_window & (quartier == q)).sum()) * 7 / days
        cible = targets.get(q)
        restant = None if cible is None else max(0, cible - n)
        when = None
        if restant == 0:
            when = "atteinte"
        elif restant is not None and rythme > 0:
            when = today + dt.timedelta(days=math.ceil(7 * restant / rythme))
        pace_rows.append({"quartier": q, "n": n, "cible": cible, "rythme": rythme, "restant": restant, "date_prevue": when})
    pace = pd.DataFrame(pace_rows)

    # -- channels and associations -------------------------------------------------------
    labels = {c.code: c.label for c in qn.choice_lists["canal"]} if "canal" in getattr(qn, "choice_lists", {}) else {}
    canal = pd.to_numeric(codes.get("canal"), errors="coerce")
    dist = project.suivi.get("distribues", {}) if project.suivi else {}
    ch = []
    for code in sorted(set(labels) | set(dist) | set(canal.dropna().astype(int))):
        n = int((canal == code).sum())
        d = dist.get(code)
        ch.append({"code": code, "canal": labels.get(code, f"Canal {code}"), "n": n, "distribues": d,
                       "taux": (n / d) if d else None})
    n_nocanal = int(canal.isna().sum())
    if n_nocanal:
        ch.append({"code": None, "canal": "Non renseigné", "n": n_nocanal, "distribues": None, "taux": None})
    channels = pd.DataFrame(ch)
    small = (channels["n"] > 0) & (channels["n"] < thr)
    if small.sum() > 1 or (small.any() and (channels["n"][~small] == 0).all()):
        d = channels.loc[small, "distribues"].dropna()
        grouped = {"code": None, "canal": OTHERS + " : " + ", ".join(channels.loc[small, "canal"]),
                       "n": int(channels.loc[small, "n"].sum()), "distribues": int(d.sum()) if len(d) else None, "taux": None}
        if grouped["distribues"]:
            grouped["taux"] = grouped["n"] / grouped["distribues"]
        channels = pd.concat([channels[~small], pd.DataFrame([grouped])], ignore_index=True)
    assoc = _association_column(val, files)
    associations = None
    if assoc is not None:
        counts = assoc.value_counts().sort_values(ascending=False)
        associations = _group_small(counts, thr).rename("n").rename_axis("association").reset_index()

    # -- quotas -------------------------------------------------------------------------
    notes = []
    mpath = project.donnees.get("marges")
    margins = _read_margins(Path(mpath), project)
    age = pd.to_numeric(codes.get("age"), errors="coerce")
    grp = _age_groups(margins, age)
    sexe = pd.to_numeric(codes.get("sexe"), errors="coerce").map({1: "Femme", 2: "Homme"})
    known = grp.notna() & sexe.notna() & quartier.isin(project.libelles)
    frame = pd.DataFrame({"quartier": quartier, "groupe_age": grp, "sexe": sexe})[known]
    achieved = frame.groupby(["quartier", "groupe_age", "sexe"]).size()
    m = margins.groupby(["quartier", "groupe_age", "sexe"], sort=False)["effectif"].sum().reset_index()
    m = m.rename(columns={"effectif": "population"})
    tot = m.groupby("quartier")["population"].transform("sum")
    share = m["population"] / tot
    m_q = frame.groupby("quartier").size()
    m["cible"] = [targets.get(q, np.nan) for q in m["quartier"]] * share
    m["attendu"] = m["quartier"].map(m_q).fillna(0).to_numpy() * share
    m["n"] = [int(achieved.get((q, a, s), 0)) for q, a, s in zip(m["quartier"], m["groupe_age"], m["sexe"])]
    m["ratio"] = np.where(m["attendu"] > 0, m["n"] / m["attendu"].where(m["attendu"] > 0), np.nan)
    m["manquants"] = np.ceil(m["cible"] - m["n"]).clip(lower=0)
    quotas = m
    under = m[m["ratio"] < UNDER_RATIO].sort_values(["ratio", "attendu"], ascending=[True, False]).reset_index(drop=True)
    n_unknown = int((quartier.isin(project.libelles) & ~known).sum())
    if n_unknown:
        notes.append(f"{fmt.number(n_unknown)} répondant{'s' if n_unknown > 1 else ''} des quartiers sans âge ou "
                     "sexe connu : hors du tableau des quotas et de la pondération.")

    # -- precision ----------------------------------------------------------------------
    conf = float(project.niveau_confiance)
    z = float(sps.norm.ppf(1 - (1 - conf) / 2))
    hstar = project.suivi.get("demi_largeur_cible") if project.suivi else None
    prec = []
    for q in project.libelles:
        fq = frame[frame["quartier"] == q]
        deff, miss = _weights_deff(fq, margins[margins["quartier"] == q])
        if miss:
            notes.append(f"{q} : aucun répondant encore dans {miss[0]} ; la pondération provisoire "
                         "ne couvre que les groupes atteints.")
        n = len(fq)
        h = z * math.sqrt(deff * 0.25 / n) if n and not math.isnan(deff) else float("nan")
        need = math.ceil(deff * z * z * 0.25 / hstar ** 2) if hstar and not math.isnan(deff) else None
        prec.append({"quartier": q, "n": n, "deff": deff, "n_eff": (n / deff) if n and _ok(deff) else float("nan"),
                         "demi_largeur": h, "n_requis": need, "restant": None if need is None else max(0, need - n)})
    precision = pd.DataFrame(prec)
    return MonitorResult(today=today, files=files_t, weekly=weekly, pace=pace, channels=channels,
                         associations=associations, quotas=quotas, under=under, precision=precision,
                         n_accepted=val.n_accepted, n_duplicates=int(dup_mask.sum()) if len(rej) else 0,
                         n_rejected=val.n_rejected, n_undated=int(dates.isna().sum()), threshold=thr,
                         half_width_target=hstar, project_title=project.titre, notes=notes)


# ---------------------------------------------------------------------------------- output

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
    lines = [(f"Suivi de la collecte au {_date(res.today)} : {fmt.number(res.n_accepted)} réponses retenues, "
             f"{fmt.number(res.n_duplicates)} doublon{'s' if res.n_duplicates > 1 else ''} écarté"
             f"{'s' if res.n_duplicates > 1 else ''}, {fmt.number(res.n_rejected - res.n_duplicates)} autre"
             f"{'s' if res.n_rejected - res.n_duplicates > 1 else ''} ligne{'s' if res.n_rejected - res.n_duplicates > 1 else ''} rejetée"
             f"{'s' if res.n_rejected - res.n_duplicates > 1 else ''}.")]
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


def _weekly_tables(weekly: pd.DataFrame) -> list[str]:
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


def render_monitor(res: MonitorResult) -> str:
    """The one-page HTML of the follow-up (house report CSS, counts only, no script)."""
    e = html.escape
    css = (paths.template_dir() / "report.css").read_text(encoding="utf-8") + _CSS
    n_num = lambda x: fmt.number(x) if _ok(x) else "–"
    parts = ["<!DOCTYPE html><html lang='fr'><head><meta charset='utf-8'>",
             "<meta name='viewport' content='width=device-width, initial-scale=1'>",
             f"<title>Suivi de la collecte — {e(_date(res.today))}</title><style>{css}</style></head><body><main>",
             f"<p class='meta'>{e(res.project_title)}</p>",
             f"<h1>Suivi de la collecte au {e(_date(res.today))}</h1>",
             "<div class='chiffres'>"]
    for label, v in (("réponses retenues", res.n_accepted), ("doublons écartés", res.n_duplicates),
                     ("autres lignes rejetées", res.n_rejected - res.n_duplicates), ("sans date", res.n_undated)):
        parts.append(f"<div class='chiffre'><strong>{e(fmt.number(v))}</strong>{e(label)}</div>")
    parts.append("</div>")

    # quartiers: progress, pace, projection, precision
    parts.append("<h2>Par quartier : avancement, rythme, précision</h2>")
    rows = []
    hstar = res.half_width_target
    for p, r in zip(res.pace.itertuples(), res.precision.itertuples()):
        late = (p.restant or 0) > 0 and (p.date_prevue is None)
        rows.append((p.quartier, n_num(p.n), n_num(p.cible), fmt.number(p.rythme, 1),
                     "atteinte" if p.date_prevue == "atteinte" else _date(p.date_prevue),
                     fmt.number(r.deff, 2) if r.deff == r.deff else "–", _points(r.demi_largeur),
                     n_num(r.restant), "alerte" if late else ""))
    parts.append(_table(["Quartier", "Réponses", "Cible", "Par semaine", "Cible atteinte le",
                         "Effet du plan", "Précision (IC 95 %)",
                         "Encore nécessaires" + (f" pour ± {fmt.number(100 * hstar, 0)} pts" if hstar else "")],
                        rows, num={1, 2, 3, 5, 7}))
    parts.append("<p class='lecture'>Rythme : réponses par semaine sur les trois dernières semaines. Précision : "
                 "demi-largeur de l'intervalle de confiance à 95 % d'une proportion de 50 %, avec l'effet "
                 "du plan (Kish) des poids provisoires calés sur l'âge et le sexe. En rouge : plus aucune "
                 "réponse ces trois dernières semaines, la cible n'a pas de date prévisible.</p>")

    # weekly returns
    parts.append("<h2>Retours par semaine</h2>")
    parts += _weekly_tables(res.weekly)
    if res.n_undated:
        parts.append(f"<p>{e(fmt.number(res.n_undated))} réponse(s) sans date de réponse, comptées dans les "
                     "totaux par quartier mais pas dans ce tableau.</p>")

    # under-represented groups
    parts.append("<h2>Groupes sous-représentés aujourd'hui</h2>")
    if len(res.under):
        nb, hy = "\u00a0", "\u2011"      # no-break space and hyphen: « Hommes 60‑74 ans » on one line
        urows = [(u.quartier, f"{u.sexe}s{nb}{u.groupe_age.replace('-', hy)}{nb}ans", fmt.number(u.n),
                  fmt.number(u.attendu, 1),
                  fmt.percent(u.ratio, 0), n_num(u.manquants)) for u in res.under.itertuples()]
        parts.append(_table(["Quartier", "Groupe", "Réponses", "Attendues", "Atteint",
                             "Manquent (cible)"], urows, num={2, 3, 4, 5}))
        parts.append("<p class='lecture'>Attendues : part du groupe dans la population du quartier "
                     "(recensement) × répondants du quartier à ce jour ; un groupe est signalé sous 80 %, "
                     "du plus en retard au moins en retard. Manquent (cible) : réponses encore à obtenir "
                     "dans ce groupe pour la cible du quartier.</p>")
    else:
        parts.append("<p>Aucun groupe sous 80 % de sa part attendue.</p>")

    # channels and associations
    parts.append("<h2>Canaux de recueil</h2>")
    small = lambda n: 0 < n < res.threshold
    crows = [(c.canal, f"< {res.threshold}" if small(c.n) else fmt.number(c.n), n_num(c.distribues),
              "–" if small(c.n) or c.taux is None or c.taux != c.taux else fmt.percent(c.taux, 1))
             for c in res.channels.itertuples()]
    parts.append(_table(["Canal", "Réponses", "Questionnaires remis", "Taux de retour"], crows, num={1, 2, 3}))
    if res.associations is not None:
        parts.append("<h2>Associations partenaires</h2>")
        parts.append(_table(["Association", "Réponses"],
                            [(a.association, fmt.number(a.n)) for a in res.associations.itertuples()], num={1}))
        parts.append(f"<p class='lecture'>Les associations de moins de {res.threshold} réponses sont regroupées.</p>")

    # full quota table
    parts.append("<h2>Quotas par âge et sexe</h2>")
    qrows = [(q.quartier, q.groupe_age, q.sexe, fmt.number(q.n), fmt.number(q.attendu, 1),
              fmt.number(q.cible, 0) if q.cible == q.cible else "–", "alerte" if q.ratio < UNDER_RATIO else "")
             for q in res.quotas.itertuples()]
    parts.append(_table(["Quartier", "Âge", "Sexe", "Réponses", "Attendues", "Cible"], qrows,
                        num={3, 4, 5}))

    parts.append("<h2>Fichiers lus</h2>")
    parts.append(_table(["Fichier", "Lignes", "Retenues", "Doublons", "Autres rejets"],
                        [(f.fichier, fmt.number(f.lignes), fmt.number(f.acceptees), fmt.number(f.doublons),
                          fmt.number(f.rejetees_autres)) for f in res.files.itertuples()], num={1, 2, 3, 4}))
    for n in res.notes:
        parts.append(f"<p>{e(n)}</p>")
    parts.append("<p class='meta'>Page de suivi interne : effectifs de retours seulement, aucune réponse au "
                 "questionnaire. Produite par « dls suivi ».</p></main></body></html>")
    return "\n".join(parts)


def write_monitor_page(res: MonitorResult, path) -> Path:
    """Write :func:`render_monitor` to ``path`` atomically; returns the path."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(render_monitor(res), encoding="utf-8")
    return path
