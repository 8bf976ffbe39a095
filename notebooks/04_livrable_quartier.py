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
# # 4. Le livrable d'un quartier
#
# Ce carnet est paramétré par le quartier : `dls build` l'exécute une fois par quartier. Il
# rassemble le tableau des indicateurs (carnet 3), la description de l'enquête (carnets 1 et 2),
# les notes d'entretiens avec les partenaires, quelques remarques libres des habitants
# (anonymisées) et l'annuaire des acteurs, puis écrit un rapport HTML autonome (il s'ouvre sans
# connexion internet) que `dls build` imprime ensuite en PDF.

# %% tags=["parameters"]
projet = None           # None = le projet.yaml du dossier (ou de son parent), sinon l'exemple de Chambéry
dossier_travail = None  # None = build/travail à côté de projet.yaml (résultats des carnets 1 à 3)
quartier = None                      # identifiant du quartier (configuration du projet) ; None = le premier
dossier_sortie = "../build/apercu"    # exécution manuelle ; « dls build » écrit dans son propre dossier
fichier = None                       # nom du fichier HTML ; par défaut dls_<quartier>.html

# %%
from pathlib import Path

import pandas as pd

import diagnostics as dls

p, travail = dls.open_project(projet, dossier_travail)
q = p.quartier(quartier) if quartier else p.quartiers[0]
tableau = dls.load_step(travail, "indicateurs.pkl")   # écrit par le carnet 3
resume = pd.read_pickle(travail / "ponderation.pkl")["summary"] if (travail / "ponderation.pkl").exists() else None
print(f"Quartier : {q.libelle} ({q.qpv or 'sans code QPV'}) — {int((tableau['quartier'] == q.libelle).sum())} indicateurs")

# %% [markdown]
# ## « L'essentiel » : les constats principaux du quartier
#
# Les constats sont choisis automatiquement parmi les écarts significatifs à une référence publiée
# (même définition ou proche), aux autres quartiers enquêtés ou au diagnostic précédent, après
# contrôle du taux de fausses découvertes (Benjamini-Hochberg) ; jamais à partir d'une estimation
# fragile ni d'une valeur illustrative. Pour en épingler, en écarter ou reformuler un, et pour
# écrire les « points forts » et « pistes d'action » de l'ASV : `constats/<quartier>.md`, à côté
# du fichier du projet (modèle : `constats/MODELE.md` d'un projet créé par `dls init`).

# %%
sources = dls.load_sources(p)
evolution_tables = dls.load_step(travail, "evolution.pkl") if (travail / "evolution.pkl").exists() else None
texte_asv = dls.read_statement(dls.statement_path(p, q.id))
index = dls.TableIndex(tableau)   # le tableau indexé une fois : « L'essentiel » puis le rapport
essentiel = dls.essentiel(index, q.libelle, p, sources=sources, statement=texte_asv, twins=sources.twins,
                          evolution=(evolution_tables or {}).get("evolution"))
print(f"{essentiel['n_tests']} comparaisons, {essentiel['n_significant']} écart(s) significatif(s) après contrôle :")
for c in essentiel["findings"]:
    print(" -", c["sentence"], f"[{c['why']}]")
if not texte_asv.text:
    print("\nPas encore de points forts ni de pistes d'action de l'ASV :", dls.statement_path(p, q.id))

# %% [markdown]
# ## Sources qualitatives : entretiens, remarques des habitants, annuaire

# %%
quartiers = {x.id: x.libelle for x in p.quartiers}
entretiens = dls.load_interviews(p.donnees["entretiens"], quartiers=quartiers) if p.donnees["entretiens"] else []
acteurs = dls.load_actors(p.donnees["annuaire"], quartiers=quartiers) if p.donnees["annuaire"] else None
reponses = pd.read_pickle(travail / "reponses.pkl")["data"]
# Seules les citations et remarques marquées « oui » dans citations_relues.csv (à côté de
# projet.yaml) sont publiées ; l'expurgation (téléphones, courriels, noms) reste un filet de sécurité.
tous_entretiens = entretiens
entretiens, relues, a_relire = dls.reviewed_quotes(p, tous_entretiens, reponses)
remarques = dls.select_comments(reponses, q.libelle, reviewed=relues, n=4)
if a_relire and dls.review_path(p) is not None:
    try:   # la liste à relire, dans le dossier du projet (jamais dans les livrables)
        dls.write_quotes_for_review(tous_entretiens, dls.review_path(p), reviewed=relues,
                                    comments=reponses.get("commentaire", pd.Series(dtype=object)).dropna())
    except OSError as exc:
        print(f"La liste des citations à relire n'a pas pu être écrite dans « {dls.review_path(p)} » : "
              f"{exc.strerror or exc}.")
    print(f"{a_relire} citation(s) ou remarque(s) en attente de relecture : écrivez « oui » ou « non » "
          f"dans la colonne « publiable » de « {dls.review_path(p)} ».")
remarques

# %% [markdown]
# ## Écriture du rapport

# %%
html = dls.render_quartier(p, q.libelle, index, methods=resume, actors=acteurs, interviews=entretiens,
                          comments=remarques, sources=sources, evolution=evolution_tables)
sortie = dls.write_html(html, Path(dossier_sortie) / (fichier or f"dls_{q.id}.html"))
print(f"Rapport écrit : {sortie} ({len(html) / 1e6:.1f} Mo)")
