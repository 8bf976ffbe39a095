"""The public API of diagnostics/__init__.py resolves, and the package imports lightly."""
import subprocess
import sys

import diagnostics


def test_every_public_name_resolves():
    for name in diagnostics.__all__:
        assert getattr(diagnostics, name) is not None, name
    from diagnostics import Design, impact, validate  # noqa: F401
    assert callable(impact.paired_proportions)
    from diagnostics import monitor, pull, write_monitor_page
    assert monitor.__module__ == "diagnostics.engine.fieldwork" and pull.__module__ == "diagnostics.collect.pull"
    assert callable(write_monitor_page)


def test_cli_import_does_not_load_the_statistics():
    code = "import sys, diagnostics.cli; print('pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_notebooks_use_only_the_front_door():
    """The analyst's notebooks import the package's public API (``import diagnostics as dls``) and its
    documented top-level modules only, never a deep module; every ``dls.<name>`` they use is public."""
    import ast
    import re
    from pathlib import Path

    import diagnostics as dls

    front = {"diagnostics", "diagnostics.fmt", "diagnostics.paths", "diagnostics.impact"}
    public = front | {f"diagnostics.{name}" for name in dls.__all__}
    for path in sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.py")):
        source = path.read_text(encoding="utf-8")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Import):          # import diagnostics[.module]
                names = [a.name for a in node.names if a.name.startswith("diagnostics")]
            elif isinstance(node, ast.ImportFrom) and node.module == "diagnostics":   # from diagnostics import x
                names = [f"diagnostics.{a.name}" for a in node.names]
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("diagnostics"):
                names = [node.module]                 # from diagnostics.module import x
            else:
                continue
            assert set(names) <= (public if isinstance(node, ast.ImportFrom) else front), f"{path.name}: {names}"
        used = set(re.findall(r"\bdls\.([A-Za-z_]\w*)", source))
        assert used <= set(dls.__all__), f"{path.name}: {sorted(used - set(dls.__all__))}"
