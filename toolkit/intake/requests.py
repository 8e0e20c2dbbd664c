"""申请事项 in a returned 进展填报: a unit asks to extend a task's 时间节点 or to close the task.

A request is a promise the bureau will act on (a new deadline, a task gone from later quarters), so
only a complete one is taken: an extension with a later date and a reason, a closing with the task
reported 已完成 at 100% and the evidence named. Anything less is an issue at its cell and no request.
The rules here are the ones the dropdown's input message announces (toolkit.forms.requests).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from toolkit.config import Config, read_section
from toolkit.forms import layout
from toolkit.intake import normalize
from toolkit.intake.submission import Submission, Table
from toolkit.ledger.plan_check import parse_deadline
from toolkit.model import Ledger, Request, TaskReport
from toolkit.problems import Report

_EVIDENCE_SPLIT = re.compile(r"[、，,；;\n]+")


@dataclass(frozen=True)
class ReviewSettings:
    """[review] in ducha.toml: whether 申请办结 must name at least one file of 佐证材料."""

    require_evidence: bool = True

    @classmethod
    def from_config(cls, config: Config) -> ReviewSettings:
        return read_section(config.section("review"), "review", cls)


def evidence_names(text: str) -> tuple[str, ...]:
    """The file names a 佐证材料 cell lists (separated by 、，；, or new lines)."""
    return tuple(name.strip() for name in _EVIDENCE_SPLIT.split(text) if name.strip())


def task_deadline(ledger: Ledger, no: int, year: int) -> dt.date | None:
    """The date the ledger's 时间节点 of task no names; None when it names none."""
    try:
        task = ledger.task(no)
    except KeyError:
        return None
    return parse_deadline(task.deadline, year) if task.deadline else None


def attach_requests(sub: Submission, reports: list[TaskReport], ledger: Ledger, year: int,
                    require_evidence: bool, issues: Report) -> list[TaskReport]:
    """The reports with each row's valid request attached; every incomplete request is an issue."""
    table = sub.progress
    if table is None or "request" not in table.columns:
        return reports
    rows = {row.row: row.values for row in table.rows}
    result = []
    for report in reports:
        request = _request(report, rows.get(report.row, {}), task_deadline(ledger, report.task_no, year),
                           require_evidence, _flagger(issues, table, report.row))
        result.append(replace(report, request=request) if request else report)
    return result


Flag = Callable[[str, str, str], None]  # (code, column key, message)


def _flagger(issues: Report, table: Table, row: int) -> Flag:
    def flag(code: str, key: str, text: str) -> None:
        issues.add(code, text, table.sheet, table.cell(key, row))

    return flag


def _request(report: TaskReport, values: dict, deadline: dt.date | None, require_evidence: bool,
             flag: Flag) -> Request | None:
    no = report.task_no
    kind = normalize.compact(values.get("request", ""))
    if kind in ("", layout.REQUEST_NONE):
        return None
    if kind not in layout.REQUESTS:
        flag("request_invalid", "request", f"申请事项“{kind[:20]}”不是{'、'.join(layout.REQUESTS)}之一，请从下拉列表选择")
        return None
    reason = normalize.text(values.get("reason", "")).value or ""
    evidence = evidence_names(normalize.text(values.get("evidence", "")).value or "")
    if kind == layout.REQUEST_EXTEND:
        date = normalize.date(values.get("request_date", ""))
        if date.value is None:
            shown = f"“{date.shown[:20]}”不是日期" if date.shown else "未填写"
            flag("extension_date_missing", "request_date",
                 f"任务{no}申请延期，但申请完成时间{shown}，请填写新的完成时间，如2024-12-31")
            return None
        if deadline is not None and date.value <= deadline:
            flag("extension_not_later", "request_date",
                 f"任务{no}申请延期到{date.value.isoformat()}，不晚于原时间节点{deadline.isoformat()}，请填写更晚的日期")
            return None
        if not reason:
            flag("request_reason_missing", "reason", f"任务{no}申请延期，请在“理由”中说明延期原因")
            return None
        return Request(kind, date.value.isoformat(), reason, evidence)
    if report.status != layout.STATUS_DONE or report.progress != 100:
        flag("close_not_done", "request",
             f"任务{no}申请办结，但完成状态不是“已完成”或完成进度不是100，任务全部完成后再申请办结")
        return None
    if require_evidence and not evidence:
        flag("evidence_missing", "evidence",
             f"任务{no}申请办结，请在“佐证材料”写明随表报送的文件名（如 验收报告.pdf），并把文件与填报表一起报送")
        return None
    return Request(kind, "", reason, evidence)
