"""The SQLite store: every file ever received, what was found in it, and what it reported.

It is the memory across quarters: merge records each checked file here before deciding anything,
so a killed run loses nothing and a rerun re-reads nothing; the 汇总表, the receipts, the
briefing and next quarter's pre-filled workbooks are all computed from it.

A file's facts (hash, size, first path, received time, format) are stored once by SHA-256, but
its check is stored per (hash, period): validation depends on the period a file is checked
against, and a file sent for the wrong quarter is rejected in one period yet may be the honest
report of another.

One file's results are written in one transaction, so a kill never leaves half a file. The tables
and their upgrades are in schema.py; opening a store brings it up to date.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolkit.errors import DuchaError
from toolkit.model import VERDICT_ACCEPTED, CheckedFile, IndicatorReport, PlanRow, Request, TaskReport
from toolkit.problems import Cell, Issue
from toolkit.quarter import plan_store
from toolkit.quarter.schema import migrate

# The per-file tables that belong to one check, deleted and rewritten together.
_CHECK_TABLES = ("issues", "task_reports", "indicator_reports", "task_requests", "plan_rows", "plan_changes")
# The verdict of a file recorded but not yet judged: merge records each file as it is read and
# decides every verdict of the period at the end, in one transaction. Whoever reads verdicts
# (pre-fill, reminders) thus sees only what a finished merge decided, never a killed run's files.
VERDICT_PENDING = "pending"


@dataclass
class FileRecord:
    """One file as checked against one period, with everything found in it."""

    sha256: str
    period: str
    path: str  # first path it was found under
    size: int
    received: str  # ISO local time (modification time of the first copy)
    format: str
    archived: str
    unit: str | None
    other_period: bool
    signed: bool
    filler: dict[str, str]
    verdict: str
    paths: list[tuple[str, str]] = field(default_factory=list)  # (path, received), first first
    issues: list[Issue] = field(default_factory=list)
    tasks: list[TaskReport] = field(default_factory=list)
    indicators: list[IndicatorReport] = field(default_factory=list)
    claimed: bool = False  # see CheckedFile.claimed
    plans: list[PlanRow] = field(default_factory=list)  # 节点计划 rows

    @property
    def rejected(self) -> bool:
        return any(issue.level == "error" for issue in self.issues)


@dataclass(frozen=True)
class EarlierCheck:
    """A check of a file that `ducha merge --recheck` replaced, as it was then."""

    sha256: str
    period: str
    replaced: str  # when the recheck replaced it, ISO time on the bureau's clock
    unit: str | None
    verdict: str
    issues: list[Issue]


class Store:
    """An open store. Use `with open_store(path) as store:`; every write is its own transaction,
    or part of the batch() it is made in."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self._in_batch = False

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """All-or-nothing: a kill or an exception inside leaves the store as it was before (inside
        a batch(): as it was before the batch)."""
        if self._in_batch:
            yield self.conn
            return
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.rollback()
            raise
        self.conn.commit()

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """One transaction for every write inside: the take-in records each flushed batch of files
        at once. A commit took 0.18 ms, over half of recording a file, and was paid in the merge's
        own process, beside its two reading workers on two cores."""
        with self.transaction():
            outer, self._in_batch = self._in_batch, True
            try:
                yield
            finally:
                self._in_batch = outer

    # --- writing -------------------------------------------------------------------------

    def add_path(self, sha256: str, path: str, received: str) -> None:
        """Remember another path a known content was found under."""
        with self.transaction() as conn:
            conn.execute("INSERT OR IGNORE INTO file_paths VALUES (?, ?, ?)", (sha256, path, received))

    def record(self, checked: CheckedFile, period: str, archived: str, verdict: str = VERDICT_PENDING,
               other_period: bool = False, keep_earlier: str | None = None) -> None:
        """Store one file's check against `period`, replacing an earlier check of the same pair.
        keep_earlier (`ducha merge --recheck`: the time of the recheck) first keeps that earlier
        check, with the verdict it had, in earlier_checks."""
        key = (checked.sha256, period)
        with self.transaction() as conn:
            if keep_earlier is not None:
                self._keep_earlier(conn, key, keep_earlier)
            conn.execute(
                "INSERT OR IGNORE INTO files VALUES (?, ?, ?, ?, ?, ?)",
                (checked.sha256, checked.path, checked.size, checked.received, checked.format, archived),
            )
            conn.execute(
                "INSERT OR IGNORE INTO file_paths VALUES (?, ?, ?)",
                (checked.sha256, checked.path, checked.received),
            )
            conn.execute(
                "INSERT OR REPLACE INTO submissions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    *key,
                    checked.unit,
                    int(other_period),
                    int(checked.signed),
                    json.dumps(checked.filler, ensure_ascii=False, sort_keys=True),
                    verdict,
                    int(checked.claimed),
                ),
            )
            for table in _CHECK_TABLES:
                conn.execute(f"DELETE FROM {table} WHERE sha256 = ? AND period = ?", key)
            conn.executemany(
                "INSERT INTO issues VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(*key, seq, i.level, i.code, i.sheet, i.cell and i.cell.row, i.cell and i.cell.col, i.message)
                 for seq, i in enumerate(checked.issues)],
            )
            conn.executemany(
                "INSERT OR REPLACE INTO task_reports VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (*key, t.row, t.unit, t.task_no, t.role, t.status, t.progress, t.done, t.problems,
                     t.next, t.person, t.phone)
                    for t in checked.tasks
                ],
            )
            conn.executemany(
                "INSERT OR REPLACE INTO task_requests VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(*key, t.row, r.kind, r.date, r.reason, json.dumps(r.evidence, ensure_ascii=False))
                 for t in checked.tasks if (r := t.request)],
            )
            conn.executemany(
                "INSERT OR REPLACE INTO indicator_reports VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(*key, r.row, r.unit, r.task_no, r.name, r.value, r.note) for r in checked.indicators],
            )
            plan_store.insert(conn, key, checked.plans)

    @staticmethod
    def _keep_earlier(conn: sqlite3.Connection, key: tuple[str, str], replaced: str) -> None:
        issues = conn.execute("SELECT level, code, sheet, row, col, message FROM issues "
                              "WHERE sha256 = ? AND period = ? ORDER BY seq", key).fetchall()
        conn.execute(
            """INSERT INTO earlier_checks SELECT sha256, period,
                   (SELECT COUNT(*) FROM earlier_checks WHERE sha256 = ? AND period = ?), ?, unit, verdict, ?
               FROM submissions WHERE sha256 = ? AND period = ?""",
            (*key, replaced, json.dumps(issues, ensure_ascii=False), *key),
        )

    def set_verdicts(self, period: str, verdicts: dict[str, str]) -> None:
        """Store the verdicts merge decided for a period's files, all at once."""
        with self.transaction() as conn:
            conn.executemany(
                "UPDATE submissions SET verdict = ? WHERE sha256 = ? AND period = ? AND verdict != ?",
                [(v, sha, period, v) for sha, v in sorted(verdicts.items())],
            )

    # --- reading -------------------------------------------------------------------------

    def earlier_checks(self, period: str) -> list[EarlierCheck]:
        """Every check of the period's files that a recheck replaced, by file, oldest first."""
        rows = self.conn.execute("SELECT sha256, replaced, unit, verdict, issues FROM earlier_checks "
                                 "WHERE period = ? ORDER BY sha256, seq", (period,))
        return [EarlierCheck(sha, period, replaced, unit, verdict,
                             [Issue(level, code, sheet, Cell(row, col) if row is not None else None, message)
                              for level, code, sheet, row, col, message in json.loads(issues)])
                for sha, replaced, unit, verdict, issues in rows]

    def checked_periods(self, sha256: str) -> dict[str, bool]:
        """{period checked against: whether the file turned out to be for another period}."""
        rows = self.conn.execute("SELECT period, other_period FROM submissions WHERE sha256 = ?", (sha256,))
        return {period: bool(other) for period, other in rows}

    def load_period(self, period: str) -> list[FileRecord]:
        """Every file checked against `period`, with paths, issues and rows, by received time."""
        rows = self.conn.execute(
            """SELECT f.sha256, s.period, f.path, f.size, f.received, f.format, f.archived, s.unit,
                      s.other_period, s.signed, s.filler, s.verdict, s.claimed
               FROM submissions s JOIN files f USING (sha256)
               WHERE s.period = ? ORDER BY f.received, f.sha256""",
            (period,),
        ).fetchall()
        texts: dict[str, str] = {}  # the fillers' labels and names, one object each (10,000 files: 8 → 3 MB)
        one = texts.setdefault
        records = {
            row[0]: FileRecord(*row[:8], other_period=bool(row[8]), signed=bool(row[9]),
                               filler={one(k, k): one(v, v) for k, v in json.loads(row[10]).items()},
                               verdict=row[11], claimed=bool(row[12]))
            for row in rows
        }
        for sha, path, received in self.conn.execute(
            """SELECT p.sha256, p.path, p.received FROM file_paths p JOIN submissions s USING (sha256)
               WHERE s.period = ? ORDER BY p.received, p.path""",
            (period,),
        ):
            records[sha].paths.append((path, received))
        for record in records.values():  # the first path comes first even if a copy is older
            record.paths.sort(key=lambda p: p[0] != record.path)
        self._attach(records, period)
        return list(records.values())

    def _attach(self, records: dict[str, FileRecord], period: str) -> None:
        for sha, level, code, sheet, row, col, message in self.conn.execute(
            "SELECT sha256, level, code, sheet, row, col, message FROM issues WHERE period = ? ORDER BY sha256, seq",
            (period,),
        ):
            if sha in records:
                cell = Cell(row, col) if row is not None else None
                records[sha].issues.append(Issue(level, code, sheet, cell, message))
        for sha, task in self._task_rows("WHERE period = ?", (period,)):
            if sha in records:
                records[sha].tasks.append(task)
        for sha, indicator in self._indicator_rows("WHERE period = ?", (period,)):
            if sha in records:
                records[sha].indicators.append(indicator)
        for sha, plan_row in plan_store.read_rows(self.conn, "WHERE period = ?", (period,)):
            if sha in records:
                records[sha].plans.append(plan_row)

    def _task_rows(self, where: str, args: Iterable[object]) -> Iterator[tuple[str, TaskReport]]:
        """The task rows, each repeated value one shared object: a unit's name, a role, a status, the
        filler's name and phone, and any answer written the same way more than once (存在问题 无, a
        progress of 100). SQLite returns a new object for every row; at 10,000 units the period's
        300,000 rows kept ~50 MB of copies of a few thousand values. Only the lookup table is
        extra, and it goes when the rows are read. Task numbers likewise, in a table of their own
        (an int equals its float: 100 is not a progress of 100.0)."""
        same: dict[str | float | None, Any] = {}  # text, or a progress (REAL: always a float)
        one = same.setdefault
        numbers: dict[int, int] = {}
        number = numbers.setdefault
        for (sha, row, unit, no, role, status, progress, done, problems, nxt, person, phone,
             kind, date, reason, evidence) in self.conn.execute(
            "SELECT sha256, row, unit, task_no, role, status, progress, done, problems, next, person, phone, "
            "q.kind, q.date, q.reason, q.evidence FROM task_reports LEFT JOIN task_requests q USING (sha256, period, row) "
            f"{where} ORDER BY sha256, row",
            tuple(args),
        ):
            request = Request(kind, date, reason, tuple(json.loads(evidence))) if kind else None
            yield sha, TaskReport(one(unit, unit), number(no, no), one(role, role), one(status, status), one(progress, progress),
                                  one(done, done), one(problems, problems), one(nxt, nxt), one(person, person),
                                  one(phone, phone), row, request)

    def _indicator_rows(self, where: str, args: Iterable[object]) -> Iterator[tuple[str, IndicatorReport]]:
        for sha, row, unit, no, name, value, note in self.conn.execute(
            "SELECT sha256, row, unit, task_no, name, value, note "
            f"FROM indicator_reports {where} ORDER BY sha256, row",
            tuple(args),
        ):
            yield sha, IndicatorReport(unit, no, name, value, note, row)

    def accepted_file(self, unit: str, before_period: str) -> tuple[str, str] | None:
        """(sha256, period) of the unit's winning file in its latest period before `before_period`.

        Period keys (2024Q1) sort as text in time order, so the comparison is done in SQL."""
        return self.conn.execute(
            """SELECT sha256, period FROM submissions
               WHERE unit = ? AND period < ? AND verdict = ? ORDER BY period DESC LIMIT 1""",
            (unit, before_period, VERDICT_ACCEPTED),
        ).fetchone()

    def reports_of(self, sha256: str, period: str) -> tuple[list[TaskReport], list[IndicatorReport]]:
        """The task and indicator rows stored for one file's check."""
        where, args = "WHERE sha256 = ? AND period = ?", (sha256, period)
        return (
            [t for _, t in self._task_rows(where, args)],
            [i for _, i in self._indicator_rows(where, args)],
        )

    def latest_indicator_values(self, before_period: str) -> dict[tuple[str, int, str], tuple[float, str]]:
        """{(unit, task_no, name): (value, period)} from the accepted files of earlier periods,
        the latest period winning: a 量化指标 keeps its last known value when a quarter is skipped."""
        rows = self.conn.execute(
            """SELECT r.unit, r.task_no, r.name, r.value, r.period FROM indicator_reports r
               JOIN submissions s USING (sha256, period)
               WHERE s.verdict = ? AND r.period < ? AND r.value IS NOT NULL
               ORDER BY r.period, r.row""",
            (VERDICT_ACCEPTED, before_period),
        )
        return {(unit, no, name): (value, period) for unit, no, name, value, period in rows}

    def dump(self) -> dict[str, list[tuple]]:
        """Every row of every table, sorted: lets tests compare two stores for equality."""
        tables = [r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {t: sorted(self.conn.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in sorted(tables)}

    def close(self) -> None:
        self.conn.close()


@contextlib.contextmanager
def open_store(path: Path) -> Iterator[Store]:
    """Open (creating or upgrading) the store at `path` and close it afterwards."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = sqlite3.connect(path, isolation_level=None, timeout=30)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        migrate(conn, path)
    except sqlite3.DatabaseError as exc:
        raise DuchaError(f"无法打开数据库 {path}：{exc}。如文件已损坏，请从备份恢复") from exc
    store = Store(conn)
    try:
        yield store
    finally:
        store.close()
