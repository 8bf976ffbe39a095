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

import diagnostics as dls

p, travail = dls.open_project(projet, dossier_travail)
etape1 = dls.load_step(travail, "reponses.pkl")   # écrit par le carnet 1
catalogue = dls.load_project_catalogue(p)
marges = dls.read_margins(p.donnees["marges"])
dls.show(marges.head(), {"quartier": "Quartier", "groupe_age": "Âge", "sexe": "Sexe", "effectif": "Habitants"})

# %% [markdown]
# ## Préparation : quartiers du diagnostic et groupes d'âge des marges
#
# Seules les réponses des quartiers du diagnostic sont pondérées, dans les groupes d'âge du
# fichier des marges (`15-29`, …, `75+`). Une réponse sans âge ou sans sexe ne peut pas être
# calée : elle est écartée des estimations pondérées (leur nombre est affiché). C'est la même
# préparation, et le même calage, que ceux du calcul des indicateurs (carnet 3) :
# `dls.prepare_wave`.

# %%
cadre, comptes = dls.survey_frame(etape1["codes"], p, catalogue, marges)
print(f"Réponses hors quartiers du diagnostic : {comptes['hors_quartiers']} ; "
      f"sans âge ou sans sexe (écartées) : {comptes['sans_age_sexe']}")

# %% [markdown]
# ## Calage

# %%
vague = dls.prepare_wave(etape1["codes"], marges, p, catalogue)
if vague.calibration is None:   # nobody to weight: no deliverable can rest on it
    raise dls.EstimationError(
        f"aucun répondant des quartiers du projet avec un âge et un sexe connus ({comptes['hors_quartiers']} "
        f"réponses hors quartiers, {comptes['sans_age_sexe']} sans âge ou sexe) : rien à pondérer ni à "
        "estimer ; vérifiez la colonne « quartier » des réponses et les quartiers de projet.yaml.")
calage = vague.calibration
print(calage.summary())
poids = pd.Series(calage.weights, index=vague.frame.index)

# %% [markdown]
# ## Qualité de la pondération par quartier

# %%
diagnostic = pd.DataFrame([{"quartier": q, **dls.weight_diagnostics(poids[vague.frame["quartier"] == q])}
                           for q in p.libelles])
dls.show(diagnostic, {"quartier": "Quartier", "n": "Répondants pondérés", "kish_deff": "Effet de plan (Kish)",
                      "n_eff": "Effectif efficace", "min": "Poids minimum", "max": "Poids maximum"},
         decimals={"kish_deff": 2, "n_eff": 0, "min": 2, "max": 2})

# %% [markdown]
# ## Représentativité : échantillon, population, échantillon pondéré

# %%
marges = dls.margins_frame(marges, p)
resume = dls.collection_summary(etape1["data"], cadre, poids, marges, p, n_read=etape1["n_read"],
                                n_rejected=etape1["n_rejected"])
dls.show(resume["representativeness"].drop(columns=["kind", "band"]),
         {"quartier": "Quartier", "groupe": "Groupe", "n": "Répondants",
          "pct_echantillon": "Part des répondants", "pct_population": "Part des habitants (recensement)",
          "pct_pondere": "Part après pondération"},
         percent=("pct_echantillon", "pct_population", "pct_pondere"))

# %%
dls.save_step(travail, "ponderation.pkl", {"summary": resume})   # le résumé des méthodes, lu par les carnets 4 et 5
dls.save_step(travail, "vague.pkl", vague)   # la vague calée (poids, calage), reprise telle quelle par le carnet 3
