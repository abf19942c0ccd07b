"""The evaluation report: PNG figures and one Markdown page (matplotlib is imported here only).

Figures follow the seed paper: training curves of the classifier (Fig. 2) and regressors (Fig. 4), the
confusion matrix (Fig. 3), relative deviations per nucleus (Fig. 5), RMF-vs-NML histograms for two nuclei
(Fig. 6) and the unseen-nuclei study (Fig. 7). Figures are drawn on ``matplotlib.figure.Figure`` objects
with the Agg canvas, so no pyplot state or GUI backend is touched.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .._atomic import atomic_write_bytes, atomic_write_json
from .._extras import require
from .evaluation import ABSOLUTE, TARGETS, evaluate_rows, observable_deviation
from .extrapolation import can_extrapolate
from .metrics import finite_json

require("matplotlib", "infer", "the evaluation report")  # a clear error for API users too, not only the CLI's
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

__all__ = ["write_report"]

_NICE = {"convergent": "Convergent", "nc_a": "NC A", "nc_b": "NC B", "nc_c": "NC C"}
_OBS = {  # name, symbol (mathtext), unit
    "binding_energy": ("binding energy", "B", "MeV"),
    "charge_radius": ("charge radius", r"R_\mathrm{ch}", "fm"),
    "neutron_skin": ("neutron skin", r"R_\mathrm{skin}", "fm"),
}


def _shown(key: str, true: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """The deviation as the figures show it: per cent of X_true, or fm for the neutron skin."""
    d = observable_deviation(key, true, pred)
    return d if key in ABSOLUTE else 100 * d


def _unit(key: str) -> str:
    """Unit of :func:`_shown` (``%`` or ``fm``)."""
    return "fm" if key in ABSOLUTE else "%"


def _target(key: str, unseen: bool = False) -> float:
    """The 95 % target of ``key`` in the unit of :func:`_shown`."""
    t = TARGETS[f"{key}_unseen" if unseen else key]
    return t if key in ABSOLUTE else 100 * t


def _dev_label(key: str) -> str:
    """Axis label of the deviation of ``key``."""
    sym = _OBS[key][1]
    if key in ABSOLUTE:
        return rf"$\Delta {sym} = {sym}^\mathrm{{RMF}} - {sym}^\mathrm{{NML}}$ (fm)"
    return rf"$\Delta {sym}/{sym} = ({sym}^\mathrm{{RMF}} - {sym}^\mathrm{{NML}}) / {sym}^\mathrm{{RMF}}$ (%)"


def _observables(ev: dict) -> list[str]:
    """The observables an evaluation scored, in the order of :data:`_OBS`."""
    return [k for k in _OBS if k in ev["regression"]]


_COLORS = [
    "tab:blue",
    "tab:orange",
    "tab:green",
    "tab:red",
    "tab:purple",
    "tab:brown",
    "tab:pink",
    "tab:gray",
    "tab:olive",
    "tab:cyan",
]
"""One colour per nucleus or model: the ten of matplotlib's tab10, so that the ten set2 nuclei are told apart."""


def _rows(n: int) -> str:
    return f"{n} row" if n == 1 else f"{n} rows"


def _save(fig: Figure, path: Path) -> str:
    FigureCanvasAgg(fig)
    fig.savefig(path, dpi=130)
    return path.name


def _nucleus_tex(name: str) -> str:
    digits = "".join(c for c in name if c.isdigit())
    return f"$^{{{digits}}}${name[len(digits) :]}"


# ---------------------------------------------------------------------------------------------- figures


def _fig_classifier_curves(hist: dict, path: Path) -> str:
    fig = Figure(figsize=(9, 3.6), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2)
    ep = np.arange(1, len(hist["train_loss"]) + 1)
    ax1.plot(ep, hist["train_loss"], label="training")
    if hist["val_loss"]:
        ax1.plot(ep, hist["val_loss"], label="validation")
    ax1.set_xlabel("epoch")
    ax1.set_ylabel("loss (" + hist["loss_name"].replace("_", " ") + ")")
    ax1.set_yscale("log")
    ax1.set_title("(a) classifier loss")
    if hist.get("train_accuracy"):
        ax2.plot(ep, hist["train_accuracy"], label="training")
        if hist.get("val_accuracy"):
            ax2.plot(ep, hist["val_accuracy"], label="validation")
        ax2.set_ylabel("accuracy (fraction of the network's rows)")
    kept = hist.get("kept_epoch")
    if kept and kept != len(ep):  # drawn after the curves: both legends read training, validation, kept
        for ax in (ax1, ax2):
            ax.axvline(kept, color="k", ls=":", lw=1, label="kept epoch")
    ax1.legend()
    if hist.get("train_accuracy"):
        ax2.legend()
    ax2.set_xlabel("epoch")
    ax2.set_title(
        "(b) classifier accuracy"
        + (
            " (converged vs nc_b)"
            if len(hist.get("train_accuracy") or []) and hist["loss_name"] == "binary_cross_entropy"
            else ""
        )
    )
    return _save(fig, path)


def _fig_regressor_curves(histories: dict, path: Path) -> str:
    keys = [k for k in _OBS if k in histories]
    fig = Figure(figsize=(4.5 * len(keys), 3.6), layout="constrained")
    axes = fig.subplots(1, len(keys))
    for ax, key, tag in zip(axes, keys, ("(a)", "(b)", "(c)")):
        hist = histories[key]
        ep = np.arange(1, len(hist["train_loss"]) + 1)
        ax.plot(ep, hist["train_loss"], label="training")
        if hist["val_loss"]:
            ax.plot(ep, hist["val_loss"], label="validation")
        if hist.get("kept_epoch") and hist["kept_epoch"] != len(ep):
            ax.axvline(hist["kept_epoch"], color="k", ls=":", lw=1, label="kept epoch")
        ax.set_yscale("log")
        ax.set_xlabel("epoch")
        unit = "MAPE (%)" if hist["loss_name"] == "mape" else "MSE of the standardised target"
        ax.set_ylabel(f"loss: {unit}")
        ax.set_title(f"{tag} {_OBS[key][0]} regressor")
        ax.legend()
    return _save(fig, path)


def _fig_confusion(cls: dict, path: Path, title: str) -> str:
    cm = np.asarray(cls["confusion"], dtype=float)
    names = [_NICE.get(c, c) for c in cls["classes"]]
    frac = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    fig = Figure(figsize=(5.6, 4.6), layout="constrained")
    ax = fig.subplots()
    im = ax.imshow(frac, cmap="Blues", vmin=0, vmax=1)
    for i in range(cm.shape[0]):
        for j in range(cm.shape[1]):
            ax.text(
                j,
                i,
                f"{int(cm[i, j])}",
                ha="center",
                va="center",
                color="white" if frac[i, j] > 0.5 else "black",
            )
    ax.set_xticks(range(len(names)), names)
    ax.set_yticks(range(len(names)), names)
    ax.set_xlabel("predicted label")
    ax.set_ylabel("true label (RMF solver)")
    ax.set_title(title)
    fig.colorbar(im, ax=ax, label="fraction of the true class")
    return _save(fig, path)


NOTE_HEADROOM = 1.25
"""The deviation histograms' y-axis reaches this multiple of the highest bin, so that the note in the
upper-left corner never hides a peak."""


def _fig_deviations(ev: dict, path: Path, title: str, unseen: bool = False) -> str:
    arr = ev["arrays"]
    conv = arr["convergent"]
    nuclei = [n for n in ev["nuclei"] if np.any(arr["nucleus"][conv] == n)]
    keys = _observables(ev)
    fig = Figure(figsize=(5 * len(keys), 8.5), layout="constrained")
    axes = fig.subplots(2, len(keys))
    for col, key in enumerate(keys):
        name, sym, _ = _OBS[key]
        dev = _shown(key, arr[f"{key}_true"][conv], arr[f"{key}_pred"][conv])
        nuc = arr["nucleus"][conv]
        tol, unit = _target(key, unseen), _unit(key)
        ax = axes[0, col]
        lo, hi = np.quantile(dev, [0.01, 0.99]) if dev.size else (-1, 1)
        # the axis follows the data (98 % of the rows), so that narrow distributions stay readable; a target
        # wider than that shades the whole panel and says so in the legend
        span = max(abs(lo), abs(hi), 1e-3) * 1.2
        bins = np.linspace(-span, span, 81)
        outside = int(np.sum(np.abs(dev) > span))
        for k, n in enumerate(nuclei):
            ax.hist(
                dev[nuc == n],
                bins=bins,
                density=True,
                histtype="step",
                lw=1.3,
                color=_COLORS[k % len(_COLORS)],
                label=_nucleus_tex(n),
            )
        if dev.size:
            q = np.quantile(dev, [0.025, 0.975])
            for v in q:
                ax.axvline(v, color="k", ls="--", lw=1)
        beyond_axis = " (beyond the axis)" if tol > span else ""
        ax.axvspan(-tol, tol, color="0.85", zorder=0, label=f"target +-{tol:g} {unit}{beyond_axis}")
        ax.set_xlim(-span, span)
        ax.set_xlabel(_dev_label(key))
        ax.set_ylabel(f"probability density (1/{unit})")
        ax.set_title(f"({'abc'[col]}) {name}", fontsize=10)
        note = "dashed: 95 % interval, all nuclei" + (
            f"\n{_rows(outside)} beyond the axis" if outside else ""
        )
        ax.set_ylim(top=ax.get_ylim()[1] * NOTE_HEADROOM)  # room for the note above the histograms
        ax.text(
            0.02,
            0.97,
            note,
            transform=ax.transAxes,
            va="top",
            fontsize=7,
            bbox={"facecolor": "white", "alpha": 0.85, "edgecolor": "none"},
        )
        ax.legend(fontsize=7, ncol=4, loc="upper center", bbox_to_anchor=(0.5, -0.2), frameon=False)
        ax = axes[1, col]
        for k, n in enumerate(nuclei):
            d = dev[nuc == n]
            med = np.median(d)
            q = np.quantile(d, [0.025, 0.975])
            ax.errorbar(
                k, med, yerr=[[med - q[0]], [q[1] - med]], fmt="o", color=_COLORS[k % len(_COLORS)], capsize=4
            )
        ax.axhspan(-tol, tol, color="0.85", zorder=0, label=f"target +-{tol:g} {unit}")
        ax.axhline(0, color="k", lw=0.6)
        ax.set_xticks(range(len(nuclei)), [_nucleus_tex(n) for n in nuclei])
        shown = rf"$\Delta {sym}$" if key in ABSOLUTE else rf"$\Delta {sym}/{sym}$"
        ax.set_ylabel(f"{shown} ({unit}): median, 95 % interval")
        ax.set_xlabel("nucleus")
        ax.legend(fontsize=8)
    fig.suptitle(title)
    return _save(fig, path)


def _fig_rmf_vs_nml(ev: dict, nucleus: str, path: Path) -> str:
    from ..experiment import experiment

    arr = ev["arrays"]
    m = arr["convergent"] & (arr["nucleus"] == nucleus)
    exp = experiment(nucleus)
    keys = _observables(ev)
    fig = Figure(figsize=(5.5 * len(keys), 5), layout="constrained")
    outer = fig.subfigures(1, len(keys))
    for sf, key in zip(outer, keys):
        name, sym, unit = _OBS[key]
        x, y = arr[f"{key}_true"][m], arr[f"{key}_pred"][m]
        dev = _shown(key, x, y)
        gs = sf.add_gridspec(2, 2, height_ratios=(1, 3.2), width_ratios=(3.2, 0.18), hspace=0.05, wspace=0.05)
        ax = sf.add_subplot(gs[1, 0])
        top = sf.add_subplot(gs[0, 0], sharex=ax)
        cax = sf.add_subplot(gs[1, 1])
        lo, hi = np.quantile(np.concatenate([x, y]), [0.0, 1.0]) if x.size else (0, 1)
        pad = 0.03 * (hi - lo + 1e-9)
        edges = np.linspace(lo - pad, hi + pad, int(np.clip(np.sqrt(max(x.size, 1)) * 1.5, 15, 80)) + 1)
        # colour: mean deviation of the rows in each 2-D bin
        cnt, _, _ = np.histogram2d(x, y, bins=[edges, edges])
        tot, _, _ = np.histogram2d(x, y, bins=[edges, edges], weights=dev)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(cnt > 0, tot / cnt, np.nan)
        lim = max(float(np.quantile(np.abs(dev), 0.99)) if dev.size else 1.0, 1e-5)  # a few outliers saturate
        im = ax.pcolormesh(edges, edges, mean.T, cmap="coolwarm", vmin=-lim, vmax=lim)
        ax.plot(edges, edges, "b--", lw=1, label="ideal: NML = RMF")
        if key == "binding_energy":
            ax.axvline(exp.binding_energy, color="k", ls=":", lw=1.2, label="experiment")
            ax.axhline(exp.binding_energy, color="k", ls=":", lw=1.2)
        elif getattr(exp, key) is not None:
            ax.axvline(getattr(exp, key), color="k", ls=":", lw=1.2, label="experiment")
            ax.axhline(getattr(exp, key), color="k", ls=":", lw=1.2)
        ax.set_xlabel(f"${sym}$ from the RMF solver ({unit})")
        ax.set_ylabel(f"${sym}$ from NML ({unit})")
        ax.legend(fontsize=8, loc="upper left")
        cb = sf.colorbar(im, cax=cax, extend="both")
        shown = rf"$\Delta {sym}$" if key in ABSOLUTE else rf"$\Delta {sym}/{sym}$"
        cb.set_label(f"mean {shown} in the bin ({_unit(key)})\ndashed: median and 95 % interval")
        if dev.size:
            for v in np.quantile(dev, [0.025, 0.5, 0.975]):
                if -lim <= v <= lim:
                    cax.axhline(v, color="k", ls="--", lw=1)
        top.hist(x, bins=edges, histtype="step", density=True, label="RMF", color="k")
        top.hist(y, bins=edges, histtype="step", density=True, label="NML", color="tab:red")
        top.set_ylabel(f"density (1/{unit})")
        top.tick_params(labelbottom=False)
        top.legend(fontsize=8)
        top.set_title(f"{_nucleus_tex(nucleus)}: {name} ({int(m.sum())} convergent test rows)", fontsize=10)
    return _save(fig, path)


UNSEEN_AXIS_TARGETS = (1.5, 5.0)
"""The unseen-nuclei histograms span the 99th percentile of |deviation| over all models, kept between these
multiples of the target, so that one far-off model (the paper preset's tails reach 40 %) does not squeeze the
others; rows beyond the axis are counted per model in the legend."""


def _fig_unseen(studies: dict, path: Path) -> str:
    keys = [k for k in _OBS if all(k in ev["regression"] for ev in studies.values())]
    fig = Figure(figsize=(5 * len(keys), 5.6), layout="constrained")
    axes = fig.subplots(1, len(keys))
    for ax, key, tag in zip(axes, keys, "abc"):
        name, sym, _ = _OBS[key]
        devs = {}
        for label, ev in studies.items():
            arr = ev["arrays"]
            c = arr["convergent"]
            devs[label] = _shown(key, arr[f"{key}_true"][c], arr[f"{key}_pred"][c])
        tol, unit = _target(key, True), _unit(key)
        allv = np.abs(np.concatenate(list(devs.values()))) if devs else np.zeros(0)
        q99 = np.quantile(allv, 0.99) if allv.size else tol
        span = float(np.clip(q99, *(m * tol for m in UNSEEN_AXIS_TARGETS)))
        bins = np.linspace(-span, span, 81)
        for k, (label, d) in enumerate(devs.items()):
            if d.size == 0:
                continue
            beyond = int(np.sum(np.abs(d) > span))
            color = _COLORS[k % len(_COLORS)]
            shown = d[np.abs(d) <= span]
            entry = label + (f" ({_rows(beyond)} beyond the axis)" if beyond else "")
            if shown.size == 0:  # every row off the axis: only the legend entry and the median line
                ax.plot([], [], color=color, lw=1.2, label=entry)
            else:
                ax.hist(shown, bins=bins, density=True, histtype="stepfilled", alpha=0.25, color=color)
                ax.hist(shown, bins=bins, density=True, histtype="step", lw=1.2, color=color, label=entry)
            ax.axvline(np.median(d), color=color, ls="--", lw=1)
        ax.axvline(-tol, color="k", ls=":", lw=1, label=f"target +-{tol:g} {unit}")
        ax.axvline(tol, color="k", ls=":", lw=1)
        ax.set_xlim(-span, span)
        shown = rf"$\Delta {sym}$" if key in ABSOLUTE else rf"$\Delta {sym}/{sym}$"
        ax.set_xlabel(f"{shown} ({unit}), nuclei not in training")
        ax.set_ylabel(f"probability density (1/{unit})")
        ax.set_title(f"({tag}) {name}: medians dashed", fontsize=10)
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.16), frameon=False)
    return _save(fig, path)


# ---------------------------------------------------------------------------------------------- page


def _pct(v) -> str:
    return "-" if v is None else f"{100 * v:.3g}"


def _cls_table(cls: dict) -> list[str]:
    lines = ["| class | precision | recall | F1 | support |", "|---|---:|---:|---:|---:|"]
    for c, v in cls["per_class"].items():
        lines.append(
            f"| {_NICE.get(c, c)} | {v['precision']:.3f} | {v['recall']:.3f} | {v['f1']:.3f} | {v['support']} |"
        )
    lines.append(f"| **total accuracy** | | | {cls['accuracy']:.4f} | {cls['n']} |")
    return lines


def _accept_reject_table(ar: dict) -> list[str]:
    """Accept versus reject recalls, with the reason they stand beside the four classes."""

    def rec(v):
        return "-" if not np.isfinite(v) else f"{v:.4f}"

    return [
        "Accept (convergent) versus reject (nc_a, nc_b or nc_c), the split a likelihood uses: a row is either "
        "predicted or thrown out. nc_b's own recall is not a property of the emulator: labels near that "
        "boundary flip under 1e-4 relative changes of the NMPs (docs/emulator.md, 'nc_b recall'), and most "
        "nc_b rows the classifier misses it labels nc_c, which rejects them all the same.",
        "",
        "| split | recall | support |",
        "|---|---:|---:|",
        f"| accept (convergent) | {rec(ar['accept_recall'])} | {ar['accept_support']} |",
        f"| reject (nc_a, nc_b, nc_c) | {rec(ar['reject_recall'])} | {ar['reject_support']} |",
        f"| reject, rows with couplings (nc_b, nc_c; nc_a is exact) | {rec(ar['reject_recall_learned'])} | "
        f"{ar['reject_learned_support']} |",
        f"| **accuracy of the split** | {rec(ar['accuracy'])} | {ar['accept_support'] + ar['reject_support']} |",
    ]


def _reg_table(ev: dict, key: str) -> list[str]:
    tol = ev["regression"][key]["all"].get("tolerance")
    u = _unit(key)
    v = (lambda x: "-" if x is None else f"{x:.2g}") if key in ABSOLUTE else _pct
    lines = [
        f"| nucleus | rows | median ({u}) | 95 % interval ({u}) | 95 % within +- ({u}) | target ({u}) | within target |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for nuc, s in ev["regression"][key].items():
        if not s["n"]:
            continue
        ok = s["abs95"] <= tol
        lines.append(
            f"| {nuc} | {s['n']} | {v(s['median'])} | [{v(s['q025'])}, {v(s['q975'])}] | {v(s['abs95'])} | "
            f"{tol if key in ABSOLUTE else 100 * tol:g} | {100 * s['within']:.1f} % {'(pass)' if ok else '(FAIL)'} |"
        )
    return lines


def _model_size(em) -> int | None:
    if em.path is None:
        return None
    return sum(os.path.getsize(p) for p in Path(em.path).iterdir() if p.is_file())


class _Study(NamedTuple):
    """Everything the report shows: the models ({name: Emulator}, the first is the main one), their
    evaluations on the training nuclei (``seen``) and on nuclei none of them was trained on (``unseen``)."""

    models: dict
    seen: dict
    unseen: dict
    unseen_nuclei: list
    split: str | None
    info: dict  # the evaluated dataset (load_rows)
    unseen_info: dict | None  # the unseen-nuclei dataset, if separate

    @property
    def names(self) -> list:
        return list(self.models)

    @property
    def main(self):
        return self.models[self.names[0]]

    @property
    def ev(self) -> dict:
        """The main model's evaluation on the training nuclei."""
        return self.seen[self.names[0]]

    @property
    def has_seen(self) -> bool:
        return self.ev["rows"] > 0


def _study(models: dict, dataset, split: str | None, unseen_dataset) -> _Study:
    """Evaluate every model on ``split`` of ``dataset`` and on the unseen nuclei (see :func:`write_report`)."""
    from .tables import load_rows

    rows, info = load_rows(dataset, split)
    urows, uinfo = load_rows(unseen_dataset, None) if unseen_dataset is not None else (rows, None)
    trained = {nuc for em in models.values() for nuc in em.nuclei}
    unseen_nuclei = [n for n in urows.nuclei if n not in trained]
    seen = {n: evaluate_rows(em, rows) for n, em in models.items()}
    unseen = {}
    if unseen_nuclei:
        u = urows.only_nuclei(unseen_nuclei)
        unseen = {n: evaluate_rows(em, u, unseen=True) for n, em in models.items()}
    return _Study(models, seen, unseen, unseen_nuclei, split, info, uinfo)


def _rmf_vs_nml_nuclei(ev: dict) -> list[str]:
    """The nuclei of Fig. 6: 40Ca and 208Pb where evaluated, else the first and last with convergent rows."""
    arr = ev["arrays"]
    conv = [n for n in ev["nuclei"] if np.any(arr["nucleus"][arr["convergent"]] == n)]
    return list(dict.fromkeys([n for n in ("40Ca", "208Pb") if n in conv] or conv[:1] + conv[-1:]))


def _figures(st: _Study, out: Path) -> dict[str, str]:
    """Draw every figure that applies; returns {key: PNG file name}."""
    figs: dict[str, str] = {}
    main, ev, split = st.main, st.ev, st.split
    hist = main.metadata.get("training", {}).get("history", {})
    if "classifier" in hist:
        figs["cls_curves"] = _fig_classifier_curves(hist["classifier"], out / "fig2_classifier_training.png")
    if "binding_energy" in hist and "charge_radius" in hist:  # and the skin's, if trained
        figs["reg_curves"] = _fig_regressor_curves(hist, out / "fig4_regressor_training.png")
    if st.has_seen:
        figs["confusion"] = _fig_confusion(
            ev["classification"], out / "fig3_confusion_matrix.png", f"NML classifier, {split or 'all'} rows"
        )
        if main.mode == "softmax4":
            figs["confusion_net"] = _fig_confusion(
                ev["classification_network_only"],
                out / "fig3b_confusion_network_only.png",
                "four-class network alone (no exact nc_a)",
            )
        picks = _rmf_vs_nml_nuclei(ev)
        if picks:
            figs["deviations"] = _fig_deviations(
                ev,
                out / "fig5_deviations.png",
                f"NML regressors on the {split or 'all'} rows of the training nuclei",
            )
        for n in picks:
            figs[f"rmf_{n}"] = _fig_rmf_vs_nml(ev, n, out / f"fig6_rmf_vs_nml_{n}.png")
    if st.unseen:
        figs["unseen"] = _fig_unseen(
            {f"{n}: trained on {len(st.models[n].nuclei)} nuclei": e for n, e in st.unseen.items()},
            out / "fig7_unseen_nuclei.png",
        )
        first = st.names[0]
        if st.unseen[first]["regression"]["binding_energy"]["all"]["n"]:
            figs["unseen_dev"] = _fig_deviations(
                st.unseen[first],
                out / "fig7b_unseen_per_nucleus.png",
                f"unseen nuclei, model '{first}'",
                unseen=True,
            )
    return figs


def _md_header(st: _Study) -> list[str]:
    main, ev, info = st.main, st.ev, st.info
    preset = main.metadata.get("preset", {}).get("name", "?")
    card = str(main.metadata.get("dataset", {}).get("card_sha256", "?"))[:16]
    return [
        "# NucleiML emulator evaluation",
        "",
        f"Model `{main.path}` (preset `{preset}`, mode `{main.mode}`), trained on {', '.join(main.nuclei)} "
        f"(training dataset card SHA-256 `{card}...`, "
        f"NucleiML {main.metadata.get('package_version', '?')}). Evaluated on the **{st.split or 'whole'}** rows of "
        f"`{info['dataset']}` (card `{info['card_sha256'][:16]}...`): {ev['rows']} rows of the training nuclei.",
        "",
        "Labels: convergent; nc_a no physical couplings (decided exactly by the couplings inversion); nc_b the "
        "solver does not converge; nc_c converged but B more than "
        f"{100 * main.threshold:g} % from experiment. Deviations dX/X = (X_RMF - X_NML) / X_RMF (seed Eq. 4) are "
        "taken on the rows the solver labels convergent, with the regressors' raw output; '95 % within +-' is "
        "the 95th percentile of |dX/X|.",
        "",
    ]


def _check_value(key: str, value) -> str:
    """An acceptance check's value as shown: the lowest recall, the worst band, or the number."""
    if not isinstance(value, dict):
        return f"{value:.4f}"
    if not value:
        return "-"
    if key in ("recall", "accept_reject_recall"):
        return f"lowest {min(value.values()):.3f}"
    if key in ABSOLUTE:
        return f"worst {max(value.values()):.3g} fm"
    return f"worst {100 * max(value.values()):.3g} %"


def _md_classifier(st: _Study, figs: dict) -> list[str]:
    """Acceptance figures and the classifier's tables (seed Table II, Fig. 3)."""
    main, ev = st.main, st.ev
    if not st.has_seen:
        return [
            "The evaluated rows hold none of the model's training nuclei: only the unseen-nuclei study applies.",
            "",
        ]
    md = ["## Acceptance figures", "", "| check | target | value | pass |", "|---|---|---|---|"]
    for k, c in ev["checks"].items():
        md.append(
            f"| {k} | {c['target']} | {_check_value(k, c['value'])} | {'yes' if c['pass'] else '**no**'} |"
        )
    md += ["", "## Classifier (seed Table II, Fig. 3)", "", *_cls_table(ev["classification"])]
    md += ["", *_accept_reject_table(ev["accept_reject"])]
    md += ["", f"![confusion matrix]({figs['confusion']})", ""]
    if main.mode == "softmax4":
        md += [
            "The four-class network alone, as in the seed (its own nc_a output instead of the exact inversion):",
            "",
            *_cls_table(ev["classification_network_only"]),
            "",
            f"![confusion matrix, network only]({figs['confusion_net']})",
            "",
        ]
    thr = main.nc_b_threshold
    md += [
        "Decision threshold for nc_b (labels nc_b wherever P(nc_b) >= t; the model uses "
        + ("the most probable class" if thr is None else f"t = {thr:.3g}")
        + "): a lower t finds more non-convergent rows at the cost of convergent and nc_c ones.",
        "",
        "| t | nc_b recall | nc_b precision | convergent recall | nc_c recall | accuracy |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for r in ev["nc_b_threshold_tradeoff"]:
        md.append(
            f"| {r['threshold']:g} | {r['nc_b_recall']:.3f} | {r['nc_b_precision']:.3f} | "
            f"{r['convergent_recall']:.3f} | {r['nc_c_recall']:.3f} | {r['accuracy']:.4f} |"
        )
    md += [
        "",
        "Accuracy and recall per nucleus:",
        "",
        "| nucleus | accuracy | "
        + " | ".join(f"recall {_NICE[c]}" for c in main.class_names)
        + " | recall accept | recall reject |",
        "|---|---:|" + "---:|" * (len(main.class_names) + 2),
    ]
    for nuc, s in ev["classification_by_nucleus"].items():
        rec = " | ".join(
            "-" if not np.isfinite(v) else f"{v:.3f}"
            for v in [*(s["recall"][c] for c in main.class_names), s["accept_recall"], s["reject_recall"]]
        )
        md.append(f"| {nuc} | {s['accuracy']:.4f} | {rec} |")
    md.append("")
    return md


def _md_training(st: _Study, figs: dict) -> list[str]:
    """Training curves (seed Figs. 2 and 4), wall times and the epochs whose weights were kept."""
    md = ["## Training curves (seed Figs. 2 and 4)", ""]
    tr = st.main.metadata.get("training", {})
    for key, alt in (("cls_curves", "classifier training"), ("reg_curves", "regressor training")):
        if key in figs:
            md += [f"![{alt}]({figs[key]})", ""]
    if tr:
        kept = {k: h.get("kept_epoch") for k, h in tr.get("history", {}).items()}
        md += [
            "Training wall time (s, one core): "
            + ", ".join(f"{k} {v:.0f}" for k, v in tr.get("seconds", {}).items())
            + "; weights kept from epoch "
            + ", ".join(f"{k} {v}" for k, v in kept.items())
            + ".",
            "",
        ]
    return md


def _md_regressors(st: _Study, figs: dict) -> list[str]:
    """Regressors on the training nuclei (seed Figs. 5 and 6)."""
    if "deviations" not in figs:
        return []
    md = ["## Regressors on the training nuclei (seed Figs. 5 and 6)", ""]
    for key in _observables(st.ev):
        md += [f"### {_OBS[key][0].capitalize()}", "", *_reg_table(st.ev, key), ""]
    if "neutron_skin" in st.ev["regression"]:
        md += [
            "The neutron skin Rn - Rp (point-neutron minus point-proton rms radius) is scored by its absolute "
            "deviation in fm, since it crosses zero (16O, 40Ca).",
            "",
        ]
    md += [f"![deviations]({figs['deviations']})", ""]
    for n in _rmf_vs_nml_nuclei(st.ev):
        md += [f"![RMF vs NML, {n}]({figs[f'rmf_{n}']})", ""]
    return md


def _unseen_method(model) -> str:
    """How ``model`` extrapolates to an unseen nucleus by default, for the report's table."""
    if not can_extrapolate(len(model.nuclei)):
        return "network"
    n_refs = len(model.reference_nmp)
    return f"fit, {n_refs} reference sets" if n_refs else "fit"


def _md_unseen(st: _Study, figs: dict) -> list[str]:
    """The unseen-nuclei study (seed Fig. 7): every model's bands, then the main model per nucleus."""
    md = ["## Unseen nuclei (seed Fig. 7)", ""]
    if not st.unseen:
        return [*md, "No evaluated nucleus lies outside the training sets of the compared models.", ""]
    src = f"`{st.unseen_info['dataset']}` (all rows)" if st.unseen_info is not None else "the evaluated rows"
    md += [
        f"Nuclei none of the compared models was trained on, from {src}: {', '.join(st.unseen_nuclei)}. "
        "Target for the model trained on set2: 95 % within +-2 % (B) and +-1 % (Rch) (and +-0.02 fm for the "
        "neutron skin, NucleiML's own choice). Method: *fit* carries "
        "the regressors' predictions at the training nuclei to the unseen nucleus "
        "(`nucleiml.emulator.extrapolation`, models trained on at least seven nuclei), with the shell "
        "correction of the model's reference sets where it stores them; *network* evaluates the regressors "
        "at its (Z, N).",
        "",
        "| model | trained on | method | B: median (%) | B: 95 % within +- (%) | Rch: median (%) | Rch: 95 % within +- (%) |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    skins = any("neutron_skin" in e["regression"] for e in st.unseen.values())
    if skins:
        md[-2] += " skin: median (fm) | skin: 95 % within +- (fm) |"
        md[-1] += "---:|---:|"
    for n, e in st.unseen.items():
        b, r = e["regression"]["binding_energy"]["all"], e["regression"]["charge_radius"]["all"]
        method = _unseen_method(st.models[n])
        line = f"| {n} | {', '.join(st.models[n].nuclei)} | {method} | {_pct(b['median'])} | {_pct(b['abs95'])} | {_pct(r['median'])} | {_pct(r['abs95'])} |"
        if skins:
            t = e["regression"].get("neutron_skin", {}).get("all", {})
            line += "".join(
                f" {'-' if t.get(q) is None else format(t[q], '.2g')} |" for q in ("median", "abs95")
            )
        md.append(line)
    md += ["", f"![unseen nuclei]({figs['unseen']})", ""]
    if "unseen_dev" in figs:
        first = st.names[0]
        md += [f"Per nucleus, model `{first}`:", ""]
        for key in _observables(st.unseen[first]):
            md += [f"### {_OBS[key][0].capitalize()} (unseen)", "", *_reg_table(st.unseen[first], key), ""]
        md += [f"![unseen per nucleus]({figs['unseen_dev']})", ""]
    return md


def _band(seen: dict, key: str, worst: bool) -> str:
    """A model's 95 % band of ``key``: the worst training nucleus' or that of all rows together."""
    per = [s["abs95"] for k, s in seen["regression"][key].items() if k != "all" and s["n"]]
    return _pct(max(per) if worst and per else seen["regression"][key]["all"]["abs95"])


def _skin_band(seen: dict) -> str:
    """A model's worst 95 % band of the neutron skin (fm), or - for a model without the skin."""
    per = [s["abs95"] for k, s in seen["regression"].get("neutron_skin", {}).items() if k != "all" and s["n"]]
    return f"{max(per):.2g}" if per else "-"


def _side_by_side_rows(st: _Study) -> list[tuple[str, object]]:
    """(row label, function of the model name giving the cell) for the side-by-side table."""
    models, seen = st.models, st.seen
    rows: list[tuple[str, object]] = [
        (
            "preset / mode",
            lambda n: f"{models[n].metadata.get('preset', {}).get('name', '?')} / {models[n].mode}",
        ),
        ("training nuclei", lambda n: str(len(models[n].nuclei))),
        ("accuracy", lambda n: f"{seen[n]['classification']['accuracy']:.4f}"),
    ]
    for c in st.main.class_names:
        rows.append(
            (
                f"recall {_NICE[c]}",
                lambda n, c=c: f"{seen[n]['classification']['per_class'][c]['recall']:.3f}",
            )
        )
    for side in ("accept", "reject"):
        rows.append(
            (f"recall {side}", lambda n, side=side: f"{seen[n]['accept_reject'][f'{side}_recall']:.4f}")
        )
    for key, sym in (("binding_energy", "B"), ("charge_radius", "Rch")):
        rows.append((f"{sym}: 95 % band, worst nucleus (%)", lambda n, key=key: _band(seen[n], key, True)))
        rows.append((f"{sym}: 95 % band, all nuclei (%)", lambda n, key=key: _band(seen[n], key, False)))
    if any("neutron_skin" in seen[n]["regression"] for n in models):
        rows.append(("Rn - Rp: 95 % band, worst nucleus (fm)", lambda n: _skin_band(seen[n])))
    rows += [
        (
            "training time (s, one core)",
            lambda n: f"{sum(models[n].metadata.get('training', {}).get('seconds', {}).values()):.0f}",
        ),
        ("network parameters", lambda n: str(sum(net.n_parameters for net in models[n].networks.values()))),
        ("model size (kB)", lambda n: f"{(_model_size(models[n]) or 0) / 1e3:.0f}"),
    ]
    return rows


def _md_side_by_side(st: _Study) -> list[str]:
    """The compared models on the same rows, each on its own training nuclei."""
    if len(st.models) < 2 or not st.has_seen:
        return []
    names = st.names
    md = [
        "## Models side by side (same rows, each on its own training nuclei)",
        "",
        "| | " + " | ".join(f"`{n}`" for n in names) + " |",
        "|---|" + "---:|" * len(names),
    ]
    for label, cell in _side_by_side_rows(st):
        md.append(f"| {label} | " + " | ".join(cell(n) for n in names) + " |")
    md.append("")
    return md


def _summary(st: _Study, figs: dict) -> dict:
    """The JSON-ready summary: every evaluation without its per-row arrays."""

    def strip(e: dict) -> dict:
        return {k: v for k, v in e.items() if k != "arrays"}

    return {
        "dataset": st.info["dataset"],
        "split": st.split,
        "card_sha256": st.info["card_sha256"],
        "unseen_dataset": st.unseen_info["dataset"] if st.unseen_info is not None else None,
        "figures": figs,
        "models": {
            n: {
                "path": str(em.path),
                "nuclei": list(em.nuclei),
                "seen": strip(st.seen[n]),
                "unseen": strip(st.unseen[n]) if n in st.unseen else None,
            }
            for n, em in st.models.items()
        },
    }


def write_report(models: dict, dataset, out, split: str | None = "test", unseen_dataset=None) -> dict:
    """Evaluate ``models`` ({name: Emulator}; the first is the main model) on ``split`` of ``dataset`` and
    write ``out/report.md``, PNG figures and ``out/summary.json``. Returns the summary (JSON-ready).

    The unseen-nuclei study (Fig. 7) uses the nuclei that none of ``models`` was trained on, from the
    whole of ``unseen_dataset`` if given, else from the evaluated rows of ``dataset``.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    st = _study(models, dataset, split, unseen_dataset)
    figs = _figures(st, out)
    md = [
        *_md_header(st),
        *_md_classifier(st, figs),
        *_md_training(st, figs),
        *_md_regressors(st, figs),
        *_md_unseen(st, figs),
        *_md_side_by_side(st),
    ]
    atomic_write_bytes(out / "report.md", ("\n".join(md) + "\n").encode("utf-8"))
    summary = _summary(st, figs)
    atomic_write_json(out / "summary.json", finite_json(summary), indent=1)
    return summary
