"""The one choke point for processes: trust, confirmation, argv only, sandbox, limits.

Every process SmallCode starts on behalf of a task goes through
:meth:`ProcessGate.run`. In order: the workspace must be trusted; the exact command
(name, argv template, allowed environment names) must be confirmed by the user,
single-use for ad-hoc commands, standing per workspace for named validation commands
(any change to what they run asks again); it runs as an argv (never a shell string)
inside the sandbox, in its own process group, with a cleared environment, a
wall-clock limit, an output cap and a memory cap. Without a working sandbox the run
is refused unless the user opted out in user-level settings.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import signal
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from smallcode_ls.errors import SmallCodeError
from smallcode_ls.security.sandbox import Sandbox, find_bwrap
from smallcode_ls.security.trust import WorkspaceTrust

__all__ = [
    "Command",
    "Confirm",
    "Confirmation",
    "Decision",
    "ExecutionRefused",
    "ProcessGate",
    "RunResult",
    "deny_all",
]

logger = logging.getLogger(__name__)

_SAFE_ENV = ("PATH", "LANG", "LC_ALL", "TZ", "COLUMNS", "PYTHONDONTWRITEBYTECODE", "PYTHONHASHSEED")
_TRUNCATED = "\n[output truncated by SmallCode]\n"


class ExecutionRefused(SmallCodeError):
    """A process was not started: untrusted workspace, denied, or no sandbox."""


class Decision(StrEnum):
    """The user's answer to a confirmation."""

    ALWAYS = "always"  # standing approval for this workspace (named commands only)
    ONCE = "once"
    DENY = "deny"


@dataclass(frozen=True, slots=True)
class Confirmation:
    """What the user is asked to approve: exactly this command, in this workspace."""

    name: str  # a named validation command ("lint", "tests"), or "" for ad-hoc
    shown: str  # the command as displayed
    digest: str
    standing_allowed: bool


Confirm = Callable[[Confirmation], Awaitable[Decision]]


async def deny_all(question: Confirmation) -> Decision:
    """The confirmer when no one can be asked: nothing runs."""
    return Decision.DENY


@dataclass(frozen=True, slots=True)
class Command:
    """A command to run: argv (never a shell string) in a scratch folder."""

    argv: tuple[str, ...]
    scratch: Path
    name: str = ""
    template: tuple[str, ...] = ()  # argv with per-run paths replaced, for the digest
    env: Mapping[str, str] = field(default_factory=dict)
    timeout_s: float = 60.0
    output_cap: int = 1 << 20
    memory_bytes: int = 4 << 30

    @property
    def digest(self) -> str:
        """sha256 over the name, the argv template and the environment names."""
        spec = [self.name, list(self.template or self.argv), sorted(self.env)]
        return hashlib.sha256(json.dumps(spec).encode()).hexdigest()

    def shown(self) -> str:
        """The command as the user sees it in the confirmation."""
        return " ".join(self.template or self.argv)


@dataclass(frozen=True, slots=True)
class RunResult:
    """How a command ended, with its (capped) combined output."""

    returncode: int
    output: str
    truncated: bool = False
    timed_out: bool = False


@dataclass(slots=True)
class ProcessGate:
    """Runs commands for one workspace, or refuses with the reason."""

    trust: WorkspaceTrust
    confirm: Confirm
    allow_unsandboxed: bool = False
    bwrap: str | None = None
    spawned: list[tuple[str, ...]] = field(default_factory=list)  # the audit trail
    _sandbox_ok: bool | None = None

    @property
    def sandbox(self) -> Sandbox | None:
        """The sandbox, if one can be built here (checked once, after trust)."""
        if self._sandbox_ok is None:
            path = self.bwrap or find_bwrap()
            self.bwrap = path
            self._sandbox_ok = bool(path) and Sandbox(path or "").works()
        return Sandbox(self.bwrap or "") if self._sandbox_ok else None

    async def _approved(self, command: Command) -> bool:
        root = self.trust.root
        digest = command.digest
        if command.name and digest in self.trust.once:
            return True
        if command.name and root and self.trust.store.is_approved(root, command.name, digest):
            return True
        question = Confirmation(command.name, command.shown(), digest, bool(command.name))
        decision = await self.confirm(question)
        if decision is Decision.ALWAYS and command.name and root is not None:
            self.trust.store.approve(root, command.name, digest)
            return True
        if decision is Decision.ONCE and command.name:
            self.trust.once.add(digest)  # this session only
        return decision in (Decision.ONCE, Decision.ALWAYS)

    async def run(self, command: Command) -> RunResult:
        """Run ``command`` if trust, confirmation and sandbox allow; else raise."""
        if not self.trust.trusted:
            raise ExecutionRefused(
                "the workspace is not trusted: SmallCode runs no commands in it "
                "(trust it with the 'SmallCode: trust workspace' command or --trust)"
            )
        if not command.argv or not Path(command.argv[0]).is_absolute():
            raise ExecutionRefused("commands run by absolute path only")
        if not await self._approved(command):
            raise ExecutionRefused(f"not allowed by the user: {command.shown()}")
        env = {name: value for name, value in command.env.items() if name in _SAFE_ENV}
        env.setdefault("PATH", "/usr/bin:/bin")
        env["HOME"] = "/tmp"
        sandbox = await asyncio.to_thread(lambda: self.sandbox)
        if sandbox is not None:
            argv = sandbox.wrap(command.argv, command.scratch, env, command.memory_bytes)
        elif self.allow_unsandboxed:
            logger.warning("running without a sandbox (the user opted out): %s", command.shown())
            argv = list(command.argv)
        else:
            raise ExecutionRefused(
                "no sandbox can be built here (bubblewrap is missing or user namespaces are "
                "off): install bubblewrap, or set security.allowUnsandboxed in user settings"
            )
        self.spawned.append(tuple(command.argv))
        return await _run(argv, command, env)


async def _run(argv: list[str], command: Command, env: Mapping[str, str]) -> RunResult:
    process = await asyncio.create_subprocess_exec(
        *argv,
        cwd=command.scratch,
        env=dict(env),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
    )
    chunks: list[bytes] = []
    size = 0
    truncated = False

    async def drain() -> None:
        nonlocal size, truncated
        assert process.stdout is not None
        while chunk := await process.stdout.read(65536):
            if size < command.output_cap:
                chunks.append(chunk[: command.output_cap - size])
            size += len(chunk)
            if size > command.output_cap:
                truncated = True
            if size > 16 * command.output_cap and process.returncode is None:
                _kill(process)  # a flood: stop it; the rest drains to EOF, unkept
        await process.wait()

    timed_out = False
    try:
        await asyncio.wait_for(drain(), command.timeout_s)
    except TimeoutError:
        timed_out = True
    finally:
        _kill(process)
        with contextlib.suppress(ProcessLookupError, TimeoutError):
            # wait() also waits for the pipe to close, which a stray child may hold open
            await asyncio.wait_for(process.wait(), 5)
        # A timeout leaves the pipe unread to its end: close it here.
        transport = getattr(process, "_transport", None)
        if transport is not None:
            transport.close()
    output = b"".join(chunks).decode("utf-8", "replace")
    if truncated:
        output += _TRUNCATED
    if timed_out:
        output += f"\n[killed after {command.timeout_s:.0f} s]\n"
    code = process.returncode if process.returncode is not None else -9
    return RunResult(code, output, truncated, timed_out)


def _kill(process: asyncio.subprocess.Process) -> None:
    """Kill the command's whole process group (it has its own session)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
