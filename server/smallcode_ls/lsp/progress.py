"""Server-initiated ``$/progress`` (begin / report / end), cancellable by the client."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable

from lsprotocol import types
from pygls.lsp.server import LanguageServer

__all__ = ["WorkDoneProgress"]

logger = logging.getLogger(__name__)

_REPORT_INTERVAL_S = 0.2


class WorkDoneProgress:
    """One progress bar; silently inert when the client does not support progress."""

    def __init__(self, server: LanguageServer, title: str, cancellable: bool = True) -> None:
        self._server = server
        self._title = title
        self._cancellable = cancellable
        self._token: str | None = None
        self._last_report = 0.0

    async def begin(self, message: str = "") -> None:
        """Ask the client for a progress token and show the bar."""
        capabilities = self._server.client_capabilities.window
        if capabilities is None or not capabilities.work_done_progress:
            return
        token = f"smallcode-{uuid.uuid4().hex}"
        try:
            await self._server.work_done_progress.create_async(token)
        except Exception as exc:  # the client may refuse; progress is optional
            logger.info("client refused a progress token: %s", exc)
            return
        self._token = token
        self._server.work_done_progress.begin(
            token,
            types.WorkDoneProgressBegin(
                title=self._title, message=message, cancellable=self._cancellable, percentage=0
            ),
        )

    def report(self, done: int, total: int, force: bool = False) -> None:
        """Update the bar (throttled)."""
        now = time.monotonic()
        if self._token is None or (not force and now - self._last_report < _REPORT_INTERVAL_S):
            return
        self._last_report = now
        percentage = int(100 * done / total) if total else 100
        self._server.work_done_progress.report(
            self._token,
            types.WorkDoneProgressReport(message=f"{done}/{total} files", percentage=percentage),
        )

    def report_message(self, message: str) -> None:
        """Show a step ("asking the model (turn 1/3)") without a percentage."""
        if self._token is not None:
            self._server.work_done_progress.report(
                self._token, types.WorkDoneProgressReport(message=message)
            )

    def on_cancel(self, callback: Callable[[], object]) -> None:
        """Call ``callback`` when the client cancels this progress."""
        if self._token is None:
            return
        future = self._server.work_done_progress.tokens.get(self._token)
        if future is not None:
            future.add_done_callback(lambda done: callback() if done.cancelled() else None)

    @property
    def cancelled(self) -> bool:
        """Whether the client cancelled this progress."""
        if self._token is None:
            return False
        future = self._server.work_done_progress.tokens.get(self._token)
        return future is not None and future.cancelled()

    def end(self, message: str) -> None:
        """Close the bar."""
        if self._token is None:
            return
        self._server.work_done_progress.end(self._token, types.WorkDoneProgressEnd(message=message))
        self._server.work_done_progress.tokens.pop(self._token, None)
        self._token = None
