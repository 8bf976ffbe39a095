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
