"""T1 long run: fuzz the real server over stdio and measure liveness during an agent task.

    .venv/bin/python bench/fuzz_lsp.py --messages 10000

With ``--atheris SECONDS`` it instead fuzzes the frame parser in-process with atheris
(T1a; coverage-guided bytes, split into chunks the fuzzer chooses) and adds the result
to the existing report.

Phase 1 sends valid session messages, most of them mutated one field at a time and
some in damaged frames (tests/reliability/fuzzing.py), and checks every outcome
against the JSON-RPC rules. Phase 2 runs an agent task against the scripted model
server, paused mid-answer, while pinging ``smallcode.status``. The report goes to
bench/reports/fuzz-lsp.json. Exit status 1 when an invariant failed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.benchkit import machine_facts  # noqa: E402
from tests.e2e.test_agent import ANSWER, SOURCE  # noqa: E402
from tests.reliability.fuzzing import (  # noqa: E402
    Fuzzer,
    RawServer,
    RefusingModel,
    codes,
    frame,
    internal_errors,
    percentile,
    start_session,
)
from tests.support.scripted_llm import ScriptedLLM, stream_reply  # noqa: E402

REPORT = ROOT / "bench" / "reports" / "fuzz-lsp.json"
STATUS = {"command": "smallcode.status", "arguments": []}


def _ms(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50_ms": round(percentile(values, 0.5) * 1000, 2),
        "p99_ms": round(percentile(values, 0.99) * 1000, 2),
        "max_ms": round(max(values, default=0.0) * 1000, 2),
    }


def _ping(server: RawServer) -> float:
    started = time.monotonic()
    answer = server.request("workspace/executeCommand", STATUS, timeout=10)
    assert "result" in answer, answer
    return time.monotonic() - started


def fuzz(messages: int, seed: int, work: Path) -> dict[str, Any]:
    """Phase 1: ``messages`` fuzzed messages against one server process."""
    (work / "ws").mkdir()
    model = RefusingModel().__enter__()  # agent tasks end at once with HTTP 400
    server, uri = start_session(work / "ws", work / "cache", model.base_url)
    fuzzer = Fuzzer(server, uri, random.Random(seed))
    pings_during: list[float] = []
    stderr_before = len(server.stderr)
    started = time.monotonic()
    crashed_at = None
    for count in range(1, messages + 1):
        fuzzer.one()
        if count % 100 == 0:
            if server.process.poll() is not None:
                crashed_at = count
                break
            pings_during.append(_ping(server))
    elapsed = time.monotonic() - started
    fuzzer.settle()
    alive = server.process.poll() is None
    pings_after = [_ping(server) for _ in range(50)] if alive else []
    stderr_bytes = len(server.stderr) - stderr_before
    exit_code = None
    exit_s = None
    if alive:
        server.request("shutdown")
        server.notify("exit")
        exit_started = time.monotonic()
        exit_code = server.process.wait(30)
        exit_s = round(time.monotonic() - exit_started, 3)
    server.stop()
    model.__exit__()
    answered_once = len(fuzzer.expected_ids) - len(fuzzer.missing()) - len(fuzzer.duplicated())
    return {
        "messages_sent": fuzzer.sent,
        "seconds": round(elapsed, 2),
        "requests_with_id": len(fuzzer.expected_ids),
        "ids_answered_exactly_once": answered_once,
        "ids_missing": len(fuzzer.missing()),
        "ids_answered_twice": len(fuzzer.duplicated()),
        "answers_to_ids_never_sent": len(fuzzer.unexpected()),
        "ids_answered_later_than_2s": len(fuzzer.late),
        "null_id_errors_expected": fuzzer.expected_nulls,
        "null_id_errors_received": len(server.null_errors),
        "faults_injected": {
            "messages_mutated_one_field": fuzzer.mutated,
            "frames_damaged": fuzzer.frame_faults,
            "bodies_not_utf8": fuzzer.body_faults,
            "tolerated_header_variants": fuzzer.tolerated_variants,
        },
        "error_codes": {str(k): v for k, v in sorted(codes(server).items())},
        "internal_errors_answered": len(internal_errors(server)),
        "crashes": 0 if alive and crashed_at is None else 1,
        "crashed_after_message": crashed_at,
        "answer_latency": _ms(fuzzer.latencies),
        "slowest_answers": [
            {"ms": round(seconds * 1000, 1), "request": method}
            for seconds, method in reversed(fuzzer.slowest)
        ],
        "stdout_junk_bytes": len(server.junk),
        "stderr_bytes": stderr_bytes,
        "stderr_bytes_per_message": round(stderr_bytes / max(1, fuzzer.sent), 1),
        "ping_every_100_messages": _ms(pings_during),
        "ping_after_run": _ms(pings_after),
        "exit_code_after_shutdown_exit": exit_code,
        "exit_seconds": exit_s,
    }


async def task_liveness(work: Path, pauses: int) -> dict[str, Any]:
    """Phase 2: ping while an agent task waits on a model paused mid-answer."""
    async with ScriptedLLM() as llm:
        half = len(ANSWER) // 2
        slow = stream_reply([ANSWER[:half], ANSWER[half:]])
        assert slow.chunks is not None
        slow.chunks[1:1] = [0.1] * pauses
        llm.enqueue(slow)
        (work / "ws2").mkdir()
        server, uri = await asyncio.to_thread(
            start_session, work / "ws2", work / "cache2", llm.base_url, SOURCE
        )
        try:
            return await _drive_task(server, uri, llm)
        finally:
            server.stop()


async def _drive_task(server: RawServer, uri: str, llm: ScriptedLLM) -> dict[str, Any]:
    where = {"start": {"line": 5, "character": 0}, "end": {"line": 5, "character": 0}}
    actions = await asyncio.to_thread(
        server.request,
        "textDocument/codeAction",
        {"textDocument": {"uri": uri}, "range": where, "context": {"diagnostics": []}},
    )
    todo = [a for a in actions.get("result") or [] if "TODO" in a.get("title", "")]
    if not todo:
        return {"error": f"no TODO code action: {actions}"}
    server.on_request = _apply_edits
    task_id = server.new_id()
    server.requested.add(("i", task_id))
    request = {"jsonrpc": "2.0", "id": task_id, "method": "workspace/executeCommand",
               "params": todo[0]["command"]}  # fmt: skip
    server.send(frame(request))
    await llm.wait_request(timeout=30)
    started = time.monotonic()
    latencies: list[float] = []
    while server.wait_for(task_id, 0) is None and time.monotonic() - started < 60:
        latencies.append(await asyncio.to_thread(_ping, server))
        await asyncio.sleep(0.01)
    result = await asyncio.to_thread(server.wait_for, task_id, 60)
    outcome = result.message.get("result", result.message.get("error")) if result else None
    return {
        "pings_while_task_ran": _ms(latencies),
        "task_seconds": round(time.monotonic() - started, 2),
        "task_outcome": outcome.get("outcome") if isinstance(outcome, dict) else outcome,
    }


def _apply_edits(message: dict[str, Any]) -> Any:
    if message["method"] == "workspace/applyEdit":
        return {"applied": True}
    return None


def _framing_target(data: bytes) -> None:
    """One atheris input: chunked through the parser; every invariant is an assertion."""
    from smallcode_ls.lsp.framing import Body, FrameParser

    parser = FrameParser(max_body=4096, max_header=1024)
    chunk = 1 + (data[0] if data else 0)
    bodies: list[bytes] = []
    for start in range(1, len(data), chunk):
        for event in parser.feed(data[start : start + chunk]):
            if isinstance(event, Body):
                assert len(event.data) <= 4096
                bodies.append(event.data)
        assert len(parser._buffer) <= 4096 + 1024 + chunk + 4
    parser.eof()
    again = FrameParser(max_body=4096, max_header=1024)  # re-framed bodies round-trip
    reframed = b"".join(b"Content-Length: %d\r\n\r\n" % len(b) + b for b in bodies)
    assert [e.data for e in again.feed(reframed) if isinstance(e, Body)] == bodies


def atheris_worker(argv: list[str]) -> None:
    import atheris

    atheris.instrument_func(_framing_target)
    with atheris.instrument_imports():
        import smallcode_ls.lsp.framing  # noqa: F401
    atheris.Setup([sys.argv[0], *argv], _framing_target)
    atheris.Fuzz()


def atheris_run(seconds: int, report_path: Path) -> int:
    import re
    import subprocess

    corpus = Path(tempfile.mkdtemp(prefix="framing-corpus-"))
    seeds = [
        b"\x07" + frame({"jsonrpc": "2.0", "id": 1, "method": "x"}) * 2,
        b"\x03" + frame(b"{}", name=b"content-length") + b"junk\r\n\r\n" + frame(b"[]"),
        b"\x10Content-Type: a\r\nContent-Length: 2\r\n\r\n{}Content-Length: 9999999\r\n\r\n",
    ]
    for index, seed in enumerate(seeds):
        (corpus / f"seed{index}").write_bytes(seed)
    command = [sys.executable, __file__, "--atheris-worker", str(corpus),
               f"-max_total_time={seconds}", "-rss_limit_mb=2048"]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 120)
    corpus_files = len(list(corpus.iterdir()))
    runs = re.search(r"Done (\d+) runs in (\d+) second", done.stderr)
    result = {
        "command": f"bench/fuzz_lsp.py --atheris {seconds}",
        "target": "smallcode_ls.lsp.framing.FrameParser (bytes in chunks; caps; round trip)",
        "runs": int(runs.group(1)) if runs else None,
        "seconds": int(runs.group(2)) if runs else None,
        "corpus_inputs_at_end": corpus_files,
        "crashes": 0 if done.returncode == 0 else 1,
        "exit_status": done.returncode,
    }
    report = json.loads(report_path.read_text()) if report_path.exists() else {}
    report["framing_atheris"] = result
    report_path.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    if done.returncode != 0:
        print(done.stderr[-4000:], file=sys.stderr)
    return 0 if done.returncode == 0 else 1


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--atheris-worker":
        atheris_worker(sys.argv[2:])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--atheris", type=int, metavar="SECONDS", help="fuzz the frame parser")
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--pauses", type=int, default=30, help="0.1 s model pauses (phase 2)")
    parser.add_argument("--report", type=Path, default=REPORT)
    args = parser.parse_args()
    if args.atheris:
        return atheris_run(args.atheris, args.report)
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        fuzzed = fuzz(args.messages, args.seed, work)
        liveness = asyncio.run(task_liveness(work, args.pauses))
    report = {
        "command": f"bench/fuzz_lsp.py --messages {args.messages} --seed {args.seed}",
        "machine": machine_facts(),
        "fuzz": fuzzed,
        "agent_task_liveness": liveness,
    }
    args.report.parent.mkdir(parents=True, exist_ok=True)
    if args.report.exists():  # keep the atheris section of an earlier run
        earlier = json.loads(args.report.read_text())
        if "framing_atheris" in earlier:
            report["framing_atheris"] = earlier["framing_atheris"]
    args.report.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    ok = (
        fuzzed["crashes"] == 0
        and fuzzed["ids_missing"] == 0
        and fuzzed["ids_answered_twice"] == 0
        and fuzzed["answers_to_ids_never_sent"] == 0
        and fuzzed["null_id_errors_expected"] == fuzzed["null_id_errors_received"]
        and fuzzed["stdout_junk_bytes"] == 0
        and fuzzed["stderr_bytes_per_message"] <= 1024
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
