"""Spherical harmonic-oscillator (HO) basis for the static Dirac equation.

Following Gambhir, Ring and Thimet (Ann. Phys. 198, 132 (1990)), the large component G (orbital l) of a
spherical Dirac spinor with quantum number kappa is expanded in HO radial functions with
2n + l <= N_F and the small component F (orbital l~ = 2j - l) in those with 2n + l~ <= N_F + 1. Taking
one more shell for the small component keeps the basis closed under sigma.p, which removes the spurious
states a naive truncation produces.

Radial functions are u_{nl}(r) = r R_{nl}(r) with

    R_nl(r) = N_nl (r/b)^l L_n^{l+1/2}(r^2/b^2) exp(-r^2 / 2b^2),   int_0^inf u_nl^2 dr = 1,

tabulated on a uniform radial grid r_i = i h (i = 1..n). Every integrand met here
(u u' x smooth even potential) is an even function of r that vanishes at both ends, so the trapezoidal
rule on that grid converges faster than any power of h.

Pure set-up code: arrays in, arrays out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.special import eval_genlaguerre, gammaln


def ho_radial(n: int, l: int, b: float, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """u_{nl}(r) = r R_{nl}(r) (fm^-1/2) and its derivative du/dr (fm^-3/2) for oscillator length b (fm)."""
    x = (r / b) ** 2
    alpha = l + 0.5
    log_norm = 0.5 * (np.log(2.0) + gammaln(n + 1) - 3.0 * np.log(b) - gammaln(n + l + 1.5))
    lag = eval_genlaguerre(n, alpha, x)
    dlag = -eval_genlaguerre(n - 1, alpha + 1.0, x) if n > 0 else np.zeros_like(x)
    # u = N b^-l r^(l+1) L(x) exp(-x/2)
    pref = np.exp(log_norm - 0.5 * x + (l + 1) * np.log(r) - l * np.log(b))
    u = pref * lag
    du = pref * (lag * ((l + 1) / r - r / b**2) + dlag * 2.0 * r / b**2)
    return u, du


@dataclass(frozen=True)
class KappaBlock:
    """One (l, j) block of the Dirac equation: large component orbital l, small component l~."""

    l: int
    j2: int  # 2j
    lt: int  # small-component orbital l~ = 2j - l
    kappa: int
    nG: int  # large-component basis size
    nF: int  # small-component basis size

    @property
    def degeneracy(self) -> int:
        return self.j2 + 1

    @property
    def label(self) -> str:
        letters = "spdfghiklmnoqrtuvwxyz"
        return f"{letters[self.l] if self.l < len(letters) else f'[l={self.l}]'}{self.j2}/2"


@dataclass(frozen=True)
class HOBasis:
    """The HO Dirac basis of ``n_shells`` (N_F) major shells for oscillator length ``b`` (fm) on a radial grid.

    Attributes
    ----------
    r : grid points (fm), r_i = i h.
    h : step (fm).
    blocks : the kappa blocks.
    u : dict l -> (n_l, n_r) radial functions u_{nl}(r_i), for every l used by G or F components.
    pair_offset : dict l -> offset of the l-th (n_l^2) pair block in the stacked pair table.
    pairs : (n_pairs, n_r) table of products u_n u_n' for all l (row-major n, n').
    kinetic : tuple of (nG, nF) matrices  <u_{n l}| -d/dr + kappa/r |u_{n~ l~}>  (fm^-1), one per block.
    """

    n_shells: int
    b: float
    h: float
    r: np.ndarray
    blocks: tuple
    u: dict
    pair_offset: dict
    pairs: np.ndarray
    kinetic: tuple
    n_pairs: int
    pairs_weighted_t: np.ndarray = field(repr=False)  # (n_r, n_pairs): h * pairs, transposed


def make_basis(n_shells: int, b: float, h: float, r_max: float) -> HOBasis:
    """Build the basis with N_F = ``n_shells`` shells, oscillator length ``b`` (fm), grid step ``h`` (fm)
    and box radius ``r_max`` (fm)."""
    n_r = int(np.floor(r_max / h))
    r = h * np.arange(1, n_r + 1)
    blocks = []
    for l in range(n_shells + 1):
        for j2 in (2 * l - 1, 2 * l + 1):
            if j2 < 1:
                continue
            lt = j2 - l  # 2j - l
            kappa = -(l + 1) if j2 == 2 * l + 1 else l
            nG = (n_shells - l) // 2 + 1
            nF = (n_shells + 1 - lt) // 2 + 1
            if nG <= 0 or nF <= 0:
                continue
            blocks.append(KappaBlock(l=l, j2=j2, lt=lt, kappa=kappa, nG=nG, nF=nF))
    # radial functions for every orbital l needed (G uses l <= N_F, F uses l~ <= N_F + 1)
    u, du = {}, {}
    for l in range(n_shells + 2):
        nmax = (n_shells + 1 - l) // 2 + 1
        if nmax <= 0:
            continue
        funcs = [ho_radial(n, l, b, r) for n in range(nmax)]
        u[l] = np.array([f[0] for f in funcs])
        du[l] = np.array([f[1] for f in funcs])
    pair_offset, rows = {}, []
    offset = 0
    for l, ul in u.items():
        pair_offset[l] = offset
        rows.append((ul[:, None, :] * ul[None, :, :]).reshape(-1, r.size))
        offset += ul.shape[0] ** 2
    pairs = np.concatenate(rows, axis=0)
    kinetic = []
    for blk in blocks:
        uG = u[blk.l][: blk.nG]
        uF = u[blk.lt][: blk.nF]
        duF = du[blk.lt][: blk.nF]
        op_F = -duF + blk.kappa / r * uF  # (-d/dr + kappa/r) u~
        kinetic.append(h * uG @ op_F.T)
    return HOBasis(
        n_shells=n_shells,
        b=b,
        h=h,
        r=r,
        blocks=tuple(blocks),
        u=u,
        pair_offset=pair_offset,
        pairs=pairs,
        kinetic=tuple(kinetic),
        n_pairs=offset,
        pairs_weighted_t=np.ascontiguousarray((h * pairs).T),
    )
