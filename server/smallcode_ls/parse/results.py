"""Typed results of the tool-call parser: tool specs, calls, problems and the dialect enum."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = [
    "Dialect",
    "ParseProblem",
    "ProblemCode",
    "ToolCall",
    "ToolCallParse",
    "ToolSpec",
]


class Dialect(StrEnum):
    """How a tool call was written; the rung of the ladder that matched."""

    NATIVE = "native"
    """An OpenAI-style ``tool_calls`` entry from the server."""
    HERMES = "hermes"
    """JSON inside ``<tool_call>...</tool_call>`` (Qwen/Hermes), also unclosed."""
    XML_TAGS = "xml_tags"
    """``<tool_call><name>x</name><arguments>{...}</arguments></tool_call>``."""
    FUNCTION_TAG = "function_tag"
    """``<function=x><parameter=k>v</parameter></function>`` (Qwen3-Coder)."""
    INVOKE = "invoke"
    """``<invoke name="x"><parameter name="k">v</parameter></invoke>``."""
    FENCED = "fenced"
    """A fenced code block (```json, ```python, plain ```) holding the call."""
    BARE = "bare"
    """A JSON object or Python dict literal in the middle of prose."""
    YAML = "yaml"
    """``name: x`` / ``arguments:`` with an indented mapping (block scalars too)."""


class ProblemCode(StrEnum):
    """Why (part of) a reply could not become a tool call."""

    TRUNCATED = "truncated"
    INVALID_SYNTAX = "invalid_syntax"
    MISSING_NAME = "missing_name"
    UNKNOWN_TOOL = "unknown_tool"
    BAD_ARGUMENTS = "bad_arguments"
    MISSING_ARGUMENT = "missing_argument"


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A tool the model may call.

    ``parameters`` is a JSON-schema object (``properties``, ``required``). ``aliases`` maps extra
    argument names this tool accepts to the schema name (``{"file": "path"}``); common aliases
    (``file_path``, ``old_str``, ``new_str``...) are built in.
    """

    name: str
    parameters: Mapping[str, Any]
    aliases: Mapping[str, str] = field(default_factory=dict)

    @property
    def properties(self) -> Mapping[str, Any]:
        """The schema's ``properties`` (empty when missing or malformed)."""
        props = self.parameters.get("properties")
        return props if isinstance(props, Mapping) else {}

    @property
    def required(self) -> tuple[str, ...]:
        """The schema's ``required`` names."""
        req = self.parameters.get("required")
        if not isinstance(req, list | tuple):
            return ()
        return tuple(r for r in req if isinstance(r, str))


@dataclass(frozen=True, slots=True)
class ToolCall:
    """One usable tool call: a known tool with all required arguments.

    ``repaired`` lists what was fixed to get here, e.g. ``"trailing_comma"``,
    ``"closed_brackets"``, ``"argument:file->path"``, ``"tool:Read-File->read_file"``.
    """

    name: str
    arguments: dict[str, Any]
    dialect: Dialect
    repaired: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ParseProblem:
    """Something that looked like a tool call but could not be used.

    ``hint`` is one short sentence written for the model, to be sent back as retry feedback.
    """

    code: ProblemCode
    message: str
    hint: str
    tool: str | None = None


@dataclass(frozen=True, slots=True)
class ToolCallParse:
    """Everything read from one model reply.

    ``prose`` is the reply with thinking and the tool calls (and their problems) removed.
    ``thinking`` is the removed reasoning, capped by the thinking budget.
    """

    calls: tuple[ToolCall, ...]
    problems: tuple[ParseProblem, ...]
    prose: str
    thinking: str = ""
    thinking_capped: bool = False
