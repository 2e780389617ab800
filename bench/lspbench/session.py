"""The scripted LSP session run against each server (one process per run)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import ts
from .capabilities import client_capabilities
from .lsp_client import LspClient, LspError, Reply, default_env
from .procstats import TreeTracker
from .stats import summarize

MAX_ERRORS = 50
TYPED_CHARS = "abcdefghijklmnopqrstuvwxyz "


@dataclass
class SessionConfig:
    """Everything one run of one server needs."""

    label: str
    argv: list[str]
    env_extra: dict[str, str]
    root: Path
    open_files: list[str]
    typing_file: str
    ws_query: str
    unopened_class: tuple[str, str] | None
    index_title_prefix: str | None
    log_path: Path
    full: bool = True
    defs_per_file: int = 20
    symbol_repeats: int = 5
    refs_per_file: int = 3
    typing_events: int = 200
    request_timeout: float = 60.0
    index_timeout: float = 120.0
    seed: int = 1234


@dataclass
class _Doc:
    uri: str
    lines: list[str]
    version: int = 1


@dataclass
class Session:
    """Runs the scripted session and collects a JSON-able result dict."""

    cfg: SessionConfig
    client: LspClient = field(init=False)
    result: dict[str, Any] = field(default_factory=dict)
    errors: list[dict[str, str]] = field(default_factory=list)
    error_count: int = 0
    docs: dict[str, _Doc] = field(default_factory=dict)
    sync_kind: int = 2
    t_initialized: float = 0.0

    def __post_init__(self) -> None:
        self.client = LspClient(
            self.cfg.argv, self.cfg.root, default_env(self.cfg.env_extra), self.cfg.log_path
        )

    # ------------------------------------------------------------- utilities
    def _error(self, phase: str, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append({"phase": phase, "message": message})

    async def _req(self, phase: str, method: str, params: Any) -> Reply | None:
        try:
            return await self.client.request(method, params, self.cfg.request_timeout)
        except LspError as exc:
            self._error(phase, f"{method}: {exc}")
            return None

    def _uri(self, rel: str) -> str:
        return (self.cfg.root / rel).resolve().as_uri()

    def _require_alive(self, phase: str) -> None:
        if not self.client.alive:
            raise LspError(
                f"server not running before phase {phase!r}: {self.client.closed_reason}"
            )

    # ----------------------------------------------------------------- phases
    async def _initialize(self) -> None:
        root_uri = self.cfg.root.resolve().as_uri()
        params = {
            "processId": None,
            "clientInfo": {"name": "smallcode-bench", "version": "1"},
            "rootUri": root_uri,
            "rootPath": str(self.cfg.root.resolve()),
            "workspaceFolders": [{"uri": root_uri, "name": self.cfg.root.name}],
            "capabilities": client_capabilities(),
            "initializationOptions": {},
            "trace": "off",
        }
        reply = await self.client.request("initialize", params, self.cfg.request_timeout)
        caps = (reply.result or {}).get("capabilities", {})
        sync = caps.get("textDocumentSync")
        self.sync_kind = int(sync.get("change", 2) if isinstance(sync, dict) else (sync or 2))
        self.result["initialize_ms"] = round(reply.latency_ms, 2)
        self.result["server_info"] = (reply.result or {}).get("serverInfo")
        self.result["text_document_sync_change"] = self.sync_kind
        self.result["position_encoding"] = caps.get("positionEncoding", "utf-16")
        await self.client.notify("initialized", {})
        self.t_initialized = time.perf_counter()

    async def _open(self, rel: str) -> None:
        text = (self.cfg.root / rel).read_bytes().decode("utf-8", "replace")
        doc = _Doc(self._uri(rel), text.split("\n"))
        self.docs[rel] = doc
        await self.client.notify(
            "textDocument/didOpen",
            {
                "textDocument": {
                    "uri": doc.uri,
                    "languageId": "python",
                    "version": 1,
                    "text": text,
                },
            },
        )

    async def _document_symbol(self, phase: str, rel: str) -> Reply | None:
        params = {"textDocument": {"uri": self.docs[rel].uri}}
        return await self._req(phase, "textDocument/documentSymbol", params)

    async def _first_request(self) -> None:
        first = self.cfg.open_files[0]
        await self._open(first)
        reply = await self._document_symbol("first_request", first)
        self.result["first_request"] = (
            None
            if reply is None
            else {
                "file": first,
                "latency_ms": round(reply.latency_ms, 2),
                "since_initialized_ms": round((reply.received_at - self.t_initialized) * 1000, 2),
                "symbols": count_symbols(reply.result),
            }
        )

    async def _wait_index(self, tracker: TreeTracker) -> None:
        prefix = self.cfg.index_title_prefix
        sampler = asyncio.create_task(_sample_forever(tracker, 0.25))
        try:
            if prefix is None:
                self.result["index_s"] = self.result["index_since_spawn_s"] = None
                return
            remaining = self.cfg.index_timeout - (time.perf_counter() - self.t_initialized)
            t_end = await self.client.wait_progress_end(
                lambda title: title.startswith(prefix), max(remaining, 0.0)
            )
            self.result["index_s"] = None if t_end is None else round(t_end - self.t_initialized, 3)
            self.result["index_since_spawn_s"] = (
                None if t_end is None else round(t_end - self.client.t_spawn, 3)
            )
            if t_end is None:
                self._error(
                    "index",
                    f"no $/progress end titled {prefix!r} within {self.cfg.index_timeout:.0f}s",
                )
        finally:
            sampler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sampler

    async def _symbols_phase(self) -> None:
        for rel in self.cfg.open_files[1:]:
            await self._open(rel)
        latencies: list[float] = []
        counts: dict[str, int] = {}
        for rel in self.cfg.open_files:
            for _ in range(self.cfg.symbol_repeats):
                reply = await self._document_symbol("document_symbol", rel)
                if reply is not None:
                    latencies.append(reply.latency_ms)
                    counts[rel] = count_symbols(reply.result)
        self.result["document_symbol"] = {**summarize(latencies), "symbols_per_file": counts}

    def _sites(self, rel: str, count: int, salt: int) -> list[ts.Site]:
        sites = ts.call_sites((self.cfg.root / rel).read_bytes())
        return ts.sample_sites(sites, count, self.cfg.seed * 1000 + salt)

    def _position(self, rel: str, site: ts.Site) -> dict[str, Any]:
        return {
            "textDocument": {"uri": self.docs[rel].uri},
            "position": {"line": site.line, "character": site.character},
        }

    async def _definition_phase(self) -> None:
        latencies: list[float] = []
        non_empty = 0
        for index, rel in enumerate(self.cfg.open_files):
            for site in self._sites(rel, self.cfg.defs_per_file, index):
                reply = await self._req(
                    "definition", "textDocument/definition", self._position(rel, site)
                )
                if reply is not None:
                    latencies.append(reply.latency_ms)
                    non_empty += int(count_locations(reply.result) > 0)
        rate = round(non_empty / len(latencies), 3) if latencies else None
        self.result["definition"] = {**summarize(latencies), "non_empty_rate": rate}

    async def _references_phase(self) -> None:
        latencies: list[float] = []
        total = 0
        for index, rel in enumerate(self.cfg.open_files):
            for site in self._sites(rel, self.cfg.refs_per_file, 500 + index):
                params = {**self._position(rel, site), "context": {"includeDeclaration": True}}
                reply = await self._req("references", "textDocument/references", params)
                if reply is not None:
                    latencies.append(reply.latency_ms)
                    total += count_locations(reply.result)
        self.result["references"] = {**summarize(latencies), "locations_total": total}

    async def _workspace_symbol_phase(self) -> None:
        reply = await self._req(
            "workspace_symbol", "workspace/symbol", {"query": self.cfg.ws_query}
        )
        self.result["workspace_symbol"] = {
            "query": self.cfg.ws_query,
            "latency_ms": None if reply is None else round(reply.latency_ms, 2),
            "count": None if reply is None else len(reply.result or []),
        }
        if self.cfg.unopened_class is None:
            return
        name, rel = self.cfg.unopened_class
        reply = await self._req("unopened_class", "workspace/symbol", {"query": name})
        found = reply is not None and any(
            s.get("name") == name and symbol_uri(s).endswith("/" + rel) for s in reply.result or []
        )
        self.result["unopened_class_found"] = {
            "class": name,
            "file": rel,
            "found": found,
            "latency_ms": None if reply is None else round(reply.latency_ms, 2),
        }

    async def _change(self, rel: str, line: int, col: int, text: str) -> float:
        doc = self.docs[rel]
        cur = doc.lines[line]
        doc.lines[line : line + 1] = (cur[:col] + text + cur[col:]).split("\n")
        doc.version += 1
        change: dict[str, Any] = {"text": "\n".join(doc.lines)}
        if self.sync_kind == 2:
            pos = {"line": line, "character": col}
            change = {"range": {"start": pos, "end": pos}, "text": text}
        return await self.client.notify(
            "textDocument/didChange",
            {
                "textDocument": {"uri": doc.uri, "version": doc.version},
                "contentChanges": [change],
            },
        )

    async def _typing_phase(self) -> None:
        rel = self.cfg.typing_file
        if rel not in self.docs:
            await self._open(rel)
        anchor = ts.typing_anchor((self.cfg.root / rel).read_bytes())
        if anchor is None:
            self._error("typing", f"no function body found in {rel}")
            return
        line, indent = anchor
        prefix = f"{indent}# bench "
        await self._change(rel, line, 0, prefix + "\n")
        await self._document_symbol("typing_setup", rel)
        latencies: list[float] = []
        for i in range(self.cfg.typing_events):
            sent = await self._change(rel, line, len(prefix) + i, TYPED_CHARS[i % len(TYPED_CHARS)])
            reply = await self._document_symbol("typing", rel)
            if reply is not None:
                latencies.append((reply.received_at - sent) * 1000.0)
        self.result["typing"] = {
            **summarize(latencies),
            "file": rel,
            "line": line,
            "sync_kind": self.sync_kind,
        }

    async def _shutdown(self) -> None:
        try:
            await self.client.request("shutdown", None, 15.0)
            await self.client.notify("exit", None)
            self.result["shutdown_clean"] = True
        except LspError as exc:
            self.result["shutdown_clean"] = False
            self._error("shutdown", str(exc))
        self.result["exit_code"] = await self.client.stop(10.0)

    # ------------------------------------------------------------------- main
    async def run(self) -> dict[str, Any]:
        """Run all phases; never raises for server misbehaviour."""
        wall = time.perf_counter()
        self.result.update(
            {
                "label": self.cfg.label,
                "argv": self.cfg.argv,
                "env": self.cfg.env_extra,
                "full_session": self.cfg.full,
            }
        )
        try:
            await self.client.start()
            await self._run_phases()
        except (LspError, OSError) as exc:
            self._error("session", f"aborted: {exc}")
            self.result["aborted"] = True
        finally:
            if self.client.proc is not None and self.client.alive:
                await self._shutdown()
            else:
                self.result["exit_code"] = await self.client.stop(5.0)
        self._finish(wall)
        return self.result

    async def _run_phases(self) -> None:
        await self._initialize()
        assert self.client.pid is not None
        tracker = TreeTracker(self.client.pid)
        phases: list[tuple[str, Callable[[], Any]]] = [
            ("first_request", self._first_request),
            ("index", lambda: self._wait_index(tracker)),
        ]
        if self.cfg.full:
            phases += [
                ("document_symbol", self._symbols_phase),
                ("definition", self._definition_phase),
                ("references", self._references_phase),
                ("workspace_symbol", self._workspace_symbol_phase),
                ("typing", self._typing_phase),
            ]
        timings: dict[str, float] = {}
        for name, phase in phases:
            self._require_alive(name)
            start = time.perf_counter()
            await phase()
            timings[name] = round(time.perf_counter() - start, 3)
        self.result["phase_wall_s"] = timings
        self._require_alive("resources")
        self.result["resources"] = tracker.snapshot()

    def _finish(self, wall: float) -> None:
        self.result["wall_s"] = round(time.perf_counter() - wall, 3)
        self.result["progress"] = [
            {
                "t_ms": round((e.t - self.t_initialized) * 1000, 1),
                "token": e.token,
                "kind": e.kind,
                "title": e.title,
                "message": e.message,
                "percentage": e.percentage,
            }
            for e in self.client.progress[:100]
        ]
        self.result["notifications"] = self.client.counters.notifications
        self.result["server_requests"] = self.client.counters.server_requests
        self.result["error_count"] = self.error_count
        self.result["errors"] = self.errors
        if self.error_count:
            self.result["stderr_tail"] = self.client.stderr_tail()
        self.result["stderr_log"] = str(self.cfg.log_path)


async def _sample_forever(tracker: TreeTracker, interval: float) -> None:
    while True:
        tracker.sample()
        await asyncio.sleep(interval)


def count_symbols(result: Any) -> int:
    """Number of symbols in a documentSymbol result (recursing into children)."""
    if not isinstance(result, list):
        return 0
    return sum(1 + count_symbols(item.get("children")) for item in result if isinstance(item, dict))


def count_locations(result: Any) -> int:
    """Number of locations in a definition/references result."""
    if result is None:
        return 0
    if isinstance(result, dict):
        return 1
    return len(result) if isinstance(result, list) else 0


def symbol_uri(symbol: dict[str, Any]) -> str:
    """URI of a SymbolInformation / WorkspaceSymbol."""
    location = symbol.get("location") or {}
    return str(location.get("uri", ""))


async def run_session(cfg: SessionConfig) -> dict[str, Any]:
    """Convenience wrapper: run one session and return its result dict."""
    return await Session(cfg).run()
