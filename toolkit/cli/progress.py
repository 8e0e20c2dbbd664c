"""A progress bar on the terminal while a long `ducha merge` or `ducha generate` runs.

A clerk watching 1,000 files go by wants to see that it moves; cron mail and a program reading
--json want the result and nothing else. So the bar is drawn only when stdout is a terminal and
--json is not given, on stderr, only for jobs of MIN_ITEMS or more, and it is gone when the run
ends, so the summary printed after it reads as before. The library prints nothing itself: the pool
tells a watcher how far each job has got (pool.watch).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from toolkit import pool
from toolkit.cli.text import PROGRESS_LABELS

MIN_ITEMS = 50  # fewer go by too fast to be worth a bar


@contextmanager
def progress(as_json: bool) -> Iterator[None]:
    """Show the pool's jobs as bars within the block, when a person is watching."""
    if as_json or not sys.stdout.isatty():
        yield
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bars:
        shown: dict[str, int] = {}

        def report(name: str, done: int, total: int) -> None:
            if total < MIN_ITEMS:
                return
            if name not in shown:
                shown[name] = bars.add_task(PROGRESS_LABELS.get(name, name), total=total)
            bars.update(shown[name], completed=done, total=total)

        with pool.watch(report):
            yield
