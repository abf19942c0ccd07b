"""Spherical relativistic mean-field solver for closed-shell nuclei (see :mod:`nucleiml.solver.api`)."""

from .api import BatchResult, Level, NucleusResult, SolverConfig, SolverStatus, solve, solve_batch

__all__ = ["BatchResult", "Level", "NucleusResult", "SolverConfig", "SolverStatus", "solve", "solve_batch"]
