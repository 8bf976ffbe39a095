"""The ``dls`` command line: a thin caller of the library, in French.

Each command imports what it needs inside its body so that ``dls --help`` stays fast.
Errors meant for the user (:class:`diagnostics.errors.DLSError`) are printed as one French
sentence with the right exit code, never as a traceback.
"""
from __future__ import annotations

import os
import sys

import click

from .errors import DLSError

CONTEXT = dict(help_option_names=["-h", "--help"])


@click.group(context_settings=CONTEXT)
@click.version_option(package_name="dls-diagnostics", message="dls %(version)s")
def cli():
    """Boîte à outils des diagnostics locaux de santé (DLS).

    Enchaînement : lire → valider → pondérer → estimer → comparer → protéger → publier.
    """


@cli.group()
def questionnaire():
    """Exporter le questionnaire (formulaire en ligne, version papier, classeur de saisie)."""


def main(argv=None):
    """Entry point of the ``dls`` console script."""
    try:
        return cli.main(args=argv, prog_name="dls", standalone_mode=True)
    except DLSError as exc:
        click.echo(f"Erreur : {exc}", err=True)
        sys.exit(exc.exit_code)
    except Exception as exc:  # a bug of ours: say so in French, details on demand
        if os.environ.get("DLS_DEBUG"):
            raise
        click.echo(f"Erreur inattendue ({type(exc).__name__} : {exc}). Relancez avec DLS_DEBUG=1 "
                   "pour le détail technique et signalez-la aux mainteneurs.", err=True)
        sys.exit(3)


# Commands below: each imports its module inside the function body.
