"""Optional dependencies of the ``infer`` extra, imported on first use with a clear error when missing."""

from __future__ import annotations

from .._extras import MissingExtraError
from .._extras import require as _require

__all__ = ["MissingInferExtraError", "require"]


class MissingInferExtraError(MissingExtraError):
    """A package of the ``infer`` extra (ultranest, dynesty, matplotlib, corner, pyarrow) is missing."""


def require(module: str, purpose: str = "Bayesian inference"):
    """Import ``module``, or raise :class:`MissingInferExtraError` naming the ``infer`` extra."""
    return _require(module, "infer", purpose, MissingInferExtraError)
