"""B6 report: pass@1 per arm, paired comparison (McNemar), format failures, turns, tokens,
wall time per task, targets and ratios; a matplotlib figure of pass rate and tokens per arm."""

from __future__ import annotations

import json
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

__all__ = ["build_report", "load_rows", "mcnemar", "plot", "write_markdown"]

OURS = "smallcode"
ORDER = ("smallcode", "naive", "aider-whole", "aider-diff")  # rows may come in any order
TARGETS = {
    "pass_at_1_vs_naive": (">=", 1.5),
    "format_failures_vs_naive": ("<=", 0.25),
    "prompt_tokens_vs_naive": ("<=", 0.5),
    "pass_at_1_vs_aider_whole": (">=", 1.0),
    "pass_at_1_vs_aider_diff": (">=", 1.0),
}


def load_rows(path: Path) -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:  # a re-run line for the same (task, arm) replaces the older one
        latest[(row["task"], row["arm"])] = row
    return list(latest.values())


def mcnemar(ours: dict[str, bool], peer: dict[str, bool]) -> dict[str, Any]:
    """Exact two-sided McNemar test on the tasks both arms finished."""
    shared = sorted(set(ours) & set(peer))
    b = sum(1 for t in shared if ours[t] and not peer[t])
    c = sum(1 for t in shared if peer[t] and not ours[t])
    n = b + c
    tail = sum(math.comb(n, k) for k in range(0, min(b, c) + 1)) / 2**n if n else 1.0
    return {"tasks": len(shared), "only_ours": b, "only_peer": c,
            "p_value": round(min(1.0, 2 * tail), 4)}  # fmt: skip


def _mean(values: list[float]) -> float:
    return round(sum(values) / len(values), 2) if values else 0.0


def _arm_summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    n = len(rows)
    passed = sum(1 for r in rows if r["passed"])
    calls = sum(r["turns"] for r in rows)
    return {
        "tasks": n,
        "passed": passed,
        "pass_at_1": round(passed / n, 3) if n else 0.0,
        "by_kind": {
            kind: f"{sum(1 for r in rows if r['kind'] == kind and r['passed'])}/"
            f"{sum(1 for r in rows if r['kind'] == kind)}"
            for kind in ("mutation", "mask")
        },
        "format_failures": sum(r["format_failures"] for r in rows),
        "format_failures_per_task": _mean([r["format_failures"] for r in rows]),
        "format_failure_rate_per_call": round(
            sum(r["format_failures"] for r in rows) / calls, 3) if calls else 0.0,
        "edited": sum(1 for r in rows if r["edited"]),
        "wrong_edits": sum(1 for r in rows if r["edited"] and not r["passed"]),
        "errors": sum(1 for r in rows if r["error"]),
        "turns_per_task": _mean([r["turns"] for r in rows]),
        "calls_refused_by_cap": sum(r["refused_calls"] for r in rows),
        "prompt_tokens_per_task": _mean([r["prompt_tokens"] for r in rows]),
        "uncached_prompt_tokens_per_task": _mean(
            [r["prompt_tokens"] - r.get("cached_prompt_tokens", 0) for r in rows]
        ),
        "completion_tokens_per_task": _mean([r["completion_tokens"] for r in rows]),
        "wall_s_per_task": _mean([r["wall_s"] for r in rows]),
        "model_s_per_task": _mean([r["model_seconds"] for r in rows]),
    }  # fmt: skip


def _ratio(a: float, b: float) -> float | str | None:
    """a / b; "inf" when only the peer's figure is zero; None when both are."""
    if b:
        return round(a / b, 3)
    return "inf" if a else None


def build_report(
    rows: list[dict[str, Any]], meta: dict[str, Any], suite_size: int
) -> dict[str, Any]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        grouped[row["arm"]].append(row)
    rank = {arm: i for i, arm in enumerate(ORDER)}
    by_arm = {arm: grouped[arm] for arm in sorted(grouped, key=lambda a: rank.get(a, len(ORDER)))}
    arms = {arm: _arm_summary(sorted(rs, key=lambda r: r["task"])) for arm, rs in by_arm.items()}
    # paired: only tasks every arm finished
    complete = (
        set.intersection(*(set(r["task"] for r in rs) for rs in by_arm.values()))
        if by_arm
        else set()
    )  # noqa: E501
    paired = {
        arm: _arm_summary([r for r in rs if r["task"] in complete]) for arm, rs in by_arm.items()
    }  # noqa: E501
    outcomes = {arm: {r["task"]: r["passed"] for r in rs if r["task"] in complete}
                for arm, rs in by_arm.items()}  # fmt: skip
    comparisons = {peer: mcnemar(outcomes[OURS], outcomes[peer])
                   for peer in outcomes if peer != OURS and OURS in outcomes}  # fmt: skip
    ratios: dict[str, Any] = {}
    if OURS in paired and "naive" in paired:
        o, n = paired[OURS], paired["naive"]
        ratios["pass_at_1_vs_naive"] = _ratio(o["passed"], n["passed"])  # same paired tasks
        ratios["format_failures_vs_naive"] = _ratio(o["format_failures"], n["format_failures"])
        ratios["prompt_tokens_vs_naive"] = _ratio(o["prompt_tokens_per_task"],
                                                  n["prompt_tokens_per_task"])  # fmt: skip
    for peer in ("aider-whole", "aider-diff"):
        if OURS in paired and peer in paired:
            ratios[f"pass_at_1_vs_{peer.replace('-', '_')}"] = _ratio(
                paired[OURS]["passed"], paired[peer]["passed"]
            )
    verdicts = {}
    for name, (op, target) in TARGETS.items():
        value = ratios.get(name)
        number = math.inf if value == "inf" else value
        met = None if number is None else (number >= target if op == ">=" else number <= target)
        verdicts[name] = {"value": value, "target": f"{op} {target}", "met": met}
    partial = len(complete) < suite_size
    return {
        "benchmark": "B6 agent end-to-end task success",
        "status": f"partial: {len(complete)} of {suite_size} tasks have every arm" if partial
        else f"complete: {suite_size} tasks",
        "meta": meta,
        "paired_tasks": len(complete),
        "arms_paired": paired,
        "arms_all_rows": arms,
        "mcnemar_vs_ours": comparisons,
        "ratios": ratios,
        "targets": verdicts,
        "per_task": {task: {arm: outcomes[arm][task] for arm in outcomes}
                     for task in sorted(complete)},
    }  # fmt: skip


def write_markdown(report: dict[str, Any], path: Path, figure: str) -> None:
    meta = report["meta"]
    machine = meta.get("machine", {})
    lines = [
        f"# B6 — agent end-to-end on {meta.get('model')} ({report['status']})",
        "",
        f"Endpoint: {meta.get('endpoint')}; temperature 0; turn cap {meta.get('turn_cap')}; "
        f"window {meta.get('window')}; suite `{meta.get('suite')}`; machine "
        f"{machine.get('nproc')} cores ({machine.get('cpu_model')}),"
        " shared with other work while it ran (wall times are inflated).",
        "",
        "| arm | pass@1 | mutation | mask | wrong edits written | format failures | turns/task "
        "| prompt tok/task | (not from the prompt cache) | completion tok/task | wall s/task |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for arm, s in report["arms_paired"].items():
        lines.append(
            f"| {arm} | {s['passed']}/{s['tasks']} ({s['pass_at_1']:.0%}) | "
            f"{s['by_kind']['mutation']} | {s['by_kind']['mask']} | {s['wrong_edits']} | "
            f"{s['format_failures']} | "
            f"{s['turns_per_task']} | {s['prompt_tokens_per_task']:.0f} | "
            f"{s['uncached_prompt_tokens_per_task']:.0f} | "
            f"{s['completion_tokens_per_task']:.0f} | {s['wall_s_per_task']:.0f} |"
        )
    lines += ["", "| target | value | goal | met |", "|---|---|---|---|"]
    for name, v in report["targets"].items():
        lines.append(f"| {name} | {v['value']} | {v['target']} | {v['met']} |")
    lines += ["", "Paired comparison (exact McNemar, tasks every arm finished):", ""]
    for peer, m in report["mcnemar_vs_ours"].items():
        lines.append(f"* vs {peer}: only ours {m['only_ours']}, only {peer} {m['only_peer']}, "
                     f"p = {m['p_value']} ({m['tasks']} tasks)")  # fmt: skip
    lines += ["", f"![pass rate and tokens per arm]({figure})", ""]
    path.write_text("\n".join(lines))


def plot(report: dict[str, Any], path: Path) -> bool:
    """Pass rate and prompt/completion tokens per arm; False when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    arms = list(report["arms_paired"])
    stats = [report["arms_paired"][a] for a in arms]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.bar(arms, [s["pass_at_1"] * 100 for s in stats], color="#4c72b0")
    left.set_ylabel("pass@1 (%)")
    left.set_ylim(0, 100)
    left.set_title(f"pass@1 ({report['paired_tasks']} paired tasks)")
    for i, s in enumerate(stats):
        left.text(i, s["pass_at_1"] * 100 + 2, f"{s['passed']}/{s['tasks']}", ha="center")
    x = range(len(arms))
    right.bar([i - 0.2 for i in x], [s["prompt_tokens_per_task"] for s in stats], 0.4,
              label="prompt")  # fmt: skip
    right.bar([i + 0.2 for i in x], [s["completion_tokens_per_task"] for s in stats], 0.4,
              label="completion")  # fmt: skip
    right.set_xticks(list(x), arms)
    right.set_ylabel("tokens per task")
    right.set_title("tokens per task")
    right.legend()
    fig.suptitle(f"B6 on {report['meta'].get('model')} ({report['status']})", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True
