"""The loss history of a run: losses, accuracies and gradient norms against epoch. No Qt."""

from __future__ import annotations

import numpy as np


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

    def add_grad_norms(self, epoch: int, norms: tuple[float, ...]) -> bool:
        """Record the per-layer gradient norms seen at ``epoch`` (one per snapshot); False
        if there was nothing new to record."""
        if not norms:
            return False
        e = self.grad_epochs.view()
        if len(e) and e[-1] >= epoch:
            return False
        if len(self.grad_norms) != len(norms):
            self.grad_epochs.clear()
            self.grad_norms = [GrowingBuffer() for _ in norms]
        self.grad_epochs.extend(np.array([epoch]))
        for buf, v in zip(self.grad_norms, norms):
            buf.extend(np.array([v]))
        return True

    def add_rows(self, rows: np.ndarray, has_test: bool, has_accuracy: bool) -> None:
        """Append history rows (an (n, 5) array: epoch, train loss, test loss, train
        accuracy, test accuracy; see ``engine.training.ROW_FIELDS``)."""
        if not len(rows):
            return
        epochs = rows[:, 0].astype(np.int64)
        self.epochs.extend(epochs)
        self.train_loss.extend(rows[:, 1])
        if has_test:
            self.test_loss.extend(rows[:, 2])
        if has_accuracy:
            self.acc_epochs.extend(epochs)
            self.train_accuracy.extend(rows[:, 3])
            if has_test:
                self.test_accuracy.extend(rows[:, 4])

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
