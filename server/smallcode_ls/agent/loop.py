"""The agent loop: context -> model -> forgiving parse -> patch -> validate -> feedback -> retry.

Bounded: at most ``max_turns`` model calls; a repeated identical answer ends the
loop early (the model is stuck). Only a complete answer (terminal finish reason)
that applies cleanly and parses becomes a candidate text. No I/O here but the
model call; the caller decides what happens to the candidate (WorkspaceEdit or diff).
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from smallcode_ls.agent.prompt import feedback_prompt, system_prompt, task_prompt, tests_prompt
from smallcode_ls.agent.tasks import TaskKind, TaskRequest
from smallcode_ls.agent.test_writing import TestTarget, merge_tests
from smallcode_ls.agent.testing import LinkedTests, linked_tests, named_failures
from smallcode_ls.agent.validate import lint_problem, syntax_problem
from smallcode_ls.context.builder import ContextBuilder, ContextRequest, SectionName
from smallcode_ls.context.tokens import TokenEstimator
from smallcode_ls.errors import ModelError
from smallcode_ls.graph.index import WorkspaceIndex
from smallcode_ls.graph.languages import language_for_path
from smallcode_ls.graph.parser import parse_file_symbols
from smallcode_ls.llm.client import ChatClient
from smallcode_ls.llm.types import ChatMessage, ChatRequest
from smallcode_ls.patch import apply_model_output
from smallcode_ls.security.execution import ProcessGate

__all__ = ["AgentLoop", "LoopOutcome"]

logger = logging.getLogger(__name__)

Report = Callable[[str], None]
Validate = Callable[[str, bool], Awaitable[tuple[str, str | None]]]
_WHOLE_FILE_LINES = 150  # longer files are edited with SEARCH/REPLACE when no symbol encloses


@dataclass(slots=True)
class LoopOutcome:
    """What the loop produced: a validated new text, or why there is none."""

    new_text: str | None
    problem: str = ""
    turns: int = 0
    model: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    attempts: list[str] = field(default_factory=list)
    path: str = ""  # the file the new text is for


def _symbol_at(
    path: str, text: str, line: int, classes: bool = False, qualified: bool = False
) -> str:
    spec = language_for_path(path)
    if spec is None:
        return ""
    file = parse_file_symbols(spec, text.encode("utf-8", "surrogatepass"), path)
    best = ""
    for index, symbol in enumerate(file.symbols):
        kinds = ("function", "method", "class") if classes else ("function", "method")
        if symbol.kind.value in kinds and (symbol.span.start_line <= line <= symbol.span.end_line):
            best = file.qualified_name(index) if qualified else symbol.name
    return best


def _symbol_text(path: str, text: str, qualified: str) -> str | None:
    """The source of the definition named ``qualified`` (``Class.method``), if there is one."""
    spec = language_for_path(path)
    if spec is None:
        return None
    file = parse_file_symbols(spec, text.encode("utf-8", "surrogatepass"), path)
    lines = text.splitlines()
    for index, symbol in enumerate(file.symbols):
        if file.qualified_name(index) == qualified:
            return "\n".join(lines[symbol.span.start_line : symbol.span.end_line + 1])
    return None


def _untouched(path: str, before: str | None, new: str, qualified: str) -> str:
    """A problem when an implement-TODO edit leaves the function with the TODO as it was."""
    if before is None or before != _symbol_text(path, new, qualified):
        return ""
    name = qualified.rsplit(".", 1)[-1]
    return (
        f"the edit does not change `{qualified}`, where the TODO is; answer with the whole "
        f"`{name}` function, its body implemented"
    )


class AgentLoop:
    """Runs one task against one document text."""

    def __init__(
        self,
        context: ContextBuilder,
        budget_tokens: int,
        max_turns: int = 3,
        index: WorkspaceIndex | None = None,
        estimator: TokenEstimator | None = None,
        gate: ProcessGate | None = None,
    ) -> None:
        self._context = context
        self._gate = gate  # None: no process runs (untrusted), only in-process checks
        self._budget = budget_tokens
        self._max_turns = max_turns
        self._index = index
        self._estimator = estimator

    @property
    def index(self) -> WorkspaceIndex | None:
        """The workspace graph the loop uses for linked tests, if any."""
        return self._index

    async def run(
        self,
        client: ChatClient,
        request: TaskRequest,
        text: str,
        report: Report,
        max_tokens: int,
        escalation: tuple[ChatClient, int] | None = None,
        notes: tuple[str, ...] = (),
    ) -> LoopOutcome:
        """Try up to ``max_turns`` times to get a validated edit of ``text``.

        With ``escalation`` = (client, failures), turns after that many failures go to
        the stronger endpoint; the outcome names the model that produced the edit.
        """
        outcome = LoopOutcome(None, model=client.endpoint.model)
        spec = language_for_path(request.path)
        language = spec.name if spec else ""
        # Whole symbol when the task sits in a function (the rest of the file cannot be
        # lost); whole file otherwise (the format small models get right most often).
        qualified = _symbol_at(request.path, text, request.line, qualified=True)
        symbol = qualified.rsplit(".", 1)[-1]  # one parse for both names
        report("building context")
        pack = await asyncio.to_thread(
            self._context.build,
            ContextRequest(
                path=request.path,
                text=text,
                line=request.line,
                budget_tokens=self._budget,
                notes=notes,
                sections=(
                    SectionName.DEFINITIONS,
                    SectionName.FILE,
                    SectionName.CALLERS,
                    SectionName.MEMORY,
                ),
            ),
        )
        shown = Path(request.path).name
        messages = [
            ChatMessage("system", system_prompt()),
            ChatMessage(
                "user",
                task_prompt(
                    pack.text,
                    request,
                    symbol,
                    shown,
                    language,
                    long_file=text.count("\n") > _WHOLE_FILE_LINES,
                    text=text,
                ),
            ),
        ]
        tests = linked_tests(self._index, request.path, qualified) if self._index else None
        root = self._index.root if self._index else None
        required = named_failures(request.instruction, root) if root else set()
        if root and required:  # "fix these failing tests": they must pass, not merely fail alike
            tests = (tests or LinkedTests(root, ())).requiring(required)
        todo_symbol = qualified if request.kind is TaskKind.IMPLEMENT_TODO else ""
        todo_before = _symbol_text(request.path, text, todo_symbol) if todo_symbol else None

        async def validate(answer: str, complete: bool) -> tuple[str, str | None]:
            problem, new_text = self._check(request.path, text, answer, complete, request.line)
            if new_text is not None and todo_symbol:
                problem = _untouched(request.path, todo_before, new_text, todo_symbol)
                new_text = None if problem else new_text
            if new_text is not None:
                report("checking the edit")
                problem = await lint_problem(self._gate, request.path, text, new_text) or ""
            if new_text is not None and not problem and tests is not None:
                report(f"running {len(tests.files)} linked test file(s)")
                problem = await tests.problem(self._gate, request.path, text, new_text) or ""
            return (problem, None) if problem else ("", new_text)

        outcome.path = request.path
        return await self._converse(
            client, messages, validate, report, max_tokens, escalation, outcome
        )

    async def write_tests(
        self,
        client: ChatClient,
        request: TaskRequest,
        text: str,
        target: TestTarget,
        report: Report,
        max_tokens: int,
        escalation: tuple[ChatClient, int] | None = None,
    ) -> LoopOutcome:
        """Write (or extend) the test file for the symbol at ``request.line``; run the tests."""
        outcome = LoopOutcome(None, model=client.endpoint.model, path=str(target.path))
        symbol = _symbol_at(request.path, text, request.line, classes=True)
        report("building context")
        pack = await asyncio.to_thread(
            self._context.build,
            ContextRequest(
                path=request.path, text=text, line=request.line, budget_tokens=self._budget,
                sections=(SectionName.DEFINITIONS, SectionName.FILE),
            ),
        )  # fmt: skip
        context = pack.text
        if target.exists:
            context += f"\n\n## Existing {target.path.name}\n{target.text}"
        prompt = tests_prompt(context, symbol, Path(request.path).name, target)
        messages = [ChatMessage("system", system_prompt()), ChatMessage("user", prompt)]
        test_path = str(target.path)
        root = self._index.root if self._index and self._index.root else target.path.parent
        runner = LinkedTests(root, (str(target.path.relative_to(root)),))

        async def validate(answer: str, complete: bool) -> tuple[str, str | None]:
            if not complete:
                return "the answer was cut off before the end; send fewer tests", None
            new_text = merge_tests(target.text, answer)
            if new_text is None:
                return "no test functions (def test_...) in a ```python block were found", None
            problem = syntax_problem(test_path, target.text, new_text)
            problem = problem or await lint_problem(self._gate, test_path, target.text, new_text)
            if not problem and importlib.util.find_spec("pytest") is not None:
                report("running the new tests")
                problem = await runner.problem(self._gate, test_path, target.text, new_text)
            return (problem, None) if problem else ("", new_text)

        return await self._converse(
            client, messages, validate, report, max_tokens, escalation, outcome
        )

    async def _converse(
        self,
        client: ChatClient,
        messages: list[ChatMessage],
        validate: Validate,
        report: Report,
        max_tokens: int,
        escalation: tuple[ChatClient, int] | None,
        outcome: LoopOutcome,
    ) -> LoopOutcome:
        """Ask, validate, feed problems back; at most ``max_turns`` turns, no repeats."""
        previous: set[str] = set()
        for turn in range(1, self._max_turns + 1):
            outcome.turns = turn
            if escalation is not None and turn == escalation[1] + 1:
                client = escalation[0]
                report(f"escalating to {client.endpoint.model or client.endpoint.base_url}")
            report(f"asking the model (turn {turn}/{self._max_turns})")
            try:
                response = await client.chat(
                    ChatRequest(messages=tuple(messages), max_tokens=max_tokens)
                )
            except ModelError as exc:
                outcome.problem = f"the model call failed: {exc}"
                return outcome
            if response.usage is not None:
                outcome.prompt_tokens += response.usage.prompt_tokens
                outcome.completion_tokens += response.usage.completion_tokens
                if self._estimator is not None:  # budgets follow the model's real tokenizer
                    chars = sum(len(message.content) for message in messages)
                    self._estimator.calibrate(chars, response.usage.prompt_tokens)
            outcome.model = client.endpoint.model or response.model or outcome.model
            problem, new_text = await validate(response.text, response.complete)
            outcome.attempts.append(problem or "ok")
            if new_text is not None:
                outcome.new_text = new_text
                outcome.problem = ""
                return outcome
            outcome.problem = problem
            if response.text in previous:
                outcome.problem = f"the model repeated an unusable answer ({problem})"
                return outcome
            previous.add(response.text)
            logger.info("turn %d rejected: %s", turn, problem)
            messages += [
                ChatMessage("assistant", response.text),
                ChatMessage("user", feedback_prompt(problem)),
            ]
        return outcome

    @staticmethod
    def _check(
        path: str, text: str, answer: str, complete: bool, line: int | None = None
    ) -> tuple[str, str | None]:
        """Why an answer is unusable, or the validated new text."""
        if not complete:
            return "the answer was cut off before the end; send a shorter, complete answer", None
        result = apply_model_output(text, answer, path, line)
        if result.new_text is None:
            return result.reason or "no edit was found in the answer", None
        if result.new_text == text:
            return "the answer changes nothing", None
        complaint = syntax_problem(path, text, result.new_text)
        if complaint is not None:
            return complaint, None
        return "", result.new_text
