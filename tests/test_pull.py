"""``dls recuperer``: the real client talks HTTP to a local server answering as the APIs document.

Shapes served (read in the servers' documentation):
- KoboToolbox ``GET /api/v2/assets/{uid}/data.json?start=&limit=&query=`` →
  ``{"count", "next", "previous", "results"}``, ``Authorization: Token …``
  (kobotoolbox/kpi ``kpi/docs/api/v2/data/list.md``, https://github.com/kobotoolbox/kpi);
- ODK Central ``GET /v1/projects/{p}/forms/{f}.svc/Submissions?$top=&$skip=&$count=&$filter=`` →
  ``{"@odata.context", "@odata.count", "value": [{"__id", "__system": {"submissionDate"}, …}]}``
  (getodk/docs ``docs/central-api-odata-endpoints.rst``, https://docs.getodk.org/central-api-odata-endpoints/).
"""
import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from click.testing import CliRunner

from diagnostics.cli import cli
from diagnostics.collect.pull import PullError, pull
from diagnostics.collect.readers import read_answers

TOKEN = "s3cret-jeton-42"
N = 1000


def _kobo_rows():
    return [{"_id": 5000 + i, "_uuid": f"uuid-{i:04d}", "_submission_time": f"2022-05-{1 + i % 28:02d}T10:{i % 60:02d}:00",
             "__version__": "vSyntheticDLS2022", "recueil/canal": 1 + i % 5, "profil/quartier": 1 + i % 3,
             "profil/age": 20 + i % 60, "profil/sexe": 1 + i % 2} for i in range(N)]


def _odk_rows():
    return [{"__id": f"uuid:{i:04d}", "__system": {"submissionDate": f"2022-05-01T{i // 60 % 24:02d}:{i % 60:02d}:00.000Z",
                                                    "formVersion": "2022"},
             "meta": {"instanceID": f"uuid:{i:04d}"}, "recueil": {"canal": 1 + i % 5},
             "profil": {"quartier": 1 + i % 3, "age": 20 + i % 60, "sexe": 1 + i % 2}} for i in range(N)]


class State:
    def __init__(self):
        self.kobo, self.odk, self.requests, self.fail_429 = _kobo_rows(), _odk_rows(), [], 0


def _handler(state):
    class H(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def _send(self, code, obj=None, headers=()):
            body = json.dumps(obj if obj is not None else {"detail": "erreur"}).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            state.requests.append(self.path)
            if state.fail_429:
                state.fail_429 -= 1
                return self._send(429, headers=[("Retry-After", "7")])
            u = urllib.parse.urlsplit(self.path)
            q = dict(urllib.parse.parse_qsl(u.query))
            auth = self.headers.get("Authorization", "")
            if u.path.startswith("/api/v2/assets/"):
                if auth != f"Token {TOKEN}":
                    return self._send(401, {"detail": "Invalid token."})
                if u.path != "/api/v2/assets/aDLSsuivi/data.json":
                    return self._send(404, {"detail": "Not found."})
                rows = state.kobo
                if "query" in q:
                    gt = json.loads(q["query"])["_id"]["$gt"]
                    rows = [r for r in rows if r["_id"] > gt]
                start, limit = int(q.get("start", 0)), int(q.get("limit", 100))
                page = rows[start:start + limit]
                nxt = None
                if start + limit < len(rows):
                    nq = dict(q, start=start + limit)
                    nxt = f"http://{self.headers['Host']}{u.path}?{urllib.parse.urlencode(nq)}"
                return self._send(200, {"count": len(rows), "next": nxt, "previous": None, "results": page})
            if u.path.startswith("/v1/projects/"):
                if auth != f"Bearer {TOKEN}":
                    return self._send(401, {"message": "Could not authenticate with the provided credentials.",
                                            "code": 401.2})
                if u.path != "/v1/projects/7/forms/dls_habitants.svc/Submissions":
                    return self._send(404, {"message": "Could not find the resource you were looking for.", "code": 404.1})
                rows = state.odk
                if "$filter" in q:
                    last = q["$filter"].split(" gt ")[1]
                    rows = [r for r in rows if r["__system"]["submissionDate"] > last]
                skip, top = int(q.get("$skip", 0)), int(q.get("$top", len(rows)))
                return self._send(200, {"@odata.context": "http://x/v1/projects/7/forms/dls_habitants.svc/$metadata#Submissions",
                                        "@odata.count": len(rows), "value": rows[skip:skip + top]})
            return self._send(404)
    return H


@pytest.fixture()
def server():
    state = State()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    yield state
    httpd.shutdown()
    httpd.server_close()


def test_kobo_three_pages_then_nothing_new(server, tmp_path):
    res = pull("kobo", server.url, "aDLSsuivi", tmp_path, token=TOKEN, page_size=400)
    assert (res.new, res.total, res.pages) == (1000, 1000, 3)   # 400 + 400 + 200
    assert len(json.loads((res.folder / "soumissions.json").read_text())) == 1000
    man = json.loads(res.manifest.read_text())
    assert man[0]["nouvelles"] == 1000 and man[0]["versions"] == ["vSyntheticDLS2022"]
    assert TOKEN not in res.manifest.read_text() and TOKEN not in res.csv.read_text()
    raw = read_answers(res.csv)
    assert len(raw.table) == 1000 and raw.kobo
    again = pull("kobo", server.url, "aDLSsuivi", tmp_path, token=TOKEN, page_size=400)
    assert (again.new, again.total) == (0, 1000)
    assert json.loads(server.requests[-1].split("query=")[1].split("&")[0].replace("%22", '"')
                      .replace("%3A", ":").replace("%7B", "{").replace("%7D", "}").replace("%24", "$")
                      .replace("+", "")) == {"_id": {"$gt": 5999}}
    # new submissions arrive: only they are fetched
    server.kobo.append(dict(server.kobo[0], _id=7000, _uuid="uuid-new"))
    third = pull("kobo", server.url, "aDLSsuivi", tmp_path, token=TOKEN, page_size=400)
    assert (third.new, third.total) == (1, 1001)
    assert [e["nouvelles"] for e in json.loads(third.manifest.read_text())] == [1000, 0, 1]


def test_odk_pages_and_incremental(server, tmp_path):
    res = pull("odk", server.url, "dls_habitants", tmp_path, project="7", token=TOKEN, page_size=400)
    assert (res.new, res.total, res.pages) == (1000, 1000, 3)
    raw = read_answers(res.csv)
    assert len(raw.table) == 1000
    again = pull("odk", server.url, "dls_habitants", tmp_path, project="7", token=TOKEN, page_size=400)
    assert (again.new, again.total) == (0, 1000)
    assert "__system%2FsubmissionDate%20gt%202022-05-01T16%3A39%3A00.000Z" in server.requests[-1]


def test_401_french_sentence_exit_2(server, tmp_path):
    with pytest.raises(PullError, match="répond 401 : le jeton est refusé") as exc:
        pull("kobo", server.url, "aDLSsuivi", tmp_path, token="mauvais")
    assert "mauvais" not in str(exc.value)
    r = CliRunner().invoke(cli, ["recuperer", "kobo", "--serveur", server.url, "--formulaire", "aDLSsuivi",
                                 "--sortie", str(tmp_path)], env={"DLS_KOBO_TOKEN": "mauvais"})
    assert r.exit_code == 2, r.output
    assert "le jeton est refusé" in r.output and "mauvais" not in r.output and "Traceback" not in r.output
    assert not any(tmp_path.rglob("*.csv"))     # nothing written


def test_404_wrong_form(server, tmp_path):
    with pytest.raises(PullError, match="ne connaît pas le formulaire « inconnu » \\(404\\)"):
        pull("kobo", server.url, "inconnu", tmp_path, token=TOKEN)
    with pytest.raises(PullError, match="xmlFormId"):
        pull("odk", server.url, "inconnu", tmp_path, project="7", token=TOKEN)


def test_429_retry_after_respected(server, tmp_path):
    server.fail_429 = 2
    waits = []
    res = pull("kobo", server.url, "aDLSsuivi", tmp_path, token=TOKEN, sleep=waits.append)
    assert waits == [7.0, 7.0] and res.retries == 2 and res.new == 1000
    server.fail_429 = 10
    with pytest.raises(PullError, match="429"):
        pull("odk", server.url, "dls_habitants", tmp_path, project="7", token=TOKEN, sleep=waits.append,
             max_retries=3)


def test_cli_token_from_file(server, tmp_path):
    tok = tmp_path / "jeton.txt"
    tok.write_text(TOKEN + "\n")
    r = CliRunner().invoke(cli, ["recuperer", "odk", "--serveur", server.url, "--formulaire", "dls_habitants",
                                 "--projet-odk", "7", "--jeton-fichier", str(tok), "--sortie", str(tmp_path / "raw")])
    assert r.exit_code == 0, r.output
    assert "1\u202f000 nouvelles soumissions" in r.output and TOKEN not in r.output


def test_5xx_retried_then_french_error(server, tmp_path, monkeypatch):
    calls = []

    class Boom(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_GET(self):
            calls.append(self.path)
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Boom)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    waits = []
    try:
        with pytest.raises(PullError, match="en erreur \\(503\\) après 2 nouvelles tentatives"):
            pull("kobo", f"http://127.0.0.1:{httpd.server_address[1]}", "aDLSsuivi", tmp_path, token=TOKEN,
                 sleep=waits.append, max_retries=2)
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert len(calls) == 3 and waits == [2.0, 4.0]     # no Retry-After: 2 s, then 4 s
    assert not any(tmp_path.iterdir())
