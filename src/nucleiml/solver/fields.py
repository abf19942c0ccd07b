"""Spherical Klein-Gordon and Poisson solvers on a uniform radial grid (pure kernels).

For a source s(r) the static field obeys (-laplacian + m^2) phi = s, i.e. for u = r phi

    -u'' + m^2 u = r s(r),   u(0) = 0.

With u(R) = 0 at the box radius R = (n + 1) h the sine series sin(k_m r), k_m = m pi / R,
diagonalises the operator; its discrete form on r_i = i h is the type-I discrete sine transform, which
for a source that is smooth and odd in r (r s(r) with s even) is spectrally accurate. The field is
therefore phi = G s with a dense (n, n) matrix G per mass, built once per grid.

Coulomb (m = 0): the box solution is corrected by the constant Q e^2 / R so that phi -> Q e^2 / r
outside the charge, which is exact when the charge lies inside the box.
"""

from __future__ import annotations

import numpy as np

ROW_BLOCK = 8


def rows_matmul(X: np.ndarray, A: np.ndarray) -> np.ndarray:
    """X @ A for X of shape (..., K) whose every row is bitwise independent of the other rows.

    A BLAS matrix product sums in an order that depends on the number of rows (matrix-vector versus
    matrix-matrix kernels, edge kernels for remainders), so a parameter set solved alone would differ in the
    last bits from the same set in a batch, and a marginal case could converge in one and not in the other.
    Here the rows go through BLAS in blocks of exactly ``ROW_BLOCK`` (zero-padded), one stacked product,
    which costs nothing measurable and makes batched results identical to single ones.
    """
    flat = X.reshape(-1, X.shape[-1])
    n = flat.shape[0]
    pad = (-n) % ROW_BLOCK
    if pad:
        flat = np.concatenate([flat, np.zeros((pad, flat.shape[1]))])
    out = (flat.reshape(-1, ROW_BLOCK, flat.shape[1]) @ A).reshape(-1, A.shape[-1])[:n]
    return out.reshape(*X.shape[:-1], A.shape[-1])


def sine_matrix(n: int) -> np.ndarray:
    """Orthonormal DST-I matrix: S[m, i] = sqrt(2/(n+1)) sin(pi (m+1)(i+1)/(n+1)); S @ S = identity."""
    idx = np.arange(1, n + 1)
    return np.sqrt(2.0 / (n + 1)) * np.sin(np.pi * np.outer(idx, idx) / (n + 1))


def yukawa_green(r: np.ndarray, h: float, mass: float) -> np.ndarray:
    """Matrix G (fm^2) with phi(r_i) = sum_j G[i, j] s(r_j) solving (-laplacian + mass^2) phi = s.

    ``r`` is the grid r_i = i h (fm), ``mass`` in fm^-1 (0 for Coulomb, then with u(R) = 0).
    """
    n = r.size
    S = sine_matrix(n)
    k = np.pi * np.arange(1, n + 1) / ((n + 1) * h)
    return (S.T * (1.0 / (k * k + mass * mass))) @ S * (r[None, :] / r[:, None])


def coulomb_potential(
    green0: np.ndarray, r: np.ndarray, h: float, rho_p: np.ndarray, e2: float
) -> np.ndarray:
    """Coulomb potential energy of a proton (same units as e2 / fm) for point-proton density rho_p (fm^-3).

    ``green0`` is :func:`yukawa_green` with mass 0; ``rho_p`` may be batched (..., n_r).
    """
    R = (r.size + 1) * h
    charge = 4.0 * np.pi * h * (rho_p * r * r).sum(axis=-1)
    return 4.0 * np.pi * e2 * rows_matmul(rho_p, green0.T) + (e2 * charge / R)[..., None]
