"""The protocol ring: only lsp/ (and nothing else) imports pygls or lsprotocol."""

from __future__ import annotations

import re
from pathlib import Path

import smallcode_ls

PACKAGE = Path(smallcode_ls.__file__).parent
PROTOCOL_IMPORT = re.compile(r"^\s*(from|import)\s+(pygls|lsprotocol)\b", re.MULTILINE)


def test_only_the_lsp_package_imports_pygls_or_lsprotocol() -> None:
    offenders = [
        path.relative_to(PACKAGE).as_posix()
        for path in PACKAGE.rglob("*.py")
        if "lsp" not in path.relative_to(PACKAGE).parts[:1]
        and PROTOCOL_IMPORT.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
    assert PROTOCOL_IMPORT.search((PACKAGE / "lsp" / "server.py").read_text())  # the rule bites
