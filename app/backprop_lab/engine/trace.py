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


@dataclass(frozen=True)
class Trace:
    """One step on a batch of samples.

    Per-sample arrays have the sample as the first axis: ``z[l][s, u]`` is the activation
    of unit u of layer l for sample s (``z[0]`` is the input); ``a[l]`` and ``deltas[l]``
    belong to layer l+1. ``grad_*`` are the gradients of the batch objective (mean over
    the batch plus any penalty); ``sample_grad_*[l][s]`` are each sample's own data-loss
    gradients, whose mean is the data part of ``grad_*``.
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
    sample_grad_weights: tuple[np.ndarray, ...]
    sample_grad_biases: tuple[np.ndarray, ...]
    new_weights: tuple[np.ndarray, ...]
    new_biases: tuple[np.ndarray, ...]

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
    optimizers.step(state, new_params, grad, cfg.learning_rate)
    gw, gb = net.views(grad)
    nw, nb = net.views(new_params)
    sample_gw = tuple(np.einsum("si,sj->sij", d, cache.layer_z(l)) for l, d in enumerate(deltas))
    sample_gb = tuple(d.copy() for d in deltas)
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
    )
