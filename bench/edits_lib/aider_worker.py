"""Runs inside aider's own venv: applies cases with aider's editblock and udiff code.

Protocol: one JSON object per stdin line, one JSON object per stdout line, in order.
  request:  {"kind": "hello"}  ->  {"aider": version, "python": version, "signatures": {...}}
  request:  {"kind": "editblock" | "udiff", "path", "text", "output"}
  response: {"new_text": str | null, "ns": int, "error": str}

Mirrors aider's coders: EditBlockCoder.get_edits/apply_edits (find_original_update_blocks, then
do_replace per block) and UnifiedDiffCoder.get_edits/apply_edits (find_diffs, normalize_hunk,
dedupe, then do_replace per hunk). A parse error, a failed block/hunk or a non-unique hunk is
a refusal (aider would report it to the model). Only the parse + apply calls are timed.
Standalone on purpose: it imports nothing from the project.
"""

from __future__ import annotations

import inspect
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def main() -> None:
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # anything aider prints goes to stderr, not into the protocol
    sys.stdout = sys.stderr

    import aider
    from aider.coders import editblock_coder as eb
    from aider.coders import udiff_coder as ud
    from aider.coders.search_replace import SearchTextNotUnique

    fence = eb.DEFAULT_FENCE
    work = Path(tempfile.mkdtemp(prefix="b2-aider-"))

    def editblock(full: Path, path: str, text: str, output: str) -> str | None:
        edits = [e for e in eb.find_original_update_blocks(output, fence, [path]) if e[0]]
        if not edits:
            return None
        content = text
        for _fname, original, updated in edits:
            new = eb.do_replace(str(full), content, original, updated, fence)
            if not new:
                return None
            content = new
        return content

    def udiff(full: Path, path: str, text: str, output: str) -> str | None:
        seen: set[str] = set()
        uniq = []
        for fname, hunk in ud.find_diffs(output):
            hunk = ud.normalize_hunk(hunk)
            if not hunk:
                continue
            key = "".join([(fname or "") + "\n", *hunk])
            if key in seen:
                continue
            seen.add(key)
            uniq.append(hunk)
        if not uniq:
            return None
        content = text
        for hunk in uniq:
            try:
                new = ud.do_replace(str(full), content, hunk)
            except SearchTextNotUnique:
                return None
            if not new:
                return None
            content = new
        return content

    for line in sys.stdin:
        req: dict[str, Any] = json.loads(line)
        kind = req["kind"]
        if kind == "hello":
            resp: dict[str, Any] = {
                "aider": aider.__version__,
                "python": sys.version.split()[0],
                "signatures": {
                    "editblock_coder.do_replace": str(inspect.signature(eb.do_replace)),
                    "udiff_coder.do_replace": str(inspect.signature(ud.do_replace)),
                },
            }
        else:
            full = work / Path(req["path"]).name
            full.write_text(req["text"], encoding="utf-8")
            fn = editblock if kind == "editblock" else udiff
            error = ""
            t0 = time.perf_counter_ns()
            try:
                new_text = fn(full, req["path"], req["text"], req["output"])
            except Exception as exc:  # aider raises ValueError on malformed blocks
                new_text, error = None, f"{type(exc).__name__}: {exc}"[:300]
            ns = time.perf_counter_ns() - t0
            resp = {"new_text": new_text, "ns": ns, "error": error}
        out.write(json.dumps(resp) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
