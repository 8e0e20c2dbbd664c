"""The store's tables, in order, and how a store written by an older ducha is brought up to date.

Opening a store runs every statement of SCHEMA (each is idempotent), so a table a later version adds
appears in any older store; a change to an existing table is one migration step, run once for a
store whose version (PRAGMA user_version) is older than the step. Kept apart from store.py, which
reads and writes the rows, so each change to the schema is one readable list entry or step.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from toolkit.errors import DuchaError
from toolkit.problems import Cell

SCHEMA_VERSION = 8  # 8: requests, evidence, reviews, unit plans, notices, verify confirmations

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
        claimed      INTEGER NOT NULL DEFAULT 0,  -- unit from the visible table of a file whose signature failed
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
    # Version 5. A file's check that `ducha merge --recheck` replaced, kept as it was: its unit, the
    # verdict it had and its issues (JSON [level, code, sheet, row, col, message] lists). seq counts
    # a file's earlier checks for the period from 0.
    """CREATE TABLE IF NOT EXISTS earlier_checks (
        sha256   TEXT NOT NULL,
        period   TEXT NOT NULL,
        seq      INTEGER NOT NULL,
        replaced TEXT NOT NULL,
        unit     TEXT,
        verdict  TEXT NOT NULL,
        issues   TEXT NOT NULL,
        PRIMARY KEY (sha256, period, seq)
    )""",
    # Version 6. Every part of every message `ducha fetch` took from the bureau's mailbox (one row
    # with seq 0 and no file for a mail without attachments). A message is done once it has rows;
    # sha256/saved are '' for a part not saved (note says why). arrival is the server's INTERNALDATE
    # on the bureau's clock: the merge takes it as the received time of a file with that content.
    # unit is NULL for a sender not in 单位名录 (a stranger: kept and flagged).
    """CREATE TABLE IF NOT EXISTS fetched (
        folder      TEXT NOT NULL,
        uidvalidity INTEGER NOT NULL,
        uid         INTEGER NOT NULL,
        seq         INTEGER NOT NULL,
        message_id  TEXT NOT NULL,
        sender      TEXT NOT NULL,
        subject     TEXT NOT NULL,
        arrival     TEXT NOT NULL,
        unit        TEXT,
        name        TEXT NOT NULL,
        sha256      TEXT NOT NULL,
        saved       TEXT NOT NULL,
        note        TEXT NOT NULL,
        fetched     TEXT NOT NULL,
        PRIMARY KEY (folder, uidvalidity, uid, seq)
    )""",
    "CREATE INDEX IF NOT EXISTS fetched_by_hash ON fetched(sha256)",
    # Version 7. The 发文字号 given to each document ducha issues (kind 'briefing' for a period's
    # 通报): numbered from 1 within a year, never reused, and the same number when it is rendered again.
    """CREATE TABLE IF NOT EXISTS doc_numbers (
        year   INTEGER NOT NULL,
        number INTEGER NOT NULL,
        kind   TEXT NOT NULL,
        period TEXT NOT NULL,
        issued TEXT NOT NULL,
        PRIMARY KEY (year, number),
        UNIQUE (kind, period)
    )""",
    # Issue 16. Every cause ducha found a unit behind for (unit, kind 'missing'/'red'/'milestone',
    # subject: '' / the task number / task-milestone), one row per episode: opened at the check that
    # first found it, cleared ('' while open) at the first later check that no longer did. A cause
    # found again after it was cleared is a new episode, starting again at 提示单.
    """CREATE TABLE IF NOT EXISTS notice_causes (
        unit    TEXT NOT NULL,
        kind    TEXT NOT NULL,
        subject TEXT NOT NULL,
        episode INTEGER NOT NULL,
        opened  TEXT NOT NULL,
        cleared TEXT NOT NULL,
        PRIMARY KEY (unit, kind, subject, episode)
    )""",
    # Issue 16. Every 提示单 (level 1), 督办单 (2) and 通报 (3) issued: one per cause, episode and
    # level, never two; numbered from 1 within a year and level, never reused. due: its 整改期限.
    """CREATE TABLE IF NOT EXISTS notices (
        unit    TEXT NOT NULL,
        kind    TEXT NOT NULL,
        subject TEXT NOT NULL,
        episode INTEGER NOT NULL,
        level   INTEGER NOT NULL,
        year    INTEGER NOT NULL,
        number  INTEGER NOT NULL,
        period  TEXT NOT NULL,
        issued  TEXT NOT NULL,
        due     TEXT NOT NULL,
        cause   TEXT NOT NULL,
        todo    TEXT NOT NULL,
        leaders TEXT NOT NULL,
        PRIMARY KEY (unit, kind, subject, episode, level),
        UNIQUE (level, year, number)
    )""",
    # Issue 16. Every `ducha notices` check: the period and day it judged (checks go forward only).
    """CREATE TABLE IF NOT EXISTS notice_checks (
        period TEXT NOT NULL,
        day    TEXT NOT NULL,
        causes INTEGER NOT NULL,
        issued INTEGER NOT NULL
    )""",
    # Issue 16. Every 疑似不实 line (quarter/verify.py) the clerk confirmed untrue after checking it,
    # by the line's stable key within a period; unit, task, pattern and reason as the line read
    # when confirmed (it still counts in the score if the unit's later file no longer shows it).
    """CREATE TABLE IF NOT EXISTS verify_confirmations (
        period    TEXT NOT NULL,
        key       TEXT NOT NULL,
        unit      TEXT NOT NULL,
        task_no   INTEGER NOT NULL,
        pattern   TEXT NOT NULL,
        reason    TEXT NOT NULL,
        note      TEXT NOT NULL,
        confirmed TEXT NOT NULL,
        PRIMARY KEY (period, key)
    )""",
    # Issue 15. The 申请事项 of a task row (申请延期 / 申请办结), beside its task_reports row and
    # rewritten with it; evidence is the JSON list of file names the unit wrote in 佐证材料.
    """CREATE TABLE IF NOT EXISTS task_requests (
        sha256   TEXT NOT NULL,
        period   TEXT NOT NULL,
        row      INTEGER NOT NULL,
        kind     TEXT NOT NULL,
        date     TEXT NOT NULL,
        reason   TEXT NOT NULL,
        evidence TEXT NOT NULL,
        PRIMARY KEY (sha256, period, row)
    )""",
    # Issue 15. 佐证材料 that came beside a unit's workbook (same sub-folder of the drop folder, or
    # the same mail), one row per period and path: the unit of that workbook, the name the unit
    # gave it, its sniffed format, and either where it is archived or why it was refused.
    """CREATE TABLE IF NOT EXISTS evidence (
        period   TEXT NOT NULL,
        path     TEXT NOT NULL,
        sha256   TEXT NOT NULL,
        unit     TEXT NOT NULL,
        name     TEXT NOT NULL,
        format   TEXT NOT NULL,
        size     INTEGER NOT NULL,
        received TEXT NOT NULL,
        archived TEXT NOT NULL,
        problem  TEXT NOT NULL,
        PRIMARY KEY (period, path)
    )""",
    # Issue 15. The review trail, append-only: every decision on a request (同意 / 不同意 / 退回补充)
    # and every reopening (重新审核), with who and when. A request is (period, unit, task_no, kind);
    # its standing decision is its latest row. `asked` is the request text the reviewer saw.
    """CREATE TABLE IF NOT EXISTS request_reviews (
        seq        INTEGER PRIMARY KEY AUTOINCREMENT,
        period     TEXT NOT NULL,
        unit       TEXT NOT NULL,
        task_no    INTEGER NOT NULL,
        kind       TEXT NOT NULL,
        asked      TEXT NOT NULL,
        action     TEXT NOT NULL,
        note       TEXT NOT NULL,
        reviewer   TEXT NOT NULL,
        decided_on TEXT NOT NULL,
        recorded   TEXT NOT NULL,
        source     TEXT NOT NULL
    )""",
    # Issue 14. The 节点计划 rows of a returned file, rewritten with its check: kind 'plan' (a plan
    # the unit made), 'follow' (a milestone of the ledger's plan it reports on: state, actual) or
    # 'change' (a changed accepted milestone: a request, never applied by the merge). A unit's
    # accepted plan for a period is the 'plan' rows of its accepted file (quarter.plan_store).
    """CREATE TABLE IF NOT EXISTS plan_rows (
        sha256   TEXT NOT NULL,
        period   TEXT NOT NULL,
        row      INTEGER NOT NULL,
        unit     TEXT NOT NULL,
        task_no  INTEGER NOT NULL,
        kind     TEXT NOT NULL,
        seq      INTEGER NOT NULL,
        content  TEXT NOT NULL,
        due      TEXT NOT NULL,
        progress REAL,
        person   TEXT NOT NULL,
        state    TEXT NOT NULL,
        actual   TEXT NOT NULL,
        PRIMARY KEY (sha256, period, row)
    )""",
    "CREATE INDEX IF NOT EXISTS plan_rows_by_task ON plan_rows(period, unit, task_no)",
    # Issue 14. What a 'change' row of plan_rows changed: the accepted milestone as it stood when the
    # unit asked (text), so the 审核表 and the receipt show old against new after the ledger moved on.
    """CREATE TABLE IF NOT EXISTS plan_changes (
        sha256   TEXT NOT NULL,
        period   TEXT NOT NULL,
        row      INTEGER NOT NULL,
        was      TEXT NOT NULL,
        PRIMARY KEY (sha256, period, row)
    )""",
    # Issue 15. Why a refused evidence row was refused, as an issue code (intake/codes.py): merge
    # puts it on the unit's workbook, so receipts and 汇总表's 问题清单 list it like other issues.
    """CREATE TABLE IF NOT EXISTS evidence_refusals (
        period   TEXT NOT NULL,
        path     TEXT NOT NULL,
        code     TEXT NOT NULL,
        PRIMARY KEY (period, path)
    )""",
]


def migrate(conn: sqlite3.Connection, path: Path) -> None:
    """Bring the store at `path` (open as conn) to SCHEMA_VERSION, all in one transaction."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise DuchaError(f"数据库 {path} 由更新版本的 ducha 创建（版本 {version}），请升级 ducha 后再试")
    if version == SCHEMA_VERSION:
        return
    conn.execute("BEGIN IMMEDIATE")
    if 0 < version < 3:
        _cells_as_positions(conn)
    if 0 < version < 4:
        _claimed_column(conn)
    for statement in SCHEMA:
        conn.execute(statement)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    conn.execute("COMMIT")


def _claimed_column(conn: sqlite3.Connection) -> None:
    """Version 4 marks a file attributed by its visible table after its signature failed."""
    conn.execute("ALTER TABLE submissions ADD COLUMN claimed INTEGER NOT NULL DEFAULT 0")


def _cells_as_positions(conn: sqlite3.Connection) -> None:
    """Version 3 keeps an issue's cell as (row, col) instead of its A1 name."""
    conn.execute("ALTER TABLE issues ADD COLUMN row INTEGER")
    conn.execute("ALTER TABLE issues ADD COLUMN col INTEGER")
    for rowid, a1 in conn.execute("SELECT rowid, cell FROM issues WHERE cell != ''").fetchall():
        cell = Cell.parse(a1)
        if cell is not None:
            conn.execute("UPDATE issues SET row = ?, col = ? WHERE rowid = ?", (cell.row, cell.col, rowid))
    conn.execute("ALTER TABLE issues DROP COLUMN cell")
