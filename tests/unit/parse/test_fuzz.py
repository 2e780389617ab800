from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from smallcode_ls.parse import parse_tool_calls, read_lenient
from tests.unit.parse.test_tool_calls import TOOLS


@settings(max_examples=400, deadline=None)
@given(st.text())
def test_arbitrary_text_never_raises(text: str) -> None:
    parse_tool_calls(text, TOOLS)


FRAGMENTS = [
    "{", "}", "[", "]", '"', "'", ":", ",", "\\", "\n", "```", "```json\n", "<tool_call>",
    "</tool_call>", "<function=read_file>", "<parameter=path>", "</parameter>", "</function>",
    '<invoke name="read_file">', "</invoke>", "name: read_file\n", "arguments:\n", "  path: |\n",
    '"name"', '"arguments"', '"read_file"', "True", "None", "<think>", "</think>", "\\u12", "#",
]  # fmt: skip


@settings(max_examples=600, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=4), max_size=40))
def test_call_shaped_noise_never_raises(parts: list[str]) -> None:
    parse_tool_calls(
        "".join(parts), TOOLS, [{"function": {"name": "read_file", "arguments": "".join(parts)}}]
    )


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="{}[]\"':,\\ntrueTNone0123#/*\n ", max_size=60))
def test_the_lenient_reader_never_raises_on_json_like_noise(text: str) -> None:
    read_lenient(text)
