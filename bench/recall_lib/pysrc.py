"""Python source facts from `ast`: definitions, outlines, targets, masking, references."""

from __future__ import annotations

import ast
import io
import keyword
import re
import tokenize
from dataclasses import dataclass, field

IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
FuncNode = ast.FunctionDef | ast.AsyncFunctionDef


@dataclass(frozen=True)
class Definition:
    name: str
    kind: str  # "function" | "class"
    line: int  # 1-based line of the `def`/`class` keyword
    first_line: int  # first decorator line (or `line`)
    depth: int  # 0 top level, 1 inside a class, ...
    signature: str  # header lines joined into one line, with the original indentation
    in_function: bool
    end_line: int
    parent: str  # enclosing class qualname ("" at module level)


@dataclass
class FileFacts:
    text: str
    defs: list[Definition] = field(default_factory=list)
    by_line: dict[int, Definition] = field(default_factory=dict)  # decorator..def lines -> def
    tree: ast.Module | None = None


def _header(lines: list[str], node: FuncNode | ast.ClassDef) -> str:
    start = node.lineno - 1
    body_line = node.body[0].lineno - 1 if node.body else start
    end = max(start, min(body_line - 1, start + 12))
    chunk = lines[start : end + 1]
    indent = chunk[0][: len(chunk[0]) - len(chunk[0].lstrip())]
    joined = ""
    for part in (p.strip() for p in chunk):
        sep = (
            "" if not joined or joined.endswith(("(", "[")) or part.startswith((")", "]")) else " "
        )
        joined += sep + part
    # keep only up to the header's closing colon when the body shares the last line
    cut = _header_end(joined)
    return indent + joined[:cut].rstrip()


def _header_end(joined: str) -> int:
    depth = 0
    for i, ch in enumerate(joined):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == ":" and depth == 0 and not joined[:i].rstrip().endswith("lambda"):
            return i + 1
    return len(joined)


def facts(text: str) -> FileFacts:
    out = FileFacts(text)
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return out
    out.tree = tree
    lines = text.splitlines()

    def walk(node: ast.AST, depth: int, in_function: bool, parent: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                kind = "class" if isinstance(child, ast.ClassDef) else "function"
                first = min([d.lineno for d in child.decorator_list] + [child.lineno])
                end = child.end_lineno or child.lineno
                d = Definition(child.name, kind, child.lineno, first, depth,
                               _header(lines, child), in_function, end, parent)  # fmt: skip
                out.defs.append(d)
                for ln in range(first, child.lineno + 1):
                    out.by_line.setdefault(ln, d)
                qual = f"{parent}.{child.name}" if parent else child.name
                walk(child, depth + 1, in_function or kind == "function",
                     qual if kind == "class" and not in_function else "")  # fmt: skip
            elif isinstance(child, (ast.stmt, ast.ExceptHandler, ast.match_case)):
                walk(child, depth, in_function, parent)

    walk(tree, 0, False, "")
    return out


def outline(ff: FileFacts) -> list[str]:
    """Signature lines of module-level defs and class members (no nested functions)."""
    return [d.signature for d in ff.defs if not d.in_function]


@dataclass(frozen=True)
class Target:
    rel: str
    qualname: str
    name: str
    def_line: int  # 1-based
    body_start: int  # 1-based first line replaced by `...`
    body_end: int  # 1-based last replaced line
    indent: str
    task_text: str  # signature + docstring source

    @property
    def id(self) -> str:
        return f"{self.rel}::{self.qualname}"


def _docstring_node(fn: FuncNode) -> ast.Expr | None:
    first = fn.body[0]
    if (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    ):
        return first
    return None


def candidate_targets(rel: str, ff: FileFacts, min_body: int) -> list[Target]:
    """Functions/methods (not nested in functions) with >= min_body body lines after docstring."""
    if ff.tree is None:
        return []
    lines = ff.text.splitlines()
    out: list[Target] = []

    def walk(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                walk(child, f"{prefix}{child.name}.")
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                doc = _docstring_node(child)
                stmts = child.body[1:] if doc is not None else child.body
                if not stmts or child.end_lineno is None:
                    continue
                start = stmts[0].lineno
                if start <= child.lineno:  # body on the `def` line
                    continue
                start = min(
                    [start]
                    + [
                        d.lineno
                        for s in stmts[:1]
                        if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                        for d in s.decorator_list
                    ]
                )
                end = child.end_lineno
                if doc is not None and doc.end_lineno is not None and start <= doc.end_lineno:
                    continue
                if end - start + 1 < min_body:
                    continue
                first_body = lines[start - 1]
                indent = first_body[: len(first_body) - len(first_body.lstrip())]
                task = "\n".join(lines[child.lineno - 1 : start - 1])
                out.append(Target(rel, prefix + child.name, child.name, child.lineno,
                                  start, end, indent, task))  # fmt: skip
            elif isinstance(child, (ast.If, ast.Try, ast.With)):
                walk(child, prefix)

    walk(ff.tree, "")
    return out


def mask(text: str, t: Target) -> tuple[str, int]:
    """Masked text and the 0-based line of the `...` placeholder."""
    lines = text.splitlines(keepends=True)
    nl = "\r\n" if lines and lines[0].endswith("\r\n") else "\n"
    new = lines[: t.body_start - 1] + [f"{t.indent}...{nl}"] + lines[t.body_end :]
    return "".join(new), t.body_start - 1


def body_references(text: str, t: Target) -> list[tuple[int, int, str]]:
    """(1-based line, 0-based codepoint column, name) of every Name/Attribute loaded in the body."""
    tree = ast.parse(text)
    fn: ast.AST | None = None
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.lineno == t.def_line:
            fn = node
            break
    if fn is None:
        return []
    lines = text.splitlines()
    seen: set[tuple[int, int]] = set()
    out: list[tuple[int, int, str]] = []

    def col(line: int, byte_col: int) -> int:
        return len(lines[line - 1].encode("utf-8")[:byte_col].decode("utf-8", "replace"))

    assert isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef))
    for stmt in fn.body:
        if stmt.lineno < t.body_start:
            continue
        for node in ast.walk(stmt):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                pos = (node.lineno, col(node.lineno, node.col_offset))
                name = node.id
            elif isinstance(node, ast.Attribute) and node.end_lineno is not None:
                end = col(node.end_lineno, node.end_col_offset or 0)
                pos = (node.end_lineno, end - len(node.attr))
                name = node.attr
                if lines[pos[0] - 1][pos[1] : end] != name:
                    continue
            else:
                continue
            if pos not in seen:
                seen.add(pos)
                out.append((pos[0], pos[1], name))
    return out


def identifiers(text: str) -> list[str]:
    """Identifiers of a snippet in order of first appearance (keywords dropped)."""
    seen: dict[str, None] = {}
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.NAME and not keyword.iskeyword(tok.string):
                seen.setdefault(tok.string, None)
            elif tok.type == tokenize.STRING:
                for m in IDENT.findall(tok.string):
                    if len(m) > 2 and not keyword.iskeyword(m):
                        seen.setdefault(m, None)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        for m in IDENT.findall(text):
            if not keyword.iskeyword(m):
                seen.setdefault(m, None)
    return list(seen)


_SPLIT = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")


def bm25_tokens(text: str) -> list[str]:
    """Identifier-aware tokens: whole identifiers lowercased plus their snake/camel parts."""
    out: list[str] = []
    for ident in IDENT.findall(text):
        low = ident.lower()
        out.append(low)
        parts = [p.lower() for p in _SPLIT.findall(ident)]
        if len(parts) > 1:
            out.extend(parts)
    return out
