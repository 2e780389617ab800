"""Write (or --check) package.json's `smallcode` settings from the server's Settings model.

Run with the project's Python: `.venv/bin/python clients/vscode/scripts/sync_settings.py`.
Client-only keys (`smallcode.server.*`, `smallcode.trace.server`) are kept as written.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from annotated_types import Ge, Le
from pydantic.alias_generators import to_camel

from smallcode_ls import settings as server_settings
from smallcode_ls.settings import Settings

PACKAGE_JSON = Path(__file__).resolve().parents[1] / "package.json"
CLIENT_ONLY_PREFIXES = ("smallcode.server.", "smallcode.trace.")
# Settings that name endpoints, keys, commands or permissions: VS Code ignores their workspace
# values in untrusted workspaces (capabilities.untrustedWorkspaces.restrictedConfigurations).
# The server's own table wins; the name pattern covers a server without one.
SERVER_RESTRICTED: dict[str, tuple[str, ...]] | None = getattr(
    server_settings, "RESTRICTED_KEYS", None
)
# Sections the server honours only from user-level sources: VS Code scope "machine".
USER_LEVEL_SECTIONS: tuple[str, ...] = getattr(server_settings, "USER_LEVEL_SECTIONS", ())
RESTRICTED_NAME = re.compile(r"url|key|command|permission|allow|trust", re.IGNORECASE)
CLIENT_RESTRICTED = ("smallcode.server.path",)


def is_restricted(section: str, key: str) -> bool:
    """Whether an untrusted workspace may not set ``smallcode.<section>.<key>``."""
    if section in USER_LEVEL_SECTIONS:
        return True
    if SERVER_RESTRICTED is not None:
        return key in SERVER_RESTRICTED.get(section, ())
    return bool(RESTRICTED_NAME.search(key))
JSON_TYPES = {str: "string", int: "integer", bool: "boolean", float: "number"}


def server_properties() -> dict[str, dict[str, Any]]:
    """One VS Code setting per field of the server's Settings model, in model order."""
    properties: dict[str, dict[str, Any]] = {}
    for section_name, section_field in Settings.model_fields.items():
        section = section_field.annotation
        assert isinstance(section, type)
        for name, info in section.model_fields.items():  # type: ignore[attr-defined]
            key = f"smallcode.{to_camel(section_name)}.{to_camel(name)}"
            spec: dict[str, Any] = {
                "type": JSON_TYPES[info.annotation],
                "default": info.default,
                "description": info.description or "",
            }
            for meta in info.metadata:
                if isinstance(meta, Ge):
                    spec["minimum"] = meta.ge
                if isinstance(meta, Le):
                    spec["maximum"] = meta.le
            if to_camel(section_name) in USER_LEVEL_SECTIONS:
                spec["scope"] = "machine"
            properties[key] = spec
    return properties


def synced(package: dict[str, Any]) -> dict[str, Any]:
    """The package.json object with its server settings regenerated."""
    configuration = package["contributes"]["configuration"]
    old = configuration["properties"]
    client = {k: v for k, v in old.items() if k.startswith(CLIENT_ONLY_PREFIXES)}
    properties = {**server_properties(), **client}
    for order, spec in enumerate(properties.values()):
        spec["order"] = order
    configuration["properties"] = properties
    untrusted = package["capabilities"]["untrustedWorkspaces"]
    untrusted["restrictedConfigurations"] = [
        key
        for key in properties
        if key in CLIENT_RESTRICTED or is_restricted(*key.split(".")[1:3])
    ]
    return package


def render(package: dict[str, Any]) -> str:
    """package.json text as npm writes it (2 spaces, trailing newline)."""
    return json.dumps(package, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    """Rewrite package.json, or with --check exit 1 when it differs."""
    text = PACKAGE_JSON.read_text(encoding="utf-8")
    expected = render(synced(json.loads(text)))
    if "--check" in argv:
        if text != expected:
            print(f"{PACKAGE_JSON} is out of date: run {Path(__file__).name}", file=sys.stderr)
            return 1
        return 0
    PACKAGE_JSON.write_text(expected, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
