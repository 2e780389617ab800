"""The linter check: real errors block an edit, harmless findings do not."""

from __future__ import annotations

from pathlib import Path

import pytest

from smallcode_ls.agent.validate import lint_problem
from smallcode_ls.security.execution import Confirmation, Decision, ProcessGate
from smallcode_ls.security.sandbox import Sandbox, find_bwrap
from smallcode_ls.security.trust import TrustStore, WorkspaceTrust

BEFORE = "import os\n\n\ndef f() -> int:\n    raise NotImplementedError\n"

pytestmark = pytest.mark.skipif(
    not (find_bwrap() and Sandbox(find_bwrap() or "").works()),
    reason="bubblewrap cannot build a sandbox on this machine",
)


async def _allow(question: Confirmation) -> Decision:
    return Decision.ONCE


def _gate(tmp_path: Path) -> ProcessGate:
    trust = WorkspaceTrust(tmp_path, TrustStore(tmp_path / "trust.json"), trusted=True)
    return ProcessGate(trust, _allow)


async def test_an_undefined_name_blocks_the_edit(tmp_path: Path) -> None:
    after = BEFORE.replace("raise NotImplementedError", "return missing_name()")
    problem = await lint_problem(_gate(tmp_path), "m.py", BEFORE, after)
    assert problem is not None and "F821" in problem


async def test_repeated_or_unused_imports_and_variables_do_not(tmp_path: Path) -> None:
    after = BEFORE.replace(
        "    raise NotImplementedError\n",
        "    import os\n    import sys\n    unused = 1\n    return 1\n",
    )
    assert await lint_problem(_gate(tmp_path), "m.py", BEFORE, after) is None


async def test_without_a_gate_nothing_runs(tmp_path: Path) -> None:
    after = BEFORE.replace("raise NotImplementedError", "return missing_name()")
    assert await lint_problem(None, "m.py", BEFORE, after) is None
