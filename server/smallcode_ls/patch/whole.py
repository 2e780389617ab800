"""Whole-file and whole-symbol replacements.

A fenced block that holds exactly one function or class (decorators and comments around it
allowed, nothing else at its top level) replaces the symbol of that name, found by parsing the
file with the code graph's tree-sitter extractor; any other block replaces the whole file. The
new symbol is re-indented to the old one's indentation; decorators are replaced only when the
block brings its own. A name defined twice (a method in two classes) is refused, not guessed,
unless the task's line lies inside one of the definitions.

A class block that leaves out members the file's class has is read as a partial class (small
models answer "class Foo: def changed_method(...)"): only the members it holds are replaced,
new ones go at the end of the class, and everything else in the class is kept.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

from smallcode_ls.graph.languages import language_for_path
from smallcode_ls.graph.parser import parse_file_symbols
from smallcode_ls.graph.symbols import FileSymbols, SymbolKind
from smallcode_ls.parse.edit_types import EditProblem, EditProblemCode
from smallcode_ls.patch.lines import FileLines, indent_of, is_strong_marker

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


def replace_symbol(
    text: str, block: SymbolBlock, path: str, anchor_line: int | None = None
) -> str | EditProblem:
    """The file with the named symbol replaced by the block, or a problem for the model.

    ``anchor_line`` (0-based, the line the task is about) settles a name defined more than
    once: the definition that contains it is the one meant.
    """
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
    if len(found) > 1 and anchor_line is not None:
        spans = [symbols.symbols[i].span for i in found]
        inside = [i for i, span in zip(found, spans, strict=True)
                  if span.start_line <= anchor_line <= span.end_line]  # fmt: skip
        found = inside[-1:] if inside else found  # the innermost: spans nest in order
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
    partial = _partial_class(symbols, found[0], block, path)
    if partial is not None:
        return _merge_members(text, symbols, found[0], partial, path)
    file = FileLines.split(text)
    start, end = symbol.span.start_line, symbol.span.end_line + 1
    indent = indent_of(file.contents[start])
    if block.has_prefix:
        while start > 0 and file.contents[start - 1].lstrip().startswith("@"):
            start -= 1
    new = _indented(block.lines, indent)
    contents = [*file.contents[:start], *new, *file.contents[end:]]
    breaks: list[str | None] = [*file.breaks[:start], *([None] * len(new)), *file.breaks[end:]]
    return file.join(contents, breaks)


@dataclass(frozen=True, slots=True)
class _Member:
    """One definition inside a block's class: its name and its dedented lines."""

    name: str
    lines: tuple[str, ...]
    has_prefix: bool


def _indented(lines: Sequence[str], indent: str) -> list[str]:
    return [indent + line if line.strip() else "" for line in lines]


def _code_children(symbols: FileSymbols, parent: int) -> list[int]:
    return [i for i in symbols.children(parent) if symbols.symbols[i].kind in _CODE_KINDS]


def _decorated_start(lines: Sequence[str], start: int) -> int:
    while start > 0 and lines[start - 1].lstrip().startswith("@"):
        start -= 1
    return start


def _partial_class(
    symbols: FileSymbols, index: int, block: SymbolBlock, path: str
) -> tuple[_Member, ...] | None:
    """The block's members when it is a class that leaves out some of the file's members."""
    if symbols.symbols[index].kind is not SymbolKind.CLASS:
        return None
    mine = _parse(path, "\n".join(block.lines) + "\n")
    if mine is None:
        return None
    top = next((i for i, s in enumerate(mine.symbols) if s.parent == -1), None)
    if top is None or mine.symbols[top].kind is not SymbolKind.CLASS:
        return None
    theirs = {symbols.symbols[i].name for i in symbols.children(index)}
    given = {mine.symbols[i].name for i in mine.children(top)}
    members = []
    for child in _code_children(mine, top):
        span = mine.symbols[child].span
        start = _decorated_start(block.lines, span.start_line)
        lines = textwrap.dedent("\n".join(block.lines[start : span.end_line + 1])).split("\n")
        members.append(_Member(mine.symbols[child].name, tuple(lines), start < span.start_line))
    if not theirs - given:
        return None  # the block holds every member and field: it is the whole class
    return tuple(members)


def _merge_members(
    text: str, symbols: FileSymbols, index: int, members: tuple[_Member, ...], path: str
) -> str | EditProblem:
    """The file with each member of a partial class block put into the file's class."""
    cls = symbols.symbols[index]
    if not members:
        return EditProblem(
            EditProblemCode.NOT_FOUND,
            f"The block holds class `{cls.name}` without any of its methods, and {path}'s "
            f"`{cls.name}` has more; send the changed methods, or the complete class.",
            path=path,
        )
    if any(is_strong_marker(line) for member in members for line in member.lines):
        return EditProblem(
            EditProblemCode.ELISION,
            f"A method of `{cls.name}` in the block contains an elision comment "
            "(`# ... existing code ...`); send each changed method complete.",
            path=path,
        )
    file = FileLines.split(text)
    existing = {symbols.symbols[i].name: symbols.symbols[i] for i in _code_children(symbols, index)}
    body_indent = indent_of(file.contents[cls.span.start_line]) + "    "
    if existing:
        body_indent = indent_of(file.contents[next(iter(existing.values())).span.start_line])
    replaced: list[tuple[int, int, list[str]]] = []
    added: list[str] = []
    for member in members:
        old = existing.get(member.name)
        if old is None:
            added += ["", *_indented(member.lines, body_indent)]
            continue
        start, end = old.span.start_line, old.span.end_line + 1
        if member.has_prefix:
            start = _decorated_start(file.contents, start)
        indent = indent_of(file.contents[old.span.start_line])
        replaced.append((start, end, _indented(member.lines, indent)))
    end = cls.span.end_line + 1
    if added:
        replaced.append((end, end, added))
    contents: list[str] = list(file.contents)
    breaks: list[str | None] = list(file.breaks)
    for start, stop, new in sorted(replaced, reverse=True):
        contents[start:stop] = new
        breaks[start:stop] = [None] * len(new)
    return file.join(contents, breaks)
