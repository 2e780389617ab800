"""The real server (same start-up, same protocol) plus test-only handlers that misbehave.

Run as ``python tests/reliability/faulty_server.py --stdio``. The handlers print to
stdout in every way a Python process can, raise with a secret and a path in the
message, spawn a child that outlives them, and answer slowly (for spoofing tests).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from smallcode_ls.cli import main
from smallcode_ls.lsp import server as server_module

SECRET = "sk-canary-0123456789abcdefXYZ"
PRIVATE_PATH = "/home/alice/project/.env"
_build = server_module.build_server


def build(env: Mapping[str, str], cache_dir: Path | None = None) -> Any:
    server = _build(env, cache_dir)

    @server.feature("test/print")
    def noisy(params: Any) -> str:
        print("print() from a handler")
        sys.stdout.write("sys.stdout.write from a handler\n")
        sys.stdout.flush()
        sys.__stdout__.write("sys.__stdout__ from a handler\n")  # type: ignore[union-attr]
        sys.__stdout__.flush()  # type: ignore[union-attr]
        os.write(1, b"os.write(1) from a handler\n")
        subprocess.run([sys.executable, "-c", "print('a child inheriting fd 1')"], check=True)
        return "ok"

    @server.feature("test/raise")
    def boom(params: Any) -> None:
        raise RuntimeError(f"boom key={SECRET} file={PRIVATE_PATH}")

    @server.feature("test/raiseAsync")
    async def boom_async(params: Any) -> None:
        await asyncio.sleep(0)
        raise KeyError(f"async boom {SECRET} in {PRIVATE_PATH}")

    @server.feature("test/unserializable")
    def unserializable(params: Any) -> object:
        return object()

    @server.feature("test/notifyRaise")
    def boom_notification(params: Any) -> None:
        raise RuntimeError(f"notification boom {SECRET}")

    @server.feature("test/slow")
    async def slow(params: Any) -> str:
        await asyncio.sleep(1.0)
        return "real"

    @server.feature("test/spawn")
    def spawn(params: Any) -> int:
        code = "import time; time.sleep(300)"
        child = subprocess.Popen([sys.executable, "-c", code], start_new_session=True)
        return child.pid

    @server.feature("test/block")
    def block(params: Any) -> None:
        import time

        time.sleep(30)  # a sync handler stuck on the loop: exit must still be bounded

    return server


server_module.build_server = build

if __name__ == "__main__":
    sys.exit(main())
