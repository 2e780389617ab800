"""LSP base-protocol framing: bytes in, message bodies or framing faults out.

Pure and incremental (no I/O), so it can be fuzzed in-process. Unlike pygls's reader
it treats header names case-insensitively, tolerates extra headers, caps the header
block and the declared body size (a huge ``Content-Length`` is refused, never
allocated) and, after any fault, resynchronises on the next ``Content-Length`` header.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["MAX_BODY_BYTES", "MAX_HEADER_BYTES", "Body", "FrameParser", "FramingFault"]

MAX_BODY_BYTES = 64 * 1024 * 1024
MAX_HEADER_BYTES = 8 * 1024

_TERMINATOR = b"\r\n\r\n"
_RESYNC = re.compile(rb"content-length[ \t]*:", re.IGNORECASE)
_RESYNC_KEEP = 24  # bytes kept across chunks so a header split between reads is still found
_TOKEN = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


@dataclass(frozen=True)
class Body:
    """One complete message body, exactly ``Content-Length`` bytes."""

    data: bytes


@dataclass(frozen=True)
class FramingFault:
    """Bytes that were not a valid frame (they are discarded up to the next header)."""

    reason: str


Event = Body | FramingFault


class FrameParser:
    """Split a byte stream into frames; never holds more than one frame plus one chunk."""

    def __init__(self, max_body: int = MAX_BODY_BYTES, max_header: int = MAX_HEADER_BYTES) -> None:
        self.max_body = max_body
        self.max_header = max_header
        self.discarded = 0  # bytes dropped while resynchronising, over the parser's life
        self._buffer = bytearray()
        self._need: int | None = None  # body length once a header block was read
        self._resyncing = False

    def feed(self, data: bytes) -> list[Event]:
        """Consume ``data``; return the bodies and faults it completed, in order."""
        self._buffer += data
        events: list[Event] = []
        while (event := self._step()) is not None:
            events.append(event)
        return events

    def eof(self) -> list[Event]:
        """The stream ended: report an unfinished frame as a fault."""
        unfinished = bool(self._buffer.strip()) and not self._resyncing
        self.discarded += len(self._buffer)
        self._buffer.clear()
        self._need = None
        return [FramingFault("stream ended inside a frame")] if unfinished else []

    def _step(self) -> Event | None:
        if self._resyncing and not self._resync():
            return None
        if self._need is not None:
            if len(self._buffer) < self._need:
                return None
            body = bytes(self._buffer[: self._need])
            del self._buffer[: self._need]
            self._need = None
            return Body(body)
        return self._read_header()

    def _read_header(self) -> Event | None:
        # Blank lines between frames are harmless; drop them quietly.
        while self._buffer[:2] == b"\r\n":
            del self._buffer[:2]
        end = self._buffer.find(_TERMINATOR, 0, self.max_header + len(_TERMINATOR))
        if end < 0:
            if len(self._buffer) > self.max_header:
                return self._fault("header block too large")
            return None
        length = _content_length(bytes(self._buffer[:end]))
        if isinstance(length, str):
            # A block that starts with a real header is dropped whole; anything else may
            # be junk glued to a real header, so resync from the next byte.
            first = bytes(self._buffer[:end]).split(b":", 1)[0].strip().lower()
            whole = first in (b"content-length", b"content-type")
            return self._fault(length, end + len(_TERMINATOR) if whole else 1)
        if length > self.max_body:
            reason = f"Content-Length {length} is over the {self.max_body}-byte cap"
            return self._fault(reason, end + len(_TERMINATOR))
        del self._buffer[: end + len(_TERMINATOR)]
        self._need = length
        return self._step()

    def _fault(self, reason: str, drop: int = 1) -> FramingFault:
        """Report a fault, drop the bad block, discard up to the next ``Content-Length``."""
        self._resyncing = True
        del self._buffer[:drop]
        self.discarded += drop
        return FramingFault(reason)

    def _resync(self) -> bool:
        """Drop bytes until a ``Content-Length`` header starts the buffer; True when found."""
        match = _RESYNC.search(self._buffer)
        drop = match.start() if match else max(0, len(self._buffer) - _RESYNC_KEEP)
        del self._buffer[:drop]
        self.discarded += drop
        self._resyncing = match is None
        return match is not None


def _content_length(block: bytes) -> int | str:
    """The Content-Length of a header block, or why the block is not a valid header."""
    length: int | None = None
    for line in block.split(b"\r\n"):
        name, colon, value = line.partition(b":")
        if not colon or _TOKEN.fullmatch(name.strip()) is None:
            return "malformed header line"
        if name.strip().lower() != b"content-length":
            continue  # Content-Type and unknown headers are tolerated
        text = value.strip()
        if not text.isdigit() or len(text) > 20:
            return "invalid Content-Length"
        if length is not None and int(text) != length:
            return "conflicting Content-Length headers"
        length = int(text)
    if length is None:
        return "header block without Content-Length"
    return length
