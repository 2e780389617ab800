"""Headless use without an editor: ``smallcode-ls ask "..."`` talks to the configured model.

Uses the same settings (environment overrides) and the same model service as the
server, so it is also the quickest check that the embedded model works.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import TextIO

from smallcode_ls.errors import SmallCodeError
from smallcode_ls.llm.service import ModelService
from smallcode_ls.llm.types import ChatMessage, ChatRequest
from smallcode_ls.settings import parse_settings

__all__ = ["EXIT_FAILED", "EXIT_OK", "EXIT_TRUNCATED", "ask"]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_TRUNCATED = 3

_SYSTEM = "You are a concise coding assistant. Answer with code when code is asked for."


async def ask(
    prompt: str,
    env: Mapping[str, str],
    max_tokens: int | None = None,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    """Stream the model's answer to ``out``; report the model and any problem on ``err``."""
    result = parse_settings(None, env=env)
    for problem in result.problems:
        err.write(f"smallcode: invalid setting {problem}\n")
    settings = result.settings.model
    service = ModelService(settings, env)
    try:
        client = await service.client()
        status = service.status()
        err.write(f"smallcode: {status.model or '(default model)'} at {status.base_url}\n")
        request = ChatRequest(
            messages=(ChatMessage("system", _SYSTEM), ChatMessage("user", prompt)),
            max_tokens=max_tokens or settings.max_output_tokens,
        )

        def write(text: str) -> None:
            out.write(text)
            out.flush()

        response = await client.chat(request, on_text=write)
        out.write("\n")
        if not response.complete:
            err.write(
                f"smallcode: the answer is incomplete ({response.completion.value}); "
                "raise --max-tokens or model.maxOutputTokens\n"
            )
            return EXIT_TRUNCATED
        return EXIT_OK
    except SmallCodeError as exc:
        err.write(f"smallcode: {exc}\n")
        return EXIT_FAILED
    finally:
        await service.aclose()
