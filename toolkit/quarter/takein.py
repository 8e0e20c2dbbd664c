"""Take in the drop folder: archive, check and record every new file (quarter.collect then reads
the quarter back).

This is the only step that changes the store, and it must survive being killed at any point: every
new file is archived before it is read, read in a capped pool worker (pool.guarded_map; the files
are hostile), and recorded once its archived copy is on disk, each flushed batch of files in one
transaction, so a killed run resumes where it stopped (losing at most one batch of reading) and a
rerun re-reads nothing. Files are recorded with their verdict
pending; collect decides every verdict of the period at the end in one transaction, so nobody
reading verdicts sees a killed run's files as accepted. A file that cannot be read at all (gone,
locked) is set aside with the reason rather than stopping the run.

A check depends on the ledger and [checks] of its day, and a file is never read twice, so a file
rejected for the ledger's fault would stay rejected after the clerk fixes the ledger: `--recheck`
reads the period's archived copies again and keeps each replaced check as history.

Kept free of pandas and the writers (collect, which reads the quarter back, brings those).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from toolkit import pool
from toolkit.config import Config
from toolkit.errors import DuchaError
from toolkit.forms import meta
from toolkit.fsutil import flush_files, remove_stale_temps
from toolkit.intake import archive, check
from toolkit.intake.codes import Strictness
from toolkit.intake.sniff import Limits
from toolkit.model import CheckedFile, Ledger
from toolkit.period import Period
from toolkit.quarter import evidence, fetched
from toolkit.quarter.decisions import extensions_before, with_extensions
from toolkit.quarter.store import FileRecord, Store, open_store

WRONG_PERIOD = "wrong_period"  # the intake issue code for a workbook issued for another period
_FLUSH_EVERY = 100  # checked files whose archived copies are flushed to disk together before recording


@dataclass
class Recheck:
    """What `ducha merge --recheck` found: how many files it checked again, and every file whose
    verdict is not what it was, as (path, unit, verdict before, verdict now)."""

    files: int
    changed: list[tuple[str, str | None, str, str]]


@dataclass
class TakenIn:
    """What one take-in did: the paths it checked, skipped (another period's) or set aside, and,
    with --recheck, the period's records as they were before and how many were checked again."""

    new_files: list[str]
    skipped: list[str]
    unread: list[archive.NotTaken] = field(default_factory=list)
    drop: Path | None = None  # the drop folder read
    dropped: int = 0  # files found in it
    before: list[FileRecord] = field(default_factory=list)  # with --recheck only
    rechecked: int = 0
    recheck: bool = False  # --recheck: the period's stored files were checked again first


def take_in(config: Config, ledger: Ledger, period: Period, drop: Path | None = None,
            recheck_at: dt.datetime | None = None) -> TakenIn:
    """Take in the drop folder (default: the configured one) into the store, verdicts pending.
    With recheck_at (`ducha merge --recheck`, run at that time) the files already stored for the
    period are first checked again against this ledger and [checks]. The caller holds the
    workspace lock."""
    # A new file's request is checked against the moved 时间节点 (the quarter is built from the
    # ledger as it stands, so 序时依据 names the original date beside the extension).
    common = (with_extensions(ledger, extensions_before(config, period)), period, meta.load_secret(config.paths.secret),
              Limits.from_config(config), Strictness.from_config(config))
    drop = drop or config.paths.drop
    files = archive.scan(drop)
    with open_store(config.paths.store) as store:
        records = store.load_period(period.key) if recheck_at else []
        rechecked, unread = 0, []
        if recheck_at:
            when = recheck_at.replace(tzinfo=None).isoformat(timespec="seconds")
            rechecked, unread = _recheck(store, records, common, when)
        workbooks, beside = evidence.split(store, drop, files)  # 佐证材料 beside a workbook are not checked as one
        checked, skipped, not_read = _take_in(store, workbooks, period, config, common)
        evidence.take_in(store, drop, beside, period, config)
    # Every reading worker has stopped: a temporary copy left in the archive is a killed run's.
    remove_stale_temps(*(p for p in config.paths.archive.glob("*") if p.is_dir()))
    return TakenIn(checked, skipped, unread + not_read, drop, len(files), records, rechecked, bool(recheck_at))


def _needs_check(checked: dict[str, bool], period: str) -> bool:
    """A file is checked against the period being merged unless it already was, or it was checked
    for another period and belonged there (a drop folder kept across quarters). A workbook issued
    for another quarter (sent early, or last quarter's reused) is checked again in each merge."""
    if period in checked:
        return False
    return all(checked.values())


def _record(store: Store, result: CheckedFile, record_as: tuple[str, str, str], period: str, archived: str,
            keep_earlier: str | None = None) -> None:
    """Store a check, its verdict pending: collect decides every verdict of the period at the end."""
    result.path, result.sha256, result.received = record_as
    store.record(result, period, archived, other_period=any(i.code == WRONG_PERIOD for i in result.issues),
                 keep_earlier=keep_earlier)


def _unread(failure: pool.WorkerFailure, record_as: tuple[str, str, str], size: int, limits: Limits) -> CheckedFile:
    """The check of a file whose worker died or overran: rejected with the reason."""
    return check.unread_file(*record_as[:2], size, record_as[2], *check.worker_failure(failure, limits))


def _take_in(store: Store, files: list[Path], period: Period, config: Config,
             common: check.Shared) -> tuple[list[str], list[str], list[archive.NotTaken]]:
    """Archive every file not yet checked for the period, then check and record each (in the
    parent, in a fixed order, one transaction per flushed batch); returns (paths checked, paths skipped
    as another period's, files that could not be read). Files are read in capped pool workers: a
    file that exhausts a worker's time or memory, or crashes it, is recorded as rejected; one that
    cannot be read at all (gone, locked) is set aside with the reason; the others go on."""
    new: dict[str, tuple[Path, int, str]] = {}  # sha256 → (path, size, received)
    copies, skipped, unread = [], [], []
    mailed = fetched.arrivals(store)  # a content `ducha fetch` took arrived when its mail reached the server
    facts = []
    for path in files:
        try:
            sha256, size, received = archive.file_facts(path, config.bureau.zone)
            facts.append(((sha256, size, mailed.get(sha256, received)), path))
        except OSError as exc:  # deleted since the scan, locked, or not readable by the clerk's account
            unread.append(archive.not_taken(path, exc))
    # Earliest first, so a content found under several paths is received when its first copy was.
    for (sha256, size, received), path in sorted(facts, key=lambda f: (f[0][2], str(f[1]))):
        checked = store.checked_periods(sha256)
        if sha256 in new or not _needs_check(checked, period.key):
            copies.append((sha256, archive.shown_path(path), received))
            if sha256 not in new and period.key not in checked:
                skipped.append(archive.shown_path(path))
        else:
            new[sha256] = (path, size, received)
    limits = common[3]
    archive_dir = config.paths.archive / period.key
    jobs = [(path, sha256) for sha256, (path, _size, _received) in new.items()]
    outcomes = pool.guarded_map(check.check_dropped, jobs, (common, archive_dir),
                                seconds=limits.max_seconds, memory_mb=limits.max_memory_mb)
    taken: dict[str, str] = {}  # sha256 → path, of the files recorded
    pending: list[tuple[CheckedFile, tuple[str, str, str], str]] = []  # checked, their copies not yet flushed

    def record_pending() -> None:
        """Flush the batch's archived copies in one go, then record them in one transaction: a
        recorded file's copy is always on disk, and a killed run loses at most one batch of
        reading."""
        flush_files(Path(archived) for _, _, archived in pending)
        with store.batch():
            for result, record_as, archived in pending:
                _record(store, result, record_as, period.key, archived)
        for _, record_as, _ in pending:
            taken[record_as[1]] = record_as[0]
        pending.clear()

    with contextlib.closing(outcomes):
        for (sha256, (path, size, received)), outcome in zip(new.items(), outcomes, strict=True):
            record_as = (archive.shown_path(path), sha256, received)
            if isinstance(outcome, pool.WorkerFailure):
                try:
                    outcome = archive.archive(path, archive_dir, sha256), _unread(outcome, record_as, size, limits)
                except (OSError, DuchaError) as exc:
                    outcome = archive.not_taken(path, exc)
            if isinstance(outcome, archive.NotTaken):
                unread.append(outcome)
                continue
            archived, result = outcome
            pending.append((result, record_as, str(archived)))
            if len(pending) >= _FLUSH_EVERY:
                record_pending()
    record_pending()
    for copy in copies:  # a copy of a file set aside waits for the next run, as its first copy does
        if copy[0] not in new or copy[0] in taken:
            store.add_path(*copy)
    return list(taken.values()), skipped, unread


def _recheck(store: Store, records: list[FileRecord], common: check.Shared,
             when: str) -> tuple[int, list[archive.NotTaken]]:
    """Check the period's files again from their archived copies, in capped workers as at intake.
    A file whose check comes out different is recorded anew, its earlier check kept in the store
    (Store.earlier_checks); an unchanged one is not written, so a second recheck changes nothing.
    Returns (files checked again, files whose archived copy is gone: they keep their check)."""
    present = [r for r in records if Path(r.archived).is_file()]
    gone = [archive.NotTaken(r.path, f"归档副本 {r.archived} 不存在，本次未重新审核，沿用此前的审核结果")
            for r in records if r not in present]
    limits = common[3]
    outcomes = pool.guarded_map(check.check_archived, [(Path(r.archived), Path(r.path)) for r in present], common,
                                seconds=limits.max_seconds, memory_mb=limits.max_memory_mb)
    with contextlib.closing(outcomes):
        for record, outcome in zip(present, outcomes, strict=True):
            record_as = (record.path, record.sha256, record.received)
            if isinstance(outcome, pool.WorkerFailure):
                outcome = _unread(outcome, record_as, record.size, limits)
            if _found(outcome) != _found(record):
                _record(store, outcome, record_as, record.period, record.archived, keep_earlier=when)
    return len(present), gone


def _found(file: CheckedFile | FileRecord) -> tuple:
    """What a check found in a file: a new check and the stored one compare equal when alike."""
    return file.unit, file.signed, file.claimed, file.filler, file.issues, file.tasks, file.indicators, file.plans
