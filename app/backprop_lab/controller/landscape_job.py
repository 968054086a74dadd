"""The loss landscape of the main run and the compared runs, computed off the UI thread.

``gather`` reads, on the UI thread, everything a landscape needs from the session (the
weights shown, the initial weights, the training set, the settings and the run's kept
states from ``session.timeline.path()``) and from the compared runs (Training >
Compare: each ``VariantRun``'s kept weights ``path``); ``compute`` turns that into a
plane (``engine.landscape.make_plane``: through the initial weights and an end point,
plus an orthogonal, filter-normalised direction), a 41 x 41 grid wide enough for every
projected path, and the grid's losses, yielding progress row by row.

The end point is the main run's current weights once it has trained; before that (epoch
0) the final weights of the first compared run that finished, so a comparison can be
looked at straight away (``Request.plane_run`` names that run). Compared runs that did
not start from the session's initial weights (another initialisation seed or layout)
are left out with a note: their paths start elsewhere. The surface is always the loss of
the window's own setup (its network, loss, penalty and training set); a compared run
that trains on another one (another activation, loss or data) is drawn with a note.

``LandscapeComputer`` runs ``compute`` in a superqt worker (exceptions come back as
values) and reports progress, the result or a message.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np
from PySide6 import QtCore
from superqt.utils import create_worker

from ..engine.landscape import (
    DEFAULT_POINTS,
    Landscape,
    LandscapeJob,
    extents_for,
    grid_axis,
    make_plane,
)
from ..engine.network import Network

NOTHING_YET = ("Nothing to show yet: train at least one epoch. The first direction runs "
               "from the initial weights to the current ones.")


@dataclass(frozen=True)
class VariantPath:
    """A compared run's kept weights (copies), as ``gather`` took them."""

    #: its place among the comparison's runs (its colour in the loss dock's legend)
    index: int
    name: str
    epochs: np.ndarray
    path: np.ndarray
    #: the run stopped early (diverged): its message
    error: str | None = None
    done: bool = True
    #: e.g. that it trains on another loss surface than the one drawn
    note: str = ""


@dataclass(frozen=True)
class Request:
    """What one landscape is computed from (copies: the worker shares nothing)."""

    network: Network
    config: object
    x: np.ndarray
    y: np.ndarray
    #: the plane's end point: the main run's current weights, or ``plane_run``'s final
    current: np.ndarray
    initial: np.ndarray
    epoch: int
    #: the main run's kept states up to ``epoch``, ending with the current weights
    #: (empty when the plane is a compared run's: the main run has not trained)
    path_epochs: np.ndarray
    path: np.ndarray
    points: int = DEFAULT_POINTS
    #: the compared runs drawn, in the comparison's order
    variants: tuple[VariantPath, ...] = ()
    #: the compared run whose final weights end the plane (None: the main run's)
    plane_run: str | None = None
    #: compared runs left out, and why
    notes: tuple[str, ...] = ()

    @property
    def key(self) -> tuple:
        """Equal for requests that give the same landscape."""
        runs = tuple((v.index, v.name, len(v.epochs), int(v.epochs[-1]) if len(v.epochs)
                      else -1, hash(v.path[-1].tobytes()) if len(v.path) else 0)
                     for v in self.variants)
        return (self.epoch, self.points, self.current.tobytes(), self.initial.tobytes(),
                self.x.shape, hash(self.x.tobytes()), hash(self.y.tobytes()),
                repr(self.config), runs, self.plane_run, self.notes)


@dataclass(frozen=True)
class PathResult:
    """A compared run's path on the plane."""

    variant: VariantPath
    #: (n, 2) coordinates of its finite kept states, and their epochs
    coords: np.ndarray
    epochs: np.ndarray
    #: each state's distance from the plane in units of ``|d1|`` (the distance from the
    #: initial weights to the plane's end point): 0 on the plane
    distance: np.ndarray

    @property
    def farthest(self) -> float:
        return float(self.distance.max()) if len(self.distance) else 0.0


@dataclass(frozen=True)
class Result:
    request: Request
    landscape: Landscape
    #: the main run's path's coordinates on the plane (n, 2) and how far each state lies
    #: off it (``Plane.project``'s fraction); empty when the main run has not trained
    coords: np.ndarray
    off_plane: np.ndarray
    #: the compared runs' paths
    paths: tuple[PathResult, ...] = ()
    #: the main run's states' distances from the plane, in units of ``|d1|`` (as
    #: ``PathResult.distance``)
    distance: np.ndarray = field(default_factory=lambda: np.empty(0))

    @property
    def farthest(self) -> float:
        """The main run's largest distance from the plane (``distance``)."""
        return float(self.distance.max()) if len(self.distance) else 0.0


def _same_objective(session, run) -> str:
    """Empty if ``run`` trains on the surface the landscape draws (the session's network
    function, loss, penalty and training set), else what differs."""
    net, cfg, ds = session.network, session.config, session.dataset
    rnet, rcfg, rds = run.project.network, run.project.training, run.dataset
    if rnet.hidden_activations != net.hidden_activations or \
            rnet.output_activation != net.output_activation:
        return "another activation"
    if rcfg.loss != cfg.loss:
        return "another loss"
    if (rcfg.regularization, rcfg.regularization_rate) != \
            (cfg.regularization, cfg.regularization_rate):
        return "another penalty"
    if rds.x_train.shape != ds.x_train.shape or not np.array_equal(rds.x_train, ds.x_train) \
            or not np.array_equal(rds.y_train, ds.y_train):
        return "other training data"
    return ""


def _variants(session, runs, initial: np.ndarray) -> tuple[list[VariantPath], list[str]]:
    out, notes = [], []
    for i, r in enumerate(runs):
        start = np.asarray(r.initial.params, dtype=np.float64)
        if start.shape != initial.shape:
            notes.append(f"{r.name}: left out (another number of weights)")
            continue
        if not np.array_equal(start, initial):
            notes.append(f"{r.name}: left out (other initial weights)")
            continue
        n = min(len(r.path_epochs), len(r.path))  # the worker may be appending
        if n == 0:
            continue
        epochs = np.array(r.path_epochs[:n], dtype=np.int64)
        path = np.array(r.path[:n], dtype=np.float64)
        differs = _same_objective(session, r)
        note = f"trains with {differs}: its path is drawn on this setup's surface" \
            if differs else ""
        out.append(VariantPath(i, r.name, epochs, path, r.error, bool(r.done), note))
    return out, notes


def gather(session, points: int = DEFAULT_POINTS, runs=()) -> Request | str:
    """A ``Request`` for the weights the session shows and the compared ``runs``
    (``runs.compare.VariantRun``s), or a message saying why there is nothing to compute.
    UI thread only (reads the timeline)."""
    net = session.network
    current = np.array(net.params, dtype=np.float64)
    initial = np.array(session.initial_params, dtype=np.float64)
    epoch = int(session.epoch)
    variants, notes = _variants(session, runs, initial) if initial.shape == current.shape \
        else ([], [])
    ds = session.dataset
    x, y = np.array(ds.x_train, dtype=np.float64), np.array(ds.y_train, dtype=np.float64)
    if epoch <= 0 or initial.shape != current.shape or not np.any(initial != current):
        # the main run has not trained: a compared run that finished ends the plane
        ends = [v for v in variants if v.done and v.error is None
                and np.all(np.isfinite(v.path[-1])) and np.any(v.path[-1] != initial)]
        if not ends:
            return NOTHING_YET
        end = ends[0]
        empty = np.empty(0, dtype=np.int64), np.empty((0, current.size))
        return Request(net, session.config, x, y, end.path[-1].copy(), initial, epoch,
                       *empty, int(points), tuple(variants), end.name, tuple(notes))
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
    return Request(net, session.config, x, y, current, initial, epoch, epochs, params,
                   int(points), tuple(variants), None, tuple(notes))


def compute(req: Request, cancel: threading.Event | None = None):
    """Yields ``(rows_done, rows_total)`` while the grid fills, then a ``Result``; any
    exception as a value (superqt keeps some to itself). Returns early once ``cancel``
    is set (the generator ends on its own: none is left suspended)."""
    try:
        plane = make_plane(req.network, req.current, req.initial)
        if not plane.along_path:
            yield RuntimeError(NOTHING_YET)
            return
        ea, eb = extents_for(plane, [req.path] + [v.path for v in req.variants])
        job = LandscapeJob(req.network, req.config, req.x, req.y, plane,
                           grid_axis(ea, req.points), grid_axis(eb, req.points))
        for step in job:
            if cancel is not None and cancel.is_set():
                return
            yield step
        if len(req.path):
            coords, off = plane.project(req.path)
            dist = plane.distance(req.path)
        else:
            coords, off, dist = np.empty((0, 2)), np.empty(0), np.empty(0)
        paths = []
        for v in req.variants:
            finite = np.all(np.isfinite(v.path), axis=1)
            xy, _ = plane.project(v.path[finite])
            paths.append(PathResult(v, xy, v.epochs[finite], plane.distance(v.path[finite])))
        yield Result(req, job.result, coords, off, tuple(paths), dist)
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
