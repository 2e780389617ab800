"""Separate a reasoning model's thinking from its visible reply, with a thinking budget."""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["ThinkingResult", "strip_thinking"]

_NAMES = r"think|thinking|thought|reasoning"
_OPEN = re.compile(rf"<(?:{_NAMES})>|<\|(?:{_NAMES})\|>|<\|begin_of_(?:{_NAMES})\|>", re.I)
_CLOSE = re.compile(
    rf"</(?:{_NAMES})>|<\|/(?:{_NAMES})\|>|<\|end_?(?:of_)?(?:{_NAMES})\|>",
    re.I,
)


@dataclass(frozen=True, slots=True)
class ThinkingResult:
    """The visible reply, the thinking kept (at most the budget) and whether it was cut."""

    visible: str
    thinking: str
    capped: bool


def strip_thinking(text: str, max_chars: int) -> ThinkingResult:
    """Remove ``<think>...</think>`` blocks (and ``<thinking>``, ``<|thinking|>`` variants).

    An unclosed opener runs to the end of the text. A closer with no opener before it (templates
    that put ``<think>`` in the prompt) makes everything before it thinking. The thinking kept is
    the first ``max_chars`` characters; ``capped`` says that more was dropped.
    """
    if "<" not in text:
        return ThinkingResult(text, "", False)
    visible: list[str] = []
    thinking: list[str] = []
    pos = 0
    first_close = _CLOSE.search(text)
    if first_close is not None:
        first_open = _OPEN.search(text, 0, first_close.start())
        if first_open is None:
            thinking.append(text[: first_close.start()])
            pos = first_close.end()
    while True:
        opener = _OPEN.search(text, pos)
        if opener is None:
            visible.append(text[pos:])
            break
        visible.append(text[pos : opener.start()])
        closer = _CLOSE.search(text, opener.end())
        if closer is None:
            thinking.append(text[opener.end() :])
            break
        thinking.append(text[opener.end() : closer.start()])
        pos = closer.end()
    kept = "\n".join(part.strip() for part in thinking if part.strip())
    budget = max(max_chars, 0)
    capped = len(kept) > budget
    return ThinkingResult("".join(visible), kept[:budget] if capped else kept, capped)
