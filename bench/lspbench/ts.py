"""tree-sitter helpers: the parse floor and picking positions for requests.

All positions returned here are LSP positions (0-based line, UTF-16 column).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tree_sitter_python
from tree_sitter import Language, Node, Parser

PY_LANGUAGE = Language(tree_sitter_python.language())


@dataclass(frozen=True)
class Site:
    """An identifier occurrence to send a position request at."""

    line: int
    character: int
    name: str


def new_parser() -> Parser:
    return Parser(PY_LANGUAGE)


def parse_floor(files: list[Path], repeats: int = 3) -> dict[str, Any]:
    """Best-of-``repeats`` single-core full parse time of every file (in memory)."""
    blobs = [p.read_bytes() for p in files]
    total = sum(len(b) for b in blobs)
    parser = new_parser()
    times: list[float] = []
    for _ in range(repeats):
        start = time.perf_counter()
        for blob in blobs:
            parser.parse(blob)
        times.append(time.perf_counter() - start)
    best = min(times)
    return {
        "files": len(blobs),
        "bytes": total,
        "repeats": repeats,
        "best_s": round(best, 4),
        "all_s": [round(t, 4) for t in times],
        "mb_per_s": round(total / 1e6 / best, 2) if best > 0 else None,
    }


def utf16_col(line_bytes: bytes, byte_col: int) -> int:
    """Convert a UTF-8 byte column within a line to a UTF-16 code-unit column."""
    prefix = line_bytes[:byte_col].decode("utf-8", "replace")
    return len(prefix.encode("utf-16-le")) // 2


def _site(node: Node, lines: list[bytes]) -> Site:
    row, col = node.start_point
    name = (node.text or b"").decode("utf-8", "replace")
    return Site(row, utf16_col(lines[row], col), name)


def _walk(node: Node) -> list[Node]:
    out: list[Node] = []
    stack = [node]
    while stack:
        cur = stack.pop()
        out.append(cur)
        stack.extend(reversed(cur.children))
    return out


def call_sites(source: bytes) -> list[Site]:
    """Identifier of every call's callee (the attribute name for ``a.b()``)."""
    tree = new_parser().parse(source)
    lines = source.split(b"\n")
    sites: list[Site] = []
    for node in _walk(tree.root_node):
        if node.type != "call":
            continue
        func = node.child_by_field_name("function")
        if func is not None and func.type == "attribute":
            func = func.child_by_field_name("attribute")
        if func is not None and func.type == "identifier":
            sites.append(_site(func, lines))
    return sites


def sample_sites(sites: list[Site], count: int, seed: int) -> list[Site]:
    """Seeded random sample (kept in file order) of at most ``count`` sites."""
    if len(sites) <= count:
        return list(sites)
    picked = random.Random(seed).sample(range(len(sites)), count)
    return [sites[i] for i in sorted(picked)]


def class_names(source: bytes) -> list[str]:
    """Names of all classes defined in a module (any nesting level)."""
    tree = new_parser().parse(source)
    names: list[str] = []
    for node in _walk(tree.root_node):
        if node.type == "class_definition":
            ident = node.child_by_field_name("name")
            if ident is not None and ident.text:
                names.append(ident.text.decode("utf-8", "replace"))
    return names


def typing_anchor(source: bytes) -> tuple[int, str] | None:
    """(line, indent) of the first statement inside the body of a method/function.

    Prefers the longest function body in the file so edits land mid-file.
    """
    tree = new_parser().parse(source)
    best: tuple[int, int, str] | None = None
    for node in _walk(tree.root_node):
        if node.type != "function_definition":
            continue
        body = node.child_by_field_name("body")
        if body is None or body.named_child_count == 0:
            continue
        first = body.named_children[0]
        size = body.end_point[0] - body.start_point[0]
        if first.start_point[0] == node.start_point[0]:
            continue  # one-line def
        if best is None or size > best[0]:
            indent = " " * first.start_point[1]
            best = (size, first.start_point[0], indent)
    return None if best is None else (best[1], best[2])


def _best_ms(fn: Callable[[], object], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return round(best * 1000.0, 3)


def edit_floor(source: bytes, repeats: int = 20) -> dict[str, Any] | None:
    """Full parse vs incremental re-parse of one file after a 1-byte insertion.

    The edit lands where the typing replay types (see ``typing_anchor``), so this
    is the tree-sitter floor for the didChange -> documentSymbol number.
    """
    anchor = typing_anchor(source)
    if anchor is None:
        return None
    line = anchor[0]
    lines = source.split(b"\n")
    offset = sum(len(x) + 1 for x in lines[:line])
    edited = source[:offset] + b"#" + source[offset:]
    parser = new_parser()
    old = parser.parse(source)

    def incremental() -> None:
        tree = old.copy()
        tree.edit(offset, offset, offset + 1, (line, 0), (line, 0), (line, 1))
        parser.parse(edited, tree)

    return {
        "bytes": len(source),
        "full_parse_ms": _best_ms(lambda: parser.parse(edited), repeats),
        "incremental_parse_ms": _best_ms(incremental, repeats),
        "repeats": repeats,
    }
