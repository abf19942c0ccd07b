"""Physical constants used throughout NucleiML (CODATA 2018 values)."""

HBARC_MEV_FM = 197.3269804
"""hbar c in MeV fm."""

ALPHA_EM = 1.0 / 137.035999084
"""Fine-structure constant (dimensionless)."""

DEFAULT_M_SIGMA_MEV = 500.0
DEFAULT_M_OMEGA_MEV = 782.5
DEFAULT_M_RHO_MEV = 763.0
DEFAULT_NUCLEON_MASS_MEV = 939.0
