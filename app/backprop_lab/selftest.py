"""``backprop-lab --selftest``: a quick check that an installation works.

It needs no display: without a Qt platform and without X11 or Wayland it uses the
offscreen platform. Each check prints one line (``ok  NAME: detail`` or
``FAIL NAME: reason``); the last line is ``selftest passed`` (exit 0) or
``selftest FAILED: <reason>`` (exit 1). Every exception becomes a failure line, so a
broken installation (missing resources, a broken preset, a missing Qt plugin or
library) is reported instead of crashing.

Checks:
- qt: the installed PySide6 is not a release known to crash on this Python
  (``backprop_lab.qtcheck``); if it is, the checks that need Qt are not run;
- resources: the resources folder, the presets folder and the application icon exist;
- presets: every preset loads and trains a few epochs to a finite loss;
- article: the article preset's numbers (mean loss 23.5 before training, 1.315053125
  after the first epoch);
- icon: Qt renders the SVG icon (the SVG icon engine plugin is present);
- window: the main window builds, shows and paints something that is not one colour.

The selftest leaves no files behind: the window's settings go to a temporary file that
is removed afterwards, never to the user's configuration folder.
"""

from __future__ import annotations

import math
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable

#: epochs trained per preset
EPOCHS = 5
#: the article's worked example (docs: article-example.md)
ARTICLE = "article-xor"
ARTICLE_LOSS_BEFORE = 23.5
ARTICLE_LOSS_EPOCH_1 = 1.315053125
WINDOW_SIZE = (1280, 800)


class CheckFailed(Exception):
    """A check found a problem; the message is the reason shown to the user."""


def _ensure_platform() -> None:
    """Use the offscreen platform when there is no screen to show a window on."""
    if os.environ.get("QT_QPA_PLATFORM"):
        return
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return
    if sys.platform in ("win32", "darwin"):
        return  # these always have a window system
    os.environ["QT_QPA_PLATFORM"] = "offscreen"


def check_qt() -> str:
    from .qtcheck import check, installed_pyside_version

    reason = check()
    if reason:
        raise CheckFailed(reason)
    version = installed_pyside_version()
    if version is None:
        raise CheckFailed("PySide6 is not installed (pip install PySide6-Essentials)")
    return f"PySide6 {version} on Python {sys.version_info[0]}.{sys.version_info[1]}"


def check_resources() -> str:
    from .resources import resource, resources_dir

    root = resources_dir()
    icon = resource("icons", "backprop-lab.svg")
    if not icon.is_file():
        raise CheckFailed(f"the application icon {icon} is missing")
    return f"found in {root}"


def check_presets() -> str:
    from .engine import data, presets
    from .engine.training import Trainer

    infos = presets.list_presets()
    if not infos:
        raise CheckFailed(f"no presets found in {presets._dir()}")
    for info in infos:
        try:
            project = presets.load_preset(info.name)
            dataset = data.build(project.data)
            trainer = Trainer(project.network, project.training, dataset.x_train,
                              dataset.y_train)
            loss = math.nan
            for _ in range(EPOCHS):
                loss = trainer.run_epoch()
        except Exception as e:  # noqa: BLE001 - reported with the preset's name
            raise CheckFailed(f"preset {info.name!r}: {type(e).__name__}: {e}") from e
        if not math.isfinite(loss):
            raise CheckFailed(f"preset {info.name!r}: loss {loss} after {EPOCHS} epochs")
    return f"{len(infos)} loaded and trained"


def check_article() -> str:
    from .engine import data, presets
    from .engine.training import Trainer

    project = presets.load_preset(ARTICLE)
    dataset = data.build(project.data)
    trainer = Trainer(project.network, project.training, dataset.x_train, dataset.y_train)
    before = trainer.train_loss()
    after = trainer.run_epoch()
    if not math.isclose(before, ARTICLE_LOSS_BEFORE, rel_tol=1e-9, abs_tol=1e-12):
        raise CheckFailed(f"{ARTICLE}: mean loss before training is {before!r}, "
                          f"expected {ARTICLE_LOSS_BEFORE}")
    if not math.isclose(after, ARTICLE_LOSS_EPOCH_1, rel_tol=1e-9, abs_tol=1e-12):
        raise CheckFailed(f"{ARTICLE}: mean loss after epoch 1 is {after!r}, "
                          f"expected {ARTICLE_LOSS_EPOCH_1}")
    return f"mean loss {before:g} before, {after:.10g} after epoch 1"


def _app():
    from PySide6 import QtWidgets

    app = QtWidgets.QApplication.instance()
    if app is None:
        app = QtWidgets.QApplication([sys.argv[0] if sys.argv else "backprop-lab"])
    return app


def check_icon() -> str:
    from PySide6 import QtGui

    from .resources import resource

    app = _app()
    icon = QtGui.QIcon(str(resource("icons", "backprop-lab.svg")))
    pm = icon.pixmap(32, 32)
    if icon.isNull() or pm.isNull():
        raise CheckFailed("Qt cannot render the SVG icon (is the SVG icon engine plugin "
                          "missing?)")
    return f"SVG renders ({app.platformName()} platform)"


def _colours(image, samples: int = 160) -> int:
    """How many distinct colours a grid of about samples x samples pixels holds."""
    w, h = image.width(), image.height()
    seen = set()
    for j in range(samples):
        y = (2 * j + 1) * h // (2 * samples)
        for i in range(samples):
            seen.add(image.pixel((2 * i + 1) * w // (2 * samples), y))
        if len(seen) > 16:
            break
    return len(seen)


def check_training() -> str:
    """Train the article preset through a session: the training process (or thread)
    must give the article's numbers."""
    _app()
    from .controller.clients import ClientFactory
    from .controller.session import Session, run_until_settled

    default_backend = ClientFactory().backend
    s = Session()
    try:
        s.step_epochs(3)
        if not run_until_settled(s, timeout_ms=30000):
            raise CheckFailed("training did not answer within 30 s")
        loss = s.snapshot.train_loss
        backend = s.training_backend
        if s.epoch != 3 or abs(loss - 0.2570035016035258) > 1e-12:
            raise CheckFailed(f"after 3 epochs: epoch {s.epoch}, loss {loss!r} "
                              "(expected 3 and 0.2570035016035258)")
        if backend != default_backend:
            raise CheckFailed(f"training fell back to the {backend} backend")
    finally:
        s.shutdown()
    return f"3 epochs in the {backend} backend, loss {loss:.10g}"


def check_window() -> str:
    from PySide6 import QtCore, QtWidgets

    app = _app()
    from .controller.session import Session
    from .ui.main_window import MainWindow

    t0 = time.perf_counter()
    s = Session()
    w = None
    # the window reads and writes its settings (geometry, recent files): keep them in a
    # file of our own, so that the selftest leaves the user's configuration alone
    tmp = tempfile.TemporaryDirectory(prefix="backprop-lab-selftest-")
    settings = QtCore.QSettings(os.path.join(tmp.name, "settings.ini"),
                                QtCore.QSettings.Format.IniFormat)
    try:
        w = MainWindow(s, settings=settings, confirm_close=False, recovery=False)
        w.resize(*WINDOW_SIZE)
        w.show()
        for _ in range(3):
            app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 50)
        img = w.grab().toImage()
        elapsed = time.perf_counter() - t0
        if img.isNull() or img.width() == 0 or img.height() == 0:
            raise CheckFailed("the window's screenshot is empty")
        n = _colours(img)
        if n < 2:
            raise CheckFailed(f"the window painted a single colour "
                              f"(#{img.pixel(0, 0) & 0xFFFFFF:06x})")
    finally:
        if w is not None:
            w.close()
        s.shutdown()
        if w is not None:
            w.deleteLater()
        QtWidgets.QApplication.processEvents()
        del settings
        tmp.cleanup()
    return (f"built and painted {img.width()}x{img.height()} in {elapsed:.2f} s "
            f"({'more than 16' if n > 16 else n} colours, {app.platformName()} platform)")


def check_comparison() -> str:
    """Compare two learning rates on the article preset the way the window does: the
    variants train in the comparison's own process (``--compare-server``, the installed
    program itself in a package) and must equal the same comparison trained here."""
    from PySide6 import QtCore

    _app()
    from .controller.comparison import ComparisonJob
    from .controller.session import Session
    from .runs.compare import Comparison, parse_vary

    s = Session()
    job = ComparisonJob(s)
    try:
        variants = parse_vary("training.learning_rate=0.01,0.05")
        loop = QtCore.QEventLoop()
        ended: list[str] = []
        job.finished.connect(lambda: (ended.append(""), loop.quit()))
        job.failed.connect(lambda m: (ended.append(m), loop.quit()))
        timer = QtCore.QTimer()
        timer.setSingleShot(True)
        timer.timeout.connect(loop.quit)
        timer.start(30_000)
        job.start(variants, 20)
        if not ended:
            loop.exec()
        timer.stop()
        if not ended:
            raise CheckFailed("the comparison did not end within 30 s")
        if ended[0]:
            raise CheckFailed(f"the comparison failed: {ended[0]}")
        here = Comparison(job._base, variants, 20)  # noqa: SLF001 (its own base)
        here.run()
        for a, b in zip(job.runs, here.runs):
            if a.history().tobytes() != b.history().tobytes():
                raise CheckFailed(f"{a.name}: the comparison's process gave other numbers")
        backend = job.backend
        if backend != "process" and not os.environ.get("BACKPROP_LAB_TRAINING"):
            raise CheckFailed("the comparison's process could not start (it ran on a "
                              "thread)")
        final = ", ".join(f"{r.name} {r.history()[-1, 1]:.6g}" for r in job.runs)
    finally:
        job.shutdown()
        s.shutdown()
    return f"2 variants x 20 epochs in the {backend} backend: {final}"


CHECKS: list[tuple[str, Callable[[], str]]] = [
    ("qt", check_qt),
    ("resources", check_resources),
    ("presets", check_presets),
    ("article", check_article),
    ("icon", check_icon),
    ("training", check_training),
    ("comparison", check_comparison),
    ("window", check_window),
]
#: checks that load Qt: not run when the qt check failed (a known-bad PySide6 would kill
#: the process instead of failing a check)
NEEDS_QT = {"icon", "training", "comparison", "window"}


def _reason(e: BaseException) -> str:
    if isinstance(e, CheckFailed):
        return str(e)
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0] if text else ''}".rstrip(": ")


def run_selftest(out=None) -> int:
    """Run every check, print one line each and a verdict; 0 if all passed, else 1."""
    out = out if out is not None else sys.stdout
    _ensure_platform()
    t0 = time.perf_counter()
    failures: list[str] = []

    def say(line: str) -> None:
        print(line, file=out, flush=True)

    for name, check in CHECKS:
        if name in NEEDS_QT and any(f.startswith("qt: ") for f in failures):
            say(f"skip {name}: needs a PySide6 that passed the qt check")
            continue
        try:
            detail = check()
        except BaseException as e:  # noqa: BLE001 - every failure becomes a line
            if isinstance(e, KeyboardInterrupt):
                raise
            reason = _reason(e)
            failures.append(f"{name}: {reason}")
            say(f"FAIL {name}: {reason}")
            if os.environ.get("BACKPROP_LAB_SELFTEST_TRACEBACK"):
                traceback.print_exc(file=out)
        else:
            say(f"ok  {name}: {detail}")
    elapsed = time.perf_counter() - t0
    if failures:
        more = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
        say(f"selftest FAILED: {failures[0]}{more}")
        return 1
    say(f"selftest passed ({elapsed:.2f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(run_selftest())
