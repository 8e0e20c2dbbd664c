"""The demo's cast and clock, shared by every act of `make demo` (first quarter, second quarter,
league, notices, suspects): which unit does what, by its position in the sorted list of units,
and the fixed dates that make two runs print the same."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

# Scenario by position in the sorted list of units; the rest fill correctly and on time.
LATE = range(0, 4)  # mailed back after the deadline
TWICE = range(4, 7)  # first a wrong file, then a corrected one
WRONG = {7: ["progress_120"], 8: ["edit_locked"], 9: ["delete_row"], 10: ["wrong_status", "no_person"]}
WARNED = {11: ["synonym_status"], 12: ["remove_meta"], 13: ["formula"], 14: ["bad_phone"]}
SILENT = range(15, 19)  # never report
DUPLICATE = 19  # sends the same file twice under two names
PLAIN = 20  # from here on: a clean file on time


def say(text: str = "") -> None:
    print(text, flush=True)


def at(day: str, hour: int = 9) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=hour)


def set_mtime(path: Path, when: dt.datetime) -> None:
    """The received time is the file's modification time, as when the clerk saves an attachment."""
    stamp = when.timestamp()
    os.utime(path, (stamp, stamp))
