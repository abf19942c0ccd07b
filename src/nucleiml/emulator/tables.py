"""Reading dataset rows for training and evaluation (pyarrow, the ``data`` extra, is imported here only).

A *dataset* is a directory written by ``nucleiml generate`` (``card.json`` + ``parts/``); ``nucleiml dataset
split`` adds ``DIR/splits/{train,validation,test}/`` (whole samples per split, by ``sample_id``). Training
reads the train and validation splits, evaluation the test split; a dataset without splits can be
evaluated whole (e.g. fresh data of nuclei no model was trained on).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from ..datasets.store import DatasetError, read_card, read_part
from ..parameters import NMP_NAMES

__all__ = ["Rows", "card_hash", "load_rows", "resolve"]

_COLUMNS = [
    "sample_id",
    *NMP_NAMES,
    "Z",
    "N",
    "nucleus",
    "label",
    "binding_energy",
    "charge_radius",
    "proton_radius",
    "neutron_radius",
]


@dataclass(frozen=True)
class Rows:
    """Dataset rows as numpy arrays: ``nmp`` (n, 7) [fm^-3, MeV], ``Z``, ``N``, ``nucleus`` (names),
    ``label``, ``binding_energy`` (MeV), ``charge_radius``, ``neutron_skin`` (fm, the point-neutron minus
    the point-proton rms radius, Rn - Rp) and ``neutron_radius`` (Rn, fm; NaN where undefined),
    ``sample_id``."""

    sample_id: np.ndarray
    nmp: np.ndarray
    Z: np.ndarray
    N: np.ndarray
    nucleus: np.ndarray
    label: np.ndarray
    binding_energy: np.ndarray
    charge_radius: np.ndarray
    neutron_skin: np.ndarray
    neutron_radius: np.ndarray

    def __len__(self) -> int:
        return int(self.sample_id.size)

    def subset(self, mask) -> Rows:
        return Rows(**{f.name: getattr(self, f.name)[mask] for f in fields(self)})

    @property
    def nuclei(self) -> tuple[str, ...]:
        """Distinct nucleus names in order of first appearance."""
        _, first = np.unique(self.nucleus, return_index=True)
        return tuple(self.nucleus[np.sort(first)].tolist())

    def only_nuclei(self, names) -> Rows:
        return self.subset(np.isin(self.nucleus, list(names)))


def card_hash(card: dict) -> str:
    """SHA-256 of a dataset card as canonical JSON (sorted keys)."""
    return hashlib.sha256(json.dumps(card, sort_keys=True, allow_nan=False).encode()).hexdigest()


def resolve(path: str | Path, split: str | None) -> tuple[Path, Path, dict]:
    """(dataset root, directory of the Parquet parts to read, card) for ``split`` of dataset ``path``.

    ``split=None`` reads all of the dataset; otherwise ``path/splits/<split>`` must exist.
    """
    root = Path(path)
    card = read_card(root)
    if split is None:
        return root, root / "parts", card
    d = root / "splits" / split
    if not d.is_dir() or not any(d.glob("part-*.parquet")):
        raise DatasetError(
            f"{root} has no {split} split ({d} is missing or empty); run `nucleiml dataset split {root}` first"
        )
    return root, d, card


def load_rows(path: str | Path, split: str | None = None) -> tuple[Rows, dict]:
    """Rows of ``split`` (train, validation, test, or None for the whole dataset) and a description
    ``{"dataset", "split", "card", "card_sha256", "split_card"}``."""
    root, parts, card = resolve(path, split)
    files = sorted(p for p in parts.glob("part-*.parquet"))
    if not files:
        raise DatasetError(f"{parts} holds no Parquet parts")
    cols: dict[str, list] = {c: [] for c in _COLUMNS}
    for f in files:
        t = read_part(f, list(_COLUMNS))  # a DatasetError naming a truncated or foreign part
        for c in _COLUMNS:
            col = t.column(c)
            cols[c].append(
                np.asarray(col.to_pylist(), dtype=object) if c in ("nucleus", "label") else col.to_numpy()
            )
    data = {c: np.concatenate(v) for c, v in cols.items()}
    rows = Rows(
        sample_id=data["sample_id"].astype(np.int64),
        nmp=np.stack([data[k].astype(np.float64) for k in NMP_NAMES], axis=1),
        Z=data["Z"].astype(np.int64),
        N=data["N"].astype(np.int64),
        nucleus=data["nucleus"].astype(str),
        label=data["label"].astype(str),
        binding_energy=data["binding_energy"].astype(np.float64),
        charge_radius=data["charge_radius"].astype(np.float64),
        neutron_skin=data["neutron_radius"].astype(np.float64) - data["proton_radius"].astype(np.float64),
        neutron_radius=data["neutron_radius"].astype(np.float64),
    )
    split_card = None
    if split is not None and (root / "splits" / "split.json").is_file():
        path = root / "splits" / "split.json"
        try:
            split_card = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:  # not JSON, not UTF-8
            raise DatasetError(f"{path} is not valid JSON: {exc}") from None
    return rows, {
        "dataset": str(root),
        "split": split,
        "card": card,
        "card_sha256": card_hash(card),
        "split_card": split_card,
    }
