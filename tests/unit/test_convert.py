"""Byte-column spans become LSP ranges in the negotiated encoding."""

from __future__ import annotations

import pytest

from smallcode_ls.graph.languages import language_for_path
from smallcode_ls.graph.parser import parse_file_symbols
from smallcode_ls.lsp.convert import to_lsp_range
from smallcode_ls.positions import PositionEncoding


@pytest.mark.parametrize(
    ("encoding", "column"),
    [(PositionEncoding.UTF8, 12), (PositionEncoding.UTF16, 10), (PositionEncoding.UTF32, 9)],
)
def test_a_name_after_an_emoji_gets_the_column_of_the_negotiated_encoding(
    encoding: PositionEncoding, column: int
) -> None:
    spec = language_for_path("e.py")
    assert spec is not None
    file = parse_file_symbols(spec, 'G = "😀"; FAREWELL = 1\n'.encode(), "e.py")
    farewell = file.symbols[1]
    assert farewell.name == "FAREWELL"
    lsp = to_lsp_range(farewell.name_span, file.non_ascii_lines, encoding)
    assert (lsp.start.line, lsp.start.character) == (0, column)
    assert lsp.end.character - lsp.start.character == len("FAREWELL")
