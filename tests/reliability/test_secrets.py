"""T10 (unit level): secrets are scrubbed from prompts, put back into answers, kept from logs."""

from __future__ import annotations

import json
import logging

import pytest

from smallcode_ls.llm.client import ChatClient
from smallcode_ls.llm.endpoints import Endpoint, EndpointKind
from smallcode_ls.llm.types import ChatMessage, ChatRequest
from smallcode_ls.lsp import sanitize
from smallcode_ls.lsp.sanitize import LogBudget
from smallcode_ls.security.secrets import (
    REDACTED,
    Redactor,
    restore,
    secret_values_from_env,
)
from tests.support.scripted_llm import ScriptedLLM, stream_reply

AWS = "AKIA" + "QWERTYUIOPASDFGH"
GITHUB = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
PRIVATE = "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----"


@pytest.mark.parametrize(
    "text",
    [f"key = '{AWS}'", f"token: {GITHUB}", PRIVATE, 'DB_PASSWORD = "hunter2hunter2"',
     "api_key='sk-proj-abcdefghijklmnopqrstuvwxyz012345'"],
)  # fmt: skip
def test_secret_looking_text_is_redacted(text: str) -> None:
    cleaned = Redactor()(text)
    assert REDACTED in cleaned
    for secret in (AWS, GITHUB, "MIIEow", "hunter2hunter2", "abcdefghijklmnop"):
        assert secret not in cleaned


def test_ordinary_code_is_left_alone() -> None:
    code = "def token_count(text: str) -> int:\n    password_field = form['password']\n"
    assert Redactor()(code) == code


def test_known_values_from_the_environment_are_redacted() -> None:
    env = {"SMALLCODE_API_KEY": "canary-key-0001", "HOME": "/root", "GH_TOKEN": "canary-tok-2"}
    values = secret_values_from_env(env, ["SMALLCODE_API_KEY"])
    assert set(values) == {"canary-key-0001", "canary-tok-2"}
    assert "canary" not in Redactor(values)("use canary-key-0001 and canary-tok-2")


def test_placeholders_round_trip() -> None:
    table: dict[str, str] = {}
    text = f"A = '{AWS}'\nB = '{AWS}'\nC = '{GITHUB}'\n"
    scrubbed = Redactor().scrub(text, table)
    assert AWS not in scrubbed and GITHUB not in scrubbed and len(table) == 2
    assert restore(scrubbed, table) == text


async def test_the_model_never_sees_a_secret_and_the_answer_keeps_it() -> None:
    source = f'def creds():\n    return {{"id": "{AWS}"}}  # TODO: add the region\n'
    async with ScriptedLLM() as llm:
        llm.enqueue(
            stream_reply(['def creds():\n    return {"id": "[REDACTED-SECRET-1]", "r": "eu"}\n'])
        )
        client = ChatClient(
            Endpoint(llm.base_url, "m", EndpointKind.LLAMA_CPP, api_key_env="MY_KEY"),
            env={"MY_KEY": "canary-api-key-123"},
        )
        try:
            response = await client.chat(
                ChatRequest(
                    messages=(
                        ChatMessage("user", source),
                        ChatMessage("user", "and canary-api-key-123"),
                    )
                )
            )
        finally:
            await client.aclose()
    body = json.dumps(llm.requests[0].body)
    assert AWS not in body and "canary-api-key-123" not in body
    assert f'"id": "{AWS}"' in response.text  # put back before it can become an edit


def test_log_records_are_scrubbed(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("smallcode-test-secrets")
    scrub = LogBudget(sanitize.Redactor({"SMALLCODE_API_KEY": "canary-log-secret"}))
    logger.addFilter(scrub)
    try:
        with caplog.at_level(logging.INFO, logger=logger.name):
            logger.info("calling with key %s and %s", "canary-log-secret", AWS)
            try:
                raise ValueError("bad key canary-log-secret")
            except ValueError:
                logger.exception("failed")
    finally:
        logger.removeFilter(scrub)
    text = caplog.text
    assert "canary-log-secret" not in text and AWS not in text
