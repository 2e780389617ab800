"""A VS Code-like ClientCapabilities object (plain JSON, trimmed to what matters)."""

from __future__ import annotations

from typing import Any

SYMBOL_KINDS = list(range(1, 27))


def _text_document() -> dict[str, Any]:
    return {
        "synchronization": {
            "dynamicRegistration": True,
            "willSave": True,
            "willSaveWaitUntil": True,
            "didSave": True,
        },
        "documentSymbol": {
            "dynamicRegistration": True,
            "symbolKind": {"valueSet": SYMBOL_KINDS},
            "hierarchicalDocumentSymbolSupport": True,
            "tagSupport": {"valueSet": [1]},
            "labelSupport": True,
        },
        "definition": {"dynamicRegistration": True, "linkSupport": True},
        "declaration": {"dynamicRegistration": True, "linkSupport": True},
        "references": {"dynamicRegistration": True},
        "hover": {"dynamicRegistration": True, "contentFormat": ["markdown", "plaintext"]},
        "completion": {
            "dynamicRegistration": True,
            "contextSupport": True,
            "completionItem": {
                "snippetSupport": True,
                "documentationFormat": ["markdown", "plaintext"],
            },
        },
        "publishDiagnostics": {
            "relatedInformation": True,
            "versionSupport": False,
            "tagSupport": {"valueSet": [1, 2]},
        },
    }


def _workspace() -> dict[str, Any]:
    return {
        "applyEdit": True,
        "workspaceEdit": {"documentChanges": True},
        "didChangeConfiguration": {"dynamicRegistration": True},
        "didChangeWatchedFiles": {"dynamicRegistration": True, "relativePatternSupport": True},
        "symbol": {
            "dynamicRegistration": True,
            "symbolKind": {"valueSet": SYMBOL_KINDS},
            "tagSupport": {"valueSet": [1]},
            "resolveSupport": {"properties": ["location.range"]},
        },
        "executeCommand": {"dynamicRegistration": True},
        "configuration": True,
        "workspaceFolders": True,
    }


def client_capabilities() -> dict[str, Any]:
    """Capabilities sent in ``initialize`` to every server."""
    return {
        "workspace": _workspace(),
        "textDocument": _text_document(),
        "window": {"workDoneProgress": True, "showMessage": {}, "showDocument": {"support": True}},
        "general": {"positionEncodings": ["utf-16"]},
    }
