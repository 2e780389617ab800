"""The retrieval part of the context builder, shaped for benchmark B1 (``bench/``)."""

from __future__ import annotations

from pathlib import Path

from smallcode_ls.context.builder import ContextBuilder, ContextRequest, SectionName
from smallcode_ls.context.tokens import TokenEstimator
from smallcode_ls.graph.index import WorkspaceIndex
from smallcode_ls.navigation import read_disk_text

__all__ = ["retrieve_context"]


def retrieve_context(
    root: Path,
    path: Path,
    text: str,
    line: int,
    budget_tokens: int,
    index: object = None,
) -> tuple[str, object]:
    """Definitions section only, for ``text`` (the file at ``path``) at 0-based ``line``.

    Pass the returned state back in to reuse the workspace index (built once per root).
    """
    if not isinstance(index, tuple):
        workspace = WorkspaceIndex(root, workers=1)
        workspace.build()
        builder = ContextBuilder(workspace, TokenEstimator().estimate, read_disk_text)
        index = (workspace, builder)
    _, builder = index
    assert isinstance(builder, ContextBuilder)
    request = ContextRequest(
        path=str(path.resolve()),
        text=text,
        line=line,
        budget_tokens=budget_tokens,
        sections=(SectionName.DEFINITIONS,),
    )
    return builder.build(request).text, index
