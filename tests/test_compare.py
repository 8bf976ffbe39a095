"""CI-based comparison with a reference (Fingertips rule), with hand-worked cases."""
from __future__ import annotations

import math

import pandas as pd
import pytest

from diagnostics.errors import DLSError
from diagnostics.stats.compare import compare_ci, compare_columns, significance


@pytest.mark.parametrize("est,lo,hi,ref,direction,expected", [
    (0.30, 0.25, 0.35, 0.40, "hausse_favorable", "moins bien"),   # ref above the CI
    (0.30, 0.25, 0.35, 0.40, "hausse_defavorable", "mieux"),      # e.g. ALD prevalence
    (0.30, 0.25, 0.35, 0.20, "hausse_favorable", "mieux"),
    (0.30, 0.25, 0.35, 0.35, "hausse_favorable", "similaire"),    # on the limit: not outside
    (0.30, 0.25, 0.35, 0.20, "neutre", "plus élevé"),
    (0.10, 0.05, 0.15, 0.20, "neutre", "plus bas"),
    (0.30, 0.25, 0.35, 0.30, "neutre", "similaire"),
    (math.nan, math.nan, math.nan, 0.30, "hausse_favorable", "non comparable"),  # suppressed
    (0.30, 0.25, 0.35, None, "hausse_favorable", "non comparable"),
])
def test_compare_ci_point_reference(est, lo, hi, ref, direction, expected):
    assert compare_ci(est, lo, hi, ref, direction=direction) == expected


def test_reference_with_ci_uses_overlap():
    # ref 0.40 lies outside [0.25; 0.35] but its CI [0.34; 0.46] overlaps → similar
    assert compare_ci(0.30, 0.25, 0.35, 0.40, 0.34, 0.46) == "similaire"
    assert compare_ci(0.30, 0.25, 0.35, 0.40, 0.36, 0.46) == "moins bien"
    assert significance(0.5, 0.45, 0.55, 0.3, 0.2, 0.4) == "plus élevé"


def test_bad_arguments_are_french():
    with pytest.raises(DLSError, match="sens de l'indicateur"):
        compare_ci(0.3, 0.2, 0.4, 0.1, direction="up")
    with pytest.raises(DLSError, match="borne basse"):
        compare_ci(0.3, 0.4, 0.2, 0.1)


def test_compare_columns_on_indicator_table():
    t = pd.DataFrame({"estimate": [0.3, 0.5], "ci_low": [0.25, 0.45], "ci_high": [0.35, 0.55],
                      "ref_france": [0.4, 0.5], "direction": ["hausse_favorable", "hausse_defavorable"]})
    assert compare_columns(t, "ref_france").tolist() == ["moins bien", "similaire"]


def test_one_rule_for_the_rest_and_for_the_evolution():
    """issue 29: the evolution's verdict is compare_test with other words (no twin rule)."""
    from diagnostics.engine.evolution import evolution_verdict
    from diagnostics.stats.compare import EVOLUTION_WORDS, compare_test
    for diff in (-0.05, 0.05, float("nan")):
        for p in (0.01, 0.049, 0.05, 0.2, float("nan")):
            for d in ("hausse_favorable", "hausse_defavorable", "neutre"):
                assert compare_test(diff, p, 0.05, d, words=EVOLUTION_WORDS) == \
                    evolution_verdict(diff, p, d, 0.05), (diff, p, d)
