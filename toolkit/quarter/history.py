"""The store's logs of what ducha did, as opposed to what units sent: mails and schedule runs.

Mail and the scheduler must never repeat an action across restarts, so they ask the store what was
already done; those questions (and the few about which units have reported, which decide who is
reminded) are kept here, away from the file records the merge reads and writes. The tables
themselves are part of the store's one schema (schema.SCHEMA).
"""

from __future__ import annotations

import sqlite3

from toolkit.model import VERDICT_ACCEPTED
from toolkit.quarter.store import VERDICT_PENDING, Store


def record_mail(store: Store, period: str, unit: str, kind: str, stage: str, attempt: int, time: str,
                recipients: str, message_id: str, result: str, error: str) -> None:
    """Remember one delivery attempt, sent or failed."""
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO mails (period, unit, kind, stage, attempt, time, recipients, message_id, result, error) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (period, unit, kind, stage, attempt, time, recipients, message_id, result, error),
        )


def mail_history(store: Store, period: str, kind: str) -> dict[tuple[str, str], tuple[int, bool]]:
    """{(unit, stage): (attempts so far, delivered at least once)} for one period and kind."""
    rows = store.conn.execute(
        "SELECT unit, stage, COUNT(*), MAX(result = 'sent') FROM mails WHERE period = ? AND kind = ? "
        "GROUP BY unit, stage",
        (period, kind),
    )
    return {(unit, stage): (count, bool(sent)) for unit, stage, count, sent in rows}


def mails_of(store: Store, period: str) -> list[dict[str, object]]:
    """Every delivery attempt of a period, oldest first."""
    cursor = store.conn.execute(
        "SELECT unit, kind, stage, attempt, time, recipients, message_id, result, error FROM mails "
        "WHERE period = ? ORDER BY id",
        (period,),
    )
    return _dicts(cursor)


def _dicts(cursor: sqlite3.Cursor) -> list[dict[str, object]]:
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor]


def accepted_units(store: Store, period: str) -> set[str]:
    """Units with an accepted report for the period: nobody reminds them."""
    rows = store.conn.execute(
        "SELECT DISTINCT unit FROM submissions WHERE period = ? AND verdict = ? AND unit IS NOT NULL",
        (period, VERDICT_ACCEPTED),
    )
    return {unit for (unit,) in rows}


def submitted_units(store: Store, period: str) -> set[str]:
    """Units that sent any file for the period, accepted or not, as a finished merge judged it (a
    file a killed merge recorded waits, pending, for the next)."""
    rows = store.conn.execute(
        "SELECT DISTINCT unit FROM submissions WHERE period = ? AND unit IS NOT NULL AND verdict != ?",
        (period, VERDICT_PENDING),
    )
    return {unit for (unit,) in rows}


def record_schedule_run(store: Store, key: str, period: str, kind: str, day: str, time: str, result: str,
                        summary: str) -> None:
    """Remember what the scheduler did with one action."""
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO schedule_runs (key, period, kind, day, time, result, summary) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (key, period, kind, day, time, result, summary),
        )


def schedule_done(store: Store) -> set[str]:
    """Keys of the actions done or skipped: the scheduler never asks for them again."""
    rows = store.conn.execute("SELECT DISTINCT key FROM schedule_runs WHERE result IN ('done', 'skipped')")
    return {key for (key,) in rows}


def schedule_runs(store: Store, period: str | None = None) -> list[dict[str, object]]:
    """The scheduler's log, oldest first."""
    where, args = ("WHERE period = ?", (period,)) if period else ("", ())
    cursor = store.conn.execute(
        f"SELECT key, period, kind, day, time, result, summary FROM schedule_runs {where} ORDER BY id", args
    )
    return _dicts(cursor)
