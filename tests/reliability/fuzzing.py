"""Raw-frame LSP client and protocol fuzzer shared by tests/reliability and bench/fuzz_lsp.py.

The client parses the server's stdout strictly (any byte outside a ``Content-Length``
frame is counted as junk), answers the server's own requests, and records every
answer with its arrival time. The fuzzer takes valid messages of a real session and
changes one field at a time (T1b), optionally damaging the frame itself (T1c); an
oracle written from the JSON-RPC 2.0 rules says what each message must produce:
exactly one answer with its id, one error with ``id: null``, or nothing.
"""

from __future__ import annotations

import contextlib
import copy
import http.server
import itertools
import json
import math
import os
import random
import re
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SERVER = [sys.executable, "-m", "smallcode_ls", "--stdio"]
_FRAME = re.compile(rb"Content-Length: (\d+)\r\n(?:Content-Type: [^\r\n]*\r\n)?\r\n")
_HEADER = b"Content-Length: "
_PROTECTED = {"exit", "shutdown", "initialize"}
_IDS = itertools.count(10**6)


def frame(body: bytes | dict[str, Any], name: bytes = b"Content-Length") -> bytes:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return name + b": %d\r\n\r\n" % len(raw) + raw


def _reject(name: str) -> Any:
    raise ValueError(name)


def _valid_id(value: object) -> bool:
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


def expectation(body: bytes) -> tuple[str, Any]:
    """What the server must answer to ``body``: ("id", id), ("null", None) or ("none", None)."""
    try:
        data = json.loads(body, parse_constant=_reject)
    except (ValueError, RecursionError):
        return ("null", None)
    if not isinstance(data, dict):
        return ("null", None)
    has_method = "method" in data
    echo = ("id", data["id"]) if has_method and _valid_id(data.get("id")) else ("null", None)
    if data.get("jsonrpc") != "2.0" or ("id" in data and not _valid_id(data["id"])):
        return echo
    if has_method:
        if not isinstance(data["method"], str):
            return echo
        if not isinstance(data.get("params", {}), dict | list | None):
            return echo
        return ("id", data["id"]) if "id" in data else ("none", None)
    if "id" not in data or ("result" in data) == ("error" in data):
        return ("null", None)
    return ("none", None)  # a response to a request the server never sent: ignored


@dataclass
class Answer:
    message: dict[str, Any]
    at: float


class RawServer:
    """The real server process behind a strict raw-frame client."""

    def __init__(
        self,
        env: dict[str, str],
        cwd: Path | None = None,
        command: list[str] | None = None,
        server_requests: Callable[[dict[str, Any]], Any] | None = None,
    ) -> None:
        self.process = subprocess.Popen(
            command or SERVER,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=cwd,
            bufsize=0,
        )
        self.answers: dict[Any, list[Answer]] = {}
        self.null_errors: list[dict[str, Any]] = []
        self.notifications: list[dict[str, Any]] = []
        self.junk = bytearray()
        self.requested: set[Any] = set()
        self.stderr = bytearray()
        self.on_request = server_requests or _default_reply
        self._cond = threading.Condition()
        self._write = threading.Lock()
        self._next_id = 0
        self._threads = [
            threading.Thread(target=self._read_stdout, daemon=True),
            threading.Thread(target=self._read_stderr, daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    # -- sending ---------------------------------------------------------------------
    def send(self, data: bytes) -> None:
        assert self.process.stdin is not None
        with self._write:
            self.process.stdin.write(data)

    def new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def notify(self, method: str, params: Any = None) -> None:
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        self.send(frame(message))

    def request(self, method: str, params: Any = None, timeout: float = 30) -> dict[str, Any]:
        msg_id = self.new_id()
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": msg_id, "method": method}
        if params is not None:
            message["params"] = params
        self.requested.add(_key(msg_id))
        self.send(frame(message))
        answer = self.wait_for(msg_id, timeout)
        assert answer is not None, f"no answer to {method} within {timeout} s"
        return answer.message

    def wait_for(self, msg_id: Any, timeout: float) -> Answer | None:
        key = _key(msg_id)
        with self._cond:
            self._cond.wait_for(lambda: key in self.answers, timeout)
            found = self.answers.get(key)
        return found[0] if found else None

    def close_stdin(self) -> None:
        assert self.process.stdin is not None
        with self._write:
            self.process.stdin.close()

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.kill()
        code = self.process.wait(10)
        for thread in self._threads:
            thread.join(5)
        for pipe in (self.process.stdin, self.process.stdout, self.process.stderr):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()
        return code

    # -- reading ---------------------------------------------------------------------
    def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        while chunk := self.process.stderr.read(65536):
            self.stderr += chunk

    def _read_stdout(self) -> None:
        assert self.process.stdout is not None
        buffer = b""
        while chunk := self.process.stdout.read(65536):
            buffer += chunk
            while buffer:
                match = _FRAME.match(buffer)
                if match is not None:
                    end = match.end() + int(match.group(1))
                    if len(buffer) < end:
                        break
                    self._dispatch(json.loads(buffer[match.end() : end]))
                    buffer = buffer[end:]
                    continue
                header_pending = _HEADER.startswith(buffer[:16]) or (
                    buffer.startswith(_HEADER) and b"\r\n\r\n" not in buffer[:200]
                )
                if header_pending:
                    break
                start = buffer.find(_HEADER, 1)
                cut = start if start > 0 else len(buffer)
                self.junk += buffer[:cut]  # a strict client (VS Code) would shut down here
                buffer = buffer[cut:]
        self.junk += buffer

    def _dispatch(self, message: dict[str, Any]) -> None:
        if "method" in message and "id" in message:
            reply = {"jsonrpc": "2.0", "id": message["id"], "result": self.on_request(message)}
            with contextlib.suppress(OSError):
                self.send(frame(reply))
            return
        if "method" in message:
            with self._cond:
                self.notifications.append(message)
            return
        with self._cond:
            if message.get("id") is None:
                self.null_errors.append(message)
            else:
                self.answers.setdefault(_key(message["id"]), []).append(
                    Answer(message, time.monotonic())
                )
            self._cond.notify_all()


def _key(msg_id: Any) -> Any:
    return ("s", msg_id) if isinstance(msg_id, str) else ("i", msg_id)


def _default_reply(message: dict[str, Any]) -> Any:
    if message["method"] == "workspace/configuration":
        return [None for _ in message.get("params", {}).get("items", [])]
    if message["method"] == "workspace/applyEdit":
        return {"applied": False, "failureReason": "fuzz client"}
    return None


# -- the session the fuzzer mutates ----------------------------------------------------
SOURCE = (
    '"""A module."""\n\n\nclass Widget:\n    size = 1\n\n    def grow(self, by: int) -> int:\n'
    "        # TODO: clamp\n        return self.size + by\n\n\ndef make() -> Widget:\n"
    "    return Widget()\n"
)


def initialize_params(root: Path, base_url: str) -> dict[str, Any]:
    options = {"smallcode": {"model": {"baseUrl": base_url, "name": "fuzz"}}}
    return {
        "processId": os.getpid(),
        "rootUri": root.as_uri(),
        "capabilities": {"workspace": {"configuration": False}},
        "initializationOptions": options,
    }


class RefusingModel:
    """A model endpoint on 127.0.0.1 that answers every request with HTTP 400 at once.

    Agent tasks started by the fuzzer then end quickly and deterministically (a refused
    connection would be retried with backoff), without any model.
    """

    def __init__(self) -> None:
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                body = b'{"error": {"message": "fuzz endpoint", "type": "invalid_request"}}'
                self.send_response(400)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST  # noqa: N815

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> RefusingModel:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_session(
    root: Path, cache: Path, base_url: str | None = None, source: str = SOURCE
) -> tuple[RawServer, str]:
    """A real server, initialized over ``root`` with one open document."""
    (root / "geo.py").write_text(source)
    env = {**os.environ, "SMALLCODE_CACHE_DIR": str(cache)}
    server = RawServer(env, cwd=root)
    # Without a model server agent tasks fail fast (connection refused).
    base_url = base_url or f"http://127.0.0.1:{closed_port()}/v1"
    answer = server.request("initialize", initialize_params(root, base_url))
    assert "result" in answer
    server.notify("initialized", {})
    uri = (root / "geo.py").as_uri()
    item = {"uri": uri, "languageId": "python", "version": 1, "text": source}
    server.notify("textDocument/didOpen", {"textDocument": item})
    return server, uri


def templates(uri: str) -> list[dict[str, Any]]:
    """Valid messages of an editing session (requests get their ids when sent)."""
    doc = {"uri": uri}
    pos = {"line": 6, "character": 10}
    rng = {"start": {"line": 7, "character": 0}, "end": {"line": 7, "character": 0}}

    def req(method: str, params: Any) -> dict[str, Any]:
        return {"jsonrpc": "2.0", "id": 0, "method": method, "params": params}

    def note(method: str, params: Any) -> dict[str, Any]:
        return {"jsonrpc": "2.0", "method": method, "params": params}

    return [
        req("textDocument/documentSymbol", {"textDocument": doc}),
        req("workspace/symbol", {"query": "Wid"}),
        req("textDocument/definition", {"textDocument": doc, "position": pos}),
        req("textDocument/references", {"textDocument": doc, "position": pos,
                                         "context": {"includeDeclaration": True}}),
        req("textDocument/hover", {"textDocument": doc, "position": pos}),
        req("textDocument/codeAction", {"textDocument": doc, "range": rng,
                                         "context": {"diagnostics": []}}),
        req("workspace/executeCommand", {"command": "smallcode.status", "arguments": []}),
        req("workspace/executeCommand", {"command": "smallcode.showContext", "arguments": [
            {"uri": uri, "position": pos, "budgetTokens": 256}]}),
        req("workspace/executeCommand", {"command": "smallcode.implementTodo", "arguments": [
            {"uri": uri, "version": 1, "line": 7}]}),
        req("workspace/executeCommand", {"command": "smallcode.cancelTask", "arguments": []}),
        note("textDocument/didChange", {"textDocument": {"uri": uri, "version": 2},
              "contentChanges": [{"range": rng, "text": "        pass\n"}]}),
        note("textDocument/didChange", {"textDocument": {"uri": uri, "version": 3},
              "contentChanges": [{"text": SOURCE}]}),
        note("textDocument/didSave", {"textDocument": doc}),
        note("workspace/didChangeConfiguration", {"settings": {"smallcode": {}}}),
        note("$/cancelRequest", {"id": 1}),
        note("$/setTrace", {"value": "off"}),
    ]  # fmt: skip


def random_json(rng: random.Random, depth: int = 0) -> Any:
    """A JSON value of any type, biased to edge cases."""
    kind = rng.randrange(12 if depth < 3 else 8)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False])
    if kind == 2:
        return rng.choice([0, -1, 1, 2**31, -(2**63), 2**64 + 7, rng.randrange(-1000, 1000)])
    if kind == 3:
        return rng.choice([0.5, -1e308, 1e-300, math.nan, math.inf, 3.0])
    if kind == 4:
        return rng.choice(["", "x" * rng.randrange(1, 5000), "\u0000\ud7ff😀\u202e", "file:///"])
    if kind == 5:
        return rng.choice(["../../etc/passwd", "file:///%2e%2e/x", "Widget", "é" * 300])
    if kind == 6:
        value: Any = 0
        for _ in range(rng.choice([10, 100, 900])):
            value = [value] if rng.random() < 0.5 else {"a": value}
        return value
    if kind == 7:
        return {"line": rng.randrange(-5, 10**6), "character": rng.randrange(-5, 10**6)}
    if kind in (8, 9):
        return [random_json(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {f"k{i}": random_json(rng, depth + 1) for i in range(rng.randrange(4))}


def _slots(value: Any, at: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path to a field or element of ``value``."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*at, key)
            yield from _slots(item, (*at, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield (*at, index)
            yield from _slots(item, (*at, index))


def mutate(message: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """``message`` with one field replaced, removed, retyped, or one field added."""
    result = copy.deepcopy(message)
    path = rng.choice(list(_slots(result)))
    parent: Any = result
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    operation = rng.randrange(4)
    if operation == 0:
        del parent[last]
    elif operation == 1 and isinstance(parent, dict):
        parent[f"extra{rng.randrange(100)}"] = random_json(rng)
    elif operation == 2:
        old = parent[last]
        parent[last] = str(old) if not isinstance(old, str) else rng.randrange(-3, 3)
    else:
        parent[last] = random_json(rng)
    if (
        path == ("method",)
        and isinstance(parent.get("method"), str)
        and (parent["method"] in _PROTECTED)
    ):
        parent["method"] = "fuzz/" + str(parent["method"])
    return result


@dataclass
class Fuzzer:
    """Sends mutated messages to a :class:`RawServer` and checks every outcome."""

    server: RawServer
    uri: str
    rng: random.Random
    raw_faults: bool = True
    answer_timeout: float = 2.0
    sent: int = 0
    expected_ids: list[Any] = field(default_factory=list)
    expected_nulls: int = 0
    frame_faults: int = 0
    body_faults: int = 0
    mutated: int = 0
    tolerated_variants: int = 0
    latencies: list[float] = field(default_factory=list)
    slowest: list[tuple[float, str]] = field(default_factory=list)
    late: list[Any] = field(default_factory=list)

    @staticmethod
    def _fresh(value: Any) -> Any:
        number = next(_IDS)
        return f"f{number}" if isinstance(value, str) else number

    def one(self) -> None:
        """Send one message (valid or mutated, maybe in a damaged frame) and check it."""
        message = copy.deepcopy(self.rng.choice(templates(self.uri)))
        if "id" in message:
            message["id"] = self._fresh(0)
        if self.rng.random() < 0.9:
            message = mutate(message, self.rng)
            self.mutated += 1
        if _valid_id(message.get("id")):
            message["id"] = self._fresh(message["id"])  # ids stay unique in the session
        body = json.dumps(message).encode()
        data, delivered = self._damage(body) if self.raw_faults else (frame(body), body)
        kind, msg_id = expectation(delivered) if delivered is not None else ("none", None)
        sent_at = time.monotonic()
        self.server.send(data)
        self.sent += 1
        if kind == "null":
            self.expected_nulls += 1
        elif kind == "id":
            self.expected_ids.append(msg_id)
            self.server.requested.add(_key(msg_id))
            answer = self.server.wait_for(msg_id, self.answer_timeout)
            if answer is None:
                self.late.append(msg_id)
            else:
                self.latencies.append(answer.at - sent_at)
                method = message.get("method")
                if method == "workspace/executeCommand" and isinstance(message.get("params"), dict):
                    method = f"{method} {message['params'].get('command')}"
                self.slowest = sorted([*self.slowest, (answer.at - sent_at, str(method))])[-5:]

    def _damage(self, body: bytes) -> tuple[bytes, bytes | None]:
        """Maybe damage the frame; return the bytes and the body the server will see."""
        choice = self.rng.randrange(14)
        if choice == 0:
            self.tolerated_variants += 1
            return frame(body, name=b"content-length"), body
        if choice == 1:
            self.tolerated_variants += 1
            return b"X-Fuzz: 1\r\n" + frame(body), body
        if choice == 2:
            junk = bytes(self.rng.randrange(256) for _ in range(self.rng.randrange(1, 64)))
            while b"content-length" in junk.lower():
                junk = junk.lower().replace(b"content-length", b"")
            self.frame_faults += 1
            return junk + b"\r\n\r\n" + frame(body), body
        if choice == 3:
            self.frame_faults += 1
            return b"Content-Length: 99999999999999\r\n\r\n" + frame(body), body
        if choice == 4 and len(body) > 2:
            cut = self.rng.randrange(1, len(body))
            self.frame_faults += 1
            return b"Content-Length: %d\r\n\r\n" % cut + body, body[:cut]
        if choice == 5:
            broken = body[: len(body) // 2] + b"\xff\xfe" + body[len(body) // 2 :]
            self.body_faults += 1
            return frame(broken), broken
        return frame(body), body

    def ping(self) -> float:
        started = time.monotonic()
        self.server.request(
            "workspace/executeCommand", {"command": "smallcode.status", "arguments": []}, 10
        )
        return time.monotonic() - started

    def settle(self, seconds: float = 5.0) -> None:
        """Wait until every expected answer arrived (or ``seconds`` passed)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.missing() == [] and len(self.server.null_errors) >= self.expected_nulls:
                return
            time.sleep(0.05)

    def missing(self) -> list[Any]:
        return [i for i in self.expected_ids if _key(i) not in self.server.answers]

    def duplicated(self) -> list[Any]:
        return [k for k, v in self.server.answers.items() if len(v) > 1]

    def unexpected(self) -> list[Any]:
        return [k for k in self.server.answers if k not in self.server.requested]


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


def internal_errors(server: RawServer) -> list[dict[str, Any]]:
    """Answers that report a server bug (an unexpected exception, with a log reference)."""
    found = []
    for answers in server.answers.values():
        for answer in answers:
            error = answer.message.get("error")
            if isinstance(error, dict) and "(ref " in str(error.get("message")):
                found.append(answer.message)
    return found


def codes(server: RawServer) -> Counter[int]:
    """How many answers carried each error code."""
    counter: Counter[int] = Counter()
    for answers in server.answers.values():
        for answer in answers:
            error = answer.message.get("error")
            if isinstance(error, dict):
                counter[error.get("code", 0)] += 1
    for error in server.null_errors:
        counter[error.get("error", {}).get("code", 0)] += 1
    return counter
