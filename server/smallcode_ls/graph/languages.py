"""The language table: one row per language, plus a query file in ``queries/``.

Adding a language is a new :class:`LanguageSpec` row and a ``queries/<name>.scm``
file with ``@definition.<kind>``/``@name``/``@import`` captures.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import PurePath

from tree_sitter import Language, Query

__all__ = ["LANGUAGES", "LanguageSpec", "language_for_id", "language_for_path", "load_query"]


@dataclass(frozen=True, slots=True)
class LanguageSpec:
    """How to parse and query one language."""

    name: str
    language_ids: tuple[str, ...]
    extensions: tuple[str, ...]
    grammar_module: str
    grammar_function: str = "language"
    query_file: str = ""

    @property
    def queries(self) -> str:
        """The query file's base name (defaults to the language name)."""
        return self.query_file or self.name


LANGUAGES: tuple[LanguageSpec, ...] = (
    LanguageSpec("python", ("python",), (".py", ".pyi"), "tree_sitter_python"),
    LanguageSpec(
        "javascript",
        ("javascript", "javascriptreact"),
        (".js", ".mjs", ".cjs", ".jsx"),
        "tree_sitter_javascript",
    ),
    LanguageSpec(
        "typescript",
        ("typescript",),
        (".ts", ".mts", ".cts"),
        "tree_sitter_typescript",
        "language_typescript",
    ),
    LanguageSpec(
        "tsx",
        ("typescriptreact",),
        (".tsx",),
        "tree_sitter_typescript",
        "language_tsx",
        "typescript",
    ),
    LanguageSpec("go", ("go",), (".go",), "tree_sitter_go"),
    LanguageSpec("rust", ("rust",), (".rs",), "tree_sitter_rust"),
)

_BY_EXTENSION = {ext: spec for spec in LANGUAGES for ext in spec.extensions}
_BY_ID = {lang_id: spec for spec in LANGUAGES for lang_id in spec.language_ids}


def language_for_path(path: str | PurePath) -> LanguageSpec | None:
    """The language of a file, by its extension."""
    return _BY_EXTENSION.get(PurePath(path).suffix.lower())


def language_for_id(language_id: str, path: str | PurePath | None = None) -> LanguageSpec | None:
    """The language for an LSP languageId, falling back to the path's extension."""
    spec = _BY_ID.get(language_id)
    if spec is None and path is not None:
        spec = language_for_path(path)
    return spec


@cache
def load_language(spec: LanguageSpec) -> Language:
    """Load (once) the tree-sitter grammar of ``spec``."""
    module = importlib.import_module(spec.grammar_module)
    return Language(getattr(module, spec.grammar_function)())


@cache
def load_query(spec: LanguageSpec) -> Query:
    """Load (once) the definitions/imports query of ``spec``."""
    source = resources.files("smallcode_ls.graph").joinpath("queries", f"{spec.queries}.scm")
    return Query(load_language(spec), source.read_text(encoding="utf-8"))
