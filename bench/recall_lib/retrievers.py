"""The four retrievers of B1. Each answers (context text, seconds) for one query."""

from __future__ import annotations

import ast
import importlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from .pysrc import Definition, FileFacts, bm25_tokens, facts, outline
from .tokens import Counter
from .workers_client import Worker


@dataclass(frozen=True)
class Query:
    rel: str
    path: Path  # absolute path of the masked file in the scratch copy
    text: str  # masked text
    line: int  # 0-based line of the `...` placeholder
    budget: int
    task_text: str
    qualname: str
    idents: tuple[str, ...]


class Retriever(Protocol):
    name: str
    style: str  # header convention for the scorer: "###" or "aider"

    def query(self, q: Query) -> tuple[str, float]: ...

    def close(self) -> None: ...


@dataclass
class Repo:
    """What every in-process retriever may read: the scratch root and its pristine facts."""

    root: Path
    files: list[str]
    load: Callable[[str], FileFacts | None]
    is_source: Callable[[str], bool]


def module_map(repo: Repo) -> dict[str, str]:
    """dotted module -> rel path, following __init__.py chains (handles src/ layouts)."""
    out: dict[str, str] = {}
    ordered = sorted(repo.files, key=lambda r: (not repo.is_source(r), r))
    for rel in ordered:
        parts = rel[:-3].split("/")
        if parts[-1] == "__init__":
            parts = parts[:-1]
            pkg_depth = len(parts)
        else:
            pkg_depth = len(parts) - 1
        # walk up while the directory is a package
        start = pkg_depth
        while start > 0 and (repo.root / "/".join(parts[:start]) / "__init__.py").exists():
            start -= 1
        mod = ".".join(parts[start:])
        if mod:
            out.setdefault(mod, rel)
    return out


def _own_module(mods: dict[str, str], rel: str) -> str:
    for mod, r in mods.items():
        if r == rel:
            return mod
    return ""


def imported_files(text: str, rel: str, mods: dict[str, str], rev: dict[str, str]) -> list[str]:
    """Repo files the text imports, in source order (module-level first), deduplicated."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return []
    own = rev.get(rel, "")
    is_pkg = rel.endswith("__init__.py")
    package = own if is_pkg else own.rpartition(".")[0]
    out: dict[str, None] = {}

    def add(mod: str) -> bool:
        r = mods.get(mod)
        if r is not None and r != rel:
            out.setdefault(r, None)
            return True
        return False

    nodes: list[ast.AST] = []
    todo: list[ast.AST] = [tree]
    while todo:  # breadth first: module-level imports before function-level ones
        node = todo.pop(0)
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            nodes.append(node)
        todo.extend(ast.iter_child_nodes(node))
    for node in nodes:
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                for k in range(len(parts), 0, -1):
                    if add(".".join(parts[:k])):
                        break
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".") if package else []
                if node.level - 1 > len(base_parts):
                    continue
                base = base_parts[: len(base_parts) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            for alias in node.names:
                if not add(f"{mod}.{alias.name}" if mod else alias.name):
                    add(mod)
    return list(out)


def fit_lines(blocks: list[tuple[str, list[str]]], budget: int, counter: Counter) -> str:
    """`### rel` blocks of lines, added in order until the next line would not fit."""
    out: list[str] = []
    used = 0
    for rel, lines in blocks:
        if not lines:
            continue
        header = f"### {rel}"
        cost = counter.count(header + "\n") + counter.count(lines[0] + "\n")
        if used + cost > budget:
            break
        out.append(header)
        used += counter.count(header + "\n")
        for line in lines:
            c = counter.count(line + "\n")
            if used + c > budget:
                return _final(out, budget, counter)
            out.append(line)
            used += c
        out.append("")
        used += 1
    return _final(out, budget, counter)


def _final(out: list[str], budget: int, counter: Counter) -> str:
    text = "\n".join(out).rstrip("\n") + "\n" if out else ""
    while out and counter.count(text) > budget:  # exact count of the whole text
        out.pop()
        text = "\n".join(out).rstrip("\n") + "\n" if out else ""
    return text


class ImportsFirst:
    name = "imports"
    style = "###"

    def __init__(self, repo: Repo, counter: Counter) -> None:
        self.repo = repo
        self.counter = counter
        self.mods = module_map(repo)
        self.rev = {r: m for m, r in self.mods.items()}

    def query(self, q: Query) -> tuple[str, float]:
        t0 = time.perf_counter()
        blocks = []
        for rel in imported_files(q.text, q.rel, self.mods, self.rev):
            ff = self.repo.load(rel)
            if ff is not None:
                blocks.append((rel, outline(ff)))
        text = fit_lines(blocks, q.budget, self.counter)
        return text, time.perf_counter() - t0

    def close(self) -> None:
        pass


class Bm25:
    name = "bm25"
    style = "###"

    def __init__(self, repo: Repo, counter: Counter, python: Path, log: Path) -> None:
        self.repo = repo
        self.counter = counter
        self.chunks: list[tuple[str, Definition]] = []
        docs: list[list[str]] = []
        for rel in repo.files:
            ff = repo.load(rel)
            if ff is None:
                continue
            lines = ff.text.splitlines()
            for d in ff.defs:
                if d.in_function:
                    continue
                self.chunks.append((rel, d))
                body = "\n".join(lines[d.first_line - 1 : d.end_line])
                docs.append(bm25_tokens(f"{rel} {body}"))
        self.worker = Worker(python, "bm25_worker.py", log)
        self.version = "bm25s " + str(self.worker.call(op="version")["bm25s"])
        self.index_s = float(self.worker.call(op="index", docs=docs)["seconds"])

    def query(self, q: Query) -> tuple[str, float]:
        toks = bm25_tokens(f"{q.qualname} {q.task_text}")
        reply = self.worker.call(op="query", tokens=toks, k=600)
        worker_s = float(reply["seconds"])
        t1 = time.perf_counter()
        # pick chunks in rank order while they fit, then render grouped by file (files in
        # rank order, definitions in source order, enclosing class lines added once)
        picked: dict[str, list[Definition]] = {}
        used = 0
        for i in reply["ids"]:
            rel, d = self.chunks[i]
            if rel == q.rel:
                continue
            cost = self.counter.count(d.signature + "\n")
            if rel not in picked:
                cost += self.counter.count(f"### {rel}\n") + 1
            if d.parent:
                cost += self.counter.count(f"class {d.parent.rsplit('.', 1)[-1]}:\n")
            if used + cost > q.budget:
                continue
            used += cost
            picked.setdefault(rel, []).append(d)
        blocks: list[tuple[str, list[str]]] = []
        for rel, defs in picked.items():
            lines: list[str] = []
            open_class = ""
            for d in sorted(defs, key=lambda d: d.line):
                if d.kind == "class" and not d.in_function:
                    open_class = f"{d.parent}.{d.name}" if d.parent else d.name
                elif d.parent and d.parent != open_class:
                    cls = d.parent.rsplit(".", 1)[-1]
                    lines.append(" " * 4 * (d.depth - 1) + f"class {cls}:")
                    open_class = d.parent
                lines.append(d.signature)
            blocks.append((rel, lines))
        text = fit_lines(blocks, q.budget, self.counter)
        return text, worker_s + (time.perf_counter() - t1)

    def close(self) -> None:
        self.worker.close()


class Aider:
    name = "aider"
    style = "aider"

    def __init__(self, root: Path, files: list[str], python: Path, log: Path) -> None:
        self.root = root
        self.worker = Worker(python, "aider_worker.py", log)
        self.version = "aider-chat " + str(self.worker.call(op="version")["aider"])
        self.worker.call(op="init", root=str(root), files=[str(root / f) for f in files])

    def query(self, q: Query) -> tuple[str, float]:
        reply = self.worker.call(op="map", chat=str(q.path), idents=list(q.idents), budget=q.budget)
        return str(reply["text"]), float(reply["seconds"])

    def close(self) -> None:
        self.worker.close()


RetrieveFn = Callable[..., tuple[str, Any]]


def load_ours(spec: str) -> RetrieveFn | None:
    mod_name, _, fn_name = spec.partition(":")
    try:
        mod = importlib.import_module(mod_name)
        fn: RetrieveFn = getattr(mod, fn_name or "retrieve_context")
    except (ImportError, AttributeError):
        return None
    return fn


class Ours:
    name = "ours"
    style = "###"

    def __init__(self, root: Path, fn: RetrieveFn) -> None:
        self.root = root
        self.fn = fn
        self.state: Any = None

    def query(self, q: Query) -> tuple[str, float]:
        t0 = time.perf_counter()
        text, self.state = self.fn(self.root, q.path, q.text, q.line, q.budget, self.state)
        return text, time.perf_counter() - t0

    def close(self) -> None:
        self.state = None


class StandIn(ImportsFirst):
    """Placeholder for ours while bench_api is missing: imports-first ranked by the task's
    identifiers (definitions named in the signature/docstring first)."""

    name = "ours"

    def query(self, q: Query) -> tuple[str, float]:
        t0 = time.perf_counter()
        wanted = set(q.idents)
        blocks = []
        for rel in imported_files(q.text, q.rel, self.mods, self.rev):
            ff = self.repo.load(rel)
            if ff is None:
                continue
            defs = [d for d in ff.defs if not d.in_function]
            lines = [d.signature for d in defs]
            hit = [d.signature for d in defs if d.name in wanted]
            blocks.append((0 if hit else 1, rel, hit + [ln for ln in lines if ln not in hit]))
        blocks.sort(key=lambda b: b[0])
        text = fit_lines([(r, ls) for _, r, ls in blocks], q.budget, self.counter)
        return text, time.perf_counter() - t0


def scratch_facts(root: Path) -> Callable[[str], FileFacts | None]:
    cache: dict[str, FileFacts | None] = {}

    def load(rel: str) -> FileFacts | None:
        if rel not in cache:
            try:
                cache[rel] = facts((root / rel).read_text(encoding="utf-8", errors="replace"))
            except OSError:
                cache[rel] = None
        return cache[rel]

    return load
