"""The wire format between the window and its training process. No pickle, no Qt.

A frame is

    u32 header length, u32 payload length (little-endian), header, payload

The header is UTF-8 JSON ``{"m": fields, "a": [[name, shape, offset], ...]}``: ``fields``
holds the message's plain values (numbers, strings, None, lists, dicts; NaN and infinity
as JSON's usual extensions) and every top-level NumPy array of the message is listed in
``a`` and stored in the payload as raw little-endian float64 at ``offset``.

``read_frame`` reads one frame from a blocking stream; ``FrameReader`` takes bytes as
they arrive (a ``QProcess``'s output) and hands out the whole messages among them.
"""

from __future__ import annotations

import io
import json
import struct
from typing import Any, BinaryIO

import numpy as np

from .state import Message

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


class FrameReader:
    """Collects bytes as they arrive and yields the whole messages among them."""

    def __init__(self):
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[Message]:
        """Add ``data``; return the messages completed by it (raises ``ProtocolError``)."""
        self._buf += data
        out = []
        buf = self._buf
        pos = 0
        while len(buf) - pos >= _PREFIX.size:
            n_header, n_payload = _PREFIX.unpack_from(buf, pos)
            if n_header > MAX_HEADER:
                raise ProtocolError(f"bad frame: a header of {n_header} bytes")
            end = pos + _PREFIX.size + n_header + n_payload
            if len(buf) < end:
                break
            body = bytes(buf[pos + _PREFIX.size:end])
            out.append(_decode_parts(body[:n_header], body[n_header:]))
            pos = end
        if pos:
            del buf[:pos]
        return out

    @property
    def pending(self) -> int:
        """Bytes received that do not make a whole frame yet."""
        return len(self._buf)
