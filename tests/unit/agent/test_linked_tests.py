"""Which test files the agent runs for a change: by file name, function, class, module."""

from __future__ import annotations

from pathlib import Path

from smallcode_ls.agent.testing import linked_tests
from smallcode_ls.graph.index import WorkspaceIndex


def _project(root: Path, files: dict[str, str]) -> WorkspaceIndex:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    (root / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    index = WorkspaceIndex(root, workers=1)
    index.build()
    return index


def test_the_ranking_is_file_name_then_function_then_class_then_module(tmp_path: Path) -> None:
    index = _project(
        tmp_path,
        {
            "pkg/formatting.py": "class Formatter:\n    def section(self): ...\n",
            "tests/test_a_module.py": "from pkg import formatting\n",
            "tests/test_b_class.py": "from pkg.x import Formatter\n",
            "tests/test_c_method.py": "def test_x(f):\n    f.section()\n",
            "tests/test_d_unrelated.py": "def test_y():\n    assert True\n",
            "tests/test_formatting.py": "from pkg import help_page\n",
        },
    )
    found = linked_tests(index, str(tmp_path / "pkg/formatting.py"), "Formatter.section")
    assert found is not None
    assert found.files == (
        "tests/test_formatting.py",
        "tests/test_c_method.py",
        "tests/test_b_class.py",
        "tests/test_a_module.py",
    )


def test_at_most_five_files_run_and_the_best_ranked_come_first(tmp_path: Path) -> None:
    files = {f"tests/test_{n}.py": "from pkg import formatting\n" for n in "abcdefg"}
    files["tests/test_z.py"] = "def test_z():\n    render()\n"
    files["pkg/formatting.py"] = "def render(): ...\n"
    index = _project(tmp_path, files)
    found = linked_tests(index, str(tmp_path / "pkg/formatting.py"), "render")
    assert found is not None and len(found.files) == 5
    assert found.files[0] == "tests/test_z.py"


def test_no_test_file_mentions_the_change_means_no_tests(tmp_path: Path) -> None:
    index = _project(
        tmp_path,
        {"pkg/util.py": "def helper(): ...\n", "tests/test_other.py": "def test_o(): ...\n"},
    )
    assert linked_tests(index, str(tmp_path / "pkg/util.py"), "helper") is None


def test_the_failing_tests_a_task_names_are_read_from_its_text(tmp_path: Path) -> None:
    from smallcode_ls.agent.testing import named_failures

    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_a.py").write_text("")
    (tmp_path.parent / "outside.py").write_text("")
    text = (
        "pytest output:\nFAILED tests/test_a.py::TestX::test_y[p-1] - AssertionError: ...\n"
        "ERROR tests/test_a.py::test_z\nFAILED tests/test_missing.py::test_q\n"
        f"FAILED ../{tmp_path.parent.name}/outside.py::test_o\nFAILED /etc/passwd.py::t\n"
    )
    assert named_failures(text, tmp_path) == {
        "tests/test_a.py::TestX::test_y[p-1]",
        "tests/test_a.py::test_z",
    }


def test_required_tests_add_their_files_once(tmp_path: Path) -> None:
    from smallcode_ls.agent.testing import LinkedTests

    linked = LinkedTests(tmp_path, ("tests/test_a.py",))
    both = linked.requiring({"tests/test_a.py::t1", "tests/test_b.py::t2"})
    assert both.files == ("tests/test_a.py", "tests/test_b.py")
    assert both.required == {"tests/test_a.py::t1", "tests/test_b.py::t2"}
