"""T1 fast version: mutated sessions (b) and damaged raw frames (c) against the real server.

The long run is ``bench/fuzz_lsp.py --messages 10000`` (report in bench/reports/fuzz-lsp.json).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.reliability.fuzzing import (
    Fuzzer,
    RawServer,
    RefusingModel,
    codes,
    internal_errors,
    start_session,
)


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RawServer, str]]:
    root = tmp_path_factory.mktemp("ws")
    with RefusingModel() as model:
        server, uri = start_session(root, tmp_path_factory.mktemp("cache"), model.base_url)
        yield server, uri
        server.stop()


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.randoms(use_true_random=False))
def test_each_mutated_message_gets_exactly_the_answer_json_rpc_requires(
    session: tuple[RawServer, str], rnd: random.Random
) -> None:
    server, uri = session
    fuzzer = Fuzzer(server, uri, rnd, raw_faults=False)
    nulls_before = len(server.null_errors)
    fuzzer.one()
    fuzzer.ping()  # messages are handled in order: every answer to it was sent before this
    assert server.process.poll() is None, server.stderr[-2000:].decode(errors="replace")
    assert fuzzer.late == [] and fuzzer.missing() == []
    assert fuzzer.duplicated() == [] and fuzzer.unexpected() == []
    assert len(server.null_errors) - nulls_before == fuzzer.expected_nulls
    assert server.junk == b""


def test_damaged_frames_and_mutations_end_to_end(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    model = RefusingModel().__enter__()
    server, uri = start_session(root, tmp_path / "cache", model.base_url)
    try:
        fuzzer = Fuzzer(server, uri, random.Random(7), raw_faults=True)
        stderr_before = len(server.stderr)
        for count in range(1, 2001):
            fuzzer.one()
            if count % 50 == 0:
                fuzzer.ping()
        fuzzer.ping()
        fuzzer.settle()
        assert server.process.poll() is None, server.stderr[-2000:].decode(errors="replace")
        assert fuzzer.late == [] and fuzzer.missing() == []  # G1: each within 2 s, once
        assert fuzzer.duplicated() == [] and fuzzer.unexpected() == []
        assert len(server.null_errors) == fuzzer.expected_nulls
        assert fuzzer.frame_faults > 50 and fuzzer.expected_nulls > 50
        found = codes(server)
        assert found[-32700] and found[-32600] and found[-32602]
        assert internal_errors(server) == []  # no input reached an unexpected exception
        assert server.junk == b""  # G5: nothing but frames on stdout
        per_message = (len(server.stderr) - stderr_before) / fuzzer.sent
        assert per_message <= 1024, f"{per_message:.0f} stderr bytes per message"  # G6
        assert b"Traceback" not in b"".join(
            repr(a.message).encode() for answers in server.answers.values() for a in answers
        )
        assert server.request("shutdown")["result"] is None
        server.notify("exit")
        assert server.process.wait(10) == 0
    finally:
        server.stop()
        model.__exit__()
