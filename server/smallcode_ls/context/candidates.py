"""Rank the definitions a target is likely to need, from the code graph alone.

Sources, strongest first: names the current file imports (resolved through the
module map, re-exports followed), attributes of imported modules (``models.Q``),
then names defined elsewhere in the workspace exactly once. Each candidate is
scored by where its local name is used: in the target (signature, docstring,
body) and the task text, in the enclosing class, near the target, anywhere in the
file; import order breaks ties. No I/O.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

from smallcode_ls.context.modules import Binding, bindings_of
from smallcode_ls.context.view import GraphView
from smallcode_ls.graph.symbols import FileSymbols

__all__ = ["Candidate", "TargetText", "class_bases", "rank_candidates"]

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ATTRIBUTE = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*)")
_IMPORT_LINE = re.compile(r"^\s*(from\s+\S+\s+)?import\s.*$", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class TargetText:
    """The text around the task, split by how strongly it predicts what is needed."""

    target: str  # the target symbol or region (signature, docstring, any body left)
    instruction: str  # the task text, diagnostics
    enclosing: str  # the enclosing class or function, if any
    nearby: str  # lines around the target
    file: str  # the whole current file
    bases: tuple[str, ...] = ()  # base classes of the enclosing class, as written


@dataclass(frozen=True, slots=True)
class Candidate:
    """A definition to show, with the reason it ranked where it did."""

    path: str
    name: str  # top-level definition name in ``path``
    score: float
    via: str  # "import", "module-attribute", "unique-name"


def _words(text: str) -> Counter[str]:
    return Counter(_WORD.findall(_IMPORT_LINE.sub("", text)))


def _score(local: str, weights: list[tuple[Counter[str], float]], order: int) -> float:
    score = 0.0
    for counts, weight in weights:
        if counts[local]:
            score += weight * (1.0 + math.log(counts[local]))
    return score + 1.0 / (2 + order)


def _attribute_uses(text: str, module_locals: set[str]) -> Counter[tuple[str, str]]:
    return Counter(
        (match.group(1), match.group(2))
        for match in _ATTRIBUTE.finditer(text)
        if match.group(1) in module_locals
    )


def rank_candidates(
    view: GraphView,
    current: FileSymbols,
    text: TargetText,
    limit: int = 200,
) -> list[Candidate]:
    """Definitions in other files that the target probably needs, best first."""
    weights = [
        (_words(text.target), 100.0),
        (_words(text.instruction), 60.0),
        (_words(text.enclosing), 20.0),
        (_words(text.nearby), 8.0),
        (_words(text.file), 2.0),
    ]
    best: dict[tuple[str, str], Candidate] = {}

    def offer(candidate: Candidate) -> None:
        key = (candidate.path, candidate.name)
        if key not in best or best[key].score < candidate.score:
            best[key] = candidate

    modules = view.modules
    bindings = bindings_of(modules, current)
    module_bindings: dict[str, Binding] = {}
    for binding in bindings:
        if binding.name is None:
            module_bindings[binding.local] = binding
            continue
        score = _score(binding.local, weights, binding.order)
        offer(Candidate(binding.path, binding.name, 10.0 + score, "import"))
    if module_bindings:
        texts = [(text.target, 100.0), (text.instruction, 60.0), (text.enclosing, 20.0),
                 (text.nearby, 8.0), (text.file, 2.0)]  # fmt: skip
        for source, weight in texts:
            for (local, attribute), count in _attribute_uses(source, set(module_bindings)).items():
                binding = module_bindings[local]
                found = modules.definition(binding.path, attribute)
                if found is None:
                    continue
                score = weight * (1.0 + math.log(count)) + 1.0 / (2 + binding.order)
                offer(Candidate(found[0], found[1], 10.0 + score, "module-attribute"))
    for candidate in _unique_names(view, current, weights):
        offer(candidate)
    for candidate in _same_named_members(view, current, text):
        offer(candidate)
    for depth, (path, name) in enumerate(_base_classes(view, current, text.bases)):
        offer(Candidate(path, name, 90.0 - depth, "base-class"))
    for candidate in _imported_modules_rest(view, bindings):
        offer(candidate)
    ranked = sorted(best.values(), key=lambda c: (-c.score, c.path, c.name))
    return ranked[:limit]


def _unique_names(
    view: GraphView, current: FileSymbols, weights: list[tuple[Counter[str], float]]
) -> list[Candidate]:
    """Names used in the target that the workspace defines exactly once, elsewhere."""
    local = {symbol.name for symbol in current.symbols}
    found = []
    for word in weights[0][0]:
        if word in local or len(word) < 3:
            continue
        path = view.unique_definition(word)
        if path is not None and path != current.path:
            found.append(Candidate(path, word, _score(word, weights, 50), "unique-name"))
    return found


_BASE = re.compile(r"[A-Za-z_][\w.]*")


def _split_bases(bases: tuple[str, ...]) -> list[str]:
    return [b for b in bases if "=" not in b and _BASE.fullmatch(b)]


def _base_classes(
    view: GraphView, current: FileSymbols, bases: tuple[str, ...], depth: int = 3
) -> list[tuple[str, str]]:
    """Base classes (and theirs, a few levels up) defined in other files."""
    found: list[tuple[str, str]] = []
    frontier: list[tuple[FileSymbols, str]] = [(current, base) for base in _split_bases(bases)]
    seen: set[tuple[str, str]] = set()
    for _ in range(depth):
        following: list[tuple[FileSymbols, str]] = []
        for file, base in frontier:
            resolved = _resolve_local(view, file, base)
            if resolved is None or resolved in seen:
                continue
            seen.add(resolved)
            if resolved[0] != current.path:
                found.append(resolved)
            owner = view.files.get(resolved[0])
            if owner is None:
                continue
            for symbol in owner.symbols:
                if symbol.parent == -1 and symbol.name == resolved[1]:
                    inner = class_bases(symbol.signature)
                    following.extend((owner, b) for b in _split_bases(inner))
        frontier = following
    return found


def class_bases(signature: str) -> tuple[str, ...]:
    """``class A(B, mod.C, metaclass=M):`` -> ("B", "mod.C", "metaclass=M")."""
    start, end = signature.find("("), signature.rfind(")")
    if start < 0 or end < start:
        return ()
    return tuple(part.strip() for part in signature[start + 1 : end].split(",") if part.strip())


def _resolve_local(view: GraphView, file: FileSymbols, name: str) -> tuple[str, str] | None:
    """Where a (possibly dotted) name used in ``file`` is defined."""
    head, _, attribute = name.partition(".")
    for binding in bindings_of(view.modules, file):
        if binding.local != head:
            continue
        if binding.name is None:
            return view.modules.definition(binding.path, attribute) if attribute else None
        return (binding.path, binding.name) if not attribute else None
    if not attribute and any(s.parent == -1 and s.name == name for s in file.symbols):
        return file.path, name
    return None


def _imported_modules_rest(view: GraphView, bindings: list[Binding]) -> list[Candidate]:
    """Everything else the imported modules define, as low-ranked filler."""
    files: list[str] = []
    for binding in bindings:
        if binding.path not in files:
            files.append(binding.path)
    found = []
    for order, path in enumerate(files):
        file = view.files.get(path)
        if file is None:
            continue
        for index, symbol in enumerate(file.symbols):
            if symbol.parent == -1 and not symbol.name.startswith("__"):
                found.append(
                    Candidate(path, symbol.name, 1.0 / (2 + order) - index * 1e-6, "module")
                )
    return found


_MAX_HOMONYMS = 6


def _same_named_members(view: GraphView, current: FileSymbols, text: TargetText) -> list[Candidate]:
    """Classes elsewhere with a method named like a word of the target's signature line.

    Overrides and delegations (``self.app.add_url_rule`` inside ``add_url_rule``) share
    names; common names (more than a handful of definitions) say nothing and are skipped.
    """
    signature = text.target.split("\n", 1)[0]
    found = []
    for word in dict.fromkeys(_WORD.findall(signature)):
        if word.startswith("__") or len(word) < 4:
            continue
        owners = view.members.get(word, [])
        if not owners or len(owners) > _MAX_HOMONYMS:
            continue
        for path, owner in owners:
            if path != current.path:
                found.append(Candidate(path, owner, 15.0, "same-name"))
    return found
