"""``workspace/executeCommand`` handlers. Command names are a stable table."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import asdict
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from smallcode_ls.context.builder import ContextRequest
from smallcode_ls.documents import uri_to_path
from smallcode_ls.errors import InvalidRequest
from smallcode_ls.lsp.errors import handle_errors
from smallcode_ls.lsp.server import SmallCodeServer
from smallcode_ls.positions import TextPosition, line_starts, offset_at, position_at

__all__ = [
    "COMMAND_SHOW_CONTEXT",
    "COMMAND_STATUS",
    "CommandArgs",
    "parse_command_args",
    "register",
]

COMMAND_STATUS = "smallcode.status"
COMMAND_SHOW_CONTEXT = "smallcode.showContext"


class CommandArgs(BaseModel):
    """Base of every command's arguments: camelCase keys, unknown keys refused."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class _Position(CommandArgs):
    line: int = Field(ge=0)
    character: int = Field(ge=0)


class ShowContextArgs(CommandArgs):
    """Arguments of ``smallcode.showContext``."""

    uri: str
    position: _Position
    budget_tokens: int | None = Field(default=None, ge=16, le=1_048_576)
    instruction: str = ""
    diagnostics: list[str] = []


def parse_command_args(model: type[CommandArgs], args: tuple[Any, ...]) -> CommandArgs:
    """Validate a command's single object argument; InvalidRequest names what is wrong."""
    if len(args) != 1 or not isinstance(args[0], dict):
        got = f"{len(args)} arguments" if len(args) != 1 else type(args[0]).__name__
        raise InvalidRequest(f"expected one object argument, got {got}")
    try:
        return model.model_validate(args[0])
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}" for error in exc.errors()
        )
        raise InvalidRequest(f"invalid arguments: {problems}") from exc


def register(server: SmallCodeServer) -> None:
    """Register the commands."""

    @server.command(COMMAND_STATUS)
    @handle_errors
    async def status(*_args: Any) -> dict[str, Any]:
        """What model is in use and where, and the state of the code graph."""
        return server.session.status()

    @server.command(COMMAND_SHOW_CONTEXT)
    @handle_errors
    async def show_context(*args: Any) -> dict[str, Any]:
        """Exactly what the model would see for a position and budget."""
        session = server.session
        parsed = parse_command_args(ShowContextArgs, args)
        assert isinstance(parsed, ShowContextArgs)
        path = uri_to_path(parsed.uri)
        snapshot = session.documents.get(parsed.uri)
        text = snapshot.text if snapshot else (session.text_of(str(path)) if path else None)
        if path is None or text is None:
            raise InvalidRequest(f"{parsed.uri} is neither open nor readable")
        starts = line_starts(text)
        position = TextPosition(parsed.position.line, parsed.position.character)
        offset = offset_at(text, starts, position, session.documents.encoding)
        line = position_at(text, starts, offset, session.documents.encoding).line
        request = ContextRequest(
            path=str(path),
            text=text,
            line=line,
            budget_tokens=parsed.budget_tokens or session.settings.context.budget_tokens,
            instruction=parsed.instruction,
            diagnostics=tuple(parsed.diagnostics),
        )
        cancelled = threading.Event()
        try:
            pack = await asyncio.to_thread(session.context.build, request, cancelled.is_set)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return {
            "text": pack.text,
            "budget": pack.budget,
            "used": pack.used,
            "sections": [
                {**asdict(section), "name": section.name.value} for section in pack.sections
            ],
            "dropped": list(pack.dropped),
        }
