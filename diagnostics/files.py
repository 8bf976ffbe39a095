"""Atomic file output: a reader never sees a half-written workbook, report or PDF."""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike):
    """Yield a temporary path next to ``path``; on success rename it over ``path``.

    The temporary name does not exist when it is yielded (so that a tool that must create
    the file itself, like Chromium, cannot hide a failure behind an empty file).  On error the
    temporary file is removed and ``path`` is left as it was.

    Examples
    --------
    >>> with atomic_path(tmp_dir / "a.txt") as tmp:            # doctest: +SKIP
    ...     tmp.write_text("bonjour", encoding="utf-8")
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    tmp.unlink()
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
