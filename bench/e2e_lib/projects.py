"""Third-party projects for B6: pinned sdists, flattened workspaces, their own tests.

A workspace is the sdist with ``src/<pkg>`` moved to the top (so ``python -m pytest`` run
in it imports the workspace's copy, not an installed one) and only the package folders,
``tests/`` and the pytest configuration kept.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path

from benchkit import sha256_file

__all__ = [
    "PROJECTS",
    "Project",
    "TestRun",
    "copy_workspace",
    "fetch_sdist",
    "pristine",
    "register",
    "run_tests",
]

_KEEP_FILES = ("pyproject.toml", "setup.cfg", "tox.ini", "pytest.ini", "conftest.py")


@dataclass(frozen=True)
class Project:
    """A pinned PyPI project whose sdist ships its tests (no test deps beyond the venv's)."""

    name: str
    version: str
    packages: tuple[str, ...]

    @property
    def sdist_name(self) -> str:
        return f"{self.name}-{self.version}.tar.gz"


PROJECTS = {
    p.name: p
    for p in (
        Project("attrs", "25.3.0", ("attr", "attrs")),
        Project("click", "8.1.8", ("click",)),
        Project("itsdangerous", "2.2.0", ("itsdangerous",)),
    )
}


def register(project: Project) -> None:
    """Add a project (e.g. a local fixture whose sdist is already in the cache)."""
    PROJECTS[project.name] = project


def fetch_sdist(project: Project, cache: Path) -> Path:
    """The cached sdist, downloaded once with ``pip download`` (the only network use)."""
    folder = cache / "sdists"
    path = folder / project.sdist_name
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        spec = f"{project.name}=={project.version}"
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
             "-d", str(folder), spec],
            check=True,
        )  # fmt: skip
    return path


def pristine(project: Project, cache: Path) -> tuple[Path, str]:
    """The flattened, unmodified workspace (built once) and the sdist's sha256."""
    sdist = fetch_sdist(project, cache)
    digest = sha256_file(sdist)
    root = cache / "b6" / "pristine" / f"{project.name}-{project.version}"
    if not (root / ".complete").exists():
        if root.exists():
            shutil.rmtree(root)
        staging = root.with_name(root.name + ".tmp")
        shutil.rmtree(staging, ignore_errors=True)
        with tarfile.open(sdist) as tar:
            tar.extractall(staging, filter="data")
        top = staging / f"{project.name}-{project.version}"
        root.mkdir(parents=True)
        for package in project.packages:
            source = top / "src" / package
            shutil.copytree(source if source.is_dir() else top / package, root / package)
        shutil.copytree(top / "tests", root / "tests")
        for name in _KEEP_FILES:
            if (top / name).is_file():
                shutil.copy2(top / name, root / name)
        _quiet_asyncio(root / "pyproject.toml")
        shutil.rmtree(staging)
        (root / ".complete").write_text(digest)
    return root, digest


def _quiet_asyncio(pyproject: Path) -> None:
    """Set pytest-asyncio's loop scope: its warning is an error under ``filterwarnings=error``."""
    if pyproject.is_file():
        text = pyproject.read_text(encoding="utf-8")
        section = "[tool.pytest.ini_options]\n"
        setting = 'asyncio_default_fixture_loop_scope = "function"\n'
        if section in text and setting not in text:
            pyproject.write_text(text.replace(section, section + setting, 1), encoding="utf-8")


def copy_workspace(source: Path, target: Path) -> None:
    """A fresh copy of a workspace (without the build marker)."""
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(".complete", "__pycache__"))


@dataclass(frozen=True)
class TestRun:
    """One pytest run: passed (rc 0), the failing test ids and the output."""

    passed: bool
    failed: tuple[str, ...]
    output: str
    rc: int


def run_tests(root: Path, tests: list[str], python: str, timeout: float = 180.0) -> TestRun:
    """Run ``tests`` with pytest in ``root`` (the workspace's own copy is imported)."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONDONTWRITEBYTECODE": "1",
        "HOME": os.environ.get("HOME", "/tmp"),
        "HYPOTHESIS_STORAGE_DIRECTORY": str(root / ".hypothesis"),
    }
    command = [python, "-m", "pytest", "-q", "-rfE", "--no-header", "-p", "no:cacheprovider",
               "--maxfail=50", "--tb=short", *tests]  # fmt: skip
    try:
        done = subprocess.run(
            command, cwd=root, env=env, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return TestRun(False, ("<timeout>",), f"pytest timed out after {timeout:.0f} s", -1)
    output = done.stdout + done.stderr
    failed = tuple(
        line.split(" ", 1)[1].split(" - ", 1)[0]
        for line in output.splitlines()
        if line.startswith(("FAILED ", "ERROR "))
    )
    return TestRun(done.returncode == 0, failed, output, done.returncode)
