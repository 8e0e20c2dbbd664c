"""The 节点计划 rows of returned files in the store: written with a file's check, read back as the
plans units made, the milestones they report done, and the plan changes they ask for.

Only an accepted file speaks for its unit (quarter.rules.decide_verdicts), so every reading here
joins the file's verdict; a plan is kept per (period, unit, task), and the latest accepted period
wins when `ducha ledger plans` copies plans into the ledger. Kept apart from store.py so the rows
of one issue's sheet are one readable module.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from typing import Any

from toolkit.model import PLAN_CHANGE, PLAN_FOLLOW, PLAN_NEW, VERDICT_ACCEPTED, PlanRow

_COLUMNS = "row, unit, task_no, kind, seq, content, due, progress, person, state, actual"
_WAS = "LEFT JOIN plan_changes c USING (sha256, period, row)"  # what a change row changed


def insert(conn: sqlite3.Connection, key: tuple[str, str], rows: Iterable[PlanRow]) -> None:
    """Store one file's checked 节点计划 rows (key: its sha256 and period)."""
    conn.executemany(
        "INSERT OR REPLACE INTO plan_rows VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(*key, p.row, p.unit, p.task_no, p.kind, p.seq, p.content, p.due, p.progress, p.person, p.state, p.actual)
         for p in rows],
    )
    conn.executemany("INSERT OR REPLACE INTO plan_changes VALUES (?, ?, ?, ?)",
                     [(*key, p.row, p.was) for p in rows if p.was])


def read_rows(conn: sqlite3.Connection, where: str, args: Iterable[object]) -> Iterator[tuple[str, PlanRow]]:
    """(sha256, row) of the stored plan rows matching `where` (on plan_rows), by file and row; each
    repeated value one shared object (a period's rows are read whole to rebuild the quarter: at
    10,000 units with three milestones a task, 150,000 rows held 53 MB of SQLite's copies of the
    same units, kinds, dates and states). Numbers in a table of their own: 1 equals 1.0."""
    same: dict[str | float | None, Any] = {}
    one = same.setdefault
    numbers: dict[int, int] = {}
    number = numbers.setdefault
    for sha, row, unit, no, kind, seq, content, due, progress, person, state, actual, was in conn.execute(
        f"SELECT sha256, {_COLUMNS}, coalesce(c.was, '') FROM plan_rows {_WAS} {where} ORDER BY sha256, row",
        tuple(args),
    ):
        yield sha, PlanRow(one(unit, unit), number(no, no), one(kind, kind), number(seq, seq), one(content, content),
                           one(due, due), one(progress, progress), one(person, person), one(state, state),
                           one(actual, actual), row, one(was, was))


def _accepted(conn: sqlite3.Connection, kinds: tuple[str, ...], period: str | None) -> list[tuple[str, PlanRow]]:
    """(period, row) of the rows of these kinds in accepted files, of one period or all, in order."""
    marks = ", ".join("?" * len(kinds))
    clause = "AND p.period = ?" if period else ""
    found = conn.execute(
        f"SELECT p.period, {', '.join('p.' + c for c in _COLUMNS.split(', '))}, coalesce(c.was, '') "
        "FROM plan_rows p JOIN submissions s USING (sha256, period) "
        "LEFT JOIN plan_changes c ON c.sha256 = p.sha256 AND c.period = p.period AND c.row = p.row "
        f"WHERE s.verdict = ? AND p.kind IN ({marks}) {clause} "
        "ORDER BY p.period, p.unit, p.task_no, p.seq, p.row",
        (VERDICT_ACCEPTED, *kinds, *([period] if period else [])),
    )
    return [(p, PlanRow(unit, no, kind, seq, content, due, progress, person, state, actual, row, was))
            for p, row, unit, no, kind, seq, content, due, progress, person, state, actual, was in found]


def accepted_plans(conn: sqlite3.Connection) -> dict[tuple[int, str], tuple[str, list[PlanRow]]]:
    """{(task_no, unit): (period, its milestones)}: the plan each lead unit made for each task in
    its accepted files, the latest period winning."""
    plans: dict[tuple[int, str], tuple[str, list[PlanRow]]] = {}
    for period, row in _accepted(conn, (PLAN_NEW,), None):
        held = plans.get((row.task_no, row.unit))
        if held is None or held[0] != period:
            plans[(row.task_no, row.unit)] = held = (period, [])
        held[1].append(row)
    return plans


def milestone_states(conn: sqlite3.Connection, period: str) -> dict[tuple[int, int], PlanRow]:
    """{(task_no, 节点序号): the row} of every milestone an accepted file of the period reports on
    with a 完成情况 (plan, follow and change rows alike: the state is of the milestone)."""
    rows = _accepted(conn, (PLAN_NEW, PLAN_FOLLOW, PLAN_CHANGE), period)
    return {(row.task_no, row.seq): row for _, row in rows if row.state}


def change_requests(conn: sqlite3.Connection, period: str | None = None) -> list[tuple[str, PlanRow]]:
    """(period, row) of the changes of accepted plans that accepted files ask for (of one period, or
    all), by period, unit and task: requests the bureau decides in the 审核表 (quarter.review)."""
    return _accepted(conn, (PLAN_CHANGE,), period)
