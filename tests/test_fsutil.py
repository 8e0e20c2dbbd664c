"""Atomic writes: the target is either the old file or the whole new one, and no temporary file is
left behind whatever the writer does."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from toolkit import fsutil


def _temps(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_written_file_is_an_ordinary_file_of_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        target = fsutil.write_bytes_atomic(tmp_path / "sub" / "回执.xlsx", b"new")
    finally:
        os.umask(old)
    assert target.read_bytes() == b"new"
    if os.name == "posix":
        assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert _temps(target.parent) == []


def test_failed_writer_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "汇总表.xlsx"
    target.write_bytes(b"old")

    def half(tmp: Path) -> None:
        tmp.write_bytes(b"half")
        raise RuntimeError("killed mid-write")

    with pytest.raises(RuntimeError):
        fsutil.write_atomic(target, half)
    assert target.read_bytes() == b"old"
    assert _temps(tmp_path) == []


def test_writer_that_makes_nothing_fails_and_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "a.pdf"
    target.write_bytes(b"old")
    with pytest.raises(FileNotFoundError):
        fsutil.write_atomic(target, lambda tmp: None)
    assert target.read_bytes() == b"old"
    assert _temps(tmp_path) == []


def test_each_write_has_its_own_temporary_name(tmp_path: Path) -> None:
    """Two writes of one target in flight at once (nested here) never share a temporary file."""
    target = tmp_path / "x.xlsx"
    with fsutil.atomic_path(target) as first, fsutil.atomic_path(target) as second:
        assert first != second
        assert first.parent == second.parent == tmp_path
        assert first.name.startswith(".x.xlsx.") and first.name.endswith(".tmp")
        first.write_bytes(b"1")
        second.write_bytes(b"2")
    assert target.read_bytes() == b"1"  # the outer write was the last to finish
    assert _temps(tmp_path) == []


def test_a_stale_temporary_of_the_same_name_is_overwritten(tmp_path: Path) -> None:
    """A killed process whose id came round again left a file under the name this write picks."""
    target = tmp_path / "y.xlsx"
    with fsutil.atomic_path(target) as probe:
        pass_name = probe.name
        probe.write_bytes(b"probe")
    count = int(pass_name.rsplit("-", 1)[1].removesuffix(".tmp"))
    stale = tmp_path / pass_name.replace(f"-{count}.tmp", f"-{count + 1}.tmp")
    stale.write_bytes(b"stale content, longer than the new one")
    fsutil.write_bytes_atomic(target, b"fresh")
    assert target.read_bytes() == b"fresh"
    assert not stale.exists()
