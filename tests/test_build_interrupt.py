"""Ctrl-C during ``dls build`` leaves no kernel socket folder (``/tmp/dls-noyau-*``) behind (issue 28)."""
import os
import tempfile

import pytest

from diagnostics import paths
from diagnostics.engine import build as build_mod


@pytest.mark.skipif(os.name != "posix", reason="local sockets (ipc) on POSIX only")
@pytest.mark.parametrize("when", ["start_new_kernel", "start_new_kernel_client"])
def test_interrupted_kernel_start_leaves_no_socket_folder(tmp_path, monkeypatch, when):
    from nbclient import NotebookClient

    started = []

    def interrupted(self, *args, **kwargs):
        started.append(when)
        raise KeyboardInterrupt

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))      # the folder mkdtemp uses
    if when == "start_new_kernel_client":
        monkeypatch.setattr(NotebookClient, "start_new_kernel", lambda self, **kw: None)
    monkeypatch.setattr(NotebookClient, when, interrupted)
    with pytest.raises(KeyboardInterrupt):   # launched, then waited for: either step interrupted
        build_mod._Kernel(paths.NOTEBOOKS).ready()
    assert started == [when]
    assert not list(tmp_path.glob("dls-noyau-*"))
