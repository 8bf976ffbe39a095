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
# # 3. Calculer les indicateurs et appliquer le secret statistique
#
# Ce carnet calcule, pour chaque quartier, tous les indicateurs du catalogue
# (`indicateurs.yaml` du projet) : estimations pondérées avec leur intervalle de confiance,
# indicateurs issus des extraits Assurance Maladie / ORS, comparaisons avec Chambéry, la Savoie,
# la région, la France et l'ensemble des quartiers. Il applique ensuite les règles de
# publication (secret statistique) : aucune case ne repose sur trop peu de personnes.
#
# Le tableau obtenu est la seule source des livrables (carnets 4 et 5).

# %% tags=["parameters"]
projet = None           # None = le projet.yaml du dossier (ou de son parent), sinon l'exemple de Chambéry
dossier_travail = None  # None = build/travail à côté de projet.yaml (résultats des carnets 1 et 2)
tableau_indicateurs = None   # facultatif : un tableau d'indicateurs déjà calculé (CSV) à utiliser tel quel
historique = None       # rempli par « dls build » : le diagnostic précédent et les séries, calculés d'avance

# %%

import pandas as pd

import diagnostics as dls

p, travail = dls.open_project(projet, dossier_travail)
catalogue = dls.load_project_catalogue(p)
extraits = dls.read_extracts([p.donnees["extraits"]]).data if p.donnees["extraits"] else None

# %%
if tableau_indicateurs:
    tableau = dls.read_indicator_table(tableau_indicateurs)
    print(f"Tableau d'indicateurs fourni : « {tableau_indicateurs} » ({len(tableau)} lignes).")
else:
    # la vague calée au carnet 2 (poids et calage, pour des variances qui en tiennent compte)
    vague = dls.load_step(travail, "vague.pkl")
    # références du projet, puis valeurs publiées livrées avec la boîte à outils (voir l'annexe)
    references = dls.load_references(p.donnees["references"])
    # les estimations, les comparaisons, puis le secret statistique
    tableau = dls.compute_indicators(None, extracts=extraits, references=references, project=p,
                                     catalogue=catalogue, wave=vague)
    dls.refuse_empty(tableau)   # a run that computed nothing is not a deliverable
    print(f"{tableau['indicator_id'].nunique()} indicateurs ; {int(tableau['suppressed'].sum())} cases "
          f"masquées par le secret statistique ; {int((tableau['status'] != 'calculé').sum())} non calculables.")

# %% [markdown]
# ## Aperçu : indicateurs par dimension et par quartier

# %%
pd.crosstab(tableau["dimension"], tableau["quartier"]).rename_axis(index="Dimension", columns="Quartier")

# %% [markdown]
# ## Estimations fragiles et cases supprimées

# %%
dls.show(tableau.loc[tableau["suppressed"].astype(bool) | tableau["fragile"].astype(bool)],
     {"quartier": "Quartier", "label": "Indicateur", "n": "Effectif", "fragile": "Fragile",
      "suppressed": "Masqué", "suppression_reason": "Motif du masquage"}, flags=("fragile", "suppressed"))

# %% [markdown]
# ## Enregistrement pour les carnets 4 et 5
#
# Le tableau pour l'analyste (`indicateurs.xlsx` : pourcentages Excel, filtres, feuille des
# définitions ; `indicateurs.csv` pour Excel français) est écrit par `dls build` dans les livrables
# et par `dls indicators --out DOSSIER`.

# %% [markdown]
# ## Évolution : le diagnostic précédent et les extraits de plusieurs années
#
# Quand `projet.yaml` nomme un diagnostic précédent (section `precedent`), chaque indicateur du
# questionnaire est comparé à sa valeur d'alors, chaque enquête étant calée sur ses propres
# marges ; un indicateur dont la question a changé est « non comparable ». Les extraits qui
# couvrent plusieurs années donnent une série et un test de tendance.

# %%
# le diagnostic précédent et les séries des extraits ne dépendent pas de l'enquête actuelle :
# « dls build » les calcule dans un second processus pendant les carnets 1 à 3 ; à la main, ici
anterieur = dls.read_history(p, catalogue, extraits, travail, prepared=historique,
                             previous=not tableau_indicateurs)
evolution = {"evolution": None, "series": anterieur["series"], "trends": anterieur["trends"]}
if anterieur["previous"] is not None:
    actuelle = dls.evolution_estimates(vague, catalogue)   # les estimations du tableau, sans nouveau calage
    evolution["evolution"] = dls.compute_evolution(tableau, actuelle, anterieur["previous"], p, catalogue)
    print(f"Diagnostic de {p.precedent.annee} : "
          + ", ".join(f"{n} {v}" for v, n in evolution["evolution"]["verdict"].replace("", "non publié")
                      .value_counts().items()))
if evolution["trends"] is not None:
    print(f"{len(evolution['trends'])} séries d'extraits avec un test de tendance.")

# %%
dls.save_step(travail, "evolution.pkl", evolution)
dls.save_step(travail, "indicateurs.pkl", tableau)
tableau.to_csv(travail / "indicateurs.csv", sep=";", index=False, encoding="utf-8-sig")  # lu par les carnets 4 et 5
