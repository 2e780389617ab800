"""Composition root: build the per-workspace services. No globals, no protocol types."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from smallcode_ls import __version__
from smallcode_ls.agent.loop import AgentLoop
from smallcode_ls.agent.memory import Memory, memory_path
from smallcode_ls.context.builder import ContextBuilder
from smallcode_ls.context.tokens import TokenEstimator
from smallcode_ls.context.view import GraphViews
from smallcode_ls.documents import DocumentStore
from smallcode_ls.graph.cache import SymbolCache, default_cache_dir
from smallcode_ls.graph.index import WorkspaceIndex
from smallcode_ls.graph.live import LiveGraph
from smallcode_ls.graph.python_semantics import JediResolver
from smallcode_ls.llm.service import ModelService
from smallcode_ls.navigation import read_disk_text
from smallcode_ls.positions import PositionEncoding
from smallcode_ls.security.execution import Confirm, ProcessGate, deny_all
from smallcode_ls.security.trust import TrustStore, WorkspaceTrust, default_store_path
from smallcode_ls.settings import Settings

__all__ = ["Session", "build_session"]


@dataclass(slots=True)
class Session:
    """Everything one client connection works with, built at ``initialize``."""

    root: Path | None
    settings: Settings
    documents: DocumentStore
    index: WorkspaceIndex
    live: LiveGraph
    resolver: JediResolver
    models: ModelService
    estimator: TokenEstimator
    views: GraphViews
    context: ContextBuilder
    trust: WorkspaceTrust
    gate: ProcessGate
    memory: Memory | None = None
    initialization_options: object = None
    endpoint_answers: dict[str, bool] = field(default_factory=dict)  # workspace endpoints
    closed: threading.Event = field(default_factory=threading.Event)
    jedi_executor: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(1, thread_name_prefix="jedi")
    )

    def agent_loop(self) -> AgentLoop:
        """An agent loop over this session's graph, context budget and token estimate."""
        return AgentLoop(
            self.context,
            self.settings.context.budget_tokens,
            index=self.index,
            estimator=self.estimator,
            gate=self.gate,
        )

    def text_of(self, path: str) -> str | None:
        """A file's text as the editor has it: the open buffer, else the disk."""
        return self.documents.text_for_path(path) or read_disk_text(path)

    def status(self) -> dict[str, Any]:
        """What the server is working with: root, index, open documents, model."""
        files = self.index.all_files()
        return {
            "version": __version__,
            "root": str(self.root) if self.root else None,
            "index": {
                "ready": self.index.ready.is_set(),
                "files": len(files),
                "symbols": sum(len(file.symbols) for file in files),
            },
            "openDocuments": len(self.documents.uris()),
            "trusted": self.trust.trusted,
            "trustSource": self.trust.source,
            "model": asdict(self.models.status()),
        }

    def close(self) -> None:
        """Stop background threads and any indexing under way."""
        self.closed.set()
        if self.memory is not None:
            self.memory.close()
        self.live.shutdown()
        self.jedi_executor.shutdown(wait=False, cancel_futures=True)


def build_session(
    root: Path | None,
    settings: Settings,
    encoding: PositionEncoding,
    env: Mapping[str, str],
    cache_dir: Path | None = None,
    client_trusted: bool | None = None,
    confirm: Confirm | None = None,
) -> Session:
    """Wire documents, graph, resolver, trust and the process gate for one workspace root.

    ``client_trusted`` is the editor's word on workspace trust (None: ask the user-level
    store); ``confirm`` asks the user to approve a command (None: every command is denied).
    """
    cache = None
    if root is not None:
        cache = SymbolCache(cache_dir or default_cache_dir(), root)
    workers = settings.index.workers or None
    index = WorkspaceIndex(
        root, max_file_bytes=settings.index.max_file_bytes, cache=cache, workers=workers
    )
    estimator = TokenEstimator()
    documents = DocumentStore(encoding=encoding)
    views = GraphViews(index)

    def text_of(path: str) -> str | None:
        return documents.text_for_path(path) or read_disk_text(path)

    trust = WorkspaceTrust.resolve(root, TrustStore(default_store_path(env)), client_trusted)
    gate = ProcessGate(
        trust, confirm or deny_all, allow_unsandboxed=settings.security.allow_unsandboxed
    )
    return Session(
        root=root,
        settings=settings,
        documents=documents,
        index=index,
        live=LiveGraph(index),
        resolver=JediResolver(root),
        models=ModelService(settings.model, env),
        estimator=estimator,
        views=views,
        context=ContextBuilder(index, estimator.estimate, text_of, views),
        trust=trust,
        gate=gate,
        memory=Memory(memory_path(cache_dir or default_cache_dir(), root)) if root else None,
    )
