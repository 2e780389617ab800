"""B1: model-free context retrieval — masked-body cross-file recall@budget.

Ours (`smallcode_ls.context.bench_api.retrieve_context`) vs aider's RepoMap (own venv),
BM25 over def/class chunks (own venv, bm25s) and an imports-first baseline, in one run, on the
same targets and budgets, counted with one token counter and scored by one scorer.

    .venv/bin/python bench/context_recall.py --smoke        # flask, 10 targets
    .venv/bin/python bench/context_recall.py                # 4 repos x 40 targets
    .venv/bin/python bench/context_recall.py --projects "attrs==25.4.0" --seed 7

See bench/README.md (section B1) for what is measured and how.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchkit import machine_facts  # noqa: E402
from recall_lib import metrics, pysrc, scoring  # noqa: E402
from recall_lib.groundtruth import DefIndex, GtItem, JediGT, PyreflyGT, pyrefly_version  # noqa: E402
from recall_lib.retrievers import (  # noqa: E402
    Aider,
    Bm25,
    ImportsFirst,
    Ours,
    Query,
    Repo,
    Retriever,
    StandIn,
    load_ours,
    scratch_facts,
)
from recall_lib.tokens import Counter  # noqa: E402
from recall_lib.workload import DEFAULT_PROJECTS, Project, parse_projects, prepare  # noqa: E402

BENCH = Path(__file__).resolve().parent
REPO_ROOT = BENCH.parent
AIDER_REQ = "aider-chat==0.86.2"
PYREFLY_REQ = "pyrefly==1.4.1"
BM25_REQ = "bm25s==0.3.16"
OURS_DEFAULT = "smallcode_ls.context.bench_api:retrieve_context"


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def ensure_venv(cache: Path, name: str, req: str, probe: str) -> Path:
    venv = cache / "venvs" / name
    py = venv / "bin" / "python"
    if py.exists():
        ok = subprocess.run([str(py), "-c", probe], capture_output=True, check=False)
        if ok.returncode == 0:
            return py
    log(f"creating {venv} with {req}")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(py), "-m", "pip", "install", "-q", req], check=True)
    return py


def machine() -> dict[str, Any]:
    return {**machine_facts(), "pythonhashseed": os.environ.get("PYTHONHASHSEED")}


def _git_rev() -> str:
    res = subprocess.run(["git", "-C", str(REPO_ROOT), "rev-parse", "--short", "HEAD"],
                         capture_output=True, text=True, check=False)  # fmt: skip
    dirty = subprocess.run(["git", "-C", str(REPO_ROOT), "status", "--porcelain", "server"],
                           capture_output=True, text=True, check=False)  # fmt: skip
    return res.stdout.strip() + ("+dirty(server)" if dirty.stdout.strip() else "")


def _bump_write(path: Path, text: str) -> None:
    """Write and move the mtime forward (aider's tag cache is keyed by mtime)."""
    before = path.stat().st_mtime_ns
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write(text)
    ns = max(time.time_ns(), before + 1_000_000)
    os.utime(path, ns=(ns, ns))


def pick_targets(
    p: Project, load: Any, jedi_gt: JediGT, n: int, seed: int, min_body: int
) -> list[tuple[pysrc.Target, set[GtItem]]]:
    cands: list[pysrc.Target] = []
    for rel in p.py_files:
        if not p.is_source(rel):
            continue
        ff = load(rel)
        if ff is not None:
            cands.extend(pysrc.candidate_targets(rel, ff, min_body))
    cands.sort(key=lambda t: t.id)
    random.Random(seed).shuffle(cands)
    # group the shuffled order by file so one jedi Script serves several tries in a row
    chosen: list[tuple[pysrc.Target, set[GtItem]]] = []
    tried = 0
    for t in cands:
        if len(chosen) >= n:
            break
        tried += 1
        gt = jedi_gt.defs(_text(load, t.rel), t)
        if gt:
            chosen.append((t, gt))
    log(f"{p.spec.key}: {len(cands)} candidates, tried {tried}, chose {len(chosen)}")
    return chosen


def _text(load: Any, rel: str) -> str:
    ff = load(rel)
    assert ff is not None, rel
    return str(ff.text)


def oracle_tokens(gt: set[GtItem], load: Any, counter: Counter) -> int:
    """Tokens to show every GT signature: `### path` blocks with the def/class lines."""
    by_file: dict[str, list[str]] = {}
    for rel, _name, _kind, line in sorted(gt):
        ff = load(rel)
        d = ff.by_line.get(line) if ff is not None else None
        if d is not None:
            by_file.setdefault(rel, []).append(d.signature.strip())
    text = "".join(f"### {rel}\n" + "\n".join(sigs) + "\n" for rel, sigs in by_file.items())
    return counter.count(text)


def run_project(
    args: argparse.Namespace, spec: Any, counter: Counter, ours_fn: Any, pys: dict[str, Path]
) -> dict[str, Any]:
    cache: Path = args.cache_dir
    t0 = time.perf_counter()
    p = prepare(cache, spec)
    log(f"{spec.key}: {len(p.py_files)} .py files, scratch {p.scratch}")
    load = scratch_facts(p.src)
    index = DefIndex(p.src, load)
    jedi_gt = JediGT(p.src, index)
    n = args.per_repo_override.get(spec.name.lower(), args.per_repo)
    chosen = pick_targets(p, load, jedi_gt, n, args.seed, args.min_body)
    # independent engine on the chosen targets
    pyre_sets: list[set[GtItem]] = []
    pyre_meta: dict[str, Any] = {"engine": "pyrefly lsp textDocument/definition"}
    if not args.no_crosscheck:
        pyre = PyreflyGT(
            pys["pyrefly"], p.src, index, cache / "logs" / f"b1-pyrefly-{spec.key}.log"
        )
        try:
            for t, _ in chosen:
                pyre_sets.append(pyre.defs(_text(load, t.rel), t))
        finally:
            pyre.close()
        pyre_meta.update(seconds=round(pyre.seconds, 2), request_errors=pyre.errors)
    else:
        pyre_sets = [set(gt) for _, gt in chosen]
    gt_meta = _gt_stats(chosen, pyre_sets)
    gt_meta.update(jedi_seconds=round(jedi_gt.seconds, 2), pyrefly=pyre_meta)

    # retrievers see the scratch copy (identical to src until a target is masked)
    repo = Repo(p.scratch, p.py_files, scratch_facts(p.scratch), p.is_source)
    all_lines = [d.signature + "\n" for rel in p.py_files if (ff := repo.load(rel))
                 for d in ff.defs if not d.in_function]  # fmt: skip
    counter.prime(all_lines + [f"### {rel}\n" for rel in p.py_files])
    known = set(p.py_files)
    setup: dict[str, Any] = {}
    retrievers: list[Retriever] = []
    for name in args.retrievers:
        s0 = time.perf_counter()
        r: Retriever
        if name == "ours":
            r = Ours(p.scratch, ours_fn) if ours_fn is not None else StandIn(repo, counter)
        elif name == "aider":
            r = Aider(p.scratch, p.py_files, pys["aider"], cache / "logs" / "b1-aider.log")
        elif name == "bm25":
            r = Bm25(repo, counter, pys["bm25"], cache / "logs" / "b1-bm25.log")
        else:
            r = ImportsFirst(repo, counter)
        setup[name] = {"setup_s": round(time.perf_counter() - s0, 3)}
        retrievers.append(r)

    rows: dict[str, dict[int, list[dict[str, Any]]]] = {
        r.name: {b: [] for b in args.budgets} for r in retrievers
    }
    targets_out: list[dict[str, Any]] = []
    for i, ((t, gt), gt_p) in enumerate(zip(chosen, pyre_sets, strict=True)):
        path = p.scratch / t.rel
        with path.open(encoding="utf-8", newline="") as fh:
            original = fh.read()
        masked, line = pysrc.mask(original, t)
        _bump_write(path, masked)
        gt_x = gt & gt_p
        idents = tuple(pysrc.identifiers(t.task_text))
        try:
            if i == 0:  # warm-up (index build, aider tag cache): timed apart, not scored
                for r in retrievers:
                    q = Query(t.rel, path, masked, line, args.budgets[0], t.task_text,
                              t.qualname, idents)  # fmt: skip
                    w0 = time.perf_counter()
                    r.query(q)
                    setup[r.name]["first_query_s"] = round(time.perf_counter() - w0, 3)
            per_target: dict[str, Any] = {}
            for r in retrievers:
                for b in args.budgets:
                    q = Query(t.rel, path, masked, line, b, t.task_text, t.qualname, idents)
                    text, secs = r.query(q)
                    shown = scoring.shown_defs(text, r.style, known)
                    hit = scoring.recalled(gt, shown)
                    hit_x = scoring.recalled(gt_x, shown)
                    toks = counter.count(text)
                    rows[r.name][b].append({"gt": len(gt), "hit": len(hit), "gt_x": len(gt_x),
                                            "hit_x": len(hit_x), "tokens": toks,
                                            "seconds": secs})  # fmt: skip
                    per_target.setdefault(r.name, {})[str(b)] = [len(hit), toks, round(secs, 4)]
                    if args.dump is not None:
                        d = args.dump / spec.key / f"{i:03d}"
                        d.mkdir(parents=True, exist_ok=True)
                        (d / f"{r.name}-{b}.txt").write_text(text)
                        (d / "target.json").write_text(json.dumps(
                            {"id": t.id, "line": line, "gt": sorted(gt), "gt_x": sorted(gt_x)}
                        ))  # fmt: skip
        finally:
            _bump_write(path, original)
        targets_out.append({
            "id": t.id, "body_lines": t.body_end - t.body_start + 1,
            "gt": sorted(f"{g[0]}::{g[1]}" for g in gt),
            "gt_pyrefly_only": sorted(f"{g[0]}::{g[1]}" for g in gt_p - gt),
            "oracle_tokens": oracle_tokens(gt, load, counter),
            "results": per_target,
        })  # fmt: skip
        if (i + 1) % 5 == 0 or i + 1 == len(chosen):
            log(f"{spec.key}: {i + 1}/{len(chosen)} targets")
    for r in retrievers:
        r.close()

    cells = {name: {str(b): metrics.cell(rs[b], b) for b in args.budgets}
             for name, rs in rows.items()}  # fmt: skip
    lat_all = {}
    for name, rs in rows.items():
        all_s: list[float] = [float(row["seconds"]) for b in args.budgets for row in rs[b]]
        lat_all[name] = {
            "queries": len(all_s),
            "p50_s": metrics.pct(all_s, 0.5),
            "p95_s": metrics.pct(all_s, 0.95),
            "max_s": max(all_s, default=None),
        }
    oracles = [float(x["oracle_tokens"]) for x in targets_out]
    return {
        "sdist": p.sdist.name,
        "sdist_sha256": p.sha256,
        "py_files": len(p.py_files),
        "n_targets": len(chosen),
        "per_repo_requested": n,
        "gt": gt_meta,
        "oracle": {
            "median": metrics.pct(oracles, 0.5),
            "p90": metrics.pct(oracles, 0.9),
            "mean": sum(oracles) / len(oracles) if oracles else None,
        },  # fmt: skip
        "setup": setup,
        "cells": cells,
        "area": {
            name: metrics.area({int(b): c for b, c in cs.items()}) for name, cs in cells.items()
        },  # fmt: skip
        "latency_all": lat_all,
        "targets": targets_out,
        "wall_s": round(time.perf_counter() - t0, 1),
    }


def _gt_stats(chosen: list[tuple[pysrc.Target, set[GtItem]]],
              pyre: list[set[GtItem]]) -> dict[str, Any]:  # fmt: skip
    j = sum(len(g) for g, _ in ((g, None) for _, g in chosen))
    pj = sum(len(s) for s in pyre)
    inter = sum(len(g & s) for (_, g), s in zip(chosen, pyre, strict=True))
    only_j = sum(len(g - s) for (_, g), s in zip(chosen, pyre, strict=True))
    only_p = sum(len(s - g) for (_, g), s in zip(chosen, pyre, strict=True))
    differing = sum(1 for (_, g), s in zip(chosen, pyre, strict=True) if g != s)
    examples = [
        {"target": t.id, "jedi_only": sorted(f"{x[0]}::{x[1]}" for x in g - s),
         "pyrefly_only": sorted(f"{x[0]}::{x[1]}" for x in s - g)}
        for (t, g), s in zip(chosen, pyre, strict=True) if g != s
    ][:40]  # fmt: skip
    return {"jedi_defs": j, "pyrefly_defs": pj, "intersection_defs": inter,
            "jedi_only_defs": only_j, "pyrefly_only_defs": only_p,
            "disagreements": only_j + only_p, "targets_disagreeing": differing,
            "disagreement_examples": examples}  # fmt: skip


def _kv(text: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for item in filter(None, (s.strip() for s in text.split(","))):
        k, _, v = item.partition("=")
        out[k.strip().lower()] = int(v)
    return out


def main(argv: list[str] | None = None) -> int:
    if argv is None and os.environ.get("PYTHONHASHSEED") != "0":
        # set/dict-of-str iteration order feeds tie-breaking (aider's ranking too): pin it
        os.environ["PYTHONHASHSEED"] = "0"
        os.execv(sys.executable, [sys.executable, *sys.argv])
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--projects", default=DEFAULT_PROJECTS, help='"name==ver,..." (PyPI sdists)')
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--per-repo", type=int, default=40)
    ap.add_argument("--per-repo-override", type=_kv, default={},
                    help='per-project target counts, e.g. "Django=30"')  # fmt: skip
    ap.add_argument("--budgets", default="512,1024,2048,4096")
    ap.add_argument("--min-body", type=int, default=5, help="min body lines after the docstring")
    ap.add_argument("--smoke", action="store_true", help="flask only, 10 targets")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--cache-dir", type=Path, default=BENCH / ".cache")
    ap.add_argument("--ours", default=OURS_DEFAULT, help="module:function implementing ours")
    ap.add_argument("--retrievers", default="ours,aider,bm25,imports")
    ap.add_argument("--token-counter", choices=("auto", "proxy"), default="auto")
    ap.add_argument("--dump", type=Path, default=None, help="write every context text here")
    ap.add_argument("--no-crosscheck", action="store_true", help="skip pyrefly ground truth")
    args = ap.parse_args(argv)
    args.budgets = sorted(int(b) for b in args.budgets.split(","))
    args.retrievers = [r.strip() for r in args.retrievers.split(",") if r.strip()]
    if args.smoke:
        args.projects = "flask==3.1.3"
        args.per_repo = 10
    out: Path = args.out or BENCH / "reports" / (
        "context_recall-smoke.json" if args.smoke else "context_recall.json"
    )
    specs = parse_projects(args.projects)
    cache = args.cache_dir.resolve()
    args.cache_dir = cache
    t0 = time.perf_counter()

    pys = {
        "aider": ensure_venv(cache, "aider-b1", AIDER_REQ, "import aider.repomap, tiktoken"),
        "bm25": ensure_venv(cache, "bm25", BM25_REQ, "import bm25s"),
    }
    gt_py = ensure_venv(cache, "gt", PYREFLY_REQ, "import pyrefly")
    pys["pyrefly"] = gt_py.parent / "pyrefly"
    counter = Counter(pys["aider"], cache / "logs" / "b1-counter.log",
                      force_proxy=args.token_counter == "proxy")  # fmt: skip
    ours_fn = load_ours(args.ours) if "ours" in args.retrievers else None
    ours_impl = (
        args.ours if ours_fn is not None else "stand-in (imports-first ranked by task idents)"
    )
    log(f"token counter: {counter.name}; ours: {ours_impl}")

    import jedi

    versions: dict[str, Any] = {
        "jedi": jedi.__version__,
        "pyrefly": pyrefly_version(pys["pyrefly"]),
        "aider": AIDER_REQ,
        "bm25": BM25_REQ,
        "token_counter": counter.version or counter.name,
        "smallcode_ls_git": _git_rev(),
    }
    try:
        import smallcode_ls

        versions["smallcode_ls"] = smallcode_ls.__version__
    except ImportError:
        pass
    report: dict[str, Any] = {
        "benchmark": "B1 masked-body cross-file context recall",
        "smoke": args.smoke,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "versions": versions,
        "token_counter": {"name": counter.name, "detail": counter.version},
        "ours_impl": ours_impl,
        "config": {
            "projects": args.projects,
            "seed": args.seed,
            "per_repo": args.per_repo,
            "per_repo_override": args.per_repo_override,
            "budgets": args.budgets,
            "min_body": args.min_body,
            "retrievers": args.retrievers,
        },  # fmt: skip
        "projects": {},
    }
    try:
        for spec in specs:
            report["projects"][spec.key] = run_project(args, spec, counter, ours_fn, pys)
    finally:
        counter.close()
    report["summary"] = metrics.summary(report["projects"], args.budgets)
    report["wall_s"] = round(time.perf_counter() - t0, 1)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(_clean(report), indent=1, allow_nan=False) + "\n")
    tmp.replace(out)
    print(metrics.table(report))
    print(f"\nreport: {out} ({report['wall_s']} s)")
    return 0


def _clean(o: Any) -> Any:
    """JSON-safe copy: infinite ratios become the string "inf", NaN becomes null."""
    if isinstance(o, float):
        if o != o:
            return None
        return "inf" if o in (float("inf"), float("-inf")) else o
    if isinstance(o, dict):
        return {str(k): _clean(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_clean(v) for v in o]
    return o


if __name__ == "__main__":
    raise SystemExit(main())
