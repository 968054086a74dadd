"""Autosave and recovery: the user's work survives a crash or a kill -9.

While there are unsaved changes, the session's project is written to a recovery file in
the platform's application-data folder: a minute after the first change that follows a
write (so a burst of edits is one write), and whenever training is paused. The write is
atomic (``engine.project.save``). A clean exit, a save and a discard remove the file;
the next start finds a file only when the last run did not end cleanly, and the window
offers to restore it.

The recovery file is an ordinary project file with one extra ``meta`` entry saying where
the work was saved last (if anywhere), so restoring it gives back the same project.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from PySide6 import QtCore

from ..engine.project import ProjectError, load, save
from .session import Session

AUTOSAVE_MS = 60_000  # at most this long between a change and its recovery copy
FILE_NAME = "recovery.json"
META_KEY = "recovered_from"


def recovery_dir() -> Path:
    """Where recovery files live: the platform's app-data folder (``BACKPROP_LAB_DATA``
    overrides it, for tests and portable setups)."""
    env = os.environ.get("BACKPROP_LAB_DATA")
    if env:
        return Path(env)
    loc = QtCore.QStandardPaths.writableLocation(QtCore.QStandardPaths.AppDataLocation)
    return Path(loc) if loc else Path.home() / ".backprop-lab"


class Recovery(QtCore.QObject):
    """Keeps a recovery copy of one session's unsaved work."""

    #: a recovery copy was written (its path)
    written = QtCore.Signal(str)
    #: a recovery copy could not be written (the message); the work itself is untouched
    failed = QtCore.Signal(str)

    def __init__(self, session: Session, folder: str | Path | None = None,
                 parent: QtCore.QObject | None = None, interval_ms: int = AUTOSAVE_MS):
        super().__init__(parent)
        self._session = session
        self.folder = Path(folder) if folder is not None else recovery_dir()
        self.path = self.folder / FILE_NAME
        self._timer = QtCore.QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.write)
        self._last_write = 0.0
        session.dirty_changed.connect(self._on_dirty)
        session.snapshot_changed.connect(self._on_change)
        session.config_changed.connect(self._on_change)
        session.structure_changed.connect(self._on_change)
        session.running_changed.connect(self._on_running)

    # -- the recovery copy -------------------------------------------------------------
    def write(self) -> Path | None:
        """Write the recovery copy now (if there is unsaved work)."""
        self._timer.stop()
        s = self._session
        if not s.dirty:
            return None
        project = s.project
        project.meta = dict(project.meta or {})
        project.meta[META_KEY] = str(s.path) if s.path is not None else None
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            save(project, self.path)
        except (OSError, ProjectError) as e:
            self.failed.emit(f"The recovery copy could not be written to {self.path}: {e}")
            return None
        self._last_write = time.monotonic()
        self.written.emit(str(self.path))
        return self.path

    def discard(self) -> None:
        """Remove the recovery copy (a clean exit, a save, a discard)."""
        self._timer.stop()
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass
        except OSError as e:
            self.failed.emit(f"The recovery copy {self.path} could not be removed: {e}")

    def stop(self) -> None:
        self._timer.stop()

    # -- following the session --------------------------------------------------------
    def _on_dirty(self, dirty: bool) -> None:
        if dirty:
            self._schedule()
        else:
            self.discard()  # saved (or discarded): nothing to recover

    def _on_change(self, *_args) -> None:
        if self._session.dirty:
            self._schedule()

    def _on_running(self, running: bool) -> None:
        if not running and self._session.dirty:
            QtCore.QTimer.singleShot(0, self.write)  # paused: a good moment

    def _schedule(self) -> None:
        if not self._timer.isActive():
            self._timer.start()


def find_recovery(folder: str | Path | None = None) -> Path | None:
    """The recovery copy a previous run left behind, if any."""
    path = (Path(folder) if folder is not None else recovery_dir()) / FILE_NAME
    return path if path.is_file() else None


def describe_recovery(path: Path) -> str:
    """A sentence for the restore question: what the copy holds and when it was made."""
    try:
        meta = json.loads(path.read_text(encoding="utf-8")).get("meta") or {}
    except (OSError, ValueError, AttributeError):
        meta = {}
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(path.stat().st_mtime))
    title = meta.get("title") or "untitled"
    origin = meta.get(META_KEY)
    where = f" (last saved as {origin})" if origin else " (never saved)"
    return f"Unsaved work from {when}: {title}{where}."


def restore(session: Session, path: Path) -> None:
    """Open the recovery copy in ``session`` as unsaved work (the file it came from, if
    any, is the session's file again). Raises ``ProjectError``."""
    origin = (load(path).meta or {}).get(META_KEY)
    session.open_recovered(path, origin, META_KEY)
