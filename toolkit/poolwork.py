"""A pool worker's side of toolkit.pool: what runs in the child process, apart from the parent's
bookkeeping, so that each side reads on its own."""

from __future__ import annotations

import contextlib
import gc
import math
import multiprocessing
import os
import pickle
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

READY = "ready"
EXIT_MEMORY = 86  # a worker's exit status after a Python MemoryError
READER_NICENESS = 10  # how far a worker reading returned files steps aside (POSIX nice)


@dataclass(frozen=True)
class Inherited:
    """What a forked worker already holds, handed over as is, never pickled: the shared data and
    the items, so each job it is given is just an item's index."""

    value: Any
    items: Sequence[Any]


def work(conn: Connection, fn: Callable[[Any, Any], Any], pickled: bytes | Inherited, memory_bytes: float,
         cwd: str, humble: bool) -> None:
    """A worker's life: cap memory, silence its output (native code prints its own crash reports,
    the parent turns a crash into an issue, and stdout belongs to the parent's --json), then
    answer jobs until told to stop or the parent dies. It works in the parent's current folder,
    not the forkserver's (relative paths, such as a --drop given as one, mean the same in both).
    humble: a reader of returned files, which runs below its parent (_step_aside)."""
    os.chdir(cwd)
    if humble:
        _step_aside()
    parent = multiprocessing.parent_process()
    if parent is not None:  # a run killed mid-file must not leave its worker parsing on
        threading.Thread(target=_exit_with, args=(parent,), daemon=True).start()
    # Our own data, from the parent; mapped before the cap is set.
    if isinstance(pickled, Inherited):
        shared, inherited = pickled.value, pickled.items
    else:
        shared, inherited = pickle.loads(pickled), None
    # Kept for the worker's life, so out of the cyclic collector's sight: a receipt or 汇总表 worker
    # holds the whole quarter, and each full collection walked it again (a fifth to a third of
    # writing them at 3,000 units).
    gc.freeze()
    _cap_memory(memory_bytes)
    devnull = os.open(os.devnull, os.O_WRONLY)
    for fd in (1, 2):
        os.dup2(devnull, fd)
    conn.send(READY)
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        index, item = (job, inherited[job]) if inherited is not None else job
        try:
            reply = (index, True, fn(shared, item))
        except MemoryError:
            os._exit(EXIT_MEMORY)
        except BaseException as exc:  # noqa: BLE001 — handed to the parent, which raises it
            reply = (index, False, exc)
        try:
            conn.send(reply)
        except MemoryError:
            os._exit(EXIT_MEMORY)
        except Exception as exc:  # noqa: BLE001 — the reply would not pickle
            conn.send((index, False, RuntimeError(f"{type(exc).__name__}: {exc}")))


def _step_aside() -> None:
    """Lower this worker's priority, where the platform has one to lower (os.nice: POSIX). While
    the readers read, the merge's own process receives, records and archives each file and imports
    the rest of the merge beside; it runs one thread at a time, and on two cores two readers at the
    same priority left it two thirds of one. Ahead of them, it keeps a core, and the readers lose
    nothing it does not wait on. The clerk's own programs keep ahead of them too."""
    with contextlib.suppress(AttributeError, OSError):  # no os.nice (Windows), or refused
        os.nice(READER_NICENESS)


def _exit_with(parent: Any) -> None:
    parent.join()  # returns when the parent process has ended
    os._exit(1)


def _cap_memory(memory_bytes: float) -> None:
    """Cap the address space at what the worker already maps plus memory_bytes. Relative, because
    the start-up footprint depends on the parent: a worker carries the parent's main
    module, and a script that imports pandas starts its workers at a few hundred MB of address
    space, a plain `ducha merge` at about 30 MB."""
    try:
        import resource
    except ImportError:  # Windows: no rlimit; the timeout still holds
        return
    if memory_bytes == math.inf:
        return
    limit = _address_space() + int(memory_bytes)
    with contextlib.suppress(ValueError, OSError):  # a platform may refuse (macOS): the timeout still holds
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _address_space() -> int:
    """Bytes of address space this process maps now (Linux /proc; 0 where unknown)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as fh:
            return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, AttributeError):
        return 0
