"""A task judged against its 节点计划: the pace it owes this quarter, the milestones it missed, and
the 汇总表 sheet that sets every milestone beside what was reported.

The rules themselves are pure functions in rules.py (planned_pace, overdue_milestones); this module
feeds them one task's reports, so the task frame, 汇总表 and the receipts all see the same verdict.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from toolkit.forms import layout
from toolkit.ledger.plan_check import parse_deadline
from toolkit.model import VERDICT_ACCEPTED, Ledger, Milestone, PlanRow, Task, TaskReport
from toolkit.period import Period
from toolkit.quarter.rules import (
    PACE_DUE,
    PACE_FLAT,
    PACE_PLAN,
    day_label,
    deadline_passed,
    milestone_label,
    overdue_milestones,
    planned_pace,
    quarter_end,
)
from toolkit.quarter.store import FileRecord

PLAN_COLUMNS = ("任务编号", "任务内容", "牵头单位", "节点序号", "节点内容", "计划完成日期", "计划累计进度(%)",
                "责任单位", "具体责任人", "牵头单位完成进度(%)", "责任单位报送", "完成情况", "实际完成日期", "节点状态")
MILESTONE_OVERDUE = "逾期未完成"
MILESTONE_MET = "已到期·已达到"
MILESTONE_OPEN = "未到期"


@dataclass(frozen=True)
class TaskPace:
    """What a task owes this quarter: 序时进度, on what basis (rules.PACE_PLAN / PACE_DUE /
    PACE_FLAT), the milestones past due and not met (empty without a plan), and the task's
    时间节点 when it has passed with the task not 已完成 (None otherwise)."""

    pace: float
    basis: str
    overdue: tuple[Milestone, ...] = ()
    passed: dt.date | None = None


def judged_on(period: Period, as_of: dt.date) -> dt.date:
    """The day milestones fall due against: the quarter's deadline, or the as-of day before it."""
    return min(as_of, period.deadline)


def _owners(ledger: Ledger, unit: str, leads: set[str]) -> set[str]:
    """The units that answer for a milestone: its 责任单位 (a group's members), blank: the leads."""
    return leads if not unit else set(ledger.expand(unit))


Reported = dict[tuple[int, int], PlanRow]  # (task no, 节点序号) → the lead's 节点计划 row with a 完成情况


def reported_milestones(files: list[FileRecord]) -> Reported:
    """What the accepted files of the quarter say of each milestone (完成情况, 实际完成日期)."""
    return {(row.task_no, row.seq): row for record in files if record.verdict == VERDICT_ACCEPTED
            for row in record.plans if row.state}


def task_deadlines(ledger: Ledger, year: int, extensions: dict[int, dt.date]) -> dict[int, tuple[dt.date, str]]:
    """Task no → (its 时间节点 as a date, the note 序时依据 adds): an approved extension's date
    with the original named, else the ledger's own (no note); a task naming no date is absent."""
    found = {}
    for task in ledger.tasks:
        own = parse_deadline(task.deadline, year) if task.deadline else None
        if task.no in extensions:
            was = f"，原为{day_label(own)}" if own else ""
            found[task.no] = (extensions[task.no], f"\n时间节点（已延期至{day_label(extensions[task.no])}{was}）")
        elif own is not None:
            found[task.no] = (own, "")
    return found


def task_pace(ledger: Ledger, task: Task, leads: set[str], reports: list[TaskReport], period: Period,
              as_of: dt.date, lead_progress: float | None, finished: bool, reported: Reported | None = None,
              due: dt.date | None = None) -> TaskPace:
    """The task's pace and missed milestones; leads: the units that lead it (a group's members);
    finished: its 综合状态 is 已完成, so no milestone of it is missed; due: its 时间节点 (as an
    approved extension moved it), None when it names none. Without a plan a task due by the
    quarter's end owes 100 %. A milestone the lead reported in 节点计划 is judged by that: 已完成
    is met, 未完成 past due is missed whatever the progress; one not reported on is judged by the
    完成状态 and progress rule (rules.overdue_milestones)."""
    on = judged_on(period, as_of)
    passed = due if due is not None and due <= on and not finished else None
    plan = ledger.plan(task.no)
    if not plan:
        if due is not None and due <= quarter_end(period):
            return TaskPace(100, PACE_DUE, passed=passed)
        return TaskPace(period.pace, PACE_FLAT, passed=passed)
    done_units = {r.unit for r in reports if r.status == layout.STATUS_DONE}

    def done(unit: str) -> bool:
        owners = _owners(ledger, unit, leads)
        return finished or (bool(owners) and owners <= done_units)

    by_rule = set(overdue_milestones(plan, on, lead_progress, done))

    def missed(m: Milestone) -> bool:
        said = (reported or {}).get((m.task_no, m.seq))
        if said is None:
            return m in by_rule
        return said.state == layout.MILESTONE_NOT_DONE and not finished and m.due <= on

    return TaskPace(planned_pace(plan, period.deadline), PACE_PLAN, tuple(m for m in plan if missed(m)), passed)


def overdue_text(judged: TaskPace) -> str:
    """逾期节点 as 汇总表 and the receipts print it: the passed 时间节点, then one line per missed
    milestone."""
    passed = [deadline_passed(judged.passed)] if judged.passed else []
    return "\n".join([*passed, *(milestone_label(m) for m in judged.overdue)])


def plan_frame(ledger: Ledger, judged: dict[int, TaskPace], progress: dict[int, float | None],
               statuses: dict[int, dict[str, str]], leads: dict[int, set[str]], on: dt.date,
               reported: Reported | None = None) -> pd.DataFrame:
    """汇总表 节点计划: one row per milestone of the ledger, overdue ones first, then by task and
    date; statuses: task → unit → the 完成状态 it reported; leads: task → its lead units;
    reported: what the lead said of each milestone in its 节点计划."""
    tasks = {t.no: t for t in ledger.tasks}
    rows = []
    for m in ledger.milestones:
        if m.task_no not in tasks:
            continue
        task = tasks[m.task_no]
        owners = _owners(ledger, m.unit, leads.get(m.task_no, set()))
        said = [statuses.get(m.task_no, {})[u] for u in sorted(owners) if u in statuses.get(m.task_no, {})]
        missed = m in judged.get(m.task_no, TaskPace(0, PACE_FLAT)).overdue
        state = MILESTONE_OVERDUE if missed else (MILESTONE_MET if m.due <= on else MILESTONE_OPEN)
        told = (reported or {}).get((m.task_no, m.seq))
        rows.append((m.task_no, task.content, task.lead, m.seq, m.content, m.due.isoformat(), m.progress,
                     m.unit or task.lead, m.person, progress.get(m.task_no),
                     "、".join(dict.fromkeys(said)) or "未报送", told.state if told else "", told.actual if told else "",
                     state))
    rows.sort(key=lambda row: (row[-1] != MILESTONE_OVERDUE, row[0], row[5], row[3]))
    return pd.DataFrame(rows, columns=list(PLAN_COLUMNS))


def overdue_by_unit(plans: pd.DataFrame, ledger: Ledger) -> dict[str, list[pd.Series]]:
    """{unit: the rows of 汇总表 节点计划 past due and not met (逾期未完成) whose 责任单位 or 牵头单位 is
    the unit or a group holding it}, in the frame's order: one pass over the frame for the whole
    quarter, so each receipt takes its own rows instead of filtering every unit's."""
    found: dict[str, list[pd.Series]] = {}
    if plans.empty:
        return found
    for _, row in plans[plans["节点状态"] == MILESTONE_OVERDUE].iterrows():
        for unit in dict.fromkeys([*ledger.expand(row["责任单位"]), *ledger.expand(row["牵头单位"])]):
            found.setdefault(unit, []).append(row)
    return found
