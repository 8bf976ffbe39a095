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
