"""Immutable values that cross from the training thread to the UI thread."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..engine.optimizers import OptimizerState
from ..engine.training import TrainingConfig


@dataclass(frozen=True)
class Snapshot:
    """The state of a training run at one moment. Arrays are private copies.

    ``version`` grows by one for every snapshot the worker publishes.
    """

    version: int
    epoch: int
    params: np.ndarray
    config: TrainingConfig
    train_loss: float
    test_loss: float | None
    train_accuracy: float | None
    test_accuracy: float | None
    running: bool
    epochs_per_second: float
    error: str | None = None
    #: how many commands the worker had applied, and whether it had nothing left to do
    applied: int = 0
    idle: bool = True
    #: Euclidean norm of the full-batch gradient of each weight layer (weights and bias
    #: weights into layer l+1), at these weights
    grad_norms: tuple[float, ...] = ()
    #: the optimiser's state (step count, momentum / Adam moments) at these weights, so
    #: a traced step is exactly the next real one
    optimizer: OptimizerState | None = None


@dataclass(frozen=True)
class HistoryChunk:
    """Per-epoch losses produced since the UI last took them."""

    epochs: np.ndarray
    train_loss: np.ndarray
    test_loss: np.ndarray | None
    train_accuracy: np.ndarray | None = None
    test_accuracy: np.ndarray | None = None
    #: which run these rows belong to: a reset starts a new one, older rows are dropped
    generation: int = 0

    def __len__(self) -> int:
        return len(self.epochs)


class GrowingBuffer:
    """A preallocated, doubling float buffer: append many values, read ``view()``."""

    def __init__(self, capacity: int = 1024, dtype=np.float64):
        self._buf = np.empty(capacity, dtype=dtype)
        self._n = 0

    def __len__(self) -> int:
        return self._n

    def extend(self, values: np.ndarray) -> None:
        k = len(values)
        if self._n + k > len(self._buf):
            cap = len(self._buf)
            while cap < self._n + k:
                cap *= 2
            new = np.empty(cap, dtype=self._buf.dtype)
            new[:self._n] = self._buf[:self._n]
            self._buf = new
        self._buf[self._n:self._n + k] = values
        self._n += k

    def view(self) -> np.ndarray:
        return self._buf[:self._n]

    def clear(self) -> None:
        self._n = 0

    def truncate(self, n: int) -> None:
        self._n = min(self._n, max(n, 0))


class History:
    """Loss and accuracy against epoch for the whole run (bounded only by memory:
    8 bytes a value, so a million epochs cost about 24 MB)."""

    def __init__(self):
        self.epochs = GrowingBuffer(dtype=np.int64)
        self.train_loss = GrowingBuffer()
        self.test_loss = GrowingBuffer()
        self.acc_epochs = GrowingBuffer(dtype=np.int64)
        self.train_accuracy = GrowingBuffer()
        self.test_accuracy = GrowingBuffer()
        self.grad_epochs = GrowingBuffer(dtype=np.int64)
        self.grad_norms: list[GrowingBuffer] = []

    def _buffers(self) -> list[GrowingBuffer]:
        return [self.epochs, self.train_loss, self.test_loss, self.acc_epochs,
                self.train_accuracy, self.test_accuracy, self.grad_epochs, *self.grad_norms]

    def clear(self) -> None:
        for b in self._buffers():
            b.clear()
        self.grad_norms = []

    def add_grad_norms(self, epoch: int, norms: tuple[float, ...]) -> None:
        """Record the per-layer gradient norms seen at ``epoch`` (one per snapshot)."""
        if not norms:
            return
        e = self.grad_epochs.view()
        if len(e) and e[-1] >= epoch:
            return
        if len(self.grad_norms) != len(norms):
            self.grad_epochs.clear()
            self.grad_norms = [GrowingBuffer() for _ in norms]
        self.grad_epochs.extend(np.array([epoch]))
        for buf, v in zip(self.grad_norms, norms):
            buf.extend(np.array([v]))

    def add_chunk(self, chunk: HistoryChunk) -> None:
        if not len(chunk):
            return
        self.epochs.extend(chunk.epochs)
        self.train_loss.extend(chunk.train_loss)
        if chunk.test_loss is not None:
            self.test_loss.extend(chunk.test_loss)
        if chunk.train_accuracy is not None:
            self.acc_epochs.extend(chunk.epochs)
            self.train_accuracy.extend(chunk.train_accuracy)
            if chunk.test_accuracy is not None:
                self.test_accuracy.extend(chunk.test_accuracy)

    def truncate_after(self, epoch: int) -> None:
        """Drop everything recorded after ``epoch`` (used when the run goes back)."""
        n = int(np.searchsorted(self.epochs.view(), epoch, side="right"))
        self.epochs.truncate(n)
        self.train_loss.truncate(n)
        self.test_loss.truncate(n)
        m = int(np.searchsorted(self.acc_epochs.view(), epoch, side="right"))
        self.acc_epochs.truncate(m)
        self.train_accuracy.truncate(m)
        self.test_accuracy.truncate(m)
        g = int(np.searchsorted(self.grad_epochs.view(), epoch, side="right"))
        for b in [self.grad_epochs, *self.grad_norms]:
            b.truncate(g)

    def __len__(self) -> int:
        return len(self.epochs)
