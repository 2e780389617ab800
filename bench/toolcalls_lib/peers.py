"""The parsers compared in B3. Each maps a message to a list of (name, arguments) or raises."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from smallcode_ls.parse import ToolSpec, parse_tool_calls

Call = tuple[str, dict[str, Any]]
Parser = Callable[[str], list[Call]]

TOOLS = [
    ToolSpec("read_file", {"type": "object", "properties": {"path": {"type": "string"}},
                           "required": ["path"]}),
    ToolSpec("replace_in_file", {"type": "object", "properties": {
        "path": {"type": "string"}, "search": {"type": "string"}, "replace": {"type": "string"}},
        "required": ["path", "search", "replace"]}),
    ToolSpec("write_file", {"type": "object", "properties": {
        "path": {"type": "string"}, "content": {"type": "string"}},
        "required": ["path", "content"]}),
    ToolSpec("list_files", {"type": "object", "properties": {"directory": {"type": "string"}}}),
]  # fmt: skip

_FENCE = re.compile(r"^```[^\n]*\n(.*?)(?:^```[ \t]*$|\Z)", re.S | re.M)
_TAGS = re.compile(r"<tool_call>(.*?)(?:</tool_call>|\Z)", re.S)


def unwrap(text: str) -> list[str]:
    """Strip fences or <tool_call> tags the way a simple harness would; else first { to last }."""
    pieces = [m.group(1) for m in _FENCE.finditer(text)]
    if not pieces:
        pieces = [m.group(1) for m in _TAGS.finditer(text)]
    if not pieces:
        start, end = text.find("{"), text.rfind("}")
        pieces = [text[start : end + 1]] if start >= 0 else [text]
    return [p.strip() for p in pieces]


def _normalize(obj: Any, loads: Callable[[str], Any]) -> list[Call]:
    objs = obj if isinstance(obj, list) else [obj]
    out: list[Call] = []
    for item in objs:
        if not isinstance(item, dict):
            continue
        name, args = item.get("name"), item.get("arguments")
        if isinstance(args, str):
            args = loads(args)
        if isinstance(name, str) and isinstance(args, dict):
            out.append((name, dict(args)))
    return out


def _unwrapped(loads: Callable[[str], Any]) -> Parser:
    def parse(text: str) -> list[Call]:
        out: list[Call] = []
        for piece in unwrap(text):
            try:
                out.extend(_normalize(loads(piece), loads))
            except Exception:  # a peer's failure on one piece is a miss, not a crash
                continue
        return out

    return parse


def ours(text: str) -> list[Call]:
    return [(c.name, c.arguments) for c in parse_tool_calls(text, TOOLS).calls]


def build_peers() -> dict[str, tuple[Parser, str]]:
    """name -> (parser, version string). Peers that are not installed are left out."""
    from importlib.metadata import version

    parsers: dict[str, tuple[Parser, str]] = {
        "ours": (ours, version("smallcode-ls")),
        "json.loads strict": (lambda t: _normalize(json.loads(t), json.loads), "stdlib"),
        "unwrap + json.loads": (_unwrapped(json.loads), "stdlib"),
    }
    try:
        import json5

        parsers["unwrap + json5"] = (_unwrapped(json5.loads), version("json5"))
    except ImportError:
        pass
    try:
        import dirtyjson

        parsers["unwrap + dirtyjson"] = (_unwrapped(dirtyjson.loads), version("dirtyjson"))
    except ImportError:
        pass
    try:
        import json_repair

        def repair(text: str) -> list[Call]:
            return _normalize(json_repair.repair_json(text, return_objects=True), json_repair.loads)

        parsers["json_repair"] = (repair, version("json_repair"))
    except ImportError:
        pass
    return parsers
