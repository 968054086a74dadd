"""Shared fixtures. Qt runs offscreen; settings go to a private temporary folder."""

import os
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# QSettings and recent files must never touch the real user's configuration.
os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="backprop-lab-test-config-")

import pytest  # noqa: E402


@pytest.fixture
def session(qtbot):
    """A session on the article preset; its training thread is stopped afterwards."""
    from backprop_lab.controller.session import Session

    s = Session()
    yield s
    s.shutdown()


@pytest.fixture
def window(qtbot, tmp_path):
    """The real main window on a fresh session, closed (thread stopped) afterwards."""
    from PySide6 import QtCore

    from backprop_lab.controller.session import Session
    from backprop_lab.ui.main_window import MainWindow

    settings = QtCore.QSettings(str(tmp_path / "settings.ini"), QtCore.QSettings.IniFormat)
    s = Session()
    w = MainWindow(s, settings=settings, confirm_close=False)
    qtbot.addWidget(w)
    w.resize(1280, 800)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.close()
    s.shutdown()
