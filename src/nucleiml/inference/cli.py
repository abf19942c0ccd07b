"""Command-line layers of ``nucleiml infer`` and ``nucleiml compare`` (registered in :mod:`nucleiml.cli`).

Input errors raise ``ValueError`` subclasses, which the CLI prints as one line with exit status 2; Ctrl-C or
SIGTERM stops a run cleanly (exit status 130) and ``--resume`` continues it.
"""

from __future__ import annotations

import argparse
import json
import sys

from .._argtypes import integer
from ..parameters import NMP_NAMES
from .predictive import PREDICTIVE_DRAWS
from .runfile import OBSERVABLE_UNITS

__all__ = [
    "add_compare_arguments",
    "add_infer_arguments",
    "add_predictive_arguments",
    "run_compare",
    "run_infer",
    "run_predictive",
]

EXIT_INTERRUPTED = 130


def add_infer_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Posterior of the seven nuclear-matter parameters under finite-nucleus data (default: binding "
        "energies and charge radii of 40Ca and 208Pb within 2 % of experiment), by nested sampling with "
        "the emulator (nml) or the RMF solver (rmf). Writes posterior.parquet, weighted.parquet, "
        "summary.json and corner.png to --out. Interrupted runs continue with --resume."
    )
    parser.add_argument("--model", choices=("nml", "rmf"), help="model (default: the run file's, nml)")
    parser.add_argument(
        "--config",
        metavar="TOML",
        help="run file (default: the package's, nucleiml/data/default_run.toml; 'joint': the shipped joint "
        "run, finite nuclei + heavy-ion collisions + neutron stars)",
    )
    parser.add_argument(
        "--constraints",
        metavar="NAMES",
        help="constraints beyond finite nuclei, comma-separated ('nucleiml constraints' lists them; "
        "overrides [constraints] use; 'none' for none)",
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="run directory (created)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--resume", action="store_true", help="continue the interrupted run in --out")
    mode.add_argument("--overwrite", action="store_true", help="delete a previous run in --out first")
    parser.add_argument(
        "--workers",
        type=integer("--workers", 1, 1024),
        help="rmf: local worker processes (default: all cores)",
    )
    parser.add_argument(
        "--scheduler", metavar="ADDRESS", help="rmf: an existing Dask cluster, e.g. tcp://host:8786"
    )
    parser.add_argument("--emulator", metavar="PATH", help="nml: a saved emulator (default: the shipped one)")
    parser.add_argument(
        "--neutron-skin",
        metavar="NUCLEI",
        help="also condition on the measured neutron skins of these run nuclei, comma-separated "
        "(208Pb: PREX-II, 48Ca: CREX; overrides [data] neutron_skin)",
    )
    parser.add_argument("--backend", choices=("ultranest", "dynesty"), help="sampler (default: ultranest)")
    parser.add_argument(
        "--live-points", type=integer("--live-points", 10, 100000), help="minimum number of live points"
    )
    parser.add_argument(
        "--max-ncalls",
        type=integer("--max-ncalls", 1, 10**12),
        help="stop after this many likelihood calls (resume later with a larger value)",
    )
    parser.add_argument(
        "--predictive-draws",
        type=integer("--predictive-draws", 0, 10**6),
        default=PREDICTIVE_DRAWS,
        metavar="N",
        help=f"posterior draws at which the model is evaluated, beside experiment, after sampling "
        f"(posterior predictive check; 0: none; default {PREDICTIVE_DRAWS})",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    parser.add_argument("--json", action="store_true", help="print summary.json instead of a table")


def _terminate(signum, frame):
    raise KeyboardInterrupt  # SIGTERM (kill, scancel) stops as cleanly as Ctrl-C


def _config_from_args(args: argparse.Namespace):
    from .runfile import load_run_config

    config = load_run_config(args.config)
    model = _given(args, name="model", workers="workers", scheduler="scheduler", emulator="emulator")
    sampler = _given(args, backend="backend", live_points="live_points", max_ncalls="max_ncalls")
    data = {}
    if args.neutron_skin is not None:
        data["neutron_skin"] = tuple(n.strip() for n in args.neutron_skin.split(",") if n.strip())
    constraints = {}
    if args.constraints is not None:
        names = [n.strip() for n in args.constraints.split(",") if n.strip()]
        constraints["use"] = () if names == ["none"] else tuple(names)
    return config.replace(data=data, model=model, sampler=sampler, constraints=constraints)


def _given(args: argparse.Namespace, **fields: str) -> dict:
    """{run-file field: value} of the options (``fields``: field -> option attribute) given on the command line."""
    return {f: getattr(args, a) for f, a in fields.items() if getattr(args, a) is not None}


def _skin_clause(data: dict) -> str:
    """``; neutron skin of 208Pb`` for a run conditioned on measured skins (empty otherwise)."""
    skins = data.get("neutron_skin") or []
    return f"; neutron skin of {', '.join(skins)}" if skins else ""


def format_summary(summary: dict, out: str) -> str:
    """Human-readable table of a run's summary."""
    lines = [
        f"posterior of the NMPs ({summary['model']['model']}; {', '.join(summary['run']['data']['nuclei'])}: "
        f"{', '.join(summary['run']['data']['observables'])}; {summary['run']['likelihood']['shape']} "
        f"{100 * summary['run']['likelihood']['tolerance']:g} %{_skin_clause(summary['run']['data'])})",
        f"{'':>6} {'median':>10} {'68 % interval':>23}  unit",
    ]
    for name in NMP_NAMES:
        m = summary["nmp"][name]
        d = {"rho0": 4, "mstar": 3}.get(name, 2)
        lines.append(
            f"{name:>6} {m['median']:10.{d}f} [{m['low_68']:10.{d}f}, {m['high_68']:10.{d}f}]  {m['unit']}"
        )
    lines.extend(_predictive_lines(summary.get("posterior_predictive")))
    lines.extend(_derived_lines(summary))
    lines.append(
        f"log Z = {summary['log_evidence']:.3f} +/- {summary['log_evidence_err']:.3f}; "
        f"{summary['likelihood_calls']} likelihood calls; {summary['wall_seconds']:.1f} s wall"
    )
    check = summary.get("posterior_predictive") or {}
    figures = "corner.png, predictive.png" if check.get("draws") else "corner.png"
    if summary.get("derived"):
        figures += ", corner_stars.png, mass_radius.png, eos.png"
    lines.append(f"written: {out}/posterior.parquet, weighted.parquet, summary.json, {figures}")
    return "\n".join(lines)


def _derived_lines(summary: dict) -> list[str]:
    """Constraints used and derived quantities (median, 68 % and 90 % intervals) as table lines."""
    lines = []
    if summary.get("constraints"):
        lines.append(f"constraints: {', '.join(summary['constraints'])}")
    derived = summary.get("derived")
    if not derived:
        return lines
    lines.append(f"{'derived':>10} {'median':>9} {'68 % interval':>21} {'90 % interval':>21}  unit")
    for name, q in derived["quantities"].items():
        if "median" not in q:
            lines.append(f"{name:>10} {'n/a':>9}")
            continue
        lines.append(
            f"{name:>10} {q['median']:9.3g} [{q['low_68']:9.3g}, {q['high_68']:9.3g}] "
            f"[{q['low_90']:9.3g}, {q['high_90']:9.3g}]  {q['unit']}"
        )
    counts = ", ".join(f"{k} {v}" for k, v in derived["star_status"].items())
    lines.append(f"{'':>10} star sequences of the posterior samples: {counts}")
    return lines


def _predictive_lines(
    check: dict | None, title: str = "model at the posterior beside experiment"
) -> list[str]:
    """The posterior predictive check as table lines (none if it was skipped)."""
    if not check or not check.get("draws"):
        return []
    lines = [
        f"posterior predictive ({check['draws']} draws): {title}",
        f"{'':>6} {'':>14} {'median':>10} {'68 % interval':>23} {'experiment':>11} {'pull':>6}  "
        f"{'valid':>5}  unit",
    ]
    for nucleus, rows in check["nuclei"].items():
        for obs, r in rows.items():
            d = _decimals(obs)
            lines.append(
                f"{nucleus:>6} {obs:>14} {_num(r['median'], d):>10} [{_num(r['low_68'], d):>10}, "
                f"{_num(r['high_68'], d):>10}] {_num(r['experiment'], d + 1):>11} {_num(r['pull'], 2):>6}  "
                f"{r['valid_fraction']:5.0%}  {r['unit']}"
            )
    return lines


def _decimals(observable: str) -> int:
    """Decimals shown for an observable: 0.1 MeV, 0.001 fm."""
    return 1 if OBSERVABLE_UNITS[observable] == "MeV" else 3


def _num(value, digits: int) -> str:
    """A figure of summary.json (None where it was not finite) with ``digits`` decimals."""
    return "n/a" if value is None or value != value else f"{value:.{digits}f}"


def run_infer(args: argparse.Namespace) -> int:
    import signal

    from .runner import infer

    config = _config_from_args(args)
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        summary = infer(
            config,
            args.out,
            resume=args.resume,
            overwrite=args.overwrite,
            progress=not args.quiet,
            predictive_draws=args.predictive_draws,
        )
    except KeyboardInterrupt:
        print(
            f"\ninterrupted: the points so far are saved in {args.out}; run the same command with --resume "
            f"to continue",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    finally:
        signal.signal(signal.SIGTERM, previous)
    if args.json:
        print(json.dumps(summary, indent=2, allow_nan=False))
    else:
        print(format_summary(summary, args.out))
    return 0


def add_compare_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Compare two finished runs (e.g. runs/nml runs/rmf): Jensen-Shannon divergence of every NMP "
        "marginal in bits (Gaussian KDE, bootstrap), an overlaid corner plot and the wall-time ratio. "
        "Writes jsd.json and corner_compare.png to --out (and, for runs with derived star quantities, "
        "their JSD, mass_radius_compare.png and eos_compare.png)."
    )
    parser.add_argument("run_a", metavar="RUN_A", help="first run directory (e.g. runs/nml)")
    parser.add_argument("run_b", metavar="RUN_B", help="second run directory (e.g. runs/rmf)")
    parser.add_argument("--out", required=True, metavar="DIR", help="output directory (created)")
    parser.add_argument(
        "--bootstrap",
        type=integer("--bootstrap", 0, 100000),
        default=200,
        help="bootstrap replicates of the JSD (default 200)",
    )
    parser.add_argument("--seed", type=integer("--seed", 0, 2**32 - 1), default=0, help="bootstrap seed")
    parser.add_argument("--json", action="store_true", help="print jsd.json instead of a table")


def run_compare(args: argparse.Namespace) -> int:
    from .runner import compare

    result = compare(args.run_a, args.run_b, args.out, n_boot=args.bootstrap, seed=args.seed)
    if args.json:
        print(json.dumps(result, indent=2, allow_nan=False))
        return 0
    print(f"Jensen-Shannon divergence (bits) of the NMP marginals, A = {args.run_a}, B = {args.run_b}")
    print(f"{'':>6} {'JSD':>7} {'bootstrap median [16 %, 84 %]':>32}")
    for name in NMP_NAMES:
        r = result["per_nmp"][name]
        print(
            f"{name:>6} {r['jsd']:7.4f} {_num(r['median'], 4):>12} [{_num(r['low_68'], 4)}, "
            f"{_num(r['high_68'], 4)}]"
        )
    predictive = result.get("posterior_predictive") or {}
    if predictive:
        print("posterior predictive medians: A, B, and B - A in likelihood widths")
        for nucleus, rows in predictive.items():
            for obs, r in rows.items():
                d = _decimals(obs)
                print(
                    f"{nucleus:>6} {obs:>14} {_num(r['median_a'], d):>10} {_num(r['median_b'], d):>10} "
                    f"{_num(r['shift'], 3):>7}"
                )
    derived = result.get("jsd_derived") or {}
    if derived:
        print(
            "JSD (bits) of the derived star quantities: "
            + ", ".join(f"{k} {_num(v, 4)}" for k, v in derived.items())
        )
    ratio = result["wall_time_ratio_b_over_a"]
    if ratio is not None:
        print(f"wall time B / A = {ratio:.2f}")
    figures = "corner_compare.png" + (", mass_radius_compare.png, eos_compare.png" if derived else "")
    print(f"written: {args.out}/jsd.json, {figures}")
    return 0


def add_predictive_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "A finished run's posterior through a model: binding energy and charge radius (and, with rmf, the "
        "neutron skin) of any nuclei at posterior draws, beside experiment (pull in the run's likelihood "
        "widths; for skins, in the measurement's uncertainty). E.g. check an nml "
        "posterior with the solver in seconds (--model rmf), or predict nuclei the run was not conditioned "
        "on (--nuclei 48Ca,132Sn)."
    )
    parser.add_argument("run", metavar="RUN", help="a finished run directory (nucleiml infer --out)")
    parser.add_argument(
        "--nuclei", metavar="LIST", help="nuclei, e.g. 48Ca,132Sn or set2 (default: the run's)"
    )
    parser.add_argument("--model", choices=("nml", "rmf"), help="model (default: the run's)")
    parser.add_argument(
        "--draws",
        type=integer("--draws", 1, 10**6),
        default=PREDICTIVE_DRAWS,
        metavar="N",
        help=f"posterior draws evaluated (default {PREDICTIVE_DRAWS}, drawn with the run's seed)",
    )
    parser.add_argument(
        "--workers",
        type=integer("--workers", 1, 1024),
        help="rmf: local worker processes (default: all cores)",
    )
    parser.add_argument("--emulator", metavar="PATH", help="nml: a saved emulator (default: the run's)")
    parser.add_argument("--out", metavar="JSON", help="also write the result to this JSON file")
    parser.add_argument("--plot", metavar="PNG", help="also draw the predictions to this PNG file")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def run_predictive(args: argparse.Namespace) -> int:
    from .._atomic import atomic_write_json
    from ..nuclei import parse_nuclei
    from .runner import predict_posterior

    nuclei = None if args.nuclei is None else [n.name for n in parse_nuclei(args.nuclei)]
    try:
        result = predict_posterior(
            args.run,
            nuclei=nuclei,
            model=args.model,
            draws=args.draws,
            workers=args.workers,
            emulator=args.emulator,
            plot=args.plot,
        )
    except KeyboardInterrupt:
        print("\ninterrupted: nothing written", file=sys.stderr)
        return EXIT_INTERRUPTED
    if args.out:
        atomic_write_json(args.out, result)
    if args.json:
        print(json.dumps(result, indent=2, allow_nan=False))
        return 0
    lines = _predictive_lines(result, title=f"{result['model']['model']} at the posterior of {args.run}")
    print(
        "\n".join(
            [
                *lines[:1],
                f"(pull: median - experiment in {100 * result['tolerance']:g} % widths; neutron skin: in the "
                "measurement's uncertainty)",
                *lines[1:],
            ]
        )
    )
    written = [f for f in (args.out, args.plot) if f]
    if written:
        print(f"written: {', '.join(written)}")
    return 0


def add_constraints_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Constraints a joint run can add to the finite-nucleus likelihood ([constraints] use = [...] in a "
        "run file, or infer --constraints A,B): heavy-ion collisions, pulsar masses, NICER, gravitational "
        "waves, with their published values and references (data/constraints.toml, data/SOURCES.md)."
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def run_constraints(args: argparse.Namespace) -> int:
    from .constraints import shipped_constraints

    shipped = shipped_constraints()
    if args.json:
        import json

        print(json.dumps({n: {"kind": t.kind, "data": t.summary(), "description": t.description,
                              "reference": t.reference} for n, t in shipped.items()}, indent=2))  # fmt: skip
        return 0
    width = max(len(n) for n in shipped)
    for name, term in shipped.items():
        print(f"{name:<{width}}  {term.kind:<16} {term.summary()}")
        print(f"{'':<{width}}  {'':<16} {term.description}; {term.reference}")
    return 0
