from __future__ import annotations

import json
from typing import Any

import pytest

from smallcode_ls.parse import (
    Dialect,
    ProblemCode,
    ToolSpec,
    Truncation,
    parse_tool_calls,
    read_lenient,
)

TOOLS = [
    ToolSpec("read_file", {"properties": {"path": {"type": "string"}}, "required": ["path"]}),
    ToolSpec(
        "replace_in_file",
        {
            "properties": {
                "path": {"type": "string"},
                "search": {"type": "string"},
                "replace": {"type": "string"},
            },
            "required": ["path", "search", "replace"],
        },
    ),
    ToolSpec(
        "run_tests",
        {"properties": {"count": {"type": "integer"}, "verbose": {"type": "boolean"}}},
    ),
]
READ = ("read_file", {"path": "a.py"})
EDIT = ("replace_in_file", {"path": "a.py", "search": 'x = "1"\n', "replace": "y = '2'\n"})


def calls(text: str | None, **kw: Any) -> list[tuple[str, dict[str, Any]]]:
    return [(c.name, c.arguments) for c in parse_tool_calls(text, TOOLS, **kw).calls]


J = '{"name": "read_file", "arguments": {"path": "a.py"}}'
PY = "{'name': 'read_file', 'arguments': {'path': 'a.py'}"
DIALECTS = [
    ("clean json", J, Dialect.BARE),
    ("fenced json with prose", f"Sure!\n```json\n{J}\n```\nDone.", Dialect.FENCED),
    (
        "pretty fenced json",
        "```json\n" + json.dumps(json.loads(J), indent=2) + "\n```",
        Dialect.FENCED,
    ),
    ("plain fence", f"```\n{J}\n```", Dialect.FENCED),
    ("hermes tags", f"<tool_call>\n{J}\n</tool_call>", Dialect.HERMES),
    ("unclosed hermes tag", f"<tool_call>\n{J}", Dialect.HERMES),
    ("fence inside hermes tag", f"<tool_call>\n```json\n{J}\n```\n</tool_call>", Dialect.HERMES),
    ("bare json in prose", f"Let me look.\n{J}\nOk", Dialect.BARE),
    ("python dict", PY + "}", Dialect.BARE),
    ("python literals", PY + ", 'x': None, 'y': True}", Dialect.BARE),
    ("trailing commas", '{"name": "read_file", "arguments": {"path": "a.py",},}', Dialect.BARE),
    (
        "arguments as string",
        json.dumps({"name": "read_file", "arguments": '{"path": "a.py"}'}),
        Dialect.BARE,
    ),
    (
        "xml name and arguments tags",
        '<tool_call><name>read_file</name><arguments>{"path": "a.py"}</arguments></tool_call>',
        Dialect.XML_TAGS,
    ),
    (
        "xml child elements",
        "<tool_call><name>read_file</name><arguments><path>a.py</path></arguments></tool_call>",
        Dialect.XML_TAGS,
    ),
    (
        "qwen3 function tag",
        "<tool_call>\n<function=read_file>\n<parameter=path>\na.py\n</parameter>\n</function>\n"
        "</tool_call>",
        Dialect.FUNCTION_TAG,
    ),
    (
        "bare function tag",
        "<function=read_file><parameter=path>a.py</parameter></function>",
        Dialect.FUNCTION_TAG,
    ),
    (
        "invoke tags",
        '<function_calls>\n<invoke name="read_file">\n<parameter name="path">a.py</parameter>\n'
        "</invoke>\n</function_calls>",
        Dialect.INVOKE,
    ),
    ("yaml", "name: read_file\narguments:\n  path: a.py\n", Dialect.YAML),
    ("yaml quoted", "name: \"read_file\"\narguments:\n  path: 'a.py'\n", Dialect.YAML),
    ("yaml flow arguments", 'name: read_file\narguments: {"path": "a.py"}\n', Dialect.YAML),
    ("yaml in a fence", "```yaml\nname: read_file\narguments:\n  path: a.py\n```", Dialect.YAML),
    ("openai function shape", '{"type": "function", "function": ' + J + "}", Dialect.BARE),
    (
        "tool and parameters keys",
        '{"tool": "read_file", "parameters": {"path": "a.py"}}',
        Dialect.BARE,
    ),
    ("name and input keys", '{"name": "read_file", "input": {"path": "a.py"}}', Dialect.BARE),
    ("flat arguments", '{"name": "read_file", "path": "a.py"}', Dialect.BARE),
    ("json array of calls", f"[{J}]", Dialect.BARE),
    ("name then json in tag", '<tool_call>read_file\n{"path": "a.py"}</tool_call>', Dialect.HERMES),
    ("mistral marker", f"[TOOL_CALLS][{J}]", Dialect.HERMES),
    (
        "comments in json",
        '{"name": "read_file", // why\n "arguments": {"path": "a.py"}}',
        Dialect.BARE,
    ),
]


@pytest.mark.parametrize(("label", "text", "dialect"), DIALECTS, ids=[d[0] for d in DIALECTS])
def test_every_dialect_yields_the_same_call(label: str, text: str, dialect: Dialect) -> None:
    result = parse_tool_calls(text, TOOLS)
    assert [(c.name, c.arguments) for c in result.calls] == [READ], result.problems
    assert result.calls[0].dialect is dialect
    assert result.problems == ()


def test_native_tool_calls_accept_string_and_object_arguments() -> None:
    native = [
        {
            "id": "1",
            "type": "function",
            "function": {"name": "read_file", "arguments": '{"path": "a.py"}'},
        },
        {"name": "read_file", "arguments": {"path": "b.py"}},
    ]
    result = parse_tool_calls("", TOOLS, native)
    assert [(c.name, c.arguments, c.dialect) for c in result.calls] == [
        ("read_file", {"path": "a.py"}, Dialect.NATIVE),
        ("read_file", {"path": "b.py"}, Dialect.NATIVE),
    ]


def test_a_call_both_native_and_in_content_is_reported_once() -> None:
    native = [{"function": {"name": "read_file", "arguments": '{"path": "a.py"}'}}]
    text = '```json\n{"name": "read_file", "arguments": {"path": "a.py"}}\n```'
    assert calls(text, native=native) == [READ]


EXACT_VALUES = [
    "trailing spaces   \n",
    "windows\r\nline\r\n",
    "back\\slash \\n not a newline \\\\ and \\d",
    'quotes " and \' and """',
    "unicode é ü 中文 🎉 \u2028",
    "\ttabs\tinside\t",
    "ends without newline",
    "\n\nleading and trailing blank lines\n\n\n",
    "",
]


def _encodings(value: str) -> list[tuple[str, str]]:
    args = {"path": "a.py", "search": value, "replace": value}
    call = {"name": "replace_in_file", "arguments": args}
    raw = json.dumps(call, ensure_ascii=False, indent=2)
    return [
        ("json", json.dumps(call)),
        ("json ascii", json.dumps(call, ensure_ascii=True)),
        ("fenced", f"```json\n{raw}\n```"),
        ("python", repr(call)),
        ("trailing comma", raw.replace("\n}", ",\n}")),
        ("raw newlines", raw.replace("\\n", "\n") if "\\\\" not in raw else json.dumps(call)),
        ("truncated brace", json.dumps(call)[:-1]),
        ("arguments string", json.dumps({"name": call["name"], "arguments": json.dumps(args)})),
        ("invoke", '<invoke name="replace_in_file"><parameter name="path">a.py</parameter>'
                   f'<parameter name="search">{value}</parameter>'
                   f'<parameter name="replace">{value}</parameter></invoke>'),
        ("function tag", "<function=replace_in_file>\n<parameter=path>\na.py\n</parameter>\n"
                         f"<parameter=search>\n{value}\n</parameter>\n"
                         f"<parameter=replace>\n{value}\n</parameter>\n</function>"),
    ]  # fmt: skip


@pytest.mark.parametrize("value", EXACT_VALUES, ids=range(len(EXACT_VALUES)))
def test_string_values_survive_byte_for_byte_in_every_encoding(value: str) -> None:
    for label, text in _encodings(value):
        got = calls(text)
        assert got == [("replace_in_file", {"path": "a.py", "search": value, "replace": value})], (
            label
        )


def test_yaml_block_scalars_keep_trailing_spaces_and_chomping() -> None:
    text = (
        "name: replace_in_file\narguments:\n  path: a.py\n"
        "  search: |2\n      indented  \n    next\n"
        "  replace: |+\n    kept\n    \n"
    )
    assert calls(text) == [
        (
            "replace_in_file",
            {"path": "a.py", "search": "  indented  \nnext\n", "replace": "kept\n\n"},
        )
    ]


def test_yaml_strip_chomping_drops_the_final_newline() -> None:
    text = (
        "name: replace_in_file\narguments:\n  path: a.py\n"
        "  search: |-\n    x\n  replace: |\n    y\n"
    )
    assert calls(text) == [("replace_in_file", {"path": "a.py", "search": "x", "replace": "y\n"})]


ALIASES = [
    ({"file": "a.py", "old_str": "x", "new_str": "y"}, "file"),
    ({"filename": "a.py", "old": "x", "new": "y"}, "filename"),
    ({"file_path": "a.py", "find": "x", "replacement": "y"}, "file_path"),
    ({"filePath": "a.py", "oldString": "x", "newString": "y"}, "filePath"),
    ({"PATH": "a.py", "Search": "x", "REPLACE": "y"}, "PATH"),
    ({"path": "a.py", "sear": "x", "repl": "y"}, "path"),
    ({"path": "a.py", "search_text": "x", "replace_with": "y"}, "path"),
]


@pytest.mark.parametrize(("args", "label"), ALIASES, ids=[a[1] for a in ALIASES])
def test_argument_names_are_repaired_against_the_schema(args: dict[str, str], label: str) -> None:
    text = json.dumps({"name": "replace_in_file", "arguments": args})
    result = parse_tool_calls(text, TOOLS)
    assert [(c.name, c.arguments) for c in result.calls] == [
        ("replace_in_file", {"path": "a.py", "search": "x", "replace": "y"})
    ]


def test_tool_specific_aliases_are_honoured() -> None:
    spec = ToolSpec(
        "grep", {"properties": {"pattern": {}}, "required": ["pattern"]}, {"regex": "pattern"}
    )
    result = parse_tool_calls('{"name": "grep", "arguments": {"regex": "a+"}}', [spec])
    assert result.calls[0].arguments == {"pattern": "a+"}
    assert "argument:regex->pattern" in result.calls[0].repaired


@pytest.mark.parametrize("name", ["Read_File", "read-file", "READFILE", "functions.read_file"])
def test_tool_names_are_repaired_when_unambiguous(name: str) -> None:
    assert calls(json.dumps({"name": name, "arguments": {"path": "a.py"}})) == [READ]


def test_an_unknown_tool_is_a_problem_listing_the_valid_names() -> None:
    result = parse_tool_calls('{"name": "delete_file", "arguments": {"path": "a.py"}}', TOOLS)
    assert result.calls == ()
    (problem,) = result.problems
    assert problem.code is ProblemCode.UNKNOWN_TOOL
    assert "read_file, replace_in_file, run_tests" in problem.hint


def test_a_missing_required_argument_is_a_problem_not_a_call() -> None:
    result = parse_tool_calls('{"name": "replace_in_file", "arguments": {"path": "a.py"}}', TOOLS)
    assert result.calls == ()
    assert [p.code for p in result.problems] == [ProblemCode.MISSING_ARGUMENT]
    assert "search" in result.problems[0].hint


def test_text_dialects_coerce_values_to_schema_types() -> None:
    text = (
        "<function=run_tests><parameter=count>3</parameter>"
        "<parameter=verbose>true</parameter></function>"
    )
    assert calls(text) == [("run_tests", {"count": 3, "verbose": True})]


RECOVERABLE = [
    ('{"name": "read_file", "arguments": {"path": "a.py"}', "one brace missing"),
    ('{"name": "read_file", "arguments": {"path": "a.py"', "two braces missing"),
    (
        '```json\n{"name": "read_file", "arguments": {"path": "a.py"}\n```\nThanks',
        "in a closed fence",
    ),
    ('```json\n{"name": "read_file",\n "arguments": {"path": "a.py"}\n', "in an open fence"),
    ('<tool_call>{"name": "read_file", "arguments": {"path": "a.py"}</tool_call>', "in tags"),
    ('{"name": "read_file", "arguments": {"path": "a.py"}\nLet me know!', "prose follows"),
]


@pytest.mark.parametrize(("text", "label"), RECOVERABLE, ids=[r[1] for r in RECOVERABLE])
def test_missing_closing_brackets_are_recovered(text: str, label: str) -> None:
    result = parse_tool_calls(text, TOOLS)
    assert [(c.name, c.arguments) for c in result.calls] == [READ]
    assert "closed_brackets" in result.calls[0].repaired


REFUSED = [
    '{"name": "replace_in_file", "arguments": {"path": "a.py", "search": "x", "replace": "y',
    '{"name": "replace_in_file", "arguments": {"path": "a.py", "search": "x",',
    '{"name": "replace_in_file", "arguments": {"path": "a.py", "search": "x", "replace":',
    '{"name": "replace_in_file", "arguments": {"path": "a.py", "search": "x", "repl',
    '<tool_call>\n{"name": "replace_in_file", "arguments": "{\\"path\\": \\"a.py\\", \\"search',
    "<function=replace_in_file><parameter=path>a.py</parameter><parameter=search>x",
    "```json\n{'name': 'replace_in_file', 'arguments': {'path': 'a.py', 'search': '''x",
]


@pytest.mark.parametrize("text", REFUSED, ids=range(len(REFUSED)))
def test_text_cut_inside_content_is_refused_and_never_invented(text: str) -> None:
    result = parse_tool_calls(text, TOOLS)
    assert result.calls == ()
    assert [p.code for p in result.problems] == [ProblemCode.TRUNCATED]
    assert result.problems[0].hint.endswith("was cut off; send the whole call again.")
    assert "replace_in_file" in result.problems[0].hint


def test_several_calls_in_one_message_come_back_in_order() -> None:
    text = (
        'First:\n```json\n{"name": "read_file", "arguments": {"path": "a.py"}}\n```\n'
        "then <tool_call>{'name': 'replace_in_file', 'arguments': "
        "{'path': 'a.py', 'search': 'x = \"1\"\\n', 'replace': \"y = '2'\\n\"}}</tool_call>\n"
        "<function=read_file><parameter=path>b.py</parameter></function>"
    )
    result = parse_tool_calls(text, TOOLS)
    assert [(c.name, c.arguments) for c in result.calls] == [
        READ,
        EDIT,
        ("read_file", {"path": "b.py"}),
    ]
    assert result.prose == "First:\n\nthen"


def test_plain_prose_and_ordinary_code_blocks_are_not_calls() -> None:
    text = (
        'Use {"a": 1} here.\n```python\nconfig = {"name": "x", "value": 2}\n```\n'
        '```json\n{"name": "pkg"}\n```'
    )
    result = parse_tool_calls(text, TOOLS)
    assert result.calls == () and result.problems == ()
    assert result.prose == text


def test_arguments_that_are_not_an_object_are_a_problem() -> None:
    result = parse_tool_calls(
        '<tool_call>{"name": "read_file", "arguments": [1, 2]}</tool_call>', TOOLS
    )
    assert [p.code for p in result.problems] == [ProblemCode.BAD_ARGUMENTS]


def test_an_unreadable_tag_body_is_an_invalid_syntax_problem() -> None:
    result = parse_tool_calls("<tool_call>{name read_file path a.py}</tool_call>", TOOLS)
    assert [p.code for p in result.problems] == [ProblemCode.INVALID_SYNTAX]


def test_calls_inside_thinking_are_ignored() -> None:
    text = (
        '<think>maybe {"name": "read_file", "arguments": {"path": "x.py"}}</think>\n'
        + json.dumps({"name": "read_file", "arguments": {"path": "a.py"}})
    )
    result = parse_tool_calls(text, TOOLS)
    assert [(c.name, c.arguments) for c in result.calls] == [READ]
    assert "x.py" in result.thinking


def test_no_tools_means_any_name_is_accepted() -> None:
    result = parse_tool_calls('{"name": "anything", "arguments": {"k": 1}}', [])
    assert [(c.name, c.arguments) for c in result.calls] == [("anything", {"k": 1})]


def test_none_and_empty_content_give_an_empty_result() -> None:
    for content in (None, "", "   "):
        result = parse_tool_calls(content, TOOLS)
        assert result.calls == () and result.problems == () and result.prose == ""


def test_the_lenient_reader_classifies_truncation() -> None:
    complete = read_lenient('{"a": "b"')
    cut = read_lenient('{"a": "b')
    assert complete is not None and complete.truncation is Truncation.STRUCTURAL
    assert cut is not None and cut.truncation is Truncation.CONTENT
    assert read_lenient("[" * 1000) is None


@pytest.mark.parametrize(
    "text",
    [
        f"```xml\n<tool_call>\n{J}\n</tool_call>\n```",
        '```xml\n<function_calls>\n<invoke name="read_file">\n<parameter name="path">a.py'
        "</parameter>\n</invoke>\n</function_calls>\n```",
    ],
)
def test_tags_inside_a_fence_are_read(text: str) -> None:
    assert calls(text) == [READ]
