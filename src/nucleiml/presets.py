"""Published RMF parameter sets, their nuclear-matter parameters and reference finite-nucleus results.

All couplings are in the package's Lagrangian convention (Dutra et al., PRC 90, 055203 (2014)):
``A`` in fm^-1, ``B``, ``C``, ``Lambda_v`` dimensionless, masses in MeV. The conversions from the published
conventions are recorded with each set (for NL3 and FSUGold2 also in ``data/rmf_reference.json`` under
``"published_as"``; sources of all sets in ``data/SOURCES.md``). NL3 and FSUGold2 have reference
finite-nucleus results in ``data/rmf_reference.json``; NL1, NLSH, NLZ, FSUGold and IUFSU do not.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from types import MappingProxyType
from typing import Any

from .nuclei import Nucleus, parse_nucleus
from .parameters import Couplings

__all__ = [
    "PRESETS",
    "REFERENCE_NMP",
    "ReferenceResult",
    "UnknownPresetError",
    "get_preset",
    "load_rmf_reference",
    "reference_result",
]


class UnknownPresetError(ValueError, LookupError):
    """The requested parameter set or reference entry is not shipped with the package."""


# NL3: G. A. Lalazissis, J. Koenig, P. Ring, Phys. Rev. C 55, 540 (1997).
# Published with U(s) = m^2 s^2/2 + g2 s^3/3 + g3 s^4/4 and M* = M + g_sigma s:
# g2 = -10.431 fm^-1, g3 = -28.885, hence A = -g2 = 10.431 fm^-1 and B = g3 = -28.885 here.
_NL3 = Couplings(
    g_sigma=10.217,
    g_omega=12.868,
    g_rho=8.948,
    A=10.431,
    B=-28.885,
    C=0.0,
    Lambda_v=0.0,
    m_sigma=508.194,
    m_omega=782.501,
    m_rho=763.0,
    M=939.0,
)

# FSUGold2: W.-C. Chen, J. Piekarewicz, Phys. Rev. C 90, 044305 (2014).
# Published in the FSUGold convention: g_sigma^2 = 108.0943, g_omega^2 = 183.7893, g_rho^2 = 80.4656,
# kappa = 3.0029 MeV, lambda = -0.000533, zeta = 0.0256, Lambda_v^P = 0.000823, converted with
# A = kappa g_sigma^3 / 2 / (hbar c) [fm^-1], B = lambda g_sigma^4 / 6, C = zeta / 6, Lambda_v = 2 Lambda_v^P.
# The numbers below are those of the project's reference file (data/rmf_reference.json), digit for digit.
_FSUGOLD2 = Couplings(
    g_sigma=10.39684086634012,
    g_omega=13.556891236563049,
    g_rho=8.970261980566677,
    A=8.551230130612934,
    B=-1.0379622183495283,
    C=0.004266666666666667,
    Lambda_v=0.001646,
    m_sigma=497.479,
    m_omega=782.5,
    m_rho=763.0,
    M=939.0,
)

# NL1: P.-G. Reinhard, M. Rufa, J. Maruhn, W. Greiner, J. Friedrich, Z. Phys. A 323, 13 (1986).
# Published in the NL3 convention (M* = M + g_sigma s, rho coupling g_rho psibar gamma tau.rho psi):
# g_sigma = 10.138, g_omega = 13.285, g_rho = 4.9755, g2 = -12.172 fm^-1, g3 = -36.265; M = 938 MeV,
# m_sigma = 492.25, m_omega = 795.359, m_rho = 763 MeV. Here A = -g2, B = g3 and g_rho = 2 x 4.9755
# (the rho couples with g_rho/2 in this package's Lagrangian). Some codes carry g_rho = 4.975; the
# difference moves J0 by 0.005 MeV.
_NL1 = Couplings(
    g_sigma=10.138,
    g_omega=13.285,
    g_rho=9.951,
    A=12.172,
    B=-36.265,
    C=0.0,
    Lambda_v=0.0,
    m_sigma=492.25,
    m_omega=795.359,
    m_rho=763.0,
    M=938.0,
)

# NL-SH: M. M. Sharma, M. A. Nagarajan, P. Ring, Phys. Lett. B 312, 377 (1993).
# Published in the NL3 convention: g_sigma = 10.444, g_omega = 12.945, g_rho = 4.383, g2 = -6.9099 fm^-1,
# g3 = -15.8337; M = 939 MeV, m_sigma = 526.059, m_omega = 783, m_rho = 763 MeV.
# Here A = -g2, B = g3 and g_rho = 2 x 4.383.
_NLSH = Couplings(
    g_sigma=10.444,
    g_omega=12.945,
    g_rho=8.766,
    A=6.9099,
    B=-15.8337,
    C=0.0,
    Lambda_v=0.0,
    m_sigma=526.059,
    m_omega=783.0,
    m_rho=763.0,
    M=939.0,
)

# NL-Z: M. Rufa, P.-G. Reinhard, J. A. Maruhn, W. Greiner, M. R. Strayer, Phys. Rev. C 38, 390 (1988).
# The values of the project's issue 7, already in this package's convention (g_rho couples as g_rho/2);
# in the NL3 convention they read g2 = -A = -13.5074 fm^-1, g3 = B = -40.2243.
# M = 938.9 MeV, m_sigma = 488.67, m_omega = 780, m_rho = 763 MeV.
_NLZ = Couplings(
    g_sigma=10.0553,
    g_omega=12.9086,
    g_rho=9.69888,
    A=13.5074,
    B=-40.2243,
    C=0.0,
    Lambda_v=0.0,
    m_sigma=488.67,
    m_omega=780.0,
    m_rho=763.0,
    M=938.9,
)


def _fsugold_convention(gs2, gv2, gr2, kappa, lam, zeta, lambda_v, m_sigma) -> Couplings:
    """Couplings from the FSUGold-family convention: g_sigma^2, g_omega^2, g_rho^2, kappa (MeV), lambda,
    zeta, Lambda_v (published); A = kappa g_sigma^3 / 2 / (hbar c) [fm^-1], B = lambda g_sigma^4 / 6,
    C = zeta / 6, Lambda_v = 2 Lambda_v(published); m_omega = 782.5, m_rho = 763, M = 939 MeV."""
    from .constants import HBARC_MEV_FM

    g_sigma = gs2**0.5
    return Couplings(
        g_sigma=g_sigma,
        g_omega=gv2**0.5,
        g_rho=gr2**0.5,
        A=kappa * g_sigma**3 / 2.0 / HBARC_MEV_FM,
        B=lam * g_sigma**4 / 6.0,
        C=zeta / 6.0,
        Lambda_v=2.0 * lambda_v,
        m_sigma=m_sigma,
        m_omega=782.5,
        m_rho=763.0,
        M=939.0,
    )


# FSUGold: B. G. Todd-Rutel, J. Piekarewicz, Phys. Rev. Lett. 95, 122501 (2005). Published in the FSUGold
# convention: g_sigma^2 = 112.1996, g_omega^2 = 204.5469, g_rho^2 = 138.4701, kappa = 1.4203 MeV,
# lambda = 0.023762, zeta = 0.06, Lambda_v = 0.03, m_sigma = 491.5 MeV (see data/SOURCES.md).
_FSUGOLD = _fsugold_convention(112.1996, 204.5469, 138.4701, 1.4203, 0.023762, 0.06, 0.030, 491.5)

# IUFSU: F. J. Fattoyev, C. J. Horowitz, J. Piekarewicz, G. Shen, Phys. Rev. C 82, 055803 (2010).
# g_sigma^2 = 99.4266, g_omega^2 = 169.8349, g_rho^2 = 184.6877, kappa = 3.3808 MeV, lambda = 0.000296,
# zeta = 0.03, Lambda_v = 0.046, m_sigma = 491.5 MeV.
_IUFSU = _fsugold_convention(99.4266, 169.8349, 184.6877, 3.3808, 0.000296, 0.03, 0.046, 491.5)

PRESETS: MappingProxyType[str, Couplings] = MappingProxyType(
    {
        "NL3": _NL3,
        "FSUGold2": _FSUGOLD2,
        "NL1": _NL1,
        "NLSH": _NLSH,
        "NLZ": _NLZ,
        "FSUGold": _FSUGOLD,
        "IUFSU": _IUFSU,
    }
)
"""Published parameter sets by name (read-only). Use ``get_preset`` for case-insensitive lookup."""

REFERENCE_NMP: MappingProxyType[str, MappingProxyType[str, float]] = MappingProxyType(
    {
        # Chen & Piekarewicz, PRC 90, 044305 (2014), Table: rho0 in fm^-3; E0, K0, J0, L0 in MeV;
        # mstar = M*/M (Dirac). Q0 is not quoted there, so it is absent (this is not a full NMP).
        "FSUGold2": MappingProxyType(
            {"rho0": 0.1505, "E0": -16.28, "K0": 238.0, "mstar": 0.593, "J0": 37.62, "L0": 112.8}
        ),
    }
)
"""Published nuclear-matter parameters of the presets (only the values the source quotes)."""


def _resolve(name: object, known: tuple[str, ...], what: str) -> str:
    if isinstance(name, str):
        for key in known:
            if key.lower() == name.strip().lower():
                return key
    raise UnknownPresetError(f"unknown {what} {name!r}; available: {', '.join(known)}")


def get_preset(name: str) -> Couplings:
    """Couplings of a published parameter set by name, case-insensitive (``"nl3"``, ``"FSUGold2"``).

    Raises
    ------
    UnknownPresetError
        If ``name`` is not one of ``PRESETS`` (the message lists the available names).
    """
    return PRESETS[_resolve(name, tuple(PRESETS), "preset")]


@lru_cache(maxsize=1)
def _reference_text() -> str:
    return resources.files("nucleiml").joinpath("data", "rmf_reference.json").read_text(encoding="utf-8")


def load_rmf_reference() -> dict[str, Any]:
    """The reference file ``data/rmf_reference.json`` as a fresh dict (safe to modify).

    Keys: ``"about"`` (description), ``"sets"`` (per parameter set: ``"couplings"``, ``"published_as"``
    and ``"nuclei"`` -> name -> {Z, A, conv, B [MeV], Rp, Rn, Rch2 [fm]}), ``"nmp"``.
    """
    return json.loads(_reference_text())


@dataclass(frozen=True)
class ReferenceResult:
    """Reference finite-nucleus result of one parameter set (coordinate-space code, arXiv:2209.03257).

    Attributes
    ----------
    preset : parameter-set name, e.g. ``"NL3"``.
    nucleus : the nucleus.
    binding_energy : B > 0 in MeV, including the centre-of-mass correction -(3/4) 41 A^(-1/3) MeV.
    proton_radius, neutron_radius : point rms radii Rp, Rn in fm.
    charge_radius : sqrt(Rp^2 + 0.64) in fm.
    converged : whether the reference code converged (``conv == 0``).
    """

    preset: str
    nucleus: Nucleus
    binding_energy: float
    proton_radius: float
    neutron_radius: float
    charge_radius: float
    converged: bool


def reference_result(preset: str, nucleus: object) -> ReferenceResult:
    """Reference result for ``preset`` (case-insensitive) and ``nucleus`` (``"208Pb"``, ``(82, 126)``, ...)."""
    sets = load_rmf_reference()["sets"]
    key = _resolve(preset, tuple(sets), "reference parameter set")
    nuc = parse_nucleus(nucleus)
    entries = sets[key]["nuclei"]
    if nuc.name not in entries:
        raise UnknownPresetError(
            f"no reference result for {nuc.name} with {key}; available nuclei: {', '.join(entries)}"
        )
    e = entries[nuc.name]
    if (e["Z"], e["A"]) != (nuc.Z, nuc.A):
        raise RuntimeError(f"corrupt package data file nucleiml/data/rmf_reference.json: {key}/{nuc.name}")
    return ReferenceResult(
        preset=key,
        nucleus=nuc,
        binding_energy=float(e["B"]),
        proton_radius=float(e["Rp"]),
        neutron_radius=float(e["Rn"]),
        charge_radius=float(e["Rch2"]),
        converged=e["conv"] == 0,
    )
