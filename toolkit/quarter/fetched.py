"""The store's record of what `ducha fetch` took from the bureau's mailbox.

Fetching must be idempotent across restarts and connection drops: a message is recorded in one
transaction after its attachments are in the drop folder, so a message with rows is never taken
again (by folder, UIDVALIDITY and UID), and a content saved once is never saved again (by hash)
whatever message brings it. The merge asks here for the arrival time of a content that came by
mail, so lateness is decided by when the unit's mail reached the server, not by when a file was
copied. Kept in quarter/ because the merge (quarter/collect.py) reads it and mail/ writes it.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass

from toolkit.quarter.store import Store


@dataclass(frozen=True)
class FetchedPart:
    """One part of one fetched message, as stored (see schema.py, table fetched)."""

    folder: str
    uidvalidity: int
    uid: int
    seq: int
    message_id: str
    sender: str
    subject: str
    arrival: str  # INTERNALDATE on the bureau's clock, ISO to the second
    unit: str | None  # None: the sender is not in 单位名录
    name: str  # the attachment's name as sent ('' for a mail without attachments)
    sha256: str  # '' when not saved
    saved: str  # the path written in the drop folder; '' when not saved
    note: str  # why it was not saved, or ''
    fetched: str  # when ducha fetched it, bureau's clock


def record_message(store: Store, parts: list[FetchedPart]) -> None:
    """Record all parts of one message in one transaction: after it, the message is done."""
    with store.transaction() as conn:
        conn.executemany(f"INSERT OR REPLACE INTO fetched VALUES ({', '.join('?' * 14)})",
                         [astuple(p) for p in parts])


def fetched_uids(store: Store, folder: str, uidvalidity: int) -> set[int]:
    """UIDs of the messages of folder (in this UIDVALIDITY) already recorded."""
    rows = store.conn.execute("SELECT DISTINCT uid FROM fetched WHERE folder = ? AND uidvalidity = ?",
                              (folder, uidvalidity))
    return {uid for (uid,) in rows}


def saved_hashes(store: Store) -> dict[str, str]:
    """{sha256: path it was saved under} of every content fetch has saved."""
    rows = store.conn.execute("SELECT sha256, MIN(saved) FROM fetched WHERE saved != '' GROUP BY sha256")
    return dict(rows.fetchall())


def arrivals(store: Store) -> dict[str, str]:
    """{sha256: earliest arrival} of every content that came by mail."""
    rows = store.conn.execute("SELECT sha256, MIN(arrival) FROM fetched WHERE sha256 != '' GROUP BY sha256")
    return dict(rows.fetchall())
