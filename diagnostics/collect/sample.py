"""Synthetic sample data: ~400 fictitious respondents and illustrative population margins.

Nothing here describes real people.  :func:`generate_answers` draws a seeded table of codes
that follows the questionnaire (skip logic respected) with prevalences of the order published
for French priority neighbourhoods (QPV) — the sources are listed in ``data/exemple/README.md``.
:func:`write_sample` writes the same answers in every format the readers accept, so that each
reader is exercised on identical content:

* ``reponses_synthetiques.csv``: as French Excel saves a CSV (cp1252, ``;``, dd/mm/yyyy, some
  cells written as labels or ``"code - libellé"``);
* ``reponses_synthetiques.xlsx``: the data-entry workbook (sheet ``Saisie``);
* ``reponses_synthetiques.sav``: SPSS with value labels and user-missing codes 98/99;
* ``reponses_synthetiques_kobo.csv``: a KoboToolbox export (group prefixes, ``_uuid``,
  select_multiple both as a space-separated column and as 0/1 columns);
* ``reponses_erronees_synthetiques.csv``: deliberately broken rows for the tests;
* ``marges_population_synthetiques.csv``: population 15+ by quartier × age group × sex.

Rebuild everything with ``python -m diagnostics.collect.sample``.

Model (all probabilities are logistic in a latent precarity ``z`` ~ N(mu_quartier, 1)):
collection channels recruit different people (street outreach: young men; medical office and
letterbox: older people; associations: women), so the raw sample is biased in age and sex and
weighting matters.  EPICES answers, supplementary cover, forgone care, loneliness and
wellbeing depend on ``z``; chronic disease depends on age; perceived health on both.
"""
from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import numpy as np
import pandas as pd

from .. import paths
from ..config.questionnaire import Questionnaire, load_questionnaire

SEED = 2022
SAMPLE_DIR = paths.EXAMPLE
#: Respondents per quartier code (1 Biollay, 2 Hauts-de-Chambéry, 3 Bellevue, 4 Autre quartier).
SIZES = {1: 130, 2: 170, 3: 100, 4: 6}
#: Mean latent precarity per quartier (higher = more deprived).
PRECARITY = {1: 0.35, 2: 0.55, 3: 0.15, 4: -0.3}
#: Population aged 15+ per quartier (illustrative, see data/exemple/README.md).
POPULATION_15P = {"Biollay": 2000, "Hauts-de-Chambéry": 5500, "Bellevue": 1800}
AGE_GROUPS = ["15-29", "30-44", "45-59", "60-74", "75+"]

# channel code: (probability, share of women, mean age, sd age, precarity shift)
CHANNELS = {1: (0.30, 0.74, 42, 13, 0.25), 2: (0.17, 0.60, 60, 16, 0.0), 3: (0.17, 0.36, 29, 10, 0.35),
            4: (0.21, 0.56, 57, 17, -0.15), 5: (0.13, 0.58, 34, 10, -0.45), 6: (0.02, 0.5, 45, 15, 0.0)}

COMMENTS = [
    "Il faudrait plus de médecins dans le quartier, on attend des mois pour un rendez-vous.",
    "Le centre social fait du bon travail ; merci aux bénévoles.",
    "Trop de bruit le soir près de la place, et des déchets partout.",
    "Les transports pour aller à l'hôpital sont compliqués quand on n'a pas de voiture.",
    "Plus d'activités pour les jeunes et les personnes âgées s'il vous plaît.",
    "Mon logement est humide, j'ai signalé le problème au bailleur plusieurs fois.",
    "Je ne trouve pas de dentiste qui accepte la CSS.",
    "Des ateliers sur l'alimentation seraient utiles.",
    "Le quartier est agréable mais manque de bancs et d'ombre l'été.",
    "J'aimerais être aidée pour mon dossier de complémentaire santé.",
    "Les démarches en ligne sont difficiles pour moi, je n'ai pas d'ordinateur.",
    "Merci pour ce questionnaire, c'est bien qu'on nous demande notre avis.",
]
# Comments with fake personal details, so that the text scrubber has work.
COMMENTS_PII = [
    "Appelez-moi au 06 12 34 56 78 pour en parler, je suis disponible le matin.",
    "Contactez Mme Martine Dupontel, elle s'occupe des jeunes du quartier.",
    "Vous pouvez m'écrire : jean.exemple@courriel.fr ; je veux bien participer.",
    "Je m'appelle Karim Benfictif, j'habite au 12 rue Imaginaire, le chauffage ne marche pas.",
    "Mon numéro : 04.79.00.00.00, rappelez-moi pour l'atelier santé.",
    "Voir avec le docteur Fauxnom qui connaît ma situation.\nIl est au cabinet le mardi.",
]
OTHER_PLACES = ["Chambéry-le-Vieux", "Centre-ville", "Bissy", "Les Charmettes", "Mérande", "Cognin"]


def _sig(x):
    return 1.0 / (1.0 + np.exp(-x))


def generate_answers(seed: int = SEED, questionnaire: Questionnaire | None = None) -> pd.DataFrame:
    """Draw the synthetic respondents as a table of codes.

    Parameters
    ----------
    seed : int
        Seed of :func:`numpy.random.default_rng`; the same seed gives the same table.
    questionnaire : Questionnaire, optional
        Defaults to :func:`diagnostics.config.questionnaire.load_questionnaire`.

    Returns
    -------
    DataFrame
        Columns ``id_questionnaire`` then ``questionnaire.columns``; numeric codes (float,
        NaN = no answer), multiple choice as 0/1 columns (all NaN when not asked or not
        answered), ``date_reponse`` as :class:`datetime.date`, text as str or None.

    Notes
    -----
    Respondents are fictitious.  Target prevalences (before weighting, all quartiers):
    forgone care ≈ 25–30 %, no médecin traitant ≈ 10–15 %, CSS ≈ 25–35 %, EPICES ≥ 30,17
    ≈ 55–70 %, bad or very bad perceived health ≈ 10 %.
    """
    qn = questionnaire or load_questionnaire()
    rng = np.random.default_rng(seed)
    quartier = np.concatenate([np.full(n, q) for q, n in SIZES.items()])
    n = len(quartier)
    rng.shuffle(quartier)
    u = lambda: rng.random(n)  # noqa: E731
    bern = lambda p: (u() < p)  # noqa: E731

    def pick(probs):
        """Draw a code 1..k per row from row-wise probabilities (n × k)."""
        probs = np.asarray(probs, dtype=float)
        probs = probs / probs.sum(axis=1, keepdims=True)
        cum = probs.cumsum(axis=1)
        return (u()[:, None] > cum).sum(axis=1) + 1

    ch_codes = np.array(list(CHANNELS))
    ch_p = np.array([v[0] for v in CHANNELS.values()])
    canal = rng.choice(ch_codes, size=n, p=ch_p / ch_p.sum())
    par = np.array([CHANNELS[c] for c in canal])
    sexe = np.where(u() < par[:, 1], 1, 2)
    age = np.clip(np.round(rng.normal(par[:, 2], par[:, 3])), 15, 94).astype(int)
    z = rng.normal(np.vectorize(PRECARITY.get)(quartier) + par[:, 4], 1.0)
    prec = z > 0.0
    d = {}
    start = dt.date(2022, 3, 1)
    d["id_questionnaire"] = [f"Q{i:04d}" for i in rng.permutation(np.arange(1, n + 1))]
    d["canal"] = canal
    d["date_reponse"] = [start + dt.timedelta(days=int(k)) for k in rng.integers(0, 120, n)]
    d["quartier"] = quartier
    d["quartier_autre"] = [OTHER_PLACES[i % len(OTHER_PLACES)] if q == 4 else None
                           for i, q in enumerate(quartier)]
    d["age"] = age.astype(float)
    d["sexe"] = sexe
    old = age >= 62
    act = pick(np.column_stack([
        np.where(old, 0.05, 0.45 - 0.12 * z.clip(-1, 2)), np.where(old, 0.02, 0.20 + 0.05 * z.clip(-1, 2)),
        np.where(old, 0.85, 0.01), np.where(age < 26, 0.45, 0.01), np.where(sexe == 1, 0.12, 0.02),
        np.where(age > 40, 0.08, 0.02), np.full(n, 0.03)]))
    d["activite"] = act
    taille = np.clip(1 + rng.poisson(np.where(old, 0.6, 2.0)), 1, 11)
    d["taille_foyer"] = taille.astype(float)
    d["enfants"] = np.where((taille >= 3) & (age < 60) & bern(0.85), 1, 2)
    d["couverture_base"] = pick(np.tile([0.95, 0.03], (n, 1)))
    ame = bern(0.02)
    css = bern(_sig(-1.55 + 1.4 * z))
    none_ = bern(0.09)
    comp = np.where(ame, 3, np.where(css, 2, np.where(none_, 4, 1)))
    d["complementaire"] = comp
    d["difficultes_droits"] = np.where(bern(_sig(-1.8 + 0.6 * z)), 1, 2)
    yes = lambda p: np.where(bern(p), 1, 2)  # noqa: E731
    d["epices_01"] = yes(_sig(-1.3 + 0.9 * z))
    d["epices_02"] = np.where(np.isin(comp, [1, 2]), 1, 2)
    d["epices_03"] = yes(_sig(0.8 - 0.6 * z))
    d["epices_04"] = yes(_sig(-2.0 - 0.5 * z + 0.02 * (age - 45)))
    d["epices_05"] = yes(_sig(-0.4 + 1.1 * z))
    d["epices_06"] = yes(_sig(0.7 - 0.6 * z - 0.03 * (age - 40)))
    d["epices_07"] = yes(_sig(0.5 - 0.8 * z))
    d["epices_08"] = yes(_sig(0.6 - 0.9 * z))
    d["epices_09"] = yes(_sig(1.8 - 0.6 * z))
    d["epices_10"] = yes(_sig(1.1 - 0.8 * z))
    d["epices_11"] = yes(_sig(1.0 - 0.8 * z))
    chronic = bern(_sig(-2.3 + 0.055 * (age - 20) + 0.25 * z))
    d["medecin_traitant"] = np.where(bern(_sig(-2.45 + 0.35 * z - 0.03 * (age - 40) + 0.4 * (quartier == 2))), 2, 1)
    d["derniere_consult_mg"] = pick(np.column_stack([0.70 + 0.2 * chronic, np.full(n, 0.15),
                                                     np.full(n, 0.08), np.full(n, 0.02)]))
    d["dentiste_12m"] = yes(_sig(-0.1 - 0.4 * z))
    d["urgences_12m"] = yes(_sig(-1.4 + 0.2 * z + 0.5 * chronic))
    renonce = bern(_sig(-1.25 + 0.6 * z))
    d["renoncement"] = np.where(renonce, 1, 2)
    for qname, probs in (("renoncement_soins", [0.22, 0.50, 0.30, 0.25, 0.10, 0.12, 0.10, 0.10, 0.05]),
                         ("renoncement_raisons", [0.55, 0.45, 0.30, 0.10, 0.15, 0.15, 0.10, 0.06, 0.05])):
        ticks = np.column_stack([bern(p) for p in probs])
        empty = ~ticks.any(axis=1)
        ticks[empty, 0 if qname == "renoncement_raisons" else 1] = True
        for j, c in enumerate(qn[qname].choices):
            d[f"{qname}_{c.code}"] = np.where(renonce, ticks[:, j].astype(float), np.nan)
    d["vaccin_grippe"] = yes(np.where(age >= 65, 0.45, 0.12 + 0.2 * chronic))
    nan = np.nan
    d["depistage_colorectal"] = np.where((age >= 50) & (age <= 74), yes(0.28), nan)
    d["depistage_sein"] = np.where((sexe == 1) & (age >= 50) & (age <= 74), yes(0.52), nan)
    d["depistage_col"] = np.where((sexe == 1) & (age >= 25) & (age <= 65), yes(0.55), nan)
    men = (sexe == 2).astype(float)
    d["tabac"] = pick(np.column_stack([0.25 + 0.1 * men + 0.05 * z, np.full(n, 0.06), np.full(n, 0.20),
                                       0.49 - 0.1 * men]).clip(0.01))
    d["activite_physique"] = yes(_sig(-0.5 - 0.3 * z - 0.01 * (age - 40)))
    d["maladie_chronique"] = np.where(chronic, 1, 2)
    h = -1.0 * chronic - 0.02 * (age - 45) - 0.3 * z + rng.normal(0, 0.8, n)
    d["sante_generale"] = 5 - np.searchsorted(np.quantile(h, [0.02, 0.10, 0.43, 0.85]), h)
    d["limitation"] = np.where(h < np.quantile(h, 0.08), 1, np.where(h < np.quantile(h, 0.28), 2, 3))
    d["douleurs"] = np.clip(np.round(2.3 - 0.9 * h + rng.normal(0, 0.7, n)), 1, 5)
    w = 0.45 * h - 0.35 * z + rng.normal(0, 0.7, n)
    for i in range(1, 6):
        d[f"who5_{i}"] = np.clip(np.round(3.0 + 1.1 * w + rng.normal(0, 0.8, n)), 0, 5)
    lone = -0.5 * w + 0.5 * (taille == 1) + rng.normal(0, 0.8, n)
    for i in range(1, 4):
        d[f"solitude_{i}"] = np.clip(np.round(1.3 + 0.8 * lone + rng.normal(0, 0.5, n)), 1, 3)
    d["entraide_voisins"] = np.clip(np.round(2.4 + 0.4 * z + rng.normal(0, 0.9, n)), 1, 4)
    svc_p = [0.30, 0.18, 0.08, 0.35, 0.75, 0.15, 0.10]
    ticks = np.column_stack([bern(p) for p in svc_p])
    for j, c in enumerate(qn["services_utilises"].choices[:-1]):
        d[f"services_utilises_{c.code}"] = ticks[:, j].astype(float)
    d["services_utilises_8"] = (~ticks.any(axis=1)).astype(float)
    d["connait_ers"] = yes(np.where(quartier == 3, 0.25, 0.38))
    d["offre_suffisante"] = np.clip(np.round(2.5 + rng.normal(0, 0.9, n)), 1, 4)
    road = (quartier == 2).astype(float)
    nui_p = np.column_stack([0.30 + 0.15 * road, np.full(n, 0.35), 0.18 + 0.1 * road, np.full(n, 0.12),
                             0.35 - 0.1 * (quartier == 3), np.where(quartier == 1, 0.25, 0.12)])
    ticks = u()[:, None] < nui_p
    for j in range(6):
        d[f"nuisances_{j + 1}"] = ticks[:, j].astype(float)
    d["nuisances_7"] = (~ticks.any(axis=1)).astype(float)
    d["qualite_air"] = pick(np.column_stack([0.35 - 0.1 * road, np.full(n, 0.45), 0.20 + 0.1 * road]))
    oldhouse = (quartier == 1).astype(float)
    d["logement_humidite"] = yes(0.20 + 0.12 * oldhouse)
    d["logement_bruit"] = yes(0.38)
    d["logement_froid"] = yes(_sig(-1.6 + 0.4 * z + 0.4 * oldhouse))
    d["satisfaction_logement"] = np.clip(np.round(2.2 + 0.3 * z + 0.3 * oldhouse + rng.normal(0, 0.8, n)), 1, 4)
    d["espaces_verts"] = np.clip(np.round(2.2 + rng.normal(0, 0.8, n) - 0.3 * (quartier == 3)), 1, 4)
    d["insecurite_quartier"] = np.clip(np.round(2.7 - 0.4 * (sexe == 1) - 0.2 * road + rng.normal(0, 0.9, n)), 1, 4)
    d["renonce_sortir_soir"] = np.clip(np.round(3.0 - 0.6 * (sexe == 1) + rng.normal(0, 0.9, n)), 1, 4)
    com = [None] * n
    who = rng.choice(n, size=int(0.2 * n), replace=False)
    for k, i in enumerate(who):
        com[i] = COMMENTS_PII[k] if k < len(COMMENTS_PII) else COMMENTS[k % len(COMMENTS)]
    d["commentaire"] = com

    df = pd.DataFrame(d)
    for c in df.columns:
        if c not in ("id_questionnaire", "date_reponse", "quartier_autre", "commentaire"):
            df[c] = df[c].astype(float)
    # Non-response: "ne sait pas" / "refus" where the question allows them, blanks elsewhere.
    for q in qn:
        if q.required or q.name in ("id_questionnaire", "date_reponse") or q.type in ("text",):
            continue
        cols = q.columns
        asked = df[cols[0]].notna().to_numpy()
        r = u()
        if q.type == "multiple":
            blank = asked & (r < 0.02) & ~df[cols].fillna(0).eq(0).all(axis=1).to_numpy() & (q.relevant is None)
            df.loc[blank, cols] = np.nan
            continue
        for m in q.missing:
            share = 0.03 if m.key == "nsp" else 0.012
            hit = asked & (u() < share)
            df.loc[hit, q.name] = float(m.code)
        df.loc[asked & (r < 0.025), q.name] = np.nan
    # A few respondents stop before the end of the questionnaire.
    stop = u() < 0.03
    tail = qn.columns[qn.columns.index("logement_humidite"):qn.columns.index("commentaire")]
    df.loc[stop, tail] = np.nan
    # Age refused by two respondents (the dépistage questions are then not asked).
    refuse_age = np.flatnonzero(quartier != 4)[[3, 200]]
    df.loc[refuse_age, "age"] = 999.0
    for c in ("depistage_colorectal", "depistage_sein", "depistage_col"):
        df.loc[refuse_age, c] = np.nan
    # Skip logic: questions conditional on renoncement are empty when renoncement != 1.
    for qname in ("renoncement_soins", "renoncement_raisons"):
        cols = qn[qname].columns
        df.loc[df["renoncement"] != 1, cols] = np.nan
    # Derived questions (EPICES item 2) follow their source answer, as validation computes them.
    for q in qn.derived:
        df[q.name] = q.derive.apply(df[q.derive.source])
    return df[["id_questionnaire", *qn.columns]]


# --------------------------------------------------------------------------- writers

def _label(q, code):
    return q.label_of(int(code))


def to_french_csv_table(df: pd.DataFrame, qn: Questionnaire) -> pd.DataFrame:
    """Render codes as an analyst would key them in Excel (strings, French conventions).

    ``quartier`` as its label, ``sexe`` as a lower-case label, ``canal`` as ``"code - libellé"``,
    dates as dd/mm/yyyy, everything else as codes.
    """
    out = pd.DataFrame(index=df.index)
    out["id_questionnaire"] = df["id_questionnaire"]
    for q in qn:
        for c in q.columns:
            s = df[c]
            if q.name == "quartier":
                out[c] = s.map(lambda v: _label(q, v))
            elif q.name == "sexe":
                out[c] = s.map(lambda v: _label(q, v).lower())
            elif q.name == "canal":
                out[c] = s.map(lambda v: f"{int(v)} - {_label(q, v)}")
            elif q.type == "date":
                out[c] = s.map(lambda v: "" if v is None else v.strftime("%d/%m/%Y"))
            elif q.type == "text":
                out[c] = s.fillna("")
            else:
                out[c] = s.map(lambda v: "" if pd.isna(v) else str(int(v)))
    return out


def write_french_csv(table: pd.DataFrame, path: Path) -> None:
    """Write a table of strings as French Excel does: cp1252, ``;``, CRLF, quoted when needed."""
    table.to_csv(path, sep=";", index=False, encoding="cp1252", lineterminator="\r\n")


def write_xlsx(df: pd.DataFrame, qn: Questionnaire, path: Path) -> None:
    """Write the data-entry workbook filled with the answers (codes).

    Uses :func:`diagnostics.collect.entry_workbook.write_entry_workbook` when available, else a plain
    workbook with a sheet ``Saisie`` (header on row 1).
    """
    data = df.copy()
    try:
        from .entry_workbook import write_entry_workbook
    except ImportError:
        write_entry_workbook = None
    if write_entry_workbook is not None:
        write_entry_workbook(qn, path, data=data)
        return
    with pd.ExcelWriter(path, engine="openpyxl") as xw:
        data.to_excel(xw, sheet_name="Saisie", index=False)


def write_sav(df: pd.DataFrame, qn: Questionnaire, path: Path) -> None:
    """Write an SPSS file: codes with value labels, 98/99 declared user-missing."""
    import pyreadstat

    data = df.copy()
    data["date_reponse"] = pd.to_datetime(data["date_reponse"]).astype("datetime64[ns]")
    for c in ("quartier_autre", "commentaire"):
        data[c] = data[c].fillna("")
    labels, missing, col_labels = {}, {}, {"id_questionnaire": "Numéro du questionnaire"}
    for q in qn:
        for c in q.columns:
            col_labels[c] = q.label[:250]
        if q.type == "single":
            labels[q.name] = {float(c.code): c.label for c in q.choices}
            labels[q.name].update({float(m.code): m.label for m in q.missing})
        if q.type == "multiple":
            for c in q.columns:
                labels[c] = {0.0: "Non coché", 1.0: "Coché"}
        if q.missing and q.type in ("single", "integer"):
            missing[q.name] = [float(m.code) for m in q.missing]
    pyreadstat.write_sav(data, str(path), file_label="Réponses synthétiques DLS (fictives)",
                         column_labels=col_labels, variable_value_labels=labels, missing_ranges=missing)


def _kobo_uuid(raw_id: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"dls-synthetique/{raw_id}"))


def to_kobo_table(df: pd.DataFrame, qn: Questionnaire) -> pd.DataFrame:
    """Render the answers as a KoboToolbox CSV export (XML values = codes)."""
    out = {}
    sub = [dt.datetime.combine(v, dt.time(10, 30)) for v in df["date_reponse"]]
    out["start"] = [t.strftime("%Y-%m-%dT%H:%M:%S.000+01:00") for t in sub]
    out["end"] = [(t + dt.timedelta(minutes=14)).strftime("%Y-%m-%dT%H:%M:%S.000+01:00") for t in sub]
    for sec in qn.sections:
        for q in sec.questions:
            key = f"{sec.id}/{q.name}"
            if q.type == "multiple":
                block = df[q.columns]
                out[key] = [
                    "" if r.isna().all() else " ".join(str(c.code) for c, v in zip(q.choices, r) if v == 1)
                    for _, r in block.iterrows()]
                for c in q.choices:
                    out[f"{key}/{c.code}"] = df[f"{q.name}_{c.code}"].map(lambda v: "" if pd.isna(v) else str(int(v)))
            elif q.type == "date":
                out[key] = [v.isoformat() for v in df[q.name]]
            elif q.type == "text":
                out[key] = df[q.name].fillna("")
            else:
                out[key] = df[q.name].map(lambda v: "" if pd.isna(v) else str(int(v)))
    out["_id"] = [str(100000 + i) for i in range(len(df))]
    out["_uuid"] = [_kobo_uuid(i) for i in df["id_questionnaire"]]
    out["_submission_time"] = [(t + dt.timedelta(minutes=20)).strftime("%Y-%m-%dT%H:%M:%S") for t in sub]
    out["_validation_status"] = ""
    out["_notes"] = ""
    out["_status"] = "submitted_via_web"
    out["_submitted_by"] = ""
    out["__version__"] = "vSyntheticDLS2022"
    out["_tags"] = ""
    out["_index"] = [str(i + 1) for i in range(len(df))]
    return pd.DataFrame(out)


def population_margins() -> pd.DataFrame:
    """Illustrative population 15+ by quartier × age group × sex (columns per CONTRIBUTING).

    Notes
    -----
    Totals from :data:`POPULATION_15P`; the age structure is that of a young QPV population
    (share of 15–29 above, of 75+ below the national one) and the sex ratio leans female with
    age.  Illustrative, not Insee figures.
    """
    age_share = {"Biollay": [0.27, 0.25, 0.22, 0.17, 0.09], "Hauts-de-Chambéry": [0.30, 0.26, 0.22, 0.15, 0.07],
                 "Bellevue": [0.26, 0.24, 0.23, 0.17, 0.10]}
    female = [0.50, 0.52, 0.52, 0.54, 0.62]
    rows = []
    for quart, total in POPULATION_15P.items():
        for g, share, f in zip(AGE_GROUPS, age_share[quart], female):
            n = total * share
            nf = int(round(n * f / 5) * 5)
            nh = int(round(n * (1 - f) / 5) * 5)
            rows += [(quart, g, "Femme", nf), (quart, g, "Homme", nh)]
    return pd.DataFrame(rows, columns=["quartier", "groupe_age", "sexe", "effectif"])


def broken_rows(df: pd.DataFrame, qn: Questionnaire) -> pd.DataFrame:
    """The deliberately broken file: good rows and one or more of each kind of error.

    Row numbers below are Excel rows (header = 1).  Returned as strings, with one extra
    unknown column ``remarque_saisie``.
    """
    t = to_french_csv_table(df.iloc[:14].reset_index(drop=True), qn)
    t.insert(1, "remarque_saisie", "")
    t = t.astype(object)
    later = df.index[14:]
    ren_yes = later[(df.loc[later, "renoncement"] == 1).to_numpy()][0]
    ren_no = later[((df.loc[later, "renoncement"] == 2) & (df.loc[later, "age"] < 50)
                    & (df.loc[later, "sexe"] == 2)).to_numpy()][0]
    t.loc[14] = to_french_csv_table(df.loc[[ren_yes]], qn).iloc[0]
    t.loc[15] = to_french_csv_table(df.loc[[ren_no]], qn).iloc[0]
    t = t.fillna("")
    t.loc[14, "remarque_saisie"] = ""
    t.loc[15, "remarque_saisie"] = ""
    # row 2-3: good rows (row 3 uses accent-free label and "code - libellé")
    t.loc[1, "quartier"] = "hauts de chambery"
    t.loc[1, "sexe"] = "2 - Homme"
    t.loc[1, "remarque_saisie"] = "saisi par AB"
    t.loc[2, "quartier"] = "7"                     # row 4: unknown quartier code -> reject
    t.loc[3, "age"] = "130"                        # row 5: age out of range -> reject
    t.loc[4, "age"] = "trente"                     # row 6: age not a number -> reject
    t.loc[5, "id_questionnaire"] = t.loc[0, "id_questionnaire"]  # row 7: duplicate of row 2 -> reject
    for c in t.columns:                            # row 8: empty row -> reject
        t.loc[6, c] = ""
    t.loc[7, "sexe"] = ""                          # row 9: required answer missing -> reject
    t.loc[8, "sante_generale"] = "7"               # row 10: unknown code, not key -> warning, blanked
    t.loc[9, "date_reponse"] = "31/02/2022"        # row 11: impossible date -> warning, blanked
    t.loc[10, "id_questionnaire"] = ""             # row 12: no identifier -> reject
    t.loc[11, "taille_foyer"] = "2,5"              # row 13: decimal for an integer -> warning, blanked
    t.loc[12, "who5_1"] = "Ne sait pas"            # row 14: missing code not allowed -> warning, blanked
    t.loc[13, "canal"] = "Pigeon voyageur"         # row 15: unknown label on required -> reject
    for c in qn["renoncement_soins"].columns:      # row 16: required (relevant) answer absent
        t.loc[14, c] = ""
    t.loc[14, "renoncement_soins_2"] = "3"         # row 16 also: multiple choice not 0/1 -> warning
    t.loc[15, "renoncement_soins_1"] = "1"         # row 17: answer to a non-relevant question -> warning
    t.loc[15, "depistage_sein"] = "1"              # row 17: mammography for a man -> warning
    return t


def write_sample(directory: str | Path = SAMPLE_DIR, seed: int = SEED) -> dict[str, Path]:
    """Write every sample file into ``directory``; return ``{kind: path}``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    qn = load_questionnaire()
    df = generate_answers(seed, qn)
    paths = {
        "csv": directory / "reponses_synthetiques.csv",
        "xlsx": directory / "reponses_synthetiques.xlsx",
        "sav": directory / "reponses_synthetiques.sav",
        "kobo": directory / "reponses_synthetiques_kobo.csv",
        "erronees": directory / "reponses_erronees_synthetiques.csv",
        "marges": directory / "marges_population_synthetiques.csv",
    }
    write_french_csv(to_french_csv_table(df, qn), paths["csv"])
    write_xlsx(df, qn, paths["xlsx"])
    write_sav(df, qn, paths["sav"])
    to_kobo_table(df, qn).to_csv(paths["kobo"], sep=",", index=False, encoding="utf-8")
    write_french_csv(broken_rows(df, qn), paths["erronees"])
    population_margins().to_csv(paths["marges"], sep=";", index=False, encoding="utf-8")
    return paths


if __name__ == "__main__":  # pragma: no cover
    for kind, p in write_sample().items():
        print(f"{kind:9s} {p.relative_to(SAMPLE_DIR)}")
