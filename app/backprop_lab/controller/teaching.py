"""The phase stepper: one training step taken apart, phase by phase.

Start -> forward, layer by layer -> loss -> backward, layer by layer (deltas) -> update.
Every phase reveals the numbers it computes; Back goes to the previous phase and, when it
leaves the update, puts the old weights back exactly. The numbers all come from one
``Trace`` made by the engine's training code, so what is shown is what training does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6 import QtCore

from ..engine import explain
from ..engine.names import layer_prefix, unit_name
from ..engine.trace import Trace
from .session import Session

SCOPES = ("sample", "minibatch", "batch")
MAX_UPDATE_LINES = 400  # a big network's update is summarised, not written out in full


@dataclass(frozen=True)
class Phase:
    kind: str  # "start", "forward", "loss", "backward", "update"
    layer: int = 0  # for forward/backward: the layer whose values this phase computes

    def title(self, layers: tuple[int, ...]) -> str:
        L = len(layers) - 1
        if self.kind == "start":
            return "Start: the inputs"
        what = "output" if self.layer == L else \
            f"hidden layer {layer_prefix(layers, self.layer)}"
        if self.kind == "forward":
            return f"Forward pass: {what}"
        if self.kind == "loss":
            return "Loss"
        if self.kind == "backward":
            return f"Backward pass: deltas of the {what}"
        return "Weight update"


def phases_for(layers: tuple[int, ...]) -> list[Phase]:
    L = len(layers) - 1
    return ([Phase("start")] + [Phase("forward", l) for l in range(1, L + 1)] + [Phase("loss")]
            + [Phase("backward", l) for l in range(L, 0, -1)] + [Phase("update")])


@dataclass(frozen=True)
class Reveal:
    """What the current phase lets the views show (None: not computed yet)."""

    phase: Phase
    index: int
    count: int
    trace: Trace
    sample: int  # row of the trace the canvas shows
    forward_upto: int  # layers 0..forward_upto have a and z
    loss_known: bool
    backward_from: int | None  # layers backward_from..L have deltas
    updated: bool
    highlight_units: frozenset
    highlight_weights: frozenset
    caption: str
    lines: tuple[str, ...]


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
        self._before: np.ndarray | None = None  # weights before the step
        self._samples: list[int] = []
        self._reveal: tuple[tuple[int, int], Reveal] | None = None
        self.changed.connect(self._forget_reveal)
        session.structure_changed.connect(self.stop)
        session.running_changed.connect(lambda on: self.stop() if on else None)
        session.selected_sample_changed.connect(self._on_sample_changed)

    # -- state --------------------------------------------------------------------------
    @property
    def active(self) -> bool:
        return self._trace is not None

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
        if self.active:
            self.start()

    def batch_samples(self) -> list[int]:
        """The training samples the step uses: the selected one, its mini-batch (in the
        fixed order) or all of them."""
        s = self.session
        n = len(s.dataset.x_train)
        k = s.selected_sample
        if self.scope == "sample":
            return [k]
        if self.scope == "batch":
            return list(range(n))
        bs = max(1, min(s.config.batch_size, n))
        start = (k // bs) * bs
        return list(range(start, min(start + bs, n)))

    def _on_sample_changed(self, _k: int) -> None:
        if self.active and self.session.selected_sample not in self._samples:
            self.start()  # a step on the newly chosen sample
        elif self.active:
            self.changed.emit()

    # -- stepping -----------------------------------------------------------------------
    def start(self) -> None:
        """Begin a step on the current weights (pauses training)."""
        s = self.session
        if s.running:
            s.pause()
        s.wait_idle()  # the weights the step starts from are the newest ones
        # An unfinished step changed nothing; a finished one stays applied.
        self._samples = self.batch_samples()
        self._trace = s.trace(self._samples)
        self._phases = phases_for(self._trace.layers)
        self._index = 0
        self._before = s.params.copy()
        self.active_changed.emit(True)
        self.changed.emit()

    def next(self) -> None:
        """Advance one phase; after the update, start the next step (next sample)."""
        if not self.active:
            self.start()
            return
        if self._index == len(self._phases) - 1:
            # the update is applied: go on with the next sample (or batch)
            s = self.session
            n = len(s.dataset.x_train)
            step = len(self._samples) if self.scope != "batch" else 0
            self._trace = None
            if step:
                s.select_sample((self._samples[-1] + 1) % n if self.scope == "minibatch"
                                else (s.selected_sample + 1) % n)
            self._before = None
            self.start()
            return
        self._index += 1
        if self._phases[self._index].kind == "update":
            t = self._trace
            self.session.set_params(t.new_params, optimizer=t.optimizer_after)
        self.changed.emit()

    def back(self) -> None:
        """Go back one phase; leaving the update restores the weights exactly."""
        if not self.active or self._index == 0:
            return
        if self._phases[self._index].kind == "update":
            self.session.set_params(self._before, optimizer=self._trace.optimizer_before)
        self._index -= 1
        self.changed.emit()

    def go_to(self, kind: str, layer: int | None = None) -> None:
        """Jump to the first phase of ``kind`` (and ``layer``), stepping through the
        phases in between so the update is applied or undone exactly once."""
        if not self.active:
            self.start()
        target = next(i for i, p in enumerate(self._phases)
                      if p.kind == kind and (layer is None or p.layer == layer))
        while self._index < target:
            self.next()
        while self._index > target:
            self.back()

    def stop(self) -> None:
        """Leave step mode; an applied update stays applied."""
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
            self._reveal = (key, self._make_reveal())
        return self._reveal[1]

    def _make_reveal(self) -> Reveal:
        t = self._trace
        p = self._phases[self._index]
        L = len(t.layers) - 1
        row = self._samples.index(self.session.selected_sample) \
            if self.session.selected_sample in self._samples else 0
        units: set = set()
        weights: set = set()
        if p.kind == "start":
            fwd, loss, back, upd = 0, False, None, False
            units = {(0, u) for u in range(t.layers[0])}
            lines = ["Inputs: " + ", ".join(
                f"{unit_name(t.layers, 0, j)} = {explain.fmt(t.x[row, j])}"
                for j in range(t.layers[0])) + f"   (bias {unit_name(t.layers, 0, -1)} = 1)",
                "Targets: " + ", ".join(explain.fmt(v) for v in t.y[row])]
        elif p.kind == "forward":
            fwd, loss, back, upd = p.layer, False, None, False
            l = p.layer
            units = {(l, u) for u in range(t.layers[l])} | {(l - 1, u) for u in
                                                            range(-1, t.layers[l - 1])}
            weights = {(l - 1, i, j) for i in range(t.layers[l])
                       for j in range(-1, t.layers[l - 1])}
            lines = []
            for u in range(t.layers[l]):
                lines += explain.unit_forward(t, l, u, row)
        elif p.kind == "loss":
            fwd, loss, back, upd = L, True, None, False
            units = {(L, u) for u in range(t.layers[L])}
            lines = explain.loss_lines(t, row)
            if t.n_samples > 1:
                lines.append(f"Mean over the {t.n_samples} samples of this batch: "
                             f"{explain.fmt(t.loss)}")
        elif p.kind == "backward":
            fwd, loss, back, upd = L, True, p.layer, False
            l = p.layer
            units = {(l, u) for u in range(t.layers[l])}
            if l < L:
                units |= {(l + 1, u) for u in range(t.layers[l + 1])}
                weights = {(l, i, j) for i in range(t.layers[l + 1]) for j in range(t.layers[l])}
            lines = []
            for u in range(t.layers[l]):
                lines += explain.unit_delta(t, l, u, row)
            if l < L:
                lines.append(f"(bias unit {unit_name(t.layers, l, -1)} has no delta: nothing "
                             "feeds it)")
        else:
            fwd, loss, back, upd = L, True, 1, True
            weights = {(l, i, j) for l in range(L) for i in range(t.layers[l + 1])
                       for j in range(-1, t.layers[l])}
            lines = explain.update_lines(t, limit=MAX_UPDATE_LINES)
        caption = f"{p.title(t.layers)}   ({self._index + 1}/{len(self._phases)})"
        return Reveal(p, self._index, len(self._phases), t, row, fwd, loss, back, upd,
                      frozenset(units), frozenset(weights), caption, tuple(lines))
