"""The network over the input plane: a grid of raw points, one forward pass, maps.

``plane(dataset)`` lays a grid of cells over the raw input range of a dataset with two
raw inputs (with a margin), and computes the network's inputs for the cell centres once
(``Dataset.inputs_from_raw``: the dataset's features, then its normalisation), so a
heatmap shows exactly what the network computes on its own samples. ``maps(network,
grid)`` then runs one vectorised ``Network.forward`` over all cells and reshapes the
output and, from the same pass, every hidden unit's activation into images of shape
``(ny, nx)``: row ``iy`` is ``grid.ys[iy]``, column ``ix`` is ``grid.xs[ix]``
(row-major, y upwards: draw with the image's first row at ``y_range[0]``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from .data import Dataset
from .network import Network

DEFAULT_CELLS = 100
MIN_CELLS, MAX_CELLS = 2, 1000
DEFAULT_MARGIN = 0.1


@dataclass(frozen=True, eq=False)
class Grid:
    """Cells over the raw input plane. ``raw[iy * nx + ix]`` is the centre of cell
    (iy, ix); ``inputs`` are the network's inputs for those points."""

    x_range: tuple[float, float]
    y_range: tuple[float, float]
    xs: np.ndarray
    ys: np.ndarray
    raw: np.ndarray
    inputs: np.ndarray

    @property
    def nx(self) -> int:
        return len(self.xs)

    @property
    def ny(self) -> int:
        return len(self.ys)

    @property
    def shape(self) -> tuple[int, int]:
        """(ny, nx): the shape of every map."""
        return self.ny, self.nx

    @property
    def rect(self) -> tuple[float, float, float, float]:
        """(x, y, width, height) of the whole grid in data units (cell edges)."""
        (x0, x1), (y0, y1) = self.x_range, self.y_range
        return x0, y0, x1 - x0, y1 - y0


@dataclass(frozen=True, eq=False)
class Maps:
    """What the network computes on every cell, as images of shape (ny, nx).

    ``output[k]`` is output unit k; ``units[l][u]`` is unit u of hidden layer l+1 (its
    activation z). Every array is float64 and C-contiguous."""

    output: np.ndarray
    units: tuple[np.ndarray, ...]

    def unit(self, layer: int, unit: int) -> np.ndarray:
        """The map of ``unit`` (0-based, no bias) in ``layer`` (1 = first hidden layer,
        the last layer is the output)."""
        if layer == len(self.units) + 1:
            return self.output[unit]
        if not 1 <= layer <= len(self.units):
            raise ValueError(f"no layer {layer} with a map (1 to {len(self.units) + 1})")
        return self.units[layer - 1][unit]

    def classes(self) -> tuple[np.ndarray, np.ndarray]:
        """(winner, strength), each of shape (ny, nx): with several outputs the class
        of the largest output and that output (softmax: its probability); with one
        output class 1 where it is at least 0.5, and the output for class 1 or one
        minus it for class 0 (sigmoid: the winning class's probability)."""
        if len(self.output) > 1:
            winner = np.argmax(self.output, axis=0)
            return winner, np.take_along_axis(self.output, winner[None], axis=0)[0]
        out = self.output[0]
        winner = (out >= 0.5).astype(np.int64)
        return winner, np.where(winner == 1, out, 1.0 - out)


def data_range(dataset: Dataset, margin: float = DEFAULT_MARGIN
               ) -> tuple[tuple[float, float], tuple[float, float]]:
    """The raw inputs' range over training and test points, widened by ``margin`` times
    its width on each side (a range of zero width becomes one unit wide)."""
    if dataset.n_raw != 2:
        raise ValueError(f"the input plane needs data with 2 raw inputs, this data has "
                         f"{dataset.n_raw}")
    if not np.isfinite(margin) or margin < 0:
        raise ValueError(f"margin must be a number >= 0, not {margin!r}")
    pts = np.vstack([dataset.raw_train, dataset.raw_test])
    out = []
    for lo, hi in zip(pts.min(axis=0).tolist(), pts.max(axis=0).tolist()):
        width = hi - lo
        pad = margin * width if width > 1e-12 else 0.5
        out.append((lo - pad, hi + pad))
    return out[0], out[1]


def plane(dataset: Dataset, cells: int | tuple[int, int] = DEFAULT_CELLS,
          margin: float = DEFAULT_MARGIN,
          bounds: tuple[tuple[float, float], tuple[float, float]] | None = None) -> Grid:
    """A grid of ``cells`` x ``cells`` (or ``(nx, ny)``) cells over the data's raw range
    (``data_range``), or over ``bounds`` = ((x0, x1), (y0, y1)) if given."""
    nx, ny = (cells, cells) if np.isscalar(cells) else cells
    for n in (nx, ny):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or \
                not MIN_CELLS <= n <= MAX_CELLS:
            raise ValueError(f"a grid has {MIN_CELLS} to {MAX_CELLS} cells per side, not "
                             f"{n!r}")
    if dataset.n_raw != 2:
        raise ValueError(f"the input plane needs data with 2 raw inputs, this data has "
                         f"{dataset.n_raw}")
    (x0, x1), (y0, y1) = data_range(dataset, margin) if bounds is None else bounds
    if not (np.isfinite([x0, x1, y0, y1]).all() and x0 < x1 and y0 < y1):
        raise ValueError(f"grid bounds must be finite and increasing, not {bounds!r}")
    xs = x0 + (np.arange(nx) + 0.5) * ((x1 - x0) / nx)
    ys = y0 + (np.arange(ny) + 0.5) * ((y1 - y0) / ny)
    gx, gy = np.meshgrid(xs, ys)  # (ny, nx) each, row iy = ys[iy]
    raw = np.ascontiguousarray(np.column_stack([gx.ravel(), gy.ravel()]))
    inputs = np.ascontiguousarray(dataset.inputs_from_raw(raw))
    return Grid((float(x0), float(x1)), (float(y0), float(y1)), xs, ys, raw, inputs)


def maps(network: Network, grid: Grid, units: bool = True) -> Maps:
    """One forward pass of ``network`` over every cell of ``grid``: the output maps and,
    if ``units``, every hidden unit's map (else ``Maps.units`` is empty)."""
    if grid.inputs.shape[1] != network.layers[0]:
        raise ValueError(f"the grid has {grid.inputs.shape[1]} inputs per point, the network "
                         f"{network.layers[0]}")
    cache = network.forward(grid.inputs)
    shape = (-1, grid.ny, grid.nx)
    output = np.ascontiguousarray(cache.output.T).reshape(shape)
    hidden = tuple(np.ascontiguousarray(z.T).reshape(shape) for z in cache.z[:-1]) \
        if units else ()
    return Maps(output, hidden)


def nearest_sample(dataset: Dataset, point, max_distance: float | None = None,
                   test: bool = True) -> tuple[str, int] | None:
    """The sample nearest to the raw point ``point`` as ("train" or "test", row), or
    ``None`` if none lies within ``max_distance`` (raw units). ``test=False`` looks only
    at training samples."""
    p = np.asarray(point, dtype=np.float64).reshape(1, -1)
    best = None
    parts = [("train", dataset.raw_train)] + ([("test", dataset.raw_test)] if test else [])
    for part, pts in parts:
        if not len(pts):
            continue
        d = np.hypot(*(pts - p).T) if pts.shape[1] == 2 else np.linalg.norm(pts - p, axis=1)
        i = int(np.argmin(d))
        if best is None or d[i] < best[0]:
            best = (float(d[i]), part, i)
    if best is None or (max_distance is not None and best[0] > max_distance):
        return None
    return best[1], best[2]


def time_maps(network: Network, dataset: Dataset, cells: int = DEFAULT_CELLS,
              repeats: int = 20) -> dict:
    """Median milliseconds of ``repeats`` runs, headless: ``heatmap_ms`` for the output
    maps alone, ``unit_maps_ms`` for the output and every hidden unit's map (the grid's
    inputs are made once, as a view keeps its grid while training runs)."""
    grid = plane(dataset, cells)
    net = network.copy()
    out = {}
    for key, units in (("heatmap_ms", False), ("unit_maps_ms", True)):
        maps(net, grid, units)  # warm up
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            maps(net, grid, units)
            times.append((time.perf_counter() - t0) * 1000.0)
        out[key] = float(np.median(times))
    out["cells"] = grid.nx * grid.ny
    out["hidden_units"] = int(sum(network.layers[1:-1]))
    return out
