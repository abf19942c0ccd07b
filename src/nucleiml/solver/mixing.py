"""Anderson (type II / Pulay) mixing of the self-consistent fields, one history per batch member.

For a fixed-point map x -> g(x) with residual f = g(x) - x, the linear step is x + alpha f. Anderson mixing
combines the last m iterates: with differences dX, dF of successive x and f it finds gamma minimising
|f - gamma dF| and steps to x - gamma dX + alpha (f - gamma dF). Each member keeps its own history, its own
regularisation and its own fallback to the linear step, so a member's iterates never depend on the others
in the batch.
"""

from __future__ import annotations

import numpy as np

MIN_HISTORY = 3
"""Anderson steps are taken once a member has this many stored iterates (before: linear steps)."""

REGULARISATION = 1e-10
"""Tikhonov term added to the Gram matrix, relative to its trace."""

MAX_STEP_RATIO = 20.0
"""An Anderson step more than this many times longer than the linear step is replaced by the linear step."""


class AndersonMixer:
    """Per-member Anderson mixing for ``n_members`` field vectors of length ``n_x``.

    ``history``: number of stored iterates (0: plain linear mixing); ``warmup``: iterations with linear
    steps only.
    """

    def __init__(self, n_members: int, n_x: int, history: int, warmup: int) -> None:
        self.history = history
        self.warmup = warmup
        self._x = np.zeros((n_members, history, n_x))
        self._f = np.zeros((n_members, history, n_x))
        self._n = np.zeros(n_members, dtype=np.int64)

    def reset(self, members: np.ndarray) -> None:
        """Forget the history of ``members`` (after a back-off or a change of the map)."""
        self._n[members] = 0

    def step(
        self, members: np.ndarray, x: np.ndarray, f: np.ndarray, mixing: np.ndarray, iteration: int
    ) -> np.ndarray:
        """Record (x, f) of ``members`` (rows of ``x``, ``f``) and return their next step (same shape).

        ``mixing``: linear mixing fraction per member (scalar or (b,)).
        """
        mixing = np.broadcast_to(np.asarray(mixing, dtype=float), members.shape)
        step = mixing[:, None] * f
        if self.history == 0:
            return step
        g = members
        self._x[g] = np.roll(self._x[g], 1, axis=1)
        self._f[g] = np.roll(self._f[g], 1, axis=1)
        self._x[g, 0] = x
        self._f[g, 0] = f
        self._n[g] = np.minimum(self._n[g] + 1, self.history)
        use = (self._n[g] >= MIN_HISTORY) & (iteration > self.warmup)
        if np.any(use):
            step_a, sane = self._anderson_step(g[use], f[use], mixing[use], step[use])
            step[use] = np.where(sane[:, None], step_a, step[use])
        return step

    def _anderson_step(self, u, fu, mix_u, lin_step):
        m = self.history - 1
        dX = self._x[u, :-1] - self._x[u, 1:]  # (b, m, n): newer minus older
        dF = self._f[u, :-1] - self._f[u, 1:]
        valid = np.arange(m)[None, :] < (self._n[u] - 1)[:, None]
        dX = dX * valid[..., None]
        dF = dF * valid[..., None]
        with np.errstate(all="ignore"):  # diverging members fall back to the linear step
            gram = dF @ dF.swapaxes(-1, -2)
            scale = np.maximum(np.trace(gram, axis1=1, axis2=2), 1e-300)
            gram = (
                gram
                + (REGULARISATION * scale)[:, None, None] * np.eye(m)
                + np.where(valid, 0.0, 1.0)[:, :, None] * np.eye(m) * scale[:, None, None]
            )
            rhs = (dF @ fu[..., None])[..., 0]
            finite = np.all(np.isfinite(gram), axis=(1, 2)) & np.all(np.isfinite(rhs), axis=1)
            gram = np.where(finite[:, None, None], gram, np.eye(m))
            rhs = np.where(finite[:, None], rhs, 0.0)
            gamma = np.linalg.solve(gram, rhs[..., None])[..., 0]
            f_bar = fu - (gamma[:, None, :] @ dF)[:, 0]
            step_a = -(gamma[:, None, :] @ dX)[:, 0] + mix_u[:, None] * f_bar
            lin = np.max(np.abs(lin_step), axis=1)
            sane = (
                finite
                & np.all(np.isfinite(step_a), axis=1)
                & (np.max(np.abs(step_a), axis=1) < MAX_STEP_RATIO * lin)
            )
        return step_a, sane
