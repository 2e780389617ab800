"""Whole-file and whole-symbol replacements.

A fenced block that holds exactly one function or class (decorators and comments around it
allowed, nothing else at its top level) replaces the symbol of that name, found by parsing the
file with the code graph's tree-sitter extractor; any other block replaces the whole file. The
new symbol is re-indented to the old one's indentation; decorators are replaced only when the
block brings its own. A name defined twice (a method in two classes) is refused, not guessed.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

from smallcode_ls.graph.languages import language_for_path
from smallcode_ls.graph.parser import parse_file_symbols
from smallcode_ls.graph.symbols import FileSymbols, SymbolKind
from smallcode_ls.parse.edit_types import EditProblem, EditProblemCode
from smallcode_ls.patch.lines import FileLines, indent_of

__all__ = ["SymbolBlock", "read_symbol_block", "replace_symbol", "replace_whole_file"]

_CODE_KINDS = frozenset(
    {
        SymbolKind.CLASS,
        SymbolKind.FUNCTION,
        SymbolKind.METHOD,
        SymbolKind.INTERFACE,
        SymbolKind.STRUCT,
        SymbolKind.ENUM,
    }
)
_PREFIX_CHARS = ("@", "#", "//", "/*", "*", "*/")


@dataclass(frozen=True, slots=True)
class SymbolBlock:
    """A block holding one complete definition: its name and its dedented lines."""

    name: str
    lines: tuple[str, ...]
    has_prefix: bool


def _parse(path: str, text: str) -> FileSymbols | None:
    spec = language_for_path(path)
    if spec is None:
        return None
    return parse_file_symbols(spec, text.encode("utf-8", "surrogatepass"), path)


def read_symbol_block(lines: Sequence[str], path: str) -> SymbolBlock | None:
    """The single definition a block holds, or None when it is something else."""
    dedented = textwrap.dedent("\n".join(lines)).split("\n")
    symbols = _parse(path, "\n".join(dedented) + "\n")
    if symbols is None or symbols.imports or symbols.has_errors:
        return None
    top = [s for s in symbols.symbols if s.parent == -1]
    if len(top) != 1 or top[0].kind not in _CODE_KINDS:
        return None
    span = top[0].span
    outside = dedented[: span.start_line] + dedented[span.end_line + 1 :]
    if any(line.strip() and not line.lstrip().startswith(_PREFIX_CHARS) for line in outside):
        return None
    if dedented[span.end_line][span.end_col :].strip():
        return None
    has_prefix = any(line.strip() for line in dedented[: span.start_line])
    start = next(i for i, line in enumerate(dedented) if line.strip())
    end = len(dedented)
    while end > start and not dedented[end - 1].strip():
        end -= 1
    return SymbolBlock(top[0].name, tuple(dedented[start:end]), has_prefix)


def replace_whole_file(text: str, lines: Sequence[str]) -> str:
    """The block as the new file, in the file's line endings and final-newline style."""
    old = FileLines.split(text)
    final = old.final_newline or not text
    body = old.newline.join(lines)
    return body + old.newline if final and lines else body


def replace_symbol(text: str, block: SymbolBlock, path: str) -> str | EditProblem:
    """The file with the named symbol replaced by the block, or a problem for the model."""
    symbols = _parse(path, text)
    if symbols is None:
        return EditProblem(
            EditProblemCode.NOT_FOUND, f"{path}: no parser for this language.", path=path
        )
    found = [
        i for i, s in enumerate(symbols.symbols) if s.name == block.name and s.kind in _CODE_KINDS
    ]
    if not found:
        names = ", ".join(sorted({s.name for s in symbols.symbols if s.kind in _CODE_KINDS}))
        return EditProblem(
            EditProblemCode.NOT_FOUND,
            f"`{block.name}` is not defined in {path}, so the block cannot replace it "
            f"(defined there: {names or 'nothing'}). To add new code use a SEARCH/REPLACE block.",
            path=path,
        )
    if len(found) > 1:
        where = ", ".join(
            f"{symbols.qualified_name(i)} (line {symbols.symbols[i].line + 1})" for i in found
        )
        return EditProblem(
            EditProblemCode.SYMBOL_AMBIGUOUS,
            f"`{block.name}` is defined more than once in {path}: {where}. "
            "Use a SEARCH/REPLACE block that includes the enclosing lines.",
            path=path,
        )
    symbol = symbols.symbols[found[0]]
    file = FileLines.split(text)
    start, end = symbol.span.start_line, symbol.span.end_line + 1
    indent = indent_of(file.contents[start])
    if block.has_prefix:
        while start > 0 and file.contents[start - 1].lstrip().startswith("@"):
            start -= 1
    new = [indent + line if line.strip() else "" for line in block.lines]
    contents = [*file.contents[:start], *new, *file.contents[end:]]
    breaks: list[str | None] = [*file.breaks[:start], *([None] * len(new)), *file.breaks[end:]]
    return file.join(contents, breaks)
