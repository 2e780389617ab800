"""Aggregation of B2 outcomes into cells, headlines, targets, ratios and a printed table."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any

from .perturb import FAMILIES, HELD_OUT, NOT_NOISY, SR, UDIFF

TARGET_CLEAN_PCT = 100.0
TARGET_NOISY_PCT = 95.0
TARGET_WRONG_PCT = 0.5
TARGET_MS = 2.0
# Ratio targets from BENCHMARKS.md B2 (ours' mean noisy correct / the peer's, same rendering).
RATIO_TARGETS = (
    ("aider_editblock", SR, 2.0),
    ("aider_udiff", UDIFF, 1.03),
    ("git_apply_recount", UDIFF, 1.4),
)


@dataclass
class Cell:
    n: int = 0
    correct: int = 0
    wrong: int = 0
    refused: int = 0
    errors: int = 0
    ns: list[int] = field(default_factory=list)

    def add(self, verdict: str, ns: int, error: bool) -> None:
        self.n += 1
        self.ns.append(ns)
        self.errors += int(error)
        if verdict == "correct":
            self.correct += 1
        elif verdict == "wrong":
            self.wrong += 1
        else:
            self.refused += 1

    def pct(self, k: int) -> float:
        return round(100.0 * k / self.n, 2) if self.n else 0.0


def verdict(new_text: str | None, gold: str, absent: bool = False) -> str:
    """correct / wrong / refused; for an absent edit refusing (or leaving the file) is correct."""
    if new_text is None:
        return "correct" if absent else "refused"
    return "correct" if new_text == gold else "wrong"


def _ms(ns: list[int] | list[float]) -> dict[str, float | None]:
    if not ns:
        return {"mean": None, "p50": None, "p95": None, "max": None}
    ms = sorted(x / 1e6 for x in ns)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    return {
        "mean": round(statistics.fmean(ms), 4),
        "p50": round(statistics.median(ms), 4),
        "p95": round(p95, 4),
        "max": round(ms[-1], 4),
    }


def cell_rows(cells: dict[tuple[str, str, str], Cell]) -> list[dict[str, Any]]:
    rows = []
    for (applier, rendering, family), c in cells.items():
        rows.append(
            {
                "applier": applier,
                "rendering": rendering,
                "family": family,
                "held_out": (rendering, family) == HELD_OUT,
                "noisy": family not in NOT_NOISY,
                "n": c.n,
                "correct_pct": c.pct(c.correct),
                "wrong_pct": c.pct(c.wrong),
                "refused_pct": c.pct(c.refused),
                "errors": c.errors,
                "ms": _ms(c.ns),
                "_ns": c.ns,  # dropped before the report is written
            }
        )
    return rows


def _summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    noisy = [r for r in rows if r["noisy"] and r["n"]]
    kept = [r for r in noisy if not r["held_out"]]
    clean = [r for r in rows if r["family"] == "clean"]
    worst = max(rows, key=lambda r: r["wrong_pct"]) if rows else None
    ns = [x for r in rows for x in r["_ns"]]
    ms = _ms(ns)
    return {
        "clean_correct_pct": min((r["correct_pct"] for r in clean), default=None),
        "mean_noisy_correct_pct": (
            round(statistics.fmean(r["correct_pct"] for r in noisy), 2) if noisy else None
        ),
        "mean_noisy_correct_pct_excl_held_out": (
            round(statistics.fmean(r["correct_pct"] for r in kept), 2) if kept else None
        ),
        "noisy_cells": len(noisy),
        "max_wrong_pct": worst["wrong_pct"] if worst else None,
        "max_wrong_cell": (
            f"{worst['rendering']}:{worst['family']}" if worst and worst["wrong_pct"] else None
        ),
        "applications": sum(r["n"] for r in rows),
        "ms_mean": ms["mean"],
        "ms_p50": ms["p50"],
        "ms_p95": ms["p95"],
        "errors": sum(r["errors"] for r in rows),
    }


def headlines(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for applier in dict.fromkeys(r["applier"] for r in rows):
        mine = [r for r in rows if r["applier"] == applier]
        per: dict[str, Any] = {}
        for rendering in (SR, UDIFF):
            sub = [r for r in mine if r["rendering"] == rendering]
            if sub:
                per[rendering] = _summary(sub)
        if len(per) > 1:
            per["all"] = _summary(mine)
        out[applier] = per
    return out


def _check(value: float | None, threshold: float, higher_is_better: bool) -> dict[str, Any]:
    ok = None if value is None else (value >= threshold if higher_is_better else value <= threshold)
    op = ">=" if higher_is_better else "<="
    return {"value": value, "threshold": f"{op} {threshold}", "pass": ok}


def targets_and_ratios(
    head: dict[str, dict[str, Any]], ours: str, all_ms_mean: float | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    mine = head.get(ours, {})
    overall: dict[str, Any] = mine.get("all") or next(iter(mine.values()), {})
    targets = {
        "clean_correct_pct_every_rendering": _check(
            overall.get("clean_correct_pct"), TARGET_CLEAN_PCT, True
        ),
        "mean_noisy_correct_pct": _check(
            overall.get("mean_noisy_correct_pct"), TARGET_NOISY_PCT, True
        ),  # fmt: skip
        "max_wrong_pct_every_cell": _check(overall.get("max_wrong_pct"), TARGET_WRONG_PCT, False),
        "ms_per_application_mean": _check(all_ms_mean, TARGET_MS, False),
    }
    ratios: dict[str, Any] = {}
    for peer, rendering, threshold in RATIO_TARGETS:
        ours_r = mine.get(rendering, {})
        peer_r = head.get(peer, {}).get(rendering, {})
        a, b = ours_r.get("mean_noisy_correct_pct"), peer_r.get("mean_noisy_correct_pct")
        value = round(a / b, 3) if a is not None and b else None
        key = f"mean_noisy_correct_vs_{peer}"
        ratios[key] = {
            "ours": a,
            "peer": b,
            "rendering": rendering,
            **_check(value, threshold, True),
        }
        ta, tb = ours_r.get("ms_mean"), peer_r.get("ms_mean")
        ratios[f"ms_mean_vs_{peer}"] = {
            "ours": ta,
            "peer": tb,
            "value": round(ta / tb, 4) if ta is not None and tb else None,
        }
        targets[key] = ratios[key]
    return targets, ratios


SHORT = {
    "clean": "clean",
    "indent_dropped": "indent",
    "trailing_ws": "trail ws",
    "blank_line_dropped": "blank drop",
    "elision": "elision",
    "drifted_context": "drift*",
    "fenced_prose": "prose",
    "absent": "absent",
    "wrong_line_numbers": "wrong l#",
    "wrong_counts": "counts",
    "no_numbers": "@@...@@",
    "blank_ctx_no_space": "blank ctx",
    "trailing_ctx_cut": "ctx cut",
}


def table(rows: list[dict[str, Any]], head: dict[str, dict[str, Any]]) -> str:
    """Per rendering: correct/WRONG % per family, mean noisy, max WRONG, mean ms."""
    out: list[str] = []
    for rendering in (SR, UDIFF):
        fams = FAMILIES[rendering]
        appliers = list(dict.fromkeys(r["applier"] for r in rows if r["rendering"] == rendering))
        if not appliers:
            continue
        ns = {f: max((r["n"] for r in rows if r["rendering"] == rendering and r["family"] == f),
                     default=0) for f in fams}  # fmt: skip
        cols = [f"{SHORT.get(f, f)} n={ns[f]}" for f in fams]
        out.append(f"\n{rendering}   (cells: correct/WRONG %, rest refused; * = held out)")
        widths = [max(9, len(c)) for c in cols]
        name_w = max(len("applier"), *(len(a) for a in appliers)) + 1
        line = f"{'applier':<{name_w}}" + " ".join(
            f"{c:>{w}}" for c, w in zip(cols, widths, strict=True)
        )
        line += f" {'noisy':>6} {'maxW':>5} {'ms':>7}"
        out.append(line)
        for applier in appliers:
            cells = {r["family"]: r for r in rows
                     if r["applier"] == applier and r["rendering"] == rendering}  # fmt: skip
            parts = []
            for f, w in zip(fams, widths, strict=True):
                r = cells.get(f)
                txt = f"{r['correct_pct']:.0f}/{r['wrong_pct']:.1f}" if r and r["n"] else "-"
                parts.append(f"{txt:>{w}}")
            h = head[applier][rendering]
            noisy = h["mean_noisy_correct_pct"]
            ms = h["ms_mean"]
            out.append(
                f"{applier:<{name_w}}" + " ".join(parts)
                + f" {noisy if noisy is not None else '-':>6} {h['max_wrong_pct']:>5}"
                + f" {ms if ms is not None else '-':>7}"
            )  # fmt: skip
    return "\n".join(out)


def public_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in r.items() if k != "_ns"} for r in rows]
