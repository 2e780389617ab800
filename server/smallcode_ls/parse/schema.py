"""Check a raw (name, arguments) pair against the tool specs and repair what is unambiguous.

Tool names: exact, then case/``-``/``_``-insensitive, then a ``functions.`` style prefix dropped.
Argument names: exact, the tool's own aliases, case/``_``/camelCase-insensitive, the built-in
alias groups (``file``/``file_path`` -> ``path``, ``old_str``/``find`` -> ``search``...), then an
unambiguous prefix. A call missing a required argument becomes a problem, never a guess.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from smallcode_ls.parse.results import Dialect, ParseProblem, ProblemCode, ToolCall, ToolSpec

__all__ = ["build_call", "normalize_name"]

_ALIAS_GROUPS: tuple[tuple[str, ...], ...] = (
    ("path", "file", "filename", "filepath", "fname", "pathtofile", "targetfile", "filepth"),
    ("search", "oldstr", "old", "find", "oldstring", "oldtext", "original", "searchtext",
     "searchstring", "before", "oldcode", "originaltext", "searchblock", "findtext"),
    ("replace", "newstr", "new", "newstring", "newtext", "replacement", "replacewith", "after",
     "newcode", "replacementtext", "replaceblock", "with"),
    ("content", "contents", "text", "body", "filecontent", "filecontents", "newcontent", "data"),
    ("command", "cmd", "shell", "bash", "commandline"),
    ("query", "searchquery", "q", "term"),
    ("directory", "dir", "folder", "dirpath"),
)  # fmt: skip
_GROUP_OF: dict[str, int] = {
    alias: index for index, group in enumerate(_ALIAS_GROUPS) for alias in group
}
_MIN_PREFIX = 3


def normalize_name(name: str) -> str:
    """Lower-case and drop ``_``, ``-``, ``.`` and spaces: ``filePath`` -> ``filepath``."""
    return name.lower().replace("_", "").replace("-", "").replace(" ", "").replace(".", "")


def _resolve_tool(name: str, tools: Sequence[ToolSpec]) -> tuple[ToolSpec | None, str]:
    """Find the spec for ``name``; the second item is the repair note (or an error kind)."""
    for spec in tools:
        if spec.name == name:
            return spec, ""
    wanted = normalize_name(name)
    tails = {wanted}
    for sep in (".", ":", "/"):
        if sep in name:
            tails.add(normalize_name(name.rsplit(sep, 1)[1]))
    matches = [spec for spec in tools if normalize_name(spec.name) in tails]
    if len(matches) == 1:
        return matches[0], f"tool:{name}->{matches[0].name}"
    return None, "ambiguous" if matches else "unknown"


def _map_argument(key: str, spec: ToolSpec, taken: set[str]) -> str | None:
    """The schema name ``key`` stands for, when exactly one free property fits."""
    props = [p for p in spec.properties if p not in taken]
    if key in spec.aliases and spec.aliases[key] in props:
        return spec.aliases[key]
    norm = normalize_name(key)
    for alias, target in spec.aliases.items():
        if normalize_name(alias) == norm and target in props:
            return target
    group = _GROUP_OF.get(norm)
    rungs: tuple[Callable[[str], bool], ...] = (
        lambda p: p == norm,
        lambda p: group is not None and _GROUP_OF.get(p) == group,
        lambda p: len(norm) >= _MIN_PREFIX and p.startswith(norm),
        lambda p: len(p) >= _MIN_PREFIX and norm.startswith(p),
    )
    normed = [(p, normalize_name(p)) for p in props]
    for rung in rungs:
        found = [p for p, n in normed if rung(n)]
        if len(found) == 1:
            return found[0]
        if found:
            return None
    return None


def _coerce(value: Any, schema: Any) -> Any:
    """Turn a string from a text dialect (YAML, XML) into the schema's scalar or JSON type."""
    if not isinstance(value, str) or not isinstance(schema, Mapping):
        return value
    kind = schema.get("type")
    text = value.strip()
    if kind == "boolean" and text.lower() in ("true", "false"):
        return text.lower() == "true"
    if kind in ("integer", "number", "object", "array"):
        try:
            parsed = json.loads(text)
        except ValueError:
            return value
        wanted: tuple[type, ...] = {
            "integer": (int,),
            "number": (int, float),
            "object": (dict,),
            "array": (list,),
        }[kind]
        ok = isinstance(parsed, wanted) and not isinstance(parsed, bool)
        return parsed if ok else value
    return value


def _problem(code: ProblemCode, message: str, hint: str, tool: str | None) -> ParseProblem:
    return ParseProblem(code=code, message=message, hint=hint, tool=tool)


def build_call(
    name: Any,
    arguments: Any,
    dialect: Dialect,
    repairs: tuple[str, ...],
    tools: Sequence[ToolSpec],
    *,
    text_values: bool = False,
) -> ToolCall | ParseProblem:
    """Validate and repair one call. ``text_values`` coerces string values to schema types."""
    if not isinstance(name, str) or not name.strip():
        return _problem(
            ProblemCode.MISSING_NAME,
            "tool call without a name",
            'Your tool call has no "name"; send {"name": ..., "arguments": {...}}.',
            None,
        )
    name = name.strip()
    if not isinstance(arguments, dict):
        return _problem(
            ProblemCode.BAD_ARGUMENTS,
            f"arguments of {name} are {type(arguments).__name__}, not an object",
            f'The "arguments" of {name} must be a JSON object; send the whole call again.',
            name,
        )
    notes = list(repairs)
    spec: ToolSpec | None = None
    if tools:
        spec, note = _resolve_tool(name, tools)
        valid = ", ".join(t.name for t in tools)
        if spec is None:
            return _problem(
                ProblemCode.UNKNOWN_TOOL,
                f"{note} tool {name!r}",
                f"There is no tool named {name!r}. Use one of: {valid}.",
                name,
            )
        if note:
            notes.append(note)
        name = spec.name
    if spec is None:
        return ToolCall(
            name=name, arguments=dict(arguments), dialect=dialect, repaired=tuple(notes)
        )
    props = spec.properties
    out: dict[str, Any] = {}
    unmapped: list[tuple[str, Any]] = []
    for key, value in arguments.items():
        if not isinstance(key, str):
            key = str(key)
        if key in props and key not in out:
            out[key] = value
        else:
            unmapped.append((key, value))
    for key, value in unmapped:
        target = _map_argument(key, spec, set(out))
        if target is None:
            if spec.parameters.get("additionalProperties") is False:
                notes.append(f"dropped:{key}")
            else:
                out.setdefault(key, value)
            continue
        notes.append(f"argument:{key}->{target}")
        out[target] = value
    if text_values:
        out = {k: _coerce(v, props.get(k)) for k, v in out.items()}
    missing = [r for r in spec.required if r not in out]
    if missing:
        gave = ", ".join(out) or "nothing"
        return _problem(
            ProblemCode.MISSING_ARGUMENT,
            f"{name} is missing {', '.join(missing)}",
            f"{name} needs {', '.join(spec.required)}; you gave {gave}. Send the whole call again.",
            name,
        )
    return ToolCall(name=name, arguments=out, dialect=dialect, repaired=tuple(notes))
