"""Validation of an emulator's metadata (``model.json``): types, ranges and finiteness of every field the
emulator reads, each error naming the field and what is allowed.

Called by :class:`~nucleiml.emulator.Emulator` on every model, loaded or freshly trained, before anything
is computed from the metadata; :func:`~nucleiml.emulator.format.load_model` also checks that the metadata
hash to their ``metadata_sha256``, so an edit is detected even where the edited value is valid.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from numbers import Integral

import numpy as np

from ..parameters import MASS_NAMES, NMP, NMP_NAMES, Couplings, ParameterError, _check

__all__ = ["check_metadata", "check_network_layouts"]

SCALER_MAX = 1e10
"""Largest |mean| and scale (and 1 / smallest scale) of a stored scaler: beyond it float32 inputs overflow."""


SEQUENCE = (list, tuple, np.ndarray)  # JSON lists, or sequences in the metadata of a model just trained


class _Invalid(ValueError):
    """One field of the metadata is invalid (turned into ModelFormatError by the caller)."""


def _real(field: str, value, lo: float = -math.inf, hi: float = math.inf, *, lo_open: bool = False) -> float:
    try:
        return _check(field, value, lo, hi, lo_open=lo_open)
    except ParameterError as exc:
        raise _Invalid(str(exc)) from None


def _typed(field: str, value, kind: type | tuple, what: str):
    if not isinstance(value, kind) or isinstance(value, bool):
        raise _Invalid(f"{field} must be {what}, got {type(value).__name__}")
    return value


def _reals(field: str, values, lo: float, hi: float, *, lo_open: bool = False) -> list[float]:
    values = _typed(field, values, SEQUENCE, "a list of real numbers")
    return [_real(f"{field}[{i}]", v, lo, hi, lo_open=lo_open) for i, v in enumerate(values)]


def _scaler(field: str, data, n: int | None) -> None:
    data = _typed(field, data, dict, "an object with 'mean' and 'scale'")
    mean = _reals(f"{field}.mean", data.get("mean"), -SCALER_MAX, SCALER_MAX)
    scale = _reals(f"{field}.scale", data.get("scale"), 1.0 / SCALER_MAX, SCALER_MAX)
    if len(mean) != len(scale) or not mean or (n is not None and len(mean) != n):
        want = f"{n}" if n is not None else "equal, non-zero"
        raise _Invalid(f"{field}: mean and scale must have {want} entries, got {len(mean)} and {len(scale)}")


def _nuclei(nuclei) -> None:
    nuclei = _typed("nuclei", nuclei, SEQUENCE, "a non-empty list of nuclei")
    if len(nuclei) == 0:
        raise _Invalid("nuclei must be a non-empty list of nuclei, got an empty list")
    for i, d in enumerate(nuclei):
        d = _typed(
            f"nuclei[{i}]", d, dict, "an object with Z, N, binding_energy_exp, binding_energy_rel_error"
        )
        for key in ("Z", "N"):
            _typed(f"nuclei[{i}].{key}", d.get(key), Integral, "an integer")
        _real(f"nuclei[{i}].binding_energy_exp", d.get("binding_energy_exp"), 0.0, 1e5, lo_open=True)
        _real(
            f"nuclei[{i}].binding_energy_rel_error", d.get("binding_energy_rel_error"), 0.0, 1.0, lo_open=True
        )


def _prior_box(box) -> None:
    box = _typed("prior_box", box, dict, f"an object with {', '.join(NMP_NAMES)}")
    for k in NMP_NAMES:
        pair = box.get(k)
        if not isinstance(pair, SEQUENCE) or len(pair) != 2:
            raise _Invalid(f"prior_box.{k} must be a [low, high] pair, got {pair!r}")
        lo, hi, lo_open = NMP.RANGES[k]
        a, b = (_real(f"prior_box.{k}[{j}]", v, lo, hi, lo_open=lo_open) for j, v in enumerate(pair))
        if not a < b:
            raise _Invalid(f"prior_box.{k} = {pair!r} must have low < high")


def _masses(masses) -> None:
    masses = _typed("masses", masses, dict, f"an object with some of {', '.join(MASS_NAMES)} (MeV)")
    for k, v in masses.items():
        if k not in MASS_NAMES:
            raise _Invalid(f"masses has unknown field {k!r}; allowed: {', '.join(MASS_NAMES)}")
        lo, hi, lo_open = Couplings.RANGES[k]
        _real(f"masses.{k}", v, lo, hi, lo_open=lo_open)


def _reference_nmp(rows) -> None:
    rows = _typed("reference_nmp", rows, SEQUENCE, f"a list of {len(NMP_NAMES)}-NMP rows")
    for i, row in enumerate(rows):
        if not isinstance(row, SEQUENCE) or len(row) != len(NMP_NAMES):
            raise _Invalid(
                f"reference_nmp[{i}] must be a row of {len(NMP_NAMES)} NMPs ({', '.join(NMP_NAMES)})"
            )
        for k, v in zip(NMP_NAMES, row):
            lo, hi, lo_open = NMP.RANGES[k]
            _real(f"reference_nmp[{i}].{k}", v, lo, hi, lo_open=lo_open)


def check_network_layouts(networks) -> None:
    """Raise ValueError unless ``networks`` maps names to objects with ``shapes`` (a list of [n_in, n_out]
    positive-integer pairs), ``activation`` and ``output`` (strings)."""
    networks = _typed("networks", networks, dict, "an object of network layouts")
    for name, layout in networks.items():
        field = f"networks.{name}"
        layout = _typed(field, layout, dict, "an object with shapes, activation and output")
        shapes = _typed(f"{field}.shapes", layout.get("shapes"), list, "a list of [inputs, outputs] pairs")
        for j, s in enumerate(shapes):
            ok = isinstance(s, list) and len(s) == 2
            if not ok or not all(
                isinstance(v, Integral) and not isinstance(v, bool) and 0 < v <= 1 << 20 for v in s
            ):
                raise _Invalid(f"{field}.shapes[{j}] must be a pair of positive integers, got {s!r}")
        for key in ("activation", "output"):
            _typed(f"{field}.{key}", layout.get(key), str, "a string")


def check_metadata(meta: Mapping) -> None:
    """Raise ValueError (one line naming the field and what it allows) unless the fields of an emulator's
    metadata that prediction reads have the right types, ranges and finite values (the network layouts
    are :func:`check_network_layouts`'s, checked where the weights are read).

    Raises
    ------
    ValueError
        For the first invalid field (its path, e.g. ``nuclei[2].Z``, and the allowed range or type).
    """
    _typed("features", meta.get("features"), SEQUENCE, "a list of feature names")
    _scaler("feature_scaler", meta.get("feature_scaler"), len(meta["features"]))
    _typed("class_names", meta.get("class_names"), SEQUENCE, "a list of class names")
    _nuclei(meta.get("nuclei"))
    _prior_box(meta.get("prior_box"))
    _masses(meta.get("masses"))
    # a fraction of the experimental binding energy; generate allows (0, 10)
    _real("nc_c_threshold", meta.get("nc_c_threshold"), 0.0, 10.0, lo_open=True)
    if meta.get("nc_b_threshold") is not None:
        _real("nc_b_threshold", meta["nc_b_threshold"], 0.0, 1.0, lo_open=True)
    networks = _typed("networks", meta.get("networks"), dict, "an object of network settings")
    for k in ("binding_energy", "charge_radius", "neutron_skin", "neutron_radius"):
        if k in ("neutron_skin", "neutron_radius") and k not in networks:  # the optional skin regressor
            continue
        net = _typed(f"networks.{k}", networks.get(k), dict, "an object with a target_transform")
        transform = net.get("target_transform")
        _scaler(f"networks.{k}.target_transform", transform, None)
        _typed(f"networks.{k}.target_transform.name", transform.get("name"), str, "a string")
    _reference_nmp(meta.get("reference_nmp", []))
