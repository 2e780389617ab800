"""The executable: --version, --tcp, and a stdout that carries only JSON-RPC frames."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
from pathlib import Path

SERVER = [sys.executable, "-m", "smallcode_ls"]


def frame(payload: dict[str, object]) -> bytes:
    body = json.dumps(payload).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def content_length(header: bytes) -> int:
    """The Content-Length of a frame header; fail if the header is not LSP's."""
    fields = dict(line.split(b": ", 1) for line in header.strip().split(b"\r\n"))
    assert set(fields) <= {b"Content-Length", b"Content-Type"}, f"not a frame header: {header!r}"
    return int(fields[b"Content-Length"])


def read_frames(data: bytes) -> list[dict[str, object]]:
    """Split a byte stream into JSON-RPC frames; fail on anything else."""
    frames = []
    while data:
        header, sep, rest = data.partition(b"\r\n\r\n")
        assert sep, f"stray bytes on stdout: {data[:80]!r}"
        length = content_length(header)
        frames.append(json.loads(rest[:length]))
        data = rest[length:]
    return frames


def initialize(root: Path) -> dict[str, object]:
    return {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {"processId": None, "rootUri": root.as_uri(), "capabilities": {}},
    }


def test_version_flag_prints_the_version() -> None:
    out = subprocess.run([*SERVER, "--version"], capture_output=True, text=True, check=True)
    from smallcode_ls import __version__

    assert out.stdout.strip() == f"smallcode-ls {__version__}"


def test_stdout_carries_only_frames_even_with_debug_logging(
    sample_workspace: Path, tmp_path: Path
) -> None:
    log_file = tmp_path / "server.log"
    messages = [
        initialize(sample_workspace),
        {"jsonrpc": "2.0", "method": "initialized", "params": {}},
        {"jsonrpc": "2.0", "id": 2, "method": "workspace/symbol", "params": {"query": "Widget"}},
        {"jsonrpc": "2.0", "id": 3, "method": "shutdown"},
        {"jsonrpc": "2.0", "method": "exit"},
    ]
    result = subprocess.run(
        [*SERVER, "--stdio", "--log-level", "DEBUG", "--log-file", str(log_file)],
        input=b"".join(frame(m) for m in messages),
        capture_output=True,
        timeout=60,
        env={"SMALLCODE_CACHE_DIR": str(tmp_path / "cache"), "PATH": ""},
    )
    frames = read_frames(result.stdout)
    responses = {f["id"]: f for f in frames if "id" in f and "method" not in f}
    assert set(responses) >= {1, 2, 3}
    assert result.stderr  # the logs went somewhere else
    assert log_file.read_text()


async def test_tcp_mode_serves_one_client_on_loopback(
    sample_workspace: Path, tmp_path: Path
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = await asyncio.create_subprocess_exec(
        *SERVER,
        "--tcp",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        for _ in range(100):
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                break
            except OSError:
                await asyncio.sleep(0.1)
        else:
            raise AssertionError("the server never listened")
        writer.write(frame(initialize(sample_workspace)))
        await writer.drain()
        header = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
        body = await reader.readexactly(content_length(header))
        response = json.loads(body)
        assert response["id"] == 1
        assert response["result"]["serverInfo"]["name"] == "smallcode-ls"
        writer.close()
    finally:
        process.kill()
        await process.wait()


def test_every_request_gets_exactly_one_answer_with_the_right_code(tmp_path: Path) -> None:
    uri = (tmp_path / "x.py").as_uri()
    messages = [
        {"jsonrpc": "2.0", "id": 1, "method": "textDocument/documentSymbol",
         "params": {"textDocument": {"uri": uri}}},
        {"jsonrpc": "2.0", "id": 2, "method": "initialize",
         "params": {"processId": None, "rootUri": None, "capabilities": {}}},
        {"jsonrpc": "2.0", "method": "initialized", "params": {}},
        {"jsonrpc": "2.0", "id": 3, "method": "no/such/method", "params": {}},
        {"jsonrpc": "2.0", "id": 4, "method": "textDocument/documentSymbol", "params": {}},
        {"jsonrpc": "2.0", "id": 5, "method": "workspace/executeCommand",
         "params": {"command": "smallcode.showContext", "arguments": ["not an object"]}},
        {"jsonrpc": "2.0", "id": 6, "method": "shutdown"},
        {"jsonrpc": "2.0", "id": 7, "method": "workspace/symbol", "params": {"query": "x"}},
        {"jsonrpc": "2.0", "method": "exit"},
    ]  # fmt: skip
    result = subprocess.run(
        [*SERVER, "--stdio"],
        input=b"".join(frame(m) for m in messages),
        capture_output=True,
        timeout=60,
        env={"SMALLCODE_CACHE_DIR": str(tmp_path / "cache"), "PATH": ""},
    )
    answers: dict[object, list[dict[str, object]]] = {}
    for message in read_frames(result.stdout):
        if "id" in message and "method" not in message:
            answers.setdefault(message["id"], []).append(message)
    assert sorted(answers) == [1, 2, 3, 4, 5, 6, 7]
    assert all(len(replies) == 1 for replies in answers.values())

    def code(request_id: int) -> object:
        error = answers[request_id][0].get("error")
        return error["code"] if isinstance(error, dict) else None

    assert [code(i) for i in (1, 3, 4, 5, 7)] == [-32002, -32601, -32602, -32602, -32600]
    assert "got str" in answers[5][0]["error"]["message"]  # type: ignore[index]
    assert code(2) is None and code(6) is None
    assert b"Traceback" not in result.stdout
    assert result.returncode == 0
