"""DLS toolkit: local health diagnostics from resident questionnaires and insurance extracts.

Data flows one way: read → validate → weight → estimate → compare → protect → report.

>>> import diagnostics as dls
>>> qn = dls.load_questionnaire()
>>> res = dls.validate(paths.EXAMPLE / "reponses_synthetiques.csv", qn)        # doctest: +SKIP
>>> table = dls.compute_indicators(res.codes, margins)                     # doctest: +SKIP

The questionnaire side is one engine (:mod:`diagnostics.engine.wave`):
``dls.prepare_wave(codes, margins, project, catalogue)`` rakes the respondents once and holds
every indicator's variable, ``dls.estimate(wave, catalogue)`` gives the tidy estimates.

The IMPACT evaluation statistics live in :mod:`diagnostics.impact`
(``from diagnostics import impact``).

Every estimator answers the same result shape (:mod:`diagnostics.results`): a tidy frame with
English columns ``estimate, se, ci_low, ci_high, conf_level, method, n`` (and ``kind``,
``statistic``, ``label``… where they apply); French only in values and display tables.
"""
__version__ = "0.1.0"

from importlib import import_module as _import_module

# Public API, loaded lazily (PEP 562) so that `dls --help` stays fast:
# name -> (module, attribute)
_API = {
    "DLSError": (".errors", "DLSError"),
    "UnreadableFileError": (".errors", "UnreadableFileError"),
    "ConfigurationError": (".errors", "ConfigurationError"),
    "EstimationError": (".errors", "EstimationError"),
    "Questionnaire": (".config.questionnaire", "Questionnaire"),
    "load_questionnaire": (".config.questionnaire", "load_questionnaire"),
    "load_dimensions": (".config.questionnaire", "load_dimensions"),
    "write_xlsform": (".collect.xlsform", "write_xlsform"),
    "write_paper_form": (".collect.paper_form", "write_paper_form"),
    "write_entry_workbook": (".collect.entry_workbook", "write_entry_workbook"),
    "html_to_pdf": (".io.pdf", "html_to_pdf"),
    "read_answers": (".collect.readers", "read_answers"),
    "detect_format": (".collect.readers", "detect_format"),
    "ValidationResult": (".collect.validation", "ValidationResult"),
    "validate": (".collect.validation", "validate"),
    "write_report": (".collect.validation", "write_report"),
    "pseudonymise": (".collect.pseudonym", "pseudonymise"),
    "rake": (".stats.weighting", "rake"),
    "poststratify": (".stats.weighting", "poststratify"),
    "calibrate": (".stats.weighting", "calibrate"),
    "trim_weights": (".stats.weighting", "trim_weights"),
    "weight_diagnostics": (".stats.weighting", "weight_diagnostics"),
    "Design": (".stats.survey", "Design"),
    "quantile": (".stats.quantiles", "quantile"),
    "glm": (".stats.regression", "glm"),
    "ttest": (".stats.regression", "ttest"),
    "epices": (".stats.scores", "epices"),
    "epices_precarious": (".stats.scores", "epices_precarious"),
    "who5": (".stats.scores", "who5"),
    "who5_categories": (".stats.scores", "who5_categories"),
    "mehm": (".stats.scores", "mehm"),
    "loneliness": (".stats.scores", "loneliness"),
    "loneliness_lonely": (".stats.scores", "loneliness_lonely"),
    "dsr": (".stats.rates", "dsr"),
    "rate_ci": (".stats.rates", "rate_ci"),
    "count_ci": (".stats.rates", "count_ci"),
    "ratio_ci": (".stats.rates", "ratio_ci"),
    "wilson_ci": (".stats.rates", "proportion_ci"),
    "read_extract": (".collect.extracts", "read_extract"),
    "read_extracts": (".collect.extracts", "read_extracts"),
    "read_references": (".collect.extracts", "read_references"),
    "load_references": (".collect.references", "load_references"),
    "generate_records": (".collect.records_synth", "generate_records"),
    "load_record_catalogue": (".stats.records", "load_record_catalogue"),
    "count_records": (".stats.records", "count_records"),
    "records_extract": (".stats.records", "records_extract"),
    "write_records_extract": (".stats.records", "write_records_extract"),
    "load_catalogue": (".config.catalogue", "load_catalogue"),
    "load_project_catalogue": (".config.catalogue", "load_project_catalogue"),
    "read_margins": (".collect.margins", "read_margins"),
    "survey_frame": (".engine.wave", "survey_frame"),
    "margins_frame": (".engine.wave", "margins_frame"),
    "rake_wave": (".engine.wave", "rake_wave"),
    "indicator_variable": (".engine.wave", "indicator_variable"),
    "prepare_wave": (".engine.wave", "prepare_wave"),
    "estimate": (".engine.wave", "estimate"),
    "Wave": (".engine.wave", "Wave"),
    "compute_indicators": (".engine.indicators", "compute_indicators"),
    "open_project": (".publish.carnets", "open_project"),
    "load_step": (".publish.carnets", "load_step"),
    "save_step": (".publish.carnets", "save_step"),
    "show": (".publish.carnets", "show"),
    "collection_summary": (".publish.report", "collection_summary"),
    "load_interviews": (".collect.interviews", "load_interviews"),
    "load_actors": (".collect.actors", "load_actors"),
    "load_sources": (".publish.sources", "load_sources"),
    "TableIndex": (".publish.display", "TableIndex"),
    "essentiel": (".publish.findings", "essentiel"),
    "key_findings": (".publish.findings", "key_findings"),
    "read_statement": (".publish.constats", "read_statement"),
    "statement_path": (".publish.constats", "statement_path"),
    "reviewed_quotes": (".publish.report", "reviewed_quotes"),
    "select_comments": (".publish.report", "select_comments"),
    "review_path": (".publish.report", "review_path"),
    "render_quartier": (".publish.report", "render_quartier"),
    "render_synthesis": (".publish.report", "render_synthesis"),
    "render_definitions": (".publish.report", "render_definitions"),
    "DEFINITIONS_FILE": (".paths", "DEFINITIONS_FILE"),
    "write_html": (".publish.report", "write_html"),
    "read_indicator_table": (".publish.report", "read_indicator_table"),
    "get_secret": (".collect.pseudonym", "get_secret"),
    "secret_path": (".collect.pseudonym", "secret_path"),
    "write_indicators": (".engine.indicators", "write_indicators"),
    "refuse_empty": (".engine.indicators", "refuse_empty"),
    "compare_ci": (".stats.compare", "compare_ci"),
    "compare_test": (".stats.compare", "compare_test"),
    "domain_contrast": (".stats.survey.contrast", "domain_contrast"),
    "wave_difference": (".stats.trends", "wave_difference"),
    "prop_trend_test": (".stats.trends", "prop_trend_test"),
    "poisson_trend_test": (".stats.trends", "poisson_trend_test"),
    "wave_estimates": (".engine.evolution", "wave_estimates"),
    "evolution_estimates": (".engine.evolution", "evolution_estimates"),
    "read_previous_wave": (".engine.evolution", "read_previous_wave"),
    "compute_evolution": (".engine.evolution", "compute_evolution"),
    "extract_series": (".engine.evolution", "extract_series"),
    "read_history": (".engine.history", "read_history"),
    "protect_table": (".protect.cells", "protect_table"),
    "protect_indicators": (".protect.estimates", "protect_indicators"),
    "scrub_text": (".protect.text", "scrub_text"),
    "load_reviewed_quotes": (".protect.review", "load_reviewed_quotes"),
    "reviewed_only": (".protect.review", "reviewed_only"),
    "write_quotes_for_review": (".protect.review", "write_quotes_for_review"),
    "Limits": (".collect.readers", "Limits"),
    "pull": (".collect.pull", "pull"),
    "monitor": (".engine.fieldwork", "monitor"),
    "write_monitor_page": (".publish.monitor", "write_monitor_page"),
}

__all__ = list(_API) + ["impact"]


def __getattr__(name):
    if name in _API:
        module, attr = _API[name]
        value = getattr(_import_module(module, __name__), attr)
        globals()[name] = value
        return value
    if name == "impact":
        return _import_module(".impact", __name__)
    raise AttributeError(f"module 'diagnostics' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
