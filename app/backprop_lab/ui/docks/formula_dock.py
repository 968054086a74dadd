"""The formula dock: how one unit or one weight is computed, first in general, then with
the numbers of the current step.

Click a unit or a weight on the canvas to pin it; pointing at another shows that one for
as long as the pointer stays there. The numbers come from the engine's own trace (the
phase stepper's when a step is being taken apart, else ``Session.trace()`` on the newest
weights) and are written out by ``engine.explain``: this dock only chooses the lines
and lays them out. While the stepper is active it shows only what the step has revealed
so far; while training runs it refreshes at most ``LIVE_MS`` apart so it can be read, and
not at all while the user has text selected.

The text fits the panel rather than scrolling: ``fit`` picks the largest font, up to the
panel's scale, at which the whole text fits; when even the smallest readable font is
too large, the panel shows the compact text (the title, the sample and the numbers,
without the general equations, which the caption of a lesson states in words) and
fits that. The window asks ``needed_height`` how much room a size takes.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6 import QtCore, QtGui, QtWidgets
from superqt.utils import QSignalThrottler

from ...engine import activations as act
from ...engine import explain, losses
from ...engine.names import WeightRef, layer_prefix, matrix_name, unit_name, weight_name
from ...engine.trace import Trace
from ..plot_style import dock_body
from ..theme import LIGHT, Look, look
from ..typeset import typeset

BASE_FONT_FACTOR = 1.25  # the text is this much larger than the app font at scale 1
#: the smallest font ``fit`` goes down to, relative to the largest (its scale's) ...
MIN_FIT = 0.55
#: ... but never below this times the application font
MIN_FIT_APP = 0.85
#: the full text (with the general equations) is kept when it fits at this share of the
#: largest font at least; else the compact text, larger
FULL_AT_LEAST = 0.8
FIT_STEP = 0.04
LIVE_MS = 200  # while training runs: at most 5 refreshes a second
HOVER_MS = 120  # pointing must rest this long before the dock follows it (no flicker)
LEAVE_MS = 300  # after the pointer leaves, go back to the pinned item after this long
MAX_SAMPLE_LINES = 8  # per-sample gradients listed in a mini-batch; the rest as "..."
PENDING_COLOR = LIGHT.pending
NOTE_COLOR = LIGHT.note
TITLE_COLOR = LIGHT.title

HINT = ("Click a unit or a weight in the network to see how it is computed, "
        "first in general, then with the numbers. Point at one to preview it.")


@dataclass(frozen=True)
class _Item:
    """What the dock shows: a unit (layer, unit; -1 = bias), a weight, or the loss."""

    layer: int
    unit: int = 0
    ref: WeightRef | None = None
    loss: bool = False

    @property
    def is_weight(self) -> bool:
        return self.ref is not None


LOSS = _Item(-1, loss=True)


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
    """Lines with a style each, written as plain text and as HTML.

    Lines belong to a section: "top" (the title and the sample), "general" (from the
    "In general" heading on) and "numbers" (from "With the numbers" on). The compact
    HTML leaves out the general section and the minor notes of the top."""

    def __init__(self):
        self.lines: list[tuple[str, int, str]] = []  # (style, indent, text)
        self.sections: list[str] = []
        self._section = "top"

    def add(self, text: str, style: str = "eq", indent: int = 1) -> None:
        if style == "head":
            self._section = "general" if text == "In general" else "numbers"
        self.lines.append((style, indent, text))
        self.sections.append(self._section)

    def gap(self) -> None:
        if self.lines and self.lines[-1][0] != "gap":
            self.lines.append(("gap", 0, ""))
            self.sections.append(self._section)

    def plain(self) -> str:
        return "\n".join(" " * (2 * ind) + t for _s, ind, t in self.lines).rstrip() + "\n"

    def has_general(self) -> bool:
        return "general" in self.sections

    def html(self, columns: int = 0, char_px: float = 8.0, compact: bool = False,
             look: Look = LIGHT) -> str:
        """The lines as HTML. Equations longer than ``columns`` characters are broken at
        their top-level `` = `` signs, the later parts lined up under the first ``=``.
        ``compact``: without the general section, the heads and the minor notes."""
        out = []
        lines = self.lines
        if compact:
            keep = []
            for (style, ind, text), sec in zip(self.lines, self.sections):
                if sec == "general" or style in ("head", "minor"):
                    continue
                if style == "gap" and (not keep or keep[-1][0] == "gap"):
                    continue
                keep.append((style, ind, text))
            lines = keep
        for style, ind, text in lines:
            text = text.replace("^-", "^\u2011")  # no line break inside e^-a
            left = 2 * ind * char_px
            margin = f"margin-left:{left:.0f}px;"
            if style == "gap":
                out.append("<div style='font-size:50%'>&nbsp;</div>")
            elif style == "title":
                out.append(f"<div style='{margin} font-weight:bold; color:{look.title}'>"
                           f"{typeset(text)}</div>")
            elif style == "head":
                out.append(f"<div style='{margin} font-weight:bold'>{typeset(text)}</div>")
            elif style in ("note", "minor"):
                out.append(f"<div style='{margin} color:{look.note}'>{typeset(text)}</div>")
            elif style == "pending":
                out.append(f"<div style='{margin} color:{look.pending}; font-style:italic'>"
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
        self._look: Look = LIGHT
        self._factor = 1.0  # the font fit() chose, relative to scale 1 (<= _scale)
        self._compact = False  # the compact text is shown (the full one did not fit)
        self._fit_key = None  # what the last fit was for (text, room)

        body, layout, bar = dock_body(self)
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
        self.browser.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarAlwaysOff)
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

    @QtCore.Slot()
    def show_loss(self) -> bool:
        """Pin the loss: how L is computed from the output and the target."""
        return self._pin(LOSS)

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

    def pinned(self) -> WeightRef | tuple[int, int] | str | None:
        """The pinned weight, (layer, unit), ``"loss"``, or None."""
        return self._public(self._pinned)

    def shown(self) -> WeightRef | tuple[int, int] | str | None:
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
        """The largest text (presentation mode: 1.4; the window's text size is in the
        application font already); 1 is 1.25 times the app font. ``fit`` goes below it
        when the panel is too small for the text."""
        self._scale = max(0.5, float(factor))
        app_font = QtWidgets.QApplication.font()
        ui_font = QtGui.QFont(app_font)
        ui_font.setPointSizeF(app_font.pointSizeF() * self._scale)
        self.widget().setFont(ui_font)
        self._set_text_font(self._scale)
        self._fit_key = None
        self._render(force=True)

    def scale(self) -> float:
        return self._scale

    def fitted_scale(self) -> float:
        """The text size shown now (``fit``), relative to scale 1."""
        return self._factor

    def compact(self) -> bool:
        """The compact text is shown (the full one did not fit at a readable size)."""
        return self._compact

    def set_theme(self, theme: str) -> None:
        """Colours for the light theme or the dark projector theme (``ui.theme``)."""
        self._look = look(theme)
        self._render(force=True)

    # -- fitting the text to the room -------------------------------------------------------
    @staticmethod
    def _mono(factor: float) -> QtGui.QFont:
        mono = QtGui.QFontDatabase.systemFont(QtGui.QFontDatabase.FixedFont)
        mono.setStyleHint(QtGui.QFont.TypeWriter)
        mono.setFixedPitch(True)
        mono.setPointSizeF(QtWidgets.QApplication.font().pointSizeF() * BASE_FONT_FACTOR
                           * factor)
        return mono

    def _set_text_font(self, factor: float) -> None:
        self._factor = factor
        mono = self._mono(factor)
        self.browser.setFont(mono)
        self.browser.document().setDefaultFont(mono)

    def min_factor(self) -> float:
        """The smallest text size ``fit`` uses."""
        return min(self._scale, max(MIN_FIT * self._scale, MIN_FIT_APP / BASE_FONT_FACTOR))

    def _sizes(self) -> list[float]:
        out, k, low = [], self._scale, self.min_factor()
        while k > low + 1e-9:
            out.append(round(k, 4))
            k -= FIT_STEP
        out.append(low)
        return out

    def text_height(self, width: float, factor: float, compact: bool) -> float:
        """How tall the current text is at ``factor`` in a text box ``width`` wide."""
        out = self._out
        if out is None:
            return 0.0
        doc = QtGui.QTextDocument()
        font = self._mono(factor)
        doc.setDefaultFont(font)
        doc.setDocumentMargin(self.browser.document().documentMargin())
        char_px = QtGui.QFontMetricsF(font).horizontalAdvance("0")
        columns = max(20, int((width - 2 * doc.documentMargin()) / max(char_px, 1.0)) - 1)
        doc.setHtml(out.html(columns, char_px, compact, self._look))
        doc.setTextWidth(width)
        return doc.size().height()

    def _best(self, width: float, room: float, compact: bool) -> float | None:
        """The largest size (of ``_sizes``) at which the text fits; None if none."""
        sizes = self._sizes()

        def fits(k: float) -> bool:
            return self.text_height(width, k, compact) <= room

        if fits(sizes[0]):
            return sizes[0]
        if not fits(sizes[-1]):
            return None
        lo, hi = 0, len(sizes) - 1
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if fits(sizes[mid]):
                hi = mid
            else:
                lo = mid
        return sizes[hi]

    def choose(self, width: float, room: float) -> tuple[float, bool]:
        """The text size and form (compact or not) for a text box of this size."""
        out = self._out
        full = self._best(width, room, False)
        if out is None or not out.has_general():
            return (full if full is not None else self.min_factor()), False
        if full is not None and full >= FULL_AT_LEAST * self._scale - 1e-9:
            return full, False
        comp = self._best(width, room, True)
        if comp is not None and (full is None or comp > full):
            return comp, True
        if full is not None:
            return full, False
        return self.min_factor(), True

    def chrome_size(self) -> tuple[int, int]:
        """The dock's width and height that are not the text box's viewport."""
        vp = self.browser.viewport()
        return max(0, self.width() - vp.width()), max(0, self.height() - vp.height())

    def needed_height(self, dock_width: int, factor: float, compact: bool = True) -> int:
        """The dock's height that shows the current text whole at ``factor``."""
        cw, ch = self.chrome_size()
        return int(ch + self.text_height(dock_width - cw, factor, compact) + 1)

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
        elif obj == "loss":
            item = LOSS
        else:
            layer, unit = obj
            item = _Item(int(layer), int(unit))
        return item if self._valid(item) else None

    @staticmethod
    def _public(item: _Item | None):
        if item is None:
            return None
        if item.loss:
            return "loss"
        return item.ref if item.is_weight else (item.layer, item.unit)

    def _valid(self, item: _Item) -> bool:
        if item.loss:
            return True
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
                if item.loss:
                    self._loss_text(out, src)
                elif item.is_weight:
                    self._weight_text(out, item.ref, src)
                else:
                    self._unit_text(out, item.layer, item.unit, src)
            what = self._name(item)
            how = "pinned" if item == self._pinned and self._hover is None \
                else "under the pointer (click to pin)"
            self._set_header(f"{what} · {how}")
        self._out = out
        self._render(live=live)

    def _set_header(self, text: str) -> None:
        self.header_label.setText(text)

    def _render(self, force: bool = False, live: bool = False) -> None:
        out = self._out
        if out is None:
            return
        plain = out.plain()
        if plain == self._plain and not force:
            return
        self._plain = plain
        self._fit(live)
        self._columns = self._fit_columns()
        bar = self.browser.verticalScrollBar()
        keep = bar.value()
        # no scroll to the top and back in between: that would flicker and smear
        self.browser.setUpdatesEnabled(False)
        try:
            self.browser.setHtml(out.html(self._columns, self._char_px(), self._compact,
                                          self._look))
            bar.setValue(min(keep, bar.maximum()))
        finally:
            self.browser.setUpdatesEnabled(True)

    def _fit(self, live: bool = False) -> None:
        """Choose the text's size and form for the room the text box has. While
        training runs (``live``) it only shrinks, so the text does not jump about."""
        vp = self.browser.viewport()
        if not self.isVisible() or vp.width() < 40 or vp.height() < 20:
            self._fit_key = None
            return  # no room measured yet: fitted when shown
        width, room = vp.width(), vp.height()
        key = (width, room, self._shown(), self._scale, self._compact)
        if live and key == self._fit_key and \
                self.text_height(width, self._factor, self._compact) <= room:
            return
        factor, compact = self.choose(width, room)
        self._fit_key = (width, room, self._shown(), self._scale, compact)
        self._compact = compact
        if abs(factor - self._factor) > 1e-9:
            self._set_text_font(factor)

    def fit(self) -> None:
        """Fit the text to the panel now (the window calls this after sharing out the
        screen; a resize does it by itself)."""
        self._fit_key = None
        self._render(force=True)

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
        vp = self.browser.viewport()
        if self._fit_key is None or self._fit_key[:2] != (vp.width(), vp.height()) or \
                self._fit_columns() != self._columns:
            self._render(force=True)

    def _name(self, item: _Item) -> str:
        if item.loss:
            return "the loss L"
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
            out.add(f"step: {src.caption}", "minor", 0)
        else:
            out.add(f"weights of epoch {s.epoch}; the numbers are what the next update "
                    "would do", "minor", 0)

    # -- the loss --------------------------------------------------------------------------
    def _loss_text(self, out: _Text, src: _Source) -> None:
        t, row = src.trace, src.row
        layers = t.layers
        L = len(layers) - 1
        loss = t.config.loss
        out.add(f"L: the loss ({loss}) of the output against the target", "title", 0)
        self._context(out, src)
        out.gap()
        out.add("In general", "head", 0)
        out.add(losses.FORMULAS.get(loss, f"L = {loss}"))
        out.add("how far the output is from the target: the number training makes "
                "smaller", "note", 2)
        if t.n_samples > 1:
            out.add(f"over {t.n_samples} samples: the mean of the samples' L", "note", 2)
        outs = [unit_name(layers, L, k) for k in range(layers[L])]
        out.add(f"delta_{outs[0]} = dL/da_{outs[0]} starts the backward pass", "note", 2)
        out.gap()
        out.add("With the numbers", "head", 0)
        if src.forward_upto < L:
            out.add("L: not computed yet (the forward pass has not reached the output)",
                    "pending")
            return
        z, y = t.z[L][row], t.y[row]
        out.add(", ".join(f"{o} = {explain.fmt(z[k])}" for k, o in enumerate(outs))
                + "; target " + ", ".join(f"y{k} = {explain.fmt(y[k])}"
                                          for k in range(len(outs))))
        if not src.loss_known:
            out.add("L: not computed yet (the next phase computes it)", "pending")
            return
        for line in explain.loss_lines(t, row):
            out.add(line, "chain")
        if t.n_samples > 1:
            mean = float(t.sample_losses.mean())
            out.add(f"mean L over the {t.n_samples} samples = {explain.fmt(mean)}", "chain")

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
