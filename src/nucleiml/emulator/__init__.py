"""The NucleiML emulator (NML, seed paper section III): a classifier and two regressors that replace the RMF
solver in Bayesian runs.

- :class:`Emulator` (``Emulator.load(path=None)``, ``Emulator.predict(nmp, nucleus)``): prediction in numpy
  float32, no torch needed;
- :func:`train_emulator`, :func:`fit_network` and the training presets ``paper`` / ``default``
  (:data:`PRESETS`, :class:`Preset`, :class:`NetworkSpec`): training with PyTorch (the ``ml`` extra);
- :func:`grid_search`: hyper-parameter grid with k-fold cross-validation by sample;
- :func:`evaluate_rows` and :func:`write_report`: scores and the evaluation report (matplotlib).

Heavy dependencies are imported only by the module that needs them: torch in ``training``, matplotlib in
``report``, pyarrow in ``tables``. Importing this package imports numpy only.
"""

from __future__ import annotations

from importlib import import_module

from .features import (
    BASE_FEATURES,
    COUPLING_FEATURES,
    DERIVED_FEATURES,
    TARGET_TRANSFORMS,
    Scaler,
    TargetTransform,
)
from .format import FORMAT, FORMAT_VERSION, ModelFormatError, load_model, save_model
from .forward import MLP
from .metrics import classification_scores, deviation, deviation_summary
from .model import DEFAULT_MODEL_DIR, MODES, Emulator, Inversion, as_nmp_matrix
from .presets import NETWORK_NAMES, PRESETS, NetworkSpec, Preset, get_preset

# name -> module for names whose module imports torch, matplotlib or pyarrow (resolved on first use)
_LAZY = {
    "train_emulator": "training",
    "fit_network": "training",
    "MissingTorchError": "training",
    "grid_search": "tune",
    "load_grid": "tune",
    "evaluate_rows": "evaluation",
    "TARGETS": "evaluation",
    "write_report": "report",
    "load_rows": "tables",
    "Rows": "tables",
}

__all__ = [
    "BASE_FEATURES",
    "COUPLING_FEATURES",
    "DEFAULT_MODEL_DIR",
    "DERIVED_FEATURES",
    "FORMAT",
    "FORMAT_VERSION",
    "MLP",
    "MODES",
    "NETWORK_NAMES",
    "PRESETS",
    "TARGETS",
    "TARGET_TRANSFORMS",
    "Emulator",
    "Inversion",
    "MissingTorchError",
    "ModelFormatError",
    "NetworkSpec",
    "Preset",
    "Rows",
    "Scaler",
    "TargetTransform",
    "as_nmp_matrix",
    "classification_scores",
    "deviation",
    "deviation_summary",
    "evaluate_rows",
    "fit_network",
    "get_preset",
    "grid_search",
    "load_grid",
    "load_model",
    "load_rows",
    "save_model",
    "train_emulator",
    "write_report",
]


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'nucleiml.emulator' has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
