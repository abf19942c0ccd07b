"""Command-line interface: ``nucleiml <command> ...`` (also ``python -m nucleiml``).

A thin layer over the public API. Each subcommand is a ``Subcommand(help, add_arguments, run)`` entry in
``SUBCOMMANDS``; to add one (e.g. ``solve``), write ``_add_<name>_arguments(parser)`` and
``_run_<name>(args) -> int`` and register them there. Input errors are printed as a single
``error: ...`` line on stderr with exit status 2 (so are files that cannot be read or written, with the
operating system's reason and the path); results go to stdout (``--json`` for machine-readable).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

from ._argtypes import range_text, ranged_real
from ._extras import MissingExtraError
from ._json import finite_json
from .constants import (
    DEFAULT_M_OMEGA_MEV,
    DEFAULT_M_RHO_MEV,
    DEFAULT_M_SIGMA_MEV,
    DEFAULT_NUCLEON_MASS_MEV,
)
from .parameters import (
    COUPLING_INFO,
    COUPLING_NAMES,
    MASS_NAMES,
    NMP,
    NMP_INFO,
    NMP_NAMES,
    Couplings,
    ParameterError,
)
from .presets import PRESETS, get_preset

__all__ = ["SUBCOMMANDS", "Subcommand", "build_parser", "main"]

EXIT_OK = 0
EXIT_USAGE = 2
"""Exit status for invalid input (same as argparse)."""

# --------------------------------------------------------------------------- quantities, units, ranges

NMP_DECIMALS = {"rho0": 5, "mstar": 4}  # others: 3 decimals (MeV)

DEFAULT_MASSES = {
    "m_sigma": DEFAULT_M_SIGMA_MEV,
    "m_omega": DEFAULT_M_OMEGA_MEV,
    "m_rho": DEFAULT_M_RHO_MEV,
    "M": DEFAULT_NUCLEON_MASS_MEV,
}


# --------------------------------------------------------------------------- output helpers


def _fmt(value: float, decimals: int | None) -> str:
    return f"{value:.{decimals}f}" if decimals is not None else f"{value:.8g}"


def _aligned(rows: Sequence[tuple[str, str, str, str]]) -> str:
    """Align (name, value, unit, description) rows; values aligned on the decimal point."""
    heads = [v.split(".")[0] if "e" not in v else v for _, v, _, _ in rows]
    w_name = max(len(r[0]) for r in rows)
    w_head = max(len(h) for h in heads)
    values = [h.rjust(w_head) + v[len(h) :] for h, (_, v, _, _) in zip(heads, rows)]
    w_val = max(len(v) for v in values)
    w_unit = max(len(r[2]) for r in rows)
    lines = [
        f"  {name:<{w_name}}  {val:<{w_val}}  {unit:<{w_unit}}  {desc}".rstrip()
        for (name, _, unit, desc), val in zip(rows, values)
    ]
    return "\n".join(lines)


def _print_json(obj: Any) -> None:
    print(json.dumps(obj, indent=2, allow_nan=False))


def _nmp_rows(values: dict[str, float]) -> list[tuple[str, str, str, str]]:
    return [
        (name, _fmt(values[name], NMP_DECIMALS.get(name, 3)), *NMP_INFO[name])
        for name in (*NMP_NAMES, "Ksym")
        if name in values
    ]


def _couplings_rows(values: dict[str, float]) -> list[tuple[str, str, str, str]]:
    return [(name, _fmt(values[name], None), *COUPLING_INFO[name]) for name in (*COUPLING_NAMES, *MASS_NAMES)]


# --------------------------------------------------------------------------- shared argument groups


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _add_couplings_arguments(parser: argparse.ArgumentParser) -> None:
    """``--preset NAME`` or explicit ``--g-sigma ... --Lambda-v`` (+ optional masses)."""
    group = parser.add_argument_group(
        "couplings", "either --preset NAME, or all of --g-sigma --g-omega --g-rho --A --B --C --Lambda-v"
    )
    group.add_argument("--preset", metavar="NAME", help=f"published parameter set: {', '.join(PRESETS)}")
    for name in (*COUPLING_NAMES, *MASS_NAMES):
        unit, desc = COUPLING_INFO[name]
        extra = f"; default {DEFAULT_MASSES[name]:g}" if name in DEFAULT_MASSES else ""
        group.add_argument(
            _flag(name),
            dest=name,
            type=ranged_real(Couplings, name, unit),
            metavar="X",
            help=f"{desc}, in {range_text(Couplings, name, unit)}{extra}",
        )


def _couplings_from_args(args: argparse.Namespace) -> tuple[Couplings, str]:
    """The couplings selected on the command line and a label describing them."""
    given = [n for n in (*COUPLING_NAMES, *MASS_NAMES) if getattr(args, n) is not None]
    if args.preset is not None:
        if given:
            raise ParameterError(
                f"--preset cannot be combined with explicit couplings or masses ({', '.join(map(_flag, given))})"
            )
        c = get_preset(args.preset)
        return c, next(k for k in PRESETS if k.lower() == args.preset.strip().lower())
    missing = [n for n in COUPLING_NAMES if getattr(args, n) is None]
    if missing:
        raise ParameterError(
            f"missing coupling(s) {', '.join(map(_flag, missing))}: give --preset NAME or all of "
            f"{', '.join(map(_flag, COUPLING_NAMES))}"
        )
    return Couplings(**{n: getattr(args, n) for n in given}), "explicit couplings"


def _nmp_from_args(args: argparse.Namespace) -> NMP | None:
    """The seven NMPs given on the command line, or None if none was; an error if only some were or
    couplings were given as well."""
    given = [n for n in NMP_NAMES if getattr(args, n, None) is not None]
    if not given:
        return None
    preset = getattr(args, "preset", None)
    clash = [n for n in COUPLING_NAMES if getattr(args, n, None) is not None]
    if preset is not None or clash:
        what = "--preset" if preset is not None else ", ".join(map(_flag, clash))
        raise ParameterError(
            f"give either couplings or nuclear-matter parameters, not both ({what} with --{given[0]})"
        )
    missing = [n for n in NMP_NAMES if n not in given]
    if missing:
        raise ParameterError(
            f"missing nuclear-matter parameter(s) {', '.join('--' + n for n in missing)}: give all seven of "
            f"{', '.join('--' + n for n in NMP_NAMES)}"
        )
    return NMP(**{n: getattr(args, n) for n in NMP_NAMES})


NO_COUPLINGS = "no physical couplings for these nuclear-matter parameters"


def _invert(args: argparse.Namespace, nmp: NMP) -> tuple[Couplings | None, str | None]:
    """(couplings, None) of ``nmp`` with the masses given on the command line (the library's defaults
    otherwise), or (None, the reason there are no physical couplings)."""
    from . import nuclear_matter as nm

    masses = {n: getattr(args, n) for n in MASS_NAMES if getattr(args, n) is not None}
    result = nm.couplings_from_nmp(nmp, **masses)
    return (result.couplings, None) if result.ok else (None, str(result.reason))


# --------------------------------------------------------------------------- nmp


def _add_nmp_arguments(parser: argparse.ArgumentParser) -> None:
    _add_couplings_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def _run_nmp(args: argparse.Namespace) -> int:
    from . import nuclear_matter as nm

    c, label = _couplings_from_args(args)
    nmp = nm.nmp_from_couplings(c)
    values = {**nmp.to_dict(), "Ksym": float(nm.ksym(c))}
    if args.json:
        _print_json(
            {
                "source": label,
                "couplings": c.to_dict(),
                "nmp": nmp.to_dict(),
                "Ksym": values["Ksym"],
                "units": {name: unit for name, (unit, _) in NMP_INFO.items()},
            }
        )
    else:
        print(f"Nuclear-matter parameters of {label} (at the saturation density of symmetric matter):")
        print(_aligned(_nmp_rows(values)))
    return EXIT_OK


# --------------------------------------------------------------------------- couplings


def _add_nmp_options(group, required: bool) -> None:
    """``--rho0 ... --L0`` (units and allowed ranges from :data:`NMP_INFO` and ``NMP.RANGES``)."""
    for name in NMP_NAMES:
        unit, desc = NMP_INFO[name]
        group.add_argument(
            f"--{name}",
            dest=name,
            required=required,
            type=ranged_real(NMP, name, unit),
            metavar="X",
            help=f"{desc}, in {range_text(NMP, name, unit)}",
        )


def _add_couplings_from_nmp_arguments(parser: argparse.ArgumentParser) -> None:
    _add_nmp_options(parser.add_argument_group("nuclear-matter parameters (all required)"), required=True)
    masses = parser.add_argument_group("masses (optional)")
    for name in MASS_NAMES:
        unit, desc = COUPLING_INFO[name]
        masses.add_argument(
            _flag(name),
            dest=name,
            type=ranged_real(Couplings, name, unit),
            default=DEFAULT_MASSES[name],
            metavar="X",
            help=f"{desc}, in {range_text(Couplings, name, unit)}; default {DEFAULT_MASSES[name]:g}",
        )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def _run_couplings(args: argparse.Namespace) -> int:
    nmp = _nmp_from_args(args)
    couplings, reason = _invert(args, nmp)
    values = None if couplings is None else couplings.to_dict()
    if args.json:
        masses = {n: getattr(args, n) for n in MASS_NAMES}
        _print_json({"nmp": nmp.to_dict(), "masses": masses, "couplings": values, "reason": reason})
    elif values is None:
        print(f"{NO_COUPLINGS}: {reason}")
    else:
        print("Couplings (Lagrangian convention of Dutra et al., PRC 90, 055203 (2014)):")
        print(_aligned(_couplings_rows(values)))
    return EXIT_OK


# --------------------------------------------------------------------------- experiment


def _add_experiment_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("nucleus", nargs="?", help="nucleus, e.g. 208Pb, Pb208, pb-208")
    parser.add_argument("--list", action="store_true", help="list the nuclei with experimental data")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def _run_experiment(args: argparse.Namespace) -> int:
    from .experiment import available_nuclei, experiment

    if args.list:
        names = [n.name for n in available_nuclei()]
        if args.json:
            _print_json(names)
        else:
            print(" ".join(names))
        return EXIT_OK
    if args.nucleus is None:
        raise _UsageError("give a nucleus (e.g. 208Pb) or --list")
    data = experiment(args.nucleus)
    if args.json:
        _print_json(data.to_dict())
        return EXIT_OK
    nuc = data.nucleus
    source = "AME2020, extrapolated" if data.binding_energy_extrapolated else "AME2020"
    rows = [
        (
            "B",
            f"{data.binding_energy:.4f} +/- {data.binding_energy_err:g}",
            "MeV",
            f"binding energy ({source})",
        ),
        ("B/A", f"{data.binding_energy_per_nucleon:.4f}", "MeV", "binding energy per nucleon"),
    ]
    if data.charge_radius is None:
        rows.append(("Rch", "n/a", "", "charge radius: not measured"))
    else:
        rows.append(
            (
                "Rch",
                f"{data.charge_radius:.4f} +/- {data.charge_radius_err:g}",
                "fm",
                "charge radius (Angeli & Marinova 2013)",
            )
        )
    if data.neutron_skin is not None:
        rows.append(
            (
                "Rn-Rp",
                f"{data.neutron_skin:.3f} +/- {data.neutron_skin_err:g}",
                "fm",
                f"neutron skin ({data.neutron_skin_experiment})",
            )
        )
    print(f"{nuc.name} (Z = {nuc.Z}, N = {nuc.N}, A = {nuc.A}):")
    print(_aligned(rows))
    return EXIT_OK


# --------------------------------------------------------------------------- solve


def _add_solve_arguments(parser: argparse.ArgumentParser) -> None:
    _add_couplings_arguments(parser)
    _add_nmp_options(
        parser.add_argument_group(
            "nuclear-matter parameters",
            "or all seven of --rho0 --E0 --K0 --Q0 --mstar --J0 --L0 instead of couplings: the couplings are "
            "those of the NMP -> couplings map (with the masses above, default or given)",
        ),
        required=False,
    )
    parser.add_argument(
        "--nuclei",
        required=True,
        metavar="LIST",
        help="comma-separated nuclei (e.g. 16O,40Ca,208Pb) or a named set (paper, set1, set2)",
    )
    parser.add_argument(
        "--shells", type=int, metavar="N", help="oscillator shells N_F (default: by mass number)"
    )
    parser.add_argument("--levels", action="store_true", help="also print the single-particle levels")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def _solve_source(args: argparse.Namespace) -> tuple[Couplings | None, str, dict]:
    """The couplings to solve (None: the NMPs given have no physical couplings), their label for the table
    and the JSON fields that say where they came from (``nmp``, ``derived_couplings`` and ``reason`` when
    NMPs were given)."""
    nmp = _nmp_from_args(args)
    if nmp is None:
        couplings, label = _couplings_from_args(args)
        return couplings, label, {"couplings": label}
    couplings, reason = _invert(args, nmp)
    values = ", ".join(f"{n} {v:.6g}" for n, v in nmp.to_dict().items())
    label = (
        f"the couplings of the NMPs given ({values})" if couplings is not None else "no physical couplings"
    )
    return (
        couplings,
        label,
        {
            "couplings": label,
            "nmp": nmp.to_dict(),
            "derived_couplings": None if couplings is None else couplings.to_dict(),
            "reason": reason,
        },
    )


def _run_solve(args: argparse.Namespace) -> int:
    from .nuclei import parse_nuclei
    from .solver import SolverConfig, solve

    nuclei = parse_nuclei(args.nuclei)
    config = SolverConfig(n_shells=args.shells)
    couplings, label, source = _solve_source(args)
    if couplings is None:  # Non-convergent A: a result, not an input error
        if args.json:
            _print_json({**source, "results": []})
        else:
            print(f"{NO_COUPLINGS} (Non-convergent A): {source['reason']}")
        return EXIT_OK
    results = [solve(couplings, nuc, config) for nuc in nuclei]
    if args.json:
        payload = []
        for res in results:
            d = res.to_dict()
            if args.levels:
                d["levels"] = [dataclasses.asdict(lv) for lv in res.levels]
            payload.append(d)
        _print_json({**source, "results": finite_json(payload)})
    else:
        _print_solve_table(results, label, args.levels)
    return EXIT_OK


def _print_solve_table(results, label: str, levels: bool) -> None:
    """The human-readable table of ``nucleiml solve``: one line per nucleus with experiment beside it."""
    from .experiment import MissingExperimentError, experiment

    print(
        f"RMF ground states for {label} (B includes E_cm = -(3/4) 41 A^(-1/3) MeV; Rch^2 = Rp^2 + 0.64 fm^2)"
    )
    header = f"{'nucleus':>8} {'status':>10} {'B':>10} {'B_exp':>10} {'B/A':>7} {'Rch':>7} {'Rch_exp':>7} {'Rp':>7} {'Rn':>7} {'skin':>7} {'iter':>5}"
    print(header)
    print(
        f"{'':>8} {'':>10} {'MeV':>10} {'MeV':>10} {'MeV':>7} {'fm':>7} {'fm':>7} {'fm':>7} {'fm':>7} {'fm':>7}"
    )
    for res in results:
        try:
            exp = experiment(res.nucleus)
            b_exp = f"{exp.binding_energy:10.3f}"
            r_exp = f"{exp.charge_radius:7.4f}" if exp.charge_radius is not None else f"{'-':>7}"
        except MissingExperimentError:
            b_exp, r_exp = f"{'-':>10}", f"{'-':>7}"
        status = "converged" if res.converged else res.status.name.lower()
        print(
            f"{res.nucleus.name:>8} {status:>10} {res.binding_energy:10.3f} {b_exp} "
            f"{res.binding_energy_per_nucleon:7.3f} {res.charge_radius:7.4f} {r_exp} {res.proton_radius:7.4f} "
            f"{res.neutron_radius:7.4f} {res.skin:7.4f} {res.iterations:5d}"
        )
        if res.partially_filled:
            print(f"{'':>8} partly filled (equal filling): {', '.join(res.partially_filled)}")
        if levels:
            for lv in res.levels:
                print(
                    f"{'':>10}{lv.species} {lv.label:>8} {lv.energy:9.3f} MeV  occupation {lv.occupation:.3f}"
                )


# --------------------------------------------------------------------------- registry and entry point


@dataclass(frozen=True)
class Subcommand:
    """One ``nucleiml <name>`` command: a help line, an argument builder and a runner returning an exit code."""

    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


SUBCOMMANDS: dict[str, Subcommand] = {
    "nmp": Subcommand("nuclear-matter parameters (and Ksym) of a coupling set", _add_nmp_arguments, _run_nmp),
    "couplings": Subcommand(
        "Lagrangian couplings from the seven nuclear-matter parameters",
        _add_couplings_from_nmp_arguments,
        _run_couplings,
    ),
    "experiment": Subcommand(
        "experimental binding energy and charge radius of a nucleus",
        _add_experiment_arguments,
        _run_experiment,
    ),
    "solve": Subcommand(
        "binding energies and radii of nuclei with the spherical RMF solver",
        _add_solve_arguments,
        _run_solve,
    ),
    "star": Subcommand(
        "neutron stars: beta-equilibrium EoS, SLy4 crust, mass-radius-tidal deformability sequence",
        lambda p: _stars_cli().add_star_arguments(p),
        lambda a: _stars_cli().run_star(a),
    ),
    "generate": Subcommand(
        "generate a labelled training dataset (Parquet; resumable, local workers or Dask)",
        lambda p: _datasets_cli().add_generate_arguments(p),
        lambda a: _datasets_cli().run_generate(a),
    ),
    "dataset": Subcommand(
        "inspect (info) or split (train/validation/test) a generated dataset",
        lambda p: _datasets_cli().add_dataset_arguments(p),
        lambda a: _datasets_cli().run_dataset(a),
    ),
    "train": Subcommand(
        "train the emulator (classifier + regressors; PyTorch, the ml extra) on a split dataset",
        lambda p: _emulator_cli().add_train_arguments(p),
        lambda a: _emulator_cli().run_train(a),
    ),
    "tune": Subcommand(
        "grid search of emulator layers, neurons and epochs with k-fold cross-validation by sample",
        lambda p: _emulator_cli().add_tune_arguments(p),
        lambda a: _emulator_cli().run_tune(a),
    ),
    "evaluate": Subcommand(
        "evaluate an emulator on a dataset and write a report (Markdown + PNG figures)",
        lambda p: _emulator_cli().add_evaluate_arguments(p),
        lambda a: _emulator_cli().run_evaluate(a),
    ),
    "predict": Subcommand(
        "class, binding energy and charge radius from the emulator (no torch needed)",
        lambda p: _emulator_cli().add_predict_arguments(p),
        lambda a: _emulator_cli().run_predict(a),
    ),
    "infer": Subcommand(
        "posterior of the NMPs under finite-nucleus data (nested sampling; emulator or RMF solver)",
        lambda p: _inference_cli().add_infer_arguments(p),
        lambda a: _inference_cli().run_infer(a),
    ),
    "constraints": Subcommand(
        "list the constraints a joint run can use (heavy-ion collisions, pulsars, NICER, GW), with references",
        lambda p: _inference_cli().add_constraints_arguments(p),
        lambda a: _inference_cli().run_constraints(a),
    ),
    "compare": Subcommand(
        "compare two posteriors: Jensen-Shannon divergence per NMP and an overlaid corner plot",
        lambda p: _inference_cli().add_compare_arguments(p),
        lambda a: _inference_cli().run_compare(a),
    ),
    "predictive": Subcommand(
        "a finished posterior through a model (nml or rmf): B and Rch of any nuclei beside experiment",
        lambda p: _inference_cli().add_predictive_arguments(p),
        lambda a: _inference_cli().run_predictive(a),
    ),
}


def _stars_cli():
    from .stars import cli

    return cli


def _datasets_cli():
    from .datasets import cli

    return cli


def _emulator_cli():
    from .emulator import cli

    return cli


def _inference_cli():
    from .inference import cli

    return cli


class _UsageError(ValueError):
    """Invalid command line (reported as one ``error:`` line, exit status 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # argparse would print the usage block and exit; report one line through main() instead.
        raise _UsageError(f"{message} (see '{self.prog} --help')")


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = _Parser(
        prog="nucleiml",
        description="NucleiML: relativistic mean-field nuclear matter and finite nuclei. "
        "Units: MeV, fm, fm^-3.",
    )
    parser.add_argument("--version", action="version", version=f"nucleiml {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for name, cmd in SUBCOMMANDS.items():
        p = sub.add_parser(name, help=cmd.help, description=cmd.help[:1].upper() + cmd.help[1:] + ".")
        cmd.add_arguments(p)
    return parser


def _one_line(exc: BaseException) -> str:
    """The message on one line; undecodable bytes of the command line (surrogates) shown escaped."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    parser = build_parser()
    try:
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # --help / --version
            return exc.code if isinstance(exc.code, int) else EXIT_OK
        if args.command is None:
            parser.print_help(sys.stderr)
            return EXIT_USAGE
        return SUBCOMMANDS[args.command].run(args)
    except BrokenPipeError:  # output piped into e.g. `head`: not an error
        sys.stdout = open(os.devnull, "w")  # silence the flush at interpreter exit
        return EXIT_OK
    # ParameterError, NucleusError, usage, missing extras; OSError: a path that cannot be read or written
    except (ValueError, MissingExtraError, OSError) as exc:
        print(f"error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
