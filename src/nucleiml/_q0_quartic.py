"""The skewness residual Q0(C) - Q0 of the NMP -> couplings inversion as a quartic (private array kernels).

For fixed rho0, E0, K0 and m* (hence k_F, M*, S = M - M* and V = g_omega omega_0) every isoscalar
coupling of :func:`nucleiml.nuclear_matter._isoscalar_given_C` follows from the trial C in closed form.
With ``t = C V^3 / rho0`` (C over its pole, where g_omega^2 -> infinity) and ``u = 1 / (1 + 2 t)``:

- ``dV/drho = V u / rho0``, so ``dS/drho = Sp`` is linear in u (and falls as t grows);
- the energy equation is linear in C and in ``1 / Sp``, so ``b``, ``c`` and ``dF/dS`` have a ``1/u`` term
  and a ``1/Sp`` term; the ``1/Sp`` cancels in ``d^2 S / drho^2``;
- ``d^2 V / drho^2 = -3 V (u^2 - u^3) / rho0^2``.

So ``u (Q0(C) - Q0)`` is exactly a polynomial of degree 4 in u. It is written here in
``s = (1 - u) / D`` with ``D = 1 - 1 / (1 + 2 t_last)``, so that ``s = 0`` is C = 0 and ``s = 1`` the last
point ``t_last`` of the inversion's scan over C. Evaluated at the scan points, the polynomial agrees with
the direct formula to a few 1e-14 of ``9 K0 + |Q0|`` (the size of the terms whose difference is Q0).

What the inversion needs from it, each member on its own (pure arrays in, arrays out):

- :func:`quartic` -- the five coefficients, and ``dS/drho`` and the g_sigma^2 condition as low-order
  polynomials in s (the admissibility of a trial C);
- :func:`first_root` -- certify that there is no root in [0, s_end] or isolate the smallest one, with
  Bernstein coefficients (the polynomial on an interval is a convex combination of them, so where all
  have one sign with a margin there is no root; one sign change with definite ends isolates one root);
- :func:`refine_root` -- safeguarded Newton on the polynomial inside an isolated bracket, started where
  the Bernstein control polygon crosses zero.

:func:`quartic_terms`, :func:`first_root_one` and :func:`refine_root_one` do the same for one member in
Python floats (the emulator's one-row path), step by step as the array versions. The arrays are worked
through in blocks of ``QUARTIC_BLOCK`` members in :func:`quartic` (see there).

Units: fm^-1 powers throughout (see :mod:`nucleiml.eos`); s and t are dimensionless.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np


def s_of_t(t, t_last):
    """s = (1 - u) / D of ``t`` = C / C_pole (u = 1 / (1 + 2 t), D = 1 - 1 / (1 + 2 t_last))."""
    t = np.asarray(t, dtype=np.float64)
    return 2.0 * t / ((1.0 + 2.0 * t) * (1.0 - 1.0 / (1.0 + 2.0 * t_last)))


def t_of_s(s, t_last):
    """Inverse of :func:`s_of_t`: ``t = D s / (2 (1 - D s))`` (no cancellation near s = 0)."""
    d = 1.0 - 1.0 / (1.0 + 2.0 * t_last)
    return d * s / (2.0 * (1.0 - d * s))


class Quartic(NamedTuple):
    """``coef`` (5, n): u (Q0(C) - Q0) = sum_k coef[k] s^k (fm^-1); ``sp`` (2, n): dS/drho = sp[0] +
    sp[1] s (fm^2, sp[1] < 0); ``ga`` (3, n): a polynomial in s of the sign of g_sigma^-2 where dS/drho > 0
    (fm^-4); ``sp_scale``, ``ga_scale`` (n,): the size of the terms of dS/drho and of ``ga`` (for margins).
    From :func:`quartic_terms`, lists of k coefficients instead of (k, n) arrays."""

    coef: np.ndarray
    sp: np.ndarray
    ga: np.ndarray
    sp_scale: np.ndarray
    ga_scale: np.ndarray


def quartic_terms(rho, Mstar, V, E0, K0, Q0, M, inv, t_last) -> Quartic:
    """The polynomial form of Q0(C) - Q0 (module docstring) of each member, as lists of coefficients
    (operators only: arrays or Python floats; :func:`quartic` stacks them).

    Parameters
    ----------
    rho : (n,) array or float
        Saturation density (fm^-3).
    Mstar, V, E0, K0, Q0 : (n,) arrays or floats
        M*, g_omega omega_0 (> 0), E0, K0, Q0 in fm^-1.
    M : float
        Nucleon mass (fm^-1).
    inv : nucleiml.nuclear_matter._Invariants
        The C-independent quantities of the members (``kf, x, E, S, rs, rs_M, rs_MM, eps_kin``).
    t_last : float
        The last scan point C / C_pole, where s = 1.

    Returns
    -------
    Quartic
    """
    x, E, S = inv.x, inv.E, inv.S
    d = 1.0 - 1.0 / (1.0 + 2.0 * t_last)
    rv = rho * V
    x3r = x / (3.0 * rho)
    sig1 = E * V / (rho * Mstar)  # dS/drho = sig0 + sig1 u = A + B s
    sig0 = (x3r - E * K0 / (9.0 * rho)) / Mstar
    A, B = sig0 + sig1, -sig1 * d
    p = inv.rs * S
    S3 = S**3
    r0 = rho * (E0 + M) - inv.eps_kin - 0.375 * rv  # the energy equation's r = r0 - rv / (8 u)
    g0 = (24.0 * r0 - 18.0 * p - 6.0 * inv.rs_M * S * S) / S3 - inv.rs_MM
    g1 = -3.0 * rv / S3
    G0, G1 = g0 + g1, -g0 * d  # u F_SS without its 1/Sp part
    e0, e1 = (x3r - Mstar * A) / E, -Mstar * B / E  # dE*/drho
    E3 = E**3
    h1 = 6.0 * Mstar / (E * S) + 2.0 * x / E3
    h0 = Mstar * x / (3.0 * rho * E3)
    # t1 = u (-x / (9 rho^2) + Sp^2 - E*'^2)
    w0 = -x / (9.0 * rho * rho) + A * A - e0 * e0
    w1 = 2.0 * (A * B - e0 * e1)
    w2 = B * B - e1 * e1
    t1 = (w0, w1 - d * w0, w2 - d * w1, -d * w2)
    # t2 = E Sp (u G Sp^2 + h1 u Sp + h0 u)
    a0, a1, a2 = A * A, 2.0 * A * B, B * B
    i0 = G0 * a0 + h1 * A + h0
    i1 = G0 * a1 + G1 * a0 + h1 * (B - d * A) - h0 * d
    i2 = G0 * a2 + G1 * a1 - h1 * d * B
    i3 = G1 * a2
    t2 = (A * i0, A * i1 + B * i0, A * i2 + B * i1, A * i3 + B * i2, B * i3)
    k1 = 27.0 * rho * rho / E
    v81 = -81.0 * V * d  # -81 V u^3 (1 - u) = v81 s (1 - d s)^3
    q9 = -(9.0 * K0 + Q0)
    coef = [
        k1 * (t1[0] + E * t2[0]) + q9,
        k1 * (t1[1] + E * t2[1]) + v81 - d * q9,
        k1 * (t1[2] + E * t2[2]) - 3.0 * d * v81,
        k1 * (t1[3] + E * t2[3]) + 3.0 * d * d * v81,
        k1 * E * t2[4] - d * d * d * v81,
    ]
    # g_sigma^-2 S^2 u dS/drho = (ka u - 1.5 rv) dS/drho + (M*/E) S^2 u
    ka = 12.0 * r0 - 6.0 * p - inv.rs_M * S * S
    ms2 = Mstar / E * S * S
    kr = ka - 1.5 * rv
    ga = [kr * A + ms2, kr * B - ka * d * A - ms2 * d, -ka * d * B]
    ga_scale = (12.0 * abs(r0) + 4.5 * rv + 6.0 * abs(p) + abs(inv.rs_M) * S * S) * (abs(sig0) + sig1) + ms2
    return Quartic(coef=coef, sp=[A, B], ga=ga, sp_scale=abs(sig0) + sig1, ga_scale=ga_scale)


# quartic() works through the members in blocks of this many: its ~90 temporaries then stay below glibc's
# threshold for returning memory to the system, which for blocks of 1e5 members cost more page faults
# than arithmetic (28 against 8 ms per call, measured); the numbers are the same (elementwise).
QUARTIC_BLOCK = 8192


def quartic(rho, Mstar, V, E0, K0, Q0, M, inv, t_last) -> Quartic:
    """:func:`quartic_terms` of (n,) arrays, with the coefficients stacked into (k, n) arrays."""
    n = np.size(rho)
    coef, sp, ga = np.empty((5, n)), np.empty((2, n)), np.empty((3, n))
    sp_scale, ga_scale = np.empty(n), np.empty(n)
    for i in range(0, n, QUARTIC_BLOCK):
        b = slice(i, i + QUARTIC_BLOCK)
        part = type(inv)(*(a[b] for a in inv))
        q = quartic_terms(rho[b], Mstar[b], V[b], E0[b], K0[b], Q0[b], M, part, t_last)
        coef[:, b], sp[:, b], ga[:, b] = q.coef, q.sp, q.ga
        sp_scale[b], ga_scale[b] = q.sp_scale, q.ga_scale
    return Quartic(coef=coef, sp=sp, ga=ga, sp_scale=sp_scale, ga_scale=ga_scale)


def horner(coef, s):
    """sum_k coef[k] s^k for coefficient rows ``coef`` (k, n) at points ``s`` (n,) or (m, n)."""
    out = coef[-1] * s + coef[-2]
    for c in coef[-3::-1]:
        out *= s
        out += c
    return out


def _taylor_at(coef, lo):
    """Taylor coefficients (list of 5) of the polynomials ``coef`` (5 rows) about ``lo``: repeated
    synthetic division by (s - lo) (operators only: arrays or Python floats)."""
    c = list(coef)
    deg = len(c) - 1
    for k in range(deg):
        for j in range(deg - 1, k - 1, -1):
            c[j] = c[j] + lo * c[j + 1]
    return c


def bernstein_rows(coef, lo, hi):
    """Bernstein coefficients (list of 5) of the quartics ``coef`` (5 rows) on [lo, hi]; ``lo=None`` for
    [0, hi] (operators only: arrays or Python floats)."""
    c = list(coef) if lo is None else _taylor_at(coef, lo)
    h = hi if lo is None else hi - lo
    h2 = h * h
    c1, c2, c3, c4 = c[1] * h, c[2] * h2, c[3] * (h2 * h), c[4] * (h2 * h2)
    c0 = c[0]
    return [
        c0,
        c0 + 0.25 * c1,
        c0 + 0.5 * c1 + c2 / 6.0,
        c0 + 0.75 * c1 + 0.5 * c2 + 0.25 * c3,
        c0 + c1 + c2 + c3 + c4,
    ]


def bernstein(coef, lo, hi):
    """Bernstein coefficients (5, n) of the quartics ``coef`` (5, n) on the intervals [lo, hi] (n,);
    ``lo=None`` for [0, hi]."""
    return np.stack(bernstein_rows(coef, lo, hi))


# first_root statuses
NO_ROOT = 0
ISOLATED = 1
UNDECIDED = 2


class RootSearch(NamedTuple):
    """Result of :func:`first_root`: ``status`` (n,) int8 (NO_ROOT, ISOLATED or UNDECIDED) and, where
    ISOLATED, the bracket [lo, hi] in s holding the smallest root alone (polynomial values ``plo``, ``phi``
    of opposite signs, each beyond the margin) and a first guess of the root inside it, where the
    Bernstein control polygon crosses zero."""

    status: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    plo: np.ndarray
    phi: np.ndarray
    guess: np.ndarray


def _polygon_zero(b, lo, hi):
    """Where the control polygon of Bernstein coefficients ``b`` (5, m) on [lo, hi] first changes sign
    (its first crossing, a guess of the polynomial's root there)."""
    sign0 = b[0] > 0
    k = np.argmax((b[1:] > 0) != sign0[None, :], axis=0)  # first coefficient of the other sign
    cols = np.arange(b.shape[1])
    b0, b1 = b[k, cols], b[k + 1, cols]
    with np.errstate(divide="ignore", invalid="ignore"):
        sigma = (k + b0 / (b0 - b1)) / 4.0
    return _inside(lo + sigma * (hi - lo), lo, hi)


def _classify(b, margin):
    """Per member, from Bernstein coefficients ``b`` (5, n): (no root: all beyond ``margin`` on one side;
    one root: the first beyond the margin on one side, the last on the other, and whatever the signs of
    the coefficients within the margin, the signs can only go once from the first's side to the last's)."""
    pos, neg = b > margin, b < -margin
    none = pos.all(axis=0) | neg.all(axis=0)
    fall = ~np.any(pos[1:] > pos[:-1], axis=0) & ~np.any(neg[:-1] > neg[1:], axis=0)
    rise = ~np.any(neg[1:] > neg[:-1], axis=0) & ~np.any(pos[:-1] > pos[1:], axis=0)
    one = (pos[0] & neg[-1] & fall) | (neg[0] & pos[-1] & rise)
    return none, one


def first_root(coef, s_end, margin, max_iter: int = 64) -> RootSearch:
    """The smallest root in [0, s_end] of each quartic ``coef`` (5, n), certified or isolated.

    Each member keeps an interval [lo, hi] (first [0, s_end]): where the Bernstein coefficients on it
    certify no root, the search moves on to [hi, s_end] (NO_ROOT once hi = s_end); where they isolate one
    root, it stops (ISOLATED); otherwise hi is halved. A member still undecided after ``max_iter`` steps
    or on an interval narrower than 1e-12 (a double root, or a root within the margin of an end) is
    UNDECIDED. ``margin`` (n,) bounds the difference between the polynomial and the residual it stands
    for; ``s_end`` (n,) > 0.
    """
    n = coef.shape[1]
    lo, hi = np.zeros(n), np.array(s_end, dtype=np.float64)
    b = bernstein(coef, None, hi)  # the first step on all members, without gathering them
    none, one = _classify(b, margin)
    status = np.where(none, NO_ROOT, np.where(one, ISOLATED, UNDECIDED)).astype(np.int8)
    b_lo = np.where(one, b[0], np.nan)
    b_hi = np.where(one, b[-1], np.nan)
    guess = np.full(n, np.nan)
    guess[one] = _polygon_zero(b[:, one], lo[one], hi[one])
    todo = np.flatnonzero(~none & ~one)
    hi[todo] *= 0.5
    for _ in range(max_iter - 1):
        if todo.size == 0:
            break
        b = bernstein(coef[:, todo], lo[todo], hi[todo])
        none, one = _classify(b, margin[todo])
        at_end = hi[todo] >= s_end[todo]
        status[todo[none & at_end]] = NO_ROOT
        iso = todo[one]
        status[iso] = ISOLATED
        b_lo[iso], b_hi[iso] = b[0, one], b[-1, one]
        guess[iso] = _polygon_zero(b[:, one], lo[iso], hi[iso])
        move = todo[none & ~at_end]
        lo[move], hi[move] = hi[move], s_end[move]
        split = todo[~none & ~one]
        hi[split] = 0.5 * (lo[split] + hi[split])
        stuck = (hi[split] - lo[split]) < 1e-12
        todo = np.concatenate([move, split[~stuck]])
    return RootSearch(status, lo, hi, b_lo, b_hi, guess)


# refine_root stops a member once its Newton step is below this fraction of its root (then it is as close
# to the root as the polynomial's round-off allows)
_REFINE_RTOL = 4 * np.finfo(np.float64).eps


def refine_root(coef, lo, hi, plo, phi, n_iter: int = 100, guess=None):
    """The root in s of each quartic ``coef`` (5, m) in its bracket [lo, hi] (m,), where the polynomial is
    ``plo`` at lo and ``phi``, of the other sign, at hi.

    Starts at ``guess`` (inside the bracket) or the regula falsi point; Newton steps, bisection where a
    step leaves the bracket. Each
    member stops on its own when its step is below _REFINE_RTOL of its root, its polynomial is 0 or its
    bracket cannot be halved, so its root does not depend on the other members; finished members are
    dropped from the arrays once half of them are done.
    """
    out = np.empty(lo.size)
    idx = np.arange(lo.size)
    c = np.array(coef, dtype=np.float64)
    dc = c[1:] * np.arange(1.0, c.shape[0])[:, None]
    lo, hi = np.array(lo, dtype=np.float64), np.array(hi, dtype=np.float64)
    x = _inside(lo - plo * (hi - lo) / (phi - plo) if guess is None else np.asarray(guess, float), lo, hi)
    pos_lo = np.asarray(plo) > 0
    live = np.ones(lo.size, dtype=bool)
    for _ in range(n_iter):
        p = horner(c, x)
        up = (p > 0) == pos_lo  # the root lies above x: x replaces lo
        lo, hi = np.where(up, x, lo), np.where(up, hi, x)
        with np.errstate(divide="ignore", invalid="ignore"):
            xn = _inside(x - p / horner(dc, x), lo, hi)
        done = live & ((np.abs(xn - x) <= _REFINE_RTOL * np.abs(x)) | (p == 0) | (xn == lo) | (xn == hi))
        out[idx[done]] = np.where(p == 0, x, xn)[done]
        live &= ~done
        x = np.where(live, xn, x)
        n_live = np.count_nonzero(live)
        if n_live == 0:
            return out
        if n_live <= 0.5 * live.size:
            k = np.flatnonzero(live)
            idx, c, dc, lo, hi, x, pos_lo = (np.take(a, k, axis=-1) for a in (idx, c, dc, lo, hi, x, pos_lo))
            live = np.ones(idx.size, dtype=bool)
    out[idx[live]] = x[live]
    return out


def _inside(x, lo, hi):
    """``x`` where it lies strictly inside (lo, hi) and is finite, else the midpoint."""
    return np.where(np.isfinite(x) & (x > lo) & (x < hi), x, 0.5 * (lo + hi))


# ---------------------------------------------------------------------------------------- one member
# The same decisions for a single member in Python floats (a call per array operation costs more than
# the arithmetic for one member): first_root_one and refine_root_one follow first_root and refine_root
# step by step.
def _classify_one(b, margin):
    """:func:`_classify` of one member's Bernstein coefficients ``b`` (5 floats)."""
    pos = [v > margin for v in b]
    neg = [v < -margin for v in b]
    none = all(pos) or all(neg)
    fall = not any(pos[k] > pos[k - 1] or neg[k - 1] > neg[k] for k in range(1, 5))
    rise = not any(neg[k] > neg[k - 1] or pos[k - 1] > pos[k] for k in range(1, 5))
    return none, (pos[0] and neg[4] and fall) or (neg[0] and pos[4] and rise)


def first_root_one(coef, s_end: float, margin: float, max_iter: int = 64):
    """:func:`first_root` of one quartic ``coef`` (5 floats): (status, lo, hi, plo, phi, guess)."""
    lo, hi = 0.0, s_end
    b = bernstein_rows(coef, None, hi)
    for _ in range(max_iter):
        none, one = _classify_one(b, margin)
        if none and hi >= s_end:
            return NO_ROOT, lo, hi, None, None, None
        if one:
            return ISOLATED, lo, hi, b[0], b[4], _polygon_zero_one(b, lo, hi)
        if none:
            lo, hi = hi, s_end
        else:
            hi = 0.5 * (lo + hi)
            if hi - lo < 1e-12:
                break
        b = bernstein_rows(coef, lo, hi)
    return UNDECIDED, lo, hi, None, None, None


def _polygon_zero_one(b, lo: float, hi: float) -> float:
    """:func:`_polygon_zero` of one member's Bernstein coefficients ``b`` (5 floats)."""
    sign0 = b[0] > 0
    k = next((i for i in range(4) if (b[i + 1] > 0) != sign0), 0)
    sigma = (k + _ratio(b[k], b[k] - b[k + 1], 0.0, 1.0)) / 4.0
    return _inside_one(lo + sigma * (hi - lo), lo, hi)


def refine_root_one(
    coef, lo: float, hi: float, plo: float, phi: float, n_iter: int = 100, guess: float | None = None
) -> float:
    """:func:`refine_root` of one quartic ``coef`` (5 floats)."""
    dc = [k * coef[k] for k in range(1, len(coef))]
    x = _inside_one(_ratio(plo * (hi - lo), phi - plo, lo, -1.0) if guess is None else guess, lo, hi)
    pos_lo = plo > 0
    for _ in range(n_iter):
        p = horner(coef, x)
        if (p > 0) == pos_lo:
            lo = x
        else:
            hi = x
        xn = _inside_one(_ratio(p, horner(dc, x), x, -1.0), lo, hi)
        if abs(xn - x) <= _REFINE_RTOL * abs(x) or p == 0 or xn in (lo, hi):
            return x if p == 0 else xn
        x = xn
    return x


def _ratio(num: float, den: float, base: float, sign: float) -> float:
    """base + sign * num / den as numpy computes it (inf or NaN where den = 0, no exception)."""
    if den == 0.0:
        return math.nan if num == 0.0 else math.inf
    return base + sign * (num / den)


def _inside_one(x: float, lo: float, hi: float) -> float:
    """:func:`_inside` of floats."""
    return x if math.isfinite(x) and lo < x < hi else 0.5 * (lo + hi)
