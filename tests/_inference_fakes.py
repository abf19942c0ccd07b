"""Test doubles for the inference tests: a small analytic emulator with the interface of
``nucleiml.emulator.Emulator``, fast and exactly known, standing in for a trained model."""

from __future__ import annotations

import importlib
import types

import numpy as np

from nucleiml.datasets import default_prior
from nucleiml.experiment import experiment
from nucleiml.parameters import NMP_NAMES

CLASS_NAMES = ("convergent", "nc_a", "nc_b", "nc_c")


class FakeEmulator:
    """Smooth analytic observables around experiment; *convergent* where Q0 < 400 MeV and mstar > 0.55.

    With t the NMPs scaled to [-1, 1] on the default prior's support:
    B = B_exp (1 + 0.03 t_E0 + 0.02 t_J0 (N - Z) / A), Rch = Rch_exp (1 + 0.02 t_rho0 + 0.01 t_mstar).
    """

    class_names = CLASS_NAMES
    version = "fake-1"

    def __init__(self, nuclei=("40Ca", "208Pb")):
        prior = default_prior()
        self.nuclei = tuple(nuclei)
        self.prior_box = {k: (d.low, d.high) for k, d in prior.nmp.items()}
        self.lo = np.array([self.prior_box[k][0] for k in NMP_NAMES])
        self.hi = np.array([self.prior_box[k][1] for k in NMP_NAMES])
        self.calls = 0

    def scaled(self, nmp):
        return 2.0 * (np.asarray(nmp, dtype=float) - self.lo) / (self.hi - self.lo) - 1.0

    def predict(self, nmp, nucleus):
        self.calls += 1
        nmp = np.asarray(nmp, dtype=float)
        t = self.scaled(nmp)
        exp = experiment(nucleus)
        nuc = exp.nucleus
        conv = (nmp[:, 3] < 400.0) & (nmp[:, 4] > 0.55)
        logit = np.minimum((400.0 - nmp[:, 3]) / 100.0, (nmp[:, 4] - 0.55) / 0.02)
        p = 1.0 / (1.0 + np.exp(-logit))
        probs = np.column_stack([p, np.zeros_like(p), 1.0 - p, np.zeros_like(p)])
        b = exp.binding_energy * (1 + 0.03 * t[:, 1] + 0.02 * t[:, 5] * (nuc.N - nuc.Z) / nuc.A)
        r = exp.charge_radius * (1 + 0.02 * t[:, 0] + 0.01 * t[:, 4])
        label = np.where(conv, "convergent", "nc_b")
        in_domain = np.all((t >= -1 - 1e-12) & (t <= 1 + 1e-12), axis=1)
        return {
            "label": label,
            "probabilities": probs,
            "binding_energy": np.where(conv, b, np.nan),
            "charge_radius": np.where(conv, r, np.nan),
            "in_domain": in_domain,
        }


class InvertingEmulator(FakeEmulator):
    """Like FakeEmulator, plus the optional parts of the real interface: ``masses``, ``couplings_ok`` and
    ``invert`` (exact nc_a by inversion, which ``predict`` accepts precomputed)."""

    def __init__(self, nuclei=("40Ca", "208Pb")):
        super().__init__(nuclei)
        self.masses = dict(default_prior().masses)
        self.inversions = 0
        self.given = []

    def couplings_ok(self, nmp):
        from nucleiml.nuclear_matter import couplings_from_nmp_array

        self.inversions += 1
        return np.asarray(couplings_from_nmp_array(np.asarray(nmp), **self.masses).ok, dtype=bool)

    def invert(self, nmp):
        return types.SimpleNamespace(ok=self.couplings_ok(nmp), couplings={})

    def predict(self, nmp, nucleus, couplings_ok=None, inversion=None):
        self.given.append(couplings_ok is not None or inversion is not None)
        if inversion is not None:
            couplings_ok = inversion.ok
        ok = self.couplings_ok(nmp) if couplings_ok is None else couplings_ok
        out = super().predict(nmp, nucleus)
        out["label"] = np.where(ok, out["label"], "nc_a")
        for k in ("binding_energy", "charge_radius"):
            out[k] = np.where(ok, out[k], np.nan)
        return out


def install_emulator_loader(monkeypatch, load):
    """Make ``nucleiml.emulator.Emulator.load`` call ``load(path)`` (its other methods stay intact)."""
    module = importlib.import_module("nucleiml.emulator")
    monkeypatch.setattr(module.Emulator, "load", staticmethod(load))
