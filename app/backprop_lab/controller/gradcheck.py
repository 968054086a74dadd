"""The gradient check as a background job: backpropagation against finite differences for
the selected training sample and the newest weights (``engine.gradcheck``), run off the UI
thread with progress and Cancel, so a network of 12,737 weights never freezes the window.
"""

from __future__ import annotations

from PySide6 import QtCore
from superqt.utils import create_worker

from ..engine import explain
from ..engine.gradcheck import GradCheckResult, Progress, iter_gradient_check
from ..engine.names import unit_name
from .session import Session

BATCH = 128  # weights between two progress reports


class GradientCheck(QtCore.QObject):
    """Runs one check at a time for a session; a new ``start`` cancels the running one."""

    #: a check began; what it checks, in words ("Sample 3 (X1 = 0, X2 = 1; target 1) ...")
    started = QtCore.Signal(str)
    #: ``engine.gradcheck.Progress``: rows checked since the last report; the last one
    #: carries the result
    progress = QtCore.Signal(object)
    #: the check ended by itself (the ``GradCheckResult``) or was cancelled (None)
    finished = QtCore.Signal(object)
    #: it failed (a message)
    failed = QtCore.Signal(str)

    def __init__(self, session: Session, parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self._session = session
        self._worker = None
        self.context = ""

    @property
    def running(self) -> bool:
        return self._worker is not None

    def start(self, sample: int | None = None) -> str:
        """Check every weight on training sample ``sample`` (default: the selected one)
        with the newest weights. Returns what is checked, in words."""
        self.cancel()
        s = self._session
        k = s.selected_sample if sample is None else int(sample)
        ds = s.dataset
        x, y = ds.x_train[k:k + 1], ds.y_train[k:k + 1]
        net, cfg = s.network, s.config
        inputs = ", ".join(f"{unit_name(s.layers, 0, j)} = {explain.fmt(x[0, j])}"
                           for j in range(x.shape[1]))
        target = ", ".join(explain.fmt(v) for v in y[0])
        what = f"loss ({cfg.loss})" if cfg.regularization == "none" or \
            cfg.regularization_rate == 0 else \
            f"loss ({cfg.loss}) + {cfg.regularization.upper()} penalty"
        self.context = (f"Sample {k + 1} ({inputs}; target {target}), weights of epoch "
                        f"{s.epoch}: {what}")
        # the iterator copies the network when it is made: the check sees these weights
        checks = iter_gradient_check(net, cfg, x, y, batch=BATCH)
        worker = create_worker(lambda: (yield from checks), _start_thread=False)
        worker.yielded.connect(lambda p, w=worker: self._on_progress(w, p))
        worker.errored.connect(lambda e, w=worker: self._on_error(w, e))
        worker.finished.connect(lambda w=worker: self._on_done(w))
        self._worker = worker
        self.started.emit(self.context)
        worker.start()
        return self.context

    def cancel(self) -> None:
        """Stop the running check (it ends at its next report); nothing more arrives."""
        w, self._worker = self._worker, None
        if w is not None:
            w.quit()
            self.finished.emit(None)

    def _on_progress(self, worker, p: Progress) -> None:
        if worker is not self._worker:
            return
        self.progress.emit(p)
        if p.result is not None:
            self._worker = None
            self.finished.emit(p.result)

    def _on_error(self, worker, e: Exception) -> None:
        if worker is self._worker:
            self._worker = None
            self.failed.emit(f"The gradient check failed: {e}")

    def _on_done(self, worker) -> None:
        if worker is self._worker:  # ended without a result (cannot happen normally)
            self._worker = None
            self.finished.emit(None)


__all__ = ["GradCheckResult", "GradientCheck", "Progress"]
