"""Workspace scan, index build, on-disk cache, open-buffer overrides."""

from __future__ import annotations

import os
from pathlib import Path

from smallcode_ls.documents import DocumentSnapshot
from smallcode_ls.graph.cache import SymbolCache
from smallcode_ls.graph.index import WorkspaceIndex
from smallcode_ls.graph.scan import scan_workspace
from tests.conftest import write_tree


def relative_paths(root: Path, max_bytes: int = 1_000_000) -> list[str]:
    return sorted(
        Path(f.path).relative_to(root.resolve()).as_posix() for f in scan_workspace(root, max_bytes)
    )


def test_scan_respects_gitignore_and_skips_vendored_folders(sample_workspace: Path) -> None:
    assert relative_paths(sample_workspace) == [
        "pkg/__init__.py",
        "pkg/emoji.py",
        "pkg/models.py",
        "pkg/util.py",
        "web/app.ts",
    ]


def test_scan_applies_nested_gitignores_and_negations(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "a/.gitignore": "*.py\n!keep.py\n",
            "a/drop.py": "x = 1\n",
            "a/keep.py": "x = 1\n",
            "b/drop.py": "x = 1\n",
            "env/pyvenv.cfg": "home = /usr\n",
            "env/lib/x.py": "x = 1\n",
        },
    )
    assert relative_paths(tmp_path) == ["a/keep.py", "b/drop.py"]


def test_scan_skips_huge_and_binary_files(tmp_path: Path) -> None:
    write_tree(tmp_path, {"small.py": "x = 1\n", "big.py": "x = 1\n" * 1000})
    (tmp_path / "blob.py").write_bytes(b"\x00\x01binary")
    assert relative_paths(tmp_path, max_bytes=100) == ["blob.py", "small.py"]
    index = WorkspaceIndex(tmp_path, max_file_bytes=100, workers=1)
    stats = index.build()
    assert stats.files == 1  # the binary one is read, recognised and dropped
    assert [f.path.rsplit("/", 1)[-1] for f in index.all_files()] == ["small.py"]


def test_build_indexes_every_file_and_answers_symbol_queries(sample_workspace: Path) -> None:
    index = WorkspaceIndex(sample_workspace, workers=1)
    stats = index.build()
    assert (stats.files, stats.parsed, stats.from_cache) == (5, 5, 0)
    assert index.ready.is_set()
    hits = index.search("widget")
    assert [h.symbol.name for h in hits] == ["Widget", "make_widget"]
    assert hits[0].file.path.endswith("pkg/models.py")
    assert [h.container for h in index.search("grow")] == ["Widget"]
    assert [Path(p).name for p in index.files_using("Widget")] == ["models.py", "util.py"]


def test_a_restart_is_warm_from_the_cache_and_reparses_only_changed_files(
    sample_workspace: Path, tmp_path: Path
) -> None:
    cache_dir = tmp_path / "cache"
    first = WorkspaceIndex(
        sample_workspace, cache=SymbolCache(cache_dir, sample_workspace), workers=1
    )
    assert first.build().parsed == 5
    models = sample_workspace / "pkg/models.py"
    models.write_text(models.read_text() + "\n\nclass Added:\n    pass\n")
    os.utime(models, ns=(1, 1))  # make sure mtime differs even on coarse clocks
    second = WorkspaceIndex(
        sample_workspace, cache=SymbolCache(cache_dir, sample_workspace), workers=1
    )
    stats = second.build()
    assert (stats.from_cache, stats.parsed) == (4, 1)
    assert [h.symbol.name for h in second.search("Added")] == ["Added"]


def test_a_corrupt_cache_is_ignored_and_rebuilt(sample_workspace: Path, tmp_path: Path) -> None:
    cache = SymbolCache(tmp_path / "cache", sample_workspace)
    cache.path.parent.mkdir(parents=True)
    cache.path.write_bytes(b"not a pickle")
    index = WorkspaceIndex(sample_workspace, cache=cache, workers=1)
    assert index.build().parsed == 5
    assert cache.load()  # rewritten


def test_parallel_build_matches_the_in_process_build(tmp_path: Path) -> None:
    files = {f"m{i}.py": f"class C{i}:\n    def m(self):\n        pass\n" for i in range(200)}
    write_tree(tmp_path, files)
    serial = WorkspaceIndex(tmp_path, workers=1)
    serial.build()
    parallel = WorkspaceIndex(tmp_path, workers=2)
    assert parallel.build().files == 200
    key = lambda f: f.path  # noqa: E731
    assert sorted(serial.all_files(), key=key) == sorted(parallel.all_files(), key=key)


def test_an_open_buffer_overrides_the_disk_copy_until_it_is_closed(sample_workspace: Path) -> None:
    index = WorkspaceIndex(sample_workspace, workers=1)
    index.build()
    path = (sample_workspace / "pkg/util.py").resolve()
    snapshot = DocumentSnapshot(path.as_uri(), 3, "class OnlyInBuffer:\n    pass\n", "python")
    index.update_document(snapshot)
    assert [h.file.path for h in index.search("OnlyInBuffer")] == [str(path)]
    assert index.search("build") == []  # the disk version's function is shadowed
    index.close_document(snapshot)
    assert index.search("OnlyInBuffer") == []
    assert [h.symbol.name for h in index.search("build")] == ["build"]


def test_refresh_path_picks_up_a_file_changed_on_disk(sample_workspace: Path) -> None:
    index = WorkspaceIndex(sample_workspace, workers=1)
    index.build()
    target = sample_workspace / "pkg/new_module.py"
    target.write_text("def brand_new():\n    pass\n")
    index.refresh_path(str(target.resolve()))
    assert [h.symbol.name for h in index.search("brand_new")] == ["brand_new"]
    target.unlink()
    index.refresh_path(str(target.resolve()))
    assert index.search("brand_new") == []


def test_typing_in_an_open_buffer_keeps_reverse_references_current(tmp_path: Path) -> None:
    index = WorkspaceIndex(None)
    uri = (tmp_path / "a.py").as_uri()
    text = "def f():\n    return 1\n"
    index.update_document(DocumentSnapshot(uri, 1, text, "python"))
    for version, char in enumerate("  # uses Gadget", start=2):
        cut = text.index("\n") + 0
        text = text[:cut] + char + text[cut:]
        symbols = index.update_document(DocumentSnapshot(uri, version, text, "python"))
    assert symbols is not None and symbols.uses("Gadget")
    assert index.files_using("Gadget") == [str(tmp_path / "a.py")]
    assert [s.name for s in symbols.symbols] == ["f"]
