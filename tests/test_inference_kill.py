"""A run killed with SIGKILL (no handler runs, nothing is flushed) resumes, and its summary counts every
likelihood evaluation of every session: run.json records a session's counts after each likelihood call."""

import json
import os
import random
import signal

import numpy as np
import pytest

from _inference_fakes import FakeEmulator

pytest.importorskip("ultranest")
pytest.importorskip("pyarrow")

from nucleiml.inference import default_run_config, infer, read_posterior
from nucleiml.inference.models.nml import EmulatorModel

CFG = default_run_config().replace(
    sampler={"live_points": 60, "min_ess": 60, "seed": 3, "batch_min": 16, "batch_max": 64}
)


class _Tally(EmulatorModel):
    """The fake emulator's model, appending the size of every finished evaluation to ``tally`` (one line per
    call, O_APPEND: it survives the kill) and killing its own process at the start of call ``kill_at``."""

    def __init__(self, tally, kill_at=None):
        box = {k: (d.low, d.high) for k, d in CFG.prior.nmp.items()}
        super().__init__(FakeEmulator(), CFG.data.nuclei, prior_box=box)
        self.tally, self.kill_at, self.n = tally, kill_at, 0

    def evaluate(self, x):
        self.n += 1
        if self.n == self.kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        out = super().evaluate(x)
        fd = os.open(self.tally, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        os.write(fd, f"{len(x)}\n".encode())
        os.close(fd)
        return out


def _kill_in_point_store(at: int) -> None:
    """SIGKILL at the ``at``-th point the sampler writes to its store (inside its own bookkeeping)."""
    from ultranest.store import TextPointStore  # the "csv" backend of nucleiml.inference.sampler

    add, n = TextPointStore.add, [0]

    def killing_add(self, row, ncalls):
        n[0] += 1
        if n[0] == at:
            os.kill(os.getpid(), signal.SIGKILL)
        return add(self, row, ncalls)

    TextPointStore.add = killing_add  # in the forked child only


def _killed_session(out, tally, where, at, resume):
    """One session in a forked child that SIGKILLs itself at the start of likelihood call ``at`` or at the
    ``at``-th point written to the sampler's store."""
    pid = os.fork()
    if pid == 0:  # child: never returns into pytest
        try:
            if where == "point store":
                _kill_in_point_store(at)
            model = _Tally(tally, at if where == "likelihood call" else None)
            infer(CFG, out, model=model, resume=resume, progress=False, plot=False, predictive_draws=0)
        finally:
            os._exit(3)  # the run finished before the kill: a failed precondition, seen below
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, status


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
@pytest.mark.parametrize(
    "where, seed", [("likelihood call", 0), ("likelihood call", 1), ("point store", 2), ("point store", 3)]
)
def test_sigkilled_sessions_are_counted_in_calls_and_wall_time(tmp_path, where, seed):
    rng = random.Random(seed)
    out, tally = tmp_path / "run", tmp_path / "tally.txt"
    # call numbers, or points stored, each session counting from 1 (a run makes about 20 calls and stores
    # about 350 points, fewer after a resume)
    if where == "likelihood call":
        kills = [rng.randrange(1, 9), rng.randrange(1, 9)]
    else:
        kills = [rng.randrange(1, 120), rng.randrange(1, 40)]
    for i, at in enumerate(kills):
        _killed_session(out, tally, where, at, resume=i > 0)
        sessions = json.loads((out / "run.json").read_text())["sessions"]
        assert len(sessions) == i + 1 and not sessions[-1]["completed"]
        evaluated = [int(v) for v in tally.read_text().split()] if tally.exists() else []
        assert sum(s["points_evaluated"] for s in sessions) == sum(evaluated)
    s = infer(CFG, out, model=_Tally(tally), resume=True, progress=False, plot=False, predictive_draws=0)
    evaluated = [int(v) for v in tally.read_text().split()]
    state = json.loads((out / "run.json").read_text())
    assert s["sessions"] == 3 and [x["completed"] for x in state["sessions"]] == [False, False, True]
    assert s["likelihood_calls"] == sum(evaluated) == sum(x["points_evaluated"] for x in state["sessions"])
    assert s["likelihood_calls"] > s["likelihood_calls_this_session"]
    killed = sum(x["seconds"] for x in state["sessions"][:2])
    assert all(x["seconds"] > 0 for x in state["sessions"][1:])  # a killed session's time is recorded
    # and counted (the last session's record also covers writing the outputs, after the summary)
    assert killed < s["wall_seconds"] <= sum(x["seconds"] for x in state["sessions"])
    post = read_posterior(out)
    assert np.all(np.isfinite(post.samples)) and len(post.samples) >= 60
