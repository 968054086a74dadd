"""The lecture stage: how the window shares the screen out during a lesson.

A lesson step names the views it needs (``Step.needed_views``: canvas, caption, table,
formulas, loss_plot, gradient_plot). ``StageLayout.apply`` gives them the room and hides
the rest, so an empty plot never takes room from the caption:

* the lesson column on the right, full height (the window's right corners belong to the
  right dock area), about a third of the width, more when the step has no canvas;
* the caption, the table and the formulas share that column: the largest common text
  size (up to the dock's scale) at which the caption and its whole table and the
  formulas fit one above the other decides the split; the column grows wider (up to
  half the window) when even the smallest size does not fit;
* the plots the step needs below the canvas, side by side when it needs both;
* the canvas takes the rest; when it cannot write every unit's a, z and delta at the
  scale asked for (presentation mode, the text size), its scale comes down until it
  can (networks small enough to have their values written, up to 2-4-4-1).

Outside a lesson the docks stay where the user put them; the canvas scale and the text
of the docks still fit the room they have.
"""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from ..engine.names import unit_lookup, weight_lookup
from .canvas.style import MAX_EDGE_LABELS

#: the lesson column's share of the window's width (a step with a canvas) ...
COLUMN_SHARE = 0.37
#: ... at least this wide (px), and at most this share when the text needs widening
COLUMN_MIN = 340
COLUMN_MAX_SHARE = 0.5
#: a step without a canvas: the lesson takes this share
COLUMN_ALONE_SHARE = 0.62
#: the plots' share of the height below the canvas, and their least height (px)
PLOT_SHARE = 0.34
PLOT_MIN = 170
#: the canvas scale comes down in these steps (relative to what was asked) to keep
#: every unit's values on screen, to no less than MIN_CANVAS_SHARE of it
CANVAS_STEP = 0.9
MIN_CANVAS_SHARE = 0.55


def stage_views(player) -> tuple[str, ...]:
    """The views the lesson's current step needs: what the step says (or its default),
    and a view its own actions bring forward with ``show``."""
    step = player.step
    if step is None:
        return ()
    out = list(step.needed_views)
    for a in step.actions:
        if a.kind == "view" and a["option"] == "show" and a["value"] in (
                "formulas", "loss_plot", "gradient_plot") and a["value"] not in out:
            out.append(a["value"])
    return tuple(out)


def resolve_names(layers, names) -> tuple[set, set, list[str]]:
    """Unit and weight names (``Z1``, ``W10``) -> ((layer, unit) set, (layer, target,
    source) set, the names that are neither)."""
    units_by, weights_by = unit_lookup(layers), weight_lookup(layers)
    units, weights, unknown = set(), set(), []
    for n in names or ():
        if n in units_by:
            units.add(units_by[n])
        elif n in weights_by:
            r = weights_by[n]
            weights.add((r.layer, r.target, r.source))
        else:
            unknown.append(n)
    return units, weights, unknown


class StageLayout(QtCore.QObject):
    """Shares the window out among the views a lesson step needs (see the module)."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self._timer = QtCore.QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self.apply)
        self._applying = False
        self.canvas_scale = 1.0  # what fit_canvas_scale set
        self._key = None  # what the last sharing-out was for: the same again changes nothing
        self.last: dict = {}  # what the last apply decided (for tests and reports)

    def schedule(self) -> None:
        """Apply soon (after the events that led here are done)."""
        if not self._applying:
            self._timer.start()

    # -- the area the docks share --------------------------------------------------------
    def area(self) -> QtCore.QRect:
        """The part of the window between the toolbars (and menu bar) and the status
        bar: where the docks and the canvas are."""
        w = self.window
        top, bottom = 0, w.height()
        mb = w.menuBar()
        if mb is not None and mb.isVisible():
            top = max(top, mb.geometry().bottom() + 1)
        for tb in w.findChildren(QtWidgets.QToolBar):
            if tb.isVisible() and not tb.isFloating() and tb.parent() is w:
                area = w.toolBarArea(tb)
                if area == QtCore.Qt.TopToolBarArea:
                    top = max(top, tb.geometry().bottom() + 1)
        sb = w.statusBar() if w.findChild(QtWidgets.QStatusBar) is not None else None
        if sb is not None and sb.isVisible():
            bottom = min(bottom, sb.geometry().top())
        return QtCore.QRect(0, top, w.width(), max(0, bottom - top))

    # -- applying --------------------------------------------------------------------------
    def apply(self) -> None:
        """Lay the stage out now."""
        if self._applying:
            return
        self._applying = True
        try:
            self._apply()
        finally:
            self._applying = False

    def _apply(self) -> None:
        w = self.window
        player = w.lesson_player
        self._settle()
        if player is None or not player.active or w.lesson_dock.isFloating():
            self.last = {"lesson": False}
            self._key = None
            self._fit_docks()
            self.fit_canvas_scale()
            return
        needed = stage_views(player)
        lesson, formula = w.lesson_dock, w.formula_dock
        loss, grad = w.loss_dock, w.gradient_dock
        area = self.area()
        key = (id(player.lesson), player.index, needed, area.size().toTuple(),
               lesson.scale(), formula.scale(), w.presenting, lesson.caption_label.text())
        if key == self._key:
            # the same step in the same room (a separator dragged, a redraw): the
            # user's sizes stay; the text and the canvas still fit what they have
            self._fit_docks()
            self.fit_canvas_scale()
            return
        self._key = key
        want = {"formulas": "formulas" in needed, "loss_plot": "loss_plot" in needed,
                "gradient_plot": "gradient_plot" in needed}
        lesson.show()
        for dock, name in ((formula, "formulas"), (loss, "loss_plot"),
                           (grad, "gradient_plot")):
            if dock.isVisible() != want[name]:
                dock.setVisible(want[name])
        plots = [d for d, name in ((loss, "loss_plot"), (grad, "gradient_plot"))
                 if want[name] and not d.isFloating()]
        if len(plots) == 2 and w.tabifiedDockWidgets(loss):
            w.splitDockWidget(loss, grad, QtCore.Qt.Horizontal)
        elif len(plots) == 1:
            plots[0].raise_()
        self._settle()

        area = self.area()
        W, H = area.width(), area.height()
        sep = w.style().pixelMetric(QtWidgets.QStyle.PM_DockWidgetSeparatorExtent, None, w)
        share = COLUMN_SHARE if "canvas" in needed else COLUMN_ALONE_SHARE
        col = max(COLUMN_MIN, int(W * share))
        col = min(col, int(W * max(share, COLUMN_MAX_SHARE)))
        use_formulas = want["formulas"] and not formula.isFloating()
        split = None
        while True:
            split = self._split_column(col, H, use_formulas, sep)
            if split["fits"] or col >= int(W * max(share, COLUMN_MAX_SHARE)):
                break
            col = min(int(W * max(share, COLUMN_MAX_SHARE)), col + max(24, W // 40))
        w.resizeDocks([lesson], [col], QtCore.Qt.Horizontal)
        if use_formulas:
            w.resizeDocks([lesson, formula], [split["lesson"], split["formula"]],
                          QtCore.Qt.Vertical)
        if plots:
            hb = max(PLOT_MIN, int(H * PLOT_SHARE))
            w.resizeDocks(plots, [hb] * len(plots), QtCore.Qt.Vertical)
            if len(plots) == 2:
                rest = W - col - sep
                w.resizeDocks(plots, [rest // 2, rest - rest // 2], QtCore.Qt.Horizontal)
        self._settle()
        self._fit_docks()
        self.fit_canvas_scale()
        self.last = {"lesson": True, "needed": needed, "column": col, "area": (W, H),
                     "split": split, "plots": [d.objectName() for d in plots]}

    def _split_column(self, col: int, height: int, formulas: bool, sep: int) -> dict:
        """The lesson's and the formulas' heights in a column ``col`` wide and
        ``height`` high, at the largest common text size that fits both."""
        w = self.window
        lesson, formula = w.lesson_dock, w.formula_dock
        sizes = _sizes(lesson.scale())
        if not formulas:
            need = lesson.needed_height(col, sizes[-1])
            return {"fits": need <= height, "lesson": height, "formula": 0,
                    "k": None}
        fmin, fmax = formula.min_factor(), formula.scale()

        def heights(k: float) -> tuple[int, int]:
            fk = min(max(k, fmin), fmax)
            return lesson.needed_height(col, k), formula.needed_height(col, fk, True)

        room = height - sep
        # the largest size that fits (sizes[0] is the largest): a binary search, as
        # the heights only grow with the size
        if sum(heights(sizes[0])) <= room:
            best = sizes[0]
        elif sum(heights(sizes[-1])) > room:
            best = None
        else:
            lo, hi = 0, len(sizes) - 1  # sizes[lo] does not fit, sizes[hi] does
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if sum(heights(sizes[mid])) <= room:
                    hi = mid
                else:
                    lo = mid
            best = sizes[hi]
        if best is None:
            k = sizes[-1]
            hl, hf = heights(k)
            hl = min(hl, room - min(hf, room // 3))
            return {"fits": False, "lesson": hl, "formula": room - hl, "k": k}
        hl, _hf = heights(best)
        k = best
        # the lesson gets what it needs at k; the formulas the rest (the full text
        # with the general equations when it fits there)
        return {"fits": True, "lesson": hl, "formula": room - hl, "k": k}

    def _fit_docks(self) -> None:
        w = self.window
        if w.lesson_dock.isVisible():
            w.lesson_dock.fit()
        if w.formula_dock.isVisible():
            w.formula_dock.fit()

    def _settle(self) -> None:
        """Carry the layout out now, so that the next measurement sees it."""
        w = self.window
        for _ in range(3):
            QtCore.QCoreApplication.sendPostedEvents(None, QtCore.QEvent.LayoutRequest)
            if w.layout() is not None:
                w.layout().activate()

    # -- the canvas --------------------------------------------------------------------
    def fit_canvas_scale(self) -> float:
        """The canvas at the scale asked for, or lower until every unit's a, z and
        delta are written (for networks small enough to have them written); returns
        the scale set."""
        w = self.window
        canvas = w.canvas
        wanted = w.canvas_scale_wanted()
        data = canvas.data()
        small = data is not None and data.n_weights <= MAX_EDGE_LABELS
        values = small and data.z is not None and w.act_values.isChecked()
        scale = wanted
        if abs(self.canvas_scale - wanted) > 1e-9:
            canvas.set_scale(wanted)
        if values:
            low = wanted * MIN_CANVAS_SHARE
            while not self._values_shown(canvas) and scale * CANVAS_STEP >= low - 1e-9:
                scale *= CANVAS_STEP
                canvas.set_scale(scale)
        self.canvas_scale = scale
        return scale

    @staticmethod
    def _values_shown(canvas) -> bool:
        data = canvas.data()
        if data is None:
            return True
        return bool(canvas.value_box_rects())  # all units have boxes, or none has


def _sizes(largest: float, smallest: float = 0.55, step: float = 0.04) -> list[float]:
    out, k = [], largest
    while k > smallest + 1e-9:
        out.append(round(k, 4))
        k -= step
    out.append(min(smallest, largest))
    return out
