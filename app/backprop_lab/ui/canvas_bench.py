"""Benchmark of the node-link canvas: full repaints while the weights change.

Run ``python -m backprop_lab.ui.canvas_bench`` (offscreen is fine) to print the median
and 95th-percentile frame time for a few network shapes.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence

import numpy as np


def _random_data(layers: Sequence[int], rng: np.random.Generator, caption: str):
    from .canvas import CanvasData

    layers = tuple(int(n) for n in layers)
    pairs = list(zip(layers[:-1], layers[1:]))
    weights = tuple(rng.normal(0.0, 1.0 / np.sqrt(m), (n, m)) for m, n in pairs)
    biases = tuple(rng.normal(0.0, 0.1, n) for _, n in pairs)
    z = tuple(np.tanh(rng.normal(0.0, 1.0, n)) for n in layers)
    a = tuple(rng.normal(0.0, 1.0, n) for n in layers[1:])
    deltas = tuple(rng.normal(0.0, 0.01, n) for n in layers[1:])
    return CanvasData(
        layers=layers, weights=weights, biases=biases,
        activations=("tanh",) * (len(layers) - 2) + ("sigmoid",),
        a=a, z=z, deltas=deltas,
        grad_weights=tuple(w * 0.01 for w in weights),
        grad_biases=tuple(b * 0.01 for b in biases), caption=caption,
        target=np.zeros(layers[-1]), loss=float(rng.uniform(0.0, 1.0)),
        loss_label="L for sample 1")


def bench_canvas(layers: Sequence[int], frames: int = 30,
                 size: tuple[int, int] = (1600, 900)) -> dict[str, float]:
    """Time full repaints of a canvas whose weights change every frame.

    Each frame calls ``set_data`` with new random weights, activations, deltas and loss
    (a target/loss node is drawn), then paints the whole view (its viewport) into a
    QImage of ``size``. At 1600x900 the 2-8-8-8-1 net writes every unit's a, z and
    delta; bigger nets leave them to hover.

    Parameters
    ----------
    layers : sequence of int
        The network shape, e.g. ``[2, 64, 64, 64, 64, 1]``.
    frames : int
        Frames timed (after two untimed warm-up frames).
    size : (width, height)
        Canvas size in pixels.

    Returns
    -------
    dict
        ``median_ms`` and ``p95_ms`` of the whole frame (wall clock),
        ``cpu_median_ms`` (the same in CPU time of the painting thread: what the frame
        costs without other processes competing for the CPU), ``set_data_ms`` (median
        of ``set_data`` alone) and ``edges`` (connections drawn, bias weights included).
    """
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6 import QtGui, QtWidgets

    from .canvas import NetworkCanvas

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    rng = np.random.default_rng(0)
    canvas = NetworkCanvas()
    try:
        canvas.resize(*size)
        canvas.show()
        app.processEvents()
        datas = [_random_data(layers, rng, f"frame {k}") for k in range(frames + 2)]
        canvas.set_data(datas[0])
        vp = canvas.viewport()
        image = QtGui.QImage(vp.size(), QtGui.QImage.Format.Format_ARGB32_Premultiplied)
        totals, set_times, cpu = [], [], []
        for k, data in enumerate(datas):
            c0 = time.thread_time()
            t0 = time.perf_counter()
            canvas.set_data(data)
            t1 = time.perf_counter()
            vp.render(image)
            t2 = time.perf_counter()
            c1 = time.thread_time()
            if k >= 2:
                totals.append((t2 - t0) * 1e3)
                set_times.append((t1 - t0) * 1e3)
                cpu.append((c1 - c0) * 1e3)
        return {"median_ms": float(np.median(totals)),
                "p95_ms": float(np.percentile(totals, 95)),
                "cpu_median_ms": float(np.median(cpu)),
                "set_data_ms": float(np.median(set_times)),
                "edges": int(datas[0].n_weights)}
    finally:
        canvas.close()
        canvas.deleteLater()
        app.processEvents()


def main() -> None:
    """Print the benchmark for the article net, a mid-sized and a big net."""
    for layers in ([2, 3, 1], [2, 8, 8, 8, 1], [2, 64, 64, 64, 64, 1]):
        r = bench_canvas(layers)
        shape = "-".join(map(str, layers))
        print(f"{shape:>18}: {r['edges']:6d} edges  median {r['median_ms']:6.2f} ms  "
              f"p95 {r['p95_ms']:6.2f} ms  cpu median {r['cpu_median_ms']:6.2f} ms  "
              f"(set_data {r['set_data_ms']:.2f} ms)")


if __name__ == "__main__":
    main()
