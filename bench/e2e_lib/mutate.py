"""Model-free task makers: AST mutations (procedural bugs) and masked function bodies.

Every change is made on one function's source text; a task stores the function's original
text (``find``) and the changed text (``replace``), so a workspace is rebuilt exactly.
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["Change", "Function", "functions", "mask", "mutations"]

_FLIP = {
    ast.Lt: ast.GtE, ast.GtE: ast.Lt, ast.Gt: ast.LtE, ast.LtE: ast.Gt,
    ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.Is: ast.IsNot, ast.IsNot: ast.Is,
    ast.In: ast.NotIn, ast.NotIn: ast.In,
}  # fmt: skip
_BINOP = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.FloorDiv, ast.FloorDiv: ast.Mult}


@dataclass(frozen=True)
class Function:
    """A function or method: qualified name, 1-based def line, and its source lines."""

    name: str
    line: int  # the ``def`` line (decorators excluded)
    end: int
    node: ast.FunctionDef | ast.AsyncFunctionDef

    def text(self, lines: list[str]) -> str:
        return "".join(lines[self.line - 1 : self.end])


@dataclass(frozen=True)
class Change:
    """One candidate change of a function: its kind, a label and the new function text."""

    kind: str
    label: str
    replace: str
    line: int  # the 1-based line a task points at


def functions(source: str, max_lines: int = 60) -> list[Function]:
    """Top-level functions and methods (not nested) of at most ``max_lines`` lines."""
    tree = ast.parse(source)
    found: list[Function] = []

    def visit(body: list[ast.stmt], prefix: str) -> None:
        for node in body:
            if isinstance(node, ast.ClassDef):
                visit(node.body, f"{prefix}{node.name}.")
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                end = node.end_lineno or node.lineno
                if end - node.lineno + 1 <= max_lines:
                    found.append(Function(prefix + node.name, node.lineno, end, node))

    visit(tree.body, "")
    return found


def _splice(lines: list[str], node: ast.expr, new: str) -> str | None:
    """Replace a one-line expression's source (byte columns) inside ``lines``."""
    if node.lineno != node.end_lineno or node.end_col_offset is None:
        return None
    raw = lines[node.lineno - 1].encode("utf-8")
    patched = raw[: node.col_offset] + new.encode() + raw[node.end_col_offset :]
    out = list(lines)
    out[node.lineno - 1] = patched.decode("utf-8")
    return "".join(out)


def _variants(node: ast.AST) -> Iterator[tuple[str, ast.expr, str]]:
    """(label, node to replace, new source) for each mutation of one AST node."""
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _FLIP:
        new = copy.deepcopy(node)
        new.ops = [_FLIP[type(node.ops[0])]()]
        yield "flip comparison", node, ast.unparse(new)
    elif isinstance(node, ast.BoolOp):
        new = copy.deepcopy(node)
        new.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        yield "swap and/or", node, ast.unparse(new)
    elif isinstance(node, ast.BinOp) and type(node.op) in _BINOP:
        new = copy.deepcopy(node)
        new.op = _BINOP[type(node.op)]()
        yield "swap arithmetic operator", node, ast.unparse(new)
    elif isinstance(node, ast.If | ast.While | ast.IfExp):
        test = node.test
        text = ast.unparse(test)
        yield "negate condition", test, f"not ({text})" if " " in text else f"not {text}"
    elif isinstance(node, ast.Call) and len(node.args) == 2 and not node.keywords:
        a, b = node.args
        if not isinstance(a, ast.Starred) and not isinstance(b, ast.Starred):
            new = copy.deepcopy(node)
            new.args = [new.args[1], new.args[0]]
            yield "swap arguments", node, ast.unparse(new)
    elif isinstance(node, ast.Constant) and type(node.value) is int and 0 <= node.value <= 2:
        yield "off by one", node, str(node.value + 1)
    elif isinstance(node, ast.Return) and node.value is not None and not _is_none(node.value):
        yield "return None", node.value, "None"


def _is_none(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def mutations(source: str, function: Function) -> list[Change]:
    """Every one-line mutation inside ``function`` (not in its docstring or nested defs)."""
    lines = source.splitlines(keepends=True)
    original = function.text(lines)
    body = function.node.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    out: list[Change] = []
    seen: set[str] = set()
    for statement in body:
        for node in ast.walk(statement):
            for label, target, new in _variants(node):
                patched = _splice(lines, target, new)
                if patched is None:
                    continue
                text = "".join(patched.splitlines(keepends=True)[function.line - 1 : function.end])
                if text == original or text in seen:
                    continue
                try:
                    ast.parse(patched)
                except SyntaxError:
                    continue
                seen.add(text)
                out.append(Change("mutation", label, text, function.line))
    return out


def mask(source: str, function: Function, min_statements: int = 2) -> Change | None:
    """The function with its body after the docstring replaced by a TODO, or None."""
    node = function.node
    body = node.body
    if not (body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)):  # fmt: skip
        return None
    rest = body[1:]
    if len(rest) < min_statements or node.name.startswith("__") and node.name != "__init__":
        return None
    lines = source.splitlines(keepends=True)
    doc_end = body[0].end_lineno or body[0].lineno
    first = lines[rest[0].lineno - 1]
    indent = first[: len(first) - len(first.lstrip())]
    head = lines[function.line - 1 : doc_end]
    todo = [f"{indent}# TODO: implement {node.name}\n", f"{indent}raise NotImplementedError\n"]
    text = "".join(head + todo)
    return Change("mask", "masked body", text, doc_end + 1)
