"""``run_app`` when the window cannot be built: one message, exit 1, nothing left
running (the session's training client is stopped)."""

from __future__ import annotations

from PySide6 import QtWidgets

from backprop_lab.controller import session as session_mod
from backprop_lab.ui import app as app_mod
from backprop_lab.ui import main_window


def test_a_window_that_fails_to_build_gives_one_message_and_stops_training(
        qtbot, monkeypatch, capsys):
    made, shown = [], []

    class Recording(session_mod.Session):
        stopped = 0

        def __init__(self, *a, **k):
            super().__init__(*a, **k)
            made.append(self)

        def shutdown(self):
            self.stopped += 1
            super().shutdown()

    def broken_window(*_a, **_k):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(session_mod, "Session", Recording)
    monkeypatch.setattr(main_window, "MainWindow", broken_window)
    monkeypatch.setattr(QtWidgets.QMessageBox, "critical",
                        lambda parent, title, text: shown.append(text))
    assert app_mod.run_app(preset="xor-tanh") == 1
    err = capsys.readouterr().err
    assert err == ("backprop-lab: error: The window could not be opened: division by "
                   "zero\n")
    assert shown == ["The window could not be opened: division by zero"]
    assert len(made) == 1
    s = made[0]
    assert s.stopped == 1 and not s.running
