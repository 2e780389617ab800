"""Forgiving tool-call parsing for small local models: one reply in, typed calls and problems out.

The ladder, in order: native ``tool_calls`` from the server; then the content, scanned left to
right for ``<tool_call>`` tags (JSON, ``<name>``/``<arguments>`` tags, ``<function=...>``),
``<invoke>`` tags, fenced blocks (```json / ```python / ```yaml / plain), YAML-ish
``name:``/``arguments:`` blocks, and bare JSON objects or Python dicts in prose. Every call is
then checked against the tool specs (:mod:`smallcode_ls.parse.schema`). Nothing here raises on
model output; what cannot be used becomes a :class:`ParseProblem` with a hint for the model.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from smallcode_ls.parse.json_repair import LenientValue, Truncation, decode_value
from smallcode_ls.parse.results import (
    Dialect,
    ParseProblem,
    ProblemCode,
    ToolCall,
    ToolCallParse,
    ToolSpec,
)
from smallcode_ls.parse.schema import build_call, normalize_name
from smallcode_ls.parse.tags import TagCall, read_function_tag, read_invoke, read_name_tags
from smallcode_ls.parse.thinking import strip_thinking
from smallcode_ls.parse.yamlish import read_yaml_call

__all__ = ["DEFAULT_THINKING_CHARS", "parse_tool_calls"]

DEFAULT_THINKING_CHARS = 8000

_Item = ToolCall | ParseProblem
_NAME_KEYS = ("name", "tool", "tool_name", "function", "function_name", "recipient_name")
_ARGS_KEYS = (
    "arguments", "parameters", "input", "args", "params", "tool_input", "action_input", "kwargs",
)  # fmt: skip
_SKIP_KEYS = frozenset({"type", "id", "index", "call_id"})
_SCAN = re.compile(
    r"(?P<tag><tool_call>|<\|tool_call\|>|<function_call>|\[TOOL_CALLS\])"
    r"|(?P<func><function=)"
    r"|(?P<invoke><invoke\s+name=)"
    r"|(?P<wrap></?function_calls>|</tool_call>|<\|/tool_call\|>|</function_call>)"
    r"|(?P<fence>^[ \t]*(?:```|~~~))"
    r"|(?P<yaml>^[ \t]*(?:name|tool|tool_name|function)[ \t]*:[ \t]*[\"']?[A-Za-z_])"
    r"|(?P<json>\{|\[(?=\s*\{))",
    re.M,
)
_TAG_CLOSE = re.compile(r"</tool_call>|<\|/tool_call\|>|</function_call>|<tool_call>")
_FENCE_CLOSE = re.compile(r"^[ \t]*(?:```|~~~)[ \t]*$", re.M)
_FENCE_LINE = re.compile(r"[ \t]*(?:```|~~~)[^\n]*(?:\n|$)")
_NAME_THEN_JSON = re.compile(r"(?:functions\.)?([A-Za-z_][\w.\-]*)[ \t]*[:(]?\s*(?=[{\[])")
_WS = re.compile(r"\s*")
_INNER_WRAPPER = re.compile(r"(?:<tool_call>|<function_calls>)\s*")


@dataclass(slots=True)
class _Found:
    """What one scanner rung read: items, where it ended, and whether it was a call at all."""

    end: int
    items: list[_Item] = field(default_factory=list)


def _truncated(name: Any) -> ParseProblem:
    label = name if isinstance(name, str) and name else None
    what = f"Your JSON for {label}" if label else "Your tool call"
    return ParseProblem(
        ProblemCode.TRUNCATED,
        f"tool call {label or ''} was cut off".replace("  ", " "),
        f"{what} was cut off; send the whole call again.",
        label,
    )


def _invalid(where: str) -> ParseProblem:
    return ParseProblem(
        ProblemCode.INVALID_SYNTAX,
        f"could not read the tool call in {where}",
        'I could not read your tool call; send one JSON object: {"name": ..., "arguments": {...}}.',
        None,
    )


def _shape(obj: Mapping[str, Any]) -> tuple[Any, Any, bool]:
    """Split a call object into (name, arguments, has_arguments_key)."""
    fn = obj.get("function")
    if isinstance(fn, Mapping):
        name, args, has_args = _shape(fn)
        if not has_args:
            for key in _ARGS_KEYS:
                if key in obj:
                    return name, obj[key], True
        return name, args, has_args
    name = next((obj[k] for k in _NAME_KEYS if isinstance(obj.get(k), str)), None)
    for key in _ARGS_KEYS:
        if key in obj:
            return name, obj[key], True
    rest = {k: v for k, v in obj.items() if k not in _NAME_KEYS and k not in _SKIP_KEYS}
    return name, rest, False


def _known(name: Any, tools: Sequence[ToolSpec]) -> bool:
    if not isinstance(name, str):
        return False
    if not tools:
        return True
    wanted = normalize_name(name.rsplit(".", 1)[-1])
    return any(normalize_name(t.name) == wanted for t in tools)


def _calls_from_value(
    got: LenientValue, dialect: Dialect, tools: Sequence[ToolSpec], *, strict_shape: bool
) -> list[_Item] | None:
    """Turn a decoded value into items; ``None`` when it does not look like a tool call."""
    values = got.value if isinstance(got.value, list) else [got.value]
    objs = [v for v in values if isinstance(v, Mapping)]
    if not objs or len(objs) != len(values):
        return None if strict_shape else [_invalid(dialect.value)]
    items: list[_Item] = []
    for obj in objs:
        name, args, has_args = _shape(obj)
        if strict_shape and not (
            (has_args and isinstance(name, str)) or (_known(name, tools) and tools)
        ):
            return None
        if got.truncation is Truncation.CONTENT:
            items.append(_truncated(name))
            continue
        repairs = got.repairs
        if isinstance(args, str):
            stripped = args.lstrip()
            inner = decode_value(args, len(args) - len(stripped)) if stripped else None
            if inner is None and not args.strip():
                args = {}
            elif inner is None:
                pass  # a string that is not JSON: reported as bad arguments below
            elif inner.truncation is Truncation.CONTENT:
                items.append(_truncated(name))
                continue
            else:
                args = inner.value
                repairs = (*repairs, "arguments_string", *inner.repairs)
        elif args is None:
            args = {}
        items.append(build_call(name, args, dialect, repairs, tools))
    return items


def _read_json(text: str, pos: int, soft_end: int) -> LenientValue | None:
    """Read JSON at ``pos``: unbounded first (closers may sit in strings), then to ``soft_end``."""
    got = decode_value(text, pos)
    if got is not None and got.truncation is Truncation.NONE:
        return got
    if soft_end < len(text):
        bounded = decode_value(text, pos, soft_end)
        rank = {Truncation.NONE: 0, Truncation.STRUCTURAL: 1, Truncation.CONTENT: 2}
        if bounded is not None and (got is None or rank[bounded.truncation] < rank[got.truncation]):
            return bounded
    return got


def _from_tag_call(call: TagCall, dialect: Dialect, tools: Sequence[ToolSpec]) -> _Item:
    if call.truncated:
        return _truncated(call.name)
    return build_call(call.name, call.arguments, dialect, (), tools, text_values=True)


def _inner(
    text: str, pos: int, bound: int, dialect: Dialect, tools: Sequence[ToolSpec], *, strict: bool
) -> _Found | None:
    """Read the call inside a tag or fence region ``text[pos:bound]``."""
    pos = _WS.match(text, pos, bound).end()  # type: ignore[union-attr]
    fence = _FENCE_LINE.match(text, pos, bound)
    if fence is not None and text.startswith(("```", "~~~"), pos):
        pos = fence.end()
        close = _FENCE_CLOSE.search(text, pos, bound)
        bound = close.start() if close is not None else bound
        pos = _WS.match(text, pos, bound).end()  # type: ignore[union-attr]
    wrapper = _INNER_WRAPPER.match(text, pos, bound)
    if wrapper is not None:
        pos = wrapper.end()
        closer = _TAG_CLOSE.search(text, pos, bound)
        if closer is not None and not closer.group().startswith("<tool_call"):
            bound = closer.start()
    if pos >= bound:
        return None if strict else _Found(bound, [_truncated(None)])
    ch = text[pos]
    if ch in "{[":
        got = _read_json(text, pos, bound)
        if got is None:
            return None if strict else _Found(bound, [_invalid(dialect.value)])
        items = _calls_from_value(got, dialect, tools, strict_shape=strict)
        return None if items is None else _Found(got.end, items)
    if ch == "<":
        tag: TagCall | None = None
        if text.startswith("<function=", pos):
            tag, dialect = read_function_tag(text, pos, bound), Dialect.FUNCTION_TAG
        elif text.startswith("<invoke", pos):
            tag, dialect = read_invoke(text, pos, bound), Dialect.INVOKE
        else:
            tag, dialect = read_name_tags(text, pos, bound), Dialect.XML_TAGS
        if tag is not None and tag.raw_json is not None:
            got = _read_json(text, tag.raw_json[0], tag.raw_json[1])
            if got is None:
                return _Found(tag.end, [_invalid(dialect.value)])
            if got.truncation is Truncation.CONTENT:
                return _Found(tag.end, [_truncated(tag.name)])
            item = build_call(tag.name, got.value, dialect, got.repairs, tools)
            return _Found(max(tag.end, got.end), [item])
        if tag is not None:
            return _Found(tag.end, [_from_tag_call(tag, dialect, tools)])
    yaml = read_yaml_call(text, pos, bound)
    if yaml is not None and (not strict or _known(yaml.name, tools)):
        if yaml.truncated:
            return _Found(yaml.end, [_truncated(yaml.name)])
        call = build_call(yaml.name, yaml.arguments, Dialect.YAML, (), tools, text_values=True)
        return _Found(yaml.end, [call])
    head = _NAME_THEN_JSON.match(text, pos, bound)
    if head is not None and _known(head.group(1), tools):
        got = _read_json(text, head.end(), bound)
        if got is not None and isinstance(got.value, dict):
            if got.truncation is Truncation.CONTENT:
                return _Found(got.end, [_truncated(head.group(1))])
            item = build_call(head.group(1), got.value, dialect, got.repairs, tools)
            return _Found(got.end, [item])
    return None if strict else _Found(bound, [_invalid(dialect.value)])


def _scan_one(m: re.Match[str], text: str, tools: Sequence[ToolSpec]) -> _Found | None:
    kind, start = m.lastgroup, m.start()
    if kind == "wrap":
        return _Found(m.end())
    if kind == "tag":
        close = _TAG_CLOSE.search(text, m.end())
        bound = close.start() if close is not None else len(text)
        found = _inner(text, m.end(), bound, Dialect.HERMES, tools, strict=False)
        assert found is not None
        if close is not None and not close.group().startswith("<tool_call"):
            after = _TAG_CLOSE.search(text, found.end)
            if found.end <= close.start():
                found.end = close.end()
            elif after is not None and not after.group().startswith("<tool_call"):
                found.end = after.end()
        return found
    if kind == "func":
        tag = read_function_tag(text, start, len(text))
        dialect = Dialect.FUNCTION_TAG
    elif kind == "invoke":
        tag = read_invoke(text, start, len(text))
        dialect = Dialect.INVOKE
    else:
        tag, dialect = None, Dialect.FENCED
    if kind in ("func", "invoke"):
        return None if tag is None else _Found(tag.end, [_from_tag_call(tag, dialect, tools)])
    if kind == "fence":
        line_end = text.find("\n", m.end())
        body = len(text) if line_end < 0 else line_end + 1
        close = _FENCE_CLOSE.search(text, body)
        bound = close.start() if close is not None else len(text)
        found = _inner(text, body, bound, Dialect.FENCED, tools, strict=True)
        if found is None:  # an ordinary code block: prose, skipped whole
            return _Found(close.end() if close is not None else len(text), [])
        after = _FENCE_CLOSE.search(text, found.end)
        if after is not None and text[found.end : after.start()].strip() == "":
            found.end = after.end()
        return found
    if kind == "yaml":
        return _inner(text, start + len(m.group()) - len(m.group().lstrip()), len(text),
                      Dialect.YAML, tools, strict=True)  # fmt: skip
    got = _read_json(text, start, len(text))
    if got is None:
        return None
    items = _calls_from_value(got, Dialect.BARE, tools, strict_shape=True)
    return None if items is None else _Found(got.end, items)


def _native(entries: Sequence[Mapping[str, Any]], tools: Sequence[ToolSpec]) -> list[_Item]:
    items: list[_Item] = []
    for entry in entries:
        if not isinstance(entry, Mapping):
            items.append(_invalid("native tool_calls"))
            continue
        got = LenientValue(dict(entry), 0, (), Truncation.NONE)
        found = _calls_from_value(got, Dialect.NATIVE, tools, strict_shape=False)
        items.extend(found or [])
    return items


def _key(call: ToolCall) -> str:
    return f"{call.name}\0{sorted(call.arguments.items(), key=lambda kv: kv[0])!r}"


def parse_tool_calls(
    content: str | None,
    tools: Sequence[ToolSpec],
    native: Sequence[Mapping[str, Any]] | None = None,
    *,
    thinking_chars: int = DEFAULT_THINKING_CHARS,
) -> ToolCallParse:
    """Read every tool call in one model reply; never raises on model output.

    ``native`` is the message's ``tool_calls`` list, if the server sent one. Calls found both
    natively and in the content are reported once.
    """
    items = _native(native or (), tools)
    native_count = len(items)
    thought = strip_thinking(content or "", thinking_chars)
    text = thought.visible
    prose: list[str] = []
    pos = 0
    scan_from = 0
    while True:
        m = _SCAN.search(text, scan_from)
        if m is None:
            break
        found = _scan_one(m, text, tools)
        if found is None:
            scan_from = m.start() + 1
            continue
        if found.items or m.lastgroup == "wrap":
            prose.append(text[pos : m.start()])
            pos = found.end
            items.extend(found.items)
        scan_from = max(found.end, m.start() + 1)
    prose.append(text[pos:])
    native_keys = {_key(i) for i in items[:native_count] if isinstance(i, ToolCall)}
    calls = [i for i in items if isinstance(i, ToolCall) and i.dialect is Dialect.NATIVE]
    calls += [
        i
        for i in items
        if isinstance(i, ToolCall)
        and i.dialect is not Dialect.NATIVE
        and _key(i) not in native_keys
    ]
    problems = tuple(item for item in items if isinstance(item, ParseProblem))
    return ToolCallParse(
        calls=tuple(calls),
        problems=problems,
        prose="".join(prose).strip(),
        thinking=thought.thinking,
        thinking_capped=thought.capped,
    )
