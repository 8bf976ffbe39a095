"""Atomic file output: a reader never sees a half-written workbook, report or PDF."""
from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from pathlib import Path

#: Why the system refuses to write, as a French clause (« … dans le dossier X : le disque est plein »).
WRITE_REFUSALS = {errno.EACCES: "vous n'avez pas le droit d'y écrire", errno.EPERM: "vous n'avez pas le droit d'y écrire",
                  errno.EROFS: "il est en lecture seule", errno.ENOSPC: "le disque est plein",
                  errno.ENOTDIR: "un élément du chemin est un fichier, pas un dossier",
                  errno.EEXIST: "un fichier porte déjà le nom du dossier à créer",
                  errno.ENOENT: "il n'existe pas", getattr(errno, "EDQUOT", -1): "le quota du disque est atteint"}
#: Of those, the refusals of the output drive itself (not of a path the program chose).
DRIVE_REFUSALS = (errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, getattr(errno, "EDQUOT", -1))


def writable_target(path: str | os.PathLike) -> Path:
    """The file an output to ``path`` replaces: ``path`` itself when it is absent or a regular
    file, the file a symbolic link points to; anything else (a folder, ``/dev/null``, a pipe, a
    socket) is refused with a French :class:`~diagnostics.errors.DLSError`, never renamed over.

    A rename replaces whatever bears the name: as root, ``--out /dev/null`` would have replaced
    the device with a regular file.
    """
    from ..errors import DLSError

    path = Path(path)
    target = path.resolve() if path.is_symlink() else path
    if not target.exists() or target.is_file():
        return target
    import stat

    mode = target.stat().st_mode
    kind = ("un dossier" if stat.S_ISDIR(mode) else "un périphérique" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
            else "un tube" if stat.S_ISFIFO(mode) else "une prise réseau" if stat.S_ISSOCK(mode)
            else "un fichier spécial")
    raise DLSError(f"impossible d'écrire « {path} » : c'est {kind}, pas un fichier ordinaire ; donnez le chemin "
                   "d'un fichier (nouveau, ou ordinaire à remplacer).", file=path, value=str(path))


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
    path = writable_target(path)
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


def honour_umask(folder: str | os.PathLike) -> Path:
    """Give a folder made by :func:`tempfile.mkdtemp` (always mode 0700) the mode a plain
    ``mkdir`` would give it under the user's umask (0755 with umask 022, 0775 with 002): a
    deliverables folder on a shared drive stays readable by whom the user's settings allow."""
    mask = os.umask(0)
    os.umask(mask)
    folder = Path(folder)
    os.chmod(folder, 0o777 & ~mask)
    return folder


@contextlib.contextmanager
def exclusive_lock(lock: str | os.PathLike, busy_message: str):
    """Hold an exclusive lock on file ``lock`` (``fcntl.flock``, released by the system if the
    process dies); when another process holds it, raise :class:`~diagnostics.errors.DLSError`
    with ``busy_message``.  The lock file is removed on release."""
    import fcntl

    from ..errors import DLSError

    lock = Path(lock)
    fh = open(lock, "a+")  # noqa: SIM115 - held for the whole block
    try:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DLSError(busy_message) from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"{os.getpid()}\n")
        fh.flush()
        try:
            yield lock
        finally:
            with contextlib.suppress(OSError):
                lock.unlink()
    finally:
        fh.close()
