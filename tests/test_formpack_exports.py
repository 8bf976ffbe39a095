"""Issue 19 « real exporters, not hand-made imitations »: KoboToolbox exports of OUR XLSForm
written by the real kobotoolbox/formpack code (commit 176f619, the library KPI's download calls)
read back whole, cell by cell.

The files in ``tests/fixtures/exporters/formpack/`` and the submissions they were made from
(``submissions.json``, synthetic) come from ``tests/fixtures/exporters/make_formpack.py``, whose
docstring cites the formpack and KPI code followed and lists the 48 flavours.  The expected
values are read from the submissions JSON (codes as KoboCAT stores them), never from our reader.
"""
import datetime as dt
import json
from pathlib import Path

import numpy as np
import pytest

from diagnostics.collect.pseudonym import pseudonymise
from diagnostics.collect.readers import read_answers
from diagnostics.collect.validation import validate
from diagnostics.config.questionnaire import load_questionnaire

QN = load_questionnaire()
HERE = Path(__file__).parent / "fixtures" / "exporters"
FIXTURES = HERE / "formpack"
SUBMISSIONS = json.loads((FIXTURES / "submissions.json").read_text(encoding="utf-8"))
SECRET = "cle-de-test"

VALUES, GROUPS = ("xml", "labels"), ("groups", "nogroups")
MULTIPLE, FORMATS = ("both", "summary", "details"), ("semicolon.csv", "comma.csv", "text.xlsx", "typed.xlsx")
NAMES = [f"{v}_{g}_{m}_{f}" for v in VALUES for g in GROUPS for m in MULTIPLE for f in FORMATS]
# « . » as Kobo's group separator (issue 28): groups and options joined by « . »
NAMES += [f"{v}_{g}_{m}_dot_semicolon.csv" for v in VALUES for g in GROUPS for m in MULTIPLE]


def test_every_flavour_is_there():
    """48 exports (2 value types × 2 header styles × 3 select_multiple layouts × 4 formats), and the
    12 CSV with « . » as group separator, no other."""
    assert sorted(p.name for p in FIXTURES.iterdir() if p.name != "submissions.json") == sorted(NAMES)
    assert len(SUBMISSIONS) == 40


def _expected():
    """{column: list of 40 values} from the submissions (KoboCAT's keys: ``section/question``)."""
    exp = {}
    for q in QN:
        key = f"{q.section}/{q.name}"
        vals = [s.get(key) for s in SUBMISSIONS]
        if q.type == "multiple":
            for c in q.choices:
                exp[f"{q.name}_{c.code}"] = [np.nan if v is None else float(str(c.code) in v.split())
                                             for v in vals]
        elif q.type == "text":
            exp[q.name] = vals
        elif q.type == "date":
            exp[q.name] = [None if v is None else dt.date.fromisoformat(v) for v in vals]
        else:
            exp[q.name] = [np.nan if v is None or int(v) in q.missing_codes and q.type != "single"
                           else float(v) for v in vals]
    return exp


EXPECTED = _expected()


def test_submissions_are_rich_enough():
    """The fixture exercises what an export can break: several options ticked, blanks, non-ASCII
    text, a line break, quotes and both separators inside answers, a non-response code."""
    ticks = np.array([EXPECTED[f"renoncement_soins_{c.code}"] for c in QN["renoncement_soins"].choices])
    assert np.nanmax(np.nansum(ticks, axis=0)) >= 3 and np.isnan(ticks).any()
    comments = [v for v in EXPECTED["commentaire"] if v]
    assert any("\n" in v for v in comments) and any('"' in v for v in comments)
    assert any(";" in v for v in comments) and any("," in v for v in comments)
    assert any(not v.isascii() for v in comments)
    assert any(s.get("profil/age") == "999" for s in SUBMISSIONS)
    assert any(s.get("profil/taille_foyer") is None for s in SUBMISSIONS)


@pytest.mark.parametrize("name", NAMES)
def test_formpack_export_read_whole(name):
    path = FIXTURES / name
    raw = read_answers(path, QN)
    assert raw.kobo and raw.unknown_columns == [] and raw.duplicate_columns == []
    assert raw.absent_columns == []
    res = validate(raw, QN, secret=SECRET)
    assert res.n_read == 40 and res.n_accepted == 40 and res.n_rejected == 0
    assert res.issues.empty, res.issues[["ligne", "colonne", "valeur", "probleme"]].head().to_string()
    # rows come back in the file's order, keyed by the pseudonym of Kobo's _uuid
    ids = pseudonymise([s["_uuid"] for s in SUBMISSIONS], secret=SECRET)
    assert list(res.codes.index) == list(ids)
    # row numbers as the analyst sees them (header = 1), a line break inside an answer included
    assert res.sources["ligne"].tolist() == list(range(2, 42))
    wrong = mismatches(res.codes)
    assert wrong == [], wrong[:10]


def mismatches(codes) -> list[tuple]:
    """(row, column, read, expected) of every cell of ``codes`` that differs from the submissions."""
    out = []
    for col, exp in EXPECTED.items():
        got = codes[col].tolist()
        for i, (g, e) in enumerate(zip(got, exp)):
            if QN.questions.get(col) is not None and QN[col].type == "date":
                g = None if g is None or g != g else g.date()
                same = g == e
            elif isinstance(e, str) or e is None:
                same = (g if g == g else None) == e
            else:
                same = (np.isnan(g) and np.isnan(e)) or g == e
            if not same:
                out.append((i + 2, col, g, e))
    return out
