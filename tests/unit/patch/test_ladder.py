"""The matching ladder, rung by rung, and what it refuses."""

from __future__ import annotations

import pytest

from smallcode_ls.parse.edit_types import EditFormat, EditProblemCode
from smallcode_ls.parse.edits import parse_edits
from smallcode_ls.patch import apply_model_output
from smallcode_ls.patch.match import Match, Miss, Rung, locate

FILE = [
    "def alpha(value):",
    "    if value is None:",
    "        return 'none'",
    "    result = compute(value)",
    "    return result",
    "",
    "",
    "def beta(value):",
    "    if value is None:",
    "        return 'none'",
    "    return value * 2",
]


@pytest.mark.parametrize(
    ("before", "rung", "start"),
    [
        (["    result = compute(value)", "    return result"], Rung.EXACT, 3),
        (["    result = compute(value)  ", "    return result"], Rung.WHITESPACE, 3),
        (["result = compute(value)", "return result"], Rung.INDENT, 3),
        (
            ["def alpha(value):", "    # ... existing code ...", "    return result"],
            Rung.ELISION,
            0,
        ),
        (
            [
                "def alpha(value):",
                "    if value is None:",
                '        return "none"',
                "    result = compute(value)",
            ],
            Rung.FUZZY,
            0,
        ),
    ],
)
def test_each_rung_places_its_kind_of_near_miss(before: list[str], rung: Rung, start: int) -> None:
    found = locate(FILE, before)
    assert isinstance(found, Match)
    assert (found.rung, found.start) == (rung, start)


def test_two_equal_places_are_ambiguous_and_the_ladder_stops() -> None:
    found = locate(FILE, ["    if value is None:", "        return 'none'"])
    assert isinstance(found, Miss) and found.code is EditProblemCode.AMBIGUOUS
    assert found.places == ((1, 3), (8, 10))


def test_a_hunk_line_number_breaks_a_tie_only_when_close() -> None:
    before = ["    if value is None:", "        return 'none'"]
    near = locate(FILE, before, hint=7)
    assert isinstance(near, Match) and near.start == 8
    far = locate(FILE, before, hint=40)
    assert isinstance(far, Miss) and far.code is EditProblemCode.AMBIGUOUS


def test_fuzzy_never_picks_between_two_similar_places() -> None:
    before = ["    if value is None:", "        return 'none'", "    return valu * 2", "x = 1"]
    found = locate(FILE, before)
    assert isinstance(found, Miss)


def test_fuzzy_needs_enough_exact_evidence() -> None:
    found = locate(FILE, ["def alpha(valu):", "    return result"])
    assert isinstance(found, Miss) and found.code is EditProblemCode.NOT_FOUND


def test_an_insertion_already_present_is_recognised() -> None:
    text = "\n".join(FILE) + "\n"
    reply = (
        "<<<<<<< SEARCH\n    return result\n=======\n"
        "    return result\n    # done\n>>>>>>> REPLACE\n"
    )
    once = apply_model_output(text, reply)
    assert once.new_text is not None and once.rungs == ("exact",)
    twice = apply_model_output(once.new_text, reply)
    assert twice.rungs == ("already-applied",) and twice.new_text == once.new_text


def test_an_elision_marker_among_changed_lines_is_refused() -> None:
    text = "\n".join(FILE) + "\n"
    reply = (
        "<<<<<<< SEARCH\ndef alpha(value):\n    # ...\n    return result\n=======\n"
        "def alpha(value):\n    return 0\n>>>>>>> REPLACE\n"
    )
    result = apply_model_output(text, reply)
    assert result.refused and "elision" in result.reason


def test_relative_indentation_reindents_the_replacement() -> None:
    text = "\n".join(FILE) + "\n"
    reply = (
        "<<<<<<< SEARCH\nreturn value * 2\n=======\n"
        "if value:\n    return value * 2\nreturn 0\n>>>>>>> REPLACE\n"
    )
    result = apply_model_output(text, reply)
    assert result.rungs == ("indent",)
    assert result.new_text is not None
    assert result.new_text.endswith("    if value:\n        return value * 2\n    return 0\n")


@pytest.mark.parametrize(
    ("reply", "fmt"),
    [
        ("<<<<<<< ORIGINAL\na\n=======\nb\n>>>>>>> UPDATED\n", EditFormat.SEARCH_REPLACE),
        ("@@ -1 +1 @@\n-a\n+b\n", EditFormat.UNIFIED_DIFF),
        ("```diff\n-a\n+b\n```\n", EditFormat.UNIFIED_DIFF),
        ("```python\nx = 1\n```\n", EditFormat.WHOLE_FILE),
        ("nothing to see", EditFormat.UNKNOWN),
    ],
)
def test_the_parser_says_which_format_it_saw(reply: str, fmt: EditFormat) -> None:
    assert parse_edits(reply).format is fmt


def test_model_output_never_raises() -> None:
    for reply in [
        "",
        "@@",
        "<<<<<<< SEARCH",
        "```",
        "--- a\n+++ b\n@@ -x @@\n+",
        "=======\n>>>>>>> REPLACE",
    ]:
        result = apply_model_output("a\nb\n", reply)
        assert result.refused or result.new_text is not None


def test_an_indented_fence_inside_a_hunk_is_a_context_line() -> None:
    text = "Usage:\n\n    ```python\n    run()\n    ```\n"
    reply = "@@ -2,3 +2,3 @@\n \n     ```python\n-    run()\n+    run(fast=True)\n"
    result = apply_model_output(text, reply, "README.md")
    assert result.new_text == text.replace("run()", "run(fast=True)")
