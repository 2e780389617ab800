"""Check a candidate text before anyone sees it: syntax first (tree-sitter)."""

from __future__ import annotations

from smallcode_ls.graph.languages import language_for_path
from smallcode_ls.graph.parser import parse_tree

__all__ = ["syntax_problem"]


def syntax_problem(path: str, old_text: str, new_text: str) -> str | None:
    """A model-readable syntax complaint about ``new_text``, or None when it parses.

    A file that already had errors is not held to a higher standard than before.
    """
    spec = language_for_path(path)
    if spec is None:
        return None
    tree = parse_tree(spec, new_text.encode("utf-8", "surrogatepass"))
    if not tree.root_node.has_error:
        return None
    if parse_tree(spec, old_text.encode("utf-8", "surrogatepass")).root_node.has_error:
        return None
    node = tree.root_node
    line = 0
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type == "ERROR" or current.is_missing:
            line = current.start_point[0]
            break
        stack.extend(reversed(current.children))
    lines = new_text.splitlines()
    shown = lines[line].strip() if line < len(lines) else ""
    return f"the result has a syntax error at line {line + 1}: `{shown}`"
