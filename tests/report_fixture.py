"""A small hand-made indicator table with the agreed columns (CONTRIBUTING.md), for report tests."""
import pandas as pd

QUARTIERS = ["Biollay", "Hauts-de-Chambéry", "Bellevue"]

# indicator_id, label, dimension, source, unit, direction, refs (commune, departement, region, france)
INDICATORS = [
    ("css", "Bénéficiaires de la complémentaire santé solidaire", "droits", "extrait", "%", "neutre",
     (0.12, 0.08, 0.09, 0.11)),
    ("sans_complementaire", "Sans complémentaire santé", "droits", "questionnaire", "%", "hausse_defavorable",
     (0.05, 0.04, 0.045, 0.05)),
    ("renoncement", "Renoncement à des soins au cours des 12 derniers mois", "soins", "questionnaire", "%",
     "hausse_defavorable", (0.18, None, None, 0.16)),
    ("medecin_traitant", "Médecin traitant déclaré", "soins", "questionnaire", "%", "hausse_favorable",
     (0.90, 0.91, 0.90, 0.89)),
    ("depistage_colorectal", "Dépistage du cancer colorectal (50-74 ans)", "prevention", "questionnaire", "%",
     "hausse_favorable", (0.33, 0.35, 0.34, 0.30)),
    ("sante_mauvaise", "Santé perçue mauvaise ou très mauvaise", "sante_percue", "questionnaire", "%",
     "hausse_defavorable", (0.09, 0.08, 0.08, 0.09)),
    ("who5_moyen", "Score de bien-être WHO-5 (sur 100)", "sante_percue", "questionnaire", "score",
     "hausse_favorable", (58.0, None, None, 55.0)),
    ("solitude", "Sentiment de solitude (score ≥ 6)", "lien_social", "questionnaire", "%", "hausse_defavorable",
     (0.20, None, None, 0.22)),
    ("connait_ers", "Connaît l'Espace Ressource Santé", "services", "questionnaire", "%", "hausse_favorable",
     (None, None, None, None)),
    ("gene_bruit", "Gêné(e) par le bruit de la circulation", "nuisances", "questionnaire", "%",
     "hausse_defavorable", (0.25, None, None, 0.27)),
    ("humidite", "Logement humide ou avec moisissures", "logement", "questionnaire", "%", "hausse_defavorable",
     (0.12, None, None, 0.14)),
    ("ald", "Patients en affection de longue durée", "logement", "extrait", "pour 1 000", "neutre",
     (180.0, 175.0, 170.0, 185.0)),
    ("insecurite", "Se sent souvent en insécurité dans le quartier", "securite", "questionnaire", "%",
     "hausse_defavorable", (0.10, None, None, 0.12)),
]

# per quartier: estimate, ci_low, ci_high, n, numerator
VALUES = {
    "css": [(0.31, 0.29, 0.33, 2400, 744), (0.24, 0.22, 0.26, 3100, 744), (0.28, 0.26, 0.30, 1800, 504)],
    "sans_complementaire": [(0.09, 0.05, 0.16, 130, 12), (0.06, 0.03, 0.12, 140, 8), (0.07, 0.03, 0.15, 110, 8)],
    "renoncement": [(0.32, 0.25, 0.40, 130, 42), (0.21, 0.15, 0.28, 140, 29), (0.26, 0.19, 0.35, 110, 29)],
    "medecin_traitant": [(0.81, 0.73, 0.87, 130, 105), (0.92, 0.86, 0.95, 140, 129), (0.85, 0.77, 0.91, 110, 94)],
    "depistage_colorectal": [(0.22, 0.12, 0.37, 25, 6), (0.30, 0.19, 0.44, 40, 12), (None, None, None, 8, None)],
    "sante_mauvaise": [(0.15, 0.10, 0.23, 130, 20), (0.10, 0.06, 0.17, 140, 14), (0.12, 0.07, 0.20, 110, 13)],
    "who5_moyen": [(50.2, 46.1, 54.3, 125, None), (57.9, 54.0, 61.8, 138, None), (54.1, 50.0, 58.2, 108, None)],
    "solitude": [(0.30, 0.23, 0.38, 128, 38), (0.19, 0.13, 0.26, 139, 26), (0.24, 0.17, 0.33, 109, 26)],
    "connait_ers": [(0.35, 0.27, 0.43, 130, 45), (0.61, 0.53, 0.69, 140, 85), (0.20, 0.13, 0.28, 110, 22)],
    "gene_bruit": [(0.28, 0.21, 0.36, 130, 36), (0.22, 0.16, 0.30, 140, 31), (0.45, 0.36, 0.54, 110, 50)],
    "humidite": [(0.22, 0.16, 0.30, 130, 29), (0.10, 0.06, 0.16, 140, 14), (0.25, 0.18, 0.34, 110, 28)],
    "ald": [(210.0, 195.0, 226.0, 2400, 504), (185.0, 172.0, 199.0, 3100, 574), (None, None, None, None, None)],
    "insecurite": [(0.14, 0.09, 0.21, 130, 18), (0.08, 0.04, 0.14, 140, 11), (0.21, 0.14, 0.29, 110, 23)],
}
REFS = ("commune", "departement", "region", "france")


def _cmp(est, lo, hi, ref, direction):
    if est is None or ref is None or lo is None:
        return "non comparable"
    if lo <= ref <= hi:
        return "similaire"
    higher = lo > ref
    if direction == "neutre":
        return "non comparable"
    good = higher if direction == "hausse_favorable" else not higher
    return "mieux" if good else "moins bien"


def make_table(extra_label=None) -> pd.DataFrame:
    """The fixture table; ``extra_label`` replaces the label of the first indicator (escaping tests)."""
    rows = []
    for iid, label, dim, source, unit, direction, refs in INDICATORS:
        if extra_label is not None and iid == "css":
            label = extra_label
        pooled = [v[0] for v in VALUES[iid] if v[0] is not None]
        mean = sum(pooled) / len(pooled)
        for q, (est, lo, hi, n, num) in zip(QUARTIERS, VALUES[iid]):
            suppressed = iid == "depistage_colorectal" and q == "Bellevue"
            not_computed = iid == "ald" and q == "Bellevue"
            row = dict(quartier=q, indicator_id=iid, label=label, dimension=dim, source=source, unit=unit,
                       direction=direction, estimate=est, ci_low=lo, ci_high=hi, n=n, numerator=num,
                       method="logit" if source == "questionnaire" else "Wilson",
                       fragile=bool(n is not None and n < 30), suppressed=suppressed,
                       suppression_reason="moins de 11 personnes" if suppressed else None,
                       p_rao_scott=None, status="non calculable" if not_computed else "calculé",
                       note="extrait manquant" if not_computed else None)
            for r, v in zip(REFS, refs):
                row[f"ref_{r}"] = v
                row[f"cmp_{r}"] = _cmp(est, lo, hi, v, direction) if not suppressed else "non comparable"
            row["cmp_ensemble"] = _cmp(est, lo, hi, mean, direction) if not suppressed else "non comparable"
            if suppressed:
                row.update(estimate=None, ci_low=None, ci_high=None, numerator=None)
            rows.append(row)
    return pd.DataFrame(rows)
