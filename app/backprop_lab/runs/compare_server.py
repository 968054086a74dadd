"""A comparison in a process of its own: ``backprop-lab --compare-server``.

A comparison trained on a thread of the window's process holds the GIL for most of each
chunk (small NumPy arrays do not release it), and the UI thread waits for it at every
call into Qt: the window's frames and latency suffer exactly while the lecturer is
watching the curves grow. The window instead starts this server, writes one request
frame (``request``: the base, the variants, the epochs, the chunk) and reads a
``progress`` frame after every chunk (``progress_message``: the variant, its new rows
and path points, its state, how far the whole comparison is), then ``done``. Frames are
those of ``runs.wire`` (no pickle). The window cancels by ending the process; the
server ends by itself when the window's end of the pipe closes.

``apply_progress`` updates the window's copy of a ``Comparison`` (made from the same
request, so the same projects, data and first rows) from a ``progress`` message: after
the last one it holds what training the comparison in the window would have given, to
the bit (same code, same inputs; tested).
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import sys
import traceback
from collections.abc import Sequence
from typing import BinaryIO

import numpy as np

from .compare import Base, Comparison, Progress, Variant
from .state import Message, RunState
from .wire import read_frame, write_frame

__all__ = ["apply_progress", "comparison_from", "progress_message", "request", "serve"]

#: the comparison's process runs at this lower priority (``os.nice``): on a machine with
#: fewer cores than busy processes (the window, its training process, this one) the
#: window's frames and the main run come first
NICE = 10


# -- the request --------------------------------------------------------------------------
def request(base: Base, variants: Sequence[Variant], epochs: int, chunk: int) -> Message:
    """The request frame for a comparison of ``variants`` of ``base``."""
    return {"kind": "compare",
            "base": json.dumps(dataclasses.asdict(base)),
            "variants": json.dumps([dataclasses.asdict(v) for v in variants]),
            "epochs": int(epochs), "chunk": int(chunk)}


def comparison_from(msg: Message) -> Comparison:
    """The comparison a request describes (raises ``CompareError`` for bad input, as
    making it in the window would)."""
    b = json.loads(msg["base"])
    b["runs"] = [Variant(**v) for v in b.get("runs") or []]
    base = Base(**b)
    variants = [Variant(**v) for v in json.loads(msg["variants"])]
    return Comparison(base, variants, int(msg["epochs"]), chunk=int(msg["chunk"]))


# -- progress -----------------------------------------------------------------------------
def progress_message(comparison: Comparison, p: Progress, path_sent: int) -> Message:
    """A ``progress`` frame for ``p``: the path points of the variant from ``path_sent``
    on go with it."""
    run = comparison.runs[p.index]
    new_epochs = run.path_epochs[path_sent:]
    new_path = (np.array(run.path[path_sent:], dtype=np.float64) if new_epochs
                else np.zeros((0, len(run.state.params))))
    msg: Message = {"kind": "progress", "index": p.index, "rows": p.rows, "done": p.done,
                    "total": p.total, "finished": p.finished, "error": p.error,
                    "path_epochs": [int(e) for e in new_epochs], "path": new_path}
    for k, v in p.state.fields().items():
        msg["s_" + k] = v
    return msg


def apply_progress(comparison: Comparison, msg: Message) -> Progress:
    """Bring the window's copy of the comparison up to a ``progress`` message; returns
    the ``Progress`` it stands for."""
    i = int(msg["index"])
    run = comparison.runs[i]
    rows = np.asarray(msg["rows"], dtype=np.float64).reshape(-1, 5)
    if comparison.keep_rows and len(rows):
        run.rows.append(rows)
    epochs = msg["path_epochs"]
    if epochs:  # a chunk between two path points brings none
        path = np.asarray(msg["path"], dtype=np.float64).reshape(len(epochs), -1)
        for e, params in zip(epochs, path):
            run.path_epochs.append(int(e))
            run.path.append(params.copy())
    state = RunState.from_fields({k[2:]: v for k, v in msg.items() if k.startswith("s_")})
    run.state = state
    run.error = msg.get("error")
    run.done = bool(msg["finished"])
    return Progress(i, run.name, rows, state, int(msg["done"]), int(msg["total"]),
                    run.done, run.error)


# -- the server ---------------------------------------------------------------------------
def serve(inp: BinaryIO, out: BinaryIO) -> int:
    """Read one request from ``inp``, train it, write the progress to ``out``."""
    try:
        msg = read_frame(inp)
        if msg is None:
            return 0
        if msg.get("kind") != "compare":
            write_frame(out, {"kind": "failed", "message": "not a comparison request"})
            return 2
        try:
            comparison = comparison_from(msg)
        except ValueError as e:  # CompareError: named in the window already, normally
            write_frame(out, {"kind": "failed", "message": str(e).splitlines()[0]})
            return 2
        sent = [1] * len(comparison.runs)  # the first path point is made in the window
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for p in comparison:
                write_frame(out, progress_message(comparison, p, sent[p.index]))
                sent[p.index] = len(comparison.runs[p.index].path_epochs)
        write_frame(out, {"kind": "done"})
        return 0
    except (OSError, ValueError):  # the window closed the pipe: nobody is listening
        return 0
    except Exception:  # reported, never silent
        try:
            write_frame(out, {"kind": "failed", "message": "The comparison failed:\n"
                              + traceback.format_exc(limit=5)})
        except (OSError, ValueError):
            pass
        return 1


def main() -> int:
    """``backprop-lab --compare-server``: one comparison from stdin, progress to stdout."""
    from .server import _claim_stdout

    try:  # Ctrl+C in the terminal is for the window; closing stdin ends this process
        if not os.isatty(0):
            signal.signal(signal.SIGINT, signal.SIG_IGN)
    except (ValueError, OSError, AttributeError):
        pass
    try:  # the window and its main run come first: a comparison takes what they leave
        os.nice(NICE)
    except (AttributeError, OSError):  # no nice (Windows) or not allowed: as it is
        pass
    out = _claim_stdout()
    inp = open(0, "rb", closefd=False)
    code = serve(inp, out)
    sys.stderr.flush()
    return code
