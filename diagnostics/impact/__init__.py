"""IMPACT evaluation statistics: before/after follow-up and activity of the programme.

The IMPACT programme (Pôle Santé Chambéry) supports people in complex situations
(diététique, psychologie, accompagnement santé ICA, tabacologie, neuropsychologie,
réflexologie).  Its yearly evaluation reads two exports of the information system and
produces, with their uncertainty:

* paired binary answers before/after (:func:`paired_proportions` from the rows,
  :func:`paired_table` from a 2×2 table of counts: both shares, difference with a Newcombe or
  Tango CI, McNemar exact, mid-p and chi-square);
* change of a measure such as the visceral fat level (:func:`measure_change`: shares
  decreased / stable / increased with Wilson CIs, Wilcoxon signed-rank, Hodges–Lehmann);
* single-time shares with their denominator (:func:`proportion`);
* activity counts and charts (:func:`activity_summary`, ``chart_*``).

Example
-------
>>> from diagnostics import impact
>>> from diagnostics.paths import EXAMPLE      # the synthetic example shipped with the package
>>> suivi = impact.read_followup(EXAMPLE / "impact_suivi_synthetique.csv")
>>> r = impact.paired_proportions(suivi.data, "aise_questions_avant", "aise_questions_apres")
>>> round(r.p_before, 2), round(r.p_after, 2)
(0.67, 0.92)
"""
from .activity import (ActivitySummary, activity_summary, chart_change,
                       chart_consultations_by_month, chart_consultations_by_type)
from .change import (CHANGE_KEYS, DIGITS_RANK, ChangeResult, WilcoxonResult, measure_change,
                     wilcoxon_signed_rank)
from .proportions import (PairedResult, ProportionResult, mcnemar_exact, paired_difference_ci,
                          paired_proportions, paired_table, proportion)
from .read import (ACTIVITY_TYPES, FOLLOWUP_VARIABLES, ReadResult, Variable, read_activity,
                   read_followup)
from .table import SMALL_N, evaluation_table

__all__ = [
    "read_followup", "read_activity", "ReadResult", "Variable", "FOLLOWUP_VARIABLES",
    "ACTIVITY_TYPES", "proportion", "paired_proportions", "paired_table", "paired_difference_ci",
    "mcnemar_exact", "measure_change", "wilcoxon_signed_rank", "activity_summary",
    "chart_consultations_by_type", "chart_consultations_by_month", "chart_change",
    "evaluation_table", "ProportionResult", "PairedResult", "ChangeResult", "WilcoxonResult",
    "ActivitySummary", "SMALL_N", "CHANGE_KEYS", "DIGITS_RANK",
]
