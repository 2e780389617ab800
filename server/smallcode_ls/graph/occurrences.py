"""Where a name occurs in a file as an identifier (not inside strings or comments)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from tree_sitter import Tree

from smallcode_ls.graph.languages import LanguageSpec
from smallcode_ls.graph.parser import parse_tree
from smallcode_ls.graph.symbols import Span

__all__ = ["IDENTIFIER_TYPES", "NameAtCursor", "identifier_at", "name_occurrences"]

IDENTIFIER_TYPES = frozenset(
    {
        "identifier",
        "property_identifier",
        "field_identifier",
        "type_identifier",
        "shorthand_property_identifier",
        "shorthand_property_identifier_pattern",
    }
)


def name_occurrences(spec: LanguageSpec, source: bytes, name: str) -> list[Span]:
    """Spans of every identifier spelled ``name``; candidates come from a word scan."""
    pattern = re.compile(rb"(?<![A-Za-z0-9_])" + re.escape(name.encode()) + rb"(?![A-Za-z0-9_])")
    hits = list(pattern.finditer(source))
    if not hits:
        return []
    root = parse_tree(spec, source).root_node
    spans: list[Span] = []
    for hit in hits:
        node = root.descendant_for_byte_range(hit.start(), hit.end())
        if node is None or node.type not in IDENTIFIER_TYPES:
            continue
        if node.start_byte != hit.start() or node.end_byte != hit.end():
            continue
        start, end = node.start_point, node.end_point
        spans.append(Span(start[0], start[1], end[0], end[1]))
    return spans


@dataclass(frozen=True, slots=True)
class NameAtCursor:
    """The identifier under the cursor; ``attribute`` when it follows a dot (``x.name``)."""

    name: str
    attribute: bool


def identifier_at(
    spec: LanguageSpec, source: bytes, offset: int, tree: Tree | None = None
) -> NameAtCursor | None:
    """The identifier touching byte ``offset`` (cursor right before or after it)."""
    root = (tree or parse_tree(spec, source)).root_node
    for probe in (offset, offset - 1):
        if probe < 0:
            continue
        node = root.descendant_for_byte_range(probe, probe)
        if node is not None and node.type in IDENTIFIER_TYPES:
            parent = node.parent
            attribute = node.type != "identifier" or (
                parent is not None
                and parent.type in ("attribute", "member_expression", "field_expression")
                and parent.child_by_field_name("object") != node
                and parent.child_by_field_name("value") != node
                and parent.child_by_field_name("operand") != node
            )
            return NameAtCursor((node.text or b"").decode("utf-8", "replace"), attribute)
    return None
