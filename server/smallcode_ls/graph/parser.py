"""Parsing with tree-sitter: whole files, and incremental reparses of open buffers."""

from __future__ import annotations

from dataclasses import dataclass

from tree_sitter import Parser, Point, Tree

from smallcode_ls.common_affix import common_prefix, common_suffix
from smallcode_ls.graph.extract import extract_file_symbols
from smallcode_ls.graph.languages import LanguageSpec, load_language
from smallcode_ls.graph.symbols import FileSymbols

__all__ = ["IncrementalParse", "parse_file_symbols", "parse_tree"]


def parse_tree(spec: LanguageSpec, source: bytes, old_tree: Tree | None = None) -> Tree:
    """Parse ``source``; with ``old_tree`` (already edited) the parse is incremental."""
    parser = Parser(load_language(spec))
    return parser.parse(source, old_tree) if old_tree is not None else parser.parse(source)


def parse_file_symbols(spec: LanguageSpec, source: bytes, path: str) -> FileSymbols:
    """Parse a whole file and extract its symbols; the tree is dropped afterwards."""
    return extract_file_symbols(parse_tree(spec, source), source, spec, path)


def _point(source: bytes, offset: int) -> Point:
    row = source.count(b"\n", 0, offset)
    line_start = source.rfind(b"\n", 0, offset) + 1
    return Point(row, offset - line_start)


@dataclass(slots=True)
class IncrementalParse:
    """The tree of one open buffer, re-parsed incrementally on every new version."""

    spec: LanguageSpec
    source: bytes = b""
    tree: Tree | None = None
    changed: tuple[int, int] | None = None  # (start, end) bytes of the last edit in the new text

    def update(self, source: bytes) -> Tree:
        """Bring the tree up to ``source``; describe the change to tree-sitter as one edit."""
        old = self.source
        self.changed = None
        if self.tree is None:
            self.tree = parse_tree(self.spec, source)
        elif source != old:
            start = common_prefix(old, source)
            suffix = common_suffix(old, source, min(len(old), len(source)) - start)
            old_end, new_end = len(old) - suffix, len(source) - suffix
            self.tree.edit(
                start_byte=start,
                old_end_byte=old_end,
                new_end_byte=new_end,
                start_point=_point(old, start),
                old_end_point=_point(old, old_end),
                new_end_point=_point(source, new_end),
            )
            self.tree = parse_tree(self.spec, source, self.tree)
            self.changed = (start, new_end)
        else:
            self.changed = (0, 0)
        self.source = source
        return self.tree
