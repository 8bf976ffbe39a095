# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 1. Vérifier les réponses au questionnaire
#
# Ce carnet lit le fichier des réponses déclaré dans la configuration du projet, le vérifie
# question par question (codes autorisés, filtres, âges plausibles, doublons) et met de côté les
# lignes inutilisables. Il ne modifie jamais le fichier d'origine.
#
# **À faire par l'analyste** : lire le résumé et la liste des lignes rejetées ; corriger la
# saisie dans le fichier d'origine si besoin, puis relancer `dls build`.

# %% tags=["parameters"]
# Paramètres (remplacés automatiquement par « dls build »)
projet = None           # fichier de configuration ; None = le projet.yaml du dossier (ou de son parent), sinon l'exemple de Chambéry
dossier_travail = None  # résultats intermédiaires ; None = build/travail à côté de projet.yaml

# %%

import pandas as pd

import diagnostics as dls
from diagnostics import fmt

p, travail = dls.open_project(projet, dossier_travail)
questionnaire = dls.load_questionnaire(p.donnees["questionnaire"])
print(f"Projet : {p.titre} — quartiers : {', '.join(p.libelles)}")

# %% [markdown]
# ## Lecture et vérification

# %%
# identifiants pseudonymisés avec le secret du projet (.dls_secret à côté de projet.yaml)
resultat = dls.validate(p.donnees["reponses"], questionnaire, secret=dls.get_secret(dls.secret_path(p, travail)))
print(resultat.summary())

# %% [markdown]
# ## Lignes rejetées (à corriger dans le fichier d'origine)

# %%
resultat.rejected.head(20).rename(columns=str.capitalize)

# %% [markdown]
# ## Répartition des réponses retenues par quartier et par canal de recueil

# %%
reponses = resultat.data
pd.crosstab(reponses["canal"], reponses["quartier"], margins=True, margins_name="Total") \
    .rename_axis(index="Canal de recueil", columns="Quartier")

# %% [markdown]
# ## Enregistrement pour les étapes suivantes
#
# Les réponses vérifiées restent dans le dossier de travail (jamais dans les livrables).

# %%
dls.save_step(travail, "reponses.pkl",
          {"data": resultat.data, "codes": resultat.codes, "n_read": resultat.n_read,
           "n_accepted": resultat.n_accepted, "n_rejected": resultat.n_rejected})
print(f"{fmt.number(resultat.n_accepted)} réponses retenues sur {fmt.number(resultat.n_read)} lues.")
