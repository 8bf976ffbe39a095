"""Benjamini-Hochberg adjustment against R's p.adjust(method = "BH") (tests/fixtures/r_fdr/p_adjust_bh.R)."""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from diagnostics.stats.compare import adjust_bh, p_from_interval

FIXTURE = Path(__file__).parent / "fixtures" / "r_fdr" / "p_adjust_bh.csv"


def test_bh_matches_r_p_adjust():
    r = pd.read_csv(FIXTURE)
    got = adjust_bh(r["p"].to_numpy())
    assert np.isnan(got[r["p"].isna().to_numpy()]).all()       # NA stays NA, not counted among the tests
    ok = r["p"].notna().to_numpy()
    assert got[ok] == pytest.approx(r["bh"].to_numpy()[ok], rel=1e-12)


def test_bh_hand_calculation():
    # m = 3, sorted 0.01, 0.03, 0.04: 3 × 0.01 / 1 = 0.03; min(3 × 0.03 / 2, 3 × 0.04 / 3) = 0.04; 0.04
    assert adjust_bh([0.04, 0.01, 0.03]).tolist() == pytest.approx([0.04, 0.03, 0.04])
    assert adjust_bh([]).size == 0


def test_p_from_interval_is_coherent_with_the_interval():
    # a reference just on the bound of a logit interval gives p = 0.05
    import math

    from scipy.stats import norm

    p, se = 0.329, 0.2
    logit = math.log(p / (1 - p))
    z = norm.ppf(0.975)
    lo, hi = (1 / (1 + math.exp(-(logit + s * z * se))) for s in (-1, 1))
    assert p_from_interval(p, lo, hi, lo) == pytest.approx(0.05, rel=1e-6)
    assert p_from_interval(p, lo, hi, p) == pytest.approx(1.0)
    assert np.isnan(p_from_interval(p, None, hi, 0.2))
