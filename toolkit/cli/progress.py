"""A progress bar on the terminal while a long `ducha merge` or `ducha generate` runs.

A clerk watching 1,000 files go by wants to see that it moves; cron mail and a program reading
--json want the result and nothing else. So the bar is drawn only when stdout is a terminal and
--json is not given, on stderr, only for jobs of MIN_ITEMS or more, and it is gone when the run
ends, so the summary printed after it reads as before. The library prints nothing itself: the pool
tells a watcher how far each job has got (pool.watch).

The bar is redrawn from this thread as the pool reports, at most every REDRAW seconds, not by
rich's own refresh thread: the pool forks its writing workers from this process, and a process
that forks must run no other thread (one holding a lock at the fork would leave it held forever
in the child).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

from toolkit import pool

# The bar's label, by the pool job's function name.
PROGRESS_LABELS = {"check_dropped": "审核收到的文件", "check_archived": "重新审核已收文件",
                   "_fresh_output": "写汇总表和回执", "_write_output": "写汇总表和回执",
                   "_write_job": "生成填报表"}
MIN_ITEMS = 50  # fewer go by too fast to be worth a bar
REDRAW = 0.1  # seconds between redraws


@contextmanager
def progress(as_json: bool) -> Iterator[None]:
    """Show the pool's jobs as bars within the block, when a person is watching."""
    if as_json or not sys.stdout.isatty():
        yield
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True, auto_refresh=False) as bars:
        shown: dict[str, int] = {}
        drawn = 0.0

        def report(name: str, done: int, total: int) -> None:
            nonlocal drawn
            if total < MIN_ITEMS:
                return
            if name not in shown:
                shown[name] = bars.add_task(PROGRESS_LABELS.get(name, name), total=total)
            bars.update(shown[name], completed=done, total=total)
            if done == total or time.monotonic() - drawn >= REDRAW:
                bars.refresh()
                drawn = time.monotonic()

        with pool.watch(report):
            yield
