"""The formula dock: how one unit or one weight is computed, first in general, then with
the numbers of the current step.

Click a unit or a weight on the canvas to pin it; pointing at another shows that one for
as long as the pointer stays there. The numbers come from the engine's own trace (the
phase stepper's when a step is being taken apart, else ``Session.trace()`` on the newest
weights) and are written out by ``engine.explain``: this dock only chooses the lines
and lays them out. While the stepper is active it shows only what the step has revealed
so far; while training runs it refreshes at most ``LIVE_MS`` apart so it can be read, and
not at all while the user has text selected.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6 import QtCore, QtGui, QtWidgets
from superqt.utils import QSignalThrottler

from ...engine import activations as act
from ...engine import explain, losses
from ...engine.names import WeightRef, layer_prefix, matrix_name, unit_name, weight_name
from ...engine.trace import Trace
from ..typeset import typeset

BASE_FONT_FACTOR = 1.25  # the text is this much larger than the app font at scale 1
LIVE_MS = 200  # while training runs: at most 5 refreshes a second
HOVER_MS = 120  # pointing must rest this long before the dock follows it (no flicker)
LEAVE_MS = 300  # after the pointer leaves, go back to the pinned item after this long
MAX_SAMPLE_LINES = 8  # per-sample gradients listed in a mini-batch; the rest as "..."
PENDING_COLOR = "#8a5a00"
NOTE_COLOR = "#4a4a4a"
TITLE_COLOR = "#1a1a1a"

HINT = ("Click a unit or a weight in the network to see how it is computed, "
        "first in general, then with the numbers. Point at one to preview it.")


@dataclass(frozen=True)
class _Item:
    """What the dock shows: a unit (layer, unit; -1 = bias) or a weight."""

    layer: int
    unit: int = 0
    ref: WeightRef | None = None

    @property
    def is_weight(self) -> bool:
        return self.ref is not None


@dataclass(frozen=True)
class _Source:
    """The numbers to show and how much of them the stepper has revealed."""

    trace: Trace
    row: int  # the row of the trace that is the selected sample
    samples: tuple[int, ...]  # training-set index of every row
    forward_upto: int  # layers 0..forward_upto have a and z
    loss_known: bool
    backward_from: int | None  # layers backward_from..L have deltas
    updated: bool
    caption: str  # the stepper's phase, or ""


class _Text:
    """Lines with a style each, written as plain text and as HTML."""

    def __init__(self):
        self.lines: list[tuple[str, int, str]] = []  # (style, indent, text)

    def add(self, text: str, style: str = "eq", indent: int = 1) -> None:
        self.lines.append((style, indent, text))

    def gap(self) -> None:
        if self.lines and self.lines[-1][0] != "gap":
            self.lines.append(("gap", 0, ""))

    def plain(self) -> str:
        return "\n".join(" " * (2 * ind) + t for _s, ind, t in self.lines).rstrip() + "\n"

    def html(self, columns: int = 0, char_px: float = 8.0) -> str:
        """The lines as HTML. Equations longer than ``columns`` characters are broken at
        their top-level `` = `` signs, the later parts lined up under the first ``=``."""
        out = []
        for style, ind, text in self.lines:
            text = text.replace("^-", "^\u2011")  # no line break inside e^-a
            left = 2 * ind * char_px
            margin = f"margin-left:{left:.0f}px;"
            if style == "gap":
                out.append("<div style='font-size:50%'>&nbsp;</div>")
            elif style == "title":
                out.append(f"<div style='{margin} font-weight:bold; color:{TITLE_COLOR}'>"
                           f"{typeset(text)}</div>")
            elif style == "head":
                out.append(f"<div style='{margin} font-weight:bold'>{typeset(text)}</div>")
            elif style == "note":
                out.append(f"<div style='{margin} color:{NOTE_COLOR}'>{typeset(text)}</div>")
            elif style == "pending":
                out.append(f"<div style='{margin} color:{PENDING_COLOR}; font-style:italic'>"
                           f"{typeset(text)}</div>")
            elif style == "chain" and columns and 2 * ind + len(text) > columns and \
                    len(parts := _split_eq(text)) > 1:
                under = left + (len(parts[0]) + 1) * char_px
                # hanging indent: the first line starts at the margin, the wrapped rest
                # lines up under the "="
                out.append(f"<div style='margin-left:{under:.0f}px; text-indent:"
                           f"{left - under:.0f}px;'>{typeset(parts[0])} = "
                           f"{typeset(parts[1])}</div>")
                for part in parts[2:]:
                    out.append(f"<div style='margin-left:{under:.0f}px;'>= "
                               f"{typeset(part)}</div>")
            else:
                out.append(f"<div style='{margin}'>{typeset(text)}</div>")
        return ("<html><body style='white-space:pre-wrap'>" + "".join(out)
                + "</body></html>")


def _split_eq(text: str) -> list[str]:
    """``"a = b + (c = d) = e"`` -> ``["a", "b + (c = d)", "e"]``: split at the `` = ``
    signs outside brackets."""
    parts, depth, start, i = [], 0, 0, 0
    while i < len(text):
        ch = text[i]
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth = max(0, depth - 1)
        elif depth == 0 and text.startswith(" = ", i):
            parts.append(text[start:i])
            start = i + 3
            i += 3
            continue
        i += 1
    parts.append(text[start:])
    return parts


def _sym_weight(layers, layer: int, target: str, source: str) -> str:
    """A weight name with symbolic indices (``W1j``, ``W2_i_j``)."""
    m = matrix_name(layers, layer)
    return f"{m}{target}{source}" if len(m) == 1 else f"{m}_{target}_{source}"


def _sym_unit(layers, layer: int, index: str) -> str:
    p = layer_prefix(layers, layer)
    return f"{p}{index}" if len(p) == 1 else f"{p}_{index}"


def _index_text(name: str, prefix: str) -> str:
    """``Z1`` -> ``1``, ``Z2_3`` -> ``3``: the displayed index of a unit name."""
    return name[len(prefix):].lstrip("_")


class FormulaDock(QtWidgets.QDockWidget):
    """The equations of one unit or one weight, in general and with the numbers."""

    def __init__(self, session, stepper=None, parent: QtWidgets.QWidget | None = None):
        super().__init__("Formulas", parent)
        self.setObjectName("formula_dock")
        self._session = session
        self._stepper = stepper
        self._scale = 1.0
        self._pinned: _Item | None = None
        self._hover: _Item | None = None
        self._hover_target: _Item | None = None
        self._hover_burst = False
        self._plain = ""
        self._stale = True
        self._reveal_key = None
        self._reveal_cache: _Source | None = None
        self._out: _Text | None = None
        self._columns = 0
        self._relayout_queued = False

        body = QtWidgets.QWidget(self)
        layout = QtWidgets.QVBoxLayout(body)
        layout.setContentsMargins(4, 2, 4, 4)
        layout.setSpacing(2)
        bar = QtWidgets.QHBoxLayout()
        bar.setSpacing(8)
        self.header_label = QtWidgets.QLabel("")
        self.header_label.setObjectName("formula_header")
        self.header_label.setSizePolicy(QtWidgets.QSizePolicy.Ignored,
                                        QtWidgets.QSizePolicy.Preferred)
        self.header_label.setToolTip("Which unit or weight the formulas are about: click one "
                                     "on the canvas to pin it, point at one to preview it")
        bar.addWidget(self.header_label, 1)
        self.copy_button = QtWidgets.QToolButton()
        self.copy_button.setText("Copy")
        self.copy_button.setToolTip("Copy all the formulas as plain text")
        self.copy_button.clicked.connect(self.copy)
        bar.addWidget(self.copy_button)
        layout.addLayout(bar)

        self.browser = QtWidgets.QTextBrowser()
        self.browser.setObjectName("formula_text")
        self.browser.setOpenLinks(False)
        self.browser.setTextInteractionFlags(QtCore.Qt.TextSelectableByMouse
                                             | QtCore.Qt.TextSelectableByKeyboard)
        self.browser.setLineWrapMode(QtWidgets.QTextEdit.WidgetWidth)
        self.browser.document().setDocumentMargin(6)
        self.browser.selectionChanged.connect(self._on_selection_changed)
        self.browser.viewport().installEventFilter(self)
        layout.addWidget(self.browser, 1)
        self.setWidget(body)

        # live numbers: the first change at once, then at most one refresh every LIVE_MS
        self._live = QSignalThrottler(QSignalThrottler.EmissionPolicy.Leading, parent=self)
        self._live.setTimeout(LIVE_MS)
        self._live.triggered.connect(lambda: self.refresh(live=True))
        self._hover_timer = QtCore.QTimer(self)
        self._hover_timer.setSingleShot(True)
        self._hover_timer.setInterval(HOVER_MS)
        self._hover_timer.timeout.connect(self._on_hover_timer)
        self._leave_timer = QtCore.QTimer(self)
        self._leave_timer.setSingleShot(True)
        self._leave_timer.setInterval(LEAVE_MS)
        self._leave_timer.timeout.connect(self._on_leave_timer)

        session.snapshot_changed.connect(self._on_snapshot_changed)
        session.structure_changed.connect(self._on_structure_changed)
        session.selected_sample_changed.connect(self._on_now)
        session.config_changed.connect(self._on_snapshot_changed)
        if stepper is not None:
            stepper.changed.connect(self._on_now)
        self.set_scale(1.0)
        self.refresh()

    # -- what to show (slots for the canvas) ------------------------------------------------
    @QtCore.Slot(int, int)
    def show_unit(self, layer: int, unit: int) -> bool:
        """Pin unit ``unit`` of ``layer`` (-1: the bias unit). False (and nothing changes)
        if the network has no such unit."""
        return self._pin(_Item(int(layer), int(unit)))

    @QtCore.Slot(object)
    def show_weight(self, ref: WeightRef) -> bool:
        """Pin one weight. False (and nothing changes) if the network has no such weight."""
        return self._pin(_Item(ref.layer, ref=ref))

    def clear(self) -> None:
        """Pin nothing: show the hint."""
        self._pin(None)

    @QtCore.Slot(object)
    def follow_hover(self, obj) -> None:
        """Preview what the pointer is on: a ``WeightRef``, a ``(layer, unit)`` pair, or
        ``None`` when it left. Connect both ``weight_hovered`` and ``unit_hovered``: a
        ``None`` sent in the same breath as a new item (pointer moved from a unit straight
        onto an edge) is ignored."""
        item = self._as_item(obj)
        if item is None:
            if self._hover_burst:
                return
            self._hover_timer.stop()
            self._hover_target = None
            if self._hover is not None and not self._leave_timer.isActive():
                self._leave_timer.start()
            return
        self._hover_burst = True
        QtCore.QTimer.singleShot(0, self._end_burst)
        self._leave_timer.stop()
        self._hover_target = item
        if item == self._hover:
            self._hover_timer.stop()
            return
        self._hover_timer.start()

    def pinned(self) -> WeightRef | tuple[int, int] | None:
        return self._public(self._pinned)

    def shown(self) -> WeightRef | tuple[int, int] | None:
        """What the text is about now (the hovered item, else the pinned one)."""
        return self._public(self._shown())

    def text(self) -> str:
        """The current formulas as plain text."""
        if self._stale:
            self.refresh()
        return self._plain

    @QtCore.Slot()
    def copy(self) -> None:
        QtWidgets.QApplication.clipboard().setText(self.text())

    def set_scale(self, factor: float) -> None:
        """Scale the text (presentation mode: 1.5 or 2); 1 is 1.25 times the app font."""
        self._scale = max(0.5, float(factor))
        app_font = QtWidgets.QApplication.font()
        ui_font = QtGui.QFont(app_font)
        ui_font.setPointSizeF(app_font.pointSizeF() * self._scale)
        self.widget().setFont(ui_font)
        mono = QtGui.QFontDatabase.systemFont(QtGui.QFontDatabase.FixedFont)
        mono.setStyleHint(QtGui.QFont.TypeWriter)
        mono.setFixedPitch(True)
        mono.setPointSizeF(app_font.pointSizeF() * BASE_FONT_FACTOR * self._scale)
        self.browser.setFont(mono)
        self.browser.document().setDefaultFont(mono)
        self._render(force=True)

    def scale(self) -> float:
        return self._scale

    # -- following the session and the stepper ------------------------------------------
    def _on_now(self, *_args) -> None:
        self.refresh()

    def _on_snapshot_changed(self, *_args) -> None:
        self._live.throttle()

    def _on_structure_changed(self) -> None:
        self._hover = self._hover_target = None
        self._hover_timer.stop()
        self._leave_timer.stop()
        if self._pinned is not None and not self._valid(self._pinned):
            self._pinned = None
        self.refresh()

    def _on_selection_changed(self) -> None:
        if self._stale and not self.browser.textCursor().hasSelection():
            self.refresh()

    def _end_burst(self) -> None:
        self._hover_burst = False

    def _on_hover_timer(self) -> None:
        if self._hover_target is not None and self._hover_target != self._hover:
            self._hover = self._hover_target
            self.refresh()

    def _on_leave_timer(self) -> None:
        if self._hover is not None and self._hover_target is None:
            self._hover = None
            self.refresh()

    def showEvent(self, event: QtGui.QShowEvent) -> None:  # Qt override
        super().showEvent(event)
        if self._stale:
            QtCore.QTimer.singleShot(0, self.refresh)

    # -- items ----------------------------------------------------------------------------
    def _pin(self, item: _Item | None) -> bool:
        # a click can come from a canvas that has not caught up with a new structure yet
        if item is not None and not self._valid(item):
            return False
        self._pinned = item
        self._hover = self._hover_target = None
        self._hover_timer.stop()
        self._leave_timer.stop()
        self.refresh()
        return True

    def _shown(self) -> _Item | None:
        return self._hover if self._hover is not None else self._pinned

    def _as_item(self, obj) -> _Item | None:
        if obj is None:
            return None
        if isinstance(obj, WeightRef):
            item = _Item(obj.layer, ref=obj)
        else:
            layer, unit = obj
            item = _Item(int(layer), int(unit))
        return item if self._valid(item) else None

    @staticmethod
    def _public(item: _Item | None):
        if item is None:
            return None
        return item.ref if item.is_weight else (item.layer, item.unit)

    def _valid(self, item: _Item) -> bool:
        layers = self._session.layers
        L = len(layers) - 1
        if item.is_weight:
            r = item.ref
            return 0 <= r.layer < L and 0 <= r.target < layers[r.layer + 1] and \
                -1 <= r.source < layers[r.layer]
        if not 0 <= item.layer <= L:
            return False
        low = 0 if item.layer == L else -1
        return low <= item.unit < layers[item.layer]

    # -- the numbers -----------------------------------------------------------------------
    def _source(self) -> _Source:
        s = self._session
        st = self._stepper
        if st is not None and st.active:
            key = (id(st.trace), st.index, s.selected_sample)
            if key != self._reveal_key:
                r = st.reveal()
                self._reveal_key = key
                self._reveal_cache = _Source(
                    r.trace, r.sample, tuple(st.samples), r.forward_upto, r.loss_known,
                    r.backward_from, r.updated, r.caption)
            return self._reveal_cache
        self._reveal_key = None
        samples = st.batch_samples() if st is not None else [s.selected_sample]
        t = s.trace(samples)
        row = samples.index(s.selected_sample) if s.selected_sample in samples else 0
        L = len(t.layers) - 1
        return _Source(t, row, tuple(samples), L, True, 1, False, "")

    # -- rendering --------------------------------------------------------------------------
    def refresh(self, live: bool = False) -> None:
        """Rewrite the text now. ``live`` refreshes (training) wait while the user has
        text selected or the dock is hidden."""
        if not self.isVisible() and self.parent() is not None and live:
            self._stale = True
            return
        if live and self.browser.textCursor().hasSelection():
            self._stale = True
            return
        self._stale = False
        # the stepper may report a new structure before our structure_changed slot ran
        if self._hover is not None and not self._valid(self._hover):
            self._hover = None
        if self._pinned is not None and not self._valid(self._pinned):
            self._pinned = None
        item = self._shown()
        out = _Text()
        if item is None:
            out.add(HINT, "note", 0)
            self._set_header("nothing pinned")
        else:
            try:
                src = self._source()
            except (ValueError, IndexError) as e:
                out.add(f"Cannot compute the formulas: {e}", "pending", 0)
            else:
                if item.is_weight:
                    self._weight_text(out, item.ref, src)
                else:
                    self._unit_text(out, item.layer, item.unit, src)
            what = self._name(item)
            how = "pinned" if item == self._pinned and self._hover is None \
                else "under the pointer (click to pin)"
            self._set_header(f"{what} · {how}")
        self._out = out
        self._render()

    def _set_header(self, text: str) -> None:
        self.header_label.setText(text)

    def _render(self, force: bool = False) -> None:
        out = self._out
        if out is None:
            return
        plain = out.plain()
        if plain == self._plain and not force:
            return
        self._plain = plain
        self._columns = self._fit_columns()
        bar = self.browser.verticalScrollBar()
        keep = bar.value()
        # no scroll to the top and back in between: that would flicker and smear
        self.browser.setUpdatesEnabled(False)
        try:
            self.browser.setHtml(out.html(self._columns, self._char_px()))
            bar.setValue(min(keep, bar.maximum()))
        finally:
            self.browser.setUpdatesEnabled(True)

    def _char_px(self) -> float:
        return QtGui.QFontMetricsF(self.browser.document().defaultFont()).horizontalAdvance("0")

    def _fit_columns(self) -> int:
        """How many characters fit on a line of the text box now."""
        width = self.browser.viewport().width() - 2 * self.browser.document().documentMargin()
        return max(20, int(width / max(self._char_px(), 1.0)) - 1)

    def eventFilter(self, obj: QtCore.QObject, event: QtCore.QEvent) -> bool:  # Qt override
        if event.type() == QtCore.QEvent.Resize and obj is self.browser.viewport() and \
                self._out is not None and not self._relayout_queued:
            # never from inside setHtml (a scroll bar appearing resizes the viewport):
            # a nested setHtml makes the outer one append a second copy
            self._relayout_queued = True
            QtCore.QTimer.singleShot(0, self._relayout)
        return False

    def _relayout(self) -> None:
        self._relayout_queued = False
        if self._fit_columns() != self._columns:
            self._render(force=True)

    def _name(self, item: _Item) -> str:
        layers = self._session.layers
        if item.is_weight:
            return weight_name(layers, item.ref)
        return unit_name(layers, item.layer, item.unit)

    def _context(self, out: _Text, src: _Source) -> None:
        t, row = src.trace, src.row
        s = self._session
        k = src.samples[row] if row < len(src.samples) else s.selected_sample
        inputs = ", ".join(f"{unit_name(t.layers, 0, j)} = {explain.fmt(t.x[row, j])}"
                           for j in range(t.layers[0]))
        target = ", ".join(explain.fmt(v) for v in t.y[row])
        out.add(f"sample {k + 1}: {inputs}; target {target}", "note", 0)
        if t.n_samples > 1:
            whole = t.n_samples == len(s.dataset.x_train)
            out.add(f"one of the {t.n_samples} samples of this step "
                    f"({'the whole training set' if whole else 'a mini-batch'})", "note", 0)
        if src.caption:
            out.add(f"step: {src.caption}", "note", 0)
        else:
            out.add(f"weights of epoch {s.epoch}; the numbers are what the next update "
                    "would do", "note", 0)

    # -- a unit ------------------------------------------------------------------------
    def _unit_text(self, out: _Text, layer: int, unit: int, src: _Source) -> None:
        t = src.trace
        layers = t.layers
        L = len(layers) - 1
        name = unit_name(layers, layer, unit)
        row = src.row
        if unit < 0:
            self._bias_text(out, layer, name, src)
            return
        if layer == 0:
            out.add(f"{name}: input unit", "title", 0)
            self._context(out, src)
            out.gap()
            out.add("In general", "head", 0)
            out.add(f"{name} is an input value of the sample: nothing is computed for it.",
                    "note")
            out.add("It has no delta: backpropagation stops at the weights leaving it;",
                    "note")
            w_sym = _sym_weight(layers, 0, 'i', _index_text(name, 'X'))
            out.add(f"their gradients use its value: dL/d{w_sym} = {name} * "
                    f"delta_{_sym_unit(layers, 1, 'i')}", "note")
            out.gap()
            out.add("With the numbers", "head", 0)
            out.add(f"{name} = {explain.fmt(t.x[row, unit])}")
            return

        kind = "output unit" if layer == L else \
            f"hidden unit of layer {layer_prefix(layers, layer)}"
        out.add(f"{name}: {kind}", "title", 0)
        self._context(out, src)
        out.gap()
        fname = t.activations[layer - 1]
        f_text, fp_text = act.FORMULAS.get(fname, ("f(a) = ?", "f'(a) = ?"))
        prev = _sym_unit(layers, layer - 1, "j")
        w_sym = _sym_weight(layers, layer - 1, _index_text(name, layer_prefix(layers, layer)),
                            "j")
        bias = unit_name(layers, layer - 1, -1)
        out.add("In general", "head", 0)
        out.add(f"a_{name} = sum_j {w_sym} * {prev}")
        out.add(f"the weighted sum of the layer below ({bias} = 1 is the bias)", "note", 2)
        out.add(f"{name} = f(a_{name})")
        out.add(f"f = {fname}: {f_text}", "note", 2)
        if layer == L:
            loss = t.config.loss
            out.add(f"loss {loss}: {losses.FORMULAS.get(loss, loss)}")
            if loss in losses.REQUIRED_OUTPUT:
                out.add(f"delta_{name} = dL/da_{name} = {name} - y{unit}")
                out.add(f"with {loss} and a {fname} output, f'(a) cancels", "note", 2)
            elif fname == "softmax":
                out.add(f"delta_{name} = dL/da_{name} = sum_k (Dk - yk) * dDk/da_{name}")
                out.add(fp_text, "note", 2)
            else:
                out.add(f"delta_{name} = dL/da_{name} = ({name} - y{unit}) * f'(a_{name})")
                out.add(fp_text, "note", 2)
        else:
            nxt = _sym_unit(layers, layer + 1, "k")
            own = _index_text(name, layer_prefix(layers, layer))
            w_out = _sym_weight(layers, layer, "k", own)
            out.add(f"delta_{name} = f'(a_{name}) * sum_k {w_out} * delta_{nxt}")
            out.add(f"{fp_text}; the deltas of the layer above, passed back through "
                    f"the weights leaving {name}", "note", 2)
        out.gap()
        out.add("With the numbers", "head", 0)
        if src.forward_upto >= layer:
            for line in explain.unit_forward(t, layer, unit, row):
                out.add(line, "chain")
        else:
            out.add(f"a_{name} and {name}: not computed yet (the forward pass has not "
                    "reached this layer)", "pending")
        if layer == L and src.loss_known:
            for line in explain.loss_lines(t, row):
                out.add(line, "chain")
        if src.backward_from is not None and src.backward_from <= layer:
            for line in explain.unit_delta(t, layer, unit, row):
                out.add(line, "chain")
        elif src.backward_from is None:
            out.add(f"delta_{name}: not computed yet (the backward pass comes after the "
                    "loss)", "pending")
        else:
            out.add(f"delta_{name}: not computed yet (the backward pass has not reached "
                    "this layer)", "pending")

    def _bias_text(self, out: _Text, layer: int, name: str, src: _Source) -> None:
        layers = src.trace.layers
        nxt = layer_prefix(layers, layer + 1)
        out.add(f"{name}: bias unit of layer {layer_prefix(layers, layer)}", "title", 0)
        self._context(out, src)
        out.gap()
        out.add("In general", "head", 0)
        w_sym = _sym_weight(layers, layer, "i", "0")
        out.add(f"{name} = 1 always: the weights {w_sym} leaving it are the biases of the "
                f"units of {nxt}.", "note")
        out.add("It has no delta: nothing feeds it, so there is nothing to pass the error "
                "back to.", "note")
        out.add(f"dL/d{w_sym} = {name} * delta_{_sym_unit(layers, layer + 1, 'i')} = "
                f"delta_{_sym_unit(layers, layer + 1, 'i')}")
        out.gap()
        out.add("With the numbers", "head", 0)
        out.add(f"{name} = 1")

    # -- a weight -------------------------------------------------------------------------
    def _weight_text(self, out: _Text, ref: WeightRef, src: _Source) -> None:
        t = src.trace
        layers = t.layers
        cfg = t.config
        wn = weight_name(layers, ref)
        srcn = unit_name(layers, ref.layer, ref.source)
        dst = unit_name(layers, ref.layer + 1, ref.target)
        value = explain.weight_value(t, ref)
        what = "bias weight" if ref.is_bias else "weight"
        out.add(f"{wn}: {what} from {srcn} to {dst}", "title", 0)
        self._context(out, src)
        out.gap()
        out.add("In general", "head", 0)
        out.add(f"dL/d{wn} = {srcn} * delta_{dst}")
        out.add(f"what {wn} carries, times the delta of the unit it feeds", "note", 2)
        if t.n_samples > 1:
            out.add(f"over {t.n_samples} samples: the mean of the samples' dL/d{wn}", "note", 2)
        if cfg.optimizer == "sgd":
            out.add(f"{wn} := {wn} - alpha * dL/d{wn}")
        else:
            out.add(f"{wn} := {wn} - (a {cfg.optimizer} step built from dL/d{wn})")
        out.add(f"alpha = {explain.fmt(cfg.learning_rate)}: the learning rate", "note", 2)
        out.gap()
        out.add("With the numbers", "head", 0)
        before = "before this step" if src.caption else "now"
        out.add(f"{wn} = {explain.fmt(value)} ({before})")
        row = src.row
        if src.forward_upto >= ref.layer + 1:
            z = 1.0 if ref.is_bias else t.z[ref.layer][row, ref.source]
            out.add(f"forward: {wn} * {srcn} = {explain.fmt(value)} * {explain.fmt(z)} = "
                    f"{explain.fmt(value * z)}, one term of a_{dst}", "chain")
        delta_known = src.backward_from is not None and src.backward_from <= ref.layer + 1
        if not delta_known:
            out.add(f"dL/d{wn}: not computed yet (needs delta_{dst} from the backward pass)",
                    "pending")
            out.add(f"{wn} := ...: not updated yet (the update is the last phase)", "pending")
            return
        lines = explain.weight_update(t, ref)
        if t.n_samples > 1:
            out.add("per sample:", "note")
            self._per_sample(out, ref, src, srcn, dst)
        for line in lines[:-1]:
            out.add(line, "chain")
        if src.caption and not src.updated:
            out.add(f"{wn} := ...: not updated yet (the update is the last phase)", "pending")
        else:
            out.add(lines[-1], "chain")
            if src.caption:
                out.add(f"{wn} is now {explain.fmt(explain.weight_updated(t, ref))}", "note")

    def _per_sample(self, out: _Text, ref: WeightRef, src: _Source, srcn: str,
                    dst: str) -> None:
        t = src.trace
        n = t.n_samples
        shown = list(range(n)) if n <= MAX_SAMPLE_LINES else \
            list(range(MAX_SAMPLE_LINES - 1)) + [n - 1]
        if src.row not in shown and n > MAX_SAMPLE_LINES:
            shown = sorted(set(shown[:-2]) | {src.row, n - 1})
        for i, s in enumerate(shown):
            if i and s != shown[i - 1] + 1:
                out.add("...", "eq", 2)
            z = 1.0 if ref.is_bias else t.z[ref.layer][s, ref.source]
            d = t.deltas[ref.layer][s, ref.target]
            g = t.sample_grad_biases[ref.layer][s, ref.target] if ref.is_bias else \
                t.sample_grad_weights[ref.layer][s, ref.target, ref.source]
            k = src.samples[s] + 1 if s < len(src.samples) else s + 1
            mark = "  <- shown sample" if s == src.row else ""
            out.add(f"sample {k}: {srcn} * delta_{dst} = {explain.fmt(z)} * {explain.fmt(d)}"
                    f" = {explain.fmt(g)}{mark}", "chain", 2)
