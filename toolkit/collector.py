"""Pausing Python's cyclic garbage collector around a build that makes a great many objects.

Rebuilding the quarter and writing a workbook each make hundreds of thousands to millions of small
objects that live until the build ends (frames' rows, a sheet's cells). Every collection those
allocations set off walks all that are still alive, so the collector's time grows with the size of
the quarter: over a quarter of rebuilding it at 1,000 units, a sixth of writing 汇总表 at 10,000.
Builds free their garbage by reference counting; whatever one leaves in a cycle is collected as
soon as collection resumes.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """No cyclic collection inside the block; on again after it (even after a failure) unless the
    caller had turned it off."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
