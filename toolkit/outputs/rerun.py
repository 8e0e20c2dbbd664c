"""A `ducha merge` with nothing new answers from the last run's summary, reading nothing.

The merge is run daily in the last week, mostly with nothing new: loading the ledger and
rebuilding the quarter from the store (judging, scoring, the suspicious-figure checks) took
seconds at 1,000 units only to print the same summary. So the last run's summary is kept beside
the outputs under a key of everything the answer comes from, taken after that run: the stamp
(size, modification and change times, inode) of every file in the drop folder, of the store, the
ledger, the secret and every output; the settings as read; the day the run judges for; and ducha's
own source. While the key still matches, nothing can have changed; anything else — a new or
touched file, a changed ledger or setting, a deleted receipt, the next day, another version —
merges in full. A run that set a file aside (locked, gone) keeps nothing, so it is retried.

Whatever a merge comes to read besides these must be added to the key.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from toolkit.config import Config
from toolkit.errors import DuchaError
from toolkit.fsutil import files_under, workspace_lock, write_bytes_atomic
from toolkit.intake.archive import scan
from toolkit.ledger.cache import source_digest
from toolkit.outputs.warm import WRITE_MODULE, imported_beside, warm_up
from toolkit.period import Period

if TYPE_CHECKING:
    from toolkit.outputs.publish import MergeResult

_KEPT = ".ducha_merge.json"  # in reports/<period>/, beside the outputs' index


def _stamp(path: Path | os.DirEntry) -> list[int] | None:
    try:
        s = path.stat()
    except OSError:
        return None
    return [s.st_size, s.st_mtime_ns, s.st_ctime_ns, s.st_ino]


def key(config: Config, period_key: str, drop: Path, as_of: dt.date) -> str | None:
    """The key of the state a merge of period_key from drop would answer from; None when it cannot
    be taken (no drop folder: the merge says so)."""
    try:
        dropped = [(str(p), _stamp(p)) for p in scan(drop)]
    except DuchaError:
        return None
    paths = config.paths
    files = [paths.store, paths.store.with_name(paths.store.name + "-wal"), paths.ledger, paths.secret]
    state = [period_key, str(drop), as_of.isoformat(), source_digest(), repr(config.raw), str(config.root), dropped,
             [(str(p), _stamp(p)) for p in files], _output_stamps(config.paths.reports / period_key)]
    return hashlib.sha256(json.dumps(state).encode("ascii")).hexdigest()  # ASCII: a name may hold surrogates


def _output_stamps(folder: Path) -> list[tuple[str, list[int]]]:
    """(path, stamp) of every file in folder and below but the kept summary, by path: one stat a
    file (rglob, is_file and a stat took two, 0.4 s of a 10,000-unit merge's last step)."""
    stamps = [(entry.path, _stamp(entry)) for entry in files_under(str(folder)) if entry.name != _KEPT]
    return sorted((path, stamp) for path, stamp in stamps if stamp is not None)


def kept(out: Path, state: str | None) -> dict[str, Any] | None:
    """The last run's summary when its key is `state` (nothing new this run), else None."""
    if state is None:
        return None
    try:
        saved = json.loads((out / _KEPT).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(saved, dict) or saved.get("key") != state or not isinstance(saved.get("summary"), dict):
        return None
    return saved["summary"] | {"new_files": []}


def keep(out: Path, state: str | None, summary: dict[str, Any]) -> None:
    """Keep a full run's summary under the state it left; nothing when a file was set aside."""
    if state is None or summary.get("unread"):
        (out / _KEPT).unlink(missing_ok=True)
        return
    document = json.dumps({"key": state, "summary": summary}, default=str)  # ASCII, as the key
    write_bytes_atomic(out / _KEPT, document.encode("ascii"))


def merge_summary(config: Config, period: Period, drop: Path | None = None, now: dt.datetime | None = None,
                  recheck: bool = False) -> dict[str, Any]:
    """`ducha merge` as the command prints it: the merge's summary, or, when nothing that could
    change it changed since the last run, that run's summary, reading nothing."""
    drop = drop or config.paths.drop
    out = config.paths.reports / period.key
    if recheck or not (out / _KEPT).exists():
        # Nothing kept to answer from (the period's first merge, or one after a run that set a file
        # aside): a full merge for certain, so its workers' server starts now, on the other core,
        # beside taking the lock. A run that may answer from the kept summary starts none (a rerun
        # would pay ~25 ms for it).
        warm_up(drop)
    with workspace_lock(config.paths.lock):
        as_of = config.bureau.local(now).date()
        # The key is taken only when there is a summary to compare it with (0.4 s at 10,000 units).
        if not recheck and (out / _KEPT).exists():
            summary = kept(out, key(config, period.key, drop, as_of))
            if summary is not None:
                return summary
        summary = _merge(config, period, drop, now, recheck).summary()
        keep(out, key(config, period.key, drop, as_of), summary)
    return summary


def _merge(config: Config, period: Period, drop: Path, now: dt.datetime | None, recheck: bool) -> MergeResult:
    """publish.merge_with, begun before its module is imported. The merge brings pandas and the
    writers (~0.4 s), a quiet rerun needs neither, so they are imported only now: the reading
    workers' server starts first, then the take-in's own modules are imported here, and then the
    rest on a second thread while the take-in (which needs none of it) reads the drop folder."""
    warm_up(drop)  # if not started already (merge_summary)
    from toolkit.ledger.build import load_ledger
    from toolkit.quarter.takein import take_in

    with imported_beside(WRITE_MODULE):  # publish: the rest of the merge, pandas and the writers
        now = config.bureau.local(now)
        ledger = load_ledger(config)
        taken = take_in(config, ledger, period, drop, now if recheck else None)
    from toolkit.outputs.publish import merge_taken

    return merge_taken(config, ledger, period, taken, now)
