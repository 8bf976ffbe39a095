"""Pseudonymous respondent identifiers: a keyed hash of the paper form number.

The raw identifier (``id_questionnaire``, or Kobo's ``_uuid``) never enters a clean table.
It is replaced by ``id_repondant = HMAC-SHA256(secret, id)`` truncated to 16 hexadecimal
digits (64 bits).  Without the secret, the pseudonym cannot be recomputed from a form number
(a plain hash could: form numbers are few and guessable); with it, the analyst can find the
paper form behind a respondent again.

The secret is local: environment variable ``DLS_SECRET``, else the file ``.dls_secret`` beside
the project's ``projet.yaml`` (ignored by git; see :func:`secret_path`), created on first use
with :func:`secrets.token_hex`.  ``dls check`` run in the project folder and ``dls build`` of
the project therefore use the same secret, whatever folder the notebooks' kernel runs in.
"""
from __future__ import annotations

import hashlib
import hmac
import numbers
import os
import secrets
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..config.project import DEFAULT_PROJECT, find_project
from ..errors import ConfigurationError

if TYPE_CHECKING:   # pandas is loaded by pseudonymise() only: making a secret stays light (dls build)
    import pandas as pd

__all__ = ["SECRET_ENV", "SECRET_FILE", "get_secret", "pseudonym", "pseudonymise", "secret_path"]

SECRET_ENV = "DLS_SECRET"
SECRET_FILE = Path(".dls_secret")  # name of the file, beside the project file
LENGTH = 16


def secret_path(project=None, fallback: str | Path | None = None) -> Path:
    """The secret file of a project: ``.dls_secret`` beside its ``projet.yaml``.

    Parameters
    ----------
    project : Project or path-like, optional
        The project (or its ``projet.yaml``); by default the nearest ``projet.yaml`` of the
        current folder or its parent (:func:`diagnostics.config.project.find_project`).
    fallback : path-like, optional
        Folder of the secret when there is no project file of the user's (the embedded
        example is package data, not a place to write to); default the current folder.

    Returns
    -------
    pathlib.Path
    """
    if project is None:
        source = find_project()
    else:
        source = project if isinstance(project, (str, Path)) else getattr(project, "source", None)
    if source is not None and Path(source).resolve() != DEFAULT_PROJECT.resolve():
        return Path(source).resolve().parent / SECRET_FILE.name
    return Path(fallback if fallback is not None else ".") / SECRET_FILE.name


def get_secret(path: str | Path | None = None, *, announce: bool = True) -> bytes:
    """Return the local pseudonymisation secret, creating it if needed.

    Parameters
    ----------
    path : path-like, optional
        Secret file; default :func:`secret_path` (beside the nearest ``projet.yaml``, else in
        the current folder).  Ignored when the environment variable ``DLS_SECRET`` is set.
    announce : bool, default True
        Print the notice below when the file is created; False for a secret that lives and
        goes with a temporary folder (the embedded example's, in a build's work folder).

    Returns
    -------
    bytes
        The secret (UTF-8 bytes of its text).

    Notes
    -----
    On creation (64 hexadecimal digits from :func:`secrets.token_hex`), a French notice is
    printed on standard error: keep the file with the raw data, out of git; losing it means
    the pseudonyms of a new import will not match the old ones.
    """
    env = os.environ.get(SECRET_ENV, "").strip()
    if env:
        return env.encode("utf-8")
    path = Path(path) if path is not None else secret_path()
    try:
        if path.exists():
            text = path.read_text(encoding="utf-8").strip()
            if text:
                return text.encode("utf-8")
        text = secrets.token_hex(32)
        path.write_text(text + "\n", encoding="utf-8")
        try:
            path.chmod(0o600)
        except OSError:
            pass
    except OSError as exc:
        raise ConfigurationError(f"Le secret de pseudonymisation « {path} » ne peut être ni lu ni créé "
                                 f"({exc.strerror}) ; définissez la variable d'environnement {SECRET_ENV}.",
                                 file=path) from exc
    if announce:
        print(f"Note : un secret de pseudonymisation a été créé dans « {path} ». Conservez ce fichier avec les "
              "données brutes, hors de git : il permet de retrouver le questionnaire papier derrière un "
              "identifiant « id_repondant », et les identifiants d'un nouvel import ne correspondront aux "
              "anciens qu'avec le même secret.", file=sys.stderr)
    return text.encode("utf-8")


def _key(secret) -> bytes:
    if secret is None:
        return get_secret()
    return secret if isinstance(secret, bytes) else str(secret).encode("utf-8")


def _text(raw_id) -> str:
    # a float of any kind (numpy's included), never an integer: 12.0 is read as 12
    if isinstance(raw_id, numbers.Real) and not isinstance(raw_id, numbers.Integral) and float(raw_id).is_integer():
        return str(int(raw_id))
    return str(raw_id).strip()


def pseudonym(raw_id, secret: bytes | str | None = None) -> str:
    """Pseudonym of one identifier.

    Parameters
    ----------
    raw_id : str or number
        The form number; surrounding spaces are ignored and ``12.0`` is read as ``12``.
    secret : bytes or str, optional
        Default :func:`get_secret`.

    Returns
    -------
    str
        16 lower-case hexadecimal digits.

    Notes
    -----
    .. math:: \\mathrm{id\\_repondant} = \\mathrm{HMAC}_{\\mathrm{SHA256}}(K, \\mathrm{id})[0:16]

    References
    ----------
    RFC 2104, HMAC: Keyed-Hashing for Message Authentication; CNIL, « L'anonymisation des
    données, un traitement clé pour l'open data » (pseudonymisation par hachage à clé secrète).

    Examples
    --------
    >>> pseudonym("Q0001", secret=b"cle-de-test")
    'd6dd40fe6cfdd957'
    """
    return hmac.new(_key(secret), _text(raw_id).encode("utf-8"), hashlib.sha256).hexdigest()[:LENGTH]


def pseudonymise(ids, secret: bytes | str | None = None) -> pd.Series:
    """Pseudonyms of a sequence of identifiers (same order), as a Series named ``id_repondant``."""
    import pandas as pd

    key = _key(secret)
    ids = list(ids)
    # HMAC (RFC 2104) with the keyed inner and outer states computed once: same digests as
    # pseudonym(), a few times faster on a million identifiers.
    block = 64
    k = hashlib.sha256(key).digest() if len(key) > block else key
    k = k.ljust(block, b"\0")
    inner0 = hashlib.sha256(bytes(b ^ 0x36 for b in k))
    outer0 = hashlib.sha256(bytes(b ^ 0x5C for b in k))

    def one(raw_id):
        inner = inner0.copy()
        inner.update(_text(raw_id).encode("utf-8"))
        outer = outer0.copy()
        outer.update(inner.digest())
        return outer.hexdigest()[:LENGTH]

    return pd.Series([one(i) for i in ids], name="id_repondant", dtype=object)
