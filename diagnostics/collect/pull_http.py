"""HTTP for ``dls recuperer``: one session with retries, French refusals, safe credentials.

The client is :mod:`requests` with :class:`urllib3.util.Retry` (maintained libraries: connection
pooling, ``Retry-After``, exponential back-off) instead of hand-written ``urllib`` loops.  What
this module adds is the toolkit's rules:

- **Credentials never leave the server they are meant for.**  E-mail and password (HTTP Basic)
  are refused over ``http://`` *before anything is sent* (ODK Central refuses Basic over plain
  HTTP too, but by then the password has crossed the network in clear); a token over
  ``http://`` is accepted only for a loopback address (a server on this machine).  A next-page
  link (``@odata.nextLink``, Kobo's ``next``) is followed only as a path on the server we were
  given: Central writes its configured domain in the link, which may not be the address we
  reached it by, and we never send the token to a host the user did not name.
- **Retries where they are safe** (every request is a GET): 429, 500, 502, 503, 504, with the
  server's ``Retry-After`` or 2, 4, 8… s; a body cut mid-way (``IncompleteRead``) is asked again
  the same number of times.
- **Every failure is one French sentence** (no token in it) and exit code 2: 401, 403, 404, 429,
  5xx after the retries (« le serveur est en erreur », never « saturé » for a 500), a cut
  download, an unreachable server, an answer that is not JSON.

References: requests, https://requests.readthedocs.io/en/latest/user/advanced/#transport-adapters
(« HTTPAdapter(max_retries=Retry(...)) »); urllib3 ``Retry``,
https://urllib3.readthedocs.io/en/stable/reference/urllib3.util.html; ODK Central refuses Basic
authentication over HTTP: getodk/central-backend ``lib/http/preprocessors.js`` (« Basic auth
only allowed over HTTPS », ``Problem.user.httpsOnly``).
"""
from __future__ import annotations

import base64
import ipaddress
import urllib.parse

import requests
from requests.adapters import HTTPAdapter
from urllib3.util import Retry

from ..errors import DLSError

TOKEN_ENV = {"kobo": "DLS_KOBO_TOKEN", "odk": "DLS_ODK_TOKEN"}
#: ODK Central also accepts HTTP Basic (over HTTPS only): these two variables instead of a token.
ODK_BASIC_ENV = ("DLS_ODK_EMAIL", "DLS_ODK_MOT_DE_PASSE")
MAX_RETRIES = 5
#: Longest wait between two tries, in seconds.
MAX_WAIT = 60
#: Statuses retried (GET only): rate limit and server-side errors.
RETRY_STATUSES = (429, 500, 502, 503, 504)


class PullError(DLSError):
    """The server refused the pull or could not be reached (French message, no token in it)."""

    exit_code = 2


def is_loopback(host: str | None) -> bool:
    """True for ``localhost`` and loopback IP addresses (``127.0.0.0/8``, ``::1``)."""
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def auth_header(server: str, base: str, token: str | None, environ) -> str:
    """The ``Authorization`` header, refused before sending when it would travel in clear.

    Raises
    ------
    PullError
        No credentials; e-mail and password over ``http://``; a token over ``http://`` to a
        host that is not this machine.
    """
    parts = urllib.parse.urlsplit(base)
    clear = parts.scheme == "http"
    if token:
        if clear and not is_loopback(parts.hostname):
            raise PullError(f"Adresse « {base} » en http:// : le jeton circulerait en clair sur le réseau ; "
                            "donnez l'adresse en https:// (seul un serveur de cette machine, 127.0.0.1, "
                            "est accepté en http://). Rien n'a été envoyé.", value=base)
        return f"Token {token}" if server == "kobo" else f"Bearer {token}"
    if server == "kobo":
        raise PullError("Aucun jeton KoboToolbox : définissez la variable d'environnement "
                        f"{TOKEN_ENV['kobo']} ou donnez --jeton-fichier (un fichier hors du dépôt git).")
    user, pwd = (environ.get(k) for k in ODK_BASIC_ENV)
    if not (user and pwd):
        raise PullError("Aucun identifiant ODK Central : définissez la variable d'environnement "
                        f"{TOKEN_ENV['odk']} (jeton de session) ou {ODK_BASIC_ENV[0]} et {ODK_BASIC_ENV[1]}, "
                        "ou donnez --jeton-fichier.")
    if clear:
        raise PullError(f"Adresse « {base} » en http:// : ODK Central n'accepte l'e-mail et le mot de passe "
                        "qu'en https://, et le mot de passe circulerait en clair ; donnez l'adresse en "
                        f"https:// ou un jeton de session ({TOKEN_ENV['odk']}). Rien n'a été envoyé.", value=base)
    return "Basic " + base64.b64encode(f"{user}:{pwd}".encode()).decode("ascii")


def backoff_seconds(failures: int) -> float:
    """The wait before the next try after ``failures`` failed ones: 2, 4, 8… s, at most 60 s.

    One rule for every retry of a pull: the server's errors (:class:`Retry`) and the downloads
    cut mid-way (:meth:`ServerClient.get`).
    """
    return float(min(2 ** failures, MAX_WAIT))


def _retry_class(on_wait):
    """A :class:`Retry` whose waits go through ``on_wait(seconds, status)`` (tests record them)."""

    class _Retry(Retry):
        def sleep(self, response=None):
            seconds = None
            if response is not None and self.respect_retry_after_header:
                seconds = self.get_retry_after(response)
            if seconds is None:     # the current error is already in the history
                seconds = backoff_seconds(len(self.history))
            on_wait(float(seconds), getattr(response, "status", None))

    return _Retry


class ServerClient:
    """GET JSON from one server with the authorisation header, retries and French errors.

    Parameters
    ----------
    server : {"kobo", "odk"}
    base : str
        The server's address as the user gave it; every request goes to this scheme and host.
    form : str
        The form's identifier (for messages).
    auth : str
        The ``Authorization`` header (:func:`auth_header`).
    on_wait : callable
        ``on_wait(seconds, status)`` before each retry; it sleeps (the CLI says why).
    max_retries : int
        Retries of a 429 / 5xx answer or of a cut body.
    """

    def __init__(self, server, base, form, auth, on_wait, max_retries=MAX_RETRIES, timeout=60):
        self.server, self.base, self.form, self.timeout = server, base.rstrip("/"), form, timeout
        self.host = urllib.parse.urlsplit(self.base).netloc
        self.on_wait, self.max_retries, self.retries, self.requests = on_wait, max_retries, 0, 0
        self.basic = auth.startswith("Basic ")
        retry = _retry_class(self._waited)(
            total=max_retries, connect=0, read=0, redirect=0, status=max_retries,
            status_forcelist=RETRY_STATUSES, allowed_methods=frozenset({"GET"}),
            backoff_factor=1, backoff_max=MAX_WAIT, respect_retry_after_header=True, raise_on_status=False)
        self.session = requests.Session()
        # no .netrc credentials (they would replace our header), but the environment's proxy
        # (HTTPS_PROXY, NO_PROXY) as urllib honoured it
        self.session.trust_env = False
        self.session.proxies.update(requests.utils.get_environ_proxies(self.base))
        self.session.headers.update({"Authorization": auth, "Accept": "application/json"})
        self.session.mount("http://", HTTPAdapter(max_retries=retry))
        self.session.mount("https://", HTTPAdapter(max_retries=retry))

    def _waited(self, seconds, status):
        self.retries += 1
        self.on_wait(seconds, status)

    def same_server(self, link: str) -> str:
        """``link`` (a next-page link) as a URL on our own server: its path and query only.

        Raises
        ------
        PullError
            The link's path leaves the API path we asked (a link we do not understand).
        """
        parts = urllib.parse.urlsplit(link)
        prefix = urllib.parse.urlsplit(self.base).path.rstrip("/")
        if not parts.path.startswith(prefix + "/"):
            raise PullError(f"Le serveur {self.host} donne un lien de page suivante hors de son adresse "
                            f"(« {parts.netloc}{parts.path} ») : il n'est pas suivi et la récupération "
                            "s'arrête ; rien n'a été écrit.")
        return self.base + parts.path[len(prefix):] + (f"?{parts.query}" if parts.query else "")

    def get(self, url: str) -> dict:
        """The JSON document at ``url`` (on our server), or a :class:`PullError`."""
        for attempt in range(self.max_retries + 1):
            self.requests += 1
            try:
                resp = self.session.get(url, timeout=self.timeout, allow_redirects=False)
                body = resp.content
            except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError) as exc:
                if attempt < self.max_retries:
                    self._waited(backoff_seconds(attempt + 1), None)
                    continue
                raise PullError(f"Le téléchargement depuis {self.host} a été interrompu en cours de route "
                                f"(réponse incomplète, encore après {self.max_retries} nouvelles tentatives) : "
                                "les fichiers déjà enregistrés sont intacts ; relancez la commande.") from exc
            except requests.exceptions.Timeout:
                raise PullError(f"Le serveur {self.host} ne répond pas (délai de {self.timeout} s dépassé) : "
                                "réessayez plus tard ; rien n'a été écrit.") from None
            except requests.exceptions.RequestException as exc:
                reason = type(exc).__name__ if not exc.args else str(exc.args[0])[:160]
                raise PullError(f"Le serveur {self.host} est injoignable ({reason}) : vérifiez l'adresse "
                                "et la connexion ; rien n'a été écrit.") from None
            self._check_status(resp)
            try:
                return resp.json() if body else {}
            except ValueError:
                raise PullError(f"Le serveur {self.host} a renvoyé une réponse qui n'est pas du JSON pour le "
                                f"formulaire « {self.form} » : vérifiez l'adresse du serveur.") from None
        raise AssertionError("unreachable")

    def _check_status(self, resp) -> None:
        code, host = resp.status_code, self.host
        if code < 300:
            return
        if code in (401, 403):
            who = "l'e-mail ou le mot de passe" if self.basic else "le jeton"
            what = f"{who} est refusé" if code == 401 else "ce compte n'a pas accès à ce formulaire"
            how = (f"{ODK_BASIC_ENV[0]} et {ODK_BASIC_ENV[1]}" if self.basic
                   else f"le jeton (variable {TOKEN_ENV[self.server]} ou --jeton-fichier)")
            raise PullError(f"Le serveur {host} répond {code} : {what}. Vérifiez {how} et les droits du "
                            "compte sur le formulaire.")
        if code == 404:
            raise PullError(f"Le serveur {host} ne connaît pas le formulaire « {self.form} » (404) : "
                            "vérifiez son identifiant"
                            + (" (uid de l'« asset », ex. aSAvYreNzVEkrWg5Gdcvg)." if self.server == "kobo"
                               else " (xmlFormId) et le numéro de projet."))
        if code == 429:
            raise PullError(f"Le serveur {host} limite le nombre de requêtes (429) et refuse encore "
                            f"après {self.max_retries} nouvelles tentatives : réessayez plus tard ; "
                            "rien n'a été écrit.")
        if code >= 500:
            raise PullError(f"Le serveur {host} est en erreur ({code}) après {self.max_retries} "
                            "nouvelles tentatives (une panne du serveur ou de sa base de données, pas une "
                            "affaire de débit) : réessayez plus tard ; rien n'a été écrit.")
        if 300 <= code < 400:
            raise PullError(f"Le serveur {host} redirige la demande ({code}) vers "
                            f"« {resp.headers.get('Location', '?')} » : elle n'est pas suivie (le jeton ne "
                            "part que vers l'adresse donnée) ; donnez directement l'adresse finale.")
        raise PullError(f"Le serveur {host} refuse la demande ({code}) pour le formulaire « {self.form} ».")


def wait_message(seconds: float, status: int | None) -> str:
    """French line shown before a retry: why, and how long."""
    why = ("limite le nombre de requêtes (429)" if status == 429
           else f"est en erreur ({status})" if status else "a interrompu la réponse en cours de route")
    return f"Le serveur {why} : nouvel essai dans {seconds:.0f} s…"
