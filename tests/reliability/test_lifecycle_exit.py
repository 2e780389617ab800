"""G7/T3: the server leaves within 5 s of end of input or of its client's death, with the
spec's exit code, and takes every child process (index workers, spawned commands) with it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from smallcode_ls.lsp.watchdog import child_pids, pid_alive
from tests.reliability.fuzzing import SERVER, RawServer, frame
from tests.reliability.test_protocol_errors import FAULTY

EXIT_BOUND_S = 5.0  # the spec of G7, not a performance target


def _start(tmp_path: Path, root: Path, process_id: int | None, faulty: bool = False) -> RawServer:
    env = {**os.environ, "SMALLCODE_CACHE_DIR": str(tmp_path / "cache")}
    server = RawServer(env, cwd=tmp_path, command=FAULTY if faulty else SERVER)
    params = {"processId": process_id, "rootUri": root.as_uri(), "capabilities": {}}
    assert "result" in server.request("initialize", params)
    server.notify("initialized", {})
    return server


def _seconds_to_exit(server: RawServer) -> float:
    started = time.monotonic()
    server.process.wait(30)
    return time.monotonic() - started


def test_end_of_input_without_shutdown_exits_1_within_5_s(tmp_path: Path) -> None:
    server = _start(tmp_path, tmp_path, os.getpid())
    try:
        server.close_stdin()
        assert _seconds_to_exit(server) < EXIT_BOUND_S
        assert server.process.returncode == 1
    finally:
        server.stop()


def test_end_of_input_after_shutdown_exits_0(tmp_path: Path) -> None:
    server = _start(tmp_path, tmp_path, os.getpid())
    try:
        assert server.request("shutdown")["result"] is None
        server.close_stdin()
        assert _seconds_to_exit(server) < EXIT_BOUND_S
        assert server.process.returncode == 0
    finally:
        server.stop()


def test_exit_without_shutdown_is_exit_code_1(tmp_path: Path) -> None:
    server = _start(tmp_path, tmp_path, os.getpid())
    try:
        server.notify("exit")
        assert _seconds_to_exit(server) < EXIT_BOUND_S
        assert server.process.returncode == 1
    finally:
        server.stop()


def test_end_of_input_while_a_handler_blocks_the_loop_still_exits_in_time(
    tmp_path: Path,
) -> None:
    server = _start(tmp_path, tmp_path, os.getpid(), faulty=True)
    try:
        server.send(
            b'Content-Length: 51\r\n\r\n{"jsonrpc":"2.0","id":"b","method":"test/block"}   '
        )
        time.sleep(0.5)  # the handler is now sleeping on the event loop
        server.close_stdin()
        assert _seconds_to_exit(server) < EXIT_BOUND_S
        assert server.process.returncode == 1
    finally:
        server.stop()


def test_the_death_of_the_client_process_ends_the_server(tmp_path: Path) -> None:
    client = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    server = _start(tmp_path, tmp_path, client.pid)
    try:
        client.kill()
        client.wait()
        assert _seconds_to_exit(server) < EXIT_BOUND_S  # stdin is still open
        assert server.process.returncode == 1
    finally:
        server.stop()
        client.kill()


def test_the_death_of_the_parent_ends_the_server_without_a_process_id(tmp_path: Path) -> None:
    # A shell starts the server in the background (sharing our pipes) and is then killed.
    env = {**os.environ, "SMALLCODE_CACHE_DIR": str(tmp_path / "cache")}
    command = " ".join(SERVER)
    parent = subprocess.Popen(
        ["/bin/sh", "-c", f"exec 3<&0; {command} <&3 3<&- & echo $! >&2; wait"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        assert parent.stderr is not None and parent.stdin is not None and parent.stdout
        server_pid = int(parent.stderr.readline())
        params = {"processId": None, "rootUri": None, "capabilities": {}}
        parent.stdin.write(frame({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                                  "params": params}))  # fmt: skip
        parent.stdin.flush()
        assert b"Content-Length" in parent.stdout.read(16)  # the server is up and watching
        assert pid_alive(server_pid)
        parent.kill()
        parent.wait()
        deadline = time.monotonic() + EXIT_BOUND_S
        while pid_alive(server_pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not pid_alive(server_pid)
    finally:
        parent.kill()
        for pipe in (parent.stdin, parent.stdout, parent.stderr):
            if pipe is not None:
                pipe.close()


def test_no_child_process_survives_the_server(tmp_path: Path) -> None:
    root = tmp_path / "big"
    for index in range(1200):  # over the in-process limit: indexing uses worker processes
        package = root / f"p{index // 100}"
        package.mkdir(parents=True, exist_ok=True)
        (package / f"m{index}.py").write_text(
            "".join(f"def f{i}(x):\n    return x + {i}\n\n" for i in range(40))
        )
    server = _start(tmp_path, root, os.getpid(), faulty=True)
    try:
        spawned = server.request("test/spawn", {})["result"]
        pid = server.process.pid
        deadline = time.monotonic() + 60
        while len(child_pids(pid)) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        children = child_pids(pid)
        assert spawned in children and len(children) >= 3, children  # workers are running
        server.close_stdin()
        assert _seconds_to_exit(server) < EXIT_BOUND_S
        deadline = time.monotonic() + 2
        while any(pid_alive(c) for c in children) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [c for c in children if pid_alive(c)] == []
    finally:
        server.stop()
        for child in child_pids(server.process.pid) if server.process.poll() is None else []:
            os.kill(child, signal.SIGKILL)


def test_over_tcp_a_disconnect_ends_the_server_and_exit_codes_hold(tmp_path: Path) -> None:
    import json
    import socket

    from tests.reliability.fuzzing import closed_port, frame

    env = {**os.environ, "SMALLCODE_CACHE_DIR": str(tmp_path / "cache")}
    for polite, expected in [(True, 0), (False, 1)]:
        port = closed_port()
        process = subprocess.Popen(
            [*SERVER[:-1], "--tcp", "--port", str(port)], env=env, stderr=subprocess.DEVNULL
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    connection = socket.create_connection(("127.0.0.1", port), timeout=10)
                    break
                except OSError:
                    assert time.monotonic() < deadline, "the server never listened"
                    time.sleep(0.1)
            with connection:
                params = {"processId": os.getpid(), "rootUri": None, "capabilities": {}}
                init = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": params}
                connection.sendall(b"garbage\r\n\r\n" + frame(init))
                reply = b""
                while b'"id": 1' not in reply:
                    reply += connection.recv(65536)
                assert b'"serverInfo"' in reply and json.loads(reply.split(b"\r\n\r\n", 1)[1])
                if polite:
                    connection.sendall(
                        frame({"jsonrpc": "2.0", "id": 2, "method": "shutdown"})
                        + frame({"jsonrpc": "2.0", "method": "exit"})
                    )
                    time.sleep(0.2)
            started = time.monotonic()
            assert process.wait(30) == expected
            assert time.monotonic() - started < EXIT_BOUND_S
        finally:
            process.kill()
            process.wait()


async def test_closing_stdin_mid_task_ends_the_server_and_the_model_stream(
    tmp_path: Path,
) -> None:
    import asyncio

    from tests.e2e.test_agent import ANSWER, SOURCE
    from tests.reliability.fuzzing import frame, start_session
    from tests.support.scripted_llm import ScriptedLLM, stream_reply

    async with ScriptedLLM() as llm:
        slow = stream_reply([ANSWER[:20], ANSWER[20:]])
        assert slow.chunks is not None
        slow.chunks[1:1] = [0.5] * 60  # the model would take 30 s more
        llm.enqueue(slow)
        (tmp_path / "ws").mkdir()
        server, uri = await asyncio.to_thread(
            start_session, tmp_path / "ws", tmp_path / "cache", llm.base_url, SOURCE
        )
        try:
            where = {"start": {"line": 5, "character": 0}, "end": {"line": 5, "character": 0}}
            actions = await asyncio.to_thread(
                server.request,
                "textDocument/codeAction",
                {"textDocument": {"uri": uri}, "range": where, "context": {"diagnostics": []}},
            )
            todo = next(a for a in actions["result"] if "TODO" in a["title"])
            server.send(frame({"jsonrpc": "2.0", "id": "task", "method": "workspace/executeCommand",
                               "params": todo["command"]}))  # fmt: skip
            await llm.wait_request(timeout=30)  # the model is answering
            children = child_pids(server.process.pid)
            server.close_stdin()
            started = time.monotonic()
            code = await asyncio.to_thread(server.process.wait, 30)
            assert time.monotonic() - started < EXIT_BOUND_S
            assert code == 1
            await llm.wait_disconnect(timeout=5)  # the stream was closed, not left hanging
            assert [c for c in children if pid_alive(c)] == []
        finally:
            server.stop()


def test_a_client_that_stops_reading_ends_the_server(tmp_path: Path) -> None:
    env = {**os.environ, "SMALLCODE_CACHE_DIR": str(tmp_path / "cache")}
    process = subprocess.Popen(
        SERVER, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env
    )
    assert process.stdin is not None and process.stdout is not None
    try:
        params = {"processId": os.getpid(), "rootUri": None, "capabilities": {}}
        process.stdin.write(frame({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                                   "params": params}))  # fmt: skip
        process.stdin.flush()
        assert process.stdout.read(16).startswith(b"Content-Length")
        process.stdout.close()  # the client's end of the frame stream is gone
        symbol = {"jsonrpc": "2.0", "id": 2, "method": "workspace/symbol", "params": {"query": ""}}
        process.stdin.write(frame(symbol))
        process.stdin.flush()
        started = time.monotonic()
        assert process.wait(30) == 1
        assert time.monotonic() - started < EXIT_BOUND_S
    finally:
        process.kill()
        process.wait()
        process.stdin.close()
