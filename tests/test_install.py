"""A wheel installed in a fresh venv, used from an empty folder outside the repository.

The wheel is built from the source tree (``pip wheel --no-deps``) and installed with
``--no-deps`` into a new venv that sees the test environment's dependencies through a ``.pth``
line (no download); the toolkit itself is then imported from the wheel only.
"""
import os
import re
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _sh(args, cwd, **kw):
    # the installed wheel only: a PYTHONPATH pointing at the source tree must not leak in
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    res = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=600, env=env, **kw)
    assert res.returncode == 0, f"{args}\n{res.stdout}\n{res.stderr}"
    return res


def _readme_block(heading):
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index(heading):]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    base = tmp_path_factory.mktemp("installation")
    dist = base / "dist"
    _sh([sys.executable, "-m", "pip", "wheel", ROOT, "--no-deps", "-q", "-w", dist], cwd=base)
    wheel = next(dist.glob("dls_diagnostics-*.whl"))
    env = base / "venv"
    venv.EnvBuilder(with_pip=False).create(env)
    py = env / "bin" / "python"
    site = Path(_sh([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=base).stdout.strip())
    # the test venv's dependencies, not its (editable) copy of the toolkit
    (site / "dependances_de_test.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    _sh([sys.executable, "-m", "pip", "--python", py, "install", "--no-deps", "-q", wheel], cwd=base)
    work = base / "dossier_vide"
    work.mkdir()
    return env, work


@pytest.mark.slow
def test_wheel_works_outside_the_repository(installed):
    env, work = installed
    dls, py = env / "bin" / "dls", env / "bin" / "python"
    where = _sh([py, "-c", "import diagnostics; print(diagnostics.__file__)"], cwd=work).stdout
    assert str(env) in where and str(ROOT) not in where

    assert "Utilisation : dls [OPTIONS] COMMANDE" in _sh([dls, "--help"], cwd=work).stdout
    _sh([dls, "init", "ma_ville", "--exemple"], cwd=work)
    res = _sh([dls, "check", "ma_ville/data/raw/reponses.csv"], cwd=work)
    assert "406 acceptées" in res.stdout
    assert (work / "ma_ville" / "data" / "raw" / "reponses_controle.xlsx").is_file()
    _sh([dls, "questionnaire", "saisie", "--out", "saisie.xlsx"], cwd=work)
    _sh([dls, "build", "--out", "livrables", "--sans-pdf"], cwd=work)      # the embedded example
    assert len(list((work / "livrables").glob("dls_*.html"))) == 5   # 3 quartiers, synthesis, definitions
    assert (work / "livrables" / "indicateurs.xlsx").is_file()
    assert not (work / "livrables" / "controle").exists()
    # the README's library examples (DLS and IMPACT)
    for heading in ("## Statistiques", "## Évaluation du dispositif IMPACT"):
        _sh([py, "-c", _readme_block(heading)], cwd=work)


def test_run_script_installs_what_each_command_needs():
    """« bash run.sh build » installs the package alone (no Spark, no JupyterLab); « test » all extras."""
    import re
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    script = (root / "run.sh").read_text(encoding="utf-8")
    calls = dict(re.findall(r"^  (\w+)\)\n(?:    .*\n)*?    setup_python \"([^\"]*)\"", script, re.M))
    extras = set(tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
                 ["optional-dependencies"])
    assert calls["build"] == ""
    assert set(calls["test"].split(",")) == extras
    assert calls["carnets"] == "carnets"
