"""The emulator file format: a directory with plain float32 arrays and JSON metadata, never pickle.

::

    MODEL/model.json          metadata: format and schema version, input order, scalers, class names, nuclei,
                              prior box, masses, network layouts, training settings, curves and metrics,
                              the SHA-256 of the weights and of the training dataset's card
    MODEL/weights.npz         one float32 array per weight matrix and bias: "<network>.<layer>.W" / ".b"
    MODEL/dataset_card.json   the card of the training dataset (prior, nuclei, seed, counts; optional)

``weights.npz`` is read with ``numpy.load(..., allow_pickle=False)``, so a file cannot execute code; every
array must be float32 with the shape the metadata announces, and the weights must hash to
``weights_sha256``. The metadata themselves (every field but ``metadata_sha256``, in canonical JSON) must
hash to ``metadata_sha256`` (models saved before this check have none and are read without it), and
their values are validated (:mod:`nucleiml.emulator._validate`). Files are written to hidden temporaries and renamed, so a model directory never holds a
half-written file.
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from .._atomic import atomic_write, atomic_write_json
from ..parameters import ParameterError
from ._validate import check_network_layouts
from .forward import MLP

__all__ = [
    "CARD_NAME",
    "FORMAT",
    "FORMAT_VERSION",
    "METADATA_NAME",
    "WEIGHTS_NAME",
    "ModelFormatError",
    "load_model",
    "metadata_hash",
    "save_model",
    "weights_hash",
]

FORMAT = "nucleiml-emulator"
FORMAT_VERSION = 1
METADATA_NAME = "model.json"
WEIGHTS_NAME = "weights.npz"
CARD_NAME = "dataset_card.json"


class ModelFormatError(ValueError):
    """A model directory is missing, incomplete, of another format version, or inconsistent."""


def _key(network: str, layer: int, kind: str) -> str:
    return f"{network}.{layer}.{kind}"


def weights_hash(networks: Mapping[str, MLP]) -> str:
    """SHA-256 of all weights (network names, shapes and float32 bytes, in a fixed order)."""
    h = hashlib.sha256()
    for name in sorted(networks):
        net = networks[name]
        for k, (W, b) in enumerate(zip(net.weights, net.biases)):
            for kind, a in (("W", W), ("b", b)):
                h.update(f"{_key(name, k, kind)}:{a.shape}:".encode())
                h.update(np.ascontiguousarray(a, dtype="<f4").tobytes())
    return h.hexdigest()


def metadata_hash(meta: Mapping) -> str:
    """SHA-256 of the metadata as canonical JSON (sorted keys, no spaces), without ``metadata_sha256``."""
    body = {k: v for k, v in meta.items() if k != "metadata_sha256"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def save_model(
    path: str | Path, metadata: Mapping, networks: Mapping[str, MLP], dataset_card: Mapping | None = None
) -> Path:
    """Write ``networks`` and ``metadata`` (JSON-serialisable, NaN-free) to directory ``path``.

    The metadata gain ``format``, ``format_version``, ``networks`` (layouts), ``weights_sha256`` and
    ``metadata_sha256``.
    """
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, np.ndarray] = {}
    layouts = {}
    for name, net in networks.items():
        if "." in name or not name:
            raise ValueError(f"network names must be non-empty and free of '.', got {name!r}")
        for k, (W, b) in enumerate(zip(net.weights, net.biases)):
            arrays[_key(name, k, "W")] = np.ascontiguousarray(W, dtype=np.float32)
            arrays[_key(name, k, "b")] = np.ascontiguousarray(b, dtype=np.float32)
        layouts[name] = {
            "activation": net.activation,
            "output": net.output,
            "shapes": [list(W.shape) for W in net.weights],
        }
    meta = dict(metadata)
    extra = dict(meta.get("networks", {}))  # per-network settings given by the caller (targets, ...)
    meta.update(
        format=FORMAT,
        format_version=FORMAT_VERSION,
        networks={n: {**dict(extra.get(n, {})), **layouts[n]} for n in layouts},
        weights_sha256=weights_hash(networks),
    )
    # refuse non-finite metadata before anything is written; hash what a reader will parse
    meta = json.loads(json.dumps(meta, allow_nan=False))
    meta["metadata_sha256"] = metadata_hash(meta)
    atomic_write(path / WEIGHTS_NAME, lambda fh: np.savez(fh, **arrays))
    if dataset_card is not None:
        atomic_write_json(path / CARD_NAME, dataset_card, indent=1)
    atomic_write_json(path / METADATA_NAME, meta, indent=1)  # last: its presence marks a complete model
    return path


def _read_metadata(path: Path, meta_path: Path) -> dict:
    """The checked metadata of model directory ``path`` (format, version, integrity, network layouts)."""
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except ValueError as exc:  # also UnicodeDecodeError
        raise ModelFormatError(f"{meta_path} is not valid JSON: {exc}") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ModelFormatError(f"{meta_path} is not a NucleiML emulator file (format != {FORMAT!r})")
    if meta.get("format_version") != FORMAT_VERSION:
        raise ModelFormatError(
            f"{meta_path} has format version {meta.get('format_version')!r}; this NucleiML reads version "
            f"{FORMAT_VERSION} (retrain or upgrade NucleiML)"
        )
    if "metadata_sha256" in meta:
        try:
            same = metadata_hash(meta) == meta["metadata_sha256"]
        except ValueError:  # NaN or Infinity in the file
            same = False
        if not same:
            raise ModelFormatError(
                f"{meta_path} was edited or corrupted: its fields do not hash to its metadata_sha256"
            )
    try:
        check_network_layouts(meta.get("networks"))
    except ValueError as exc:
        raise ModelFormatError(f"{meta_path}: {exc}") from None
    return meta


def _read_arrays(weights_path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(weights_path, allow_pickle=False) as npz:
            return {k: npz[k] for k in npz.files}
    except (ValueError, OSError, EOFError, KeyError, zipfile.BadZipFile, zlib.error) as exc:
        reason = str(exc) or type(exc).__name__
        raise ModelFormatError(
            f"cannot read {weights_path} as plain arrays (truncated or corrupted?): {reason}"
        ) from None
    except AttributeError:  # np.load returned a single array, not an archive
        raise ModelFormatError(f"{weights_path} is not an .npz archive of arrays") from None


def load_model(path: str | Path) -> tuple[dict, dict[str, MLP]]:
    """Read a model directory: (metadata, {network name: MLP}).

    Raises
    ------
    ParameterError
        If ``path`` is not a str or path.
    ModelFormatError
        If the directory is not a complete model, a file is truncated or corrupted, the metadata do not
        match their ``metadata_sha256`` or the weights their ``weights_sha256``; the message names the file.
    """
    if not isinstance(path, str | os.PathLike):
        raise ParameterError(
            f"model path must be a str or os.PathLike (a directory), got {type(path).__name__}"
        )
    path = Path(path)
    meta_path, weights_path = path / METADATA_NAME, path / WEIGHTS_NAME
    if not meta_path.is_file() or not weights_path.is_file():
        raise ModelFormatError(
            f"{path} is not a NucleiML emulator: need {METADATA_NAME} and {WEIGHTS_NAME} in that directory"
        )
    meta = _read_metadata(path, meta_path)
    arrays = _read_arrays(weights_path)
    networks: dict[str, MLP] = {}
    used = set()
    for name, layout in meta["networks"].items():
        try:
            shapes = [tuple(int(v) for v in s) for s in layout["shapes"]]
            layers = []
            for k, shape in enumerate(shapes):
                kw, kb = _key(name, k, "W"), _key(name, k, "b")
                W, b = arrays[kw], arrays[kb]
                if (
                    W.dtype != np.float32
                    or b.dtype != np.float32
                    or W.shape != shape
                    or b.shape != (shape[1],)
                ):
                    raise ModelFormatError(
                        f"{weights_path}: {kw} / {kb} must be float32 of shapes {shape} / {(shape[1],)}, "
                        f"got {W.dtype} {W.shape} / {b.dtype} {b.shape}"
                    )
                layers.append((W, b))
                used.update((kw, kb))
            networks[name] = MLP.from_layers(layers, layout["activation"], layout["output"])
        except KeyError as exc:
            raise ModelFormatError(f"{path}: network {name!r} lacks {exc.args[0]!r}") from None
        except ValueError as exc:
            if isinstance(exc, ModelFormatError):
                raise
            raise ModelFormatError(f"{path}: network {name!r}: {exc}") from None
    extra = set(arrays) - used
    if extra:
        raise ModelFormatError(f"{weights_path} holds arrays no network uses: {sorted(extra)}")
    if weights_hash(networks) != meta.get("weights_sha256"):
        raise ModelFormatError(
            f"{path}: the weights do not match model.json (weights_sha256 differs): the files belong to "
            "different models"
        )
    return meta, networks


def read_dataset_card(path: str | Path) -> dict | None:
    """The training dataset card stored beside a model, or None.

    Raises
    ------
    ModelFormatError
        If the card is not a JSON object (the message names the file).
    """
    p = Path(path) / CARD_NAME
    if not p.is_file():
        return None
    try:
        card = json.loads(p.read_text(encoding="utf-8"))
    except ValueError as exc:  # not JSON, not UTF-8
        raise ModelFormatError(f"{p} is not valid JSON: {exc}") from None
    if not isinstance(card, dict):
        raise ModelFormatError(f"{p} must hold a JSON object (a dataset card), got {type(card).__name__}")
    return card
