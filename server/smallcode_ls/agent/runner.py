"""Run one task end to end without an editor: the shared core of ``run`` and the LSP commands."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from smallcode_ls.agent.loop import AgentLoop, LoopOutcome
from smallcode_ls.agent.memory import Memory
from smallcode_ls.agent.planning import find_tasks, plan_steps
from smallcode_ls.agent.tasks import TaskKind, TaskOutcome, TaskRequest, TaskResult
from smallcode_ls.agent.test_writing import test_target
from smallcode_ls.documents import DocumentStore, uri_to_path
from smallcode_ls.graph.languages import language_for_path
from smallcode_ls.graph.parser import parse_file_symbols
from smallcode_ls.llm.client import ChatClient
from smallcode_ls.llm.service import ModelService
from smallcode_ls.patch import ChangeKind, FileChange, content_sha256
from smallcode_ls.settings import Settings

__all__ = [
    "TaskRun",
    "change_to_send",
    "describe",
    "file_change",
    "request_for",
    "run_task",
    "unified_diff",
]

Report = Callable[[str], None]
_WRITE_TESTS = re.compile(r"^\s*(write|add)\s+tests?\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class TaskRun:
    """A finished task: the result, and the validated new text of ``path`` (if any)."""

    result: TaskResult
    new_text: str | None
    path: str = ""
    old_text: str = ""  # "" for a file the task creates


def request_for(
    path: Path, text: str, instruction: str, line: int | None, version: int | None = None
) -> TaskRequest:
    """Turn a headless instruction into a task: a TODO at (or first after) ``line``, if any."""
    spec = language_for_path(path)
    file = (
        parse_file_symbols(spec, text.encode("utf-8", "surrogatepass"), str(path)) if spec else None
    )
    start = line or 0
    spots = find_tasks(text, file, start, len(text.splitlines()) if line is None else start)
    todo = next((s for s in spots if s.kind is TaskKind.IMPLEMENT_TODO), None)
    if _WRITE_TESTS.match(instruction):
        return TaskRequest(TaskKind.WRITE_TESTS, str(path), path.as_uri(), version, start,
                           instruction)  # fmt: skip
    wants_todo = not instruction.strip() or "todo" in instruction.lower()
    if todo is not None and wants_todo:
        detail = todo.detail if not instruction.strip() else f"{instruction}. TODO: {todo.detail}"
        return TaskRequest(TaskKind.IMPLEMENT_TODO, str(path), path.as_uri(), version,
                           todo.line, detail)  # fmt: skip
    return TaskRequest(TaskKind.EDIT_SELECTION, str(path), path.as_uri(), version, start,
                       instruction)  # fmt: skip


def unified_diff(path: str, old: str, new: str) -> str:
    """The change as a unified diff (what the headless run prints)."""
    name = Path(path).name
    return "".join(
        difflib.unified_diff(
            old.splitlines(keepends=True), new.splitlines(keepends=True), f"a/{name}", f"b/{name}"
        )
    )


def describe(outcome: LoopOutcome) -> str:
    """One line for the user about how the loop went."""
    if outcome.new_text is not None:
        return f"validated edit after {outcome.turns} turn(s)"
    return f"no usable edit after {outcome.turns} turn(s): {outcome.problem}"


def _notes(memory: Memory | None, request: TaskRequest) -> tuple[str, ...]:
    if memory is None:
        return ()
    name = Path(request.path).name
    found = memory.recall(f"{request.instruction} {name} {request.kind.value}", request.path)
    return tuple(
        f"- {'(untrusted, quotes the repository) ' if note.untrusted else ''}{note.text}"
        for note in found
    )


def _remember(memory: Memory | None, request: TaskRequest, outcome: LoopOutcome) -> None:
    if memory is None:
        return
    name = Path(request.path).name
    verdict = "succeeded" if outcome.new_text is not None else "failed"
    notes = [(f"{request.kind.value} in {name} {verdict} after {outcome.turns} turn(s) "
              f"with {outcome.model}", False)]  # fmt: skip
    notes += [(f"{request.kind.value} in {name}: rejected answer: {problem}", False)
              for problem in outcome.attempts if problem != "ok"]  # fmt: skip
    if request.instruction:
        notes.append((f"task text in {name}: {request.instruction[:200]}", True))
    memory.record(request.kind.value, request.path, verdict, outcome.model, outcome.turns, notes)


async def _run_plan(
    loop: AgentLoop,
    client: ChatClient,
    request: TaskRequest,
    text: str,
    steps: list[str],
    report: Report,
    settings: Settings,
    escalation: tuple[ChatClient, int] | None,
    notes: tuple[str, ...],
) -> LoopOutcome:
    """One validated edit per step, each on the text the previous step left; all or nothing."""
    total = LoopOutcome(None, model=client.endpoint.model, path=request.path)
    current = text
    for number, step in enumerate(steps, start=1):
        label = f"step {number}/{len(steps)}: {step}"
        report(label)
        sub = replace(request, instruction=step)

        def step_report(message: str, label: str = label) -> None:
            report(f"{label} - {message}")

        outcome = await loop.run(
            client, sub, current, step_report, settings.model.max_output_tokens, escalation, notes
        )
        total.turns += outcome.turns
        total.prompt_tokens += outcome.prompt_tokens
        total.completion_tokens += outcome.completion_tokens
        total.model = outcome.model
        total.attempts += [f"{label}: {attempt}" for attempt in outcome.attempts]
        if outcome.new_text is None:
            total.problem = f"{label} failed: {outcome.problem}"
            return total
        current = outcome.new_text
    total.new_text = current
    return total


async def run_task(
    loop: AgentLoop,
    models: ModelService,
    settings: Settings,
    request: TaskRequest,
    text: str,
    report: Report,
    memory: Memory | None = None,
) -> TaskRun:
    """Run the loop on ``text`` and summarise; never raises for model trouble."""
    report("starting the model")
    client = await models.client()
    stronger = models.escalation(settings.escalation)
    escalation = (stronger, settings.escalation.after_failures) if stronger else None
    old_text = text
    if request.kind is TaskKind.WRITE_TESTS and loop.index is not None:
        target = test_target(loop.index, Path(request.path))
        old_text = target.text
        outcome = await loop.write_tests(
            client, request, text, target, report, settings.model.max_output_tokens, escalation
        )
    elif steps := plan_steps(request.instruction):
        outcome = await _run_plan(
            loop, client, request, text, steps, report, settings, escalation,
            _notes(memory, request),
        )  # fmt: skip
    else:
        outcome = await loop.run(
            client, request, text, report, settings.model.max_output_tokens, escalation,
            _notes(memory, request),
        )  # fmt: skip
    _remember(memory, request, outcome)
    path = outcome.path or request.path
    diff = unified_diff(path, old_text, outcome.new_text) if outcome.new_text else ""
    result = TaskResult(
        outcome=TaskOutcome.PREVIEW if outcome.new_text is not None else TaskOutcome.FAILED,
        message=describe(outcome),
        model=outcome.model,
        turns=outcome.turns,
        prompt_tokens=outcome.prompt_tokens,
        completion_tokens=outcome.completion_tokens,
        diff=diff,
        attempts=tuple(outcome.attempts),
    )
    return TaskRun(result, outcome.new_text, path, old_text)


def change_to_send(
    documents: DocumentStore, finished: TaskRun, uri: str, version: int | None
) -> FileChange | str:
    """The validated change, or why it is stale (the editor's text or the disk moved on)."""
    current = documents.get(uri)
    if current is None or current.version != version:
        return "the document changed while the task ran; the edit was dropped"
    change = file_change(documents, finished, uri, version)
    if change is None:
        return "the file changed on disk while the task ran; the edit was dropped"
    return change


def file_change(
    documents: DocumentStore, finished: TaskRun, uri: str, version: int | None
) -> FileChange | None:
    """The change to send: the task's document, or another file (a test file it wrote).

    A file that is not open gets ``version: null`` and is checked against the disk
    first; a new file becomes a create. None when the disk moved under the task.
    """
    assert finished.new_text is not None
    target = Path(finished.path).resolve()
    if uri_to_path(uri) == target:
        return FileChange(uri, version, finished.old_text, finished.new_text)
    target_uri = target.as_uri()
    open_copy = documents.get(target_uri)
    if open_copy is not None:
        if open_copy.text != finished.old_text:
            return None
        return FileChange(target_uri, open_copy.version, open_copy.text, finished.new_text)
    if not finished.old_text:
        if target.exists():
            return None
        return FileChange(target_uri, None, "", finished.new_text, ChangeKind.CREATE)
    on_disk = target.read_text(encoding="utf-8") if target.is_file() else None
    if on_disk != finished.old_text:
        return None
    return FileChange(target_uri, None, finished.old_text, finished.new_text,
                      base_sha256=content_sha256(finished.old_text))  # fmt: skip
