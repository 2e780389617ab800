"""T5 (stateful): the user types while the agent proposes edits; nothing typed is ever lost.

A Hypothesis state machine interleaves user keystrokes (delivered to the server's mirror
at once or later), agent proposals computed on the mirror's snapshot, and the edit's
round trip through an editor with VS Code's semantics (refuse a stale version) or
Neovim's (skip it silently, answer "applied"). It drives the server's own pieces: the
document mirror, the stale check before sending (``change_to_send``), the edit's
conversion to a versioned ``WorkspaceEdit`` and the landing check.

Invariants: the editor's text is the user's edits with each agent edit applied iff its
base version still matched; the server's verdict ("applied", "stale", "not-landed")
agrees with what happened; after delivery the mirror equals the editor.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from lsprotocol import types

from smallcode_ls.agent.runner import TaskRun, change_to_send
from smallcode_ls.agent.tasks import TaskOutcome, TaskResult
from smallcode_ls.documents import DocumentStore, TextChange, apply_change
from smallcode_ls.lsp.convert import to_lsp_workspace_edit
from smallcode_ls.lsp.landing import landing_verdict
from smallcode_ls.positions import PositionEncoding, TextPosition

URI = "file:///ws/geo.py"
ENCODING = PositionEncoding.UTF16


@dataclass
class Editor:
    """The editor's buffer, and the didChange notifications not yet delivered."""

    profile: str
    text: str
    version: int = 1
    pending: list[tuple[int, str]] = field(default_factory=list)

    def change(self, text: str) -> None:
        self.text, self.version = text, self.version + 1
        self.pending.append((self.version, text))

    def apply(self, edit: types.WorkspaceEdit) -> tuple[bool, bool]:
        """(answered applied, really changed) for one versioned text edit."""
        (change,) = edit.document_changes or []
        assert isinstance(change, types.TextDocumentEdit)
        if change.text_document.version != self.version:
            return (self.profile == "neovim", False)  # VS Code refuses; Neovim skips silently
        text = self.text
        for item in sorted(change.edits, key=lambda e: (e.range.start.line,
                           e.range.start.character), reverse=True):  # fmt: skip
            start = TextPosition(item.range.start.line, item.range.start.character)
            end = TextPosition(item.range.end.line, item.range.end.character)
            text = apply_change(text, TextChange(item.new_text, start, end), ENCODING)
        self.change(text)
        return (True, True)


class Interleavings(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.mirror = DocumentStore(encoding=ENCODING)
        self.mirror.open(URI, 1, "a = 1\n", "python")
        self.editor = Editor("vscode", "a = 1\n")
        self.proposal: tuple[int, str, str] | None = None  # base version, old, new
        self.expected = "a = 1\n"  # the user's edits, plus agent edits that landed
        self.agent_edits = 0

    @rule(profile=st.sampled_from(["vscode", "neovim"]))
    def choose_editor(self, profile: str) -> None:
        self.editor.profile = profile

    @rule(word=st.sampled_from(["x", "y = 2", "é", "😀", ""]), at_end=st.booleans())
    def user_types(self, word: str, at_end: bool) -> None:
        text = self.editor.text + word + "\n" if at_end else word + "\n" + self.editor.text
        self.editor.change(text)
        self.expected = text

    @rule()
    def deliver(self) -> None:
        for version, text in self.editor.pending:
            self.mirror.change(URI, version, [TextChange(text)])
        self.editor.pending.clear()

    @rule(line=st.integers(min_value=0, max_value=3))
    def agent_proposes(self, line: int) -> None:
        snapshot = self.mirror.require(URI)
        lines = snapshot.text.splitlines(keepends=True)
        lines.insert(min(line, len(lines)), f"agent_{self.agent_edits} = True\n")
        self.agent_edits += 1
        self.proposal = (snapshot.version or 0, snapshot.text, "".join(lines))

    @precondition(lambda self: self.proposal is not None)
    @rule()
    def server_sends_the_edit(self) -> None:
        assert self.proposal is not None
        base, old, new = self.proposal
        self.proposal = None
        finished = TaskRun(TaskResult(TaskOutcome.PREVIEW, ""), new, "/ws/geo.py", old)
        change = change_to_send(self.mirror, finished, URI, base)
        if isinstance(change, str):
            assert self.mirror.require(URI).version != base  # stale on the server: not sent
            return
        edit = to_lsp_workspace_edit([change], "SmallCode", True, ENCODING)
        answered, changed = self.editor.apply(edit)
        if changed:
            self.expected = self.editor.text
        # The landing check sees the mirror once the editor's didChange arrived.
        self.deliver()
        current = self.mirror.require(URI)
        verdict = landing_verdict(current.version, current.text, base, new) if answered else None
        if answered and changed:
            assert verdict is True, "an edit that landed must be reported applied"
        if answered and not changed:
            # Neovim's silent skip. Mirror unmoved: undecided, so the server times out and
            # says "not-landed". Moved by one user edit: detected. Moved by two or more user
            # edits: indistinguishable from a landing followed by typing (documented limit).
            moved = (current.version or 0) - base
            if moved == 0:
                assert verdict is None
            elif moved == 1:
                assert verdict is False
            else:
                assert verdict is True

    @invariant()
    def nothing_typed_is_lost(self) -> None:
        assert self.editor.text == self.expected

    @invariant()
    def the_mirror_follows_the_editor(self) -> None:
        if not self.editor.pending:
            assert self.mirror.require(URI).text == self.editor.text


Interleavings.TestCase.settings = settings(max_examples=150, stateful_step_count=30, deadline=None)
TestInterleavings = Interleavings.TestCase
