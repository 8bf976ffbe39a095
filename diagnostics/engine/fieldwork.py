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
  proportion with the design effect of the current weights, raked by the one raking of the
  toolkit, :func:`diagnostics.engine.wave.rake_wave`) and the answers still needed for the
  precision asked by the committee (``suivi: demi_largeur_cible:``).

The page holds counts only (no answer to any question); the channel and association tables go
through the one rule of printed counts (:func:`diagnostics.protect.cells.publish_counts`).
The page itself is written by :mod:`diagnostics.publish.monitor`.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .. import fmt
from ..collect.margins import read_margins
from ..collect.review import KIND_REJECTED
from ..collect.review import counts as review_counts
from ..collect.validation import validate
from ..config.project import Project
from ..config.questionnaire import load_questionnaire
from ..errors import DLSError, EstimationError
from ..protect.cells import OTHERS, group_small
from ..stats import distributions as dist
from ..stats.weighting import weight_diagnostics
from .wave import age_groups, margins_frame, rake_wave

__all__ = ["MonitorResult", "monitor", "UNDER_RATIO", "PACE_WEEKS", "OTHER_QUARTIER"]

#: A group is « under-represented » when it holds less than this share of the respondents the
#: census margins expect at the quartier's current number of respondents.
UNDER_RATIO = 0.8
#: Weeks over which the pace (answers per week) is averaged.
PACE_WEEKS = 3
OTHER_QUARTIER = "Autre / non renseigné"


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
    review: dict = field(default_factory=lambda: {"rejected": 0, "rejected_kept": 0, "has_issues": 0})


def _weights_deff(frame: pd.DataFrame, margins: pd.DataFrame) -> tuple[float, list[str]]:
    """Kish design effect of the raking weights of one quartier (:func:`rake_wave`).

    Margin categories without any respondent yet are left out (their weight cannot be borne by
    anyone): the weights then represent the population of the age groups reached so far, with
    the sex shares of the whole quartier.
    """
    age = margins.groupby("groupe_age")["effectif"].sum()
    sex = margins.groupby("sexe")["effectif"].sum()
    present_age = age[age.index.isin(frame["groupe_age"].unique()) & (age > 0)]
    present_sex = sex[sex.index.isin(frame["sexe"].unique()) & (sex > 0)]
    missing = sorted(set(age.index[age > 0]) - set(present_age.index)) + sorted(set(sex.index[sex > 0]) - set(present_sex.index))
    notes = [", ".join(missing)] if missing else []
    f = frame[frame["groupe_age"].isin(present_age.index) & frame["sexe"].isin(present_sex.index)]
    # margins: the age groups reached, and the sex shares of the whole quartier on their total,
    # given to the one raking as the cells N_a × S_s / N (whose margins are exactly those)
    total = present_age.sum()
    share = present_sex / present_sex.sum()
    m = pd.DataFrame([{"quartier": q, "groupe_age": a, "sexe": x, "effectif": na * share[x]}
                      for q in frame["quartier"].unique()[:1] for a, na in present_age.items() for x in share.index])
    if len(f) < 2 or not total:
        return float("nan"), notes
    try:
        res = rake_wave(f, m)
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
                 if p.suffix.lower() == ".csv" else pd.read_excel(p, dtype=str, engine="openpyxl"))
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


def _files_table(val, files) -> tuple[pd.DataFrame, pd.Series]:
    """Lines, accepted, duplicates, rejections at the review and other rejections per file; the duplicate mask of the rejections."""
    rej = val.rejected
    dup_mask = rej["motif"].astype(str).str.contains("en double") if len(rej) else pd.Series([], dtype=bool)
    per_file = []
    for f in files:
        n_acc = int((val.sources["fichier"] == f.name).sum())
        r = rej[rej["fichier"] == f.name] if len(rej) else rej
        n_dup = int(dup_mask[r.index].sum()) if len(r) else 0
        n_rev = int(((val.issues["type"] == KIND_REJECTED) & (val.issues["fichier"] == f.name)).sum()) \
            if len(val.issues) else 0
        per_file.append({"fichier": f.name, "lignes": n_acc + len(r), "acceptees": n_acc, "doublons": n_dup,
                         "rejetees_revue": n_rev, "rejetees_autres": len(r) - n_dup - n_rev})
    return pd.DataFrame(per_file), dup_mask


def _today(today, dates: pd.Series) -> dt.date:
    if today is None:
        return dates.max().date() if dates.notna().any() else dt.date.today()
    if isinstance(today, str):
        try:
            return dt.date.fromisoformat(today)
        except ValueError:
            raise DLSError(f"Date « {today} » : attendu une date AAAA-MM-JJ.", value=today) from None
    return today


def _weekly(dates: pd.Series, quartier: pd.Series, project: Project) -> pd.DataFrame:
    """Returns per week (Monday) and quartier, the empty weeks since ``suivi: debut`` included."""
    week = (dates - pd.to_timedelta(dates.dt.day_of_week, unit="D")).dt.date
    cols = project.libelles + ([OTHER_QUARTIER] if (quartier == OTHER_QUARTIER).any() else [])
    weekly = (pd.crosstab(week, quartier).reindex(columns=cols, fill_value=0)
              if dates.notna().any() else pd.DataFrame(columns=cols))
    debut = project.suivi.get("debut") if project.suivi else None
    if len(weekly):
        start = min(weekly.index)
        if debut is not None:
            start = min(start, debut - dt.timedelta(days=debut.weekday()))
        allweeks = [start + dt.timedelta(days=7 * k) for k in range((max(weekly.index) - start).days // 7 + 1)]
        weekly = weekly.reindex(allweeks, fill_value=0)
    weekly.index.name = "semaine"
    return weekly


def _pace(dates: pd.Series, quartier: pd.Series, project: Project, today: dt.date) -> pd.DataFrame:
    """Answers per week over the last :data:`PACE_WEEKS` weeks and the date the target is reached."""
    targets = project.suivi.get("n_cible", {}) if project.suivi else {}
    debut = project.suivi.get("debut") if project.suivi else None
    window_start = today - dt.timedelta(days=today.weekday()) - dt.timedelta(days=7 * (PACE_WEEKS - 1))
    if debut is not None and debut > window_start:
        window_start = min(debut, today)
    in_window = (dates.dt.date >= window_start) & (dates.dt.date <= today)
    days = (today - window_start).days + 1
    rows = []
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
        rows.append({"quartier": q, "n": n, "cible": cible, "rythme": rythme, "restant": restant, "date_prevue": when})
    return pd.DataFrame(rows)


def _channels(codes: pd.DataFrame, qn, project: Project) -> pd.DataFrame:
    """Answers and return rate per channel (every channel keeps its row)."""
    labels = {c.code: c.label for c in qn.choice_lists["canal"]} if "canal" in getattr(qn, "choice_lists", {}) else {}
    canal = pd.to_numeric(codes.get("canal"), errors="coerce")
    dist = project.suivi.get("distribues", {}) if project.suivi else {}
    ch = []
    for code in sorted(set(labels) | set(dist) | set(canal.dropna().astype(int))):
        n = int((canal == code).sum())
        d = dist.get(code)
        ch.append({"code": code, "canal": labels.get(code, f"Canal {code}"), "n": n, "distribues": d,
                   "taux": (n / d) if d else None})
    if canal.isna().any():
        ch.append({"code": None, "canal": "Non renseigné", "n": int(canal.isna().sum()), "distribues": None,
                   "taux": None})
    return pd.DataFrame(ch)


def _quotas(frame: pd.DataFrame, margins: pd.DataFrame, project: Project) -> pd.DataFrame:
    """Achieved, expected now and target respondents per quartier × age band × sex."""
    targets = project.suivi.get("n_cible", {}) if project.suivi else {}
    achieved = frame.groupby(["quartier", "groupe_age", "sexe"]).size()
    m = margins.groupby(["quartier", "groupe_age", "sexe"], sort=False)["effectif"].sum().reset_index()
    m = m.rename(columns={"effectif": "population"})
    share = m["population"] / m.groupby("quartier")["population"].transform("sum")
    m_q = frame.groupby("quartier").size()
    m["cible"] = [targets.get(q, np.nan) for q in m["quartier"]] * share
    m["attendu"] = m["quartier"].map(m_q).fillna(0).to_numpy() * share
    m["n"] = [int(achieved.get((q, a, s), 0)) for q, a, s in zip(m["quartier"], m["groupe_age"], m["sexe"])]
    m["ratio"] = np.where(m["attendu"] > 0, m["n"] / m["attendu"].where(m["attendu"] > 0), np.nan)
    m["manquants"] = np.ceil(m["cible"] - m["n"]).clip(lower=0)
    return m


def _precision(frame: pd.DataFrame, margins: pd.DataFrame, project: Project, notes: list[str]) -> pd.DataFrame:
    """Design effect, half-width of a 50 % proportion's interval and answers still needed."""
    z = float(dist.norm_ppf(1 - (1 - float(project.niveau_confiance)) / 2))
    hstar = project.suivi.get("demi_largeur_cible") if project.suivi else None
    prec = []
    for q in project.libelles:
        fq = frame[frame["quartier"] == q]
        deff, miss = _weights_deff(fq, margins[margins["quartier"] == q])
        if miss:
            notes.append(f"{q} : aucun répondant encore dans {miss[0]} ; la pondération provisoire "
                         "ne couvre que les groupes atteints.")
        n = len(fq)
        ok = not math.isnan(deff)
        h = z * math.sqrt(deff * 0.25 / n) if n and ok else float("nan")
        need = math.ceil(deff * z * z * 0.25 / hstar ** 2) if hstar and ok else None
        prec.append({"quartier": q, "n": n, "deff": deff, "n_eff": (n / deff) if n and ok else float("nan"),
                     "demi_largeur": h, "n_requis": need, "restant": None if need is None else max(0, need - n)})
    return pd.DataFrame(prec)


def monitor(files, project: Project, *, today: str | dt.date | None = None, secret: str | None = None,
            questionnaire=None, include_rejected: bool = False) -> MonitorResult:
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
    include_rejected : bool
        Count the submissions rejected at the review on the collection server (default: set
        apart and counted, :mod:`diagnostics.collect.review`).

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
    (:func:`diagnostics.engine.wave.rake_wave`), Kish design effect
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
    val = validate(files, qn, secret=secret or "dls-suivi", include_rejected=include_rejected)
    codes = val.codes
    files_t, dup_mask = _files_table(val, files)
    by_code = {q.code: q.libelle for q in project.quartiers if q.code is not None}
    quartier = pd.to_numeric(codes.get("quartier"), errors="coerce").map(by_code).fillna(OTHER_QUARTIER)
    dates = pd.to_datetime(codes.get("date_reponse"), errors="coerce")
    today = _today(today, dates)
    assoc = _association_column(val, files)
    margins = margins_frame(read_margins(Path(project.donnees.get("marges"))), project)
    age = pd.to_numeric(codes.get("age"), errors="coerce")
    sexe = pd.to_numeric(codes.get("sexe"), errors="coerce").map({1: "Femme", 2: "Homme"})
    frame = pd.DataFrame({"quartier": quartier, "groupe_age": age_groups(margins, age), "sexe": sexe})
    known = frame["groupe_age"].notna() & frame["sexe"].notna() & quartier.isin(project.libelles)
    frame = frame[known]
    notes = []
    n_unknown = int((quartier.isin(project.libelles) & ~known).sum())
    if n_unknown:
        notes.append(f"{fmt.number(n_unknown)} répondant{'s' if n_unknown > 1 else ''} des quartiers sans âge ou "
                     "sexe connu : hors du tableau des quotas et de la pondération.")
    quotas = _quotas(frame, margins, project)
    under = quotas[quotas["ratio"] < UNDER_RATIO].sort_values(["ratio", "attendu"], ascending=[True, False])
    precision = _precision(frame, margins, project, notes)
    return MonitorResult(today=today, files=files_t, weekly=_weekly(dates, quartier, project),
                         pace=_pace(dates, quartier, project, today), channels=_channels(codes, qn, project),
                         associations=None if assoc is None else group_small(
                             assoc.value_counts(), project.secret_statistique, OTHERS, "association"),
                         quotas=quotas, under=under.reset_index(drop=True), precision=precision,
                         n_accepted=val.n_accepted, n_duplicates=int(dup_mask.sum()) if len(val.rejected) else 0,
                         n_rejected=val.n_rejected, n_undated=int(dates.isna().sum()),
                         threshold=int(project.secret_statistique),
                         half_width_target=project.suivi.get("demi_largeur_cible") if project.suivi else None,
                         project_title=project.titre, notes=notes, review=review_counts(val.issues))
