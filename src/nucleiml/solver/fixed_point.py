"""The self-consistent fixed-point map of the spherical RMF equations (pure numerical kernel).

All quantities are in powers of fm^-1 (energies and fields divided by hbar c). The fields of a batch member
are one stacked row x = [S, V, R, Vc] on the basis' radial grid: S = g_sigma sigma, V = g_omega omega,
R = g_rho b and the Coulomb potential energy Vc of a proton. One application of the map:

1. Dirac matrices in the HO basis for every kappa block and both nucleon species (one GEMM for all
   potential matrix elements), batched ``eigh``;
2. occupations by single-particle energy (:mod:`.occupations`);
3. densities from the block density matrices (one GEMM);
4. Klein-Gordon / Poisson fields from the densities, the meson self-interactions taken at the input fields.

:func:`fixed_point_map` returns the new fields together with the energy, densities, levels and a flag that
says whether the input fields were physical.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ..constants import ALPHA_EM, HBARC_MEV_FM
from ..eos import ScaledCouplings, matter_state
from .basis import HOBasis
from .fields import coulomb_potential, rows_matmul
from .occupations import occupations

STARTING_DENSITY = 0.15
"""Baryon density (fm^-3) of the uniform matter whose mean fields set the starting field depths."""

WRONG_SIGN_TOLERANCE = 1.0 / HBARC_MEV_FM
"""1 MeV in fm^-1: scalar or vector fields below minus this anywhere are of the wrong sign (unphysical)."""

N_FIELDS = 4
"""Fields per member in the stacked vector: S, V, R, Vc."""

TYPICAL_SCALAR_DEPTH = 0.38
"""A typical RMF scalar field depth S / M at the centre of a nucleus: the starting depth of the primary
iteration and the fallback where uniform matter has no physical scalar field."""

TYPICAL_VECTOR_DEPTH = 0.31
"""A typical RMF vector field depth V / M at the centre of a nucleus: the starting depth of the primary
iteration."""


@dataclass(frozen=True)
class SCFProblem:
    """Everything the map needs for a batch: basis, Green's matrices, couplings (fm^-1 powers, (B,) arrays),
    the nucleus and the kappa blocks diagonalised (``blocks_used``; their levels' degeneracies ``deg``)."""

    basis: HOBasis
    green: object
    Z: int
    N: int
    coulomb: bool
    blocks_used: tuple
    deg: np.ndarray
    level_blocks: tuple
    M: np.ndarray
    gs: np.ndarray
    gs2: np.ndarray
    gw2: np.ndarray
    gr2: np.ndarray
    A3: np.ndarray
    B4: np.ndarray
    C4: np.ndarray
    lam: np.ndarray
    matter_fields: tuple | None  # (S, V, R) of uniform matter at the starting density and asymmetry
    shifts: tuple | None  # (B,) arrays c >= 0 (fm^-2) of the semi-implicit sigma, omega, rho equations

    @property
    def n_r(self) -> int:
        return self.basis.r.size


def make_problem(
    basis,
    green,
    couplings: dict,
    Z: int,
    N: int,
    coulomb: bool,
    l_max: int | None,
    semi_implicit: bool,
    with_matter: bool,
) -> SCFProblem:
    """Assemble an :class:`SCFProblem`; ``couplings`` as in :func:`nucleiml.solver.scf.run_scf`.

    ``semi_implicit``: solve the meson equations with the slopes of their self-interactions moved to the
    left-hand side (see :func:`_self_interaction_slopes`); False: fully explicit self-interactions.
    ``with_matter``: compute the uniform-matter fields (``matter_fields``) for starting fields.
    """
    blocks_used = tuple(i for i, blk in enumerate(basis.blocks) if l_max is None or blk.l <= l_max)
    deg = np.concatenate(
        [np.full(basis.blocks[i].nG, basis.blocks[i].degeneracy, dtype=float) for i in blocks_used]
    )
    gs2 = couplings["g_sigma2"]
    matter = _matter_fields(green, couplings, Z, N) if (semi_implicit or with_matter) else None
    return SCFProblem(
        basis=basis,
        green=green,
        Z=Z,
        N=N,
        coulomb=coulomb,
        blocks_used=blocks_used,
        deg=deg,
        level_blocks=tuple((i, k) for i in blocks_used for k in range(basis.blocks[i].nG)),
        M=np.asarray(couplings["M"], dtype=float),
        gs=np.sqrt(gs2),
        gs2=gs2,
        gw2=couplings["g_omega2"],
        gr2=couplings["g_rho2"],
        A3=couplings["A"],
        B4=couplings["B"],
        C4=couplings["C"],
        lam=couplings["Lambda_v"],
        matter_fields=matter,
        shifts=_self_interaction_slopes(couplings, *matter) if semi_implicit else None,
    )


def _matter_fields(green, couplings: dict, Z: int, N: int) -> tuple:
    """Mean fields (S, V, R) in fm^-1 of uniform matter at STARTING_DENSITY with the nucleus' asymmetry,
    per member (S = TYPICAL_SCALAR_DEPTH M where the scalar field has no physical solution)."""
    gs2 = couplings["g_sigma2"]
    M = np.asarray(couplings["M"], dtype=float)
    sc = ScaledCouplings(
        a=green.m_sigma2 / gs2,
        b=couplings["A"] / gs2**1.5,
        c=couplings["B"] / gs2**2,
        alpha=green.m_omega2 / couplings["g_omega2"],
        C=couplings["C"],
        beta=green.m_rho2 / couplings["g_rho2"],
        Lambda_v=couplings["Lambda_v"],
        M=M,
    )
    with np.errstate(all="ignore"):
        matter = matter_state(sc, STARTING_DENSITY, (N - Z) / (N + Z))
    S0 = np.where(matter.ok & np.isfinite(matter.S), matter.S, TYPICAL_SCALAR_DEPTH * M)
    return S0, matter.V, matter.R


def _self_interaction_slopes(couplings, S, V, R):
    """Slopes (fm^-2, clipped at 0) of the meson self-interaction terms of the sigma, omega and rho
    equations at the uniform-matter fields (S, V, R): the constant shifts c of their semi-implicit forms.
    The sigma equation's self-interaction is (A / g_sigma) S^2 + (B / g_sigma^2) S^3."""
    gs, gw2, gr2, lam = (
        np.sqrt(couplings["g_sigma2"]),
        couplings["g_omega2"],
        couplings["g_rho2"],
        couplings["Lambda_v"],
    )
    c_sigma = 2.0 * couplings["A"] / gs * S + 3.0 * couplings["B"] / gs**2 * S**2
    c_omega = gw2 * (3.0 * couplings["C"] * V**2 + lam * R**2)
    c_rho = gr2 * lam * V**2
    return tuple(np.where(np.isfinite(c), np.maximum(c, 0.0), 0.0) for c in (c_sigma, c_omega, c_rho))


class MapResult(NamedTuple):
    """Output of :func:`fixed_point_map` for b members (fm^-1 powers)."""

    x_new: np.ndarray  # (b, 4 n_r) new fields
    energy: np.ndarray  # (b,) total mean-field energy including rest masses
    rho_p: np.ndarray  # (b, n_r) proton density (fm^-3)
    rho_n: np.ndarray
    rho_s: np.ndarray  # scalar density
    e_all: np.ndarray  # (2, b, L) positive-energy levels of the blocks used
    occ: np.ndarray  # (2, b, L) their occupation probabilities
    ok: np.ndarray  # (b,) M* > 0 and a Dirac gap at the input fields, output finite
    right_sign: np.ndarray  # (b,) input scalar and vector fields not of the wrong sign (physical_fields)


def _occupations_both(p: SCFProblem, e_all: np.ndarray, temperature: np.ndarray) -> np.ndarray:
    """Occupations (2, b, L) of the proton and neutron levels ``e_all`` (2, b, L), found in one call (each
    row on its own: the same numbers as two calls, with half the per-call overhead)."""
    two, b, n_levels = e_all.shape
    n_particles = np.repeat(np.array([p.Z, p.N]), b)
    occ = occupations(e_all.reshape(two * b, n_levels), p.deg, n_particles, np.tile(temperature, two))
    return occ.reshape(two, b, n_levels)


def split_fields(x: np.ndarray, n_r: int) -> tuple[np.ndarray, ...]:
    """(S, V, R, Vc) views of stacked field rows."""
    return tuple(x[:, k * n_r : (k + 1) * n_r] for k in range(N_FIELDS))


def _dirac_step(basis: HOBasis, S, V, R, Vc, M, blocks=None):
    """Diagonalise the Dirac equation for both species in the kappa blocks ``blocks`` (indices; default all).

    Returns, per block, (positive-energy eigenvalues (2, B, nG), their eigenvectors, the highest
    negative-energy eigenvalue (2, B)).
    """
    if blocks is None:
        blocks = range(len(basis.blocks))
    B = S.shape[0]
    # potentials (batch, species, component, r): G block gets M + (Vq - S), F block -M + (Vq + S)
    vp = V + 0.5 * R + Vc
    vn = V - 0.5 * R
    W = np.stack([vp - S, vp + S, vn - S, vn + S], axis=1)  # (B, 4, nr)
    # all matrix elements in one product, viewed as (species, batch, component, pair) without copying
    me = rows_matmul(W, basis.pairs_weighted_t).reshape(B, 2, 2, basis.n_pairs).swapaxes(0, 1)
    mass = M[:, None, None]
    out = []
    for bi in blocks:
        blk, kin = basis.blocks[bi], basis.kinetic[bi]
        nG, nF = blk.nG, blk.nF
        nl = basis.u[blk.l].shape[0]
        nlt = basis.u[blk.lt].shape[0]
        oG, oF = basis.pair_offset[blk.l], basis.pair_offset[blk.lt]
        gg = me[:, :, 0, oG : oG + nl * nl].reshape(2, B, nl, nl)[..., :nG, :nG]
        ff = me[:, :, 1, oF : oF + nlt * nlt].reshape(2, B, nlt, nlt)[..., :nF, :nF]
        H = np.empty((2, B, nG + nF, nG + nF))
        H[..., :nG, :nG] = gg + mass * _identity(nG)
        H[..., nG:, nG:] = ff - mass * _identity(nF)
        H[..., :nG, nG:] = kin
        H[..., nG:, :nG] = kin.T
        e, X = np.linalg.eigh(H)
        out.append((e[..., nF:], X[..., nF:], e[..., nF - 1]))
    return out


@functools.cache
def _identity(n: int) -> np.ndarray:
    """A read-only (n, n) identity matrix, made once per size."""
    eye = np.eye(n)
    eye.flags.writeable = False
    return eye


def _density_matrices(p: SCFProblem, blocks_out, occ):
    """Large (G) and small (F) component densities (2, b, n_r), fm^-3, of both species."""
    basis = p.basis
    nb = occ.shape[1]
    DG = np.zeros((2, nb, basis.n_pairs))
    DF = np.zeros((2, nb, basis.n_pairs))
    start = 0
    for bi, (_, X, _) in zip(p.blocks_used, blocks_out, strict=True):
        blk = basis.blocks[bi]
        v = occ[..., start : start + blk.nG] * blk.degeneracy
        start += blk.nG
        g = X[..., : blk.nG, :]
        f = X[..., blk.nG :, :]
        # stacked matmuls (not einsum, whose loop order follows the array shapes): per-member results
        # do not depend on the batch size
        vw = v[..., None, :]
        dg = (g * vw) @ g.swapaxes(-1, -2)
        df = (f * vw) @ f.swapaxes(-1, -2)
        nl = basis.u[blk.l].shape[0]
        nlt = basis.u[blk.lt].shape[0]
        oG, oF = basis.pair_offset[blk.l], basis.pair_offset[blk.lt]
        DG[..., oG : oG + nl * nl].reshape(2, nb, nl, nl)[..., : blk.nG, : blk.nG] += dg
        DF[..., oF : oF + nlt * nlt].reshape(2, nb, nlt, nlt)[..., : blk.nF, : blk.nF] += df
    fourpir2 = 4.0 * np.pi * basis.r * basis.r
    dens = rows_matmul(np.stack([DG, DF]), basis.pairs) / fourpir2  # one product: fewer padded rows
    return dens[0], dens[1]


def _new_fields(p: SCFProblem, idx, fields, rs, rho, rho3, rho_p):
    """Klein-Gordon and Poisson solutions for the densities, self-interactions at the input ``fields``."""
    S, V, R, Vc = fields
    gs, gs2 = p.gs[idx, None], p.gs2[idx, None]
    lam = p.lam[idx, None]
    a, b = p.A3[idx, None] / gs, p.B4[idx, None] / gs2
    src_s = gs2 * rs - a * S**2 - b * S**3
    src_w = p.gw2[idx, None] * (rho - p.C4[idx, None] * V**3 - lam * R**2 * V)
    src_r = p.gr2[idx, None] * (0.5 * rho3 - lam * V**2 * R)
    r, h = p.basis.r, p.basis.h
    # semi-implicit meson equations (-lap + m^2 + c) phi_new = src + c phi, c = the slope of the
    # self-interaction in matter: the same fixed point, but the self-interactions, taken at the input
    # fields, no longer drive the iteration unstable where they are strong
    g = p.green
    if p.shifts is None:  # explicit: the fixed Green's matrices
        S_new = rows_matmul(src_s, g.sigma.T)
        V_new = rows_matmul(src_w, g.omega.T)
        R_new = rows_matmul(src_r, g.rho.T)
    else:
        c_s, c_w, c_r = (c[idx] for c in p.shifts)
        S_new, V_new, R_new = _shifted_yukawa(
            g,
            r,
            np.stack([src_s + c_s[:, None] * S, src_w + c_w[:, None] * V, src_r + c_r[:, None] * R]),
            np.stack([g.m_sigma2 + c_s, g.m_omega2 + c_w, g.m_rho2 + c_r]),
        )
    Vc_new = coulomb_potential(p.green.coulomb, r, h, rho_p, ALPHA_EM) if p.coulomb else np.zeros_like(Vc)
    return np.concatenate([S_new, V_new, R_new, Vc_new], axis=1)


def _shifted_yukawa(green, r, src, mass2):
    """Solve (-laplacian + mass2) phi = src (..., n_r) with a squared mass mass2 (...,) fm^-2 per row
    (sine series; several mesons at once share the two products)."""
    y = rows_matmul(r * src, green.sine)
    y = y / (green.k2 + mass2[..., None])
    return rows_matmul(y, green.sine) / r


def _field_energy(p: SCFProblem, idx, fields, rs, rho, rho3, rho_p):
    """Field-energy correction to the sum of single-particle energies (fm^-1)."""
    S, V, R, Vc = fields
    gs, gs2 = p.gs[idx, None], p.gs2[idx, None]
    integrand = (
        0.5 * S * rs
        - p.A3[idx, None] / (6.0 * gs**3) * S**3
        - p.B4[idx, None] / (4.0 * gs2**2) * S**4
        - 0.5 * V * rho
        + 0.25 * p.C4[idx, None] * V**4
        - 0.25 * R * rho3
        + 0.5 * p.lam[idx, None] * V**2 * R**2
        - 0.5 * Vc * rho_p
    )
    r = p.basis.r
    return p.basis.h * (4.0 * np.pi * r * r * integrand).sum(axis=-1)


def physical_fields(fields) -> np.ndarray:
    """(b,) True where neither the scalar nor the vector field is of the wrong sign (below -1 MeV) anywhere.

    A scalar field driven negative is the runaway branch of a self-interaction that is unbounded below
    (A > 0, B < 0): it expels the nucleons from the centre and can look self-consistent, but it is not the
    nuclear ground state."""
    S, V = fields[0], fields[1]
    return np.all(S > -WRONG_SIGN_TOLERANCE, axis=1) & np.all(V > -WRONG_SIGN_TOLERANCE, axis=1)


def fixed_point_map(p: SCFProblem, x: np.ndarray, idx: np.ndarray, temperature: np.ndarray) -> MapResult:
    """Apply the map to the fields ``x`` (b, 4 n_r) of the members ``idx`` with Fermi-Dirac widths
    ``temperature`` (b,) in fm^-1. Pure: no state is kept between calls."""
    fields = split_fields(x, p.n_r)
    Ma = p.M[idx]
    blocks_out = _dirac_step(p.basis, *fields, Ma, p.blocks_used)
    e_all = np.concatenate([b[0] for b in blocks_out], axis=-1)  # (2, b, L)
    gap_ok = np.all([np.all(b[0][..., 0] > 0, axis=0) & np.all(b[2] < 0, axis=0) for b in blocks_out], axis=0)
    occ = _occupations_both(p, e_all, temperature)
    dens_G, dens_F = _density_matrices(p, blocks_out, occ)
    rho_v = dens_G + dens_F
    rho_sc = dens_G - dens_F
    rho_p, rho_n = rho_v[0], rho_v[1]
    rs = rho_sc[0] + rho_sc[1]
    rho, rho3 = rho_p + rho_n, rho_p - rho_n
    x_new = _new_fields(p, idx, fields, rs, rho, rho3, rho_p)
    e_sp = (e_all * occ * p.deg).sum(axis=-1).sum(axis=0)
    energy = e_sp + _field_energy(p, idx, fields, rs, rho, rho3, rho_p)
    ok = gap_ok & np.all(np.isfinite(x_new), axis=1) & np.all(fields[0] < Ma[:, None], axis=1)
    return MapResult(x_new, energy, rho_p, rho_n, rs, e_all, occ, ok, physical_fields(fields))
