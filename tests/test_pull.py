"""``dls recuperer``: the real client against doubles that behave as ODK Central and KoboToolbox do.

The doubles (``tests/server_doubles.py``) are built from central-backend's and kpi's code and the
Central one is compared with a session recorded on the real backend
(``tests/fixtures/odk_central/central_session.json``, :func:`test_double_matches_real_central`).
Each case of issue 28 is reproduced: edits, review states, deletions, late commits, a cut stream,
repeat groups, and the folder after a pull equals a fresh full pull.
"""
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from server_doubles import TOKEN, CentralState, KoboState, Running

from diagnostics.cli import cli
from diagnostics.collect.pull import PullError, pull
from diagnostics.collect.readers import read_answers

SESSION = Path(__file__).parent / "fixtures" / "odk_central" / "central_session.json"


def _odk(url, out, **kw):
    return pull("odk", url, "dls_habitants", out, project="7", token=TOKEN, sleep=lambda s: None, **kw)


def _kobo(url, out, **kw):
    return pull("kobo", url, "aDLSsuivi", out, token=TOKEN, sleep=lambda s: None, **kw)


def _files(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.name != "manifeste.json"}


def test_odk_pages_follow_skiptoken_and_stop_at_the_count(tmp_path):
    with Running(CentralState(1000), "odk") as srv:
        res = _odk(srv.url, tmp_path, page_size=400)
        assert (res.new, res.total, res.pages) == (1000, 1000, 3)
        assert "$skiptoken=01" in urldecode(srv.state.requests[1]) and "$expand=*" in urldecode(srv.state.requests[0])
        assert len(read_answers(res.csv).table) == 1000
    # 800 submissions, pages of 400: exactly two requests (the last page is not asked twice)
    with Running(CentralState(800), "odk") as srv:
        res = _odk(srv.url, tmp_path / "b", page_size=400)
        assert (res.total, res.pages, len(srv.state.requests)) == (800, 2, 2)


def urldecode(s):
    import urllib.parse
    return urllib.parse.unquote(s)


def test_odk_edits_reviews_deletions_late_commits_equal_fresh_pull(tmp_path):
    state = CentralState(30)
    with Running(state, "odk") as srv:
        first = _odk(srv.url, tmp_path / "a", page_size=10)
        assert (first.new, first.total) == (30, 30)
        ids = [s.instance_id for s in state.subs]
        state.edit(ids[0], age=47)                  # an edit keeps its receipt date
        state.set_review(ids[1], "rejected")
        state.set_review(ids[2], "hasIssues")
        state.delete(ids[3])
        # stamped before the last pulled one, committed only now: a pull « since the last » loses it
        late = state.add(created=state.subs[-1].created - 3, age=33)
        assert late.created < max(s.created for s in state.subs[:30])
        state.add(age=61)
        second = _odk(srv.url, tmp_path / "a", page_size=10)
        assert (second.new, second.modified, second.deleted, second.total) == (2, 3, 1, 31)
        assert (second.rejected, second.has_issues) == (1, 1)
        stored = {r["__id"]: r for r in json.loads((second.folder / "soumissions.json").read_text())}
        assert stored[ids[0]]["profil"]["age"] == 47 and ids[3] not in stored and late.instance_id in stored
        fresh = _odk(srv.url, tmp_path / "fresh", page_size=7)
        assert _files(second.folder) == _files(fresh.folder)
        third = _odk(srv.url, tmp_path / "a", page_size=10)
        assert (third.new, third.modified, third.deleted) == (0, 0, 0)
        assert "Aucun changement" in third.summary()
    man = json.loads(second.manifest.read_text())
    assert [(e["nouvelles"], e["modifiees"], e["supprimees"]) for e in man] == [(30, 0, 0), (2, 3, 1), (0, 0, 0)]
    text = second.csv.read_text()
    assert "ReviewState" in text.splitlines()[0] and ",rejected" in text and ",hasIssues" in text


def test_kobo_edits_validation_status_deletions_equal_fresh_pull(tmp_path):
    state = KoboState(25)
    with Running(state, "kobo") as srv:
        first = _kobo(srv.url, tmp_path / "a", page_size=10)
        # 10 + 10 + 5, then an empty page: kpi's next link follows the form's counter (25), not
        # the query « _id > 5020 », so only an empty page ends the pull
        assert (first.new, first.total, first.pages) == (25, 25, 4)
        state.edit(5001, age=47)
        state.validate(5002, "validation_status_not_approved")
        state.validate(5003, "validation_status_on_hold")
        state.validate(5004, "validation_status_approved")
        state.delete(5005)
        state.add(age=70)
        second = _kobo(srv.url, tmp_path / "a", page_size=10)
        assert (second.new, second.modified, second.deleted, second.total) == (1, 4, 1, 25)
        assert (second.rejected, second.has_issues) == (1, 1)
        fresh = _kobo(srv.url, tmp_path / "fresh", page_size=4)
        assert _files(second.folder) == _files(fresh.folder)
        raw = read_answers(second.csv)
        assert len(raw.table) == 25 and raw.kobo
    header = second.csv.read_text().splitlines()[0].split(",")
    assert "_validation_status" in header and not any("/uid" in h or "/label" in h for h in header)


def test_repeat_groups_written_apart_never_as_answers(tmp_path):
    state = CentralState(3)
    state.subs[0].repeats = {"membres": [{"age_membre": 50, "lien": "conjoint"}, {"age_membre": 12, "lien": "enfant"}]}
    with Running(state, "odk") as srv:
        res = _odk(srv.url, tmp_path)
    header = res.csv.read_text().splitlines()[0]
    assert "navigationLink" not in header and "membres" not in header
    rep = (res.folder / "reponses_membres.csv").read_text().splitlines()
    assert rep[0] == "PARENT_KEY,KEY,age_membre,lien" and len(rep) == 3
    assert rep[1].startswith(state.subs[0].instance_id + ",")
    assert res.repeats == {"membres": 2} and "Groupe répété « membres » : 2 lignes" in res.summary()
    kstate = KoboState(2)
    kstate.add(repeats={"membres": [{"membres/age_membre": 8}]})
    with Running(kstate, "kobo") as srv:
        kres = _kobo(srv.url, tmp_path)
    assert (kres.folder / "reponses_membres.csv").read_text().splitlines() == ["PARENT_KEY,KEY,membres/age_membre",
                                                                              "5003,5003/membres[1],8"]
    assert "membres" not in kres.csv.read_text().splitlines()[0]


def test_cut_download_french_error_files_intact_exit_2(tmp_path):
    state = CentralState(20)
    with Running(state, "odk") as srv:
        first = _odk(srv.url, tmp_path, page_size=10)
        before = {p.name: p.read_bytes() for p in first.folder.iterdir()}
        state.edit(state.subs[0].instance_id, age=99)
        state.cut_next = 1                         # one cut body: asked again, the pull succeeds
        waits = []
        res = pull("odk", srv.url, "dls_habitants", tmp_path / "b", project="7", token=TOKEN, sleep=waits.append)
        assert res.total == 20 and res.retries == 1 and waits == [2.0]
        state.cut_next = 100
        with pytest.raises(PullError, match="interrompu en cours de route .* les fichiers déjà enregistrés sont intacts"):
            _odk(srv.url, tmp_path, max_retries=2)
        assert {p.name: p.read_bytes() for p in first.folder.iterdir()} == before
        r = CliRunner().invoke(cli, ["recuperer", "odk", "--serveur", srv.url, "--formulaire", "dls_habitants",
                                     "--projet-odk", "7", "--sortie", str(tmp_path), "--essais", "0"],
                               env={"DLS_ODK_TOKEN": TOKEN})
    assert r.exit_code == 2 and "interrompu" in r.output and "Traceback" not in r.output
    assert "Erreur inattendue" not in r.output


def test_500_is_a_server_error_not_saturation(tmp_path):
    state = CentralState(5)
    state.fail = [(500, ())] * 3
    with Running(state, "odk") as srv:
        waits = []
        with pytest.raises(PullError, match=r"en erreur \(500\) après 2 nouvelles tentatives") as exc:
            pull("odk", srv.url, "dls_habitants", tmp_path, project="7", token=TOKEN, sleep=waits.append,
                 max_retries=2)
        assert "saturé" not in str(exc.value) and waits == [2.0, 4.0]
        assert not any(tmp_path.iterdir())
        state.fail = [(500, ())]
        r = CliRunner().invoke(cli, ["recuperer", "odk", "--serveur", srv.url, "--formulaire", "dls_habitants",
                                     "--projet-odk", "7", "--sortie", str(tmp_path)],
                               env={"DLS_ODK_TOKEN": TOKEN})
    assert r.exit_code == 0, r.output
    assert "Le serveur est en erreur (500) : nouvel essai" in r.output and "saturé" not in r.output


def test_429_retry_after_respected(tmp_path):
    state = KoboState(10)
    state.fail = [(429, [("Retry-After", "7")])] * 2
    with Running(state, "kobo") as srv:
        waits = []
        res = pull("kobo", srv.url, "aDLSsuivi", tmp_path, token=TOKEN, sleep=waits.append)
        assert waits == [7.0, 7.0] and res.retries == 2 and res.total == 10
        state.fail = [(429, [("Retry-After", "1")])] * 10
        with pytest.raises(PullError, match="429"):
            pull("kobo", srv.url, "aDLSsuivi", tmp_path, token=TOKEN, sleep=waits.append, max_retries=3)


def test_credentials_in_clear_refused_before_sending(tmp_path):
    state = CentralState(3)
    with Running(state, "odk") as srv:
        env = {"DLS_ODK_EMAIL": "admin@dls.test", "DLS_ODK_MOT_DE_PASSE": "Collecte-Essai-2024!"}
        with pytest.raises(PullError, match="n'accepte l'e-mail et le mot de passe qu'en https://") as exc:
            pull("odk", srv.url, "dls_habitants", tmp_path, project="7", environ=env)
        assert "Collecte-Essai" not in str(exc.value) and state.requests == []
        r = CliRunner().invoke(cli, ["recuperer", "odk", "--serveur", srv.url, "--formulaire", "dls_habitants",
                                     "--projet-odk", "7", "--sortie", str(tmp_path)], env=env)
        assert r.exit_code == 2 and "https://" in r.output and "jeton est refusé" not in r.output
        assert state.requests == []
    with pytest.raises(PullError, match="le jeton circulerait en clair"):
        pull("kobo", "http://kobo.example.org", "aDLSsuivi", tmp_path, token=TOKEN)


def test_next_link_to_another_host_is_never_sent_the_token(tmp_path):
    state = CentralState(25)
    state.domain = "http://central.autre-hote.example"      # Central writes its configured domain
    with Running(state, "odk") as srv:
        res = _odk(srv.url, tmp_path, page_size=10)
        host = srv.url.removeprefix("http://")
    assert res.total == 25 and res.pages == 3
    assert set(state.auth_hosts) == {host}


def test_401_404_french_sentences(tmp_path):
    with Running(KoboState(3), "kobo") as srv:
        with pytest.raises(PullError, match="répond 401 : le jeton est refusé") as exc:
            pull("kobo", srv.url, "aDLSsuivi", tmp_path, token="mauvais")
        assert "mauvais" not in str(exc.value)
        r = CliRunner().invoke(cli, ["recuperer", "kobo", "--serveur", srv.url, "--formulaire", "aDLSsuivi",
                                     "--sortie", str(tmp_path)], env={"DLS_KOBO_TOKEN": "mauvais"})
        assert r.exit_code == 2 and "le jeton est refusé" in r.output and "mauvais" not in r.output
        with pytest.raises(PullError, match="ne connaît pas le formulaire « inconnu » \\(404\\)"):
            pull("kobo", srv.url, "inconnu", tmp_path, token=TOKEN)
    with Running(CentralState(3), "odk") as srv:
        with pytest.raises(PullError, match="xmlFormId"):
            pull("odk", srv.url, "inconnu", tmp_path, project="7", token=TOKEN)
    assert not any(tmp_path.rglob("*.csv"))


def test_cli_token_from_file(tmp_path):
    tok = tmp_path / "jeton.txt"
    tok.write_text(TOKEN + "\n")
    with Running(CentralState(1000), "odk") as srv:
        r = CliRunner().invoke(cli, ["recuperer", "odk", "--serveur", srv.url, "--formulaire", "dls_habitants",
                                     "--projet-odk", "7", "--jeton-fichier", str(tok), "--sortie", str(tmp_path / "raw")])
    assert r.exit_code == 0, r.output
    assert "1\u202f000 nouvelles" in r.output and TOKEN not in r.output


def _shape(obj):
    """Keys and value types, recursively (values themselves differ between servers)."""
    if isinstance(obj, dict):
        return {k: _shape(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_shape(obj[0])] if obj else []
    return type(obj).__name__


def test_double_matches_real_central(tmp_path):
    """The same steps on the double as on the real Central (recorded session): same envelope
    keys, ``__system`` keys and types, next links with a ``$skiptoken`` only while rows remain,
    counts, review states, an edit keeping ``__id`` and its receipt date, repeat rows only under
    ``$expand=*``, Central's refusal codes."""
    real = json.loads(SESSION.read_text(encoding="utf-8"))
    state = CentralState(0)
    import requests
    for k in range(5):
        state.add(age=40 + k, renoncement_soins="1 3")
    with Running(state, "odk") as srv:
        base = f"{srv.url}/v1/projects/7/forms/dls_habitants.svc/Submissions"
        auth = {"Authorization": f"Bearer {TOKEN}"}
        double = {"page1": requests.get(base + "?$top=2&$count=true&$expand=*", headers=auth).json()}
        double["page2"] = requests.get(double["page1"]["@odata.nextLink"], headers=auth).json()
        double["last_page"] = requests.get(base + "?$top=5&$count=true", headers=auth).json()
        ids = [s.instance_id for s in state.subs]
        state.edit(ids[0], age=47)
        state.set_review(ids[1], "rejected")
        state.set_review(ids[2], "hasIssues")
        state.delete(ids[3])
        double["after_changes"] = requests.get(base + "?$count=true&$expand=*", headers=auth).json()
        statuses = {"unauthorised": requests.get(base, headers={"Authorization": "Bearer mauvais"}),
                    "basic_over_http": requests.get(base, auth=("admin@dls.test", "x")),
                    "not_found": requests.get(base.replace("dls_habitants", "inconnu"), headers=auth)}
    for step in ("page1", "page2", "last_page", "after_changes"):
        r, d = real[step]["body"], double[step]
        assert set(r) == set(d), step
        assert r.get("@odata.count") == d.get("@odata.count") and len(r["value"]) == len(d["value"]), step
        assert ("@odata.nextLink" in r) == ("@odata.nextLink" in d), step
        assert _shape(r["value"][0]["__system"]) == _shape(d["value"][0]["__system"]) or step == "after_changes"
        assert _shape(r["value"][0]["profil"])["age"] == _shape(d["value"][0]["profil"])["age"] == "int"
    assert "$skiptoken=01" in urldecode(real["page1"]["body"]["@odata.nextLink"])
    assert "$skiptoken=01" in urldecode(double["page1"]["@odata.nextLink"])
    # after the changes: same review states, the edit keeps __id, gets a new instanceID and edits = 1
    rr = {r["__id"]: r for r in real["after_changes"]["body"]["value"]}
    dd = {r["__id"]: r for r in double["after_changes"]["value"]}
    for k, (rid, did) in enumerate(zip(real["ids"], ids)):
        assert (rid in rr) == (did in dd)
        if rid in rr:
            rs, ds = rr[rid]["__system"], dd[did]["__system"]
            assert (rs["reviewState"], rs["edits"], rs["updatedAt"] is None) == \
                   (ds["reviewState"], ds["edits"], ds["updatedAt"] is None), k
            assert (rr[rid]["meta"]["instanceID"] == rid) == (dd[did]["meta"]["instanceID"] == did)
    assert rr[real["ids"][0]]["profil"]["age"] == dd[ids[0]]["profil"]["age"] == 47
    for step, resp in statuses.items():
        assert (real[step]["status"], real[step]["body"]) == (resp.status_code, resp.json()), step
    # repeat groups: navigation link always, rows with a hashed __id only under $expand=*
    plain, expand = real["repeat_plain"]["body"]["value"][0], real["repeat_expand"]["body"]["value"][0]
    assert "membres@odata.navigationLink" in plain and "membres" not in plain
    assert set(expand["membres"][0]) == {"age_membre", "lien", "__id"}
    state = CentralState(1)
    state.subs[0].repeats = {"membres": [{"age_membre": 50, "lien": "conjoint"}]}
    with Running(state, "odk") as srv:
        base = f"{srv.url}/v1/projects/7/forms/dls_habitants.svc/Submissions"
        dp = requests.get(base, headers={"Authorization": f"Bearer {TOKEN}"}).json()["value"][0]
        de = requests.get(base + "?$expand=*", headers={"Authorization": f"Bearer {TOKEN}"}).json()["value"][0]
    assert "membres@odata.navigationLink" in dp and "membres" not in dp
    assert set(de["membres"][0]) == set(expand["membres"][0])
    assert len(de["membres"][0]["__id"]) == len(expand["membres"][0]["__id"]) == 40


def test_rejected_kept_out_of_check_and_suivi_by_default_and_counted(tmp_path, monkeypatch):
    state = CentralState(40)
    ids = [s.instance_id for s in state.subs]
    state.set_review(ids[0], "rejected")
    state.set_review(ids[1], "rejected")
    state.set_review(ids[2], "hasIssues")
    state.set_review(ids[3], "approved")
    with Running(state, "odk") as srv:
        res = _odk(srv.url, tmp_path / "raw")
    assert (res.rejected, res.has_issues) == (2, 1) and "2 rejetées" in res.summary()
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    r = runner.invoke(cli, ["check", str(res.csv), "--rapport", str(tmp_path / "c.xlsx")])
    assert r.exit_code == 1, r.output
    assert "40 lignes lues, 38 acceptées, 2 rejetées" in r.output
    assert ("Revue sur le serveur : 2 soumissions rejetées lors de la revue sur le serveur de collecte, écartées "
            "de l'analyse (--inclure-rejetees pour les garder) ; 1 soumission marquée « à problème » à la revue, "
            "gardée et signalée.") in r.output
    r = runner.invoke(cli, ["check", str(res.csv), "--rapport", str(tmp_path / "c.xlsx"), "--inclure-rejetees"])
    assert "40 lignes lues, 40 acceptées, 0 rejetée" in r.output and "2 soumissions rejetées à la revue gardées" in r.output
    r = runner.invoke(cli, ["suivi", str(res.csv), "--out", str(tmp_path / "suivi.html"), "--date", "2024-03-20"])
    assert r.exit_code == 0, r.output
    assert "38 réponses retenues, 0 doublon écarté, 0 autre ligne rejetée" in r.output
    assert "2 soumissions rejetées lors de la revue" in r.output
    page = (tmp_path / "suivi.html").read_text()
    assert "rejetées à la revue" in page and "Rejetées à la revue" in page
    r = runner.invoke(cli, ["suivi", str(res.csv), "--out", str(tmp_path / "s2.html"), "--date", "2024-03-20",
                            "--inclure-rejetees"])
    assert "40 réponses retenues" in r.output


def test_kobo_export_validation_status_applied(tmp_path):
    """Kobo's own export (formpack) writes the uid in ``_validation_status``: « Not approved »
    is set apart, « On hold » flagged, « Approved » kept."""
    from diagnostics.collect.review import counts
    from diagnostics.collect.validation import validate
    state = KoboState(12)
    state.validate(5001, "validation_status_not_approved")
    state.validate(5002, "validation_status_on_hold")
    state.validate(5003, "validation_status_approved")
    with Running(state, "kobo") as srv:
        res = _kobo(srv.url, tmp_path)
    val = validate(res.csv, secret="essai")
    assert (val.n_read, val.n_accepted) == (12, 11)
    assert counts(val.issues) == {"rejected": 1, "rejected_kept": 0, "has_issues": 1}
    row = val.rejected.iloc[0]
    assert row["ligne"] == 2 and "rejetée lors de la revue" in row["motif"]
    assert validate(res.csv, secret="essai", include_rejected=True).n_accepted == 12


def test_kobo_pages_by_id_whatever_the_counter_the_cap_or_a_deletion_mid_pull(tmp_path):
    """kpi's ``count``/``next`` follow the form's counter, ``limit`` is capped, and an offset
    shifts when a row is deleted during the pull: paging by ``_id`` gets every row anyway."""
    state = KoboState(30)
    state.counter_drift = -12          # the counter says 18: kpi's next link stops early
    state.max_limit = 7                # asked 10, served 7 a page
    calls = []

    def delete_once():
        calls.append(1)
        if len(calls) == 1:
            state.delete(5002)         # a row of the first page goes while the pull goes on
    state.after_page = delete_once
    with Running(state, "kobo") as srv:
        res = _kobo(srv.url, tmp_path, page_size=10)
    stored = [r["_id"] for r in json.loads((res.folder / "soumissions.json").read_text())]
    assert 5001 in stored and 5003 in stored and stored[-1] == 5030
    assert res.total == 30 and len(set(stored)) == 30     # 5002 was served before it went
    assert any("%24gt" in r or "$gt" in r for r in state.requests)


def test_odk_pull_started_again_when_a_submission_arrives_mid_pull(tmp_path):
    """A submission received while the pull pages (newest first) is not in the pages already
    served but is in the count: the pull starts again and gets it; a count that never agrees
    is refused in French, nothing written."""
    state = CentralState(25)
    served = []

    def arrive_once():
        served.append(1)
        if len(served) == 1:
            state.add(age=55)
    state.after_page = arrive_once
    with Running(state, "odk") as srv:
        res = _odk(srv.url, tmp_path / "a", page_size=10)
        assert res.total == 26 and res.pages == 3 + 3
        state.after_page = lambda: state.add(age=56)      # one more after every page: never settles
        with pytest.raises(PullError, match="annonce .* soumissions mais en a envoyé .* relancez la commande"):
            _odk(srv.url, tmp_path / "b", page_size=10)
    assert not (tmp_path / "b").exists()


def test_basic_only_over_https_and_a_vanished_repeat_file_removed(tmp_path):
    import base64

    from diagnostics.collect.pull_http import auth_header
    env = {"DLS_ODK_EMAIL": "a@b.fr", "DLS_ODK_MOT_DE_PASSE": "pw"}
    assert auth_header("odk", "https://odk.ma-ville.fr", None, env) == "Basic " + base64.b64encode(b"a@b.fr:pw").decode()
    assert auth_header("odk", "http://127.0.0.1:8383", TOKEN, {}) == f"Bearer {TOKEN}"
    state = CentralState(2)
    state.subs[0].repeats = {"membres": [{"age_membre": 9}]}
    with Running(state, "odk") as srv:
        assert (_odk(srv.url, tmp_path).folder / "reponses_membres.csv").exists()
        state.delete(state.subs[0].instance_id)
        res = _odk(srv.url, tmp_path)
        fresh = _odk(srv.url, tmp_path / "fresh")
    assert not (res.folder / "reponses_membres.csv").exists() and _files(res.folder) == _files(fresh.folder)


def test_rows_recorded_on_the_real_central_read_back_cell_for_cell(tmp_path):
    """The real backend's rows (recorded after an edit, two reviews and a deletion), served
    verbatim, pulled, written and read back by ``read_answers``: every answer cell equals the
    server's value, the review states and the root ``__id`` of the edited one are kept."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    body = json.loads(SESSION.read_text(encoding="utf-8"))["after_changes"]["body"]
    real = {r["__id"]: r for r in body["value"]}

    class Replay(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_GET(self):
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Replay)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        res = _odk(f"http://127.0.0.1:{httpd.server_address[1]}", tmp_path)
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert (res.total, res.rejected, res.has_issues) == (4, 1, 1)
    raw = read_answers(res.csv)
    cells = 0
    for i, key in enumerate(raw.table["id_questionnaire"]):
        row = real[key]
        for col in raw.table.columns.drop("id_questionnaire"):
            group = next((g for g, v in row.items() if isinstance(v, dict) and col in v), None)
            if group is None:
                continue
            want, got = row[group][col], raw.table.at[i, col]
            assert ("" if want is None else str(want)) == ("" if got is None or got != got else str(got)), (key, col)
            cells += 1
    assert cells == 4 * 62, cells          # the form's 62 answer columns found in each of the 4 rows
    assert list(raw.review.map(lambda v: v or "")) == [real[k]["__system"]["reviewState"] or ""
                                                       for k in raw.table["id_questionnaire"]]
