"""Judge a quarter by today's ledger when the clerk changed who owns a task after the workbooks
went out.

A returned row carries the role its workbook was issued with (the signed _meta), but the bureau
judges by today's ledger, which may have moved a task's lead since: a row of a task the unit still
holds counts in today's role, a row of a task it no longer holds is kept out of the judgement, and
a task given to the unit after issue is one it could not report. None of this may happen silently,
so each becomes a task_reassigned warning on the unit's accepted file, which its receipt and
汇总表's 问题清单 show. The stored check is left as it was: this is redone on every merge, from
the ledger of that day.
"""

from __future__ import annotations

import dataclasses

from toolkit.forms import layout
from toolkit.intake.codes import new_report
from toolkit.model import ROLE_LEAD, VERDICT_ACCEPTED, Assignment, Ledger, Task, TaskReport
from toolkit.problems import Cell
from toolkit.quarter.store import FileRecord

REASSIGNED = "task_reassigned"
_ROLE_COLUMN = layout.column_index(layout.PROGRESS_COLUMNS, "role")


def judged_rows(ledger: Ledger, assignments: dict[str, list[Assignment]],
                files: list[FileRecord]) -> dict[str, dict[int, TaskReport]]:
    """{unit: {task no: row}} of the accepted files, in today's roles, without the rows of tasks
    the unit no longer holds. Each accepted file gets a task_reassigned warning for every task
    whose role in it differs from today's (replacing those an earlier call added)."""
    tasks = {t.no: t for t in ledger.tasks}
    judged: dict[str, dict[int, TaskReport]] = {}
    for record in files:
        if record.verdict != VERDICT_ACCEPTED or not record.unit:
            continue
        today = {a.task.no: a.role for a in assignments.get(record.unit, [])}
        notes = new_report()
        rows: dict[int, TaskReport] = {}
        for report in record.tasks:
            role = today.get(report.task_no)
            if role != report.role:
                text = _change(record.unit, report.task_no, report.role, role, tasks.get(report.task_no))
                notes.add(REASSIGNED, text, layout.SHEET_PROGRESS, Cell(report.row, _ROLE_COLUMN))
            if role is not None:  # a row is frozen: one whose role holds is kept, not copied
                rows[report.task_no] = report if role == report.role else dataclasses.replace(report, role=role)
        reported = {r.task_no for r in record.tasks}
        for no, role in today.items():
            if no not in reported:
                notes.add(REASSIGNED, _change(record.unit, no, None, role, tasks.get(no)))
        record.issues = [i for i in record.issues if i.code != REASSIGNED] + notes.issues
        judged[record.unit] = rows
    return judged


def _change(unit: str, no: int, issued: str | None, today: str | None, task: Task | None) -> str:
    """What changed for one unit and task, and how the row is handled, in the unit's words.
    issued: the role in the workbook it filled (None: not in it); today: the role today's ledger
    gives (None: the task is no longer the unit's)."""
    if task is None:
        return f"任务{no}已从总台账移除，所报进展不再汇总"
    unreported = "但下发给本单位的填报表中没有该任务，本次未能报送其进展，请与督查局联系补报"
    if today == ROLE_LEAD:
        lead = "本单位" if task.lead == unit else f"{task.lead}（含本单位）"
        handled = f"本单位该任务按牵头处理（填报表下发时为{issued}）" if issued else unreported
        return f"任务{no}的牵头单位已调整为{lead}，{handled}"
    kept = f"本单位该任务按{today}处理" if today else "本单位不再承担该任务，所报进展不计入汇总"
    if issued == ROLE_LEAD:
        return f"任务{no}的牵头单位已调整为{task.lead}，{kept}"
    if issued and today:
        return f"任务{no}中本单位的职责已由{issued}调整为{today}，{kept}"
    if issued:
        return f"任务{no}已调整（牵头单位：{task.lead}），{kept}"
    return f"任务{no}已调整为由本单位{today}（牵头单位：{task.lead}），{unreported}"
