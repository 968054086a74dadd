"""One update: forward pass, loss, gradient, penalty and the optimiser's step.

This is the only place that composes them. Training (``Trainer``), the teaching trace
(``trace_step``), the gradient check and the command line all call these functions, so
what a lesson shows is, number for number, what training does.

- ``objective``: the quantity training minimises, mean data loss plus the penalty.
- ``gradient``: its gradient by backpropagation (and the forward pass and deltas it used).
- ``update``: ``gradient`` followed by one optimiser step, in place.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import losses, optimizers, regularization
from .network import Cache, Network


@dataclass
class Gradient:
    """What one backward pass produced on a batch.

    ``grad`` is the gradient of the objective (mean data loss over the batch plus the
    penalty), flat in the network's parameter order; ``penalty_grad`` is the penalty's
    share of it (None without a penalty), so ``grad - penalty_grad`` is the data part.
    ``deltas[l]`` holds every sample's ``dL_s/da`` of layer l+1 (not averaged).
    """

    cache: Cache
    deltas: list[np.ndarray]
    grad: np.ndarray
    penalty_grad: np.ndarray | None


def objective(net: Network, cfg, x: np.ndarray, y: np.ndarray,
              mask: np.ndarray | None = None) -> float:
    """Mean data loss over the batch ``(x, y)`` plus the regularisation penalty."""
    if mask is None:
        mask = net.weight_mask()
    return net.loss(x, y, cfg.loss) + regularization.penalty(
        cfg.regularization, cfg.regularization_rate, net.params, mask)


def gradient(net: Network, cfg, x: np.ndarray, y: np.ndarray, *, cache: Cache | None = None,
             mask: np.ndarray | None = None, out: np.ndarray | None = None,
             out_views=None, keep_penalty: bool = False) -> Gradient:
    """Backpropagation: the gradient of ``objective`` at the current weights.

    ``cache`` reuses a forward pass of ``x`` made with these weights; ``out`` (with
    ``out_views``, its weight and bias views) receives the gradient without allocating.
    ``keep_penalty`` also returns the penalty's part of the gradient on its own.
    """
    if cache is None:
        cache = net.forward(x)
    grad, deltas = net.gradient(cache, y, cfg.loss, out=out, out_views=out_views)
    pen = None
    if cfg.regularization != "none" and cfg.regularization_rate != 0.0:
        if mask is None:
            mask = net.weight_mask()
        if keep_penalty:
            pen = np.zeros_like(grad)
            regularization.add_gradient(cfg.regularization, cfg.regularization_rate,
                                        net.params, mask, pen)
            grad += pen
        else:
            regularization.add_gradient(cfg.regularization, cfg.regularization_rate,
                                        net.params, mask, grad)
    return Gradient(cache, deltas, grad, pen)


def update(net: Network, cfg, opt_state: optimizers.OptimizerState, x: np.ndarray,
           y: np.ndarray, *, cache: Cache | None = None, mask: np.ndarray | None = None,
           out: np.ndarray | None = None, out_views=None,
           keep_penalty: bool = False) -> Gradient:
    """One update of ``net.params`` on the batch ``(x, y)``, in place: the gradient of the
    objective, then one step of the optimiser (``opt_state`` advances). Returns what the
    gradient step computed, for a trace."""
    g = gradient(net, cfg, x, y, cache=cache, mask=mask, out=out, out_views=out_views,
                 keep_penalty=keep_penalty)
    optimizers.step(opt_state, net.params, g.grad, cfg.learning_rate)
    return g


def sample_losses(cfg, cache: Cache, y: np.ndarray) -> np.ndarray:
    """Each sample's data loss for a forward pass (shape ``(n_samples,)``)."""
    return losses.per_sample(cfg.loss, cache.a[-1], cache.z[-1], y)
