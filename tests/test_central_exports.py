"""Issue 28 « exports read wrong without a word »: ODK Central's CSV exports of OUR form, written by
Central's own export code (getodk/central-backend ``lib/data/briefcase.js``, commit 4f5943d1),
read back whole, cell by cell, in every flavour of its export page (group paths yes/no, split
select multiples yes/no, the root ``.csv`` and the ``.csv.zip`` the page downloads).

The files in ``tests/fixtures/exporters/central/`` come from ``make_central.py`` (its docstring
cites the code followed); their submissions are issue 19's ``formpack/submissions.json``
(synthetic).  The expected values are read from that JSON, never from our reader: a question not
asked (its ``relevant`` false) or left blank is blank, however Central fills its option columns
(« 0 » in every one, ``generateDataFrame``).
"""
from pathlib import Path

import numpy as np
import pytest

from diagnostics.collect.pseudonym import pseudonymise
from diagnostics.collect.readers import read_answers
from diagnostics.collect.validation import validate
from test_formpack_exports import EXPECTED, QN, SECRET, SUBMISSIONS, mismatches

FIXTURES = Path(__file__).parent / "fixtures" / "exporters" / "central"
NAMES = [f"central_{g}_{s}.{ext}" for g in ("groups", "nogroups") for s in ("split", "nosplit")
         for ext in ("csv", "csv.zip")]


def test_every_flavour_is_there():
    assert sorted(p.name for p in FIXTURES.iterdir()) == sorted(NAMES)


def test_unanswered_multiple_choice_is_in_the_fixture():
    """Central writes « 0 » in every option column of a select multiple nobody answered: the case
    that was read as « nothing ticked » (issue 28)."""
    text = (FIXTURES / "central_nogroups_split.csv").read_text(encoding="utf-8")
    header = text.splitlines()[0].split(",")
    assert "renoncement_soins/1" in header and "renoncement_soins" in header
    blanks = np.isnan(EXPECTED["renoncement_soins_1"]).sum()
    assert blanks >= 5        # not asked (renoncement != 1) or left blank


@pytest.mark.parametrize("name", NAMES)
def test_central_export_read_whole(name):
    raw = read_answers(FIXTURES / name, QN)
    assert raw.kobo and raw.unknown_columns == [] and raw.duplicate_columns == []
    res = validate(raw, QN, secret=SECRET)
    assert res.n_read == 40 and res.n_accepted == 40 and res.n_rejected == 0
    assert res.issues.empty, res.issues[["ligne", "colonne", "valeur", "probleme"]].head().to_string()
    ids = pseudonymise([s["meta/instanceID"] for s in SUBMISSIONS], secret=SECRET)
    assert list(res.codes.index) == list(ids)
    wrong = mismatches(res.codes)
    assert wrong == [], f"{len(wrong)} cellules : {wrong[:10]}"


def test_a_zip_without_one_answers_table_is_refused(tmp_path):
    import zipfile

    from diagnostics.errors import UnreadableFileError

    two = tmp_path / "deux.csv.zip"
    with zipfile.ZipFile(two, "w") as z:
        z.writestr("reponses.csv", "a;b\n1;2\n")
        z.writestr("marges.csv", "a;b\n1;2\n")
    with pytest.raises(UnreadableFileError, match=r"plusieurs tableaux CSV \(marges.csv, reponses.csv\) sans "
                                                  "tableau principal"):
        read_answers(two, QN)
    bomb = tmp_path / "bombe.csv.zip"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("dls_habitants.csv", b"0" * (3 * 1024 ** 2))
    from diagnostics.io.formats import DEFAULT_LIMITS, Limits

    small = Limits(**{**DEFAULT_LIMITS.__dict__, "max_bytes": 1024 ** 2})
    with pytest.raises(UnreadableFileError, match=r"son tableau « dls_habitants.csv » pèse 3,0 Mo décompressé"):
        read_answers(bomb, QN, limits=small)
