"""Binding energy and charge radius of a nucleus the emulator was not trained on, through its training nuclei.

The regressors take (Z, N) as inputs, but with ten training nuclei an unseen (Z, N) is an extrapolation the
networks make poorly where no training nucleus is alike (56Ni, N = Z = 28: B 95 % band 4.9 %; 48Ni: 7.4 %).
For each NMP row this module instead takes the regressors' predictions at the training nuclei (where they
are accurate to ~0.1 %) and carries them to the new nucleus with a global formula of nuclear systematics,
fitted per row by least squares. Where the model names reference sets (:mod:`.references`; the shipped
model does), the formula is fitted to the difference between the row and each reference set, and the
reference's RMF value at the new nucleus is added back. Because the fit is linear in the values, that is
the row's own fit plus a *shell correction* that is the same for every row: the mean over the references
of (RMF value at the new nucleus - the reference's own fit through its RMF values at the training nuclei).
The references carry the new nucleus' shell structure, which no smooth formula has. The formulas:

- binding energy (MeV): volume, surface, Coulomb and symmetry terms of the liquid drop plus a spin-orbit
  shell term proportional to ``ls_p + ls_n`` (:func:`nucleiml.emulator.features.spin_orbit_sum`);
- charge radius (fm): ``a A^(1/3) + b + c (N - Z) / A + d (ls_p + ls_n) / A``, plus the fit's residuals
  at the training nuclei interpolated to the new nucleus with a Gaussian kernel in (Z, N) of length
  :data:`RADIUS_KERNEL_LENGTH` nucleons.

With reference sets (five; the charge radius without the kernel term), on the same rows as below: unseen-v3
B 2.21 -> 1.38 %, Rch 1.10 -> 0.99 %; the second set B 2.07 -> 1.21 %, Rch 1.00 -> 0.70 %; leave-one-out
over the set2 nuclei (the choice was made on it) B 2.57 -> 1.54 %, Rch 1.11 -> 0.57 %.

Without reference sets, measured on freshly solved RMF rows with the shipped model (README, section "The
shipped default model"): unseen-v3 (34Si, 52Ca, 54Ca, 56Ni, 100Sn; 95 % bands over all convergent rows) B 3.46 -> 2.21 %, Rch
2.17 -> 1.10 %; a second set, made after the method was chosen (22O, 48Ni, 60Ca, 88Sr, 114Sn, 140Ce,
144Sm), B 3.54 -> 2.07 %, Rch 1.10 -> 1.00 %. The kernel length was chosen by leave-one-out over the ten set2 nuclei (mean 95 % band
of the left-out nucleus: 1.55 % without the residual term, 1.11 % at 16 nucleons, 1.22 % at 20); for the
binding energy, whose leave-one-out preferred a residual term of 8-12 nucleons, the residual term made
both unseen sets worse (unseen-v3 2.13 -> 2.83 % on the rows of one scratch comparison, the second
set 2.07 -> 3.42 %) and is not used.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..parameters import ParameterError
from .features import spin_orbit_sum
from .references import ReferenceValues

__all__ = ["RADIUS_KERNEL_LENGTH", "UNSEEN_METHODS", "Extrapolated", "can_extrapolate", "extrapolate"]

UNSEEN_METHODS = ("fit", "network")
"""How :meth:`nucleiml.Emulator.predict` (and ``nucleiml predict --unseen-method``) extrapolates B and Rch
to an unseen nucleus: ``fit`` through the regressors' predictions at the training nuclei (this module;
models trained on at least :data:`MIN_NUCLEI` nuclei), ``network``: the regressors evaluated at the unseen
(Z, N)."""

RADIUS_KERNEL_LENGTH = 16.0
"""Length (nucleons) of the Gaussian kernel in (Z, N) that carries the charge-radius fit's residuals at
the training nuclei to an unseen nucleus (leave-one-out over the set2 nuclei, see the module docstring)."""

KERNEL_JITTER = 1e-3
"""Added to the kernel matrix's diagonal (relative residuals of ~1e-3 are noise at this level)."""

SPARE_NUCLEI = 2
"""A fit needs at least this many training nuclei beyond its number of terms (else the network extrapolates)."""

BINDING_TERMS = 5
"""Terms of the binding-energy formula (:func:`_binding_terms`), the larger of the two fits."""

MIN_NUCLEI = BINDING_TERMS + SPARE_NUCLEI
"""Training nuclei a model needs for :func:`extrapolate` (7)."""


def _binding_terms(Z: np.ndarray, N: np.ndarray) -> np.ndarray:
    """(k, 5) liquid-drop terms (MeV per unit coefficient) with the spin-orbit shell term."""
    A = Z + N
    return np.stack(
        [
            A,
            -(A ** (2 / 3)),
            -Z * (Z - 1) / A ** (1 / 3),
            -((N - Z) ** 2) / A,
            spin_orbit_sum(Z) + spin_orbit_sum(N),
        ],
        axis=-1,
    )


def _radius_terms(Z: np.ndarray, N: np.ndarray) -> np.ndarray:
    """(k, 4) charge-radius terms (fm per unit coefficient)."""
    A = Z + N
    return np.stack(
        [A ** (1 / 3), np.ones_like(A), (N - Z) / A, (spin_orbit_sum(Z) + spin_orbit_sum(N)) / A], axis=-1
    )


def can_extrapolate(n_training_nuclei: int) -> bool:
    """True if a model trained on this many nuclei has enough of them for both fits."""
    return n_training_nuclei >= MIN_NUCLEI


def _fit(values: np.ndarray, terms: np.ndarray, target: np.ndarray):
    """Per-row least squares of ``values`` (n, k) on ``terms`` (k, t); returns the fit at ``target`` (t,),
    (n,), and the relative residuals at the training nuclei, (n, k)."""
    coef = np.linalg.pinv(terms) @ values.T  # (t, n); each row on its own
    fitted = (terms @ coef).T
    return target @ coef, (values - fitted) / values


def _shell_correction(at_training: np.ndarray, at_target: np.ndarray, terms, target) -> float:
    """Mean over m reference sets of their RMF value ``at_target`` (m,) minus their own fit through their
    values ``at_training`` (m, k) evaluated at the target: what the formula misses there."""
    return float(np.mean(at_target - _fit(at_training, terms, target)[0]))


def _kernel(Z1, N1, Z2, N2, length: float) -> np.ndarray:
    d2 = (Z1[:, None] - Z2[None]) ** 2 + (N1[:, None] - N2[None]) ** 2
    return np.exp(-d2 / (2.0 * length * length))


def _skin_terms(Z: np.ndarray, N: np.ndarray) -> np.ndarray:
    """(k, 4) neutron-skin terms (fm per unit coefficient): the droplet model's skin is linear in the
    isospin asymmetry I = (N - Z)/A less a Coulomb term in Z / A^(1/3), divided by 1 + c A^(-1/3):
    ``a + b I + c I A^(-1/3) + d Z A^(-1/3)``."""
    A = Z + N
    iso = (N - Z) / A
    return np.stack([np.ones_like(A), iso, iso / np.cbrt(A), Z / np.cbrt(A)], axis=-1)


class Extrapolated(NamedTuple):
    binding_energy: np.ndarray  # (n,) MeV
    charge_radius: np.ndarray  # (n,) fm
    neutron_skin: np.ndarray | None = None  # (n,) fm, Rn - Rp, if skins were given


def extrapolate(
    binding_energy: np.ndarray,
    charge_radius: np.ndarray,
    training: np.ndarray,
    nucleus: tuple[int, int],
    references: ReferenceValues | None = None,
    *,
    neutron_skin: np.ndarray | None = None,
) -> Extrapolated:
    """Binding energy and charge radius of ``nucleus`` (Z, N) for n rows, from the same rows' predictions
    ``binding_energy`` (n, k) MeV and ``charge_radius`` (n, k) fm at the k training nuclei ``training``
    ((k, 2) integer array of Z, N); with ``references`` (RMF values of m reference sets at the training
    nuclei and at ``nucleus``) through the differences to them; see the module docstring.

    Raises
    ------
    ParameterError
        If there are too few training nuclei (:func:`can_extrapolate`) or the shapes disagree.
    """
    training = np.asarray(training, dtype=np.float64)
    k = training.shape[0]
    if (
        training.shape != (k, 2)
        or np.shape(binding_energy)[1:] != (k,)
        or np.shape(charge_radius)[1:] != (k,)
        or (references is not None and np.shape(references.binding_training)[1:] != (k,))
    ):
        raise ParameterError(f"predictions must be (n, {k}) arrays for the {k} training nuclei")
    if not can_extrapolate(k):
        raise ParameterError(
            f"extrapolating to an unseen nucleus needs at least {MIN_NUCLEI} training nuclei, got {k}"
        )
    Zt, Nt = training[:, 0], training[:, 1]
    Z, N = np.array([float(nucleus[0])]), np.array([float(nucleus[1])])
    tb, tr = _binding_terms(Zt, Nt), _radius_terms(Zt, Nt)
    qb, qr = _binding_terms(Z, N)[0], _radius_terms(Z, N)[0]
    b, _ = _fit(np.asarray(binding_energy, np.float64), tb, qb)
    r, res = _fit(np.asarray(charge_radius, np.float64), tr, qr)
    skin = None if neutron_skin is None else _skin(neutron_skin, training, (Z, N), references)
    if references is not None:
        b = b + _shell_correction(references.binding_training, references.binding, tb, qb)
        r = r + _shell_correction(references.radius_training, references.radius, tr, qr)
        return Extrapolated(b, r, skin)
    gram = _kernel(Zt, Nt, Zt, Nt, RADIUS_KERNEL_LENGTH) + KERNEL_JITTER * np.eye(k)
    weights = np.linalg.solve(gram, _kernel(Z, N, Zt, Nt, RADIUS_KERNEL_LENGTH)[0])
    return Extrapolated(b, r * (1.0 + res @ weights), skin)


def _skin(skins: np.ndarray, training: np.ndarray, target, references: ReferenceValues | None) -> np.ndarray:
    """Neutron skins (n,) fm at ``target`` ((1,) arrays Z, N) from the rows' skins (n, k) at the k
    ``training`` nuclei: the per-row fit of :func:`_skin_terms`, plus the references' shell correction
    where they have skins (the fit is linear, so fitting the difference to a reference and adding back the
    reference's RMF skin is this)."""
    skins = np.asarray(skins, np.float64)
    k = training.shape[0]
    if np.shape(skins)[1:] != (k,):
        raise ParameterError(f"neutron_skin must be an (n, {k}) array for the {k} training nuclei")
    terms, query = _skin_terms(training[:, 0], training[:, 1]), _skin_terms(*target)[0]
    with np.errstate(divide="ignore", invalid="ignore"):  # relative residuals of skins near 0: unused
        out, _ = _fit(skins, terms, query)
    if references is not None and references.skin_training is not None:
        out = out + _shell_correction(references.skin_training, references.skin, terms, query)
    return out
