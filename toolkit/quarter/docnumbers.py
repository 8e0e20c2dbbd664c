"""发文字号: the number of each document the bureau issues, kept in the store.

An official document's number (汴督查〔2024〕3号) is counted within a year and never given twice:
once a 通报 has been printed and signed under a number, rendering it again (a corrected figure, a
rerun) must give the same number, and the next quarter's 通报 the next free one. The store is the
memory across runs, so the numbers live there, allocated in one transaction.
"""

from __future__ import annotations

import datetime as dt
import sqlite3

from toolkit.quarter.store import Store

KIND_BRIEFING = "briefing"


def allocate_doc_number(store: Store, kind: str, period: str, year: int) -> tuple[int, int]:
    """(year, number) of the document `kind` for `period`: the one it was given before, else the
    next free number of `year`."""
    with store.transaction() as conn:
        found = conn.execute("SELECT year, number FROM doc_numbers WHERE kind = ? AND period = ?",
                             (kind, period)).fetchone()
        if found:
            return int(found[0]), int(found[1])
        number = next_number(conn, "doc_numbers", year)
        conn.execute("INSERT INTO doc_numbers VALUES (?, ?, ?, ?, ?)",
                     (year, number, kind, period, dt.datetime.now().isoformat(timespec="seconds")))
        return year, number


def next_number(conn: sqlite3.Connection, table: str, year: int, series: str = "", args: tuple = ()) -> int:
    """The next free number of `year` in `table` (its `year` and `number` columns), within the rows
    `series` selects (an SQL condition such as "level = ?" with its args): one year's count of one
    kind of document, called inside the transaction that stores the number."""
    where = f"year = ? AND {series}" if series else "year = ?"
    [last] = conn.execute(f"SELECT MAX(number) FROM {table} WHERE {where}", (year, *args)).fetchone()
    return (last or 0) + 1


def doc_number_text(prefix: str, year: int, number: int) -> str:
    """汴督查〔2024〕3号 (GB/T 9704: 六角括号, no leading zeros, no 第)."""
    return f"{prefix}〔{year}〕{number}号"
