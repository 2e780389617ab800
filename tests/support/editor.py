"""A test client's buffers that apply ``workspace/applyEdit`` the way real editors do.

VS Code refuses a ``TextDocumentEdit`` whose version is not the buffer's
(``applied: false``); Neovim 0.11 skips it silently and still answers
``applied: true``. Either way an applied edit is followed by a ``didChange``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from lsprotocol import types
from pytest_lsp import LanguageClient

from smallcode_ls.documents import TextChange, apply_change
from smallcode_ls.positions import PositionEncoding, TextPosition

Profile = Literal["vscode", "neovim", "skip-silently"]


@dataclass
class Buffer:
    text: str
    version: int


@dataclass
class EditorBuffers:
    client: LanguageClient
    profile: Profile = "vscode"
    buffers: dict[str, Buffer] = field(default_factory=dict)
    received: list[types.ApplyWorkspaceEditParams] = field(default_factory=list)

    def open(self, uri: str, text: str, version: int = 1) -> None:
        self.buffers[uri] = Buffer(text, version)
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=uri, language_id="python", version=version, text=text
                )
            )
        )

    def type(self, uri: str, text: str) -> None:
        """The user replaces the buffer (a full-text didChange)."""
        buffer = self.buffers[uri]
        buffer.text, buffer.version = text, buffer.version + 1
        self._did_change(uri)

    def _did_change(self, uri: str) -> None:
        buffer = self.buffers[uri]
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(
                    version=buffer.version, uri=uri
                ),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=buffer.text)],
            )
        )

    def apply(self, params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        self.received.append(params)
        if self.profile == "skip-silently":
            return types.ApplyWorkspaceEditResult(applied=True)
        changed = []
        for change in params.edit.document_changes or []:
            if not isinstance(change, types.TextDocumentEdit):
                continue  # resource operations: files the test does not keep as buffers
            uri = change.text_document.uri
            buffer = self.buffers.get(uri)
            if buffer is None:
                continue
            if change.text_document.version not in (None, buffer.version):
                if self.profile == "vscode":
                    return types.ApplyWorkspaceEditResult(
                        applied=False, failure_reason="the document version changed"
                    )
                continue  # neovim: skipped without a word
            text = buffer.text
            for edit in sorted(change.edits, key=lambda e: (e.range.start.line,
                               e.range.start.character), reverse=True):  # fmt: skip
                start = TextPosition(edit.range.start.line, edit.range.start.character)
                end = TextPosition(edit.range.end.line, edit.range.end.character)
                text = apply_change(
                    text, TextChange(edit.new_text, start, end), PositionEncoding.UTF16
                )
            buffer.text, buffer.version = text, buffer.version + 1
            changed.append(uri)
        for uri in changed:
            self._did_change(uri)
        return types.ApplyWorkspaceEditResult(applied=True)
