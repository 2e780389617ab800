"""Per-cell metrics, targets (pass/fail) and the printed table."""

from __future__ import annotations

import math
import statistics
from typing import Any

RETRIEVERS = ("ours", "aider", "bm25", "imports")
PEERS = ("aider", "bm25", "imports")


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    k = (len(s) - 1) * q
    lo, hi = math.floor(k), math.ceil(k)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def cell(rows: list[dict[str, Any]], budget: int) -> dict[str, Any]:
    """rows: one per target with gt, gt_x (intersection), hit, hit_x, tokens, seconds."""
    gt = sum(r["gt"] for r in rows)
    hit = sum(r["hit"] for r in rows)
    gtx = sum(r["gt_x"] for r in rows)
    hitx = sum(r["hit_x"] for r in rows)
    toks = [r["tokens"] for r in rows]
    secs = [r["seconds"] for r in rows]
    macro = [r["hit"] / r["gt"] for r in rows if r["gt"]]
    macro_x = [r["hit_x"] / r["gt_x"] for r in rows if r["gt_x"]]
    return {
        "budget": budget,
        "targets": len(rows),
        "gt_defs": gt,
        "recalled": hit,
        "micro_recall": hit / gt if gt else None,
        "macro_recall": statistics.fmean(macro) if macro else None,
        "gt_defs_intersection": gtx,
        "micro_recall_intersection": hitx / gtx if gtx else None,
        "macro_recall_intersection": statistics.fmean(macro_x) if macro_x else None,
        "tokens_mean": statistics.fmean(toks) if toks else None,
        "tokens_median": statistics.median(toks) if toks else None,
        "tokens_max": max(toks) if toks else None,
        "over_budget": sum(1 for t in toks if t > budget),
        "tokens_per_recalled_def": sum(toks) / hit if hit else None,
        "latency_p50_s": pct(secs, 0.5),
        "latency_p95_s": pct(secs, 0.95),
    }


def area(cells: dict[int, dict[str, Any]]) -> float | None:
    """Area under micro recall vs log2(budget), normalised to [0, 1]."""
    budgets = sorted(cells)
    vals: list[float | None] = [cells[b]["micro_recall"] for b in budgets]
    if len(budgets) == 1:
        return vals[0]
    if len(budgets) < 2 or any(v is None for v in vals):
        return None
    xs = [math.log2(b) for b in budgets]
    ys = [float(v or 0.0) for v in vals]
    tot = sum((xs[i + 1] - xs[i]) * (ys[i] + ys[i + 1]) / 2 for i in range(len(xs) - 1))
    return tot / (xs[-1] - xs[0])


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None:
        return None
    if b == 0:
        return math.inf if a > 0 else None
    return a / b


def summary(projects: dict[str, Any], budgets: list[int]) -> dict[str, Any]:
    out: dict[str, Any] = {"per_repo": {}, "all_pass": True}
    for key, p in projects.items():
        cells = p["cells"]
        if "ours" not in cells:
            continue

        def rec(r: str, b: int, cells: dict[str, Any] = cells) -> float | None:
            c = cells.get(r, {}).get(str(b))
            return None if c is None else c["micro_recall"]

        row: dict[str, Any] = {}
        checks: dict[str, Any] = {}
        if 1024 in budgets and "aider" in cells:
            ratio = _ratio(rec("ours", 1024), rec("aider", 1024))
            row["ours_over_aider_at_1024"] = ratio
            checks["recall@1024 >= 2x aider@1024"] = ratio is not None and ratio >= 2.0
        if 2048 in budgets:
            r2 = rec("ours", 2048)
            checks["recall@2048 >= 0.70"] = r2 is not None and r2 >= 0.70
        if 1024 in budgets and 4096 in budgets:
            best = max((rec(r, 4096) or 0.0) for r in PEERS if r in cells)
            row["best_peer_at_4096"] = best
            row["ours_at_1024_over_best_peer_at_4096"] = _ratio(rec("ours", 1024), best)
        lat = p.get("latency_all", {})
        ours_p95 = lat.get("ours", {}).get("p95_s")
        aider_p95 = lat.get("aider", {}).get("p95_s")
        row["ours_p95_s"] = ours_p95
        row["ours_p95_over_aider_p95"] = _ratio(ours_p95, aider_p95)
        if key.startswith("django-"):
            checks["Django p95 <= 0.4 s"] = ours_p95 is not None and ours_p95 <= 0.4
        row["checks"] = checks
        row["informational"] = {
            "ours@1024 >= best peer@4096": (row.get("ours_at_1024_over_best_peer_at_4096") or 0.0)
            >= 1.0
        }
        out["per_repo"][key] = row
        if not all(checks.values()):
            out["all_pass"] = False
    return out


def _f(v: Any, nd: int = 2) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return "inf" if math.isinf(v) else f"{v:.{nd}f}"
    return str(v)


def table(report: dict[str, Any]) -> str:
    budgets: list[int] = report["config"]["budgets"]
    lines = []
    for key, p in report["projects"].items():
        cells = p["cells"]
        names = [r for r in RETRIEVERS if r in cells]
        o = p["oracle"]
        lines.append(
            f"\n{key}: {p['n_targets']} targets, {p['gt']['jedi_defs']} GT defs "
            f"(pyrefly-agreed {p['gt']['intersection_defs']}); oracle tokens median "
            f"{_f(o['median'], 0)} p90 {_f(o['p90'], 0)}; ours = {report['ours_impl']}"
        )
        lines.append("  micro recall (macro) [tokens/recalled def]")
        lines.append("  budget  " + "".join(f"{n:>24}" for n in names))
        for b in budgets:
            row = f"  {b:>6}  "
            for n in names:
                c = cells[n][str(b)]
                tpr = _f(c["tokens_per_recalled_def"], 0)
                row += f"{_f(c['micro_recall']):>10} ({_f(c['macro_recall'])}) [{tpr:>5}]"
            lines.append(row)
        lines.append("  area    " + "".join(f"{_f(p['area'].get(n)):>24}" for n in names))
        lat = p["latency_all"]
        pairs = [f"{_f(lat[n]['p50_s'], 3)}/{_f(lat[n]['p95_s'], 3)}" for n in names]
        lines.append("  p50/p95 s " + "".join(f"{x:>22}" for x in pairs))
        inter = [
            f"{n} " + "/".join(_f(cells[n][str(b)]["micro_recall_intersection"]) for b in budgets)
            for n in names
        ]
        head = "/".join(str(b) for b in budgets)
        lines.append(f"  recall on jedi∩pyrefly GT @{head}: " + "; ".join(inter))
    s = report.get("summary", {})
    lines.append("\ntargets (ours):")
    for key, row in s.get("per_repo", {}).items():
        checks = ", ".join(f"{k}: {'PASS' if v else 'FAIL'}" for k, v in row["checks"].items())
        lines.append(
            f"  {key}: ours/aider@1024 = {_f(row.get('ours_over_aider_at_1024'))}; {checks}"
        )
    lines.append(
        f"all pass: {s.get('all_pass')}  (token counter: {report['token_counter']['name']})"
    )
    return "\n".join(lines)
