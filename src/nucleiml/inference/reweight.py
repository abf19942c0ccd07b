"""Joint posteriors by importance reweighting of a finite-nucleus run.

The finite-nucleus posterior p(theta | FN) is sampled first (nested sampling, weighted points w_i); the
constraint terms L_c then reweight it, w'_i = w_i L_c(theta_i) / sum_j w_j L_c(theta_j), which is the
joint posterior p(theta | FN, c) exactly in the limit of many points, and the joint evidence is
Z_joint = Z_FN sum_i w_i L_c(theta_i). The terms are evaluated once per weighted point instead of once per
likelihood call, so a joint run costs about the finite-nucleus run plus a few seconds. It works while the
joint posterior lies inside the finite-nucleus one: the effective sample size (Kish) after reweighting
says how well; ``[constraints] method = "nested"`` samples the joint likelihood directly instead.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy.special import logsumexp

__all__ = ["MIN_ESS", "ReweightError", "kish_ess", "reweight"]

MIN_ESS = 100
"""Below this effective sample size the reweighted posterior is refused."""
TARGET_ESS = 1000
"""Below this effective sample size after reweighting, adaptive importance sampling adds points."""
CHUNK = 2000


class ReweightError(ValueError):
    """Too few effective samples remain after reweighting."""


def kish_ess(weights: np.ndarray) -> float:
    """Kish's effective sample size (sum w)^2 / sum w^2."""
    w = np.asarray(weights, dtype=float)
    return float(w.sum() ** 2 / np.sum(w * w)) if np.any(w > 0) else 0.0


def reweight(
    result, joint, rng: np.random.Generator, finite_nuclei=None, prior=None, target_ess: float = TARGET_ESS
):
    """The joint posterior of a finite-nucleus :class:`SamplerResult` and the terms of ``joint`` (a
    :class:`~nucleiml.inference.joint.JointLikelihood`).

    The weighted points are reweighted by the terms. If fewer than ``target_ess`` effective samples remain
    and ``finite_nuclei`` (the finite-nucleus log-likelihood of physical points) and ``prior`` are given,
    :func:`adaptive_importance` draws new points around the reweighted ones instead.

    Returns
    -------
    (SamplerResult, dict)
        The joint result (equally weighted samples drawn with ``rng``, as many as before) and a record
        (effective sample sizes, points evaluated, seconds, method).

    Raises
    ------
    ReweightError
        If fewer than :data:`MIN_ESS` effective samples remain.
    """
    import time

    t0 = time.perf_counter()
    w = np.asarray(result.weights, dtype=float)
    relevant = np.nonzero(w > 1e-12 * w.max())[0]
    terms = np.full(w.size, -np.inf)
    for start in range(0, relevant.size, CHUNK):
        idx = relevant[start : start + CHUNK]
        total, ok, _ = joint.terms_loglike(result.points[idx])
        terms[idx] = np.where(ok, total, -np.inf)
    with np.errstate(divide="ignore"):
        logw = np.log(w) + terms
    shift = logsumexp(logw)
    if not np.isfinite(shift):
        raise ReweightError("no finite-nucleus posterior point satisfies the constraints (all terms invalid)")
    new_w = np.exp(logw - shift)
    record = {
        "method": "reweight",
        "ess_finite_nuclei": kish_ess(w),
        "ess_reweighted": kish_ess(new_w),
        "points_evaluated": int(relevant.size),
        "points_invalid": int(np.count_nonzero(~np.isfinite(terms[relevant]))),
        "log_evidence_finite_nuclei": float(result.logz),
    }
    points, logl, logz = (
        result.points,
        result.logl + np.where(np.isfinite(terms), terms, 0.0),
        result.logz + shift,
    )
    if record["ess_reweighted"] < target_ess and finite_nuclei is not None and prior is not None:
        points, new_w, logl, logz, ais = adaptive_importance(finite_nuclei, joint, prior, points, new_w, rng)
        record.update(method="reweight, then adaptive importance sampling", adaptive=ais)
    record["ess_joint"] = kish_ess(new_w)
    if record["ess_joint"] < MIN_ESS:
        raise ReweightError(
            f"only {record['ess_joint']:.0f} effective samples remain after reweighting (need {MIN_ESS}): the "
            f"constraints pull the posterior outside the finite-nucleus one; raise [sampler] min_ess or use "
            f'[constraints] method = "nested"'
        )
    keep = new_w > 0
    out = dataclasses.replace(
        result,
        points=points[keep],
        weights=new_w[keep] / new_w[keep].sum(),
        logl=logl[keep],
        samples=points[rng.choice(new_w.size, size=len(result.samples), p=new_w / new_w.sum())],
        logz=float(logz),
    )
    record["seconds"] = round(time.perf_counter() - t0, 3)
    return out, record


# --------------------------------------------------------------------------------------------------
# Adaptive importance sampling: more joint samples where reweighting leaves too few
# --------------------------------------------------------------------------------------------------
def _to_unit(prior, x: np.ndarray) -> np.ndarray:
    """The prior's CDF per NMP: physical (n, 7) -> unit cube (the prior is uniform there)."""
    from scipy.special import ndtr

    from ..parameters import NMP_NAMES

    u = np.empty_like(x)
    for j, name in enumerate(NMP_NAMES):
        d = prior.nmp[name]
        if d.kind == "uniform":
            u[:, j] = (x[:, j] - d.low) / (d.high - d.low)
        else:
            a, b = ndtr((d.low - d.mean) / d.std), ndtr((d.high - d.mean) / d.std)
            u[:, j] = (ndtr((x[:, j] - d.mean) / d.std) - a) / (b - a)
    return u


def _from_unit(prior, u: np.ndarray) -> np.ndarray:
    from ..parameters import NMP_NAMES

    return np.column_stack([prior.nmp[name].ppf(u[:, j]) for j, name in enumerate(NMP_NAMES)])


def _t_proposal(u: np.ndarray, w: np.ndarray, rng: np.random.Generator, n: int, df: float = 4.0, inflate=1.5):
    """n draws from a multivariate Student t fitted to the weighted points u (unit cube), and the log
    density of each draw."""
    from scipy.stats import multivariate_t

    w = w / w.sum()
    mean = w @ u
    cov = np.cov(u.T, aweights=w) * inflate**2 + np.eye(u.shape[1]) * 1e-8
    dist = multivariate_t(loc=mean, shape=cov * (df - 2) / df, df=df, seed=rng)
    draws = np.atleast_2d(dist.rvs(size=n))
    return draws, dist.logpdf(draws), dist


def adaptive_importance(
    finite_nuclei, joint, prior, start_points, start_weights, rng, stages=(3000, 6000, 8000)
):
    """Joint posterior by adaptive importance sampling in the prior's unit cube: each stage draws from a
    Student t (4 degrees of freedom, covariance inflated 1.5x) fitted to the previous stage's weighted joint
    points and weights each draw by prior x L_FN x L_terms / proposal (the prior is uniform in the cube).

    ``finite_nuclei(x)`` gives the finite-nucleus log-likelihood of physical points x (n, 7). Points whose
    finite-nucleus value lies more than 50 below the stage's best are given weight 0 without evaluating the
    terms (their weight would be below exp(-50) of the best). The points of all stages are then weighted
    together against the mixture of the stages' proposals (the deterministic-mixture estimator), which
    uses every evaluation. Returns (points, weights, logl, log Z, record).
    """
    u_prev, w_prev = _to_unit(prior, start_points), np.asarray(start_weights, dtype=float)
    history, drawn = [], []
    for n in stages:
        u, logq, dist = _t_proposal(u_prev, w_prev, rng, n)
        x, logl, record = _stage_loglike(finite_nuclei, joint, prior, u)
        logw = logl - logq
        w = np.exp(logw - logsumexp(logw))
        history.append(
            {"draws": n, **record, "ess": kish_ess(w), "log_evidence": float(logsumexp(logw) - np.log(n))}
        )
        drawn.append((u, x, logl, dist))
        u_prev, w_prev = u, w
    # all stages together, each point weighted against the mixture of the proposals (deterministic mixture)
    u = np.concatenate([d[0] for d in drawn])
    x = np.concatenate([d[1] for d in drawn])
    logl = np.concatenate([d[2] for d in drawn])
    total = u.shape[0]
    logq = logsumexp([np.log(len(d[0]) / total) + d[3].logpdf(u) for d in drawn], axis=0)
    logw = logl - logq
    logz = float(logsumexp(logw) - np.log(total))
    w = np.exp(logw - logsumexp(logw))
    record = {"method": "adaptive importance sampling", "stages": history, "combined_ess": kish_ess(w)}
    return x, w, logl, logz, record


def _stage_loglike(finite_nuclei, joint, prior, u):
    """Physical points of the unit-cube draws u and their joint log-likelihood (-inf outside the cube,
    for invalid terms, and for points more than 50 below the stage's best finite-nucleus value)."""
    n = u.shape[0]
    inside = np.all((u > 0) & (u < 1), axis=1)
    x = _from_unit(prior, np.clip(u, 1e-12, 1 - 1e-12))
    logl = np.full(n, -np.inf)
    fn = finite_nuclei(x[inside])
    best = np.max(fn) if fn.size else -np.inf
    keep = np.nonzero(inside)[0][fn > best - 50.0]
    total, ok, _ = joint.terms_loglike(x[keep])
    logl[keep] = np.where(ok, fn[fn > best - 50.0] + total, -np.inf)
    return x, logl, {"inside_prior": int(inside.sum()), "terms_evaluated": int(keep.size)}
