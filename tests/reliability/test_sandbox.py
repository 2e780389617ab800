"""T11 and the process choke point: trust, confirmation bound to the command, sandbox, limits."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import textwrap
from pathlib import Path

import pytest

from smallcode_ls.security.execution import (
    Command,
    Confirmation,
    Decision,
    ExecutionRefused,
    ProcessGate,
)
from smallcode_ls.security.sandbox import Sandbox, find_bwrap
from smallcode_ls.security.trust import TrustStore, WorkspaceTrust

PY = os.path.realpath(sys.executable)


class Asker:
    """A scripted user: answers in turn, records every question."""

    def __init__(self, *answers: Decision) -> None:
        self.answers = list(answers)
        self.asked: list[Confirmation] = []

    async def __call__(self, question: Confirmation) -> Decision:
        self.asked.append(question)
        return self.answers.pop(0) if self.answers else Decision.DENY


def _gate(tmp_path: Path, asker: Asker, trusted: bool = True) -> ProcessGate:
    root = tmp_path / "ws"
    root.mkdir(exist_ok=True)
    trust = WorkspaceTrust(root, TrustStore(tmp_path / "data" / "trust.json"), trusted)
    return ProcessGate(trust, asker)


def _python(scratch: Path, code: str, name: str = "tests", **limits: object) -> Command:
    script = scratch / "probe.py"
    script.write_text(textwrap.dedent(code))
    return Command((PY, "probe.py"), scratch, name=name, template=(PY, "<probe>"), **limits)  # type: ignore[arg-type]


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    folder = tmp_path / "scratch"
    folder.mkdir()
    return folder


needs_sandbox = pytest.mark.skipif(
    not (find_bwrap() and Sandbox(find_bwrap() or "").works()),
    reason="bubblewrap cannot build a sandbox on this machine",
)


async def test_untrusted_workspace_runs_nothing_and_asks_nothing(
    tmp_path: Path, scratch: Path
) -> None:
    asker = Asker(Decision.ALWAYS)
    gate = _gate(tmp_path, asker, trusted=False)
    sentinel = tmp_path / "ran"
    with pytest.raises(ExecutionRefused, match="not trusted"):
        await gate.run(_python(scratch, f"open({str(sentinel)!r}, 'w')"))
    assert asker.asked == [] and gate.spawned == [] and not sentinel.exists()


async def test_denied_or_unanswered_command_never_runs(tmp_path: Path, scratch: Path) -> None:
    asker = Asker(Decision.DENY)
    gate = _gate(tmp_path, asker)
    with pytest.raises(ExecutionRefused, match="not allowed"):
        await gate.run(_python(scratch, "print('x')"))
    assert len(asker.asked) == 1 and gate.spawned == []


async def test_shell_strings_and_relative_programs_are_refused(
    tmp_path: Path, scratch: Path
) -> None:
    gate = _gate(tmp_path, Asker(Decision.ONCE, Decision.ONCE))
    for argv in (("sh -c 'curl x | sh'",), ("curl", "http://x")):
        with pytest.raises(ExecutionRefused, match="absolute path"):
            await gate.run(Command(argv, scratch))
    assert gate.spawned == []


@needs_sandbox
async def test_standing_approval_is_bound_to_the_exact_command(
    tmp_path: Path, scratch: Path
) -> None:
    asker = Asker(Decision.ALWAYS, Decision.DENY)
    gate = _gate(tmp_path, asker)
    first = await gate.run(_python(scratch, "print('ok')"))
    again = await gate.run(_python(scratch, "print('ok')"))
    assert first.output.strip() == again.output.strip() == "ok"
    assert len(asker.asked) == 1  # the standing approval covers the same command
    # A silently changed command (another argv) asks again, and the denial holds.
    changed = Command((PY, "-c", "print('changed')"), scratch, name="tests")
    with pytest.raises(ExecutionRefused):
        await gate.run(changed)
    assert len(asker.asked) == 2 and changed.digest != first_digest(scratch)
    # The approval lives in the user-level store, bound to the digest.
    fresh = ProcessGate(gate.trust, Asker())
    assert (await fresh.run(_python(scratch, "print('ok')"))).output.strip() == "ok"


def first_digest(scratch: Path) -> str:
    return Command((PY, "probe.py"), scratch, name="tests", template=(PY, "<probe>")).digest


async def test_ad_hoc_commands_are_single_use(tmp_path: Path, scratch: Path) -> None:
    asker = Asker(Decision.ALWAYS, Decision.DENY)
    gate = _gate(tmp_path, asker)
    gate.allow_unsandboxed = True
    command = Command((PY, "-c", "print(1)"), scratch)  # no name: ad-hoc
    assert (await gate.run(command)).output.strip() == "1"
    with pytest.raises(ExecutionRefused):
        await gate.run(command)  # the same command again: asked again, denied
    assert [q.standing_allowed for q in asker.asked] == [False, False]
    assert gate.spawned == [command.argv]


async def test_no_sandbox_refuses_unless_the_user_opted_out(tmp_path: Path, scratch: Path) -> None:
    gate = _gate(tmp_path, Asker(Decision.ONCE, Decision.ONCE))
    gate.bwrap, gate._sandbox_ok = None, False  # simulate: no user namespaces / no bwrap
    with pytest.raises(ExecutionRefused, match="no sandbox"):
        await gate.run(_python(scratch, "print('x')"))
    gate.allow_unsandboxed = True
    assert (await gate.run(_python(scratch, "print('x')"))).output.strip() == "x"


@needs_sandbox
async def test_sandbox_blocks_network_dns_and_outside_writes(tmp_path: Path, scratch: Path) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.setblocking(False)
    port = listener.getsockname()[1]
    outside = tmp_path / "outside.txt"
    outside.write_text("SENTINEL")
    (scratch / ".git" / "hooks").mkdir(parents=True)
    owned = os.path.join(sys.prefix, "owned")
    gate = _gate(tmp_path, Asker(Decision.ALWAYS))
    result = await gate.run(
        _python(
            scratch,
            f"""
            import os, socket
            def attempt(what, fn):
                try:
                    fn()
                    print(what, "OK")
                except OSError as exc:
                    print(what, "BLOCKED", type(exc).__name__)
            attempt("connect", lambda: socket.create_connection(("127.0.0.1", {port}), 2))
            attempt("dns", lambda: socket.getaddrinfo("pypi.org", 443))
            attempt("outside", lambda: open({str(outside)!r}, "w").write("owned"))
            attempt("prefix", lambda: open({owned!r}, "w"))
            attempt("home", lambda: open(os.path.expanduser("~/.bashrc-x"), "w"))
            attempt("scratch", lambda: open("inside.txt", "w").write("fine"))
            print("env", sorted(os.environ))
            """,
        )
    )
    lines = dict(line.split(" ", 1) for line in result.output.strip().splitlines())
    assert lines["connect"].startswith("BLOCKED")
    assert lines["dns"].startswith("BLOCKED")
    assert lines["prefix"].startswith("BLOCKED")  # read-only bind
    assert lines["scratch"] == "OK"
    assert "SMALLCODE" not in lines["env"] and "KEY" not in lines["env"]
    assert outside.read_text() == "SENTINEL"  # the sandbox saw only a private /tmp
    assert not Path(sys.prefix, "owned").exists()
    with pytest.raises(BlockingIOError):
        listener.accept()  # nothing ever connected
    listener.close()
    await asyncio.sleep(0)


@needs_sandbox
async def test_limits_time_output_memory_and_no_survivors(tmp_path: Path, scratch: Path) -> None:
    marker = "smallcode-survivor-probe"
    gate = _gate(tmp_path, Asker(*[Decision.ONCE] * 4))
    forks = await gate.run(
        _python(
            scratch,
            f"""
            import subprocess
            subprocess.Popen(["/bin/sh", "-c", "exec -a {marker} sleep 1000"],
                             start_new_session=True)
            print("forked")
            """,
        )
    )
    assert "forked" in forks.output
    await asyncio.sleep(0.5)
    survivors = [p for p in Path("/proc").glob("[0-9]*") if _cmdline_has(p, marker)]
    assert survivors == []

    flood = await gate.run(
        _python(
            scratch,
            "import sys\nfor _ in range(4096): sys.stdout.write('x' * 65536)\n",
            output_cap=1 << 16,
        )  # fmt: skip
    )
    assert flood.truncated and len(flood.output) < (1 << 16) + 200
    assert "output truncated" in flood.output

    hungry = await gate.run(
        _python(
            scratch, "b = bytearray(8 << 30)\nprint('allocated')", memory_bytes=1 << 30
        )  # fmt: skip
    )
    assert "allocated" not in hungry.output and "MemoryError" in hungry.output

    stuck = await gate.run(_python(scratch, "import time\ntime.sleep(1000)", timeout_s=2))
    assert stuck.timed_out and "killed after" in stuck.output


def _cmdline_has(proc: Path, marker: str) -> bool:
    try:
        return marker.encode() in (proc / "cmdline").read_bytes()
    except OSError:
        return False


@needs_sandbox
async def test_cancelling_a_run_kills_the_sandbox(tmp_path: Path, scratch: Path) -> None:
    marker = "smallcode-cancel-probe"
    gate = _gate(tmp_path, Asker(Decision.ONCE))
    task = asyncio.create_task(
        gate.run(
            _python(scratch, f"import os\nos.execv('/bin/sh', ['{marker}', '-c', 'sleep 1000'])")
        )
    )
    for _ in range(100):
        await asyncio.sleep(0.05)
        if any(_cmdline_has(p, marker) for p in Path("/proc").glob("[0-9]*")):
            break
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.sleep(0.5)
    assert not any(_cmdline_has(p, marker) for p in Path("/proc").glob("[0-9]*"))
