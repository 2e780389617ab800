"""Report assembly: machine facts, ratios, targets and the stdout summary table."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import benchkit

from .stats import ratio

PROJECT_PACKAGES = (
    "tree-sitter",
    "tree-sitter-python",
    "pygls",
    "lsprotocol",
    "jedi",
    "smallcode-ls",
)
JEDI_PACKAGES = ("jedi-language-server", "jedi", "parso", "pygls", "lsprotocol")

_VERSIONS_SNIPPET = """
import importlib.metadata as m, json, sys
out = {"python": sys.version.split()[0]}
for name in sys.argv[1:]:
    try:
        out[name] = m.version(name)
    except m.PackageNotFoundError:
        out[name] = None
print(json.dumps(out))
"""


def venv_versions(python: str, packages: Sequence[str]) -> dict[str, Any]:
    """Python and package versions as seen by interpreter ``python``."""
    try:
        proc = subprocess.run(
            [python, "-c", _VERSIONS_SNIPPET, *packages],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        data: dict[str, Any] = json.loads(proc.stdout)
        return {"interpreter": python, **data}
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        return {"interpreter": python, "error": repr(exc)}


def machine_facts() -> dict[str, Any]:
    """Host facts recorded with every report."""
    return benchkit.machine_facts()


def _get(data: dict[str, Any] | None, *path: str) -> Any:
    cur: Any = data
    for key in path:
        if not isinstance(cur, dict):
            return None
        cur = cur.get(key)
    return cur


def ratios(ours: dict[str, Any] | None, peer: dict[str, Any] | None) -> dict[str, float | None]:
    """ours/peer ratios the targets are judged on."""
    return {
        "document_symbol_p95": ratio(
            _get(ours, "document_symbol", "p95_ms"), _get(peer, "document_symbol", "p95_ms")
        ),
        "definition_p95": ratio(
            _get(ours, "definition", "p95_ms"), _get(peer, "definition", "p95_ms")
        ),
        "peak_rss": ratio(
            _get(ours, "resources", "server_plus_children_vmhwm_mb"),
            _get(peer, "resources", "server_vmhwm_mb"),
        ),
        "first_request": ratio(
            _get(ours, "first_request", "latency_ms"), _get(peer, "first_request", "latency_ms")
        ),
    }


def _target(value: float | None, threshold: float, unit: str) -> dict[str, Any]:
    return {
        "value": value,
        "threshold": threshold,
        "unit": unit,
        "pass": None if value is None else value <= threshold,
    }


def targets(ours: dict[str, Any] | None, rat: dict[str, float | None]) -> dict[str, Any]:
    """Pass/fail per target (``pass`` is null when the number is missing)."""
    return {
        "cold_index_s": _target(_get(ours, "index_s"), 4.5, "s"),
        "did_change_to_graph_updated_p95_ms": _target(
            _get(ours, "graph_update", "p95_ms"), 10.0, "ms"
        ),
        "did_change_to_document_symbol_p95_ms": _target(_get(ours, "typing", "p95_ms"), 10.0, "ms"),
        "document_symbol_p95_ratio": _target(rat["document_symbol_p95"], 0.1, "x"),
        "definition_p95_ratio": _target(rat["definition_p95"], 1.0, "x"),
        "peak_rss_ratio": _target(rat["peak_rss"], 1.0, "x"),
    }


def write_json(report: dict[str, Any], out: Path) -> None:
    """Write atomically via ``<out>.tmp``."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(json.dumps(report, indent=2, sort_keys=False) + "\n")
    tmp.replace(out)


# ------------------------------------------------------------------ summary
_ROWS: list[tuple[str, tuple[str, ...]]] = [
    ("cold index (s)", ("index_s",)),
    ("first request (ms)", ("first_request", "latency_ms")),
    ("documentSymbol p50 (ms)", ("document_symbol", "p50_ms")),
    ("documentSymbol p95 (ms)", ("document_symbol", "p95_ms")),
    ("definition p50 (ms)", ("definition", "p50_ms")),
    ("definition p95 (ms)", ("definition", "p95_ms")),
    ("definition non-empty", ("definition", "non_empty_rate")),
    ("references p50 (ms)", ("references", "p50_ms")),
    ("references max (ms)", ("references", "max_ms")),
    ("workspace/symbol (ms)", ("workspace_symbol", "latency_ms")),
    ("workspace/symbol count", ("workspace_symbol", "count")),
    ("unopened class found", ("unopened_class_found", "found")),
    ("didChange->docSym p50 (ms)", ("typing", "p50_ms")),
    ("didChange->docSym p95 (ms)", ("typing", "p95_ms")),
    ("VmHWM server (MB)", ("resources", "server_vmhwm_mb")),
    ("VmHWM +children (MB)", ("resources", "server_plus_children_vmhwm_mb")),
    ("CPU +children (s)", ("resources", "cpu_server_plus_children_s")),
    ("errors", ("error_count",)),
    ("wall (s)", ("wall_s",)),
]


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 100 else f"{value:.0f}"
    return str(value)


def summary_table(report: dict[str, Any]) -> str:
    """Human-readable side-by-side table plus target verdicts."""
    ours, warm, peer = (
        report.get("ours"),
        report.get("ours_warm"),
        report.get("jedi_language_server"),
    )
    lines = [f"{'metric':28} {'ours':>12} {'jedi-ls':>12}", f"{'-' * 28} {'-' * 12} {'-' * 12}"]
    for label, path in _ROWS:
        lines.append(f"{label:28} {_fmt(_get(ours, *path)):>12} {_fmt(_get(peer, *path)):>12}")
    lines.append(f"{'warm index (s)':28} {_fmt(_get(warm, 'index_s')):>12} {'':>12}")
    floor = report.get("floor", {})
    lines.append(
        f"tree-sitter floor: {floor.get('files')} files, {floor.get('best_s')} s, "
        f"{floor.get('mb_per_s')} MB/s"
    )
    edit = floor.get("typing_file_edit") or {}
    lines.append(
        f"typing-file floor: full parse {edit.get('full_parse_ms')} ms, "
        f"incremental re-parse {edit.get('incremental_parse_ms')} ms"
    )
    lines.append("targets:")
    for name, target in report.get("targets", {}).items():
        verdict = {True: "PASS", False: "FAIL", None: "n/a"}[target["pass"]]
        lines.append(
            f"  {name:40} {_fmt(target['value']):>10} <= {target['threshold']:<6} {verdict}"
        )
    return "\n".join(lines)
