"""T7: hostile edit targets never lead to a write outside the workspace."""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path, PurePosixPath

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smallcode_ls.security.paths import (
    PathRefused,
    TargetClass,
    check_target,
    guard_change,
    is_secret_file,
    write_inside,
)


@pytest.fixture
def layout(tmp_path: Path) -> tuple[Path, Path]:
    """A workspace ``ws`` and, beside it, an outside folder with a sentinel."""
    root = tmp_path / "ws"
    root.mkdir()
    (root / "pkg").mkdir()
    (root / "pkg" / "mod.py").write_text("x = 1\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "sentinel.txt").write_text("SENTINEL\n")
    twin = tmp_path / "ws_evil"
    twin.mkdir()
    (twin / "x.py").write_text("TWIN\n")
    return root, outside


def _outside_state(tmp_path: Path) -> dict[str, bytes]:
    return {
        str(p): p.read_bytes()
        for p in sorted(tmp_path.rglob("*"))
        if p.is_file() and not str(p).startswith(str(tmp_path / "ws") + os.sep)
    }


HOSTILE = [
    "../outside/sentinel.txt",
    "../../etc/passwd",
    "pkg/../../outside/sentinel.txt",
    "/etc/passwd",
    "~/.bashrc",
    "file:///etc/passwd",
    "http://example.com/x.py",
    "pkg/\x00evil.py",
    "pkg/evil\n.py",
    "a" * 300 + ".py",
    "/".join(["d"] * 2100),
]


@pytest.mark.parametrize("target", HOSTILE)
def test_hostile_relative_and_absolute_paths_are_refused(
    layout: tuple[Path, Path], tmp_path: Path, target: str
) -> None:
    root, _ = layout
    before = _outside_state(tmp_path)
    with pytest.raises(PathRefused):
        write_inside(check_target(root, target), "owned\n")
    assert _outside_state(tmp_path) == before


def test_encoded_traversal_in_a_file_uri_is_refused(layout: tuple[Path, Path]) -> None:
    root, _ = layout
    with pytest.raises(PathRefused):
        check_target(root, f"file://{root}/%2e%2e/outside/sentinel.txt")


def test_prefix_twin_is_outside(layout: tuple[Path, Path], tmp_path: Path) -> None:
    root, _ = layout
    with pytest.raises(PathRefused, match="outside"):
        check_target(root, str(tmp_path / "ws_evil" / "x.py"))
    with pytest.raises(PathRefused, match="outside"):
        check_target(root, f"file://{tmp_path}/ws_evil/x.py")


def test_symlinked_file_and_folder_are_refused(layout: tuple[Path, Path], tmp_path: Path) -> None:
    root, outside = layout
    (root / "link.py").symlink_to(outside / "sentinel.txt")
    (root / "linkdir").symlink_to(outside)
    (root / "inner.py").symlink_to(root / "pkg" / "mod.py")  # even one pointing inside
    before = _outside_state(tmp_path)
    for target in ("link.py", "linkdir/sentinel.txt", "linkdir/new.py", "inner.py"):
        with pytest.raises(PathRefused, match="symbolic link"):
            check_target(root, target)
    assert _outside_state(tmp_path) == before


def test_hardlink_to_an_outside_file_is_refused(layout: tuple[Path, Path]) -> None:
    root, outside = layout
    os.link(outside / "sentinel.txt", root / "hard.py")
    with pytest.raises(PathRefused, match="hardlinked"):
        check_target(root, "hard.py")


def test_symlink_swapped_in_after_the_check_is_not_written_through(
    layout: tuple[Path, Path], tmp_path: Path
) -> None:
    root, outside = layout
    target = check_target(root, "pkg/mod.py")
    # The race: after the check, the file becomes a symlink to a file outside.
    (root / "pkg" / "mod.py").unlink()
    (root / "pkg" / "mod.py").symlink_to(outside / "sentinel.txt")
    with pytest.raises(PathRefused, match="not a regular file"):
        write_inside(target, "new\n")
    assert (outside / "sentinel.txt").read_text() == "SENTINEL\n"


def test_folder_swapped_for_a_symlink_after_the_check_is_refused(
    layout: tuple[Path, Path], tmp_path: Path
) -> None:
    root, outside = layout
    target = check_target(root, "pkg/mod.py")
    (root / "pkg" / "mod.py").unlink()
    (root / "pkg").rmdir()
    (root / "pkg").symlink_to(outside)
    before = _outside_state(tmp_path)
    with pytest.raises(PathRefused):
        write_inside(target, "owned\n")
    assert _outside_state(tmp_path) == before


def test_racing_symlink_swaps_never_write_outside(
    layout: tuple[Path, Path], tmp_path: Path
) -> None:
    root, outside = layout
    stop = threading.Event()

    def swap() -> None:
        link = root / "pkg" / "mod.py"
        while not stop.is_set():
            try:
                link.unlink(missing_ok=True)
                link.symlink_to(outside / "sentinel.txt")
            except OSError:
                pass

    thread = threading.Thread(target=swap)
    thread.start()
    try:
        for _ in range(300):
            with contextlib.suppress(PathRefused, OSError):
                write_inside(check_target(root, "pkg/mod.py"), "new\n")
    finally:
        stop.set()
        thread.join()
    assert (outside / "sentinel.txt").read_text() == "SENTINEL\n"
    assert sorted(p.name for p in outside.iterdir()) == ["sentinel.txt"]


@pytest.mark.parametrize(
    "target",
    [".git/config", ".git/hooks/pre-commit", ".vscode/settings.json", ".vscode/tasks.json",
     ".env", ".env.local", ".github/workflows/ci.yml", ".gitlab-ci.yml", ".smallcode.json",
     "deploy/id_rsa", "certs/server.pem", ".pre-commit-config.yaml"],
)  # fmt: skip
def test_protected_paths_need_a_distinct_confirmation(
    layout: tuple[Path, Path], target: str
) -> None:
    root, _ = layout
    checked = check_target(root, target)
    assert checked.kind is TargetClass.PROTECTED
    with pytest.raises(PathRefused, match="protected"):
        write_inside(checked, "x\n")
    write_inside(checked, "x\n", allow_protected=True)
    assert (root / target).read_text() == "x\n"


def test_ordinary_new_file_in_a_new_folder_is_written(layout: tuple[Path, Path]) -> None:
    root, _ = layout
    checked = check_target(root, f"file://{root}/tests/test_new.py")
    assert checked.kind is TargetClass.ORDINARY
    assert checked.relative == PurePosixPath("tests/test_new.py")
    write_inside(checked, "def test_x():\n    pass\n")
    assert (root / "tests" / "test_new.py").read_text().startswith("def test_x")


def test_secret_file_names() -> None:
    assert all(map(is_secret_file, [".env", ".env.production", "id_rsa", "a/b/key.pem"]))
    assert not any(map(is_secret_file, ["env.py", "keys.py", "environment.md"]))


_segment = st.sampled_from(["..", ".", "pkg", "outside", "ws", "ws_evil", "", "%2e%2e", "~"])


@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(parts=st.lists(_segment, min_size=1, max_size=6), absolute=st.booleans())
def test_generated_paths_never_escape(
    layout: tuple[Path, Path], tmp_path: Path, parts: list[str], absolute: bool
) -> None:
    root, _ = layout
    before = _outside_state(tmp_path)
    name = "/".join([*parts, "f.py"])
    target = f"{tmp_path}/{name}" if absolute else name
    try:
        checked = check_target(root, target)
    except PathRefused:
        return
    assert checked.path.resolve().is_relative_to(root.resolve())
    write_inside(checked, "x\n", allow_protected=True)
    assert _outside_state(tmp_path) == before


@pytest.mark.parametrize(
    ("relative", "old", "new", "touches"),
    [
        (".vscode/settings.json", '{"a": 1}\n', '{"a": 1,\n "smallcode.security.x": true}\n', True),
        (".vscode/settings.json", '{"a": 1}\n', '{"a": 2}\n', False),
        (".smallcode/permissions.json", "{}", '{"allow": "*"}', True),
        ("proj.code-workspace", "{}", '{"settings": {}}', True),
        ("src/app.py", "x = 1\n", "smallcode = 2\n", False),
    ],
)
def test_the_agent_may_not_change_its_own_settings(
    layout: tuple[Path, Path], relative: str, old: str, new: str, touches: bool
) -> None:
    root, _ = layout
    (root / relative).parent.mkdir(parents=True, exist_ok=True)
    if touches:
        with pytest.raises(PathRefused, match="own settings"):
            guard_change(root, relative, old, new)
    else:
        guard_change(root, relative, old, new)
