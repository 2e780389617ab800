"""Forgiving parsers for model output: tool calls, lenient JSON and thinking blocks.

Everything here is a pure function over text that never raises on model output; what cannot be
used comes back as a typed problem with a short hint the agent can send back to the model.
"""

from __future__ import annotations

from smallcode_ls.parse.edit_types import (
    EditBlock,
    EditFormat,
    EditKind,
    EditParse,
    EditProblem,
    EditProblemCode,
)
from smallcode_ls.parse.edits import parse_edits
from smallcode_ls.parse.json_repair import LenientValue, Truncation, decode_value, read_lenient
from smallcode_ls.parse.results import (
    Dialect,
    ParseProblem,
    ProblemCode,
    ToolCall,
    ToolCallParse,
    ToolSpec,
)
from smallcode_ls.parse.thinking import ThinkingResult, strip_thinking
from smallcode_ls.parse.tool_calls import DEFAULT_THINKING_CHARS, parse_tool_calls

__all__ = [
    "DEFAULT_THINKING_CHARS",
    "Dialect",
    "EditBlock",
    "EditFormat",
    "EditKind",
    "EditParse",
    "EditProblem",
    "EditProblemCode",
    "LenientValue",
    "ParseProblem",
    "ProblemCode",
    "ThinkingResult",
    "ToolCall",
    "ToolCallParse",
    "ToolSpec",
    "Truncation",
    "decode_value",
    "parse_edits",
    "parse_tool_calls",
    "read_lenient",
    "strip_thinking",
]
