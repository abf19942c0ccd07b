"""Shared helpers of the emulator tests: a random (untrained) emulator that needs no torch, and a narrow prior."""

from __future__ import annotations

import itertools

import numpy as np

from nucleiml.datasets import default_prior
from nucleiml.emulator import MLP, Emulator, Scaler
from nucleiml.emulator.features import BASE_FEATURES, assemble, couplings_of
from nucleiml.experiment import experiment
from nucleiml.nuclei import NUCLEUS_SETS
from nucleiml.parameters import NMP_NAMES

PAPER = tuple(n.name for n in NUCLEUS_SETS["paper"])
ZN = {n.name: (n.Z, n.N) for n in NUCLEUS_SETS["paper"]}
B_EXP = {n.name: experiment(n).binding_energy for n in NUCLEUS_SETS["paper"]}  # MeV

# a prior around FSUGold2 where nearly every sample has couplings and converges (fast, smooth targets)
NARROW_PRIOR = """
[masses]
m_sigma = 500.0
m_omega = 782.5
m_rho = 763.0
M = 939.0

[nmp.rho0]
distribution = "uniform"
low = 0.148
high = 0.152
[nmp.E0]
distribution = "uniform"
low = -16.4
high = -16.0
[nmp.K0]
distribution = "uniform"
low = 230.0
high = 250.0
[nmp.Q0]
distribution = "uniform"
low = -420.0
high = -380.0
[nmp.mstar]
distribution = "uniform"
low = 0.58
high = 0.62
[nmp.J0]
distribution = "uniform"
low = 32.0
high = 38.0
[nmp.L0]
distribution = "uniform"
low = 60.0
high = 120.0
"""


def random_mlp(rng, sizes, activation="relu", output="linear") -> MLP:
    layers = [
        (rng.normal(0, 1 / np.sqrt(a), (a, b)), rng.normal(0, 0.1, b)) for a, b in itertools.pairwise(sizes)
    ]
    return MLP.from_layers(layers, activation, output)


def prior_samples(n: int, seed: int = 0) -> np.ndarray:
    p = default_prior()
    s = p.sample(n, np.random.default_rng(seed))
    return np.stack([s[k] for k in NMP_NAMES], axis=1)


def random_emulator(mode: str = "hybrid", seed: int = 0, nuclei=PAPER, features=None, skin=None) -> Emulator:
    """An untrained emulator with random weights but consistent metadata: tests the plumbing, not physics.
    ``skin``: None, or the skin's regressor to add, ``"neutron_skin"`` or ``"neutron_radius"``."""
    rng = np.random.default_rng(seed)
    if features is None:
        features = (*BASE_FEATURES, "A13") if mode == "hybrid" else BASE_FEATURES
    x = prior_samples(200, seed)
    cpl = couplings_of(x, default_prior().masses)[1]
    feats = np.concatenate([assemble(x, *ZN[n], features, couplings=cpl) for n in nuclei])
    d = len(features)
    nets = {
        "classifier": random_mlp(
            rng, [d, 16, 1 if mode == "hybrid" else 4], "silu", "sigmoid" if mode == "hybrid" else "softmax"
        ),
        # regressors: standardised output near 0, so predictions stay near the target means below
        "binding_energy": random_mlp(rng, [d, 8, 8, 1], "tanh"),
        "charge_radius": random_mlp(rng, [d, 8, 1], "relu"),
    }
    prior = default_prior()
    meta = {
        "mode": mode,
        "features": list(features),
        "feature_scaler": Scaler.fit(feats).to_dict(),
        "class_names": ["convergent", "nc_a", "nc_b", "nc_c"],
        "nuclei": [
            {
                "name": n,
                "Z": ZN[n][0],
                "N": ZN[n][1],
                "binding_energy_exp": B_EXP[n],
                "binding_energy_rel_error": 0.004,
            }
            for n in nuclei
        ],
        "prior_box": {k: [prior.nmp[k].low, prior.nmp[k].high] for k in NMP_NAMES},
        "masses": dict(prior.masses),
        "nc_c_threshold": 0.2,
        "networks": {
            "classifier": {},
            "binding_energy": {"target_transform": {"name": "per_nucleon", "mean": [8.0], "scale": [0.3]}},
            "charge_radius": {"target_transform": {"name": "per_a13", "mean": [0.93], "scale": [0.02]}},
        },
        "package_version": "test",
        "preset": {"name": "random"},
    }
    if skin is not None:
        nets[skin] = random_mlp(rng, [d, 8, 1], "silu")
        target = (
            {"name": "identity", "mean": [0.15], "scale": [0.05]}
            if skin == "neutron_skin"
            else {"name": "per_a13", "mean": [0.98], "scale": [0.02]}
        )
        meta["networks"][skin] = {"target_transform": target}
    return Emulator(meta, nets)


def nmp_argv(row) -> list[str]:
    """Command-line options ``--rho0 X ... --L0 X`` of one NMP row (in NMP_NAMES order)."""
    return [a for name, v in zip(NMP_NAMES, row, strict=True) for a in (f"--{name}", repr(float(v)))]
