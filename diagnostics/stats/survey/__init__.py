"""Design-based estimation (weights, strata, clusters, fpc) agreeing with R's ``survey``.

Build the design once, then ask it questions::

    d = Design(df, weights="poids", strata="quartier")
    d = d.rake({"sexe": marges_sexe, "groupe_age": marges_age})   # a new, calibrated design
    d.proportion("renoncement_soins", by="quartier")        # tidy DataFrame
    d.mean(["score_who5"], by="sexe")
    d.chisq("renoncement_soins", "quartier")                  # Rao-Scott, one tidy row
    contrast(d.mean("x", by="quartier"), {"A − B": {"A": 1, "B": -1}})   # svycontrast

Every estimator returns one tidy table with the columns ``domain, variable, level, estimate,
se, ci_low, ci_high, n, deff, fragile, suppressed, method, df, conf_level, kind`` (plus
``numerator``, ``n_missing`` and ``n_na`` for proportions), and keeps the covariance of its
estimates (``frame.attrs["covariance"]``, :class:`diagnostics.results.Covariance`) for
:func:`contrast`.  Variances are Taylor
linearisation as R's ``svyrecvar`` (first stage, plus later stages when every stage has an
fpc); domains are estimated on the full design as ``svyby``
does (observations outside the domain keep their PSU and stratum, with zero score).

Small samples: ``fragile`` is True when the unweighted denominator ``n`` is below
``fragile_n`` (default 30); ``suppressed`` is True below ``suppress_n`` (default 10).  The
estimate is *kept* in both cases: blanking is the job of the disclosure-control step, which
needs the values to apply secondary suppression.

References
----------
Lumley T. (2004) Analysis of complex survey samples, J. Stat. Softw. 9(8); Lumley T. (2010)
*Complex Surveys*, Wiley; R package survey 4.x (``svymean``, ``svyby``, ``svyciprop``,
``svychisq``).
"""
from .contrast import contrast, domain_contrast
from .design import Design
from .estimators import CHISQ_COLUMNS, MISSING_DEFAULT, OVERALL, RESULT_COLUMNS
from .intervals import CI_METHODS, proportion_ci

__all__ = ["Design", "contrast", "domain_contrast", "CHISQ_COLUMNS", "CI_METHODS",
           "RESULT_COLUMNS", "MISSING_DEFAULT", "OVERALL", "proportion_ci"]
