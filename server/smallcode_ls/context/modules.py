"""Python module names for indexed files, and import resolution through them.

A directory is a package when the index holds its ``__init__.py``; a file's
dotted name climbs through packages up to the first folder that is not one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

from smallcode_ls.graph.symbols import FileSymbols, ImportRef

__all__ = ["Binding", "ModuleMap", "bindings_of"]

_MAX_REEXPORT_HOPS = 3


@dataclass(frozen=True, slots=True)
class Binding:
    """A local name bound by an import: to a definition, or to a whole module."""

    local: str
    path: str  # the file that defines it (or the module's file)
    name: str | None  # the definition's name; None when the binding is a module
    order: int  # position among the file's imports (earlier = more central)


class ModuleMap:
    """Dotted module name <-> file path for the Python files of an index."""

    def __init__(self, files: list[FileSymbols]) -> None:
        paths = {file.path for file in files if file.language == "python"}
        self._files = {file.path: file for file in files if file.path in paths}
        package_dirs = {
            str(PurePosixPath(path).parent) for path in paths if path.endswith("/__init__.py")
        }
        self.by_module: dict[str, str] = {}
        self.by_path: dict[str, str] = {}
        for path in sorted(paths):
            module = _dotted(path, package_dirs)
            self.by_path[path] = module
            self.by_module.setdefault(module, path)

    def file(self, path: str) -> FileSymbols | None:
        """The indexed symbols of a module file."""
        return self._files.get(path)

    def resolve(self, module: str, level: int, current: str) -> str | None:
        """The file of ``module`` as imported from ``current`` (``level`` leading dots).

        Relative imports are resolved by folder, as Python does, so namespace packages
        (folders without ``__init__.py``) work too.
        """
        if level:
            base = PurePosixPath(current).parent
            for _ in range(level - 1):
                base = base.parent
            target = base.joinpath(*module.split(".")) if module else base
            for candidate in (f"{target}.py", f"{target}/__init__.py"):
                if candidate in self._files:
                    return candidate
            return None
        return self.by_module.get(module)

    def definition(self, path: str, name: str, hops: int = 0) -> tuple[str, str] | None:
        """Where ``name`` imported from module file ``path`` is defined (following re-exports)."""
        file = self._files.get(path)
        if file is None:
            return None
        if any(s.name == name and s.parent == -1 for s in file.symbols):
            return path, name
        if hops >= _MAX_REEXPORT_HOPS:
            return None
        for ref in file.imports:
            if (ref.alias or ref.name) == name and ref.name is not None:
                target = self.resolve(ref.module, ref.level, path)
                if target is not None:
                    return self.definition(target, ref.name, hops + 1)
        return None


def _dotted(path: str, package_dirs: set[str]) -> str:
    """Climb through packages, and through namespace folders that sit inside one."""
    pure = PurePosixPath(path)
    parts = [] if pure.name == "__init__.py" else [pure.stem]
    directory = pure.parent
    while str(directory) in package_dirs or str(directory.parent) in package_dirs:
        parts.append(directory.name)
        directory = directory.parent
    return ".".join(reversed(parts))


def _binding(modules: ModuleMap, ref: ImportRef, current: str, order: int) -> Binding | None:
    if ref.name is None:  # import a.b.c [as x]
        path = modules.resolve(ref.module, ref.level, current)
        local = ref.alias or ref.module.split(".")[0]
        if ref.alias is None and path is not None and "." in ref.module:
            path = modules.resolve(ref.module.split(".")[0], 0, current)
        return Binding(local, path, None, order) if path else None
    if ref.name == "*":
        return None
    local = ref.alias or ref.name
    source = modules.resolve(ref.module, ref.level, current)
    if source is not None:
        found = modules.definition(source, ref.name)
        if found is not None:
            return Binding(local, found[0], found[1], order)
    submodule = modules.resolve(
        f"{ref.module}.{ref.name}" if ref.module else ref.name, ref.level, current
    )
    return Binding(local, submodule, None, order) if submodule else None


def bindings_of(modules: ModuleMap, file: FileSymbols) -> list[Binding]:
    """What each import of ``file`` binds, resolved to workspace files where possible."""
    found: list[Binding] = []
    for order, ref in enumerate(file.imports):
        binding = _binding(modules, ref, file.path, order)
        if binding is not None and binding.path != file.path:
            found.append(binding)
    return found
