"""Endpoint profiles: what differs between Ollama, LM Studio, llama.cpp, vLLM and hosted APIs."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

__all__ = ["Endpoint", "EndpointKind", "detect_kind", "origin"]


class EndpointKind(StrEnum):
    """Known OpenAI-compatible servers."""

    OLLAMA = "ollama"
    LM_STUDIO = "lmstudio"
    LLAMA_CPP = "llamacpp"
    VLLM = "vllm"
    HOSTED = "hosted"
    EMBEDDED = "embedded"


_DEFAULT_PORTS = {
    11434: EndpointKind.OLLAMA,
    1234: EndpointKind.LM_STUDIO,
    8080: EndpointKind.LLAMA_CPP,
    8000: EndpointKind.VLLM,
}
_LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


def origin(url: str) -> str:
    """``scheme://host:port`` of a URL (what an API key is bound to)."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.scheme}://{parts.hostname}:{port}"


def detect_kind(base_url: str) -> EndpointKind:
    """Guess the server kind from its URL (port defaults); remote hosts are 'hosted'."""
    parts = urlsplit(base_url)
    if parts.port in _DEFAULT_PORTS:
        return _DEFAULT_PORTS[parts.port]
    if parts.hostname in _LOOPBACK:
        return EndpointKind.LLAMA_CPP
    return EndpointKind.HOSTED


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where and how to reach a model. The API key is looked up, never stored in settings."""

    base_url: str
    model: str
    kind: EndpointKind
    context_window: int = 8192
    api_key_env: str = "SMALLCODE_API_KEY"

    @property
    def chat_url(self) -> str:
        """The chat completions URL."""
        return self.base_url.rstrip("/") + "/chat/completions"

    @property
    def models_url(self) -> str:
        """The model list URL."""
        return self.base_url.rstrip("/") + "/models"

    @property
    def tokenize_url(self) -> str | None:
        """llama.cpp's ``/tokenize`` (at the server root), for exact token counts."""
        if self.kind in (EndpointKind.LLAMA_CPP, EndpointKind.EMBEDDED):
            return origin(self.base_url) + "/tokenize"
        return None

    def api_key(self, env: Mapping[str, str] | None = None) -> str | None:
        """The key from the named environment variable, if set."""
        source = os.environ if env is None else env
        return source.get(self.api_key_env) or None

    def body_options(self) -> dict[str, Any]:
        """Extra request fields this kind of server needs."""
        if self.kind is EndpointKind.OLLAMA:
            # Ollama silently truncates prompts to its default window unless told otherwise.
            return {"options": {"num_ctx": self.context_window}}
        if self.kind in (EndpointKind.LLAMA_CPP, EndpointKind.EMBEDDED):
            return {"cache_prompt": True}
        return {}

    @property
    def prompt_is_slow(self) -> bool:
        """Local servers process prompts at tens of tokens/s: scale first-token timeouts."""
        return self.kind is not EndpointKind.HOSTED
