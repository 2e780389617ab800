"""Patch-first edits: place a model's edits forgivingly, refuse what cannot be placed.

``apply_model_output`` is the one-file entry point; ``apply_to_snapshots`` applies a parsed reply
to several snapshots all or nothing and returns versioned ``FileChange`` values, which
``lsp/convert.py`` turns into a ``WorkspaceEdit`` through ``minimal_edits``.
"""

from __future__ import annotations

from smallcode_ls.patch.api import ApplyResult, apply_model_output, apply_parsed
from smallcode_ls.patch.apply import BlockResult, TextPatch, apply_blocks
from smallcode_ls.patch.changes import (
    ChangeKind,
    FileChange,
    PatchPlan,
    apply_to_snapshots,
    content_sha256,
    stale_on_disk,
)
from smallcode_ls.patch.match import Match, Miss, Rung, locate
from smallcode_ls.patch.minimal import OffsetEdit, apply_offset_edits, minimal_edits

__all__ = [
    "ApplyResult",
    "BlockResult",
    "ChangeKind",
    "FileChange",
    "Match",
    "Miss",
    "OffsetEdit",
    "PatchPlan",
    "Rung",
    "TextPatch",
    "apply_blocks",
    "apply_model_output",
    "apply_offset_edits",
    "apply_parsed",
    "apply_to_snapshots",
    "content_sha256",
    "locate",
    "minimal_edits",
    "stale_on_disk",
]
