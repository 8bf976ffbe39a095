# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 2. Pondérer les réponses (calage sur les marges du recensement)
#
# Les personnes qui répondent ne ressemblent pas exactement aux habitants : par exemple, les
# femmes répondent davantage. On donne donc à chaque réponse un **poids**, calculé pour que,
# dans chaque quartier, la répartition par âge et par sexe des répondants pondérés soit celle du
# recensement (méthode du calage sur marges, « raking »).
#
# Ce carnet affiche la qualité de la pondération : effet de plan (1 = aucune perte de
# précision) et effectif efficace (nombre de réponses « équivalentes » après pondération).

# %% tags=["parameters"]
projet = None           # None = le projet.yaml du dossier (ou de son parent), sinon l'exemple de Chambéry
dossier_travail = None  # None = build/travail à côté de projet.yaml (résultats du carnet 1)

# %%

import pandas as pd

from diagnostics.config.catalogue import load_catalogue
from diagnostics.config.questionnaire import load_questionnaire
from diagnostics.engine.indicators import read_margins, survey_frame
from diagnostics.publish.carnets import load_step, open_project, save_step, show
from diagnostics.publish.report import collection_summary
from diagnostics.stats.weighting import rake, weight_diagnostics

p, travail = open_project(projet, dossier_travail)
etape1 = load_step(travail, "reponses.pkl")   # écrit par le carnet 1
catalogue = load_catalogue(p.donnees["catalogue"], load_questionnaire(p.donnees["questionnaire"])) \
    if p.donnees["catalogue"] else load_catalogue()
marges = read_margins(p.donnees["marges"])
show(marges.head(), {"quartier": "Quartier", "groupe_age": "Âge", "sexe": "Sexe", "effectif": "Habitants"})

# %% [markdown]
# ## Préparation : quartiers du diagnostic et groupes d'âge des marges
#
# Seules les réponses des quartiers du diagnostic sont pondérées, dans les groupes d'âge du
# fichier des marges (`15-29`, …, `75+`). Une réponse sans âge ou sans sexe ne peut pas être
# calée : elle est écartée des estimations pondérées (leur nombre est affiché). C'est la même
# préparation que celle du calcul des indicateurs (carnet 3).

# %%
cadre, comptes = survey_frame(etape1["codes"], p, catalogue, marges)
print(f"Réponses hors quartiers du diagnostic : {comptes['hors_quartiers']} ; "
      f"sans âge ou sans sexe (écartées) : {comptes['sans_age_sexe']}")
a_caler = cadre.dropna(subset=["_groupe_age", "_sexe"]).rename(
    columns={"_quartier": "quartier", "_groupe_age": "groupe_age", "_sexe": "sexe"})
marges = marges[marges["quartier"].isin(p.libelles)]

# %% [markdown]
# ## Calage

# %%
calage = rake(a_caler, {("quartier", "groupe_age"): marges, ("quartier", "sexe"): marges})
print(calage.summary())
poids = calage.weights

# %% [markdown]
# ## Qualité de la pondération par quartier

# %%
diagnostic = pd.DataFrame([{"quartier": q, **weight_diagnostics(poids[a_caler["quartier"] == q])}
                           for q in p.libelles])
show(diagnostic, {"quartier": "Quartier", "n": "Répondants", "kish_deff": "Effet de plan (Kish)",
                  "n_eff": "Effectif efficace", "min": "Poids minimum", "max": "Poids maximum"},
     decimals={"kish_deff": 2, "n_eff": 0, "min": 2, "max": 2})

# %% [markdown]
# ## Représentativité : échantillon, population, échantillon pondéré

# %%
resume = collection_summary(etape1["data"], a_caler, poids, marges, p, n_read=etape1["n_read"],
                            n_rejected=etape1["n_rejected"])
show(resume["representativeness"], {"quartier": "Quartier", "groupe": "Groupe", "n": "Répondants",
                                     "pct_echantillon": "Part des répondants",
                                     "pct_population": "Part des habitants (recensement)",
                                     "pct_pondere": "Part après pondération"},
     percent=("pct_echantillon", "pct_population", "pct_pondere"))

# %%
save_step(travail, "ponderation.pkl", {"frame": a_caler, "weights": poids, "calibration": calage,
                                       "summary": resume, "margins": marges, "counts": comptes})
