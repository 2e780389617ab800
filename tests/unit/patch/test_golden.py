"""Golden edit cases: tests/golden/<format>/<case>/ holds before.py, output.txt and after.py
(the expected result) or refused.txt (a substring of the expected refusal reason)."""

from __future__ import annotations

from pathlib import Path

import pytest

from smallcode_ls.patch import apply_model_output

GOLDEN = Path(__file__).resolve().parents[2] / "golden"
CASES = sorted(path for path in GOLDEN.glob("*/*") if (path / "output.txt").is_file())


def _read(path: Path) -> str:
    with path.open(encoding="utf-8", newline="") as handle:
        return handle.read()


def test_there_are_golden_cases_for_every_format() -> None:
    formats = {case.parent.name for case in CASES}
    assert {"search-replace", "unified-diff", "whole-file", "whole-symbol"} <= formats
    assert len(CASES) >= 20


@pytest.mark.parametrize("case", CASES, ids=lambda case: f"{case.parent.name}/{case.name}")
def test_golden_case_gives_the_expected_text_or_refusal(case: Path) -> None:
    result = apply_model_output(
        _read(case / "before.py"), _read(case / "output.txt"), "inventory.py"
    )
    if (case / "after.py").is_file():
        assert not result.refused, result.reason
        assert result.new_text == _read(case / "after.py")
        assert result.format == case.parent.name or case.parent.name == "unknown"
    else:
        expected = _read(case / "refused.txt").strip()
        assert result.refused
        assert result.new_text is None
        assert expected in result.reason
