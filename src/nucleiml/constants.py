"""Physical constants used throughout NucleiML (CODATA 2018 values)."""

HBARC_MEV_FM = 197.3269804
"""hbar c in MeV fm."""

ALPHA_EM = 1.0 / 137.035999084
"""Fine-structure constant (dimensionless)."""

DEFAULT_M_SIGMA_MEV = 500.0
DEFAULT_M_OMEGA_MEV = 782.5
DEFAULT_M_RHO_MEV = 763.0
DEFAULT_NUCLEON_MASS_MEV = 939.0

ELECTRON_MASS_MEV = 0.51099895000
"""Electron mass in MeV (CODATA 2018)."""

PROTON_FORM_FACTOR_FM2 = 0.64
"""Charge radius convention (as in NL3): Rch^2 = Rp^2 + 0.64 fm^2 (the proton's own size)."""

MUON_MASS_MEV = 105.6583755
"""Muon mass in MeV (CODATA 2018)."""

MSUN_KM = 1.4766250380501
"""G M_sun / c^2 in km (IAU 2015 nominal solar mass parameter GM_sun = 1.3271244e20 m^3 s^-2)."""

MEV_FM3_TO_KM2 = 1.3238333135664e-6
"""G / c^4 times 1 MeV fm^-3, in km^-2 (1 MeV fm^-3 = 1.602176634e32 Pa; G = 6.67430e-11 m^3 kg^-1 s^-2)."""
