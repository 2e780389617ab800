"""Workload preparation: Django sdist download/extract, smoke subset, peer venv."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path

from benchkit import sha256_file

DJANGO_SPEC = "django>=5.2,<5.3"
SMOKE_SUBTREES = ("django/db", "django/utils")
JEDI_LS_SPEC = "jedi-language-server==0.47.0"
SKIP_DIRS = {".git", "__pycache__", ".venv", "node_modules"}


@dataclass
class Workload:
    """A directory tree of Python files the servers are pointed at."""

    name: str
    root: Path
    sdist: str
    sdist_sha256: str
    files: list[Path]
    total_bytes: int

    @property
    def megabytes(self) -> float:
        return self.total_bytes / 1e6


def python_files(root: Path) -> list[Path]:
    """All ``*.py`` files under ``root`` (sorted, skipping VCS/cache dirs)."""
    found = [p for p in root.rglob("*.py") if not SKIP_DIRS.intersection(p.relative_to(root).parts)]
    return sorted(p for p in found if p.is_file())


def _run(argv: list[str], what: str) -> None:
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-3000:])
        raise RuntimeError(f"{what} failed (exit {proc.returncode}): {' '.join(argv)}")


def download_django(cache: Path, pip_python: str, refresh: bool) -> Path:
    """Return the cached Django 5.2.x sdist, downloading it with pip if needed."""
    sdist_dir = cache / "sdist"
    sdist_dir.mkdir(parents=True, exist_ok=True)
    existing = sorted(sdist_dir.glob("[Dd]jango-5.2.*.tar.gz"))
    if existing and not refresh:
        return existing[-1]
    argv = [
        pip_python,
        "-m",
        "pip",
        "download",
        "--no-binary",
        ":all:",
        "--no-deps",
        DJANGO_SPEC,
        "-d",
        str(sdist_dir),
    ]
    _run(argv, "pip download")
    existing = sorted(sdist_dir.glob("[Dd]jango-5.2.*.tar.gz"))
    if not existing:
        raise RuntimeError(f"pip download produced no Django sdist in {sdist_dir}")
    return existing[-1]


def extract_once(sdist: Path, cache: Path) -> Path:
    """Extract ``sdist`` under ``cache/src`` (once) and return its top directory."""
    stem = sdist.name.removesuffix(".tar.gz")
    dest = cache / "src"
    top = dest / stem
    marker = dest / f".{stem}.extracted"
    if marker.exists() and top.is_dir():
        return top
    if top.exists():
        shutil.rmtree(top)
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(sdist) as tar:
        tar.extractall(dest, filter="data")
    if not (top / "django").is_dir():
        raise RuntimeError(f"unexpected sdist layout: {top}/django missing")
    marker.write_text(sdist.name)
    return top


def smoke_tree(full_root: Path, cache: Path) -> Path:
    """Copy the smoke subtrees of an extracted Django into a scratch dir (once)."""
    dest = cache / "work" / f"smoke-{full_root.name}"
    marker = dest / ".complete"
    if marker.exists():
        return dest
    if dest.exists():
        shutil.rmtree(dest)
    (dest / "django").mkdir(parents=True)
    shutil.copy2(full_root / "django" / "__init__.py", dest / "django" / "__init__.py")
    for sub in SMOKE_SUBTREES:
        shutil.copytree(full_root / sub, dest / sub)
    marker.write_text("ok")
    return dest


def prepare(cache: Path, smoke: bool, pip_python: str, refresh: bool) -> Workload:
    """Download/extract Django and return the full or smoke workload."""
    sdist = download_django(cache, pip_python, refresh)
    full_root = extract_once(sdist, cache)
    root = smoke_tree(full_root, cache) if smoke else full_root
    files = python_files(root)
    total = sum(p.stat().st_size for p in files)
    name = f"{full_root.name}{' (smoke: ' + ', '.join(SMOKE_SUBTREES) + ')' if smoke else ''}"
    return Workload(name, root, sdist.name, sha256_file(sdist), files, total)


def ensure_jedi_venv(cache: Path, base_python: str) -> Path:
    """Create ``cache/venvs/jedi-ls`` with jedi-language-server; return its bin dir."""
    venv = cache / "venvs" / "jedi-ls"
    exe = venv / "bin" / "jedi-language-server"
    marker = venv / ".bench-installed"
    if exe.exists() and marker.exists() and marker.read_text() == JEDI_LS_SPEC:
        return venv / "bin"
    if venv.exists():
        shutil.rmtree(venv)
    _run([base_python, "-m", "venv", str(venv)], "venv creation")
    _run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", JEDI_LS_SPEC], "pip install")
    marker.write_text(JEDI_LS_SPEC)
    return venv / "bin"
