"""A scripted OpenAI-compatible HTTP server on 127.0.0.1 for deterministic model tests.

Each request pops the next :class:`Reply` from the script; replies can stream SSE
chunks (chunked transfer encoding), pause, stall, reset the connection mid-stream,
or answer with any status, headers and body. Requests are recorded for assertions.
"""

from __future__ import annotations

import asyncio
import json
import socket
import struct
from collections import deque
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Reply:
    """What the server does for one request."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    chunks: list[bytes | float] | None = None  # SSE mode: payloads, or pauses in seconds
    reset_after: int | None = None  # send this many chunks, then RST the connection
    stall: float = 0.0  # wait before sending the status line
    finish_stream: bool = True  # send the terminating zero-length chunk


@dataclass
class Recorded:
    """One request the server received."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any


def sse(data: Any) -> bytes:
    """One ``data:`` event."""
    payload = data if isinstance(data, str) else json.dumps(data)
    return f"data: {payload}\n\n".encode()


def delta(text: str, finish: str | None = None) -> bytes:
    """A streamed chat chunk carrying ``text``."""
    choice = {"index": 0, "delta": {"content": text}, "finish_reason": finish}
    return sse({"id": "c1", "model": "scripted", "choices": [choice]})


def stream_reply(
    texts: list[str],
    finish: str | None = "stop",
    usage: dict[str, int] | None = None,
    done: bool = True,
) -> Reply:
    """A well-formed SSE answer (finish on the last chunk, optional usage, [DONE])."""
    chunks: list[bytes | float] = [delta(text) for text in texts]
    if finish is not None:
        chunks.append(delta("", finish))
    if usage is not None:
        chunks.append(sse({"id": "c1", "choices": [], "usage": usage}))
    if done:
        chunks.append(sse("[DONE]"))
    return Reply(headers={"content-type": "text/event-stream"}, chunks=chunks)


def json_reply(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
    """A plain JSON answer."""
    return Reply(
        status=status,
        headers={"content-type": "application/json", **(headers or {})},
        body=json.dumps(data).encode(),
    )


class ScriptedLLM:
    """The server. ``async with ScriptedLLM() as llm: llm.base_url``."""

    def __init__(self) -> None:
        self.script: deque[Reply] = deque()
        self.requests: list[Recorded] = []
        self.disconnects = 0
        self._server: asyncio.Server | None = None
        self._disconnected = asyncio.Event()
        self._received = asyncio.Event()
        self.port = 0

    @property
    def base_url(self) -> str:
        """The OpenAI base URL (``http://127.0.0.1:PORT/v1``)."""
        return f"http://127.0.0.1:{self.port}/v1"

    def enqueue(self, *replies: Reply) -> None:
        """Append replies to the script."""
        self.script.extend(replies)

    async def __aenter__(self) -> ScriptedLLM:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def wait_request(self, timeout: float) -> None:
        """Wait until a request has arrived (the client is now waiting for its answer)."""
        await asyncio.wait_for(self._received.wait(), timeout)

    async def wait_disconnect(self, timeout: float) -> None:
        """Wait until a client dropped a connection mid-reply."""
        await asyncio.wait_for(self._disconnected.wait(), timeout)

    async def _read_request(self, reader: asyncio.StreamReader) -> Recorded:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, path, _ = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                key, value = line.split(":", 1)
                headers[key.strip().lower()] = value.strip()
        raw = await reader.readexactly(int(headers.get("content-length", "0")))
        body = json.loads(raw) if raw else None
        return Recorded(method, path, headers, body)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await self._read_request(reader)
            self.requests.append(request)
            self._received.set()
            reply = (
                self.script.popleft() if self.script else json_reply({"error": "no script"}, 500)
            )
            await self._respond(reply, reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            self.disconnects += 1
            self._disconnected.set()
        finally:
            writer.close()

    async def _respond(
        self, reply: Reply, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        if reply.stall:
            await asyncio.sleep(reply.stall)
        headers = dict(reply.headers)
        chunked = reply.chunks is not None
        if chunked:
            headers["transfer-encoding"] = "chunked"
        else:
            headers["content-length"] = str(len(reply.body))
        headers.setdefault("connection", "close")
        head = f"HTTP/1.1 {reply.status} X\r\n" + "".join(
            f"{k}: {v}\r\n" for k, v in headers.items()
        )
        writer.write(head.encode() + b"\r\n")
        if not chunked:
            writer.write(reply.body)
            await writer.drain()
            return
        sent = 0
        for item in reply.chunks or []:
            if isinstance(item, float):
                await writer.drain()
                await asyncio.sleep(item)
                if reader.at_eof() or writer.is_closing():  # the client hung up
                    raise ConnectionResetError
                continue
            if reply.reset_after is not None and sent >= reply.reset_after:
                _reset(writer)
                return
            writer.write(b"%x\r\n%s\r\n" % (len(item), item))
            await writer.drain()
            sent += 1
        if reply.reset_after is not None:
            _reset(writer)
            return
        if reply.finish_stream:
            writer.write(b"0\r\n\r\n")
        await writer.drain()


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with RST (SO_LINGER 0), as a crashing server would."""
    sock = writer.transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
