"""A multi-layer perceptron with explicit bias units: forward and backward.

All parameters live in one contiguous float64 vector ``params``; ``weights[l]`` and
``biases[l]`` are views into it. ``weights[l][i, j]`` is the weight from unit j of
layer l to unit i of layer l+1 (the article's W_ij with j counted from the first
non-bias unit); ``biases[l][i]`` is the weight from layer l's bias unit to unit i of
layer l+1. One vectorised code path serves training and the single-sample trace.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from . import activations, losses

MAX_HIDDEN_LAYERS = 8
MAX_UNITS = 128  # in a hidden layer
MAX_INPUTS = 1024  # units in the input layer (a 28 x 28 image has 784)
MAX_OUTPUTS = 128  # units in the output layer
#: weights and bias weights together (2 MB of float64); checked before anything is allocated
MAX_PARAMS = 250_000


class Cache:
    """What a forward pass leaves for the backward pass.

    ``a[l]`` and ``z[l]`` are the pre-activations and activations of layer l+1 (there
    is no ``a`` for the input layer); ``z_in`` is the input batch.
    """

    __slots__ = ("z_in", "a", "z")

    def __init__(self, z_in: np.ndarray, a: list[np.ndarray], z: list[np.ndarray]):
        self.z_in = z_in
        self.a = a
        self.z = z

    @property
    def output(self) -> np.ndarray:
        return self.z[-1]

    def layer_z(self, layer: int) -> np.ndarray:
        """Activation of layer ``layer`` (0 is the input)."""
        return self.z_in if layer == 0 else self.z[layer - 1]


def _short(v, limit: int = 40) -> str:
    from .training import short_repr  # training imports this module

    return short_repr(v, limit)


def validate_shape(layers: Sequence[int]) -> None:
    """Raise ``ValueError`` naming the problem if ``layers`` is not a supported shape.

    Sizes are checked against ``MAX_INPUTS``, ``MAX_UNITS``, ``MAX_OUTPUTS`` and the
    total against ``MAX_PARAMS`` from the numbers alone, before anything is allocated."""
    if isinstance(layers, (str, bytes)) or not isinstance(layers, Sequence):
        raise ValueError(f"network.layers must be a list of unit counts, not {_short(layers)}")
    if len(layers) < 2:
        raise ValueError("network.layers needs at least an input and an output layer")
    if len(layers) - 2 > MAX_HIDDEN_LAYERS:
        raise ValueError(f"network.layers: at most {MAX_HIDDEN_LAYERS} hidden layers")
    last = len(layers) - 1
    for k, n in enumerate(layers):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"network.layers[{k}] must be a positive whole number, not "
                             f"{_short(n)}")
        if k == 0 and n > MAX_INPUTS:
            raise ValueError(f"network.layers[0]: at most {MAX_INPUTS} inputs, not "
                             f"{_short(n)}")
        if k == last and n > MAX_OUTPUTS:
            raise ValueError(f"network.layers[{k}]: at most {MAX_OUTPUTS} outputs, not "
                             f"{_short(n)}")
        if 0 < k < last and n > MAX_UNITS:
            raise ValueError(f"network.layers[{k}]: at most {MAX_UNITS} units in a hidden layer")
    n_params = sum((int(m) + 1) * int(n) for m, n in zip(layers[:-1], layers[1:]))
    if n_params > MAX_PARAMS:
        raise ValueError(f"network.layers {_short(list(map(int, layers)), 60)} has {n_params:,} "
                         f"weights; at most {MAX_PARAMS:,} are supported")


class Network:
    """Layers, activations and parameters of a multi-layer perceptron."""

    def __init__(self, layers: Sequence[int], hidden_activation: str | Sequence[str] = "tanh",
                 output_activation: str = "identity", params: np.ndarray | None = None):
        validate_shape(layers)
        self.layers = [int(n) for n in layers]
        n_hidden = len(self.layers) - 2
        if isinstance(hidden_activation, str):
            hidden = [hidden_activation] * n_hidden
        elif not isinstance(hidden_activation, (list, tuple)):
            raise ValueError(f"network.hidden_activation must be an activation name or a list "
                             f"of names, one per hidden layer, not {_short(hidden_activation)}")
        else:
            hidden = list(hidden_activation)
            if len(hidden) != n_hidden:
                raise ValueError(f"network.hidden_activation lists {len(hidden)} activations "
                                 f"for {n_hidden} hidden layers")
        for name in hidden:
            if name not in activations.HIDDEN_ACTIVATIONS:
                raise ValueError(f"unknown hidden activation {_short(name)} (choose from "
                                 f"{', '.join(activations.HIDDEN_ACTIVATIONS)})")
        if output_activation not in activations.OUTPUT_ACTIVATIONS:
            raise ValueError(f"unknown output activation {_short(output_activation)} "
                             f"(choose from "
                             f"{', '.join(activations.OUTPUT_ACTIVATIONS)})")
        self.hidden_activations = hidden
        self.output_activation = output_activation
        self.params = np.zeros(self.n_params) if params is None else np.array(
            params, dtype=np.float64)
        if self.params.shape != (self.n_params,):
            raise ValueError(f"expected {self.n_params} parameters, got {self.params.shape}")
        self.weights, self.biases = self.views(self.params)

    # -- shape ------------------------------------------------------------------------
    @property
    def n_params(self) -> int:
        return sum((m + 1) * n for m, n in zip(self.layers[:-1], self.layers[1:]))

    @property
    def activation_names(self) -> list[str]:
        """The activation of every non-input layer, in order."""
        return self.hidden_activations + [self.output_activation]

    @property
    def hidden_activation(self) -> str | list[str]:
        """One name when every hidden layer shares it, else the list."""
        if len(set(self.hidden_activations)) == 1:
            return self.hidden_activations[0]
        if not self.hidden_activations:
            return "tanh"
        return list(self.hidden_activations)

    def views(self, flat: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Split a flat parameter-shaped vector into weight and bias views."""
        weights, biases, k = [], [], 0
        for m, n in zip(self.layers[:-1], self.layers[1:]):
            weights.append(flat[k:k + n * m].reshape(n, m))
            k += n * m
            biases.append(flat[k:k + n])
            k += n
        return weights, biases

    def weight_mask(self) -> np.ndarray:
        """1.0 where ``params`` holds a weight, 0.0 where it holds a bias weight."""
        mask = np.ones(self.n_params)
        _, b = self.views(mask)
        for v in b:
            v[:] = 0.0
        return mask

    def copy(self) -> Network:
        return Network(self.layers, list(self.hidden_activations), self.output_activation,
                       self.params.copy())

    def set_params(self, params: np.ndarray) -> None:
        self.params[:] = params

    # -- passes -----------------------------------------------------------------------
    def forward(self, x: np.ndarray) -> Cache:
        """Forward pass of a batch ``x`` of shape ``(n_samples, n_inputs)``."""
        a_list, z_list = [], []
        z = x
        names = self.activation_names
        for w, b, name in zip(self.weights, self.biases, names):
            a = z @ w.T + b
            z = activations.apply(name, a)
            a_list.append(a)
            z_list.append(z)
        return Cache(x, a_list, z_list)

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.forward(np.asarray(x, dtype=np.float64)).output

    def deltas(self, cache: Cache, y: np.ndarray, loss: str) -> list[np.ndarray]:
        """``delta[l] = dL_i/da`` of layer l+1 for every sample (not averaged)."""
        names = self.activation_names
        delta = losses.output_delta(loss, names[-1], cache.a[-1], cache.z[-1], y)
        out = [delta]
        for l in range(len(self.weights) - 1, 0, -1):
            grad_z = delta @ self.weights[l]
            delta = activations.backward(names[l - 1], cache.a[l - 1], cache.z[l - 1], grad_z)
            out.append(delta)
        out.reverse()
        return out

    def gradient(self, cache: Cache, y: np.ndarray, loss: str,
                 out: np.ndarray | None = None,
                 out_views: tuple[list[np.ndarray], list[np.ndarray]] | None = None
                 ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Gradient of the mean data loss with respect to ``params`` (flat), and the
        per-sample deltas it was made from. ``out`` (with ``out_views``, its weight and
        bias views) receives the result without allocating."""
        grad = np.empty(self.n_params) if out is None else out
        gw, gb = out_views if out_views is not None else self.views(grad)
        deltas = self.deltas(cache, y, loss)
        inv_n = 1.0 / len(y)
        z_prev = cache.z_in
        for l, d in enumerate(deltas):
            np.matmul(d.T, z_prev, out=gw[l])
            gw[l] *= inv_n
            np.add.reduce(d, axis=0, out=gb[l])
            gb[l] *= inv_n
            z_prev = cache.z[l]
        return grad, deltas

    def loss(self, x: np.ndarray, y: np.ndarray, loss: str) -> float:
        """Mean data loss over a batch (no regularisation)."""
        cache = self.forward(x)
        return losses.mean(loss, cache.a[-1], cache.z[-1], y)
