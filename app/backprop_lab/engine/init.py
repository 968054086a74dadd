"""Weight initialisation, seeded so that a reset returns to the same weights.

``constant``  every weight and bias = value (the article: 1)
``uniform``   U(-r, r)
``xavier``    U(-s, s), s = sqrt(6 / (fan_in + fan_out)); biases 0
``he``        N(0, 2 / fan_in); biases 0
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .network import Network
from .training import short_repr

INITS = ("constant", "uniform", "xavier", "he")
MAX_SEED = 2 ** 63  # seeds are whole numbers from 0 to below this


@dataclass(frozen=True)
class InitConfig:
    method: str = "xavier"
    seed: int = 0
    value: float = 1.0  # for constant
    range: float = 0.5  # r for uniform

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first bad field (``initialization.seed ...``)."""
        if not isinstance(self.method, str) or self.method not in INITS:
            raise ValueError(f"unknown initialization.method {short_repr(self.method)} "
                             f"(choose from {', '.join(INITS)})")
        seed = self.seed
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"initialization.seed must be a whole number >= 0, not "
                             f"{short_repr(seed)}")
        if seed >= MAX_SEED:
            raise ValueError(f"initialization.seed must be below 2**63, not {short_repr(seed)}")
        if not _finite_number(self.value):
            raise ValueError(f"initialization.value must be a finite number, not "
                             f"{short_repr(self.value)}")
        if not (_finite_number(self.range) and self.range > 0):
            raise ValueError(f"initialization.range must be a positive number, not "
                             f"{short_repr(self.range)}")


def _finite_number(v) -> bool:
    """A real number (not a bool) that is neither NaN nor infinite."""
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
        return False
    try:
        return math.isfinite(v)
    except OverflowError:  # an int too large for a float
        return False


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
