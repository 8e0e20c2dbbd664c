"""Requests (申请延期, 申请办结, 申请调整计划) and the bureau's decisions on them, in the store.

A request is what an accepted file of a period asked for one task (a changed accepted 节点计划 is
one 申请调整计划 per task, its milestones old against new); it stays pending until a
decision is recorded. Decisions are an append-only trail (request_reviews): who decided what, when,
from which 审核表, and every reopening. A request's standing decision is its latest row, so a
decision is final until `ducha review reopen` adds a row that makes it pending again. The effects
(a later 时间节点, a closed task) are read from the standing decisions, never stored twice.

Kept apart from quarter.review (which puts the decisions into a merged quarter's frames) so that the
commands that only ask the trail — `ducha generate` for the closed tasks, the reminders, the
take-in of a merge — do not import pandas (~0.35 s).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from toolkit.config import Config
from toolkit.errors import InputError
from toolkit.forms import layout
from toolkit.model import PLAN_CHANGE, REQUEST_PLAN, VERDICT_ACCEPTED, Ledger, PlanRow, Request
from toolkit.period import Period
from toolkit.quarter.store import FileRecord, Store, open_store

APPROVE = "同意"
REFUSE = "不同意"
SEND_BACK = "退回补充"
DECISIONS = (APPROVE, REFUSE, SEND_BACK)
REOPEN = "重新审核"  # the action of `ducha review reopen`: the request is pending again

Key = tuple[str, str, int, str]  # (period, unit, task_no, kind)


@dataclass(frozen=True)
class AskedRequest:
    """One request as an accepted file of `period` made it."""

    period: str
    unit: str
    task_no: int
    request: Request

    @property
    def key(self) -> Key:
        return (self.period, self.unit, self.task_no, self.request.kind)

    @property
    def asked(self) -> str:
        """The request in words, as the 审核表 shows it and the trail keeps it."""
        r = self.request
        if r.kind == REQUEST_PLAN:
            return f"{r.kind}：{r.reason}"
        when = f"，申请完成时间{r.date}" if r.date else ""
        return f"{r.kind}{when}；理由：{r.reason or '无'}；佐证材料：{'、'.join(r.evidence) or '无'}"


@dataclass(frozen=True)
class Decision:
    """One row of the trail."""

    period: str
    unit: str
    task_no: int
    kind: str
    asked: str
    action: str  # one of DECISIONS, or REOPEN
    note: str  # 说明
    reviewer: str  # 审核人
    decided_on: str  # 审核日期, ISO
    recorded: str  # when ducha recorded it, ISO time on the bureau's clock
    source: str  # the 审核表 it came from, or "ducha review reopen"

    @property
    def key(self) -> Key:
        return (self.period, self.unit, self.task_no, self.kind)


def asked_requests(store: Store, period: str) -> list[AskedRequest]:
    """Every request in the period's accepted files, by task and unit."""
    return asked_in(period, store.load_period(period))


def asked_in(period: str, records: list[FileRecord]) -> list[AskedRequest]:
    """Every request in the accepted ones of these file records (verdicts decided), by task and unit."""
    found = [
        AskedRequest(period, t.unit, t.task_no, t.request)
        for record in records
        if record.verdict == VERDICT_ACCEPTED
        for t in record.tasks
        if t.request is not None
    ]
    changes: dict[tuple[str, int], list[PlanRow]] = {}
    for record in records:
        for p in record.plans if record.verdict == VERDICT_ACCEPTED else ():
            if p.kind == PLAN_CHANGE:
                changes.setdefault((p.unit, p.task_no), []).append(p)
    found += [AskedRequest(period, unit, no, Request(REQUEST_PLAN, "", plan_change_text(rows)))
              for (unit, no), rows in changes.items()]
    return sorted(found, key=lambda a: (a.task_no, a.unit))


def plan_change_text(rows: list[PlanRow]) -> str:
    """The milestones a 申请调整计划 changes, each old against new, as the 审核表 shows them."""
    def new(p: PlanRow) -> str:
        progress = "进度未填" if p.progress is None else f"{p.progress:g}%"
        return f"“{p.content}”（{p.due or '日期未填'} 达到 {progress}）"

    return "；".join(f"第{p.seq}个节点：{'原计划' + p.was if p.was else '原计划没有该节点'}，调整为{new(p)}"
                    for p in sorted(rows, key=lambda p: p.seq))


def trail(store: Store) -> list[Decision]:
    """Every decision and reopening ever recorded, oldest first."""
    rows = store.conn.execute(
        "SELECT period, unit, task_no, kind, asked, action, note, reviewer, decided_on, recorded, source "
        "FROM request_reviews ORDER BY seq"
    )
    return [Decision(*row) for row in rows]


def standing(store: Store) -> dict[Key, Decision]:
    """Each request's standing decision (its latest row unless that is a reopening)."""
    latest = {d.key: d for d in trail(store)}
    return {key: d for key, d in latest.items() if d.action != REOPEN}


def pending(store: Store, period: str) -> list[AskedRequest]:
    """The period's requests that have no standing decision."""
    decided = standing(store)
    return [a for a in asked_requests(store, period) if a.key not in decided]


def record(store: Store, decisions: Iterable[Decision]) -> None:
    """Append decisions to the trail, all or nothing."""
    with store.transaction() as conn:
        conn.executemany(
            "INSERT INTO request_reviews (period, unit, task_no, kind, asked, action, note, reviewer, decided_on, "
            "recorded, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(d.period, d.unit, d.task_no, d.kind, d.asked, d.action, d.note, d.reviewer, d.decided_on,
              d.recorded, d.source) for d in decisions],
        )


def reopen_request(config: Config, period: str, unit: str, task_no: int, reviewer: str, note: str,
                   now: dt.datetime, kind: str | None = None) -> Decision:
    """`ducha review reopen`: reopen in the workspace's store."""
    with open_store(config.paths.store) as store:
        return reopen(store, period, unit, task_no, reviewer, note, now, kind)


def reopen(store: Store, period: str, unit: str, task_no: int, reviewer: str, note: str,
           now: dt.datetime, kind: str | None = None) -> Decision:
    """Make a decided request pending again; an InputError when there is no standing decision, or
    when the task has decided requests of more than one kind and `kind` does not say which."""
    decided = [d for key, d in standing(store).items()
               if key[:3] == (period, unit, task_no) and kind in (None, d.kind)]
    if not decided:
        raise InputError(f"{period} {unit} 任务{task_no} 没有已审核的{kind or '申请'}，无需重新审核")
    if len(decided) > 1:
        kinds = "、".join(d.kind for d in decided)
        raise InputError(f"{period} {unit} 任务{task_no} 有多项已审核的申请（{kinds}），请用 --kind 指明重新审核哪一项")
    was = decided[0]
    row = Decision(period, unit, task_no, was.kind, was.asked, REOPEN, note, reviewer, now.date().isoformat(),
                   now.isoformat(timespec="seconds"), "ducha review reopen")
    record(store, [row])
    return row


def closed_before(config: Config, period: Period) -> set[int]:
    """The tasks closed (办结 approved) for quarters before `period`: out of its workbooks and merge."""
    if not config.paths.store.exists():
        return set()
    with open_store(config.paths.store) as store:
        return closed_earlier(store, period)


def closed_earlier(store: Store, period: Period) -> set[int]:
    """closed_before on an open store."""
    return {no for no, when in closed_tasks(store, period.key).items() if when < period.key}


def open_ledger(ledger: Ledger, closed: Collection[int]) -> Ledger:
    """The ledger without the closed tasks (nor their 量化指标 and 节点计划)."""
    if not closed:
        return ledger
    return dataclasses.replace(
        ledger, tasks=[t for t in ledger.tasks if t.no not in closed],
        indicators=[i for i in ledger.indicators if i.task_no not in closed],
        milestones=[m for m in ledger.milestones if m.task_no not in closed])


def extensions_before(config: Config, period: Period) -> dict[int, dt.date]:
    """The 时间节点 approved extensions moved, for requests of quarters before `period`."""
    if not config.paths.store.exists():
        return {}
    with open_store(config.paths.store) as store:
        return extended_deadlines(store, period.previous(config.deadlines).key)


def with_extensions(ledger: Ledger, moved: dict[int, dt.date]) -> Ledger:
    """The ledger as checks see it from then on: each extended task's 时间节点 is its approved date
    (master_ledger.xlsx keeps the original; the trail keeps both)."""
    if not moved:
        return ledger
    return dataclasses.replace(ledger, tasks=[
        dataclasses.replace(t, deadline=moved[t.no].isoformat()) if t.no in moved else t for t in ledger.tasks])


def closed_tasks(store: Store, up_to: str) -> dict[int, str]:
    """Task no → the period whose 申请办结 was approved, for requests of periods up to `up_to`."""
    closed: dict[int, str] = {}
    for (period, _unit, no, kind), d in sorted(standing(store).items()):
        if kind == layout.REQUEST_CLOSE and d.action == APPROVE and period <= up_to:
            closed.setdefault(no, period)
    return closed


def extended_deadlines(store: Store, up_to: str) -> dict[int, dt.date]:
    """Task no → its 时间节点 as approved extensions moved it (the latest approved, periods up to
    `up_to`); the ledger's own 时间节点 stays as it was."""
    asked = {}
    for period in sorted({key[0] for key in standing(store) if key[0] <= up_to}):
        asked |= {a.key: a for a in asked_requests(store, period)}
    moved: dict[int, dt.date] = {}
    for key, d in sorted(standing(store).items()):
        if key[3] == layout.REQUEST_EXTEND and d.action == APPROVE and key in asked:
            moved[key[2]] = dt.date.fromisoformat(asked[key].request.date)
    return moved


def sent_back(store: Store, period: str) -> dict[tuple[str, int], Decision]:
    """(unit, task_no) → the standing 退回补充 of the period's requests: the receipt tells the unit."""
    return {(k[1], k[2]): d for k, d in standing(store).items() if k[0] == period and d.action == SEND_BACK}


