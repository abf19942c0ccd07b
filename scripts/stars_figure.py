"""The README's neutron-star figure: M-R and Lambda-M of the shipped parameter sets.

Run:  python scripts/stars_figure.py [--out docs/figures/stars_presets.png]
"""

from __future__ import annotations

import argparse

from nucleiml.stars import star
from nucleiml.stars.plots import mass_radius_plot

SETS = ("NL3", "FSUGold2", "IUFSU", "FSUGold")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="docs/figures/stars_presets.png")
    args = ap.parse_args()
    results = [star(name) for name in SETS]
    labels = [f"{n} (Mmax {r.summary.M_max:.2f})" for n, r in zip(SETS, results)]
    print(mass_radius_plot(results, args.out, title="published RMF sets, SLy4 crust", labels=labels))


if __name__ == "__main__":
    main()
