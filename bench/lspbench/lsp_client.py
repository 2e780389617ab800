"""Minimal asyncio LSP client over stdio (JSON-RPC with Content-Length framing).

Deliberately independent of pygls so that the client cost is small, explicit and
identical for every server under test.  Features:

* requests with a per-request timeout (``$/cancelRequest`` is sent on timeout),
  returning the result plus the round-trip time measured with ``perf_counter``;
* automatic answers to the server->client requests a VS Code-like client sees
  (``window/workDoneProgress/create``, ``workspace/configuration``,
  ``client/registerCapability`` ...);
* a log of ``$/progress`` notifications with receive timestamps, and awaitable
  "progress end" events keyed by the title of the ``begin`` message.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

JsonObj = dict[str, Any]


class LspError(Exception):
    """A request failed: error response, timeout, or the server went away."""


@dataclass
class ProgressEvent:
    """One ``$/progress`` notification as received."""

    t: float
    token: str
    kind: str
    title: str | None
    message: str | None
    percentage: int | None


@dataclass
class Reply:
    """A successful response with its round-trip latency."""

    result: Any
    latency_ms: float
    received_at: float


@dataclass
class _Counters:
    notifications: dict[str, int] = field(default_factory=dict)
    server_requests: dict[str, int] = field(default_factory=dict)


def _frame(message: JsonObj) -> bytes:
    body = json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def _answer_server_request(method: str, params: Any) -> Any:
    """Result a VS Code-like client would give for a server->client request."""
    if method == "workspace/configuration":
        items = params.get("items", []) if isinstance(params, Mapping) else []
        return [None for _ in items]
    if method == "workspace/workspaceFolders":
        return None
    if method == "window/showMessageRequest":
        return None
    if method == "workspace/applyEdit":
        return {"applied": False}
    # window/workDoneProgress/create, client/(un)registerCapability, refreshes.
    return None


class LspClient:
    """Spawns one server process and talks LSP to it over its stdin/stdout."""

    def __init__(self, argv: Sequence[str], cwd: Path, env: Mapping[str, str], stderr_path: Path):
        self.argv = list(argv)
        self.cwd = cwd
        self.env = dict(env)
        self.stderr_path = stderr_path
        self.proc: asyncio.subprocess.Process | None = None
        self.progress: list[ProgressEvent] = []
        self.counters = _Counters()
        self._next_id = 0
        self._pending: dict[int, tuple[asyncio.Future[Reply], float]] = {}
        self._titles: dict[str, str | None] = {}
        self._end_waiters: list[tuple[Callable[[str], bool], asyncio.Future[float]]] = []
        self._reader: asyncio.Task[None] | None = None
        self._stderr_file: Any = None
        self.closed_reason: str | None = None
        self.t_spawn = 0.0

    # ------------------------------------------------------------------ process
    async def start(self) -> None:
        """Start the server process and the reader task."""
        self._stderr_file = self.stderr_path.open("wb")
        self.t_spawn = time.perf_counter()
        self.proc = await asyncio.create_subprocess_exec(
            *self.argv,
            cwd=str(self.cwd),
            env=self.env,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=self._stderr_file,
            limit=1 << 20,
        )
        self._reader = asyncio.create_task(self._read_loop())

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.returncode is None and self.closed_reason is None

    def stderr_tail(self, limit: int = 2000) -> str:
        """Last ``limit`` characters of the server's stderr."""
        try:
            data = self.stderr_path.read_bytes()
        except OSError:
            return ""
        return data[-limit:].decode("utf-8", "replace")

    async def stop(self, timeout: float = 10.0) -> int | None:
        """Wait for the process to exit (kill it after ``timeout``); return its code."""
        if self.proc is None:
            return None
        try:
            await asyncio.wait_for(self.proc.wait(), timeout)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()
            await self.proc.wait()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
        if self._stderr_file is not None:
            self._stderr_file.close()
        return self.proc.returncode

    # ---------------------------------------------------------------- messaging
    async def _write(self, message: JsonObj) -> None:
        if self.proc is None or self.proc.stdin is None or not self.alive:
            raise LspError(f"server not running ({self.closed_reason or 'exited'})")
        try:
            self.proc.stdin.write(_frame(message))
            await self.proc.stdin.drain()
        except (BrokenPipeError, ConnectionResetError) as exc:
            self._close(f"stdin closed: {exc!r}")
            raise LspError(f"server stdin closed: {exc!r}") from exc

    async def notify(self, method: str, params: Any) -> float:
        """Send a notification; return the ``perf_counter`` time it was sent."""
        await self._write({"jsonrpc": "2.0", "method": method, "params": params})
        return time.perf_counter()

    async def request(self, method: str, params: Any, timeout: float) -> Reply:
        """Send a request and wait for its response (raises LspError)."""
        self._next_id += 1
        req_id = self._next_id
        fut: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        sent = time.perf_counter()
        self._pending[req_id] = (fut, sent)
        try:
            await self._write({"jsonrpc": "2.0", "id": req_id, "method": method, "params": params})
            return await asyncio.wait_for(fut, timeout)
        except TimeoutError as exc:
            with contextlib.suppress(LspError):
                await self.notify("$/cancelRequest", {"id": req_id})
            raise LspError(f"{method}: timeout after {timeout:.0f}s") from exc
        finally:
            self._pending.pop(req_id, None)

    async def wait_progress_end(
        self, title_pred: Callable[[str], bool], timeout: float
    ) -> float | None:
        """perf_counter time of the first ``end`` whose begin title matches, or None."""
        for event in self.progress:
            if event.kind == "end" and title_pred(self._titles.get(event.token) or ""):
                return event.t
        fut: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._end_waiters.append((title_pred, fut))
        try:
            return await asyncio.wait_for(fut, timeout)
        except TimeoutError:
            return None
        finally:
            self._end_waiters = [w for w in self._end_waiters if w[1] is not fut]

    # ------------------------------------------------------------------ reading
    async def _read_message(self) -> JsonObj | None:
        assert self.proc is not None and self.proc.stdout is not None
        stdout = self.proc.stdout
        length = -1
        while True:
            line = await stdout.readline()
            if not line:
                return None
            line = line.strip()
            if not line:
                break
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        if length < 0:
            raise LspError("message without Content-Length")
        body = await stdout.readexactly(length)
        message: JsonObj = json.loads(body)
        return message

    async def _read_loop(self) -> None:
        reason = "server closed stdout"
        try:
            while True:
                message = await self._read_message()
                if message is None:
                    break
                await self._dispatch(message, time.perf_counter())
        except asyncio.CancelledError:
            reason = "reader cancelled"
            raise
        except (LspError, ValueError, asyncio.IncompleteReadError) as exc:
            reason = f"protocol error: {exc!r}"
        finally:
            self._close(reason)

    def _close(self, reason: str) -> None:
        if self.closed_reason is None:
            self.closed_reason = reason
        for fut, _ in list(self._pending.values()):
            if not fut.done():
                fut.set_exception(LspError(reason))

    async def _dispatch(self, message: JsonObj, now: float) -> None:
        method = message.get("method")
        if method is None:
            self._on_response(message, now)
        elif "id" in message:
            await self._on_server_request(message)
        else:
            self._on_notification(str(method), message.get("params"), now)

    def _on_response(self, message: JsonObj, now: float) -> None:
        entry = self._pending.get(message.get("id", -1))
        if entry is None:
            return
        fut, sent = entry
        if fut.done():
            return
        if "error" in message:
            err = message["error"] or {}
            fut.set_exception(LspError(f"error {err.get('code')}: {err.get('message')}"))
        else:
            fut.set_result(Reply(message.get("result"), (now - sent) * 1000.0, now))

    async def _on_server_request(self, message: JsonObj) -> None:
        method = str(message["method"])
        counts = self.counters.server_requests
        counts[method] = counts.get(method, 0) + 1
        result = _answer_server_request(method, message.get("params"))
        with contextlib.suppress(LspError):
            await self._write({"jsonrpc": "2.0", "id": message["id"], "result": result})

    def _on_notification(self, method: str, params: Any, now: float) -> None:
        counts = self.counters.notifications
        counts[method] = counts.get(method, 0) + 1
        if method == "$/progress" and isinstance(params, Mapping):
            self._on_progress(params, now)

    def _on_progress(self, params: Mapping[str, Any], now: float) -> None:
        token = str(params.get("token"))
        value = params.get("value") or {}
        kind = str(value.get("kind", ""))
        if kind == "begin":
            self._titles[token] = value.get("title")
        title = self._titles.get(token)
        self.progress.append(
            ProgressEvent(now, token, kind, title, value.get("message"), value.get("percentage"))
        )
        if kind != "end":
            return
        for pred, fut in self._end_waiters:
            if not fut.done() and pred(title or ""):
                fut.set_result(now)


def default_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Current environment plus ``extra`` (values override)."""
    env = dict(os.environ)
    env.update(extra or {})
    return env
