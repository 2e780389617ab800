"""The code graph: tree-sitter symbols per file, a workspace index, jedi for Python."""
