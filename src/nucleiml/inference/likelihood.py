"""The likelihood of finite-nucleus data given model predictions, with a finite floor for failed points.

Pure numpy. For ``n`` parameter sets, ``k`` nuclei and ``m`` observables (binding energy in MeV, charge
radius in fm), a model supplies predictions ``values`` (n, k, m), a validity mask ``valid`` (n, k) and a
``badness`` (n, k) in [0, 1] that says how far an invalid point is from being valid (model-specific; see
:mod:`nucleiml.inference.models`). With experimental values ``y`` (k, m) and widths ``w``
(:func:`likelihood_widths`: ``tolerance * |y|`` for binding energies and charge radii, the measurement's
uncertainty for neutron skins; an entry with no ``y``, a nucleus whose skin is not constrained, is left out):

- **gaussian**: ``log L = -1/2 sum_(nuclei, observables) z^2``, ``z = (value - y) / w``. The normalisation
  ``-sum log(w sqrt(2 pi))`` is left out, so that ``log L = 0`` is perfect agreement as in the box shape;
  :attr:`Likelihood.log_normalisation` gives it (add it to log Z for a normalised evidence).
- **box**: ``log L = 0`` when every ``|z| <= 1`` (a plateau: the evidence is the prior probability of the
  box); a valid point outside the box has zero likelihood, represented by the finite value
  ``BOX_OUTSIDE - excess`` with ``excess = sum max(|z| - 1, 0)``, so it still slopes towards the box.

**Non-convergent points** (no couplings, solver not converged, classifier not *convergent*; any nucleus)
have zero likelihood, as in the seed paper. Nested samplers need a finite value (UltraNest asserts it) and
stall on large constant plateaus, and a large part of the default prior is non-convergent. Such points get

    log L = LOGL_FLOOR - FLOOR_SPAN * penalty,   penalty = f_invalid + b_mean + r   in (0, 3],

where ``f_invalid`` is the fraction of nuclei that failed, ``b_mean`` the model's badness summed over the
failed nuclei divided by ``k`` (nml: one minus the classifier's probability of *convergent*; rmf: 1 without
couplings, 1/2 when the solver did not converge), and ``r`` in [0, 1] the root-mean-square over the seven
NMPs of their distance from the centre of the prior's support in units of its half-width.
Failing for fewer nuclei, being judged closer to convergent, and lying nearer the centre of the prior all
raise the value; ``r`` varies continuously, so no two points share a value and the floor has no plateau.
All floor values lie in [-1.3e9, -1e9), far below any valid value (valid values are clipped at
``LOGL_MIN_VALID`` = -1e8, which needs deviations of thousands of widths), so the floor carries no
posterior weight (exp(-1e9) = 0) and does not change the evidence.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "BOX_OUTSIDE",
    "FLOOR_SPAN",
    "LOGL_FLOOR",
    "LOGL_MIN_VALID",
    "Likelihood",
    "box_loglike",
    "experimental_table",
    "floor_loglike",
    "gaussian_loglike",
    "likelihood_widths",
]

LOGL_FLOOR = -1.0e9
"""Highest log-likelihood of a non-convergent point."""
FLOOR_SPAN = 1.0e8
"""Log-likelihood per unit of the floor penalty (penalty in (0, 3])."""
LOGL_MIN_VALID = -1.0e8
"""Valid points are clipped to at least this value (so they always rank above the floor)."""
BOX_OUTSIDE = -1.0e6
"""Highest log-likelihood of a valid point outside the box (box shape)."""


def experimental_table(nuclei, observables) -> np.ndarray:
    """(k, m) experimental values (MeV, fm) of ``observables`` of ``nuclei`` from the package's tables (any
    attribute of :class:`~nucleiml.experiment.ExperimentalData`, e.g. ``neutron_skin_err``); NaN where none
    is shipped (a run's data section refuses such nuclei; predictions of other nuclei keep them).
    """
    from ..experiment import MissingExperimentError, experiment

    exp = np.full((len(nuclei), len(observables)), np.nan)
    for i, name in enumerate(nuclei):
        try:
            data = experiment(name)
        except MissingExperimentError:
            continue
        for j, obs in enumerate(observables):
            value = getattr(data, obs)
            exp[i, j] = np.nan if value is None else value
    return exp


def likelihood_widths(nuclei, observables, tolerance: float) -> np.ndarray:
    """(k, m) likelihood widths (MeV, fm) of ``observables`` of ``nuclei``: ``tolerance`` times the
    experimental value, except for ``neutron_skin``, whose width is the measurement's uncertainty (see
    :data:`~nucleiml.inference.runfile.NEUTRON_SKIN`); NaN where the package has no measurement."""
    from .runfile import NEUTRON_SKIN

    width = tolerance * np.abs(experimental_table(nuclei, observables))
    if NEUTRON_SKIN in observables:
        width[:, list(observables).index(NEUTRON_SKIN)] = experimental_table(nuclei, ("neutron_skin_err",))[
            :, 0
        ]
    return width


def gaussian_loglike(values: np.ndarray, experimental: np.ndarray, width: np.ndarray) -> np.ndarray:
    """Unnormalised Gaussian log-likelihood ``-1/2 sum z^2`` over all axes but the first.

    Parameters
    ----------
    values : ndarray, shape (n, ...)
        Predictions (MeV, fm).
    experimental, width : ndarray, broadcastable to ``values.shape[1:]``
        Experimental values and Gaussian widths (> 0), same units.

    Returns
    -------
    ndarray, shape (n,)
        Non-finite where a value is non-finite.
    """
    z = (np.asarray(values, dtype=float) - experimental) / width
    return -0.5 * np.sum(z * z, axis=tuple(range(1, z.ndim)))


def box_loglike(values: np.ndarray, experimental: np.ndarray, half_width: np.ndarray) -> np.ndarray:
    """Box log-likelihood: 0 where every ``|value - experimental| <= half_width``, else
    ``BOX_OUTSIDE - sum max(|z| - 1, 0)`` with ``z = (value - experimental) / half_width``.

    Parameters and returns as in :func:`gaussian_loglike` (``half_width`` > 0).
    """
    z = np.abs(np.asarray(values, dtype=float) - experimental) / half_width
    excess = np.sum(np.maximum(z - 1.0, 0.0), axis=tuple(range(1, z.ndim)))
    with np.errstate(invalid="ignore"):
        return np.where(excess > 0.0, BOX_OUTSIDE - excess, np.where(np.isfinite(excess), 0.0, np.nan))


def floor_loglike(
    invalid: np.ndarray,
    badness: np.ndarray,
    nmp: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
) -> np.ndarray:
    """Finite log-likelihood of non-convergent points, sloping towards the valid region (module docstring).

    Parameters
    ----------
    invalid : ndarray of bool, shape (n, k)
        Which nuclei failed for each point.
    badness : ndarray, shape (n, k)
        How far each failed nucleus is from convergent, in [0, 1] (clipped; NaN counts as 1).
    nmp : ndarray, shape (n, 7)
        The parameter sets (units of ``NMP_NAMES``).
    low, high : ndarray, shape (7,)
        The support of the prior (same units), ``low < high``.

    Returns
    -------
    ndarray, shape (n,)
        Values in [LOGL_FLOOR - 3 FLOOR_SPAN, LOGL_FLOOR).
    """
    invalid = np.asarray(invalid, dtype=bool)
    k = invalid.shape[1]
    bad = np.where(np.isfinite(badness), np.clip(badness, 0.0, 1.0), 1.0)
    frac = invalid.sum(axis=1) / k
    bmean = np.where(invalid, bad, 0.0).sum(axis=1) / k
    centre = 0.5 * (low + high)
    half = 0.5 * (high - low)
    d = np.clip(np.abs((np.asarray(nmp, dtype=float) - centre) / half), 0.0, 1.0)
    d = np.where(np.isfinite(d), d, 1.0)
    r = np.sqrt(np.mean(d * d, axis=1))
    # strictly positive: a point counts as failed only if some nucleus failed, so frac >= 1/k
    return LOGL_FLOOR - FLOOR_SPAN * (frac + bmean + r)


@dataclass(frozen=True)
class Likelihood:
    """Likelihood of ``observables`` of ``nuclei`` against experiment (see the module docstring).

    Attributes
    ----------
    nuclei : tuple of str
    observables : tuple of str
        Names among ``binding_energy`` (MeV), ``charge_radius`` (fm) and ``neutron_skin`` (fm).
    experimental : ndarray, shape (k, m)
        Experimental values, nuclei by observables; NaN only in the ``neutron_skin`` column, for nuclei
        whose skin is not in the likelihood.
    shape : {"gaussian", "box"}
    tolerance : float
        Width (gaussian) or half-width (box) as a fraction of the experimental value.
    low, high : ndarray, shape (7,)
        Support of the prior, used by the floor.
    widths : ndarray, shape (k, m), optional
        Widths (MeV, fm) where they are not ``tolerance`` times the experimental value (from
        :func:`likelihood_widths`); None: all are.
    """

    nuclei: tuple[str, ...]
    observables: tuple[str, ...]
    experimental: np.ndarray
    shape: str
    tolerance: float
    low: np.ndarray
    high: np.ndarray
    widths: np.ndarray | None = None

    def __post_init__(self) -> None:
        from .runfile import NEUTRON_SKIN

        exp = np.asarray(self.experimental, dtype=float)
        optional = np.array([o == NEUTRON_SKIN for o in self.observables], dtype=bool)
        if exp.shape != (len(self.nuclei), len(self.observables)) or not np.all(
            np.isfinite(exp) | (np.isnan(exp) & optional)
        ):
            raise ValueError(
                f"experimental must be an array of shape (nuclei, observables) = "
                f"({len(self.nuclei)}, {len(self.observables)}), finite but for NaN neutron skins (not "
                f"constrained), got shape {exp.shape}"
            )
        if not np.any(np.isfinite(exp)):
            raise ValueError("experimental has no finite value: the likelihood would be constant")
        if self.shape not in ("gaussian", "box"):
            raise ValueError(f"shape must be 'gaussian' or 'box', got {self.shape!r}")
        if not 0 < self.tolerance:
            raise ValueError(f"tolerance must be > 0, got {self.tolerance!r}")
        exp.setflags(write=False)
        object.__setattr__(self, "experimental", exp)
        width = self.tolerance * np.abs(exp) if self.widths is None else np.asarray(self.widths, dtype=float)
        if width.shape != exp.shape or not np.all(width[np.isfinite(exp)] > 0):
            raise ValueError(f"widths must have shape {exp.shape} and be > 0 where experimental is finite")
        width = np.where(np.isfinite(exp), width, np.nan)
        width.setflags(write=False)
        object.__setattr__(self, "widths", width)
        for name in ("low", "high"):
            v = np.asarray(getattr(self, name), dtype=float)
            v.setflags(write=False)
            object.__setattr__(self, name, v)
        if not (self.low.shape == self.high.shape == (7,) and np.all(self.low < self.high)):
            raise ValueError("low and high must be arrays of 7 values with low < high")

    @classmethod
    def from_config(cls, config) -> Likelihood:
        """The likelihood of a :class:`~nucleiml.inference.runfile.RunConfig` (experimental data from the
        package tables)."""
        from ..parameters import NMP_NAMES
        from .runfile import NEUTRON_SKIN

        data = config.data
        observables = data.likelihood_observables
        exp = experimental_table(data.nuclei, observables)
        if NEUTRON_SKIN in observables:  # only the nuclei listed under [data] neutron_skin
            skip = np.array([n not in data.neutron_skin for n in data.nuclei])
            exp[skip, observables.index(NEUTRON_SKIN)] = np.nan
        dists = config.prior.nmp
        return cls(
            nuclei=data.nuclei,
            observables=observables,
            experimental=exp,
            shape=config.likelihood.shape,
            tolerance=config.likelihood.tolerance,
            low=np.array([dists[k].low for k in NMP_NAMES]),
            high=np.array([dists[k].high for k in NMP_NAMES]),
            widths=likelihood_widths(data.nuclei, observables, config.likelihood.tolerance),
        )

    @property
    def width(self) -> np.ndarray:
        """Gaussian width or box half-width per nucleus and observable (MeV, fm), shape (k, m); NaN for the
        entries left out (see :attr:`used`)."""
        return self.widths

    @property
    def used(self) -> np.ndarray:
        """(k, m) bool: the entries in the likelihood (all but the skins of nuclei not constrained by it)."""
        return np.isfinite(self.experimental)

    @property
    def log_normalisation(self) -> float:
        """Log of the constant left out of the likelihood: ``-sum log(w sqrt(2 pi))`` (gaussian) or
        ``-sum log(2 w)`` (box) over the entries used, widths in MeV and fm. Normalised log-evidence =
        log Z + this."""
        w = self.width[self.used]
        if self.shape == "gaussian":
            return float(-np.sum(np.log(w * np.sqrt(2.0 * np.pi))))
        return float(-np.sum(np.log(2.0 * w)))

    def __call__(
        self,
        values: np.ndarray,
        valid: np.ndarray,
        badness: np.ndarray,
        nmp: np.ndarray,
    ) -> np.ndarray:
        """Log-likelihood of n points: finite everywhere, never NaN.

        Parameters
        ----------
        values : ndarray, shape (n, k, m)
            Predictions per point, nucleus and observable (in the order of ``nuclei``, ``observables``).
        valid : ndarray of bool, shape (n, k)
            False where the model failed for that nucleus (values are then ignored).
        badness : ndarray, shape (n, k)
            How far a failed nucleus is from convergent, in [0, 1].
        nmp : ndarray, shape (n, 7)
            The parameter sets.

        Returns
        -------
        ndarray, shape (n,)

        Raises
        ------
        ValueError
            If the shapes do not match.
        """
        values = np.asarray(values, dtype=float)
        n = values.shape[0]
        k, m = self.experimental.shape
        valid = np.asarray(valid, dtype=bool)
        if values.shape != (n, k, m) or valid.shape != (n, k) or np.shape(badness) != (n, k):
            raise ValueError(
                f"expected values (n, {k}, {m}), valid and badness (n, {k}); got {values.shape}, "
                f"{valid.shape}, {np.shape(badness)}"
            )
        used = self.used
        valid = valid & np.all(np.isfinite(values) | ~used, axis=2)  # a NaN prediction is a failure too
        ok = valid.all(axis=1)
        # entries left out count as exact agreement: experiment 0 with width 1 and value 0
        exp, width = np.where(used, self.experimental, 0.0), np.where(used, self.width, 1.0)
        filled = np.where(valid[:, :, None] & used, values, exp)
        if self.shape == "gaussian":
            logl = gaussian_loglike(filled, exp, width)
        else:
            logl = box_loglike(filled, exp, width)
        logl = np.maximum(logl, LOGL_MIN_VALID)
        floor = floor_loglike(~valid, badness, nmp, self.low, self.high)
        return np.where(ok, logl, floor)
