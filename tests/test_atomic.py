"""Crash-safe writes shared by datasets, emulator models and posterior files."""

import pytest

from nucleiml._atomic import atomic_write, atomic_write_bytes, atomic_write_json


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


def test_json_is_indented_with_a_final_newline_and_refuses_nan(tmp_path):
    target = tmp_path / "card.json"
    atomic_write_json(target, {"b": [1, 2.5], "a": "µ"}, indent=1)
    assert target.read_bytes() == b'{\n "b": [\n  1,\n  2.5\n ],\n "a": "\\u00b5"\n}\n'
    with pytest.raises(ValueError, match="Out of range float"):
        atomic_write_json(target, {"x": float("nan")})
    assert target.read_bytes().startswith(b'{\n "b"')  # unchanged
