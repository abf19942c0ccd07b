"""Bayesian inference of the seven nuclear-matter parameters from finite-nucleus data (seed paper, IV).

- :func:`load_run_config` / :func:`default_run_config` -> :class:`RunConfig`: one TOML run file (data,
  likelihood, prior, model, sampler), validated;
- :class:`Likelihood`: Gaussian or box likelihood of binding energies and charge radii, with a finite,
  sloping floor for non-convergent points;
- models behind one interface (:mod:`nucleiml.inference.models`): ``nml`` (the emulator) and ``rmf``
  (couplings inversion + the RMF solver, local processes or Dask);
- :func:`infer`: nested sampling (UltraNest, resumable; dynesty as a cross-check) into a run directory
  (Parquet samples, summary.json, corner plot);
- :func:`posterior_predictive`: the model at posterior draws beside experiment (part of every
  :func:`infer` summary); :func:`predict_posterior`: the same for a finished run, with any model and
  nuclei;
- :func:`compare`: per-NMP Jensen-Shannon divergence of two runs and an overlaid corner plot;
- :func:`jsd_bits`, :func:`read_posterior`.

The samplers, matplotlib, corner and pyarrow come with the ``infer`` extra (``pip install
"nucleiml[infer]"``) and are imported only when needed.
"""

from .compare import jsd_bits, jsd_bootstrap
from .likelihood import Likelihood
from .models import Evaluation, Model, ModelError, make_model
from .posterior import Posterior, PosteriorError, read_posterior
from .predictive import posterior_predictive
from .runfile import (
    DataConfig,
    LikelihoodConfig,
    ModelConfig,
    RunConfig,
    RunConfigError,
    SamplerConfig,
    default_run_config,
    load_run_config,
)
from .runner import InferenceError, compare, infer, predict_posterior

__all__ = [
    "DataConfig",
    "Evaluation",
    "InferenceError",
    "Likelihood",
    "LikelihoodConfig",
    "Model",
    "ModelConfig",
    "ModelError",
    "Posterior",
    "PosteriorError",
    "RunConfig",
    "RunConfigError",
    "SamplerConfig",
    "compare",
    "default_run_config",
    "infer",
    "jsd_bits",
    "jsd_bootstrap",
    "load_run_config",
    "make_model",
    "posterior_predictive",
    "predict_posterior",
    "read_posterior",
]
