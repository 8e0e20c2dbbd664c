"""The 节点计划 sheet of a unit's workbook: the lead unit plans its tasks, then reports on them.

The notice asks every lead unit to break its tasks into milestones with dates and a person. A task
is *planned* in the first quarter, and in any later quarter while it has no plan in the ledger: its
rows come pre-filled with the bureau's milestones, or blank to be filled. Once a plan is in the
ledger (`ducha ledger plans --apply`) the task is *followed*: its milestones due by the quarter's
deadline are listed and the unit says for each whether it was done, and when. The writer and the
intake both ask `planning` and `issued_rows`, so what is read back is what was issued.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from toolkit.forms import layout
from toolkit.model import ROLE_LEAD, Assignment, Milestone
from toolkit.period import Period
from toolkit.xlsx import write_row

if TYPE_CHECKING:  # intake.plans reads with this module's rules, and needs no writer
    from xlsxwriter.format import Format
    from xlsxwriter.worksheet import Worksheet

BLANK_ROWS = 5  # rows offered for a task without a plan
EXTRA_ROWS = 2  # blank rows after the bureau's milestones, for the unit's own

PLAN_GUIDE = (  # the 填报说明 row of a unit that leads tasks
    f"本单位牵头的任务请在“{layout.SHEET_PLAN}”表中制定节点计划（第一季度，或尚无节点计划的任务）：每个节点填写节点内容、"
    "计划完成日期（本年度内，不晚于任务的时间节点）、计划累计进度(%)（逐个节点上升，最后一个节点为 100）和具体责任人；"
    "已预填督查局制定的节点的，可补充本单位的节点，不用的空行留空。\n"
    "节点计划经督查局采用后，以后各季度该表列出截至本季度应完成的节点，请逐个选择完成情况（已完成/未完成），"
    "已完成的填写实际完成日期。计划已采用后需要调整的，可直接在表中修改，修改作为调整申请报督查局审核，审核同意前仍按原计划考核。"
)


@dataclass(frozen=True)
class IssuedRow:
    """One row of 节点计划 as issued: the task, the 节点序号 printed, the bureau's milestone (None:
    a blank row to fill), and whether the task is followed (its plan accepted) or planned."""

    task_no: int
    seq: int
    milestone: Milestone | None
    follow: bool


class _Formats(Protocol):
    locked_center: Format
    entry: Format
    entry_center: Format
    entry_text: Format
    entry_date: Format


def planning(period: Period, plan: Sequence[Milestone]) -> bool:
    """Whether a task is planned in this quarter's workbook: always in the first quarter, later
    only while the ledger has no plan for it."""
    return period.quarter == 1 or not plan


def issued_rows(assignments: Sequence[Assignment], milestones: Sequence[Milestone], period: Period) -> list[IssuedRow]:
    """The rows of 节点计划 for a unit's lead tasks, in task order; [] when it leads none."""
    rows: list[IssuedRow] = []
    for a in assignments:
        if a.role != ROLE_LEAD:
            continue
        plan = sorted((m for m in milestones if m.task_no == a.task.no), key=lambda m: (m.seq, m.due))
        if not planning(period, plan):
            rows += [IssuedRow(a.task.no, m.seq, m, True) for m in plan if m.due <= period.deadline]
            continue
        rows += [IssuedRow(a.task.no, m.seq, m, False) for m in plan]
        last = max((m.seq for m in plan), default=0)
        extra = EXTRA_ROWS if plan else BLANK_ROWS
        rows += [IssuedRow(a.task.no, last + i, None, False) for i in range(1, extra + 1)]
    return rows


def write_plan_sheet(ws: Worksheet, rows: Sequence[IssuedRow], period: Period, formats: _Formats,
                     setup: Callable[[Worksheet, Sequence[layout.Column], int], None]) -> None:
    """Draw 节点计划: setup (the writer's shared table setup) draws the header and protects the
    sheet; 任务编号 is locked, the rest shaded for input, with date, number and list validation."""
    columns = layout.PLAN_COLUMNS
    setup(ws, columns, layout.PLAN_HEADER_ROW)
    cell = {"no": formats.locked_center, "seq": formats.entry_center, "content": formats.entry,
            "due": formats.entry_date, "progress": formats.entry_center, "person": formats.entry_text,
            "state": formats.entry_center, "actual": formats.entry_date}
    row_formats = [cell[column.key] for column in columns]
    for r, issued in enumerate(rows, start=layout.PLAN_FIRST_ROW - 1):
        m = issued.milestone
        values: dict[str, Any] = {"no": issued.task_no, "seq": issued.seq}
        if m is not None:
            values |= {"content": m.content, "due": m.due, "progress": m.progress, "person": m.person}
        row = [values.get(column.key) for column in columns]
        # The row at once (most rows of a first quarter are blank, 200 cells a unit), then its dates.
        write_row(ws, r, [None if isinstance(value, dt.date) else value for value in row], row_formats)
        for col, value in enumerate(row):
            if isinstance(value, dt.date):
                ws.write_datetime(r, col, dt.datetime.combine(value, dt.time()), row_formats[col])
        ws.set_row(r, 30)
    if not rows:
        return
    first, last = layout.PLAN_FIRST_ROW - 1, layout.PLAN_FIRST_ROW + len(rows) - 2
    year = period.year

    def validate(key: str, options: dict[str, Any]) -> None:
        col = layout.column_index(columns, key) - 1
        ws.data_validation(first, col, last, col, options | {"error_type": "stop"})

    in_year = {"validate": "date", "criteria": "between", "minimum": dt.date(year, 1, 1),
               "maximum": dt.date(year, 12, 31)}
    validate("due", in_year | {"input_title": "计划完成日期", "input_message": f"请填写 {year} 年内的日期，如 {year}-06-30，"
                                                                          "不晚于任务的时间节点。",
                               "error_title": "日期不正确", "error_message": f"计划完成日期须为 {year} 年内的日期。"})
    validate("progress", {"validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 100,
                          "input_title": "计划累计进度(%)",
                          "input_message": "到该节点时任务累计完成的百分比（0–100，不带%号），逐个节点上升，最后一个节点为 100。",
                          "error_title": "计划累计进度不正确", "error_message": "计划累计进度须为 0 到 100 之间的数字。"})
    validate("state", {"validate": "list", "source": list(layout.MILESTONE_STATES), "input_title": "完成情况",
                       "input_message": "计划完成日期已到的节点，请选择已完成或未完成。",
                       "error_title": "完成情况不正确", "error_message": "完成情况只能是：已完成、未完成。"})
    validate("actual", in_year | {"input_title": "实际完成日期", "input_message": "已完成的节点请填写实际完成日期。",
                                  "error_title": "日期不正确", "error_message": f"实际完成日期须为 {year} 年内的日期。"})
