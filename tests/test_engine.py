"""The one indicator engine (issue 29 item 2): one raked design per wave, never modified, whose
estimates the indicator table, the evolution and the fieldwork page share."""
import numpy as np
import pandas as pd
import pytest

import diagnostics as dls
from diagnostics.config.project import load_project
from diagnostics.paths import EXAMPLE


@pytest.fixture(scope="module")
def setup():
    project = load_project(EXAMPLE / "projet.yaml")
    cat = dls.load_catalogue(questionnaire=dls.load_questionnaire(project.donnees["questionnaire"]))
    codes = dls.validate(project.donnees["reponses"], cat.questionnaire, secret=b"test").codes
    margins = dls.read_margins(project.donnees["marges"])
    return project, cat, codes, margins


def test_the_design_is_never_modified(setup):
    project, cat, codes, margins = setup
    wave = dls.prepare_wave(codes, margins, project, cat)
    before = wave.design.data.copy()
    est = dls.estimate(wave, cat)
    from diagnostics.engine.wave import quartier_tests
    for ind in cat:
        if ind.id in wave.design.data.columns:
            quartier_tests(wave, ind)
    pd.testing.assert_frame_equal(wave.design.data, before)
    pd.testing.assert_frame_equal(dls.estimate(wave, cat), est)
    # the design's columns: the three cells, then one per questionnaire indicator the answers compute
    assert list(before.columns[:3]) == ["quartier", "groupe_age", "sexe"]
    assert set(before.columns[3:]) | set(wave.errors) == {i.id for i in cat if i.source == "questionnaire"}


def test_raking_reproduces_the_margins_by_hand(setup):
    """Σ w over a quartier × age group = its census count, and over a quartier × sex (rake_wave)."""
    project, cat, codes, margins = setup
    wave = dls.prepare_wave(codes, margins, project, cat)
    w = pd.Series(wave.calibration.weights, index=wave.frame.index)
    m = dls.margins_frame(margins, project)
    for keys in (["quartier", "groupe_age"], ["quartier", "sexe"]):
        got = w.groupby([wave.frame[k] for k in keys]).sum()
        want = m.groupby(keys)["effectif"].sum()
        assert np.allclose(got.reindex(want.index).to_numpy(), want.to_numpy(), rtol=1e-8)


def test_table_and_evolution_share_the_engine(setup):
    """The indicator table and the evolution's current wave give the same estimates (one engine)."""
    project, cat, codes, margins = setup
    table = dls.compute_indicators(codes, margins, project=project, catalogue=cat, protect=False)
    wave = dls.wave_estimates(codes, margins, project, cat)
    merged = table.merge(wave, on=["quartier", "indicator_id"], suffixes=("", "_w"))
    assert len(merged) > 100
    assert np.allclose(merged["estimate"], merged["estimate_w"], rtol=1e-12, equal_nan=True)
    assert np.allclose(merged["ci_low"], merged["ci_low_w"], rtol=1e-12, equal_nan=True)
    assert (merged["n"] == merged["n_w"]).all()


def test_equal_weights_and_missing_margins(setup):
    project, cat, codes, margins = setup
    wave = dls.prepare_wave(codes, None, project, cat, weights="egaux")
    assert wave.calibration is None and wave.counts["sans_age_sexe"] == 0
    assert np.allclose(wave.design.w, 1.0)
    with pytest.raises(dls.DLSError, match="calage"):
        dls.prepare_wave(codes, None, project, cat)
