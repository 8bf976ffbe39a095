"""Atomic output: the target changes only when the writer succeeds."""
import pytest

from diagnostics.io.files import atomic_path


def test_success_replaces_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "sortie" / "rapport.html"
    with atomic_path(target) as tmp:
        assert not tmp.exists() and tmp.parent == target.parent and tmp.suffix == ".html"
        tmp.write_text("nouveau", encoding="utf-8")
    assert target.read_text(encoding="utf-8") == "nouveau"
    assert [p.name for p in target.parent.iterdir()] == ["rapport.html"]


def test_failure_keeps_the_previous_file(tmp_path):
    target = tmp_path / "rapport.pdf"
    target.write_bytes(b"ancien")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"moiti")
            raise RuntimeError("panne au milieu")
    assert target.read_bytes() == b"ancien"
    assert [p.name for p in tmp_path.iterdir()] == ["rapport.pdf"]


def test_only_a_regular_file_or_a_new_path_is_written(tmp_path):
    """A rename replaces whatever bears the name: a device, a pipe or a folder is refused in
    French and left as it was; a link is followed to the file it names (issue 28: as root,
    « --out /dev/null » had replaced /dev/null with a regular file)."""
    import os
    import stat

    from click.testing import CliRunner

    from diagnostics.cli import cli
    from diagnostics.errors import DLSError

    pipe = tmp_path / "tube"
    os.mkfifo(pipe)
    device = tmp_path / "vers_null"
    device.symlink_to("/dev/null")       # never /dev/null itself: a regression would replace it
    folder = tmp_path / "dossier.html"
    folder.mkdir()
    for path, kind in ((pipe, "un tube"), (device, "un périphérique"), (folder, "un dossier")):
        with pytest.raises(DLSError, match=f"impossible d'écrire « .* » : c'est {kind}, pas un fichier ordinaire"):
            with atomic_path(path) as tmp:
                tmp.write_text("x", encoding="utf-8")
    assert stat.S_ISFIFO(os.lstat(pipe).st_mode) and device.is_symlink() and folder.is_dir()
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    # a link to a regular file: the file is replaced, the link kept
    real = tmp_path / "vrai.csv"
    real.write_text("ancien", encoding="utf-8")
    link = tmp_path / "lien.csv"
    link.symlink_to(real)
    with atomic_path(link) as tmp:
        tmp.write_text("nouveau", encoding="utf-8")
    assert link.is_symlink() and real.read_text(encoding="utf-8") == "nouveau"
    # the command line says it in French, exit 2, nothing replaced
    res = CliRunner().invoke(cli, ["suivi", "--out", str(device)])
    assert res.exit_code == 2 and "c'est un périphérique, pas un fichier ordinaire" in res.output
    assert device.is_symlink()
