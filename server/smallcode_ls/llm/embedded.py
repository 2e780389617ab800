"""The embedded default model: llama.cpp's OpenAI-compatible server, in-process, on loopback.

``EmbeddedModel.ensure_started()`` assembles the GGUF on first use (see ``model_files``),
starts ``xllamacpp.Server`` on ``127.0.0.1`` at a free port, and returns its ``/v1`` base
URL; later calls return the same URL at once. Everything it needs comes from the optional
``embedded`` extra, imported lazily, so the package works without it.
License notice for the weights: ``NOTICE-Qwen2.5-Coder.txt`` next to this module.

Stopping: ``xllamacpp.Server`` has no stop method; dropping the last reference runs its
C++ destructor, which terminates the inference loop, stops the HTTP listener and joins
their threads (about 0.1 s). ``close()`` does exactly that. At interpreter exit the
object is destroyed the same way, and if the process is killed the OS reclaims the
socket and memory, so nothing outlives the process.
"""

from __future__ import annotations

import asyncio
import enum
import importlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from smallcode_ls.llm.model_files import (
    EmbeddedModelUnavailable,
    ensure_model_file,
    models_dir,
)

__all__ = [
    "DEFAULT_ALIAS",
    "EmbeddedModel",
    "EmbeddedModelUnavailable",
    "EmbeddedState",
    "EmbeddedStatus",
    "ensure_model_file",
    "models_dir",
]

DEFAULT_ALIAS = "qwen2.5-coder-1.5b-instruct"
_HOST = "127.0.0.1"
# llama-server keeps finished prompts' KV state in RAM for reuse; its default cap is 8 GiB.
_PROMPT_CACHE_MIB = 1024


class EmbeddedState(enum.Enum):
    """Where the embedded model is in its life."""

    NOT_INSTALLED = "not_installed"
    STOPPED = "stopped"
    STARTING = "starting"
    READY = "ready"
    FAILED = "failed"


@dataclass(frozen=True)
class EmbeddedStatus:
    """A snapshot of the embedded model, for status displays and logs."""

    state: EmbeddedState
    base_url: str | None
    model_path: Path | None
    alias: str
    threads: int
    context_size: int
    message: str


@dataclass
class _Running:
    server: Any  # xllamacpp.Server (imported lazily, untyped); None once stopped
    base_url: str
    model_path: Path


class EmbeddedModel:
    """A lazily started, then warm, in-process llama.cpp server for the bundled model."""

    def __init__(
        self, *, threads: int = 2, context_size: int = 8192, directory: Path | None = None
    ) -> None:
        if threads < 1:
            raise ValueError("threads must be at least 1")
        if context_size < 256:
            raise ValueError("context_size must be at least 256")
        self._threads = threads
        self._context_size = context_size
        self._directory = directory
        self._running: _Running | None = None
        self._start_task: asyncio.Task[_Running] | None = None
        self._lock = asyncio.Lock()
        self._generation = 0
        self._state = EmbeddedState.STOPPED
        self._message = ""
        self._starts = 0

    @property
    def starts(self) -> int:
        """How many servers this object has started (1 once warm, whatever the callers)."""
        return self._starts

    async def ensure_started(self) -> str:
        """Start the server if needed and return its OpenAI base URL (``http://…/v1``).

        The first call assembles the model file if needed and loads it (seconds), off the
        event loop; concurrent callers share that one start, and a caller that is
        cancelled does not abort it. Raises ``EmbeddedModelUnavailable`` with a fix.
        """
        running = self._running
        if running is not None:
            return running.base_url
        async with self._lock:
            if self._running is not None:
                return self._running.base_url
            if self._start_task is None or self._start_task.done():
                self._start_task = asyncio.ensure_future(self._start())
                self._start_task.add_done_callback(_retrieve)
            running = await asyncio.shield(self._start_task)
            return running.base_url

    def status(self) -> EmbeddedStatus:
        """The current state, URL and settings."""
        running = self._running
        state, message = self._state, self._message
        if state is EmbeddedState.STOPPED and not _engine_installed():
            state = EmbeddedState.NOT_INSTALLED
            message = str(EmbeddedModelUnavailable.not_installed("xllamacpp"))
        return EmbeddedStatus(
            state=state,
            base_url=running.base_url if running else None,
            model_path=running.model_path if running else None,
            alias=DEFAULT_ALIAS,
            threads=self._threads,
            context_size=self._context_size,
            message=message,
        )

    def close(self) -> None:
        """Stop the server (blocks ~0.1 s while its threads exit); a later call restarts it.

        A start still in flight is not interrupted; its server is stopped as it arrives.
        """
        self._generation += 1
        running, self._running = self._running, None
        if self._state is not EmbeddedState.STARTING:
            self._state, self._message = EmbeddedState.STOPPED, ""
        if running is not None:
            _stop(running)

    async def aclose(self) -> None:
        """``close()`` without blocking the event loop."""
        self._generation += 1
        running, self._running = self._running, None
        if self._state is not EmbeddedState.STARTING:
            self._state, self._message = EmbeddedState.STOPPED, ""
        if running is not None:
            await asyncio.to_thread(_stop, running)

    async def _start(self) -> _Running:
        generation = self._generation
        self._state, self._message = EmbeddedState.STARTING, "Loading the embedded model…"
        try:
            running = await asyncio.to_thread(self._start_blocking)
        except EmbeddedModelUnavailable as error:
            missing = isinstance(error.__cause__, ImportError)
            self._state = EmbeddedState.NOT_INSTALLED if missing else EmbeddedState.FAILED
            self._message = str(error)
            raise
        except Exception as error:
            self._state = EmbeddedState.FAILED
            self._message = f"The embedded model failed to start: {error}"
            raise EmbeddedModelUnavailable(
                f"{self._message}. Try fewer threads or a smaller context, or set "
                "smallcode.model.baseUrl to an Ollama, LM Studio or llama.cpp endpoint."
            ) from error
        if generation != self._generation:  # closed while starting
            await asyncio.to_thread(_stop, running)
            self._state, self._message = EmbeddedState.STOPPED, ""
            raise EmbeddedModelUnavailable("The embedded model was closed while it was starting.")
        self._running = running
        self._starts += 1
        self._state = EmbeddedState.READY
        self._message = f"Serving {DEFAULT_ALIAS} at {running.base_url}"
        return running

    def _start_blocking(self) -> _Running:
        try:
            xllamacpp = importlib.import_module("xllamacpp")
        except ImportError as error:
            raise EmbeddedModelUnavailable.not_installed("xllamacpp") from error
        model_path = ensure_model_file(self._directory or models_dir())
        params = xllamacpp.CommonParams()
        params.model.path = str(model_path)
        params.model_alias = {DEFAULT_ALIAS}  # a set, in xllamacpp
        params.hostnames = [_HOST]
        params.port = 0  # the OS picks a free port; listening_address reports it
        params.n_ctx = self._context_size
        params.n_parallel = 1
        params.cpuparams.n_threads = self._threads
        params.cpuparams_batch.n_threads = self._threads
        params.use_jinja = True  # the GGUF's own chat template
        params.ui = False
        params.offline = True
        params.cache_ram_mib = _PROMPT_CACHE_MIB
        params.verbosity = 0  # llama.cpp logs go to stderr (never stdout); keep them quiet
        server = xllamacpp.Server(params)
        address = str(server.listening_address).rstrip("/")
        if not address.startswith("http://") or address.endswith(":0"):
            del server
            raise RuntimeError(f"unexpected listening address {address!r}")
        return _Running(server=server, base_url=f"{address}/v1", model_path=model_path)


def _engine_installed() -> bool:
    """Whether ``xllamacpp`` can be imported, without importing it."""
    try:
        return importlib.util.find_spec("xllamacpp") is not None
    except (ImportError, ValueError):  # a broken or stubbed module counts as present
        return True


def _retrieve(task: asyncio.Task[_Running]) -> None:
    """Mark a start's failure as seen even if every caller was cancelled."""
    if not task.cancelled():
        task.exception()


def _stop(running: _Running) -> None:
    """Drop the last reference to the server: its destructor stops and joins it."""
    running.server = None
