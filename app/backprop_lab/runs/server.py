"""The training process: ``backprop-lab --train-server`` runs a ``TrainingLoop`` on the
commands read from stdin and writes its updates to stdout (frames of ``runs.wire``), so
training gets a core (and a GIL) of its own while the window draws. No Qt here: it
starts in a fraction of a second.

Conversation: the server says ``hello`` as soon as it runs, then waits for a ``load``
command (the network, data and ``RunState``), then answers every command with updates
and, when something goes wrong, ``failed`` messages. Further ``load`` commands replace
the run in the same loop. ``release`` ends the run (answer: ``released``), ``quit`` or
the end of stdin (the window is gone) ends the process.

While it runs the server also says ``alive`` every ``HEARTBEAT_SECONDS`` from a thread of
its own, so the window can tell a busy process from a stopped or hung one.
"""

from __future__ import annotations

import os
import queue
import signal
import sys
import threading
import traceback
from collections.abc import Callable
from typing import BinaryIO

import numpy as np

from .loop import ChannelClosed, TrainingLoop
from .state import Load, Message, decode_command
from .wire import ProtocolError, read_frame, write_frame

HEARTBEAT_SECONDS = 0.25


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


def run_server(inbox: queue.Queue, send: Callable[[Message], None], *,
               pause_seconds: float = 0.0) -> int:
    """Serve the messages put into ``inbox`` until ``quit`` or ``eof``; every answer goes
    to ``send``. The training process runs it on its stdin; the window's fall-back
    thread runs it on a queue of its own (``pause_seconds`` > 0 there, so the window's
    thread gets the GIL between chunks)."""

    def receive(timeout: float) -> Message | None:
        try:
            return inbox.get(timeout=timeout) if timeout > 0 else inbox.get_nowait()
        except queue.Empty:
            return None

    try:
        while True:
            msg = inbox.get()
            kind = msg.get("kind")
            if kind in ("quit", "eof"):
                return 0
            if kind == "release":
                send({"kind": "released"})
                continue
            if kind != "load":
                continue  # a command for a run that ended: nobody waits for it
            try:
                cmd, seq = decode_command(msg)
                if not isinstance(cmd, Load):
                    raise TypeError("not a load")
                loop = TrainingLoop(cmd.network, cmd.dataset, cmd.state.replace(applied=seq),
                                    record_start=cmd.record_start, pause_seconds=pause_seconds)
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
            if kind == "release":
                send({"kind": "released"})
            elif kind in ("quit", "eof"):
                return 0
            else:  # an internal error, reported by the loop
                send({"kind": "ended"})
    except ChannelClosed:
        return 0


def serve(inp: BinaryIO, out: BinaryIO, heartbeat: float | None = HEARTBEAT_SECONDS) -> int:
    """Answer the frames on ``inp`` on ``out`` until ``quit`` or the end of ``inp``."""
    inbox: queue.Queue[Message] = queue.Queue()
    threading.Thread(target=_read_commands, args=(inp, inbox), name="commands",
                     daemon=True).start()
    lock = threading.Lock()
    closed = threading.Event()

    def send(msg: Message) -> None:
        try:
            with lock:
                write_frame(out, msg)
        except (OSError, ValueError) as e:  # the parent closed the pipe (or is gone)
            closed.set()
            raise ChannelClosed(str(e)) from None

    def beat() -> None:
        while not closed.wait(heartbeat):
            try:
                send({"kind": "alive"})
            except ChannelClosed:
                return

    try:
        send({"kind": "hello", "pid": os.getpid()})
        if heartbeat:
            threading.Thread(target=beat, name="heartbeat", daemon=True).start()
        return run_server(inbox, send)
    except ChannelClosed:
        return 0
    finally:
        closed.set()


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
