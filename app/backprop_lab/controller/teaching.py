"""The phase stepper: one training step taken apart, phase by phase (see ``runs.stepping``).

Start -> forward, layer by layer -> loss -> backward, layer by layer (deltas) -> update.
Every phase reveals the numbers it computes; Back goes to the previous phase and, when it
leaves the update, puts the old weights back exactly.

A step starts from the weights the run has once it reflects every command sent: if it
does not yet (training was just paused), the stepper waits for the run's ``settled``
signal, and moves that arrive meanwhile (a clicker pressed twice) are queued and played
in order afterwards. Nothing waits by spinning the event loop, so no move ever runs
inside another.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6 import QtCore

from ..engine.optimizers import OptimizerState
from ..engine.trace import Trace, trace_step
from ..runs.stepping import (
    MAX_UPDATE_LINES,
    SCOPES,
    Phase,
    Reveal,
    batch_samples,
    make_reveal,
    next_selection,
    phases_for,
)
from .session import Session

__all__ = ["MAX_UPDATE_LINES", "SCOPES", "Phase", "PhaseStepper", "Reveal", "phases_for"]


class PhaseStepper(QtCore.QObject):
    """Steps one update apart for the session's selected sample, mini-batch or batch."""

    changed = QtCore.Signal()
    active_changed = QtCore.Signal(bool)

    def __init__(self, session: Session, parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self.session = session
        self.scope = "sample"
        self._trace: Trace | None = None
        self._phases: list[Phase] = []
        self._index = 0
        self._samples: list[int] = []
        self._before: tuple[np.ndarray, OptimizerState, int] | None = None
        self._reveal: tuple[tuple[int, int], Reveal] | None = None
        self._starting = False  # a step waits for the run to settle
        self._queue: list[Callable[[], None]] = []  # moves that arrived while it waited
        self.changed.connect(self._forget_reveal)
        session.structure_changed.connect(self.stop)
        session.running_changed.connect(lambda on: self.stop() if on else None)
        session.selected_sample_changed.connect(self._on_sample_changed)

    # -- state --------------------------------------------------------------------------
    @property
    def active(self) -> bool:
        return self._trace is not None

    @property
    def busy(self) -> bool:
        """A step is waiting for the run to settle (moves are queued meanwhile)."""
        return self._starting

    @property
    def index(self) -> int:
        return self._index

    @property
    def phases(self) -> list[Phase]:
        return list(self._phases)

    @property
    def phase(self) -> Phase | None:
        return self._phases[self._index] if self.active else None

    @property
    def trace(self) -> Trace | None:
        return self._trace

    @property
    def samples(self) -> list[int]:
        return list(self._samples)

    def set_scope(self, scope: str) -> None:
        if scope not in SCOPES:
            raise ValueError(f"unknown scope {scope!r}")
        self.scope = scope
        if self.active or self._starting:
            self.start()

    def batch_samples(self) -> list[int]:
        """The training samples the step uses: the selected one, its mini-batch (in the
        order training will use next, shuffle included) or all of them."""
        s = self.session
        n = len(s.dataset.x_train)
        batches = s.next_batches() if self.scope == "minibatch" else []
        return batch_samples(self.scope, s.selected_sample, n, batches)

    def _on_sample_changed(self, _k: int) -> None:
        if self._starting:
            return  # the step that starts reads the selection then
        if self.active and self.session.selected_sample not in self._samples:
            self.start()  # a step on the newly chosen sample
        elif self.active:
            self.changed.emit()

    # -- stepping -----------------------------------------------------------------------
    def start(self) -> None:
        """Begin a step on the current weights (pauses training). An unfinished step
        changed nothing; a finished one stays applied."""
        s = self.session
        if s.running:
            s.pause()
        self._queue.clear()
        if self._starting:
            return
        self._starting = True
        s.after_settled(self._begin)

    def _begin(self) -> None:
        if not self._starting:
            return  # stopped meanwhile
        self._starting = False
        s = self.session
        snap = s.snapshot
        self._samples = self.batch_samples()
        self._before = (snap.params.copy(), snap.optimizer.copy(), snap.updates)
        self._trace = s.trace(self._samples)
        self._phases = phases_for(self._trace.layers)
        self._index = 0
        self.active_changed.emit(True)
        self.changed.emit()
        queued, self._queue = self._queue, []
        for move in queued:
            if self._starting:  # a queued move started another step: the rest waits
                self._queue.append(move)
                continue
            move()

    def restore(self, samples: list[int], index: int, params: np.ndarray,
                optimizer: OptimizerState, updates: int, scope: str) -> None:
        """Show a step computed elsewhere (a lesson step): the step on ``samples`` from
        these weights, at phase ``index``. The session already holds the weights that
        phase implies (the updated ones from the update phase on)."""
        self.scope = scope
        self._starting = False
        self._queue.clear()
        s = self.session
        net = s.network
        net.params[:] = params
        ds = s.dataset
        self._samples = list(samples)
        self._before = (np.array(params, dtype=np.float64), optimizer.copy(), updates)
        self._trace = trace_step(net, s.config, ds.x_train[self._samples],
                                 ds.y_train[self._samples], optimizer)
        self._phases = phases_for(self._trace.layers)
        self._index = int(index)
        self.active_changed.emit(True)
        self.changed.emit()

    def next(self) -> None:
        """Advance one phase; after the update, start the next step (next sample)."""
        if self._starting:
            self._queue.append(self.next)
            return
        if not self.active:
            self.start()
            return
        if self._index == len(self._phases) - 1:
            # the update is applied: go on with the next sample (or batch)
            s = self.session
            n = len(s.dataset.x_train)
            batches = s.next_batches() if self.scope == "minibatch" else []
            nxt = next_selection(self.scope, self._samples, s.selected_sample, n, batches)
            self._trace = None
            self._starting = True  # selecting the next sample must not start a step itself
            s.select_sample(nxt)
            self._starting = False
            self.start()
            return
        self._index += 1
        if self._phases[self._index].kind == "update":
            t = self._trace
            self.session.set_params(t.new_params, optimizer=t.optimizer_after,
                                    updates=self._before[2] + 1, mark_dirty=False,
                                    by_hand=True)
        self.changed.emit()

    def back(self) -> None:
        """Go back one phase; leaving the update restores the weights exactly."""
        if self._starting:
            self._queue.append(self.back)
            return
        if not self.active or self._index == 0:
            return
        if self._phases[self._index].kind == "update":
            params, opt, updates = self._before
            self.session.set_params(params, optimizer=opt, updates=updates, mark_dirty=False)
        self._index -= 1
        self.changed.emit()

    def go_to(self, kind: str, layer: int | None = None) -> None:
        """Jump to the first phase of ``kind`` (and ``layer``), moving through the phases
        in between so the update is applied or taken back exactly once."""
        if self._starting:
            self._queue.append(lambda: self.go_to(kind, layer))
            return
        if not self.active:
            self.start()
            if not self.active:  # it waits for the run: the move follows when it starts
                self._queue.append(lambda: self.go_to(kind, layer))
                return
        target = next(i for i, p in enumerate(self._phases)
                      if p.kind == kind and (layer is None or p.layer == layer))
        while self._index < target:
            self.next()
        while self._index > target:
            self.back()

    def stop(self) -> None:
        """Leave step mode; an applied update stays applied."""
        self._starting = False
        self._queue.clear()
        if self._trace is None:
            return
        self._trace = None
        self._phases = []
        self._index = 0
        self._before = None
        self.active_changed.emit(False)
        self.changed.emit()

    # -- what to show -------------------------------------------------------------------
    def _forget_reveal(self) -> None:
        self._reveal = None

    def reveal(self) -> Reveal | None:
        """What the current phase shows (cached until the phase or the sample changes)."""
        if not self.active:
            return None
        key = (self._index, self.session.selected_sample)
        if self._reveal is None or self._reveal[0] != key:
            self._reveal = (key, make_reveal(self._trace, self._phases, self._index,
                                             self._samples, self.session.selected_sample))
        return self._reveal[1]
