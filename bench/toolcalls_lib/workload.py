"""B3 workload: real edits (path, search, replace) from PyPI release pairs, via difflib hunks."""

from __future__ import annotations

import difflib
import random
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path

from benchkit import sha256_file

PAIRS = (
    ("requests", "2.32.5", "2.34.2"),
    ("rich", "14.3.2", "15.0.0"),
    ("flask", "3.0.3", "3.1.3"),
)
MAX_CHANGED = 40
MAX_SEARCH_LINES = 60
CONTEXT = 3


@dataclass(frozen=True)
class Edit:
    id: str
    path: str
    search: str
    replace: str


def ensure_sdists(cache: Path) -> dict[str, dict[str, str]]:
    """Download the six sdists once; returns {name-ver: {file, sha256}}."""
    sdists = cache / "sdists"
    sdists.mkdir(parents=True, exist_ok=True)
    facts: dict[str, dict[str, str]] = {}
    for name, *versions in PAIRS:
        for ver in versions:
            found = sorted(sdists.glob(f"{name}-{ver}.tar.gz"))
            if not found:
                cmd = [sys.executable, "-m", "pip", "download", "-q", "--no-binary", ":all:",
                       "--no-deps", f"{name}=={ver}", "-d", str(sdists)]  # fmt: skip
                subprocess.run(cmd, check=True)
                found = sorted(sdists.glob(f"{name}-{ver}.tar.gz"))
            facts[f"{name}-{ver}"] = {"file": found[0].name, "sha256": sha256_file(found[0])}
    return facts


def _extract(cache: Path, name: str, ver: str) -> Path:
    dest = cache / "src" / "b3" / f"{name}-{ver}"
    if not dest.exists():
        tmp = dest.with_suffix(".tmp")
        tmp.mkdir(parents=True, exist_ok=True)
        with tarfile.open(cache / "sdists" / f"{name}-{ver}.tar.gz") as tar:
            tar.extractall(tmp, filter="data")
        tmp.rename(dest)
    (top,) = [p for p in dest.iterdir() if p.is_dir()]
    return top


def _read(path: Path) -> str | None:
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            return fh.read()
    except (UnicodeDecodeError, OSError):
        return None


def _hunks(rel: str, old: str, new: str) -> list[Edit]:
    a = old.splitlines(keepends=True)
    b = new.splitlines(keepends=True)
    out: list[Edit] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for n, group in enumerate(matcher.get_grouped_opcodes(CONTEXT)):
        changed = sum(max(i2 - i1, j2 - j1) for tag, i1, i2, j1, j2 in group if tag != "equal")
        i1, i2, j1, j2 = group[0][1], group[-1][2], group[0][3], group[-1][4]
        if changed > MAX_CHANGED or i2 - i1 > MAX_SEARCH_LINES or i1 == i2:
            continue
        out.append(Edit(f"{rel}#{n}", rel, "".join(a[i1:i2]), "".join(b[j1:j2])))
    return out


def all_edits(cache: Path) -> list[Edit]:
    edits: list[Edit] = []
    for name, old_ver, new_ver in PAIRS:
        old_top, new_top = _extract(cache, name, old_ver), _extract(cache, name, new_ver)
        for old_file in sorted(old_top.rglob("*.py")):
            rel = old_file.relative_to(old_top).as_posix()
            new_file = new_top / rel
            if not new_file.exists():
                continue
            old, new = _read(old_file), _read(new_file)
            if old is None or new is None or old == new:
                continue
            edits.extend(_hunks(f"{name}/{rel}", old, new))
    return edits


def sample_edits(cache: Path, count: int, seed: int) -> tuple[list[Edit], int]:
    edits = all_edits(cache)
    rng = random.Random(seed)
    return (rng.sample(edits, min(count, len(edits))), len(edits))
