"""G6: what an error may show the client, and what a bad message may cost in the log."""

from __future__ import annotations

import io
import logging

import pytest
from pygls.exceptions import JsonRpcInvalidParams

from smallcode_ls.errors import InvalidRequest
from smallcode_ls.lsp.errors import handle_errors, to_jsonrpc_error
from smallcode_ls.lsp.sanitize import LogBudget, Redactor, public_error

KEY = "sk-live-abcdefghijklmnop"


def test_the_redactor_masks_the_servers_secrets_and_key_shaped_tokens() -> None:
    redact = Redactor(
        {
            "SMALLCODE_API_KEY": "hunter2-very-secret",
            "HOME": "/root",
            "KEYBOARD_LAYOUT": "us-international",  # not a secret
            "SSH_AUTH_SOCK": "/tmp/ssh-agent.sock",
        }
    )
    assert redact.values == ["hunter2-very-secret"]
    text = redact(f"key hunter2-very-secret, {KEY}, Bearer abcdefgh.ijk, home /root")
    assert text == "key ***, ***, ***, home /root"
    code = "sk_learn_model_path = load()  # hunter2-very-secret"
    assert redact(code, shapes=False) == "sk_learn_model_path = load()  # ***"  # edits keep code


async def test_an_unexpected_exception_becomes_a_generic_error_with_a_reference() -> None:
    @handle_errors
    async def handler() -> None:
        raise ValueError(f"token {KEY} in /home/alice/.env")

    with pytest.raises(Exception) as raised:
        await handler()
    error = public_error(raised.value, Redactor())
    assert error.code == -32803
    assert error.message.startswith("request failed (ref ") and error.data is None
    assert KEY not in error.message and "alice" not in error.message

    plain = public_error(RuntimeError(KEY), Redactor())
    assert plain.code == -32603 and KEY not in plain.message


def test_deliberate_messages_pass_with_secrets_masked() -> None:
    error = public_error(to_jsonrpc_error(InvalidRequest(f"bad uri (key {KEY})")), Redactor())
    assert error.code == -32602 and error.message == "bad uri (key ***)"
    assert public_error(JsonRpcInvalidParams("line: must be >= 0"), Redactor()).message == (
        "line: must be >= 0"
    )


def _traceback_record(name: str, level: int = logging.ERROR) -> logging.LogRecord:
    try:
        raise RuntimeError(f"deserialization failed for {'x' * 6000} {KEY}")
    except RuntimeError:
        import sys

        return logging.LogRecord(name, level, __file__, 1, "Unable to deserialize %s", ("msg",),
                                 sys.exc_info())  # fmt: skip


def _emit(records: list[logging.LogRecord], redact: Redactor | None = None) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(LogBudget(redact))
    for record in records:
        handler.handle(record)
    return stream.getvalue()


def test_input_driven_records_cost_under_1_kib_each_and_are_rate_limited() -> None:
    records = [_traceback_record("pygls.protocol.json_rpc") for _ in range(1000)]
    out = _emit(records)
    lines = out.splitlines()
    assert max(len(line) for line in lines) < 1024  # no 6 KB tracebacks
    assert len(out) <= 1000 * 1024 and len(lines) < 100  # most were dropped (burst 50)
    assert "Traceback" not in out and KEY not in out


def test_other_records_keep_their_traceback_with_secrets_masked() -> None:
    out = _emit([_traceback_record("smallcode_ls.internal")], Redactor({"API_KEY": KEY}))
    assert "Traceback" in out and "RuntimeError" in out
    assert KEY not in out and "***" in out
