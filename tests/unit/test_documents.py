"""The document mirror against a reference UTF-16 splice model."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smallcode_ls.documents import DocumentStore, TextChange
from smallcode_ls.errors import DocumentNotOpen, DocumentOutOfSync
from smallcode_ls.positions import PositionEncoding, TextPosition

# --- reference model: work on UTF-16 code units directly ----------------------------------


def _units(text: str) -> list[int]:
    data = text.encode("utf-16-le", "surrogatepass")
    return [int.from_bytes(data[i : i + 2], "little") for i in range(0, len(data), 2)]


def _text(units: list[int]) -> str:
    return b"".join(u.to_bytes(2, "little") for u in units).decode("utf-16-le", "surrogatepass")


def _reference_offset(units: list[int], line: int, character: int) -> int:
    """Offset in code units of (line, character), lines broken at CRLF/CR/LF."""
    starts = [0]
    i = 0
    while i < len(units):
        if units[i] == 0x0D and i + 1 < len(units) and units[i + 1] == 0x0A:
            i += 2
            starts.append(i)
            continue
        if units[i] in (0x0D, 0x0A):
            starts.append(i + 1)
        i += 1
    return starts[line] + character


def reference_splice(text: str, start: TextPosition, end: TextPosition, new: str) -> str:
    units = _units(text)
    a = _reference_offset(units, start.line, start.character)
    b = _reference_offset(units, end.line, end.character)
    return _text(units[:a] + _units(new) + units[b:])


def utf16_position(text: str, offset: int) -> TextPosition:
    """Position of a code-point offset, in UTF-16 units (the reference's own arithmetic)."""
    before = text[:offset]
    breaks = list(re.finditer(r"\r\n|\r|\n", before))
    # a CR right before the offset whose LF follows belongs to a CRLF not yet complete
    line_start = breaks[-1].end() if breaks else 0
    if before.endswith("\r") and text[offset : offset + 1] == "\n":
        return utf16_position(text, offset - 1)
    return TextPosition(len(breaks), len(_units(before[line_start:])))


ALPHABET = st.sampled_from(list("ab \t_=()é中") + ["\n", "\r\n", "\r", "😀", "𝄞"])
TEXT = st.lists(ALPHABET, max_size=40).map("".join)


@st.composite
def edits(draw: st.DrawFn) -> tuple[str, TextPosition, TextPosition, str]:
    text = draw(TEXT)
    a = draw(st.integers(0, len(text)))
    b = draw(st.integers(a, len(text)))
    return text, utf16_position(text, a), utf16_position(text, b), draw(TEXT)


@settings(max_examples=400, deadline=None)
@given(edits())
def test_incremental_change_matches_the_reference_utf16_splice(
    case: tuple[str, TextPosition, TextPosition, str],
) -> None:
    text, start, end, new = case
    store = DocumentStore(encoding=PositionEncoding.UTF16)
    store.open("file:///a.py", 1, text, "python")
    snapshot = store.change("file:///a.py", 2, [TextChange(new, start, end)])
    assert snapshot.text == reference_splice(text, start, end, new)
    assert snapshot.version == 2


@pytest.mark.parametrize(
    ("encoding", "character"),
    [(PositionEncoding.UTF16, 7), (PositionEncoding.UTF8, 9), (PositionEncoding.UTF32, 6)],
)
def test_position_after_an_emoji_counts_in_the_negotiated_encoding(
    encoding: PositionEncoding, character: int
) -> None:
    store = DocumentStore(encoding=encoding)
    store.open("file:///a.py", 1, 'x = "😀"\n', "python")
    pos = TextPosition(0, character)
    snapshot = store.change("file:///a.py", 2, [TextChange("!", pos, pos)])
    assert snapshot.text == 'x = "😀!"\n'


def test_crlf_lines_are_addressed_like_lf_lines() -> None:
    store = DocumentStore()
    store.open("file:///a.py", 1, "one\r\ntwo\r\n", "python")
    snapshot = store.change(
        "file:///a.py", 2, [TextChange("TWO", TextPosition(1, 0), TextPosition(1, 3))]
    )
    assert snapshot.text == "one\r\nTWO\r\n"


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (TextPosition(0, 3), TextPosition(0, 1)),  # reversed
        (TextPosition(5, 0), TextPosition(5, 0)),  # line past the end
        (TextPosition(0, 40), TextPosition(0, 40)),  # column past the end of the line
        (TextPosition(0, 6), TextPosition(0, 6)),  # inside the emoji's surrogate pair
    ],
)
def test_an_invalid_change_marks_the_document_out_of_sync_and_keeps_the_last_good_text(
    start: TextPosition, end: TextPosition
) -> None:
    store = DocumentStore()
    store.open("file:///a.py", 1, 'x = "😀"\n', "python")
    with pytest.raises(DocumentOutOfSync):
        store.change("file:///a.py", 2, [TextChange("!", start, end)])
    assert not store.is_in_sync("file:///a.py")
    good = store.get("file:///a.py")
    assert good is not None and good.text == 'x = "😀"\n' and good.version == 1
    with pytest.raises(DocumentOutOfSync):
        store.require("file:///a.py")
    with pytest.raises(DocumentOutOfSync):  # incremental changes stay refused
        store.change("file:///a.py", 3, [TextChange("y", TextPosition(0, 0), TextPosition(0, 0))])


def test_a_full_text_change_resynchronises_an_out_of_sync_document() -> None:
    store = DocumentStore()
    store.open("file:///a.py", 1, "abc\n", "python")
    with pytest.raises(DocumentOutOfSync):
        store.change("file:///a.py", 2, [TextChange("!", TextPosition(9, 0), TextPosition(9, 0))])
    snapshot = store.change("file:///a.py", 3, [TextChange("fresh\n")])
    assert snapshot.text == "fresh\n" and store.is_in_sync("file:///a.py")


def test_the_position_just_past_the_last_line_means_the_end_of_the_text() -> None:
    store = DocumentStore()
    store.open("file:///a.py", 1, "a\nb\n", "python")
    snapshot = store.change(
        "file:///a.py", 2, [TextChange("", TextPosition(1, 0), TextPosition(3, 0))]
    )
    assert snapshot.text == "a\n"


def test_changing_a_document_that_was_never_opened_is_an_error() -> None:
    with pytest.raises(DocumentNotOpen):
        DocumentStore().change("file:///nope.py", 1, [TextChange("x")])


def test_snapshots_are_immutable_and_older_ones_survive_changes() -> None:
    store = DocumentStore()
    first = store.open("file:///a.py", 1, "a", "python")
    store.change("file:///a.py", 2, [TextChange("b")])
    assert first.text == "a"
    with pytest.raises(AttributeError):
        first.text = "changed"  # type: ignore[misc]
