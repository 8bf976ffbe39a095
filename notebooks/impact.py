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
# # Évaluation du dispositif IMPACT — tableau et graphiques
#
# Ce carnet produit, chaque année, les statistiques d'évaluation du dispositif
# d'accompagnement IMPACT (diététique, psychologie, accompagnement santé ICA, tabacologie,
# neuropsychologie, réflexologie) **avec leur incertitude** :
#
# * l'évolution de la masse grasse viscérale des personnes en surpoids (en baisse, stable,
#   en hausse), avec test de Wilcoxon et variation médiane ;
# * les réponses avant / après suivi (« à l'aise pour poser des questions aux
#   professionnels de santé »), comparées sur les mêmes personnes ;
# * les réponses posées une seule fois (« effet positif du suivi sur le moral ») ;
# * l'activité de l'année : adressages, consultations par type et par mois.
#
# > **Données synthétiques.** Les fichiers de `data/exemple/` sont fabriqués
# > (`data/exemple/generate_impact.py`) : aucune personne réelle. Leurs ordres de grandeur
# > reprennent le rapport d'activité 2021 du Pôle Santé Chambéry ; les effectifs
# > (dénominateurs), que le rapport ne donne pas, sont inventés. Pour l'évaluation réelle,
# > remplacer les deux chemins ci-dessous par les exports du système d'information.

# %%

import pandas as pd

from diagnostics import impact
from diagnostics.fmt import interval, number, percent

pd.set_option("display.max_colwidth", 120)
from diagnostics.paths import EXAMPLE  # données synthétiques livrées avec l'outil

FICHIER_SUIVI = EXAMPLE / "impact_suivi_synthetique.csv"
FICHIER_ACTIVITE = EXAMPLE / "impact_activite_synthetique.csv"
ANNEE = 2021

# %% [markdown]
# ## 1. Lecture et contrôle des fichiers
#
# Le formulaire de suivi est lu au format « long » (une ligne par personne et par temps)
# ou « large » (colonnes `_avant` / `_apres`) : le format est reconnu tout seul. Chaque ligne
# est soit acceptée, soit listée avec la raison du refus (ligne telle que vue dans Excel,
# colonne, valeur).

# %%
suivi = impact.read_followup(FICHIER_SUIVI)
print(f"Formulaire de suivi ({suivi.layout}) : {suivi.n_read} lignes lues, "
      f"{suivi.n_accepted} acceptées, {suivi.n_rejected} rejetées ; "
      f"{len(suivi.data)} personnes.")
suivi.rejected

# %%
journal = impact.read_activity(FICHIER_ACTIVITE)
print(f"Journal d'activité : {journal.n_read} lignes lues, {journal.n_accepted} acceptées, "
      f"{journal.n_rejected} rejetées.")

# %% [markdown]
# ## 2. Résultats de l'évaluation
#
# *Masse grasse viscérale* : personnes en surpoids à l'inclusion, mesurées avant **et**
# après le suivi. « Stable » = même niveau (tolérance réglable, `tolerance=`).
# La variation médiane est l'estimateur de Hodges–Lehmann (pseudo-médiane des différences
# non nulles), avec l'intervalle que donne R `wilcox.test(conf.int = TRUE)`.
#
# *Réponses avant / après* : seules les personnes ayant répondu aux deux temps comptent ;
# la différence après − avant a un intervalle pour données appariées (Newcombe, méthode 10 ;
# `method="tango"` pour l'intervalle du score de Tango) et le test exact de McNemar porte
# sur les paires discordantes.

# %%
d = suivi.data
en_surpoids = d[d["surpoids_avant"] == 1]
graisse = impact.measure_change(en_surpoids, "graisse_viscerale_avant",
                                "graisse_viscerale_apres", tolerance=0,
                                label="Masse grasse viscérale (personnes en surpoids)")
moral = impact.proportion(d, "effet_moral_apres",
                          label="Attribuent un effet positif du suivi sur leur moral")
aise = impact.paired_proportions(d, "aise_questions_avant", "aise_questions_apres",
                                 label="À l'aise pour poser des questions aux professionnels")
tableau = impact.evaluation_table(graisse, moral, aise)
tableau

# %% [markdown]
# ### Lecture en une phrase par résultat

# %%
ic = f"IC à {percent(graisse.conf_level, 0)}"
bs, baisse = graisse.share("decreased_or_stable"), graisse.decreased
print(f"{percent(bs.estimate, 0)} des {graisse.n_pairs} personnes en surpoids mesurées deux "
      f"fois ont diminué ou stabilisé leur masse grasse viscérale ({ic} : "
      f"{interval(bs.ci_low, bs.ci_high, 0)}), dont {percent(baisse.estimate, 0)} "
      f"en baisse ({interval(baisse.ci_low, baisse.ci_high, 0)}).")
print(f"{percent(moral.estimate, 0)} des {moral.n_asked} personnes interrogées attribuent un "
      f"effet positif du suivi sur leur moral ({moral.n_total - moral.n_asked} personnes "
      "n'ont pas été interrogées).")
print(f"{percent(aise.p_after, 0)} des {aise.n_pairs} personnes ayant répondu deux fois "
      f"s'estiment à l'aise pour poser des questions, contre {percent(aise.p_before, 0)} "
      f"avant le suivi ; écart de {number(aise.difference * 100, 0)} points "
      f"({ic} : {number(aise.ci_low * 100, 0)} à {number(aise.ci_high * 100, 0)} points), "
      f"{aise.discordant} paires discordantes.")

# %%
impact.chart_change(graisse)

# %% [markdown]
# Avec l'intervalle de Tango au lieu de Newcombe, pour comparaison :

# %%
impact.evaluation_table(impact.paired_proportions(
    d, "aise_questions_avant", "aise_questions_apres", method="tango",
    label="À l'aise pour poser des questions")).iloc[[2]]

# %% [markdown]
# ## 3. Activité de l'année
#
# **Attention, chiffres du rapport 2021 incohérents.** Le rapport annonce « 182 nouveaux
# adressages et 509 consultations », puis détaille 115 rendez-vous ICA, 164 diététiques,
# 204 psychologiques, 4 bilans neuropsychologiques, 14 séances de réflexologie et
# 36 consultations de tabacologie, soit **537** et non 509. Les données synthétiques
# suivent le détail par type (537) ; le total recalculé ci-dessous est donc 537.

# %%
activite = impact.activity_summary(journal.data, year=ANNEE)
detail_rapport = {"ICA": 115, "Diététique": 164, "Psychologie": 204, "Neuropsychologie": 4,
                  "Réflexologie": 14, "Tabacologie": 36}
print(f"Somme du détail par type du rapport : {sum(detail_rapport.values())} "
      f"(total annoncé dans le rapport : 509) ; total recalculé : {activite.consultations}.")
activite.table()

# %%
impact.chart_consultations_by_type(activite)

# %%
impact.chart_consultations_by_month(activite)

# %% [markdown]
# ## Méthodes
#
# * Proportions : intervalle de Wilson (score), dénominateur = personnes ayant répondu.
# * Avant / après : différence de proportions appariées, intervalle de Newcombe (1998,
#   méthode 10) ou de Tango (1998) ; test exact de McNemar (loi binomiale sur les paires
#   discordantes) et sa version mid-p.
# * Mesure continue : parts en baisse / stable / en hausse (Wilson) ; test des rangs signés
#   de Wilcoxon et estimateur de Hodges–Lehmann avec son intervalle, calculés comme R
#   `wilcox.test(conf.int = TRUE)` (exact sans ex-aequo ni différence nulle et n < 50,
#   sinon approximation normale avec correction de continuité ; les différences nulles sont
#   écartées).
# * Les effectifs inférieurs à 30 sont signalés « à interpréter avec prudence ».
