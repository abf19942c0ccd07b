"""Optional dependencies of the ``infer`` extra, imported on first use with a clear error when missing."""

from __future__ import annotations

import importlib

__all__ = ["MissingInferExtraError", "require"]


class MissingInferExtraError(ImportError):
    """A package of the ``infer`` extra (ultranest, dynesty, matplotlib, corner, pyarrow) is missing."""


def require(module: str, purpose: str = "Bayesian inference"):
    """Import ``module``, or raise :class:`MissingInferExtraError` naming the ``infer`` extra."""
    try:
        return importlib.import_module(module)
    except ImportError:
        top = module.split(".")[0]
        raise MissingInferExtraError(
            f"{top} is needed for {purpose} but is not installed; install the infer extra: "
            f'pip install "nucleiml[infer]"'
        ) from None
