"""Input features: the columns a network sees, computed from the two raw inputs.

A project stores the chosen features as a list of names in ``data.features``, in the
order of the network's input units, for example ``["x1", "x2", "x1*x2"]``. ``x1`` and
``x2`` are the first and second raw input columns (X1 and X2 of a generated set, or
the first two input columns of a table or CSV file). Without ``data.features`` the
network sees the raw inputs themselves.

``apply`` is the one function that turns raw points into feature columns: the
training data and every grid of raw points drawn as a heatmap go through it, so the
heatmap shows exactly what the network computes.

Names in the file (ASCII) and the labels shown for them, with raw names X1 and X2:

    x1  -> X1        x1^2 -> X1²       x1*x2 -> X1·X2      sin(x1) -> sin X1
    x2  -> X2        x2^2 -> X2²                           sin(x2) -> sin X2

The sines take radians, as Playground's do.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: Every feature, in the order a toggled-on feature takes among the others.
FEATURES = ("x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)")
#: The features that are the raw inputs: the default.
RAW = ("x1", "x2")
#: How many raw input columns features are computed from.
N_RAW = 2

_LABELS = {"x1": "{0}", "x2": "{1}", "x1^2": "{0}²", "x2^2": "{1}²", "x1*x2": "{0}·{1}",
           "sin(x1)": "sin {0}", "sin(x2)": "sin {1}"}
_FUNCTIONS = {
    "x1": lambda x1, x2: x1,
    "x2": lambda x1, x2: x2,
    "x1^2": lambda x1, x2: x1 * x1,
    "x2^2": lambda x1, x2: x2 * x2,
    "x1*x2": lambda x1, x2: x1 * x2,
    "sin(x1)": lambda x1, x2: np.sin(x1),
    "sin(x2)": lambda x1, x2: np.sin(x2),
}


def validate(names, where: str = "data.features") -> tuple[str, ...]:
    """``names`` as a tuple if it is a non-empty list of distinct feature names.

    Raises ``ValueError`` naming ``where`` and the bad entry otherwise."""
    if not isinstance(names, (list, tuple)) or not names:
        raise ValueError(f"{where} must be a non-empty list of feature names (from "
                         f"{', '.join(FEATURES)}), not {names!r}"[:300])
    for j, n in enumerate(names):
        if not isinstance(n, str) or n not in _FUNCTIONS:
            raise ValueError(f"{where}[{j}]: unknown feature {n!r} (choose from "
                             f"{', '.join(FEATURES)})"[:300])
    if len(set(names)) != len(names):
        raise ValueError(f"{where} names a feature twice: {list(names)!r}")
    return tuple(names)


def is_raw(names: Sequence[str] | None) -> bool:
    """True for no features or exactly the raw inputs in their order."""
    return names is None or tuple(names) == RAW


def apply(names: Sequence[str], x_raw: np.ndarray) -> np.ndarray:
    """Feature columns of raw points: shape (n, len(names)), float64, C-contiguous.

    ``x_raw`` has shape (n, 2): one row per point, the raw inputs x1 and x2."""
    names = validate(names, "features")
    x = np.asarray(x_raw, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != N_RAW:
        raise ValueError(f"features are computed from {N_RAW} raw inputs, the data has shape "
                         f"{x.shape}")
    out = np.empty((len(x), len(names)))
    x1, x2 = x[:, 0], x[:, 1]
    for j, n in enumerate(names):
        out[:, j] = _FUNCTIONS[n](x1, x2)
    return out


def labels(names: Sequence[str], raw_names: Sequence[str] = ("X1", "X2")) -> tuple[str, ...]:
    """Readable labels of ``names`` written with the raw inputs' names (``X1²``)."""
    names = validate(names, "features")
    if len(raw_names) != N_RAW:
        raise ValueError(f"features need {N_RAW} raw input names, not {list(raw_names)!r}")
    return tuple(_LABELS[n].format(*raw_names) for n in names)


def toggle(names: Sequence[str] | None, name: str) -> tuple[str, ...]:
    """``names`` with ``name`` switched on or off, in the order of ``FEATURES``.

    ``None`` stands for the raw inputs. Switching off the last feature raises
    ``ValueError`` (a network needs at least one input)."""
    current = RAW if names is None else validate(names, "features")
    validate([name], "feature")
    chosen = set(current) ^ {name}
    if not chosen:
        raise ValueError("at least one input feature must stay on")
    return tuple(f for f in FEATURES if f in chosen)
