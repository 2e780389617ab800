"""Incremental re-parsing gives the same symbols as a fresh parse."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from smallcode_ls.graph.extract import extract_file_symbols
from smallcode_ls.graph.languages import language_for_path
from smallcode_ls.graph.parser import IncrementalParse, parse_file_symbols

SPEC = language_for_path("x.py")
assert SPEC is not None

BASE = (
    "import os\n\nclass A:\n    x = 1\n\n    def m(self):\n        return 'é'\n\n"
    "def f(a, b):\n    return a + b\n\nVALUE = f(1, 2)\n"
)
PIECES = st.sampled_from(
    [
        "def g():\n    pass\n",
        "class B:\n    pass\n",
        "x",
        "\n",
        "    ",
        "😀",
        "(",
        ")",
        ":",
        "Z = 1\n",
    ]
)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 30), PIECES), max_size=6))
def test_a_sequence_of_edits_parsed_incrementally_equals_a_fresh_parse(
    edits: list[tuple[int, int, str]],
) -> None:
    live = IncrementalParse(SPEC)
    text = BASE
    live.update(text.encode())
    for position, length, insert in edits:
        start = position % (len(text) + 1)
        text = text[:start] + insert + text[start + length :]
        source = text.encode()
        tree = live.update(source)
        incremental = extract_file_symbols(tree, source, SPEC, "x.py")
        assert incremental == parse_file_symbols(SPEC, source, "x.py")
