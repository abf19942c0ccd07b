"""Command-line layers of ``nucleiml generate`` and ``nucleiml dataset info|split`` (registered in
:mod:`nucleiml.cli`). Input errors raise ``ValueError`` subclasses, which the CLI prints as one line with
exit status 2; Ctrl-C stops a generation cleanly (exit status 130) and the same command resumes it."""

from __future__ import annotations

import argparse
import json
import sys

from .._argtypes import integer
from .generate import DEFAULT_CHUNK_SIZE
from .labels import DEFAULT_THRESHOLD

__all__ = ["add_dataset_arguments", "add_generate_arguments", "run_dataset", "run_generate"]

EXIT_INTERRUPTED = 130


def _fractions(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(x) for x in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--fractions must be three comma-separated numbers summing to 1 (train,validation,test), got {text!r}"
        ) from None
    return values


def _fraction(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--nc-c-threshold must be a number, got {text!r}") from None
    if not 0 < v < 10:
        raise argparse.ArgumentTypeError(f"--nc-c-threshold = {v} must be a fraction in (0, 10), e.g. 0.2")
    return v


def add_generate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Sample nuclear-matter parameters from a prior, compute couplings and finite nuclei, label each "
        "(sample, nucleus) convergent / nc_a / nc_b / nc_c and write a Parquet dataset. Interrupted runs "
        "resume with the same command; a larger --samples extends a dataset."
    )
    parser.add_argument(
        "--samples", required=True, type=integer("--samples", 1, 10**9), help="NMP samples wanted"
    )
    parser.add_argument(
        "--nuclei",
        default="paper",
        help="comma-separated nuclei and/or sets paper, set1, set2 (default: paper = 16O,40Ca,48Ca,132Sn,208Pb)",
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="dataset directory (created if missing)")
    parser.add_argument(
        "--seed", type=integer("--seed", 0, 2**63 - 1), default=0, help="random seed (default 0)"
    )
    parser.add_argument("--prior", metavar="TOML", help="prior file (default: the package's default prior)")
    parser.add_argument(
        "--workers", type=integer("--workers", 1, 1024), help="local worker processes (default: all cores)"
    )
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on an existing Dask cluster, e.g. tcp://host:8786 (instead of local workers)",
    )
    parser.add_argument(
        "--chunk-size",
        type=integer("--chunk-size", 1, 1_000_000),
        help=f"samples per chunk and Parquet part, fixed for a dataset (default: the dataset's, or "
        f"{DEFAULT_CHUNK_SIZE} for a new one)",
    )
    parser.add_argument(
        "--max-iterations",
        type=integer("--max-iterations", 1, 100000),
        help="iteration budget of the finite-nucleus solver (default: the solver's)",
    )
    parser.add_argument(
        "--nc-c-threshold",
        type=_fraction,
        default=DEFAULT_THRESHOLD,
        metavar="F",
        help=f"largest |B - B_exp| / B_exp of a convergent row (default {DEFAULT_THRESHOLD:g})",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--json", action="store_true", help="print the final card as JSON")


def _terminate(signum, frame):
    raise KeyboardInterrupt  # SIGTERM (kill, scancel) stops as cleanly as Ctrl-C


def run_generate(args: argparse.Namespace) -> int:
    import signal

    from .generate import generate
    from .summary import format_info, info

    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        result = generate(
            args.out,
            args.samples,
            args.nuclei,
            prior=args.prior,
            seed=args.seed,
            workers=args.workers,
            scheduler=args.scheduler,
            chunk_size=args.chunk_size,
            max_iterations=args.max_iterations,
            threshold=args.nc_c_threshold,
            progress=not args.quiet,
        )
    except KeyboardInterrupt:
        print(
            f"\ninterrupted: finished chunks are saved in {args.out}; run the same command again to resume",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    finally:
        signal.signal(signal.SIGTERM, previous)
    data = info(result.path)
    if args.json:
        print(json.dumps(data, indent=2, allow_nan=False))
    else:
        rows = data["rows"]
        print(
            f"{result.computed_chunks} chunk(s) computed in {result.seconds:.1f} s"
            + (f" ({rows / data['wall_seconds']:.1f} rows/s overall)" if data["wall_seconds"] > 0 else "")
        )
        print(format_info(data))
    return 0


def add_dataset_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", title="actions", required=True)
    p = sub.add_parser("info", help="print the card and the class balance of a dataset")
    p.add_argument("dir", metavar="DIR", help="dataset directory")
    p.add_argument("--json", action="store_true", help="print JSON")
    p = sub.add_parser(
        "split",
        help="reproducible train/validation/test splits by sample_id (one sample's nuclei stay together)",
    )
    p.add_argument("dir", metavar="DIR", help="dataset directory")
    p.add_argument(
        "--fractions",
        type=_fractions,
        default=(0.8, 0.1, 0.1),
        help="train,validation,test fractions summing to 1 (default 0.8,0.1,0.1)",
    )
    p.add_argument("--seed", type=integer("--seed", 0, 2**63 - 1), default=0, help="split seed (default 0)")
    p.add_argument("--out", metavar="DIR", help="output directory (default DIR/splits)")
    p.add_argument("--json", action="store_true", help="print JSON")


def run_dataset(args: argparse.Namespace) -> int:
    from .summary import format_info, info, split

    if args.action == "info":
        data = info(args.dir)
        print(json.dumps(data, indent=2, allow_nan=False) if args.json else format_info(data))
        return 0
    summary = split(args.dir, args.fractions, seed=args.seed, out=args.out)
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        out = args.out or f"{args.dir}/splits"
        print(f"split {args.dir} by sample_id (seed {args.seed}) into {out}:")
        for name in summary["samples"]:
            c = summary["counts"][name]
            print(
                f"  {name:<10} {summary['samples'][name]:>8} samples {summary['rows'][name]:>9} rows   "
                + "  ".join(f"{k} {v}" for k, v in c.items())
            )
    return 0
