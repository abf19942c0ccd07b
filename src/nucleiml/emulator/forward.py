"""Forward pass of a multilayer perceptron in numpy float32 (no torch): the prediction engine.

A network is a sequence of dense layers ``h <- act(h @ W + b)`` with ``W`` of shape (inputs, outputs):
the hidden layers share one activation, the last layer has its own (``linear``, ``sigmoid`` or
``softmax``). Rows are processed in blocks of ``BLOCK_ROWS`` so that the hidden activations of a block stay
in cache; the result does not depend on the block size beyond float32 rounding of the BLAS kernel.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["ACTIVATIONS", "BLOCK_ROWS", "MLP", "OUTPUTS", "SMALL_ROWS", "StackedMLP"]

BLOCK_ROWS = 4096
SMALL_ROWS = 64
"""Batches of at most this many rows skip the block buffers (:meth:`MLP._small`)."""
FUSED_ROWS = 4
""":class:`StackedMLP` runs at most this many rows through one block-diagonal product per layer (the
zeros cost less than the calls for so few rows)."""


def _relu(h: np.ndarray, scratch: np.ndarray) -> np.ndarray:
    return np.maximum(h, 0, out=h)


def _tanh(h: np.ndarray, scratch: np.ndarray) -> np.ndarray:
    return np.tanh(h, out=h)


def _silu(h: np.ndarray, scratch: np.ndarray) -> np.ndarray:
    # x * sigmoid(x) with sigmoid(x) = (1 + tanh(x / 2)) / 2: no overflow, and a quarter faster than
    # x / (1 + exp(-x)) in numpy (no division)
    np.multiply(h, 0.5, out=scratch)
    np.tanh(scratch, out=scratch)
    scratch += 1
    scratch *= 0.5
    return np.multiply(h, scratch, out=h)


def _silu_of_half(h2: np.ndarray, scratch: np.ndarray) -> np.ndarray:
    # silu(x) from h2 = x / 2 (a layer whose weights and bias are halved): h2 (1 + tanh(h2)). The same
    # float32 numbers as _silu(x), since halving is exact: two passes over the array fewer
    np.tanh(h2, out=scratch)
    scratch += 1
    return np.multiply(h2, scratch, out=h2)


def _linear(h: np.ndarray) -> np.ndarray:
    return h


def _sigmoid(h: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        d = np.exp(-h)
    d += 1
    return np.reciprocal(d, out=d)


def _softmax(h: np.ndarray) -> np.ndarray:
    h = h - h.max(axis=1, keepdims=True)
    np.exp(h, out=h)
    h /= h.sum(axis=1, keepdims=True)
    return h


ACTIVATIONS = {"relu": _relu, "tanh": _tanh, "silu": _silu}
"""Hidden-layer activations (the torch modules of the same names)."""

OUTPUTS = {"linear": _linear, "sigmoid": _sigmoid, "softmax": _softmax}
"""Output-layer activations."""


@dataclass(frozen=True)
class MLP:
    """Weights ``weights[k]`` (in_k, out_k) and biases ``biases[k]`` (out_k,), float32, C-contiguous."""

    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]
    activation: str
    output: str

    def __post_init__(self) -> None:
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {self.activation!r}; known: {', '.join(ACTIVATIONS)}")
        if self.output not in OUTPUTS:
            raise ValueError(f"unknown output activation {self.output!r}; known: {', '.join(OUTPUTS)}")
        if not self.weights or len(self.weights) != len(self.biases):
            raise ValueError("an MLP needs at least one layer and one bias per weight matrix")
        width = None
        for k, (W, b) in enumerate(zip(self.weights, self.biases)):
            if W.dtype != np.float32 or b.dtype != np.float32 or W.ndim != 2 or b.shape != (W.shape[1],):
                raise ValueError(
                    f"layer {k}: need float32 W (in, out) and b (out,), got {W.shape}, {b.shape}"
                )
            if width is not None and W.shape[0] != width:
                raise ValueError(f"layer {k} takes {W.shape[0]} inputs but the previous layer gives {width}")
            if not (np.all(np.isfinite(W)) and np.all(np.isfinite(b))):
                raise ValueError(f"layer {k} has non-finite weights")
            width = W.shape[1]
        object.__setattr__(self, "weights", tuple(np.ascontiguousarray(W) for W in self.weights))
        object.__setattr__(self, "biases", tuple(np.ascontiguousarray(b) for b in self.biases))
        object.__setattr__(self, "_run", self._run_layers())

    def _run_layers(self) -> tuple[tuple[np.ndarray, np.ndarray, object], ...]:
        """(W, b, activation or None) per layer as :meth:`__call__` runs them: for SiLU the hidden layers'
        W and b are halved (exact in float32) and followed by :func:`_silu_of_half`."""
        last = len(self.weights) - 1
        half = self.activation == "silu"
        act = _silu_of_half if half else ACTIVATIONS[self.activation]
        return tuple(
            (W * np.float32(0.5), b * np.float32(0.5), act) if half and k < last else (W, b, act)
            for k, (W, b) in enumerate(zip(self.weights, self.biases))
        )

    @classmethod
    def from_layers(
        cls, layers: Sequence[tuple[np.ndarray, np.ndarray]], activation: str, output: str
    ) -> MLP:
        return cls(
            weights=tuple(np.asarray(W, dtype=np.float32) for W, _ in layers),
            biases=tuple(np.asarray(b, dtype=np.float32) for _, b in layers),
            activation=activation,
            output=output,
        )

    @property
    def n_inputs(self) -> int:
        return int(self.weights[0].shape[0])

    @property
    def n_outputs(self) -> int:
        return int(self.weights[-1].shape[1])

    @property
    def hidden(self) -> tuple[int, ...]:
        """Widths of the hidden layers."""
        return tuple(int(W.shape[1]) for W in self.weights[:-1])

    @property
    def n_parameters(self) -> int:
        return int(sum(W.size + b.size for W, b in zip(self.weights, self.biases)))

    def __call__(self, x: np.ndarray, block_rows: int = BLOCK_ROWS) -> np.ndarray:
        """Outputs (n, n_outputs) float32 of the scaled inputs ``x`` (n, n_inputs).

        Hidden activations live in buffers allocated once per call and reused for every block (fresh
        arrays per block would cost a page fault per page), so the cost is the matrix products.
        """
        x = np.asarray(x, dtype=np.float32)
        if x.ndim != 2 or x.shape[1] != self.n_inputs:
            raise ValueError(f"network input must have shape (n, {self.n_inputs}), got {x.shape}")
        n = x.shape[0]
        if 0 < n <= min(SMALL_ROWS, block_rows):
            return self._small(x)
        out = np.empty((n, self.n_outputs), dtype=np.float32)
        if n == 0:
            return out
        last = len(self.weights) - 1
        rows = min(block_rows, n)
        bufs = [np.empty((rows, W.shape[1]), dtype=np.float32) for W in self.weights]
        scratch = np.empty((rows, max(W.shape[1] for W in self.weights)), dtype=np.float32)
        for start in range(0, n, rows):
            h = x[start : start + rows]
            m = h.shape[0]
            for k, (W, b, act) in enumerate(self._run):
                o = bufs[k][:m]
                np.matmul(h, W, out=o)
                o += b
                if k < last:
                    act(o, scratch[:m, : o.shape[1]])
                h = o
            out[start : start + m] = OUTPUTS[self.output](h)
        return out

    def _small(self, x: np.ndarray) -> np.ndarray:
        """:meth:`__call__` for a few rows (one block): the same operations on fresh arrays, without the
        buffers that pay off for large batches (a single row costs the calls, not the arithmetic)."""
        h = x
        last = len(self._run) - 1
        for k, (W, b, act) in enumerate(self._run):
            h = np.matmul(h, W)
            h += b
            if k < last:
                h = act(h, np.empty_like(h))
        return OUTPUTS[self.output](h)

    def with_first_layer(self, weight: np.ndarray, bias: np.ndarray) -> MLP:
        """A copy whose first layer is replaced (used to fold constant inputs into the bias)."""
        return MLP(
            weights=(np.ascontiguousarray(weight, dtype=np.float32), *self.weights[1:]),
            biases=(np.ascontiguousarray(bias, dtype=np.float32), *self.biases[1:]),
            activation=self.activation,
            output=self.output,
        )


class StackedMLP:
    """Several MLPs on the same inputs, run layer by layer together for a few rows: one bias add and one
    activation per depth for all of them instead of one per network (for one row the numpy calls cost
    more than the arithmetic). At each depth the networks still in their hidden layers come first in the
    buffer, those at their output layer after them, so the activation is one slice.

    The outputs are those of calling each network, up to float32 rounding (the first layers are one matrix
    product, and for at most ``FUSED_ROWS`` rows every later layer is one block-diagonal product too).

    Parameters
    ----------
    nets : sequence of MLP
        Networks with the same inputs and the same hidden activation.

    Raises
    ------
    ValueError
        If the networks' hidden activations differ.
    """

    def __init__(self, nets: Sequence[MLP]):
        if len({net.activation for net in nets}) != 1:
            raise ValueError("stacked networks must share their hidden activation")
        self.nets = tuple(nets)
        self.act = nets[0]._run[0][2]
        self.steps = []
        where = [slice(None)] * len(nets)  # each network's columns in the previous buffer (inputs: all)
        prev = 0  # the previous buffer's width
        for k in range(max(len(net._run) for net in nets)):
            live = [i for i, net in enumerate(nets) if k < len(net._run)]
            hidden = [i for i in live if k < len(nets[i]._run) - 1]
            order = hidden + [i for i in live if i not in hidden]
            parts, col = [], 0
            for i in order:
                W, b, _ = nets[i]._run[k]
                parts.append((i, where[i], W, b, slice(col, col + W.shape[1])))
                col += W.shape[1]
            n_hidden = sum(nets[i]._run[k][0].shape[1] for i in hidden)
            outs = [(i, dst) for i, _, _, _, dst in parts if i not in hidden]
            if k == 0:  # every network takes all inputs: the first layers side by side
                whole = np.concatenate([W for _, _, W, _, _ in parts], axis=1)
            else:  # each network takes its own columns: block diagonal (for very few rows)
                whole = np.zeros((prev, col), dtype=np.float32)
                for _, src, W, _, dst in parts:
                    whole[src, dst] = W
            bias = np.concatenate([b for _, _, _, b, _ in parts])
            self.steps.append((parts, whole, k == 0, bias, n_hidden, outs, col))
            for i, _, _, _, dst in parts:
                where[i] = dst
            prev = col

    def __call__(self, x: np.ndarray) -> list[np.ndarray]:
        """Outputs (n, n_outputs) float32 of every network for the scaled inputs ``x`` (n, n_inputs)."""
        x = np.asarray(x, dtype=np.float32)
        out: list = [None] * len(self.nets)
        h = x
        fused = x.shape[0] <= FUSED_ROWS
        for parts, whole, first, bias, n_hidden, outs, width in self.steps:
            o = np.empty((x.shape[0], width), dtype=np.float32)
            if first or fused:
                np.matmul(h, whole, out=o)
            else:
                for _, src, W, _, dst in parts:
                    o[:, dst] = np.matmul(h[:, src], W)
            o += bias
            if n_hidden:
                self.act(o[:, :n_hidden], np.empty((x.shape[0], n_hidden), dtype=np.float32))
            for i, dst in outs:
                out[i] = OUTPUTS[self.nets[i].output](o[:, dst].copy())
            h = o
        return out
