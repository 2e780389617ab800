"""B6: agent end-to-end task success. SmallCode-LS vs a naive harness vs aider, same model.

Tasks are real bugs and masked functions in third-party sdists, verified by the projects'
own tests (bench/suites/b6-default.jsonl). Every arm talks to one OpenAI-compatible endpoint
through a loopback proxy that counts tokens and enforces the turn cap. Run with the project
venv:

    .venv/bin/python bench/e2e.py generate --seed 6 --out bench/suites/b6-default.jsonl
    .venv/bin/python bench/e2e.py run                       # embedded Qwen2.5-Coder-1.5B
    .venv/bin/python bench/e2e.py run --base-url http://127.0.0.1:11434/v1 --model qwen2.5-coder:7b
    .venv/bin/python bench/e2e.py report
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchkit import machine_facts  # noqa: E402
from e2e_lib.arms import ARMS, Endpoint  # noqa: E402
from e2e_lib.proxy import UsageProxy  # noqa: E402
from e2e_lib.report import build_report, load_rows, plot, write_markdown  # noqa: E402
from e2e_lib.runner import harness_version, merge_meta, run_suite  # noqa: E402
from e2e_lib.suite import generate, load_suite, save_suite  # noqa: E402

BENCH = Path(__file__).resolve().parent
DEFAULT_SUITE = BENCH / "suites" / "b6-default.jsonl"
DEFAULT_RESULTS = BENCH / "results"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def cmd_generate(args: argparse.Namespace) -> int:
    tasks = generate(
        args.seed,
        args.cache_dir,
        per_project=args.per_project,
        projects=args.projects.split(",") if args.projects else None,
        log=log,
    )
    save_suite(tasks, args.out)
    log(f"wrote {len(tasks)} verified tasks to {args.out}")
    return 0


def start_embedded(threads: int, context: int) -> tuple[object, str, str]:
    """The bundled model as an in-process OpenAI-compatible server on 127.0.0.1."""
    sys.path.insert(0, str(BENCH.parent / "server"))
    from smallcode_ls.llm.embedded import DEFAULT_ALIAS, EmbeddedModel

    model = EmbeddedModel(threads=threads, context_size=context)
    url = asyncio.run(model.ensure_started())
    return model, url, DEFAULT_ALIAS


def cmd_run(args: argparse.Namespace) -> int:
    tasks = load_suite(args.suite)
    if args.tasks:
        wanted = args.tasks.split(",")
        tasks = [t for t in tasks if t.id in wanted or any(t.id.startswith(w) for w in wanted)]
    if args.limit:
        tasks = tasks[: args.limit]
    arms = args.arms.split(",")
    embedded = None
    if args.base_url:
        upstream, model = args.base_url, args.model
    else:
        log(f"starting the embedded model (threads={args.threads}, context={args.window})")
        embedded, upstream, model = start_embedded(args.threads, args.window)
    proxy = UsageProxy(upstream, args.turn_cap)
    url = proxy.start()
    out = args.out or DEFAULT_RESULTS / f"b6-{args.label}.jsonl"
    harness = harness_version(BENCH.parent)
    merge_meta(out.with_suffix(".meta.json"), {
        "suite": str(args.suite.relative_to(BENCH.parent)) if args.suite.is_absolute()
        and args.suite.is_relative_to(BENCH.parent) else str(args.suite),
        "model": model, "endpoint": "embedded xllamacpp" if embedded else args.base_url,
        "turn_cap": args.turn_cap, "window": args.window, "threads": args.threads,
        "temperature": 0, "arms": arms, "machine": machine_facts(), "harness": harness,
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    })  # fmt: skip
    endpoint = Endpoint(
        base_url=url,
        model=model,
        turn_cap=args.turn_cap,
        window=args.window,
        agent_python=args.agent_python,
        aider_venv=args.aider_venv or args.cache_dir / "venvs" / "aider",
        harness=harness,
    )
    deadline = time.time() + args.max_minutes * 60 if args.max_minutes else None
    try:
        written = run_suite(tasks, arms, endpoint, proxy, out, args.cache_dir,
                            args.test_python, log=log, deadline=deadline)  # fmt: skip
    finally:
        proxy.close()
        if embedded is not None:
            embedded.close()  # type: ignore[attr-defined]
    log(f"wrote {written} rows to {out}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    rows_path = args.rows or DEFAULT_RESULTS / f"b6-{args.label}.jsonl"
    meta_path = rows_path.with_suffix(".meta.json")
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    suite = BENCH.parent / meta["suite"] if meta.get("suite") else args.suite
    size = args.suite_size or len(load_suite(suite))
    report = build_report(load_rows(rows_path), meta, size)
    out = rows_path.with_suffix(".json")
    figure = rows_path.with_suffix(".png")
    out.write_text(json.dumps(report, indent=2) + "\n")
    drawn = plot(report, figure)
    write_markdown(report, rows_path.with_suffix(".md"), figure.name)
    log(f"{report['status']}; wrote {out}, {rows_path.with_suffix('.md')}"
        + (f", {figure}" if drawn else " (no matplotlib: no figure)"))  # fmt: skip
    print(rows_path.with_suffix(".md").read_text())
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache-dir", type=Path, default=BENCH / ".cache")
    sub = ap.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate", help="draw and verify a task suite (downloads sdists once)")
    gen.add_argument("--seed", type=int, default=6)
    gen.add_argument("--per-project", type=int, default=4, help="tasks per kind per project")
    gen.add_argument("--projects", help="comma-separated subset of attrs,click,itsdangerous")
    gen.add_argument("--out", type=Path, default=DEFAULT_SUITE)
    run = sub.add_parser("run", help="run the arms on the suite (resumable JSONL)")
    run.add_argument("--suite", type=Path, default=DEFAULT_SUITE)
    run.add_argument("--arms", default=",".join(ARMS), help=f"subset of {','.join(ARMS)}")
    run.add_argument("--tasks", help="comma-separated task ids (or id prefixes)")
    run.add_argument("--limit", type=int, help="only the first N tasks")
    run.add_argument("--base-url", help="OpenAI-compatible endpoint; default: embedded model")
    run.add_argument("--model", default="", help="model name at --base-url")
    run.add_argument("--label", default="embedded", help="results/b6-LABEL.jsonl")
    run.add_argument("--out", type=Path, help="JSONL file (default from --label)")
    run.add_argument("--turn-cap", type=int, default=3)
    run.add_argument("--window", type=int, default=8192, help="context window (tokens)")
    run.add_argument("--threads", type=int, default=2, help="embedded model threads")
    run.add_argument("--agent-python", default=sys.executable, help="runs smallcode_ls")
    run.add_argument("--test-python", default=sys.executable, help="runs the task's tests")
    run.add_argument("--aider-venv", type=Path, help="default <cache>/venvs/aider")
    run.add_argument("--max-minutes", type=float, help="stop starting new runs after this")
    rep = sub.add_parser("report", help="summarise a JSONL run into JSON, Markdown and PNG")
    rep.add_argument("--label", default="embedded")
    rep.add_argument("--rows", type=Path, help="the run's JSONL (default from --label)")
    rep.add_argument("--suite", type=Path, default=DEFAULT_SUITE)
    rep.add_argument("--suite-size", type=int, help="tasks in the suite (default: count it)")
    args = ap.parse_args(argv)
    if args.command == "report":
        return cmd_report(args)
    if args.command == "generate":
        return cmd_generate(args)
    if args.command == "run":
        return cmd_run(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
