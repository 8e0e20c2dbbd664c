"""汇总表.xlsx: the quarter on its sheets, as the clerk hands it to the leaders.

It is the bureau's own record of the quarter (总览 with the counts, the rules and a chart; then
任务进展, 单位报送, 问题清单, 量化指标, 节点计划, 疑似不实, 考评排名, 考评明细 as filterable tables), written from a MergedQuarter only so
it holds exactly what the briefing counts.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import pandas as pd
import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from toolkit.config import Bureau
from toolkit.intake.codes import CODES
from toolkit.outputs.sheets import FILLS, FONT, Formats, colour, document_time, new_book, paragraphs, table
from toolkit.quarter.frames import MergedQuarter
from toolkit.quarter.rules import RULES_TEXT, UNIT_LATE, UNIT_MISSING, UNIT_ON_TIME, UNIT_REJECTED

BOOK_NAME = "汇总表.xlsx"
CODE_COLUMN = "代码"  # of MergedQuarter.issues; 问题清单 shows the code's meaning instead


def _count_block(ws: Worksheet, row: int, heading: str, counts: Sequence[tuple[str, int]],
                 formats: Formats) -> int:
    ws.write_string(row, 0, heading, formats.header)
    ws.write_string(row, 1, "数量", formats.header)
    for i, (label, count) in enumerate(counts, start=1):
        ws.write_string(row + i, 0, label, formats.cell)
        ws.write_number(row + i, 1, count, formats.cell)
    return row + len(counts) + 2


def _overview(wb: xlsxwriter.Workbook, merged: MergedQuarter, title: str, formats: Formats) -> None:
    ws = wb.add_worksheet("总览")
    ws.set_column(0, 0, 22)
    ws.set_column(1, 1, 10)
    ws.set_column(2, 2, 70)
    period, counts = merged.period, merged.counts
    ws.write_string(0, 0, title, formats.title)
    ws.set_row(0, 30)
    ws.write_string(1, 0, f"报告期：{period.full_label}　截止时间：{period.deadline_label}　"
                          f"序时进度：{period.pace}%（按季度平均；有节点计划的任务按计划，时间节点在本季度内的为100%，见任务进展“序时依据”列）",
             formats.bold)
    units = [("应报单位", len(counts["units_expected"]))] + [
        (label, len(counts[key])) for label, key in (
            (UNIT_ON_TIME, "units_reported"), (UNIT_LATE, "units_late"),
            (UNIT_REJECTED, "units_rejected"), (UNIT_MISSING, "units_missing"))
    ]
    row = _count_block(ws, 3, "单位报送", units, formats)
    row = _count_block(ws, row, "综合状态", list(counts["tasks"]["status"].items()), formats)
    light_row = row
    lights = list(counts["tasks"]["light"].items())
    row = _count_block(ws, row, "红黄绿灯", lights, formats)
    for i, (label, _count) in enumerate(lights, start=1):
        ws.conditional_format(light_row + i, 0, light_row + i, 0,
                              {"type": "no_errors", "format": formats.fills[label]})
    ws.write_string(row, 0, "统计规则", formats.bold)
    rules = RULES_TEXT + merged.indicator_rules.text() + ((merged.score_rules,) if merged.score_rules else ())
    paragraphs(ws, row + 1, rules, 2, 102, formats)
    chart = wb.add_chart({"type": "column"})
    chart.add_series({
        "name": "红黄绿灯",
        "categories": ["总览", light_row + 1, 0, light_row + len(lights), 0],
        "values": ["总览", light_row + 1, 1, light_row + len(lights), 1],
        "points": [{"fill": {"color": FILLS[label]}, "border": {"color": "#808080"}} for label, _ in lights],
        "data_labels": {"value": True},
    })
    chart.set_title({"name": "任务红黄绿灯", "name_font": {"name": FONT, "size": 12}})
    chart.set_legend({"none": True})
    chart.set_x_axis({"num_font": {"name": FONT}})
    ws.insert_chart(3, 2, chart, {"x_offset": 20, "y_offset": 0})
    ws.set_portrait()
    ws.set_paper(9)
    ws.fit_to_pages(1, 1)


def _labelled(issues: pd.DataFrame) -> pd.DataFrame:
    """问题清单 as the clerk reads it: each issue code as its Chinese meaning (问题类型)."""
    kinds = issues[CODE_COLUMN].map(lambda code: CODES[code][1] if code in CODES else code)
    return issues.assign(**{CODE_COLUMN: kinds}).rename(columns={CODE_COLUMN: "问题类型"})


def _rows(frame: pd.DataFrame) -> list[tuple]:
    """The frame's rows as plain values, read a column at a time: itertuples took ten times as
    long (0.4 s for 任务进展 at 10,000 units)."""
    return list(zip(*(frame[column].tolist() for column in frame.columns), strict=True))


def book_bytes(merged: MergedQuarter, bureau: Bureau, fingerprint: str = "") -> bytes:
    """汇总表.xlsx as bytes: 总览, then the tables (任务进展 … 考评明细)."""
    buffer = io.BytesIO()
    title = f"{bureau.city}政府工作报告确定事项{merged.period.full_label}推进情况汇总表"
    wb = new_book(buffer, title, bureau.name, document_time(merged.period), fingerprint)
    formats = Formats(wb)
    _overview(wb, merged, title, formats)
    for name, frame, coloured in (
        ("任务进展", merged.tasks, ("红黄绿灯", "综合状态")),
        ("单位报送", merged.units, ("报送情况",)),
        ("问题清单", _labelled(merged.issues), ()),
        ("量化指标", merged.indicators, ("指标灯",)),
        ("节点计划", merged.plans, ("节点状态",)),
        ("疑似不实", merged.suspects, ("核实结果",)),
        ("考评排名", merged.league, ()),
        ("考评明细", merged.score_details, ()),
        *([("申请审核", merged.requests, ())] if not merged.requests.empty else []),
        *([("佐证材料", merged.evidence, ())] if not merged.evidence.empty else []),
    ):
        ws = wb.add_worksheet(name)
        table(ws, list(frame.columns), _rows(frame), formats, f"{title}·{name}")
        for column in coloured:
            colour(ws, frame, column, formats)
    wb.close()
    return buffer.getvalue()
