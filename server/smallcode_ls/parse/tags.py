"""Read the XML-ish tool-call dialects: ``<function=...>``, ``<invoke ...>`` and ``<name>`` tags.

Parameter values are raw text: no entity decoding, no stripping. The one exception follows the
Qwen3-Coder template: inside ``<parameter=k>`` one newline after the opening tag and one before
the closing tag belong to the markup and are removed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

__all__ = ["TagCall", "read_function_tag", "read_invoke", "read_name_tags"]

_FUNCTION_OPEN = re.compile(r"<function=([^>\n]*)>")
_FUNCTION_END = re.compile(r"</function>|</tool_call>|<function=")
_EQ_PARAM = re.compile(r"<parameter=([^>\n]*)>")
_INVOKE_OPEN = re.compile(r"<invoke\s+name=[\"']?([^\"'>\s]*)[\"']?\s*>")
_INVOKE_END = re.compile(r"</invoke>|<invoke\s")
_NAMED_PARAM = re.compile(r"<parameter\s+name=[\"']?([^\"'>\s]*)[\"']?\s*>")
_PARAM_END = "</parameter>"
_NAME_TAG = re.compile(r"\s*<(name|tool_name|function_name)>(.*?)</\1>", re.S)
_ARGS_TAG = re.compile(r"\s*<(arguments|parameters|args|input)>", re.S)
_CHILD = re.compile(r"\s*<([A-Za-z_][\w\-]*)>(.*?)</\1>", re.S)


@dataclass(frozen=True, slots=True)
class TagCall:
    """A call read from tags; ``raw_json`` holds the span of a JSON ``<arguments>`` body."""

    name: str
    arguments: dict[str, Any]
    end: int
    truncated: bool
    raw_json: tuple[int, int] | None = None


def _params(
    text: str, pos: int, body_end: int, opener: re.Pattern[str], *, strip_newline: bool
) -> tuple[dict[str, Any], bool]:
    args: dict[str, Any] = {}
    while True:
        m = opener.search(text, pos, body_end)
        if m is None:
            return args, False
        close = text.find(_PARAM_END, m.end(), body_end)
        if close < 0:
            return args, True
        value = text[m.end() : close]
        if strip_newline:
            value = value.removeprefix("\n").removesuffix("\n")
        args[m.group(1).strip()] = value
        pos = close + len(_PARAM_END)


def _tag_call(
    text: str, start: int, bound: int, opener: re.Pattern[str], ender: re.Pattern[str], *,
    param: re.Pattern[str], closer: str, strip_newline: bool,
) -> TagCall | None:  # fmt: skip
    head = opener.match(text, start, bound)
    if head is None:
        return None
    stop = ender.search(text, head.end(), bound)
    body_end = stop.start() if stop is not None else bound
    args, cut = _params(text, head.end(), body_end, param, strip_newline=strip_newline)
    end = body_end
    if stop is not None and stop.group() == closer:
        end = stop.end()
    return TagCall(head.group(1).strip(), args, end, cut)


def read_function_tag(text: str, start: int, bound: int) -> TagCall | None:
    """``<function=NAME><parameter=K>V</parameter></function>`` at ``text[start]``."""
    return _tag_call(
        text, start, bound, _FUNCTION_OPEN, _FUNCTION_END,
        param=_EQ_PARAM, closer="</function>", strip_newline=True,
    )  # fmt: skip


def read_invoke(text: str, start: int, bound: int) -> TagCall | None:
    """``<invoke name="NAME"><parameter name="K">V</parameter></invoke>`` at ``text[start]``."""
    return _tag_call(
        text, start, bound, _INVOKE_OPEN, _INVOKE_END,
        param=_NAMED_PARAM, closer="</invoke>", strip_newline=False,
    )  # fmt: skip


def read_name_tags(text: str, start: int, bound: int) -> TagCall | None:
    """``<name>NAME</name><arguments>{json} or <k>v</k>...</arguments>`` at ``text[start]``."""
    head = _NAME_TAG.match(text, start, bound)
    if head is None:
        return None
    name = head.group(2).strip()
    args_open = _ARGS_TAG.match(text, head.end(), bound)
    if args_open is None:
        return TagCall(name, {}, head.end(), False)
    closer = f"</{args_open.group(1)}>"
    close = text.find(closer, args_open.end(), bound)
    body_end = close if close >= 0 else bound
    end = close + len(closer) if close >= 0 else bound
    body = text[args_open.end() : body_end]
    if body.lstrip().startswith(("{", "[")):
        first = args_open.end() + len(body) - len(body.lstrip())
        return TagCall(name, {}, end, close < 0, raw_json=(first, body_end))
    args: dict[str, Any] = {}
    pos = args_open.end()
    while True:
        child = _CHILD.match(text, pos, body_end)
        if child is None:
            break
        args[child.group(1)] = child.group(2)
        pos = child.end()
    return TagCall(name, args, end, close < 0 and not args)
