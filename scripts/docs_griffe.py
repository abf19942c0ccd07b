"""Griffe extension of the documentation site (``mkdocs.yml``: the Python handler's ``extensions``).

The docstrings are numpydoc and name other objects with Sphinx roles (``:func:`solve```,
``:class:`~nucleiml.parameters.NMP```), which Markdown would show literally. This extension rewrites each
role as a code span of the name (the last component where the role starts with ``~``, as Sphinx shows it),
in every docstring of the package, before mkdocstrings renders it.
"""

from __future__ import annotations

import re

import griffe

ROLE = re.compile(r":(?:py:)?(?:func|class|meth|mod|data|attr|exc|obj|const|ref):`(~?)([^`]+)`")


def plain(text: str) -> str:
    """``text`` with every Sphinx role replaced by a code span of its target.

    Parameters
    ----------
    text : str
        A docstring.

    Returns
    -------
    str
        E.g. ``:class:`~nucleiml.parameters.NMP``` becomes ```NMP```, ``:func:`solve``` becomes ```solve```.
    """

    def code(match: re.Match) -> str:
        tilde, target = match.groups()
        target = target.split("<")[-1].rstrip(">").strip()  # :func:`text <target>`
        return f"`{target.rsplit('.', 1)[-1] if tilde else target}`"

    return ROLE.sub(code, text)


class SphinxRoles(griffe.Extension):
    """Rewrite Sphinx roles in docstrings as Markdown code spans (see the module docstring)."""

    def on_package(self, *, pkg: griffe.Module, **kwargs) -> None:
        """Griffe event: the package is loaded; rewrite the docstrings of all its objects."""
        stack = [pkg]
        while stack:
            obj = stack.pop()
            if obj.docstring is not None:
                obj.docstring.value = plain(obj.docstring.value)
            stack.extend(m for m in obj.members.values() if not m.is_alias)
