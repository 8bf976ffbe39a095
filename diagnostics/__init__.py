"""DLS toolkit: local health diagnostics from resident questionnaires and insurance extracts.

Data flow: read → validate → weight → estimate → compare → protect → report.
"""
__version__ = "0.1.0"
