"""The analyst notebooks run with nbclient, in order, in a project folder made by ``dls init``."""
import jupytext
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from diagnostics.config.scaffold import init_project

ORDER = ["01_verifier_reponses", "02_ponderer", "03_indicateurs", "04_livrable_quartier", "05_synthese"]


def _run(path):
    nb = jupytext.read(path)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    return nb


def _text(nb):
    out = []
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            out.append(o.get("text", ""))
            out.append(str(o.get("data", {}).get("text/plain", "")))
            out.append(str(o.get("data", {}).get("text/html", "")))
    return "\n".join(out)


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp("projet") / "chambery"
    init_project(root, "Chambéry", exemple=True)
    return root


@pytest.mark.slow
def test_out_of_order_says_which_notebook_first(tmp_path):
    root = tmp_path / "neuf"
    init_project(root, exemple=True)
    with pytest.raises(CellExecutionError) as err:
        _run(root / "carnets" / "02_ponderer.py")
    msg = str(err.value)
    assert "exécutez d'abord le carnet « 01_verifier_reponses »" in msg
    assert "FileNotFoundError" not in msg


@pytest.mark.slow
def test_notebooks_run_in_order(project):
    texts = {}
    for name in ORDER:
        texts[name] = _text(_run(project / "carnets" / f"{name}.py"))
    assert (project / "build" / "travail" / "indicateurs.pkl").is_file()
    assert (project / "build" / "apercu").is_dir()
    # tables for reading: French headers and numbers, not raw names or raw floats
    w = texts["02_ponderer"]
    assert "Effet de plan (Kish)" in w and "Part des répondants" in w
    assert "kish_deff" not in w and "pct_echantillon" not in w
    assert "\u202f%" in w                       # 22,3 % formatted by diagnostics.fmt
    assert "Masqué" in texts["03_indicateurs"]
