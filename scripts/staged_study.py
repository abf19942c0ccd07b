"""The staged study of docs/joint.md: prior, finite nuclei (FN), FN + heavy-ion collisions (HIC), and
FN + HIC + neutron stars (NS), with the shipped emulator.

Run:  python scripts/staged_study.py [--out runs/staged] [--seed 1]

Prints L0, Q0, Mmax, R1.4 and Lambda1.4 (median and 68 % interval) per stage and writes each run to
--out/<stage>. The prior row comes from 4000 prior draws with physical couplings.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from nucleiml.datasets import default_prior
from nucleiml.inference import infer, load_run_config
from nucleiml.inference.derived import derived_quantities
from nucleiml.nuclear_matter import couplings_from_nmp_array
from nucleiml.parameters import NMP_NAMES

HIC = ["HIC_Snp_Morfouace2019", "HIC_flow_DLL2002"]
NS = ["PSR_J0740_mass", "PSR_J0348_mass", "NICER_J0030", "NICER_J0740", "GW170817"]
STAGES = {"FN": [], "FN+HIC": HIC, "FN+HIC+NS": HIC + NS}
SHOW = {"L0": "MeV", "Q0": "MeV", "M_max": "Msun", "R_14": "km", "Lambda_14": ""}


def _cell(x: np.ndarray) -> str:
    x = x[np.isfinite(x)]
    lo, med, hi = np.percentile(x, [15.87, 50, 84.13])
    return f"{med:.4g} [{lo:.4g}, {hi:.4g}]"


def prior_row(seed: int) -> dict:
    prior = default_prior()
    s = prior.sample(8000, np.random.default_rng(seed))
    x = np.stack([np.asarray(s[k]) for k in NMP_NAMES], axis=1)
    x = x[couplings_from_nmp_array(x, **prior.masses).ok][:4000]
    cols, _ = derived_quantities(x, prior.masses)
    return {"L0": x[:, 6], "Q0": x[:, 3], **cols}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="runs/staged")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rows = {"prior": prior_row(args.seed)}
    base = load_run_config("joint")
    for stage, use in STAGES.items():
        cfg = base.replace(constraints={"use": tuple(use), "derived": True}, sampler={"seed": args.seed})
        out = Path(args.out) / stage.replace("+", "_")
        summary = infer(cfg, out, overwrite=out.exists(), progress=False, predictive_draws=0)
        import pyarrow.parquet as pq

        t = pq.read_table(out / "posterior.parquet")
        rows[stage] = {k: t.column(k).to_numpy() for k in SHOW}
        print(
            f"{stage}: {summary['wall_seconds']:.1f} s, ESS {summary.get('constraints_method', {}).get('ess_joint')}"
        )
    print("| stage | " + " | ".join(f"{k} [{u}]" if u else k for k, u in SHOW.items()) + " |")
    print("|---" * (len(SHOW) + 1) + "|")
    for stage, cols in rows.items():
        print(f"| {stage} | " + " | ".join(_cell(np.asarray(cols[k], dtype=float)) for k in SHOW) + " |")
    Path(args.out, "staged.json").write_text(
        json.dumps(
            {s: {k: _cell(np.asarray(c[k], dtype=float)) for k in SHOW} for s, c in rows.items()}, indent=2
        )
    )


if __name__ == "__main__":
    main()
