"""The training process: ``backprop-lab --train-server`` runs a ``TrainingLoop`` on commands
read from stdin and writes its updates to stdout, so training gets a core (and a GIL) of
its own while the window draws. No Qt here: it starts in a fraction of a second.

Wire format (both directions), no pickle: a frame is

    u32 header length, u32 payload length (little-endian), header, payload

The header is UTF-8 JSON ``{"m": fields, "a": [[name, shape, offset], ...]}``: ``fields``
holds the message's plain values (numbers, strings, None, lists, dicts; NaN and infinity
as JSON's usual extensions) and every top-level NumPy array of the message is listed in
``a`` and stored in the payload as raw little-endian float64 at ``offset``.

Conversation: the parent sends ``load`` (the network, settings, data and where the run
stands), then worker commands (``training_loop.command_message``). The server answers
with ``update`` (the first one right after each ``load``) and ``failed`` messages.
``release`` ends the run (answer: ``released``) and the server waits for the next
``load``; a ``load`` during a run replaces it. ``quit`` or the end of stdin (the parent is
gone) ends the process. If the loop fails internally the server reports it (``failed``),
answers ``ended`` and waits for ``load``.
"""

from __future__ import annotations

import io
import json
import os
import queue
import signal
import struct
import sys
import threading
import traceback
from typing import Any, BinaryIO

import numpy as np

from ..engine.data import Dataset
from ..engine.network import Network
from ..engine.training import TrainingConfig
from .training_loop import ChannelClosed, Message, TrainingLoop, config_from_dict, config_to_dict

_PREFIX = struct.Struct("<II")
MAX_HEADER = 64 << 20


class ProtocolError(ValueError):
    """A frame that does not follow the wire format."""


# -- frames -------------------------------------------------------------------------------
def _plain(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, tuple):
        return list(v)
    raise TypeError(f"cannot send a {type(v).__name__} ({v!r:.40})")


def encode(msg: Message) -> bytes:
    """One frame for ``msg`` (a dict; top-level arrays go to the payload as float64)."""
    fields: dict[str, Any] = {}
    arrays: list[list] = []
    chunks: list[bytes] = []
    offset = 0
    for key, value in msg.items():
        if isinstance(value, np.ndarray):
            if value.dtype.kind not in "fiub":
                raise TypeError(f"cannot send an array of {value.dtype} ({key!r})")
            a = np.ascontiguousarray(value, dtype="<f8")
            arrays.append([key, list(a.shape), offset])
            chunks.append(a.tobytes())
            offset += a.nbytes
        else:
            fields[key] = value
    header = json.dumps({"m": fields, "a": arrays}, separators=(",", ":"),
                        default=_plain).encode("utf-8")
    return b"".join([_PREFIX.pack(len(header), offset), header, *chunks])


def _decode_parts(header: bytes, payload: bytes) -> Message:
    try:
        doc = json.loads(header.decode("utf-8"))
        msg = doc["m"]
        arrays = doc["a"]
        if not isinstance(msg, dict) or not isinstance(arrays, list):
            raise TypeError("not a message")
        for name, shape, offset in arrays:
            count = int(np.prod(shape, dtype=np.int64))
            if offset < 0 or offset + 8 * count > len(payload):
                raise ValueError(f"array {name!r} lies outside the payload")
            msg[name] = np.frombuffer(payload, dtype="<f8", count=count,
                                      offset=offset).reshape(shape).astype(np.float64)
    except (UnicodeDecodeError, ValueError, TypeError, KeyError) as e:
        raise ProtocolError(f"bad frame: {e}") from None
    return msg


def decode(frame: bytes) -> Message:
    """The message in one whole frame (as made by ``encode``)."""
    if len(frame) < _PREFIX.size:
        raise ProtocolError("bad frame: too short")
    n_header, n_payload = _PREFIX.unpack_from(frame)
    if len(frame) != _PREFIX.size + n_header + n_payload:
        raise ProtocolError("bad frame: its length does not match its prefix")
    body = memoryview(frame)[_PREFIX.size:]
    return _decode_parts(bytes(body[:n_header]), bytes(body[n_header:]))


def _read_exact(stream: BinaryIO, n: int) -> bytes | None:
    """``n`` bytes, or None at the end of the stream (also in the middle of a frame)."""
    if n == 0:
        return b""
    data = stream.read(n)
    if not data:
        return None
    if len(data) == n:
        return data
    parts, got = [data], len(data)
    while got < n:
        more = stream.read(n - got)
        if not more:
            return None
        parts.append(more)
        got += len(more)
    return b"".join(parts)


def read_frame(stream: BinaryIO) -> Message | None:
    """The next message from ``stream``; None when the other side closed it."""
    prefix = _read_exact(stream, _PREFIX.size)
    if prefix is None:
        return None
    n_header, n_payload = _PREFIX.unpack(prefix)
    if n_header > MAX_HEADER:
        raise ProtocolError(f"bad frame: a header of {n_header} bytes")
    body = _read_exact(stream, n_header + n_payload)
    if body is None:
        return None
    return _decode_parts(body[:n_header], body[n_header:])


def write_all(stream: BinaryIO, data: bytes) -> None:
    """Write all of ``data`` (raw streams may take less than offered)."""
    view = memoryview(data)
    while view:
        n = stream.write(view)
        if n is None:  # a non-blocking stream that is full: never the case here
            n = 0
        view = view[n:]
    if not isinstance(stream, io.RawIOBase):
        stream.flush()


def write_frame(stream: BinaryIO, msg: Message) -> None:
    write_all(stream, encode(msg))


# -- the load message ---------------------------------------------------------------------
def load_message(net: Network, cfg: TrainingConfig, dataset: Dataset, epoch: int = 0, *,
                 params: np.ndarray | None = None, generation: int = 0, version: int = 0,
                 applied: int = 0, running: bool = False, budget: int = 0,
                 speed: float | None = None, record_start: bool = True) -> Message:
    """Everything a server needs to carry a run on: the network (with its weights), the
    training settings, the data (the arrays themselves: exact, also for data typed in by
    hand) and where the run stands."""
    return {
        "kind": "load", "layers": list(net.layers), "hidden": list(net.hidden_activations),
        "output": net.output_activation, "params": net.params if params is None else params,
        "config": config_to_dict(cfg),
        "x_train": dataset.x_train, "y_train": dataset.y_train,
        "x_test": dataset.x_test, "y_test": dataset.y_test,
        "input_names": list(dataset.input_names), "target_names": list(dataset.target_names),
        "task": dataset.task, "epoch": int(epoch), "generation": int(generation),
        "version": int(version), "applied": int(applied), "running": bool(running),
        "budget": int(budget), "speed": speed, "record_start": bool(record_start),
    }


def loop_from_load(msg: Message, pause_seconds: float = 0.0) -> TrainingLoop:
    net = Network(msg["layers"], msg["hidden"], msg["output"], msg["params"])
    ds = Dataset(msg["x_train"], msg["y_train"], msg["x_test"], msg["y_test"],
                 tuple(msg["input_names"]), tuple(msg["target_names"]), msg["task"])
    return TrainingLoop(net, config_from_dict(msg["config"]), ds, msg["epoch"],
                        generation=msg["generation"], version=msg["version"],
                        applied=msg["applied"], running=msg["running"],
                        budget=msg["budget"], speed=msg["speed"],
                        record_start=msg["record_start"], pause_seconds=pause_seconds)


# -- the process --------------------------------------------------------------------------
def _claim_stdout() -> BinaryIO:
    """The frame channel on the original stdout; fd 1 and ``sys.stdout`` then point to
    stderr, so nothing else can write into the channel."""
    fd = os.dup(1)
    try:
        os.dup2(2, 1)
    except OSError:  # no stderr (a windowed app on Windows)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.close(devnull)
    sys.stdout = sys.stderr
    if sys.platform == "win32":
        import msvcrt

        msvcrt.setmode(fd, os.O_BINARY)
        msvcrt.setmode(0, os.O_BINARY)
    return open(fd, "wb", buffering=0)


def _read_commands(stream: BinaryIO, inbox: queue.Queue) -> None:
    while True:
        try:
            msg = read_frame(stream)
        except (OSError, ProtocolError) as e:
            print(f"backprop-lab --train-server: {e}", file=sys.stderr)
            msg = None
        if msg is None:
            inbox.put({"kind": "eof"})
            return
        inbox.put(msg)


def serve(inp: BinaryIO, out: BinaryIO) -> int:
    """Answer the frames on ``inp`` on ``out`` until ``quit`` or the end of ``inp``."""
    inbox: queue.Queue[Message] = queue.Queue()
    threading.Thread(target=_read_commands, args=(inp, inbox), name="commands",
                     daemon=True).start()

    def receive(timeout: float) -> Message | None:
        try:
            return inbox.get(timeout=timeout) if timeout > 0 else inbox.get_nowait()
        except queue.Empty:
            return None

    def send(msg: Message) -> None:
        try:
            write_frame(out, msg)
        except (OSError, ValueError) as e:  # the parent closed the pipe (or is gone)
            raise ChannelClosed(str(e)) from None

    nxt: Message | None = None
    try:
        while True:
            msg, nxt = (nxt or inbox.get()), None
            kind = msg.get("kind")
            if kind in ("quit", "eof"):
                return 0
            if kind == "release":
                send({"kind": "released"})
                continue
            if kind != "load":
                continue  # a command for a run that ended: nobody waits for it
            try:
                loop = loop_from_load(msg)
                with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                    first = loop.publish()  # the answer to a load: here is the state
            except Exception:  # reported, never silent
                send({"kind": "failed", "message": "The training process could not load the "
                      "network:\n" + traceback.format_exc(limit=5)})
                send({"kind": "ended"})
                continue
            send(first)
            end = loop.serve(receive, send)
            kind = end.get("kind")
            if kind == "load":
                nxt = end
            elif kind == "release":
                send({"kind": "released"})
            elif kind in ("quit", "eof"):
                return 0
            else:  # an internal error, reported by the loop
                send({"kind": "ended"})
    except ChannelClosed:
        return 0


def main() -> int:
    """``backprop-lab --train-server``: serve stdin/stdout until told to quit."""
    try:  # Ctrl+C in the terminal is for the window; it ends this process by closing stdin
        if not os.isatty(0):
            signal.signal(signal.SIGINT, signal.SIG_IGN)
    except (ValueError, OSError, AttributeError):
        pass
    out = _claim_stdout()
    inp = open(0, "rb", closefd=False)
    return serve(inp, out)
