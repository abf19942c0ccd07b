"""MkDocs hooks of the documentation site (``mkdocs.yml``: ``hooks``).

Adds the generated pages of :mod:`docs_reference` (run-file reference, CLI reference, data page) to the
site at build time, so they are always those of the code being documented and are never committed.
"""

from __future__ import annotations

import sys
from pathlib import Path

# The checked-out package first (not another installed copy), then this folder for docs_reference.
ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "scripts")]

import docs_reference  # noqa: E402
from mkdocs.structure.files import File  # noqa: E402


def on_files(files, config):
    """MkDocs event: add every generated page (replacing a file of the same name, if any)."""
    for uri, make in docs_reference.PAGES.items():
        existing = files.get_file_from_path(uri)
        if existing is not None:
            files.remove(existing)
        files.append(File.generated(config, uri, content=make()))
    return files
