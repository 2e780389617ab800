"""A loopback proxy in front of the model endpoint: one token counter and turn cap for all.

Every arm talks to ``http://127.0.0.1:<port>/v1``; the proxy forwards to the real endpoint,
streams answers through unchanged (asking for the usage chunk on streamed requests), and
records each chat call's prompt and completion tokens under the current run's key. Calls
past ``turn_cap`` for a run get HTTP 400 without reaching the model.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

__all__ = ["Call", "UsageProxy"]


@dataclass
class Call:
    """One chat call that reached the model."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    seconds: float = 0.0
    finish_reason: str = ""
    status: int = 0


@dataclass
class _Run:
    calls: list[Call] = field(default_factory=list)
    refused: int = 0


class UsageProxy:
    """Start with ``start()``; ``begin(key)`` before a run, ``calls(key)`` after it."""

    def __init__(self, upstream: str, turn_cap: int, timeout: float = 900.0) -> None:
        parts = urlsplit(upstream.rstrip("/"))
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port or (443 if parts.scheme == "https" else 80)
        self._https = parts.scheme == "https"
        self._prefix = parts.path  # e.g. /v1
        self.turn_cap = turn_cap
        self.timeout = timeout
        self._runs: dict[str, _Run] = {}
        self._current = ""
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def start(self) -> str:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

            def do_GET(self) -> None:  # noqa: N802
                proxy._forward(self, None)

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("content-length") or 0)
                proxy._forward(self, self.rfile.read(length))

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self.base_url

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def begin(self, key: str) -> None:
        with self._lock:
            self._runs[key] = _Run()
            self._current = key

    def calls(self, key: str) -> tuple[list[Call], int]:
        with self._lock:
            run = self._runs.get(key, _Run())
            return list(run.calls), run.refused

    def _forward(self, handler: BaseHTTPRequestHandler, body: bytes | None) -> None:
        path = handler.path
        if path.startswith("/v1"):
            path = path[3:]
        chat = body is not None and path.rstrip("/").endswith("/chat/completions")
        payload: dict[str, Any] = {}
        if chat and body:
            with self._lock:
                run = self._runs.setdefault(self._current, _Run())
                over = len(run.calls) >= self.turn_cap
                if over:
                    run.refused += 1
            if over:
                message = f"turn cap ({self.turn_cap}) reached"
                error = {"error": {"message": message, "type": "invalid_request_error"}}
                _send(handler, 400, {"content-type": "application/json"}, json.dumps(error))
                return
            payload = json.loads(body)
            if payload.get("stream"):
                options = dict(payload.get("stream_options") or {})
                options["include_usage"] = True
                payload["stream_options"] = options
            body = json.dumps(payload).encode()
        connection_type = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
        upstream = connection_type(self._host, self._port, timeout=self.timeout)
        headers = {"content-type": "application/json"}
        if auth := handler.headers.get("authorization"):
            headers["authorization"] = auth
        started = time.monotonic()
        call = Call()
        if chat:  # listed first and filled in before the answer's last byte leaves
            with self._lock:
                self._runs.setdefault(self._current, _Run()).calls.append(call)
        try:
            upstream.request("POST" if body is not None else "GET", self._prefix + path,
                             body=body, headers=headers)  # fmt: skip
            response = upstream.getresponse()
            call.status = response.status
            kind = response.getheader("content-type", "application/json")
            if "text/event-stream" in kind:
                _stream(handler, response, call, started)
            else:
                data = response.read()
                if chat and response.status == 200:
                    _record(json.loads(data), call)
                call.seconds = time.monotonic() - started
                _send(handler, response.status, {"content-type": kind}, data)
        except (OSError, http.client.HTTPException, json.JSONDecodeError) as exc:
            call.status = 502
            with contextlib.suppress(OSError):
                _send(handler, 502, {"content-type": "application/json"},
                      json.dumps({"error": {"message": f"proxy: {exc}"}}))  # fmt: skip
        finally:
            upstream.close()


def _send(handler: BaseHTTPRequestHandler, status: int, headers: dict[str, str], body: Any) -> None:
    data = body if isinstance(body, bytes) else str(body).encode()
    handler.send_response(status)
    for key, value in headers.items():
        handler.send_header(key, value)
    handler.send_header("content-length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)
    handler.wfile.flush()


def _stream(handler: BaseHTTPRequestHandler, response: Any, call: Call, started: float) -> None:
    """Pass SSE lines through as they come (chunked), reading usage before passing a line."""
    handler.send_response(response.status)
    handler.send_header("content-type", "text/event-stream")
    handler.send_header("transfer-encoding", "chunked")
    handler.end_headers()
    while True:
        line = response.readline()
        if not line:
            break
        text = line.decode("utf-8", "replace").strip()
        if text.startswith("data:") and text[5:].strip() not in ("", "[DONE]"):
            with contextlib.suppress(json.JSONDecodeError):
                _record(json.loads(text[5:]), call)
        call.seconds = time.monotonic() - started
        handler.wfile.write(f"{len(line):x}\r\n".encode() + line + b"\r\n")
        handler.wfile.flush()
    handler.wfile.write(b"0\r\n\r\n")
    handler.wfile.flush()


def _record(data: dict[str, Any], call: Call) -> None:
    usage = data.get("usage") or {}
    if usage:
        call.prompt_tokens = int(usage.get("prompt_tokens") or 0)
        call.completion_tokens = int(usage.get("completion_tokens") or 0)
        details = usage.get("prompt_tokens_details") or {}
        call.cached_tokens = int(details.get("cached_tokens") or 0)
    timings = data.get("timings") or {}
    if timings and not usage:
        call.prompt_tokens = int(timings.get("prompt_n") or 0) + int(timings.get("cache_n") or 0)
        call.completion_tokens = int(timings.get("predicted_n") or 0)
    for choice in data.get("choices") or []:
        if choice.get("finish_reason"):
            call.finish_reason = str(choice["finish_reason"])
