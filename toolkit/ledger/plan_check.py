"""节点计划 and 时间节点 in the ledger: dates made real, plans checked at their cells.

A task's light is judged against its plan (quarter.rules.planned_pace), so a plan that falls back,
ends short of 100 or runs past the task's own deadline would make a light lie; and a 时间节点 the
bureau wrote as 6月底 or 年底前 has to become a date before anything can compare with it. The
rules live apart from check.py, which reads the other sheets, and are called from its parse_tables.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable
from typing import Protocol

from toolkit.ledger.sheets import SHEET_ABOUT, Table, Value
from toolkit.model import Ledger, Milestone, Task, Unit
from toolkit.problems import Cell, Report


class _Sheet(Protocol):
    """A sheet with columns found by header (check._Sheet): what these checks read."""

    name: str

    def get(self, row: list[Value], key: str) -> Value: ...
    def text(self, row: list[Value], key: str) -> str: ...
    def where(self, r: int, key: str) -> Cell: ...
    def data(self) -> list[tuple[int, list[Value]]]: ...


_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ]00:00(?::00)?)?$")
_FULL = re.compile(r"^(?:(\d{4})年)?(\d{1,2})月(\d{1,2})日(?:前|之前|以前)?$")
_MONTH_END = re.compile(r"^(?:(\d{4})年)?(\d{1,2})月(?:底|末|份)?(?:前|之前|以前)?$")
_SPAN = re.compile(r"^(?:(\d{4})年?)?(年底|年末|年内|全年|下半年|年中|上半年|第?[一二三四1-4]季度|持续推进|长期坚持|常态化推进)(?:末|底)?"
                   r"(?:前|之前|以前|完成)?$")
# else December: the year end, also for work that goes on all year (持续推进, 长期坚持)
_SPAN_MONTH = {"年中": 6, "上半年": 6, "一": 3, "1": 3, "二": 6, "2": 6, "三": 9, "3": 9}
YEAR_TITLE = re.compile(r"(\d{4})年")
DEADLINE_HINT = "可写 2024年9月30日、2024-09-30、9月30日前、6月底、三季度末、上半年、年底前、持续推进"


def ledger_year(tables: dict[str, Table]) -> int:
    """The year the ledger's 说明 title names (…2024年政府工作报告…), else this year."""
    for row in tables.get(SHEET_ABOUT, [])[1:]:
        if row[:1] == ["标题"] and len(row) > 1 and (match := YEAR_TITLE.search(str(row[1]))):
            return int(match[1])
    return dt.date.today().year


def _month_end(year: int, month: int) -> dt.date:
    following = dt.date(year + month // 12, month % 12 + 1, 1)
    return following - dt.timedelta(days=1)


def parse_deadline(text: str, year: int) -> dt.date | None:
    """The date a 时间节点 names (year: the ledger's, for text without one); None when unreadable.
    6月底 → 6-30, 年底前 → 12-31, 12月31日前 → 12-31, 2024年9月30日 → 2024-09-30, 上半年 → 6-30,
    三季度末 → 9-30."""
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).rstrip("。.")
    try:
        if match := _SPAN.match(text):
            span = match[2].removeprefix("第").removesuffix("季度")
            return _month_end(int(match[1] or year), _SPAN_MONTH.get(span, 12))
        if match := _ISO.match(text) or _FULL.match(text):
            return dt.date(int(match[1] or year), int(match[2]), int(match[3]))
        if match := _MONTH_END.match(text):
            return _month_end(int(match[1] or year), int(match[2]))
    except ValueError:  # 2月30日, 13月
        return None
    return None


def check_deadlines(sheet: _Sheet, year: int, report: Report) -> dict[int, dt.date]:
    """{task no: the date its 时间节点 names}; an unreadable one is an error at its cell (blank:
    no deadline, no error)."""
    found: dict[int, dt.date] = {}
    for r, row in sheet.data():
        no, text = sheet.get(row, "no"), sheet.text(row, "deadline")
        if not isinstance(no, int) or not text:
            continue
        due = parse_deadline(text, year)
        if due is None:
            at = sheet.where(r, "deadline")
            report.error("task_deadline_invalid", f"{sheet.name}!{at} 第{no}项的时间节点“{text}”无法识别为日期，"
                         f"{DEADLINE_HINT}", sheet.name, at)
        else:
            found.setdefault(no, due)
    return found


def _owners(ledger: Ledger, task: Task) -> set[str]:
    """Every name that may own a step of the task: its units, their groups' members, and aliases."""
    names = {n for n in (task.lead, *task.co, *task.county) if n}
    owned = set(names)
    for name in names:
        owned.update(ledger.expand(name))
    return owned


def read_plan(sheet: _Sheet, ledger: Ledger, year: int, deadlines: dict[int, dt.date],
              report: Report) -> list[Milestone]:
    """The milestones of 节点计划 that are sound, each problem an error at its cell: a task that
    does not exist, a number or date that is not one, a date outside the year, a unit that does
    not own the task; per task, progress that does not rise, does not reach 100, or reaches it
    after the task's 时间节点."""
    found: list[tuple[int, Milestone]] = []
    seen: dict[tuple[int, int], str] = {}

    def error(code: str, r: int, key: str, text: str) -> None:
        at = sheet.where(r, key)
        report.error(code, f"{sheet.name}!{at} {text}", sheet.name, at)

    for r, row in sheet.data():
        no, seq, raw_due = sheet.get(row, "no"), sheet.get(row, "seq"), sheet.text(row, "due")
        task = ledger.find_task(no) if isinstance(no, int) else None
        if task is None:
            error("plan_task_unknown", r, "no", f"任务编号“{no}”在任务台账中不存在，请改正或删除该行")
            continue
        bad = len(report.errors)
        if not isinstance(seq, int) or seq < 1:
            error("plan_seq_invalid", r, "seq", f"第{no}项的节点序号“{seq}”不是正整数，请按 1、2、3 填写")
        elif (no, seq) in seen:
            error("plan_seq_duplicate", r, "seq", f"第{no}项的节点序号 {seq} 重复（{seen[(no, seq)]} 已有），请改正")
        else:
            seen[(no, seq)] = f"{sheet.name}!{sheet.where(r, 'seq')}"
        due = parse_deadline(raw_due, year) if raw_due else None
        if due is None:
            error("plan_date_invalid", r, "due", f"第{no}项的计划完成日期“{raw_due}”不是日期，请填写如 {year}-06-30")
        elif due.year != year:
            error("plan_date_outside_year", r, "due", f"第{no}项的计划完成日期 {due.isoformat()} 不在 {year} 年内，"
                  "节点计划只排本年度的工作")
        progress = sheet.get(row, "progress")
        if isinstance(progress, str) or not 0 <= progress <= 100:
            error("plan_progress_invalid", r, "progress",
                  f"第{no}项的计划累计进度“{progress}”应为 0 到 100 之间的数字（不带 %）")
        unit = sheet.text(row, "unit")
        owner = ledger.unit(unit)
        if unit and (owner is None or owner.name not in _owners(ledger, task)):
            error("plan_unit_not_owner", r, "unit", f"第{no}项的责任单位“{unit}”不承担该任务，"
                  f"请填写该任务的牵头、配合或县区单位（留空为牵头单位 {task.lead}）")
        if not sheet.text(row, "content"):
            error("plan_content_empty", r, "content", f"第{no}项第{seq}个节点的节点内容为空，请填写")
        if len(report.errors) == bad and due is not None and isinstance(seq, int):
            name = owner.name if isinstance(owner, Unit) else ""
            found.append((r, Milestone(no, seq, sheet.text(row, "content"), due, float(progress), name,
                                       sheet.text(row, "person"))))
    _check_order(sheet, found, deadlines, error)
    return [m for _, m in found]


def _check_order(sheet: _Sheet, found: list[tuple[int, Milestone]], deadlines: dict[int, dt.date],
                 error: Callable[[str, int, str, str], None]) -> None:
    """Per task, in 节点序号 order: dates not going back, progress rising, the last at 100 by the
    task's 时间节点."""
    by_task: dict[int, list[tuple[int, Milestone]]] = {}
    for r, m in found:
        by_task.setdefault(m.task_no, []).append((r, m))
    for no, steps in by_task.items():
        steps.sort(key=lambda s: s[1].seq)
        for (_, before), (r, m) in zip(steps, steps[1:], strict=False):
            if m.due < before.due:
                error("plan_date_order", r, "due", f"第{no}项第{m.seq}个节点的计划完成日期 {m.due.isoformat()} "
                      f"早于第{before.seq}个节点（{before.due.isoformat()}），请按时间先后排列节点")
            if m.progress <= before.progress:
                error("plan_progress_falling", r, "progress", f"第{no}项第{m.seq}个节点的计划累计进度 "
                      f"{m.progress:g}% 不高于第{before.seq}个节点的 {before.progress:g}%，累计进度应逐个节点上升")
        r, last = steps[-1]
        if last.progress != 100:
            error("plan_not_complete", r, "progress", f"第{no}项最后一个节点（第{last.seq}个）的计划累计进度为 "
                  f"{last.progress:g}%，应为 100（任务完成）")
        elif no in deadlines and last.due > deadlines[no]:
            error("plan_after_deadline", r, "due", f"第{no}项在 {last.due.isoformat()} 才计划完成，晚于任务台账的"
                  f"时间节点（{deadlines[no].isoformat()}），请提前节点或修改时间节点")
