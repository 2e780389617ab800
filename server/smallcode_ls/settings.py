"""The ``smallcode`` settings section: one pydantic model, never a crash on bad input.

Sources, later wins: defaults < initializationOptions < workspace/configuration
< environment overrides (``SMALLCODE_BASE_URL``, ``SMALLCODE_MODEL``,
``SMALLCODE_API_KEY``). An invalid key is reported by name and replaced by its
default; the rest of the section still applies.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

__all__ = [
    "ContextSettings",
    "EscalationSettings",
    "IndexSettings",
    "ModelSettings",
    "RESTRICTED_KEYS",
    "SecuritySettings",
    "Settings",
    "SettingsResult",
    "parse_settings",
    "render_reference",
    "workspace_layer",
]


class _Section(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True
    )


class ModelSettings(_Section):
    """Which model endpoint to use; an empty ``baseUrl`` means the embedded model."""

    base_url: str = Field(
        default="", description="OpenAI-compatible endpoint; empty = the embedded model"
    )
    name: str = Field(default="", description="model name sent to the endpoint")
    api_key_env: str = Field(
        default="SMALLCODE_API_KEY", description="environment variable holding the API key"
    )
    context_window: int = Field(
        default=8192, ge=512, le=1_048_576, description="the model's context window, in tokens"
    )
    max_output_tokens: int = Field(
        default=1024, ge=16, le=65_536, description="cap on tokens generated per call"
    )
    threads: int = Field(
        default=2,
        ge=1,
        le=256,
        description="CPU threads of the embedded model (1 leaves a core free)",
    )


class EscalationSettings(_Section):
    """An optional stronger endpoint, used only after the local model keeps failing."""

    base_url: str = Field(
        default="", description="OpenAI-compatible endpoint; empty = never escalate"
    )
    model: str = Field(default="", description="model name at the escalation endpoint")
    api_key_env: str = Field(
        default="SMALLCODE_ESCALATION_API_KEY",
        description="environment variable holding the escalation endpoint's API key",
    )
    after_failures: int = Field(
        default=2, ge=1, le=10, description="failed local turns before escalating"
    )


class ContextSettings(_Section):
    """How much context the agent may put in front of the model."""

    budget_tokens: int = Field(
        default=4096, ge=256, le=1_048_576, description="tokens of context per model call"
    )


class IndexSettings(_Section):
    """The workspace code graph."""

    enabled: bool = Field(default=True, description="index the workspace on start")
    max_file_bytes: int = Field(
        default=1_000_000, ge=1_000, le=100_000_000, description="skip files larger than this"
    )
    workers: int = Field(
        default=0, ge=0, le=64, description="indexing processes; 0 = one per core, up to 4"
    )


class SecuritySettings(_Section):
    """Execution safety; honoured only from user-level sources, never from the workspace."""

    allow_unsandboxed: bool = Field(
        default=False,
        description="run validation without a sandbox where none can be built (user-level only)",
    )


class Settings(_Section):
    """The whole ``smallcode`` section."""

    model: ModelSettings = ModelSettings()
    escalation: EscalationSettings = EscalationSettings()
    context: ContextSettings = ContextSettings()
    index: IndexSettings = IndexSettings()
    security: SecuritySettings = SecuritySettings()


# Keys that name endpoints, keys, commands or permissions: a workspace-level source
# (workspace/configuration may carry .vscode/settings.json) may not set them before the
# workspace is trusted, and may never set the security section.
RESTRICTED_KEYS = {
    "model": ("baseUrl", "name", "apiKeyEnv"),
    "escalation": ("baseUrl", "model", "apiKeyEnv"),
}
USER_LEVEL_SECTIONS = ("security",)


def workspace_layer(layer: object, trusted: bool) -> tuple[object, tuple[str, ...]]:
    """A workspace-level settings layer without what it may not set; and what was dropped."""
    raw = _unwrap(layer) if isinstance(layer, Mapping) else layer
    if not isinstance(raw, dict):
        return layer, ()
    kept = {key: dict(value) if isinstance(value, Mapping) else value for key, value in raw.items()}
    dropped = []
    for section in USER_LEVEL_SECTIONS:
        if section in kept:
            del kept[section]
            dropped.append(f"smallcode.{section}")
    for section, keys in RESTRICTED_KEYS.items():
        values = kept.get(section)
        if trusted or not isinstance(values, dict):
            continue
        for key in keys:
            if key in values:
                del values[key]
                dropped.append(f"smallcode.{section}.{key}")
    return kept, tuple(dropped)


@dataclass(frozen=True, slots=True)
class SettingsResult:
    """Validated settings plus one message per rejected key."""

    settings: Settings
    problems: tuple[str, ...]


_ENV_OVERRIDES = {
    "SMALLCODE_BASE_URL": ("model", "baseUrl"),
    "SMALLCODE_MODEL": ("model", "name"),
    "SMALLCODE_ESCALATION_BASE_URL": ("escalation", "baseUrl"),
    "SMALLCODE_ESCALATION_MODEL": ("escalation", "model"),
}


def _merge(base: dict[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in update.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _drop(raw: dict[str, Any], loc: tuple[int | str, ...]) -> bool:
    node: Any = raw
    for part in loc[:-1]:
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    if isinstance(node, dict) and loc and loc[-1] in node:
        del node[loc[-1]]
        return True
    return False


def _unwrap(raw: object) -> dict[str, Any]:
    if raw is None:
        return {}
    if isinstance(raw, Mapping):
        inner = raw.get("smallcode", raw)
        return dict(inner) if isinstance(inner, Mapping) else {}
    return {}


def parse_settings(*layers: object, env: Mapping[str, str] | None = None) -> SettingsResult:
    """Merge settings layers (each either ``{"smallcode": {...}}`` or the section itself)."""
    problems: list[str] = []
    raw: dict[str, Any] = {}
    for layer in layers:
        if layer is not None and not isinstance(layer, Mapping):
            problems.append(f"smallcode: expected an object, got {type(layer).__name__}")
            continue
        raw = _merge(raw, _unwrap(layer))
    for variable, (section, key) in _ENV_OVERRIDES.items():
        if env and env.get(variable):
            raw = _merge(raw, {section: {key: env[variable]}})
    for _ in range(50):  # each round drops at least one bad key
        try:
            return SettingsResult(Settings.model_validate(raw), tuple(problems))
        except ValidationError as exc:
            dropped = False
            for error in exc.errors():
                loc = tuple(error["loc"])
                key = ".".join(str(part) for part in loc)
                if error["type"] == "extra_forbidden":
                    problems.append(f"smallcode.{key}: unknown setting (ignored)")
                else:
                    problems.append(f"smallcode.{key}: {error['msg']} (using the default)")
                dropped = _drop(raw, loc) or dropped
            if not dropped:
                break
    return SettingsResult(Settings(), tuple(problems))


def render_reference() -> str:
    """The settings reference in Markdown (``docs/settings.md`` is checked against it)."""
    lines = [
        "# Settings reference",
        "",
        "Generated from `server/smallcode_ls/settings.py` (a test fails when this file drifts).",
        "Section `smallcode`; keys are camelCase. Sources, later wins: defaults,",
        "`initializationOptions`, `workspace/configuration`, environment (`SMALLCODE_BASE_URL`,",
        "`SMALLCODE_MODEL`, `SMALLCODE_ESCALATION_BASE_URL`, `SMALLCODE_ESCALATION_MODEL`). An",
        "invalid key is reported by name and replaced by its default.",
        "",
        "| key | type | default | description |",
        "|---|---|---|---|",
    ]
    for section_name, section_field in Settings.model_fields.items():
        section = section_field.annotation
        assert isinstance(section, type) and issubclass(section, _Section)
        for name, info in section.model_fields.items():
            key = f"smallcode.{to_camel(section_name)}.{to_camel(name)}"
            kind = getattr(info.annotation, "__name__", str(info.annotation))
            lines.append(f"| `{key}` | {kind} | `{info.default!r}` | {info.description or ''} |")
    return "\n".join(lines) + "\n"
