"""The one choke point for file targets: inside the workspace, or refused.

Every path the agent wants to change (an edit sent to the editor, a file written
headless) passes :func:`check_target`. It refuses, with a reason, anything that is
not a plain file strictly inside the workspace root: traversal, absolute paths
elsewhere, prefix twins (``/ws_evil`` next to ``/ws``), a symlink anywhere on the
way (file or folder, inside or out), hardlinked files, odd names (NUL, newlines,
over-long). Paths that are inside but sensitive (``.git/``, ``.vscode/``, our own
config, ``.env*``, CI and hook files) come back as :attr:`TargetClass.PROTECTED`:
they need a distinct confirmation, never the ordinary preview alone.

:func:`write_inside` is the server-side writer: it walks the folders with
``O_NOFOLLOW`` directory descriptors, writes a temp file beside the target, fsyncs
and renames it into place, so a symlink swapped in after the check, or a hardlink
to a file outside, is never written through.
"""

from __future__ import annotations

import contextlib
import os
import stat
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlparse

from smallcode_ls.errors import SmallCodeError

__all__ = [
    "PathRefused",
    "SafeTarget",
    "TargetClass",
    "check_target",
    "is_protected",
    "guard_change",
    "is_secret_file",
    "touches_own_settings",
    "write_inside",
]

_MAX_NAME_BYTES = 255
_MAX_PATH_BYTES = 4096

# Inside the workspace but never changed on the preview alone.
_PROTECTED_DIRS = frozenset({".git", ".vscode", ".idea", ".github", ".gitlab", ".circleci",
                             ".husky", ".smallcode", ".devcontainer"})  # fmt: skip
_PROTECTED_FILES = frozenset({
    ".gitlab-ci.yml", ".travis.yml", "azure-pipelines.yml", "Jenkinsfile",
    ".pre-commit-config.yaml",
    ".gitmodules", ".gitattributes", ".npmrc", ".pypirc", ".netrc", "smallcode.json",
    ".smallcode.json", ".smallcode.toml", ".nvim.lua", ".nvimrc", ".exrc", ".envrc",
})  # fmt: skip
_SECRET_NAMES = frozenset({"id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", "credentials.json",
                           "credentials", ".netrc", ".pypirc", ".npmrc", ".pgpass",
                           "secrets.json", "secrets.yaml", "secrets.yml"})  # fmt: skip
_SECRET_SUFFIXES = (".pem", ".key", ".p12", ".pfx", ".keystore", ".jks", ".asc", ".gpg")


class PathRefused(SmallCodeError):
    """A file target outside the workspace or otherwise unsafe; the edit is not made."""


class TargetClass(StrEnum):
    """What a checked target is: an ordinary file, or one that needs a distinct confirmation."""

    ORDINARY = "ordinary"
    PROTECTED = "protected"


@dataclass(frozen=True, slots=True)
class SafeTarget:
    """A checked target: the canonical root, the path relative to it, and its class."""

    root: Path
    relative: PurePosixPath
    kind: TargetClass

    @property
    def path(self) -> Path:
        """The absolute path (root joined with the relative path)."""
        return self.root.joinpath(*self.relative.parts)


def is_secret_file(name: str) -> bool:
    """Whether a file name looks like it holds secrets (``.env*``, keys, credentials)."""
    base = PurePosixPath(name).name
    lowered = base.lower()
    if lowered == ".env" or lowered.startswith(".env."):
        return True
    if lowered in _SECRET_NAMES or lowered.startswith("id_rsa"):
        return True
    return lowered.endswith(_SECRET_SUFFIXES)


def is_protected(relative: PurePosixPath) -> bool:
    """Whether a workspace-relative path needs a distinct confirmation before it changes."""
    parts = relative.parts
    if any(part in _PROTECTED_DIRS for part in parts[:-1]):
        return True
    name = parts[-1] if parts else ""
    return name in _PROTECTED_FILES or name in _PROTECTED_DIRS or is_secret_file(name)


def _as_path(target: str | Path) -> Path:
    if isinstance(target, Path):
        return target
    if target.startswith("file:"):
        parsed = urlparse(target)
        if parsed.netloc not in ("", "localhost"):
            raise PathRefused(f"not a local file: {target[:200]}")
        return Path(unquote(parsed.path))
    if "://" in target:
        raise PathRefused(f"not a file path: {target[:200]}")
    return Path(target)


def _check_name(text: str) -> None:
    if "\x00" in text or "\n" in text or "\r" in text:
        raise PathRefused("a file name with NUL or line breaks is refused")
    if len(os.fsencode(text)) > _MAX_PATH_BYTES:
        raise PathRefused("the path is too long")


def check_target(root: Path, target: str | Path) -> SafeTarget:
    """Check that ``target`` (a path, relative to ``root`` or absolute, or a file URI) is safe.

    Raises :class:`PathRefused` for anything outside ``root``, through a symlink, a
    hardlinked file or a non-regular file; returns the target and its class.
    """
    _check_name(str(target))
    real_root = Path(os.path.realpath(root))
    raw = _as_path(target)
    if str(raw).startswith("~"):
        raise PathRefused("paths starting with ~ are refused")
    absolute = raw if raw.is_absolute() else Path(root) / raw
    normal = Path(os.path.normpath(absolute))
    # Compare component-wise (never startswith on strings: /ws_evil is not inside /ws).
    for base in (Path(os.path.normpath(root)), real_root):
        if normal.is_relative_to(base) and normal != base:
            relative = normal.relative_to(base)
            break
    else:
        raise PathRefused(f"{raw} is outside the workspace")
    if ".." in relative.parts:
        raise PathRefused(f"{raw} is outside the workspace")
    current = real_root
    for index, part in enumerate(relative.parts):
        if len(os.fsencode(part)) > _MAX_NAME_BYTES:
            raise PathRefused("a file name is too long")
        current = current / part
        try:
            info = os.lstat(current)
        except FileNotFoundError:
            break  # the rest does not exist yet: a new file, checked again when written
        if stat.S_ISLNK(info.st_mode):
            raise PathRefused(f"{relative} goes through a symbolic link")
        last = index == len(relative.parts) - 1
        if last and not stat.S_ISREG(info.st_mode):
            raise PathRefused(f"{relative} is not a regular file")
        if last and info.st_nlink > 1:
            raise PathRefused(f"{relative} is hardlinked elsewhere")
        if not last and not stat.S_ISDIR(info.st_mode):
            raise PathRefused(f"{relative} is not inside a folder")
    posix = PurePosixPath(*relative.parts)
    kind = TargetClass.PROTECTED if is_protected(posix) else TargetClass.ORDINARY
    return SafeTarget(real_root, posix, kind)


def write_inside(target: SafeTarget, content: str, allow_protected: bool = False) -> None:
    """Write ``content`` to a checked target: no-follow folder walk, temp file, fsync, rename."""
    if target.kind is TargetClass.PROTECTED and not allow_protected:
        raise PathRefused(f"{target.relative} is protected; it needs a distinct confirmation")
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
    folder = os.open(target.root, flags)
    try:
        for part in target.relative.parts[:-1]:
            try:
                child = os.open(part, flags, dir_fd=folder)
            except FileNotFoundError:
                os.mkdir(part, 0o755, dir_fd=folder)
                child = os.open(part, flags, dir_fd=folder)
            except OSError as exc:
                raise PathRefused(f"{target.relative}: a folder on the way is not plain") from exc
            os.close(folder)
            folder = child
        name = target.relative.name
        mode = 0o644
        with contextlib.suppress(FileNotFoundError):
            info = os.stat(name, dir_fd=folder, follow_symlinks=False)
            if not stat.S_ISREG(info.st_mode):
                raise PathRefused(f"{target.relative} is not a regular file")
            mode = stat.S_IMODE(info.st_mode)
        temp = f".{name}.smallcode-{os.getpid()}.tmp"
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode,
                     dir_fd=folder)  # fmt: skip
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
                handle.write(content)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, name, src_dir_fd=folder, dst_dir_fd=folder)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp, dir_fd=folder)
            raise
        os.fsync(folder)
    finally:
        os.close(folder)


_SETTINGS_FILES = (".vscode/settings.json", ".smallcode.json", ".smallcode.toml", "smallcode.json")


def touches_own_settings(relative: PurePosixPath, old_text: str, new_text: str) -> bool:
    """Whether an edit changes SmallCode's own settings (the agent may never do that)."""
    name = str(relative)
    if not (name in _SETTINGS_FILES or name.endswith(".code-workspace")
            or relative.parts[:1] == (".smallcode",)):  # fmt: skip
        return False
    if relative.parts[:1] == (".smallcode",) or name != ".vscode/settings.json":
        return old_text != new_text
    old_lines = [line for line in old_text.splitlines() if "smallcode" in line.lower()]
    new_lines = [line for line in new_text.splitlines() if "smallcode" in line.lower()]
    return old_lines != new_lines


def guard_change(root: Path, uri: str, old_text: str, new_text: str) -> SafeTarget:
    """The choke point for an agent edit: checked target, or :class:`PathRefused`."""
    target = check_target(root, uri)
    if touches_own_settings(target.relative, old_text, new_text):
        raise PathRefused(f"{target.relative}: the agent may not change SmallCode's own settings")
    return target
