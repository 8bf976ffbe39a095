"""The orchestrators: they run the stages in order (config → collect → stats → protect → publish).

* :mod:`~diagnostics.engine.wave` — the one indicator engine: respondents → the one raking →
  one design → one estimate per questionnaire indicator;
* :mod:`~diagnostics.engine.extract_estimates` — an extract's counts → an estimate;
* :mod:`~diagnostics.engine.indicators` — the indicator table of a project;
* :mod:`~diagnostics.engine.evolution` — the previous diagnostic and the extracts' yearly series;
* :mod:`~diagnostics.engine.fieldwork` — the follow-up of the collection (``dls suivi``);
* :mod:`~diagnostics.engine.build` — the deliverables (notebooks run headless, then printed).
"""
