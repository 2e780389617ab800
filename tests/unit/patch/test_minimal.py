"""Minimal edits: applied to the old text (directly, and as UTF-16 LSP edits) they give the new."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from lsprotocol import types

from smallcode_ls.documents import TextChange, apply_change
from smallcode_ls.lsp.convert import to_lsp_text_edits
from smallcode_ls.patch.minimal import OffsetEdit, apply_offset_edits, minimal_edits
from smallcode_ls.positions import PositionEncoding, TextPosition

ALPHABET = st.sampled_from(["a", "b", " ", "\n", "\r\n", "\r", "é", "😀", "𝄞", "\t", "x = 1\n"])
TEXTS = st.lists(ALPHABET, max_size=40).map("".join)


def _apply_lsp(text: str, edits: list[types.TextEdit | types.AnnotatedTextEdit]) -> str:
    # Apply from the end so that earlier positions stay valid, as an editor does.
    for edit in sorted(
        edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True
    ):
        start = TextPosition(edit.range.start.line, edit.range.start.character)
        end = TextPosition(edit.range.end.line, edit.range.end.character)
        text = apply_change(text, TextChange(edit.new_text, start, end), PositionEncoding.UTF16)
    return text


@settings(max_examples=400, deadline=None)
@given(TEXTS, TEXTS)
def test_minimal_edits_applied_to_old_give_new(old: str, new: str) -> None:
    edits = minimal_edits(old, new)
    assert apply_offset_edits(old, edits) == new
    for first, second in zip(edits, edits[1:], strict=False):
        assert first.end <= second.start


@settings(max_examples=400, deadline=None)
@given(TEXTS, TEXTS)
def test_minimal_edits_round_trip_through_utf16_lsp_positions(old: str, new: str) -> None:
    lsp_edits = to_lsp_text_edits(old, minimal_edits(old, new), PositionEncoding.UTF16)
    assert _apply_lsp(old, lsp_edits) == new


def test_an_insert_where_a_replacement_starts_becomes_one_edit() -> None:
    # Found by Hypothesis: two edits sharing offset 0 were applied in the wrong order.
    edits = minimal_edits("\r\n", "\n\ra\n")
    assert edits == (OffsetEdit(0, 2, "\n\ra\n"),)
    lsp_edits = to_lsp_text_edits("\r\n", edits, PositionEncoding.UTF16)
    assert _apply_lsp("\r\n", lsp_edits) == "\n\ra\n"


def test_a_one_word_change_is_one_small_edit() -> None:
    old = "def f():\n    return 1\n\n\ndef g():\n    return 2\n"
    new = old.replace("return 2", "return 3")
    assert minimal_edits(old, new) == (OffsetEdit(old.index("2\n"), old.index("2\n") + 1, "3"),)


def test_no_edit_splits_a_crlf_pair() -> None:
    old = "a\r\nb"
    edits = minimal_edits(old, "a\rb")
    assert all(old[e.start - 1 : e.start + 1] != "\r\n" for e in edits)
    assert apply_offset_edits(old, edits) == "a\rb"


def test_identical_texts_need_no_edit() -> None:
    assert minimal_edits("same\n", "same\n") == ()
