"""Crash-safe writes shared by datasets, emulator models and posterior files."""

import pytest

from nucleiml._atomic import atomic_write, atomic_write_bytes


def test_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "sub" / "card.json"
    atomic_write_bytes(target, b"old")

    def half_then_fail(fh):
        fh.write(b"new but incomp")
        raise KeyboardInterrupt  # e.g. Ctrl-C in the middle of a write

    with pytest.raises(KeyboardInterrupt):
        atomic_write(target, half_then_fail)
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in target.parent.iterdir()) == ["card.json"]
    atomic_write(target, lambda fh: fh.write(b"new"))
    assert target.read_bytes() == b"new"
    assert sorted(p.name for p in target.parent.iterdir()) == ["card.json"]
