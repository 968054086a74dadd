"""The lecture stage: how the window shares the screen out during a lesson.

A lesson step names the views it needs (``Step.needed_views``: canvas, caption, table,
formulas, loss_plot, gradient_plot, data_view). ``StageLayout.apply`` gives them the room and hides
the rest, so an empty plot never takes room from the caption:

* the lesson column on the right, full height (the window's right corners belong to the
  right dock area), about a third of the width, more when the step has no canvas, and
  wider (up to half the window) while the caption and its whole table would have to
  be smaller than the dock's normal size to fit; the lesson dock then fits its text to
  the column (``LessonDock.fit``);
* the formulas and the plots the step needs in a row under the canvas, formulas first,
  as high as the formulas' compact text needs (the plots at least PLOT_MIN): equations
  are long lines and plots are wide, the canvas is wider than tall;
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
from .plot_style import scaled_font

#: the lesson column's share of the window's width (a step with a canvas) ...
COLUMN_SHARE = 0.37
#: ... at least this wide (px), and at most this share when the text needs widening
COLUMN_MIN = 340
COLUMN_MAX_SHARE = 0.5
#: the column gives width to a canvas that cannot write all its numbers, down to this
#: share of the window, while the caption still fits at NARROW_KEEPS of its full size
COLUMN_MIN_SHARE = 0.27
NARROW_KEEPS = 0.75
#: a step without a canvas: the lesson takes this share
COLUMN_ALONE_SHARE = 0.62
#: the caption's text size the column widens for (1: the dock's normal size)
READABLE = 1.0
#: the plots' share of the height below the canvas, and their least height (px)
PLOT_SHARE = 0.34
PLOT_MIN = 170
#: two plots side by side are narrow: their readouts wrap, so they get more height
TWO_PLOTS_SHARE = 0.45
#: the data view is a square picture: with it the row under the canvas takes this share
DATA_SHARE = PLOT_SHARE
#: a network too big for numbers on its canvas gives the plots this much more height
BIG_NET_EXTRA = 0.1
#: what the row under the canvas may take of the height at most (formulas alone)
BOTTOM_MAX_SHARE = 0.38
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
                "formulas", "loss_plot", "gradient_plot", "data_view") \
                and a["value"] not in out:
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
        hide_stale_tab_bars(w)
        scale_tab_bars(w, w.present_factor())
        w.fit_readout()
        w.data_dock.set_compact(player is not None and player.active)
        if player is None or not player.active or w.lesson_dock.isFloating():
            self.last = {"lesson": False}
            self._key = None
            self._fit_docks()
            self.fit_canvas_scale()
            return
        needed = stage_views(player)
        lesson, formula = w.lesson_dock, w.formula_dock
        loss, grad, data = w.loss_dock, w.gradient_dock, w.data_dock
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
        views = ((formula, "formulas"), (loss, "loss_plot"), (grad, "gradient_plot"),
                 (data, "data_view"))
        want = {name: name in needed for _d, name in views}
        lesson.show()
        for dock, name in views:
            if dock.isVisible() != want[name]:
                dock.setVisible(want[name])
        bottom = [d for d, name in views if want[name] and not d.isFloating()]
        self._arrange_bottom(bottom)
        self._settle()

        area = self.area()
        W, H = area.width(), area.height()
        sep = w.style().pixelMetric(QtWidgets.QStyle.PM_DockWidgetSeparatorExtent, None, w)
        share = COLUMN_SHARE if "canvas" in needed else COLUMN_ALONE_SHARE
        widest = int(W * max(share, COLUMN_MAX_SHARE))
        col = min(max(COLUMN_MIN, int(W * share)), widest)
        # wider while the caption and the table would be smaller than READABLE
        readable = min(READABLE, lesson.scale())
        while col < widest and lesson.needed_height(col, readable) > H:
            col = min(widest, col + max(16, W // 50))
        hb = self._place(col, bottom, W, H, sep)
        # a canvas that cannot write every number at the scale asked for gets width
        # from the column, as long as the caption stays large there
        if "canvas" in needed:
            keep = max(READABLE, NARROW_KEEPS * lesson.scale())
            narrowest = max(COLUMN_MIN, int(W * COLUMN_MIN_SHARE))
            w.canvas.set_scale(w.canvas_scale_wanted())
            self.canvas_scale = w.canvas_scale_wanted()
            first = col
            while not self.canvas_complete(*self._canvas_wants()) and col > narrowest:
                new = max(narrowest, col - max(16, W // 60))
                if lesson.needed_height(new, keep) > H:
                    break
                col = new
                hb = self._place(col, bottom, W, H, sep)
            if col != first and not self.canvas_complete(*self._canvas_wants()):
                # no column the caption allows is narrow enough: the canvas comes down
                # in scale instead (fit_canvas_scale) and the caption keeps its room
                col = first
                hb = self._place(col, bottom, W, H, sep)
        self._fit_docks()
        self.fit_canvas_scale()
        self.last = {"lesson": True, "needed": needed, "column": col, "area": (W, H),
                     "bottom": [d.objectName() for d in bottom], "bottom_height": hb,
                     "lesson_scale": lesson.fitted_scale()}

    def _place(self, col: int, bottom: list, W: int, H: int, sep: int) -> int:
        """The lesson column ``col`` wide, the docks under the canvas as high as they
        need; returns that height."""
        w = self.window
        formula = w.formula_dock
        w.resizeDocks([w.lesson_dock], [col], QtCore.Qt.Horizontal)
        hb = 0
        if bottom:
            rest = W - col - sep
            widths = self._bottom_widths(bottom, rest, sep)
            if formula in bottom:
                fw = widths[bottom.index(formula)]
                hb = formula.needed_height(fw, formula.scale(), True)
            plots = len([d for d in bottom if d is not formula])
            share = PLOT_SHARE if plots < 2 else TWO_PLOTS_SHARE
            if w.data_dock in bottom:
                share = DATA_SHARE  # beside a plot too: the plot takes the width left
            data = w.canvas.data()
            if data is not None and data.n_weights > MAX_EDGE_LABELS:
                share += BIG_NET_EXTRA  # no numbers on the canvas: it needs less height
            if plots:
                hb = max(hb, PLOT_MIN, int(H * share))
            cap = BOTTOM_MAX_SHARE if not plots else max(BOTTOM_MAX_SHARE, share)
            hb = int(min(max(hb, PLOT_MIN * 0.7), H * cap))
            w.resizeDocks(bottom, [hb] * len(bottom), QtCore.Qt.Vertical)
            if len(bottom) > 1 and w.data_dock in bottom:
                # the plane about square (its colour bar beside it), the rest to the others
                i = bottom.index(w.data_dock)
                want = min(rest // 2, int(hb * 1.15))
                others = self._bottom_widths([d for d in bottom if d is not w.data_dock],
                                             rest - want - sep, sep)
                widths = others[:i] + [want] + others[i:]
            if len(bottom) > 1:
                w.resizeDocks(bottom, widths, QtCore.Qt.Horizontal)
        self._settle()
        return hb

    def _canvas_wants(self) -> tuple[bool, bool]:
        """(every unit's values, every weight's label) should be on the canvas."""
        w = self.window
        data = w.canvas.data()
        small = data is not None and data.n_weights <= MAX_EDGE_LABELS
        return (small and data.z is not None and w.act_values.isChecked(),
                small and w.act_weights.isChecked())

    def _arrange_bottom(self, bottom: list) -> None:
        """The docks a step needs under the canvas, side by side, formulas first."""
        w = self.window
        if not bottom:
            return
        for d in bottom:
            if w.dockWidgetArea(d) != QtCore.Qt.BottomDockWidgetArea:
                w.addDockWidget(QtCore.Qt.BottomDockWidgetArea, d)
        if len(bottom) > 1:
            # out of any tab group (a dock shown again returns to its old group, and
            # splitting a tabbed dock only adds a tab), then side by side
            for _attempt in range(3):
                self._settle()  # a dock shown again is placed when the events run
                if _attempt and not any(w.tabifiedDockWidgets(d) for d in bottom):
                    break
                for d in bottom:
                    w.removeDockWidget(d)
                w.addDockWidget(QtCore.Qt.BottomDockWidgetArea, bottom[0])
                bottom[0].show()
                for left, right in zip(bottom, bottom[1:]):
                    w.splitDockWidget(left, right, QtCore.Qt.Horizontal)
                    right.show()
        else:
            bottom[0].raise_()

    @staticmethod
    def _bottom_widths(bottom: list, rest: int, sep: int) -> list[int]:
        n = len(bottom)
        if n == 1:
            return [rest]
        usable = rest - (n - 1) * sep
        return [usable // n] * (n - 1) + [usable - (n - 1) * (usable // n)]

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
        player = w.lesson_player
        if player is not None and player.active and "canvas" not in stage_views(player):
            data = None  # a step without the canvas: nothing on it needs to be complete
        values, labels = self._canvas_wants() if data is not None else (False, False)
        scale = wanted
        if abs(self.canvas_scale - wanted) > 1e-9:
            canvas.set_scale(wanted)
        if values or labels:
            low = wanted * MIN_CANVAS_SHARE
            while not self.canvas_complete(values, labels) and \
                    scale * CANVAS_STEP >= low - 1e-9:
                scale *= CANVAS_STEP
                canvas.set_scale(scale)
        self.canvas_scale = scale
        return scale

    def canvas_complete(self, values: bool = True, labels: bool = True) -> bool:
        """Every unit's value box (all or none are drawn) and every weight's label are
        on the canvas."""
        canvas = self.window.canvas
        data = canvas.data()
        if data is None:
            return True
        if values and not canvas.value_box_rects():
            return False
        return not labels or len(canvas.label_rects()) >= data.n_weights



def hide_stale_tab_bars(window: QtWidgets.QMainWindow) -> list[QtWidgets.QTabBar]:
    """Hide the dock tab bars Qt (6.11) leaves behind; returns the ones hidden.

    With two groups of tabbed docks made before the window is shown (and after every
    ``restoreState``), QMainWindow leaves a tab bar of the old layout visible at its old
    place, over the canvas or a plot, beside the one it uses (a plain QMainWindow with
    two tabified pairs shows it). Of the visible tab bars naming the same docks, the one
    in use sits against the current dock (its tabs below it); when several do (a restore
    to the same layout), Qt's newest is the one in use.
    """
    docks = {d.windowTitle(): d for d in window.findChildren(QtWidgets.QDockWidget)}
    groups: dict[tuple, list] = {}
    for tb in window.findChildren(QtWidgets.QTabBar):
        if tb.parentWidget() is window and tb.isVisible() and tb.count():
            groups.setdefault(tuple(sorted(tb.tabText(i) for i in range(tb.count()))),
                              []).append(tb)
    hidden = []
    for bars in groups.values():
        if len(bars) < 2:
            continue

        def against(tb: QtWidgets.QTabBar) -> bool:
            dock = docks.get(tb.tabText(tb.currentIndex()))
            if dock is None or not dock.isVisible():
                return False
            g, t = dock.geometry(), tb.geometry()
            return abs(t.left() - g.left()) <= 2 and abs(t.top() - g.bottom() - 1) <= 2

        keep = [tb for tb in bars if against(tb)] or bars
        for tb in bars:
            if tb is not keep[-1]:
                tb.hide()
                hidden.append(tb)
    return hidden


def scale_tab_bars(window: QtWidgets.QMainWindow, factor: float) -> None:
    """The docks' tab titles ("Loss", "Data") grow with the docks' text when presenting
    (Qt makes new tab bars on a restoreState: they get the size at the next layout)."""
    font = scaled_font(max(1.0, factor))
    for tb in window.findChildren(QtWidgets.QTabBar):
        if tb.parentWidget() is window and abs(tb.font().pointSizeF() - font.pointSizeF()) > 0.01:
            tb.setFont(font)
