"""The loss landscape of the main run, computed off the UI thread.

``gather`` reads, on the UI thread, everything a landscape needs from the session (the
weights shown, the initial weights, the training set, the settings and the run's kept
states from ``session.timeline.path()``); ``compute`` turns that into a plane
(``engine.landscape.make_plane``: initial -> current and an orthogonal, filter-normalised
direction), a 41 x 41 grid wide enough for the projected path, and the grid's losses,
yielding progress row by row. ``LandscapeComputer`` runs ``compute`` in a superqt worker
(exceptions come back as values) and reports progress, the result or a message.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
from PySide6 import QtCore
from superqt.utils import create_worker

from ..engine.landscape import (
    DEFAULT_POINTS,
    Landscape,
    LandscapeJob,
    extent_for,
    grid_axis,
    make_plane,
)
from ..engine.network import Network

NOTHING_YET = ("Nothing to show yet: train at least one epoch. The first direction runs "
               "from the initial weights to the current ones.")


@dataclass(frozen=True)
class Request:
    """What one landscape is computed from (copies: the worker shares nothing)."""

    network: Network
    config: object
    x: np.ndarray
    y: np.ndarray
    current: np.ndarray
    initial: np.ndarray
    epoch: int
    #: the run's kept states up to ``epoch``, ending with the current weights
    path_epochs: np.ndarray
    path: np.ndarray
    points: int = DEFAULT_POINTS

    @property
    def key(self) -> tuple:
        """Equal for requests that give the same landscape."""
        return (self.epoch, self.points, self.current.tobytes(), self.initial.tobytes(),
                self.x.shape, hash(self.x.tobytes()), hash(self.y.tobytes()),
                repr(self.config))


@dataclass(frozen=True)
class Result:
    request: Request
    landscape: Landscape
    #: the path's coordinates on the plane (n, 2) and how far each state lies off it
    coords: np.ndarray
    off_plane: np.ndarray


def gather(session, points: int = DEFAULT_POINTS) -> Request | str:
    """A ``Request`` for the weights the session shows, or a message saying why there is
    nothing to compute. UI thread only (reads the timeline)."""
    net = session.network
    current = np.array(net.params, dtype=np.float64)
    initial = np.array(session.initial_params, dtype=np.float64)
    epoch = int(session.epoch)
    if epoch <= 0 or initial.shape != current.shape or not np.any(initial != current):
        return NOTHING_YET
    ds = session.dataset
    epochs, params = session.timeline.path()
    keep = (epochs <= epoch) if len(epochs) else np.zeros(0, dtype=bool)
    if len(epochs) and params.shape[1] == current.size:
        epochs, params = epochs[keep], params[keep]
    else:
        epochs, params = np.empty(0, dtype=np.int64), np.empty((0, current.size))
    if len(epochs) and epochs[-1] == epoch:
        epochs, params = epochs[:-1], params[:-1]
    epochs = np.append(epochs, epoch).astype(np.int64)
    params = np.vstack([params, current[None, :]])
    return Request(net, session.config, np.array(ds.x_train, dtype=np.float64),
                   np.array(ds.y_train, dtype=np.float64), current, initial, epoch,
                   epochs, params, int(points))


def compute(req: Request, cancel: threading.Event | None = None):
    """Yields ``(rows_done, rows_total)`` while the grid fills, then a ``Result``; any
    exception as a value (superqt keeps some to itself). Returns early once ``cancel``
    is set (the generator ends on its own: none is left suspended)."""
    try:
        plane = make_plane(req.network, req.current, req.initial)
        if not plane.along_path:
            yield RuntimeError(NOTHING_YET)
            return
        axis = grid_axis(extent_for(plane, [req.path]), req.points)
        job = LandscapeJob(req.network, req.config, req.x, req.y, plane, axis, axis)
        for step in job:
            if cancel is not None and cancel.is_set():
                return
            yield step
        coords, off = plane.project(req.path)
        yield Result(req, job.result, coords, off)
    except Exception as e:  # shown in the dock, never lost
        yield e


class LandscapeComputer(QtCore.QObject):
    """Computes one landscape at a time; a new ``start`` drops the one in progress."""

    progress = QtCore.Signal(int, int)
    #: a ``Result``
    finished = QtCore.Signal(object)
    failed = QtCore.Signal(str)

    def __init__(self, parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self._worker = None
        self._cancel: threading.Event | None = None

    @property
    def busy(self) -> bool:
        return self._worker is not None

    def start(self, req: Request) -> None:
        self.stop()
        self._cancel = threading.Event()
        worker = create_worker(compute, req, self._cancel, _start_thread=False)
        worker.yielded.connect(lambda v, w=worker: self._on_yield(w, v))
        worker.errored.connect(lambda e, w=worker: self._on_yield(w, e))
        worker.finished.connect(lambda w=worker: self._on_done(w))
        self._worker = worker
        worker.start()

    def stop(self) -> None:
        """Drop the landscape in progress (its worker ends after the grid row it is on)."""
        self._worker = None
        if self._cancel is not None:
            self._cancel.set()
            self._cancel = None

    def _on_yield(self, worker, value) -> None:
        if worker is not self._worker:
            return
        if isinstance(value, Result):
            self._worker = None
            self.finished.emit(value)
        elif isinstance(value, Exception):
            self._worker = None
            self.failed.emit(str(value) or type(value).__name__)
        else:
            self.progress.emit(*value)

    def _on_done(self, worker) -> None:
        if worker is self._worker:  # ended without a result or a word
            self._worker = None
            self.failed.emit("The landscape could not be computed")
