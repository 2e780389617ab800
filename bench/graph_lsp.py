#!/usr/bin/env python3
"""Side-by-side LSP benchmark: SmallCode-LS vs jedi-language-server on Django.

Runs each server (sequentially, never concurrently) over stdio against the same
workload and writes ONE JSON report (``bench/reports/graph_lsp[-smoke].json``)
plus a short summary table on stdout.  See ``bench/README.md`` for the meaning
of every number.

Usage (from the repo root, with the project venv so tree-sitter is importable)::

    .venv/bin/python bench/graph_lsp.py --smoke --only jedi
    .venv/bin/python bench/graph_lsp.py              # full Django, both servers
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
sys.path.insert(0, str(BENCH_DIR))

try:
    from lspbench import graph_update, report, ts, workload
    from lspbench.session import SessionConfig, run_session
except ImportError as exc:  # pragma: no cover - environment guard
    sys.exit(f"import failed ({exc}); run with the project venv: .venv/bin/python {sys.argv[0]}")

PREFERRED_FILES = (
    "django/db/models/query.py",
    "django/db/models/sql/query.py",
    "django/contrib/admin/options.py",
    "django/forms/models.py",
    "django/http/request.py",
)
TYPING_FILE = "django/db/models/query.py"
WS_QUERY = "QuerySet"
INDEX_TITLE_PREFIX = "SmallCode: indexing"
# (flag dest, full-mode default, smoke default): smoke must stay well under 60 s.
SIZE_DEFAULTS: tuple[tuple[str, float, float], ...] = (
    ("index_timeout", 120.0, 30.0),
    ("defs_per_file", 20, 10),
    ("refs_per_file", 3, 1),
    ("typing_events", 200, 50),
)


def _default_python() -> str:
    venv_python = REPO_ROOT / ".venv" / "bin" / "python"
    return str(venv_python) if venv_python.exists() else sys.executable


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line flags."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--smoke", action="store_true", help="small workload (django/db + django/utils)")
    p.add_argument("--only", choices=("ours", "jedi", "both"), default="both")
    p.add_argument(
        "--out", type=Path, help="report path (default bench/reports/graph_lsp[-smoke].json)"
    )
    p.add_argument("--cache-dir", type=Path, default=BENCH_DIR / ".cache")
    p.add_argument(
        "--ours-cmd",
        help="server command for ours (default: '<venv python> -m smallcode_ls --stdio')",
    )
    p.add_argument(
        "--jedi-cmd",
        help="server command for the peer (default: cached venv's jedi-language-server)",
    )
    p.add_argument(
        "--no-warm", action="store_true", help="skip the second (warm cache) run of ours"
    )
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--request-timeout", type=float, default=60.0)
    p.add_argument(
        "--index-timeout",
        type=float,
        help="seconds to wait for the index end (default 120, smoke 30)",
    )
    p.add_argument(
        "--defs-per-file", type=int, help="definition sites per file (default 20, smoke 10)"
    )
    p.add_argument("--symbol-repeats", type=int, default=5, help="documentSymbol calls per file")
    p.add_argument(
        "--refs-per-file", type=int, help="references calls per file (default 3, smoke 1)"
    )
    p.add_argument("--typing-events", type=int, help="didChange events (default 200, smoke 50)")
    p.add_argument(
        "--refresh-sdist", action="store_true", help="re-run pip download even if cached"
    )
    args = p.parse_args(argv)
    for name, full, smoke in SIZE_DEFAULTS:
        if getattr(args, name) is None:
            setattr(args, name, smoke if args.smoke else full)
    if args.out is None:
        args.out = BENCH_DIR / "reports" / f"graph_lsp{'-smoke' if args.smoke else ''}.json"
    return args


# ------------------------------------------------------------ workload picks
def pick_open_files(wl: workload.Workload) -> list[str]:
    """Preferred Django files present in the workload, else the 5 largest files."""
    present = [rel for rel in PREFERRED_FILES if (wl.root / rel).is_file()]
    if present:
        return present
    largest = sorted(wl.files, key=lambda f: f.stat().st_size, reverse=True)[:5]
    return [str(f.relative_to(wl.root)) for f in largest]


def _classes_by_file(wl: workload.Workload) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for path in wl.files:
        rel = str(path.relative_to(wl.root))
        if rel.startswith("django/"):
            out[rel] = ts.class_names(path.read_bytes())
    return out


def pick_queries(
    wl: workload.Workload, opened: Sequence[str], seed: int
) -> tuple[str, tuple[str, str] | None]:
    """workspace/symbol query and a (class, file) pair from a never-opened file."""
    import random

    classes = _classes_by_file(wl)
    counts: dict[str, int] = {}
    for names in classes.values():
        for name in names:
            counts[name] = counts.get(name, 0) + 1
    query = (
        WS_QUERY if WS_QUERY in counts else max(counts, key=lambda n: (counts[n], n), default="")
    )
    candidates = sorted(
        (name, rel)
        for rel, names in classes.items()
        if rel not in opened
        for name in names
        if counts[name] == 1 and len(name) >= 10 and not name.startswith("_")
    )
    unopened = random.Random(seed).choice(candidates) if candidates else None
    return query, unopened


# ---------------------------------------------------------------- runs
def _split(cmd: str) -> list[str]:
    return shlex.split(cmd)


def ours_command(args: argparse.Namespace) -> tuple[list[str], dict[str, str]]:
    """argv and extra env for our server."""
    argv = (
        _split(args.ours_cmd)
        if args.ours_cmd
        else [_default_python(), "-m", "smallcode_ls", "--stdio"]
    )
    env: dict[str, str] = {}
    server_src = REPO_ROOT / "server"
    if server_src.is_dir():
        env["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(server_src), os.environ.get("PYTHONPATH")])
        )
    return argv, env


def base_config(
    args: argparse.Namespace,
    wl: workload.Workload,
    opened: list[str],
    queries: tuple[str, tuple[str, str] | None],
) -> dict[str, Any]:
    """SessionConfig keyword arguments shared by every run."""
    typing_file = TYPING_FILE if (wl.root / TYPING_FILE).is_file() else opened[0]
    return {
        "root": wl.root,
        "open_files": opened,
        "typing_file": typing_file,
        "ws_query": queries[0],
        "unopened_class": queries[1],
        "defs_per_file": args.defs_per_file,
        "symbol_repeats": args.symbol_repeats,
        "refs_per_file": args.refs_per_file,
        "typing_events": args.typing_events,
        "request_timeout": args.request_timeout,
        "index_timeout": args.index_timeout,
        "seed": args.seed,
    }


def run_ours(args: argparse.Namespace, common: dict[str, Any], logs: Path) -> dict[str, Any]:
    """Cold full session, then a warm index-only session on the same cache dir."""
    argv, env = ours_command(args)
    cache = Path(tempfile.mkdtemp(prefix="smallcode-bench-cache-"))
    try:
        env_cold = {**env, "SMALLCODE_CACHE_DIR": str(cache)}
        cold = asyncio.run(
            run_session(
                SessionConfig(
                    label="ours-cold",
                    argv=argv,
                    env_extra=env_cold,
                    index_title_prefix=INDEX_TITLE_PREFIX,
                    log_path=logs / "ours-cold.stderr.log",
                    **common,
                )
            )
        )
        warm = None
        if not args.no_warm:
            warm = asyncio.run(
                run_session(
                    SessionConfig(
                        label="ours-warm",
                        argv=argv,
                        env_extra=env_cold,
                        index_title_prefix=INDEX_TITLE_PREFIX,
                        log_path=logs / "ours-warm.stderr.log",
                        full=False,
                        **common,
                    )
                )
            )
        return {"cold": cold, "warm": warm}
    finally:
        shutil.rmtree(cache, ignore_errors=True)


def jedi_command(args: argparse.Namespace) -> list[str]:
    """argv for the peer, creating its venv on first use."""
    if args.jedi_cmd:
        return _split(args.jedi_cmd)
    bin_dir = workload.ensure_jedi_venv(args.cache_dir, _base_python())
    return [str(bin_dir / "jedi-language-server")]


def _base_python() -> str:
    found = shutil.which("python3.11")
    return found or sys.executable


def run_jedi(argv: list[str], common: dict[str, Any], logs: Path) -> dict[str, Any]:
    """One cold full session with a fresh XDG_CACHE_HOME."""
    xdg = Path(tempfile.mkdtemp(prefix="jedi-bench-xdg-"))
    try:
        return asyncio.run(
            run_session(
                SessionConfig(
                    label="jedi-cold",
                    argv=argv,
                    env_extra={"XDG_CACHE_HOME": str(xdg)},
                    index_title_prefix=None,
                    log_path=logs / "jedi-cold.stderr.log",
                    **common,
                )
            )
        )
    finally:
        shutil.rmtree(xdg, ignore_errors=True)


# ---------------------------------------------------------------- main
def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args = parse_args(argv)
    started = time.perf_counter()
    wl = workload.prepare(args.cache_dir, args.smoke, _default_python(), args.refresh_sdist)
    print(
        f"workload: {wl.name} at {wl.root} ({len(wl.files)} .py files, {wl.megabytes:.1f} MB)",
        flush=True,
    )
    floor = ts.parse_floor(wl.files)
    opened = pick_open_files(wl)
    queries = pick_queries(wl, opened, args.seed)
    common = base_config(args, wl, opened, queries)
    floor["typing_file_edit"] = ts.edit_floor((wl.root / common["typing_file"]).read_bytes())
    logs = args.cache_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)

    rep: dict[str, Any] = {
        "schema": "smallcode-bench/graph_lsp/1",
        "mode": "smoke" if args.smoke else "full",
        "created_unix": int(time.time()),
        "machine": report.machine_facts(),
        "workload": {
            "name": wl.name,
            "root": str(wl.root),
            "sdist": wl.sdist,
            "sdist_sha256": wl.sdist_sha256,
            "py_files": len(wl.files),
            "megabytes": round(wl.megabytes, 3),
            "opened_files": opened,
            "typing_file": common["typing_file"],
            "workspace_symbol_query": queries[0],
            "unopened_class": queries[1],
            "seed": args.seed,
        },
        "floor": floor,
        "settings": {
            k: common[k]
            for k in (
                "defs_per_file",
                "symbol_repeats",
                "refs_per_file",
                "typing_events",
                "request_timeout",
                "index_timeout",
            )
        },
        "versions": {
            "project_venv": report.venv_versions(_default_python(), report.PROJECT_PACKAGES)
        },
    }
    ours = peer = None
    if args.only in ("ours", "both"):
        print("running ours (cold + warm) ...", flush=True)
        runs = run_ours(args, common, logs)
        ours, rep["ours"], rep["ours_warm"] = runs["cold"], runs["cold"], runs["warm"]
        print("measuring ours in-process: didChange -> graph updated ...", flush=True)
        rep["ours_graph_update"] = graph_update.measure(
            wl.root, common["typing_file"], common["typing_events"]
        )
        ours["graph_update"] = rep["ours_graph_update"]
    if args.only in ("jedi", "both"):
        print("running jedi-language-server ...", flush=True)
        jedi_argv = jedi_command(args)
        rep["versions"]["jedi_venv"] = report.venv_versions(
            str(Path(jedi_argv[0]).with_name("python")), report.JEDI_PACKAGES
        )
        peer = rep["jedi_language_server"] = run_jedi(jedi_argv, common, logs)
    rep["ratios"] = report.ratios(ours, peer)
    rep["targets"] = report.targets(ours, rep["ratios"])
    rep["total_wall_s"] = round(time.perf_counter() - started, 2)
    report.write_json(rep, args.out)
    print(report.summary_table(rep))
    print(f"report: {args.out}  (total {rep['total_wall_s']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
