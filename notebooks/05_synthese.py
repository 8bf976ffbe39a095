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

# %%
from pathlib import Path

import pandas as pd

from diagnostics.collect.interviews import load_interviews
from diagnostics.publish import findings, report
from diagnostics.publish.carnets import load_step, open_project

p, travail = open_project(projet, dossier_travail)
tableau = load_step(travail, "indicateurs.pkl")   # écrit par le carnet 3
resume = pd.read_pickle(travail / "ponderation.pkl")["summary"] if (travail / "ponderation.pkl").exists() else None
quartiers = {x.id: x.libelle for x in p.quartiers}
entretiens = load_interviews(p.donnees["entretiens"], quartiers=quartiers) if p.donnees["entretiens"] else []
entretiens, _, _ = report.reviewed_quotes(p, entretiens)   # seules les citations relues « oui » sont publiées

# %% [markdown]
# ## Vue d'ensemble : nombre d'indicateurs moins et plus favorables par quartier

# %%
from diagnostics.publish.sources import load_sources

sources = load_sources(p)
index = findings.TableIndex(tableau)   # le tableau indexé une fois pour tous les quartiers
pd.DataFrame([{"quartier": q.libelle, **{k: len(v) for k, v in
                                          findings.key_findings(index, q.libelle, p, sources=sources).items()
                                          if k in ("worse", "better", "context")}} for q in p.quartiers])

# %%
liens = {q.libelle: f"dls_{q.id}.html" for q in p.quartiers}
evolution = load_step(travail, "evolution.pkl") if (travail / "evolution.pkl").exists() else None  # carnet 3
html = report.render_synthesis(p, tableau, methods=resume, interviews=entretiens, links=liens, sources=sources,
                               evolution=evolution)
sortie = report.write_html(html, Path(dossier_sortie) / fichier)
print(f"Synthèse écrite : {sortie}")
