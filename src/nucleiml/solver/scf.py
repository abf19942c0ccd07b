"""Batched self-consistent iteration of the spherical RMF equations (pure numerical kernel).

All quantities are in powers of fm^-1 (energies and fields divided by hbar c). Scaled fields
S = g_sigma sigma, V = g_omega omega, R = g_rho b and the Coulomb potential energy Vc of a proton are
tabulated on the basis' radial grid, one row per parameter set of the batch. One iteration:

1. Dirac matrices in the HO basis for every kappa block and both nucleon species (one GEMM for all
   potential matrix elements), batched ``eigh``;
2. occupations by single-particle energy: Fermi-Dirac functions annealed to a small width, so that a partly
   filled last level or two levels crossing at the Fermi surface are equally filled;
3. densities from the block density matrices (one GEMM);
4. Klein-Gordon / Poisson fields from the densities with the nonlinear terms taken at the previous fields;
5. mixing of the fields (Anderson / DIIS on the field residual, linear mixing in the first steps).
"""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass

import numpy as np

from ..constants import ALPHA_EM
from .basis import HOBasis
from .fields import coulomb_potential, rows_matmul, yukawa_green


class SolverStatus(enum.IntEnum):
    """Outcome of a finite-nucleus solve (anything but CONVERGED is the seed's *Non-convergent B*)."""

    CONVERGED = 0
    MAX_ITERATIONS = 1
    UNPHYSICAL_FIELDS = 2
    TIME_BUDGET = 3

    @property
    def message(self) -> str:
        return {
            SolverStatus.CONVERGED: "",
            SolverStatus.MAX_ITERATIONS: "did not converge within the iteration budget",
            SolverStatus.UNPHYSICAL_FIELDS: "unphysical fields (M* <= 0, NaN or no positive-energy spectrum)",
            SolverStatus.TIME_BUDGET: "did not converge within the time budget",
        }[self]


@dataclass(frozen=True)
class GreenMatrices:
    sigma: np.ndarray
    omega: np.ndarray
    rho: np.ndarray
    coulomb: np.ndarray


def green_matrices(basis: HOBasis, m_sigma: float, m_omega: float, m_rho: float) -> GreenMatrices:
    """Klein-Gordon Green's matrices for the meson masses (fm^-1) on the basis grid."""
    r, h = basis.r, basis.h
    return GreenMatrices(
        sigma=yukawa_green(r, h, m_sigma),
        omega=yukawa_green(r, h, m_omega),
        rho=yukawa_green(r, h, m_rho),
        coulomb=yukawa_green(r, h, 0.0),
    )


def initial_fields(r: np.ndarray, Z: int, N: int, batch: int, M: np.ndarray):
    """Woods-Saxon-shaped starting fields (fm^-1): typical RMF depths, radius 1.2 A^(1/3) fm."""
    A = Z + N
    R0 = 1.2 * A ** (1.0 / 3.0)
    f = 1.0 / (1.0 + np.exp((r - R0) / 0.6))
    S = np.outer(0.38 * M, f)
    V = np.outer(0.31 * M, f)
    Rf = np.outer(np.full(batch, -0.5 * (N - Z) / A * 0.05), f)
    Rc = 1.2 * A ** (1.0 / 3.0)
    vc = np.where(r < Rc, Z * ALPHA_EM / (2 * Rc) * (3 - (r / Rc) ** 2), Z * ALPHA_EM / r)
    Vc = np.tile(vc, (batch, 1))
    return S, V, Rf, Vc


def _occupations(
    energies: np.ndarray, degeneracy: np.ndarray, n_particles: int, smearing: float = 0.0
) -> np.ndarray:
    """Occupation probabilities v in [0, 1] of levels holding ``n_particles`` nucleons.

    ``energies``: (B, L) in fm^-1; ``degeneracy``: (L,); ``smearing``: scalar or (B,). With 0 levels are filled in
    energy order and a partly filled last level is equally filled. With ``smearing`` = T > 0 (fm^-1) the
    occupations are Fermi-Dirac functions whose chemical potential conserves the particle number exactly;
    for T far below the level spacing this is the sharp filling, and at a level crossing it shares the
    particles between the (then degenerate) crossing levels: equal filling across the crossing.
    """
    smearing = np.asarray(smearing, dtype=float)
    if np.all(smearing <= 0.0):
        order = np.argsort(energies, axis=-1, kind="stable")
        d_sorted = degeneracy[order]
        before = np.cumsum(d_sorted, axis=-1) - d_sorted
        count = np.clip(n_particles - before, 0, d_sorted)
        occ = np.empty_like(energies)
        np.put_along_axis(occ, order, count / d_sorted, axis=-1)
        return occ
    T = np.broadcast_to(smearing, energies.shape[:1])[:, None]
    # bracket the chemical potential around the sharp Fermi level (the widest bracket where that fails)
    sharp = _occupations(energies, degeneracy, n_particles, 0.0)
    e_in = np.max(np.where(sharp > 0.0, energies, -np.inf), axis=-1)
    e_out = np.min(np.where(sharp < 1.0, energies, np.inf), axis=-1)
    e_out = np.where(np.isfinite(e_out), e_out, e_in)

    def count_at(mu):
        return (degeneracy / (1.0 + np.exp(np.clip((energies - mu[:, None]) / T, -700.0, 700.0)))).sum(
            axis=-1
        )

    lo = np.minimum(e_in, e_out) - 40.0 * T[:, 0]
    hi = np.maximum(e_in, e_out) + 40.0 * T[:, 0]
    bad = ~((count_at(lo) <= n_particles) & (count_at(hi) >= n_particles))
    lo = np.where(bad, np.min(energies, axis=-1) - 50.0 * T[:, 0], lo)
    hi = np.where(bad, np.max(energies, axis=-1) + 50.0 * T[:, 0], hi)
    for _ in range(100):
        mu = 0.5 * (lo + hi)
        count = count_at(mu)
        # members stop on their own criterion, so results never depend on batch-mates
        live = (hi - lo >= 1e-13) & (np.abs(count - n_particles) > 1e-12 * n_particles)
        if not np.any(live):
            break
        lo = np.where(live & (count < n_particles), mu, lo)
        hi = np.where(live & (count >= n_particles), mu, hi)
    mu = 0.5 * (lo + hi)
    for _ in range(2):  # Newton polish of the particle number
        v = 1.0 / (1.0 + np.exp(np.clip((energies - mu[:, None]) / T, -700.0, 700.0)))
        dn = (degeneracy * v * (1.0 - v)).sum(axis=-1) / T[:, 0]
        miss = n_particles - (degeneracy * v).sum(axis=-1)
        mu = mu + np.where(dn > 1e-300, miss / np.maximum(dn, 1e-300), 0.0)
    return 1.0 / (1.0 + np.exp(np.clip((energies - mu[:, None]) / T, -700.0, 700.0)))


@dataclass
class SCFOutput:
    """Raw kernel output for a batch (fm^-1 powers); see :func:`run_scf`."""

    status: np.ndarray
    iterations: np.ndarray
    energy: np.ndarray  # total mean-field energy including rest masses (fm^-1)
    rho_p: np.ndarray
    rho_n: np.ndarray
    rho_s: np.ndarray
    fields: dict
    levels: list  # per species: (energies (B, L), occupations (B, L)) in block order
    level_blocks: list  # (block index, radial index) per level
    residual: np.ndarray


def max_occupied_l(Z: int, N: int) -> int:
    """Largest orbital l that the ground state can occupy, with a safe margin.

    The last nucleon of the more numerous species sits in oscillator shell n (shells hold
    (n + 1)(n + 2) nucleons of one species); spin-orbit intruders come down from shell n + 1 with
    l = n + 1. Blocks with l <= n + 2 are therefore kept; :func:`run_scf` callers verify afterwards that no
    level of a skipped block lies below the Fermi energy.
    """
    count, shell = 0, 0
    while True:
        count += (shell + 1) * (shell + 2)
        if count >= max(Z, N):
            return shell + 2
        shell += 1


def _dirac_step(basis: HOBasis, S, V, R, Vc, M, blocks=None):
    """Diagonalise the Dirac equation for both species in the kappa blocks ``blocks`` (indices; default all).

    Returns, per block, (positive-energy eigenvalues (2, B, nG), their eigenvectors, the highest
    negative-energy eigenvalue (2, B)).
    """
    if blocks is None:
        blocks = range(len(basis.blocks))
    B = S.shape[0]
    # potentials (species, batch, r): G block gets M + (Vq - S), F block -M + (Vq + S)
    vp = V + 0.5 * R + Vc
    vn = V - 0.5 * R
    W = np.stack([vp - S, vp + S, vn - S, vn + S], axis=1)  # (B, 4, nr)
    me = np.moveaxis(rows_matmul(W, basis.pairs_weighted_t), 0, -1)  # (4, n_pairs, B)
    me = me.swapaxes(0, 1)  # (n_pairs, 4, B)
    out = []
    for bi in blocks:
        blk, kin = basis.blocks[bi], basis.kinetic[bi]
        nl = basis.u[blk.l].shape[0]
        nlt = basis.u[blk.lt].shape[0]
        oG, oF = basis.pair_offset[blk.l], basis.pair_offset[blk.lt]
        gg = me[oG : oG + nl * nl].reshape(nl, nl, 4, B)[: blk.nG, : blk.nG]
        ff = me[oF : oF + nlt * nlt].reshape(nlt, nlt, 4, B)[: blk.nF, : blk.nF]
        n = blk.nG + blk.nF
        H = np.empty((2, B, n, n))
        for q in range(2):
            H[q, :, : blk.nG, : blk.nG] = np.moveaxis(gg[:, :, 2 * q], -1, 0) + M[:, None, None] * np.eye(
                blk.nG
            )
            H[q, :, blk.nG :, blk.nG :] = np.moveaxis(ff[:, :, 2 * q + 1], -1, 0) - M[:, None, None] * np.eye(
                blk.nF
            )
            H[q, :, : blk.nG, blk.nG :] = kin
            H[q, :, blk.nG :, : blk.nG] = kin.T
        e, X = np.linalg.eigh(H)
        out.append((e[..., blk.nF :], X[..., blk.nF :], e[..., blk.nF - 1]))
    return out


def run_scf(
    basis: HOBasis,
    green: GreenMatrices,
    couplings: dict,
    Z: int,
    N: int,
    *,
    max_iter: int = 300,
    tol: float = 1e-8,
    mixing: float = 0.5,
    history: int = 6,
    warmup: int = 2,
    max_retries: int = 4,
    coulomb: bool = True,
    time_budget: float | None = None,
    l_max: int | None = None,
    smearing: float = 0.0,
    smearing_start: float = 0.0,
    smearing_decay: float = 0.7,
) -> SCFOutput:
    """Iterate a batch of parameter sets to self-consistency for nucleus (Z, N).

    ``couplings``: dict of (B,) arrays in fm^-1 powers: M, g_sigma2, g_omega2, g_rho2, A (fm^-1), B, C,
    Lambda_v (meson masses are inside ``green``). ``tol`` bounds the largest change of any field (fm^-1)
    in the last iteration. Members still iterating after ``time_budget`` seconds stop with TIME_BUDGET.
    Only kappa blocks with l <= ``l_max`` are diagonalised (None: all); see :func:`max_occupied_l`.
    Occupations use Fermi-Dirac smearing of width ``smearing_start`` * ``smearing_decay``^(it-1), never
    below ``smearing`` (fm^-1; 0 = sharp filling); convergence is declared only at the final width.
    """
    deadline = None if time_budget is None else time.perf_counter() + time_budget
    r, h = basis.r, basis.h
    M = np.asarray(couplings["M"], dtype=float)
    Bsz = M.size
    gs2, gw2, gr2 = couplings["g_sigma2"], couplings["g_omega2"], couplings["g_rho2"]
    A3, B4 = couplings["A"], couplings["B"]
    C4, lam = couplings["C"], couplings["Lambda_v"]
    gs = np.sqrt(gs2)
    S, V, R, Vc = initial_fields(r, Z, N, Bsz, M)
    if not coulomb:
        Vc = np.zeros_like(Vc)
    nr = r.size
    blocks_used = [i for i, blk in enumerate(basis.blocks) if l_max is None or blk.l <= l_max]
    deg = np.concatenate(
        [np.full(basis.blocks[i].nG, basis.blocks[i].degeneracy, dtype=float) for i in blocks_used]
    )
    level_blocks = [(i, k) for i in blocks_used for k in range(basis.blocks[i].nG)]
    fourpir2 = 4.0 * np.pi * r * r
    status = np.full(Bsz, SolverStatus.MAX_ITERATIONS, dtype=np.int8)
    iterations = np.zeros(Bsz, dtype=np.int32)
    active = np.ones(Bsz, dtype=bool)
    resid_norm = np.full(Bsz, np.inf)
    # stacked field vector x = [S, V, R, Vc] (B, 4 nr)
    x = np.concatenate([S, V, R, Vc], axis=1)

    def evaluate(xa, idx):
        """One fixed-point map application for the members ``idx``: returns new fields and by-products."""
        Sa, Va, Ra, Vca = (xa[:, k * nr : (k + 1) * nr] for k in range(4))
        Ma = M[idx]
        blocks_out = _dirac_step(basis, Sa, Va, Ra, Vca, Ma, blocks_used)
        e_all = np.concatenate([b[0] for b in blocks_out], axis=-1)  # (2, b, L)
        gap_ok = np.all(
            [np.all(b[0][..., 0] > 0, axis=0) & np.all(b[2] < 0, axis=0) for b in blocks_out], axis=0
        )
        t_idx = temp[idx]
        occ = np.stack([_occupations(e_all[0], deg, Z, t_idx), _occupations(e_all[1], deg, N, t_idx)])
        # density matrices per orbital l, large (G) and small (F) parts
        nb = Sa.shape[0]
        DG = np.zeros((2, nb, basis.n_pairs))
        DF = np.zeros((2, nb, basis.n_pairs))
        start = 0
        for bi, (_, X, _) in zip(blocks_used, blocks_out, strict=True):
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
        dens_G = rows_matmul(DG, basis.pairs) / fourpir2  # (2, b, nr)
        dens_F = rows_matmul(DF, basis.pairs) / fourpir2
        rho_v = dens_G + dens_F
        rho_sc = dens_G - dens_F
        rho_p, rho_n = rho_v[0], rho_v[1]
        rs = rho_sc[0] + rho_sc[1]
        rho = rho_p + rho_n
        rho3 = rho_p - rho_n
        gsa = gs[idx, None]
        src_s = gs2[idx, None] * rs - (A3[idx, None] / gsa) * Sa**2 - (B4[idx, None] / gs2[idx, None]) * Sa**3
        src_w = gw2[idx, None] * (rho - C4[idx, None] * Va**3 - lam[idx, None] * Ra**2 * Va)
        src_r = gr2[idx, None] * (0.5 * rho3 - lam[idx, None] * Va**2 * Ra)
        S_new = rows_matmul(src_s, green.sigma.T)
        V_new = rows_matmul(src_w, green.omega.T)
        R_new = rows_matmul(src_r, green.rho.T)
        Vc_new = coulomb_potential(green.coulomb, r, h, rho_p, ALPHA_EM) if coulomb else np.zeros_like(Vca)
        x_new = np.concatenate([S_new, V_new, R_new, Vc_new], axis=1)
        # total energy (fm^-1)
        e_sp = (e_all * occ * deg).sum(axis=-1).sum(axis=0)
        integrand = (
            0.5 * Sa * rs
            - A3[idx, None] / (6.0 * gsa**3) * Sa**3
            - B4[idx, None] / (4.0 * gs2[idx, None] ** 2) * Sa**4
            - 0.5 * Va * rho
            + 0.25 * C4[idx, None] * Va**4
            - 0.25 * Ra * rho3
            + 0.5 * lam[idx, None] * Va**2 * Ra**2
            - 0.5 * Vca * rho_p
        )
        energy = e_sp + h * (fourpir2 * integrand).sum(axis=-1)
        ok = gap_ok & np.all(np.isfinite(x_new), axis=1) & np.all(Sa < Ma[:, None], axis=1)
        extra = {
            "energy": energy,
            "rho_p": rho_p,
            "rho_n": rho_n,
            "rho_s": rs,
            "e_all": e_all,
            "occ": occ,
            "ok": ok,
        }
        return x_new, extra

    store = {
        "energy": np.full(Bsz, np.nan),
        "rho_p": np.zeros((Bsz, nr)),
        "rho_n": np.zeros((Bsz, nr)),
        "rho_s": np.zeros((Bsz, nr)),
        "e_all": np.full((2, Bsz, deg.size), np.nan),
        "occ": np.zeros((2, Bsz, deg.size)),
    }
    n_x = x.shape[1]
    hist_x = np.zeros((Bsz, history, n_x))
    hist_f = np.zeros((Bsz, history, n_x))
    hist_n = np.zeros(Bsz, dtype=np.int64)
    good_x = x.copy()
    good_f = np.zeros_like(x)
    has_good = np.zeros(Bsz, dtype=bool)
    fails = np.zeros(Bsz, dtype=np.int64)
    temp = np.full(Bsz, float(smearing))
    for it in range(1, max_iter + 1):
        temp[:] = max(smearing, smearing_start * smearing_decay ** (it - 1))
        annealed = temp <= smearing
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        if deadline is not None and time.perf_counter() > deadline:
            status[idx] = SolverStatus.TIME_BUDGET
            break
        xa = x[idx]
        with np.errstate(all="ignore"):  # members whose fields blow up are caught by extra["ok"] below
            x_new, extra = evaluate(xa, idx)
        f = x_new - xa
        fnorm = np.max(np.abs(f), axis=1)
        ok = extra["ok"]
        iterations[idx] = it
        # --- members whose trial fields failed: back off towards their last good fields, or give up
        bad = idx[~ok]
        retry = bad[has_good[bad] & (fails[bad] < max_retries)]
        give_up = np.setdiff1d(bad, retry)
        status[give_up] = SolverStatus.UNPHYSICAL_FIELDS
        active[give_up] = False
        fails[retry] += 1
        hist_n[retry] = 0
        x[retry] = good_x[retry] + (mixing * 0.5 ** fails[retry])[:, None] * good_f[retry]
        # --- members with a good evaluation
        gi = np.flatnonzero(ok)
        g = idx[gi]
        fg = f[gi]
        xg = xa[gi]
        for key in ("energy", "rho_p", "rho_n", "rho_s"):
            store[key][g] = extra[key][gi]
        store["e_all"][:, g] = extra["e_all"][:, gi]
        store["occ"][:, g] = extra["occ"][:, gi]
        resid_norm[g] = fnorm[gi]
        fails[g] = 0
        good_x[g], good_f[g], has_good[g] = xg, fg, True
        conv = (fnorm[gi] < tol) & annealed[g]
        status[g[conv]] = SolverStatus.CONVERGED
        active[g[conv]] = False
        # Anderson (type II / Pulay) mixing over the last `history` iterates of each member
        step = mixing * fg
        if history > 0:
            hist_x[g] = np.roll(hist_x[g], 1, axis=1)
            hist_f[g] = np.roll(hist_f[g], 1, axis=1)
            hist_x[g, 0] = xg
            hist_f[g, 0] = fg
            hist_n[g] = np.minimum(hist_n[g] + 1, history)
            use = (hist_n[g] >= 3) & (it > warmup)
            if np.any(use):
                u = g[use]
                dX = hist_x[u, :-1] - hist_x[u, 1:]  # (b, m-1, n): newer minus older
                dF = hist_f[u, :-1] - hist_f[u, 1:]
                valid = np.arange(history - 1)[None, :] < (hist_n[u] - 1)[:, None]
                dX = dX * valid[..., None]
                dF = dF * valid[..., None]
                with np.errstate(all="ignore"):  # diverging members fall back to the linear step
                    gram = dF @ dF.swapaxes(-1, -2)
                    scale = np.maximum(np.trace(gram, axis1=1, axis2=2), 1e-300)
                    gram = (
                        gram
                        + (1e-10 * scale)[:, None, None] * np.eye(history - 1)
                        + np.where(valid, 0.0, 1.0)[:, :, None] * np.eye(history - 1) * scale[:, None, None]
                    )
                    rhs = (dF @ fg[use][..., None])[..., 0]
                    finite = np.all(np.isfinite(gram), axis=(1, 2)) & np.all(np.isfinite(rhs), axis=1)
                    gram = np.where(finite[:, None, None], gram, np.eye(history - 1))
                    rhs = np.where(finite[:, None], rhs, 0.0)
                    gamma = np.linalg.solve(gram, rhs[..., None])[..., 0]
                    f_bar = fg[use] - (gamma[:, None, :] @ dF)[:, 0]
                    step_a = -(gamma[:, None, :] @ dX)[:, 0] + mixing * f_bar
                    lin = np.max(np.abs(step[use]), axis=1)
                    sane = (
                        finite
                        & np.all(np.isfinite(step_a), axis=1)
                        & (np.max(np.abs(step_a), axis=1) < 20.0 * lin)
                    )
                step[use] = np.where(sane[:, None], step_a, step[use])
        still = ~conv
        x[g[still]] = xg[still] + step[still]
    fields = {
        "S": x[:, :nr],
        "V": x[:, nr : 2 * nr],
        "R": x[:, 2 * nr : 3 * nr],
        "Vc": x[:, 3 * nr :],
    }
    levels = [(store["e_all"][q], store["occ"][q]) for q in range(2)]
    result = SCFOutput(
        status=status,
        iterations=iterations,
        energy=store["energy"],
        rho_p=store["rho_p"],
        rho_n=store["rho_n"],
        rho_s=store["rho_s"],
        fields=fields,
        levels=levels,
        level_blocks=level_blocks,
        residual=resid_norm,
    )
    return result


def intruders_in_skipped_blocks(basis: HOBasis, out: SCFOutput, M: np.ndarray, l_max: int) -> np.ndarray:
    """True for members with a level of a block l > ``l_max`` (not diagonalised in the loop) below their
    highest occupied level of the same species, at their last fields: the restriction was wrong for them
    (whether or not they converged) and they must be re-run with all blocks."""
    skipped = [i for i, blk in enumerate(basis.blocks) if blk.l > l_max]
    redo = np.zeros(M.size, dtype=bool)
    f = out.fields
    fermi = np.stack([np.max(np.where(occ > 1e-6, e, -np.inf), axis=-1) for e, occ in out.levels])  # (2, B)
    finite = np.all(np.isfinite(fermi), axis=0)
    for field in f.values():
        finite &= np.all(np.isfinite(field), axis=1)
    cand = np.flatnonzero(finite)
    if not skipped or cand.size == 0:
        return redo
    steps = _dirac_step(basis, f["S"][cand], f["V"][cand], f["R"][cand], f["Vc"][cand], M[cand], skipped)
    lowest = np.min(np.stack([b[0][..., 0] for b in steps]), axis=0)  # (2, b)
    redo[cand] = np.any(lowest < fermi[:, cand], axis=0)
    return redo
