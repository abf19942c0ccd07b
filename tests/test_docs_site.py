"""The documentation site: its worked examples run, and its generated references cover the code.

Worked examples: a fenced code block in README.md or ``docs/**/*.md`` preceded by the line ``<!-- runnable -->`` is run
here, ``<!-- runnable slow -->`` only with ``-m slow``. The blocks of a page run in order in one temporary
directory (a page is a session: later blocks may use files and names made by earlier ones); ``python``
blocks share one namespace, ``sh`` blocks run under ``bash -euo pipefail`` with ``nucleiml`` and ``python``
being this interpreter and this checkout's package. The fast blocks must not need the slow ones.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
MARK = re.compile(r"<!-- runnable( slow)? -->")
FENCE = re.compile(r"```(\w+)\s*$")


@dataclass(frozen=True)
class Block:
    """One runnable code block: where it is, its language, its code and whether it is slow."""

    page: Path
    line: int
    lang: str
    code: str
    slow: bool

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def collect(page: Path) -> list[Block]:
    """The runnable blocks of one page, in order.

    Raises
    ------
    ValueError
        If a mark is not followed by a ``python`` or ``sh`` fence, or the fence is not closed.
    """
    lines = page.read_text(encoding="utf-8").splitlines()
    blocks = []
    for i, line in enumerate(lines):
        mark = MARK.fullmatch(line.strip())
        if not mark:
            continue
        fence = FENCE.fullmatch(lines[i + 1].strip()) if i + 1 < len(lines) else None
        if not fence or fence.group(1) not in ("python", "sh"):
            raise ValueError(f"{page}:{i + 1}: a runnable mark must precede a ```python or ```sh block")
        try:
            end = next(j for j in range(i + 2, len(lines)) if lines[j].strip() == "```")
        except StopIteration:
            raise ValueError(f"{page}:{i + 2}: unclosed code block") from None
        code = "\n".join(lines[i + 2 : end])
        blocks.append(Block(page, i + 2, fence.group(1), code, bool(mark.group(1))))
    return blocks


PAGES = [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]
RUNNABLE = {p: collect(p) for p in PAGES if collect(p)}


def _shims(directory: Path) -> dict[str, str]:
    """Environment in which ``nucleiml`` and ``python`` are this interpreter and this checkout's package."""
    bin_dir = directory / ".bin"
    bin_dir.mkdir()
    for name, command in (("nucleiml", f'"{sys.executable}" -m nucleiml'), ("python", f'"{sys.executable}"')):
        shim = bin_dir / name
        shim.write_text(f'#!/bin/sh\nexec {command} "$@"\n')
        shim.chmod(0o755)
    env = dict(os.environ)
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    env["MPLBACKEND"] = "Agg"
    return env


EXAMPLE_NEEDS = ("ultranest", "matplotlib", "pyarrow", "distributed", "tqdm")
"""The guide's examples use the infer and data extras (training examples, which need torch, are slow)."""


def _run(blocks: list[Block], directory: Path, monkeypatch) -> None:
    for module in EXAMPLE_NEEDS:
        pytest.importorskip(module, reason=f"the docs' examples need {module} (infer and data extras)")
    env = _shims(directory)
    monkeypatch.chdir(directory)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace: dict = {"__name__": "__main__"}  # as in a script: `if __name__ == "__main__":` guards run
    for block in blocks:
        if block.lang == "python":
            exec(compile(block.code, block.where, "exec"), namespace)
            continue
        proc = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", block.code],
            cwd=directory,
            env=env,
            capture_output=True,
            text=True,
            timeout=1800,
        )
        assert proc.returncode == 0, f"{block.where} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"


def _cases(slow: bool):
    for page, blocks in RUNNABLE.items():
        chosen = blocks if slow else [b for b in blocks if not b.slow]
        if chosen and (not slow or any(b.slow for b in blocks)):
            marks = [pytest.mark.slow] if slow else []
            yield pytest.param(chosen, id=str(page.relative_to(ROOT)), marks=marks)


@pytest.mark.parametrize("blocks", list(_cases(slow=False)))
def test_fast_examples_run(blocks, tmp_path, monkeypatch):
    _run(blocks, tmp_path, monkeypatch)


@pytest.mark.parametrize("blocks", list(_cases(slow=True)))
def test_all_examples_run(blocks, tmp_path, monkeypatch):
    _run(blocks, tmp_path, monkeypatch)


def test_guide_has_runnable_examples():
    """The quickstart and every guide page carry worked examples that run."""
    pages = [DOCS / "quickstart.md", *sorted((DOCS / "guide").glob("*.md"))]
    assert [p.name for p in pages if p not in RUNNABLE] == []


# --------------------------------------------------------------------------- generated references
def _reference():
    spec = importlib.util.spec_from_file_location("docs_reference", ROOT / "scripts" / "docs_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_runfile_reference_covers_every_key():
    from nucleiml.inference.runfile import _SECTION_KEYS

    page = _reference().runfile_reference()
    for section, keys in _SECTION_KEYS.items():
        assert f"## [{section}]" in page
        body = page.split(f"## [{section}]", 1)[1].split("\n## ", 1)[0]
        for key in keys:
            assert f"| `{key}` |" in body, (section, key)


def test_runfile_reference_refuses_an_undocumented_key(monkeypatch):
    from nucleiml.inference import runfile

    monkeypatch.setitem(runfile._SECTION_KEYS, "model", (*runfile._SECTION_KEYS["model"], "undocumented"))
    with pytest.raises(RuntimeError, match="undocumented"):
        _reference().runfile_reference()


def test_cli_reference_covers_every_command_and_option():
    from nucleiml.cli import build_parser

    ref = _reference()
    page = ref.cli_reference()

    def walk(parser: argparse.ArgumentParser, prog: str) -> None:
        assert prog == "nucleiml" or f"# {prog}\n" in page, prog
        for action in parser._actions:
            for option in action.option_strings:
                if option not in ("-h", "--help"):
                    assert f"`{option}" in page or f", {option}" in page, (prog, option)
        for name, _, sub in ref._subparsers(parser):
            walk(sub, f"{prog} {name}")

    walk(build_parser(), "nucleiml")


def test_numpydoc_attributes_parser():
    doc = """Summary.

    Attributes
    ----------
    a, b : int
        Two of them,
        on two lines.
    c : {"x", "y"}

    Notes
    -----
    d : not an attribute
    """
    assert _reference().numpydoc_attributes(doc) == {
        "a": ("int", "Two of them, on two lines."),
        "b": ("int", "Two of them, on two lines."),
        "c": ('{"x", "y"}', ""),
    }


def test_data_page_is_sources_and_constraints_table():
    from nucleiml.inference.constraints import constraints_table

    page = _reference().data_reference()
    sources = (ROOT / "src" / "nucleiml" / "data" / "SOURCES.md").read_text(encoding="utf-8")
    assert sources.split("\n", 1)[1].strip() in page
    assert constraints_table().strip() in page
