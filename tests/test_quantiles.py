"""Quantiles against R survey 4.1 svyquantile (tests/fixtures/r_survey/quantiles.R) on R's api data."""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from diagnostics.errors import DLSError
from diagnostics.stats.quantiles import quantile
from diagnostics.stats.survey import Design

FIX = Path(__file__).parent / "fixtures" / "r_survey"
REF = pd.read_csv(FIX / "quantiles_reference.csv")
DESIGNS = {
    "strat": lambda: Design(pd.read_csv(FIX / "apistrat.csv"), weights="pw", strata="stype"),
    "clus1": lambda: Design(pd.read_csv(FIX / "apiclus1.csv"), weights="pw", cluster="dnum"),
}


@pytest.mark.parametrize("design", list(DESIGNS))
@pytest.mark.parametrize("rule", ["math", "school", "hf7"])
def test_quantiles_match_r_svyquantile(design, rule):
    d = DESIGNS[design]()
    probs = [0.25, 0.5, 0.9]
    ref = REF[(REF.design == design) & (REF.qrule == rule)]
    got = pd.concat([quantile(d, ["api00", "enroll"], probs, rule=rule),
                     quantile(d, ["api00", "enroll"], probs, rule=rule, by="stype")])
    got["domain"] = got["domain"].replace({"ensemble": "Ensemble"})
    m = ref.merge(got, on=["variable", "domain", "prob"], suffixes=("_r", ""))
    assert len(m) == len(ref) == 24
    for col_r, col in (("quantile", "estimate"), ("ci_low", "ci_low"), ("ci_high", "ci_high"),
                       ("se", "se")):
        np.testing.assert_allclose(m[col].to_numpy(float), m[col_r].to_numpy(float), rtol=1e-6)


def test_quantile_arguments():
    d = DESIGNS["strat"]()
    out = quantile(d, "api00", 0.5, conf_level=0.8)
    assert {"estimate", "se", "ci_low", "ci_high", "conf_level", "method", "n"} <= set(out.columns)
    assert out["conf_level"].iloc[0] == 0.8 and out["n"].iloc[0] == 200
    with pytest.raises(DLSError, match="hf7"):
        quantile(d, "api00", rule="hf3")
    with pytest.raises(DLSError, match="probabilité"):
        quantile(d, "api00", 1.5)
