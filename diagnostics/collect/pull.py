"""Pull the submissions of an online form from KoboToolbox or ODK Central (``dls recuperer``).

The answers are written to ``data/raw/<serveur>_<formulaire>/`` beside the project:

- ``soumissions.json``: every submission pulled so far, as the server sent it (one list);
- ``reponses.csv``: the same submissions flattened (``groupe/question`` columns, as the servers'
  CSV exports), read by :func:`diagnostics.collect.readers.read_answers` and ``dls suivi``;
- ``manifeste.json``: one entry per pull (server, form, form versions, UTC time, count).

Pulls are incremental: only the submissions newer than the last one stored are asked for
(KoboToolbox: ``query={"_id": {"$gt": <last _id>}}``; ODK Central:
``$filter=__system/submissionDate gt <last date>``), and a submission already stored (same
``_id`` / ``__id``) is never stored twice.  Every file is replaced atomically
(:func:`diagnostics.io.files.atomic_path`): an interrupted pull leaves the previous files whole.

The token is read from an environment variable (``DLS_KOBO_TOKEN``, ``DLS_ODK_TOKEN``) or from a
file outside the repository; it is sent in the ``Authorization`` header only and never printed,
logged, nor written to the manifest.

API shapes (read in the servers' own documentation):

- KoboToolbox, ``GET /api/v2/assets/{uid}/data.json?start=&limit=`` (``limit`` at most 30 000),
  ``query`` a MongoDB filter (``{"_submission_time": {"$gt": …}}``); response
  ``{"count", "next", "previous", "results"}`` (Django REST framework pagination, kpi's
  ``DataPagination``); header ``Authorization: Token <token>``.  Source: kobotoolbox/kpi,
  ``kpi/docs/api/v2/data/list.md`` and ``kpi/views/v2/data.py``
  (https://github.com/kobotoolbox/kpi), https://support.kobotoolbox.org/api.html (2024).
- ODK Central, ``GET /v1/projects/{projectId}/forms/{xmlFormId}.svc/Submissions`` with
  ``$top``, ``$skip``, ``$count=true`` (``@odata.count``), ``$filter`` on
  ``__system/submissionDate``; response ``{"@odata.context", "value": [...]}``, each row keyed by
  ``__id``; when the server pages it gives ``@odata.nextLink``.  Authentication by a session
  token (``Authorization: Bearer``, ``POST /v1/sessions``) or HTTP Basic.  Source:
  getodk/docs ``docs/central-api-odata-endpoints.rst``, « Data Document »
  (https://docs.getodk.org/central-api-odata-endpoints/, 2024).
"""
from __future__ import annotations

import base64
import csv
import email.utils
import io
import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from ..errors import DLSError
from ..io.files import atomic_path

SERVERS = ("kobo", "odk")
TOKEN_ENV = {"kobo": "DLS_KOBO_TOKEN", "odk": "DLS_ODK_TOKEN"}
#: ODK Central also accepts HTTP Basic: these two variables instead of a token.
ODK_BASIC_ENV = ("DLS_ODK_EMAIL", "DLS_ODK_MOT_DE_PASSE")
DEFAULT_PAGE = {"kobo": 1000, "odk": 1000}
MAX_RETRIES = 5


class PullError(DLSError):
    """The server refused the pull or could not be reached (French message, no token in it)."""

    exit_code = 2


@dataclass
class PullResult:
    """Outcome of :func:`pull`: ``new`` submissions fetched, ``total`` stored, files written."""

    new: int
    total: int
    folder: Path
    csv: Path
    manifest: Path
    pages: int = 0
    retries: int = 0
    versions: list[str] = field(default_factory=list)

    def summary(self) -> str:
        from .. import fmt
        if self.new == 0:
            return (f"Aucune nouvelle soumission ({fmt.number(self.total)} déjà récupérées) ; "
                    f"fichier : {self.csv}.")
        return (f"{fmt.number(self.new)} nouvelle{'s' if self.new > 1 else ''} soumission"
                f"{'s' if self.new > 1 else ''} récupérée{'s' if self.new > 1 else ''} "
                f"({fmt.number(self.total)} au total) ; fichier : {self.csv}.")


def read_token(server: str, token_file: str | os.PathLike | None = None, environ=None) -> str | None:
    """The token: from ``token_file`` when given, else from ``DLS_KOBO_TOKEN`` / ``DLS_ODK_TOKEN``.

    Returns ``None`` when neither is set (ODK Central may then use HTTP Basic).
    """
    environ = os.environ if environ is None else environ
    if token_file is not None:
        p = Path(token_file).expanduser()
        try:
            text = p.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise PullError(f"Le fichier du jeton « {p} » ne peut pas être lu ({exc.strerror or exc}).",
                            file=p) from exc
        if not text:
            raise PullError(f"Le fichier du jeton « {p} » est vide : attendu le jeton d'accès au serveur.", file=p)
        return text
    return (environ.get(TOKEN_ENV[server]) or "").strip() or None


def _auth_header(server: str, token: str | None, environ) -> str:
    if server == "kobo":
        if not token:
            raise PullError("Aucun jeton KoboToolbox : définissez la variable d'environnement "
                            f"{TOKEN_ENV['kobo']} ou donnez --jeton-fichier (un fichier hors du dépôt git).")
        return f"Token {token}"
    if token:
        return f"Bearer {token}"
    user, pwd = (environ.get(k) for k in ODK_BASIC_ENV)
    if user and pwd:
        return "Basic " + base64.b64encode(f"{user}:{pwd}".encode()).decode("ascii")
    raise PullError("Aucun identifiant ODK Central : définissez la variable d'environnement "
                    f"{TOKEN_ENV['odk']} (jeton de session) ou {ODK_BASIC_ENV[0]} et {ODK_BASIC_ENV[1]}, "
                    "ou donnez --jeton-fichier.")


def _retry_after(value, attempt: int) -> float:
    """Seconds to wait: the ``Retry-After`` header (seconds or HTTP date), else 2, 4, 8… s."""
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            try:
                when = email.utils.parsedate_to_datetime(value)
                return max(0.0, (when - datetime.now(UTC)).total_seconds())
            except (TypeError, ValueError):
                pass
    return float(2 ** (attempt + 1))


class _Client:
    """GET JSON with the authorisation header; retries 429 and 5xx; French errors."""

    def __init__(self, server, base, form, auth, sleep, max_retries, timeout=60):
        self.server, self.base, self.form, self.auth = server, base, form, auth
        self.sleep, self.max_retries, self.timeout = sleep, max_retries, timeout
        self.retries = 0

    def get(self, url: str) -> dict:
        host = urllib.parse.urlsplit(url).netloc
        for attempt in range(self.max_retries + 1):
            req = urllib.request.Request(url, headers={"Authorization": self.auth, "Accept": "application/json"})
            try:
                with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                    body = resp.read()
            except urllib.error.HTTPError as exc:
                code = exc.code
                retry_after = exc.headers.get("Retry-After") if exc.headers else None
                exc.close()
                if code in (401, 403):
                    what = ("le jeton est refusé" if code == 401 else "ce compte n'a pas accès à ce formulaire")
                    raise PullError(f"Le serveur {host} répond {code} : {what}. Vérifiez le jeton "
                                    f"(variable {TOKEN_ENV[self.server]} ou --jeton-fichier) et ses droits "
                                    "sur le formulaire.") from None
                if code == 404:
                    raise PullError(f"Le serveur {host} ne connaît pas le formulaire « {self.form} » (404) : "
                                    "vérifiez son identifiant"
                                    + (" (uid de l'« asset », ex. aSAvYreNzVEkrWg5Gdcvg)." if self.server == "kobo"
                                       else " (xmlFormId) et le numéro de projet.")) from None
                if code == 429 or code >= 500:
                    if attempt < self.max_retries:
                        self.retries += 1
                        self.sleep(_retry_after(retry_after, attempt))
                        continue
                    if code == 429:
                        raise PullError(f"Le serveur {host} limite le nombre de requêtes (429) et refuse encore "
                                        f"après {self.max_retries} nouvelles tentatives : réessayez plus tard.") from None
                    raise PullError(f"Le serveur {host} est en erreur ({code}) après {self.max_retries} "
                                    "nouvelles tentatives : réessayez plus tard ; rien n'a été écrit.") from None
                raise PullError(f"Le serveur {host} refuse la demande ({code}) pour le formulaire "
                                f"« {self.form} ».") from None
            except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
                reason = getattr(exc, "reason", exc)
                raise PullError(f"Le serveur {host} est injoignable ({reason}) : vérifiez l'adresse "
                                "et la connexion ; rien n'a été écrit.") from None
            try:
                return json.loads(body.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError):
                raise PullError(f"Le serveur {host} a renvoyé une réponse qui n'est pas du JSON pour le "
                                f"formulaire « {self.form} » : vérifiez l'adresse du serveur.") from None
        raise AssertionError("unreachable")


def _flatten(row: dict, prefix: str = "") -> dict:
    """ODK's nested groups ``{"recueil": {"canal": 1}}`` → ``{"recueil/canal": 1}``."""
    out = {}
    for k, v in row.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, key + "/"))
        elif isinstance(v, list):
            out[key] = " ".join(str(x) for x in v) if all(not isinstance(x, (dict, list)) for x in v) else json.dumps(v)
        else:
            out[key] = v
    return out


def _key(server: str, row: dict):
    return row.get("_id") if server == "kobo" else row.get("__id")


def _stamp(server: str, row: dict) -> str:
    if server == "kobo":
        return str(row.get("_submission_time") or "")
    return str((row.get("__system") or {}).get("submissionDate") or "")


def _version(server: str, row: dict) -> str | None:
    if server == "kobo":
        return row.get("__version__")
    return (row.get("__system") or {}).get("formVersion")


def _pages(client: _Client, server: str, base: str, form: str, project: str | None, stored: list, page: int):
    """Yield the pages of submissions newer than the ``stored`` ones."""
    if server == "kobo":
        params = {"limit": page, "start": 0}
        ids = [r["_id"] for r in stored if isinstance(r.get("_id"), (int, float))]
        if ids:
            params["query"] = json.dumps({"_id": {"$gt": max(ids)}})
        url = f"{base}/api/v2/assets/{urllib.parse.quote(form)}/data.json?" + urllib.parse.urlencode(params)
        while url:
            doc = client.get(url)
            yield doc.get("results") or []
            url = doc.get("next")
    else:
        if not project:
            raise PullError("ODK Central : le numéro du projet est obligatoire (--projet-odk).")
        params = {"$top": page, "$count": "true"}
        last = max((_stamp(server, r) for r in stored), default="")
        if last:
            params["$filter"] = f"__system/submissionDate gt {last}"
        root = f"{base}/v1/projects/{urllib.parse.quote(str(project))}/forms/{urllib.parse.quote(form)}.svc/Submissions"
        skip = 0
        while True:
            q = dict(params, **({"$skip": skip} if skip else {}))
            doc = client.get(root + "?" + urllib.parse.urlencode(q, quote_via=urllib.parse.quote))
            rows = doc.get("value") or []
            yield rows
            nxt = doc.get("@odata.nextLink")
            if nxt:   # follow the server's link when it gives one (newer Central versions)
                root, params, skip = nxt.split("?")[0], dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(nxt).query)), 0
                continue
            skip += len(rows)
            total = doc.get("@odata.count")
            if not rows or len(rows) < page or (total is not None and skip >= int(total)):
                return


def _write_csv(rows: list[dict], path: Path, server: str) -> None:
    flat = [_flatten(r) for r in rows]
    if server == "odk":
        for f, r in zip(flat, rows):
            f.setdefault("KEY", r.get("__id"))
    cols: dict[str, None] = {}
    for f in flat:
        cols.update(dict.fromkeys(f))
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(cols), extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for f in flat:
        w.writerow({k: "" if v is None else v for k, v in f.items()})
    with atomic_path(path) as tmp:
        tmp.write_text(buf.getvalue(), encoding="utf-8")


def _write_json(obj, path: Path) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, ensure_ascii=False, indent=1), encoding="utf-8")


def pull(server: str, url: str, form: str, out: str | os.PathLike = "data/raw", *, project: str | None = None,
         token: str | None = None, page_size: int | None = None, sleep=time.sleep,
         max_retries: int = MAX_RETRIES, environ=None, now=None) -> PullResult:
    """Download the new submissions of a form and store them under ``out``.

    Parameters
    ----------
    server : {"kobo", "odk"}
        KoboToolbox (API v2) or ODK Central (OData).
    url : str
        The server's address (``https://kf.kobotoolbox.org``, ``https://odk.example.org``).
    form : str
        Kobo asset uid, or ODK ``xmlFormId``.
    out : path-like
        Folder of raw data (``data/raw``); the files go to ``out/<server>_<form>/``.
    project : str, optional
        ODK Central project number (required for ODK).
    token : str, optional
        Access token; default :func:`read_token` (environment variable).
    page_size : int, optional
        Submissions asked per request (1 000 by default).
    sleep : callable
        Called with the seconds to wait before retrying a 429 or 5xx answer (tests pass a
        recorder; ``Retry-After`` is respected).
    max_retries : int
        Retries of a 429 / 5xx answer before giving up.

    Returns
    -------
    PullResult

    Raises
    ------
    PullError
        401/403 (token refused), 404 (unknown form), 429 or 5xx still after the retries, server
        unreachable, answer not JSON.  Nothing is written then.
    """
    if server not in SERVERS:
        raise PullError(f"Serveur « {server} » inconnu : attendu kobo (KoboToolbox) ou odk (ODK Central).",
                        value=server)
    environ = os.environ if environ is None else environ
    base = url.rstrip("/")
    if not base.startswith(("http://", "https://")):
        raise PullError(f"Adresse du serveur « {url} » : attendu une adresse commençant par https://.", value=url)
    auth = _auth_header(server, token if token is not None else read_token(server, environ=environ), environ)
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in form)
    folder = Path(out) / f"{server}_{safe}"
    store, csv_path, manifest = folder / "soumissions.json", folder / "reponses.csv", folder / "manifeste.json"
    stored = json.loads(store.read_text(encoding="utf-8")) if store.is_file() else []
    seen = {_key(server, r) for r in stored}
    client = _Client(server, base, form, auth, sleep, max_retries)
    new, pages = [], 0
    for rows in _pages(client, server, base, form, project, stored, page_size or DEFAULT_PAGE[server]):
        pages += 1
        for r in rows:
            k = _key(server, r)
            if k not in seen:
                seen.add(k)
                new.append(r)
    allrows = stored + new
    versions = sorted({v for v in (_version(server, r) for r in new) if v})
    entries = json.loads(manifest.read_text(encoding="utf-8")) if manifest.is_file() else []
    when = (now or datetime.now(UTC)).isoformat(timespec="seconds")
    entries.append({"serveur": base, "type": server, "formulaire": form, "projet": project,
                    "versions": versions, "heure_utc": when, "nouvelles": len(new), "total": len(allrows),
                    "derniere_soumission": max((_stamp(server, r) for r in allrows), default="")})
    folder.mkdir(parents=True, exist_ok=True)
    if new or not csv_path.exists():
        _write_json(allrows, store)
        _write_csv(allrows, csv_path, server)
    _write_json(entries, manifest)
    return PullResult(new=len(new), total=len(allrows), folder=folder, csv=csv_path, manifest=manifest,
                      pages=pages, retries=client.retries, versions=versions)
