"""What the canvas draws: an immutable description of one moment of a network."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class EdgeOverride:
    """Numbers the edges show instead of the weights, e.g. the difference of two runs'
    weights: edge colour (the palette's diverging difference pair, symmetric about 0),
    width and labels follow them.

    Attributes
    ----------
    weights, biases : tuple of ndarray
        Shaped like ``CanvasData.weights`` and ``CanvasData.biases``.
    symbol : str
        What a value is called in labels and the legend, e.g. ``"\u0394w"`` (a label
        with names reads ``\u0394W10 = 0.3``).
    meaning : str
        One legend line saying what the values are, e.g.
        ``"\u0394w = w(right) \u2212 w(left)"``; the canvas adds their range.
    """

    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]
    symbol: str = "\u0394w"
    meaning: str = ""


@dataclass(frozen=True, eq=False)
class CanvasData:
    """Everything the node-link canvas shows, as plain arrays.

    The canvas only renders these numbers; it never computes anything about the
    network. Arrays are the producer's copies and are never mutated by the canvas.

    Attributes
    ----------
    layers : tuple of int
        Units per layer, input first, bias units not counted.
    weights : tuple of ndarray
        ``weights[l][i, j]`` is the weight from unit j of layer l to unit i of layer l+1.
    biases : tuple of ndarray
        ``biases[l][i]`` is the weight from layer l's bias unit to unit i of layer l+1.
    activations : tuple of str
        Activation function of every non-input layer.
    a : tuple of ndarray, optional
        Pre-activation of every non-input layer for the selected sample (1-D each).
    z : tuple of ndarray, optional
        Activation of every layer including the input layer (``z[0]`` = inputs).
    deltas : tuple of ndarray, optional
        ``dL/da`` of every non-input layer for the selected sample.
    grad_weights, grad_biases : tuple of ndarray, optional
        Gradients with the shapes of ``weights`` and ``biases``.
    highlight_units : frozenset of (layer, unit)
        Units to emphasise; unit -1 is the layer's bias unit.
    highlight_weights : frozenset of (layer, target, source)
        Weights to emphasise; source -1 is the bias weight.
    caption : str
        Short text drawn at the top, e.g. ``"Forward: layer 1"``.
    target : ndarray, optional
        The target output(s) y of the sample shown (one per output unit). With ``target``
        or ``loss`` set, a target/loss node is drawn right of the output layer.
    loss : float, optional
        The loss L of what is shown (the sample, or the mean over a batch); NaN means
        not computed yet and shows as ``?``.
    loss_label : str
        What ``loss`` is, written small in the loss node, e.g. ``"L for sample 1"`` or
        ``"mean L over 4 samples"``.
    highlight_loss : bool
        Emphasise the loss node (the Loss phase of a stepped update).
    values_are_means : bool
        ``deltas``, ``grad_weights`` and ``grad_biases`` are means over the samples of
        a batch (the quantities the update uses): the canvas writes the delta as
        δ̄ and says so in its legend.
    edge_override : EdgeOverride, optional
        Edges show these numbers (in the difference colours) instead of the weights or
        gradients, whatever the canvas's ``color_by``; weight labels then cannot be
        dragged or edited.
    """

    layers: tuple[int, ...]
    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]
    activations: tuple[str, ...]
    a: tuple[np.ndarray, ...] | None = None
    z: tuple[np.ndarray, ...] | None = None
    deltas: tuple[np.ndarray, ...] | None = None
    grad_weights: tuple[np.ndarray, ...] | None = None
    grad_biases: tuple[np.ndarray, ...] | None = None
    highlight_units: frozenset[tuple[int, int]] = frozenset()
    highlight_weights: frozenset[tuple[int, int, int]] = frozenset()
    caption: str = ""
    target: np.ndarray | None = None
    loss: float | None = None
    loss_label: str = ""
    highlight_loss: bool = False
    values_are_means: bool = False
    edge_override: EdgeOverride | None = None

    def __post_init__(self) -> None:
        layers = tuple(int(n) for n in self.layers)
        if len(layers) < 2 or min(layers) < 1:
            raise ValueError(f"CanvasData.layers must hold at least two positive counts, "
                             f"not {self.layers!r}")
        object.__setattr__(self, "layers", layers)
        n = len(layers) - 1
        for name in ("weights", "biases", "activations"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"CanvasData.{name} needs {n} entries, "
                                 f"got {len(getattr(self, name))}")
        for l in range(n):
            _check(f"weights[{l}]", self.weights[l], (layers[l + 1], layers[l]))
            _check(f"biases[{l}]", self.biases[l], (layers[l + 1],))
        if self.grad_weights is not None:
            for l in range(n):
                _check(f"grad_weights[{l}]", self.grad_weights[l], (layers[l + 1], layers[l]))
        if self.grad_biases is not None:
            for l in range(n):
                _check(f"grad_biases[{l}]", self.grad_biases[l], (layers[l + 1],))
        if self.z is not None:
            if len(self.z) != len(layers):
                raise ValueError(f"CanvasData.z needs {len(layers)} entries (input included)")
            for l, arr in enumerate(self.z):
                _check(f"z[{l}]", arr, (layers[l],))
        for name in ("a", "deltas"):
            seq = getattr(self, name)
            if seq is None:
                continue
            if len(seq) != n:
                raise ValueError(f"CanvasData.{name} needs {n} entries (one per non-input layer)")
            for l, arr in enumerate(seq):
                _check(f"{name}[{l}]", arr, (layers[l + 1],))
        if self.target is not None:
            _check("target", self.target, (layers[-1],))
        if self.edge_override is not None:
            o = self.edge_override
            if len(o.weights) != n or len(o.biases) != n:
                raise ValueError(f"CanvasData.edge_override needs {n} weight and bias arrays")
            for l in range(n):
                _check(f"edge_override.weights[{l}]", o.weights[l], (layers[l + 1], layers[l]))
                _check(f"edge_override.biases[{l}]", o.biases[l], (layers[l + 1],))

    @property
    def has_loss_node(self) -> bool:
        """A target/loss node is drawn (``target`` or ``loss`` given)."""
        return self.target is not None or self.loss is not None

    @property
    def n_weights(self) -> int:
        """Number of connections drawn, bias weights included."""
        return sum((m + 1) * k for m, k in zip(self.layers[:-1], self.layers[1:]))


def _check(name: str, arr: np.ndarray, shape: tuple[int, ...]) -> None:
    if np.shape(arr) != shape:
        raise ValueError(f"CanvasData.{name} has shape {np.shape(arr)}, expected {shape}")
