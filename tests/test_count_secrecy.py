"""One secrecy rule for every printed table of counts (issue 29 item 4, issue 27 item 6).

Every count table the report and the fieldwork page print goes through
:func:`diagnostics.protect.cells.publish_counts`; the attacker's view
(:func:`diagnostics.protect.cells.audit_table`: linear programming over the printed cells, the
printed totals and the respondents per quartier printed elsewhere) must never pin a masked cell
down to less than one unit.  The numbers are the example's (channel « Autre »: 2, 5 and 0
respondents; Biollay 75+: 9 respondents; Bellevue: 2 respondents without age).
"""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import diagnostics as dls
from diagnostics.config.project import load_project
from diagnostics.paths import EXAMPLE
from diagnostics.protect.cells import SECRET_MARK, audit_table, group_neighbours, group_small, publish_counts
from diagnostics.publish import report

THR = 11


@pytest.fixture(scope="module")
def project():
    return load_project(EXAMPLE / "projet.yaml")


@pytest.fixture(scope="module")
def summary(project):
    cat = dls.load_catalogue(questionnaire=dls.load_questionnaire(project.donnees["questionnaire"]))
    val = dls.validate(project.donnees["reponses"], cat.questionnaire, secret=b"test")
    margins = dls.read_margins(project.donnees["marges"])
    wave = dls.prepare_wave(val.codes, margins, project, cat)
    frame, _ = dls.survey_frame(val.codes, project, cat, margins)
    weights = pd.Series(wave.calibration.weights, index=wave.frame.index)
    return dls.collection_summary(val.data, frame, weights, dls.margins_frame(margins, project), project)


def _numeric(table, cols):
    return table[cols].apply(lambda c: pd.to_numeric(c.where(c != SECRET_MARK), errors="coerce"))


def _assert_safe(printed: pd.DataFrame, label: str, cols: list, col_totals: list, total_col=None):
    """No masked cell recoverable: each one's interval (reader's view) is at least one unit wide,
    and no printed count is under the threshold."""
    t = printed.copy()
    t[cols] = _numeric(printed, cols)
    shown = t[cols].to_numpy(dtype=float)
    assert not ((shown > 0) & (shown < THR)).any(), printed
    inner = [c for c in cols if c != total_col]
    audit = audit_table(t, cols, [label], total_col=total_col, margins_known_values={"cols": col_totals})
    assert len(audit) == int(np.isnan(t[inner].to_numpy(dtype=float)).sum())
    assert ((audit["max"] - audit["min"]) >= 1).all(), audit


def test_group_neighbours_by_hand():
    # 29 42 35 15 9: 9 < 11 joins its only neighbour → 29 42 35 24
    assert group_neighbours([29, 42, 35, 15, 9], THR) == [[0], [1], [2], [3, 4]]
    # 5 3 40 20: 3 (smallest) joins 5 (its smaller neighbour) → 8, still small, joins 40
    assert group_neighbours([5, 3, 40, 20], THR) == [[0, 1, 2], [3]]
    assert group_neighbours([0, 12, 0], THR) == [[0], [1], [2]]      # a zero reveals nobody


def test_channel_table_of_the_report(summary, project):
    """Annex: channels × quartiers with a Total column; « Autre » (2, 5, 0: total 7) can no
    longer be read as 406 − 130 − 170 − 100 = 6; every channel keeps a row."""
    rows = report._channels_view(summary["channels"], project)
    printed = pd.DataFrame(rows)
    label, cols = printed.columns[0], list(printed.columns[1:])
    assert cols == [*project.libelles, "Total"]
    assert len(printed) >= 4 and not any("Autres" in str(x) for x in printed[label])
    totals = summary["weighting"].set_index("quartier")["n"]
    _assert_safe(printed, label, cols[:-1], [int(totals[q]) for q in project.libelles])
    _assert_safe(printed, label, cols, [int(totals[q]) for q in project.libelles], total_col="Total")


def test_annex_a_representativeness(summary, project):
    """Age and sex of the respondents per quartier: Biollay's 75+ (9) grouped into « 60 ans ou
    plus »; Bellevue's 2 respondents without age masked, and a second cell with them."""
    view = report._methods_view(summary, project, None)
    rep = pd.DataFrame(view["representativeness"])
    totals = summary["weighting"].set_index("quartier")["n"]
    assert totals.to_dict() == {"Biollay": 130, "Hauts-de-Chambéry": 170, "Bellevue": 100}
    biollay = rep[rep["quartier"] == "Biollay"]
    assert "60 ans ou plus" in biollay["groupe"].tolist()
    assert int(biollay.loc[biollay["groupe"] == "60 ans ou plus", "n"].iloc[0]) == 24
    for (q, kind), block in rep.groupby(["quartier", "kind"]):
        _assert_safe(block.reset_index(drop=True), "groupe", ["n"], [int(totals[q])])
        masked = block["n"] == SECRET_MARK
        assert block.loc[masked, "pct_echantillon"].isna().all()   # a share would give the count back
    # one respondent count per quartier throughout: the channel columns add up to the same totals
    channels = pd.DataFrame(report._channels_view(summary["channels"], project))
    for q in project.libelles:
        col = channels[q]
        if (col != SECRET_MARK).all():
            assert int(col.sum()) == int(totals[q])


def test_fieldwork_channels_and_associations():
    """The fieldwork page: one small channel (7) among counts whose total (406) is printed → a
    second channel is masked; associations 9 + 7 + 7 grouped (23), a lone small one masked."""
    ch = pd.DataFrame({"canal": ["Papier", "Cabinet", "Rue", "Boîte", "En ligne", "Autre"],
                       "n": [138, 62, 71, 78, 50, 7]})
    printed, status = publish_counts(ch, ["n"], "canal", THR)
    assert (printed["n"] == SECRET_MARK).sum() == 2
    _assert_safe(printed, "canal", ["n"], [406])
    a = group_small(pd.Series({"Le Lien": 25, "ASV": 12, "Amicale": 9, "Club": 7, "Maison": 7}), THR,
                    name="association")
    assert dict(zip(a["association"], a["n"])) == {"Le Lien": 25, "ASV": 12, "Autres (regroupés)": 23}
    b = group_small(pd.Series({"Le Lien": 25, "ASV": 12, "Amicale": 9}), THR, name="association")
    assert (b["n"] == SECRET_MARK).sum() == 2
    _assert_safe(b, "association", ["n"], [46])


def test_one_margins_reader_for_the_fieldwork_page_too(tmp_path, project):
    """« 1 600 » (French thousands separator) is read by the one margins reader, which the
    fieldwork page now uses as the indicator table does (it used to refuse it)."""
    import copy

    from diagnostics.engine.fieldwork import monitor

    src = Path(project.donnees["marges"]).read_text(encoding="utf-8-sig").splitlines()
    head, rows = src[0], [r for r in src[1:] if r and not r.startswith("#")]
    parts = rows[0].split(";")
    parts[-1] = "1\u202f600"
    path = tmp_path / "marges.csv"
    path.write_text("\n".join([head, ";".join(parts), *rows[1:]]) + "\n", encoding="utf-8")
    m = dls.read_margins(path)
    assert m["effectif"].iloc[0] == 1600
    p2 = copy.copy(project)
    p2.donnees = {**project.donnees, "marges": path}
    res = monitor([project.donnees["reponses"]], p2)
    assert res.quotas["population"].sum() == pytest.approx(m["effectif"].sum())
