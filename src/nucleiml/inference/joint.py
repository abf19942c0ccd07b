"""The joint likelihood: finite nuclei plus the named constraint terms of :mod:`.constraints`.

    log L = log L_nuclei + sum_terms log L_term

For each batch, the finite-nucleus likelihood is evaluated first (any model). The other terms need the
exact couplings of the NMPs and, for the neutron-star terms, the star sequences; they are evaluated for
the points whose finite-nucleus value is valid and above ``SKIP_BELOW`` (-1000): a point that far below
the data carries no posterior weight (exp(-1000)) and the terms, all <= their maximum, could only lower
it, so its value stays the finite-nucleus one (this changes the order of such points among themselves
only, never the posterior or the evidence beyond exp(-1000)). A point whose terms cannot be evaluated (no
couplings, a star sequence cut before its maximum by acausality or an unstable rho field, a maximum mass
below the masses a term needs) gets the likelihood's floor, never NaN.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._parallel import map_row_chunks
from .constraints import Context
from .likelihood import LOGL_MIN_VALID, Likelihood, floor_loglike

__all__ = ["MIN_TERMS_CHUNK", "SKIP_BELOW", "JointLikelihood", "TermsTask", "evaluate_terms"]

SKIP_BELOW = -1000.0

MIN_TERMS_CHUNK = 32
"""Fewest parameter sets per worker task of the terms (a smaller batch runs in one task)."""


@dataclass(frozen=True)
class TermsTask:
    """The constraint terms of a block of parameter sets, as sent to a worker (picklable)."""

    terms: tuple
    masses: dict
    star_config: object
    nmp: np.ndarray


def evaluate_terms(task: TermsTask) -> tuple[np.ndarray, np.ndarray, dict]:
    """Sum of the terms at ``task.nmp`` (n, 7), whether all were valid, and each term's values (NaN where
    invalid). Row-independent: a block gives the rows of the whole batch bit for bit."""
    ctx = Context.from_nmp(task.nmp, task.masses, task.star_config)
    total = np.zeros(len(ctx))
    valid = ctx.has_couplings.copy()
    each = {}
    for term in task.terms:
        logl, ok = term.loglike(ctx)
        each[term.name] = np.where(ok, logl, np.nan)
        total += np.where(ok, logl, 0.0)
        valid &= ok
    return total, valid, each


class JointLikelihood:
    """Finite-nucleus :class:`Likelihood` plus constraint terms; called like a Likelihood.

    Attributes other than the ones below are the finite-nucleus likelihood's (``nuclei``, ``observables``,
    ``experimental``, ``log_normalisation``...).

    Parameters
    ----------
    finite_nuclei : Likelihood
    terms : sequence of constraint terms (see :mod:`.constraints`)
    masses : dict
        Meson and nucleon masses (MeV) of the NMP -> couplings map (the prior's).
    star_config : StarConfig, optional
    executor : executor of :mod:`nucleiml._parallel`, optional
        Where the terms run (blocks of :data:`MIN_TERMS_CHUNK` or more sets per worker): for an ``rmf``
        run, the model's workers. None: in process. Results do not depend on it.
    """

    def __init__(self, finite_nuclei: Likelihood, terms, masses: dict, star_config=None, executor=None):
        self.finite_nuclei = finite_nuclei
        self.terms = tuple(terms)
        self.masses = dict(masses)
        self.star_config = star_config
        self.executor = executor
        self.evaluated = 0
        self.failed = 0

    @classmethod
    def from_config(cls, config) -> JointLikelihood:
        return cls(Likelihood.from_config(config), config.constraints.terms(), config.prior.masses)

    def __getattr__(self, name):
        if name == "finite_nuclei":  # not yet set (unpickling)
            raise AttributeError(name)
        return getattr(self.finite_nuclei, name)

    @property
    def term_names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.terms)

    def terms_loglike(self, nmp: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict]:
        """Sum of the terms at ``nmp`` (n, 7), whether all were valid, and each term's values (see
        :func:`evaluate_terms`), spread over :attr:`executor`."""
        nmp = np.atleast_2d(np.asarray(nmp, dtype=float))
        parts = map_row_chunks(
            self.executor,
            evaluate_terms,
            lambda block: TermsTask(self.terms, self.masses, self.star_config, block),
            nmp,
            MIN_TERMS_CHUNK,
        )
        total = np.concatenate([p[0] for p in parts])
        valid = np.concatenate([p[1] for p in parts])
        each = {t.name: np.concatenate([p[2][t.name] for p in parts]) for t in self.terms}
        return total, valid, each

    def __call__(self, values, valid, badness, nmp) -> np.ndarray:
        nmp = np.asarray(nmp, dtype=float)
        logl = self.finite_nuclei(values, valid, badness, nmp)
        idx = np.nonzero((logl > LOGL_MIN_VALID) & (logl > SKIP_BELOW))[0]
        if idx.size == 0:
            return logl
        total, ok, _ = self.terms_loglike(nmp[idx])
        self.evaluated += idx.size
        self.failed += int(np.count_nonzero(~ok))
        k = len(self.finite_nuclei.nuclei)
        floor = floor_loglike(
            np.ones((idx.size, k), dtype=bool), np.full((idx.size, k), 0.5), nmp[idx], self.low, self.high
        )
        out = logl.copy()
        out[idx] = np.where(ok, np.maximum(logl[idx] + total, LOGL_MIN_VALID), floor)
        return out

    def describe(self) -> dict:
        """The terms as recorded in summary.json: name, kind, summary and reference."""
        return {t.name: {"kind": t.kind, "data": t.summary(), "reference": t.reference} for t in self.terms}
