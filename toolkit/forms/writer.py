"""Draw one responsible unit's quarterly report workbook (xlsxwriter).

The workbook is what ~66 units open in Excel or WPS and mail back, so it explains itself (填报说明),
locks what the bureau issued, shades and validates what the unit fills in, and carries a signed,
very hidden _meta sheet that lets the merge identify the unit and the quarter whatever the file is
later called. Everything follows toolkit.forms.layout so the readers cannot drift from the writer.

Same ledger, period and generated_at give byte-identical files: xlsxwriter stamps zip entries with
a fixed date, and the document's created time is derived from generated_at.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.utility import xl_range_abs
from xlsxwriter.worksheet import Worksheet

from toolkit.config import Bureau
from toolkit.fastxlsx import Book
from toolkit.forms import layout, meta, plan_sheet
from toolkit.forms.guide import guide_rows
from toolkit.forms.plan import IndicatorPrefill, Prefill, workbook_title
from toolkit.forms.requests import request_validations
from toolkit.model import KIND_AMOUNT, KIND_APPROX, KIND_CAP, KIND_RATE, Assignment, Indicator, Milestone
from toolkit.period import Period
from toolkit.xlsx import row_height, write_row

FONT = "宋体"  # present on every Chinese Windows, in Excel and WPS alike
INPUT_LINES = 3  # room every task row opens with for the unit's answer (it grows as the unit types)
INPUT_FILL = "#FFF2CC"  # light yellow: "write here"
HEADER_FILL = "#D9E1F2"
GUIDE_WIDTHS = (16, 90)
# What to type in 截至本季度完成值, by the indicator's kind: a rate year-to-date, an amount cumulative.
FILL_HINTS = {
    KIND_RATE: "请填写截至本季度的累计增速或比率（%，如 6.8），不要按全年目标折算。",
    KIND_AMOUNT: "请填写自年初起截至本季度的累计完成量（如 3.2）。",
    KIND_CAP: "请填写截至本季度的实际数值（如 3.2），不应超过目标值。",
    KIND_APPROX: "请填写截至本季度的累计数值；增速填累计增速（%，如 6.8）。",
}


# --- metadata ---------------------------------------------------------------------------------


def meta_fields(
    unit: str,
    assignments: Sequence[Assignment],
    indicators: Sequence[Indicator],
    period: Period,
    generated_at: str,
) -> dict[str, str]:
    """The unsigned _meta values, keyed by layout.META_KEYS: what the bureau issued to this unit."""
    tasks = [
        [a.task.no, a.role, meta.task_hash(a.task.content, a.task.leaders_text, a.role)] for a in assignments
    ]
    return {
        "unit": unit,
        "period": period.key,
        "deadline": period.deadline.isoformat(),
        "template_version": layout.TEMPLATE_VERSION,
        "generated_at": generated_at,
        "tasks": json.dumps(tasks, ensure_ascii=False, separators=(",", ":")),
        "indicators": json.dumps(
            [[i.task_no, i.name] for i in indicators], ensure_ascii=False, separators=(",", ":")
        ),
    }


# --- formats and what every sheet shares -------------------------------------------------------


def _header_text(text: str) -> str:
    """Page header/footer text: & starts a control code there, so it is doubled."""
    return text.replace("&", "&&")


class _Formats:
    """The workbook's cell formats, created once per workbook as xlsxwriter requires."""

    def __init__(self, wb: xlsxwriter.Workbook) -> None:
        def fmt(**props: Any) -> Format:
            base = {"font_name": FONT, "font_size": 11, "valign": "vcenter"}
            return wb.add_format(base | props)

        cell = {"border": 1, "text_wrap": True}
        entry = cell | {"locked": False, "bg_color": INPUT_FILL}
        self.title = fmt(bold=True, font_size=16, align="center")
        self.line = fmt(bold=True)
        self.label = fmt(bold=True, border=1, align="center", bg_color=HEADER_FILL)
        self.header = fmt(bold=True, border=1, text_wrap=True, align="center", bg_color=HEADER_FILL)
        self.locked = fmt(**cell, valign="top")
        self.locked_center = fmt(**cell, align="center")
        self.entry = fmt(**entry, valign="top")
        self.entry_center = fmt(**entry, align="center")
        self.entry_text = fmt(**entry, align="center", num_format="@")
        self.entry_date = fmt(**entry, align="center", num_format="yyyy-mm-dd")
        self.guide_key = fmt(bold=True, border=1, text_wrap=True, valign="top", bg_color=HEADER_FILL)
        self.guide_text = fmt(border=1, text_wrap=True, valign="top")
        self.plain = fmt()


# Per column key: the format of its data cells (default: top-aligned wrapped text).
_CENTERED = {"no", "role", "target", "unit", "direction", "leaders"}
_ENTRY_CENTERED = {"status", "progress", "value", "request"}
_ENTRY_TEXT = {"person", "phone"}


def _cell_format(formats: _Formats, column: layout.Column) -> Format:
    if column.locked:
        return formats.locked_center if column.key in _CENTERED else formats.locked
    if column.key in _ENTRY_TEXT:
        return formats.entry_text
    if column.key == "request_date":
        return formats.entry_date
    return formats.entry_center if column.key in _ENTRY_CENTERED else formats.entry


def _setup_table_sheet(
    ws: Worksheet, columns: Sequence[layout.Column], header_row: int, formats: _Formats, page_header: str
) -> None:
    """What every table sheet shares: widths, header row, frozen panes, print setup, protection."""
    for i, column in enumerate(columns):
        ws.set_column(i, i, column.width)
        ws.write_string(header_row - 1, i, column.header, formats.header)
    ws.set_row(header_row - 1, 30)
    ws.freeze_panes(header_row, 0)
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.repeat_rows(header_row - 1)
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    ws.set_header(page_header)
    ws.set_footer("&C第 &P 页，共 &N 页")
    _protect(ws)


def _validate(
    ws: Worksheet,
    columns: Sequence[layout.Column],
    key: str,
    first_row: int,
    n_rows: int,
    options: dict[str, Any],
) -> None:
    """A data validation with a Chinese input message and a stop alert on a table column's data
    cells; none when the table has no rows."""
    if n_rows:
        col = layout.column_index(columns, key) - 1
        ws.data_validation(first_row - 1, col, first_row + n_rows - 2, col, options | {"error_type": "stop"})


def _protect(ws: Worksheet) -> None:
    """Locked cells stay as issued; units may still resize rows and columns to read long text."""
    ws.protect("", {"format_rows": True, "format_columns": True})


# --- sheets -----------------------------------------------------------------------------------


def _write_guide(ws: Worksheet, rows: list[tuple[str, str]], title: str, formats: _Formats) -> None:
    for i, width in enumerate(GUIDE_WIDTHS):
        ws.set_column(i, i, width)
    ws.merge_range(0, 0, 0, len(GUIDE_WIDTHS) - 1, "", formats.title)
    ws.write_string(0, 0, f"{title}填报说明", formats.title)
    ws.set_row(0, 30)
    for r, (key, text) in enumerate(rows, start=1):
        ws.write_string(r, 0, key, formats.guide_key)
        ws.write_string(r, 1, text, formats.guide_text)
        ws.set_row(r, row_height([(key, GUIDE_WIDTHS[0]), (text, GUIDE_WIDTHS[1])]))
    ws.set_portrait()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)
    _protect(ws)


def _lines_above(ws: Worksheet, width: int, lines: Sequence[tuple[int, str, Format]]) -> None:
    """The title and the unit's lines above a table, each across its width; the first one taller."""
    for row, text, fmt in lines:
        ws.merge_range(row - 1, 0, row - 1, width - 1, "", fmt)
        ws.write_string(row - 1, 0, text, fmt)
    ws.set_row(lines[0][0] - 1, 30)


def _write_progress(
    ws: Worksheet,
    unit: str,
    assignments: Sequence[Assignment],
    period: Period,
    title: str,
    prefill: Prefill,
    formats: _Formats,
) -> None:
    columns = layout.PROGRESS_COLUMNS + layout.REQUEST_COLUMNS
    _lines_above(ws, len(columns), (
        (layout.TITLE_ROW, title, formats.title),
        (layout.UNIT_ROW, f"{layout.UNIT_PREFIX}{unit}", formats.line),
        (
            layout.PERIOD_ROW,
            f"报告期：{period.full_label}　　报送截止时间：{period.deadline_label}　　本季度序时进度：{period.pace}%"
            "（有节点计划的任务按计划，见填报说明）",
            formats.line,
        ),
    ))
    for label, label_col, value_col in layout.FILLER_FIELDS:
        value_fmt = formats.entry_date if label == "填报日期" else formats.entry_text
        ws.write_string(layout.FILLER_ROW - 1, label_col - 1, label, formats.label)
        ws.write_blank(layout.FILLER_ROW - 1, value_col - 1, None, value_fmt)
    ws.set_row(layout.FILLER_ROW - 1, 22)

    _setup_table_sheet(
        ws, columns, layout.HEADER_ROW, formats, f"&L{_header_text(unit)}&R{period.full_label}"
    )
    cell_formats = [_cell_format(formats, c) for c in columns]
    widths = [c.width for c in columns]
    for r, a in enumerate(assignments, start=layout.FIRST_DATA_ROW - 1):
        answers = prefill.get(a.task.no, {})
        values = {"no": a.task.no, "content": a.task.content, "leaders": a.task.leaders_text, "role": a.role}
        values |= {c.key: answers.get(c.key) for c in columns if not c.locked}
        row = [values[c.key] for c in columns]
        write_row(ws, r, row, cell_formats)
        ws.set_row(r, row_height(list(zip(row, widths, strict=True)), INPUT_LINES))

    choices = "、".join(layout.STATUSES)
    rows = (layout.FIRST_DATA_ROW, len(assignments))
    _validate(
        ws,
        columns,
        "status",
        *rows,
        {
            "validate": "list",
            "source": f"={layout.STATUS_LIST_NAME}",
            "input_title": "完成状态",
            "input_message": f"请点击右侧箭头，从下拉列表中选择：{choices}",
            "error_title": "完成状态不正确",
            "error_message": f"完成状态只能是：{choices}。请从下拉列表中选择。",
        },
    )
    _validate(
        ws,
        columns,
        "progress",
        *rows,
        {
            "validate": "integer",
            "criteria": "between",
            "minimum": 0,
            "maximum": 100,
            "input_title": "完成进度(%)",
            "input_message": "请填写 0–100 之间的整数，如 60（不带%号）。已完成填 100，未启动填 0。",
            "error_title": "完成进度不正确",
            "error_message": "完成进度须为 0 到 100 之间的整数，不带%号。",
        },
    )
    for key, options in request_validations():
        _validate(ws, columns, key, *rows, options)


def _write_indicators(
    ws: Worksheet,
    unit: str,
    indicators: Sequence[Indicator],
    period: Period,
    title: str,
    prefill: IndicatorPrefill,
    formats: _Formats,
) -> None:
    columns = layout.INDICATOR_COLUMNS
    _lines_above(ws, len(columns), ((layout.INDICATOR_TITLE_ROW, title + layout.INDICATOR_TITLE_SUFFIX, formats.title),
                                    (layout.INDICATOR_UNIT_ROW, f"{layout.UNIT_PREFIX}{unit}", formats.line)))
    _setup_table_sheet(
        ws, columns, layout.INDICATOR_HEADER_ROW, formats, f"&L{_header_text(unit)}&R{period.full_label}"
    )
    cell_formats = [_cell_format(formats, c) for c in columns]
    widths = [c.width for c in columns]
    for r, ind in enumerate(indicators, start=layout.INDICATOR_FIRST_ROW - 1):
        answers = prefill.get((ind.task_no, ind.name), {})
        values = {
            "no": ind.task_no,
            "name": ind.name,
            "target": ind.target,
            "unit": ind.unit,
            "direction": ind.direction,
        }
        values |= {c.key: answers.get(c.key) for c in columns if not c.locked}
        row = [values[c.key] for c in columns]
        write_row(ws, r, row, cell_formats)
        ws.set_row(r, row_height(list(zip(row, widths, strict=True)), 2))
        _validate(
            ws,
            columns,
            "value",
            r + 1,
            1,
            {
                "validate": "decimal",
                "criteria": "between",
                "minimum": -1e15,
                "maximum": 1e15,
                "input_title": f"截至本季度完成值（{ind.kind}）",
                "input_message": FILL_HINTS.get(ind.kind, "")
                + "只填写数字，计量单位见“计量单位”列，不要带单位或文字；说明写在“说明”列。",
                "error_title": "完成值不正确",
                "error_message": "完成值须为数字，不要带单位或文字。",
            },
        )


def _write_lists(wb: xlsxwriter.Workbook, formats: _Formats) -> None:
    ws = wb.add_worksheet(layout.SHEET_LISTS)
    for r, status in enumerate(layout.STATUSES):
        ws.write_string(r, 0, status, formats.plain)
    statuses = xl_range_abs(0, 0, len(layout.STATUSES) - 1, 0)  # $A$1:$A$4
    wb.define_name(layout.STATUS_LIST_NAME, f"={layout.SHEET_LISTS}!{statuses}")
    ws.hide()
    _protect(ws)


def _write_meta(wb: xlsxwriter.Workbook, fields: dict[str, str], secret: bytes) -> None:
    ws = wb.add_worksheet(layout.SHEET_META)
    signed = fields | {layout.META_SIGNATURE_KEY: meta.sign(fields, secret)}
    for r, key in enumerate((*layout.META_KEYS, layout.META_SIGNATURE_KEY)):
        ws.write_string(r, 0, key)
        ws.write_string(r, 1, signed[key])
    ws.very_hidden()
    _protect(ws)


def write_workbook(
    path: Path,
    *,
    unit: str,
    assignments: Sequence[Assignment],
    indicators: Sequence[Indicator],
    period: Period,
    bureau: Bureau,
    secret: bytes,
    generated_at: str,
    prefill: Prefill | None = None,
    indicator_prefill: IndicatorPrefill | None = None,
    milestones: Sequence[Milestone] = (),
) -> None:
    """Write one unit's workbook to path (not atomically: the generate run wraps this in write_atomic).

    generated_at is an ISO date-time; it is signed into _meta and becomes the document's created
    time, so the same inputs give the same bytes. prefill (task_no → {PROGRESS_COLUMNS key: value})
    and indicator_prefill ((task_no, name) → {INDICATOR_COLUMNS key: value}) carry the unit's last
    accepted answers so it updates them instead of retyping; locked keys in them are ignored.
    milestones: the ledger's 节点计划 of the tasks the unit leads (forms.plan_sheet).
    """
    created = dt.datetime.fromisoformat(generated_at).replace(tzinfo=None)
    title = workbook_title(bureau, period)
    wb = Book(
        str(path),
        # in_memory: assemble the zip in memory, not via a temporary file per part (3× faster here).
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    wb.set_properties(
        {"title": f"{title}（{unit}）", "author": bureau.name, "company": bureau.name, "created": created}
    )
    wb.set_size(1600, 1000)
    formats = _Formats(wb)
    guide = wb.add_worksheet(layout.SHEET_GUIDE)
    _write_guide(guide, guide_rows(unit, assignments, bool(indicators), period, bureau), title, formats)
    _write_progress(
        wb.add_worksheet(layout.SHEET_PROGRESS), unit, assignments, period, title, prefill or {}, formats
    )
    if indicators:
        _write_indicators(
            wb.add_worksheet(layout.SHEET_INDICATORS),
            unit,
            indicators,
            period,
            title,
            indicator_prefill or {},
            formats,
        )
    if planned := plan_sheet.issued_rows(assignments, milestones, period):
        header = f"&L{_header_text(unit)}&R{period.full_label}"
        plan_sheet.write_plan_sheet(wb.add_worksheet(layout.SHEET_PLAN), planned, period, formats,
                                    lambda ws, columns, row: _setup_table_sheet(ws, columns, row, formats, header))
    _write_lists(wb, formats)
    _write_meta(wb, meta_fields(unit, assignments, indicators, period, generated_at), secret)
    guide.activate()
    for name, first in ((layout.SHEET_PROGRESS, layout.FIRST_DATA_ROW), (layout.SHEET_INDICATORS, layout.INDICATOR_FIRST_ROW)):
        if (ws := wb.get_worksheet_by_name(name)) is not None:
            wb.let_rows_grow(ws, first)
    wb.close()
