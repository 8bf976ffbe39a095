"""Pull the submissions of an online form from KoboToolbox or ODK Central (``dls recuperer``).

The answers are written to ``data/raw/<serveur>_<formulaire>/`` beside the project:

- ``soumissions.json``: the submissions as the server sends them now (one list, in order of
  receipt);
- ``reponses.csv``: the same submissions flattened (``groupe/question`` columns as the servers'
  CSV exports, ``KEY``, ``SubmissionDate`` and ``ReviewState`` for Central, ``_uuid`` and
  ``_validation_status`` for Kobo), read by ``dls check`` and ``dls suivi``;
- ``reponses_<groupe>.csv``: one file per repeat group (``PARENT_KEY``, ``KEY``, its questions),
  as Central's CSV export writes them;
- ``manifeste.json``: one entry per pull (server, form, versions, UTC time, counts of new,
  modified, deleted, rejected and « has issues » submissions).

**Every pull is a full pull, reconciled with what was stored.**  Asking only for what was
received after the last stored submission misses four things: an edit keeps its receipt date; a
review state (approved, has issues, rejected) changes nothing of it; a deletion is never sent;
and ODK Central stamps the receipt time (``createdAt``) before its transaction commits, so a
submission that commits after a later one was pulled would be skipped for good.  A form of a
local diagnosis holds hundreds to a few thousand submissions (≈ 1 Ko each): reading them all
again costs a few requests and leaves the folder equal to a fresh pull, by construction.  A
Central pull is checked against the server's own count (``@odata.count``) and started again
(twice at most) when submissions arrived or left while it paged; a Kobo pull pages by ``_id``
(keyset), which a deletion during the pull cannot shift.  Files are written only
once every page has come, each replaced atomically (:func:`diagnostics.io.files.atomic_path`):
an interrupted pull leaves the previous files whole.

The token is read from an environment variable (``DLS_KOBO_TOKEN``, ``DLS_ODK_TOKEN``) or from a
file outside the repository; it is sent in the ``Authorization`` header only, to the address the
user gave only, and never printed, logged, nor written (:mod:`diagnostics.collect.pull_http`).

API shapes (read in the servers' code):

- KoboToolbox, ``GET /api/v2/assets/{uid}/data.json?limit=&sort=&query=`` (``limit`` at most
  30 000, ``query`` a MongoDB filter); response ``{"count", "next", "previous", "results"}``
  (kpi's ``DataPagination``, a Django REST framework ``LimitOffsetPagination`` whose count is the
  form's submission counter); header ``Authorization: Token <token>``; each row has
  ``_id`` (kept through edits, while ``_uuid`` becomes the edit's instance id:
  ``kobo/apps/openrosa/libs/utils/logger_tools.py``), ``_submission_time``, ``_validation_status``;
  a repeat group is a list of objects.  Source: kobotoolbox/kpi ``kpi/views/v2/data.py``,
  ``kpi/paginators.py`` (https://github.com/kobotoolbox/kpi).
- ODK Central, ``GET /v1/projects/{projectId}/forms/{xmlFormId}.svc/Submissions?$top=&$count=true&$expand=*``;
  response ``{"value": [...], "@odata.context", "@odata.nextLink", "@odata.count"}``; rows keyed
  by ``__id`` with ``__system`` (``submissionDate``, ``updatedAt``, ``reviewState``, ``edits``,
  ``formVersion``…), deleted submissions left out, newest first; the next page is
  ``@odata.nextLink`` with an opaque ``$skiptoken`` (a cursor on the last row), given only while
  rows remain; ``$expand=*`` puts repeat groups inline (each also gives a
  ``<groupe>@odata.navigationLink``, never an answer).  Authentication by a session token
  (``Authorization: Bearer``) or HTTP Basic over HTTPS.  Source: getodk/central-backend
  ``lib/resources/odata.js``, ``lib/formats/odata.js``, ``lib/util/odata.js``,
  ``lib/data/odata.js`` (https://github.com/getodk/central-backend).
"""
from __future__ import annotations

import csv
import io
import json
import os
import time
import urllib.parse
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from ..io.files import atomic_path
from . import review
from .pull_http import MAX_RETRIES, TOKEN_ENV, PullError, ServerClient, auth_header

__all__ = ["PullError", "PullResult", "pull", "read_token", "SERVERS"]

SERVERS = ("kobo", "odk")
DEFAULT_PAGE = {"kobo": 1000, "odk": 1000}
#: Full pulls started again when the server's count disagrees with the rows received.
CONSISTENCY_ATTEMPTS = 3


@dataclass
class PullResult:
    """Outcome of :func:`pull`: what changed since the last pull, what is stored, files written."""

    new: int
    total: int
    folder: Path
    csv: Path
    manifest: Path
    modified: int = 0
    deleted: int = 0
    rejected: int = 0
    has_issues: int = 0
    repeats: dict = field(default_factory=dict)
    pages: int = 0
    retries: int = 0
    versions: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """French summary of the pull (counts, review states, repeat groups, file)."""
        from .. import fmt

        def n(k, word):
            return f"{fmt.number(k)} {word}{'s' if k > 1 else ''}"
        changes = [n(self.new, "nouvelle"), n(self.modified, "modifiée"), n(self.deleted, "supprimée")]
        head = ("Aucun changement depuis la dernière récupération" if not (self.new or self.modified or self.deleted)
                else "Soumissions : " + ", ".join(changes))
        lines = [f"{head} ; {n(self.total, 'soumission')} sur le serveur ; fichier : {self.csv}."]
        if self.rejected or self.has_issues:
            lines.append(f"Revue sur le serveur : {n(self.rejected, 'rejetée')} (hors de l'analyse par défaut : "
                         f"dls check et dls suivi les comptent à part ; --inclure-rejetees les garde), "
                         f"{fmt.number(self.has_issues)} « à problème » (gardées et signalées).")
        for name, k in self.repeats.items():
            lines.append(f"Groupe répété « {name} » : {n(k, 'ligne')} dans {self.folder / _repeat_file(name)} "
                         "(non lu par dls check : une ligne par répétition, reliée à sa soumission par PARENT_KEY).")
        return "\n".join(lines)


def read_token(server: str, token_file: str | os.PathLike | None = None, environ=None) -> str | None:
    """The token: from ``token_file`` when given, else from ``DLS_KOBO_TOKEN`` / ``DLS_ODK_TOKEN``.

    Returns ``None`` when neither is set (ODK Central may then use HTTP Basic over HTTPS).
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


def _odk_pages(client: ServerClient, project, form: str, page: int):
    """Yield ``(rows, count)`` for each page of Central's Submissions, following ``@odata.nextLink``."""
    if not project:
        raise PullError("ODK Central : le numéro du projet est obligatoire (--projet-odk).")
    q = urllib.parse.quote
    url = (f"{client.base}/v1/projects/{q(str(project))}/forms/{q(form)}.svc/Submissions?"
           + urllib.parse.urlencode({"$top": page, "$count": "true", "$expand": "*"}, quote_via=q))
    got = 0
    while url:
        doc = client.get(url)
        rows = doc.get("value") or []
        got += len(rows)
        count = doc.get("@odata.count")
        yield rows, count
        nxt = doc.get("@odata.nextLink")
        if nxt:
            url = client.same_server(nxt)
        elif rows and len(rows) >= page and count is not None and got < int(count):
            # a server without next links (Central before 2023): page on by $skip, never past the count
            url = url.split("?")[0] + "?" + urllib.parse.urlencode(
                {"$top": page, "$count": "true", "$expand": "*", "$skip": got}, quote_via=q)
        else:
            url = None


def _kobo_pages(client: ServerClient, form: str, page: int):
    """Yield ``(rows, None)`` for each page of Kobo's data, paged by ``_id`` (keyset), not by offset.

    kpi's ``count`` is the form's submission counter, not the number of rows the query matches,
    and its ``next`` link is computed from that counter (``kpi/views/v2/data.py``: « dummy list »
    of ``current_submission_count``); with ``start`` offsets, a submission deleted during the pull
    shifts every later row and one is skipped.  So each page asks ``_id > <last _id seen>`` in
    ``_id`` order, and the pull ends on an empty page, or on a short one that kpi also closes
    (no ``next``); the count is not checked.
    """
    url = f"{client.base}/api/v2/assets/{urllib.parse.quote(form)}/data.json?"
    last = None
    while True:
        params = {"limit": page, "sort": json.dumps({"_id": 1})}
        if last is not None:
            params["query"] = json.dumps({"_id": {"$gt": last}})
        doc = client.get(url + urllib.parse.urlencode(params))
        rows = doc.get("results") or []
        yield rows, None
        ids = [r["_id"] for r in rows if isinstance(r.get("_id"), int)]
        if not ids or (len(rows) < page and not doc.get("next")):
            return
        last = max(ids)


def _order(server: str, rows: list) -> list:
    """Rows in order of receipt (Kobo ``_id``; Central receipt time, then ``__id``)."""
    if server == "kobo":
        return sorted(rows, key=lambda r: (r.get("_id") is None, r.get("_id") or 0))
    return sorted(rows, key=lambda r: (_stamp(server, r), str(r.get("__id"))))


def fetch_all(client: ServerClient, server: str, form: str, project=None, page: int = 1000):
    """Every submission of the form, checked against the server's count.

    Returns
    -------
    rows : list of dict
        One per submission (the last copy when paging met a row twice), in order of receipt.
    pages : int
        Requests of submissions made (over every attempt).

    Raises
    ------
    PullError
        The count still disagrees after :data:`CONSISTENCY_ATTEMPTS` full pulls.
    """
    pages = 0
    for _ in range(CONSISTENCY_ATTEMPTS):
        by_key, count = {}, None
        gen = _kobo_pages(client, form, page) if server == "kobo" else _odk_pages(client, project, form, page)
        for rows, count in gen:
            pages += 1
            for r in rows:
                by_key[_key(server, r)] = r
        if count is None or int(count) == len(by_key):
            return _order(server, list(by_key.values())), pages
    raise PullError(f"Le serveur {client.host} annonce {count} soumissions mais en a envoyé {len(by_key)} "
                    f"après {CONSISTENCY_ATTEMPTS} récupérations complètes (des soumissions arrivent ou "
                    "partent pendant la récupération) : relancez la commande ; rien n'a été écrit.")


def reconcile(server: str, stored: list, fresh: list) -> dict:
    """Counts of what changed between the stored submissions and a fresh full pull.

    Returns ``{"new", "modified", "deleted"}``: keys absent before, present in both with any
    difference (an answer edited, a review state changed), and stored but gone from the server.
    """
    old = {_key(server, r): json.dumps(r, sort_keys=True) for r in stored}
    now = {_key(server, r): json.dumps(r, sort_keys=True) for r in fresh}
    return {"new": len(now.keys() - old.keys()),
            "modified": sum(1 for k in now.keys() & old.keys() if now[k] != old[k]),
            "deleted": len(old.keys() - now.keys())}


def _flatten(row: dict, prefix: str, parent: str, out: dict, repeats: dict) -> None:
    """Nested groups ``{"recueil": {"canal": 1}}`` → ``{"recueil/canal": 1}``; a repeat group (a list
    of objects) → rows of ``repeats[<path>]`` with ``PARENT_KEY`` / ``KEY``; OData navigation
    links dropped (a link to the repeat's table, never an answer)."""
    for k, v in row.items():
        if k.endswith("@odata.navigationLink"):
            continue
        key = f"{prefix}{k}"
        if isinstance(v, dict) and k != "_validation_status":
            _flatten(v, key + "/", parent, out, repeats)
        elif isinstance(v, list) and v and all(isinstance(x, dict) for x in v) and not k.startswith("_"):
            for i, item in enumerate(v, start=1):
                child = str(item.get("__id") or f"{parent}/{key}[{i}]")
                flat = {"PARENT_KEY": parent, "KEY": child}
                _flatten({a: b for a, b in item.items() if a != "__id"}, "", child, flat, repeats)
                repeats.setdefault(key, []).append(flat)
        elif isinstance(v, list):
            is_plain = all(not isinstance(x, (dict, list)) for x in v)
            out[key] = " ".join(str(x) for x in v) if is_plain and not k.startswith("_") else json.dumps(v)
        else:
            out[key] = v


def table_rows(server: str, rows: list) -> tuple[list[dict], dict[str, list[dict]]]:
    """The submissions as CSV rows (the servers' export columns) and the repeat groups' rows."""
    flat_rows, repeats = [], {}
    for r in rows:
        key = str(_key(server, r))
        flat = {}
        _flatten(r, "", key, flat, repeats)
        if server == "odk":
            flat.pop("__id", None)
            flat = {"KEY": key, "SubmissionDate": _stamp(server, r), **flat,
                    "ReviewState": (r.get("__system") or {}).get("reviewState") or ""}
        else:
            flat["_validation_status"] = (r.get("_validation_status") or {}).get("uid") or ""
        flat_rows.append(flat)
    return flat_rows, repeats


def _csv_text(rows: list[dict]) -> str:
    cols: dict[str, None] = {}
    for f in rows:
        cols.update(dict.fromkeys(f))
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(cols), extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for f in rows:
        w.writerow({k: "" if v is None else v for k, v in f.items()})
    return buf.getvalue()


def _safe_name(name: str) -> str:
    """A form or group name as a file-name part: letters, digits, « - » and « _ » kept."""
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name)


def _repeat_file(name: str) -> str:
    return f"reponses_{_safe_name(name)}.csv"


def _write_text(text: str, path: Path) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def _write_folder(folder: Path, fresh: list, flat: list, repeats: dict, entries: list) -> None:
    """Write the pull's files, each atomically, the manifest last; remove a repeat file that no
    submission feeds any more (the folder stays equal to a fresh pull)."""
    _write_text(json.dumps(fresh, ensure_ascii=False, indent=1), folder / "soumissions.json")
    _write_text(_csv_text(flat), folder / "reponses.csv")
    for name, rows in repeats.items():
        _write_text(_csv_text(rows), folder / _repeat_file(name))
    for stale in set(folder.glob("reponses_*.csv")) - {folder / _repeat_file(n) for n in repeats}:
        stale.unlink()
    _write_text(json.dumps(entries, ensure_ascii=False, indent=1), folder / "manifeste.json")


def _check_address(url: str) -> str:
    base = url.rstrip("/")
    if not base.startswith(("http://", "https://")) or not urllib.parse.urlsplit(base).hostname:
        raise PullError(f"Adresse du serveur « {url} » : attendu une adresse commençant par https://.", value=url)
    return base


def pull(server: str, url: str, form: str, out: str | os.PathLike = "data/raw", *, project: str | None = None,
         token: str | None = None, page_size: int | None = None, sleep=time.sleep, on_wait=None,
         max_retries: int = MAX_RETRIES, environ=None, now=None) -> PullResult:
    """Download every submission of a form and reconcile the stored copy with it.

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
        Called with the seconds to wait before a retry (``Retry-After`` respected); tests pass
        a recorder.  ``on_wait(seconds, status)``, when given, is called instead (the CLI says why).
    max_retries : int
        Retries of a 429 / 5xx answer or of a download cut mid-way before giving up.

    Returns
    -------
    PullResult
        Counts of new, modified (edited or review state changed) and deleted submissions since
        the last pull, of rejected and « has issues » ones, rows of each repeat group.

    Raises
    ------
    PullError
        Credentials that would travel in clear, 401/403, 404, 429 or 5xx still after the
        retries, a download cut mid-way, server unreachable, answer not JSON, a count that never
        agrees.  Nothing is written then.

    Notes
    -----
    The stored folder after a pull equals what a first pull into an empty folder gives at
    that moment (``soumissions.json``, ``reponses*.csv``); only the manifest keeps history.
    """
    if server not in SERVERS:
        raise PullError(f"Serveur « {server} » inconnu : attendu kobo (KoboToolbox) ou odk (ODK Central).",
                        value=server)
    environ = os.environ if environ is None else environ
    base = _check_address(url)
    auth = auth_header(server, base, token if token is not None else read_token(server, environ=environ), environ)
    client = ServerClient(server, base, form, auth, on_wait or (lambda s, _status: sleep(s)), max_retries)
    fresh, pages = fetch_all(client, server, form, project, page_size or DEFAULT_PAGE[server])

    folder = Path(out) / f"{server}_{_safe_name(form)}"
    store, csv_path, manifest = folder / "soumissions.json", folder / "reponses.csv", folder / "manifeste.json"
    stored = json.loads(store.read_text(encoding="utf-8")) if store.is_file() else []
    changes = reconcile(server, stored, fresh)
    states = [review.row_state(server, r) for r in fresh]
    flat, repeats = table_rows(server, fresh)
    versions = sorted({v for v in (_version(server, r) for r in fresh) if v})
    counts = dict(changes, total=len(fresh), rejected=states.count(review.REJECTED),
                  has_issues=states.count(review.HAS_ISSUES))
    entries = json.loads(manifest.read_text(encoding="utf-8")) if manifest.is_file() else []
    entries.append({"serveur": base, "type": server, "formulaire": form, "projet": project, "versions": versions,
                    "heure_utc": (now or datetime.now(UTC)).isoformat(timespec="seconds"),
                    "nouvelles": counts["new"], "modifiees": counts["modified"], "supprimees": counts["deleted"],
                    "total": counts["total"], "rejetees": counts["rejected"], "a_probleme": counts["has_issues"],
                    "groupes_repetes": {k: len(v) for k, v in repeats.items()},
                    "derniere_soumission": max((_stamp(server, r) for r in fresh), default="")})
    _write_folder(folder, fresh, flat, repeats, entries)
    return PullResult(folder=folder, csv=csv_path, manifest=manifest, pages=pages, retries=client.retries,
                      versions=versions, repeats={k: len(v) for k, v in repeats.items()}, **counts)
