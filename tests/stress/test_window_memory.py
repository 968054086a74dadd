"""A window opened and closed 50 times while it trains keeps the memory flat (once Qt's
deferred deletes have run), and leaves no training process or thread behind."""

from __future__ import annotations

import gc
import os
import threading

from PySide6 import QtCore, QtWidgets

from backprop_lab.controller.clients import ClientFactory
from backprop_lab.controller.session import Session
from backprop_lab.engine import presets
from backprop_lab.ui.main_window import MainWindow


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _cycle(qtbot, tmp_path, backend: str) -> None:
    settings = QtCore.QSettings(str(tmp_path / "s.ini"), QtCore.QSettings.IniFormat)
    s = Session(presets.load_preset("spiral"), factory=ClientFactory(backend),
                start_delay_ms=0)
    w = MainWindow(s, settings=settings, confirm_close=False)
    w.resize(1280, 720)
    w.show()
    s.play()
    qtbot.waitUntil(lambda: s.epoch > 2, timeout=20000)
    w.close()
    w.deleteLater()
    s.deleteLater()
    for _ in range(3):
        QtCore.QCoreApplication.sendPostedEvents(None, QtCore.QEvent.DeferredDelete)
        QtWidgets.QApplication.processEvents()
    gc.collect()


def test_fifty_windows_keep_the_memory_flat(qtbot, tmp_path, record_property):
    backend = "thread"  # the window's own process is what is measured; threads end fast
    for _ in range(10):  # warm up: caches, fonts, pyqtgraph's first plots
        _cycle(qtbot, tmp_path, backend)
    before = _rss_mb()
    for _ in range(40):
        _cycle(qtbot, tmp_path, backend)
    qtbot.waitUntil(lambda: not any(t.name == "training-thread" for t in threading.enumerate()),
                    timeout=10000)
    after = _rss_mb()
    record_property("rss_growth_mb_40_windows", round(after - before, 1))
    print(f"\nRSS after 10 windows {before:.1f} MB, after 50 {after:.1f} MB")
    assert after - before < 20, f"memory grew by {after - before:.1f} MB over 40 windows"
    assert not QtWidgets.QApplication.topLevelWidgets() or all(
        not isinstance(w, MainWindow) for w in QtWidgets.QApplication.topLevelWidgets())
