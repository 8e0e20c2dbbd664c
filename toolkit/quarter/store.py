"""The SQLite store: every file ever received, what was found in it, and what it reported.

It is the memory across quarters: merge records each checked file here before deciding anything,
so a killed run loses nothing and a rerun re-reads nothing; the 汇总表, the receipts, the
briefing and next quarter's pre-filled workbooks are all computed from it.

A file's facts (hash, size, first path, received time, format) are stored once by SHA-256, but
its check is stored per (hash, period): validation depends on the period a file is checked
against, and a file sent for the wrong quarter is rejected in one period yet may be the honest
report of another.

One file's results are written in one transaction, so a kill never leaves half a file. The schema
is the ordered list SCHEMA; later tables (mails, schedule runs: see history.py) are appended to
it and SCHEMA_VERSION is bumped, and opening a store runs every statement (each is idempotent).
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from toolkit.errors import DuchaError
from toolkit.model import VERDICT_ACCEPTED, CheckedFile, IndicatorReport, TaskReport
from toolkit.problems import Cell, Issue

SCHEMA_VERSION = 3

SCHEMA: list[str] = [
    # One row per distinct content. `path` and `received` are those of the first copy seen.
    """CREATE TABLE IF NOT EXISTS files (
        sha256   TEXT PRIMARY KEY,
        path     TEXT NOT NULL,
        size     INTEGER NOT NULL,
        received TEXT NOT NULL,
        format   TEXT NOT NULL,
        archived TEXT NOT NULL
    )""",
    # Every path a content was found under (a unit that mails the same file twice).
    """CREATE TABLE IF NOT EXISTS file_paths (
        sha256   TEXT NOT NULL REFERENCES files(sha256),
        path     TEXT NOT NULL,
        received TEXT NOT NULL,
        PRIMARY KEY (sha256, path)
    )""",
    # The check of one file against one period. other_period: it is a workbook issued for
    # another period (so it may be checked again when that period is merged).
    """CREATE TABLE IF NOT EXISTS submissions (
        sha256       TEXT NOT NULL REFERENCES files(sha256),
        period       TEXT NOT NULL,
        unit         TEXT,
        other_period INTEGER NOT NULL,
        signed       INTEGER NOT NULL,
        filler       TEXT NOT NULL,
        verdict      TEXT NOT NULL,
        PRIMARY KEY (sha256, period)
    )""",
    "CREATE INDEX IF NOT EXISTS submissions_by_unit ON submissions(unit, period)",
    """CREATE TABLE IF NOT EXISTS issues (
        sha256  TEXT NOT NULL,
        period  TEXT NOT NULL,
        seq     INTEGER NOT NULL,
        level   TEXT NOT NULL,
        code    TEXT NOT NULL,
        sheet   TEXT NOT NULL,
        row     INTEGER,  -- the cell, 1-based; NULL for a whole-file or whole-sheet issue
        col     INTEGER,
        message TEXT NOT NULL,
        PRIMARY KEY (sha256, period, seq)
    )""",
    """CREATE TABLE IF NOT EXISTS task_reports (
        sha256   TEXT NOT NULL,
        period   TEXT NOT NULL,
        row      INTEGER NOT NULL,
        unit     TEXT NOT NULL,
        task_no  INTEGER NOT NULL,
        role     TEXT NOT NULL,
        status   TEXT NOT NULL,
        progress REAL,
        done     TEXT NOT NULL,
        problems TEXT NOT NULL,
        next     TEXT NOT NULL,
        person   TEXT NOT NULL,
        phone    TEXT NOT NULL,
        PRIMARY KEY (sha256, period, row)
    )""",
    """CREATE TABLE IF NOT EXISTS indicator_reports (
        sha256  TEXT NOT NULL,
        period  TEXT NOT NULL,
        row     INTEGER NOT NULL,
        unit    TEXT NOT NULL,
        task_no INTEGER NOT NULL,
        name    TEXT NOT NULL,
        value   REAL,
        note    TEXT NOT NULL,
        PRIMARY KEY (sha256, period, row)
    )""",
    # --- later issues append their tables below (mails, schedule_runs) and bump SCHEMA_VERSION ---
    # Every message mail.py tried to deliver (not dry runs). stage tells two messages of one kind
    # apart: a reminder's week/day/overdue, a receipt's content hash; '' for the workbook.
    """CREATE TABLE IF NOT EXISTS mails (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        period     TEXT NOT NULL,
        unit       TEXT NOT NULL,
        kind       TEXT NOT NULL,
        stage      TEXT NOT NULL,
        attempt    INTEGER NOT NULL,
        time       TEXT NOT NULL,
        recipients TEXT NOT NULL,
        message_id TEXT NOT NULL,
        result     TEXT NOT NULL,
        error      TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS mails_by_kind ON mails(period, kind, unit, stage)",
    # Every action routine.py did, skipped or failed; done and skipped keys are never run again.
    """CREATE TABLE IF NOT EXISTS schedule_runs (
        id      INTEGER PRIMARY KEY AUTOINCREMENT,
        key     TEXT NOT NULL,
        period  TEXT NOT NULL,
        kind    TEXT NOT NULL,
        day     TEXT NOT NULL,
        time    TEXT NOT NULL,
        result  TEXT NOT NULL,
        summary TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS schedule_runs_by_key ON schedule_runs(key, result)",
]

# The per-file tables that belong to one check, deleted and rewritten together.
_CHECK_TABLES = ("issues", "task_reports", "indicator_reports")


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

    @property
    def rejected(self) -> bool:
        return any(issue.level == "error" for issue in self.issues)


class Store:
    """An open store. Use `with open_store(path) as store:`; every write is its own transaction."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """All-or-nothing: a kill or an exception inside leaves the store as it was before."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.rollback()
            raise
        self.conn.commit()

    # --- writing -------------------------------------------------------------------------

    def add_path(self, sha256: str, path: str, received: str) -> None:
        """Remember another path a known content was found under."""
        with self.transaction() as conn:
            conn.execute("INSERT OR IGNORE INTO file_paths VALUES (?, ?, ?)", (sha256, path, received))

    def record(self, checked: CheckedFile, period: str, archived: str, verdict: str,
               other_period: bool = False) -> None:
        """Store one file's check against `period`, replacing an earlier check of the same pair."""
        key = (checked.sha256, period)
        with self.transaction() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO files VALUES (?, ?, ?, ?, ?, ?)",
                (checked.sha256, checked.path, checked.size, checked.received, checked.format, archived),
            )
            conn.execute(
                "INSERT OR IGNORE INTO file_paths VALUES (?, ?, ?)",
                (checked.sha256, checked.path, checked.received),
            )
            conn.execute(
                "INSERT OR REPLACE INTO submissions VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    *key,
                    checked.unit,
                    int(other_period),
                    int(checked.signed),
                    json.dumps(checked.filler, ensure_ascii=False, sort_keys=True),
                    verdict,
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
                "INSERT OR REPLACE INTO indicator_reports VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(*key, r.row, r.unit, r.task_no, r.name, r.value, r.note) for r in checked.indicators],
            )

    def set_verdicts(self, period: str, verdicts: dict[str, str]) -> None:
        """Store the verdicts merge decided for a period's files, all at once."""
        with self.transaction() as conn:
            conn.executemany(
                "UPDATE submissions SET verdict = ? WHERE sha256 = ? AND period = ? AND verdict != ?",
                [(v, sha, period, v) for sha, v in sorted(verdicts.items())],
            )

    # --- reading -------------------------------------------------------------------------

    def checked_periods(self, sha256: str) -> dict[str, bool]:
        """{period checked against: whether the file turned out to be for another period}."""
        rows = self.conn.execute("SELECT period, other_period FROM submissions WHERE sha256 = ?", (sha256,))
        return {period: bool(other) for period, other in rows}

    def load_period(self, period: str) -> list[FileRecord]:
        """Every file checked against `period`, with paths, issues and rows, by received time."""
        rows = self.conn.execute(
            """SELECT f.sha256, s.period, f.path, f.size, f.received, f.format, f.archived, s.unit,
                      s.other_period, s.signed, s.filler, s.verdict
               FROM submissions s JOIN files f USING (sha256)
               WHERE s.period = ? ORDER BY f.received, f.sha256""",
            (period,),
        ).fetchall()
        records = {
            row[0]: FileRecord(*row[:8], other_period=bool(row[8]), signed=bool(row[9]), filler=json.loads(row[10]),
                               verdict=row[11])
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

    def _task_rows(self, where: str, args: Iterable[object]) -> Iterator[tuple[str, TaskReport]]:
        for sha, row, unit, no, role, status, progress, done, problems, nxt, person, phone in self.conn.execute(
            "SELECT sha256, row, unit, task_no, role, status, progress, done, problems, next, person, phone "
            f"FROM task_reports {where} ORDER BY sha256, row",
            tuple(args),
        ):
            yield sha, TaskReport(unit, no, role, status, progress, done, problems, nxt, person, phone, row)

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


def _migrate(conn: sqlite3.Connection, path: Path) -> None:
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise DuchaError(f"数据库 {path} 由更新版本的 ducha 创建（版本 {version}），请升级 ducha 后再试")
    if version == SCHEMA_VERSION:
        return
    conn.execute("BEGIN IMMEDIATE")
    if 0 < version < 3:
        _cells_as_positions(conn)
    for statement in SCHEMA:
        conn.execute(statement)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    conn.execute("COMMIT")


def _cells_as_positions(conn: sqlite3.Connection) -> None:
    """Version 3 keeps an issue's cell as (row, col) instead of its A1 name."""
    conn.execute("ALTER TABLE issues ADD COLUMN row INTEGER")
    conn.execute("ALTER TABLE issues ADD COLUMN col INTEGER")
    for rowid, a1 in conn.execute("SELECT rowid, cell FROM issues WHERE cell != ''").fetchall():
        cell = Cell.parse(a1)
        if cell is not None:
            conn.execute("UPDATE issues SET row = ?, col = ? WHERE rowid = ?", (cell.row, cell.col, rowid))
    conn.execute("ALTER TABLE issues DROP COLUMN cell")


@contextlib.contextmanager
def open_store(path: Path) -> Iterator[Store]:
    """Open (creating or upgrading) the store at `path` and close it afterwards."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = sqlite3.connect(path, isolation_level=None, timeout=30)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        _migrate(conn, path)
    except sqlite3.DatabaseError as exc:
        raise DuchaError(f"无法打开数据库 {path}：{exc}。如文件已损坏，请从备份恢复") from exc
    store = Store(conn)
    try:
        yield store
    finally:
        store.close()
