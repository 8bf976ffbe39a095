"""What may be published: the secrecy rules, in one package, applied before anything is printed.

* :mod:`~diagnostics.protect.cells` — tables of counts: primary and secondary suppression until no
  masked cell can be recovered from the margins (``protect_table``, ``audit_table``);
* :mod:`~diagnostics.protect.estimates` — the indicator table: survey estimates published from
  ``seuils.repondants_minimum`` respondents, extract counts under the threshold masked
  (``protect_indicators``);
* :mod:`~diagnostics.protect.text` — free text scrubbed of telephone numbers, e-mails and names;
* :mod:`~diagnostics.protect.review` — quotes published only once the analyst marked them « oui ».
"""
