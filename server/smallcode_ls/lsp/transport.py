"""The message loop: frames in from a byte stream, frames out to a private descriptor.

Replaces pygls's ``start_io``/``start_tcp`` loops. Reads happen on a daemon thread
(stdio) or the event loop (TCP) and go through :class:`FrameParser`; bodies are handed
to the protocol. The loop ends at ``exit``, at end of input, when the client process
dies or when the client stops reading; then everything is cleaned up within a bound.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from smallcode_ls.lsp.framing import Body, FrameParser
from smallcode_ls.lsp.watchdog import exit_deadline, terminate_children, watch_client

if TYPE_CHECKING:
    from smallcode_ls.lsp.server import SmallCodeServer

__all__ = ["EXIT_DEADLINE_S", "FdWriter", "serve_stdio", "serve_tcp"]

logger = logging.getLogger("smallcode_ls.protocol")

CHUNK = 64 * 1024
EXIT_DEADLINE_S = 3.5  # from the end of the message loop
EOF_DEADLINE_S = 4.5  # from end of input or the client's death, whatever the loop is doing
_STOP = None  # queue item: leave the loop


class FdWriter:
    """Writes whole frames to a file descriptor; one frame at a time, from any thread."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._lock = threading.Lock()
        self._closed = False

    def write(self, data: bytes) -> None:
        """Write all of ``data`` (raises OSError when the client has gone)."""
        with self._lock:
            if self._closed:
                raise BrokenPipeError("the frame stream is closed")
            view = memoryview(data)
            while view:
                view = view[os.write(self.fd, view) :]

    def close(self) -> None:
        """Close the descriptor (the client sees end of input)."""
        with self._lock:
            if not self._closed:
                self._closed = True
                with contextlib.suppress(OSError):
                    os.close(self.fd)


def _reader_thread(
    fd: int,
    loop: asyncio.AbstractEventLoop,
    queue: asyncio.Queue[bytes | None],
    credit: threading.Semaphore,
    final_code: Callable[[], int],
) -> None:
    """Blocking reads on ``fd``; each chunk goes to the loop (b"" at end of input).

    At end of input the exit deadline starts here, so that the process leaves on time
    even if a handler is blocking the event loop.
    """
    while True:
        credit.acquire()
        try:
            chunk = os.read(fd, CHUNK)
        except OSError:
            chunk = b""
        if not chunk:
            exit_deadline(final_code, EOF_DEADLINE_S)
        try:
            loop.call_soon_threadsafe(queue.put_nowait, chunk)
        except RuntimeError:  # the loop is closed: the server is leaving
            return
        if not chunk:
            return


async def _serve(
    server: SmallCodeServer,
    next_chunk: Callable[[], Awaitable[bytes | None]],
    stop: Callable[[], None],
) -> int:
    """Feed chunks to the parser and bodies to the protocol until the loop must end."""
    protocol = server.lsp
    protocol.on_stop = stop
    parser = FrameParser()
    loop = asyncio.get_running_loop()

    def client_gone(why: str) -> None:
        exit_deadline(protocol.final_code, EOF_DEADLINE_S)
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(protocol.client_gone, why)

    watch_client(lambda: server.process_id, client_gone)
    while (chunk := await next_chunk()) is not _STOP:
        events = parser.feed(chunk) if chunk else parser.eof()
        for event in events:
            if protocol.exit_code is not None:
                break
            if isinstance(event, Body):
                protocol.receive(event.data)
            else:
                protocol.framing_fault(event.reason)
            await asyncio.sleep(0)  # let handlers started by this message take a step
        if not chunk:
            logger.info("end of input")
            break
        if protocol.exit_code is not None:
            break
    code = protocol.final_code()
    exit_deadline(code, EXIT_DEADLINE_S)  # from here on, nothing may keep the process alive
    await _clean_up(server)
    return code


async def _clean_up(server: SmallCodeServer) -> None:
    """Cancel requests, close the session, stop workers and children."""
    from smallcode_ls.graph.build import shutdown_pools

    await server.lsp.settle(1.0)
    session = server._session
    if session is not None:
        with contextlib.suppress(Exception):
            session.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(session.models.aclose(), 1.0)
    with contextlib.suppress(Exception):
        shutdown_pools()
    with contextlib.suppress(Exception):
        server.thread_pool.shutdown(wait=False, cancel_futures=True)
    await asyncio.to_thread(terminate_children)


def serve_stdio(server: SmallCodeServer, in_fd: int, out_fd: int) -> int:
    """Serve one client over ``in_fd``/``out_fd``; return the process exit code."""
    writer = FdWriter(out_fd)
    server.protocol.set_writer(writer)

    async def main() -> int:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        credit = threading.Semaphore(16)

        async def next_chunk() -> bytes | None:
            item = await queue.get()
            credit.release()
            return item

        threading.Thread(
            target=_reader_thread,
            args=(in_fd, loop, queue, credit, server.lsp.final_code),
            daemon=True,
        ).start()
        return await _serve(server, next_chunk, lambda: queue.put_nowait(_STOP))

    try:
        return asyncio.run(main())
    except BaseException:
        exit_deadline(1, EXIT_DEADLINE_S)
        raise
    finally:
        writer.close()


def serve_tcp(server: SmallCodeServer, host: str, port: int) -> int:
    """Listen on ``host:port``, serve the first client, and return the exit code."""

    async def main() -> int:
        done: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            if done.done() or getattr(server, "_connected", False):
                writer.close()
                return
            server._connected = True  # type: ignore[attr-defined]
            stopped = asyncio.Event()
            server.protocol.set_writer(_StreamWriter(writer))

            async def next_chunk() -> bytes | None:
                read = asyncio.ensure_future(reader.read(CHUNK))
                halt = asyncio.ensure_future(stopped.wait())
                await asyncio.wait({read, halt}, return_when=asyncio.FIRST_COMPLETED)
                halt.cancel()
                if not read.done():
                    read.cancel()
                    return _STOP
                return read.result() if read.exception() is None else b""

            code = await _serve(server, next_chunk, stopped.set)
            writer.close()
            if not done.done():
                done.set_result(code)

        listener = await asyncio.start_server(connection, host, port)
        logger.info("listening on %s:%s", host, port)
        async with listener:
            return await done

    try:
        return asyncio.run(main())
    except BaseException:
        exit_deadline(1, EXIT_DEADLINE_S)
        raise


class _StreamWriter:
    """Adapts an asyncio stream to the protocol's writer interface (loop thread only)."""

    def __init__(self, stream: asyncio.StreamWriter) -> None:
        self._stream = stream

    def write(self, data: bytes) -> None:
        if self._stream.is_closing():
            raise BrokenPipeError("the client disconnected")
        self._stream.write(data)

    def close(self) -> None:
        self._stream.close()
