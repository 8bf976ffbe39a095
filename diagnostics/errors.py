"""Errors a user can read.

Every error raised on a user's input is a :class:`DLSError` whose message is one French
sentence naming the file, the row (as the analyst sees it in Excel), the column, the value and
what was expected.  The CLI prints the message and never a traceback.
"""
from __future__ import annotations


class DLSError(Exception):
    """Base class of errors meant for the user (message in French)."""

    exit_code = 2

    def __init__(self, message: str, *, file=None, row=None, column=None, value=None, expected=None):
        self.file = None if file is None else str(file)
        self.row = row
        self.column = column
        self.value = value
        self.expected = expected
        super().__init__(message)


class UnreadableFileError(DLSError):
    """The file cannot be read at all (empty, not a table, wrong sheet, corrupt)."""

    exit_code = 2


class ConfigurationError(DLSError):
    """A configuration file (questionnaire, catalogue, project, directory) is invalid."""

    exit_code = 2


class EstimationError(DLSError):
    """A statistical computation cannot be carried out on the given data (e.g. empty margin)."""

    exit_code = 2


def where(file=None, row=None, column=None) -> str:
    """Return a French location prefix such as ``« f.csv », ligne 12, colonne « age » : ``."""
    parts = []
    if file is not None:
        parts.append(f"« {file} »")
    if row is not None:
        parts.append(f"ligne {row}")
    if column is not None:
        parts.append(f"colonne « {column} »")
    return (", ".join(parts) + " : ") if parts else ""
