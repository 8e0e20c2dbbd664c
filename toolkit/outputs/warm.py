"""Start the merge's sandbox server before the merge's own imports, and import beside the reading.

A merge spends its first second on imports (pandas, the readers, xlsxwriter: ~0.6 s) and then
waits for its reading workers, whose server (pool's forkserver) has its own interpreter and imports
to start. Started first, the server starts on the second core while this process imports; kept
apart from outputs.publish, whose import is the very thing it runs beside. The import of pandas and
the writers then runs on a second thread (imported_beside) while the take-in waits for its
workers, which it does most of the time: a 66-file merge no longer waits for pandas before reading.
"""

from __future__ import annotations

import contextlib
import importlib
import threading
from collections.abc import Iterator
from pathlib import Path

from toolkit import pool
from toolkit.errors import DuchaError
from toolkit.intake.archive import scan

READ_MODULE = "toolkit.intake.check"  # what the reading workers run
WRITE_MODULE = "toolkit.outputs.publish"  # what the receipt workers run, when there are enough of them


def warm_up(drop: Path) -> None:
    """Start the workers' server with the reading module preloaded, and the receipt writer too
    when the receipt workers will come from that server (where they are not forked from this
    process) and there may be enough receipts for the pool (else it would be imported for nothing:
    the receipts are then written in this process)."""
    many = False
    if not pool.OWN_WORK_FORKS:
        with contextlib.suppress(DuchaError):  # no drop folder: the merge says so
            many = len(scan(drop)) >= pool.POOL_THRESHOLD
    pool.warm_up(READ_MODULE, *([WRITE_MODULE] if many else []))


@contextlib.contextmanager
def imported_beside(module: str) -> Iterator[None]:
    """Import module on a second thread while the block runs; joined when the block ends, so this
    process runs one thread again before its pool forks (pool.OWN_WORK_FORKS). An import that
    fails here is left for the caller's own import after the block to raise, with its message.
    The block must import nothing the module's import may import too, so it imports its own
    modules before: two threads importing one package at once can each find the other's half made
    (Python's import locks break a would-be deadlock by handing one of them the unfinished module;
    two merges at once met xlsxwriter.format that way). And the block should wait more than it
    computes, or the two threads only take turns."""
    thread = threading.Thread(target=_import_quietly, args=(module,), name=f"import {module}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        thread.join()


def _import_quietly(module: str) -> None:
    with contextlib.suppress(Exception):
        importlib.import_module(module)
