"""The presenter: what the canvas and the header show, from the session and the stepper.

At frame rate (a new snapshot, a phase of the stepped update, another sample, a new
structure) it turns the session's newest state into ``CanvasData`` for the canvas, which
draws what it is given and computes nothing. The header's epoch and loss follow at most
ten times a second while training runs, so they can be read; the status bar's training
and drawing rates twice a second.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
from PySide6 import QtCore, QtWidgets

from ..controller.session import Session
from ..controller.teaching import PhaseStepper, Reveal
from ..engine.trace import Trace
from ..runs.state import Snapshot
from .canvas import CanvasData, NetworkCanvas

LABELS_EVERY_S = 0.1  # header text while training: at most ten times a second
RATES_EVERY_MS = 500  # the status bar's epochs/s and frames/s


def canvas_data(trace: Trace, sample: int = 0, **extra) -> CanvasData:
    """What the canvas shows for one sample of a trace (the engine's numbers, as is)."""
    return CanvasData(
        layers=trace.layers, weights=trace.weights, biases=trace.biases,
        activations=trace.activations,
        a=tuple(a[sample] for a in trace.a), z=tuple(z[sample] for z in trace.z),
        deltas=tuple(d[sample] for d in trace.deltas),
        grad_weights=tuple(g[sample] for g in trace.sample_grad_weights),
        grad_biases=tuple(g[sample] for g in trace.sample_grad_biases), **extra)


def reveal_canvas_data(r: Reveal) -> CanvasData:
    """What the canvas shows during a stepped update: only the numbers computed so far
    (NaN marks "not computed yet"), the phase's units and weights highlighted."""
    t, row = r.trace, r.sample
    L = len(t.layers) - 1
    nan = np.nan
    a = tuple(t.a[l - 1][row] if l <= r.forward_upto else np.full(t.layers[l], nan)
              for l in range(1, L + 1))
    z = tuple(t.z[l][row] if l <= r.forward_upto else np.full(t.layers[l], nan)
              for l in range(L + 1))

    def known(l: int) -> bool:
        return r.backward_from is not None and l >= r.backward_from

    deltas = tuple(t.deltas[l - 1][row] if known(l) else np.full(t.layers[l], nan)
                   for l in range(1, L + 1))
    gw = tuple(t.grad_weights[l] if known(l + 1) else np.zeros_like(t.grad_weights[l])
               for l in range(L))
    gb = tuple(t.grad_biases[l] if known(l + 1) else np.zeros_like(t.grad_biases[l])
               for l in range(L))
    return CanvasData(
        layers=t.layers, weights=t.new_weights if r.updated else t.weights,
        biases=t.new_biases if r.updated else t.biases, activations=t.activations,
        a=a, z=z, deltas=deltas, grad_weights=gw, grad_biases=gb,
        highlight_units=r.highlight_units, highlight_weights=r.highlight_weights,
        caption=r.caption)


def header_texts(snap: Snapshot) -> tuple[str, str]:
    """The header's epoch and loss text for a snapshot."""
    text = f"Train loss {snap.train_loss:.5g}"
    if snap.test_loss is not None:
        text += f"   Test loss {snap.test_loss:.5g}"
    if snap.train_accuracy is not None:
        text += f"   Accuracy {100 * snap.train_accuracy:.0f}%"
    return f"Epoch {snap.epoch:,}", text


class Presenter(QtCore.QObject):
    """Keeps the canvas, the header labels and the rate label in step with the session
    and the phase stepper."""

    def __init__(self, session: Session, stepper: PhaseStepper, canvas: NetworkCanvas,
                 epoch_label: QtWidgets.QLabel, loss_label: QtWidgets.QLabel,
                 rate_label: QtWidgets.QLabel, parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self.session = session
        self.stepper = stepper
        self.canvas = canvas
        self.epoch_label = epoch_label
        self.loss_label = loss_label
        self.rate_label = rate_label
        self._frames = 0
        self._fps = 0.0
        self._fps_t0 = time.perf_counter()
        self._last_labels = 0.0
        #: units and weights a lesson asks to emphasise, on top of the phase's own
        self._highlight: tuple[frozenset, frozenset] = (frozenset(), frozenset())

        session.snapshot_changed.connect(self.render)
        session.selected_sample_changed.connect(self.render)
        session.structure_changed.connect(self._on_structure_changed)
        session.running_changed.connect(self.update_labels)
        stepper.changed.connect(self.render)

        self._rates_timer = QtCore.QTimer(self)
        self._rates_timer.setInterval(RATES_EVERY_MS)
        self._rates_timer.timeout.connect(self.update_rates)
        self._rates_timer.start()

    @property
    def fps(self) -> float:
        """Frames drawn a second, over the last half second."""
        return self._fps

    def frame(self) -> CanvasData:
        """What the canvas shows now: the stepped update's phase, else the selected
        sample's numbers with the newest weights."""
        if self.stepper.active:
            return reveal_canvas_data(self.stepper.reveal())
        return canvas_data(self.session.trace())

    def render(self, *_args) -> None:
        """Show the newest state: the canvas every time, text at most ten times a second
        while training runs (every time when it does not)."""
        data = self.frame()
        units, weights = self._highlight
        if units or weights:
            data = replace(data, highlight_units=data.highlight_units | units,
                           highlight_weights=data.highlight_weights | weights)
        self.canvas.set_data(data)
        self._frames += 1
        now = time.perf_counter()
        if now - self._last_labels >= LABELS_EVERY_S or not self.session.running:
            self._last_labels = now
            self.update_labels()

    def set_highlight(self, units=(), weights=()) -> None:
        """Emphasise these units ((layer, unit)) and weights ((layer, target, source))
        on the canvas as well, whatever is shown (a lesson's ``highlight``)."""
        new = (frozenset(units), frozenset(weights))
        if new != self._highlight:
            self._highlight = new
            self.render()

    def update_labels(self, *_args) -> None:
        snap = self.session.snapshot
        if snap is None:
            return
        epoch, loss = header_texts(snap)
        self.epoch_label.setText(epoch)
        self.loss_label.setText(loss)

    def update_rates(self) -> None:
        now = time.perf_counter()
        self._fps = self._frames / max(now - self._fps_t0, 1e-9)
        self._frames, self._fps_t0 = 0, now
        snap = self.session.snapshot
        rate = snap.epochs_per_second if snap is not None else 0.0
        self.rate_label.setText(f"{rate:,.0f} epochs/s   {self._fps:.0f} frames/s")

    def stop(self) -> None:
        """Stop the clock (the window closes)."""
        self._rates_timer.stop()

    def _on_structure_changed(self) -> None:
        self.render()
        QtCore.QTimer.singleShot(0, self.canvas.fit)
