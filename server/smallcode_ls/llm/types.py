"""Typed values exchanged with chat models (no I/O here)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = [
    "ChatMessage",
    "ChatRequest",
    "ChatResponse",
    "Completion",
    "Usage",
]


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One message of a conversation (OpenAI chat format)."""

    role: str
    content: str
    name: str | None = None
    tool_call_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The wire form."""
        data: dict[str, Any] = {"role": self.role, "content": self.content}
        if self.name is not None:
            data["name"] = self.name
        if self.tool_call_id is not None:
            data["tool_call_id"] = self.tool_call_id
        return data


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """A chat completion request; ``extra`` is merged into the body (endpoint options)."""

    messages: tuple[ChatMessage, ...]
    max_tokens: int = 1024
    temperature: float = 0.0
    stream: bool = True
    stop: tuple[str, ...] = ()
    tools: tuple[Mapping[str, Any], ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def prompt_chars(self) -> int:
        """Characters of prompt text (the basis of token estimates)."""
        return sum(len(message.content) for message in self.messages)


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts the endpoint reported."""

    prompt_tokens: int
    completion_tokens: int


class Completion(StrEnum):
    """How a response ended. Only COMPLETE output may become an edit."""

    COMPLETE = "complete"  # finish_reason stop / tool_calls
    LENGTH = "length"  # hit max_tokens or the context: truncated
    NO_FINISH_REASON = "no-finish-reason"  # the stream ended cleanly but never said it was done
    OTHER = "other"  # content_filter or an unknown reason


@dataclass(frozen=True, slots=True)
class ChatResponse:
    """A finished model answer, complete or truncated (see ``completion``)."""

    text: str
    finish_reason: str | None
    model: str = ""
    tool_calls: tuple[Mapping[str, Any], ...] = ()
    usage: Usage | None = None
    prompt_truncated_suspected: bool = False
    attempts: int = 1

    @property
    def completion(self) -> Completion:
        """Classify the finish reason."""
        if self.finish_reason in ("stop", "tool_calls", "eos", "function_call"):
            return Completion.COMPLETE
        if self.finish_reason == "length":
            return Completion.LENGTH
        if self.finish_reason is None:
            return Completion.NO_FINISH_REASON
        return Completion.OTHER

    @property
    def complete(self) -> bool:
        """Whether the output is whole (the only kind that may become an edit)."""
        return self.completion is Completion.COMPLETE
