"""Read the YAML-ish tool calls small models write instead of JSON.

Shape::

    name: replace_in_file
    arguments:
      path: a.py
      search: |
        old line
      replace: |-
        new line

Supported values: plain scalars (kept as strings), JSON/YAML double-quoted and single-quoted
scalars, flow JSON objects after ``arguments:``, and ``|``/``>`` block scalars with chomping
(``-``/``+``) and explicit indentation indicators. Line contents (trailing spaces, carriage
returns) are kept exactly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from smallcode_ls.parse.json_repair import Truncation, decode_value

__all__ = ["YamlCall", "read_yaml_call"]

_NAME_LINE = re.compile(r"([ \t]*)(?:name|tool|tool_name|function)[ \t]*:[ \t]*(\S.*?)[ \t]*$")
_ARGS_LINE = re.compile(r"([ \t]*)(?:arguments|parameters|args|input|params)[ \t]*:[ \t]*(.*)$")
_HEAD = re.compile(
    r"[ \t]*(?:name|tool|tool_name|function)[ \t]*:[^\n]*\n(?:[ \t]*\n)*"
    r"[ \t]*(?:arguments|parameters|args|input|params)[ \t]*:"
)
_ENTRY = re.compile(r"(\"[^\"]*\"|'[^']*'|[^\s:#'\"][^:]*?)[ \t]*:(?:[ \t]+(.*))?$")
_HEADER = re.compile(r"([|>])([+-]?)([1-9]?)([+-]?)[ \t]*(?:#.*)?$")


@dataclass(frozen=True, slots=True)
class YamlCall:
    """A name, its arguments, where the call ends, and whether text was cut."""

    name: str
    arguments: dict[str, Any]
    end: int
    truncated: bool


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _unquote(raw: str) -> tuple[Any, bool]:
    """A scalar's value and whether it was cut (an unterminated quote)."""
    text = raw.strip()
    if text.startswith('"'):
        got = decode_value(text)
        if got is None or got.truncation is not Truncation.NONE:
            return text, True
        return got.value, False
    if text.startswith("'"):
        if len(text) < 2 or not text.endswith("'"):
            return text, True
        return text[1:-1].replace("''", "'"), False
    if " #" in text:
        text = text.split(" #", 1)[0].rstrip()
    return text, False


def _block(lines: list[str], i: int, key_indent: int, header: re.Match[str]) -> tuple[str, int]:
    """Read a block scalar starting at ``lines[i]``; returns the value and the next line index."""
    style, chomp, digit = header.group(1), header.group(2) or header.group(4), header.group(3)
    content_indent = key_indent + int(digit) if digit else -1
    body: list[str] = []
    j = i
    while j < len(lines):
        line = lines[j]
        if line.strip(" ") == "":
            body.append(line)
            j += 1
            continue
        ind = _indent(line)
        if content_indent < 0:
            if ind <= key_indent:
                break
            content_indent = ind
        if ind < content_indent:
            break
        body.append(line)
        j += 1
    if content_indent < 0:
        content_indent = key_indent + 1
    kept = [line[content_indent:] if line.strip(" ") else line[content_indent:] for line in body]
    if style == ">":
        folded: list[str] = []
        for line in kept:
            if folded and folded[-1] not in ("", "\n") and line and not line.startswith(" "):
                folded[-1] += " " + line
            else:
                folded.append(line)
        kept = folded
    text = "".join(line + "\n" for line in kept)
    if chomp == "-":
        text = text.rstrip("\n")
    elif chomp != "+":
        text = text.rstrip("\n") + "\n" if text.strip("\n") else ""
    return text, j


def read_yaml_call(text: str, start: int, end: int) -> YamlCall | None:
    """Read a YAML-ish call whose ``name:`` line starts at ``text[start]``; ``None`` if not one."""
    if _HEAD.match(text, start, end) is None:
        return None
    region = text[start:end]
    lines = region.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    first = _NAME_LINE.fullmatch(lines[0]) if lines else None
    if first is None:
        return None
    base = len(first.group(1))
    name, cut = _unquote(first.group(2))
    if cut or not isinstance(name, str):
        return None
    i = 1
    while i < len(lines) and lines[i].strip() == "":
        i += 1
    args_line = _ARGS_LINE.fullmatch(lines[i]) if i < len(lines) else None
    if args_line is None or len(args_line.group(1)) != base:
        return None
    inline = args_line.group(2).strip()
    if inline and inline[0] in "{[":
        offset = start + sum(len(line) + 1 for line in lines[:i]) + lines[i].index(inline[0])
        got = decode_value(text, offset, end)
        if got is None or not isinstance(got.value, dict):
            return None
        return YamlCall(name, got.value, got.end, got.truncation is Truncation.CONTENT)
    if inline:
        return None
    arguments: dict[str, Any] = {}
    truncated = False
    i += 1
    key_indent = -1
    while i < len(lines):
        line = lines[i]
        if line.strip() == "":
            i += 1
            continue
        ind = _indent(line)
        if key_indent < 0:
            if ind <= base:
                break
            key_indent = ind
        if ind != key_indent:
            break
        entry = _ENTRY.fullmatch(line[ind:])
        if entry is None:
            break
        key, _ = _unquote(entry.group(1))
        rest = entry.group(2) or ""
        header = _HEADER.fullmatch(rest.strip())
        if header is not None:
            arguments[str(key)], i = _block(lines, i + 1, key_indent, header)
            continue
        value, cut = _unquote(rest)
        truncated = truncated or cut
        arguments[str(key)] = value
        i += 1
    while i > 0 and lines[i - 1].strip() == "" and i - 1 > 1:
        i -= 1
    consumed = sum(len(line) + 1 for line in lines[:i])
    return YamlCall(name, arguments, min(start + consumed, end), truncated)
