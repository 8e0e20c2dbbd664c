"""Atomic writes, group flushes and the workspace lock.

Outputs are written to a temporary file in the same folder and renamed into place, so a killed run
leaves either the old file or the new one, never half of one; a lock file keeps two runs apart.

A file is flushed to disk before it is renamed into place, so a power cut cannot leave a renamed but
empty file either. One fsync costs a journal commit (~2 ms here), as much as writing a receipt: a
job that writes many files (receipts, unit workbooks, archived copies) writes them with flush=False
and then makes them durable together with flush_files() before anything relies on them (the
store's record, the outputs' index, the command's success): one sync instead of one per file.
"""

from __future__ import annotations

import contextlib
import itertools
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from toolkit.errors import BusyError

_TEMPS = itertools.count()  # this process's temporary files, numbered


@contextlib.contextmanager
def atomic_path(target: Path, flush: bool = True) -> Iterator[Path]:
    """Yield a temporary path next to target for the caller to create; on success it replaces
    target. flush=False leaves the flush to the caller's flush_files() (a batch of files): until
    then a power cut may lose the content, never a killed process.

    The name is unique by this process's id and a count, not made and opened by mkstemp: a
    merge makes two files a unit (its archived copy, its receipt), and mkstemp's random name,
    its file made 0600, opened again by the writer and then chmod-ed back cost 0.1-0.2 ms a file
    more (half of archiving one). A file of that name left by a killed process whose id came
    round again is simply overwritten; the writer makes the file as any new file (0666 less the
    umask)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp_path = target.with_name(f".{target.name}.{os.getpid()}-{next(_TEMPS)}.tmp")
    try:
        yield tmp_path
        if flush:
            _fsync(tmp_path)
        os.replace(tmp_path, target)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def files_under(folder: str, hidden_folders: bool = True) -> Iterator[os.DirEntry]:
    """Every entry below folder but the folders themselves (files, links to files, broken links),
    without following a linked folder; a folder that cannot be listed is passed over, as os.walk
    does. One os.scandir a folder, and no stat to tell a regular file (os.walk with a stat a file
    took 0.1-0.2 s at 10,000 files, three times in a merge)."""
    try:
        with os.scandir(folder) as entries:
            listed = list(entries)
    except OSError:
        return
    for entry in listed:
        if entry.is_dir(follow_symlinks=False):
            if hidden_folders or not entry.name.startswith("."):
                yield from files_under(entry.path, hidden_folders)
        else:
            yield entry


def remove_stale_temps(*folders: Path) -> None:
    """Delete the temporary files (.name.xxxx.tmp) a killed run left in these folders. Call it
    only under the workspace lock and when no worker of this run is still writing."""
    for folder in folders:
        for stale in folder.glob(".*.tmp"):
            stale.unlink(missing_ok=True)


def _fsync(path: Path) -> None:
    with open(path, "rb+") as fh:
        os.fsync(fh.fileno())


def flush_files(paths: Iterable[Path]) -> None:
    """Make files written with flush=False durable: one sync of the system's buffers where there
    is one (POSIX: a single journal commit for the whole batch), else an fsync each (Windows)."""
    paths = list(paths)
    if not paths:
        return
    if hasattr(os, "sync"):
        os.sync()
        return
    for path in paths:
        _fsync(path)


def write_atomic(target: Path, writer: Callable[[Path], None], flush: bool = True) -> Path:
    """Call writer(tmp) and move the result onto target (flush: see atomic_path)."""
    with atomic_path(target, flush) as tmp:
        writer(tmp)
    return target


def write_bytes_atomic(target: Path, data: bytes, flush: bool = True) -> Path:
    return write_atomic(target, lambda tmp: tmp.write_bytes(data), flush)


def write_text_atomic(target: Path, text: str) -> Path:
    return write_atomic(target, lambda tmp: tmp.write_text(text, encoding="utf-8"))


@contextlib.contextmanager
def workspace_lock(lock_path: Path, wait: float = 0) -> Iterator[None]:
    """Hold the workspace lock, or raise BusyError with a message the clerk understands."""
    # Imported here: the reading workers' server imports this module for its file helpers, and
    # filelock (with logging) was a tenth of its start-up, which a merge of 66 files waits for.
    from filelock import FileLock, Timeout

    lock_path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(lock_path), timeout=wait)
    try:
        lock.acquire()
    except Timeout as exc:
        raise BusyError(f"另一个 ducha 任务正在运行（锁文件 {lock_path}），请等它结束后再试") from exc
    try:
        yield
    finally:
        lock.release()
