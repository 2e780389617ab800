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

__all__ = ["Candidate", "TargetText", "rank_candidates"]

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
