"""Review states of submissions on the collection servers: one vocabulary, one rule.

ODK Central and KoboToolbox let the team review each submission.  The toolkit reads that state
(from a pull, or from the servers' own CSV exports) and applies one rule:

- **rejected** (Central « Rejected », Kobo « Not approved ») — kept out of the analysis by
  default, counted and named (``dls check``, ``dls suivi``); ``--inclure-rejetees`` keeps them;
- **has issues** (Central « Has issues », Kobo « On hold ») — kept, counted and flagged;
- **approved**, **edited**, no state — kept.

Where the state is written:

- ODK Central: ``__system/reviewState`` in OData (``null``, ``hasIssues``, ``edited``,
  ``approved``, ``rejected``: the ``ReviewState`` enum of ``lib/formats/odata.js``), column
  ``ReviewState`` of the CSV export (getodk/central-backend, https://github.com/getodk/central-backend);
- KoboToolbox: ``_validation_status`` (``{}`` or ``{"uid": "validation_status_approved" |
  "validation_status_not_approved" | "validation_status_on_hold", "label", "by_whom",
  "timestamp"}`` in the data API, the uid in formpack's CSV export): kobotoolbox/kpi
  ``jsapp/js/constants.ts`` ``VALIDATION_STATUSES`` (https://github.com/kobotoolbox/kpi).
"""
from __future__ import annotations

REJECTED, HAS_ISSUES, APPROVED, EDITED = "rejected", "hasIssues", "approved", "edited"

#: Normalised header (lower case) of the review-state column in each server's exports.
COLUMNS = ("reviewstate", "_validation_status")

_BY_VALUE = {
    "rejected": REJECTED, "hasissues": HAS_ISSUES, "approved": APPROVED, "edited": EDITED,
    "validation_status_not_approved": REJECTED, "validation_status_on_hold": HAS_ISSUES,
    "validation_status_approved": APPROVED,
    # Kobo's « labels » export and hand edits: the English labels of both servers
    "not approved": REJECTED, "on hold": HAS_ISSUES, "has issues": HAS_ISSUES,
}

def normalise(value) -> str | None:
    """One server's review state → ``rejected``, ``hasIssues``, ``approved``, ``edited`` or None.

    Accepts Central's values, Kobo's uids, a Kobo ``_validation_status`` object (its ``uid``)
    and the English labels; anything else (blank, unknown) is None.
    """
    if isinstance(value, dict):
        value = value.get("uid")
    if value is None:
        return None
    return _BY_VALUE.get(str(value).strip().lower())


def row_state(server: str, row: dict) -> str | None:
    """The review state of one submission as the server's API sends it."""
    if server == "kobo":
        return normalise(row.get("_validation_status"))
    return normalise((row.get("__system") or {}).get("reviewState"))


#: Kinds of the validation issues this rule raises (``ValidationResult.issues["type"]``).
KIND_REJECTED = "soumission rejetée à la revue sur le serveur"
KIND_REJECTED_KEPT = "soumission rejetée à la revue, gardée (--inclure-rejetees)"
KIND_HAS_ISSUES = "soumission « à problème » à la revue sur le serveur"


def counts(issues) -> dict:
    """How many rows the review rule rejected, kept although rejected, and flagged « has issues ».

    Parameters
    ----------
    issues : DataFrame
        ``ValidationResult.issues`` (its ``type`` column).
    """
    kinds = issues["type"].value_counts() if len(issues) and "type" in issues else {}
    return {"rejected": int(kinds.get(KIND_REJECTED, 0)), "rejected_kept": int(kinds.get(KIND_REJECTED_KEPT, 0)),
            "has_issues": int(kinds.get(KIND_HAS_ISSUES, 0))}


def summary_line(found: dict) -> str | None:
    """French line for ``dls check`` / ``dls suivi``: how many rows the review rule set apart and why."""
    from .. import fmt
    parts = []
    if found["rejected"]:
        k = found["rejected"]
        parts.append(f"{fmt.number(k)} soumission{'s' if k > 1 else ''} rejetée{'s' if k > 1 else ''} lors de la "
                     "revue sur le serveur de collecte, écartée" + ("s" if k > 1 else "")
                     + " de l'analyse (--inclure-rejetees pour les garder)")
    if found["rejected_kept"]:
        k = found["rejected_kept"]
        parts.append(f"{fmt.number(k)} soumission{'s' if k > 1 else ''} rejetée{'s' if k > 1 else ''} à la revue "
                     "gardée" + ("s" if k > 1 else "") + " à la demande (--inclure-rejetees)")
    if found["has_issues"]:
        k = found["has_issues"]
        parts.append(f"{fmt.number(k)} soumission{'s' if k > 1 else ''} marquée{'s' if k > 1 else ''} « à problème » "
                     "à la revue, gardée" + ("s" if k > 1 else "") + " et signalée" + ("s" if k > 1 else ""))
    return ("Revue sur le serveur : " + " ; ".join(parts) + ".") if parts else None
