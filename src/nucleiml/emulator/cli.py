"""Command-line layers of ``nucleiml train``, ``tune``, ``evaluate`` and ``predict`` (registered in
:mod:`nucleiml.cli`). Input errors raise ``ValueError`` subclasses, which the CLI prints as one line with
exit status 2. torch, matplotlib and pyarrow are imported by the commands that need them only."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from .._argtypes import integer, ranged_real, real_in
from ..parameters import NMP, NMP_INFO, NMP_NAMES, ParameterError, described
from .extrapolation import UNSEEN_METHODS
from .metrics import finite_json

UNITS = {"binding_energy": "MeV", "charge_radius": "fm", "neutron_skin": "fm"}
"""Units of the predicted observables (the neutron skin is Rn - Rp)."""

__all__ = [
    "add_evaluate_arguments",
    "add_predict_arguments",
    "add_train_arguments",
    "add_tune_arguments",
    "run_evaluate",
    "run_predict",
    "run_train",
    "run_tune",
]


# ----------------------------------------------------------------------------------------------- train


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Train the emulator (classifier, binding-energy and charge-radius regressors) with PyTorch on the train "
        "split of DATASET, with validation curves on its validation split (run `nucleiml dataset split` "
        'first). Needs the ml extra: pip install "nucleiml[ml]".'
    )
    parser.add_argument(
        "dataset", metavar="DATASET", help="dataset directory with splits/train and splits/validation"
    )
    parser.add_argument("--out", required=True, metavar="MODEL", help="model directory to write")
    parser.add_argument(
        "--preset",
        default="default",
        help="training preset: default (NucleiML's) or paper (the seed's networks)",
    )
    parser.add_argument(
        "--nuclei",
        metavar="LIST",
        help="train on these nuclei of the dataset only (e.g. paper, set1); default all",
    )
    parser.add_argument(
        "--seed",
        type=integer("--seed", 0, 2**63 - 1),
        default=0,
        help="random seed (default 0): same seed, same weights",
    )
    parser.add_argument(
        "--extend",
        metavar="MODEL",
        help="keep the networks of this model bit for bit and train only those of the preset it lacks (the "
        "neutron-skin regressor) on DATASET, which must be the data it was trained on (checked); 'default': "
        "the model shipped with NucleiML",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.add_argument("--json", action="store_true", help="print the validation scores as JSON")


def run_train(args: argparse.Namespace) -> int:
    from .presets import get_preset
    from .training import extend_emulator, train_emulator

    preset = get_preset(args.preset)
    log = None if args.json else (lambda line: print(line, flush=True))
    if args.extend is not None:
        if args.nuclei is not None:
            raise ParameterError("--extend keeps the model's nuclei: give --nuclei without --extend")
        base = None if args.extend == "default" else args.extend
        em = extend_emulator(
            base, args.dataset, args.out, preset, seed=args.seed, progress=not args.quiet, log=log
        )
    else:
        em = train_emulator(
            args.dataset,
            args.out,
            preset,
            nuclei=args.nuclei,
            seed=args.seed,
            progress=not args.quiet,
            log=log,
        )
    val = em.metadata.get("validation", {})
    if args.json:
        print(json.dumps(finite_json({"model": str(args.out), "validation": val}), indent=2, allow_nan=False))
        return 0
    print(f"wrote {args.out}")
    if val:
        print(_checks_text(val, "validation split"))
    return 0


def _checks_text(result: dict, what: str) -> str:
    cls = result["classification"]
    lines = [
        f"{what}: {result['rows']} rows; accuracy {cls['accuracy']:.4f}; recall "
        + ", ".join(f"{c} {v['recall']:.3f}" for c, v in cls["per_class"].items() if v["support"]),
    ]
    for k, unit in (("binding_energy", "BE"), ("charge_radius", "Rch"), ("neutron_skin", "Rn - Rp")):
        per = result["regression"].get(k)
        if per is None:  # a model without the skin regressor
            continue
        show = (lambda v: f"{v:.2g} fm") if k == "neutron_skin" else (lambda v: f"{100 * v:.3g} %")
        lines.append(
            f"  {unit}: 95 % of convergent rows within +- "
            + ", ".join(f"{n} {show(s['abs95'])}" for n, s in per.items() if n != "all" and s["n"])
        )
    fails = [k for k, c in result.get("checks", {}).items() if not c["pass"]]
    lines.append("  targets: " + ("all met" if not fails else "not met: " + ", ".join(fails)))
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------- tune


def add_tune_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Grid search over layers, neurons and epochs with k-fold cross-validation by sample_id on the train split "
        "of DATASET (seed Table I). The grid is a TOML file (see the README). Writes a CSV and a Markdown table."
    )
    parser.add_argument("dataset", metavar="DATASET", help="dataset directory with splits/train")
    parser.add_argument("--grid", required=True, metavar="FILE", help="grid TOML file")
    parser.add_argument("--out", metavar="DIR", help="output directory (default: DATASET/tune-<grid name>)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.add_argument(
        "--json", action="store_true", help="print the table as JSON (one object per setting)"
    )


def run_tune(args: argparse.Namespace) -> int:
    from .tune import grid_search, load_grid

    grid = load_grid(args.grid)
    out = Path(args.out) if args.out else Path(args.dataset) / f"tune-{Path(args.grid).stem}"
    log = None if args.json else (lambda s: print(s, flush=True))
    table = grid_search(args.dataset, grid, out, progress=not args.quiet, log=log)
    if args.json:
        print(json.dumps(finite_json({"out": str(out), "settings": table}), indent=2, allow_nan=False))
        return 0
    print((out / "grid.md").read_text(encoding="utf-8"))
    print(f"wrote {out / 'grid.csv'} and {out / 'grid.md'} ({len(table)} settings)")
    return 0


# ----------------------------------------------------------------------------------------------- evaluate


def _named_model(text: str) -> tuple[str, str]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"--also takes NAME=MODEL_DIR, got {text!r}")
    name, path = text.split("=", 1)
    if not name.strip() or not path.strip():
        raise argparse.ArgumentTypeError(f"--also takes NAME=MODEL_DIR, got {text!r}")
    return name.strip(), path.strip()


def add_evaluate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Evaluate a model on the test split of DATASET (or all of it with --split all) and write a report "
        "(Markdown page + PNG figures): classifier scores and confusion matrix, training curves, relative "
        "deviations per nucleus, RMF-vs-NML histograms, and the unseen-nuclei study."
    )
    parser.add_argument("model", metavar="MODEL", help="model directory")
    parser.add_argument("dataset", metavar="DATASET", help="dataset directory")
    parser.add_argument("--report", required=True, metavar="DIR", help="report directory to write")
    parser.add_argument(
        "--split",
        default="test",
        choices=("test", "validation", "train", "all"),
        help="rows to evaluate (default test)",
    )
    parser.add_argument(
        "--also",
        action="append",
        type=_named_model,
        default=[],
        metavar="NAME=MODEL",
        help="another model to compare on the same rows (repeatable), e.g. paper=models/paper; models trained on "
        "fewer nuclei also enter the unseen-nuclei study",
    )
    parser.add_argument(
        "--unseen",
        metavar="DATASET",
        help="dataset (used whole) of nuclei none of the models was trained on, for the unseen-nuclei study "
        "(default: such nuclei among the evaluated rows, if any)",
    )
    parser.add_argument("--json", action="store_true", help="print the scores as JSON")


def run_evaluate(args: argparse.Namespace) -> int:
    from .model import Emulator
    from .report import write_report  # raises MissingExtraError without matplotlib

    main_name = Path(args.model).resolve().name or "model"  # the model directory names it in the report
    models = {main_name: Emulator.load(args.model)}
    for name, path in args.also:
        if name in models:
            raise ValueError(f"--also: model name {name!r} is used twice")
        models[name] = Emulator.load(path)
    summary = write_report(
        models,
        args.dataset,
        args.report,
        split=None if args.split == "all" else args.split,
        unseen_dataset=args.unseen,
    )
    if args.json:
        print(json.dumps(finite_json(summary), indent=2, allow_nan=False))
    else:
        if summary["models"][main_name]["seen"]["rows"]:
            print(_checks_text(summary["models"][main_name]["seen"], f"{args.split} rows"))
        for name, m in summary["models"].items():
            if m["unseen"]:
                per = m["unseen"]["regression"]
                print(
                    f"unseen nuclei, model {name}: 95 % within +- "
                    f"{100 * (per['binding_energy']['all']['abs95'] or 0):.3g} % (B), "
                    f"+- {100 * (per['charge_radius']['all']['abs95'] or 0):.3g} % (Rch)"
                )
        print(f"wrote {Path(args.report) / 'report.md'}")
    return 0


# ----------------------------------------------------------------------------------------------- predict


def add_predict_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Predict class probabilities, binding energy (MeV), charge radius (fm) and, with a model that has the skin "
        "regressor (the shipped one), the neutron skin Rn - Rp (fm) with an emulator: NMPs given "
        "on the command line (one parameter set) or in a file (CSV with a header naming rho0,E0,K0,Q0,mstar,J0,L0, "
        "or an .npy array of shape (n, 7) in that order). No torch needed."
    )
    parser.add_argument(
        "--model", metavar="DIR", help="model directory (default: the model shipped with NucleiML)"
    )
    parser.add_argument(
        "--nuclei", required=True, metavar="LIST", help="nuclei, e.g. 208Pb or 16O,40Ca or paper"
    )
    group = parser.add_argument_group("nuclear-matter parameters (one set; or --file)")
    for name in NMP_NAMES:
        group.add_argument(
            f"--{name}", type=ranged_real(NMP, name, NMP_INFO[name][0]), metavar="X", help=described(name)
        )
    parser.add_argument("--file", metavar="FILE", help="CSV (header with the NMP names) or .npy (n, 7)")
    parser.add_argument(
        "--out", metavar="CSV", help="write the predictions to a CSV file instead of printing them"
    )
    parser.add_argument(
        "--allow-unseen",
        action="store_true",
        help="allow nuclei the model was not trained on (extrapolation)",
    )
    parser.add_argument(
        "--unseen-method",
        choices=UNSEEN_METHODS,
        default=UNSEEN_METHODS[0],
        help="how B and Rch of an unseen nucleus are extrapolated: 'fit' through the model's predictions at "
        "its training nuclei (default; models trained on >= 7 nuclei), 'network' at the nucleus' (Z, N)",
    )
    parser.add_argument(
        "--strict-domain",
        action="store_true",
        help="refuse NMPs outside the training prior box (default: flag them)",
    )
    parser.add_argument(
        "--nc-b-threshold",
        type=real_in("nc_b_threshold", 0.0, 1.0, lo_open=True),
        metavar="P",
        help="label nc_b every row with P(nc_b) >= P, in (0, 1] (default: the model's rule, for the shipped "
        "model the most probable class); lower finds more solver failures at the cost of nc_c and "
        "convergent rows",
    )
    parser.add_argument("--json", action="store_true", help="print JSON")


def _read_nmp_npy(p: Path, path: str) -> np.ndarray:
    try:
        arr = np.load(p, allow_pickle=False)
    except (ValueError, EOFError, OSError) as exc:
        reason = str(exc) or type(exc).__name__
        raise ParameterError(f"--file {path}: not a plain numeric .npy array ({reason})") from None
    if not isinstance(arr, np.ndarray) or arr.dtype.kind not in "iuf":
        kind = arr.dtype if isinstance(arr, np.ndarray) else type(arr).__name__
        raise ParameterError(f"--file {path}: need an (n, 7) array of real numbers, got {kind}")
    if arr.ndim not in (1, 2) or arr.shape[-1] != len(NMP_NAMES):
        raise ParameterError(f"--file {path}: need an (n, 7) array of the NMPs, got shape {arr.shape}")
    return arr


def _read_nmp_csv(p: Path, path: str) -> list[list[float]]:
    import csv

    try:
        with open(p, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            missing = [k for k in NMP_NAMES if k not in (reader.fieldnames or [])]
            if missing:
                raise ParameterError(
                    f"--file {path}: the CSV header lacks {', '.join(missing)}; need columns {', '.join(NMP_NAMES)}"
                )
            rows = []
            for line, row in enumerate(reader, start=2):
                try:
                    rows.append([float(row[k]) for k in NMP_NAMES])
                except (TypeError, ValueError):
                    raise ParameterError(f"--file {path}, line {line}: every NMP must be a number") from None
    except UnicodeDecodeError as exc:
        raise ParameterError(f"--file {path} is not UTF-8 text (byte {exc.start}: {exc.reason})") from None
    except csv.Error as exc:
        raise ParameterError(f"--file {path} is not a readable CSV file: {exc}") from None
    return rows


def _read_nmp_file(path: str) -> np.ndarray:
    """NMP rows of a ``--file``: a CSV with the NMP columns or an (n, 7) .npy array; never zero rows."""
    p = Path(path)
    if not p.is_file():
        raise ParameterError(f"--file {path}: no such file")
    rows = _read_nmp_npy(p, path) if p.suffix == ".npy" else _read_nmp_csv(p, path)
    if np.size(rows) == 0:
        raise ParameterError(f"--file {path} holds no rows")
    return np.asarray(rows)


def run_predict(args: argparse.Namespace) -> int:
    from ..nuclei import parse_nuclei
    from .model import Emulator

    given = [k for k in NMP_NAMES if getattr(args, k) is not None]
    if args.file and given:
        raise ParameterError("give the NMPs either on the command line or with --file, not both")
    if args.file:
        nmp = _read_nmp_file(args.file)
    else:
        missing = [k for k in NMP_NAMES if getattr(args, k) is None]
        if missing:
            raise ParameterError(
                f"missing {', '.join('--' + k for k in missing)}: give all seven NMPs or --file FILE"
            )
        nmp = NMP(**{k: getattr(args, k) for k in NMP_NAMES})
    em = Emulator.load(args.model)
    nuclei = parse_nuclei(args.nuclei)
    results = em.predict_nuclei(
        nmp,
        nuclei,
        allow_unseen=args.allow_unseen,
        unseen_method=args.unseen_method,
        out_of_domain="raise" if args.strict_domain else "flag",
        nc_b_threshold=args.nc_b_threshold,
    )
    records = []
    for name, out in results.items():
        for i in range(out["label"].size):
            records.append(
                {
                    "row": i,
                    "nucleus": name,
                    "label": str(out["label"][i]),
                    **{f"p_{c}": float(out["probabilities"][i, j]) for j, c in enumerate(em.class_names)},
                    **{k: float(out[k][i]) for k in em.observables},
                    "in_domain": bool(out["in_domain"][i]),
                }
            )
    if args.out:
        import csv

        with open(args.out, "w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=list(records[0]))
            w.writeheader()
            w.writerows(records)
        print(f"wrote {len(records)} predictions to {args.out}")
        return 0
    if args.json:
        print(
            json.dumps(
                finite_json(
                    {
                        "model": str(em.path),
                        "units": {k: UNITS[k] for k in em.observables},
                        "predictions": records,
                    }
                ),
                indent=2,
                allow_nan=False,
            )
        )
        return 0
    skin = "neutron_skin" in em.observables
    print(
        f"emulator {em.path} ({em.mode}); B in MeV, Rch{', Rn - Rp' if skin else ''} in fm; in_domain: inside "
        "the training prior box"
    )
    head = f"{'row':>5} {'nucleus':>8} {'label':>10} " + " ".join(f"{'p_' + c:>12}" for c in em.class_names)
    print(head + f" {'B':>10} {'Rch':>8}" + (f" {'Rn - Rp':>8}" if skin else "") + f" {'in_domain':>9}")
    for r in records:
        print(
            f"{r['row']:>5} {r['nucleus']:>8} {r['label']:>10} "
            + " ".join(f"{r['p_' + c]:>12.4f}" for c in em.class_names)
            + f" {r['binding_energy']:>10.3f} {r['charge_radius']:>8.4f}"
            + (f" {r['neutron_skin']:>8.4f}" if skin else "")
            + f" {r['in_domain']!s:>9}"
        )
    if not all(r["in_domain"] for r in records):
        print("warning: some NMPs lie outside the training prior box (extrapolation)", file=sys.stderr)
    return 0
