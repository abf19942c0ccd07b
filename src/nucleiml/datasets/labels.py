"""The four classes of the seed paper (section III.B.1) and the pure labelling kernel.

Per (sample, nucleus):

- ``convergent``: physical couplings exist, the solver converged and the binding energy lies within the
  threshold (default 20 %) of experiment;
- ``nc_a`` (*Non-convergent A*): no physical couplings reproduce the NMPs (the solver is not run);
- ``nc_b`` (*Non-convergent B*): the finite-nucleus solver did not converge;
- ``nc_c`` (*Non-convergent C*): converged, but |B - B_exp| / B_exp exceeds the threshold.
"""

from __future__ import annotations

import numpy as np

__all__ = ["CONVERGENT", "DEFAULT_THRESHOLD", "LABELS", "NC_A", "NC_B", "NC_C", "label_nucleus"]

CONVERGENT = "convergent"
NC_A = "nc_a"
NC_B = "nc_b"
NC_C = "nc_c"
LABELS = (CONVERGENT, NC_A, NC_B, NC_C)
"""Class names, in this order everywhere (cards, summaries)."""

DEFAULT_THRESHOLD = 0.20
"""Largest relative deviation |B - B_exp| / B_exp of a *convergent* binding energy."""


def nc_c_reason(experimental_binding_energy: float, threshold: float) -> str:
    """Reason string of the nc_c class for one nucleus (B_exp in MeV, threshold as a fraction)."""
    return (
        f"binding energy more than {100 * threshold:g} % from experiment "
        f"(B_exp = {experimental_binding_energy:g} MeV)"
    )


def label_nucleus(
    couplings_ok: np.ndarray,
    inversion_reason: np.ndarray,
    converged: np.ndarray,
    solver_reason: np.ndarray,
    binding_energy: np.ndarray,
    experimental_binding_energy: float,
    threshold: float = DEFAULT_THRESHOLD,
) -> tuple[np.ndarray, np.ndarray]:
    """Labels and reasons for n samples of one nucleus.

    Parameters (1-D arrays of length n): ``couplings_ok`` whether physical couplings exist and
    ``inversion_reason`` why not; ``converged``, ``solver_reason`` and ``binding_energy`` (MeV) from the
    solver (ignored where ``couplings_ok`` is False); ``experimental_binding_energy`` B_exp > 0 in MeV;
    ``threshold`` the largest allowed |B - B_exp| / B_exp of the convergent class (a fraction, > 0).

    Returns two object arrays: the label (one of ``LABELS``) and the reason ("" for convergent).
    """
    if not threshold > 0:
        raise ValueError(f"threshold must be > 0 (a fraction, e.g. 0.2), got {threshold!r}")
    if not experimental_binding_energy > 0:
        raise ValueError(f"experimental binding energy must be > 0 MeV, got {experimental_binding_energy!r}")
    ok = np.asarray(couplings_ok, dtype=bool)
    conv = ok & np.asarray(converged, dtype=bool)
    with np.errstate(invalid="ignore"):
        dev = (
            np.abs(np.asarray(binding_energy, dtype=float) - experimental_binding_energy)
            / experimental_binding_energy
        )
        far = conv & ~(dev <= threshold)  # NaN binding energy counts as far
    label = np.where(~ok, NC_A, np.where(~conv, NC_B, np.where(far, NC_C, CONVERGENT))).astype(object)
    reason = np.full(ok.size, "", dtype=object)
    reason[~ok] = np.asarray(inversion_reason, dtype=object)[~ok]
    nc_b = ok & ~conv
    reason[nc_b] = np.asarray(solver_reason, dtype=object)[nc_b]
    reason[far] = nc_c_reason(experimental_binding_energy, threshold)
    return label, reason
