"""The look shared by 汇总表 and the receipts: fonts, fills, tables, print setup, paragraphs.

Both workbooks are read side by side by the clerk and the units, so a light, a header or a printed
page must look the same in each; and both hold hostile unit text, so every cell goes in through
one writer (xlsx.write_value) that keeps "=…" a string. Workbooks are built in memory with a
fixed 'created' time and a fingerprint property, so the same inputs give the same bytes.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from functools import cached_property
from typing import Any

import pandas as pd
import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from toolkit.fastxlsx import Book
from toolkit.period import Period
from toolkit.quarter.plans import MILESTONE_OVERDUE
from toolkit.quarter.rules import (
    LIGHT_GREEN,
    LIGHT_NONE,
    LIGHT_RED,
    LIGHT_YELLOW,
    STATUS_LEAD_MISSING,
    UNIT_LATE,
    UNIT_MISSING,
    UNIT_ON_TIME,
    UNIT_REJECTED,
)
from toolkit.quarter.verify import PENDING, UNTRUE
from toolkit.xlsx import is_number, row_height, table_heights, write_row, write_value

FONT = "宋体"
HEADER_FILL = "#D9E1F2"
FILLS = {
    LIGHT_GREEN: "#C6EFCE",
    LIGHT_YELLOW: "#FFEB9C",
    LIGHT_RED: "#FFC7CE",
    LIGHT_NONE: "#EDEDED",
}
STATUS_FILLS = {
    UNIT_ON_TIME: FILLS[LIGHT_GREEN],
    UNIT_LATE: FILLS[LIGHT_YELLOW],
    UNIT_REJECTED: FILLS[LIGHT_RED],
    UNIT_MISSING: FILLS[LIGHT_RED],
    STATUS_LEAD_MISSING: FILLS[LIGHT_RED],  # 综合状态 of a task whose lead has not reported
    MILESTONE_OVERDUE: FILLS[LIGHT_RED],  # 节点状态 of a milestone past due and not met
    UNTRUE: FILLS[LIGHT_RED],  # 核实结果 of a 疑似不实 line the clerk confirmed
    PENDING: FILLS[LIGHT_YELLOW],  # 核实结果 of one still to check
}
ISSUE_FILLS = {"error": "#FFC7CE", "warning": "#FFEB9C"}
FINGERPRINT = "ducha_inputs"  # the custom document property holding what an output was built from

# Column widths per header; anything not named gets DEFAULT_WIDTH.
WIDTHS = {
    "任务编号": 9, "板块": 16, "任务内容": 48, "责任领导": 12, "牵头单位": 16, "综合状态": 10, "红黄绿灯": 9,
    "完成进度(%)": 10, "各单位进展": 60, "存在问题": 36, "未报送单位": 24, "单位名称": 22, "单位": 18,
    "文件": 28, "收到时间": 19, "说明": 60, "位置": 14, "问题类型": 30, "指标名称": 28, "本季度进展情况": 40,
    "下步计划": 26, "指标类型": 10, "本期应达": 12, "指标灯": 8, "各单位填报": 28,
    "节点内容": 30, "逾期节点": 36, "序时依据": 10, "计划完成日期": 12, "节点状态": 12,
    "疑点类型": 20, "疑点说明": 60, "核实说明": 36,
    "依据说明": 60, "规则": 12, "本季度得分": 11, "年度累计得分": 12, "上季度排名": 10,
}
DEFAULT_WIDTH = 11


class Formats:
    """Cell formats of one workbook (xlsxwriter formats belong to the workbook that made them).
    The fills are made on first use: a receipt needs none of the lights' and often no issue
    colour, and each format costs time in every one of 10,000 receipts."""

    def __init__(self, wb: xlsxwriter.Workbook) -> None:
        self.wb = wb
        self.title = self._fmt(bold=True, font_size=16)
        self.bold = self._fmt(bold=True)
        self.plain = self._fmt()
        self.text = self._fmt(text_wrap=True)
        self.header = self._fmt(bold=True, border=1, text_wrap=True, align="center", valign="vcenter",
                                bg_color=HEADER_FILL)
        self.cell = self._fmt(border=1, text_wrap=True)
        self.number = self._fmt(border=1)

    def _fmt(self, **props: Any) -> Format:
        return self.wb.add_format({"font_name": FONT, "font_size": 11, "valign": "top"} | props)

    @cached_property
    def fills(self) -> dict[str, Format]:
        return {value: self.wb.add_format({"bg_color": color}) for value, color in (FILLS | STATUS_FILLS).items()}

    @cached_property
    def issue(self) -> dict[str, Format]:
        return {level: self._fmt(border=1, text_wrap=True, bg_color=color) for level, color in ISSUE_FILLS.items()}


def new_book(buffer: io.BytesIO, title: str, author: str, created: dt.datetime,
             fingerprint: str, writer: Any = Book) -> xlsxwriter.Workbook:
    """A workbook in memory whose cells stay what they were given (no formulas, links or numbers
    guessed from strings), carrying its fingerprint. writer: fastxlsx.Book, or for a receipt
    leanxlsx.Book (the calls a receipt makes, faster)."""
    wb = writer(buffer, {"in_memory": True, "strings_to_formulas": False,
                       "strings_to_urls": False, "strings_to_numbers": False})
    wb.set_properties({"title": title, "author": author, "company": author, "created": created})
    wb.set_custom_property(FINGERPRINT, fingerprint)
    return wb


def write_cell(ws: Worksheet, row: int, col: int, value: Any, formats: Formats, fmt: Format | None = None) -> None:
    """Numbers as numbers, everything else as inert text (template's rule), missing values blank."""
    if fmt is None:
        fmt = formats.number if is_number(value) else formats.cell
    write_value(ws, row, col, value, fmt)


def print_setup(ws: Worksheet, header_row: int, header: str) -> None:
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(header_row)
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    ws.set_header("&C" + header.replace("&", "&&"))
    ws.set_footer("&C第 &P 页，共 &N 页")


def table(ws: Worksheet, columns: Sequence[str], rows: Sequence[Sequence[Any]], formats: Formats,
          title: str) -> None:
    """Rows under a header as a filterable, frozen, printable table."""
    widths = [WIDTHS.get(name, DEFAULT_WIDTH) for name in columns]
    for col, name in enumerate(columns):
        ws.set_column(col, col, widths[col])
        ws.write_string(0, col, name, formats.header)
    texts, numbers = [formats.cell] * len(columns), [formats.number] * len(columns)
    for r, (values, height) in enumerate(zip(rows, table_heights(rows, widths), strict=True), start=1):
        write_row(ws, r, values, texts, numbers)
        ws.set_row(r, height)
    ws.autofilter(0, 0, max(len(rows), 1), len(columns) - 1)
    ws.freeze_panes(1, 0)
    print_setup(ws, 0, title)


def colour(ws: Worksheet, frame: pd.DataFrame, column: str, formats: Formats) -> None:
    """Conditional fills on one column by its value (lights, 报送情况): they survive sorting."""
    if column not in frame.columns or frame.empty:
        return
    col = list(frame.columns).index(column)
    for value, fmt in formats.fills.items():
        ws.conditional_format(1, col, len(frame), col,
                              {"type": "cell", "criteria": "==", "value": f'"{value}"', "format": fmt})


def paragraphs(ws: Worksheet, first_row: int, texts: Sequence[str], last_col: int, width: float,
               formats: Formats) -> None:
    """Wrapped text rows merged across columns 0..last_col (total width `width`)."""
    for row, text in enumerate(texts, start=first_row):
        ws.merge_range(row, 0, row, last_col, "", formats.text)
        ws.write_string(row, 0, text, formats.text)
        ws.set_row(row, row_height([(text, width)]))


def document_time(period: Period) -> dt.datetime:
    """A fixed document time (the deadline), so the same merge gives the same bytes."""
    return dt.datetime.combine(period.deadline, dt.time())
