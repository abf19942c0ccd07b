"""Optional dependencies (the ``data``, ``ml`` and ``infer`` extras): imported on first use, with an error
that names the missing package, what needs it and the install command."""

from __future__ import annotations

import importlib

__all__ = ["MissingExtraError", "require"]


class MissingExtraError(ImportError):
    """An optional dependency is not installed; the message names the extra that brings it. The command
    line reports it as a usage error (one line, no traceback)."""


def require(module: str, extra: str, purpose: str, error: type[MissingExtraError] = MissingExtraError):
    """Import ``module``, or raise ``error`` saying that ``purpose`` needs it and how to install ``extra``."""
    try:
        return importlib.import_module(module)
    except ImportError:
        top = module.split(".")[0]
        raise error(
            f"{top} is needed for {purpose} but is not installed; install the {extra} extra: "
            f'pip install "nucleiml[{extra}]"'
        ) from None
