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

#: French name of each state, as messages print it.
LABELS = {REJECTED: "rejetée", HAS_ISSUES: "« à problème »", APPROVED: "approuvée", EDITED: "modifiée"}


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
