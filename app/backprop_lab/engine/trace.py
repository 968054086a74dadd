"""The teaching trace: every number of one training step, for one sample or a batch.

It runs the update that training runs (``engine.update.update``) on a copy of the
network, so what a lesson shows is what training does; it also keeps the intermediate
numbers an explanation writes out (f'(a), each output's loss, the penalty's gradient),
so ``explain`` only formats numbers and computes none.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import activations, losses, optimizers
from . import update as one_update
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
    #: ``fprime[l][s, u]``: f'(a) of unit u of layer l+1 for sample s (NaN for softmax,
    #: whose derivative is a Jacobian, see ``softmax_jacobian``)
    fprime: tuple[np.ndarray, ...] = ()
    #: ``loss_terms[s, k]``: output k's share of sample s's loss (rows sum to
    #: ``sample_losses``)
    loss_terms: np.ndarray | None = None
    #: with a softmax output, ``softmax_jacobian[s, k, n]`` = d output_k / d a_n
    softmax_jacobian: np.ndarray | None = None
    #: the penalty's part of ``grad_*`` (zeros without a penalty); the rest is the data
    #: part, the mean over the batch of ``sample_grad_*``
    penalty_grad_weights: tuple[np.ndarray, ...] = ()
    penalty_grad_biases: tuple[np.ndarray, ...] = ()

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

    The update is ``engine.update.update`` itself, run on a copy of the network and of
    ``opt_state`` (momentum and Adam then show their true next step; by default the
    optimiser starts fresh).
    """
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    y = np.atleast_2d(np.asarray(y, dtype=np.float64))
    state = opt_state.copy() if opt_state is not None else optimizers.new_state(cfg.optimizer)
    if state.kind != cfg.optimizer:
        state = optimizers.new_state(cfg.optimizer)
    before = state.copy()
    work = net.copy()
    g = one_update.update(work, cfg, state, x, y, keep_penalty=True)
    cache, deltas, grad = g.cache, g.deltas, g.grad
    pen = g.penalty_grad if g.penalty_grad is not None else np.zeros_like(grad)
    gw, gb = net.views(grad)
    pw, pb = net.views(pen)
    nw, nb = net.views(work.params)
    sample_gw = tuple(PerSample(d, cache.layer_z(l)) for l, d in enumerate(deltas))
    sample_gb = tuple(PerSample(d, None) for d in deltas)
    terms = losses.per_output(cfg.loss, cache.a[-1], cache.z[-1], y)
    per = one_update.sample_losses(cfg, cache, y)
    names = net.activation_names
    fprime = tuple(
        np.full_like(a, np.nan) if name == "softmax" else activations.derivative(name, a, z)
        for name, a, z in zip(names, cache.a, cache.z))
    jac = None
    if names[-1] == "softmax":
        zs = cache.z[-1]
        # d softmax_k / d a_n = z_k (1[k=n] - z_n), for every sample
        jac = zs[:, :, None] * (np.eye(zs.shape[1])[None, :, :] - zs[:, None, :])
    return Trace(
        layers=tuple(net.layers), activations=tuple(names), config=cfg,
        x=x.copy(), y=y.copy(), a=tuple(a.copy() for a in cache.a),
        z=(x.copy(),) + tuple(z.copy() for z in cache.z),
        sample_losses=per, loss=float(per.mean()),
        deltas=tuple(d.copy() for d in deltas),
        weights=tuple(w.copy() for w in net.weights), biases=tuple(b.copy() for b in net.biases),
        grad_weights=tuple(g.copy() for g in gw), grad_biases=tuple(g.copy() for g in gb),
        sample_grad_weights=sample_gw, sample_grad_biases=sample_gb,
        new_weights=tuple(w.copy() for w in nw), new_biases=tuple(b.copy() for b in nb),
        optimizer_before=before, optimizer_after=state,
        fprime=fprime, loss_terms=terms, softmax_jacobian=jac,
        penalty_grad_weights=tuple(p.copy() for p in pw),
        penalty_grad_biases=tuple(p.copy() for p in pb),
    )
