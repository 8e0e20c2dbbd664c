"""`ducha ledger plans`: the plans lead units returned and the merge accepted, copied into the
ledger's 节点计划, where they start deciding the tasks' lights.

The ledger is the clerk's file and the bureau's word, so nothing a unit sent replaces a row in it:
a task that already has milestones there keeps them, and a returned plan that differs from them is
listed as a conflict for the clerk to settle by hand. A change a unit asked for to a plan already
there (intake's plan_change_requested) is a request the bureau decides in the 审核表; an approved one
replaces that task's rows (replace_plans, from `ducha review apply`). Without --apply the run only
says what it would do. The new ledger is checked before it replaces the old one, in one atomic write.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from toolkit.config import Config
from toolkit.errors import LedgerError
from toolkit.fsutil import workspace_lock, write_atomic
from toolkit.intake.normalize import task_no
from toolkit.ledger.build import load_ledger
from toolkit.ledger.check import check_ledger
from toolkit.ledger.sheets import COLUMNS, SHEET_PLAN, milestone_row, read_tables, write_tables
from toolkit.model import REQUEST_PLAN, Ledger, Milestone, PlanRow
from toolkit.quarter import decisions, plan_store
from toolkit.quarter.store import open_store

ADDED = "added"  # copied into the ledger (or would be, without --apply)
SAME = "same"  # the ledger already holds this plan
CONFLICT = "conflict"  # the ledger holds other milestones for the task: left as they are
WITHDRAWN = "withdrawn"  # the task is no longer in the ledger
REQUESTED = "requested"  # a change of a plan already in the ledger, not yet decided in `ducha review`


@dataclass(frozen=True)
class PlanOutcome:
    task_no: int
    unit: str
    period: str  # the quarter whose accepted file carried the plan
    milestones: int
    status: str  # ADDED / SAME / CONFLICT / WITHDRAWN

    def as_dict(self) -> dict[str, object]:
        return {"task": self.task_no, "unit": self.unit, "period": self.period, "milestones": self.milestones,
                "status": self.status}


@dataclass
class PlansResult:
    path: Path
    applied: bool  # the ledger was written
    outcomes: list[PlanOutcome] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    def as_dict(self) -> dict[str, object]:
        return {"path": str(self.path), "applied": self.applied, "outcomes": [o.as_dict() for o in self.outcomes]}


def _milestones(rows: list[PlanRow]) -> list[Milestone]:
    """A unit's plan as ledger rows: 责任单位 blank (the lead, who made it)."""
    return [Milestone(r.task_no, r.seq, r.content, dt.date.fromisoformat(r.due), float(r.progress or 0), "", r.person)
            for r in sorted(rows, key=lambda r: r.seq)]


def _same(held: list[Milestone], mine: list[Milestone]) -> bool:
    def key(plan: list[Milestone]) -> list[tuple[object, ...]]:
        return sorted((m.seq, m.content, m.due, m.progress, m.person) for m in plan)

    return key(held) == key(mine)


def apply_plans(config: Config, apply: bool = False, now: dt.datetime | None = None) -> PlansResult:
    """Every accepted returned plan against the ledger; with apply, the ADDED ones are appended to
    master_ledger.xlsx's 节点计划 (checked first, written atomically) under the workspace lock;
    now (default: the bureau's clock) is the written file's created time."""
    path = config.paths.ledger
    with workspace_lock(config.paths.lock):
        ledger = load_ledger(config)
        with open_store(config.paths.store) as store:
            accepted = plan_store.accepted_plans(store.conn)
            decided = decisions.standing(store)
            changes = [(period, row) for period, row in plan_store.change_requests(store.conn)
                       if (period, row.unit, row.task_no, REQUEST_PLAN) not in decided]
        tasks = {t.no for t in ledger.tasks}
        held = {no: ledger.plan(no) for no, _ in accepted}
        result, added = PlansResult(path, False), []
        for (no, unit), (period, rows) in sorted(accepted.items()):
            mine = _milestones(rows)
            if no not in tasks:
                status = WITHDRAWN
            elif not held[no]:
                status, held[no] = ADDED, mine
                added += mine
            else:
                status = SAME if _same(held[no], mine) else CONFLICT
            result.outcomes.append(PlanOutcome(no, unit, period, len(mine), status))
        asked = Counter((row.task_no, row.unit, period) for period, row in changes)
        result.outcomes += [PlanOutcome(no, unit, period, n, REQUESTED) for (no, unit, period), n in sorted(asked.items())]
        if apply and added:
            _write(path, added, set(), config.bureau.year, config.bureau.local(now).replace(tzinfo=None))
            result.applied = True
    return result


def changed_plan(ledger: Ledger, rows: list[PlanRow]) -> list[Milestone]:
    """A task's milestones with a unit's approved change rows in place of those of the same 节点序号
    (责任单位 kept), new ones added; a LedgerError when a changed row has no date or progress."""
    held = {m.seq: m for m in ledger.plan(rows[0].task_no)}
    for r in rows:
        if not r.due or r.progress is None:
            raise LedgerError(f"第{r.task_no}项第{r.seq}个节点的计划完成日期或计划累计进度未填写")
        was = held.get(r.seq)
        held[r.seq] = Milestone(r.task_no, r.seq, r.content, dt.date.fromisoformat(r.due), r.progress,
                                was.unit if was else "", r.person)
    return [held[seq] for seq in sorted(held)]


def replace_plans(config: Config, plans: list[list[Milestone]], now: dt.datetime, check_only: bool = False) -> None:
    """Each task's rows of 节点计划 replaced by its new milestones, checked, in one atomic write
    under the workspace lock (check_only: the check alone); a LedgerError leaves the ledger as it was."""
    tasks = {m.task_no for plan in plans for m in plan}
    with workspace_lock(config.paths.lock):
        _write(config.paths.ledger, [m for plan in plans for m in plan], tasks, config.bureau.year, now, check_only)


def _write(path: Path, milestones: list[Milestone], replaced: set[int], year: int, now: dt.datetime,
           check_only: bool = False) -> None:
    """Rows of 节点计划 (by its header, wherever the clerk moved the columns): the `replaced` tasks'
    rows dropped, the milestones written where the first dropped row stood (else appended); the
    ledger replaced only if the result checks clean."""
    tables = read_tables(path)
    unknown = [name for name in tables if name not in COLUMNS]
    if unknown:
        raise LedgerError(f"总台账中有 ducha 不认识的工作表（{'、'.join(unknown)}），为免丢失其内容未写入节点计划，"
                          "请先把这些工作表移到别的文件")
    columns = COLUMNS[SHEET_PLAN]
    header = tables.get(SHEET_PLAN, [[c.header for c in columns]])[0]
    rows = list(tables.get(SHEET_PLAN, [header]))
    at = header.index(columns[0].header) if columns[0].header in header else 0
    dropped = [i for i, row in enumerate(rows) if i and len(row) > at and task_no(row[at]) in replaced]
    where = dropped[0] if dropped else len(rows)
    rows = [row for i, row in enumerate(rows) if i not in set(dropped)]
    new = [dict(zip((c.header for c in columns), milestone_row(m), strict=True)) for m in milestones]
    rows[where:where] = [[values.get(str(h), "") for h in header] for values in new]
    tables[SHEET_PLAN] = rows

    def write(tmp: Path) -> None:
        write_tables(tmp, tables, now)
        report = check_ledger(tmp, year)
        if report.errors:
            first = report.errors[0]
            raise LedgerError(f"写入节点计划后总台账检查不通过（{first.message}），总台账未改动")

    if check_only:
        with tempfile.TemporaryDirectory() as folder:
            write(Path(folder) / path.name)
    else:
        write_atomic(path, write)
