"""The phase stepper's logic without Qt: one training step taken apart, phase by phase.

Start -> forward, layer by layer -> loss -> backward, layer by layer (deltas) -> update.
Every phase reveals the numbers it computes (``make_reveal``); the numbers all come from
one ``Trace`` made by the engine's own update, so what is shown is what training does.
The Qt side (``controller.teaching``) and the lesson replay share these functions.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..engine import explain
from ..engine.names import layer_prefix, unit_name
from ..engine.trace import Trace

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


def batch_samples(scope: str, selected: int, n: int, batches: list) -> list[int]:
    """The training samples a stepped update uses: the selected one, the mini-batch it is
    in (``batches``: the next epoch's batches, in training's order, shuffle included), or
    all of them."""
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}")
    if scope == "sample":
        return [selected]
    if scope == "batch":
        return list(range(n))
    for b in batches:
        b = [int(i) for i in b]
        if selected in b:
            return b
    return [selected]


def next_selection(scope: str, samples: list[int], selected: int, n: int,
                   batches: list) -> int:
    """The sample to select for the step after one on ``samples``: the next sample, the
    first of the next mini-batch, or the same (whole batch)."""
    if scope == "batch":
        return selected
    if scope == "sample":
        return (selected + 1) % n
    lists = [[int(i) for i in b] for b in batches]
    for k, b in enumerate(lists):
        if b == samples:
            return lists[(k + 1) % len(lists)][0]
    return (samples[-1] + 1) % n


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


def make_reveal(t: Trace, phases: list[Phase], index: int, samples: list[int],
                selected: int) -> Reveal:
    """What phase ``index`` of the step traced in ``t`` (on training samples ``samples``)
    shows, for the ``selected`` training sample."""
    p = phases[index]
    L = len(t.layers) - 1
    row = samples.index(selected) if selected in samples else 0
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
    caption = f"{p.title(t.layers)}   ({index + 1}/{len(phases)})"
    return Reveal(p, index, len(phases), t, row, fwd, loss, back, upd,
                  frozenset(units), frozenset(weights), caption, tuple(lines))
