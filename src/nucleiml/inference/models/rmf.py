"""The ``rmf`` model: NMPs -> couplings (``couplings_from_nmp_array``) -> the batched spherical RMF solver
(``solve_batch``) per nucleus, in parallel over local worker processes or an existing Dask cluster.

A batch from the sampler is cut into contiguous chunks, one task per chunk; a task inverts and solves its
chunk batched per nucleus and returns plain arrays. The executors are those of ``nucleiml generate``
(:mod:`nucleiml._parallel`: local processes started with ``spawn`` and single-threaded BLAS that leave Ctrl-C
to the driver and exit with it, or a ``distributed.Client``), through their ordered ``map``; with one local
worker and no scheduler the work runs in the calling process.

A point is valid for a nucleus when physical couplings exist and the solver converged. The floor's
``badness`` is 1 without couplings (*nc_a*) and 1/2 when the solver did not converge (*nc_b*): couplings
that exist are closer to a valid point. A converged solve far from experiment (the datasets' *nc_c*) is
valid here: its likelihood is already negligible (>= 10 widths away at the default 2 % tolerance).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..._parallel import default_workers, make_executor, map_row_chunks
from ..._provenance import code_fingerprint
from ...nuclei import Nucleus, parse_nucleus
from ...parameters import MASS_NAMES, NMP_NAMES
from . import Evaluation, ModelError

__all__ = ["RMFModel", "RMFTask", "evaluate_chunk"]

MIN_CHUNK = 16
"""Smallest chunk sent to a worker (the solver is more efficient on larger batches)."""


@dataclass(frozen=True)
class RMFTask:
    """One chunk: parameter sets ``nmp`` (m, 7) in ``NMP_NAMES`` order, the masses (MeV), the nuclei as
    (Z, N) pairs and the :class:`~nucleiml.solver.SolverConfig` keyword arguments."""

    nmp: np.ndarray
    masses: dict
    nuclei: tuple[tuple[int, int], ...]
    solver: dict = field(default_factory=dict)


def evaluate_chunk(task: RMFTask) -> dict[str, np.ndarray]:
    """Invert and solve one chunk (runs in a worker). Returns ``binding_energy``, ``charge_radius`` and
    ``neutron_skin`` (m, k) (MeV, fm, fm; NaN where not converged), the inversion ``code`` (m,) (0 = physical
    couplings), the solver ``status`` (m, k) (0 = converged, -1 = not run) and the wall ``seconds``."""
    from ...nuclear_matter import couplings_from_nmp_array
    from ...parameters import COUPLING_NAMES
    from ...solver import SolverConfig, solve_batch

    t0 = time.perf_counter()
    nmp = np.asarray(task.nmp, dtype=float)
    m, k = nmp.shape[0], len(task.nuclei)
    be = np.full((m, k), np.nan)
    rc = np.full((m, k), np.nan)
    skin = np.full((m, k), np.nan)
    status = np.full((m, k), -1, dtype=np.int8)
    inv = couplings_from_nmp_array(nmp, **task.masses)
    ok = np.asarray(inv.ok, dtype=bool)
    if ok.any():
        cfg = SolverConfig(**task.solver)
        cols = {c: np.asarray(inv.couplings[c])[ok] for c in COUPLING_NAMES}
        cols.update(task.masses)
        for j, (Z, N) in enumerate(task.nuclei):
            res = solve_batch(cols, Nucleus(Z, N), cfg)
            be[ok, j] = res.binding_energy
            rc[ok, j] = res.charge_radius
            skin[ok, j] = res.neutron_radius - res.proton_radius
            status[ok, j] = res.status
    return {
        "binding_energy": be,
        "charge_radius": rc,
        "neutron_skin": skin,
        "code": np.asarray(inv.code, dtype=np.int8),
        "status": status,
        "seconds": np.float64(time.perf_counter() - t0),
    }


class RMFModel:
    """Couplings inversion + RMF solver for ``nuclei`` behind the :class:`~nucleiml.inference.models.Model`
    interface.

    Parameters
    ----------
    nuclei : sequence
        Nuclei (names, (Z, N) pairs or :class:`~nucleiml.Nucleus`).
    masses : mapping
        ``m_sigma``, ``m_omega``, ``m_rho``, ``M`` in MeV (the prior's masses).
    workers : int, optional
        Local worker processes (None: all cores; 1: in the calling process). Ignored with ``scheduler``.
    scheduler : str or distributed.Client, optional
        An existing Dask cluster to send the chunks to.
    max_iterations : int, optional
        Solver iteration budget (None: the solver's default).

    Raises
    ------
    ModelError
        For missing masses or an invalid solver setting.

    Notes
    -----
    Worker processes start on the first :meth:`evaluate` and stop with :meth:`close` (or the ``with``
    block). Scripts using local workers need the usual ``if __name__ == "__main__":`` guard (``spawn``).
    """

    name = "rmf"

    def __init__(
        self,
        nuclei,
        masses,
        *,
        workers: int | None = None,
        scheduler=None,
        max_iterations=None,
        executor=None,
    ):
        from ...solver import SolverConfig

        nucs = [parse_nucleus(n) for n in nuclei]
        self.nuclei = tuple(n.name for n in nucs)
        self._zn = tuple((n.Z, n.N) for n in nucs)
        missing = [m for m in MASS_NAMES if m not in masses]
        if missing:
            raise ModelError(f"masses lack {', '.join(missing)} (MeV)")
        self.masses = {m: float(masses[m]) for m in MASS_NAMES}
        self.solver = {} if max_iterations is None else {"max_iterations": int(max_iterations)}
        try:
            SolverConfig(**self.solver)
        except ValueError as exc:
            raise ModelError(str(exc)) from None
        self.scheduler = scheduler
        self.workers = None if scheduler is not None else (workers or default_workers())
        self._executor = executor
        self._own_executor = executor is None  # a shared executor is its owner's to close
        self.calls = 0
        self.points = 0
        self.seconds = 0.0

    @classmethod
    def from_config(cls, config, nuclei=None, executor=None) -> RMFModel:
        """The rmf model of a run config (its nuclei or ``nuclei``, the prior's masses, ``[model]`` workers,
        scheduler, max_iterations), on ``executor`` if given (workers already running, e.g. another rmf
        model's; not closed by this model)."""
        m = config.model
        return cls(
            config.data.nuclei if nuclei is None else nuclei,
            dict(config.prior.masses),
            workers=m.workers,
            scheduler=m.scheduler,
            max_iterations=m.max_iterations,
            executor=executor,
        )

    @property
    def parallel(self) -> int:
        """Worker slots: local processes, or the Dask cluster's threads once connected."""
        if self.scheduler is None:
            return self.workers
        return getattr(self._executor, "capacity", 2) // 2

    def _start(self):
        if self._executor is None:
            self._executor = make_executor(self.workers, self.scheduler, ModelError)
        return self._executor

    @property
    def executor(self):
        """The model's workers (started on first use; None when it runs in process): a joint run spreads
        its constraint terms and derived quantities over them too."""
        return self._start()

    def evaluate(self, nmp: np.ndarray) -> Evaluation:
        """Solve every nucleus for the parameter sets ``nmp`` (n, 7); see :meth:`Model.evaluate`."""
        t0 = time.perf_counter()
        nmp = np.atleast_2d(np.asarray(nmp, dtype=float))
        if nmp.ndim != 2 or nmp.shape[1] != len(NMP_NAMES):
            raise ValueError(f"nmp must have shape (n, {len(NMP_NAMES)}), got {nmp.shape}")
        n, k = nmp.shape[0], len(self.nuclei)
        if n == 0:
            out = {
                "binding_energy": np.empty((0, k)),
                "charge_radius": np.empty((0, k)),
                "neutron_skin": np.empty((0, k)),
                "code": np.empty(0, dtype=np.int8),
                "status": np.empty((0, k), dtype=np.int8),
            }
        else:
            parts = map_row_chunks(
                self._start(),
                evaluate_chunk,
                lambda c: RMFTask(c, self.masses, self._zn, self.solver),
                nmp,
                MIN_CHUNK,
            )
            out = {
                key: np.concatenate([p[key] for p in parts])
                for key in ("binding_energy", "charge_radius", "neutron_skin", "code", "status")
            }
        has_couplings = (out["code"] == 0)[:, None]
        converged = out["status"] == 0
        valid = has_couplings & converged
        badness = np.where(valid, 0.0, np.where(has_couplings, 0.5, 1.0))
        label = np.where(valid, "convergent", np.where(has_couplings, "nc_b", "nc_a")).astype(object)
        self.calls += 1
        self.points += n
        self.seconds += time.perf_counter() - t0
        return Evaluation(
            self.nuclei,
            np.where(valid, out["binding_energy"], np.nan),
            np.where(valid, out["charge_radius"], np.nan),
            valid,
            badness,
            label,
            neutron_skin=np.where(valid, out["neutron_skin"], np.nan),
        )

    def describe(self) -> dict[str, Any]:
        if self.scheduler is not None:
            where = f"Dask scheduler {self.scheduler}"
        else:
            where = f"{self.workers} local worker process{'es' if self.workers != 1 else ''}"
            if self.workers == 1:
                where = "in process"
        return {
            "model": self.name,
            "nuclei": list(self.nuclei),
            "masses_MeV": dict(self.masses),
            "solver": dict(self.solver) or "defaults",
            "parallel": where,
            "code_fingerprint": code_fingerprint(),
        }

    def close(self, *, abort: bool = False) -> None:
        """Stop the workers (``abort``: without waiting for running tasks)."""
        if self._executor is not None:
            ex, self._executor = self._executor, None
            if self._own_executor:
                ex.close(abort=abort)

    def __enter__(self) -> RMFModel:
        return self

    def __exit__(self, exc_type, *exc) -> None:
        self.close(abort=exc_type is not None)
