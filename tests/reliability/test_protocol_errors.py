"""RELIABILITY.md 2a, row by row, plus sanitized errors (G6) and stdout hygiene (T4/G5).

Raw frames against the real server process; the misbehaving handlers come from
``faulty_server.py`` (the real start-up and protocol with test-only features).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.reliability.faulty_server import PRIVATE_PATH, SECRET
from tests.reliability.fuzzing import RawServer, frame

FAULTY = [sys.executable, str(Path(__file__).with_name("faulty_server.py")), "--stdio"]


def _env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "SMALLCODE_CACHE_DIR": str(tmp_path / "cache"),
        "SMALLCODE_API_KEY": SECRET,
    }


def _initialize(server: RawServer, root: Path) -> None:
    params = {"processId": os.getpid(), "rootUri": root.as_uri(), "capabilities": {}}
    assert "result" in server.request("initialize", params)
    server.notify("initialized", {})


@pytest.fixture
def faulty(tmp_path: Path) -> Iterator[RawServer]:
    server = RawServer(_env(tmp_path), cwd=tmp_path, command=FAULTY)
    _initialize(server, tmp_path)
    yield server
    server.stop()


def error_of(answer: dict[str, Any]) -> dict[str, Any]:
    error = answer.get("error")
    assert isinstance(error, dict), answer
    return error


def test_section_2a_inputs_each_get_their_answer_and_the_server_keeps_serving(
    tmp_path: Path,
) -> None:
    server = RawServer(_env(tmp_path), cwd=tmp_path)
    try:
        early = server.request("workspace/symbol", {"query": "x"})
        assert error_of(early)["code"] == -32002  # 2a #15: before initialize
        _initialize(server, tmp_path)
        status = {"command": "smallcode.status", "arguments": []}

        def alive() -> None:
            assert "result" in server.request("workspace/executeCommand", status, timeout=10)

        cases: list[tuple[bytes, int | None]] = [
            (b'Content-Length: 8\r\n\r\n{"jsonrp', -32700),  # 2a #3: truncated JSON
            (frame(b"[1,2,3]"), -32600),  # 2a #4
            (frame(b'"str"'), -32600),
            (frame(b'{"id": [5], "method": "workspace/symbol"}'), -32600),  # no "jsonrpc"
            (frame(b"[" * 100_000 + b"]" * 100_000), -32700),  # 2a #5: deep nesting
            (frame(b'{"jsonrpc": "2.0", "id": 1, "result": NaN}'), -32700),
        ]
        for data, code in cases:
            nulls = len(server.null_errors)
            server.send(data)
            alive()
            assert [e["error"]["code"] for e in server.null_errors[nulls:]] == [code], data[:40]
        assert all(e["id"] is None for e in server.null_errors)
        server.send(frame({"id": "v1", "method": "workspace/symbol"}))  # no "jsonrpc": echo id
        answer = server.wait_for("v1", 10)
        assert answer is not None and error_of(answer.message)["code"] == -32600

        # 2a #10/#11: header case and order; 2a #14: a huge Content-Length.
        for prefix, name in [
            (b"", b"content-length"),
            (b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n", b"Content-Length"),
            (b"Content-Length: 99999999999999\r\n\r\n", b"Content-Length"),
            (b"\x00garbage\r\n\r\n", b"CONTENT-LENGTH"),
        ]:
            msg_id = server.new_id()
            request = {"jsonrpc": "2.0", "id": msg_id, "method": "workspace/executeCommand",
                       "params": status}  # fmt: skip
            server.send(prefix + frame(request, name=name))
            answer = server.wait_for(msg_id, 10)
            assert answer is not None and "result" in answer.message, prefix

        # 2a #2: invalid params; #6: unknown method.
        bad = server.request("textDocument/hover", {"position": {"line": "zero"}})
        assert error_of(bad)["code"] == -32602
        assert error_of(server.request("no/such", {}))["code"] == -32601
        assert server.junk == b""
        assert server.request("shutdown")["result"] is None
        after = server.request("workspace/symbol", {"query": "x"})
        assert error_of(after)["code"] == -32600  # 2a #13
        server.notify("exit")
        assert server.process.wait(10) == 0
    finally:
        server.stop()


def test_handler_failures_reach_the_client_generic_and_the_log_in_full(
    faulty: RawServer,
) -> None:
    for method, code in [
        ("test/raise", -32603),
        ("test/raiseAsync", -32603),
        ("test/unserializable", -32603),
    ]:
        error = error_of(faulty.request(method, {}))
        assert error["code"] == code
        assert error["message"].startswith("internal error (ref ")
        assert "data" not in error  # pygls sent the traceback here
    everything_sent = json.dumps([a.message for v in faulty.answers.values() for a in v])
    for leak in (SECRET, PRIVATE_PATH, "boom", "Traceback", "RuntimeError", ".py"):
        assert leak not in everything_sent
    faulty.request("shutdown")
    faulty.notify("exit")
    faulty.process.wait(10)
    log = faulty.stderr.decode()
    assert "RuntimeError: boom key=*** file=/home/alice/project/.env" in log  # full detail
    assert "Traceback" in log and SECRET not in log  # ... with the secret masked


def test_a_failing_notification_handler_is_reported_generically_and_rate_limited(
    faulty: RawServer,
) -> None:
    for _ in range(20):
        faulty.notify("test/notifyRaise", {})
    faulty.request("workspace/executeCommand", {"command": "smallcode.status", "arguments": []})
    shown = [n for n in faulty.notifications if n["method"] == "window/showMessage"]
    assert len(shown) == 1  # one message for 20 failures
    text = shown[0]["params"]["message"]
    assert text.startswith("SmallCode: internal error (ref ") and SECRET not in text
    assert "notification boom" not in json.dumps(faulty.notifications)


def test_stray_writes_to_stdout_never_reach_the_frame_stream(faulty: RawServer) -> None:
    answer = faulty.request("test/print", {})
    assert answer["result"] == "ok"
    answer = faulty.request("workspace/symbol", {"query": "x"})
    assert "result" in answer
    faulty.request("shutdown")
    faulty.notify("exit")
    assert faulty.process.wait(10) == 0
    assert faulty.junk == b""  # T4: zero bytes outside frames
    log = faulty.stderr.decode()
    for text in ("print() from a handler", "sys.stdout.write", "sys.__stdout__", "os.write(1)",
                 "a child inheriting fd 1"):  # fmt: skip
        assert text in log  # they went to stderr instead


def test_a_response_cannot_resolve_the_clients_own_pending_request(faulty: RawServer) -> None:
    msg_id = faulty.new_id()
    faulty.send(frame({"jsonrpc": "2.0", "id": msg_id, "method": "test/slow", "params": {}}))
    faulty.send(frame({"jsonrpc": "2.0", "id": msg_id, "result": "SPOOFED"}))  # 2a #9
    answer = faulty.wait_for(msg_id, 10)
    assert answer is not None and answer.message["result"] == "real"
    faulty.request("workspace/symbol", {"query": "x"})
    assert len(faulty.answers[("i", msg_id)]) == 1
