"""``smallcode-ls run``: the agent without an editor, against a scripted model server."""

from __future__ import annotations

import asyncio
import io
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from smallcode_ls.headless import EXIT_FAILED, EXIT_OK, run
from tests.support.scripted_llm import ScriptedLLM, stream_reply

EXAMPLE = Path(__file__).parents[2] / "examples" / "shapes"
FIXED = (
    "```python\n"
    "def is_palindrome(text: str) -> bool:\n"
    '    """Return True if text reads the same both ways, ignoring case and non-letters."""\n'
    "    kept = [c.lower() for c in text if c.isalnum()]\n"
    "    return kept == kept[::-1]\n"
    "```"
)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    target = tmp_path / "shapes"
    shutil.copytree(EXAMPLE, target)
    (target / "pyproject.toml").write_text("[project]\nname = 'shapes'\n")
    return target


async def run_on(project: Path, llm: ScriptedLLM, *flags: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    env = {"SMALLCODE_BASE_URL": llm.base_url, "SMALLCODE_MODEL": "scripted"}
    code = await run(
        "", str(project / "shapes.py"), env, apply="--apply" in flags,
        as_json="--json" in flags, trust="--trust" in flags, out=out, err=err,
    )  # fmt: skip
    return code, out.getvalue(), err.getvalue()


async def test_run_implements_the_todo_and_prints_a_diff_without_writing(project: Path) -> None:
    before = (project / "shapes.py").read_text()
    async with ScriptedLLM() as llm:
        llm.enqueue(stream_reply([FIXED], usage={"prompt_tokens": 300, "completion_tokens": 60}))
        code, out, err = await run_on(project, llm)
    assert code == EXIT_OK
    assert out.startswith("--- a/shapes.py\n+++ b/shapes.py\n")
    assert (
        "-    raise NotImplementedError\n+    kept = [c.lower() for c in text if c.isalnum()]"
        in out
    )
    assert (project / "shapes.py").read_text() == before  # a preview only
    assert "300 prompt + 60 completion tokens" in err
    prompt = llm.requests[0].body["messages"][1]["content"]
    assert "Implement the TODO in `is_palindrome`" in prompt
    assert "def circle_area" in prompt  # the file is in the context


async def test_apply_writes_the_validated_edit(project: Path) -> None:
    async with ScriptedLLM() as llm:
        llm.enqueue(stream_reply([FIXED]))
        code, out, _ = await run_on(project, llm, "--apply", "--json")
    assert code == EXIT_OK and json.loads(out)["outcome"] == "applied"
    text = (project / "shapes.py").read_text()
    assert "NotImplementedError" not in text and "def circle_area" in text


async def test_a_syntax_error_is_fed_back_and_fixed_on_the_second_turn(project: Path) -> None:
    broken = FIXED.replace("return kept == kept[::-1]", "return kept == kept[::-1")
    async with ScriptedLLM() as llm:
        llm.enqueue(stream_reply([broken]), stream_reply([FIXED]))
        code, out, _ = await run_on(project, llm, "--json")
    result = json.loads(out)
    assert code == EXIT_OK and result["turns"] == 2
    assert result["attempts"][0].startswith("the result has a syntax error at line")
    feedback = llm.requests[1].body["messages"][-1]["content"]
    assert (
        "syntax error" in feedback and llm.requests[1].body["messages"][-2]["role"] == "assistant"
    )


async def test_garbage_three_times_ends_in_a_clear_failure_and_no_edit(project: Path) -> None:
    before = (project / "shapes.py").read_text()
    async with ScriptedLLM() as llm:
        for word in ("I cannot help.", "Sure! Here it is.", "As an AI model..."):
            llm.enqueue(stream_reply([word]))
        code, out, err = await run_on(project, llm, "--apply")
    assert code == EXIT_FAILED and out == ""
    assert "no usable edit after 3 turn(s)" in err
    assert (project / "shapes.py").read_text() == before
    assert len(llm.requests) == 3


async def test_a_truncated_answer_is_never_applied(project: Path) -> None:
    before = (project / "shapes.py").read_text()
    async with ScriptedLLM() as llm:
        for _ in range(3):
            llm.enqueue(stream_reply([FIXED], finish="length"))
        code, _, err = await run_on(project, llm, "--apply")
    assert code == EXIT_FAILED and "cut off" in err
    assert (project / "shapes.py").read_text() == before


async def test_an_undefined_name_is_caught_by_the_linter_and_fed_back(project: Path) -> None:
    sloppy = FIXED.replace("kept == kept[::-1]", "kept == reversed_list(kept)")
    async with ScriptedLLM() as llm:
        llm.enqueue(stream_reply([sloppy]), stream_reply([FIXED]))
        code, out, _ = await run_on(project, llm, "--json", "--trust")
    result = json.loads(out)
    assert code == EXIT_OK and result["turns"] == 2
    assert "F821 Undefined name `reversed_list`" in result["attempts"][0]
    assert "new lint errors" in llm.requests[1].body["messages"][-1]["content"]


async def test_an_untrusted_project_runs_no_linter_and_no_tests(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spawned: list[tuple[object, ...]] = []
    real = asyncio.create_subprocess_exec

    async def audit(*argv: object, **kwargs: object) -> object:
        spawned.append(argv)
        return await real(*argv, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(asyncio, "create_subprocess_exec", audit)
    sloppy = FIXED.replace("kept == kept[::-1]", "kept == reversed_list(kept)")
    async with ScriptedLLM() as llm:
        llm.enqueue(stream_reply([sloppy]))
        code, out, err = await run_on(project, llm, "--json")
    assert code == EXIT_OK and json.loads(out)["turns"] == 1  # only in-process checks
    assert "not trusted" in err
    assert spawned == []


async def test_after_two_failed_turns_the_escalation_endpoint_takes_over_and_is_named(
    project: Path,
) -> None:
    async with ScriptedLLM() as local, ScriptedLLM() as stronger:
        local.enqueue(stream_reply(["No idea."]), stream_reply(["Still no idea."]))
        stronger.enqueue(stream_reply([FIXED]))
        out, err = io.StringIO(), io.StringIO()
        env = {
            "SMALLCODE_BASE_URL": local.base_url, "SMALLCODE_MODEL": "tiny",
            "SMALLCODE_ESCALATION_BASE_URL": stronger.base_url, "SMALLCODE_ESCALATION_MODEL": "big",
        }  # fmt: skip
        code = await run("", str(project / "shapes.py"), env, as_json=True, out=out, err=err)
    result = json.loads(out.getvalue())
    assert code == EXIT_OK and result["turns"] == 3 and result["model"] == "big"
    assert len(local.requests) == 2 and len(stronger.requests) == 1
    assert stronger.requests[0].body["model"] == "big"


async def test_without_an_escalation_endpoint_nothing_leaves_the_configured_one(
    project: Path,
) -> None:
    async with ScriptedLLM() as llm:
        for word in ("a", "b", "c"):
            llm.enqueue(stream_reply([word]))
        code, _, _ = await run_on(project, llm)
    assert code == EXIT_FAILED and len(llm.requests) == 3


async def test_the_second_run_sees_notes_from_the_first_marked_untrusted_where_quoted(
    project: Path,
) -> None:
    async with ScriptedLLM() as llm:
        llm.enqueue(stream_reply(["no"]), stream_reply(["no!"]), stream_reply(["nope"]))
        await run_on(project, llm)
        llm.enqueue(stream_reply([FIXED]))
        code, _, _ = await run_on(project, llm)
    assert code == EXIT_OK
    prompt = llm.requests[-1].body["messages"][1]["content"]
    assert "## Notes from earlier tasks" in prompt
    assert "implementTodo in shapes.py failed after 3 turn(s)" in prompt
    assert "(untrusted, quotes the repository) task text in shapes.py" in prompt


async def test_a_wrong_implementation_fails_the_linked_tests_and_is_fixed_next_turn(
    project: Path,
) -> None:
    wrong = FIXED.replace("return kept == kept[::-1]", "return kept == kept")
    async with ScriptedLLM() as llm:
        llm.enqueue(stream_reply([wrong]), stream_reply([FIXED]))
        code, out, _ = await run_on(project, llm, "--json", "--trust")
    result = json.loads(out)
    assert code == EXIT_OK and result["turns"] == 2
    assert result["attempts"][0].startswith("these tests fail with your change:")
    assert "test_shapes.py::test_is_palindrome" in result["attempts"][0]
    feedback = llm.requests[1].body["messages"][-1]["content"]
    assert "assert not is_palindrome" in feedback or "AssertionError" in feedback
    assert not list(project.glob("**/__pycache__"))  # the tests ran in a copy


TESTS_ANSWER = (
    "```python\ndef test_circle_area_of_zero() -> None:\n    assert circle_area(0.0) == 0.0\n```"
)


async def test_write_tests_appends_passing_tests_to_the_existing_test_file(project: Path) -> None:
    before = (project / "test_shapes.py").read_text()
    async with ScriptedLLM() as llm:
        llm.enqueue(stream_reply([TESTS_ANSWER]))
        out, err = io.StringIO(), io.StringIO()
        env = {"SMALLCODE_BASE_URL": llm.base_url, "SMALLCODE_MODEL": "scripted"}
        code = await run("write tests", f"{project / 'shapes.py'}:7", env, apply=True,
                         out=out, err=err)  # fmt: skip
    assert code == EXIT_OK, err.getvalue()
    after = (project / "test_shapes.py").read_text()
    assert after.startswith(before.rstrip("\n")) and "def test_circle_area_of_zero" in after
    prompt = llm.requests[0].body["messages"][1]["content"]
    assert "Write pytest tests for `circle_area`" in prompt and "add new tests only" in prompt


async def test_write_tests_creates_a_test_file_and_refuses_failing_tests(tmp_path: Path) -> None:
    root = tmp_path / "calc"
    root.mkdir()
    (root / "pyproject.toml").write_text("[project]\nname = 'calc'\n")
    (root / "calc.py").write_text(
        'def double(x: int) -> int:\n    """Twice x."""\n    return 2 * x\n'
    )
    wrong = (
        "```python\nfrom calc import double\n\n\n"
        "def test_double() -> None:\n    assert double(2) == 5\n```"
    )
    right = wrong.replace("== 5", "== 4")
    async with ScriptedLLM() as llm:
        llm.enqueue(stream_reply([wrong]), stream_reply([right]))
        out, err = io.StringIO(), io.StringIO()
        env = {"SMALLCODE_BASE_URL": llm.base_url, "SMALLCODE_MODEL": "scripted"}
        code = await run("write tests for double", f"{root / 'calc.py'}:1", env, apply=True,
                         as_json=True, trust=True, out=out, err=err)  # fmt: skip
    result = json.loads(out.getvalue())
    assert code == EXIT_OK and result["turns"] == 2
    assert result["attempts"][0].startswith("these tests fail with your change")
    assert result["diff"].startswith("--- a/test_calc.py\n+++ b/test_calc.py")
    assert (root / "test_calc.py").read_text().endswith("assert double(2) == 4\n")


async def test_a_long_file_without_an_enclosing_function_is_edited_with_search_replace(
    tmp_path: Path,
) -> None:
    root = tmp_path / "big"
    root.mkdir()
    lines = [f"VALUE_{i} = {i}" for i in range(200)]
    (root / "consts.py").write_text("\n".join(lines) + "\n")
    answer = "```python\n<<<<<<< SEARCH\nVALUE_7 = 7\n=======\nVALUE_7 = 70\n>>>>>>> REPLACE\n```"
    async with ScriptedLLM() as llm:
        llm.enqueue(stream_reply([answer]))
        out, err = io.StringIO(), io.StringIO()
        env = {"SMALLCODE_BASE_URL": llm.base_url, "SMALLCODE_MODEL": "scripted"}
        code = await run("set VALUE_7 to 70", f"{root / 'consts.py'}:8", env, out=out, err=err)
    assert code == EXIT_OK, err.getvalue()
    assert "-VALUE_7 = 7\n+VALUE_7 = 70\n" in out.getvalue()
    assert "<<<<<<< SEARCH" in llm.requests[0].body["messages"][1]["content"]


async def test_a_multi_step_instruction_is_planned_and_each_step_validated(tmp_path: Path) -> None:
    root = tmp_path / "plan"
    root.mkdir()
    (root / "consts.py").write_text("\n".join(f"VALUE_{i} = {i}" for i in range(200)) + "\n")

    def block(name: str, old: str, new: str) -> str:
        return (
            f"```python\n<<<<<<< SEARCH\n{name} = {old}\n=======\n"
            f"{name} = {new}\n>>>>>>> REPLACE\n```"
        )

    instruction = "Two changes:\n1. set VALUE_7 to 70\n2. set VALUE_8 to 80"
    env_for = lambda llm: {"SMALLCODE_BASE_URL": llm.base_url, "SMALLCODE_MODEL": "m"}  # noqa: E731
    async with ScriptedLLM() as llm:
        llm.enqueue(
            stream_reply([block("VALUE_7", "7", "70")]), stream_reply([block("VALUE_8", "8", "80")])
        )
        out, err = io.StringIO(), io.StringIO()
        code = await run(
            instruction, str(root / "consts.py"), env_for(llm), as_json=True, out=out, err=err
        )
    result = json.loads(out.getvalue())
    assert code == EXIT_OK and result["turns"] == 2
    assert result["attempts"] == [
        "step 1/2: set VALUE_7 to 70: ok",
        "step 2/2: set VALUE_8 to 80: ok",
    ]
    assert "+VALUE_7 = 70" in result["diff"] and "+VALUE_8 = 80" in result["diff"]
    assert "set VALUE_8 to 80" in llm.requests[1].body["messages"][1]["content"]

    async with ScriptedLLM() as llm:  # a failing step: nothing at all is applied
        llm.enqueue(stream_reply([block("VALUE_7", "7", "70")]))
        for _ in range(3):
            llm.enqueue(stream_reply(["I give up."]))
        out, err = io.StringIO(), io.StringIO()
        code = await run(
            instruction, str(root / "consts.py"), env_for(llm), apply=True, out=out, err=err
        )
    assert code == EXIT_FAILED and "step 2/2: set VALUE_8 to 80 failed" in err.getvalue()
    assert "VALUE_7 = 7\n" in (root / "consts.py").read_text()


FORMATTING = '''"""Help text formatting."""


class Formatter:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.depth = 0

    def write(self, text: str) -> None:
        self.lines.append("  " * self.depth + text)

    def section(self, name: str, body: list[str]) -> None:
        """Write ``name:`` and then the body lines one level deeper."""
        # TODO: implement section
        raise NotImplementedError

    def render(self) -> str:
        return "\\n".join(self.lines)
'''
PUBLIC_API = """from fmt.formatting import Formatter


def help_page(name: str, options: list[str]) -> str:
    out = Formatter()
    out.section(name, options)
    return out.render()
"""
TEST_FORMATTING = """import pytest

from fmt import help_page


@pytest.mark.parametrize("options", [["--verbose-output-for-the-whole-run", "--quiet"]])
def test_the_help_page_puts_the_options_one_level_below_the_heading(options):
    expected = "Options:\\n  --verbose-output-for-the-whole-run\\n  --quiet"
    assert help_page("Options", options) == expected
"""
SECTION = (
    "```python\n"
    "class Formatter:\n"
    "    def section(self, name: str, body: list[str]) -> None:\n"
    '        """Write ``name:`` and then the body lines one level deeper."""\n'
    '        self.write(f"{name}:")\n'
    "        self.depth += 1\n"
    "        for line in body:\n"
    "            self.write(line)\n"
    "        self.depth -= 1\n"
    "```"
)


async def test_a_stub_replaced_by_a_wrong_method_fails_tests_found_by_file_name(
    tmp_path: Path,
) -> None:
    """Three B6 findings at once: the test file names only the public API (found by its
    name, test_formatting.py), the long test id's summary line is not cut to the same
    ``...`` before and after, and a class block holding one method keeps the others."""
    root = tmp_path / "fmt-project"
    (root / "fmt").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "pyproject.toml").write_text(
        "[project]\nname = 'fmt'\n[tool.pytest.ini_options]\npythonpath = ['.']\n"
    )
    (root / "fmt" / "formatting.py").write_text(FORMATTING)
    (root / "fmt" / "__init__.py").write_text(PUBLIC_API)
    (root / "tests" / "test_formatting.py").write_text(TEST_FORMATTING)
    wrong = SECTION.replace("        self.depth += 1\n", "")
    async with ScriptedLLM() as llm:
        llm.enqueue(stream_reply([wrong]), stream_reply([SECTION]))
        out, err = io.StringIO(), io.StringIO()
        env = {"SMALLCODE_BASE_URL": llm.base_url, "SMALLCODE_MODEL": "scripted"}
        code = await run("", f"{root / 'fmt' / 'formatting.py'}:15", env, apply=True,
                         as_json=True, trust=True, out=out, err=err)  # fmt: skip
    result = json.loads(out.getvalue())
    assert code == EXIT_OK and result["turns"] == 2, result
    assert result["attempts"][0].startswith("these tests fail with your change:")
    assert "AssertionError" in result["attempts"][0]
    text = (root / "fmt" / "formatting.py").read_text()
    assert "raise NotImplementedError" not in text and "self.depth += 1" in text
    for kept in ("def __init__", "def write", "def render", '"""Help text formatting."""'):
        assert kept in text


async def _run_in(root: Path, target: str, instruction: str, llm: ScriptedLLM) -> dict[str, Any]:
    out, err = io.StringIO(), io.StringIO()
    env = {"SMALLCODE_BASE_URL": llm.base_url, "SMALLCODE_MODEL": "scripted"}
    code = await run(instruction, str(root / target), env, apply=True, as_json=True, trust=True,
                     out=out, err=err)  # fmt: skip
    result: dict[str, Any] = json.loads(out.getvalue())
    result["exit"] = code
    return result


def _calc(tmp_path: Path, source: str) -> Path:
    root = tmp_path / "calc"
    root.mkdir()
    (root / "pyproject.toml").write_text("[project]\nname = 'calc'\n")
    (root / "calc.py").write_text(source)
    (root / "test_calc.py").write_text(
        "from calc import double\n\n\ndef test_double() -> None:\n    assert double(2) == 4\n"
    )
    return root


async def test_a_fix_must_make_the_tests_the_task_names_pass(tmp_path: Path) -> None:
    """A test that failed before and fails the same way after is no longer "not new" when
    the task itself says it fails: the fix has to make it pass."""
    root = _calc(tmp_path, "def double(x: int) -> int:\n    return x + x + 1\n")
    same_failure = "```python\ndef double(x: int) -> int:\n    y = x + x\n    return y + 1\n```"
    fixed = "```python\ndef double(x: int) -> int:\n    return 2 * x\n```"
    task = ("Fix the bug in `double` so that the failing tests pass. pytest output:\n"
            "FAILED test_calc.py::test_double - assert 5 == 4")  # fmt: skip
    async with ScriptedLLM() as llm:
        llm.enqueue(stream_reply([same_failure]), stream_reply([fixed]))
        result = await _run_in(root, "calc.py:1", task, llm)
    assert result["exit"] == EXIT_OK and result["turns"] == 2, result
    assert result["attempts"][0].startswith("the failing tests of the task still fail")
    assert "test_calc.py::test_double" in result["attempts"][0]
    assert (root / "calc.py").read_text().endswith("return 2 * x\n")


async def test_an_implement_todo_edit_elsewhere_is_refused(tmp_path: Path) -> None:
    source = (
        "def helper(x: int) -> int:\n    return x\n\n\n"
        "def double(x: int) -> int:\n    # TODO: implement double\n    raise NotImplementedError\n"
    )
    root = _calc(tmp_path, source)
    elsewhere = "```python\ndef helper(x: int) -> int:\n    return 2 * x\n```"
    right = "```python\ndef double(x: int) -> int:\n    return 2 * x\n```"
    async with ScriptedLLM() as llm:
        llm.enqueue(stream_reply([elsewhere]), stream_reply([right]))
        result = await _run_in(root, "calc.py:6", "", llm)
    assert result["exit"] == EXIT_OK and result["turns"] == 2, result
    assert result["attempts"][0].startswith("the edit does not change `double`")
    text = (root / "calc.py").read_text()
    assert "return x\n" in text and "NotImplementedError" not in text


async def test_a_linked_test_file_that_cannot_import_does_not_hide_the_others(
    tmp_path: Path,
) -> None:
    """pytest stops the whole run at a collection error unless told to go on: a test file
    needing a missing package (itsdangerous' freezegun) once let a breaking edit through."""
    root = _calc(tmp_path, "def double(x: int) -> int:\n    return 2 * x\n")
    (root / "test_calc_timing.py").write_text(
        "import freezegun_is_not_installed\n\nfrom calc import double\n\n\n"
        "def test_double_later() -> None:\n    assert double(1) == 2\n"
    )
    breaking = '```python\ndef double(x: int) -> int:\n    """Twice x."""\n    return x + 1\n```'
    right = '```python\ndef double(x: int) -> int:\n    """Twice x."""\n    return 2 * x\n```'
    async with ScriptedLLM() as llm:
        llm.enqueue(stream_reply([breaking]), stream_reply([right]))
        result = await _run_in(root, "calc.py:1", "add a docstring to double", llm)
    assert result["exit"] == EXIT_OK and result["turns"] == 2, result
    assert result["attempts"][0].startswith("these tests fail with your change")
    assert "test_calc.py::test_double" in result["attempts"][0]
