"""Typed task requests and results, shared by code actions, commands and the headless run."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

__all__ = ["TaskKind", "TaskOutcome", "TaskRequest", "TaskResult", "TaskSpot"]


class TaskKind(StrEnum):
    """What the user asked for."""

    IMPLEMENT_TODO = "implementTodo"
    FIX_DIAGNOSTIC = "fixDiagnostic"
    WRITE_TESTS = "writeTests"
    EDIT_SELECTION = "runTask"


@dataclass(frozen=True, slots=True)
class TaskSpot:
    """A place in a document where a task is offered (found without any model call)."""

    kind: TaskKind
    title: str
    line: int  # 0-based line the task is about
    symbol: str = ""  # the function or class concerned, if any
    detail: str = ""  # the TODO text or the diagnostic message


@dataclass(frozen=True, slots=True)
class TaskRequest:
    """A task to run on one document version."""

    kind: TaskKind
    path: str
    uri: str
    version: int | None
    line: int
    instruction: str
    diagnostics: tuple[str, ...] = ()


class TaskOutcome(StrEnum):
    """How a task ended (the response says which)."""

    APPLIED = "applied"
    REJECTED = "rejected"  # the user (or editor) declined the edit
    STALE = "stale"  # the document changed while the task ran
    FAILED = "failed"  # no validated edit within the turn budget
    CANCELLED = "cancelled"
    NO_CHANGE = "no-change"
    PREVIEW = "preview"  # headless without --apply
    NOT_LANDED = "not-landed"  # the editor said "applied" but the document did not change
    REFUSED = "refused"  # the target is outside the workspace or otherwise unsafe


@dataclass(frozen=True, slots=True)
class TaskResult:
    """The one answer to a task command."""

    outcome: TaskOutcome
    message: str
    model: str = ""
    turns: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    diff: str = ""
    attempts: tuple[str, ...] = field(default=())
