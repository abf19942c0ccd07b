"""The ``nml`` model: the NucleiML emulator (classifier + regressors), vectorised over the sampler's batch.

The emulator lives in :mod:`nucleiml.emulator` and is imported only when a model is built from a run file.
Its interface, as used here: ``Emulator.load(path=None)``; ``em.predict(nmp, nucleus)`` with ``nmp`` (n, 7)
returning a mapping with ``label`` (n,) among ``em.class_names`` = (convergent, nc_a, nc_b, nc_c),
``probabilities`` (n, 4), ``binding_energy`` (MeV) and ``charge_radius`` (fm) (NaN unless convergent),
``neutron_skin`` (fm, Rn - Rp) for an emulator whose ``observables`` name it (the shipped one), and
``in_domain`` (n,) bool; ``em.nuclei`` the nuclei trained on; ``em.prior_box`` NMP name -> (low, high).

A point is valid for a nucleus when the classifier says *convergent* and the point lies in the training
domain; the seed paper gives every other point zero likelihood. The floor's ``badness`` of a failed point is
one minus the classifier's probability of *convergent* (1 outside the domain), so the floor rises towards
where the classifier expects convergence.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...nuclei import NucleusError, parse_nucleus
from ...parameters import NMP_NAMES
from . import Evaluation, ModelError

__all__ = ["EmulatorModel"]

CONVERGENT = "convergent"
SKIN = "neutron_skin"
_DOMAIN_SLACK = 1e-9
"""Relative slack when checking that the prior lies inside the emulator's training box."""


class EmulatorModel:
    """Emulator predictions of ``nuclei`` behind the :class:`~nucleiml.inference.models.Model` interface.

    Parameters
    ----------
    emulator : object
        A loaded emulator (see the module docstring for the interface).
    nuclei : sequence of str
        Nuclei to predict; each must be among ``emulator.nuclei``.
    prior_box : mapping of str to (float, float), optional
        Support of the run's prior per NMP; checked against ``emulator.prior_box``.
    masses : mapping of str to float, optional
        The prior's meson and nucleon masses (MeV); checked against ``emulator.masses`` if it has them.
    source : str, optional
        Where the emulator came from (recorded by :meth:`describe`).
    needs_skin : bool, optional
        The run's likelihood uses neutron skins (``[data] neutron_skin``): the emulator must predict them.

    Raises
    ------
    ModelError
        If a nucleus is not covered by the emulator, the prior leaves its training domain, the masses
        differ from the emulator's, or skins are needed and the emulator has no skin regressor.
    """

    name = "nml"

    def __init__(
        self,
        emulator,
        nuclei,
        *,
        prior_box=None,
        masses=None,
        source: str | None = None,
        needs_skin: bool = False,
    ):
        self.emulator = emulator
        self.source = source or "default"
        self.has_skin = SKIN in tuple(getattr(emulator, "observables", ()))
        if needs_skin and not self.has_skin:
            raise ModelError(
                f"[data] neutron_skin needs an emulator with the neutron-skin regressor; {self.source} has none "
                "(add it with `nucleiml train DATASET --extend MODEL`) or use --model rmf"
            )
        covered = {}
        for n in getattr(emulator, "nuclei", ()):
            try:
                covered[parse_nucleus(n).name] = n
            except NucleusError:
                continue
        names = []
        for n in nuclei:
            canon = parse_nucleus(n).name
            if canon not in covered:
                raise ModelError(
                    f"the emulator ({self.source}) was not trained on {canon}; it covers "
                    f"{', '.join(covered) or 'no nuclei'}"
                )
            names.append(canon)
        self.nuclei = tuple(names)
        self._emulator_names = tuple(covered[n] for n in names)
        classes = tuple(getattr(emulator, "class_names", ()))
        if CONVERGENT not in classes:
            raise ModelError(f"the emulator's class_names {classes!r} lack {CONVERGENT!r}")
        self._i_conv = classes.index(CONVERGENT)
        if prior_box is not None:
            self._check_domain(prior_box)
        if masses is not None:
            self._check_masses(masses)
        # an emulator that inverts the NMPs to couplings (for nc_a, and as features if it uses them) does it
        # once per batch here, not once per nucleus: ``invert`` gives what ``predict(inversion=)`` takes;
        # an emulator with only ``couplings_ok`` gets that
        self._invert = getattr(emulator, "invert", None)
        self._couplings_ok = getattr(emulator, "couplings_ok", None)

    def _check_masses(self, masses) -> None:
        em_masses = getattr(self.emulator, "masses", None)
        if not em_masses:
            return
        diff = [k for k in em_masses if k in masses and abs(float(em_masses[k]) - float(masses[k])) > 1e-9]
        if diff:
            detail = ", ".join(f"{k} = {float(masses[k]):g} (emulator {float(em_masses[k]):g})" for k in diff)
            raise ModelError(
                f"the prior's masses differ from those the emulator ({self.source}) was trained with: {detail} MeV"
            )

    def _check_domain(self, prior_box) -> None:
        box = getattr(self.emulator, "prior_box", None) or {}
        for k in NMP_NAMES:
            lo, hi = prior_box[k]
            if k not in box:
                continue
            elo, ehi = (float(v) for v in box[k])
            slack = _DOMAIN_SLACK * max(abs(elo), abs(ehi), 1.0)
            if lo < elo - slack or hi > ehi + slack:
                raise ModelError(
                    f"the prior of {k}, [{lo:g}, {hi:g}], leaves the emulator's training domain "
                    f"[{elo:g}, {ehi:g}] ({self.source}); narrow the prior or use --model rmf"
                )

    @classmethod
    def from_config(cls, config, nuclei=None) -> EmulatorModel:
        """Load the emulator of a run config (``[model] emulator``; None = the shipped default) for the
        run's nuclei or ``nuclei``.

        Raises
        ------
        ModelError
            If the emulator cannot be loaded, or it does not cover the run's nuclei and prior.
        """
        from ...emulator import Emulator  # here, not at the top: runs with the rmf model never load it

        path = config.model.emulator
        try:
            em = Emulator.load(path)
        except (OSError, ValueError) as exc:
            raise ModelError(f"cannot load the emulator {path or '(default)'}: {exc}") from None
        box = {k: (d.low, d.high) for k, d in config.prior.nmp.items()}
        return cls(
            em,
            config.data.nuclei if nuclei is None else nuclei,
            prior_box=box,
            masses=dict(config.prior.masses),
            source=path or "default",
            needs_skin=bool(config.data.neutron_skin),
        )

    def evaluate(self, nmp: np.ndarray) -> Evaluation:
        """Emulator predictions for ``nmp`` (n, 7); see :meth:`Model.evaluate`."""
        nmp = np.atleast_2d(np.asarray(nmp, dtype=float))
        n, k = nmp.shape[0], len(self.nuclei)
        be = np.full((n, k), np.nan)
        rc = np.full((n, k), np.nan)
        valid = np.zeros((n, k), dtype=bool)
        bad = np.ones((n, k))
        label = np.full((n, k), "", dtype=object)
        skin = np.full((n, k), np.nan) if self.has_skin else None
        if n == 0:
            return Evaluation(self.nuclei, be, rc, valid, bad, label, neutron_skin=skin)
        extra = {}
        if self._invert is not None:
            extra["inversion"] = self._invert(nmp)
        elif self._couplings_ok is not None:
            extra["couplings_ok"] = np.asarray(self._couplings_ok(nmp), dtype=bool)
        for j, name in enumerate(self._emulator_names):
            out = self.emulator.predict(nmp, name, **extra)
            lab = np.asarray(out["label"]).astype(str)
            p_conv = np.asarray(out["probabilities"], dtype=float)[:, self._i_conv]
            dom = np.asarray(out["in_domain"], dtype=bool)
            b = np.asarray(out["binding_energy"], dtype=float)
            r = np.asarray(out["charge_radius"], dtype=float)
            ok = (lab == CONVERGENT) & dom & np.isfinite(b) & np.isfinite(r)
            valid[:, j] = ok
            be[:, j] = np.where(ok, b, np.nan)
            rc[:, j] = np.where(ok, r, np.nan)
            if skin is not None:
                skin[:, j] = np.where(ok, np.asarray(out[SKIN], dtype=float), np.nan)
            p = np.where(np.isfinite(p_conv), np.clip(p_conv, 0.0, 1.0), 0.0)
            bad[:, j] = np.where(ok, 0.0, np.where(dom, 1.0 - p, 1.0))
            label[:, j] = np.where(dom, lab, "out_of_domain")
        return Evaluation(self.nuclei, be, rc, valid, bad, label, neutron_skin=skin)

    def describe(self) -> dict[str, Any]:
        """Which emulator: its source, class and version, and for a saved NucleiML emulator the package
        version that trained it, when, the SHA-256 of its weights and of its training dataset's card
        (enough to cite and reproduce a posterior), and the nuclei."""
        em = self.emulator
        meta = getattr(em, "metadata", None) or {}
        dataset = meta.get("dataset") if isinstance(meta.get("dataset"), dict) else {}
        return {
            "model": self.name,
            "emulator": self.source,
            "emulator_class": f"{type(em).__module__}.{type(em).__qualname__}",
            "emulator_version": str(getattr(em, "version", None) or meta.get("package_version") or "unknown"),
            "emulator_created": meta.get("created"),
            "emulator_weights_sha256": meta.get("weights_sha256"),
            "emulator_dataset_card_sha256": dataset.get("card_sha256"),
            "emulator_nuclei": [str(n) for n in getattr(em, "nuclei", ())],
            "nuclei": list(self.nuclei),
        }

    def close(self) -> None:
        return None

    def __enter__(self) -> EmulatorModel:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
