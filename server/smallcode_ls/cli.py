"""Command line: ``smallcode-ls --stdio`` (default) or ``--tcp``; logging set-up. Nothing else."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from smallcode_ls import __version__

__all__ = ["main"]

_SWITCH_INTERVAL_S = 0.0005


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="smallcode-ls",
        description="SmallCode-LS: a coding agent for small local models, as a language server.",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--stdio", action="store_true", help="talk LSP over stdin/stdout (default)")
    mode.add_argument("--tcp", action="store_true", help="listen for one LSP client over TCP")
    parser.add_argument("--host", default="127.0.0.1", help="TCP host (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=2087, help="TCP port (default 2087)")
    parser.add_argument("--version", action="version", version=f"smallcode-ls {__version__}")
    parser.add_argument("--log-file", type=Path, help="also write logs to this file")
    parser.add_argument(
        "--log-level",
        default="INFO",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="log level (default INFO)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    ask = commands.add_parser(
        "ask",
        help="ask the configured model (the embedded one when no endpoint is set)",
        description="Stream one answer from the model; exit 0, 1 (failed) or 3 (truncated).",
    )
    ask.add_argument("prompt", help="what to ask")
    ask.add_argument(
        "--max-tokens", type=int, help="cap the answer (default model.maxOutputTokens)"
    )
    run = commands.add_parser(
        "run",
        help="run an agent task on a file and print the validated edit as a diff",
        description="Implement a TODO or follow an instruction; writes only with --apply.",
    )
    run.add_argument("instruction", help='what to do ("" or "implement TODO" for the TODO)')
    run.add_argument("target", metavar="FILE[:LINE]", help="the file (and 1-based line)")
    run.add_argument("--apply", action="store_true", help="write the validated edit to the file")
    run.add_argument("--json", action="store_true", help="print the result as JSON")
    run.add_argument(
        "--trust",
        action="store_true",
        help="trust the project for this run: its linter and linked tests may run (sandboxed)",
    )
    return parser


def _configure_logging(level: str, log_file: Path | None) -> None:
    """Logs go to stderr (and a file): stdout carries only JSON-RPC frames."""
    from smallcode_ls.lsp.sanitize import LogBudget, Redactor

    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file is not None:
        handlers.append(logging.FileHandler(log_file, encoding="utf-8"))
    # Every record masked; records caused by client input short and rate-limited.
    budget = LogBudget(Redactor(os.environ))
    for handler in handlers:
        handler.addFilter(budget)
    logging.basicConfig(
        level=level,
        handlers=handlers,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,
    )
    pygls_level = logging.DEBUG if level == "DEBUG" else logging.WARNING
    logging.getLogger("pygls").setLevel(pygls_level)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``smallcode-ls`` console script."""
    import smallcode_ls.lsp.watchdog  # noqa: F401 - notes the parent pid before slow imports

    args = _parser().parse_args(argv)
    if args.command == "ask":
        import asyncio

        from smallcode_ls.headless import ask

        _configure_logging("WARNING" if args.log_level == "INFO" else args.log_level, args.log_file)
        return asyncio.run(ask(args.prompt, os.environ, args.max_tokens))
    if args.command == "run":
        import asyncio

        from smallcode_ls.headless import run

        _configure_logging("WARNING" if args.log_level == "INFO" else args.log_level, args.log_file)
        return asyncio.run(
            run(args.instruction, args.target, os.environ, args.apply, args.json, args.trust)
        )
    _configure_logging(args.log_level, args.log_file)
    # Graph updates run on worker threads; a short GIL switch interval lets the event
    # loop answer a request within ~1 ms instead of waiting out the default 5 ms slice.
    sys.setswitchinterval(_SWITCH_INTERVAL_S)
    from smallcode_ls.lsp.server import build_server

    server = build_server(os.environ)
    if args.tcp:
        return server.serve_tcp(args.host, args.port)
    in_fd, out_fd = _private_stdio()
    return server.serve_stdio(in_fd, out_fd)


def _private_stdio() -> tuple[int, int]:
    """Take fds 0 and 1 for the frame streams; leave /dev/null and stderr in their place.

    A ``print()`` in a handler, a C library writing to fd 1 or a child process that
    inherits it then lands on stderr instead of corrupting the frames, and no child
    can read the client's messages from an inherited stdin.
    """
    sys.stdout.flush()
    in_fd, out_fd = os.dup(0), os.dup(1)  # duplicates are not inherited by children
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return in_fd, out_fd


if __name__ == "__main__":
    sys.exit(main())
