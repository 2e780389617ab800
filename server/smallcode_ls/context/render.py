"""Render definitions and files compactly: signatures, docstring first lines, outlines."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from smallcode_ls.graph.symbols import FileSymbols, Symbol, SymbolKind

__all__ = ["docstring_line", "outline_lines", "symbol_lines", "symbol_source"]

TextReader = Callable[[str], str | None]
_CLASS_KINDS = {SymbolKind.CLASS, SymbolKind.INTERFACE, SymbolKind.STRUCT, SymbolKind.ENUM}


def _line(lines: list[str], number: int) -> str:
    return lines[number] if 0 <= number < len(lines) else ""


def docstring_line(lines: list[str], symbol: Symbol) -> str | None:
    """First line of a Python docstring right after the definition's header, if any."""
    for number in range(symbol.name_span.start_line + 1, min(symbol.span.end_line + 1, len(lines))):
        stripped = _line(lines, number).strip()
        if not stripped:
            continue
        for quote in ('"""', "'''"):
            if stripped.startswith(quote):
                body = stripped[3:].split(quote)[0].strip()
                return body or _line(lines, number + 1).strip() or None
        return None
    return None


def _indent(symbol: Symbol, lines: list[str]) -> str:
    header = _line(lines, symbol.span.start_line)
    return header[: len(header) - len(header.lstrip())]


def symbol_lines(
    file: FileSymbols,
    index: int,
    lines: list[str],
    members: Iterable[int] = (),
) -> list[str]:
    """A definition as its signature line (+ docstring line), with chosen members below it."""
    symbol = file.symbols[index]
    indent = _indent(symbol, lines)
    signature = _line(lines, symbol.name_span.start_line).rstrip() or indent + symbol.signature
    rendered = [signature]
    doc = docstring_line(lines, symbol)
    if doc:
        rendered.append(f'{indent}    """{doc}"""')
    for member in members:
        rendered.extend(symbol_lines(file, member, lines))
    return rendered


def outline_lines(file: FileSymbols, lines: list[str], keep: set[int]) -> list[str]:
    """The file as signatures only, with the symbols in ``keep`` shown in full."""
    rendered: list[str] = []
    for index, symbol in enumerate(file.symbols):
        parent = symbol.parent
        if parent in keep or any(_ancestor_in(file, index, keep)):
            continue
        if index in keep:
            rendered.extend(lines[symbol.span.start_line : symbol.span.end_line + 1])
        elif (
            symbol.kind in _CLASS_KINDS or parent == -1 or file.symbols[parent].kind in _CLASS_KINDS
        ):
            rendered.append(_line(lines, symbol.name_span.start_line).rstrip())
    return rendered


def _ancestor_in(file: FileSymbols, index: int, keep: set[int]) -> Iterable[bool]:
    parent = file.symbols[index].parent
    while parent >= 0:
        yield parent in keep
        parent = file.symbols[parent].parent


def symbol_source(lines: list[str], symbol: Symbol) -> str:
    """The full text of a definition."""
    return "\n".join(lines[symbol.span.start_line : symbol.span.end_line + 1])
