from __future__ import annotations

import pytest

from smallcode_ls.parse import strip_thinking

CASES = [
    ("<think>plan</think>answer", "answer", "plan"),
    ("before<think>plan</think>after", "beforeafter", "plan"),
    ("<thinking>plan</thinking>answer", "answer", "plan"),
    ("<|thinking|>plan<|/thinking|>answer", "answer", "plan"),
    ("<think>never closed, runs to the end", "", "never closed, runs to the end"),
    ("template opened it\n</think>\nanswer", "\nanswer", "template opened it"),
    ("<think>a</think>x<think>b</think>y", "xy", "a\nb"),
    ("no thinking at all", "no thinking at all", ""),
]


@pytest.mark.parametrize(("text", "visible", "thinking"), CASES, ids=range(len(CASES)))
def test_thinking_blocks_are_removed_from_the_visible_text(
    text: str, visible: str, thinking: str
) -> None:
    result = strip_thinking(text, 1000)
    assert (result.visible, result.thinking, result.capped) == (visible, thinking, False)


def test_thinking_beyond_the_budget_is_capped() -> None:
    result = strip_thinking("<think>" + "x" * 50 + "</think>ok", 10)
    assert (result.visible, result.thinking, result.capped) == ("ok", "x" * 10, True)


def test_a_zero_budget_keeps_no_thinking() -> None:
    result = strip_thinking("<think>abc</think>ok", 0)
    assert (result.thinking, result.capped) == ("", True)
