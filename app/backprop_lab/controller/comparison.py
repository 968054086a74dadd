"""A comparison run from the window: variants of the session's setup trained side by side.

``ComparisonJob`` takes the session's project as it started (its initial weights, data
and shuffling seed: what Reset goes back to, with the settings as they are now) as the
``Base`` of a ``runs.compare.Comparison`` and trains the variants a chunk at a time in a
process of their own (``--compare-server``, ``controller.compare_process``): on a thread
of the window's process they would hold the GIL through most of each chunk and the UI
thread would wait for it at every call into Qt (measured: the bench's ``compare_`` rows).
The window keeps a copy of the comparison that each progress frame brings up to date.
If no process can start (or ``BACKPROP_LAB_TRAINING=thread``), a superqt worker thread
trains it instead. It reports ``progress(done, total)`` and ``curves_changed``
(variant name -> train losses so far, from epoch 0) on the UI thread, and ``finished`` or
``failed(message)`` once. ``cancel()`` ends the process (or stops the thread before its
next chunk); ``shutdown()`` (at window close) cancels and never waits for a chunk.
Every variant trains as ``backprop-lab train --set KEY=V`` would
from the same project, so its curve equals that command's to the last bit.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
from PySide6 import QtCore
from superqt.utils import create_worker

from ..runs.compare import (
    CHUNK_EPOCHS,
    Base,
    CompareError,
    Comparison,
    Progress,
    Variant,
    VariantRun,
    csv_chunks,
    project_base,
    runs_to_json,
)
from ..runs.compare_server import request
from .clients import default_backend
from .compare_process import CompareProcess
from .session import Session

__all__ = ["CompareError", "ComparisonJob", "session_base"]

#: the curves go out at most this often while the comparison runs (and once at its end)
CURVES_SECONDS = 0.1
MAX_CHUNK = 500


def session_base(session: Session) -> Base:
    """The base of a comparison: the session's project with its current settings and
    data, from the weights its comparisons start from (``Session.comparison_start``: the
    initial weights the main run's Reset goes back to, or those a loaded project's saved
    comparison started from)."""
    project = session.project
    project.network.params[:] = session.comparison_start
    project.comparison = None
    folder = str(session.path.absolute().parent) if session.path is not None else None
    return project_base("this window", project, folder=folder)


def _steps(comparison: Comparison):
    """The comparison's chunks for a worker; any exception is handed over as a value
    (superqt keeps some to itself)."""
    try:
        yield from comparison
    except Exception as e:  # shown in the dialog, never lost in the worker
        yield e


class ComparisonJob(QtCore.QObject):
    """One comparison at a time on the session's setup (see the module's docstring)."""

    #: epochs trained of all variants together, of the total
    progress = QtCore.Signal(int, int)
    #: {variant name: train loss per epoch from 0} (every variant, the ones not yet
    #: started with their epoch-0 loss only)
    curves_changed = QtCore.Signal(object)
    started = QtCore.Signal()
    #: the comparison ran to the end (variants that diverged stop early, with ``error``)
    finished = QtCore.Signal()
    #: a one-line problem (bad input is raised by ``start`` instead)
    failed = QtCore.Signal(str)
    cancelled = QtCore.Signal()
    #: running or not
    running_changed = QtCore.Signal(bool)

    def __init__(self, session: Session, parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self.session = session
        self._comparison: Comparison | None = None
        self._worker = None
        self._base: Base | None = None
        self._sent = 0.0  # when the curves last went out
        self._wait = CURVES_SECONDS  # until the next send: longer when sending is costly
        #: per variant: [buffer of train losses, rows of ``VariantRun.rows`` read into it,
        #: length used] (growing by doubling, so a long run is not copied each time)
        self._cache: dict[int, list] = {}
        #: where variants train: "process" (their own, so the window keeps the GIL) or
        #: "thread" (``BACKPROP_LAB_TRAINING=thread``, or no process could start)
        self.backend = default_backend()

    # -- reading ----------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._worker is not None

    @property
    def runs(self) -> list[VariantRun]:
        """The variants' runs of the last comparison (empty before the first)."""
        return list(self._comparison.runs) if self._comparison is not None else []

    @property
    def epochs(self) -> int:
        return self._comparison.epochs if self._comparison is not None else 0

    def curves(self) -> dict[str, np.ndarray]:
        """Each variant's train loss from epoch 0 (views of buffers that only grow: the
        new rows are copied in, not the whole history, so this stays cheap on long runs;
        the arrays handed out are not changed afterwards, only appended to beyond them)."""
        out = {}
        for i, r in enumerate(self.runs):
            entry = self._cache.get(i)
            if entry is None or entry[1] > len(r.rows):
                entry = self._cache[i] = [np.empty(0), 0, 0]
            buf, seen, n = entry
            new = r.rows[seen:]
            add = sum(len(rows) for rows in new)
            if n + add > len(buf):
                grown = np.empty(max(2 * len(buf), n + add, 1024))
                grown[:n] = buf[:n]
                buf = grown
            for rows in new:
                buf[n:n + len(rows)] = rows[:, 1]
                n += len(rows)
            self._cache[i] = [buf, len(r.rows), n]
            out[r.name] = buf[:n]
        return out

    def csv_chunks(self):
        """Every variant's history as CSV text, a chunk at a time (``runs.compare``)."""
        return csv_chunks([(r.name, r.history()) for r in self.runs])

    # -- commands ---------------------------------------------------------------------
    def start(self, variants: Sequence[Variant], epochs: int) -> None:
        """Start a comparison (a running one is cancelled first). Raises ``CompareError``
        naming bad input; nothing runs then."""
        start = self.session.comparison_start
        base = session_base(self.session)
        # chunks of about 1% of a run (a long comparison is not a flood of tiny chunks),
        # but short enough that Cancel is prompt
        chunk = min(MAX_CHUNK, max(CHUNK_EPOCHS, int(epochs) // 100))
        comparison = Comparison(base, list(variants), int(epochs), chunk=chunk)  # checks all
        self.cancel(quiet=True)
        # the project carries it from now on (saved with it, replayed from the file)
        self.session.set_comparison(runs_to_json(variants), int(epochs), start)
        self._base, self._comparison = base, comparison
        self._cache = {}
        self._wait = CURVES_SECONDS
        proc = None
        if self.backend == "process":
            proc = CompareProcess(comparison, request(base, variants, epochs, chunk), self)
            proc.progressed.connect(lambda p, c=comparison: self._on_step(c, p))
            proc.done.connect(lambda c=comparison: self._on_done(c))
            proc.failed.connect(lambda m, c=comparison, pr=proc: self._on_lost(c, pr, m))
            self._worker = proc
        else:
            self._worker = self._thread_worker(comparison)
        self.running_changed.emit(True)
        self.started.emit()
        self.curves_changed.emit(self.curves())
        self.progress.emit(0, comparison.total)
        if proc is not None:
            proc.start()  # a process that cannot start hands over to a thread (_on_lost)
        else:
            self._worker.start()

    def _thread_worker(self, comparison: Comparison):
        """A worker thread of this process training ``comparison`` (the fall-back)."""
        worker = create_worker(_steps, comparison, _start_thread=False)
        worker.yielded.connect(lambda p, c=comparison: self._on_step(c, p))
        worker.finished.connect(lambda c=comparison: self._on_done(c))
        return worker

    def _on_lost(self, comparison: Comparison, proc: CompareProcess, message: str) -> None:
        if comparison is not self._comparison or self._worker is not proc:
            return
        if proc.start_failed:  # no process here (a locked-down machine): train on a thread
            self.backend = "thread"
            self._worker = self._thread_worker(comparison)
            self._worker.start()
            return
        self._on_step(comparison, RuntimeError(message))

    def cancel(self, quiet: bool = False) -> None:
        """Stop before the next chunk; what was trained stays in ``runs``."""
        c = self._comparison
        if c is None or self._worker is None:
            return
        # the generator returns at its next chunk and the worker ends on its own; quitting
        # the worker instead would leave the generator to be closed by the garbage
        # collector on another thread (numpy's errstate context cannot be left there)
        c.cancel()
        if isinstance(self._worker, CompareProcess):
            self._worker.cancel()  # ends the process now
        self._worker = None
        self.running_changed.emit(False)
        if not quiet:
            self.cancelled.emit()

    def shutdown(self) -> None:
        """Cancel (call before the window closes); never waits."""
        self.cancel(quiet=True)

    # -- from the worker ----------------------------------------------------------------
    def _on_step(self, comparison: Comparison, p) -> None:
        if comparison is not self._comparison or self._worker is None:
            return
        if isinstance(p, Exception):
            comparison.cancel()
            self._worker = None  # the generator has ended
            self.running_changed.emit(False)
            self.failed.emit(str(p).splitlines()[0] if str(p) else type(p).__name__)
            return
        if isinstance(p, Progress):
            self.progress.emit(p.done, p.total)
            now = time.monotonic()
            if now - self._sent >= self._wait:
                self.curves_changed.emit(self.curves())
                # a send (and the views' work on it) that costs more waits longer: the
                # UI keeps at least 90% of its time on a long comparison
                done = time.monotonic()
                self._sent = done
                self._wait = max(CURVES_SECONDS, 10 * (done - now))

    def _on_done(self, comparison: Comparison) -> None:
        if comparison is not self._comparison or self._worker is None:
            return
        self._worker = None
        self.running_changed.emit(False)
        self.curves_changed.emit(self.curves())
        if comparison.cancelled:
            self.cancelled.emit()
        else:
            self.finished.emit()

    def promote(self, index: int) -> VariantRun:
        """Make variant ``index`` the main run: its project (the settings it changes),
        its trained weights, optimiser and shuffle state, and its history; Reset goes back
        to its initial weights (the comparison's common start). Marked unsaved."""
        run = self.runs[index]
        s = self.session
        s.pause()
        s.load_state(run.project, run.state, run.history(), s.selected_sample,
                     initial_params=run.initial.params, dataset=run.dataset)
        s._mark_dirty()  # noqa: SLF001 (a promoted run is the user's work, unlike a lesson's)
        return run
