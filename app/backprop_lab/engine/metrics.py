"""How well a network's outputs fit the targets: accuracy, confusion matrix, R², RMSE.

Classes are read off as Playground and the loss dock do: with one target column a
sample is class 1 when its value is at least 0.5 (targets are 0 or 1, whatever the
output activation); with one-hot targets the class is the column of the largest value.
Targets with several 0/1 columns that are not one-hot (several labels per sample) are
scored value by value and have no confusion matrix.

Every function returns plain Python numbers and lists, ready for JSON; a value that is
not defined (R² of constant targets, anything of zero samples) is ``None``.
"""

from __future__ import annotations

import math

import numpy as np

THRESHOLD = 0.5


def _pair(y, outputs) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y, dtype=np.float64)
    out = np.asarray(outputs, dtype=np.float64)
    if y.ndim == 1:
        y = y.reshape(-1, 1)
    if out.ndim == 1:
        out = out.reshape(-1, 1)
    if y.shape != out.shape or y.ndim != 2:
        raise ValueError(f"targets {y.shape} and outputs {out.shape} must have the same shape")
    return y, out


def is_one_hot(y: np.ndarray) -> bool:
    """True if every row of ``y`` (two or more columns) is 0s and a single 1."""
    y = np.asarray(y, dtype=np.float64)
    return (y.ndim == 2 and y.shape[1] >= 2 and bool(np.isin(y, (0.0, 1.0)).all())
            and bool((y.sum(axis=1) == 1.0).all()))


def classes(values: np.ndarray, one_hot: bool) -> np.ndarray:
    """The class of every row: argmax for one-hot columns, else value >= 0.5 (0/1)."""
    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 1:
        values = values.reshape(-1, 1)
    if one_hot:
        return np.argmax(values, axis=1)
    return (values >= THRESHOLD).astype(np.int64)


def n_classes(y: np.ndarray) -> int:
    """How many classes targets ``y`` stand for (their columns when one-hot, else 2)."""
    y = np.asarray(y)
    return y.shape[1] if is_one_hot(y) else 2


def accuracy(y, outputs) -> float | None:
    """The fraction of samples whose class (or, for several labels, value) is right."""
    y, out = _pair(y, outputs)
    if y.size == 0:
        return None
    one_hot = is_one_hot(y)
    return float(np.mean(classes(y, one_hot) == classes(out, one_hot)))


def confusion_matrix(y, outputs, k: int | None = None) -> list[list[int]]:
    """``m[t][p]``: how many samples of true class t the network puts in class p.

    ``y`` has one 0/1 column (two classes) or one-hot columns (``k`` is their number)."""
    y, out = _pair(y, outputs)
    one_hot = y.shape[1] > 1
    if one_hot and len(y) and not is_one_hot(y):
        raise ValueError("a confusion matrix needs one 0/1 target column or one-hot targets")
    k = (y.shape[1] if one_hot else 2) if k is None else k
    m = np.zeros((k, k), dtype=np.int64)
    np.add.at(m, (classes(y, one_hot), classes(out, one_hot)), 1)
    return m.tolist()


def rmse(y, outputs) -> float | None:
    """Root mean squared error over every value."""
    y, out = _pair(y, outputs)
    if y.size == 0:
        return None
    return float(math.sqrt(np.mean((out - y) ** 2)))


def r2(y, outputs) -> float | None:
    """Coefficient of determination 1 - SS_res / SS_tot, averaged over the target
    columns; ``None`` if a column's targets are all equal (SS_tot = 0) or there are
    fewer than two samples."""
    y, out = _pair(y, outputs)
    if len(y) < 2:
        return None
    ss_tot = np.sum((y - y.mean(axis=0)) ** 2, axis=0)
    if np.any(ss_tot == 0):
        return None
    ss_res = np.sum((y - out) ** 2, axis=0)
    return float(np.mean(1.0 - ss_res / ss_tot))


def compute(task: str, y, outputs) -> dict:
    """The metrics that apply to ``task`` ("classification" or "regression"):

    - classification: ``samples``, ``accuracy``, and for one target column or one-hot
      targets ``classes`` and ``confusion`` (rows: true class, columns: predicted);
    - regression: ``samples``, ``r2``, ``rmse``.
    """
    y, out = _pair(y, outputs)
    result: dict = {"task": task, "samples": int(len(y))}
    if task == "classification":
        result["accuracy"] = accuracy(y, out)
        if y.shape[1] == 1 or is_one_hot(y) or not len(y):
            k = y.shape[1] if y.shape[1] > 1 else 2
            result["classes"] = k
            result["confusion"] = confusion_matrix(y, out, k)
    elif task == "regression":
        result["r2"] = r2(y, out)
        result["rmse"] = rmse(y, out)
    else:
        raise ValueError(f"unknown task {task!r} (choose from classification, regression)")
    return result


def evaluate(network, dataset) -> dict:
    """Metrics of ``network`` (an ``engine.network.Network``) on a ``Dataset``:
    ``{"train": {...}, "test": {...}}``, the test part only when there is one."""
    out = {"train": compute(dataset.task, dataset.y_train, network.predict(dataset.x_train))}
    if dataset.has_test:
        out["test"] = compute(dataset.task, dataset.y_test, network.predict(dataset.x_test))
    return out
