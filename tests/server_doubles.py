"""Test doubles of ODK Central and KoboToolbox that behave as the real servers do, on loopback.

**ODK Central** — built from getodk/central-backend (https://github.com/getodk/central-backend):

- ``GET /v1/projects/{p}/forms/{f}.svc/Submissions``: rows newest first (``ORDER BY
  submissions."createdAt" DESC, submissions.id DESC``, ``lib/model/query/submissions.js``),
  deleted ones left out (``odataExcludeDeleted``), a submission visible only once its transaction
  has committed (``createdAt`` is stamped before: a late commit appears *behind* rows already
  served); ``$top``, ``$skip``, ``$count`` (the whole filtered count, ``countByFormId``),
  ``$skiptoken`` = ``"01" + base64(JSON {"instanceId"})``, a cursor on ``(createdAt, id)``
  (``QueryOptions.getSkiptoken``, ``joinOnSkiptoken``); ``@odata.nextLink`` only while rows
  remain, built on the server's *configured* domain with ``$skip`` removed (``nextUrlFor``,
  ``jsonDataFooter`` in ``lib/util/odata.js``); ``$filter`` on ``__system/submissionDate``,
  ``__system/updatedAt``, ``__system/reviewState`` (``filterableFields``).
- A row: the form's groups as nested objects, ``__id`` (the *first* instance id, kept through
  edits), ``__system`` with the twelve fields of ``systemFields`` (``lib/data/odata.js``); an
  edit changes ``meta/instanceID``, sets ``reviewState: "edited"``, ``edits`` + 1 and
  ``updatedAt``; a review sets ``reviewState`` and ``updatedAt``; a repeat group gives
  ``<name>@odata.navigationLink`` always and its rows (each with a hashed ``__id``) only under
  ``$expand=*``.
- Refusals as Central words them: 401.2 (bad token), 401.3 (Basic over HTTP), 404.1.

The shapes were checked against the real backend run locally (``tests/fixtures/odk_central/``:
``record_central.py`` and the session it recorded; ``test_pull.py::test_double_matches_real_central``).

**KoboToolbox** — built from kobotoolbox/kpi (https://github.com/kobotoolbox/kpi):
``GET /api/v2/assets/{uid}/data.json?limit=&start=&sort=&query=`` → ``{"count", "next",
"previous", "results"}`` (``kpi/paginators.py`` ``DataPagination``: DRF ``LimitOffsetPagination``,
``start`` the offset, ``limit`` capped at ``SUBMISSION_LIST_LIMIT``; ``kpi/views/v2/data.py``
paginates a dummy list of ``current_submission_count``, so ``count`` and ``next`` follow the
form's counter, not the query); ``Authorization: Token``; rows with ``_id`` (kept through edits:
an edit, XML with ``deprecatedID``, updates the same ``Instance`` and sets ``instance.uuid =
new_uuid``, ``kobo/apps/openrosa/libs/utils/logger_tools.py``), ``_uuid`` (so the current
instance; its root under ``meta/rootUuid``, as kpi's front end looks both up),
``_submission_time``, ``_validation_status`` (``{}`` or ``{"uid", "label", "by_whom",
"timestamp", "color"}``); a deleted submission is gone; a repeat group is a list of objects whose
keys are full paths (``membres/age_membre``).
"""
from __future__ import annotations

import base64
import hashlib
import json
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOKEN = "s3cret-jeton-42"
SYSTEM_FIELDS = ("submissionDate", "updatedAt", "submitterId", "submitterName", "attachmentsPresent",
                 "attachmentsExpected", "status", "reviewState", "deviceId", "edits", "formVersion", "deletedAt")


def _iso(second: int) -> str:
    return f"2024-03-{1 + second // 86400:02d}T{second // 3600 % 24:02d}:{second // 60 % 60:02d}:{second % 60:02d}.000Z"


@dataclass
class CentralSubmission:
    serial: int
    instance_id: str
    created: int                     # seconds: receipt time, stamped before the commit
    data: dict
    committed: bool = True
    updated: int | None = None
    review: str | None = None
    edits: int = 0
    deleted: bool = False
    repeats: dict = field(default_factory=dict)


class CentralState:
    """What one Central form holds, and the operations a team makes on it."""

    def __init__(self, n=0, form="dls_habitants", project="7"):
        self.form, self.project, self.subs, self.clock = form, project, [], 1000
        self.requests, self.auth_hosts, self.fail = [], [], []
        self.cut_next = 0             # answers to cut mid-way (Content-Length announced, body short)
        self.domain = None            # Central's configured env.domain (None: the address used)
        for i in range(n):
            self.add(age=20 + i % 60, quartier=1 + i % 3, sexe=1 + i % 2, canal=1 + i % 5)

    def tick(self):
        self.clock += 7
        return self.clock

    def add(self, committed=True, created=None, repeats=None, **answers):
        serial = len(self.subs) + 1
        iid = f"uuid:{serial:08d}-0000-4000-8000-000000000000"
        data = {"recueil": {"canal": str(answers.get("canal", 1)), "date_reponse": "2024-03-05"},
                "profil": {"quartier": str(answers.get("quartier", 1)), "age": answers.get("age", 40),
                           "sexe": str(answers.get("sexe", 1))},
                "soins": {"renoncement_soins": answers.get("renoncement_soins")},
                "meta": {"instanceID": iid}}
        sub = CentralSubmission(serial, iid, created if created is not None else self.tick(), data,
                                committed=committed, repeats=repeats or {})
        self.subs.append(sub)
        return sub

    def find(self, iid):
        return next(s for s in self.subs if s.instance_id == iid)

    def edit(self, iid, **answers):
        s = self.find(iid)
        for k, v in answers.items():
            s.data["profil"][k] = v
        s.edits += 1
        s.data["meta"] = {"instanceID": f"uuid:edit-{s.edits}-{s.serial:08d}", "deprecatedID": s.data["meta"]["instanceID"]}
        s.review, s.updated = "edited", self.tick()

    def set_review(self, iid, state):
        s = self.find(iid)
        s.review, s.updated = state, self.tick()

    def delete(self, iid):
        self.find(iid).deleted = True

    def visible(self):
        rows = [s for s in self.subs if s.committed and not s.deleted]
        return sorted(rows, key=lambda s: (s.created, s.serial), reverse=True)

    def row(self, s, expand):
        out = json.loads(json.dumps(s.data))
        out["__id"] = s.instance_id
        out["__system"] = dict.fromkeys(SYSTEM_FIELDS)
        out["__system"].update(submissionDate=_iso(s.created), updatedAt=_iso(s.updated) if s.updated else None,
                               submitterId="5", submitterName="collecteur@dls.test", attachmentsPresent=0,
                               attachmentsExpected=0, reviewState=s.review, edits=s.edits, formVersion="2022.1")
        for name, items in s.repeats.items():
            out[f"{name}@odata.navigationLink"] = (f"Submissions('{urllib.parse.quote(s.instance_id)}')/{name}")
            if expand:
                out[name] = [dict(item, __id=hashlib.sha1(f"{s.instance_id}/{name}/{k}".encode()).hexdigest())
                             for k, item in enumerate(items)]
        return out


def _skiptoken(iid):
    return "01" + base64.b64encode(json.dumps({"instanceId": iid}).encode()).decode()


def _filter(rows, expr):
    """``__system/<field> gt|ge|lt|eq <value>`` (the forms Central's parser accepts that we use)."""
    fieldname, op, value = expr.split(" ", 2)
    key = {"__system/submissionDate": lambda s: _iso(s.created),
           "__system/updatedAt": lambda s: _iso(s.updated) if s.updated else None,
           "__system/reviewState": lambda s: s.review}[fieldname]
    value = None if value == "null" else value.strip("'")
    ops = {"gt": lambda a: a is not None and a > value, "ge": lambda a: a is not None and a >= value,
           "lt": lambda a: a is not None and a < value, "eq": lambda a: a == value}
    return [s for s in rows if ops[op](key(s))]


def central_page(state, path_query, host):
    """(status, body) of one OData request, as central-backend computes it."""
    u = urllib.parse.urlsplit(path_query)
    q = dict(urllib.parse.parse_qsl(u.query))
    if u.path != f"/v1/projects/{state.project}/forms/{state.form}.svc/Submissions":
        return 404, {"message": "Could not find the resource you were looking for.", "code": 404.1}
    rows = state.visible()
    if "$filter" in q:
        rows = _filter(rows, q["$filter"])
    total = len(rows)
    if "$skiptoken" in q:
        iid = json.loads(base64.b64decode(q["$skiptoken"][2:]))["instanceId"]
        cur = state.find(iid)
        rows = [s for s in rows if (s.created, s.serial) < (cur.created, cur.serial)]
    else:
        rows = rows[int(q.get("$skip", 0)):]
    top = int(q["$top"]) if "$top" in q else len(rows)
    page, remaining = rows[:top], len(rows) - top
    domain = state.domain or f"http://{host}"
    body = {"value": [state.row(s, q.get("$expand") == "*") for s in page],
            "@odata.context": f"{domain}/v1/projects/{state.project}/forms/{state.form}.svc/$metadata#Submissions"}
    if page and remaining > 0:
        nq = {k: v for k, v in q.items() if k != "$skip"}
        nq["$skiptoken"] = _skiptoken(page[-1].instance_id)
        body["@odata.nextLink"] = f"{domain}{u.path}?" + urllib.parse.urlencode(nq, quote_via=urllib.parse.quote)
    if q.get("$count") == "true":
        body["@odata.count"] = total
    return 200, body


class KoboState:
    """What one KoboToolbox asset holds (kpi's data API), and the team's operations."""

    def __init__(self, n=0, asset="aDLSsuivi"):
        self.asset, self.rows, self.requests, self.auth_hosts, self.fail, self.cut_next = asset, [], [], [], [], 0
        self.next_id = 5000
        self.max_limit = 30000         # kpi's SUBMISSION_LIST_LIMIT
        self.counter_drift = 0         # the form's counter off from the rows (kpi keeps it apart)
        for i in range(n):
            self.add(age=20 + i % 60, quartier=1 + i % 3, sexe=1 + i % 2, canal=1 + i % 5)

    def add(self, repeats=None, **a):
        self.next_id += 1
        i = self.next_id
        row = {"_id": i, "_uuid": f"uuid-{i}", "_submission_time": f"2024-03-05T10:{i % 60:02d}:00",
               "__version__": "vSyntheticDLS2022", "recueil/canal": a.get("canal", 1),
               "profil/quartier": a.get("quartier", 1), "profil/age": a.get("age", 40), "profil/sexe": a.get("sexe", 1),
               "meta/instanceID": f"uuid:uuid-{i}", "_validation_status": {}, "_attachments": [], "_notes": [],
               "_tags": [], "_geolocation": [None, None], "_status": "submitted_via_web", "_submitted_by": None}
        if repeats:
            row.update(repeats)
        self.rows.append(row)
        return row

    def find(self, _id):
        return next(r for r in self.rows if r["_id"] == _id)

    def edit(self, _id, **a):
        r = self.find(_id)
        for k, v in a.items():
            r[f"profil/{k}"] = v
        root = r.get("meta/rootUuid") or r["meta/instanceID"]
        new = f"{r['_uuid']}-e"
        r.update({"_uuid": new, "meta/instanceID": f"uuid:{new}", "meta/deprecatedID": r["meta/instanceID"],
                  "meta/rootUuid": root})

    def validate(self, _id, uid):
        labels = {"validation_status_approved": "Approved", "validation_status_not_approved": "Not approved",
                  "validation_status_on_hold": "On hold"}
        self.find(_id)["_validation_status"] = {"timestamp": 1709632800, "uid": uid, "by_whom": "equipe",
                                                "color": "#000000", "label": labels[uid]}

    def delete(self, _id):
        self.rows.remove(self.find(_id))


def kobo_page(state, path_query, host):
    """(status, body) as kpi's ``DataViewSet.list``: the Mongo query and sort applied, then
    ``LimitOffsetPagination`` over a dummy list of the form's *counter* (not the query's count)."""
    u = urllib.parse.urlsplit(path_query)
    q = dict(urllib.parse.parse_qsl(u.query))
    if u.path != f"/api/v2/assets/{state.asset}/data.json":
        return 404, {"detail": "Not found."}
    rows = sorted(state.rows, key=lambda r: r["_id"])
    if "sort" in q and json.loads(q["sort"]).get("_id") == -1:
        rows.reverse()
    if "query" in q:
        gt = json.loads(q["query"])["_id"]["$gt"]
        rows = [r for r in rows if r["_id"] > gt]
    start, limit = int(q.get("start", 0)), min(int(q.get("limit", 100)), state.max_limit)
    page = rows[start:start + limit]
    counter = len(state.rows) + state.counter_drift
    nxt = None
    if start + limit < counter:
        nxt = f"http://{host}{u.path}?" + urllib.parse.urlencode(dict(q, start=start + limit))
    return 200, {"count": counter, "next": nxt, "previous": None, "results": json.loads(json.dumps(page))}


def _handler(state, page_fn, auth_ok):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def _send(self, code, obj, headers=()):
            body = json.dumps(obj).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            for k, v in headers:
                self.send_header(k, v)
            if state.cut_next and code == 200:
                state.cut_next -= 1
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            host = self.headers.get("Host", "")
            state.requests.append(self.path)
            if self.headers.get("Authorization"):
                state.auth_hosts.append(host)
            if state.fail:
                code, headers = state.fail.pop(0)
                return self._send(code, {"message": "erreur", "code": code}, headers)
            refusal = auth_ok(self.headers.get("Authorization", ""))
            if refusal:
                return self._send(401, refusal)
            code, body = page_fn(state, self.path, host)
            self._send(code, body)
            if getattr(state, "after_page", None):
                state.after_page()
    return Handler


def _central_auth(header):
    if header.startswith("Basic "):
        return {"message": "This authentication method is only available over HTTPS", "code": 401.3}
    if header != f"Bearer {TOKEN}":
        return {"message": "Could not authenticate with the provided credentials.", "code": 401.2}
    return None


def _kobo_auth(header):
    return None if header == f"Token {TOKEN}" else {"detail": "Invalid token."}


class Running:
    """A double serving on 127.0.0.1 (context manager); ``url`` is its address."""

    def __init__(self, state, kind):
        fn, auth = (central_page, _central_auth) if kind == "odk" else (kobo_page, _kobo_auth)
        self.state = state
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state, fn, auth))
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self):
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
