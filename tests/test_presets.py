"""Published parameter sets and the reference finite-nucleus results shipped with the package."""

import math

import pytest

from nucleiml import PRESETS, Couplings, Nucleus, get_preset
from nucleiml.presets import (
    REFERENCE_NMP,
    UnknownPresetError,
    load_rmf_reference,
    reference_result,
)

HBARC = 197.3269804  # MeV fm


def test_presets_match_reference_file_exactly():
    ref = load_rmf_reference()
    assert set(ref["sets"]) == {"NL3", "FSUGold2"}
    assert set(PRESETS) == set(ref["sets"]) | {"NL1", "NLSH", "NLZ", "FSUGold", "IUFSU"}
    for name, c in PRESETS.items():
        assert isinstance(c, Couplings)
        if name in ref["sets"]:
            assert c.to_dict() == ref["sets"][name]["couplings"], name


# As published (NL3 convention: g2 in fm^-1, g3, rho coupling with tau), see data/SOURCES.md.
PUBLISHED_NL_CONVENTION = {
    "NL1": {
        "g_sigma": 10.138,
        "g_omega": 13.285,
        "g_rho_tau": 4.9755,
        "g2": -12.172,
        "g3": -36.265,
        "masses": (492.25, 795.359, 763.0, 938.0),
    },
    "NLSH": {
        "g_sigma": 10.444,
        "g_omega": 12.945,
        "g_rho_tau": 4.383,
        "g2": -6.9099,
        "g3": -15.8337,
        "masses": (526.059, 783.0, 763.0, 939.0),
    },
    "NLZ": {
        "g_sigma": 10.0553,
        "g_omega": 12.9086,
        "g_rho_tau": 4.84944,
        "g2": -13.5074,
        "g3": -40.2243,
        "masses": (488.67, 780.0, 763.0, 938.9),
    },
}


@pytest.mark.parametrize("name", sorted(PUBLISHED_NL_CONVENTION))
def test_nl_sets_from_published_convention(name):
    pub = PUBLISHED_NL_CONVENTION[name]
    c = PRESETS[name]
    assert (c.g_sigma, c.g_omega) == (pub["g_sigma"], pub["g_omega"])
    assert c.g_rho == pytest.approx(2 * pub["g_rho_tau"], rel=1e-15)
    assert (c.A, c.B, c.C, c.Lambda_v) == (-pub["g2"], pub["g3"], 0.0, 0.0)
    assert (c.m_sigma, c.m_omega, c.m_rho, c.M) == pub["masses"]


def test_nl3_from_published_convention():
    pub = load_rmf_reference()["sets"]["NL3"]["published_as"]
    c = PRESETS["NL3"]
    assert c.A == -pub["g2_fm^-1"]
    assert c.B == pub["g3"]
    assert (c.g_sigma, c.g_omega, c.g_rho, c.m_sigma) == (10.217, 12.868, 8.948, 508.194)


def test_fsugold2_from_published_convention():
    pub = load_rmf_reference()["sets"]["FSUGold2"]["published_as"]
    c = PRESETS["FSUGold2"]
    g_s = math.sqrt(pub["g_sigma^2"])
    assert c.g_sigma == pytest.approx(g_s, rel=1e-14)
    assert c.g_omega == pytest.approx(math.sqrt(pub["g_omega^2"]), rel=1e-14)
    assert c.g_rho == pytest.approx(math.sqrt(pub["g_rho^2"]), rel=1e-14)
    assert c.A == pytest.approx(pub["kappa_MeV"] * g_s**3 / 2 / HBARC, rel=1e-12)
    assert c.B == pytest.approx(pub["lambda"] * g_s**4 / 6, rel=1e-12)
    assert c.C == pytest.approx(pub["zeta"] / 6, rel=1e-14)
    assert c.Lambda_v == pytest.approx(2 * pub["Lambda_v"], rel=1e-14)


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("FSUGold2", "FSUGold2"),
        ("fsugold2", "FSUGold2"),
        (" FSUGOLD2 ", "FSUGold2"),
        ("nl3", "NL3"),
        ("nlsh", "NLSH"),
        ("NLz", "NLZ"),
    ],
)
def test_get_preset_case_insensitive(name, key):
    assert get_preset(name) is PRESETS[key]


@pytest.mark.parametrize("name", ["TM1", "", None, 3])
def test_get_preset_unknown_lists_available(name):
    with pytest.raises(UnknownPresetError, match=r"available: NL3, FSUGold2, NL1, NLSH, NLZ"):
        get_preset(name)
    assert issubclass(UnknownPresetError, ValueError)


def test_presets_read_only():
    with pytest.raises(TypeError):
        PRESETS["mine"] = PRESETS["NL3"]  # type: ignore[index]
    with pytest.raises(TypeError):
        REFERENCE_NMP["FSUGold2"]["rho0"] = 0.16  # type: ignore[index]


def test_reference_nmp():
    ref = load_rmf_reference()["nmp"]["FSUGold2"]
    assert dict(REFERENCE_NMP["FSUGold2"]) == {k: v for k, v in ref.items() if k != "src"}
    assert dict(REFERENCE_NMP["FSUGold2"]) == {
        "rho0": 0.1505,
        "E0": -16.28,
        "K0": 238.0,
        "mstar": 0.593,
        "J0": 37.62,
        "L0": 112.8,
    }
    assert "Q0" not in REFERENCE_NMP["FSUGold2"]


def test_load_rmf_reference_structure_and_copy():
    ref = load_rmf_reference()
    assert "about" in ref and "arXiv:2209.03257" in ref["about"]
    for name in ("NL3", "FSUGold2"):
        nuclei = ref["sets"][name]["nuclei"]
        assert len(nuclei) == 13
        assert all(v["conv"] == 0 for v in nuclei.values())
    ref["sets"].clear()  # callers get a fresh copy
    assert len(load_rmf_reference()["sets"]) == 2


def test_reference_result():
    r = reference_result("nl3", "208Pb")
    assert r.preset == "NL3"
    assert r.nucleus == Nucleus(82, 126)
    assert r.binding_energy == 1638.4456
    assert (r.proton_radius, r.neutron_radius, r.charge_radius) == (5.4588, 5.739, 5.5172)
    assert r.converged
    # Rch2 = sqrt(Rp^2 + 0.64) fm holds to the 4 decimals given, for every entry
    for name, entry in load_rmf_reference()["sets"]["FSUGold2"]["nuclei"].items():
        r = reference_result("FSUGold2", name)
        assert r.charge_radius == pytest.approx(math.sqrt(r.proton_radius**2 + 0.64), abs=1.5e-4)
        assert r.nucleus.Z == entry["Z"] and r.nucleus.A == entry["A"]


def test_reference_result_errors():
    with pytest.raises(
        UnknownPresetError, match="no reference result for 58Ca with NL3; available nuclei: 16O"
    ):
        reference_result("NL3", "58Ca")
    with pytest.raises(UnknownPresetError, match="unknown reference parameter set 'TM1'"):
        reference_result("TM1", "208Pb")
