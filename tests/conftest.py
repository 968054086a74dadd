"""Shared fixtures. Qt runs offscreen; settings go to a private temporary folder."""

import os
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# as the app does (backprop_lab/__init__.py), before anything imports numpy
for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")
# QSettings and recent files must never touch the real user's configuration.
os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="backprop-lab-test-config-")
# ... nor the real app-data folder: recovery copies of the windows under test go here
os.environ["BACKPROP_LAB_DATA"] = tempfile.mkdtemp(prefix="backprop-lab-test-data-")

import pytest  # noqa: E402

BACKENDS = ("process", "thread")


def end_session(qtbot, s) -> None:
    """Shut a session down and wait (in the test, never in the app) until its training
    client has really ended: the thread joined, or the process gone."""
    run = s.run
    client = run.client
    s.shutdown()
    if client.backend == "thread":
        assert client.wait(10), "the training thread did not end"
    else:
        proc = client._proc  # noqa: SLF001 (a test looks inside)
        if proc is not None:
            from PySide6 import QtCore

            qtbot.waitUntil(lambda: proc.state() == QtCore.QProcess.NotRunning,
                            timeout=10_000)


@pytest.fixture(params=BACKENDS)
def backend(request):
    """Each test that asks for it runs once with the training process and once with the
    training thread."""
    return request.param


@pytest.fixture
def session(qtbot, backend):
    """A session on the article preset, on both backends; its client ends afterwards."""
    from backprop_lab.controller.clients import ClientFactory
    from backprop_lab.controller.session import Session

    s = Session(factory=ClientFactory(backend), start_delay_ms=0)
    yield s
    end_session(qtbot, s)


@pytest.fixture
def window(qtbot, tmp_path):
    """The real main window on a fresh session, closed (client ended) afterwards."""
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
    end_session(qtbot, s)
