"""DLS toolkit: local health diagnostics from resident questionnaires and insurance extracts.

Data flows one way: read → validate → weight → estimate → compare → protect → report.

>>> import diagnostics as dls
>>> qn = dls.load_questionnaire()
>>> res = dls.validate(paths.EXAMPLE / "reponses_synthetiques.csv", qn)        # doctest: +SKIP
>>> table = dls.compute_indicators(res.codes, margins)                     # doctest: +SKIP

The IMPACT evaluation statistics live in :mod:`diagnostics.impact`
(``from diagnostics import impact``).
"""
__version__ = "0.1.0"

import importlib

# Public API, loaded lazily (PEP 562) so that `dls --help` stays fast:
# name -> (module, attribute)
_API = {
    "DLSError": (".errors", "DLSError"),
    "UnreadableFileError": (".errors", "UnreadableFileError"),
    "ConfigurationError": (".errors", "ConfigurationError"),
    "EstimationError": (".errors", "EstimationError"),
    "Questionnaire": (".questionnaire", "Questionnaire"),
    "load_questionnaire": (".questionnaire", "load_questionnaire"),
    "load_dimensions": (".questionnaire", "load_dimensions"),
    "write_xlsform": (".xlsform", "write_xlsform"),
    "write_paper_form": (".paper_form", "write_paper_form"),
    "write_entry_workbook": (".entry_workbook", "write_entry_workbook"),
    "html_to_pdf": (".pdf", "html_to_pdf"),
    "read_answers": (".readers", "read_answers"),
    "detect_format": (".readers", "detect_format"),
    "ValidationResult": (".validation", "ValidationResult"),
    "validate": (".validation", "validate"),
    "write_report": (".validation", "write_report"),
    "pseudonymise": (".pseudonym", "pseudonymise"),
    "rake": (".weighting", "rake"),
    "poststratify": (".weighting", "poststratify"),
    "calibrate": (".weighting", "calibrate"),
    "trim_weights": (".weighting", "trim_weights"),
    "weight_diagnostics": (".weighting", "weight_diagnostics"),
    "Design": (".survey", "Design"),
    "quantile": (".quantiles", "quantile"),
    "glm": (".regression", "glm"),
    "ttest": (".regression", "ttest"),
    "epices": (".scores", "epices"),
    "epices_precarious": (".scores", "epices_precarious"),
    "who5": (".scores", "who5"),
    "who5_categories": (".scores", "who5_categories"),
    "mehm": (".scores", "mehm"),
    "loneliness": (".scores", "loneliness"),
    "loneliness_lonely": (".scores", "loneliness_lonely"),
    "dsr": (".rates", "dsr"),
    "rate_ci": (".rates", "rate_ci"),
    "count_ci": (".rates", "count_ci"),
    "ratio_ci": (".rates", "ratio_ci"),
    "wilson_ci": (".rates", "proportion_ci"),
    "read_extract": (".extracts", "read_extract"),
    "read_extracts": (".extracts", "read_extracts"),
    "read_references": (".extracts", "read_references"),
    "load_catalogue": (".catalogue", "load_catalogue"),
    "compute_indicators": (".indicators", "compute_indicators"),
    "write_indicators": (".indicators", "write_indicators"),
    "compare_ci": (".compare", "compare_ci"),
    "wave_difference": (".trends", "wave_difference"),
    "prop_trend_test": (".trends", "prop_trend_test"),
    "protect_table": (".disclosure", "protect_table"),
    "protect_indicators": (".disclosure", "protect_indicators"),
    "scrub_text": (".disclosure", "scrub_text"),
    "load_reviewed_quotes": (".disclosure", "load_reviewed_quotes"),
    "reviewed_only": (".disclosure", "reviewed_only"),
    "write_quotes_for_review": (".disclosure", "write_quotes_for_review"),
    "Limits": (".readers", "Limits"),
}

__all__ = list(_API) + ["impact"]


def __getattr__(name):
    if name in _API:
        module, attr = _API[name]
        value = getattr(importlib.import_module(module, __name__), attr)
        globals()[name] = value
        return value
    if name == "impact":
        return importlib.import_module(".impact", __name__)
    raise AttributeError(f"module 'diagnostics' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
