"""审核表.xlsx: the period's pending requests (延期, 办结, 计划调整) as a workbook the bureau fills and `ducha review
apply` reads back (toolkit.outputs.review_apply).

Reviewers work in Excel, not in ducha: one row per pending request with what the unit asked, the
evidence it named and its last two quarters' progress, then 审核意见 (a dropdown), 说明, 审核人
and 审核日期 to fill. The request columns are locked so what the leader approved is what the unit
asked; the 审核记录 sheet shows every decision recorded so far, so the file is also the record.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

from toolkit.config import Config
from toolkit.fsutil import write_bytes_atomic
from toolkit.ledger.build import load_ledger
from toolkit.model import TaskReport
from toolkit.outputs.sheets import Formats, new_book, table
from toolkit.period import Period
from toolkit.quarter.decisions import DECISIONS, AskedRequest, Decision, pending, trail
from toolkit.quarter.evidence import evidence_of
from toolkit.quarter.review import evidence_text
from toolkit.quarter.store import Store, open_store

SHEET_REVIEW = "审核表"
SHEET_TRAIL = "审核记录"
REQUEST_HEADERS = ("报告期", "任务编号", "任务内容", "责任单位", "申请事项", "申请完成时间", "理由", "佐证材料",
                   "上季度进展", "本季度进展")
INPUT_HEADERS = ("审核意见", "说明", "审核人", "审核日期")
HEADERS = REQUEST_HEADERS + INPUT_HEADERS
TRAIL_HEADERS = ("报告期", "任务编号", "责任单位", "申请内容", "审核意见", "说明", "审核人", "审核日期", "记录时间", "来源")
INPUT_FILL = "#FFF2CC"
FIRST_ROW = 2  # Excel row of the first request; row 1 is the header


def review_path(config: Config, period: Period) -> Path:
    """Where `ducha review` writes the period's 审核表: reports/<period>/<period>_审核表.xlsx."""
    return config.paths.reports / period.key / f"{period.key}_审核表.xlsx"


def write_review(config: Config, period: Period, out: Path | None = None) -> tuple[Path, int]:
    """Write the 审核表 of the period's pending requests; (path, number of requests)."""
    target = out or review_path(config, period)
    contents = task_contents(config)
    with open_store(config.paths.store) as store:
        rows = [request_row(store, a, contents) for a in pending(store, period.key)]
        decisions = trail(store)
    buffer = io.BytesIO()
    wb = new_book(buffer, f"{period.full_label}延期、办结与计划调整申请审核表", config.bureau.name,
                  dt.datetime.combine(period.deadline, dt.time()), "")
    formats = Formats(wb)
    ws = wb.add_worksheet(SHEET_REVIEW)
    table(ws, HEADERS, [[*r, "", "", "", None] for r in rows], formats, f"{period.full_label}申请审核表")
    entry = wb.add_format({"font_name": "宋体", "border": 1, "text_wrap": True, "valign": "top", "locked": False,
                           "bg_color": INPUT_FILL})
    dates = wb.add_format({"font_name": "宋体", "border": 1, "valign": "top", "locked": False,
                           "bg_color": INPUT_FILL, "num_format": "yyyy-mm-dd"})
    first = len(REQUEST_HEADERS)
    for r in range(1, len(rows) + 1):
        for c in range(first, len(HEADERS)):
            ws.write_blank(r, c, None, dates if c == len(HEADERS) - 1 else entry)
    if rows:
        last = len(rows)
        ws.data_validation(1, first, last, first, {
            "validate": "list", "source": list(DECISIONS), "error_type": "stop",
            "input_title": "审核意见", "input_message": "请选择：同意、不同意、退回补充。不同意和退回补充须在“说明”写明理由。",
            "error_title": "审核意见不正确", "error_message": "审核意见只能是：同意、不同意、退回补充。"})
        ws.data_validation(1, len(HEADERS) - 1, last, len(HEADERS) - 1, {
            "validate": "date", "criteria": ">=", "value": dt.date(2000, 1, 1), "error_type": "stop",
            "input_title": "审核日期", "input_message": "如 2024-07-10；不填按导入当天记录。",
            "error_title": "审核日期不正确", "error_message": "请填写日期，如 2024-07-10。"})
    ws.protect("", {"format_rows": True, "format_columns": True, "autofilter": True, "sort": True})
    table(wb.add_worksheet(SHEET_TRAIL), TRAIL_HEADERS, [trail_row(d) for d in decisions], formats, "审核记录")
    wb.close()
    return write_bytes_atomic(target, buffer.getvalue()), len(rows)


def task_contents(config: Config) -> dict[int, str]:
    """Task no → 任务内容, as the 审核表 shows it."""
    return {t.no: t.content for t in load_ledger(config).tasks}


def request_row(store: Store, asked: AskedRequest, contents: dict[int, str]) -> list[object]:
    """The locked cells of one request's row, as `apply` compares them too."""
    r = asked.request
    return [asked.period, asked.task_no, contents.get(asked.task_no, ""), asked.unit, r.kind, r.date, r.reason,
            evidence_text(asked, evidence_of(store, asked.period)), progress_text(store, asked, before=True),
            progress_text(store, asked, before=False)]


def progress_text(store: Store, asked: AskedRequest, before: bool) -> str:
    """The unit's accepted answer for the task this quarter, or in its last quarter before it."""
    found = store.accepted_file(asked.unit, asked.period if before else _after(asked.period))
    if found is None:
        return ""
    report = next((t for t in store.reports_of(*found)[0] if t.task_no == asked.task_no), None)
    return f"{found[1]} {describe(report)}" if report else ""


def describe(report: TaskReport) -> str:
    progress = "" if report.progress is None else f" {report.progress:g}%"
    return f"{report.status}{progress}：{report.done}"


def trail_row(d: Decision) -> list[object]:
    return [d.period, d.task_no, d.unit, d.asked, d.action, d.note, d.reviewer, d.decided_on, d.recorded, d.source]


def _after(period: str) -> str:
    """A key just after `period` (2024Q2 → 2024Q2~), so accepted_file(unit, it) finds `period` itself."""
    return period + "~"
