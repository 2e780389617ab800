"""Build the context pack for a task: named sections that fit a token budget exactly.

Order is stable and stable parts come first (definitions from other files, then
the target file, callers, diagnostics, the task), so a retry that only appends
feedback reuses llama.cpp's prompt cache. Every section has a cap; what did not
fit is recorded as dropped. Pure apart from reading other files' text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from smallcode_ls.context.candidates import (
    Candidate,
    TargetText,
    class_bases,
    rank_candidates,
)
from smallcode_ls.context.render import outline_lines, symbol_lines, symbol_source
from smallcode_ls.context.view import GraphView, GraphViews
from smallcode_ls.graph.index import WorkspaceIndex
from smallcode_ls.graph.languages import language_for_path
from smallcode_ls.graph.parser import parse_file_symbols
from smallcode_ls.graph.symbols import FileSymbols, SymbolKind

__all__ = ["ContextBuilder", "ContextPack", "ContextRequest", "Section", "SectionName"]

Counter = Callable[[str], int]
TextReader = Callable[[str], str | None]

_NEARBY_LINES = 30
_NOT_A_USE = ("#", "def ", "class ", "from ", "import ", "async def ")
_CALLER_LIMIT = 12
_MEMBERS_PER_CLASS = 12
_STRONG = 10.0  # candidates scored at least this come before class members and filler
_CLASS_KINDS = {SymbolKind.CLASS, SymbolKind.INTERFACE, SymbolKind.STRUCT, SymbolKind.ENUM}


class SectionName(StrEnum):
    """Sections, in rendering order."""

    DEFINITIONS = "definitions"
    FILE = "file"
    CALLERS = "callers"
    MEMORY = "memory"
    DIAGNOSTICS = "diagnostics"
    TASK = "task"


_CAPS = {  # share of the budget a section may take before the definitions get the rest
    SectionName.FILE: 0.45,
    SectionName.CALLERS: 0.10,
    SectionName.MEMORY: 0.10,
    SectionName.DIAGNOSTICS: 0.10,
    SectionName.TASK: 0.15,
}


@dataclass(frozen=True, slots=True)
class ContextRequest:
    """What the model is asked to work on."""

    path: str
    text: str
    line: int
    budget_tokens: int
    instruction: str = ""
    diagnostics: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()  # from memory; untrusted ones say so
    sections: tuple[SectionName, ...] = tuple(SectionName)


@dataclass(frozen=True, slots=True)
class Section:
    """One rendered section and its accounting."""

    name: SectionName
    text: str
    tokens: int
    items: tuple[str, ...] = ()
    dropped: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ContextPack:
    """Everything the model will see besides the fixed prompt."""

    sections: tuple[Section, ...]
    budget: int
    used: int
    dropped: tuple[str, ...] = field(default=())

    @property
    def text(self) -> str:
        """The sections joined in their stable order."""
        return "\n\n".join(section.text for section in self.sections if section.text)


class _Budget:
    def __init__(self, count: Counter, limit: int) -> None:
        self.count = count
        self.limit = limit
        self.used = 0

    def take(self, text: str) -> bool:
        cost = self.count(text + "\n")
        if self.used + cost > self.limit:
            return False
        self.used += cost
        return True


def _relative(path: str, root: Path | None) -> str:
    if root is not None:
        try:
            return Path(path).relative_to(root).as_posix()
        except ValueError:
            pass
    return path


class ContextBuilder:
    """Builds packs from one workspace index; cheap to keep for the session."""

    def __init__(
        self,
        index: WorkspaceIndex,
        count: Counter,
        read_text: TextReader,
        views: GraphViews | None = None,
    ) -> None:
        self._index = index
        self._views = views or GraphViews(index)
        self._count = count
        self._read = read_text
        self._lines: dict[str, list[str]] = {}

    def build(
        self, request: ContextRequest, cancelled: Callable[[], bool] = lambda: False
    ) -> ContextPack:
        """Assemble the pack; never over ``request.budget_tokens``."""
        view = self._views.current()
        current = self._current_file(request)
        lines = request.text.splitlines()
        target = _target_index(current, request.line)
        wanted = set(request.sections)
        sections: dict[SectionName, Section] = {}
        budget = request.budget_tokens
        for name in (
            SectionName.TASK,
            SectionName.DIAGNOSTICS,
            SectionName.MEMORY,
            SectionName.FILE,
            SectionName.CALLERS,
        ):
            if name in wanted and not cancelled():
                cap = int(budget * _CAPS[name]) if len(wanted) > 1 else budget
                sections[name] = self._section(name, request, current, lines, target, cap)
        if SectionName.DEFINITIONS in wanted and not cancelled():
            left = budget - sum(section.tokens for section in sections.values())
            text = _target_text(request, current, lines, target)
            ranked = rank_candidates(view, current, text)
            sections[SectionName.DEFINITIONS] = self._definitions(view, ranked, text, left)
        ordered = tuple(
            sections[name] for name in SectionName if name in sections and sections[name].text
        )
        return _fit(ordered, budget, self._count)

    # -- sections ------------------------------------------------------------------------

    def _current_file(self, request: ContextRequest) -> FileSymbols:
        """The target file as the request has it (an unsaved buffer may differ from disk)."""
        spec = language_for_path(request.path)
        if spec is None:
            known = self._index.file_symbols(request.path)
            return known or FileSymbols(request.path, "", (), (), " ")
        return parse_file_symbols(spec, request.text.encode("utf-8", "surrogatepass"), request.path)

    def _section(
        self,
        name: SectionName,
        request: ContextRequest,
        current: FileSymbols,
        lines: list[str],
        target: int,
        cap: int,
    ) -> Section:
        budget = _Budget(self._count, cap)
        if name is SectionName.TASK:
            return _lines_section(name, ["## Task", request.instruction.strip()], budget)
        if name is SectionName.DIAGNOSTICS:
            if not request.diagnostics:
                return Section(name, "", 0)
            return _lines_section(name, ["## Diagnostics", *request.diagnostics], budget)
        if name is SectionName.MEMORY:
            if not request.notes:
                return Section(name, "", 0)
            return _lines_section(name, ["## Notes from earlier tasks", *request.notes], budget)
        if name is SectionName.FILE:
            return self._file_section(request, current, lines, target, budget)
        return self._callers_section(request, current, target, budget)

    def _file_section(
        self,
        request: ContextRequest,
        current: FileSymbols,
        lines: list[str],
        target: int,
        budget: _Budget,
    ) -> Section:
        header = f"## File {_relative(request.path, self._index.root)}"
        whole = "\n".join([header, *lines])
        if budget.take(whole):
            return Section(SectionName.FILE, whole, budget.used, ("whole file",))
        keep = {target} if target >= 0 else set()
        outline = "\n".join([header, *outline_lines(current, lines, keep)])
        if budget.take(outline):
            return Section(SectionName.FILE, outline, budget.used, ("outline",), ("file body",))
        start = max(0, request.line - _NEARBY_LINES // 2)
        window = "\n".join([header, *lines[start : request.line + _NEARBY_LINES // 2]])
        return _lines_section(SectionName.FILE, window.split("\n"), budget, ("outline",))

    def _callers_section(
        self, request: ContextRequest, current: FileSymbols, target: int, budget: _Budget
    ) -> Section:
        if target < 0:
            return Section(SectionName.CALLERS, "", 0)
        name = current.symbols[target].name
        rendered = ["## Callers and tests"]
        items: list[str] = []
        dropped: list[str] = []
        used = re.compile(rf"(?<![\w.]){re.escape(name)}\b|\.{re.escape(name)}\b")
        for path in self._index.files_using(name):
            if path == request.path:
                continue
            file_lines = self._file_lines(path)
            for number, line in enumerate(file_lines):
                if used.search(line) and not line.lstrip().startswith(_NOT_A_USE):
                    entry = f"{_relative(path, self._index.root)}:{number + 1}: {line.strip()}"
                    if len(items) < _CALLER_LIMIT and budget.take(entry):
                        items.append(entry)
                    else:
                        dropped.append(entry)
                    break
        if not items:
            return Section(SectionName.CALLERS, "", 0, (), tuple(dropped))
        budget.take(rendered[0])
        return Section(SectionName.CALLERS, "\n".join([*rendered, *items]), budget.used,
                       tuple(items), tuple(dropped))  # fmt: skip

    def _definitions(
        self, view: GraphView, ranked: Sequence[Candidate], text: TargetText, limit: int
    ) -> Section:
        """Fill the definitions section in three passes.

        Strong candidates first (with the members the target mentions), then the other
        members of the classes shown, then low-ranked filler.
        """
        budget = _Budget(self._count, limit)
        heading = "## Definitions used by the target"
        if not ranked or not budget.take(heading):
            return Section(SectionName.DEFINITIONS, "", 0, (), tuple(c.name for c in ranked))
        blocks: dict[str, list[list[str]]] = {}
        classes: list[tuple[FileSymbols, int, list[str], set[int]]] = []
        items: list[str] = []
        dropped: list[str] = []
        used_words = text.target + "\n" + text.instruction + "\n" + text.nearby

        def add(candidate: Candidate, rank: int) -> None:
            file = view.files.get(candidate.path)
            index = _top_level(file, candidate.name) if file else -1
            if file is None or index < 0:
                return
            lines = self._file_lines(candidate.path)
            members = _members(file, index, used_words) if rank < 8 else []
            rendered = symbol_lines(file, index, lines, members)
            header = [] if candidate.path in blocks else [self._header(candidate.path)]
            if not budget.take("\n".join([*header, *rendered])):
                dropped.append(f"{candidate.path}:{candidate.name}")
                return
            blocks.setdefault(candidate.path, []).append(rendered)
            items.append(f"{_relative(candidate.path, self._index.root)}:{candidate.name}")
            if file.symbols[index].kind in _CLASS_KINDS:
                classes.append((file, index, rendered, set(members)))

        strong = [c for c in ranked if c.score >= _STRONG]
        for rank, candidate in enumerate(strong):
            add(candidate, rank)
        for file, index, rendered, shown in classes:
            lines = self._file_lines(file.path)
            for member in _all_members(file, index):
                if member in shown:
                    continue
                extra = symbol_lines(file, member, lines)[:1]
                if budget.take("\n".join(extra)):
                    rendered.extend(extra)
        for candidate in ranked[len(strong) :]:
            add(candidate, len(ranked))
        body = [heading]
        for path, entries in blocks.items():
            body.append(self._header(path))
            body.extend(line for entry in entries for line in entry)
        return Section(SectionName.DEFINITIONS, "\n".join(body), budget.used, tuple(items),
                       tuple(dropped))  # fmt: skip

    def _header(self, path: str) -> str:
        return f"### {_relative(path, self._index.root)}"

    def _file_lines(self, path: str) -> list[str]:
        cached = self._lines.get(path)
        if cached is None:
            cached = (self._read(path) or "").splitlines()
            if len(self._lines) > 512:
                self._lines.clear()
            self._lines[path] = cached
        return cached


def _lines_section(
    name: SectionName, lines: list[str], budget: _Budget, dropped: tuple[str, ...] = ()
) -> Section:
    kept: list[str] = []
    for line in lines:
        if not budget.take(line):
            return Section(name, "\n".join(kept), budget.used, (), (*dropped, "truncated"))
        kept.append(line)
    return Section(name, "\n".join(kept), budget.used, (), dropped)


def _fit(sections: tuple[Section, ...], budget: int, count: Counter) -> ContextPack:
    """Check the joined text against the budget (exact counters may not add up) and trim."""
    kept = list(sections)
    text = "\n\n".join(section.text for section in kept if section.text)
    while kept and count(text) > budget:
        last = kept[-1] if kept[-1].name is not SectionName.TASK else kept[0]
        lines = last.text.split("\n")[:-1]
        trimmed = Section(last.name, "\n".join(lines), count("\n".join(lines)), last.items,
                          (*last.dropped, "trimmed"))  # fmt: skip
        kept[kept.index(last)] = trimmed
        text = "\n\n".join(section.text for section in kept if section.text)
    dropped = tuple(item for section in kept for item in section.dropped)
    return ContextPack(tuple(kept), budget, count(text) if text else 0, dropped)


def _target_index(file: FileSymbols, line: int) -> int:
    best = -1
    for index, symbol in enumerate(file.symbols):
        if symbol.span.start_line <= line <= symbol.span.end_line:
            best = index  # symbols are ordered outer before inner
    return best


def _target_text(
    request: ContextRequest, file: FileSymbols, lines: list[str], target: int
) -> TargetText:
    start = max(0, request.line - _NEARBY_LINES)
    nearby = "\n".join(lines[start : request.line + _NEARBY_LINES])
    if target < 0:
        return TargetText(nearby, request.instruction + "\n" + "\n".join(request.diagnostics),
                          "", nearby, request.text)  # fmt: skip
    symbol = file.symbols[target]
    enclosing = ""
    bases: tuple[str, ...] = ()
    parent = symbol.parent if symbol.kind not in _CLASS_KINDS else target
    while parent >= 0 and file.symbols[parent].kind not in _CLASS_KINDS:
        parent = file.symbols[parent].parent
    if symbol.parent >= 0:
        enclosing = symbol_source(lines, file.symbols[symbol.parent])
    if parent >= 0:
        bases = class_bases(file.symbols[parent].signature)
    return TargetText(
        target=symbol_source(lines, symbol),
        instruction=request.instruction + "\n" + "\n".join(request.diagnostics),
        enclosing=enclosing,
        nearby=nearby,
        file=request.text,
        bases=bases,
    )


def _top_level(file: FileSymbols, name: str) -> int:
    for index, symbol in enumerate(file.symbols):
        if symbol.parent == -1 and symbol.name == name:
            return index
    return -1


def _all_members(file: FileSymbols, index: int) -> list[int]:
    """Methods and fields of a class, public ones first, in file order."""
    members = [i for i, symbol in enumerate(file.symbols) if symbol.parent == index]
    return sorted(members, key=lambda i: (file.symbols[i].name.startswith("_"), i))


def _members(file: FileSymbols, index: int, used_words: str) -> list[int]:
    """Methods of a class worth listing: those the target's text mentions, first."""
    if file.symbols[index].kind not in _CLASS_KINDS:
        return []
    members = [i for i, symbol in enumerate(file.symbols) if symbol.parent == index]
    members.sort(key=lambda i: (file.symbols[i].name not in used_words, i))
    mentioned = [i for i in members if file.symbols[i].name in used_words]
    return mentioned[:_MEMBERS_PER_CLASS]
