"""B3: tool-call parsing robustness. Ours vs strict/unwrapped json, json5, dirtyjson, json_repair.

Run with the peer venv so every parser is measured in one process:

    bench/.cache/venvs/b3/bin/python bench/toolcalls.py --smoke
    bench/.cache/venvs/b3/bin/python bench/toolcalls.py
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchkit import machine_facts  # noqa: E402
from toolcalls_lib.peers import build_peers  # noqa: E402
from toolcalls_lib.variants import SYNTACTIC, messages  # noqa: E402
from toolcalls_lib.workload import PAIRS, ensure_sdists, sample_edits  # noqa: E402

ROOT = Path(__file__).resolve().parent
TARGET_EXACT_SYNTACTIC = 99.0
TARGET_EXACT_ALIASED = 95.0
TARGET_WRONG = 0.5
TARGET_US = 200.0


def _rstrip(value: Any) -> Any:
    if isinstance(value, str):
        return "\n".join(line.rstrip() for line in value.rstrip().split("\n"))
    if isinstance(value, dict):
        return {k: _rstrip(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rstrip(v) for v in value]
    return value


def _same(got: list[Any], gold: list[Any]) -> bool:
    if len(got) != len(gold):
        return False
    return all(
        g[0] == w[0] and type(g[1]) is dict and g[1].keys() == w[1].keys()
        and all(type(g[1][k]) is type(v) and g[1][k] == v for k, v in w[1].items())
        for g, w in zip(got, gold, strict=True)
    )  # fmt: skip


def classify(got: list[Any] | None, gold: list[Any]) -> str:
    if not got:
        return "fail"
    if _same(got, gold):
        return "exact"
    if _same([(n, _rstrip(a)) for n, a in got], [(n, _rstrip(a)) for n, a in gold]):
        return "near"
    return "wrong"


def machine() -> dict[str, Any]:
    return {**machine_facts()}


def run(args: argparse.Namespace) -> dict[str, Any]:
    cache = Path(args.cache_dir)
    sdists = ensure_sdists(cache)
    edits, population = sample_edits(cache, args.edits, args.seed)
    msgs = messages(edits)
    peers = build_peers()
    variants = list(dict.fromkeys(v for v, *_ in msgs))
    results: dict[str, Any] = {}
    ours_failures: list[dict[str, Any]] = []
    for pname, (parse, _ver) in peers.items():
        per: dict[str, dict[str, list[Any]]] = {v: {"cats": [], "ns": []} for v in variants}
        for _ in range(args.warmup):
            for _variant, _eid, text, _gold in msgs[:: max(1, len(msgs) // 50)]:
                with contextlib.suppress(Exception):
                    parse(text)
        for variant, eid, text, gold in msgs:
            t0 = time.perf_counter_ns()
            try:
                got: list[Any] | None = parse(text)
            except Exception:
                got = None
            dt = time.perf_counter_ns() - t0
            cat = classify(got, gold)
            per[variant]["cats"].append(cat)
            per[variant]["ns"].append(dt)
            if pname == "ours" and cat != "exact" and len(ours_failures) < 25:
                ours_failures.append({"variant": variant, "edit": eid, "category": cat,
                                      "message_head": text[:300]})  # fmt: skip
        table: dict[str, Any] = {}
        all_ns: list[int] = []
        for variant, data in per.items():
            n = len(data["cats"])
            all_ns += data["ns"]
            table[variant] = {
                "n": n,
                **{f"{c}_pct": round(100 * data["cats"].count(c) / n, 2)
                   for c in ("exact", "near", "wrong", "fail")},
                "us_mean": round(statistics.fmean(data["ns"]) / 1000, 1),
                "us_p50": round(statistics.median(data["ns"]) / 1000, 1),
            }  # fmt: skip
        total = sum(len(d["cats"]) for d in per.values())
        counts = {c: sum(d["cats"].count(c) for d in per.values()) for c in ("exact", "wrong")}
        results[pname] = {
            "version": _ver,
            "variants": table,
            "overall": {
                "n": total,
                "exact_pct": round(100 * counts["exact"] / total, 2),
                "wrong_pct": round(100 * counts["wrong"] / total, 2),
                "us_mean": round(statistics.fmean(all_ns) / 1000, 1),
                "us_p50": round(statistics.median(all_ns) / 1000, 1),
            },
        }  # fmt: skip
    ours = results["ours"]
    exact = {v: ours["variants"][v]["exact_pct"] for v in variants}
    targets = {
        "exact_syntactic_ge_99": {
            "target": f">= {TARGET_EXACT_SYNTACTIC}% exact on every syntactic variant",
            "worst": min(ours["variants"][v]["exact_pct"] for v in SYNTACTIC),
            "pass": all(exact[v] >= TARGET_EXACT_SYNTACTIC for v in SYNTACTIC),
        },
        "exact_aliased_ge_95": {
            "target": f">= {TARGET_EXACT_ALIASED}% exact on aliased keys",
            "value": ours["variants"]["aliased_keys"]["exact_pct"],
            "pass": ours["variants"]["aliased_keys"]["exact_pct"] >= TARGET_EXACT_ALIASED,
        },
        "wrong_le_0_5": {
            "target": f"WRONG <= {TARGET_WRONG}% in every variant",
            "worst": max(v["wrong_pct"] for v in ours["variants"].values()),
            "pass": all(v["wrong_pct"] <= TARGET_WRONG for v in ours["variants"].values()),
        },
        "us_per_call_le_200": {
            "target": f"<= {TARGET_US} us per call (mean over all messages)",
            "value": ours["overall"]["us_mean"],
            "pass": ours["overall"]["us_mean"] <= TARGET_US,
        },
    }  # fmt: skip
    return {
        "benchmark": "B3 tool-call parsing",
        "mode": "smoke" if args.smoke else "full",
        "machine": machine(),
        "workload": {
            "pairs": [list(p) for p in PAIRS],
            "sdists": sdists,
            "seed": args.seed,
            "edits": len(edits),
            "population_hunks": population,
            "messages": len(msgs),
            "variants": variants,
        },  # fmt: skip
        "timing": "in-process, time.perf_counter_ns per message, after a warm-up pass",
        "results": results,
        "targets": targets,
        "ours_non_exact_examples": ours_failures,
    }


def print_table(report: dict[str, Any]) -> None:
    results = report["results"]
    variants = report["workload"]["variants"]
    names = list(results)
    width = max(len(v) for v in variants) + 2
    print("cells: exact/near/WRONG %  (fail = the rest)")
    print("variant".ljust(width) + "".join(n[:20].rjust(22) for n in names))
    for v in variants:
        row = v.ljust(width)
        for n in names:
            c = results[n]["variants"][v]
            row += f"{c['exact_pct']:.1f}/{c['near_pct']:.1f}/{c['wrong_pct']:.1f}".rjust(22)
        print(row)
    print("us/call mean".ljust(width) + "".join(
        f"{results[n]['overall']['us_mean']:.1f}".rjust(22) for n in names))  # fmt: skip
    print()
    for key, t in report["targets"].items():
        value = t.get("value", t.get("worst"))
        print(f"{'PASS' if t['pass'] else 'FAIL'}  {key}: {t['target']} (ours: {value})")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--smoke", action="store_true", help="30 edits instead of 300")
    ap.add_argument("--edits", type=int, default=None, help="number of edits (default 300)")
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--cache-dir", default=str(ROOT / ".cache"))
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    if args.edits is None:
        args.edits = 30 if args.smoke else 300
    report = run(args)
    out = Path(
        args.out or ROOT / "reports" / ("toolcalls-smoke.json" if args.smoke else "toolcalls.json")
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    tmp.replace(out)
    print_table(report)
    print(f"\nreport: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
