"""JSON output helper shared by the command lines, the emulator and the inference runs."""

from __future__ import annotations

import numpy as np

__all__ = ["finite_json"]


def finite_json(obj):
    """``obj`` with NaN / infinite floats replaced by None (JSON null) and numpy scalars by Python numbers,
    recursively through dicts, lists and tuples (tuples become lists)."""
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float):
        return obj if np.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: finite_json(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [finite_json(v) for v in obj]
    return obj
