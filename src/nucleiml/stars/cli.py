"""``nucleiml star``: the M-R-Lambda sequence of a parameter set, NMPs or a tabulated EoS.

Prints the summary (or ``--json``) and writes, under ``--out``, the stable branch as ``sequence.csv``,
the summary as ``summary.json`` and the figure ``mass_radius.png`` (matplotlib, the ``infer`` extra; the
figure is skipped with a note when matplotlib is missing).
"""

from __future__ import annotations

import argparse
import csv
import io
from pathlib import Path

import numpy as np

from .._atomic import atomic_write_bytes, atomic_write_json
from .._json import finite_json
from ..parameters import ParameterError
from .api import SUMMARY_FIELDS, StarConfig, StarResult, star, star_from_table

__all__ = ["add_star_arguments", "read_eos_file", "run_star"]

SEQUENCE_COLUMNS = {
    "n_c": "fm^-3",
    "eps_c": "MeV fm^-3",
    "P_c": "MeV fm^-3",
    "mass": "Msun",
    "radius": "km",
    "k2": "",
    "Lambda": "",
}


def _junction(text: str):
    if text.strip().lower() == "half_rho0":
        return "half_rho0"
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--junction must be a density in fm^-3 or half_rho0, got {text!r}"
        ) from None


def add_star_arguments(parser: argparse.ArgumentParser) -> None:
    from ..cli import _add_couplings_arguments, _add_nmp_options

    parser.add_argument(
        "name", nargs="?", metavar="PRESET", help="a published parameter set (same as --preset)"
    )
    _add_couplings_arguments(parser)
    _add_nmp_options(
        parser.add_argument_group("nuclear-matter parameters", "or all seven NMPs instead of couplings"),
        required=False,
    )
    parser.add_argument(
        "--eos",
        metavar="FILE",
        help="tabulated EoS instead of couplings: whitespace-separated columns n_b [fm^-3], eps, P [MeV fm^-3] "
        "(energy density including the rest mass), '#' comments",
    )
    parser.add_argument(
        "--junction",
        type=_junction,
        default=StarConfig.junction,
        metavar="X",
        help="crust-core junction density in fm^-3 ([0.04, 0.16]) or half_rho0 (default 0.08)",
    )
    parser.add_argument(
        "--crust-end",
        type=float,
        default=StarConfig.crust_end,
        metavar="X",
        help="the SLy4 crust table is used up to this density, fm^-3 (default 0.04); a bridge joins it to the core",
    )
    parser.add_argument("--out", metavar="DIR", help="output directory (default runs/star-<name>)")
    parser.add_argument("--no-plot", action="store_true", help="do not write mass_radius.png")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")


def read_eos_file(path: str | Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Columns n_b, eps, P of a whitespace-separated table with '#' comments.

    Raises
    ------
    ParameterError
        Naming the file when it is not a table of at least three numeric columns.
    OSError
        When it cannot be read.
    """
    try:
        text = Path(path).read_text(encoding="utf-8", errors="strict")
    except UnicodeDecodeError as exc:
        raise ParameterError(
            f"{path}: not UTF-8 text (byte {exc.start}); expected columns n_b, eps, P"
        ) from None
    rows = []
    for lineno, line in enumerate(text.splitlines(), 1):
        body = line.split("#", 1)[0].split()
        if not body:
            continue
        try:
            values = [float(v) for v in body]
        except ValueError:
            raise ParameterError(f"{path}: line {lineno} is not numbers: {line.strip()!r}") from None
        if len(values) < 3:
            raise ParameterError(f"{path}: line {lineno} has {len(values)} columns; need n_b, eps, P")
        rows.append(values[:3])
    if not rows:
        raise ParameterError(f"{path}: no data rows (need columns n_b [fm^-3], eps, P [MeV fm^-3])")
    a = np.array(rows)
    return a[:, 0], a[:, 1], a[:, 2]


def _source(args: argparse.Namespace):
    """(what to run, label): couplings, NMPs or a table."""
    from ..cli import _couplings_from_args, _nmp_from_args

    if args.name is not None:
        if args.preset is not None:
            raise ParameterError("give the preset either as PRESET or as --preset, not both")
        args.preset = args.name
    if args.eos is not None:
        if args.preset is not None or _nmp_from_args(args) is not None:
            raise ParameterError("--eos cannot be combined with a preset, couplings or NMPs")
        return ("table", read_eos_file(args.eos)), Path(args.eos).stem
    nmp = _nmp_from_args(args)
    if nmp is not None:
        return ("nmp", nmp), "nmp"
    couplings, _label = _couplings_from_args(args)
    return ("couplings", couplings), (args.preset or "couplings").replace(" ", "_")


def run_star(args: argparse.Namespace) -> int:
    (kind, value), label = _source(args)
    config = StarConfig(junction=args.junction, crust_end=args.crust_end)
    result = star_from_table(*value, config) if kind == "table" else star(value, config)
    out = Path(args.out or f"runs/star-{label}")
    out.mkdir(parents=True, exist_ok=True)
    summary = finite_json({**result.summary.to_dict(), "units": SUMMARY_FIELDS, "source": label})
    atomic_write_json(out / "summary.json", summary)
    atomic_write_bytes(out / "sequence.csv", _sequence_csv(result).encode("utf-8"))
    figure = None
    if not args.no_plot:
        from .plots import mass_radius_plot

        figure = mass_radius_plot(result, out / "mass_radius.png", title=label)
    if args.json:
        import json

        print(json.dumps(summary, indent=2, allow_nan=False))
    else:
        print(_summary_text(result, label))
        print(f"wrote {out / 'sequence.csv'}, {out / 'summary.json'}" + (f", {figure}" if figure else ""))
    return 0


def _sequence_csv(result: StarResult) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([f"{k} [{u}]" if u else k for k, u in SEQUENCE_COLUMNS.items()])
    for row in zip(*(result.sequence[k] for k in SEQUENCE_COLUMNS)):
        w.writerow([f"{v:.10g}" for v in row])
    return buf.getvalue()


_LABELS = {
    "M_max": "maximum mass",
    "R_M_max": "radius at M_max",
    "n_c_M_max": "central baryon density at M_max",
    "eps_c_M_max": "central energy density at M_max",
    "R_14": "radius at 1.4 Msun",
    "Lambda_14": "tidal deformability at 1.4 Msun",
    "R_20": "radius at 2.0 Msun",
    "Lambda_20": "tidal deformability at 2.0 Msun",
    "cs2_max": "largest c_s^2 up to the centre at M_max",
    "junction_density": "crust-core junction",
}


def _summary_text(result: StarResult, label: str) -> str:
    s = result.summary
    lines = [f"Neutron stars of {label}: {s.status.name}" + (f" ({s.reason})" if s.reason else "")]
    for name, unit in SUMMARY_FIELDS.items():
        v = getattr(s, name)
        text = "n/a" if not np.isfinite(v) else (f"{v:.4f}" if abs(v) < 100 else f"{v:.1f}")
        extra = (
            " (moved up: the core is unstable below)"
            if name == "junction_density" and s.junction_moved
            else ""
        )
        lines.append(f"  {name:<17} {text:>10}  {unit:<10} {_LABELS[name]}{extra}")
    lines.append(f"  stable branch: {result.sequence['mass'].size} stars")
    return "\n".join(lines)
