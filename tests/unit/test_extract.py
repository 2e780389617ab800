"""Definitions, nesting and imports extracted by the per-language queries."""

from __future__ import annotations

import pytest

from smallcode_ls.graph.languages import LANGUAGES, language_for_id, language_for_path
from smallcode_ls.graph.parser import parse_file_symbols
from smallcode_ls.graph.symbols import FileSymbols, ImportRef, SymbolKind


def symbols_of(path: str, source: str) -> FileSymbols:
    spec = language_for_path(path)
    assert spec is not None
    return parse_file_symbols(spec, source.encode(), path)


def outline(file: FileSymbols) -> list[tuple[str, SymbolKind]]:
    return [(file.qualified_name(i), s.kind) for i, s in enumerate(file.symbols)]


PYTHON = """
import os, sys as system
from .models import (Widget,
    Gadget as G)
from . import sibling

LIMIT: int = 3

@decorator
class Outer(Base):
    size = 1

    def method(self):
        def inner():
            pass

    class Nested:
        pass

async def top():
    local = 1
"""


def test_python_definitions_are_nested_and_methods_are_told_from_functions() -> None:
    file = symbols_of("m.py", PYTHON)
    assert outline(file) == [
        ("LIMIT", SymbolKind.VARIABLE),
        ("Outer", SymbolKind.CLASS),
        ("Outer.size", SymbolKind.FIELD),
        ("Outer.method", SymbolKind.METHOD),
        ("Outer.method.inner", SymbolKind.FUNCTION),
        ("Outer.Nested", SymbolKind.CLASS),
        ("top", SymbolKind.FUNCTION),
    ]
    top = file.symbols[-1]
    assert top.signature == "async def top():"
    assert (top.name_span.start_line, top.name_span.start_col) == (19, 10)


def test_python_imports_keep_module_name_alias_and_relative_level() -> None:
    file = symbols_of("m.py", PYTHON)
    assert file.imports == (
        ImportRef("os", None, None, 1),
        ImportRef("sys", None, "system", 1),
        ImportRef("models", "Widget", None, 2, level=1),
        ImportRef("models", "Gadget", "G", 2, level=1),
        ImportRef("", "sibling", None, 4, level=1),
    )


def test_used_names_include_every_identifier_for_reverse_references() -> None:
    file = symbols_of("m.py", PYTHON)
    assert all(file.uses(name) for name in ("Widget", "Base", "decorator", "local"))
    assert not file.uses("Widg")


@pytest.mark.parametrize(
    ("path", "source", "expected"),
    [
        (
            "a.js",
            "import x from './x.js';\nclass A { run() {} }\nfunction f() {}\nconst K = 1;\n",
            [
                ("A", SymbolKind.CLASS),
                ("A.run", SymbolKind.METHOD),
                ("f", SymbolKind.FUNCTION),
                ("K", SymbolKind.VARIABLE),
            ],
        ),
        (
            "a.ts",
            "interface I { x: number }\ntype T = string;\nenum E { A }\n"
            "export class C { m(): void {} }\nexport const V = 2;\n",
            [
                ("I", SymbolKind.INTERFACE),
                ("T", SymbolKind.TYPE),
                ("E", SymbolKind.ENUM),
                ("C", SymbolKind.CLASS),
                ("C.m", SymbolKind.METHOD),
                ("V", SymbolKind.VARIABLE),
            ],
        ),
        (
            "a.tsx",
            "export function App() { return <div/>; }\n",
            [("App", SymbolKind.FUNCTION)],
        ),
        (
            "a.go",
            'package p\nimport "fmt"\ntype S struct{}\ntype I interface{}\n'
            "func (s S) M() {}\nfunc F() { fmt.Println() }\nconst C = 1\n",
            [
                ("S", SymbolKind.STRUCT),
                ("I", SymbolKind.INTERFACE),
                ("M", SymbolKind.METHOD),
                ("F", SymbolKind.FUNCTION),
                ("C", SymbolKind.CONSTANT),
            ],
        ),
        (
            "a.rs",
            "use std::io;\nstruct S;\nenum E { A }\ntrait T { fn t(&self); }\n"
            "impl S { fn m(&self) {} }\nfn main() {}\n",
            [
                ("S", SymbolKind.STRUCT),
                ("E", SymbolKind.ENUM),
                ("T", SymbolKind.INTERFACE),
                ("T.t", SymbolKind.METHOD),
                ("m", SymbolKind.FUNCTION),
                ("main", SymbolKind.FUNCTION),
            ],
        ),
    ],
)
def test_every_registered_language_extracts_its_definitions(
    path: str, source: str, expected: list[tuple[str, SymbolKind]]
) -> None:
    file = symbols_of(path, source)
    assert outline(file) == expected
    assert not file.has_errors


def test_every_language_row_has_a_loadable_query() -> None:
    from smallcode_ls.graph.languages import load_query

    for spec in LANGUAGES:
        assert load_query(spec).pattern_count > 0


def test_language_lookup_by_id_falls_back_to_the_extension() -> None:
    assert language_for_id("python").name == "python"  # type: ignore[union-attr]
    assert language_for_id("plaintext", "x.rs").name == "rust"  # type: ignore[union-attr]
    assert language_for_id("plaintext", "x.txt") is None


def test_non_ascii_lines_are_kept_for_column_conversion() -> None:
    file = symbols_of("m.py", 'A = "😀"\nB = 1\n')
    assert file.non_ascii_lines == {0: 'A = "😀"'}
    assert file.symbols[1].name_span.start_line == 1


def test_syntax_errors_are_flagged_but_definitions_still_come_out() -> None:
    file = symbols_of("m.py", "def ok():\n    pass\n\ndef broken(:\n")
    assert file.has_errors
    assert file.symbols[0].name == "ok"
