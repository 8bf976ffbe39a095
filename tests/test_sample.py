"""Synthetic sample: reproducible, follows the questionnaire, plausible prevalences, biased channels."""
import pandas as pd
import pytest

from diagnostics.collect.sample import (
    AGE_GROUPS,
    SAMPLE_DIR,
    generate_answers,
    population_margins,
    write_sample,
)
from diagnostics.config.questionnaire import load_questionnaire
from diagnostics.stats import scores

QN = load_questionnaire()


@pytest.fixture(scope="module")
def gen():
    return generate_answers()


def test_committed_files_are_the_generator_output(tmp_path):
    paths = write_sample(tmp_path)
    for kind in ("csv", "kobo", "erronees", "marges"):
        assert paths[kind].read_bytes() == (SAMPLE_DIR / paths[kind].name).read_bytes(), kind
    # binary formats embed a creation time: compare their content
    new = pd.read_excel(paths["xlsx"], sheet_name="Saisie", dtype=str, engine="openpyxl")
    old = pd.read_excel(SAMPLE_DIR / "reponses_synthetiques.xlsx", sheet_name="Saisie", dtype=str, engine="openpyxl")
    pd.testing.assert_frame_equal(new, old)


def test_reproducible_and_sizes(gen):
    pd.testing.assert_frame_equal(gen, generate_answers())
    assert not gen.equals(generate_answers(seed=7))
    assert gen["quartier"].value_counts().sort_index().tolist() == [130, 170, 100, 6]
    assert gen["id_questionnaire"].is_unique
    assert list(gen.columns) == ["id_questionnaire", *QN.columns]


def test_skip_logic_respected(gen):
    for q in QN:
        if q.relevant:
            rel = QN.relevance(q.name, gen.assign(age=gen["age"].where(gen["age"] != 99)))
            assert gen.loc[~rel, q.columns].isna().all().all(), q.name
    asked = gen["renoncement"] == 1
    assert (gen.loc[asked, [f"renoncement_soins_{k}" for k in range(1, 10)]].sum(axis=1) >= 1).all()
    assert gen.loc[gen["quartier"] != 4, "quartier_autre"].isna().all()


def _share(mask, valid):
    return float(mask[valid].mean())


def test_prevalences_in_published_ranges(gen):
    assert 0.25 <= _share(gen["renoncement"] == 1, gen["renoncement"].isin([1, 2])) <= 0.30
    assert 0.10 <= _share(gen["medecin_traitant"] == 2, gen["medecin_traitant"].isin([1, 2])) <= 0.15
    assert 0.25 <= _share(gen["complementaire"] == 2, gen["complementaire"].isin([1, 2, 3, 4])) <= 0.35
    ep = scores.epices(gen)
    # 67 % since item 11 carries the published −7.10 (the generator was tuned on −7.28, which
    # left 12 respondents at 29.99 instead of 30.17); retuning it means regenerating data/sample
    assert 0.55 <= _share(ep >= 30.17, ep.notna()) <= 0.70
    assert 0.07 <= _share(gen["sante_generale"].isin([4, 5]), gen["sante_generale"].isin([1, 2, 3, 4, 5])) <= 0.13


def test_correlations_make_sense(gen):
    ep = scores.epices(gen)
    prec = ep >= 30.17
    css = gen["complementaire"] == 2
    assert css[prec].mean() > 2 * css[~prec & ep.notna()].mean()
    chronic = gen["maladie_chronique"] == 1
    old = (gen["age"] >= 60) & (gen["age"] < 99)
    assert chronic[old].mean() > chronic[gen["age"] < 40].mean() + 0.25


def test_channels_bias_age_and_sex(gen):
    women_sample = (gen["sexe"] == 1).mean()
    m = population_margins()
    women_pop = m.loc[m["sexe"] == "Femme", "effectif"].sum() / m["effectif"].sum()
    assert women_sample > women_pop + 0.05
    street = gen["canal"] == 3
    assert gen.loc[street, "age"].median() < gen.loc[gen["canal"] == 2, "age"].median() - 15
    assert (gen.loc[street, "sexe"] == 2).mean() > 0.5


def test_nonresponse_and_comments(gen):
    assert 0.01 < gen["sante_generale"].isna().mean() < 0.08
    assert (gen["medecin_traitant"] == 98).sum() > 0 and (gen["complementaire"] == 99).sum() > 0
    com = gen["commentaire"].dropna()
    assert com.str.contains(r"0\d[ .]?\d\d[ .]?\d\d", regex=True).sum() >= 2
    assert com.str.contains("@").sum() >= 1


def test_margins_shape():
    m = pd.read_csv(SAMPLE_DIR / "marges_population_synthetiques.csv", sep=";")
    assert list(m.columns) == ["quartier", "groupe_age", "sexe", "effectif"]
    assert m.groupby("quartier").size().to_dict() == {"Bellevue": 10, "Biollay": 10, "Hauts-de-Chambéry": 10}
    assert sorted(m["groupe_age"].unique()) == sorted(AGE_GROUPS) and set(m["sexe"]) == {"Femme", "Homme"}
    tot = m.groupby("quartier")["effectif"].sum()
    assert abs(tot["Biollay"] - 2000) <= 25 and abs(tot["Hauts-de-Chambéry"] - 5500) <= 25 and abs(tot["Bellevue"] - 1800) <= 25
    assert (m["effectif"] > 0).all()


def test_readme_says_synthetic():
    text = (SAMPLE_DIR / "README.md").read_text(encoding="utf-8")
    assert "synthétiques" in text and "illustratifs" in text
