"""What a returned file says: its task rows, indicator rows and filler block, checked one by one.

Each answer is normalised (a synonym, a share read as a percentage, a formula's value) and every
problem becomes an issue naming its cell, so the unit is told exactly what to fix. Rows are matched
to what was issued by task number and checked against the issued hash of their locked cells, so a
moved, added, deleted or edited row is caught rather than merged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from toolkit.forms import layout, meta
from toolkit.intake import normalize
from toolkit.intake.codes import RESUBMIT
from toolkit.intake.identity import Issued, LedgerIndex
from toolkit.intake.submission import Row, Submission, Table
from toolkit.model import IndicatorReport, Ledger, TaskReport
from toolkit.problems import Report, column_letters

MAX_TEXT = 2000  # characters in one answer cell

_INPUT_KEYS = ("status", "progress", "done", "problems", "next", "person", "phone")
_LOCKED_KEYS = ("content", "leaders", "role")
_TEXT_KEYS = ("done", "problems", "next", "person")
_PHONE_HINT = "请填写11位手机号或带区号的固定电话（如0371-23859529）"


def _check_table(table: Table, columns: tuple[layout.Column, ...], header_row: int, issues: Report) -> bool:
    """Header problems of one table; False when a column it needs cannot be found."""
    sheet, found = table.sheet, table.columns
    if table.header_row != header_row:
        issues.add(
            "table_moved",
            f"表头应在第{header_row}行，现在第{table.header_row}行（表头上方的行被插入或删除），已按表头读取",
            sheet,
            layout.cell(table.header_row, 1),
        )
    moved = []
    complete = True
    for position, column in enumerate(columns, start=1):
        if column.key not in found:
            issues.add(
                "header_missing",
                f"找不到“{column.header}”列，请勿删除或改动表头，恢复原表后重新报送",
                sheet,
                layout.cell(table.header_row, position),
            )
            complete = False
        elif column.key in table.renamed:
            issues.add(
                "header_renamed",
                f"表头应为“{column.header}”，现为“{table.renamed[column.key]}”，已按原位置读取，请勿改动表头",
                sheet,
                layout.cell(table.header_row, position),
            )
        elif found[column.key] != position:
            moved.append((column.header, position, found[column.key]))
    if moved:
        detail = "、".join(f"“{h}”{column_letters(a)}→{column_letters(b)}" for h, a, b in moved)
        issues.add(
            "header_moved",
            f"列的位置被调整（{detail}），已按表头读取，请勿移动列",
            sheet,
            layout.cell(table.header_row, moved[0][2]),
        )
    for col, text in table.extra_headers.items():
        issues.add("extra_column", f"新增的列“{text}”不会被读取", sheet, layout.cell(table.header_row, col))
    return complete


def _check_extent(table: Table, issues: Report) -> None:
    if table.last_row > table.read_to:
        issues.add(
            "too_many_rows",
            f"工作表有内容的行一直到第{table.last_row}行，远超下发的行数，只读取到第{table.read_to}行",
            table.sheet,
        )


def _formula_warning(table: Table, key: str, row: int, value: Any, issues: Report) -> None:
    cell = table.cell(key, row)
    if cell in table.formulas:
        shown = normalize.as_text(value) or "空"
        issues.add("formula_used", f"单元格中是公式，已按其计算结果“{shown}”读取，请直接填写内容", table.sheet, cell)


def progress_rows(sub: Submission, issued: Issued, ledger: Ledger, issues: Report) -> list[TaskReport]:
    """The 进展填报 table's rows matched to the issued tasks, each checked; the reports to merge."""
    table = sub.progress
    if table is None:
        issues.add(
            "sheet_missing",
            f"找不到工作表“{layout.SHEET_PROGRESS}”（现有：{'、'.join(sub.sheet_names)}）。请勿重命名或删除工作表，{RESUBMIT}",
        )
        return []
    if table.sheet != layout.SHEET_PROGRESS:
        issues.add(
            "sheet_renamed",
            f"工作表“{layout.SHEET_PROGRESS}”被改名为“{table.sheet}”，已按表头读取，请勿重命名工作表",
            table.sheet,
        )
    if layout.SHEET_GUIDE not in sub.sheet_names:
        issues.add("guide_missing", f"工作表“{layout.SHEET_GUIDE}”被删除", layout.SHEET_GUIDE)
    if not _check_table(table, layout.PROGRESS_COLUMNS, layout.HEADER_ROW, issues):
        return []
    _check_extent(table, issues)

    by_hash = {digest: no for no, (_, digest) in issued.tasks.items()}
    seen: dict[int, int] = {}  # task no → Excel row
    reports = []
    for row in table.rows:
        no = normalize.task_no(row.values["no"])
        locked = [normalize.text(row.values[k]).value or "" for k in _LOCKED_KEYS]
        if no not in issued.tasks:
            hashed_as = by_hash.get(meta.task_hash(*locked))
            _unissued_row(table, row, no, hashed_as, issues)
            if hashed_as is not None:  # reported as renumbered, not also as missing
                seen.setdefault(hashed_as, row.row)
            continue
        no_cell = table.cell("no", row.row)
        if no in seen:
            issues.add(
                "task_duplicated",
                f"任务编号{no}重复（第{seen[no]}行已有），请删除重复的行",
                table.sheet,
                no_cell,
            )
            continue
        seen[no] = row.row
        role, digest = issued.tasks[no]
        if ledger_task := LedgerIndex.of(ledger).tasks.get(no):
            _check_locked(table, row, locked, digest, (ledger_task.content, ledger_task.leaders_text, role), issues)
        else:
            issues.add("task_withdrawn", f"任务{no}已从总台账移除，本行不再汇总", table.sheet, no_cell)
            continue
        reports.append(_task_report(table, row, issued.unit, no, role, sub.details_known, issues))

    for no in issued.tasks:
        if no not in seen:
            issues.add(
                "task_missing",
                f"缺少任务{no}的行，请勿删除下发的任务行，恢复后重新报送",
                table.sheet,
            )
    order = [no for no in issued.tasks if no in seen]
    if list(seen) != order:
        issues.add("task_reordered", "任务行的顺序被调整，已按任务编号读取", table.sheet)
    return reports


def _unissued_row(table: Table, row: Row, no: int | None, hashed_as: int | None, issues: Report) -> None:
    cell = table.cell("no", row.row)
    shown = normalize.as_text(row.values["no"]) or "空"
    if hashed_as is not None:
        issues.add(
            "task_renumbered",
            f"任务编号应为{hashed_as}，现为“{shown}”，请勿改动任务编号",
            table.sheet,
            cell,
        )
    elif no is not None:
        issues.add(
            "task_added",
            f"任务{no}不是下发给本单位的任务，请勿增加任务行，删除后重新报送",
            table.sheet,
            cell,
        )
    else:
        issues.add("extra_row", f"第{row.row}行不是下发的任务行，内容不会被读取", table.sheet, cell)


def _check_locked(
    table: Table,
    row: Row,
    locked: list[str],
    digest: str,
    expected: tuple[str, str, str],
    issues: Report,
) -> None:
    """A locked cell differs from what was issued: name each changed cell. Differences only in
    spacing or full/half width (a client re-wrapping text) are not changes."""
    if meta.task_hash(*locked) == digest:
        return
    for key, found, wanted in zip(_LOCKED_KEYS, locked, expected, strict=True):
        if normalize.compact(found) != normalize.compact(wanted):
            now, was = _around_difference(found, wanted)
            issues.add(
                "locked_cell_changed",
                f"“{_header(key)}”是下发内容，不可修改（现为“{now}”，应为“{was}”），请恢复后重新报送",
                table.sheet,
                table.cell(key, row.row),
            )


def _header(key: str) -> str:
    return layout.PROGRESS_COLUMNS[layout.column_index(layout.PROGRESS_COLUMNS, key) - 1].header


def _clip(text: str, length: int = 30) -> str:
    return text if len(text) <= length else text[:length] + "…"


def _around_difference(found: str, wanted: str, before: int = 8, length: int = 30) -> tuple[str, str]:
    """Both texts, clipped around where they first differ when they are long, so a long task text
    edited near its end does not show the same first 30 characters twice."""
    if max(len(found), len(wanted)) <= length:
        return found, wanted
    pairs = zip(found, wanted, strict=False)
    same = next((i for i, (a, b) in enumerate(pairs) if a != b), min(len(found), len(wanted)))
    start = max(0, same - before)
    lead = "…" if start else ""
    return lead + _clip(found[start:], length), lead + _clip(wanted[start:], length)


def _task_report(
    table: Table, row: Row, unit: str, no: int, role: str, details_known: bool, issues: Report
) -> TaskReport:
    """Normalise and check one task row's answers."""
    values = row.values

    def flag(code: str, key: str, text: str) -> None:
        issues.add(code, text, table.sheet, table.cell(key, row.row))

    if table.formulas:
        for key in _INPUT_KEYS:
            _formula_warning(table, key, row.row, values[key], issues)
    choices = "、".join(layout.STATUSES)
    status = normalize.status(values["status"])
    if status.value is None and status.ok:
        flag("status_missing", "status", f"任务{no}的完成状态未填写，请从下拉列表选择{choices}之一")
    elif not status.ok:
        flag("status_invalid", "status", f"完成状态“{_clip(status.shown)}”不是{choices}之一，请从下拉列表选择")
    elif status.changed:
        flag("status_normalised", "status", f"完成状态“{status.shown}”已按“{status.value}”读取，请从下拉列表选择")

    progress = _progress_value(table, row, no, status.value, details_known, flag)
    texts = {key: normalize.text(values[key]).value or "" for key in _TEXT_KEYS}
    for key, text in texts.items():
        if len(text) > MAX_TEXT:
            flag("text_too_long", key, f"内容有{len(text)}字，超过{MAX_TEXT}字，请精简")
    if not texts["done"] and status.value != layout.STATUS_NOT_STARTED:
        flag("done_missing", "done", f"任务{no}的本季度进展情况未填写，请简要填写本季度完成的工作")
    if not texts["problems"] and status.value == layout.STATUS_LAGGING:
        flag("problems_missing", "problems", f"任务{no}进度滞后，请在“存在问题”中说明滞后原因")
    if not texts["next"] and status.value not in (layout.STATUS_DONE, None):
        flag("next_missing", "next", f"任务{no}尚未完成，请填写下步计划")
    if not texts["person"]:
        flag("person_missing", "person", f"任务{no}的具体责任人未填写，请填写责任人姓名")

    phone = normalize.phone(values["phone"])
    if phone.value is None and phone.ok:
        flag("phone_missing", "phone", f"任务{no}的联系电话未填写")
    elif not phone.ok:
        flag("phone_invalid", "phone", f"联系电话“{_clip(phone.shown)}”格式不对，{_PHONE_HINT}")
    return TaskReport(
        unit=unit,
        task_no=no,
        role=role,
        status=status.value or "",
        progress=progress,
        done=texts["done"],
        problems=texts["problems"],
        next=texts["next"],
        person=texts["person"],
        phone=phone.value or phone.shown,
        row=row.row,
    )


def _progress_value(
    table: Table,
    row: Row,
    no: int,
    status: str | None,
    details_known: bool,
    flag: Callable[[str, str, str], None],
) -> float | None:
    """完成进度 in percent, checked on its own and against the status; None when unusable."""
    percent = table.cell("progress", row.row) in table.percent if details_known else None
    progress = normalize.progress(row.values["progress"], percent)
    hint = "请填写0到100之间的整数"
    if progress.value is None and progress.ok:
        if status == layout.STATUS_NOT_STARTED:
            return 0.0
        flag("progress_missing", "progress", f"任务{no}的完成进度未填写，{hint}")
        return None
    if progress.value is None:
        flag("progress_invalid", "progress", f"完成进度“{_clip(progress.shown)}”不是数字，{hint}")
        return None
    if not progress.ok:
        flag("progress_out_of_range", "progress", f"完成进度“{progress.shown}”超出0–100，{hint}")
        return None
    value = progress.value
    shown = normalize.as_text(value)
    if progress.changed:
        flag("progress_normalised", "progress", f"完成进度“{progress.shown}”已按{shown}%读取，{hint}")
    if status == layout.STATUS_DONE and value < 100:
        flag("status_progress_conflict", "progress", f"完成状态为“已完成”，但完成进度为{shown}，已完成的任务进度应为100")
    if status == layout.STATUS_NOT_STARTED and value > 0:
        flag("status_progress_conflict", "progress", f"完成状态为“未启动”，但完成进度为{shown}，未启动的任务进度应为0")
    return value


def indicator_rows(sub: Submission, issued: Issued, issues: Report) -> list[IndicatorReport]:
    """The 量化指标 table's rows matched to the issued indicators, each value checked."""
    if not issued.indicators:
        return []
    table = sub.indicators
    if table is None:
        issues.add(
            "sheet_missing",
            f"找不到工作表“{layout.SHEET_INDICATORS}”，请勿重命名或删除工作表，{RESUBMIT}",
            layout.SHEET_INDICATORS,
        )
        return []
    issued_with = layout.indicator_header_row((sub.meta or {}).get("template_version"))
    if not _check_table(table, layout.INDICATOR_COLUMNS, issued_with, issues):
        return []
    _check_extent(table, issues)
    wanted = set(issued.indicators)
    found: dict[tuple[int, str], IndicatorReport] = {}
    for row in table.rows:
        key = (normalize.task_no(row.values["no"]) or 0, normalize.text(row.values["name"]).value or "")
        if key not in wanted or key in found:
            issues.add("extra_row", f"第{row.row}行不是下发的量化指标行，内容不会被读取", table.sheet, table.cell("no", row.row))
            continue
        _formula_warning(table, "value", row.row, row.values["value"], issues)
        cell = table.cell("value", row.row)
        number = normalize.number(row.values["value"], cell in table.percent if sub.details_known else None)
        if number.value is None and number.ok:
            issues.add("indicator_missing", f"指标“{key[1]}”的完成值未填写", table.sheet, cell)
        elif not number.ok:
            issues.add(
                "indicator_not_number",
                f"指标“{key[1]}”的完成值“{_clip(number.shown)}”不是数字，请只填写数字，单位和说明写在“说明”列",
                table.sheet,
                cell,
            )
        note = normalize.text(row.values["note"]).value or ""
        found[key] = IndicatorReport(issued.unit, key[0], key[1], number.value, note, row.row)
    for no, name in issued.indicators:
        if (no, name) not in found:
            issues.add(
                "indicator_row_missing",
                f"缺少任务{no}“{name}”的指标行，请勿删除下发的行，恢复后重新报送",
                table.sheet,
            )
    return list(found.values())


def filler(sub: Submission, sheet: str, issues: Report) -> dict[str, str]:
    """填报人 / 联系电话 / 单位负责人 / 填报日期 as text; problems with them are only warnings."""
    result = {}
    for label, _, _ in layout.FILLER_FIELDS:
        cell, raw = sub.filler.get(label, ("", ""))
        value = normalize.text(raw).value or ""
        if label in ("填报人", "联系电话") and not value:
            issues.add("filler_missing", f"“{label}”未填写，请填写", sheet, cell)
        elif label == "联系电话":
            phone = normalize.phone(raw)
            if phone.ok:
                value = phone.value or ""
            else:
                issues.add("phone_invalid", f"填报人联系电话“{_clip(value)}”格式不对", sheet, cell)
        elif label == "填报日期" and value:
            date = normalize.date(raw)
            if date.ok and date.value:
                value = date.value.isoformat()
            else:
                issues.add("date_invalid", f"填报日期“{_clip(value)}”不是日期，请填写如2024-03-20", sheet, cell)
        result[label] = value
    return result
