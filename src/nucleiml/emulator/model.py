"""The :class:`Emulator`: class, binding energy and charge radius of (NMPs, nucleus) without solving.

Prediction needs numpy and scipy (the normal distribution of the nc_c rule) only: no torch, matplotlib
or pyarrow. What is computed exactly and what is learned:

- ``nc_a`` (no physical couplings) is *exact*: the NMPs are inverted with
  :func:`nucleiml.couplings_from_nmp_array` using the meson and nucleon masses of the training prior, and
  ``nc_a`` gets probability 1 where the inversion fails, 0 elsewhere. The inversion is about half of a
  prediction (``benchmarks/bench_emulator.py``, one loaded core: 1.3e6 inversions per second, about 0.8
  microseconds per row, against 7e5 rows per second through the networks). Callers that predict several
  nuclei of the same NMPs invert once (:meth:`Emulator.invert`) and pass ``inversion``; ``couplings_ok``
  skips the inversion only for a model without coupling features (the shipped one has them).
- In the default model (``mode = "hybrid"``), a network gives the probability that the solver converges
  (``1 - P(nc_b)``) where couplings exist, and ``nc_c`` is the seed's rule applied to the *predicted*
  binding energy B of a regressor trained on all converged rows (far-off energies clipped to
  B_exp (1 +- 0.4), which keeps them beyond the threshold): P(nc_c | converged) is the probability
  that |B - B_exp| > threshold * B_exp if the true B scatters around the prediction with the regressor's
  validation error for that nucleus (a normal distribution), so the label flips exactly where the
  predicted B crosses the 20 % threshold.
- In a ``paper``-preset model (``mode = "softmax4"``), one softmax network gives all four classes as in
  the seed; the exact ``nc_a`` replaces its nc_a output (the other three are renormalised).

Binding energy and charge radius come from two regressors, and in models that have a third (the shipped
one) so does the neutron skin Rn - Rp (:attr:`Emulator.observables`): either a regressor of the skin itself
(network ``neutron_skin``) or one of the point-neutron radius Rn (network ``neutron_radius``, the shipped
model's: it predicts the skin better), with Rp = sqrt(Rch^2 - 0.64 fm^2) from the charge radius, the
solver's own convention. They are NaN where the label is not ``convergent`` (unless
``mask_nonconvergent=False``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import NamedTuple

import numpy as np

from ..constants import PROTON_FORM_FACTOR_FM2
from ..datasets.labels import CONVERGENT, LABELS
from ..nuclear_matter import _couplings_from_one_nmp, couplings_from_nmp_array
from ..nuclei import Nucleus, NucleusError, parse_nucleus
from ..parameters import COUPLING_NAMES, NMP, NMP_NAMES, ParameterError, _check, as_nmp_matrix
from ._validate import check_metadata
from .extrapolation import UNSEEN_METHODS, can_extrapolate, extrapolate
from .features import (
    COUPLING_FEATURES,
    COUPLING_FEATURES_FLOAT,
    OPTIONAL_NETWORKS,
    RN,
    SKIN,
    Scaler,
    TargetTransform,
    check_feature_names,
    couplings_of,
    nucleus_columns,
    nucleus_feature,
)
from .format import ModelFormatError, load_model, read_dataset_card, save_model
from .forward import MLP, SMALL_ROWS, StackedMLP
from .references import reference_values

__all__ = ["DEFAULT_MODEL_DIR", "MODES", "Emulator", "Inversion", "as_nmp_matrix"]

MODES = ("hybrid", "softmax4")
"""``hybrid``: exact nc_a + convergence network + BE threshold for nc_c; ``softmax4``: the seed's classifier."""

DEFAULT_MODEL_DIR = ("data", "emulator")
"""Where the shipped default model lives inside the package (``nucleiml/data/emulator/``)."""

_OUT_OF_DOMAIN = ("flag", "raise")
_NETWORKS = ("classifier", "binding_energy", "charge_radius")
SKIN_NETWORKS = OPTIONAL_NETWORKS
"""The optional skin regressor: of the skin itself (:data:`SKIN`), or of Rn (:data:`RN`; the skin is then
Rn - Rp, Rp from Rch with the solver's convention :data:`~nucleiml.constants.PROTON_FORM_FACTOR_FM2`)."""


class Inversion(NamedTuple):
    """NMP rows inverted to Lagrangian couplings (:meth:`Emulator.invert`): ``ok`` (n,) bool, False where no
    physical couplings exist (the exact nc_a class); ``couplings`` maps each name of
    :data:`nucleiml.parameters.COUPLING_NAMES` to an (n,) array (NaN where not ``ok``)."""

    ok: np.ndarray
    couplings: Mapping[str, np.ndarray]

    def subset(self, rows) -> Inversion:
        """The rows ``rows`` (a bool mask or indices) of this inversion."""
        return Inversion(self.ok[rows], {k: v[rows] for k, v in self.couplings.items()})


def _normal_sf(x: np.ndarray) -> np.ndarray:
    """P(X > x) for a standard normal X (scipy imported when first needed)."""
    global _ndtr
    if _ndtr is None:
        from scipy.special import ndtr as _ndtr
    return _ndtr(-x)


_ndtr = None


def _normal_sf_float(x: float) -> float:
    """:func:`_normal_sf` of a float (math.erfc; the same to round-off)."""
    return 0.5 * math.erfc(x / math.sqrt(2.0))


def _hybrid_probabilities(q, b_pred, b_exp: float, sigma_rel: float, t: float, sf=_normal_sf):
    """P(convergent), P(nc_b), P(nc_c) of the hybrid model from the convergence network's ``q`` = P(solver
    converges | couplings exist) and the predicted binding energy ``b_pred`` (MeV): nc_c is the
    probability that the true B lies beyond ``t`` B_exp of ``b_exp`` if it scatters normally around the
    prediction with relative width ``sigma_rel``. Arrays, or floats with ``sf`` :func:`_normal_sf_float`."""
    s = _maximum(sigma_rel * abs(b_pred), 1e-9 * b_exp)
    c = sf((b_exp * (1 + t) - b_pred) / s) + sf((b_pred - b_exp * (1 - t)) / s)
    return q * (1.0 - c), 1.0 - q, q * c


def _maximum(a, b):
    """np.maximum of arrays, max of floats."""
    return max(a, b) if isinstance(a, float) else np.maximum(a, b)


def _check_options(unseen_method, **flags) -> None:
    """Raise ParameterError unless ``unseen_method`` is a known method and each flag a bool."""
    if not isinstance(unseen_method, str) or unseen_method not in UNSEEN_METHODS:
        raise ParameterError(f"unseen_method must be one of {UNSEEN_METHODS}, got {unseen_method!r}")
    for name, flag in flags.items():
        if not isinstance(flag, bool | np.bool_):
            raise ParameterError(f"{name} must be True or False, got {type(flag).__name__}")


class Emulator:
    """A trained NucleiML emulator (seed paper, section III): classifier + two regressors.

    Load with :meth:`Emulator.load` (``path=None``: the default model shipped in the package) and call
    :meth:`predict`. Attributes: ``observables`` (what the regressors predict: ``binding_energy`` in MeV,
    ``charge_radius`` in fm and, if the model has that regressor, ``neutron_skin`` Rn - Rp in fm),
    ``class_names`` (``("convergent", "nc_a", "nc_b", "nc_c")``), ``nuclei``
    (names of the training nuclei), ``prior_box`` (NMP name -> (low, high) of the training prior, fm^-3 /
    MeV), ``masses`` (MeV, used for the exact nc_a inversion), ``mode``, ``threshold`` (the nc_c fraction),
    ``nc_b_threshold`` (None or the P(nc_b) above which a row is labelled nc_b), ``metadata`` (everything
    stored).
    """

    def __init__(self, metadata: Mapping, networks: Mapping[str, MLP], path: Path | None = None):
        meta = dict(metadata)
        where = f"{Path(path) / 'model.json'}: " if path is not None else ""
        try:
            check_metadata(meta)
            self.mode = str(meta["mode"])
            if self.mode not in MODES:
                raise ModelFormatError(f"unknown emulator mode {self.mode!r}; known: {', '.join(MODES)}")
            self.features = check_feature_names(meta["features"])
            self._x_scaler = Scaler.from_dict(meta["feature_scaler"])
            if self._x_scaler.mean.size != len(self.features):
                raise ModelFormatError("feature_scaler length differs from the number of features")
            self.class_names = tuple(meta["class_names"])
            if self.class_names != LABELS:
                raise ModelFormatError(f"class_names must be {list(LABELS)}, got {list(self.class_names)}")
            nuclei = [parse_nucleus((int(d["Z"]), int(d["N"]))) for d in meta["nuclei"]]
            self._b_exp = {n: float(d["binding_energy_exp"]) for n, d in zip(nuclei, meta["nuclei"])}
            self._sigma_b = {n: float(d["binding_energy_rel_error"]) for n, d in zip(nuclei, meta["nuclei"])}
            self.nuclei = tuple(n.name for n in nuclei)
            self.prior_box = MappingProxyType(
                {k: (float(meta["prior_box"][k][0]), float(meta["prior_box"][k][1])) for k in NMP_NAMES}
            )
            self.masses = MappingProxyType({k: float(v) for k, v in meta["masses"].items()})
            self._masses_dict = dict(self.masses)
            self.threshold = float(meta["nc_c_threshold"])
            t = meta.get("nc_b_threshold")
            self.nc_b_threshold = None if t is None else float(t)
            if self.nc_b_threshold is not None and not 0 < self.nc_b_threshold <= 1:
                raise ModelFormatError(f"nc_b_threshold must lie in (0, 1], got {t!r}")
            skin_nets = [k for k in SKIN_NETWORKS if k in networks]
            if len(skin_nets) > 1:
                raise ModelFormatError(f"an emulator has at most one of the networks {list(SKIN_NETWORKS)}")
            self._skin_net = skin_nets[0] if skin_nets else None
            self._regressors = ("binding_energy", "charge_radius", *skin_nets)
            self.observables = ("binding_energy", "charge_radius") + ((SKIN,) if skin_nets else ())
            self._targets = {
                k: TargetTransform.from_dict(meta["networks"][k]["target_transform"])
                for k in self._regressors
            }
            refs = np.asarray(meta.get("reference_nmp", []), dtype=np.float64)
            refs = refs.reshape(0, len(NMP_NAMES)) if refs.size == 0 else refs
            if refs.ndim != 2 or refs.shape[1] != len(NMP_NAMES) or not np.all(np.isfinite(refs)):
                raise ModelFormatError(f"reference_nmp must be a list of {len(NMP_NAMES)}-NMP rows")
            self.reference_nmp = refs
            self._reference_couplings: dict | None = None  # of the reference sets, inverted when first needed
            self._reference_cache: dict = {}  # nucleus -> the reference sets' (B, Rch) there
        except KeyError as exc:
            raise ModelFormatError(f"{where}emulator metadata lack the field {exc.args[0]!r}") from None
        except (
            ValueError
        ) as exc:  # ModelFormatError, NucleusError, ParameterError, the checks of check_metadata
            raise ModelFormatError(f"{where}{exc}") from None
        except (TypeError, AttributeError) as exc:
            raise ModelFormatError(f"{where}invalid emulator metadata: {exc}") from None
        need = set(_NETWORKS)
        if set(networks) - set(SKIN_NETWORKS) != need:
            raise ModelFormatError(
                f"an emulator needs the networks {sorted(need)} (and may have one of {list(SKIN_NETWORKS)}), "
                f"got {sorted(networks)}"
            )
        for name, net in networks.items():
            if net.n_inputs != len(self.features):
                raise ModelFormatError(
                    f"network {name!r} takes {net.n_inputs} inputs, not {len(self.features)}"
                )
        expected = {"classifier": (1, "sigmoid") if self.mode == "hybrid" else (4, "softmax")}
        expected.update({k: (1, "linear") for k in self._regressors})
        for name, (width, output) in expected.items():
            if (networks[name].n_outputs, networks[name].output) != (width, output):
                raise ModelFormatError(
                    f"network {name!r} must have {width} {output} output(s) in mode {self.mode}"
                )
        self._networks = dict(networks)
        self._net_names = ("classifier", *self._regressors)  # classifier, B, Rch (and the skin's)
        self._nucleus_cols = nucleus_columns(self.features)
        self._row_cols = np.setdiff1d(np.arange(len(self.features)), self._nucleus_cols)
        self._row_mean = self._x_scaler.mean[self._row_cols]
        self._row_scale = self._x_scaler.scale[self._row_cols]
        self._coupling_features = tuple(f for f in self.features if f in COUPLING_FEATURES)
        self.uses_couplings = bool(self._coupling_features)
        self._folded: dict[Nucleus, dict[str, MLP]] = {}
        self._parsed: dict = {}  # what predict was given as a nucleus -> the Nucleus
        self._inversion_method = "quartic"  # "scan": the old inversion (benchmarks/bench_emulator.py)
        self._factors: dict = {}  # (regressor, nucleus) -> the target transform's factor
        self._stacked: dict = {}  # nucleus -> the three networks stacked for a few rows (False: cannot)
        self._class_array = np.array(self.class_names)
        self._convergent = self.class_names.index(CONVERGENT)
        ranges = [NMP.RANGES[k] for k in NMP_NAMES]
        self._phys_lo, self._phys_hi = (np.array([r[i] for r in ranges]) for i in (0, 1))
        self._phys_lo_open = np.array([r[2] for r in ranges])
        self._ranges = tuple(ranges)
        self._lo = np.array([self.prior_box[k][0] for k in NMP_NAMES])
        self._hi = np.array([self.prior_box[k][1] for k in NMP_NAMES])
        self._box_lo, self._box_hi = tuple(self._lo.tolist()), tuple(self._hi.tolist())
        self.metadata = MappingProxyType(meta)
        self.path = path

    # ------------------------------------------------------------------------------------------ I/O
    @classmethod
    def load(cls, path: str | Path | None = None) -> Emulator:
        """Read a model directory (see :mod:`nucleiml.emulator.format`); ``None`` loads the default model
        shipped inside the package."""
        if path is None:
            root = resources.files("nucleiml").joinpath(*DEFAULT_MODEL_DIR)
            with resources.as_file(root) as p:
                if not (Path(p) / "model.json").is_file():
                    raise ModelFormatError(
                        "no default emulator is shipped with this installation of NucleiML "
                        f"({'/'.join(('nucleiml', *DEFAULT_MODEL_DIR))}/model.json is missing); pass the path "
                        "of a model trained with `nucleiml train`"
                    )
                meta, nets = load_model(p)
                return cls(meta, nets, Path(p))
        meta, nets = load_model(path)
        return cls(meta, nets, Path(path))

    def save(self, path: str | Path) -> Path:
        """Write this model to directory ``path`` (with the training dataset card, if known)."""
        card = read_dataset_card(self.path) if self.path is not None else None
        meta = {
            k: v
            for k, v in self.metadata.items()
            if k not in ("format", "format_version", "weights_sha256", "metadata_sha256")
        }
        return save_model(path, meta, self._networks, card)

    @property
    def networks(self) -> Mapping[str, MLP]:
        return MappingProxyType(self._networks)

    def __repr__(self) -> str:
        layout = ", ".join(f"{k} {list(v.hidden)} {v.activation}" for k, v in self._networks.items())
        return f"Emulator(mode={self.mode!r}, nuclei={list(self.nuclei)}, networks: {layout})"

    # ------------------------------------------------------------------------------------------ inputs
    def _nucleus(self, nucleus, allow_unseen: bool) -> Nucleus:
        try:
            nuc = self._parsed.get(nucleus)
        except TypeError:  # unhashable: parse every time
            nuc = None
        if nuc is None:
            nuc = parse_nucleus(nucleus)
            if isinstance(nucleus, (str, tuple, Nucleus)) and len(self._parsed) < 256:
                self._parsed[nucleus] = nuc
        if nuc not in self._b_exp and not allow_unseen:
            raise NucleusError(
                f"{nuc.name} is not among the nuclei this emulator was trained on ({', '.join(self.nuclei)}); "
                "pass allow_unseen=True (on the command line: --allow-unseen) to extrapolate (less accurate, see the "
                "evaluation report)"
            )
        return nuc

    def _b_exp_of(self, nuc: Nucleus) -> float:
        if nuc in self._b_exp:
            return self._b_exp[nuc]
        from ..experiment import experiment

        return float(experiment(nuc).binding_energy)

    def _sigma_b_of(self, nuc: Nucleus) -> float:
        # unseen nuclei: the largest validation error of the training nuclei (a lower bound, see the report)
        return self._sigma_b.get(nuc, max(self._sigma_b.values()))

    def in_domain(self, nmp) -> np.ndarray:
        """(n,) bool: True where every NMP lies inside the training prior box ``prior_box``."""
        x = as_nmp_matrix(nmp)
        return np.all((x >= self._lo) & (x <= self._hi), axis=1)

    def _check_domain(self, x: np.ndarray, out_of_domain: str) -> np.ndarray:
        if not isinstance(out_of_domain, str) or out_of_domain not in _OUT_OF_DOMAIN:
            raise ParameterError(f"out_of_domain must be one of {_OUT_OF_DOMAIN}, got {out_of_domain!r}")
        if x.shape[0] == 1:  # one row: compared as floats; anything to report goes the array way
            row = x[0].tolist()
            physical = all(
                lo < v <= hi if lo_open else lo <= v <= hi for v, (lo, hi, lo_open) in zip(row, self._ranges)
            )
            inside = all(lo <= v <= hi for v, lo, hi in zip(row, self._box_lo, self._box_hi))
            if physical and (inside or out_of_domain == "flag"):
                return np.array([inside])
        # physical ranges: beyond them nothing can be predicted
        bad = (x > self._phys_hi) | np.where(self._phys_lo_open, x <= self._phys_lo, x < self._phys_lo)
        if bad.any():
            j = int(np.argmax(bad.any(axis=0)))  # the first column with a bad value, its first row
            i = int(np.argmax(bad[:, j]))
            name = NMP_NAMES[j]
            lo, hi, lo_open = NMP.RANGES[name]
            raise ParameterError(
                f"{name}[{i}] = {float(x[i, j])!r} is outside the allowed range {'(' if lo_open else '['}{lo:g}, {hi:g}]"
            )
        inside = (x >= self._lo) & (x <= self._hi)
        if out_of_domain == "raise" and not inside.all():
            i, j = np.argwhere(~inside)[0]
            lo, hi = self.prior_box[NMP_NAMES[j]]
            raise ParameterError(
                f"{NMP_NAMES[j]}[{i}] = {float(x[i, j])!r} is outside the training prior box [{lo:g}, {hi:g}] of this "
                "emulator (out_of_domain='flag' predicts anyway and marks the row in 'in_domain')"
            )
        return inside.all(axis=1)

    def couplings_ok(self, nmp) -> np.ndarray:
        """(n,) bool: physical couplings exist for these NMPs (exact; False is the nc_a class)."""
        return self.invert(nmp).ok

    def invert(self, nmp) -> Inversion:
        """The NMP rows inverted to couplings with the training prior's masses (exact; see
        :func:`nucleiml.couplings_from_nmp_array`). Pass the result to :meth:`predict` as ``inversion`` to
        invert once for several nuclei.

        One row is inverted in Python floats (:func:`nucleiml.nuclear_matter._couplings_from_one_nmp`,
        about 20 times faster for one row): the same nc_a, couplings within 1e-10 relative of a batch's.

        Raises
        ------
        ParameterError
            Wrong shape, NaN, or values outside the physical NMP ranges.
        """
        x = as_nmp_matrix(nmp)
        if x.shape[0] == 1:
            self._check_domain(x, "flag")
        return self._invert_checked(x)

    def _invert_checked(self, x: np.ndarray) -> Inversion:
        """:meth:`invert` of rows ``x`` (n, 7) already checked against the physical NMP ranges."""
        if self._inversion_method == "scan":  # the path before the quartic inversion (benchmarks)
            inv = couplings_from_nmp_array(x, **self.masses, method="scan")
            return Inversion(inv.ok, inv.couplings)
        if x.shape[0] == 1:
            res = _couplings_from_one_nmp(x[0].tolist(), self._masses_dict)
            return Inversion(res.ok, res.couplings)
        return Inversion(*couplings_of(x, self.masses))

    # ------------------------------------------------------------------------------------------ predict
    def predict(
        self,
        nmp,
        nucleus,
        *,
        couplings_ok=None,
        inversion: Inversion | None = None,
        allow_unseen: bool = False,
        unseen_method: str = "fit",
        out_of_domain: str = "flag",
        mask_nonconvergent: bool = True,
        nc_b_threshold: float | None = None,
    ) -> dict[str, np.ndarray]:
        """Class probabilities, binding energy, charge radius (and neutron skin) of one nucleus for n NMP rows.

        Parameters
        ----------
        nmp : (n, 7) array in the order rho0 [fm^-3], E0, K0, Q0 [MeV], mstar, J0, L0 [MeV]; or a mapping of
            1-D arrays keyed by those names; or NMP objects.
        nucleus : "208Pb", (82, 126) or a Nucleus. Must be a training nucleus unless ``allow_unseen``.
        couplings_ok : None (default) to decide nc_a exactly by inverting the NMPs; or an (n,) bool array
            (True where physical couplings exist) computed before, e.g. once for several nuclei; or True to
            assume they exist for every row (then no row is nc_a). For a model without coupling features
            this skips the inversion. A model with them (``uses_couplings``, the shipped one) needs the
            couplings themselves: it always inverts (or takes ``inversion``), and rows without physical
            couplings are nc_a whatever ``couplings_ok`` says. To skip the inversion, pass ``inversion``
            (bench_emulator.py, loaded core: 7.2e5 rows with couplings per second through the networks).
        inversion : the :class:`Inversion` of these rows from :meth:`invert` (computed once for several
            nuclei); None to invert here when needed.
        allow_unseen : predict a nucleus the emulator was not trained on (an extrapolation in Z, N; its
            nc_c rule uses the experimental binding energy shipped with NucleiML).
        unseen_method : for an unseen nucleus, "fit" (default) carries the regressors' predictions at the
            training nuclei to it with a per-row fit of nuclear systematics, made relative to the model's
            reference parameter sets where it has them (the shipped model does; their RMF values at the
            nucleus are solved once, about a second, and cached). See
            :mod:`nucleiml.emulator.extrapolation`; shipped model, the README's unseen nuclei: 95 % bands
            1.38 % in B and 0.99 % in Rch, against 3.46 % and 2.17 % for "network". "network" evaluates
            the regressors at its (Z, N).
            Models trained on fewer than seven nuclei always use "network". The class probabilities come
            from the classifier at the nucleus' (Z, N) either way (nc_c from the extrapolated B).
        out_of_domain : "flag" (default) predicts rows outside the training prior box and marks them
            False in ``in_domain``; "raise" raises ParameterError naming the first such value.
        mask_nonconvergent : NaN binding energy and charge radius where the label is not convergent
            (default); False keeps the regressor output wherever couplings exist.
        nc_b_threshold : label nc_b every row with P(nc_b) >= this probability, in (0, 1]; None (default)
            uses the model's own ``nc_b_threshold`` (None for the shipped model: the most probable class).
            A lower value finds more of the solver's non-convergent rows at the cost of nc_c and convergent
            ones (the evaluation report's trade-off table; shipped model, test split: 0.1 gives nc_b
            recall 0.88, nc_c 0.895, convergent 0.992).

        Returns
        -------
        dict with ``label`` (n,) str from ``class_names``: the most probable class, except that rows with
        P(nc_b) >= ``nc_b_threshold`` (the argument, or the model's: chosen on the validation split at
        training time to reach a target nc_b recall) are labelled nc_b; ``probabilities`` (n, 4) in the order of
        ``class_names`` (calibrated: the threshold changes labels, not probabilities); ``binding_energy`` (n,) MeV and ``charge_radius`` (n,) fm;
        ``neutron_skin`` (n,) fm, Rn - Rp, for a model with the skin regressor (``"neutron_skin" in
        observables``; the shipped model has it); ``in_domain`` (n,) bool
        (inside the training prior box); ``couplings_ok`` (n,) bool.

        Raises ParameterError (wrong shape, NaN, values outside the physical NMP ranges, or outside the
        prior box with ``out_of_domain="raise"``, an unknown ``unseen_method``, or ``nc_b_threshold`` not
        in (0, 1]) and NucleusError (unknown
        or, without ``allow_unseen``, untrained nucleus).
        """
        _check_options(unseen_method, allow_unseen=allow_unseen, mask_nonconvergent=mask_nonconvergent)
        threshold = (
            self.nc_b_threshold
            if nc_b_threshold is None
            else _check("nc_b_threshold", nc_b_threshold, 0.0, 1.0, lo_open=True)
        )
        x = as_nmp_matrix(nmp)
        nuc = self._nucleus(nucleus, allow_unseen)
        if self.mode == "hybrid":
            self._b_exp_of(nuc)  # an unseen nucleus needs an experimental B for its nc_c rule: fail early
        in_domain = self._check_domain(x, out_of_domain)
        ok, inversion = self._physical_rows(x, couplings_ok, inversion)
        cpl = inversion.couplings if self.uses_couplings else None
        fit = unseen_method == "fit" and nuc not in self._b_exp and can_extrapolate(len(self._b_exp))
        return self._predict_rows(x, nuc, ok, in_domain, mask_nonconvergent, cpl, fit, threshold)

    def _physical_rows(self, x: np.ndarray, couplings_ok, inversion: Inversion | None):
        """(rows with physical couplings (n,) bool, the inversion used or None) for :meth:`predict`'s
        ``couplings_ok`` and ``inversion`` arguments (checked against the n rows of ``x``)."""
        n = x.shape[0]
        if inversion is not None and not isinstance(inversion, Inversion):
            raise ParameterError(
                f"inversion must be None or the Inversion from Emulator.invert, got {type(inversion).__name__}"
            )
        if inversion is not None:
            if np.shape(inversion.ok) != (n,) or any(
                np.shape(inversion.couplings[k]) != (n,) for k in COUPLING_NAMES
            ):
                raise ParameterError(f"inversion must hold ({n},) arrays: it belongs to other NMP rows")
        elif self.uses_couplings or couplings_ok is None:
            inversion = self._invert_checked(x)
        if couplings_ok is None:
            ok = inversion.ok
        elif couplings_ok is True:
            ok = np.ones(n, dtype=bool)
        else:
            ok = np.asarray(couplings_ok)
            if ok.dtype != np.bool_ or ok.shape != (n,):
                raise ParameterError(
                    f"couplings_ok must be None, True or a bool array of shape ({n},), got "
                    f"{ok.dtype} array of shape {ok.shape}"
                )
        if self.uses_couplings:  # no couplings, no features: those rows are nc_a in any case
            ok = ok & inversion.ok
        return ok, inversion

    def predict_nuclei(self, nmp, nuclei, **kwargs) -> dict[str, dict[str, np.ndarray]]:
        """:meth:`predict` for several nuclei of the same NMP rows, inverting the NMPs once; returns
        {nucleus name: result}. ``nuclei`` is anything :func:`nucleiml.parse_nuclei` accepts."""
        from ..nuclei import parse_nuclei

        x = as_nmp_matrix(nmp)
        if kwargs.get("couplings_ok") is None and kwargs.get("inversion") is None:
            kwargs["inversion"] = self.invert(x)
        return {nuc.name: self.predict(x, nuc, **kwargs) for nuc in parse_nuclei(nuclei)}

    def _scaled_rows(self, x: np.ndarray, cpl: Mapping | None) -> np.ndarray:
        """The standardised per-row inputs (n, 7 + coupling features) float32: the NMPs, then the coupling
        features (the nucleus features are folded into the networks, see :meth:`_nets_for`)."""
        if x.shape[0] == 1 and self._coupling_features:  # one row: the features as floats
            c = {k: float(v[0]) for k, v in cpl.items()}
            row = [*x[0].tolist(), *(COUPLING_FEATURES_FLOAT[f](c) for f in self._coupling_features)]
            return ((np.array([row]) - self._row_mean) / self._row_scale).astype(np.float32)
        if self._coupling_features:
            x = np.concatenate(
                [x, np.stack([COUPLING_FEATURES[f](cpl) for f in self._coupling_features], 1)], 1
            )
        return ((x - self._row_mean) / self._row_scale).astype(np.float32)

    def _nets_for(self, nuc: Nucleus) -> dict[str, MLP]:
        """The networks with the nucleus inputs (Z, N and derived features, constant for one nucleus) folded
        into the first layer's bias: z @ W + b = z_rows @ W[rows] + (b + z_nucleus @ W[nucleus]), computed in
        float64 once per nucleus. Same result as feeding all features, with fewer inputs per row."""
        nets = self._folded.get(nuc)
        if nets is None:
            cols = self._nucleus_cols
            Z, N = np.float64(nuc.Z), np.float64(nuc.N)
            const = np.array([float(nucleus_feature(self.features[j], Z, N)) for j in cols])
            zc = (const - self._x_scaler.mean[cols]) / self._x_scaler.scale[cols]
            nets = {}
            for name, net in self._networks.items():
                W0 = net.weights[0].astype(np.float64)
                b0 = net.biases[0].astype(np.float64) + zc @ W0[cols]
                nets[name] = net.with_first_layer(W0[self._row_cols], b0)
            self._folded[nuc] = nets
        return nets

    def _predict_rows(
        self,
        x: np.ndarray,
        nuc: Nucleus,
        ok: np.ndarray,
        in_domain: np.ndarray,
        mask: bool,
        cpl: Mapping | None = None,
        fit: bool = False,
        nc_b_threshold: float | None = None,
    ) -> dict[str, np.ndarray]:
        n = x.shape[0]
        if n == 1 and ok[0] and self.mode == "hybrid" and not fit:
            return self._predict_one(x, nuc, in_domain, mask, cpl, nc_b_threshold)
        probs = np.zeros((n, 4))
        probs[~ok, 1] = 1.0  # nc_a: exact
        values = {k: np.full(n, np.nan) for k in self.observables}
        idx = np.flatnonzero(ok)
        if idx.size:
            sub = idx.size < n
            z = self._scaled_rows(
                x[idx] if sub else x,
                None if cpl is None else ({k: v[idx] for k, v in cpl.items()} if sub else cpl),
            )
            raw = self._network_outputs(z, nuc, regressors=not fit)
            for k, v in (self._extrapolated(z, nuc) if fit else self._regressed(z, nuc, raw)).items():
                values[k][idx] = v
            b_idx = values["binding_energy"][idx]
            cls_out = raw["classifier"].astype(np.float64)
            if self.mode == "hybrid":  # cls_out: P(solver converges | couplings exist)
                args = (self._b_exp_of(nuc), self._sigma_b_of(nuc), self.threshold)
                probs[idx, 0], probs[idx, 2], probs[idx, 3] = _hybrid_probabilities(
                    cls_out[:, 0], b_idx, *args
                )
            else:  # softmax4: the seed's four-class network with the exact nc_a
                p = cls_out.copy()
                p[:, 1] = 0.0
                total = p.sum(axis=1, keepdims=True)
                probs[idx] = np.where(
                    total > 0, p / np.where(total > 0, total, 1.0), [1 / 3, 0, 1 / 3, 1 / 3]
                )
        k = np.argmax(probs, axis=1)
        if nc_b_threshold is not None:
            k = np.where(probs[:, 2] >= nc_b_threshold, 2, k)
        label = self._class_array[k]
        if mask:
            conv = k == self._convergent
            values = {key: np.where(conv, v, np.nan) for key, v in values.items()}
        return {"label": label, "probabilities": probs, **values, "in_domain": in_domain, "couplings_ok": ok}

    def _predict_one(
        self, x, nuc: Nucleus, in_domain, mask: bool, cpl, nc_b_threshold
    ) -> dict[str, np.ndarray]:
        """:meth:`_predict_rows` of one row with couplings of a hybrid model at a training nucleus (or the
        "network" method), with the class logic in floats (the same numbers to round-off)."""
        z = self._scaled_rows(x, cpl)
        raw = self._network_outputs(z, nuc)
        values = {k: self._observable_one(k, nuc, float(raw[k][0, 0])) for k in self._regressors}
        if self._skin_net == RN:
            values[SKIN] = values.pop(RN) - math.sqrt(
                max(values["charge_radius"] ** 2 - PROTON_FORM_FACTOR_FM2, 0.0)
            )
        b = values["binding_energy"]
        args = (self._b_exp_of(nuc), self._sigma_b_of(nuc), self.threshold)
        p_conv, p_b, p_c = _hybrid_probabilities(
            float(raw["classifier"][0, 0]), b, *args, sf=_normal_sf_float
        )
        probs = [p_conv, 0.0, p_b, p_c]
        k = max(range(4), key=probs.__getitem__)  # the first of equal maxima, as np.argmax
        if nc_b_threshold is not None and p_b >= nc_b_threshold:
            k = 2
        masked = mask and k != self._convergent
        return {
            "label": self._class_array[[k]],
            "probabilities": np.array([probs]),
            **{key: np.array([np.nan if masked else v]) for key, v in values.items()},
            "in_domain": in_domain,
            "couplings_ok": np.array([True]),
        }

    def _observable_one(self, key: str, nuc: Nucleus, y: float) -> float:
        """:meth:`_regressed`'s observable of one network output ``y`` in floats (the same operations)."""
        g = self._factors.get((key, nuc))
        if g is None:
            g = self._factors[(key, nuc)] = self._targets[key].factor(nuc.Z, nuc.N)
        scaler = self._targets[key].scaler
        return (y * float(scaler.scale[0]) + float(scaler.mean[0])) * g

    def _network_outputs(self, z: np.ndarray, nuc: Nucleus, regressors: bool = True) -> dict[str, np.ndarray]:
        """The raw float32 outputs of the classifier (and the regressors) at ``nuc`` for scaled rows ``z``:
        for a few rows the networks run stacked (:class:`~.forward.StackedMLP`)."""
        nets = self._nets_for(nuc)
        names = self._net_names
        if regressors and z.shape[0] <= SMALL_ROWS:
            stacked = self._stacked.get(nuc)
            if stacked is None:
                same = len({nets[k].activation for k in names}) == 1
                stacked = self._stacked[nuc] = StackedMLP([nets[k] for k in names]) if same else False
            if stacked:
                return dict(zip(names, stacked(z)))
        return {k: nets[k](z) for k in (names if regressors else ("classifier",))}

    def _regressed(self, z: np.ndarray, nuc: Nucleus, raw: Mapping | None = None) -> dict[str, np.ndarray]:
        """{observable: (n,) array} of the regressors at ``nuc`` for scaled rows ``z``: binding energy (MeV),
        charge radius (fm) and, if the model has it, neutron skin (fm); ``raw``: their network outputs, if
        computed already."""
        nets = self._nets_for(nuc)
        out = {}
        for k in self._regressors:
            g = self._factors.get((k, nuc))
            if g is None:
                g = self._factors[(k, nuc)] = self._targets[k].factor(nuc.Z, nuc.N)
            y = raw[k] if raw is not None else nets[k](z)
            out[k] = self._targets[k].scaler.inverse(y.reshape(-1)) * g
        if self._skin_net == RN:  # Rn - Rp, with Rp from the predicted charge radius
            rp2 = np.maximum(out["charge_radius"] ** 2 - PROTON_FORM_FACTOR_FM2, 0.0)
            out[SKIN] = out.pop(RN) - np.sqrt(rp2)
        return out

    def _extrapolated(self, z: np.ndarray, nuc: Nucleus) -> dict[str, np.ndarray]:
        """:meth:`_regressed`'s observables at an unseen ``nuc`` through the regressors at every training
        nucleus (``fit``)."""
        pred = [self._regressed(z, t) for t in self._b_exp]
        refs = None
        if len(self.reference_nmp):
            refs = reference_values(self._reference_input(), tuple(self._b_exp), nuc, self._reference_cache)
        stacked = {k: np.stack([p[k] for p in pred], 1) for k in self.observables}
        out = extrapolate(
            stacked["binding_energy"],
            stacked["charge_radius"],
            np.array([(t.Z, t.N) for t in self._b_exp]),
            (nuc.Z, nuc.N),
            refs,
            neutron_skin=stacked.get(SKIN),
        )
        return {k: getattr(out, k) for k in self.observables}

    def _reference_input(self) -> dict[str, np.ndarray]:
        """Couplings and masses of the reference sets (:mod:`.references`), inverted once."""
        if self._reference_couplings is None:
            inv = self.invert(self.reference_nmp)
            if not np.all(inv.ok):
                raise ModelFormatError(
                    "a reference set of the model (reference_nmp) has no physical couplings"
                )
            self._reference_couplings = {**inv.couplings, **self.masses}
        return self._reference_couplings

    def network_probabilities(self, nmp, nucleus, *, allow_unseen: bool = False) -> np.ndarray:
        """Raw classifier network output (n, 4) without the exact nc_a (only for ``softmax4`` models: the
        seed's classifier as it stands; used to reproduce its Table II)."""
        if self.mode != "softmax4":
            raise ValueError("network_probabilities is defined for softmax4 (paper preset) models only")
        x = as_nmp_matrix(nmp)
        nuc = self._nucleus(nucleus, allow_unseen)
        self._check_domain(x, "flag")
        cpl = self.invert(x).couplings if self.uses_couplings else None
        return self._nets_for(nuc)["classifier"](self._scaled_rows(x, cpl)).astype(np.float64)
