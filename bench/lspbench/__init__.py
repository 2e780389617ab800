"""Helper package for ``bench/graph_lsp.py`` (the LSP side-by-side benchmark).

Kept under a different name than the entry script so that ``graph_lsp`` stays a
single, unambiguous module for mypy and for ``python bench/graph_lsp.py``.
"""
