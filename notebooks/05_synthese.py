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
# # 5. La synthèse des quartiers
#
# Une vue d'ensemble pour le comité de pilotage : un tableau quartier × indicateur coloré par
# verdict, la matrice des thèmes abordés lors des entretiens avec les partenaires et, en annexe,
# le détail de chaque dimension avec les références.

# %% tags=["parameters"]
projet = None           # None = le projet.yaml du dossier (ou de son parent), sinon l'exemple de Chambéry
dossier_travail = None  # None = build/travail à côté de projet.yaml (résultats des carnets 1 à 3)
dossier_sortie = "../build/apercu"    # exécution manuelle ; « dls build » écrit dans son propre dossier
fichier = "dls_synthese.html"
fichier_definitions = None   # le document commun « Définitions, sources et glossaire » ; par défaut dls_definitions.html

# %%
from pathlib import Path

import pandas as pd

import diagnostics as dls

p, travail = dls.open_project(projet, dossier_travail)
tableau = dls.load_step(travail, "indicateurs.pkl")   # écrit par le carnet 3
resume = pd.read_pickle(travail / "ponderation.pkl")["summary"] if (travail / "ponderation.pkl").exists() else None
quartiers = {x.id: x.libelle for x in p.quartiers}
entretiens = dls.load_interviews(p.donnees["entretiens"], quartiers=quartiers) if p.donnees["entretiens"] else []
entretiens, _, _ = dls.reviewed_quotes(p, entretiens)   # seules les citations relues « oui » sont publiées

# %% [markdown]
# ## Vue d'ensemble : nombre d'indicateurs moins et plus favorables par quartier

# %%
sources = dls.load_sources(p)
index = dls.TableIndex(tableau)   # le tableau indexé une fois pour tous les quartiers
pd.DataFrame([{"quartier": q.libelle, **{k: len(v) for k, v in
                                          dls.key_findings(index, q.libelle, p, sources=sources).items()
                                          if k in ("worse", "better", "context")}} for q in p.quartiers])

# %%
liens = {q.libelle: f"dls_{q.id}.html" for q in p.quartiers}
evolution = dls.load_step(travail, "evolution.pkl") if (travail / "evolution.pkl").exists() else None  # carnet 3
html = dls.render_synthesis(p, index, methods=resume, interviews=entretiens, links=liens, sources=sources,
                            evolution=evolution)
sortie = dls.write_html(html, Path(dossier_sortie) / fichier)
print(f"Synthèse écrite : {sortie}")

# %% [markdown]
# ## Le document commun : définitions, sources et glossaire
#
# Les définitions des indicateurs, les valeurs de référence publiées et le glossaire sont les mêmes
# pour tous les quartiers : ils sont réunis dans un document à part, imprimé une fois, vers lequel
# l'annexe C de chaque rapport renvoie.

# %%
definitions = dls.write_html(dls.render_definitions(p, sources=sources),
                             Path(dossier_sortie) / (fichier_definitions or dls.DEFINITIONS_FILE))
print(f"Document commun écrit : {definitions}")
