"""How small models wrap a replace_in_file call: one function per variant, all deterministic."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from toolcalls_lib.workload import Edit

Call = tuple[str, dict[str, Any]]
NAME = "replace_in_file"
_ESCAPE = re.compile(r"\\(.)")


def _args(edit: Edit) -> dict[str, Any]:
    return {"path": edit.path, "search": edit.search, "replace": edit.replace}


def _call(edit: Edit, **kw: Any) -> dict[str, Any]:
    return {"name": NAME, "arguments": kw.get("arguments", _args(edit))}


def _dumps(obj: Any, indent: int | None = None) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=indent)


def clean(edit: Edit, i: int) -> str:
    return _dumps(_call(edit))


def fenced_prose(edit: Edit, i: int) -> str:
    return (f"I'll update `{edit.path}` as requested.\n\n```json\n{_dumps(_call(edit), 2)}\n```\n\n"
            "This replaces the old block with the new one.")  # fmt: skip


def hermes_tags(edit: Edit, i: int) -> str:
    return f"<tool_call>\n{_dumps(_call(edit))}\n</tool_call>"


def python_dict(edit: Edit, i: int) -> str:
    text = repr(_call(edit))
    return text if i % 2 == 0 else f"```python\n{text}\n```"


def trailing_comma(edit: Edit, i: int) -> str:
    text = _dumps(_call(edit), 2)
    return "```json\n" + re.sub(r"\n( *)\}", r",\n\1}", text) + "\n```"


def raw_newlines(edit: Edit, i: int) -> str:
    text = _dumps(_call(edit), 2)
    raw = _ESCAPE.sub(lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(0)), text)
    return f"```json\n{raw}\n```"


def truncated(edit: Edit, i: int) -> str:
    text = _dumps(_call(edit), None if i % 2 == 0 else 2)
    for _ in range(1 if i % 2 == 0 else 2):
        text = text.rstrip()
        assert text.endswith("}")
        text = text[:-1]
    return text if i % 2 == 0 else f"```json\n{text}"


def args_string(edit: Edit, i: int) -> str:
    return f"```json\n{_dumps({'name': NAME, 'arguments': _dumps(_args(edit))})}\n```"


def aliased(edit: Edit, i: int) -> str:
    args = {"file": edit.path, "old_str": edit.search, "new_str": edit.replace}
    return f"```json\n{_dumps({'name': NAME, 'arguments': args}, 2)}\n```"


def xml_name_args(edit: Edit, i: int) -> str:
    return (f"<tool_call>\n<name>{NAME}</name>\n<arguments>{_dumps(_args(edit))}</arguments>\n"
            "</tool_call>")  # fmt: skip


def xml_function(edit: Edit, i: int) -> str:
    params = "".join(f"<parameter={k}>\n{v}\n</parameter>\n" for k, v in _args(edit).items())
    return f"<tool_call>\n<function={NAME}>\n{params}</function>\n</tool_call>"


def xml_invoke(edit: Edit, i: int) -> str:
    params = "".join(f'<parameter name="{k}">{v}</parameter>\n' for k, v in _args(edit).items())
    return f'<function_calls>\n<invoke name="{NAME}">\n{params}</invoke>\n</function_calls>'


def _yaml_block(key: str, value: str) -> str:
    if "\n" not in value and value == value.strip() and value and not re.search(r"[:#'\"]", value):
        return f"  {key}: {value}\n"
    if value.endswith("\n\n"):
        chomp, body = "+", value[:-1]
    elif value.endswith("\n"):
        chomp, body = "", value[:-1]
    else:
        chomp, body = "-", value
    lines = body.split("\n")
    first = next((line for line in lines if line.strip(" ")), "")
    indicator = "2" if first.startswith(" ") or not lines[0].strip(" ") else ""
    return f"  {key}: |{indicator}{chomp}\n" + "".join(f"    {line}\n" for line in lines)


def yaml(edit: Edit, i: int) -> str:
    body = "".join(_yaml_block(k, v) for k, v in _args(edit).items())
    return f"I will make this edit.\n\nname: {NAME}\narguments:\n{body}"


VARIANTS: dict[str, Callable[[Edit, int], str]] = {
    "clean": clean,
    "fenced_prose": fenced_prose,
    "hermes_tags": hermes_tags,
    "python_dict": python_dict,
    "trailing_comma": trailing_comma,
    "raw_newlines": raw_newlines,
    "truncated": truncated,
    "args_string": args_string,
    "aliased_keys": aliased,
    "xml_name_args": xml_name_args,
    "xml_function": xml_function,
    "xml_invoke": xml_invoke,
    "yaml": yaml,
}
SYNTACTIC = [v for v in VARIANTS if v != "aliased_keys"] + ["two_calls"]


def messages(edits: list[Edit]) -> list[tuple[str, str, str, list[Call]]]:
    """(variant, edit id, message, gold calls) for every edit and variant, plus two_calls."""
    out: list[tuple[str, str, str, list[Call]]] = []
    for variant, make in VARIANTS.items():
        for i, edit in enumerate(edits):
            out.append((variant, edit.id, make(edit, i), [(NAME, _args(edit))]))
    for i, edit in enumerate(edits):
        other = edits[(i + 1) % len(edits)]
        text = (f"First, the change in `{edit.path}`:\n\n```json\n{_dumps(_call(edit), 2)}\n```\n\n"
                f"Then the second one:\n\n```json\n{_dumps(_call(other), 2)}\n```\n")  # fmt: skip
        out.append(("two_calls", edit.id, text, [(NAME, _args(edit)), (NAME, _args(other))]))
    return out
