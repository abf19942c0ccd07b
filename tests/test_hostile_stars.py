"""Hostile tests of the neutron-star API and of the constraints: seeded bad values, wrong types and odd
shapes. Every call returns (with a status, never a silent NaN where a number is promised) or raises one of
NucleiML's errors in one line (tests/_hostile.py)."""

from __future__ import annotations

import random

import numpy as np
import pytest

import nucleiml
from _hostile import hostile_value, outcome
from nucleiml.inference.constraints import parse_constraints
from nucleiml.stars import StarConfig, beta_equilibrium, star, star_batch, star_from_table

NL3 = nucleiml.get_preset("NL3")
TABLE = beta_equilibrium(NL3, np.geomspace(0.08, 1.2, 30))
FIELDS = ("junction", "crust_end", "max_junction", "n_max", "points_per_octave", "n_intervals", "stretch",
          "min_central_pressure", "star_stride")  # fmt: skip


@pytest.mark.parametrize("seed", range(2))
def test_star_config_refuses_hostile_fields_naming_them(seed):
    rng = random.Random(seed)
    for _ in range(150):  # 300 cases
        name = rng.choice(FIELDS)
        kind, res = outcome(StarConfig, **{name: hostile_value(rng)})
        if kind == "error":
            assert f"StarConfig.{name}" in res, res


def test_star_refuses_wrong_sources():
    for bad in (None, 3, 1.5, [NL3], {"g_sigma": 1}, np.zeros(7), "NoSuchSet", b"NL3"):
        kind, _ = outcome(star, bad)
        assert kind == "error", bad


@pytest.mark.parametrize("seed", range(2))
def test_tables_with_hostile_entries_are_named(seed):
    rng = random.Random(seed)
    cols = {"n_b": TABLE.n, "eps": TABLE.energy_density, "P": TABLE.pressure}
    for _ in range(60):  # 120 cases
        name = rng.choice(sorted(cols))
        col = cols[name].astype(object).copy()
        col[rng.randrange(col.size)] = hostile_value(rng)
        args = {**cols, name: col}
        kind, res = outcome(star_from_table, args["n_b"], args["eps"], args["P"])
        if kind == "error":
            assert name in res, res
        else:
            assert res.summary.status is not None


def test_batches_of_bad_couplings_name_the_column():
    cols = {k: np.full(3, v) for k, v in NL3.to_dict().items()}
    for bad in (np.nan, -1.0, 1e9):
        kind, res = outcome(star_batch, {**cols, "g_omega": np.array([12.0, bad, 12.0])})
        assert kind == "error" and "g_omega" in res
    kind, res = outcome(star_batch, [])
    assert kind == "error"


@pytest.mark.parametrize("seed", range(2))
def test_constraint_tables_with_hostile_values_are_named(seed):
    rng = random.Random(seed)
    good = {
        "p": {"kind": "pulsar_mass", "mass": 2.0, "sigma": 0.05},
        "n": {"kind": "nicer", "mass": 1.4, "mass_minus": 0.1, "mass_plus": 0.1, "radius": 12.0,
              "radius_minus": 1.0, "radius_plus": 1.0},
        "s": {"kind": "symmetry_energy", "density_n0": 0.5, "value": 20.0, "sigma": 2.0},
        "l": {"kind": "symmetry_slope", "density_n0": 1.0, "low": 40.0, "high": 120.0},
        "g": {"kind": "gw_tidal", "lambda_tilde": 300.0, "minus": 200.0, "plus": 400.0, "level": 0.9,
              "chirp_mass": 1.186, "q_min": 0.7},
    }  # fmt: skip
    for _ in range(100):  # 200 cases
        name = rng.choice(sorted(good))
        key = rng.choice([k for k in good[name] if k != "kind"])
        entry = {**good[name], key: hostile_value(rng)}
        kind, res = outcome(parse_constraints, {name: entry}, "test")
        if kind == "error":
            assert name in res and key in res, res
