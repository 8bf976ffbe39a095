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
projet = None
dossier_travail = "../build/travail"

# %%
from pathlib import Path

import pandas as pd

from diagnostics.catalogue import load_catalogue
from diagnostics.indicators import read_margins, survey_frame
from diagnostics.project import load_project
from diagnostics.questionnaire import load_questionnaire
from diagnostics.report import collection_summary
from diagnostics.weighting import rake, weight_diagnostics

travail = Path(dossier_travail)
p = load_project(projet)
catalogue = load_catalogue(p.donnees["catalogue"], load_questionnaire(p.donnees["questionnaire"])) \
    if p.donnees["catalogue"] else load_catalogue()
etape1 = pd.read_pickle(travail / "reponses.pkl")
marges = read_margins(p.donnees["marges"])
marges.head()

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
diagnostic[["quartier", "n", "kish_deff", "n_eff", "min", "max"]].round(2)

# %% [markdown]
# ## Représentativité : échantillon, population, échantillon pondéré

# %%
resume = collection_summary(etape1["data"], a_caler, poids, marges, p, n_read=etape1["n_read"],
                            n_rejected=etape1["n_rejected"])
resume["representativeness"]

# %%
pd.to_pickle({"frame": a_caler, "weights": poids, "calibration": calage, "summary": resume,
              "margins": marges, "counts": comptes}, travail / "ponderation.pkl")
