"""Models behind one interface: NMPs (n, 7) -> binding energies and charge radii per nucleus, with a
validity mask.

- ``nml`` (:class:`~nucleiml.inference.models.nml.EmulatorModel`): the NucleiML emulator, vectorised;
- ``rmf`` (:class:`~nucleiml.inference.models.rmf.RMFModel`): couplings inversion and the batched spherical
  RMF solver, on local worker processes or a Dask cluster.

A model is anything with the attributes and methods of :class:`Model`; :func:`make_model` builds the one a
run file asks for. Models are context managers (``close`` releases worker processes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

__all__ = ["Evaluation", "Model", "ModelError", "make_model"]


class ModelError(ValueError):
    """A model cannot be built for a run (missing emulator, nucleus not covered, prior outside its domain)."""


@dataclass(frozen=True)
class Evaluation:
    """Predictions of a model for n parameter sets and k nuclei.

    Attributes
    ----------
    nuclei : tuple of str
        Nucleus names, in column order.
    binding_energy : ndarray, shape (n, k)
        Binding energies B > 0 in MeV (NaN where not valid).
    charge_radius : ndarray, shape (n, k)
        Charge radii in fm (NaN where not valid).
    valid : ndarray of bool, shape (n, k)
        True where the model gives observables (convergent).
    badness : ndarray, shape (n, k)
        0 where valid; for failed entries a number in [0, 1] saying how far from convergent the model
        judges them (used only to shape the likelihood floor).
    label : ndarray of str, shape (n, k)
        ``convergent``, ``nc_a``, ``nc_b``, ``nc_c`` or ``out_of_domain`` (emulator).
    neutron_skin : ndarray, shape (n, k), or None
        Rn - Rp in fm (NaN where not valid), from models that compute it (``rmf``; ``nml`` with an
        emulator that has the skin regressor): used by the
        likelihood of runs with ``[data] neutron_skin``, and reported by the posterior predictive check.
    """

    nuclei: tuple[str, ...]
    binding_energy: np.ndarray
    charge_radius: np.ndarray
    valid: np.ndarray
    badness: np.ndarray
    label: np.ndarray = field(repr=False)
    neutron_skin: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        shape = np.shape(self.valid)
        if len(shape) != 2 or shape[1] != len(self.nuclei):
            raise ValueError(f"valid must have shape (n, {len(self.nuclei)}), got {shape}")
        optional = ("neutron_skin",) if self.neutron_skin is not None else ()
        for name in ("binding_energy", "charge_radius", "badness", "label", *optional):
            if np.shape(getattr(self, name)) != shape:
                raise ValueError(f"{name} must have shape {shape}, got {np.shape(getattr(self, name))}")

    def values(self, observables: tuple[str, ...]) -> np.ndarray:
        """Stacked observables, shape (n, k, len(observables)), in the given order.

        Raises
        ------
        ModelError
            If the model gave no ``neutron_skin`` and it is asked for.
        """
        missing = [o for o in observables if getattr(self, o) is None]
        if missing:
            raise ModelError(f"the model gives no {', '.join(missing)} (only the 'rmf' model computes it)")
        return np.stack([getattr(self, o) for o in observables], axis=2)


@runtime_checkable
class Model(Protocol):
    """What the sampler needs from a model."""

    name: str
    """``"nml"`` or ``"rmf"``."""
    nuclei: tuple[str, ...]
    """Nuclei evaluated, in column order."""

    def evaluate(self, nmp: np.ndarray) -> Evaluation:
        """Observables of every nucleus for the parameter sets ``nmp`` (n, 7), columns in the order of
        ``NMP_NAMES`` (rho0 fm^-3; E0, K0, Q0 MeV; mstar; J0, L0 MeV). Never raises for failed points:
        failure is ``valid == False``."""
        ...

    def describe(self) -> dict[str, Any]:
        """Plain-JSON description (model kind, settings, versions) for summary.json."""
        ...

    def close(self) -> None:
        """Release resources (worker processes); idempotent."""
        ...


def make_model(config, nuclei=None, executor=None) -> Model:
    """The model of a :class:`~nucleiml.inference.runfile.RunConfig` (``config.model.name``) for the run's
    nuclei, or for ``nuclei`` (names; they need no experimental data); ``executor``: running workers an
    ``rmf`` model uses instead of starting its own (the emulator runs in process).

    Raises
    ------
    ModelError
        If the emulator is missing or does not cover the run's nuclei or prior.
    """
    if config.model.name == "nml":
        from .nml import EmulatorModel

        return EmulatorModel.from_config(config, nuclei)
    from .rmf import RMFModel

    return RMFModel.from_config(config, nuclei, executor)
