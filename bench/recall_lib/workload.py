"""B1 workload: pinned PyPI sdists, extracted once, plus a scratch copy per project."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

from benchkit import sha256_file

DEFAULT_PROJECTS = "Django==5.2.19,flask==3.1.3,rich==15.0.0,requests==2.34.2"
SKIP_DIRS = frozenset({".git", ".tox", "__pycache__", "build", "dist", ".aider.tags.cache.v4"})
GT_CONFIG = "pyrefly.toml"  # written into the pristine tree only (never into the scratch copy)
NON_SOURCE_PARTS = frozenset({"tests", "test", "testing", "docs", "doc", "examples", "example"})


@dataclass(frozen=True)
class ProjectSpec:
    name: str
    version: str

    @property
    def key(self) -> str:
        return f"{self.name.lower()}-{self.version}"


@dataclass
class Project:
    spec: ProjectSpec
    sdist: Path
    sha256: str
    src: Path  # pristine extracted tree (ground truth is computed here)
    scratch: Path  # copy handed to the retrievers; masked files are written here
    py_files: list[str] = field(default_factory=list)  # relative posix paths

    def is_source(self, rel: str) -> bool:
        parts = rel.split("/")
        if any(p in NON_SOURCE_PARTS for p in parts[:-1]):
            return False
        base = parts[-1]
        return not (base.startswith("test_") or base.endswith("_test.py") or base == "conftest.py")


def parse_projects(text: str) -> list[ProjectSpec]:
    out: list[ProjectSpec] = []
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        if "==" not in item:
            raise SystemExit(f"--projects wants name==version items, got {item!r}")
        name, ver = item.split("==", 1)
        out.append(ProjectSpec(name.strip(), ver.strip()))
    return out


def _find_sdist(cache: Path, spec: ProjectSpec) -> Path | None:
    want = {f"{spec.name.lower()}-{spec.version}.tar.gz", f"{spec.name}-{spec.version}.tar.gz"}
    for folder in (cache / "sdists", cache / "sdist"):
        if folder.is_dir():
            for p in sorted(folder.iterdir()):
                if p.name in want or p.name.lower() in want:
                    return p
    return None


def ensure_sdist(cache: Path, spec: ProjectSpec) -> Path:
    found = _find_sdist(cache, spec)
    if found is None:
        dest = cache / "sdists"
        dest.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "pip", "download", "-q", "--no-binary", ":all:",
               "--no-deps", f"{spec.name}=={spec.version}", "-d", str(dest)]  # fmt: skip
        subprocess.run(cmd, check=True)
        found = _find_sdist(cache, spec)
        if found is None:
            raise SystemExit(f"pip download did not produce an sdist for {spec.key}")
    return found


def _extract(cache: Path, spec: ProjectSpec, sdist: Path) -> Path:
    dest = cache / "src" / "b1" / spec.key
    if not dest.exists():
        tmp = dest.with_name(dest.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        with tarfile.open(sdist) as tar:
            tar.extractall(tmp, filter="data")
        tmp.rename(dest)
    tops = [p for p in dest.iterdir() if p.is_dir()]
    if len(tops) != 1:
        raise SystemExit(f"unexpected sdist layout in {dest}")
    return tops[0]


def list_py(root: Path) -> list[str]:
    out: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.startswith("."))
        for fn in sorted(filenames):
            if fn.endswith(".py"):
                out.append(Path(dirpath, fn).relative_to(root).as_posix())
    return out


def _fresh_scratch(src: Path, scratch: Path) -> None:
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(src, scratch, ignore=shutil.ignore_patterns(*SKIP_DIRS, GT_CONFIG))


def _pyrefly_config(src: Path) -> None:
    """Make pyrefly resolve the project from its own root (not from a parent pyproject.toml,
    and not hidden by a parent .gitignore)."""
    roots = ['"src"', '"."'] if (src / "src").is_dir() else ['"."']
    text = (
        f"search-path = [{', '.join(roots)}]\n"
        'project-includes = ["**/*.py"]\n'
        "use-ignore-files = false\n"
    )
    cfg = src / GT_CONFIG
    if not cfg.exists() or cfg.read_text() != text:
        cfg.write_text(text)


def prepare(cache: Path, spec: ProjectSpec) -> Project:
    sdist = ensure_sdist(cache, spec)
    src = _extract(cache, spec, sdist)
    _pyrefly_config(src)
    scratch = cache / "work" / "b1" / spec.key
    _fresh_scratch(src, scratch)
    return Project(spec, sdist, sha256_file(sdist), src, scratch, list_py(src))
