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
from ..controller.undo import Edit, RunPoint, UndoHistory
from ..engine import features as features_mod
from ..engine.names import WeightRef
from ..engine.trace import Trace
from ..runs.state import Snapshot
from .canvas import CanvasData, NetworkCanvas

LABELS_EVERY_S = 0.1  # header text while training: at most ten times a second
RATES_EVERY_MS = 500  # the status bar's epochs/s and frames/s


def sample_label(number: int) -> str:
    """The loss node's heading for one sample (``number`` counted from 1, as shown)."""
    return f"L for sample {number}"


def batch_label(n: int, number: int) -> str:
    """The loss node's heading when L is the mean over a batch of ``n`` samples and the
    target shown is sample ``number``'s (counted from 1)."""
    return f"y: sample {number} \u00b7 L: mean of {n}"


def canvas_data(trace: Trace, sample: int = 0, number: int | None = None,
                **extra) -> CanvasData:
    """What the canvas shows for one sample of a trace (the engine's numbers, as is): its
    values and gradients, and its target and loss L in the loss node. ``number`` is the
    training sample's number as shown (from 1; default ``sample + 1``)."""
    extra.setdefault("target", np.array(trace.y[sample], dtype=np.float64))
    extra.setdefault("loss", float(trace.sample_losses[sample]))
    extra.setdefault("loss_label", sample_label(sample + 1 if number is None else number))
    return CanvasData(
        layers=trace.layers, weights=trace.weights, biases=trace.biases,
        activations=trace.activations,
        a=tuple(a[sample] for a in trace.a), z=tuple(z[sample] for z in trace.z),
        deltas=tuple(d[sample] for d in trace.deltas),
        grad_weights=tuple(g[sample] for g in trace.sample_grad_weights),
        grad_biases=tuple(g[sample] for g in trace.sample_grad_biases), **extra)


def reveal_canvas_data(r: Reveal, samples: list[int] | None = None) -> CanvasData:
    """What the canvas shows during a stepped update: only the numbers computed so far
    (NaN marks "not computed yet"), the phase's units and weights highlighted.

    The forward values (a, z) are the shown sample's. On a batch (mini-batch or whole
    batch scope) the deltas and gradients are the means over the batch that the update
    uses, and L is the batch's mean loss (``values_are_means``); on one sample they are
    that sample's. The target y is always the shown sample's; L is NaN before the Loss
    phase. ``samples`` are the training samples of the step (for the sample's number).
    """
    t, row = r.trace, r.sample
    L = len(t.layers) - 1
    nan = np.nan
    means = t.n_samples > 1
    a = tuple(t.a[l - 1][row] if l <= r.forward_upto else np.full(t.layers[l], nan)
              for l in range(1, L + 1))
    z = tuple(t.z[l][row] if l <= r.forward_upto else np.full(t.layers[l], nan)
              for l in range(L + 1))

    def known(l: int) -> bool:
        return r.backward_from is not None and l >= r.backward_from

    def delta(l: int) -> np.ndarray:
        d = t.deltas[l - 1]
        return d.mean(axis=0) if means else d[row]

    deltas = tuple(delta(l) if known(l) else np.full(t.layers[l], nan)
                   for l in range(1, L + 1))
    gw = tuple(t.grad_weights[l] if known(l + 1) else np.zeros_like(t.grad_weights[l])
               for l in range(L))
    gb = tuple(t.grad_biases[l] if known(l + 1) else np.zeros_like(t.grad_biases[l])
               for l in range(L))
    number = (samples[row] if samples is not None and row < len(samples) else row) + 1
    if r.loss_known:
        loss = float(t.loss if means else t.sample_losses[row])
    else:
        loss = nan
    return CanvasData(
        layers=t.layers, weights=t.new_weights if r.updated else t.weights,
        biases=t.new_biases if r.updated else t.biases, activations=t.activations,
        a=a, z=z, deltas=deltas, grad_weights=gw, grad_biases=gb,
        highlight_units=r.highlight_units, highlight_weights=r.highlight_weights,
        caption=r.caption, target=np.array(t.y[row], dtype=np.float64), loss=loss,
        loss_label=batch_label(t.n_samples, number) if means else sample_label(number),
        highlight_loss=r.phase.kind == "loss", values_are_means=means)


def header_texts(snap: Snapshot, classification: bool = True) -> tuple[str, str]:
    """The header's two texts for a snapshot: epochs and updates, and the losses.

    The loss is named as the loss dock names it: "Train loss" is the mean loss over the
    training set with the current weights (the loss plot's curve; after an update taken
    by hand, its marked point). The accuracy is shown for classification targets only.
    """
    n = snap.updates
    epoch = f"Epoch {snap.epoch:,} \u00b7 {n:,} update{'' if n == 1 else 's'}"
    text = f"Train loss {snap.train_loss:.5g}"
    if snap.test_loss is not None:
        text += f"   Test loss {snap.test_loss:.5g}"
    if classification and snap.train_accuracy is not None:
        text += f"   Accuracy {100 * snap.train_accuracy:.0f}%"
    return epoch, text


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
        session.data_changed.connect(self._update_input_labels)
        session.running_changed.connect(self.update_labels)
        session.past_changed.connect(self.update_labels)
        stepper.changed.connect(self.render)
        self._update_tooltips()
        self._update_input_labels()

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
            return reveal_canvas_data(self.stepper.reveal(), self.stepper.samples)
        s = self.session
        return canvas_data(s.trace(), number=s.selected_sample + 1)

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
        epoch, loss = header_texts(snap, self.session.dataset.task == "classification")
        if self.session.past_epoch is not None:  # scrubbed back: say so where one looks
            epoch += " \u00b7 the past (End: now)"
        self.epoch_label.setText(epoch)
        self.loss_label.setText(loss)

    def _update_tooltips(self) -> None:
        ds = self.session.dataset
        n = len(ds.x_train)
        self.epoch_label.setToolTip(
            "Epochs trained since the start or the last reset, and updates: every change "
            "of the weights by training, including updates taken by hand (marked on the "
            "loss curve)")
        tip = (f"Train loss: the mean loss over the {n:,} training sample"
               f"{'' if n == 1 else 's'} with the current weights, the curve in the loss "
               "plot")
        if ds.has_test:
            tip += "; Test loss: the same over the test samples"
        if ds.task == "classification":
            tip += "; Accuracy: the share of training samples classified right"
        self.loss_label.setToolTip(tip)

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

    def _update_input_labels(self) -> None:
        """Input features on the canvas: which feature each input unit carries."""
        spec = self.session.data_spec
        if features_mod.is_raw(spec.features):
            self.canvas.set_input_labels(())
        else:
            self.canvas.set_input_labels(features_mod.labels(spec.features, ("x1", "x2")))

    def _on_structure_changed(self) -> None:
        self._update_input_labels()
        self._update_tooltips()
        self.render()
        QtCore.QTimer.singleShot(0, self.canvas.fit)


class WeightEditLink(QtCore.QObject):
    """Weight edits made in place on the canvas, applied to the session as the value
    changes and recorded in the undo history as one edit per open-edit-close.

    The canvas says what the user does (``NetworkCanvas.weight_edit_*``). Every change
    goes to ``Session.set_weight`` at once, so the loss and the canvas follow the value;
    the weights before the edit began and after it ended become one ``Edit`` (recorded
    when the edit is kept, as ``UndoHistory.set_weight`` records a typed value). Escape
    has the canvas put the old value back, and nothing is recorded. A stepped update on
    screen ends at the first change: it showed the weights before the edit.
    """

    def __init__(self, session: Session, undo: UndoHistory, canvas: NetworkCanvas,
                 stepper: PhaseStepper | None = None, parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self.session = session
        self.undo = undo
        self.canvas = canvas
        self.stepper = stepper
        self._before: RunPoint | None = None
        canvas.weight_edit_started.connect(self._on_started)
        canvas.weight_edit_changed.connect(self._on_changed)
        canvas.weight_edit_committed.connect(self._on_committed)
        canvas.weight_edit_cancelled.connect(self._on_cancelled)
        # another network (or other activations): the edit has nothing to go back to
        session.structure_changed.connect(self._on_structure_changed)

    @property
    def editing(self) -> bool:
        return self._before is not None

    def _on_started(self, _ref: WeightRef, _value: float) -> None:
        self._before = RunPoint.of(self.session)

    def _on_changed(self, ref: WeightRef, value: float) -> None:
        if self._before is not None:
            self._apply(ref, value)

    def _on_committed(self, ref: WeightRef, before: float, after: float) -> None:
        point, self._before = self._before, None
        if point is None or after == before:
            return
        s = self.session
        if s.weight_value(ref) != after:  # a value typed and kept in one go
            self._apply(ref, after)
        # as UndoHistory.set_weight: the weights change, the run's counters do not
        self.undo.record(Edit(f"Edit {s.weight_name(ref)}", point,
                              point.with_params(s.params)))

    def _apply(self, ref: WeightRef, value: float) -> None:
        if self.stepper is not None and self.stepper.active:
            self.stepper.stop()  # its phases were computed with the old weight
        try:
            self.session.set_weight(ref, value)
        except ValueError as e:  # the canvas limits values; say so should one slip by
            self.session.notice.emit(str(e))

    def _on_cancelled(self, _ref: WeightRef, _before: float) -> None:
        self._before = None

    def _on_structure_changed(self) -> None:
        if self._before is not None:
            self._before = None
            self.canvas.close_weight_editor(commit=False, restore=False)
