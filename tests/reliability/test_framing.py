"""The frame parser (T1a/G2): exact bodies, tolerant headers, caps, resync after faults."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from smallcode_ls.lsp.framing import MAX_BODY_BYTES, Body, FrameParser, FramingFault


def frame(body: bytes, *, name: bytes = b"Content-Length", extra: bytes = b"") -> bytes:
    return extra + name + b": %d\r\n" % len(body) + b"\r\n" + body


def bodies(events: list[Body | FramingFault]) -> list[bytes]:
    return [e.data for e in events if isinstance(e, Body)]


def faults(events: list[Body | FramingFault]) -> list[str]:
    return [e.reason for e in events if isinstance(e, FramingFault)]


def test_header_names_are_case_insensitive_and_extra_headers_are_tolerated() -> None:
    stream = (
        frame(b"{}", name=b"content-length")
        + frame(b"[1]", name=b"CONTENT-LENGTH")
        + frame(b'"a"', extra=b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n")
        + frame(b"1", extra=b"X-Trace: abc\r\n")
        + b"Content-Length:2\r\n\r\n{}"
    )
    events = FrameParser().feed(stream)
    assert bodies(events) == [b"{}", b"[1]", b'"a"', b"1", b"{}"]
    assert faults(events) == []


def test_a_lower_case_header_does_not_swallow_the_next_frame() -> None:
    # pygls 2.1.1 ignored this frame *and* lost the next one (RELIABILITY.md 2a #10).
    events = FrameParser().feed(frame(b"1", name=b"content-length") + frame(b"2"))
    assert bodies(events) == [b"1", b"2"]


def test_a_huge_content_length_is_refused_without_allocating_and_the_stream_resyncs() -> None:
    parser = FrameParser()
    events = parser.feed(b"Content-Length: 99999999999999\r\n\r\n" + b"x" * 1000 + frame(b"ok"))
    assert bodies(events) == [b"ok"]
    assert faults(events) == [
        f"Content-Length 99999999999999 is over the {MAX_BODY_BYTES}-byte cap"
    ]
    assert len(parser._buffer) == 0


def test_the_body_cap_is_inclusive() -> None:
    parser = FrameParser(max_body=10)
    assert bodies(parser.feed(frame(b"0123456789"))) == [b"0123456789"]
    assert faults(parser.feed(frame(b"0123456789A"))) != []


def test_an_endless_header_block_is_cut_at_8_kib() -> None:
    parser = FrameParser()
    events = parser.feed(b"X-Junk: " + b"a" * 20_000)
    assert faults(events) == ["header block too large"]
    assert len(parser._buffer) < 64
    assert bodies(parser.feed(frame(b"ok"))) == [b"ok"]


def test_garbage_between_frames_is_skipped_up_to_the_next_header() -> None:
    stream = frame(b"1") + b"junk\r\n\r\n" + frame(b"2") + b"\x00\xff garbage" + frame(b"3")
    events = FrameParser().feed(stream)
    assert bodies(events) == [b"1", b"2", b"3"]
    assert len(faults(events)) == 2


def test_bad_header_values_are_faults() -> None:
    for header in (
        b"Content-Length: -1\r\n\r\n",
        b"Content-Length: 1e3\r\n\r\n",
        b"Content-Length: 1\r\nContent-Length: 2\r\n\r\n",
        b"Content-Type: x\r\n\r\n",
        b"no colon here\r\n\r\n",
    ):
        events = FrameParser().feed(header + frame(b"ok"))
        assert bodies(events) == [b"ok"], header
        assert len(faults(events)) == 1, header


def test_a_frame_cut_off_by_end_of_input_is_reported() -> None:
    parser = FrameParser()
    assert parser.feed(b"Content-Length: 10\r\n\r\nabc") == []
    assert faults(parser.eof()) == ["stream ended inside a frame"]


@given(
    st.lists(st.binary(max_size=200), max_size=8),
    st.lists(st.integers(min_value=1, max_value=50), min_size=1, max_size=20),
)
def test_any_chunking_yields_the_same_bodies(payloads: list[bytes], cuts: list[int]) -> None:
    stream = b"".join(frame(p) for p in payloads)
    parser, events, position, i = FrameParser(), [], 0, 0
    while position < len(stream):
        size = cuts[i % len(cuts)]
        events += parser.feed(stream[position : position + size])
        position, i = position + size, i + 1
    assert bodies(events) == payloads
    assert faults(events) == []


_GARBAGE = st.binary(max_size=300).filter(lambda b: b"content-length" not in b.lower())


@given(st.lists(st.tuples(_GARBAGE, st.binary(max_size=100)), min_size=1, max_size=6))
def test_every_frame_after_garbage_is_recovered(pieces: list[tuple[bytes, bytes]]) -> None:
    stream = b"".join(junk + frame(body) for junk, body in pieces)
    assert bodies(FrameParser().feed(stream))[-1] == pieces[-1][1]


@settings(max_examples=300)
@given(st.binary(max_size=4000), st.integers(min_value=1, max_value=4096))
def test_arbitrary_bytes_never_raise_and_memory_stays_bounded(data: bytes, chunk: int) -> None:
    parser = FrameParser(max_body=1024, max_header=512)
    for start in range(0, len(data), chunk):
        parser.feed(data[start : start + chunk])
        assert len(parser._buffer) <= 1024 + 512 + chunk + 4
    parser.eof()


def test_json_bodies_round_trip() -> None:
    message = {"jsonrpc": "2.0", "id": 1, "method": "x", "params": {"t": "é😀"}}
    body = json.dumps(message, ensure_ascii=False).encode()
    assert bodies(FrameParser().feed(frame(body))) == [body]
