"""The dock tab bars a user sees: one per group of tabbed docks, at its docks, and it
works. Qt 6.11 leaves an old tab bar of a tabified group visible over the canvas or a
plot (a "Formulas | Data" strip floated over the loss plot at 1280x720); the stage hides
it (``stage.hide_stale_tab_bars``)."""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets
from tests.helpers import settle, wait_lesson

from backprop_lab.ui.stage import hide_stale_tab_bars


def _bars(window):
    # (one Qt parks outside the window is not seen)
    return [tb for tb in window.findChildren(QtWidgets.QTabBar)
            if tb.parentWidget() is window and tb.isVisible() and tb.count()
            and tb.geometry().intersects(window.rect())]


def _texts(tb):
    return tuple(tb.tabText(i) for i in range(tb.count()))


def _check(window):
    window.stage.apply()
    QtCore.QCoreApplication.processEvents()
    bars = _bars(window)
    names = [tuple(sorted(_texts(tb))) for tb in bars]
    assert len(names) == len(set(names)), [(_texts(tb), tb.geometry()) for tb in bars]
    docks = {d.windowTitle(): d for d in window.findChildren(QtWidgets.QDockWidget)}
    for tb in bars:
        dock = docks[tb.tabText(tb.currentIndex())]
        assert dock.isVisible()
        g, t = dock.geometry(), tb.geometry()
        # right under the dock it raises, not over the canvas or another dock
        assert abs(t.top() - g.bottom() - 1) <= 2 and abs(t.left() - g.left()) <= 2, (
            _texts(tb), t, g)
    return bars


def test_one_tab_bar_per_group_at_its_docks(window, qtbot):
    window.resize(1280, 720)
    qtbot.waitUntil(lambda: window.width() == 1280)
    bars = _check(window)
    assert ("Formulas", "Data") in [_texts(tb) for tb in bars]
    # the tab bar shown is the one that works: clicking "Data" raises the data view
    tb = next(tb for tb in bars if _texts(tb) == ("Formulas", "Data"))
    qtbot.mouseClick(tb, QtCore.Qt.LeftButton, pos=tb.tabRect(1).center())
    qtbot.waitUntil(lambda: not window.data_dock.visibleRegion().isEmpty())
    assert window.formula_dock.visibleRegion().isEmpty()


def test_no_stale_tab_bar_after_presenting_a_lesson_and_back(window, qtbot):
    window.resize(1280, 720)
    window.set_presenting(True)
    _check(window)
    assert window.start_lesson("01-article-xor")
    wait_lesson(qtbot, window.lesson_player)
    settle(window.session)
    _check(window)
    window.set_presenting(False)
    _check(window)
    window.reset_layout()
    _check(window)


def test_the_rule_keeps_the_bar_in_use_and_hides_the_old_one(qtbot):
    """A plain QMainWindow shows Qt's leftover: two tabbed pairs made before show."""
    w = QtWidgets.QMainWindow()
    qtbot.addWidget(w)
    w.setCentralWidget(QtWidgets.QLabel("centre"))
    docks = {}
    for name, area in (("a", QtCore.Qt.BottomDockWidgetArea),
                       ("b", QtCore.Qt.BottomDockWidgetArea),
                       ("c", QtCore.Qt.RightDockWidgetArea),
                       ("d", QtCore.Qt.RightDockWidgetArea)):
        d = docks[name] = QtWidgets.QDockWidget(name, w)
        d.setObjectName(name)
        d.setWidget(QtWidgets.QLabel(name))
        w.addDockWidget(area, d)
    w.tabifyDockWidget(docks["a"], docks["b"])
    w.tabifyDockWidget(docks["c"], docks["d"])
    w.resize(1000, 700)
    w.show()
    qtbot.waitExposed(w)
    before = len(_bars(w))
    hidden = hide_stale_tab_bars(w)
    after = _bars(w)
    assert len(after) == 2 and before == 2 + len(hidden)
    assert sorted(_texts(tb) for tb in after) == [("a", "b"), ("c", "d")]
    for tb in after:
        dock = docks[tb.tabText(tb.currentIndex())]
        assert abs(tb.geometry().top() - dock.geometry().bottom() - 1) <= 2
    w.close()


def test_presenting_outside_a_lesson_gives_the_plots_room_and_bigger_tabs(window, qtbot):
    """F11 at epoch 0 on the article preset: the loss plot was a strip (the canvas took
    the height), its axis ran from -0.4 to 0.4 and the dock tabs kept their small text."""
    normal = max(tb.font().pointSizeF() for tb in _bars(window))
    window.set_presenting(True)
    qtbot.waitUntil(lambda: window.loss_dock.height() >= 0.25 * window.height(),
                    timeout=5000)
    bars = _check(window)
    assert min(tb.font().pointSizeF() for tb in bars) > 1.2 * normal
    lo, hi = window.loss_dock.loss_plot.getViewBox().viewRange()[0]
    assert lo <= 0.0 < 9.0 < hi < 11.0  # epoch 0 of a run, not a range around 0
    window.set_presenting(False)
    _check(window)
    assert max(tb.font().pointSizeF() for tb in _bars(window)) == normal
