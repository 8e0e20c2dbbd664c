"""One 回执 (receipt) per unit that sent something: the verdict, every problem, and where it is.

A unit must be able to fix its file from the receipt alone, without calling the bureau: so besides
the verdict and the problem list, the receipt carries a copy of the rows of the unit's last file
at the cells they came from (进展填报!F7 in a message is F7 here too), each cell with a problem
filled and commented. Written from a MergedQuarter only, like 汇总表.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import PurePath
from typing import Any

import xlsxwriter
from xlsxwriter.format import Format

from toolkit import leanxlsx
from toolkit.config import Bureau
from toolkit.forms import layout
from toolkit.forms.plan import file_name
from toolkit.model import VERDICT_ACCEPTED
from toolkit.outputs.sheets import (
    Formats,
    document_time,
    new_book,
    paragraphs,
    print_setup,
    table,
    write_cell,
)
from toolkit.period import Period
from toolkit.problems import LEVEL_LABELS
from toolkit.quarter.frames import MergedQuarter
from toolkit.quarter.ownership import REASSIGNED
from toolkit.quarter.rules import (
    UNIT_LATE,
    UNIT_ON_TIME,
    UNIT_REJECTED,
    VERDICT_LABELS,
    figure,
    unit_standing,
)
from toolkit.quarter.store import FileRecord
from toolkit.xlsx import as_text, row_height

RECEIPT_DIR = "回执"
WRITER = leanxlsx.Book  # receipts use only what the lean writer implements (tests compare with fastxlsx.Book)
NOTE_HEADER, NOTE_WIDTH = "说明", 40  # the comments of a copied row, printed


def receipt_name(period_key: str, unit: str) -> str:
    """2024Q1_市商务局_回执.xlsx (characters Windows forbids become _)."""
    return PurePath(file_name(Period.parse(period_key), unit)).stem + "_回执.xlsx"


def _verdict_text(standing: str, merged: MergedQuarter) -> str:
    deadline = merged.period.deadline_label
    return {
        UNIT_ON_TIME: "已收到，报表合格，已采用。",
        UNIT_LATE: f"已收到，报表合格，已采用；但晚于截止时间（{deadline}），记为迟报。",
        UNIT_REJECTED: "报表有错误，未能采用，请按“问题清单”逐项修改后重新报送。",
    }[standing]


def _receipt_front(wb: xlsxwriter.Workbook, merged: MergedQuarter, unit: str, files: list[FileRecord],
                   bureau: Bureau, formats: Formats) -> None:
    ws = wb.add_worksheet("回执")
    for col, width in enumerate((28, 19, 16, 8, 8)):
        ws.set_column(col, col, width)
    ws.write_string(0, 0, f"{bureau.city}{merged.period.full_label}政府工作报告确定事项推进情况报表回执", formats.title)
    ws.write_string(2, 0, f"{layout.UNIT_PREFIX}{unit}", formats.bold)
    standing = merged.unit_status.get(unit) or unit_standing(files, merged.period)
    ws.write_string(3, 0, f"结论：{_verdict_text(standing, merged)}", formats.bold)
    for col, name in enumerate(("文件", "收到时间", "判定", "错误数", "提醒数")):
        ws.write_string(5, col, name, formats.header)
    for r, record in enumerate(files, start=6):
        for col, value in enumerate((
            PurePath(record.path).name, record.received.replace("T", " "), VERDICT_LABELS[record.verdict],
            sum(i.level == "error" for i in record.issues), sum(i.level == "warning" for i in record.issues),
        )):
            write_cell(ws, r, col, value, formats, formats.cell)
    notes = [
        *_what_happened(files),
        *_overdue_lines(merged, unit),
        *merged.review_notes.get(unit, []),
        "同一单位多次报送的，以最后收到的合格文件为准；内容相同的文件只计一次。",
        "“进展填报”“量化指标”两表是最后收到的文件中的内容，有问题的单元格已标色并加批注（鼠标移到单元格上可见）。",
        f"{bureau.name}　联系人：{bureau.contact}　电话：{bureau.phone}　邮箱：{bureau.email}",
    ]
    paragraphs(ws, 7 + len(files), notes, 4, 79, formats)
    ws.set_portrait()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)


def _what_happened(files: list[FileRecord]) -> list[str]:
    """The lines a unit must not miss: a file refused because its signature failed (counted as
    this unit's only by what its visible table says), and every task whose lead or whose role for
    this unit changed since its workbook was issued (on the accepted file, see ownership)."""
    lines = [
        f"文件“{PurePath(f.path).name}”中隐藏的校验信息（_meta）被修改，签名不符，无法确认是本单位下发的填报表，未予采用；"
        "因“填报单位”和任务行都是本单位的，按本单位收到的文件处理（未经校验）。"
        "请使用督查局下发给本单位的原填报表重新填写后报送，不要修改或复制隐藏的工作表。"
        for f in files if f.claimed
    ]
    lines += [
        f"任务调整：{i.message.removeprefix(f'{i.where}：')}。"
        for f in files if f.verdict == VERDICT_ACCEPTED for i in f.issues if i.code == REASSIGNED
    ]
    return lines


def _overdue_lines(merged: MergedQuarter, unit: str) -> list[str]:
    """Milestones past due and not met (汇总表 节点计划, 逾期未完成) of the tasks this unit leads
    or whose milestone it owns: each turned its task red."""
    return [
        f"节点逾期：第{row['任务编号']}项第{row['节点序号']}个节点“{row['节点内容']}”计划 {row['计划完成日期']} 达到 "
        f"{figure(row['计划累计进度(%)'])}%，截至本期未完成（责任单位 {row['责任单位']}），该任务为红灯。"
        "请加快推进，并在下次报送的“存在问题”中说明原因和补救措施。"
        for row in merged.overdue_by_unit.get(unit, [])
    ]


def _receipt_issues(wb: xlsxwriter.Workbook, files: list[FileRecord], formats: Formats) -> None:
    """问题清单, only when there is a problem: a clean file's receipt prints no empty page."""
    rows = [
        (PurePath(f.path).name, LEVEL_LABELS.get(i.level, i.level), i.where, i.message)
        for f in reversed(files)
        for i in f.issues
    ]
    if rows:
        table(wb.add_worksheet("问题清单"), ("文件", "级别", "位置", "说明"), rows, formats, "问题清单")


def _copy_rows(wb: xlsxwriter.Workbook, sheet: str, header_row: int, columns: Sequence[layout.Column],
               rows: list[tuple[int, dict[str, Any]]], issues: list, formats: Formats,
               top: dict[tuple[int, int], str] | None = None) -> None:
    """The unit's rows at the cells they came from, so 进展填报!F7 in a message is F7 here too;
    a cell with a problem is filled (red: error, yellow: warning) and carries the messages, which
    the 说明 column right of the table repeats, since comments do not print. Answers and the filler
    block wrap and their rows grow, so a long answer or a phone number is never cut.
    top: text above the header (zero-based cells), such as the filler block of 进展填报; the note
    and the unit's name above it overflow into the empty cells to their right instead."""
    marks: dict[tuple[int, int], list] = {}
    for issue in issues:
        where = (issue.cell.row - 1, issue.cell.col - 1) if issue.sheet == sheet and issue.cell else None
        if where is not None:
            marks.setdefault(where, []).append(issue)
    ws = wb.add_worksheet(sheet)
    for col, column in enumerate(columns):
        ws.set_column(col, col, column.width)
        ws.write_string(header_row - 1, col, column.header, formats.header)
    note_col = len(columns)
    ws.set_column(note_col, note_col, NOTE_WIDTH)
    ws.write_string(header_row - 1, note_col, NOTE_HEADER, formats.header)
    ws.freeze_panes(header_row, 0)
    widths = [c.width for c in columns] + [NOTE_WIDTH]
    # The cells by row, then column: (value, its format; None for a copied cell, as write_cell picks).
    grid: dict[int, dict[int, tuple[Any, Format | None]]] = {}
    lines: dict[int, list[tuple[Any, float]]] = {}  # the wrapped texts of each row, for its height
    for (row, col), text in (top or {}).items():
        fmt = formats.text if row >= layout.FILLER_ROW - 1 else formats.plain
        grid.setdefault(row, {})[col] = (text, fmt)
        if fmt is formats.text:
            lines.setdefault(row, []).append((text, widths[col]))
    keys = [c.key for c in columns]
    for row, data in rows:
        values = [data.get(key) for key in keys]
        copied = grid.setdefault(row - 1, {})
        copied.update(enumerate((value, None) for value in values))
        copied[note_col] = (None, None)  # bordered even when empty, like the row
        lines.setdefault(row - 1, []).extend(zip(values, widths[:note_col], strict=True))
    notes: dict[int, list[str]] = {}
    for (row, col), found in sorted(marks.items()):
        notes.setdefault(row, []).extend(i.message for i in found)
        grid.setdefault(row, {}).setdefault(col, (None, None))
    for row, messages in notes.items():
        grid[row][note_col] = ("\n".join(messages), None)
        lines.setdefault(row, []).append(("\n".join(messages), NOTE_WIDTH))
    for row, texts in lines.items():
        ws.set_row(row, row_height(texts))
    for row in sorted(grid):
        cells = grid[row]
        for col in sorted(cells):
            value, fmt = cells[col]
            found = marks.get((row, col)) if marks else None
            if found:
                fmt = formats.issue["error" if any(i.level == "error" for i in found) else "warning"]
                ws.write_comment(row, col, "\n".join(i.message for i in found), {"x_scale": 2.5, "y_scale": 2})
            write_cell(ws, row, col, value, formats, fmt)
    print_setup(ws, header_row - 1, sheet)


def _progress_top(unit: str, record: FileRecord) -> dict[tuple[int, int], str]:
    """What sits above 进展填报's header: a note on what this copy is, the unit, the filler block."""
    top = {
        (layout.TITLE_ROW - 1, 0): f"以下是最后收到的文件“{PurePath(record.path).name}”中的内容。标色单元格有问题"
                                   "（红色为错误，黄色为提醒），鼠标移到单元格上可看批注。",
        (layout.UNIT_ROW - 1, 0): f"{layout.UNIT_PREFIX}{unit}",
    }
    for label, label_col, value_col in layout.FILLER_FIELDS:
        top[(layout.FILLER_ROW - 1, label_col - 1)] = label
        top[(layout.FILLER_ROW - 1, value_col - 1)] = record.filler.get(label, "")
    return top


def receipt_bytes(merged: MergedQuarter, unit: str, bureau: Bureau, fingerprint: str = "") -> bytes:
    """One unit's receipt: its verdict and files (回执), every problem (问题清单), and a copy of
    the rows of its last file with the offending cells highlighted and commented."""
    files = merged.files_of(unit)
    latest = files[-1]
    buffer = io.BytesIO()
    wb = new_book(buffer, f"{merged.period.full_label}报表回执（{unit}）", bureau.name, document_time(merged.period),
                  fingerprint, WRITER)
    formats = Formats(wb)
    _receipt_front(wb, merged, unit, files, bureau, formats)
    _receipt_issues(wb, files, formats)
    tasks = merged.task_by_no
    progress_rows = [
        (t.row, {"no": t.task_no, "content": tasks[t.task_no].content if t.task_no in tasks else "",
                 "leaders": tasks[t.task_no].leaders_text if t.task_no in tasks else "", "role": t.role,
                 "status": t.status, "progress": t.progress, "done": t.done, "problems": t.problems,
                 "next": t.next, "person": t.person, "phone": as_text(t.phone)})
        for t in latest.tasks
    ]
    _copy_rows(wb, layout.SHEET_PROGRESS, layout.HEADER_ROW, layout.PROGRESS_COLUMNS, progress_rows,
               latest.issues, formats, _progress_top(unit, latest))
    indicators = {(i.task_no, i.name): i for no in {r.task_no for r in latest.indicators}
                  for i in merged.indicators_by_task.get(no, [])}
    indicator_rows = [
        (r.row, {"no": r.task_no, "name": r.name, "value": r.value, "note": r.note}
         | ({"target": ind.target, "unit": ind.unit, "direction": ind.direction}
            if (ind := indicators.get((r.task_no, r.name))) else {}))
        for r in latest.indicators
    ]
    if indicator_rows or any(i.sheet == layout.SHEET_INDICATORS for i in latest.issues):
        # the header above the file's rows: row 3, or row 1 in a workbook issued before the title rows
        header = min([layout.INDICATOR_HEADER_ROW] + [row - 1 for row, _ in indicator_rows])
        _copy_rows(wb, layout.SHEET_INDICATORS, header, layout.INDICATOR_COLUMNS,
                   indicator_rows, latest.issues, formats)
    wb.close()
    return buffer.getvalue()
