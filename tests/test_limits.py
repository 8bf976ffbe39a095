"""Limits of the readers (issue 28): what the CLI enforces the CLI can raise; an endless line is a
French refusal, not ``_csv.Error``."""
import dataclasses

import pytest
from click.testing import CliRunner

from diagnostics import paths, validate
from diagnostics.cli import cli
from diagnostics.errors import UnreadableFileError
from diagnostics.io.formats import DEFAULT_LIMITS

SAMPLE = paths.EXAMPLE / "reponses_synthetiques.csv"


def test_default_limits_accept_a_million_answers_of_the_example():
    # 10^6 rows × the example's 92 columns (benchmarks/bench_check.py measures time and memory)
    columns = SAMPLE.read_text(encoding="cp1252").splitlines()[0].count(";") + 1
    assert columns == 92
    assert DEFAULT_LIMITS.max_rows >= 1_000_000 and DEFAULT_LIMITS.max_cells >= 1_000_000 * columns


def test_check_options_lower_and_raise_the_limits(tmp_path, monkeypatch):
    monkeypatch.setenv("DLS_SECRET", "essai")
    run = CliRunner()
    res = run.invoke(cli, ["check", str(SAMPLE), "--rapport", str(tmp_path / "r.xlsx"), "--limite-lignes", "100"])
    assert res.exit_code == 2
    assert "il a 406 lignes, au-delà de ce que le lecteur accepte (100 lignes" in res.output
    assert "dls check ou dls indicators --limite-lignes, --limite-cellules, --limite-taille" in res.output
    res = run.invoke(cli, ["check", str(SAMPLE), "--rapport", str(tmp_path / "r.xlsx"), "--limite-cellules", "1000"])
    assert res.exit_code == 2 and "37 352 cellules" in res.output.replace("\u202f", " ")
    # the API: the same limits through validate
    with pytest.raises(UnreadableFileError, match="406 lignes"):
        validate(SAMPLE, limits=dataclasses.replace(DEFAULT_LIMITS, max_rows=400))
    res = run.invoke(cli, ["check", str(SAMPLE), "--rapport", str(tmp_path / "r.xlsx"), "--limite-lignes", "406"])
    assert res.exit_code == 0, res.output
    # dls indicators reads the answers too: the same options
    res = run.invoke(cli, ["indicators", "--out", str(tmp_path / "t"), "--limite-lignes", "100"])
    assert isinstance(res.exception, UnreadableFileError) and "406 lignes" in str(res.exception)


@pytest.mark.parametrize("text, why", [
    ("x" * 200_000, r"sa première ligne \(l'en-tête\) contient un champ de plus de 131.072 caractères"),
    ("id_questionnaire;age;sexe\n" + "y" * 200_000, "ce tableau ne contient pas les colonnes du questionnaire"),
    ("id_questionnaire;age;sexe;quartier\nA;1;2;1\nB;" + "y" * 200_000 + ";1;2;3;4\n",
     "une de ses lignes contient un champ de plus de 131.072 caractères"),
])
def test_an_endless_line_is_refused_in_french(tmp_path, text, why):
    f = tmp_path / "long.csv"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(UnreadableFileError, match=r"^Le fichier « long.csv » ne peut pas être lu : " + why):
        validate(f, secret="essai")
