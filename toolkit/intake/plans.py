"""A returned 节点计划 checked: the plans a lead unit made, and what it says of milestones due.

A plan the merge takes decides the task's lights from then on (quarter.rules.planned_pace), so a
plan is held to the ledger's own rules (ledger.plan_check.read_plan: dates in the year, progress
rising to 100 by the task's 时间节点), each breach an error at its cell. A task whose plan is
already accepted is followed instead: its rows say 已完成/未完成 per milestone, and a changed plan
cell there is a request for the clerk (plan_change_requested), never an edit of the plan.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from toolkit.forms import layout
from toolkit.forms.plan_sheet import planning
from toolkit.intake import normalize
from toolkit.intake.submission import Row, Submission, Table
from toolkit.ledger.plan_check import parse_deadline, read_plan
from toolkit.model import PLAN_CHANGE, PLAN_FOLLOW, PLAN_NEW, Ledger, Milestone, PlanRow
from toolkit.period import Period
from toolkit.problems import Cell, Report

_PLAN_KEYS = ("content", "due", "progress", "person")
_ENTRY_KEYS = (*_PLAN_KEYS, "state", "actual")


@dataclass
class _Rows:
    """Some rows of the returned table seen as a ledger sheet (plan_check._Sheet): values
    normalised the way read_plan expects them (numbers as numbers, dates as ISO text)."""

    table: Table
    rows: list[Row]
    name: str = layout.SHEET_PLAN

    def get(self, row: Row, key: str) -> Any:
        value = row.values.get(key, "")
        if key in ("no", "seq"):
            return normalize.task_no(value) or normalize.as_text(value)
        if key == "progress":
            number = normalize.number(value)
            return number.value if number.value is not None else normalize.as_text(value)
        return value

    def text(self, row: Row, key: str) -> str:
        if key == "due":
            found = normalize.date(self.get(row, key))
            return found.value.isoformat() if found.value else normalize.as_text(self.get(row, key)).strip()
        return normalize.as_text(self.get(row, key)).strip()

    def where(self, r: int, key: str) -> Cell:
        return self.table.cell(key, r)

    def data(self) -> list[tuple[int, Row]]:
        return [(row.row, row) for row in self.rows]


def plan_rows(sub: Submission, unit: str, led: set[int], ledger: Ledger, period: Period, issues: Report
              ) -> list[PlanRow]:
    """The returned 节点计划 of `unit`, checked (led: the tasks it was issued as lead that the
    ledger still has); [] when the workbook has none."""
    table = sub.plan
    if table is None:
        return []
    sheet = _Rows(table, [])
    planned: list[Row] = []
    found: list[PlanRow] = []
    for row in table.rows:
        if not any(normalize.as_text(row.values.get(k, "")).strip() for k in _ENTRY_KEYS):
            continue  # a blank row left as issued
        no = normalize.task_no(row.values.get("no"))
        if no not in led:
            at = table.cell("no", row.row)
            issues.add("plan_task_not_led", f"任务编号“{sheet.text(row, 'no')}”不是本单位牵头的任务，"
                       "节点计划只填写本单位牵头的任务，请删除该行", layout.SHEET_PLAN, at)
        elif planning(period, ledger.plan(no)):
            planned.append(row)
        elif (followed := _follow(sheet, row, no, unit, ledger.plan(no), issues)) is not None:
            found.append(followed)
    deadlines = {no: due for no in led if (due := parse_deadline(ledger.task(no).deadline, period.year))}
    checked = Report()  # read_plan's messages lead with the cell; here add() puts it in front
    milestones = read_plan(_Rows(table, planned), ledger, period.year, deadlines, checked)
    for issue in checked:
        issues.add(issue.code, issue.message.removeprefix(f"{issue.where} "), issue.sheet, issue.cell)
    at_row = {(normalize.task_no(r.values.get("no")), normalize.task_no(r.values.get("seq"))): r for r in planned}
    for m in milestones:
        row = at_row[(m.task_no, m.seq)]
        state, actual = _report(sheet, row, issues)
        found.append(PlanRow(unit, m.task_no, PLAN_NEW, m.seq, m.content, m.due.isoformat(), m.progress, m.person,
                             state, actual, row.row))
    return sorted(found, key=lambda p: p.row)


def _follow(sheet: _Rows, row: Row, no: int, unit: str, plan: list[Milestone], issues: Report) -> PlanRow | None:
    """A row of a followed task: its 完成情况, and a change of the accepted plan as a request."""
    seq = normalize.task_no(row.values.get("seq"))
    issued = next((m for m in plan if m.seq == seq), None)
    state, actual = _report(sheet, row, issues)
    written = {"content": sheet.text(row, "content"), "due": sheet.text(row, "due"),
               "progress": sheet.get(row, "progress"), "person": sheet.text(row, "person")}
    if issued is not None:
        accepted = {"content": issued.content, "due": issued.due.isoformat(), "progress": issued.progress,
                    "person": issued.person}
        changed = [k for k in _PLAN_KEYS if written[k] != accepted[k]]
        if not changed:
            return PlanRow(unit, no, PLAN_FOLLOW, issued.seq, issued.content, accepted["due"], issued.progress,
                           issued.person, state, actual, row.row)
        at = sheet.where(row.row, changed[0])
        was = f"“{issued.content}”（{accepted['due']} 达到 {issued.progress:g}%）"
    else:
        at, was = sheet.where(row.row, "seq"), ""
    progress = written["progress"]
    issues.add("plan_change_requested", f"第{no}项第{seq or sheet.text(row, 'seq')}个节点已采用的"
               f"节点计划被改动（{'原计划为' + was if was else '原计划没有该节点'}），计划调整作为申请报督查局审核，审核同意前仍按原计划考核", layout.SHEET_PLAN, at)
    return PlanRow(unit, no, PLAN_CHANGE, seq or 0, written["content"], _iso(written["due"]),
                   progress if isinstance(progress, float) else None, written["person"], state, actual, row.row, was)


def _iso(text: str) -> str:
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        return ""


def _report(sheet: _Rows, row: Row, issues: Report) -> tuple[str, str]:
    """(完成情况, 实际完成日期 as ISO) of a row; a state not in the list or a date that is not one
    is an error at its cell, an 已完成 without its date a warning."""
    def add(code: str, key: str, text: str) -> None:
        at = sheet.where(row.row, key)
        issues.add(code, text, layout.SHEET_PLAN, at)

    state = normalize.compact(row.values.get("state", ""))
    if state and state not in layout.MILESTONE_STATES:
        add("milestone_state_invalid", "state", f"完成情况“{state}”应为已完成或未完成，请从下拉列表中选择")
        state = ""
    actual = normalize.date(row.values.get("actual", ""))
    if not actual.ok:
        add("milestone_date_invalid", "actual", f"实际完成日期“{actual.shown}”不是日期，请填写如 2024-03-15")
    elif state == layout.MILESTONE_DONE and actual.value is None:
        add("milestone_date_missing", "actual", "节点已完成，请填写实际完成日期")
    return state, actual.value.isoformat() if actual.value else ""
