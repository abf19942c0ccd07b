"""Training datasets: (NMP sample, nucleus) -> class, binding energy, charge radius (seed paper III.B.1).

- :class:`Prior` / :func:`load_prior` / :func:`default_prior`: priors over the seven NMPs, as TOML data;
- :func:`generate`: sample, invert, solve, label and write a resumable Parquet dataset, on local worker
  processes or a Dask cluster;
- :func:`info`, :func:`split`, :func:`read_table`: inspect, split by ``sample_id`` and load datasets;
- :func:`label_nucleus` and ``LABELS``: the four classes (convergent, nc_a, nc_b, nc_c).

pyarrow, dask and tqdm come with the ``data`` extra (``pip install "nucleiml[data]"``) and are imported
only when needed.
"""

from .generate import DEFAULT_CHUNK_SIZE, ChunkTask, GenerateResult, generate, solve_chunk, solve_chunks
from .labels import CONVERGENT, DEFAULT_THRESHOLD, LABELS, NC_A, NC_B, NC_C, label_nucleus
from .prior import DISTRIBUTIONS, Distribution, Prior, PriorError, default_prior, load_prior
from .store import COLUMNS, DatasetError, MissingExtraError, read_card, read_table
from .summary import SPLIT_NAMES, format_info, info, split, split_of

__all__ = [
    "COLUMNS",
    "CONVERGENT",
    "DEFAULT_CHUNK_SIZE",
    "DEFAULT_THRESHOLD",
    "DISTRIBUTIONS",
    "LABELS",
    "NC_A",
    "NC_B",
    "NC_C",
    "SPLIT_NAMES",
    "ChunkTask",
    "DatasetError",
    "Distribution",
    "GenerateResult",
    "MissingExtraError",
    "Prior",
    "PriorError",
    "default_prior",
    "format_info",
    "generate",
    "info",
    "label_nucleus",
    "load_prior",
    "read_card",
    "read_table",
    "solve_chunk",
    "solve_chunks",
    "split",
    "split_of",
]
