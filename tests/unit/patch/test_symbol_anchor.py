"""A method name defined in two classes: the task's line says which one the answer means."""

from __future__ import annotations

from pathlib import Path

from smallcode_ls.patch import apply_model_output

CASE = Path(__file__).resolve().parents[2] / "golden" / "whole-symbol" / "ambiguous_method"
BEFORE = (CASE / "before.py").read_text()
ANSWER = (CASE / "output.txt").read_text()  # `def add` alone; Inventory and Archive define it


def _line_of(text: str, needle: str, after: int = 0) -> int:
    lines = text.splitlines()
    return next(i for i in range(after, len(lines)) if needle in lines[i])


def test_the_definition_holding_the_task_line_is_replaced() -> None:
    archive = _line_of(BEFORE, "class Archive")
    in_archive_add = _line_of(BEFORE, "raise ValueError", after=archive)
    result = apply_model_output(BEFORE, ANSWER, "inventory.py", in_archive_add)
    assert not result.refused, result.reason
    assert result.new_text is not None
    head, tail = result.new_text.split("class Archive")
    assert head == BEFORE.split("class Archive")[0]  # Inventory.add untouched
    assert "raise ValueError" not in tail and "self.items[item.name] = item" in tail


def test_the_other_class_when_the_line_is_there() -> None:
    in_inventory_add = _line_of(BEFORE, "raise ValueError")
    result = apply_model_output(BEFORE, ANSWER, "inventory.py", in_inventory_add)
    assert result.new_text is not None
    assert result.new_text.split("class Archive")[1] == BEFORE.split("class Archive")[1]
    assert result.new_text.count("raise ValueError") == 1


def test_a_line_outside_both_still_refuses() -> None:
    result = apply_model_output(BEFORE, ANSWER, "inventory.py", _line_of(BEFORE, "def load"))
    assert result.refused and "defined more than once" in result.reason
    assert apply_model_output(BEFORE, ANSWER, "inventory.py").refused
