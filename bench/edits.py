"""B2: edit-application robustness. Ours vs exact replace, aider, git apply and GNU patch.

Every hunk between consecutive PyPI releases is rendered as SEARCH/REPLACE and as a unified
diff, perturbed by the frozen operators in edits_lib/perturb.py, and applied by every applier
in one run, one applier after the other. Run with the project venv:

    .venv/bin/python bench/edits.py --smoke
    .venv/bin/python bench/edits.py
    .venv/bin/python bench/edits.py --projects "attrs:24.2.0:24.3.0,click:8.1.7:8.1.8"
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import hashlib
import json
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchkit import machine_facts  # noqa: E402
from edits_lib import perturb  # noqa: E402
from edits_lib.appliers import (  # noqa: E402
    GIT_PLAIN,
    GIT_RECOUNT,
    PATCH_LOOSE,
    PATCH_PLAIN,
    Aider,
    AiderWorker,
    Applier,
    ExactReplace,
    Ours,
    load_ours,
    tool_appliers,
    tool_version,
)
from edits_lib.perturb import Case  # noqa: E402
from edits_lib.report import (  # noqa: E402
    Cell,
    cell_rows,
    headlines,
    public_rows,
    table,
    targets_and_ratios,
    verdict,
)
from edits_lib.workload import DEFAULT_PROJECTS, Hunk, build, parse_projects  # noqa: E402

BENCH = Path(__file__).resolve().parent
AIDER_PIN = "aider-chat==0.86.2"
SMOKE_HUNKS_PER_PROJECT = 10
WARMUP_CASES = 5
MAX_SAMPLES = 25
ALL_APPLIERS = (
    "ours",
    "exact_replace",
    "aider_editblock",
    "aider_udiff",
    "git_apply",
    "git_apply_recount",
    "patch",
    "patch_l_F3",
)


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def machine() -> dict[str, Any]:
    return {**machine_facts()}


def ensure_aider_venv(venv: Path) -> Path:
    python = venv / "bin" / "python"
    if not python.exists():
        log(f"creating {venv} with {AIDER_PIN} (one time)")
        subprocess.run(["python3.11", "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", AIDER_PIN], check=True)
    return python


def select_hunks(hunks: list[Hunk], smoke: bool, per_project: int, seed: int) -> list[Hunk]:
    if not smoke:
        return hunks
    rng = random.Random(seed)
    by_project: dict[str, list[Hunk]] = collections.defaultdict(list)
    for h in hunks:
        by_project[h.project].append(h)
    out: list[Hunk] = []
    for proj in by_project.values():
        out += rng.sample(proj, min(per_project, len(proj)))
    return out


def run_applier(
    applier: Applier, cases: list[Case], cells: dict[tuple[str, str, str], Cell]
) -> tuple[dict[str, collections.Counter[str]], list[dict[str, Any]]]:
    """Apply every case of the applier's renderings; returns ours-style info counts and misses."""
    mine = [c for c in cases if c.rendering in applier.renderings]
    if applier.timing.startswith("in-process"):
        for rendering in applier.renderings:
            for c in [c for c in mine if c.rendering == rendering][:WARMUP_CASES]:
                applier.apply(c)  # warm-up, not recorded
    infos: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    misses: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    for case in mine:
        out = applier.apply(case)
        v = verdict(out.new_text, case.gold, case.absent)
        key = (applier.name, case.rendering, case.family)
        cells.setdefault(key, Cell()).add(v, out.ns, bool(out.error))
        if out.info:
            infos[f"{case.rendering}:{case.family}"][f"{v} {out.info.split(' | ')[0]}"] += 1
        if v != "correct" and not case.held_out:
            misses.append(
                {
                    "case": case.id,
                    "verdict": v,
                    "info": out.info,
                    "error": out.error,
                    "output": case.output[:3000],
                }
            )
    log(f"  {applier.name}: {len(mine)} applications in {time.perf_counter() - t0:.1f} s")
    return infos, misses


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--projects", default=DEFAULT_PROJECTS, help="name:old:new,... (PyPI sdists)")
    ap.add_argument("--seed", type=int, default=2, help="seed for perturbations, donors, smoke")
    ap.add_argument("--smoke", action="store_true", help="small subset (< 60 s)")
    ap.add_argument("--smoke-hunks", type=int, default=SMOKE_HUNKS_PER_PROJECT,
                    help="hunks per project in smoke mode")  # fmt: skip
    ap.add_argument(
        "--out", type=Path, help="report path (default bench/reports/edits[-smoke].json)"
    )
    ap.add_argument("--cache-dir", type=Path, default=BENCH / ".cache")
    ap.add_argument("--aider-venv", type=Path, help="default <cache>/venvs/aider")
    ap.add_argument("--ours", choices=("auto", "real", "standin"), default="auto",
                    help="auto: smallcode_ls.patch if importable, else the stand-in")  # fmt: skip
    ap.add_argument("--only", help=f"comma list out of {','.join(ALL_APPLIERS)}")
    ap.add_argument("--refresh-sdist", action="store_true")
    args = ap.parse_args(argv)

    only = set(args.only.split(",")) if args.only else set(ALL_APPLIERS)
    unknown = only - set(ALL_APPLIERS)
    if unknown:
        ap.error(f"unknown appliers: {sorted(unknown)}")
    out_path: Path = args.out or BENCH / "reports" / (
        "edits-smoke.json" if args.smoke else "edits.json"
    )
    started = time.perf_counter()

    projects = parse_projects(args.projects)
    log(f"workload: {', '.join(f'{p.name} {p.old}->{p.new}' for p in projects)}")
    wl = build(args.cache_dir, projects, args.refresh_sdist)
    if not wl.hunks:
        log("no hunks found")
        return 2
    chosen = select_hunks(wl.hunks, args.smoke, args.smoke_hunks, args.seed)
    cases: list[Case] = []
    skipped: collections.Counter[str] = collections.Counter()
    for hunk in chosen:
        donor = perturb.pick_donor(hunk, wl.hunks, args.seed)
        hc, hs = perturb.cases_for(hunk, donor, args.seed)
        cases += hc
        skipped.update(hs)
    log(f"{len(chosen)} hunks (of {len(wl.hunks)}), {len(cases)} cases")

    ours_fn, ours_impl = load_ours(args.ours)
    if "STAND-IN" in ours_impl:
        log("WARNING: ours is the stand-in, not smallcode_ls.patch")
    appliers: list[Applier] = []
    if "ours" in only:
        appliers.append(Ours(ours_fn))
    if "exact_replace" in only:
        appliers.append(ExactReplace())
    worker = None
    if only & {"aider_editblock", "aider_udiff"}:
        python = ensure_aider_venv(args.aider_venv or args.cache_dir / "venvs" / "aider")
        worker = AiderWorker(python)
        for kind in ("editblock", "udiff"):
            if f"aider_{kind}" in only:
                appliers.append(Aider(worker, kind))
    appliers += [t for t in tool_appliers() if t.name in only]

    cells: dict[tuple[str, str, str], Cell] = {}
    ours_info: dict[str, dict[str, int]] = {}
    ours_misses: list[dict[str, Any]] = []
    try:
        for applier in appliers:
            infos, misses = run_applier(applier, cases, cells)
            if applier.name == "ours":
                ours_info = {k: dict(v.most_common()) for k, v in infos.items()}
                ours_misses = misses
    finally:
        for applier in appliers:
            applier.close()
        if worker is not None:
            worker.close()

    rows = cell_rows(cells)
    head = headlines(rows)
    ours_all = head.get("ours", {}).get("all", {})
    targets, ratios = targets_and_ratios(head, "ours", ours_all.get("ms_mean"))
    perturb_src = Path(perturb.__file__).read_bytes()
    smallcode_version = None
    try:
        import smallcode_ls

        smallcode_version = getattr(smallcode_ls, "__version__", None)
    except ImportError:
        pass

    report: dict[str, Any] = {
        "benchmark": "B2 edit application robustness",
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "smoke": args.smoke,
        "seed": args.seed,
        "argv": sys.argv[1:] if argv is None else argv,
        "machine": machine(),
        "versions": {
            "python": sys.version.split()[0],
            "aider": worker.hello if worker else None,
            "git": tool_version(["git", "--version"]),
            "patch": tool_version(["patch", "--version"]),
            "smallcode_ls": smallcode_version,
            "ours_implementation": ours_impl,
        },
        "workload": {
            "projects": wl.projects,
            "hunks_total": len(wl.hunks),
            "hunks_used": len(chosen),
            "hunks_context_widened": sum(1 for h in wl.hunks if h.widened),
            "excluded_hunks": wl.excluded,
            "rule": "difflib grouped opcodes, 3 lines of context; <= 40 changed lines (sum of "
            "max(removed, added) per change group), <= 60 old lines, .py files in both releases; "
            "old side widened by up to 10 lines per side until it occurs once in the file",
            "cases": len(cases),
            "cells_not_applicable": dict(sorted(skipped.items())),
        },
        "perturbations": {
            "module": "bench/edits_lib/perturb.py",
            "sha256": hashlib.sha256(perturb_src).hexdigest(),
            "held_out": f"{perturb.HELD_OUT[0]}:{perturb.HELD_OUT[1]}",
            "noisy": "every family except clean and absent",
            "families": perturb.DESCRIPTIONS,
        },
        "appliers": {
            a.name: {"renderings": list(a.renderings), "timing": a.timing} for a in appliers
        },
        "commands": {
            "git_apply": GIT_PLAIN,
            "git_apply_recount": GIT_RECOUNT,
            "patch": PATCH_PLAIN,
            "patch_l_F3": PATCH_LOOSE,
        },
        "classification": "correct: result == gold (absent: file unchanged or refused); "
        "WRONG: applied but result != gold (silent corruption); refused: no result",
        "cells": public_rows(rows),
        "headline": head,
        "targets": targets,
        "ratios": ratios,
        "ours_debug": {
            "info_by_cell": ours_info,
            "non_correct_count_excl_held_out": len(ours_misses),
            "non_correct_samples_excl_held_out": ours_misses[:MAX_SAMPLES],
        },
        "wall_s": round(time.perf_counter() - started, 1),
    }
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(out_path.name + ".tmp")
    tmp.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    tmp.replace(out_path)

    print(f"B2 edits ({'smoke' if args.smoke else 'full'}): {len(chosen)} hunks, "
          f"{len(cases)} cases; ours = {ours_impl}")  # fmt: skip
    print(table(rows, head))
    print("\ntargets (ours):")
    for name, t in targets.items():
        mark = {True: "PASS", False: "FAIL", None: "n/a"}[t["pass"]]
        print(f"  {mark:4} {name}: {t['value']} (target {t['threshold']})")
    print(f"\nreport: {out_path}  ({report['wall_s']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
