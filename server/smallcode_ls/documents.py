"""The open-document mirror: immutable snapshots built from didOpen/didChange.

The store applies full and incremental changes in the negotiated position
encoding. A change that does not fit the text (reversed range, a position past
the end) marks the document out of sync instead of being clamped: the last good
snapshot stays available, and the document recovers on a full-text change or a
re-open.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from smallcode_ls.errors import DocumentNotOpen, DocumentOutOfSync, InvalidChange
from smallcode_ls.positions import PositionEncoding, TextPosition, line_starts, offset_at

__all__ = ["DocumentSnapshot", "DocumentStore", "TextChange", "apply_change", "uri_to_path"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TextChange:
    """One content change; no range means the whole text is replaced."""

    text: str
    start: TextPosition | None = None
    end: TextPosition | None = None


@dataclass(frozen=True, slots=True)
class DocumentSnapshot:
    """The text of one document at one version. Never mutated."""

    uri: str
    version: int | None
    text: str
    language_id: str = ""

    @property
    def path(self) -> Path | None:
        """The file-system path for ``file:`` URIs, else None."""
        return uri_to_path(self.uri)


def uri_to_path(uri: str) -> Path | None:
    """Return the resolved local path of a ``file:`` URI (None for other schemes).

    Resolved so that a buffer and the workspace scan name the same file alike.
    """
    from urllib.parse import unquote, urlparse

    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return None
    return Path(unquote(parsed.path)).resolve()


def apply_change(text: str, change: TextChange, encoding: PositionEncoding) -> str:
    """Return ``text`` with one change applied; raise InvalidChange if it does not fit."""
    if change.start is None or change.end is None:
        return change.text
    starts = line_starts(text)
    start = offset_at(text, starts, change.start, encoding)
    end = offset_at(text, starts, change.end, encoding)
    if end < start:
        raise InvalidChange(f"reversed range {change.start} .. {change.end}")
    return text[:start] + change.text + text[end:]


@dataclass(slots=True)
class _Entry:
    snapshot: DocumentSnapshot
    out_of_sync: str | None = None


@dataclass(slots=True)
class DocumentStore:
    """Open documents by URI. Owned by the server session; not shared globally."""

    encoding: PositionEncoding = PositionEncoding.UTF16
    _entries: dict[str, _Entry] = field(default_factory=dict)

    def open(self, uri: str, version: int | None, text: str, language_id: str) -> DocumentSnapshot:
        """Record a newly opened document (or a re-open, which resynchronises it)."""
        snapshot = DocumentSnapshot(uri, version, text, language_id)
        self._entries[uri] = _Entry(snapshot)
        return snapshot

    def change(self, uri: str, version: int | None, changes: list[TextChange]) -> DocumentSnapshot:
        """Apply ``changes`` in order and return the new snapshot.

        Raises DocumentOutOfSync when a change does not fit; the document then
        refuses incremental changes until a full-text change arrives.
        """
        entry = self._entries.get(uri)
        if entry is None:
            raise DocumentNotOpen(f"{uri} was changed but never opened")
        text = entry.snapshot.text
        for change in changes:
            if change.start is None:
                text = change.text
                entry.out_of_sync = None
                continue
            if entry.out_of_sync is not None:
                continue
            try:
                text = apply_change(text, change, self.encoding)
            except InvalidChange as exc:
                entry.out_of_sync = str(exc)
                logger.warning("%s is out of sync: %s", uri, exc)
        if entry.out_of_sync is not None:
            raise DocumentOutOfSync(
                f"{uri} is out of sync with the editor ({entry.out_of_sync}); "
                "close and reopen it to resynchronise"
            )
        entry.snapshot = DocumentSnapshot(uri, version, text, entry.snapshot.language_id)
        return entry.snapshot

    def close(self, uri: str) -> None:
        """Forget a closed document."""
        self._entries.pop(uri, None)

    def get(self, uri: str) -> DocumentSnapshot | None:
        """Return the latest good snapshot of an open document, or None."""
        entry = self._entries.get(uri)
        return entry.snapshot if entry else None

    def require(self, uri: str) -> DocumentSnapshot:
        """Return the snapshot of an open, in-sync document or raise."""
        entry = self._entries.get(uri)
        if entry is None:
            raise DocumentNotOpen(f"{uri} is not open")
        if entry.out_of_sync is not None:
            raise DocumentOutOfSync(f"{uri} is out of sync with the editor; reopen it")
        return entry.snapshot

    def is_in_sync(self, uri: str) -> bool:
        """Whether the document is open and its text is trusted."""
        entry = self._entries.get(uri)
        return entry is not None and entry.out_of_sync is None

    def text_for_path(self, path: str) -> str | None:
        """The open buffer's text for a file path, if that file is open."""
        for uri, entry in self._entries.items():
            local = uri_to_path(uri)
            if local is not None and str(local) == path:
                return entry.snapshot.text
        return None

    def uris(self) -> list[str]:
        """URIs of every open document."""
        return list(self._entries)
