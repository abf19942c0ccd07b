"""Nested sampling of a vectorised log-likelihood over the seven NMPs, with UltraNest or dynesty.

The only module that imports the samplers (``ultranest``, ``dynesty``; the ``infer`` extra).

- **UltraNest** (default): ``ReactiveNestedSampler`` with ``vectorized=True`` (the likelihood gets batches
  of ``batch_min`` .. ``batch_max`` points), resumable from its log directory: every point it accepts is
  appended to ``LOG_DIR/results/points.tsv``, so a run stopped by Ctrl-C, a kill or ``max_ncalls`` continues
  where it stopped (``resume=True``), replaying the stored points without new likelihood calls (rejected
  draws are not stored). A
  likelihood plateau (the box shape's ``log L = 0``) is handled by UltraNest: tied live points are removed
  without replacement and the run ends when the live points agree to within ``Lepsilon``. UltraNest draws
  from numpy's global random state; it is seeded from ``seed`` and restored afterwards.
- **dynesty** (a cross-check): static ``NestedSampler``, one point per call (dynesty does not vectorise),
  seeded by ``numpy.random.default_rng(seed)``; it stops at a plateau by itself. It does not resume and
  writes nothing to ``log_dir``.

The prior transform maps the unit cube through the inverse CDF of each NMP's prior
(:meth:`~nucleiml.datasets.Distribution.ppf`: uniform, or Gaussian truncated to [low, high]).
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..parameters import NMP_NAMES
from ._deps import require

__all__ = ["SamplerResult", "prior_transform", "run_sampler"]

POINTS_FILE = "points.tsv"


@dataclass(frozen=True)
class SamplerResult:
    """Outcome of a nested-sampling run.

    Attributes
    ----------
    backend : str
        ``"ultranest"`` or ``"dynesty"``.
    names : tuple of str
        Parameter names (columns of the point arrays).
    points : ndarray, shape (N, d)
        Weighted posterior samples (the dead points and the final live points).
    weights : ndarray, shape (N,)
        Their normalised weights (sum 1).
    logl : ndarray, shape (N,)
        Their log-likelihoods.
    samples : ndarray, shape (M, d)
        Equally weighted posterior samples.
    logz, logzerr : float
        Natural log of the evidence and its uncertainty.
    ncall : int
        Likelihood evaluations counted by the sampler (over all sessions of a resumed run).
    niter : int
        Nested-sampling iterations.
    info : dict
        Further diagnostics (effective sample size, error budget, ...), plain JSON.
    """

    backend: str
    names: tuple[str, ...]
    points: np.ndarray
    weights: np.ndarray
    logl: np.ndarray
    samples: np.ndarray
    logz: float
    logzerr: float
    ncall: int
    niter: int
    info: dict = field(default_factory=dict)


def prior_transform(prior) -> Callable[[np.ndarray], np.ndarray]:
    """Vectorised map from the unit cube (n, 7) to NMPs (n, 7) through the prior's inverse CDFs.

    Parameters
    ----------
    prior : nucleiml.datasets.Prior

    Returns
    -------
    callable
        ``transform(u)`` for ``u`` of shape (n, 7) or (7,), returning the same shape.
    """
    dists = [prior.nmp[k] for k in NMP_NAMES]

    def transform(u: np.ndarray) -> np.ndarray:
        u = np.asarray(u, dtype=float)
        flat = np.atleast_2d(u)
        x = np.empty_like(flat)
        for i, d in enumerate(dists):
            x[:, i] = d.ppf(flat[:, i])
        return x.reshape(u.shape)

    return transform


@contextlib.contextmanager
def _ultranest_logging(log_dir: Path | None, progress: bool):
    """Route UltraNest's log to LOG_DIR/debug.log (and INFO to stderr with ``progress``) for one run, and
    its status line to stderr, so that stdout stays free for results."""
    logger = logging.getLogger("ultranest")
    saved = (list(logger.handlers), logger.level, logger.propagate)
    for h in saved[0]:
        logger.removeHandler(h)
    handlers: list[logging.Handler] = [logging.NullHandler()]
    if log_dir is not None:
        fh = logging.FileHandler(log_dir / "debug.log")
        fh.setLevel(logging.DEBUG)
        fh.setFormatter(logging.Formatter("%(asctime)s [ultranest] [%(levelname)s] %(message)s", "%H:%M:%S"))
        handlers.append(fh)
    if progress:
        sh = logging.StreamHandler(sys.stderr)
        sh.setLevel(logging.INFO)
        sh.setFormatter(logging.Formatter("[ultranest] %(message)s"))
        handlers.append(sh)
    for h in handlers:
        logger.addHandler(h)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    try:
        with contextlib.redirect_stdout(sys.stderr if progress else _Null()):
            yield
    finally:
        for h in handlers:
            logger.removeHandler(h)
            h.close()
        for h in saved[0]:
            logger.addHandler(h)
        logger.setLevel(saved[1])
        logger.propagate = saved[2]


class _Null:
    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        return None


@contextlib.contextmanager
def _seeded_global_numpy(seed: int):
    # UltraNest draws from numpy's legacy global generator and takes no Generator argument
    state = np.random.get_state()  # noqa: NPY002
    np.random.seed(seed)  # noqa: NPY002
    try:
        yield
    finally:
        np.random.set_state(state)  # noqa: NPY002


def _prepare_log_dir(log_dir: str | Path | None, resume: bool) -> Path | None:
    if log_dir is None:
        return None
    path = Path(log_dir)
    if not resume and path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True, exist_ok=True)
    return path


def run_sampler(
    loglike: Callable[[np.ndarray], np.ndarray],
    prior,
    config,
    *,
    log_dir: str | Path | None = None,
    resume: bool = False,
    progress: bool = True,
    names: tuple[str, ...] = NMP_NAMES,
) -> SamplerResult:
    """Sample the posterior of a vectorised log-likelihood under a prior.

    Parameters
    ----------
    loglike : callable
        ``loglike(x)`` for NMPs ``x`` of shape (n, 7) returns n finite log-likelihoods.
    prior : nucleiml.datasets.Prior
        Or any object with a ``transform``-compatible ``nmp`` mapping (see :func:`prior_transform`); a
        callable is used as the transform itself (unit cube (n, d) -> parameters (n, d)).
    config : nucleiml.inference.runfile.SamplerConfig
        Backend, live points, stopping criteria, batch sizes, seed.
    log_dir : path, optional
        Directory for the sampler's files (resume data, log). None: nothing is written and no resume.
    resume : bool
        Continue the run stored in ``log_dir``; False deletes ``log_dir`` and starts afresh.
    progress : bool
        Show the sampler's status line and log on stderr.
    names : tuple of str
        Parameter names (length d).

    Returns
    -------
    SamplerResult

    Raises
    ------
    MissingInferExtraError
        If the backend's package is not installed (an ``ImportError`` naming the ``infer`` extra).
    ValueError
        If ``resume`` is asked of a backend other than ultranest.
    KeyboardInterrupt
        Passed on from the likelihood or Ctrl-C; the stored points let a later call resume.
    """
    if resume and config.backend != "ultranest":
        raise ValueError(f"resume needs the ultranest backend; {config.backend} runs cannot be resumed")
    transform = prior if callable(prior) else prior_transform(prior)
    if config.backend == "ultranest":
        return _run_ultranest(loglike, transform, names, config, _prepare_log_dir(log_dir, resume), progress)
    return _run_dynesty(loglike, transform, names, config, progress)


def _run_ultranest(loglike, transform, names, cfg, log_dir: Path | None, progress: bool) -> SamplerResult:
    ultranest = require("ultranest")
    store_mod = require("ultranest.store")
    d = len(names)

    def like(x):  # UltraNest asserts finite values; the likelihood guarantees them
        return np.asarray(loglike(x), dtype=float)

    t0 = time.perf_counter()
    with _ultranest_logging(log_dir, progress), _seeded_global_numpy(cfg.seed):
        sampler = ultranest.ReactiveNestedSampler(
            list(names),
            like,
            transform,
            log_dir=None if log_dir is None else str(log_dir),
            resume="resume" if log_dir is not None else "overwrite",
            vectorized=True,
            ndraw_min=cfg.batch_min,
            ndraw_max=cfg.batch_max,
            storage_backend="csv",
        )
        store = None
        if log_dir is not None:
            # UltraNest 4.6 writes its csv store with commas but reads it back split on whitespace, so it
            # never resumes from it (and h5py, for the hdf5 store, is not a dependency): use its text store
            # with the default tab delimiter, which round-trips.
            sampler.pointstore.close()
            (log_dir / "results" / "points.csv").unlink(missing_ok=True)
            store = store_mod.TextPointStore(str(log_dir / "results" / POINTS_FILE), 3 + 2 * d)
            sampler.pointstore = store
            sampler.ncall = store.ncalls
        try:
            res = sampler.run(
                min_num_live_points=cfg.live_points,
                dlogz=cfg.dlogz,
                frac_remain=cfg.frac_remain,
                min_ess=cfg.min_ess,
                max_ncalls=cfg.max_ncalls,
                show_status=progress,
                viz_callback=False,
            )
        finally:
            if store is not None:
                store.close()
    ws = res["weighted_samples"]
    info = {
        "logzerr_bootstrap": float(res.get("logzerr_bs", np.nan)),
        "logzerr_single": float(res.get("logzerr_single", np.nan)),
        "logzerr_tail": float(res.get("logzerr_tail", np.nan)),
        "ess": float(res.get("ess", np.nan)),
        "information_gain_nats": float(res.get("H", np.nan)),
        "max_logl": float(res["maximum_likelihood"]["logl"]),
        "insertion_order_test_converged": bool(
            res.get("insertion_order_MWW_test", {}).get("converged", True)
        ),
        "seconds": time.perf_counter() - t0,
    }
    weights = np.asarray(ws["weights"], dtype=float)
    return SamplerResult(
        backend="ultranest",
        names=tuple(names),
        points=np.asarray(ws["points"], dtype=float),
        weights=weights / weights.sum(),
        logl=np.asarray(ws["logl"], dtype=float),
        samples=np.asarray(res["samples"], dtype=float),
        logz=float(res["logz"]),
        logzerr=float(res["logzerr"]),
        ncall=int(res["ncall"]),
        niter=int(res["niter"]),
        info=info,
    )


def _run_dynesty(loglike, transform, names, cfg, progress: bool) -> SamplerResult:
    dynesty = require("dynesty")
    d = len(names)
    rng = np.random.default_rng(cfg.seed)

    def like(x):
        return float(np.asarray(loglike(np.asarray(x, dtype=float)[None, :]))[0])

    def tr(u):
        return transform(np.asarray(u, dtype=float)[None, :])[0]

    t0 = time.perf_counter()
    sampler = dynesty.NestedSampler(like, tr, d, nlive=cfg.live_points, rstate=rng)
    with contextlib.redirect_stdout(sys.stderr):
        sampler.run_nested(dlogz=cfg.dlogz, maxcall=cfg.max_ncalls, print_progress=progress)
    r = sampler.results
    logwt = np.asarray(r.logwt, dtype=float)
    w = np.exp(logwt - logwt.max())
    w /= w.sum()
    ncall = int(np.sum(r.ncall))
    eff_n = float(1.0 / np.sum(w * w))
    samples = dynesty.utils.resample_equal(np.asarray(r.samples), w, rstate=rng)
    return SamplerResult(
        backend="dynesty",
        names=tuple(names),
        points=np.asarray(r.samples, dtype=float),
        weights=w,
        logl=np.asarray(r.logl, dtype=float),
        samples=np.asarray(samples, dtype=float),
        logz=float(r.logz[-1]),
        logzerr=float(r.logzerr[-1]),
        ncall=ncall,
        niter=int(r.niter),
        info={"ess": eff_n, "max_logl": float(np.max(r.logl)), "seconds": time.perf_counter() - t0},
    )
