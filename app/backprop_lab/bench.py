"""``backprop-lab bench``: training speed headless and in the window, drawing rate,
UI latency, canvas redraw time and cold start. Prints numbers; asserts nothing.

The machine may be shared and noisy: every figure is a median of repeats.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

GUI_SECONDS = 5.0
TARGETS = {
    "article_xor_epochs_per_s": (">=", 30000),
    "spiral_epochs_per_s": (">=", 380),
    "gui_frames_per_s": (">=", 50),
    "gui_latency_p95_ms": ("<=", 25),
    "gui_latency_max_ms": ("<=", 100),
    "gui_training_ratio": (">=", 0.65),
    "canvas_2_8_8_8_1_ms": ("<=", 8),
    "canvas_2_64x4_1_ms": ("<=", 33),
    "cold_start_s": ("<=", 0.8),
    "history_mb_1m": ("<=", 32),
    "landscape_s": ("<=", 2),
    "heatmap_ms": ("<=", 3),
    "unit_maps_ms": ("<=", 8),
    "dock_gui_frames_per_s": (">=", 55),
    "dock_gui_latency_p95_ms": ("<=", 16),
    "dock_gui_training_ratio": (">=", 0.70),
    "maps_gui_frames_per_s": (">=", 55),
    "maps_gui_latency_p95_ms": ("<=", 16),
    "maps_gui_training_ratio": (">=", 0.70),
    "compare_gui_frames_per_s": (">=", 55),
    "compare_gui_latency_p95_ms": ("<=", 16),
    "structure_change_max_ms": ("<=", 100),
}


def _engine_rate(preset: str, seconds: float, repeats: int = 3) -> float:
    from .engine import data, presets
    from .engine.training import Trainer

    rates = []
    for _ in range(repeats):
        p = presets.load_preset(preset)
        ds = data.build(p.data)
        t = Trainer(p.network, p.training, ds.x_train, ds.y_train)
        for _ in range(10):
            t.run_epoch()
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds / repeats:
            t.run_epoch()
            n += 1
        rates.append(n / (time.perf_counter() - t0))
    return statistics.median(rates)


def _add_data_dock(win, unit_maps: bool):
    """The window's own data dock, open beside the canvas (as View > Data view opens
    it), with the canvas's unit maps on request."""
    from PySide6 import QtCore

    dock = win.data_dock
    dock.show()
    dock.raise_()
    win.resizeDocks([dock], [520], QtCore.Qt.Horizontal)
    dock.set_unit_maps(unit_maps)
    return dock


def _gui_under_load(seconds: float, data_dock: bool = False, unit_maps: bool = False,
                    compare: bool = False) -> dict:
    """The real window offscreen, training the spiral at full speed, with a 5 ms probe;
    with ``data_dock`` the data dock open beside the canvas (and ``unit_maps`` drawn in
    the canvas's units); with ``compare`` a comparison of three learning rates runs in
    the background all the while (Training > Compare..., on the window's worker thread),
    its curves joining the loss plot."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6 import QtCore

    from .controller.session import Session, run_until_settled
    from .engine import presets
    from .ui.app import make_application
    from .ui.main_window import MainWindow

    app = make_application()
    settings = QtCore.QSettings(QtCore.QSettings.IniFormat, QtCore.QSettings.UserScope,
                                "BackpropLab", "bench")
    settings.clear()
    session = Session(presets.load_preset("spiral"))
    win = MainWindow(session, settings=settings, confirm_close=False, recovery=False)
    win.resize(1600, 1000)
    dock = _add_data_dock(win, unit_maps) if data_dock else None
    win.show()
    class PaintCounter(QtCore.QObject):
        """Counts the frames the canvas really paints (not the snapshots it is sent)."""

        frames = 0

        def eventFilter(self, obj, event):  # noqa: N802 (Qt override)
            if event.type() == QtCore.QEvent.Paint:
                self.frames += 1
            return False

    counter = PaintCounter()
    win.canvas.viewport().installEventFilter(counter)
    lateness: list[float] = []
    probe = QtCore.QTimer()
    probe.setTimerType(QtCore.Qt.PreciseTimer)
    probe.setInterval(5)
    last = [time.perf_counter()]

    def on_probe():
        now = time.perf_counter()
        lateness.append(max(0.0, (now - last[0]) * 1000 - 5))
        last[0] = now

    probe.timeout.connect(on_probe)
    for _ in range(20):
        app.processEvents()
    epoch0 = session.epoch
    counter.frames = 0
    redraws0 = dock.redraws if dock is not None else 0
    dialog = None
    if compare:
        dialog = win.show_compare()
        dialog.values.setText("0.01, 0.03, 0.1")
        dialog.epochs.setValue(1_000_000)  # longer than the measurement
        if not dialog.run():
            raise RuntimeError(f"the bench's comparison did not start: {dialog.error}")
    session.play()
    probe.start()
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    # A real event loop, as in the app: it sleeps while nothing is due (a processEvents
    # loop would spin and fight the training thread for the GIL).
    loop = QtCore.QEventLoop()
    QtCore.QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()
    elapsed = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    probe.stop()
    compared = 0
    if dialog is not None:
        compared = sum(r.epoch for r in dialog.job.runs)
        dialog.shutdown()
    session.pause()
    run_until_settled(session)
    epochs = session.epoch - epoch0
    backend = session.training_backend  # where training ran (at the end)
    redraws = (dock.redraws - redraws0) if dock is not None else None
    win.close()
    lat = np.array(lateness[10:] or [0.0])
    out = {
        "training_backend": backend,
        "gui_epochs_per_s": epochs / elapsed,
        "gui_frames_per_s": counter.frames / elapsed,
        "gui_latency_p50_ms": float(np.percentile(lat, 50)),
        "gui_latency_p95_ms": float(np.percentile(lat, 95)),
        "gui_latency_max_ms": float(lat.max()),
        # the window's process (UI thread and the thread relaying to the training
        # process): CPU seconds per second; less sensitive to a busy machine than frames
        "gui_ui_cpu_share": cpu / elapsed,
    }
    if redraws is not None:
        out["picture_redraws_per_s"] = redraws / elapsed
    if dialog is not None:
        out["compared_epochs_per_s"] = compared / elapsed
    return out


def _data_dock(repeats: int = 40) -> dict:
    """UI-side cost of one update of the data dock on the spiral network (2-8-8-8-1 tanh,
    500 points, a 100 x 100 grid), median over ``repeats`` updates with new weights each:

    - ``heatmap_ms``: the forward pass over the grid and colouring the picture;
    - ``unit_maps_ms``: the forward pass keeping every unit's activation, and the images
      for all 27 units (24 hidden) handed to the canvas (the dock's own picture is not
      counted);
    - ``data_dock_paint_ms``: painting the dock's plot (picture, 500 points);
    - ``canvas_unit_maps_ms``: a full canvas repaint with new maps (each unit's sprite
      made again), ``canvas_unit_maps_steady_ms`` with the same maps (the canvas repaints
      about twice as often as the maps change), against ``canvas_no_unit_maps_ms``
      without maps (1600 x 1000 window)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6 import QtCore, QtGui, QtWidgets

    from .controller.clients import ClientFactory
    from .controller.session import Session
    from .engine import presets
    from .ui.app import make_application
    from .ui.canvas import NetworkCanvas
    from .ui.docks.data_dock import DataDock
    from .ui.presenter import canvas_data

    app = make_application()
    s = Session(presets.load_preset("spiral"), factory=ClientFactory("thread"),
                start_delay_ms=0)
    win = QtWidgets.QMainWindow()
    canvas = NetworkCanvas(win)
    win.setCentralWidget(canvas)
    dock = DataDock(s, parent=win)
    win.addDockWidget(QtCore.Qt.RightDockWidgetArea, dock)
    dock.unit_maps_changed.connect(canvas.set_unit_maps)
    win.resize(1600, 1000)
    win.show()
    win.resizeDocks([dock], [520], QtCore.Qt.Horizontal)
    for _ in range(20):
        app.processEvents()
    rng = np.random.default_rng(0)
    base = s.params.copy()

    def update(maps_on: bool) -> dict:
        s.set_params(base + rng.normal(0.0, 0.05, base.shape), mark_dirty=False)
        canvas.set_data(canvas_data(s.trace()))
        dock.refresh()
        return dict(dock.timings)

    out: dict[str, float] = {}
    try:
        for maps_on in (False, True):
            dock.set_unit_maps(maps_on)
            for _ in range(3):
                update(maps_on)  # warm up
            rows = [update(maps_on) for _ in range(repeats)]
            if maps_on:
                out["unit_maps_ms"] = float(np.median(
                    [r["maps_ms"] + r["unit_maps_ms"] for r in rows]))
            else:
                out["heatmap_ms"] = float(np.median(
                    [r["maps_ms"] + r["picture_ms"] for r in rows]))
            vp = canvas.viewport()
            img = QtGui.QImage(vp.size(), QtGui.QImage.Format.Format_ARGB32_Premultiplied)
            times = []
            for _ in range(15):
                update(maps_on)
                t0 = time.perf_counter()
                vp.render(img)
                times.append((time.perf_counter() - t0) * 1000)
            key = "canvas_unit_maps_ms" if maps_on else "canvas_no_unit_maps_ms"
            out[key] = float(np.median(times))
            if maps_on:
                times = []
                for _ in range(15):
                    t0 = time.perf_counter()
                    vp.render(img)
                    times.append((time.perf_counter() - t0) * 1000)
                out["canvas_unit_maps_steady_ms"] = float(np.median(times))
        dvp = dock.plot_widget.viewport()
        img = QtGui.QImage(dvp.size(), QtGui.QImage.Format.Format_ARGB32_Premultiplied)
        times = []
        for _ in range(15):
            update(True)
            t0 = time.perf_counter()
            dvp.render(img)
            times.append((time.perf_counter() - t0) * 1000)
        out["data_dock_paint_ms"] = float(np.median(times))
    finally:
        win.close()
        s.shutdown()
        app.processEvents()
    return out


def _canvas() -> dict:
    from .ui.canvas_bench import bench_canvas

    small = bench_canvas([2, 8, 8, 8, 1])
    big = bench_canvas([2, 64, 64, 64, 64, 1], frames=15)
    return {"canvas_2_8_8_8_1_ms": small["median_ms"], "canvas_2_64x4_1_ms": big["median_ms"]}


def _cold_start(repeats: int = 5) -> float:
    """Median seconds from process launch to the first painted window (offscreen)."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", BACKPROP_LAB_STARTUP_PROBE="1")
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        p = subprocess.Popen([sys.executable, "-m", "backprop_lab"], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = p.stdout.readline()
        t = time.perf_counter() - t0
        p.wait(timeout=60)
        if line.startswith("painted"):
            times.append(t)
    return statistics.median(times) if times else float("nan")


def _rss_bytes() -> int | None:
    try:
        with open("/proc/self/statm", encoding="ascii") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, AttributeError):
        return None


def _history_1m(epochs: int = 1_000_000, every: int = 4) -> dict:
    """A million epochs of the spiral network with Adam, as the window's timeline sees
    them: an update every ``every`` epochs (the loop's pace, about 100 updates a second)
    with its rows, a full state and the gradient norms, without training."""
    from .engine import data, presets
    from .engine.optimizers import OptimizerState
    from .runs.state import RunState
    from .runs.timeline import Timeline

    p = presets.load_preset("spiral")
    ds = data.build(p.data)
    cfg = p.training.with_(optimizer="adam")
    n = p.network.n_params
    rng = np.random.default_rng(0)
    pool = rng.random((64, n))  # the timeline copies what it keeps: inputs may repeat
    shuffle = np.random.default_rng(cfg.seed).bit_generator.state
    rss0 = _rss_bytes()
    tl = Timeline(p.network, ds, RunState.start(p.network.params, cfg),
                  np.array([[0.0, 0.7, 0.7, 0.5, 0.5]]))
    t0 = time.perf_counter()
    k = 0
    for e0 in range(1, epochs + 1, every):
        e = np.arange(e0, min(e0 + every, epochs + 1))
        rows = np.empty((len(e), 5))
        rows[:, 0] = e
        rows[:, 1:] = pool[k % 61, :4 * len(e)].reshape(len(e), 4)
        last = int(e[-1])
        state = RunState(pool[k % 64], cfg, OptimizerState("adam", last * 50, pool[(k + 1) % 64],
                                                           pool[(k + 2) % 64]),
                         last, last * 50, shuffle, True, 0, None, 1)
        tl.record(state, rows, (), (0.1, 0.2, 0.3, 0.4))
        k += 1
    elapsed = time.perf_counter() - t0
    rss1 = _rss_bytes()
    out = {"history_mb_1m": tl.nbytes / 1e6,
           "history_replay_epochs_1m": float(tl.spacing),
           "history_record_us": elapsed / k * 1e6}
    if rss0 is not None and rss1 is not None:
        out["history_rss_mb_1m"] = (rss1 - rss0) / 1e6
    del tl
    return out


def _landscape(repeats: int = 3) -> float:
    """Seconds for a 41 x 41 loss landscape of the spiral network (after 50 epochs)."""
    from .engine import data, presets
    from .engine.landscape import grid_axis, landscape, make_plane
    from .engine.training import Trainer

    p = presets.load_preset("spiral")
    ds = data.build(p.data)
    initial = p.network.params.copy()
    t = Trainer(p.network, p.training, ds.x_train, ds.y_train)
    for _ in range(50):
        t.run_epoch()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        plane = make_plane(p.network, p.network.params, initial)
        axis = grid_axis(1.0, 41)
        landscape(p.network, p.training, ds.x_train, ds.y_train, plane, axis, axis)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _structure_changes() -> dict:
    """UI time of a preset or a shape change in the window (the session and every view
    following it), median and worst of 16 each."""
    from PySide6 import QtCore

    from .controller.session import Session
    from .ui.app import make_application
    from .ui.main_window import MainWindow

    app = make_application()
    settings = QtCore.QSettings(QtCore.QSettings.IniFormat, QtCore.QSettings.UserScope,
                                "BackpropLab", "bench-structure")
    settings.clear()
    session = Session()
    win = MainWindow(session, settings=settings, confirm_close=False, recovery=False)
    win.resize(1600, 1000)
    win.show()
    for _ in range(20):
        app.processEvents()
    times = []
    changes = [lambda n=n: session.load_preset(n) for n in (
        "spiral", "article-xor", "circle", "three-class", "regression", "deep-relu",
        "xor-tanh", "spiral")]
    changes += [lambda layers=layers: session.set_structure(layers) for layers in (
        [2, 8, 8, 1], [2, 4, 1], [2, 16, 16, 16, 1], [2, 3, 1], [2, 8, 8, 8, 1],
        [2, 6, 1], [2, 12, 12, 1], [2, 5, 5, 1])]
    for change in changes:
        t0 = time.perf_counter()
        change()
        app.processEvents()  # the views' reactions are part of it
        times.append((time.perf_counter() - t0) * 1000)
    win.close()
    session.shutdown()
    return {"structure_change_median_ms": statistics.median(times),
            "structure_change_max_ms": max(times)}


def run_bench(json_out: bool = False, seconds: float = 2.0, gui: bool = True) -> int:
    r: dict[str, float | str] = {}
    r["article_xor_epochs_per_s"] = _engine_rate("article-xor", seconds)
    r["spiral_epochs_per_s"] = _engine_rate("spiral", seconds)
    r.update(_history_1m())
    r["landscape_s"] = _landscape()
    if gui:
        r.update(_gui_under_load(GUI_SECONDS))
        r["gui_training_ratio"] = r["gui_epochs_per_s"] / r["spiral_epochs_per_s"]
        r.update(_canvas())
        r["cold_start_s"] = _cold_start()
        r.update(_structure_changes())
        r.update(_data_dock())
        for prefix, maps in (("dock_", False), ("maps_", True)):
            g = _gui_under_load(GUI_SECONDS, data_dock=True, unit_maps=maps)
            for k, v in g.items():
                r[prefix + k] = v
            r[prefix + "gui_training_ratio"] = g["gui_epochs_per_s"] / r["spiral_epochs_per_s"]
        g = _gui_under_load(GUI_SECONDS, compare=True)
        for k, v in g.items():
            r["compare_" + k] = v
        r["compare_gui_training_ratio"] = g["gui_epochs_per_s"] / r["spiral_epochs_per_s"]
    if json_out:
        print(json.dumps(r))
        return 0
    for k, v in r.items():
        if isinstance(v, str):
            print(f"{k:<28} {v:>12}")
            continue
        target = TARGETS.get(k)
        mark = ""
        if target:
            op, goal = target
            ok = v >= goal if op == ">=" else v <= goal
            mark = f"   target {op} {goal:g}: {'ok' if ok else 'MISSED'}"
        print(f"{k:<28} {v:>12,.3f}{mark}")
    return 0
