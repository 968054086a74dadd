"""Weight initialisation, seeded so that a reset returns to the same weights.

``constant``  every weight and bias = value (the article: 1)
``uniform``   U(-r, r)
``xavier``    U(-s, s), s = sqrt(6 / (fan_in + fan_out)); biases 0
``he``        N(0, 2 / fan_in); biases 0
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .network import Network

INITS = ("constant", "uniform", "xavier", "he")


@dataclass(frozen=True)
class InitConfig:
    method: str = "xavier"
    seed: int = 0
    value: float = 1.0  # for constant
    range: float = 0.5  # r for uniform

    def validate(self) -> None:
        if self.method not in INITS:
            raise ValueError(f"unknown initialization {self.method!r} (choose from "
                             f"{', '.join(INITS)})")
        if not np.isfinite(self.value):
            raise ValueError("initialization.value must be a finite number")
        if not (np.isfinite(self.range) and self.range > 0):
            raise ValueError("initialization.range must be a positive number")


def initialize(net: Network, cfg: InitConfig) -> None:
    """Fill ``net.params`` in place according to ``cfg``."""
    cfg.validate()
    rng = np.random.default_rng(cfg.seed)
    for w, b in zip(net.weights, net.biases):
        fan_out, fan_in = w.shape
        if cfg.method == "constant":
            w[:] = cfg.value
            b[:] = cfg.value
        elif cfg.method == "uniform":
            w[:] = rng.uniform(-cfg.range, cfg.range, w.shape)
            b[:] = rng.uniform(-cfg.range, cfg.range, b.shape)
        elif cfg.method == "xavier":
            s = np.sqrt(6.0 / (fan_in + fan_out))
            w[:] = rng.uniform(-s, s, w.shape)
            b[:] = 0.0
        elif cfg.method == "he":
            w[:] = rng.normal(0.0, np.sqrt(2.0 / fan_in), w.shape)
            b[:] = 0.0
