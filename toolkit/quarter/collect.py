"""Take in the drop folder: archive, check and record every new file, then read the quarter back.

This is the only step that changes the store, and it must survive being killed at any point: every
new file is archived before it is read, read in a capped pool worker (pool.guarded_map; the files are hostile), and
recorded one file per transaction, so a killed run resumes where it stopped and a rerun re-reads
nothing. What the quarter then looks like is read back from the store alone (`load_merged` gives
the briefing the same MergedQuarter the merge wrote its outputs from, for any quarter).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from toolkit import pool
from toolkit.config import Config
from toolkit.errors import DuchaError
from toolkit.forms import meta
from toolkit.fsutil import remove_stale_temps
from toolkit.intake import archive, check
from toolkit.intake.sniff import Limits
from toolkit.ledger.build import load_ledger
from toolkit.model import VERDICT_ACCEPTED, VERDICT_REJECTED, Ledger
from toolkit.period import Period
from toolkit.quarter.frames import MergedQuarter, build_merged
from toolkit.quarter.store import Store, open_store

WRONG_PERIOD = "wrong_period"  # the intake issue code for a workbook issued for another period


@dataclass
class Collected:
    """The quarter as stored after a take-in, and which paths this run read or set aside."""

    merged: MergedQuarter
    new_files: list[str]  # paths checked in this run
    skipped: list[str]  # paths of files that belong to another period


def _needs_check(checked: dict[str, bool], period: str) -> bool:
    """A file is checked against the period being merged unless it already was, or it was checked
    for another period and belonged there (a drop folder kept across quarters). A workbook issued
    for another quarter (sent early, or last quarter's reused) is checked again in each merge."""
    if period in checked:
        return False
    return all(checked.values())


def _facts(path: Path, zone: dt.tzinfo) -> tuple[str, int, str]:
    try:
        return archive.file_facts(path, zone)
    except OSError as exc:  # deleted since the scan, or not readable by the clerk's account
        raise DuchaError(f"无法读取收件夹中的文件 {archive.shown_path(path)}（{exc.strerror or exc}），"
                         "请检查该文件后重新运行") from exc


def _take_in(store: Store, files: list[Path], ledger: Ledger, period: Period, config: Config,
             secret: bytes) -> tuple[list[str], list[str]]:
    """Archive every file not yet checked for the period, then check and record each (one
    transaction per file, in the parent, in a fixed order); returns (paths checked, paths skipped
    as another period's). Files are read in capped pool workers: a file that exhausts a worker's time
    or memory, or crashes it, is recorded as rejected and the others go on."""
    new: dict[str, tuple[Path, int, str]] = {}  # sha256 → (path, size, received)
    copies, skipped = [], []
    # Earliest first, so a content found under several paths is received when its first copy was.
    facts = sorted(((_facts(path, config.bureau.zone), path) for path in files), key=lambda f: (f[0][2], str(f[1])))
    for (sha256, size, received), path in facts:
        checked = store.checked_periods(sha256)
        if sha256 in new or not _needs_check(checked, period.key):
            copies.append((sha256, archive.shown_path(path), received))
            if sha256 not in new and period.key not in checked:
                skipped.append(archive.shown_path(path))
        else:
            new[sha256] = (path, size, received)
    limits = Limits.from_config(config)
    archive_dir = config.paths.archive / period.key
    jobs = [(path, sha256) for sha256, (path, _size, _received) in new.items()]
    outcomes = pool.guarded_map(check.check_dropped, jobs, (ledger, period, secret, limits, archive_dir),
                                seconds=limits.max_seconds, memory_mb=limits.max_memory_mb)
    with contextlib.closing(outcomes):
        for (sha256, (path, size, received)), outcome in zip(new.items(), outcomes, strict=True):
            shown = archive.shown_path(path)
            if isinstance(outcome, pool.WorkerFailure):
                archived = archive.archive(path, archive_dir, sha256)  # a copy, not a parse: safe here
                result = check.unread_file(shown, sha256, size, received,
                                           *check.worker_failure(outcome, limits))
            else:
                archived, result = outcome
            result.path, result.sha256, result.received = shown, sha256, received
            store.record(result, period.key, str(archived),
                         VERDICT_REJECTED if result.rejected else VERDICT_ACCEPTED,
                         other_period=any(i.code == WRONG_PERIOD for i in result.issues))
    for copy in copies:
        store.add_path(*copy)
    return [archive.shown_path(path) for path, _size, _received in new.values()], skipped


def collect(config: Config, ledger: Ledger, period: Period, as_of: dt.date, drop: Path | None = None) -> Collected:
    """Take in the drop folder (default: the configured one), decide the verdicts and store them;
    returns the quarter as of `as_of`. The caller holds the workspace lock."""
    secret = meta.load_secret(config.paths.secret)
    files = archive.scan(drop or config.paths.drop)
    with open_store(config.paths.store) as store:
        checked, skipped = _take_in(store, files, ledger, period, config, secret)
        # Every reading worker has stopped: a temporary copy left in the archive is a killed run's.
        remove_stale_temps(*(p for p in config.paths.archive.glob("*") if p.is_dir()))
        merged = _from_store(store, ledger, period, as_of)
        store.set_verdicts(period.key, {f.sha256: f.verdict for f in merged.files})
    return Collected(merged, checked, skipped)


def _from_store(store: Store, ledger: Ledger, period: Period, as_of: dt.date) -> MergedQuarter:
    return build_merged(ledger, store.load_period(period.key), period, as_of,
                        store.latest_indicator_values(period.key))


def load_merged(config: Config, period: Period, as_of: dt.date | None = None) -> MergedQuarter:
    """The MergedQuarter of any period already merged, read from the ledger and the store only.

    as_of decides whether the deadline has passed (for red lights); default today."""
    if not config.paths.store.exists():
        raise DuchaError(f"数据库 {config.paths.store} 不存在：请先运行 ducha merge --period {period.key}")
    with open_store(config.paths.store) as store:
        return _from_store(store, load_ledger(config), period, as_of or dt.date.today())
