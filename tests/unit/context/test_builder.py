"""The context builder: right definitions, stable order, never over the budget."""

from __future__ import annotations

from pathlib import Path

import pytest

from smallcode_ls.context.builder import ContextBuilder, ContextRequest, SectionName
from smallcode_ls.context.modules import ModuleMap, bindings_of
from smallcode_ls.context.tokens import TokenEstimator
from smallcode_ls.graph.index import WorkspaceIndex
from smallcode_ls.navigation import read_disk_text
from tests.conftest import write_tree

FILES = {
    "app/__init__.py": "from app.core.shapes import Circle as Circle\n",
    "app/core/__init__.py": "",
    "app/core/shapes.py": (
        "class Circle:\n"
        '    """A round shape."""\n\n'
        "    def area(self) -> float:\n        return 3.14 * self.r ** 2\n\n"
        "    def grow(self, by: float) -> None:\n        self.r += by\n\n\n"
        "def unit_circle() -> Circle:\n"
        '    """The circle of radius one."""\n'
        "    return Circle()\n\n\n"
        "def unrelated_helper():\n    pass\n"
    ),
    "app/core/units.py": (
        'SCALE = 2.0\n\n\ndef to_metres(value):\n    """Convert to metres."""\n    return value\n'
    ),
    "app/report.py": (
        "from .core.shapes import Circle, unit_circle\n"
        "from app.core import units\n"
        "import app.core.shapes\n\n\n"
        "def total_area(circles: list[Circle]) -> float:\n"
        '    """Sum the areas, in square metres."""\n'
        "    ...\n\n\n"
        "def other():\n    return units.to_metres(1)\n"
    ),
    "tests/test_report.py": (
        "from app.report import total_area\n\n\ndef test_it():\n    assert total_area([]) == 0\n"
    ),
}


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    return write_tree(tmp_path / "ws", FILES).resolve()


@pytest.fixture
def builder(workspace: Path) -> ContextBuilder:
    index = WorkspaceIndex(workspace, workers=1)
    index.build()
    return ContextBuilder(index, TokenEstimator().estimate, read_disk_text)


def request_for(workspace: Path, budget: int, **kwargs: object) -> ContextRequest:
    path = workspace / "app/report.py"
    return ContextRequest(
        path=str(path),
        text=path.read_text(),
        line=6,
        budget_tokens=budget,
        **kwargs,  # type: ignore[arg-type]
    )


def test_module_names_relative_imports_and_reexports_resolve_to_files(workspace: Path) -> None:
    index = WorkspaceIndex(workspace, workers=1)
    index.build()
    modules = ModuleMap(index.all_files())
    report = str(workspace / "app/report.py")
    assert modules.by_path[report] == "app.report"
    assert modules.resolve("core.shapes", 1, report) == str(workspace / "app/core/shapes.py")
    assert modules.definition(str(workspace / "app/__init__.py"), "Circle") == (
        str(workspace / "app/core/shapes.py"),
        "Circle",
    )
    file = index.file_symbols(report)
    assert file is not None
    bound = {(b.local, Path(b.path).name, b.name) for b in bindings_of(modules, file)}
    assert bound == {
        ("Circle", "shapes.py", "Circle"),
        ("unit_circle", "shapes.py", "unit_circle"),
        ("units", "units.py", None),
        ("app", "__init__.py", None),
    }


def test_the_definitions_the_target_uses_come_first_with_signatures_and_docstrings(
    builder: ContextBuilder, workspace: Path
) -> None:
    pack = builder.build(request_for(workspace, 400, instruction="implement total_area"))
    names = [section.name for section in pack.sections]
    assert names == [
        SectionName.DEFINITIONS,
        SectionName.FILE,
        SectionName.CALLERS,
        SectionName.TASK,
    ]
    definitions = pack.sections[0]
    assert definitions.items[0] == "app/core/shapes.py:Circle"  # named in the signature
    assert '### app/core/shapes.py\nclass Circle:\n    """A round shape."""' in definitions.text
    assert "### app/core/units.py" not in definitions.text.split("### app/core/shapes.py")[0]
    assert "tests/test_report.py:5: assert total_area([]) == 0" in pack.sections[2].text
    assert pack.sections[-1].text == "## Task\nimplement total_area"


def test_module_attributes_used_in_the_file_are_resolved(
    builder: ContextBuilder, workspace: Path
) -> None:
    pack = builder.build(request_for(workspace, 1000))
    assert "app/core/units.py:to_metres" in pack.sections[0].items


@pytest.mark.parametrize("budget", [20, 60, 90, 150, 240, 400, 800, 5000])
def test_the_pack_never_exceeds_the_budget_and_records_what_it_dropped(
    builder: ContextBuilder, workspace: Path, budget: int
) -> None:
    pack = builder.build(request_for(workspace, budget, instruction="implement it " * 20))
    count = TokenEstimator().estimate
    assert count(pack.text) <= budget
    assert pack.used <= budget
    if budget < 150:
        assert pack.dropped


def test_the_same_inputs_render_the_same_text(builder: ContextBuilder, workspace: Path) -> None:
    first = builder.build(request_for(workspace, 300, instruction="x"))
    second = builder.build(request_for(workspace, 300, instruction="x"))
    assert first.text == second.text
    retry = builder.build(request_for(workspace, 300, instruction="x\nfeedback: tests failed"))
    stable = first.text.split("## Task")[0]
    assert retry.text.startswith(stable)  # only the tail changes: the prompt cache is reused


def test_an_unsaved_buffer_is_used_instead_of_the_disk_copy(
    builder: ContextBuilder, workspace: Path
) -> None:
    path = workspace / "app/report.py"
    text = (
        path.read_text().replace("circles: list[Circle]", "scale: float")
        + "\nSCALE_UNUSED = units.SCALE\n"
    )
    pack = builder.build(ContextRequest(path=str(path), text=text, line=6, budget_tokens=800))
    assert "app/core/units.py:SCALE" in pack.sections[0].items


def test_a_large_file_is_shown_as_an_outline_with_the_target_in_full(
    builder: ContextBuilder, workspace: Path
) -> None:
    path = workspace / "app/report.py"
    filler = "".join(
        f"\n\ndef helper_{i}(a, b):\n    x = a + b\n    return x * {i}\n" for i in range(60)
    )
    text = path.read_text() + filler
    pack = builder.build(ContextRequest(path=str(path), text=text, line=6, budget_tokens=1200))
    file_section = next(s for s in pack.sections if s.name is SectionName.FILE)
    assert file_section.items == ("outline",)
    assert "def helper_59(a, b):" in file_section.text and "x * 59" not in file_section.text
    assert '    """Sum the areas, in square metres."""' in file_section.text


def test_methods_of_base_classes_in_other_files_are_offered_and_the_budget_is_filled(
    tmp_path: Path,
) -> None:
    root = write_tree(
        tmp_path / "ns",
        {
            "lib/__init__.py": "",
            "lib/core/base.py": (  # lib/core has no __init__.py: a namespace folder
                "class Base:\n"
                "    def render(self) -> str:\n        return ''\n\n"
                "    def _helper(self) -> None:\n        pass\n"
            ),
            "lib/view.py": (
                "from .core.base import Base as CoreBase\n\n\n"
                "class View(CoreBase):\n"
                "    def show(self) -> str:\n"
                '        """Show it."""\n'
                "        ...\n"
            ),
        },
    ).resolve()
    index = WorkspaceIndex(root, workers=1)
    index.build()
    builder = ContextBuilder(index, TokenEstimator().estimate, read_disk_text)
    path = root / "lib/view.py"
    pack = builder.build(
        ContextRequest(
            path=str(path),
            text=path.read_text(),
            line=4,
            budget_tokens=2000,
            sections=(SectionName.DEFINITIONS,),
        )
    )
    text = pack.text
    assert "### lib/core/base.py\nclass Base:" in text
    assert "    def render(self) -> str:" in text and "    def _helper(self) -> None:" in text
    assert text.index("def render") < text.index("def _helper")  # public members first
