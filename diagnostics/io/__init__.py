"""Input/output helpers every stage may use: atomic files, spreadsheets, file formats, PDF printing."""
