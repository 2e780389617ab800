"""B2 workload: every single hunk between consecutive PyPI releases, with its gold result.

A hunk is one `difflib` group (3 lines of context) of a `.py` file present in both releases.
Gold is the old file with only that hunk applied.
"""

from __future__ import annotations

import difflib
import re
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from benchkit import sha256_file

DEFAULT_PROJECTS = "requests:2.32.5:2.34.2,rich:14.3.2:15.0.0,flask:3.0.3:3.1.3"
CONTEXT = 3
MAX_CHANGED = 40  # sum over the hunk's change groups of max(removed, added)
MAX_OLD_LINES = 60  # same cut as the 434-hunk prototype (BENCHMARKS.md 2d)
MAX_WIDEN = 10  # extra context lines per side allowed to make the old side unique

_LINE = re.compile(r"[^\n]*\n|[^\n]+\Z")


@dataclass(frozen=True)
class Project:
    name: str
    old: str
    new: str


@dataclass(frozen=True)
class Hunk:
    """One real hunk. `lines` are (op, text) with op in ' ', '-', '+' and text ending in \\n."""

    id: str
    project: str
    path: str  # relative to the sdist's top directory, posix
    old_text: str
    start: int  # 0-based index of the first old-side line in old_text
    lines: tuple[tuple[str, str], ...]
    gold: str
    widened: int  # context lines added on each side to make the old side unique


@dataclass
class Workload:
    hunks: list[Hunk]
    projects: list[dict[str, object]] = field(default_factory=list)
    excluded: dict[str, int] = field(default_factory=dict)


def parse_projects(spec: str) -> list[Project]:
    out: list[Project] = []
    for item in spec.split(","):
        item = item.strip()
        if not item:
            continue
        parts = item.split(":")
        if len(parts) != 3 or not all(parts):
            raise ValueError(f"bad project spec {item!r}; expected name:old:new")
        out.append(Project(*parts))
    if not out:
        raise ValueError("no projects given")
    return out


def split_lines(text: str) -> list[str]:
    """Split on \\n only (str.splitlines also splits on \\f, \\x1c, \\u2028, ...)."""
    return _LINE.findall(text)


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def _find_sdist(sdists: Path, name: str, ver: str) -> Path | None:
    want = f"{_norm(name)}-{ver}"
    for path in sorted(sdists.iterdir()):
        for suffix in (".tar.gz", ".zip", ".tgz"):
            if path.name.endswith(suffix) and _norm(path.name[: -len(suffix)]) == _norm(want):
                return path
    return None


def ensure_sdist(cache: Path, name: str, ver: str, refresh: bool = False) -> Path:
    sdists = cache / "sdists"
    sdists.mkdir(parents=True, exist_ok=True)
    found = None if refresh else _find_sdist(sdists, name, ver)
    if found is None:
        cmd = [sys.executable, "-m", "pip", "download", "-q", "--no-binary", ":all:",
               "--no-deps", f"{name}=={ver}", "-d", str(sdists)]  # fmt: skip
        subprocess.run(cmd, check=True)
        found = _find_sdist(sdists, name, ver)
    if found is None:
        raise RuntimeError(f"pip download gave no sdist for {name}=={ver}")
    return found


def _extract(cache: Path, sdist: Path, name: str, ver: str) -> Path:
    dest = cache / "src" / "b2" / f"{_norm(name)}-{ver}"
    if not dest.exists():
        tmp = dest.with_name(dest.name + ".tmp")
        tmp.mkdir(parents=True, exist_ok=True)
        if sdist.name.endswith(".zip"):
            with zipfile.ZipFile(sdist) as zf:
                zf.extractall(tmp)
        else:
            with tarfile.open(sdist) as tar:
                tar.extractall(tmp, filter="data")
        tmp.rename(dest)
    tops = [p for p in dest.iterdir() if p.is_dir()]
    return tops[0] if len(tops) == 1 else dest


def _read(path: Path) -> str | None:
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            return fh.read()
    except (UnicodeDecodeError, OSError):
        return None


def _widen(a: list[str], i1: int, i2: int, old_text: str) -> tuple[int, int, int] | None:
    """Grow context until the old side occurs once in the file (as a substring)."""
    for extra in range(MAX_WIDEN + 1):
        lo, hi = max(0, i1 - extra), min(len(a), i2 + extra)
        if old_text.count("".join(a[lo:hi])) == 1:
            return lo, hi, extra
        if lo == 0 and hi == len(a):
            break
    return None


def file_hunks(project: str, rel: str, old: str, new: str, excluded: dict[str, int]) -> list[Hunk]:
    a, b = split_lines(old), split_lines(new)
    out: list[Hunk] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for n, group in enumerate(matcher.get_grouped_opcodes(CONTEXT)):
        changed = sum(max(i2 - i1, j2 - j1) for tag, i1, i2, j1, j2 in group if tag != "equal")
        i1, i2 = group[0][1], group[-1][2]
        if changed > MAX_CHANGED or i2 - i1 > MAX_OLD_LINES:
            excluded["too_large"] = excluded.get("too_large", 0) + 1
            continue
        if i1 == i2:
            excluded["empty_old_side"] = excluded.get("empty_old_side", 0) + 1
            continue
        lines: list[tuple[str, str]] = []
        for tag, x1, x2, y1, y2 in group:
            if tag == "equal":
                lines += [(" ", s) for s in a[x1:x2]]
            else:
                lines += [("-", s) for s in a[x1:x2]] + [("+", s) for s in b[y1:y2]]
        if any(not s.endswith("\n") or "\r" in s for _, s in lines):
            excluded["no_final_newline_or_cr"] = excluded.get("no_final_newline_or_cr", 0) + 1
            continue
        widened = _widen(a, i1, i2, old)
        if widened is None:
            excluded["not_unique"] = excluded.get("not_unique", 0) + 1
            continue
        lo, hi, extra = widened
        if any(not s.endswith("\n") or "\r" in s for s in a[lo:i1] + a[i2:hi]):
            excluded["no_final_newline_or_cr"] = excluded.get("no_final_newline_or_cr", 0) + 1
            continue
        lines = [(" ", s) for s in a[lo:i1]] + lines + [(" ", s) for s in a[i2:hi]]
        after = [s for op, s in lines if op != "-"]
        gold = "".join(a[:lo] + after + a[hi:])
        out.append(Hunk(f"{project}/{rel}#{n}", project, rel, old, lo, tuple(lines), gold, extra))
    return out


def build(cache: Path, projects: list[Project], refresh: bool = False) -> Workload:
    wl = Workload(hunks=[])
    for proj in projects:
        facts: dict[str, object] = {"name": proj.name, "old": proj.old, "new": proj.new}
        tops = []
        for key, ver in (("old", proj.old), ("new", proj.new)):
            sdist = ensure_sdist(cache, proj.name, ver, refresh)
            facts[f"{key}_sdist"] = {"file": sdist.name, "sha256": sha256_file(sdist)}
            tops.append(_extract(cache, sdist, proj.name, ver))
        old_top, new_top = tops
        files_changed, before = 0, len(wl.hunks)
        for old_file in sorted(old_top.rglob("*.py")):
            rel = old_file.relative_to(old_top).as_posix()
            new_file = new_top / rel
            if not new_file.is_file():
                continue
            old, new = _read(old_file), _read(new_file)
            if old is None or new is None or old == new:
                continue
            files_changed += 1
            wl.hunks.extend(file_hunks(proj.name, rel, old, new, wl.excluded))
        facts["py_files_changed"] = files_changed
        facts["hunks"] = len(wl.hunks) - before
        wl.projects.append(facts)
    return wl
