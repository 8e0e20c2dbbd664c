"""`ducha review apply FILE`: a filled 审核表 back into the store's review trail.

The file went through a leader's Excel, so it is checked like a unit's return: every row must be a
pending request whose locked text was not edited, every decision must be one of the three, and a
refusal or a send-back must say why. An approved 申请调整计划 rewrites the task's rows of the
ledger's 节点计划, so each is checked against the ledger's rules first. One problem anywhere and
nothing is recorded nor written, so a half-read file never leaves some decisions in force and others
not; the ledger is written before the trail, so a run stopped between the two is finished by the
next. A decision already in force is final:
the same decision again is ignored (the same file applied twice), a different one is refused until
`ducha review reopen`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolkit.config import Config
from toolkit.errors import InputError, LedgerError
from toolkit.intake.normalize import as_text, compact, date, task_no
from toolkit.ledger.build import load_ledger
from toolkit.model import REQUEST_PLAN, Milestone
from toolkit.outputs.review_book import (
    FIRST_ROW,
    HEADERS,
    REQUEST_HEADERS,
    SHEET_REVIEW,
    request_row,
    task_contents,
)
from toolkit.problems import Cell
from toolkit.quarter import plan_store
from toolkit.quarter.decisions import (
    APPROVE,
    DECISIONS,
    REFUSE,
    SEND_BACK,
    AskedRequest,
    Decision,
    asked_requests,
    record,
    standing,
)
from toolkit.quarter.plan_apply import changed_plan, replace_plans
from toolkit.quarter.store import Store, open_store

_COL = {name: i for i, name in enumerate(HEADERS)}
_COMPARED = ("申请事项", "申请完成时间", "理由")  # 佐证材料 shows what has arrived meanwhile


@dataclass
class Applied:
    """What `apply` did: the decisions recorded, rows already decided alike, rows left blank, and
    the problems that stopped it (then nothing was recorded)."""

    recorded: list[Decision] = field(default_factory=list)
    unchanged: int = 0
    blank: int = 0
    problems: list[str] = field(default_factory=list)


def apply_review(config: Config, path: Path, now: dt.datetime) -> Applied:
    """Check the filled 审核表 at path and record its decisions, all or none; now: the bureau's time."""
    rows = _read(path)
    contents = task_contents(config)
    result = Applied()
    with open_store(config.paths.store) as store:
        decided = standing(store)
        asked = _asked(store, {as_text(r[_COL["报告期"]]).strip() for _, r in rows})
        where: dict[tuple[str, str, int, str], int] = {}  # a recorded decision → its Excel row
        for excel_row, values in rows:
            count = len(result.recorded)
            _row(store, excel_row, values, asked, decided, contents, now, path, result)
            where |= {d.key: excel_row for d in result.recorded[count:]}
        approved = [(where[d.key], d) for d in result.recorded if d.kind == REQUEST_PLAN and d.action == APPROVE]
        plans = _plan_changes(config, store, approved, now, result) if not result.problems else []
        if result.problems:
            result.recorded = []
            return result
        if plans:
            replace_plans(config, plans, now)
        record(store, result.recorded)
    return result


def _plan_changes(config: Config, store: Store, approved: list[tuple[int, Decision]], now: dt.datetime,
                  result: Applied) -> list[list[Milestone]]:
    """The new plans of the approved 申请调整计划, each checked alone against the ledger; a plan the
    ledger's rules refuse is a problem at its row."""
    ledger = load_ledger(config)
    plans = []
    for excel_row, d in approved:
        rows = [r for _, r in plan_store.change_requests(store.conn, d.period) if (r.unit, r.task_no) == (d.unit, d.task_no)]
        try:
            plan = changed_plan(ledger, rows)
            replace_plans(config, [plan], now, check_only=True)
        except LedgerError as exc:
            result.problems.append(f"{_cell(excel_row, '审核意见')}：第{d.task_no}项的计划调整无法写入总台账（{exc}），"
                                   "请审核为不同意或退回补充")
            continue
        plans.append(plan)
    return plans


def _read(path: Path) -> list[tuple[int, list[Any]]]:
    from python_calamine import CalamineWorkbook

    try:
        with open(path, "rb") as fh, CalamineWorkbook.from_filelike(fh) as wb:
            if SHEET_REVIEW not in wb.sheet_names:
                raise InputError(f"{path.name} 中没有工作表“{SHEET_REVIEW}”，请使用 ducha review 生成的审核表")
            grid = wb.get_sheet_by_name(SHEET_REVIEW).to_python(skip_empty_area=False)
    except InputError:
        raise
    except Exception as exc:
        raise InputError(f"无法读取 {path.name}：{exc}") from exc
    header = [as_text(v).strip() for v in (grid[0] if grid else [])][: len(HEADERS)]
    if header != list(HEADERS):
        raise InputError(f"{SHEET_REVIEW}!A1：表头被改动，应为“{'、'.join(HEADERS)}”，请使用 ducha review 生成的审核表")
    width = len(HEADERS)
    return [(i + 1, (list(values) + [""] * width)[:width]) for i, values in enumerate(grid[1:], start=FIRST_ROW - 1)
            if any(as_text(v).strip() for v in values)]


def _asked(store: Store, periods: set[str]) -> dict[tuple[str, str, int], list[AskedRequest]]:
    """(period, unit, task no) → its requests (a task may have a 申请延期 and a 申请调整计划)."""
    found: dict[tuple[str, str, int], list[AskedRequest]] = {}
    for p in sorted(periods):
        for a in asked_requests(store, p) if p else ():
            found.setdefault((a.period, a.unit, a.task_no), []).append(a)
    return found


def _cell(excel_row: int, header: str) -> str:
    return f"{SHEET_REVIEW}!{Cell(excel_row, _COL[header] + 1)}"


def _row(store: Store, excel_row: int, values: list[Any], asked: dict, decided: dict, contents: dict[int, str],
         now: dt.datetime, path: Path, result: Applied) -> None:
    def problem(header: str, text: str) -> None:
        result.problems.append(f"{_cell(excel_row, header)}：{text}")

    period, unit = as_text(values[_COL["报告期"]]).strip(), as_text(values[_COL["责任单位"]]).strip()
    no = task_no(values[_COL["任务编号"]])
    kind = compact(values[_COL["申请事项"]])
    same = asked.get((period, unit, no), [])
    request = next((a for a in same if a.request.kind == kind), same[0] if same else None)
    if request is None:
        problem("任务编号", f"第{excel_row}行（{period} 任务{as_text(values[_COL['任务编号']])} {unit}）不是待审核的申请，"
                       "请勿增加行或改动报告期、任务编号、责任单位")
        return
    issued = dict(zip(REQUEST_HEADERS, request_row(store, request, contents), strict=True))
    for header in _COMPARED:
        found = _shown(values[_COL[header]])
        if compact(found) != compact(issued[header]):
            problem(header, f"“{header}”是单位的申请内容，不可修改（现为“{found[:30]}”，应为“{str(issued[header])[:30]}”）")
    action = compact(values[_COL["审核意见"]])
    if not action:
        result.blank += 1
        return
    if action not in DECISIONS:
        problem("审核意见", f"审核意见“{action[:20]}”不是{'、'.join(DECISIONS)}之一，请从下拉列表选择")
        return
    note = as_text(values[_COL["说明"]]).strip()
    if action in (REFUSE, SEND_BACK) and not note:
        problem("说明", f"审核意见为“{action}”，请在“说明”中写明理由（退回补充时写明需补充什么）")
    reviewer = as_text(values[_COL["审核人"]]).strip()
    if not reviewer:
        problem("审核人", "请填写审核人姓名")
    when = date(values[_COL["审核日期"]])
    if not when.ok:
        problem("审核日期", f"审核日期“{when.shown[:20]}”不是日期，请填写如2024-07-10")
    if (was := decided.get(request.key)) is not None:
        if was.action != action:
            problem("审核意见", f"该申请已于{was.decided_on}由{was.reviewer}审核为“{was.action}”，审核决定已生效；"
                               f"如需改变，请先运行 ducha review reopen")
        else:
            result.unchanged += 1
        return
    result.recorded.append(Decision(
        period, unit, request.task_no, request.request.kind, request.asked, action, note, reviewer,
        (when.value or now.date()).isoformat(), now.isoformat(timespec="seconds"), path.name))


def _shown(value: Any) -> str:
    """A cell as the 审核表 wrote it: dates as ISO text (Excel may have turned a date string into a date)."""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return as_text(value).strip()
