"""Dataset generation: sample NMPs from a prior, invert to couplings, solve each nucleus, label, write Parquet.

Work is cut into chunks of ``chunk_size`` consecutive samples. Chunk ``c`` holds samples
``c * chunk_size ..`` and draws them from ``numpy.random.default_rng(SeedSequence([seed, c]))``, so the
table depends on the seed and the chunk size only -- not on the number of workers, the scheduler or the
order in which chunks finish. Consecutive chunks go to one worker (a local process or a Dask worker) in a
group of up to ``GROUP_SAMPLES`` samples, solved batched with one solver call per nucleus (the solver's
results do not depend on batch-mates); the driver writes each chunk atomically as its own part. A finished
part is never recomputed, so an interrupted run (Ctrl-C, kill -9) resumes where it stopped with the same command.
Asking for more samples extends a dataset (a last partial chunk is recomputed whole and replaced).

Every column is reproducible bit for bit except ``solve_seconds`` (a wall time). Worker processes run
their BLAS single-threaded (as Dask workers do by default) so that results do not depend on thread counts.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import time
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .._atomic import atomic_write_json
from .._parallel import DaskExecutor, LocalExecutor, default_workers
from .._paths import as_path
from .._provenance import code_fingerprint
from ..nuclei import Nucleus, parse_nuclei
from ..parameters import COUPLING_NAMES, NMP_NAMES, shown
from . import store
from .labels import DEFAULT_THRESHOLD, LABELS, label_nucleus
from .prior import Prior, default_prior, load_prior
from .store import DatasetError

__all__ = ["DEFAULT_CHUNK_SIZE", "ChunkTask", "GenerateResult", "generate", "solve_chunk", "solve_chunks"]

FORMAT = "nucleiml-dataset"
FORMAT_VERSION = 1
DEFAULT_CHUNK_SIZE = 100
MAX_SAMPLES = 10**9


# --------------------------------------------------------------------------------------------------
# the unit of work (runs in a worker process; plain picklable data in and out)
@dataclass(frozen=True)
class ChunkTask:
    """Samples ``start .. start + n - 1`` of chunk ``chunk``; ``prior`` as plain data (``Prior.to_dict``),
    ``nuclei`` as (Z, N) pairs with their experimental binding energies ``b_exp`` (MeV), ``solver`` the
    :class:`~nucleiml.solver.SolverConfig` keyword arguments, ``threshold`` the nc_c fraction."""

    chunk: int
    start: int
    n: int
    chunk_size: int
    seed: int
    prior: dict
    nuclei: tuple[tuple[int, int], ...]
    b_exp: tuple[float, ...]
    solver: dict = field(default_factory=dict)
    threshold: float = DEFAULT_THRESHOLD


def chunk_generator(seed: int, chunk: int) -> np.random.Generator:
    """The random generator of chunk ``chunk`` of a dataset with seed ``seed``."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), int(chunk)]))


class _Drawn(NamedTuple):
    """A chunk's NMP draws (columns of ``n`` values), their couplings inversion and its ``ok`` mask."""

    nmp: dict
    inv: object
    ok: np.ndarray


class _Solved(NamedTuple):
    """One nucleus's solver output for the members of one chunk with physical couplings."""

    observables: dict
    status: np.ndarray
    iterations: np.ndarray
    seconds_per_member: float


def _draw(task: ChunkTask, prior: Prior) -> _Drawn:
    """The chunk's samples from ``prior`` (the task's, parsed once per group) and their inversion."""
    from ..nuclear_matter import couplings_from_nmp_array

    nmp = {
        k: v[: task.n]
        for k, v in prior.sample(task.chunk_size, chunk_generator(task.seed, task.chunk)).items()
    }
    # the scan: rows stay those of earlier versions bit for bit (the quartic's couplings differ in the
    # last digits; the inversion is a negligible part of a solve)
    inv = couplings_from_nmp_array(nmp, **prior.masses, method="scan")
    return _Drawn(nmp, inv, np.asarray(inv.ok, dtype=bool))


def _solve_nucleus(drawn: list[_Drawn], nucleus: Nucleus, cfg, masses: dict) -> list[_Solved | None]:
    """Solve ``nucleus`` for the members with physical couplings of all chunks ``drawn`` in one solver call
    and cut the result back into chunks (None for a chunk without such members). The solver's results do
    not depend on batch-mates, so they equal those of one call per chunk bit for bit."""
    from ..solver import solve_batch

    counts = [int(d.ok.sum()) for d in drawn]
    if not sum(counts):
        return [None] * len(drawn)
    mapping = {
        k: np.concatenate([np.asarray(d.inv.couplings[k])[d.ok] for d in drawn]) for k in COUPLING_NAMES
    }
    mapping.update(masses)
    res = solve_batch(mapping, nucleus, cfg)
    per_member = res.seconds / len(res)
    out: list[_Solved | None] = []
    for start, count in zip(np.cumsum([0, *counts[:-1]]), counts, strict=True):
        part = slice(int(start), int(start) + count)
        out.append(
            _Solved(
                {k: getattr(res, k)[part] for k in store.OBSERVABLES},
                res.status[part],
                res.iterations[part],
                per_member,
            )
            if count
            else None
        )
    return out


def _nucleus_columns(task: ChunkTask, drawn: _Drawn, solved: _Solved | None, b_exp: float) -> dict:
    """Observables, label, reason, iterations and solve time of one nucleus for the ``task.n`` samples."""
    from ..solver import SolverStatus

    n, ok = task.n, drawn.ok
    obs = {k: np.full(n, np.nan) for k in store.OBSERVABLES}
    converged = np.zeros(n, dtype=bool)
    solver_reason = np.full(n, "", dtype=object)
    iterations = np.full(n, -1, dtype=np.int32)
    seconds = np.full(n, np.nan)
    if solved is not None:
        for k in store.OBSERVABLES:
            obs[k][ok] = solved.observables[k]
        converged[ok] = solved.status == SolverStatus.CONVERGED
        solver_reason[ok] = [SolverStatus(int(s)).message for s in solved.status]
        iterations[ok] = solved.iterations
        seconds[ok] = solved.seconds_per_member
    label, reason = label_nucleus(
        ok, drawn.inv.reason, converged, solver_reason, obs["binding_energy"], b_exp, task.threshold
    )
    return {**obs, "label": label, "reason": reason, "iterations": iterations, "solve_seconds": seconds}


def _chunk_columns(task: ChunkTask, drawn: _Drawn, per_nucleus: list[dict]) -> dict[str, np.ndarray]:
    """The rows of one chunk: sample-major, nuclei in task order."""
    n, n_nuc = task.n, len(task.nuclei)
    cols: dict[str, np.ndarray] = {
        "sample_id": np.repeat(np.arange(task.start, task.start + n, dtype=np.int64), n_nuc)
    }
    for k in NMP_NAMES:
        cols[k] = np.repeat(drawn.nmp[k], n_nuc)
    for k in COUPLING_NAMES:
        cols[k] = np.repeat(np.asarray(drawn.inv.couplings[k], dtype=float), n_nuc)
    cols["Z"] = np.tile(np.array([z for z, _ in task.nuclei], dtype=np.int16), n)
    cols["N"] = np.tile(np.array([nn for _, nn in task.nuclei], dtype=np.int16), n)
    cols["nucleus"] = np.tile(np.array([Nucleus(z, nn).name for z, nn in task.nuclei], dtype=object), n)
    for k in per_nucleus[0]:
        cols[k] = np.stack([d[k] for d in per_nucleus], axis=1).reshape(-1)  # (n, n_nuc) row-major
    cols["_code"] = code_fingerprint()
    return cols


def solve_chunks(tasks: Sequence[ChunkTask]) -> list[dict[str, np.ndarray]]:
    """Rows of several chunks of one dataset (see :func:`solve_chunk`), solved with one solver call per
    nucleus for all of them: the solver's few slow members then run together instead of alone in each
    chunk. Every column equals :func:`solve_chunk`'s bit for bit, except ``solve_seconds`` (the call's
    average per member).

    Raises
    ------
    DatasetError
        If ``tasks`` is empty or its chunks differ in anything but their extent.
    """
    from ..solver import SolverConfig

    tasks = list(tasks)
    if not tasks:
        raise DatasetError("solve_chunks needs at least one ChunkTask")
    shared = [replace(t, chunk=0, start=0, n=0) for t in tasks]
    if any(s != shared[0] for s in shared):
        raise DatasetError(
            "solve_chunks: the chunks must come from one dataset (same seed, prior, nuclei, solver)"
        )
    first = tasks[0]
    prior = Prior.from_dict(first.prior)
    drawn = [_draw(t, prior) for t in tasks]
    cfg = SolverConfig(**first.solver)
    per_chunk: list[list[dict]] = [[] for _ in tasks]
    for (Z, N), b_exp in zip(first.nuclei, first.b_exp, strict=True):
        solved = _solve_nucleus(drawn, Nucleus(Z, N), cfg, prior.masses)
        for cols, task, d, s in zip(per_chunk, tasks, drawn, solved, strict=True):
            cols.append(_nucleus_columns(task, d, s, b_exp))
    return [_chunk_columns(t, d, p) for t, d, p in zip(tasks, drawn, per_chunk, strict=True)]


def solve_chunk(task: ChunkTask) -> dict[str, np.ndarray]:
    """Rows of one chunk as a dict of numpy arrays (dataset columns), sample-major, nuclei in task order;
    key ``"_code"`` holds the :func:`code_fingerprint` of the worker that computed them."""
    return solve_chunks([task])[0]


GROUP_SAMPLES = 1000
"""Consecutive chunks to compute are sent to a worker together, up to this many samples (about 380 members
with physical couplings on the default prior), and solved with one solver call per nucleus
(:func:`solve_chunks`); each chunk is still written as its own part."""

GROUPS_PER_SLOT = 2
"""...but chunks are grouped less where that would leave fewer than this many groups per task slot of the
executor, so that the work stays spread over the workers to the end."""


def _group_tasks(todo: list[ChunkTask], chunk_size: int, capacity: int) -> list[tuple[ChunkTask, ...]]:
    """``todo`` cut into runs of consecutive tasks, the work units sent to the executor."""
    size = max(1, min(GROUP_SAMPLES // chunk_size, math.ceil(len(todo) / (GROUPS_PER_SLOT * capacity))))
    return [tuple(todo[i : i + size]) for i in range(0, len(todo), size)]


def _group_key(group: tuple[ChunkTask, ...]) -> str:
    """Dask key of a group of chunk tasks (unique per driver process)."""
    return f"nucleiml-chunks-{group[0].chunk}-{group[-1].chunk}-{os.getpid()}"


# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GenerateResult:
    """Outcome of :func:`generate`: the dataset directory, its card (a dict), the chunks computed in this
    call, and the wall time of this call in seconds."""

    path: Path
    card: dict
    computed_chunks: int
    seconds: float


def _settings(prior: Prior, nuclei, seed: int, chunk_size: int, solver: dict, threshold: float) -> dict:
    return {
        "prior": prior.to_dict(),
        "nuclei": [n.name for n in nuclei],
        "seed": seed,
        "chunk_size": chunk_size,
        "solver": solver,
        "nc_c_threshold": threshold,
    }


def _check_matches(card: dict, settings: dict, root: Path) -> None:
    diffs = [k for k, v in settings.items() if card.get(k) != v]
    if diffs:
        details = "; ".join(f"{k}: dataset has {card.get(k)!r}, asked {settings[k]!r}" for k in diffs)
        raise DatasetError(
            f"{root} was generated with other settings ({details}); use the same options to resume or "
            f"extend it, or another --out directory"
        )


class _Tally:
    """What the parts of a dataset hold: rows per label and per (nucleus, label), samples, and the number of
    parts per code fingerprint."""

    def __init__(self) -> None:
        self.total: Counter = Counter()
        self.by_nucleus: Counter = Counter()
        self.done = 0
        self.codes: Counter = Counter()

    @classmethod
    def of_parts(cls, paths) -> _Tally:
        tally = cls()
        for path in paths:
            t = store.read_part(path, ["sample_id", "nucleus", "label"])
            labels = t.column("label").to_pylist()
            tally.total.update(labels)
            tally.by_nucleus.update(zip(t.column("nucleus").to_pylist(), labels, strict=True))
            tally.done += len(set(t.column("sample_id").to_pylist()))
            tally.codes[str(store.table_metadata(t, path).get("code"))] += 1
        return tally

    def add(self, cols: dict, n_samples: int, code: str) -> None:
        self.total.update(cols["label"].tolist())
        self.by_nucleus.update(zip(cols["nucleus"].tolist(), cols["label"].tolist(), strict=True))
        self.done += n_samples
        self.codes[code] += 1

    def counts_dict(self, nuclei: list[str]) -> dict:
        return {
            "total": {lab: int(self.total.get(lab, 0)) for lab in LABELS},
            "by_nucleus": {n: {lab: int(self.by_nucleus.get((n, lab), 0)) for lab in LABELS} for n in nuclei},
        }


def _check_int(name: str, value, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or not lo <= value <= hi:
        raise DatasetError(f"{name} must be an integer in [{lo}, {hi}], got {shown(value)}")
    return int(value)


def generate(
    out: str | Path,
    samples: int,
    nuclei="paper",
    *,
    prior: Prior | str | Path | None = None,
    seed: int = 0,
    workers: int | None = None,
    scheduler=None,
    chunk_size: int | None = None,
    max_iterations: int | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    progress: bool | Callable[[int, int], None] = False,
) -> GenerateResult:
    """Generate (or resume, or extend) the dataset in directory ``out``.

    ``samples``: total number of NMP samples wanted; ``nuclei``: anything :func:`nucleiml.parse_nuclei`
    accepts (default the paper's five); ``prior``: a :class:`Prior`, a TOML path or None (the default
    prior); ``seed``: non-negative integer; ``workers``: local worker processes (default all cores), ignored
    when ``scheduler`` (a Dask scheduler address such as ``"tcp://host:8786"`` or a
    ``distributed.Client``) is given; ``chunk_size``: samples per chunk and part, fixed for a dataset (None: the
    dataset's, or ``DEFAULT_CHUNK_SIZE`` = 100 for a new one);
    ``max_iterations``: solver iteration budget (None: the solver default); ``threshold``: nc_c fraction;
    ``progress``: True for a tqdm bar on stderr, or a callback ``(samples_done, samples_total)``.

    Raises ``DatasetError``/``PriorError``/``NucleusError`` (ValueErrors) for bad input, for nuclei without
    an experimental binding energy, and when ``out`` holds a dataset made with other settings.
    """
    t_start = time.perf_counter()
    req = _validated_request(
        out,
        samples=samples,
        nuclei=nuclei,
        prior=prior,
        seed=seed,
        workers=workers,
        scheduler=scheduler,
        chunk_size=chunk_size,
        max_iterations=max_iterations,
        threshold=threshold,
    )
    root = req.root
    with store.locked(root):
        store.remove_temporaries(root)
        card = _open_card(root, req.settings, req.samples)
        plan = _plan_chunks(root, req)
        tally = _Tally.of_parts(plan.keep)
        writer = _CardWriter(root / store.CARD_NAME, card, t_start)
        bar_class = store.require("tqdm").tqdm if progress is True and plan.todo else None
        executor = None
        if plan.todo:  # connect first: a scheduler that cannot be reached leaves no card behind
            executor = (
                DaskExecutor(scheduler, DatasetError) if scheduler is not None else LocalExecutor(req.workers)
            )
            writer.workers = executor.description
        try:
            writer.save(tally, complete=not plan.todo)
        except BaseException:
            if executor is not None:
                executor.close(abort=True)
            raise
        if executor is not None:
            _run_chunks(executor, plan, req, tally, writer, progress, bar_class)
        writer.save(tally, complete=tally.done == req.samples)
    return GenerateResult(root, card, len(plan.todo), time.perf_counter() - t_start)


class _Request(NamedTuple):
    """The validated arguments of :func:`generate`."""

    root: Path
    samples: int
    seed: int
    workers: int | None
    chunk_size: int
    threshold: float
    solver: dict  # SolverConfig overrides
    nuclei: tuple
    b_exp: tuple  # experimental binding energies (MeV) of ``nuclei``
    settings: dict  # what the card records and a resumed run must match (normalised as stored in JSON)


def _validated_request(
    out, *, samples, nuclei, prior, seed, workers, scheduler, chunk_size, max_iterations, threshold
) -> _Request:
    from ..solver import SolverConfig

    samples = _check_int("samples", samples, 1, MAX_SAMPLES)
    seed = _check_int("seed", seed, 0, 2**63 - 1)
    if chunk_size is not None:
        chunk_size = _check_int("chunk_size", chunk_size, 1, 1_000_000)
    if scheduler is None:
        workers = default_workers() if workers is None else _check_int("workers", workers, 1, 1024)
    if not (isinstance(threshold, int | float) and not isinstance(threshold, bool) and 0 < threshold < 10):
        raise DatasetError(
            f"threshold must be a fraction in (0, 10), e.g. 0.2 for 20 %, got {shown(threshold)}"
        )
    threshold = float(threshold)
    solver: dict = {}
    if max_iterations is not None:
        solver["max_iterations"] = max_iterations
    SolverConfig(**solver)  # validate now, with the solver's own message
    nucs = parse_nuclei(nuclei)
    b_exp = tuple(_experimental_binding_energy(n) for n in nucs)
    if not isinstance(prior, Prior):
        prior = default_prior() if prior is None else load_prior(prior)
    root = as_path(out, "dataset directory", DatasetError)
    if root.exists() and not root.is_dir():
        raise DatasetError(f"--out {root} exists and is not a directory")
    if chunk_size is None:
        try:
            chunk_size = int(store.read_card(root)["chunk_size"])
        except (DatasetError, KeyError, TypeError, ValueError):
            chunk_size = DEFAULT_CHUNK_SIZE
    settings = store.json.loads(store.json.dumps(_settings(prior, nucs, seed, chunk_size, solver, threshold)))
    return _Request(root, samples, seed, workers, chunk_size, threshold, solver, tuple(nucs), b_exp, settings)


def _experimental_binding_energy(nucleus: Nucleus) -> float:
    from ..experiment import MissingExperimentError, available_nuclei, experiment

    try:
        return experiment(nucleus).binding_energy
    except MissingExperimentError:
        names = ", ".join(x.name for x in available_nuclei())
        raise DatasetError(
            f"no experimental binding energy for {nucleus.name}, needed for the nc_c label; nuclei with data: {names}"
        ) from None


def _open_card(root: Path, settings_json: dict, samples: int) -> dict:
    """The card of the dataset in ``root`` if it matches ``settings_json``, else a new one for an empty
    directory; the card records ``samples`` and this session."""
    from .. import __version__

    if (root / store.CARD_NAME).exists():
        card = store.read_card(root)
        if card.get("format_version") != FORMAT_VERSION:
            raise DatasetError(
                f"{root} has dataset format version {card.get('format_version')!r}; this NucleiML writes {FORMAT_VERSION}"
            )
        _check_matches(card, settings_json, root)
        if samples < card["samples"]:
            raise DatasetError(
                f"{root} already holds {card['samples']} samples; ask for at least that many (more extends it)"
            )
    else:
        leftovers = [p.name for p in root.iterdir() if p.name != store.LOCK_NAME]
        if leftovers:
            raise DatasetError(
                f"--out {root} is not empty and holds no dataset card ({store.CARD_NAME}); use a new directory"
            )
        card = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            **settings_json,
            "samples": samples,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "wall_seconds": 0.0,
            "sessions": [],
        }
    session = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "package_version": __version__,
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "platform": sys.platform,
    }
    card.update(samples=samples, complete=False, package_version=__version__)
    card["sessions"] = [*card.get("sessions", []), session]
    return card


class _Plan(NamedTuple):
    n_chunks: int
    todo: list  # ChunkTask of the chunks to compute
    keep: list  # paths of the parts already on disk


def _plan_chunks(root: Path, req: _Request) -> _Plan:
    """Which chunks of ``req.samples`` are on disk with the right extent and which remain to be computed."""
    n_chunks = math.ceil(req.samples / req.chunk_size)
    existing = store.list_parts(root)
    extra = [c for c in existing if c >= n_chunks]
    if extra:
        raise DatasetError(
            f"{root} holds parts beyond chunk {n_chunks - 1} ({extra[:3]}...); the dataset is inconsistent"
        )
    common = {
        "chunk_size": req.chunk_size,
        "seed": req.seed,
        "prior": req.settings["prior"],
        "nuclei": tuple((n.Z, n.N) for n in req.nuclei),
        "b_exp": req.b_exp,
        "solver": req.solver,
        "threshold": req.threshold,
    }
    todo, keep = [], []
    for c in range(n_chunks):
        n = min(req.chunk_size, req.samples - c * req.chunk_size)
        path = existing.get(c)
        if path is not None:
            meta = store.part_metadata(path)
            if meta.get("n") == n and meta.get("start") == c * req.chunk_size:
                keep.append(path)
                continue
        todo.append(ChunkTask(chunk=c, start=c * req.chunk_size, n=n, **common))
    return _Plan(n_chunks, todo, keep)


class _CardWriter:
    """Rewrites the dataset card atomically with the counts of a :class:`_Tally` and this session's time."""

    def __init__(self, path: Path, card: dict, t_start: float) -> None:
        self.path, self.card, self.t_start = path, card, t_start
        self.session = card["sessions"][-1]
        self.wall_before = float(card.get("wall_seconds", 0.0))
        self.workers = "none (nothing to do)"

    def save(self, tally: _Tally, complete: bool) -> None:
        elapsed = time.perf_counter() - self.t_start
        self.session["seconds"] = round(elapsed, 3)
        self.session["workers"] = self.workers
        self.card.update(
            complete=complete,
            samples_done=tally.done,
            rows=sum(tally.total.values()),
            counts=tally.counts_dict(self.card["nuclei"]),
            wall_seconds=round(self.wall_before + elapsed, 3),
            updated=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            code_fingerprints=dict(tally.codes),
            columns={name: {"type": t, "description": d} for name, t, d in store.COLUMNS},
        )
        atomic_write_json(self.path, self.card)


def _run_chunks(
    executor, plan: _Plan, req: _Request, tally: _Tally, writer: _CardWriter, progress, bar_class
) -> None:
    """Compute the chunks of ``plan.todo`` on ``executor`` in groups (:func:`_group_tasks`), at most its
    capacity at a time, writing each part and the card as its group arrives (``tally`` is updated in place); an interruption recounts the parts on disk
    before it propagates. ``bar_class``: tqdm's bar class when ``progress`` is True."""
    bar = None
    aborted = True
    try:
        if bar_class is not None:
            bar = bar_class(
                total=req.samples, initial=tally.done, unit="sample", dynamic_ncols=True, smoothing=0.1
            )
            bar.set_description(f"{req.root.name}: {len(req.nuclei)} nuclei")
        pending: dict = {}
        queue = iter(_group_tasks(plan.todo, req.chunk_size, executor.capacity))
        for group in queue:
            pending[executor.submit(solve_chunks, group, key=_group_key(group))] = group
            if len(pending) >= executor.capacity:
                break
        while pending:
            for fut in executor.wait_any(pending):
                group = pending.pop(fut)
                for task, cols in zip(group, fut.result(), strict=True):
                    _store_part(req, task, cols, tally)
                writer.save(tally, complete=False)
                if bar is not None:
                    bar.update(sum(task.n for task in group))
                elif callable(progress):
                    progress(tally.done, req.samples)
                nxt = next(queue, None)
                if nxt is not None:
                    pending[executor.submit(solve_chunks, nxt, key=_group_key(nxt))] = nxt
        aborted = False
    finally:
        if bar is not None:
            bar.close()
        executor.close(abort=aborted)
        if aborted:  # recount from the parts on disk: one may be written but not yet counted
            with contextlib.suppress(Exception):
                parts = [p for c, p in store.list_parts(req.root).items() if c < plan.n_chunks]
                writer.save(_Tally.of_parts(parts), complete=False)


def _store_part(req: _Request, task: ChunkTask, cols: dict, tally: _Tally) -> None:
    """Write one computed chunk as a part and count it (warning if other code computed earlier parts)."""
    code = str(cols.get("_code"))
    meta = {"chunk": task.chunk, "start": task.start, "n": task.n, "seed": req.seed, "code": code}
    if tally.codes and code not in tally.codes:
        warnings.warn(
            f"chunk {task.chunk} was computed by other NucleiML code (fingerprint {code}) than "
            f"earlier parts ({', '.join(tally.codes)}); rows may not be comparable",
            RuntimeWarning,
            stacklevel=4,
        )
    store.write_part(req.root, task.chunk, store.to_table(cols, meta))
    tally.add(cols, task.n, code)
