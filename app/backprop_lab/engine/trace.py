"""The teaching trace: every number of one training step, for one sample or a batch.

It runs the same vectorised code that trains (``Network.forward``/``gradient``, the
optimiser) on a batch of one sample, so what the lesson shows is what training does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import losses, optimizers, regularization
from .network import Network
from .training import TrainingConfig


class PerSample:
    """One layer's per-sample weight gradients, ``z_j * delta_i`` for sample s, made on
    demand: ``g[s]`` is sample s's matrix, ``g[s, i, j]`` one entry. A batch of thousands
    of samples never builds the whole (samples x targets x sources) array."""

    __slots__ = ("_delta", "_z")

    def __init__(self, delta: np.ndarray, z: np.ndarray | None):
        self._delta = delta
        self._z = z  # None: bias weights (the source is the constant 1)

    def __len__(self) -> int:
        return len(self._delta)

    def __getitem__(self, key):
        if isinstance(key, tuple):
            s, i, *rest = key
            return self._delta[s, i] * (1.0 if self._z is None else self._z[s, rest[0]])
        d = self._delta[key]
        return d.copy() if self._z is None else np.outer(d, self._z[key])


@dataclass(frozen=True)
class Trace:
    """One step on a batch of samples.

    Per-sample arrays have the sample as the first axis: ``z[l][s, u]`` is the activation
    of unit u of layer l for sample s (``z[0]`` is the input); ``a[l]`` and ``deltas[l]``
    belong to layer l+1. ``grad_*`` are the gradients of the batch objective (mean over
    the batch plus any penalty); ``sample_grad_*[l][s]`` are each sample's own data-loss
    gradients (made on demand, see ``PerSample``), whose mean is the data part of
    ``grad_*``.
    """

    layers: tuple[int, ...]
    activations: tuple[str, ...]
    config: TrainingConfig
    x: np.ndarray
    y: np.ndarray
    a: tuple[np.ndarray, ...]
    z: tuple[np.ndarray, ...]
    sample_losses: np.ndarray
    loss: float
    deltas: tuple[np.ndarray, ...]
    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]
    grad_weights: tuple[np.ndarray, ...]
    grad_biases: tuple[np.ndarray, ...]
    sample_grad_weights: tuple[PerSample, ...]
    sample_grad_biases: tuple[PerSample, ...]
    new_weights: tuple[np.ndarray, ...]
    new_biases: tuple[np.ndarray, ...]
    #: the optimiser's state before and after this step (momentum, Adam moments, count)
    optimizer_before: optimizers.OptimizerState | None = None
    optimizer_after: optimizers.OptimizerState | None = None

    @property
    def new_params(self) -> np.ndarray:
        """The updated weights as one flat vector (the network's parameter order)."""
        return np.concatenate([np.concatenate([w.ravel(), b]) for w, b in
                               zip(self.new_weights, self.new_biases)])

    @property
    def n_samples(self) -> int:
        return len(self.x)


def trace_step(net: Network, cfg: TrainingConfig, x: np.ndarray, y: np.ndarray,
               opt_state: optimizers.OptimizerState | None = None) -> Trace:
    """Trace one update of ``net`` on the batch ``(x, y)`` without changing ``net``.

    ``opt_state`` (copied, not changed) lets momentum and Adam show their true next
    step; by default the optimiser starts fresh.
    """
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    y = np.atleast_2d(np.asarray(y, dtype=np.float64))
    cache = net.forward(x)
    grad, deltas = net.gradient(cache, y, cfg.loss)
    mask = net.weight_mask()
    regularization.add_gradient(cfg.regularization, cfg.regularization_rate, net.params,
                                mask, grad)
    new_params = net.params.copy()
    state = opt_state.copy() if opt_state is not None else optimizers.new_state(cfg.optimizer)
    if state.kind != cfg.optimizer:
        state = optimizers.new_state(cfg.optimizer)
    before = state.copy()
    optimizers.step(state, new_params, grad, cfg.learning_rate)
    gw, gb = net.views(grad)
    nw, nb = net.views(new_params)
    sample_gw = tuple(PerSample(d, cache.layer_z(l)) for l, d in enumerate(deltas))
    sample_gb = tuple(PerSample(d, None) for d in deltas)
    per = losses.per_sample(cfg.loss, cache.a[-1], cache.z[-1], y)
    return Trace(
        layers=tuple(net.layers), activations=tuple(net.activation_names), config=cfg,
        x=x.copy(), y=y.copy(), a=tuple(a.copy() for a in cache.a),
        z=(x.copy(),) + tuple(z.copy() for z in cache.z),
        sample_losses=per, loss=float(per.mean()),
        deltas=tuple(d.copy() for d in deltas),
        weights=tuple(w.copy() for w in net.weights), biases=tuple(b.copy() for b in net.biases),
        grad_weights=tuple(g.copy() for g in gw), grad_biases=tuple(g.copy() for g in gb),
        sample_grad_weights=sample_gw, sample_grad_biases=sample_gb,
        new_weights=tuple(w.copy() for w in nw), new_biases=tuple(b.copy() for b in nb),
        optimizer_before=before, optimizer_after=state,
    )
