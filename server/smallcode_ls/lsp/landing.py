"""After ``workspace/applyEdit``: did the edit really land? And protected-file consent.

Neovim answers ``applied: true`` even when it skipped an edit whose version no longer
matched; so for an open document the server waits for the ``didChange`` the edit
causes and compares the mirrored text with the text it predicted.
"""

from __future__ import annotations

import asyncio
import contextlib

from lsprotocol import types

from smallcode_ls.documents import DocumentStore
from smallcode_ls.lsp.server import SmallCodeServer

__all__ = ["CHANGE_PROTECTED", "confirm_protected", "landed", "landing_verdict"]

CHANGE_PROTECTED = "Change it"
_LANDING_WAIT_S = 3.0
_POLL_S = 0.02


async def landed(documents: DocumentStore, uri: str, base_version: int, predicted: str) -> bool:
    """Whether the document moved past ``base_version`` to the predicted text.

    The first version after ``base_version`` must be the edit's. If the user typed
    right after it, the mirror may already be further on (several versions ahead):
    then the landing cannot be told apart from the typing, and it counts as landed.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + _LANDING_WAIT_S
    while loop.time() < deadline:
        current = documents.get(uri)
        if current is None:
            return False  # closed meanwhile: nothing to compare with
        decided = landing_verdict(current.version, current.text, base_version, predicted)
        if decided is not None:
            return decided
        await asyncio.sleep(_POLL_S)
    return False


def landing_verdict(
    version: int | None, text: str, base_version: int, predicted: str
) -> bool | None:
    """Landed (True), not landed (False), or not yet known (None: still the base version)."""
    if version == base_version:
        return None
    moved = (version or 0) - base_version
    return text == predicted or moved > 1


async def confirm_protected(server: SmallCodeServer, relative: str) -> bool:
    """Ask, apart from the edit preview, before a protected file (``.git/``, CI, ...) changes."""
    params = types.ShowMessageRequestParams(
        type=types.MessageType.Warning,
        message=(
            f"SmallCode wants to change the protected file {relative} (repository, editor, CI "
            "or secret configuration). Allow this change?"
        ),
        actions=[types.MessageActionItem(CHANGE_PROTECTED), types.MessageActionItem("Cancel")],
    )
    answer = None
    with contextlib.suppress(Exception):
        answer = await asyncio.wait_for(server.window_show_message_request_async(params), 300)
    return answer is not None and answer.title == CHANGE_PROTECTED
