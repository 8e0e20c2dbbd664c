"""Start the merge's sandbox server before the merge's own imports.

A merge spends its first second on imports (pandas, the readers, xlsxwriter: ~0.6 s) and then
waits for its reading workers, whose server (pool's forkserver) has its own interpreter and imports
to start. Started first, the server starts on the second core while this process imports, so at
66 files the workers are ready when the first file is; kept apart from outputs.publish, whose
import is the very thing it runs beside.
"""

from __future__ import annotations

import contextlib
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
