"""The orchestrators: they run the stages in order (config → collect → stats → protect → publish).

* :mod:`~diagnostics.engine.indicators` — the indicator table of a project;
* :mod:`~diagnostics.engine.evolution` — the previous diagnostic and the extracts' yearly series;
* :mod:`~diagnostics.engine.build` — the deliverables (notebooks run headless, then printed).
"""
