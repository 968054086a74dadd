"""Measure the lecture stage from widget geometry (not pixels), in a process of its own.

Run by ``test_stage_geometry.py`` once per screen: the screen's size (and the HiDPI
scale) must be set before Qt starts, so each screen is a process
(``QT_QPA_PLATFORM=offscreen:configfile=...``, ``QT_SCALE_FACTOR``). It opens the window
as the application does, plays the shipped lessons to the steps asked for, in normal
mode (the window filling the screen's available area) and in presentation mode, and
prints one JSON object per line: what each view the step needs shows, where, and
whether it fits.

    python stage_probe.py [--steps all|L:S,L:S,...] [--modes normal,present] [--theme dark]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile


def _rect(r) -> list[int]:
    return [r.x(), r.y(), r.width(), r.height()]


def _inside(inner, outer, slack: int = 1) -> bool:
    return (inner.left() >= outer.left() - slack and inner.top() >= outer.top() - slack
            and inner.right() <= outer.right() + slack
            and inner.bottom() <= outer.bottom() + slack)


def window_rect(win, widget):
    """``widget``'s rectangle in window coordinates."""
    from PySide6 import QtCore

    top_left = widget.mapTo(win, QtCore.QPoint(0, 0))
    return QtCore.QRect(top_left, widget.size())


def measure(win, app) -> dict:
    """What the stage shows now, measured from the widgets."""
    from PySide6 import QtCore, QtGui, QtWidgets

    from backprop_lab.ui.main_window import overflow_button
    from backprop_lab.ui.stage import stage_views

    player = win.lesson_player
    needed = stage_views(player) if player.active else ()
    out: dict = {"needed": list(needed), "window": _rect(win.geometry()),
                 "screen": _rect(win.screen().availableGeometry()),
                 "presenting": win.presenting, "problems": []}
    bad = out["problems"]
    client = win.rect()

    def visible_in_window(name, widget, leaf=None) -> None:
        """``widget`` shown, inside the window, and ``leaf`` (a widget inside it that
        nothing covers: a viewport) not hidden behind another dock's tab."""
        if not widget.isVisible():
            bad.append(f"{name}: not visible")
            return
        r = window_rect(win, widget)
        if not _inside(r, client):
            bad.append(f"{name}: {_rect(r)} runs outside the window {_rect(client)}")
        leaf = leaf if leaf is not None else widget
        if not leaf.isVisible() or leaf.visibleRegion().isEmpty():
            bad.append(f"{name}: covered (nothing of it is visible)")

    # -- the canvas ------------------------------------------------------------------
    canvas = win.canvas
    data = canvas.data()
    out["canvas"] = {"scale": win.stage.canvas_scale, "text_px": canvas.text_pixel_sizes(),
                     "size": [canvas.viewport().width(), canvas.viewport().height()]}
    if "canvas" in needed:
        visible_in_window("canvas", canvas, canvas.viewport())
        view_rect = QtCore.QRectF(canvas.viewport().rect())
        small = data is not None and data.n_weights <= 60
        if small and data.z is not None and win.act_values.isChecked():
            boxes = canvas.value_box_rects()
            if len(boxes) < sum(data.layers):
                bad.append(f"canvas: {len(boxes)} value boxes for {sum(data.layers)} units")
            for (lu, r) in boxes:
                vr = canvas.mapFromScene(r).boundingRect()
                if not _inside(vr, view_rect.toRect(), 2):
                    bad.append(f"canvas: the value box of unit {lu} is off the canvas")
        if small and win.act_weights.isChecked():
            labels = canvas.label_rects()
            if len(labels) < data.n_weights:
                bad.append(f"canvas: {len(labels)} weight labels for {data.n_weights} "
                           "weights")
        for (lu, r, _circle) in canvas.unit_shapes():
            vr = canvas.mapFromScene(r).boundingRect()
            if not _inside(vr, view_rect.toRect(), 2):
                bad.append(f"canvas: unit {lu} is off the canvas")

    # -- the caption and its table --------------------------------------------------
    ld = win.lesson_dock
    out["lesson_text"] = {"fitted": ld.fitted_scale(), "scale": ld.scale(),
                     "caption_px": ld.caption_label.fontInfo().pixelSize(),
                     "table_px": ld.compare_table.fontInfo().pixelSize(),
                     "step_px": ld.step_label.fontInfo().pixelSize()}
    if "caption" in needed or "table" in needed:
        visible_in_window("lesson dock", ld, ld.step_label)
        room = window_rect(win, ld.scroll.viewport())
        bar = ld.scroll.verticalScrollBar()
        if bar.maximum() > 0:
            bad.append(f"lesson: the page scrolls ({bar.maximum()} px)")
        for name, label in (("caption", ld.caption_label), ("step heading", ld.step_label)):
            need = label.heightForWidth(label.width())
            if need > label.height():
                bad.append(f"{name}: needs {need} px, shows {label.height()}")
            if not _inside(window_rect(win, label), room):
                bad.append(f"{name}: {_rect(window_rect(win, label))} outside the "
                           f"lesson's room {_rect(room)}")
    if "table" in needed:
        t = ld.compare_table
        if player.step is not None and player.step.compare:
            visible_in_window("table", t, t.viewport())
            if not _inside(window_rect(win, t), window_rect(win, ld.scroll.viewport())):
                bad.append(f"table: {_rect(window_rect(win, t))} outside the lesson's room")
            rows = sum(t.rowHeight(r) for r in range(t.rowCount()))
            if t.viewport().height() < rows:
                bad.append(f"table: rows need {rows} px, it shows {t.viewport().height()}")
            for r in range(t.rowCount()):
                if t.sizeHintForRow(r) > t.rowHeight(r):
                    bad.append(f"table: row {r + 1} needs {t.sizeHintForRow(r)} px, has "
                               f"{t.rowHeight(r)}")
            for c, (least, _most) in enumerate(ld.column_needs()):
                if t.columnWidth(c) + 1 < least:
                    bad.append(f"table: column {c + 1} is {t.columnWidth(c)} px, its "
                               f"longest word needs {least:.0f}")
            if t.verticalScrollBar().maximum() > 0:
                bad.append("table: scrolls")

    # -- the formulas --------------------------------------------------------------------
    fd = win.formula_dock
    out["formulas"] = {"fitted": fd.fitted_scale(), "compact": fd.compact(),
                       "px": fd.browser.fontInfo().pixelSize(), "shown": str(fd.shown())}
    if "formulas" in needed:
        visible_in_window("formulas", fd, fd.browser.viewport())
        vp = fd.browser.viewport()
        doc_h = fd.browser.document().size().height()
        if fd.browser.verticalScrollBar().maximum() > 0 or doc_h > vp.height() + 1:
            bad.append(f"formulas: the text is {doc_h:.0f} px, the panel shows "
                       f"{vp.height()}")
        if fd.browser.document().idealWidth() > vp.width() + 1:
            bad.append("formulas: a line is wider than the panel")

    # -- the plots --------------------------------------------------------------------
    for name, dock in (("loss_plot", win.loss_dock), ("gradient_plot", win.gradient_dock)):
        if name in needed:
            visible_in_window(name, dock, dock.plot_widget.viewport())
            pw = dock.plot_widget
            if pw.height() < 100 or pw.width() < 200:
                bad.append(f"{name}: the plot is only {pw.width()}x{pw.height()} px")
            label = dock.readout_label
            if label.isVisible() and label.heightForWidth(label.width()) > label.height():
                bad.append(f"{name}: its readout is cut ({label.heightForWidth(label.width())}"
                           f" px needed, {label.height()} shown)")

    # -- the controls ----------------------------------------------------------------------
    for name, bar in (("toolbar", win.toolbar), ("control strip", win.progress_bar)):
        ext = overflow_button(bar)
        if bar.isVisible() and ext is not None and ext.isVisible():
            bad.append(f"{name}: items hidden behind the overflow button")
    if win.presenting:
        if win.menuBar().isVisible():
            bad.append("presentation: the menu bar is shown")
        for dock in win.findChildren(QtWidgets.QDockWidget):
            if dock.isVisible() and dock.titleBarWidget() is None:
                bad.append(f"presentation: {dock.objectName()} has a title bar")
    out["readout_px"] = win.epoch_label.fontInfo().pixelSize()
    axis = win.loss_dock.loss_plot.getAxis("left").style["tickFont"]
    out["plot_axis_px"] = QtGui.QFontInfo(axis).pixelSize() if axis is not None else None
    out["strip_button_px"] = win.progress_bar.fontInfo().pixelSize()
    out["dpr"] = win.devicePixelRatioF()
    return out


def _settle(app, player=None, ms: int = 120_000) -> None:
    from PySide6 import QtCore

    deadline = QtCore.QDeadlineTimer(ms)
    while player is not None and player.busy and not deadline.hasExpired():
        app.processEvents(QtCore.QEventLoop.AllEvents, 20)
    for _ in range(6):
        app.processEvents()
    QtCore.QCoreApplication.sendPostedEvents(None, 0)
    app.processEvents()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", default="all")
    ap.add_argument("--modes", default="normal,present")
    ap.add_argument("--theme", default="light")
    ap.add_argument("--text-scale", type=float, default=1.0)
    a = ap.parse_args(argv)
    os.environ.setdefault("XDG_CONFIG_HOME", tempfile.mkdtemp(prefix="stage-probe-"))
    from PySide6 import QtCore

    from backprop_lab.controller.lessons import list_lessons
    from backprop_lab.controller.session import Session
    from backprop_lab.ui.app import make_application
    from backprop_lab.ui.main_window import MainWindow

    app = make_application()
    settings = QtCore.QSettings(os.path.join(tempfile.mkdtemp(), "s.ini"),
                                QtCore.QSettings.IniFormat)
    win = MainWindow(Session(), settings=settings, confirm_close=False)
    win.place_on_screen()
    win.show()
    _settle(app)
    win.place_on_screen()
    _settle(app)
    avail = win.screen().availableGeometry()
    print(json.dumps({"opened": _rect(win.frameGeometry()), "available": _rect(avail)}),
          flush=True)
    if a.theme != "light":
        win.set_theme(a.theme)
    if a.text_scale != 1.0:
        win.set_text_scale(a.text_scale)
    lessons = [info.name for info in list_lessons()]
    if a.steps == "all":
        wanted = {n: None for n in lessons}
    else:
        wanted = {}
        for part in a.steps.split(","):
            l, s = part.split(":")
            wanted.setdefault(lessons[int(l) - 1], []).append(int(s))
    player = win.lesson_player
    for name, steps in wanted.items():
        assert win.start_lesson(name), name
        _settle(app, player)
        for k in steps or range(1, player.count + 1):
            player.go(k - 1)
            _settle(app, player)
            for mode in a.modes.split(","):
                if mode == "present":
                    win.set_presenting(True)
                else:
                    win.setGeometry(avail)
                _settle(app)
                win.stage.apply()
                _settle(app)
                rec = measure(win, app)
                rec.update(lesson=name, step=k, mode=mode, stage=win.stage.last)
                print(json.dumps(rec, default=str), flush=True)
                if mode == "present":
                    win.set_presenting(False)
                    _settle(app)
        player.stop()
        _settle(app)
    win.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
